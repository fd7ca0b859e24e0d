"""Tables and numbers for readers: Markdown tables of already formatted cells, byte counts, and
numbers bound to the prose (:func:`glue`).

Notebook: notebooks/02_attention.ipynb, notebooks/05_landscape.ipynb
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]):
    """A Markdown table (shown as a table by Jupyter and in the HTML book) from a header and rows
    of already formatted cells.

    Notebook: notebooks/02_attention.ipynb, notebooks/05_landscape.ipynb
    Args:
        header (sequence of str): column titles
        rows (sequence of sequences): one row per line; cells are turned into text with ``str``
    Returns:
        table (IPython.display.Markdown)
    Raises:
        ValueError: empty header, or a row with another number of cells than the header
    """
    from IPython.display import Markdown

    header = [str(h) for h in header]
    if not header:
        raise ValueError("header is empty: a table needs at least one column")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, r in enumerate(rows):
        cells = [str(c).replace("|", "\\|") for c in r]
        if len(cells) != len(header):
            raise ValueError(f"row {i} has {len(cells)} cells, the header {len(header)}")
        lines.append("| " + " | ".join(cells) + " |")
    return Markdown("\n".join(lines))


def format_bytes(n_bytes: float) -> str:
    """A byte count in binary units, e.g. 1536 -> "1.5 KiB", 3 * 2**30 -> "3.0 GiB".

    Notebook: notebooks/05_landscape.ipynb
    Raises:
        ValueError: negative or non-finite
    """
    b = float(n_bytes)
    if not math.isfinite(b) or b < 0:
        raise ValueError(f"byte count must be finite and >= 0, got {n_bytes}")
    if b < 1024:
        return f"{b:,.0f} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        b /= 1024
        if b < 1024 or unit == "TiB":
            break
    return f"{b:,.1f} {unit}"


def mean_spread(values, noun: str = "set", digits: int = 1) -> str:
    """Mean and standard deviation of repeated measurements as a table cell:
    ``"12.3 ± 0.4 (10 sets)"``, or ``"12.3 (one set)"`` for a single value.

    Notebook: notebooks/05_landscape.ipynb
    Raises:
        ValueError: no values, or a value that is not finite
    """
    import numpy as np

    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError(f"values must be non-empty and finite, got {values!r}")
    if v.size == 1:
        return f"{v[0]:.{digits}f} (one {noun})"
    return f"{v.mean():.{digits}f} ± {v.std():.{digits}f} ({v.size} {noun}s)"


def glue(name: str, value: Any, zh: str | None = None) -> Any:
    """Bind a computed number to the prose: ``{glue:text}`name``` (or ``{glue:text}`name:.2f```)
    in a Markdown cell shows ``value`` as this execution computed it, so text and output cannot
    disagree (myst-nb's ``glue``, not displayed in the cell). Where myst-nb is not installed (a
    plain Colab runtime) nothing is recorded and the value is simply returned.

    A value that is words, not a number, needs its own words in the Chinese edition: ``zh`` is
    glued as ``<name>_zh``, which the zh page quotes instead (its code cells are the English ones,
    so one execution serves both editions).

    Notebook: every chapter whose prose quotes a computed number
    Args:
        name (str): the key the prose uses (letters, digits, ``_``)
        value: a number or short text
        zh (str or None): the Chinese words for a text value
    Returns:
        value: unchanged
    Raises:
        ValueError: a name that is not an identifier
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"glue name must be an identifier, got {name!r}")
    try:
        from myst_nb import glue as _glue
    except ImportError:  # pragma: no cover - outside the book's build environment
        return value
    _glue(name, value, display=False)
    if zh is not None:
        _glue(f"{name}_zh", zh, display=False)
    return value
