"""Diffusion widgets: the worked example's :class:`PixelDiffusionExample` (Example 21.2: one noised
pixel) and the noise-schedule explorer for Part III: see and hear
x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps (Theorem 21.4) for a melody's log-mel
spectrogram while changing the schedule.

The explorer is a thin layer over :mod:`m2d.diffusion` and :mod:`m2d.spectro`. Its controls are attributes
(``schedule``, ``beta_1``, ``beta_T``, ``T``, ``t``, ``melody``) and :meth:`NoiseScheduleExplorer.update`
redraws, so tests drive it without a browser. The picture is one blitted matplotlib figure
(:class:`m2d.widgets._common.BlitFigure`) whose artists are updated in place and sent as a PNG; the
sound uses the clean signal's STFT phase and the precomputed mel pseudo-inverse
(:func:`m2d.spectro.fast_mel_to_audio`), not 32 Griffin-Lim iterations. An invalid setting
(beta outside (0, 1), beta_1 > beta_T, t > T) shows a message beside the controls and leaves
the sliders and the last valid picture as they are.

In the HTML book, :func:`explorer_live` computes the explorer in the reader's browser, and
:func:`generate_live` is Part III's "generate" button: DDIM with the trained U-Net in the page.

Notebook: notebooks/03_diffusion.ipynb
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence

import ipywidgets as W
import numpy as np

from m2d import audio, i18n, spectro
from m2d import diffusion as df
from m2d.rng import as_generator, torch_seed
from m2d.widgets._common import BlitFigure, WorkedExample, error_html, ok_html, strip_tags


def clean_excerpt(melody, seconds: float = 3.0, tempo: float = 120.0) -> tuple[np.ndarray, np.ndarray]:
    """What the explorer noises: the excerpt's log-mel spectrogram x_0 in model units
    (:func:`m2d.spectro.db_to_unit`) and its STFT phase (:func:`m2d.spectro.stft_phase`), with which
    any x_t is turned back into sound.

    Notebook: notebooks/03_diffusion.ipynb
    Returns:
        x0 (np.ndarray): shape (N_MELS, frames), in [-1, 1]
        phase (np.ndarray): shape (N_FFT/2 + 1, frames)
    """
    y, s_db = spectro.excerpt(melody, seconds, tempo)
    return spectro.db_to_unit(s_db), spectro.stft_phase(y)


class NoiseScheduleExplorer:
    """Interactive view of the forward process on one melody's spectrogram.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        melodies (sequence of Melody): melodies to choose from (the first is shown)
        seconds (float): length of the excerpt (seconds of audio)
        tempo (float): render tempo (quarter notes per minute)
        rng (int or np.random.Generator): the fixed noise eps (the same eps for every t, so x_t moves
            continuously; a Generator gives one seed drawn from it)
    Attributes:
        schedule, beta_1, beta_T, T, t, melody: the controls (ipywidgets)
        message (ipywidgets.HTML): validation message beside the controls ("" when valid)
        image (ipywidgets.Image): the figure (PNG)
        player (ipywidgets.Audio): the sound of x_t (MP3, :func:`m2d.audio.encode_mp3`)
        sound (bytes): the last MP3; ``last_audio`` the signal
        timings (dict): seconds spent on the last ``picture`` and ``sound``
        x_t (np.ndarray): the last valid noised spectrogram (model units)
    Raises:
        ValueError: no melodies, non-positive seconds
    """

    def __init__(self, melodies: Sequence, seconds: float = 3.0, tempo: float = 120.0,
                 rng: int | np.random.Generator = 0):
        import ipywidgets as W

        if len(melodies) == 0:
            raise ValueError("need at least one melody")
        if seconds <= 0:
            raise ValueError(f"seconds must be positive, got {seconds}")
        self._melodies = list(melodies)
        self._seconds, self._tempo, self._seed = seconds, tempo, torch_seed(rng)
        self._prepared: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        style = {"description_width": "60px"}
        lay = W.Layout(width="330px")
        self.melody = W.Dropdown(options=[(self._label(m), i) for i, m in enumerate(self._melodies)],
                                 value=0, description="melody", style=style, layout=lay)
        self.schedule = W.ToggleButtons(options=["linear", "cosine"], value="linear", description="schedule",
                                        style={"description_width": "60px", "button_width": "80px"})
        self.beta_1 = W.FloatLogSlider(value=1e-4, base=10, min=-6, max=0, step=0.05, description="β₁",
                                       readout_format=".2e", continuous_update=False, style=style, layout=lay)
        self.beta_T = W.FloatLogSlider(value=0.02, base=10, min=-4, max=0, step=0.05, description="β_T",
                                       readout_format=".3f", continuous_update=False, style=style, layout=lay)
        self.T = W.IntSlider(value=1000, min=1, max=2000, description="T", continuous_update=False,
                             style=style, layout=lay)
        self.t = W.IntSlider(value=250, min=0, max=2000, description="t", continuous_update=False,
                             style=style, layout=lay)
        self.message = W.HTML(value="", layout=W.Layout(width="320px"))
        self.image = W.Image(format="png")
        self.player = W.Audio(format="mp3", autoplay=False, loop=False)
        self.timings: dict[str, float] = {}
        self.x_t: np.ndarray | None = None
        self._blit: BlitFigure | None = None
        controls = W.VBox([self.melody, self.schedule, self.beta_1, self.beta_T, self.T, self.t])
        self.ui = W.VBox([W.HBox([controls, self.message]), self.image, self.player])
        for w in (self.melody, self.schedule, self.beta_1, self.beta_T, self.T, self.t):
            w.observe(lambda _change: self.update(), names="value")
        self.update()

    # -- data ---------------------------------------------------------------------------------------

    @staticmethod
    def _label(m) -> str:
        name = str(getattr(m, "id", "melody")).split("/")[-1]
        return f"{name}: {str(getattr(m, 'title', ''))[:30]}"

    def _prepare(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Clean spectrogram x_0 (model units), STFT phase and fixed noise of melody i (cached)."""
        if i not in self._prepared:
            x0, phase = clean_excerpt(self._melodies[i], self._seconds, self._tempo)
            eps = np.random.default_rng(self._seed).standard_normal(x0.shape)
            self._prepared[i] = (x0, phase, eps)
        return self._prepared[i]

    # -- validation ---------------------------------------------------------------------------------

    def settings_error(self) -> str:
        """The problem with the current settings, or "" when they are valid."""
        kind = self.schedule.value
        if kind == "linear":
            for name, v in (("β₁", self.beta_1.value), ("β_T", self.beta_T.value)):
                if not 0 < v < 1:
                    return f"{name} = {v:.3g} is outside (0, 1): a step must keep some signal and add noise."
            if self.beta_1.value > self.beta_T.value:
                return (f"β₁ = {self.beta_1.value:.3g} exceeds β_T = {self.beta_T.value:.3g}: "
                        "the noise schedule must increase (Definition 21.8).")
        if self.T.value < 1:
            return f"T = {self.T.value}: need at least one step."
        if not 0 <= self.t.value <= self.T.value:
            return f"t = {self.t.value} is outside 0..T = 0..{self.T.value}: lower t or raise T."
        return ""

    # -- drawing ------------------------------------------------------------------------------------

    def _make_figure(self, x0: np.ndarray) -> None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10.5, 2.9), dpi=72)
        fig.subplots_adjust(left=0.05, right=0.99, bottom=0.17, top=0.86, wspace=0.3)
        ax_ab, ax_snr, ax_x = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.6]})
        (self._l_ab,) = ax_ab.plot([], [], color="C0", label=r"$\bar\alpha_t$")
        (self._l_1m,) = ax_ab.plot([], [], color="C1", label=r"$1-\bar\alpha_t$")
        ax_ab.set_ylim(-0.03, 1.03)
        ax_ab.set_xlabel("t")
        ax_ab.legend(loc="center right", fontsize=8)
        ax_ab.set_title("signal and noise power", fontsize=10)
        (self._l_snr,) = ax_snr.plot([], [], color="C2")
        ax_snr.set_xlabel("t")
        ax_snr.set_ylabel("dB")
        ax_snr.set_title(r"SNR$(t)=\bar\alpha_t/(1-\bar\alpha_t)$", fontsize=10)
        ax_snr.set_ylim(-60, 60)
        ax_snr.axhline(0, color="0.7", lw=0.8)
        self._im = ax_x.imshow(x0, origin="lower", aspect="auto", cmap="magma", vmin=-1, vmax=1,
                               extent=(0, x0.shape[1] * audio.HOP / audio.SR, 0, x0.shape[0]),
                               interpolation="nearest")
        self._title = ax_x.set_title("", fontsize=9)
        ax_x.set_xlabel("time (s)")
        ax_x.set_ylabel("mel band")
        self._ax_ab, self._ax_snr = ax_ab, ax_snr
        # redrawn on every update over the cached background (blitting)
        self._v_ab = ax_ab.axvline(0, color="k", lw=1, ls="--")
        self._v_snr = ax_snr.axvline(0, color="k", lw=1, ls="--")
        self._blit = BlitFigure(fig)
        self._blit.animate(self._v_ab, self._v_snr, self._im, self._title)
        self._curves_key = None

    def _render(self, x0, x_t, t, schedule: df.NoiseSchedule, curves_key) -> bytes:
        """PNG of the figure. The curves (and the cached background) are redrawn only when the
        schedule changes; moving t redraws only the markers, the image and its title."""
        if self._blit is None or self._im.get_array().shape != x0.shape:
            self._make_figure(x0)
        ab = schedule.alpha_bar
        if curves_key != self._curves_key:
            steps = np.arange(ab.size)
            self._l_ab.set_data(steps, ab)
            self._l_1m.set_data(steps, 1 - ab)
            with np.errstate(divide="ignore"):
                snr_db = 10 * np.log10(schedule.snr[1:])
            self._l_snr.set_data(steps[1:], np.clip(snr_db, -200, 200))
            for ax in (self._ax_ab, self._ax_snr):
                ax.set_xlim(0, max(ab.size - 1, 1))
            self._blit.invalidate()
            self._curves_key = curves_key
        for v in (self._v_ab, self._v_snr):
            v.set_xdata([t, t])
        self._im.set_data(np.clip(x_t, -1, 1))
        snr_t = "inf" if t == 0 else f"{10 * np.log10(schedule.snr[t]):.1f} dB"
        self._title.set_text(f"x_t, t = {t}:  √ᾱ_t = {np.sqrt(ab[t]):.3f},  "
                             f"√(1−ᾱ_t) = {np.sqrt(1 - ab[t]):.3f},  SNR {snr_t}")
        return self._blit.render()

    def update(self) -> None:
        """Recompute x_t for the current settings, redraw and re-render the sound; on invalid settings
        show the message and keep everything else."""
        cosine = self.schedule.value == "cosine"
        self.beta_1.disabled = self.beta_T.disabled = cosine
        problem = self.settings_error()
        if not problem:
            try:
                schedule = df.NoiseSchedule.make(self.schedule.value, int(self.T.value),
                                                  float(self.beta_1.value), float(self.beta_T.value))
            except ValueError as exc:  # anything the library rejects
                problem = str(exc)
        if problem:
            self.message.value = error_html(problem)
            return
        start = time.perf_counter()
        ab = schedule.alpha_bar
        t = int(self.t.value)
        x0, phase, eps = self._prepare(int(self.melody.value))
        self.x_t = schedule.q_sample(x0, t, eps)
        key = (self.schedule.value, int(self.T.value), float(self.beta_1.value), float(self.beta_T.value))
        self.image.value = self._render(x0, self.x_t, t, schedule, key)
        mid = time.perf_counter()
        y = spectro.unit_to_audio(self.x_t, phase=phase)
        self.sound = audio.encode_mp3(y)
        self.player.value = self.sound
        end = time.perf_counter()
        self.timings = {"picture": mid - start, "sound": end - mid}
        self.message.value = ok_html(f"ᾱ_t = {ab[t]:.4f}: x_t keeps {100 * np.sqrt(ab[t]):.1f}% of the "
                                     f"spectrogram's amplitude; noise std {np.sqrt(1 - ab[t]):.3f}.")
        self.last_audio = y

    def _repr_mimebundle_(self, **kwargs):
        return i18n.localize_widget(self.ui)._repr_mimebundle_(**kwargs)


