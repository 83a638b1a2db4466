"""The one working-set proximal Newton driver (radonsolve.solvers.newton) on every data fit:
multinomial (group penalty), a ridge on the skip, and the iteration bound; the shared
restricted kernel; accurate logistic / multinomial pieces on nearly separated samples."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from radonsolve.datafits import Huber, Logistic, Multinomial, Poisson
from radonsolve.dictionary import ReLUDictionary
from radonsolve.directions import make_directions
from radonsolve.solvers import CvxpyDatafitSolver, WorkingSetProxNewton
from radonsolve.solvers.logistic import WorkingSetNewton
from radonsolve.solvers.newton import DatafitProblem, alpha_max_datafit
from radonsolve.solvers.restricted import restricted_lasso


def _rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def _blobs(N=45, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, 2))
    y = (np.arctan2(X[:, 1], X[:, 0]) // (2 * np.pi / 3)).astype(int) % 3
    flip = rng.random(N) < 0.15
    y[flip] = rng.integers(0, 3, flip.sum())
    return X, y


def test_multinomial_group_penalty_matches_cvxpy():
    pytest.importorskip("cvxpy")
    X, y = _blobs()
    u = np.full(len(y), 1.0 / len(y))
    dic = ReLUDictionary(X, make_directions(5, 2, 0))
    fit = Multinomial(y, u)
    am = alpha_max_datafit(DatafitProblem(dic, fit, 1.0))
    problem = DatafitProblem(dic, fit, 0.05 * am)
    res = WorkingSetProxNewton(tol=1e-10).solve(problem)
    ref = CvxpyDatafitSolver().solve(problem)
    assert res.converged and len(res.idx) > 0
    assert _rel(res.objective, ref.objective) <= 1e-6
    # The gap is a certificate: objective - gap is below the reference optimum.
    assert res.objective - res.dual_gap <= ref.objective * (1 + 1e-9)
    # Shapes of T outputs, and classes centred (softmax is shift-invariant).
    assert res.coef.shape == (len(res.idx), 3) and res.outputs.shape == (len(y), 3)
    np.testing.assert_allclose(res.coef.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(res.affine.sum(axis=1), 0.0, atol=1e-12)


@pytest.mark.parametrize("loss", ["huber", "poisson"])
def test_ridge_on_the_skip_matches_cvxpy_and_its_optimality_condition(loss):
    pytest.importorskip("cvxpy")
    rng = np.random.default_rng(3)
    N = 40
    X = rng.standard_normal((N, 2))
    f0 = np.sin(X[:, 0]) + 0.5 * X[:, 1]
    u = np.full(N, 1.0 / N)
    fit = Huber(f0 + 0.2 * rng.standard_normal(N), u, epsilon=0.3) if loss == "huber" \
        else Poisson(rng.poisson(np.exp(f0)).astype(float), u)
    dic = ReLUDictionary(X, make_directions(4, 2, 0))
    beta = 0.05
    problem = DatafitProblem(dic, fit, 0.01, skip_penalty=beta)
    res = WorkingSetProxNewton(tol=1e-10).solve(problem)
    ref = CvxpyDatafitSolver().solve(problem)
    assert _rel(res.objective, ref.objective) <= 1e-6
    # Stationarity in the ridge-penalized linear weights: beta c = X^T theta.
    theta = fit.dual_point(res.outputs)
    np.testing.assert_allclose(beta * res.skip_coef, X.T @ theta,
                               atol=1e-6 * np.abs(X.T @ theta).max() + 1e-9)


def test_iteration_count_is_bounded_by_max_iter_and_warns():
    X, y = _blobs(60, seed=1)
    u = np.full(len(y), 1.0 / len(y))
    dic = ReLUDictionary(X, make_directions(8, 2, 0))
    problem = DatafitProblem(dic, Logistic((y == 0).astype(float), u), 1e-3)
    with pytest.warns(ConvergenceWarning, match="logistic loss"):
        res = WorkingSetProxNewton(tol=1e-14, max_iter=1).solve(problem)
    assert res.n_iter == 1 and not res.converged
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        full = WorkingSetProxNewton(tol=1e-9).solve(problem)
    assert 1 <= full.n_iter <= 100 and full.objective <= res.objective


def test_the_classifiers_solver_is_the_one_driver():
    assert WorkingSetNewton is WorkingSetProxNewton


def test_nearly_separated_samples_keep_relative_accuracy():
    # Loss and gradient at a logit of 40 for the right label are about exp(-40); a formula
    # with 1 - p or log(1 + e^f) - f would return 0 or rounding noise.
    f = np.array([40.0, -40.0])
    fit = Logistic(np.array([1.0, 0.0]), np.array([0.5, 0.5]))
    e = np.exp(-40.0)
    np.testing.assert_allclose(fit.losses(f), [np.log1p(e)] * 2, rtol=1e-14)
    np.testing.assert_allclose(fit.derivative(f), [-e / (1 + e), e / (1 + e)], rtol=1e-14)
    # dual value at the dual point: the entropy of (e / (1 + e), 1 / (1 + e))
    p = e / (1 + e)
    H = -p * np.log(p) - (1 - p) * np.log1p(-p)
    assert fit.dual_value(fit.dual_point(f)) == pytest.approx(H, rel=1e-12)
    multi = Multinomial(np.array([0, 2]), np.array([0.5, 0.5]))
    F = np.array([[40.0, 0.0, 0.0], [0.0, 0.0, 40.0]])
    np.testing.assert_allclose(multi.losses(F), [np.log1p(2 * e)] * 2, rtol=1e-14)
    g = multi.gradient(F)
    np.testing.assert_allclose(g[[0, 1], [0, 2]], [-0.5 * 2 * e / (1 + 2 * e)] * 2, rtol=1e-12)


def test_restricted_kernel_meets_kkt_and_survives_a_singular_matrix():
    # Two identical columns: S is singular; the kernel still returns a minimizer.
    rng = np.random.default_rng(0)
    G = rng.standard_normal((30, 4))
    G = np.column_stack([G, G[:, 0]])
    b = rng.standard_normal(30)
    S, c = G.T @ G, G.T @ b
    alpha = 0.1 * np.abs(c).max()
    x = np.zeros(5)
    _, ok = restricted_lasso(S, c, x, alpha, 1, 1000)
    assert ok
    g = c - S @ x
    on = x != 0
    assert on.any() and not on.all()
    assert np.all(np.abs(g[~on]) <= alpha * (1 + 1e-8))
    np.testing.assert_allclose(g[on], alpha * np.sign(x[on]), atol=1e-8 * alpha)
    # Group version on blocks of two outputs: same conditions with norms.
    S2, c2 = np.kron(S, np.eye(2)), np.kron(c, [1.0, -0.5])
    x2 = np.zeros(10)
    _, ok = restricted_lasso(S2, c2, x2, alpha, 2, 1000)
    assert ok
    g2 = (c2 - S2 @ x2).reshape(5, 2)
    X2 = x2.reshape(5, 2)
    nrm = np.linalg.norm(X2, axis=1)
    on = nrm > 0
    assert np.all(np.linalg.norm(g2[~on], axis=1) <= alpha * (1 + 1e-8))
    np.testing.assert_allclose(g2[on], alpha * X2[on] / nrm[on, None], atol=1e-7 * alpha)
