"""Argument checks at the library's boundary: one place for the messages a careless or curious
reader gets. Each check names the argument and the value it was given, and returns the value in
the form the caller computes with; nothing non-finite, complex or of the wrong kind gets past one.

Notebook: every chapter (the library's public functions call these)
"""

from __future__ import annotations

import numbers

import numpy as np


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def real(name: str, value, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number (not bool, not complex) within the given bounds, as a float.

    Raises:
        TypeError: not a real number (bool, complex, text, None, ...)
        ValueError: NaN, infinite, or outside [low, high] (open ends when ``*_open``)
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating,
                                                                       np.integer)):
        raise TypeError(f"{name} must be a real number, got {_show(value)}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v}")
    too_low = low is not None and (v < low or (low_open and v == low))
    too_high = high is not None and (v > high or (high_open and v == high))
    if (too_low or too_high) and low is not None and high is not None:
        raise ValueError(f"{name} = {v:g} is outside {'(' if low_open else '['}{low:g}, "
                         f"{high:g}{')' if high_open else ']'}")
    if too_low:
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {v:g}")
    if too_high:
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high:g}, got {v:g}")
    return v


def integer(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """An integer (Python or numpy, not bool, not a float) within [low, high], as an int.

    Raises:
        TypeError: not an integer (a float such as 3.0 included: counts are counted, not measured)
        ValueError: outside [low, high]
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {_show(value)}")
    v = int(value)
    if low is not None and v < low:
        raise ValueError(f"{name} must be >= {low}, got {v}")
    if high is not None and v > high:
        raise ValueError(f"{name} must be <= {high}, got {v}")
    return v


def real_array(name: str, value, *, ndim: int | None = None, min_ndim: int | None = None,
               finite: bool = True) -> np.ndarray:
    """A real numeric array (float64 copy): no complex numbers (their imaginary part would be
    dropped silently), no text or objects, and with ``finite`` no NaN or inf.

    Raises:
        TypeError: complex, boolean-free non-numeric or ragged input
        ValueError: the wrong number of dimensions, a non-finite entry (its index named)
    """
    try:
        a = np.asarray(value)
    except ValueError:
        raise TypeError(f"{name} must be a rectangular array of numbers, got {_show(value)}") from None
    if np.iscomplexobj(a):
        raise TypeError(f"{name} must be real, got complex values")
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise TypeError(f"{name} must be numeric, got {_show(value)} (dtype {a.dtype})")
    a = a.astype(float)
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {a.shape}")
    if min_ndim is not None and a.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {a.shape}")
    if finite:
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            if a.ndim == 0:
                raise ValueError(f"{name} must be finite, got {a[()]}")
            idx = tuple(int(i) for i in np.unravel_index(bad[0], a.shape))
            raise ValueError(f"{name} must be finite; entry {idx if a.ndim > 1 else idx[0]} is "
                             f"{a[idx]}")
    return a


def state(name: str, value, n_states: int) -> int:
    """A state index 0..n_states-1 (an integer, not a float that would be truncated).

    Raises:
        TypeError: not an integer; ValueError: outside 0..n_states-1 (negative indices included:
        -1 is not "the last state" here)
    """
    return integer(name, value, low=0, high=n_states - 1)


def state_sequence(name: str, value, n_states: int) -> np.ndarray:
    """A 1-D sequence of state indices 0..n_states-1 as int64. Whole-numbered floats (2.0) are
    taken; any other float (2.7) is refused rather than truncated to a different state.

    Raises:
        TypeError: not numeric, or a state that is not a whole number
        ValueError: not 1-D, or a state outside 0..n_states-1 (its position named)
    """
    a = real_array(name, value, ndim=1)
    frac = np.flatnonzero(a != np.round(a))
    if frac.size:
        raise TypeError(f"{name} must hold whole-numbered states; entry {int(frac[0])} is "
                        f"{a[frac[0]]}")
    out = np.flatnonzero((a < 0) | (a >= n_states))
    if out.size:
        raise ValueError(f"{name}: states must lie in 0..{n_states - 1}; entry {int(out[0])} is "
                         f"{a[out[0]]:g}")
    return a.astype(np.int64)
