"""Tests of the shared input checks (radonsolve._validation)."""

import numpy as np
import pytest

from radonsolve._validation import (check_alpha, check_data, check_positive_int,
                                    normalized_weights)


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf, "1", None, True, [1.0]])
def test_check_alpha_rejects(bad):
    with pytest.raises(ValueError, match="alpha"):
        check_alpha(bad)


def test_check_alpha_accepts_and_names():
    assert check_alpha(0) == 0.0 and isinstance(check_alpha(np.float32(2.5)), float)
    with pytest.raises(ValueError, match="tol"):
        check_alpha(-1, name="tol")


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "4", None])
def test_check_positive_int_rejects(bad):
    with pytest.raises(ValueError, match="max_rounds must be a positive integer"):
        check_positive_int(bad, "max_rounds")


def test_check_positive_int_accepts_numpy_ints():
    assert check_positive_int(np.int64(7), "n") == 7


def test_normalized_weights():
    X = np.zeros((4, 2))
    np.testing.assert_allclose(normalized_weights(None, X), 0.25)
    w = np.array([1.0, 3.0, 0.0, 4.0])
    u = normalized_weights(w, X)
    np.testing.assert_allclose(u, w / 8.0)
    np.testing.assert_array_equal(w, [1.0, 3.0, 0.0, 4.0])      # not modified in place
    # huge finite weights are weights like any others (their sum would overflow)
    np.testing.assert_allclose(normalized_weights(w * 1e307, X), w / 8.0)
    for bad, msg in (([0, 0, 0, 0], "non-zero|positive"), ([1, -1, 1, 1], "(?i)negative"),
                     ([1, 2, 3], "shape|length|samples"), ([1, np.nan, 1, 1], "NaN")):
        with pytest.raises(ValueError, match=msg):
            normalized_weights(np.array(bad, dtype=float), X)


def test_check_data():
    X, y = check_data([[1, 2], [3, 4]], [[1.0], [2.0]])
    assert X.dtype == np.float64 and y.shape == (2,)
    with pytest.raises(ValueError, match="NaN|infinity"):
        check_data([[np.nan, 1.0]], [1.0])
    with pytest.raises(ValueError):
        check_data([[1.0, 2.0]], [1.0, 2.0])
