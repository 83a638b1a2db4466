"""Tests of the solvers' shared result and warm-start normalization (radonsolve.solvers.result)."""

import numpy as np

from radonsolve.solvers.result import merge_warm_start


def test_merge_warm_start_sums_repeated_atoms_and_sorts():
    idx, V = merge_warm_start(([7, 2, 7, 5], [[1.0, 2.0], [3.0, 4.0], [0.5, -2.0], [0.0, 1.0]]), 2)
    np.testing.assert_array_equal(idx, [2, 5, 7])
    np.testing.assert_allclose(V, [[3.0, 4.0], [0.0, 1.0], [1.5, 0.0]])
    assert idx.dtype == np.int64


def test_merge_warm_start_one_output_and_empty():
    idx, V = merge_warm_start((np.array([4, 1]), np.array([2.0, -1.0])), 1)
    np.testing.assert_array_equal(idx, [1, 4])
    np.testing.assert_allclose(V, [[-1.0], [2.0]])
    for empty in (None, ([], [])):
        idx, V = merge_warm_start(empty, 3)
        assert idx.shape == (0,) and V.shape == (0, 3)


def test_merge_warm_start_does_not_modify_its_input():
    idx0 = np.array([3, 3])
    V0 = np.array([[1.0], [2.0]])
    merge_warm_start((idx0, V0), 1)
    np.testing.assert_array_equal(idx0, [3, 3])
    np.testing.assert_array_equal(V0, [[1.0], [2.0]])
