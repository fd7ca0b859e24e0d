"""Interactive widgets (ipywidgets), thin layers over the library's pure functions.

One submodule per idea: :mod:`m2d.widgets.markov`, :mod:`m2d.widgets.attention` and
:mod:`m2d.widgets.diffusion` (each with its explorer and its worked example of chapter 4), and
:mod:`m2d.widgets._common` (messages, matrix text, blitting, the worked-example base). Every
widget exposes its controls as attributes and an ``update()`` that tests can drive without a
browser; invalid input shows a message beside the controls and keeps the user's edit.
"""

import os


def live_widgets() -> bool:
    """False while the HTML book is being built (``M2D_HTML_BUILD=1``, set by ``make book``).

    A live ipywidget cannot run in a static page; there its precomputed counterpart
    (:mod:`m2d.static`) stands in, so chapters create the live widget only when this is True
    (Jupyter, Binder, Colab, the test suite) and the page does not carry its dead state.
    """
    return not os.environ.get("M2D_HTML_BUILD")
