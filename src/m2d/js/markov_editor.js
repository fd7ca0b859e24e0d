// m2d live: Part I's transition-matrix editor in the reader's browser (issue 18). A port of the few
// m2d functions it needs -- stochastic.normalize_rows, MarkovChain.closed_classes/stationary/
// entropy_rate/sample, pitch.pcs_to_midi -- held equal to the library by tests/test_live_markov.py
// (pi to 1e-9, sampled transition frequencies within Monte Carlo error). Needs live_common.js.
(function () {
  "use strict";
  const live = window.m2dLive;
  if (live.markov) return;
  const NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];
  const mk = (live.markov = {});

  // parse_grid: text cells -> numbers; the message names the entry by its notes
  mk.parseGrid = function (texts) {
    return texts.map(function (row, i) {
      return row.map(function (t, j) {
        const s = String(t).trim();
        const v = s === "" ? NaN : Number(s);
        if (!Number.isFinite(v)) {
          throw new Error("entry (" + NAMES[i] + " -> " + NAMES[j] + ") = '" + t + "' is not a number");
        }
        return v;
      });
    });
  };

  // stochastic.normalize_rows: P[i, j] = W[i, j] / sum_k W[i, k]
  mk.normalizeRows = function (W) {
    W.forEach(function (row, i) {
      row.forEach(function (v, j) {
        if (v < 0) throw new Error("negative weight W[" + i + ", " + j + "] = " + v);
      });
    });
    return W.map(function (row, i) {
      const s = row.reduce(function (a, b) { return a + b; }, 0);
      if (s === 0) throw new Error("row " + i + " is all zeros; it cannot be normalised");
      return row.map(function (v) { return v / s; });
    });
  };

  // closed communicating classes of the graph P > 0 (transitive closure; n = 12)
  mk.closedClasses = function (P) {
    const n = P.length;
    const R = P.map(function (row, i) { return row.map(function (v, j) { return v > 0 || i === j; }); });
    for (let k = 0; k < n; k++)
      for (let i = 0; i < n; i++)
        if (R[i][k]) for (let j = 0; j < n; j++) if (R[k][j]) R[i][j] = true;
    const seen = new Array(n).fill(false);
    const closed = [];
    for (let i = 0; i < n; i++) {
      if (seen[i]) continue;
      const cls = [];
      for (let j = 0; j < n; j++) if (R[i][j] && R[j][i]) { cls.push(j); seen[j] = true; }
      const leaves = cls.some(function (a) {
        return P[a].some(function (v, b) { return v > 0 && cls.indexOf(b) < 0; });
      });
      if (!leaves) closed.push(cls);
    }
    return closed;
  };

  // MarkovChain.stationary: solve (P^T - I) pi = 0 with the last equation replaced by sum pi = 1
  // (Gaussian elimination with partial pivoting, as LAPACK's dgesv), clip at 0, renormalise.
  mk.stationary = function (P) {
    const n = P.length;
    const allPositive = P.every(function (r) { return r.every(function (v) { return v > 0; }); });
    const closed = allPositive ? [] : mk.closedClasses(P);
    if (closed.length > 1) {
      const names = closed.map(function (c) { return "{" + c.join(", ") + "}"; });
      throw new Error("the chain is reducible with " + closed.length + " closed classes " +
        names.join(", ") + ": each has its own stationary distribution, so pi is not unique");
    }
    const M = [];
    for (let i = 0; i < n; i++) {
      M.push([]);
      for (let j = 0; j < n; j++) M[i].push(P[j][i] - (i === j ? 1 : 0));
    }
    for (let j = 0; j < n; j++) M[n - 1][j] = 1;
    const b = new Array(n).fill(0);
    b[n - 1] = 1;
    for (let c = 0; c < n; c++) {
      let p = c;
      for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
      if (M[p][c] === 0) throw new Error("the stationary system is singular");
      [M[c], M[p]] = [M[p], M[c]];
      [b[c], b[p]] = [b[p], b[c]];
      for (let r = c + 1; r < n; r++) {
        const f = M[r][c] / M[c][c];
        if (f === 0) continue;
        for (let k = c; k < n; k++) M[r][k] -= f * M[c][k];
        b[r] -= f * b[c];
      }
    }
    const x = new Array(n).fill(0);
    for (let r = n - 1; r >= 0; r--) {
      let s = b[r];
      for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
      x[r] = s / M[r][r];
    }
    const clipped = x.map(function (v) { return Math.max(0, v); });
    const total = clipped.reduce(function (a, v) { return a + v; }, 0);
    return clipped.map(function (v) { return v / total; });
  };

  // MarkovChain.entropy_rate: H = -sum_i pi_i sum_j P[i, j] log2 P[i, j]
  mk.entropyRate = function (P, pi) {
    let h = 0;
    P.forEach(function (row, i) {
      row.forEach(function (v) { if (v > 0) h -= pi[i] * v * Math.log2(v); });
    });
    return h;
  };

  // MarkovChain.sample: X_0 = start, X_{t+1} ~ P[X_t, .] by inverse CDF (own seeded PRNG: the
  // same law as numpy's draws, not the same notes)
  mk.sample = function (P, length, start, seed) {
    const rand = live.rng(seed);
    const cdf = P.map(function (row) {
      let c = 0;
      return row.map(function (v) { c += v; return c; });
    });
    const out = new Array(length);
    out[0] = start;
    for (let t = 1; t < length; t++) {
      const row = cdf[out[t - 1]];
      const u = rand() * row[row.length - 1];
      let j = 0;
      while (j < row.length - 1 && u >= row[j]) j++;
      out[t] = j;
    }
    return out;
  };

  // pitch.pcs_to_midi: each note in the octave nearest the previous one, folded into [low, high]
  mk.pcsToMidi = function (pcs, start, low, high) {
    start = start === undefined ? 60 : start;
    low = low === undefined ? 55 : low;
    high = high === undefined ? 81 : high;
    let prev = start;
    return pcs.map(function (pc) {
      let cand = prev + ((((pc - prev + 6) % 12) + 12) % 12) - 6;
      while (cand < low) cand += 12;
      while (cand > high) cand -= 12;
      prev = cand;
      return cand;
    });
  };

  function fmt(x) {
    return x ? x.toFixed(3).replace(/0+$/, "").replace(/\.$/, "") : "0";
  }

  // -- the editor ---------------------------------------------------------------------------
  mk.editor = function (root, cfg) {
    const body = root.querySelector(".m2d-live-body");
    const state = { P: null, pi: null, melody: null, error: null, exact: null, shown: null };
    root.m2dState = state;

    const el = live.el;

    function build() {
      const bar = el("div", { class: "m2d-live-controls" }, body);
      const lab = function (text, input) {
        const l = el("label", {}, bar, text + " ");
        l.appendChild(input);
        return input;
      };
      const preset = lab("preset", el("select", { name: "preset" }));
      Object.keys(cfg.presets).forEach(function (k) { el("option", { value: k }, preset, k); });
      preset.value = cfg.preset;
      const seed = lab("seed", el("input", { name: "seed", type: "number", min: 0, step: 1, value: cfg.seed }));
      const length = lab("notes", el("input", { name: "length", type: "number", min: 8, max: 128,
        step: 1, value: cfg.length }));
      const start = lab("start", el("select", { name: "start" }));
      NAMES.forEach(function (k) { el("option", { value: k }, start, k); });
      start.value = cfg.start;
      const tempo = lab("tempo", el("input", { name: "tempo", type: "number", min: 60, max: 240,
        step: 4, value: cfg.tempo }));
      const norm = el("button", { type: "button", name: "normalise" }, bar, "normalise rows");
      const play = el("button", { type: "button", name: "play" }, bar, "▶ play melody");
      const msg = el("p", { class: "m2d-live-msg", role: "status", "aria-live": "polite" }, body);
      const table = el("table", { class: "m2d-live-grid", "aria-label": "transition matrix P: rows are the current note, columns the next" }, body);
      const head = el("tr", {}, table);
      el("th", { scope: "col" }, head, "P");
      NAMES.forEach(function (n) { el("th", { scope: "col" }, head, n); });
      const cells = NAMES.map(function (rn, i) {
        const tr = el("tr", {}, table);
        el("th", { scope: "row" }, tr, rn);
        return NAMES.map(function (cn, j) {
          const td = el("td", {}, tr);
          return el("input", { type: "text", inputmode: "decimal", size: 4,
            "aria-label": "P(" + rn + " → " + cn + ")", "data-i": i, "data-j": j }, td);
        });
      });
      const pics = el("div", { class: "m2d-live-pics" }, body);
      const piSvg = live.svg("svg", { viewBox: "0 0 300 150", width: 300, height: 150, role: "img",
        "aria-label": "stationary distribution" }, pics);
      const rollSvg = live.svg("svg", { viewBox: "0 0 640 150", width: 640, height: 150, role: "img",
        "aria-label": "piano roll of the sampled melody" }, pics);
      const ctl = { preset, seed, length, start, tempo, norm, play, msg, cells, piSvg, rollSvg };
      root.m2dControls = ctl;

      preset.addEventListener("change", function () { setMatrix(cfg.presets[preset.value]); });
      norm.addEventListener("click", function () {
        try { setMatrix(mk.normalizeRows(currentWeights())); } catch (e) { showError(e.message); }
      });
      [seed, length, start, tempo].forEach(function (w) { w.addEventListener("change", update); });
      cells.forEach(function (row) { row.forEach(function (c) { c.addEventListener("change", update); }); });
      play.addEventListener("click", function () {
        if (!state.melody) return;
        const t = Number(tempo.value);
        const beats = state.melody.map(function () { return 0.5; });
        live.renderMelody(state.melody, beats, t).then(function (r) { live.play(r.signal, r.sr); })
          .catch(function (e) { showError("sound: " + e.message); });
      });
      setMatrix(cfg.presets[cfg.preset]);
    }

    function texts() {
      return root.m2dControls.cells.map(function (row) { return row.map(function (c) { return c.value; }); });
    }
    function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
    function currentWeights() {
      const t = texts();
      return state.shown && same(t, state.shown) ? state.exact.map(function (r) { return r.slice(); })
        : mk.parseGrid(t);
    }
    function setMatrix(A) {
      state.exact = A.map(function (r) { return r.slice(); });
      state.shown = A.map(function (r) { return r.map(fmt); });
      root.m2dControls.cells.forEach(function (row, i) {
        row.forEach(function (c, j) { c.value = state.shown[i][j]; });
      });
      update();
    }
    function showError(m) {
      state.error = m;
      const msg = root.m2dControls.msg;
      msg.textContent = "⚠ " + m;
      msg.className = "m2d-live-msg m2d-live-error";
    }
    function intIn(input, lo, hi, what) {
      const v = Number(input.value);
      if (!Number.isInteger(v) || v < lo || v > hi) {
        throw new Error(what + " must be a whole number in " + lo + ".." + hi + ", got '" + input.value + "'");
      }
      return v;
    }
    function update() {
      const c = root.m2dControls;
      let P, pi, seed, length, tempo;
      try {
        seed = intIn(c.seed, 0, 2147483647, "seed");
        length = intIn(c.length, 8, 128, "notes");
        tempo = intIn(c.tempo, 60, 240, "tempo");
        P = mk.normalizeRows(currentWeights());
        pi = mk.stationary(P);
      } catch (e) {
        showError(e.message);
        return;
      }
      const states = mk.sample(P, length, NAMES.indexOf(c.start.value), seed);
      state.P = P;
      state.pi = pi;
      state.error = null;
      state.melody = mk.pcsToMidi(states);
      const h = mk.entropyRate(P, pi);
      c.msg.textContent = "✓ stochastic; entropy rate " + h.toFixed(2) + " bits/note";
      c.msg.className = "m2d-live-msg m2d-live-ok";
      drawPi(c.piSvg, pi);
      drawRoll(c.rollSvg, state.melody);
      c.cells.forEach(function (row, i) {
        row.forEach(function (cell, j) {
          const v = P[i][j];
          cell.style.background = live.colour(v / 0.6);
          cell.style.color = v > 0.3 ? "#000" : "#fff";
        });
      });
    }
    function clear(svg) { while (svg.firstChild) svg.removeChild(svg.firstChild); }
    function drawPi(svg, pi) {
      clear(svg);
      const top = Math.max.apply(null, pi) || 1;
      live.svg("text", { x: 150, y: 12, "text-anchor": "middle", "font-size": 11 }, svg)
        .textContent = "stationary distribution π";
      pi.forEach(function (v, i) {
        const h = (v / top) * 110;
        const bar = live.svg("rect", { x: 8 + i * 24, y: 130 - h, width: 18, height: h,
          fill: "#3b528b" }, svg);
        live.svg("title", {}, bar).textContent = "π(" + NAMES[i] + ") = " + v.toFixed(4);
        live.svg("text", { x: 17 + i * 24, y: 144, "text-anchor": "middle", "font-size": 9 }, svg)
          .textContent = NAMES[i];
      });
      svg.setAttribute("aria-label", "stationary distribution: " + pi.map(function (v, i) {
        return NAMES[i] + " " + v.toFixed(3);
      }).join(", "));
    }
    function drawRoll(svg, midi) {
      clear(svg);
      const lo = 55, hi = 81, hgt = 130 / (hi - lo + 1);
      let w;
      live.svg("text", { x: 320, y: 12, "text-anchor": "middle", "font-size": 11 }, svg)
        .textContent = midi.length + " notes sampled (eighth notes)";
      [60, 72].forEach(function (m) {  // C4 and C5, as the piano roll's reference lines
        const y = 16 + (hi - m + 0.5) * hgt;
        live.svg("line", { x1: 34, x2: 640, y1: y, y2: y, stroke: "#bbb", "stroke-dasharray": "3 3" }, svg);
        live.svg("text", { x: 2, y: y + 3, "font-size": 9 }, svg).textContent = "C" + (m / 12 - 1);
      });
      w = 600 / midi.length;
      midi.forEach(function (m, k) {
        const r = live.svg("rect", { x: 36 + k * w, y: 16 + (hi - m) * hgt, width: Math.max(1, w - 1),
          height: hgt, fill: "#21918c" }, svg);
        live.svg("title", {}, r).textContent = NAMES[m % 12] + (Math.floor(m / 12) - 1);
      });
      svg.setAttribute("aria-label", "piano roll: " + midi.map(function (m) {
        return NAMES[m % 12];
      }).join(" "));
    }

    live.toggle(root, cfg, build);
  };
})();
