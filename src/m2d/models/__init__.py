"""Small torch models trained on CPU for the book (Parts II and III), with cached weights.

Submodules (import them explicitly; ``import m2d.models`` does not load torch):

- :mod:`m2d.models.common`        seeding, the shared training loop and the versioned weight cache.
- :mod:`m2d.models.melody_lm`     token layout and training loop shared by the Part II models.
- :mod:`m2d.models.transformer`   a small relative-attention Music Transformer (Part II).
- :mod:`m2d.models.lstm`          the LSTM baseline (Part II).
- :mod:`m2d.models.unet`          the epsilon-prediction U-Net (Part III).
- :mod:`m2d.models.ddpm`          L_simple training, DDPM/DDIM samplers, the ELBO (Part III).
- :mod:`m2d.models.code_lm`       the Transformer over audio-token codes (landscape chapter).
- :mod:`m2d.models.neural_ngram`  a k-gram with learned note embeddings (landscape chapter).
"""
