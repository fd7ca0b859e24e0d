"""Chapter 4 widgets: "change the numbers" versions of the page's three worked examples.

- :class:`ToyChainExample`: a small stochastic matrix typed as text, its powers P^n and pi.
- :class:`AttentionExample`: the three-token C-E-G attention example with editable Q and K.
- :class:`PixelDiffusionExample`: forward diffusion of one spectrogram pixel (Example 21.2).

Each exposes its controls as attributes and ``update()``; bad input shows a message, keeps the edit.

Notebook: notebooks/04_examples.ipynb
"""

from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from m2d import attention, diffusion, example_chains, markov, plotting
from m2d.rng import as_generator
from m2d.widgets._common import BlitFigure, error_html, ok_html, parse_matrix


def _matrix_text(A) -> str:
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in np.asarray(A))


class _Example:
    """Shared plumbing: a message line, a picture, and error handling around ``compute``.

    A subclass computes in ``compute()`` (raising ``ValueError`` for bad input), lays its figure out in
    ``build(fig)`` (axes, static parts; it registers the changing artists with ``self.blit.animate``)
    and moves those artists in ``refresh()``. The figure is rebuilt only when ``layout_key()`` changes
    (e.g. a matrix of another size); otherwise only the animated artists are redrawn over a cached
    background (:class:`~m2d.widgets._common.BlitFigure`), which keeps a slider move well under 100 ms.
    ``refresh()`` returns True when it changed something static (axis limits): then the background is
    redrawn once.
    """

    def __init__(self, figsize):
        self.message = W.HTML()
        self.picture = W.Image(format="png")
        self.error: str | None = None
        self.image = b""
        self._fig = plt.figure(figsize=figsize)
        plt.close(self._fig)
        self.blit = BlitFigure(self._fig)
        self._layout = object()  # matches no layout key: the first update builds the figure

    def update(self) -> None:
        try:
            status = self.compute()
        except ValueError as exc:
            self.error = str(exc)
            self.message.value = error_html(self.error)
            return
        self.error = None
        self.message.value = ok_html(status)
        key = self.layout_key()
        if key != self._layout:
            self._fig.clear()
            self.blit = BlitFigure(self._fig)
            self.build(self._fig)
            self._layout = key
        if self.refresh():
            self.blit.invalidate()
        self.image = self.blit.render()
        self.picture.value = self.image

    def compute(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def layout_key(self):
        """What the figure's layout depends on (the figure is rebuilt when it changes)."""
        return None

    def build(self, fig) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def refresh(self) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def _annotate(texts, M) -> None:
    """Write the entries of ``M`` into a heatmap's annotation texts (row-major), white on dark cells."""
    hi = M.max()
    for text, v in zip(texts, M.ravel(), strict=True):
        text.set_text(f"{v:.2f}")
        text.set_color("w" if v < 0.6 * hi else "k")


class ToyChainExample(_Example):
    """Type a stochastic matrix on {C, E, G} (or any size); see P^n and pi (Theorems 21.1-21.2)."""

    def __init__(self, P=example_chains.TOY_CEG, n: int = 2):
        super().__init__((10, 3))
        self.matrix = W.Textarea(value=_matrix_text(P), rows=4, description="P",
                                 layout=W.Layout(width="260px"), continuous_update=False)
        self.n = W.IntSlider(value=n, min=0, max=30, description="n")
        self.P = self.Pn = self.pi = None
        for w in (self.matrix, self.n):
            w.observe(lambda _: self.update(), names="value")
        self.update()

    def compute(self) -> str:
        chain = markov.MarkovChain(parse_matrix(self.matrix.value))
        self.P, self.Pn, self.pi = chain.P, chain.n_step(self.n.value), chain.stationary
        gap = np.abs(self.Pn - self.pi).max()
        return f"stochastic; max |P^n - pi| over all entries = {gap:.2e}"

    def layout_key(self):
        return self.P.shape  # a matrix of another size needs new axes; anything else is redrawn

    def build(self, fig) -> None:
        n = len(self.P)
        labels = example_chains.TOY_CEG_LABELS if n == 3 else [str(i) for i in range(n)]
        a0, a1 = fig.subplots(1, 2)
        self._im = plotting.matrix_heatmap(self.Pn, labels, ax=a0, title="$P^n$", vmax=1)[2]
        self._texts = list(a0.texts)
        plotting.distribution_bars(self.pi, labels, ax=a1, title=r"$\pi$")
        a1.set_ylim(0, 1)
        self._bars = list(a1.patches)
        fig.tight_layout()
        self._title = a0.title
        self.blit.animate(self._im, self._title, *self._texts, *self._bars)

    def refresh(self) -> bool:
        for bar, p in zip(self._bars, self.pi, strict=True):
            bar.set_height(p)
        self._im.set_data(self.Pn)
        self._title.set_text(f"$P^{{{self.n.value}}}$")
        _annotate(self._texts, self.Pn)
        return False

    @property
    def widget(self) -> W.Widget:
        return W.VBox([W.HBox([self.matrix, self.n]), self.message, self.picture])


class AttentionExample(_Example):
    """Edit the projected queries and keys of three tokens (C, E, G); see softmax(QK^T / sqrt(d_k))
    row by row (Definition 21.6, Theorem 21.3)."""

    def __init__(self, Q=None, K=None, V=None, scale: float | None = None):
        super().__init__((10, 3))
        Q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]) if Q is None else Q
        K = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]) if K is None else K
        self.V = np.eye(3) if V is None else np.asarray(V, dtype=float)
        box = W.Layout(width="200px")
        self.Q = W.Textarea(value=_matrix_text(Q), rows=4, description="Q", layout=box,
                            continuous_update=False)
        self.K = W.Textarea(value=_matrix_text(K), rows=4, description="K", layout=box,
                            continuous_update=False)
        self.temperature = W.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05,
                                            description="temperature")
        self.scores = self.weights = None
        for w in (self.Q, self.K, self.temperature):
            w.observe(lambda _: self.update(), names="value")
        self.update()

    def compute(self) -> str:
        Q, K = parse_matrix(self.Q.value), parse_matrix(self.K.value)
        d_k = Q.shape[1]
        scale = 1.0 / (np.sqrt(d_k) * self.temperature.value)
        V = self.V if self.V.shape[0] == K.shape[0] else np.eye(K.shape[0])
        _, self.weights = attention.scaled_dot_product_attention(Q, K, V, scale=scale)
        self.scores = Q @ K.T * scale
        return f"every row sums to 1: {np.round(self.weights.sum(axis=1), 12).tolist()}"

    def layout_key(self):
        return self.scores.shape

    def build(self, fig) -> None:
        n, m = self.scores.shape
        labels = ("C", "E", "G") if max(n, m) == 3 else [str(i) for i in range(max(n, m))]
        a0, a1 = fig.subplots(1, 2)
        # scores: a diverging map centred on 0, its range set per update (the numbers are printed in
        # the cells, so no colour bar, whose axis would change with every temperature)
        self._scores_im = plotting.matrix_heatmap(self.scores, labels, ax=a0, vmax=1,
                                                  cmap="coolwarm", annotate=True, xlabel="key",
                                                  ylabel="query",
                                                  title=r"scores $QK^\top/(\sqrt{d_k}\,\tau)$")[2]
        self._scores_txt = list(a0.texts)
        self._weights_im = plotting.matrix_heatmap(self.weights, labels, ax=a1, vmax=1,
                                                   annotate=True, xlabel="key", ylabel="query",
                                                   title="attention weights (rows sum to 1)")[2]
        self._weights_txt = list(a1.texts)
        fig.tight_layout()
        self.blit.animate(self._scores_im, self._weights_im, *self._scores_txt, *self._weights_txt)

    def refresh(self) -> bool:
        lim = max(np.abs(self.scores).max(), 1e-12)
        self._scores_im.set_data(self.scores)
        self._scores_im.set_clim(-lim, lim)
        for text, v in zip(self._scores_txt, self.scores.ravel(), strict=True):
            text.set_text(f"{v:.2f}")
            text.set_color("k")
        self._weights_im.set_data(self.weights)
        _annotate(self._weights_txt, self.weights)
        return False

    @property
    def widget(self) -> W.Widget:
        return W.VBox([W.HBox([self.Q, self.K, self.temperature]), self.message, self.picture])


