"""m2d: the small library behind *From Markov to Diffusion* (the companion book to EP21).

One module per idea, named for the idea (import them explicitly; ``import m2d`` stays light and
never loads torch). The map, from the ground up:

Music and sound
- :mod:`m2d.pitch`      pitch classes in Z12, note names, MIDI numbers, voicing a pitch-class line.
- :mod:`m2d.corpus`     real melodies from the corpus bundled with music21 (no download), splits.
- :mod:`m2d.audio`      the additive synthesizer, mel-spectrograms and their inversion (librosa).
- :mod:`m2d.spectro`    8-bit log-mel patches and phrases of the chorales on the SoundFont organ
                        (Part III's data), fast inversion, feature distance, the sound of patches.
- :mod:`m2d.tokens`     k-means audio tokens of log-mel frames: encode, decode, rate-distortion.
- :mod:`m2d.notation`   scores: melodies and chorales as music21 scores, Verovio SVG, MIDI/MusicXML.
- :mod:`m2d.soundfont`  real instruments: notes rendered through a General MIDI SoundFont.
- :mod:`m2d.melody_stats` what a melody does, counted: intervals, range, note values.
- :mod:`m2d.motif`      motifs as a reader types them (``C4/8 E4/8 G4/4.``): parse and write.

Mathematics
- :mod:`m2d.stochastic` row-stochastic matrices (Definition 21.2): validation, normalising,
                        total variation, editing one row.
- :mod:`m2d.markov`     Markov chains (Definitions 21.1-21.4, Theorems 21.1-21.2): ``MarkovChain``
                        with cached structure, stationary distribution, mixing, sampling.
- :mod:`m2d.transposition`  Z12 as a group: transposition-invariant chains are circulant, their
                        eigenvalues the DFT of the interval distribution (Theorem 21.7).
- :mod:`m2d.example_chains`  the book's example chains (Illiac-style, stepwise, fifths, reducible,
                        the toy {C, E, G} chain, Example 21.1's pentatonic chain).
- :mod:`m2d.ngram`      chains estimated from corpora: k-th order counts (``NGramModel``), the
                        order sweep of Proposition 21.1, bits per note, copying measures, style.
- :mod:`m2d.note_chain` chains of notes: pitch with octave and duration (joint vs factored).
- :mod:`m2d.attention`  softmax attention as a content-dependent stochastic matrix (Part II) and
                        its quadratic cost, measured and in bytes.
- :mod:`m2d.diffusion`  DDPM on numpy arrays, a package: ``schedule`` (``NoiseSchedule``,
                        Definitions 21.8-21.9), ``forward`` (Theorems 21.4-21.5), ``reverse``
                        (Definition 21.10, the ELBO), ``score`` (Definition 21.11, Theorem 21.6).
- :mod:`m2d.models`     the small torch models (transformer, lstm, melody_lm, unet, ddpm, sampling,
                        code_lm, neural_ngram, common, shipped: weights trained past the build).

Showing it
- :mod:`m2d.plotting`   piano rolls, matrix heatmaps, probability bars, patch grids, the timeline
                        (libfmp convention: ``ax=None`` makes the figure; ``(fig, ax, artist)``).
- :mod:`m2d.players`    embedded audio players (MP3 data URIs), the listen check, score players
                        (score + sound + MIDI/MusicXML downloads).
- :mod:`m2d.tables`     Markdown tables and numbers for readers.
- :mod:`m2d.history`    the timeline 1906-2025 as data.
- :mod:`m2d.systems`    the map of today's music generators (open or closed x tokens or
                        continuous) as data; its figure is ``plotting.plot_systems_map``.
- :mod:`m2d.widgets`    the ipywidgets; :mod:`m2d.static` their kernel-free frame players.

Infrastructure
- :mod:`m2d.checks`     argument checks at the boundary: the messages a reader gets.
- :mod:`m2d.cache`      the versioned on-disk cache: keys, content fingerprints, arrays, timings.
- :mod:`m2d.rng`        the ``rng`` convention (an integer seed or a numpy Generator).
- :mod:`m2d.threads`    thread limits for small work on a shared machine.
"""

__version__ = "0.1.0"
