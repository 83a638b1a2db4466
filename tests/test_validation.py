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


def test_naming_prefixes_keeps_type_and_leaves_named_messages():
    from radonsolve._validation import naming

    with pytest.raises(TypeError, match=r"^Invalid X: bad type$"):
        with naming("X"):
            raise TypeError("bad type")
    with pytest.raises(ValueError, match=r"^Input y contains NaN\.$"):
        with naming("y"):
            raise ValueError("Input y contains NaN.")
    # a quoted data value equal to the name is not the name
    with pytest.raises(ValueError, match=r"^Invalid X: could not convert string to float: 'X'$"):
        with naming("X"):
            np.asarray(["X"], dtype=float)


def test_as_float_array_and_check_finite():
    from radonsolve._validation import as_float_array, check_finite

    a = np.arange(3)
    out = as_float_array(a, "x")
    assert out.dtype == np.float64 and a.dtype.kind == "i"
    np.testing.assert_array_equal(as_float_array(np.array([1, 2.5], dtype=object), "x"),
                                  [1.0, 2.5])
    for bad, msg in ((["1", "2"], "x must contain numbers"), (np.array([1 + 2j]), "x must be real"),
                     (np.array([1, 2j], dtype=object), "x must be real"),
                     (np.array([1, "a"], dtype=object), "Invalid x: could not convert"),
                     ([[1.0], [2.0, 3.0]], "Invalid x: ")):
        with pytest.raises(ValueError, match=msg):
            as_float_array(bad, "x")
    with pytest.raises(TypeError, match=r"Invalid x: float\(\) argument"):
        as_float_array(np.array([{}], dtype=object), "x")
    with pytest.raises(ValueError, match="q must be finite; it contains NaN"):
        check_finite(np.array([1.0, np.nan, np.inf]), "q")
    with pytest.raises(ValueError, match="q must be finite; it contains infinity"):
        check_finite(np.array([1.0, -np.inf]), "q")


def test_check_X_y_names_each_argument():
    from radonsolve._validation import check_X_y

    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="X has 4, y has 3"):
        check_X_y(X, np.zeros(3))
    with pytest.raises(ValueError, match="y must contain numbers"):
        check_X_y(X, ["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="Invalid X: Found array with dim 3"):
        check_X_y(np.zeros((4, 2, 1)), np.zeros(4))
    with pytest.raises(ValueError, match="Invalid y: Unknown label type: continuous"):
        check_X_y(X, np.linspace(0, 1, 4), classifier=True)
    Xc, yc = check_X_y(X, ["a", "b", "a", "b"], classifier=True)
    assert yc.dtype.kind == "U" and Xc.dtype == np.float64
    Xi, yi = check_X_y(np.ones((4, 2), dtype=np.int32), np.array([True, False] * 2))
    assert Xi.dtype == np.float64 and yi.dtype == np.float64


def test_normalized_weights_messages_name_sample_weight():
    X = np.zeros((3, 1))
    for bad, msg in ((np.ones((3, 2)), "Invalid sample_weight: "),
                     (["a", "b", "c"], "sample_weight must contain numbers"),
                     (np.zeros(3), "sample_weight"), (np.array([1.0, np.inf, 1.0]),
                                                      "Input sample_weight contains infinity")):
        with pytest.raises(ValueError, match=msg):
            normalized_weights(bad, X)
    np.testing.assert_allclose(normalized_weights(2.0, X), 1 / 3)