class PixelDiffusionExample(_Example):
    """One pixel x0 under the forward process: x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps
    (Theorem 21.4, Example 21.2); a histogram of many draws against the predicted Gaussian."""

    BINS = 80

    def __init__(self, x0: float = 0.8, t: int = 500, T: int = 1000, beta_start: float = 1e-4,
                 beta_end: float = 0.02, draws: int = 20_000,
                 rng: int | np.random.Generator = 0):
        super().__init__((10, 3))
        self.x0 = W.FloatSlider(value=x0, min=-2, max=2, step=0.05, description="x0")
        self.t = W.IntSlider(value=t, min=0, max=T, description="t")
        self.T = W.IntSlider(value=T, min=1, max=2000, description="T")
        self.beta_start = W.FloatLogSlider(value=beta_start, base=10, min=-5, max=-0.5,
                                           description="beta_1", readout_format=".1e")
        self.beta_end = W.FloatLogSlider(value=beta_end, base=10, min=-4, max=-0.05,
                                         description="beta_T", readout_format=".1e")
        self.draws, self.rng = draws, rng
        self.alpha_bar = self.samples = None
        self.T.observe(self._sync_t, names="value")
        for w in (self.x0, self.t, self.beta_start, self.beta_end):
            w.observe(lambda _: self.update(), names="value")
        self.update()

    def _sync_t(self, _=None) -> None:
        self.t.max = self.T.value  # clamps t, which triggers an update when it changes
        self.update()

    def compute(self) -> str:
        if self.t.value > self.T.value:
            raise ValueError(f"t = {self.t.value} is outside 0..T = {self.T.value}")
        betas = diffusion.linear_beta_schedule(self.T.value, self.beta_start.value, self.beta_end.value)
        self.alpha_bar = diffusion.alpha_bars(betas)
        rng = as_generator(self.rng)
        x0 = np.full(self.draws, self.x0.value)
        self.samples = diffusion.q_sample(x0, self.t.value, self.alpha_bar, rng.standard_normal(self.draws))
        ab = self.alpha_bar[self.t.value]
        return (f"alpha_bar_t = {ab:.5f}; mean sqrt(ab) x0 = {np.sqrt(ab) * self.x0.value:.4f}, "
                f"std sqrt(1 - ab) = {np.sqrt(1 - ab):.4f}; sample mean {self.samples.mean():.4f}, "
                f"std {self.samples.std():.4f}")

    def build(self, fig) -> None:
        a0, a1 = fig.subplots(1, 2)
        (self._ab_line,) = a0.plot([0, 1], [1, 1], label=r"$\bar\alpha_t$")
        self._t_line = a0.axvline(0, color="C3", ls="--")
        a0.set_xlabel("t")
        a0.set_ylim(-0.02, 1.02)
        a0.legend(loc="upper right")
        self._hist = a1.stairs(np.zeros(self.BINS), np.linspace(-1, 1, self.BINS + 1), fill=True,
                               alpha=0.6, label=f"{self.draws} draws of $x_t$")
        (self._pdf,) = a1.plot([0, 1], [0, 0], "k",
                               label=r"$\mathcal{N}(\sqrt{\bar\alpha_t}x_0,\ 1-\bar\alpha_t)$")
        a1.set_xlabel("$x_t$")
        a1.legend(fontsize=8, loc="upper right")
        fig.tight_layout()
        self._a0, self._a1 = a0, a1
        self.blit.animate(self._ab_line, self._t_line, self._hist, self._pdf)

    def refresh(self) -> bool:
        """Move the curves; change an axis (a full redraw) only when the picture would leave it or
        shrink to under 40 % of it, so a slider sweep redraws the axes a handful of times."""
        changed = False
        T, t = len(self.alpha_bar) - 1, self.t.value
        if self._a0.get_xlim() != (0, max(T, 1)):
            self._a0.set_xlim(0, max(T, 1))
            changed = True
        self._ab_line.set_data(np.arange(T + 1), self.alpha_bar)
        self._t_line.set_xdata([t, t])
        ab = self.alpha_bar[t]
        m, s = np.sqrt(ab) * self.x0.value, np.sqrt(1 - ab)
        half = 4.5 * max(s, 1e-3)
        lo, hi = self._a1.get_xlim()
        if m - half < lo or m + half > hi or 2 * half < 0.4 * (hi - lo):
            lo, hi = m - 1.25 * half, m + 1.25 * half
            self._a1.set_xlim(lo, hi)
            changed = True
        edges = np.linspace(lo, hi, self.BINS + 1)
        dens, _ = np.histogram(self.samples, edges, density=True)
        self._hist.set_data(dens, edges)
        grid = np.linspace(lo, hi, 300)
        pdf = (np.exp(-((grid - m) ** 2) / (2 * s**2)) / (s * np.sqrt(2 * np.pi)) if s > 0
               else np.zeros_like(grid))
        self._pdf.set_data(grid, pdf)
        top = max(dens.max(), pdf.max(), 1e-12)
        if top > self._a1.get_ylim()[1] or top < 0.4 * self._a1.get_ylim()[1]:
            self._a1.set_ylim(0, 1.2 * top)
            changed = True
        return changed

    @property
    def widget(self) -> W.Widget:
        return W.VBox([W.HBox([self.x0, self.t]), W.HBox([self.T, self.beta_start, self.beta_end]),
                       self.message, self.picture])
