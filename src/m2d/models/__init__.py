"""Small torch models trained on CPU for the book (Parts II and III), with cached weights.

Submodules (import them explicitly; ``import m2d.models`` does not load torch):

- :mod:`m2d.models.common`  seeding, the versioned weight cache, device/threads settings.

Chapters add their own modules here (e.g. a decoder-only Transformer and an LSTM for Part II, an
epsilon-prediction U-Net for Part III).
"""
