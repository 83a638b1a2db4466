"""Tests of the projected lasso (radonsolve.lasso) against its dense definition (DESIGN §4)."""

import numpy as np
import pytest

from radonsolve.dictionary import ReLUDictionary
from radonsolve.directions import spread_directions
from radonsolve.lasso import ProjectedLasso, alpha_max_from_dictionary, dual_objective


def setup(T=1, seed=0, n=50, d=2):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, d))
    Y = np.column_stack([np.sin(3 * X[:, 0]), X.sum(axis=1) ** 2, np.cos(X[:, 1])])[:, :T]
    u = rng.uniform(0.5, 2.0, n)
    u /= u.sum()
    dic = ReLUDictionary(X, spread_directions(6, d, random_state=0))
    return X, Y, u, dic


def dense_pieces(X, Y, u, dic):
    """b and G from their definitions: weighted least squares off the affine functions."""
    Phi = dic.columns(np.arange(dic.n_atoms))
    su = np.sqrt(u)
    A = su[:, None] * np.column_stack([np.ones(len(X)), X])
    Q, _ = np.linalg.qr(A)
    P = np.eye(len(X)) - Q @ Q.T
    return P @ (su[:, None] * Y), P @ (su[:, None] * Phi)


@pytest.mark.parametrize("T", [1, 3])
def test_projected_pieces_match_dense_definitions(T):
    X, Y, u, dic = setup(T)
    pb = ProjectedLasso(dic, Y, u, 0.01)
    b, G = dense_pieces(X, Y, u, dic)
    np.testing.assert_allclose(pb.b, b, atol=1e-12)
    idx = np.array([0, 5, 17, dic.n_atoms - 1])
    np.testing.assert_allclose(pb.projected_columns(idx), G[:, idx], atol=1e-12)
    V = np.random.default_rng(1).standard_normal((len(idx), T))
    rho = pb.residual(idx, V)
    np.testing.assert_allclose(rho, b - G[:, idx] @ V, atol=1e-12)
    # correlations through the structured operator equal G^T rho
    np.testing.assert_allclose(pb.correlations(rho), G.T @ rho, atol=1e-10)
    assert pb.affine_objective == pytest.approx(0.5 * np.sum(b ** 2))


def test_gap_is_nonnegative_and_zero_at_cvxpy_optimum():
    cp = pytest.importorskip("cvxpy")
    X, Y, u, dic = setup(T=1, seed=2)
    alpha = 0.05 * alpha_max_from_dictionary(dic, Y, u)
    pb = ProjectedLasso(dic, Y, u, alpha)
    b, G = dense_pieces(X, Y, u, dic)
    v = cp.Variable(G.shape[1])
    cp.Problem(cp.Minimize(0.5 * cp.sum_squares(b[:, 0] - G @ v) + alpha * cp.norm1(v))).solve(
        solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    V = np.asarray(v.value)[:, None]
    idx = np.arange(dic.n_atoms)
    primal, dual, gap, _ = pb.gap(pb.residual(idx, V), V)
    assert gap >= -1e-12
    assert gap <= 1e-7 * pb.affine_objective
    # any other point has a nonnegative gap bounding its suboptimality
    V2 = V + 1e-3 * np.random.default_rng(0).standard_normal(V.shape)
    p2, d2, g2, _ = pb.gap(pb.residual(idx, V2), V2)
    assert g2 >= p2 - primal - 1e-9 >= -1e-9


def test_dual_objective_scaling_rule():
    rng = np.random.default_rng(3)
    b = rng.standard_normal((10, 1))
    rho = 0.5 * b
    inside = dual_objective(b, rho, 0.5, 1.0)     # feasible: theta = rho
    assert inside == pytest.approx(float(np.sum(b * rho) - 0.5 * np.sum(rho ** 2)))
    outside = dual_objective(b, rho, 4.0, 1.0)    # rescaled by alpha / ||G^T rho|| = 1/4
    s = 0.25
    assert outside == pytest.approx(float(s * np.sum(b * rho) - 0.5 * s * s * np.sum(rho ** 2)))


@pytest.mark.parametrize("T", [1, 2])
def test_alpha_max_is_the_threshold(T):
    # Above alpha_max the zero solution has zero gap; just below it does not.
    X, Y, u, dic = setup(T, seed=4)
    amax = alpha_max_from_dictionary(dic, Y, u)
    for factor, zero_optimal in ((1 + 1e-9, True), (1 - 1e-3, False)):
        pb = ProjectedLasso(dic, Y, u, factor * amax)
        empty = np.zeros(0, dtype=int)
        _, _, gap, _ = pb.gap(pb.residual(empty, np.zeros((0, T))), np.zeros((0, T)))
        assert (gap <= 1e-12 * pb.affine_objective) == zero_optimal


def test_skip_connection_is_the_weighted_least_squares_fit():
    X, Y, u, dic = setup(T=2, seed=5)
    pb = ProjectedLasso(dic, Y, u, 0.01)
    idx = np.array([3, 9])
    V = np.array([[0.5, -1.0], [2.0, 0.3]])
    c, c0 = pb.skip_connection(idx, V)
    target = Y - dic.columns(idx) @ V
    A = np.column_stack([np.ones(len(X)), X])
    sol = np.linalg.lstsq(np.sqrt(u)[:, None] * A, np.sqrt(u)[:, None] * target, rcond=None)[0]
    np.testing.assert_allclose(np.asarray(c0).ravel(), sol[0], atol=1e-10)
    np.testing.assert_allclose(c, sol[1:], atol=1e-10)
