"""m2d: the small library behind *From Markov to Diffusion* (the companion book to EP21).

Modules, one per idea (import them explicitly; ``import m2d`` stays light and never loads torch):

- :mod:`m2d.markov`     Part I   -- Markov chains on the 12 pitch classes (Definitions 21.1-21.4).
- :mod:`m2d.attention`  Part II  -- softmax attention as a content-dependent stochastic matrix.
- :mod:`m2d.diffusion`  Part III -- DDPM forward/reverse processes and score matching.
- :mod:`m2d.audio`      synthesis, mel-spectrograms and their inversion (librosa).
- :mod:`m2d.corpus`     real melodies from the corpus bundled with music21 (no download).
- :mod:`m2d.spectro`    spectrogram patches for Part III (and fast inversion for widgets).
- :mod:`m2d.tokens`     k-means audio tokens of log-mel frames (the landscape chapter).
- :mod:`m2d.landscape`  tokens vs continuous comparisons, inpainting, control demos.
- :mod:`m2d.static`     kernel-free frame players that stand in for widgets in the HTML book.
- :mod:`m2d.history`    the timeline 1906-2024 and its figure.
- :mod:`m2d.plotting`   piano rolls and matrix heatmaps shared by the chapters.
- :mod:`m2d.cache`      the versioned on-disk cache for slow work (corpus extraction, training).
- :mod:`m2d.models`     the small torch models; :mod:`m2d.widgets` the ipywidgets.
"""

__version__ = "0.1.0"
