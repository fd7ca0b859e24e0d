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

from m2d import attention, diffusion, markov, plotting
from m2d.widgets._common import error_html, ok_html, png


def _matrix_text(A) -> str:
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in np.asarray(A))


class _Example:
    """Shared plumbing: a message line, a picture, and error handling around ``compute``."""

    def __init__(self, figsize):
        self.message = W.HTML()
        self.picture = W.Image(format="png")
        self.error: str | None = None
        self.image = b""
        self._fig = plt.figure(figsize=figsize)
        plt.close(self._fig)

    def update(self) -> None:
        try:
            status = self.compute()
        except ValueError as exc:
            self.error = str(exc)
            self.message.value = error_html(self.error)
            return
        self.error = None
        self.message.value = ok_html(status)
        self._fig.clear()
        self.draw(self._fig)
        self.image = png(self._fig)
        self.picture.value = self.image

    def compute(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def draw(self, fig) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


class ToyChainExample(_Example):
    """Type a stochastic matrix on {C, E, G} (or any size); see P^n and pi (Theorems 21.1-21.2)."""

    def __init__(self, P=markov.TOY_CEG, n: int = 2):
        super().__init__((10, 3))
        self.matrix = W.Textarea(value=_matrix_text(P), rows=4, description="P",
                                 layout=W.Layout(width="260px"), continuous_update=False)
        self.n = W.IntSlider(value=n, min=0, max=30, description="n")
        self.P = self.Pn = self.pi = None
        for w in (self.matrix, self.n):
            w.observe(lambda _: self.update(), names="value")
        self.update()

    def compute(self) -> str:
        P = markov.check_stochastic(markov.parse_matrix(self.matrix.value))
        self.P, self.Pn = P, markov.n_step(P, self.n.value)
        self.pi = markov.stationary_distribution(P)
        gap = np.abs(self.Pn - self.pi).max()
        return f"stochastic; max |P^n - pi| over all entries = {gap:.2e}"

    def draw(self, fig) -> None:
        labels = markov.TOY_CEG_LABELS if len(self.P) == 3 else [str(i) for i in range(len(self.P))]
        a0, a1 = fig.subplots(1, 2)
        plotting.matrix_heatmap(a0, self.Pn, labels, title=f"$P^{{{self.n.value}}}$", vmax=1)
        plotting.distribution_bars(a1, self.pi, labels, title=r"$\pi$")
        fig.tight_layout()

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
        Q, K = markov.parse_matrix(self.Q.value), markov.parse_matrix(self.K.value)
        d_k = Q.shape[1]
        scale = 1.0 / (np.sqrt(d_k) * self.temperature.value)
        V = self.V if self.V.shape[0] == K.shape[0] else np.eye(K.shape[0])
        _, self.weights = attention.scaled_dot_product_attention(Q, K, V, scale=scale)
        self.scores = Q @ K.T * scale
        return f"every row sums to 1: {np.round(self.weights.sum(axis=1), 12).tolist()}"

    def draw(self, fig) -> None:
        n = self.weights.shape[0]
        labels = ("C", "E", "G") if n == 3 else [str(i) for i in range(n)]
        a0, a1 = fig.subplots(1, 2)
        im = a0.imshow(self.scores, cmap="coolwarm")
        a0.set_xticks(range(self.scores.shape[1]), labels[: self.scores.shape[1]])
        a0.set_yticks(range(n), labels)
        for (i, j), v in np.ndenumerate(self.scores):
            a0.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=9)
        a0.set_title(r"scores $QK^\top/(\sqrt{d_k}\,\tau)$")
        fig.colorbar(im, ax=a0)
        plotting.matrix_heatmap(a1, self.weights, labels, title="attention weights (rows sum to 1)",
                                vmax=1, xlabel="key", ylabel="query")
        fig.tight_layout()

    @property
    def widget(self) -> W.Widget:
        return W.VBox([W.HBox([self.Q, self.K, self.temperature]), self.message, self.picture])


class PixelDiffusionExample(_Example):
    """One pixel x0 under the forward process: x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps
    (Theorem 21.4, Example 21.2); a histogram of many draws against the predicted Gaussian."""

    def __init__(self, x0: float = 0.8, t: int = 500, T: int = 1000, beta_start: float = 1e-4,
                 beta_end: float = 0.02, draws: int = 20_000, seed: int = 0):
        super().__init__((10, 3))
        self.x0 = W.FloatSlider(value=x0, min=-2, max=2, step=0.05, description="x0")
        self.t = W.IntSlider(value=t, min=0, max=T, description="t")
        self.T = W.IntSlider(value=T, min=1, max=2000, description="T")
        self.beta_start = W.FloatLogSlider(value=beta_start, base=10, min=-5, max=-0.5,
                                           description="beta_1", readout_format=".1e")
        self.beta_end = W.FloatLogSlider(value=beta_end, base=10, min=-4, max=-0.05,
                                         description="beta_T", readout_format=".1e")
        self.draws, self.seed = draws, seed
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
        rng = np.random.default_rng(self.seed)
        x0 = np.full(self.draws, self.x0.value)
        self.samples = diffusion.q_sample(x0, self.t.value, self.alpha_bar, rng.standard_normal(self.draws))
        ab = self.alpha_bar[self.t.value]
        return (f"alpha_bar_t = {ab:.5f}; mean sqrt(ab) x0 = {np.sqrt(ab) * self.x0.value:.4f}, "
                f"std sqrt(1 - ab) = {np.sqrt(1 - ab):.4f}; sample mean {self.samples.mean():.4f}, "
                f"std {self.samples.std():.4f}")

    def draw(self, fig) -> None:
        a0, a1 = fig.subplots(1, 2)
        a0.plot(self.alpha_bar, label=r"$\bar\alpha_t$")
        a0.axvline(self.t.value, color="C3", ls="--")
        a0.set_xlabel("t")
        a0.legend()
        ab = self.alpha_bar[self.t.value]
        m, s = np.sqrt(ab) * self.x0.value, np.sqrt(1 - ab)
        a1.hist(self.samples, bins=80, density=True, alpha=0.6, label=f"{self.draws} draws of $x_t$")
        if s > 0:
            grid = np.linspace(m - 4 * s, m + 4 * s, 300)
            a1.plot(grid, np.exp(-((grid - m) ** 2) / (2 * s**2)) / (s * np.sqrt(2 * np.pi)), "k",
                    label=r"$\mathcal{N}(\sqrt{\bar\alpha_t}x_0,\ 1-\bar\alpha_t)$")
        a1.legend(fontsize=8)
        fig.tight_layout()

    @property
    def widget(self) -> W.Widget:
        return W.VBox([W.HBox([self.x0, self.t]), W.HBox([self.T, self.beta_start, self.beta_end]),
                       self.message, self.picture])
