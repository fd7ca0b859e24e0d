"""Interactive widgets (ipywidgets), thin layers over the library's pure functions.

One submodule per chapter: :mod:`m2d.widgets.markov` (Part I), and the Part II/III explorers. Every
widget exposes its controls as attributes and an ``update()`` that tests can drive without a
browser; invalid input shows a message beside the controls and keeps the user's edit.
"""
