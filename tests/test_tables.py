import pytest

from m2d import tables


def test_markdown_table_has_one_line_per_row_and_escapes_pipes():
    t = tables.markdown_table(["a", "b"], [[1, "x|y"], [2.5, "z"]]).data
    lines = t.splitlines()
    assert lines[0] == "| a | b |" and lines[1] == "|---|---|"
    assert lines[2] == "| 1 | x\\|y |" and len(lines) == 4
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        tables.markdown_table(["a", "b"], [[1]])
    with pytest.raises(ValueError, match="header"):
        tables.markdown_table([], [])


def test_format_bytes():
    assert tables.format_bytes(512) == "512 B"
    assert tables.format_bytes(1536) == "1.5 KiB"
    assert tables.format_bytes(3 * 2**30) == "3.0 GiB"
    assert tables.format_bytes(5 * 2**50) == "5,120.0 TiB"
    with pytest.raises(ValueError):
        tables.format_bytes(-1)
    with pytest.raises(ValueError):
        tables.format_bytes(float("nan"))


def test_mean_spread():
    import numpy as np

    d = [1.0, 2.0, 3.0]
    assert tables.mean_spread(d) == f"2.0 ± {np.std(d):.1f} (3 sets)"
    assert tables.mean_spread([4.25], "run", digits=2) == "4.25 (one run)"
    with pytest.raises(ValueError):
        tables.mean_spread([])
    with pytest.raises(ValueError):
        tables.mean_spread([1.0, float("inf")])
