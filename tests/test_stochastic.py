"""Row-stochastic matrices (Definition 21.2): validation with messages that name the problem,
normalising weights, total variation, editing one row."""

import numpy as np
import pytest

from m2d import example_chains as ex
from m2d import stochastic as st


@pytest.mark.parametrize("P,msg", [
    ([[0.5, 0.5]], "square"),
    ([0.5, 0.5], "2-D"),
    ([[0.5, 0.6], [0.5, 0.5]], r"row 0 sums to 1\.1"),
    ([[1.0, 0.0], [0.3, 0.3]], r"row 1 sums to 0\.6"),
    ([[1.2, -0.2], [0.5, 0.5]], r"negative entry P\[0, 1\] = -0\.2"),
    ([[np.nan, 1.0], [0.5, 0.5]], r"P\[0, 0\] is nan"),
    ([[np.inf, 0.0], [0.5, 0.5]], r"P\[0, 0\] is inf"),
    ([["a", "b"], ["c", "d"]], "numbers"),
    (np.zeros((0, 0)), "empty"),
])
def test_check_stochastic_rejects_with_message(P, msg):
    with pytest.raises(ValueError, match=msg):
        st.check_stochastic(P)


def test_check_stochastic_accepts_and_copies():
    P = [[0.2, 0.3, 0.5], [0.1, 0.3, 0.6], [0.3, 0.1, 0.6]]
    A = st.check_stochastic(P)
    assert A.dtype == float and A.shape == (3, 3)


def test_normalize_rows_errors():
    with pytest.raises(ValueError, match="all zeros"):
        st.normalize_rows([[1, 1], [0, 0]])
    with pytest.raises(ValueError, match="negative"):
        st.normalize_rows([[1, -1], [1, 1]])


def test_tv_distance():
    assert st.tv_distance([1, 0], [0, 1]) == 1.0
    assert st.tv_distance([0.5, 0.5], [0.5, 0.5]) == 0.0


def test_edit_row_changes_one_row_only():
    P = ex.stepwise_matrix(0.5)
    new = np.zeros(12)
    new[6] = 2.0
    Q = st.edit_row(P, 0, new)
    st.check_stochastic(Q)
    assert Q[0, 6] == 1.0
    np.testing.assert_array_equal(Q[1:], P[1:])
    assert P[0, 6] == 0.0  # the input is not modified
    with pytest.raises(ValueError, match="12 entries"):
        st.edit_row(P, 0, np.ones(5))
    with pytest.raises(ValueError, match="not all zero"):
        st.edit_row(P, 0, np.zeros(12))
    with pytest.raises(ValueError, match="non-negative"):
        st.edit_row(P, 0, -np.ones(12))
    with pytest.raises(ValueError, match="row index"):
        st.edit_row(P, 12, np.ones(12))
