# The README's two commands: `make book` and `make test`. Both start from nothing: they create
# .venv, install requirements.txt and the m2d package, and fetch the pinned JavaScript from npm.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONHASHSEED := 0

.PHONY: book test lint vendor env clean bench chromium train pdf tex fonts

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# the SoundFont player; --no-deps: its optional pyaudio dependency does not build here
	$(BIN)/python -m pip install --quiet --no-deps tinysoundfont==0.3.7
	$(BIN)/python -m pip install --quiet --no-deps -e .
	# compile librosa's numba kernels once here, not in the first notebook cell or widget
	$(BIN)/python -c "from m2d import audio; audio.warm_up()"
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts

_vendor/.stamp: node_modules/.package-lock.json tools/vendor_js.py tools/widgets-config.js \
	  tools/live/ort-live.template.js tools/live/ort-LICENSE.txt $(STAMP)
	$(BIN)/python tools/vendor_js.py
	touch $@

vendor: _vendor/.stamp

# The execution cache keys on notebook content only: when the library changes (its Python, its
# JSON, or the JavaScript of the live widgets the pages embed), drop it so every page shows what the
# current code computes (and make Sphinx re-read every page, the Chinese edition's too: its sources
# do not change when the library does, so its own environment would keep the old outputs).
_build/.src-stamp: $(shell find src -name '*.py' -o -name '*.json' -o -name '*.js' | sort)
	rm -rf _build/.jupyter_cache _build/.doctrees _build/jupyter_execute _build/zh
	mkdir -p _build && touch $@

# The Chinese edition's figures draw their words in WenQuanYi Zen Hei (Debian's fonts-wqy-zenhei,
# installed when missing, as `make chromium` does; without it those figures keep English words).
fonts:
	@fc-list 2>/dev/null | grep -q 'WenQuanYi Zen Hei' || { apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fonts-wqy-zenhei; } || \
	  echo "no Chinese font could be installed: the Chinese edition's figures keep English words"

book: $(STAMP) _vendor/.stamp _build/.src-stamp fonts
	# the chapters, two at a time, into the execution cache that jupyter-book reads (2 cores)
	M2D_HTML_BUILD=1 $(BIN)/python tools/execute_parallel.py
	M2D_HTML_BUILD=1 $(BIN)/jupyter-book build -W -n --keep-going .
	# the Chinese edition (zh/): its configuration derived from _config.yml; its notebooks' code
	# cells are the English ones, so every chapter comes from the execution cache filled above
	$(BIN)/python tools/translation.py config
	M2D_HTML_BUILD=1 $(BIN)/jupyter-book build zh --config _build/zh/_config.yml \
	  --path-output _build/zh -W -n --keep-going
	rm -rf _build/html/zh && cp -r _build/zh/_build/html _build/html/zh
	$(BIN)/python tools/check_audio.py   # every embedded sound is audible and unclipped
	# Sphinx linkcheck (external links ignored in _config.yml; cross-references are already checked
	# by -n -W above): 0 warnings. jupyter-book writes its report into _build/html; move it out.
	M2D_HTML_BUILD=1 $(BIN)/jupyter-book build --builder linkcheck -W -n --keep-going . >/dev/null
	mkdir -p _build/linkcheck && mv -f _build/html/output.txt _build/html/output.json _build/linkcheck/
	@echo "Open _build/html/index.html"

# The PDF editions, after `make book`: the same executed notebooks (execute_parallel.py finds them in
# the execution cache; nothing runs twice), Jupyter Book 1's LaTeX builder and xelatex through latexmk,
# then tests/test_pdf.py and tests/test_pdf_zh.py. The Chinese edition is built from zh/ with the
# configuration `make book` derives (tools/translation.py config: zh title, author and LaTeX names,
# WenQuanYi Zen Hei as the CJK main font) and the same execution cache; the two xelatex runs go side
# by side (one core each). Debian's TeX Live (xetex, xeCJK), latexmk and poppler are installed when
# missing, as `make chromium` installs Chromium. Output: _build/latex/ and _build/zh/_build/latex/,
# copied into _build/html/ and _build/html/zh/ and linked from each edition's intro page.
PDF := _build/latex/from-markov-to-diffusion.pdf
PDF_ZH := _build/zh/_build/latex/from-markov-to-diffusion-zh.pdf
LATEXMK := LATEXMKOPTS="-interaction=nonstopmode -halt-on-error"
TEX_DEBS := texlive-xetex texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
	tex-gyre fonts-freefont-otf texlive-lang-chinese fonts-wqy-zenhei latexmk poppler-utils
tex:
	@{ command -v xelatex && command -v latexmk && command -v pdftotext && kpsewhich xeCJK.sty && \
	   kpsewhich newunicodechar.sty && fc-list | grep -q 'WenQuanYi Zen Hei'; } >/dev/null 2>&1 || { \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	  --no-install-recommends $(TEX_DEBS); }

pdf: $(STAMP) _vendor/.stamp _build/.src-stamp tex
	M2D_HTML_BUILD=1 $(BIN)/python tools/execute_parallel.py
	M2D_HTML_BUILD=1 $(BIN)/jupyter-book build --builder latex -n --keep-going .
	$(BIN)/python tools/translation.py config
	M2D_HTML_BUILD=1 $(BIN)/jupyter-book build zh --config _build/zh/_config.yml \
	  --path-output _build/zh --builder latex -n --keep-going
	$(MAKE) -C _build/latex all-pdf $(LATEXMK) >_build/latex/latexmk.out 2>&1 & en=$$!; \
	$(MAKE) -C _build/zh/_build/latex all-pdf $(LATEXMK) >_build/zh/_build/latex/latexmk.out 2>&1; zh=$$?; \
	wait $$en || { tail -40 _build/latex/latexmk.out; exit 1; }; \
	[ $$zh = 0 ] || { tail -40 _build/zh/_build/latex/latexmk.out; exit 1; }
	$(BIN)/python tools/m2d_sphinx.py link-pdf   # into _build/html(/zh), linked from the intro pages
	$(BIN)/python -m pytest -q tests/test_pdf.py tests/test_pdf_zh.py
	@for f in $(PDF) $(PDF_ZH); do \
	  echo "PDF: $$f, $$(pdfinfo $$f | sed -n 's/^Pages: *//p') pages, $$(du -h $$f | cut -f1)"; done

# Models trained past the build's budget: from scratch, into src/m2d/weights/ with a manifest
# (about an hour for Part III's U-Net on a 2-core CPU). MODEL=all|ddpm-organ, DEVICE=cpu|cuda.
MODEL ?= all
DEVICE ?= cpu
train: $(STAMP)
	$(BIN)/python tools/train.py --model $(MODEL) --device $(DEVICE)

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser),
# and a CJK font so the Chinese epigraphs render in the screenshots.
chromium:
	@{ command -v chromium >/dev/null && dpkg -s fonts-wqy-zenhei >/dev/null 2>&1; } || { apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-wqy-zenhei; }

# node_modules: axe-core, which the accessibility tests inject (they would skip without it)
test: $(STAMP) chromium node_modules/.package-lock.json
	$(BIN)/ruff check src tests tools
	$(BIN)/python -m pytest

# peers measured against (not needed by the book): quantecon, diffusers
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet quantecon diffusers
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf _build _vendor
