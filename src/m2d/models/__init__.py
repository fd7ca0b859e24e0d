"""Small torch models trained on CPU for the book (Parts II and III), with cached weights.

Submodules (import them explicitly; ``import m2d.models`` does not load torch):

- :mod:`m2d.models.common`        seeding, ``TrainConfig``, the shared training loop, the weight cache,
                                  parameter counts.
- :mod:`m2d.models.melody_lm`     token layout, input embeddings and scoring shared by the Part II
                                  melody models; continuing a melody with any of them.
- :mod:`m2d.models.transformer`   a small relative-attention Music Transformer (Part II).
- :mod:`m2d.models.lstm`          the LSTM baseline (Part II).
- :mod:`m2d.models.unet`          the epsilon-prediction U-Net (Part III).
- :mod:`m2d.models.ddpm`          L_simple training, held-out loss and the ELBO of a trained model
                                  (Part III).
- :mod:`m2d.models.sampling`      DDPM, DDIM and inpainting on one reverse step; the samplers
                                  compared (Limit 3).
- :mod:`m2d.models.code_lm`       the Transformer over audio-token codes (tokens vs continuous).
- :mod:`m2d.models.shipped`       weights trained past the build's budget (``make train``), shipped
                                  with a manifest; loaded only while the config hash matches.
- :mod:`m2d.models.neural_ngram`  a k-gram with learned note embeddings against count chains (Limit 1).
"""