def explorer_static(melodies: Sequence, ts: Sequence[int] = (0, 25, 100, 200, 300, 400, 500, 700, 1000),
                    seconds: float = 3.0):
    """The noise-schedule explorer's static counterpart (HTML frame player, no kernel needed): its
    picture and sound for each schedule (linear, cosine; T = 1000) and each t, precomputed by driving
    a real :class:`NoiseScheduleExplorer`.

    Notebook: notebooks/03_diffusion.ipynb
    """
    from m2d import static

    ex = NoiseScheduleExplorer(melodies[:1], seconds=seconds)

    def make(schedule: str, t: int) -> static.Frame:
        ex.schedule.value = schedule
        ex.t.value = int(t)
        return static.Frame(bytes(ex.image.value), ex.sound, caption=strip_tags(ex.message.value))

    params = {"schedule": ["linear", "cosine"], "t": list(ts)}
    return static.frame_player(params, static.render_frames(params, make), sliders=("t",),
                               title="Noise-schedule explorer (static version: schedule x t, T = 1000)")


def explorer_live(melody, seconds: float = 3.0, tempo: float = 120.0):
    """The noise-schedule explorer's live mode for the HTML book, beside :func:`explorer_static`:
    any schedule (linear with any beta_1 <= beta_T in (0, 1), or cosine), any T and t, computed in the
    reader's browser (src/m2d/js/schedule_explorer.js: the schedules, alpha_bar and q_sample of
    Theorem 21.4, with eps drawn in the page from a seed the reader sets) and played through the
    fast inversion with the clean phase (src/m2d/js/spectro.js).

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        melody (Melody): the excerpt's melody (as the static explorer's first)
        seconds, tempo (float): the excerpt (:func:`clean_excerpt`)
    Returns:
        widget (IPython.display.HTML)
    """
    import matplotlib
    from IPython.display import HTML

    from m2d import live

    x0, phase = clean_excerpt(melody, seconds, tempo)
    lut = np.round(matplotlib.colormaps["magma"](np.linspace(0, 1, 256))[:, :3] * 255).astype(int)
    config = {"x0": live.float32_b64(x0), "mels": int(x0.shape[0]), "frames": int(x0.shape[1]),
              "phase": base64.b64encode(live.quantize_phase(phase)).decode("ascii"),
              "bins": int(phase.shape[0]), "lut": lut.ravel().tolist(),
              "seconds": x0.shape[1] * audio.HOP / audio.SR}
    return HTML(live.widget_html("diffusion.explorer", config,
                                 ["live_common", "spectro", "schedule_explorer"],
                                 title="Noise-schedule explorer, live in this page"))


