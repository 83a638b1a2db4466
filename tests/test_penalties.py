"""Tests of the group l1 penalty (radonsolve.penalties)."""

import numpy as np
import pytest

from radonsolve.penalties import GroupL1


@pytest.mark.parametrize("T", [1, 3])
def test_prox_is_the_minimizer(T):
    # prox_{s g}(V) = argmin_Z 0.5 ||Z - V||^2 + s g(Z): check the optimality condition
    # row by row and that no random perturbation does better.
    rng = np.random.default_rng(0)
    pen = GroupL1(0.7)
    V = rng.standard_normal((30, T)) * rng.uniform(0, 2, (30, 1))
    step = 0.9
    Z = pen.prox(V, step)

    def f(Zx):
        return 0.5 * np.sum((Zx - V) ** 2) + step * pen.value(Zx)
    for _ in range(200):
        assert f(Z) <= f(Z + 1e-3 * rng.standard_normal(Z.shape)) + 1e-15
    thr = step * pen.alpha
    nV = np.linalg.norm(V, axis=1)
    np.testing.assert_array_equal(np.linalg.norm(Z, axis=1) == 0, nV <= thr)
    live = nV > thr
    np.testing.assert_allclose(Z[live], V[live] * (1 - thr / nV[live])[:, None], rtol=1e-13)


def test_value_dual_norm_and_row_norms():
    pen = GroupL1(2.0)
    V = np.array([[3.0, 4.0], [0.0, 0.0], [-1.0, 0.0]])
    assert pen.value(V) == pytest.approx(2.0 * (5.0 + 0.0 + 1.0))
    assert pen.dual_norm(V) == pytest.approx(5.0)
    np.testing.assert_allclose(pen.row_norms(V), [5.0, 0.0, 1.0])
    # one output: the l1 norm and the max-abs dual norm, including an all-negative column
    c = np.array([[-3.0], [2.0], [-0.5]])
    assert pen.value(c) == pytest.approx(2.0 * 5.5)
    assert pen.dual_norm(c) == 3.0
    assert pen.dual_norm(-np.abs(c)) == 3.0
    np.testing.assert_allclose(pen.row_norms(c), [3.0, 2.0, 0.5])
    assert pen.dual_norm(np.zeros((0, 2))) == 0.0


def test_dual_norm_is_the_dual_of_the_penalty():
    # <C, V> <= dual_norm(C) * sum_j ||V_j||, with equality attained.
    rng = np.random.default_rng(1)
    pen = GroupL1(1.0)
    C = rng.standard_normal((20, 3))
    for _ in range(100):
        V = rng.standard_normal((20, 3))
        assert np.sum(C * V) <= pen.dual_norm(C) * pen.value(V) + 1e-12
    j = np.argmax(np.linalg.norm(C, axis=1))
    V = np.zeros_like(C)
    V[j] = C[j] / np.linalg.norm(C[j])
    assert np.sum(C * V) == pytest.approx(pen.dual_norm(C) * pen.value(V))


def test_one_output_vectors_and_no_atoms():
    # A coefficient or correlation vector is one output; the value and the dual norm are
    # those of its (n, 1) column, and an empty or absent set of atoms gives 0.
    pen = GroupL1(0.3)
    v = np.array([1.5, -2.0, 0.0, 0.25])
    assert pen.value(v) == pytest.approx(pen.value(v[:, None]), rel=1e-15)
    assert pen.value(v) == pytest.approx(0.3 * 3.75, rel=1e-15)
    assert pen.dual_norm(v) == pen.dual_norm(v[:, None]) == 2.0
    assert pen.value(np.zeros(0)) == 0.0 and pen.value(np.zeros((0, 3))) == 0.0
    assert pen.dual_norm(None) == 0.0 and pen.dual_norm(np.zeros(0)) == 0.0
