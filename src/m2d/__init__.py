"""m2d: the small library behind *From Markov to Diffusion* (the companion book to EP21).

Modules, one per idea (import them explicitly; ``import m2d`` stays light and never loads torch):

- :mod:`m2d.markov`     Part I   -- Markov chains on the 12 pitch classes (Definitions 21.1-21.4).
- :mod:`m2d.attention`  Part II  -- softmax attention as a content-dependent stochastic matrix.
- :mod:`m2d.diffusion`  Part III -- DDPM forward/reverse processes and score matching.
- :mod:`m2d.audio`      synthesis, mel-spectrograms and their inversion (librosa).
- :mod:`m2d.corpus`     real melodies from the corpus bundled with music21 (no download).
- :mod:`m2d.plotting`   piano rolls and matrix heatmaps shared by the chapters.
- :mod:`m2d.cache`      the versioned on-disk cache for slow work (corpus extraction, training).
"""

__version__ = "0.1.0"