#: The live generator's sampler: DDIM steps offered, the default, and Griffin-Lim iterations for
#: its sound (few: the page inverts in plain JavaScript; benchmarks/live_bench.py measures them).
LIVE_MIN_STEPS, LIVE_MAX_STEPS, LIVE_DEFAULT_STEPS = 10, 50, 20
LIVE_GL_ITER = 16


def generate_live(model, config, clip, directory=None, width: int = 64):
    """Part III's live "generate" button for the HTML book: on its first press the page loads ONNX
    Runtime Web (``ort/ort-live.js``, shared by the book) and the trained U-Net exported by
    :func:`m2d.models.export.onnx_bytes` (a model script written into ``directory`` now), then each
    press draws x_T ~ N(0, I) in the page from the reader's seed and runs DDIM with 10..50 steps
    (:func:`m2d.models.sampling.ddim_sample`, the chapter's phrase sampler: eta =
    :data:`m2d.models.ddpm.BOOK_PHRASE_ETA`, x0_hat clipped to ``clip``), draws the 64 x ``width``
    spectrogram and plays it (Griffin-Lim in the page). The script is src/m2d/js/ddim_live.js.

    Notebook: notebooks/03_diffusion.ipynb
    Args:
        model (UNet): the chapter's trained U-Net
        config (DDPMConfig): its training configuration (the noise schedule)
        clip (tuple[float, float]): the clipping interval of x0_hat (:func:`m2d.models.ddpm.centred_clip`)
        directory (Path, str or None): where the model script goes; None:
            :func:`m2d.widgets.attention.live_directory` (the book build's ``_vendor/models``)
        width (int): frames, a positive multiple of 4 (the training patches' 64 by default)
    Returns:
        widget (IPython.display.HTML): the live section, or a note when there is no book build
    Raises:
        TypeError: not a U-Net
        ValueError: a width that is not a positive multiple of 4
    """
    import matplotlib
    from IPython.display import HTML

    from m2d import cache, live
    from m2d.models import ddpm, export
    from m2d.models.unet import UNet
    from m2d.widgets.attention import LIVE_MODELS, LIVE_RUNTIME, live_directory

    if not isinstance(model, UNet):
        raise TypeError(f"the live generator runs a UNet, got {type(model).__name__}")
    if int(width) != width or width <= 0 or width % 4:
        raise ValueError(f"width must be a positive multiple of 4, got {width}")
    directory = live_directory() if directory is None else directory
    if directory is None:
        return HTML("<p>(The live generator is part of the HTML book.)</p>")
    model.eval()
    name = f"unet-{cache.cache_key(export.export_key(model))}"
    blob = export.onnx_bytes(model, "unet")
    export.write_model_script(directory, name, blob, replaces="unet")
    lo, hi = sampling_clip = tuple(float(v) for v in clip)
    if not lo < hi:
        raise ValueError(f"clip must be (lo, hi) with lo < hi, got {clip}")
    lut = np.round(matplotlib.colormaps["magma"](np.linspace(0, 1, 256))[:, :3] * 255).astype(int)
    schedule = config.noise_schedule()
    cfg = {"runtime": LIVE_RUNTIME, "model": f"{LIVE_MODELS}/{name}.js", "model_name": name,
           "root": "../", "mels": audio.N_MELS, "width": int(width), "T": int(schedule.T),
           "alpha_bar": [float(v) for v in schedule.alpha_bar], "clip": list(sampling_clip),
           "eta": float(ddpm.BOOK_PHRASE_ETA), "min_steps": LIVE_MIN_STEPS,
           "max_steps": LIVE_MAX_STEPS, "default_steps": LIVE_DEFAULT_STEPS, "gl_iter": LIVE_GL_ITER,
           "lut": lut.ravel().tolist(), "seconds": int(width) * audio.HOP / audio.SR}
    return HTML(live.widget_html("diffusion.generator", cfg,
                                 ["live_common", "spectro", "schedule_explorer", "ddim_live"],
                                 title="Generate: DDIM with the trained U-Net, live in this page",
                                 label_on="Try it live: generate in your browser (loads a 5 MB "
                                          f"runtime and the {len(blob) / 1e6:.1f} MB U-Net once)"))


class PixelDiffusionExample(WorkedExample):
    """One pixel x0 under the forward process: x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps
    (Theorem 21.4, Example 21.2); a histogram of many draws against the predicted Gaussian."""

    BINS = 80
    STATIC_CONTROL, STATIC_VALUES = "t", (0, 1, 10, 50, 100, 250, 500, 750, 1000)
    STATIC_TITLE = "One pixel under the forward process"

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
        betas = df.linear_beta_schedule(self.T.value, self.beta_start.value, self.beta_end.value)
        self.alpha_bar = df.alpha_bars(betas)
        rng = as_generator(self.rng)
        x0 = np.full(self.draws, self.x0.value)
        self.samples = df.q_sample(x0, self.t.value, self.alpha_bar, rng.standard_normal(self.draws))
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
