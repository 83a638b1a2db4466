"""The working-set solver against the cvxpy reference, and its honesty (DESIGN §4)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from radonsolve.dictionary import ReLUDictionary
from radonsolve.directions import spread_directions
from radonsolve.lasso import ProjectedLasso, alpha_max_from_dictionary
from radonsolve.solvers import CvxpySolver, WorkingSetCD
from radonsolve.solvers._cd import _chol_append, _chol_delete, _chol_solve, lasso_active_set


def make_problem(d=2, T=1, weighted=False, n=40, n_dir=8, factor=0.01, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, d))
    X[3] = X[7]  # a duplicated point
    s = X.sum(axis=1)
    Y = np.column_stack([np.sin(3 * X[:, 0]) + s ** 2, np.cos(2 * s)])[:, :T]
    Y = Y + 0.1 * rng.standard_normal((n, T))
    W = np.ones((1, 1)) if d == 1 else spread_directions(n_dir, d, random_state=0)
    dic = ReLUDictionary(X, W)
    u = rng.uniform(0.2, 2.0, n) if weighted else np.ones(n)
    u = u / u.sum()
    alpha = factor * alpha_max_from_dictionary(dic, Y, u)
    return ProjectedLasso(dic, Y, u, alpha)


def dense_gap(problem, idx, coef):
    """Objective and duality gap recomputed from the dense projected dictionary."""
    G = problem.projected_columns(np.arange(problem.dictionary.n_atoms))
    V = np.zeros((G.shape[1], problem.b.shape[1]))
    V[idx] = coef
    rho = problem.b - G @ V
    primal = 0.5 * np.sum(rho ** 2) + problem.alpha * np.linalg.norm(V, axis=1).sum()
    cn = np.linalg.norm(G.T @ rho, axis=1).max()
    s = min(1.0, problem.alpha / cn)
    dual = s * np.sum(problem.b * rho) - 0.5 * s * s * np.sum(rho ** 2)
    return primal, primal - dual


CASES = [
    dict(d=1, T=1, weighted=False),
    dict(d=2, T=1, weighted=False),
    dict(d=2, T=1, weighted=True),
    dict(d=2, T=2, weighted=False),
    dict(d=2, T=2, weighted=True),
    dict(d=1, T=2, weighted=True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"d{c['d']}-T{c['T']}-w{int(c['weighted'])}")
@pytest.mark.parametrize("factor", [0.2, 0.01, 0.001])
def test_matches_cvxpy(case, factor):
    problem = make_problem(**case, factor=factor)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = WorkingSetCD(tol=1e-9).solve(problem)
    ref = CvxpySolver().solve(problem)
    assert res.converged
    assert abs(res.objective - ref.objective) <= 1e-6 * ref.objective
    # the reported gap bounds the suboptimality (cvxpy's objective >= the optimum)
    assert res.objective - ref.objective <= res.dual_gap + 1e-12 * ref.objective
    assert res.dual_gap <= 1e-9 * problem.affine_objective
    # the reported objective and gap are the dense ones
    primal, gap = dense_gap(problem, res.idx, res.coef)
    np.testing.assert_allclose(res.objective, primal, rtol=1e-10)
    assert abs(res.dual_gap - gap) <= 1e-10 * problem.affine_objective
    assert np.all(np.linalg.norm(res.coef, axis=1) > 0)
    assert len(np.unique(res.idx)) == len(res.idx)


def test_default_tolerance_and_cd_inner():
    problem = make_problem(d=2, T=1, n=60, n_dir=16, factor=0.003, seed=1)
    ref = CvxpySolver().solve(problem)
    for inner in ["auto", "cd"]:
        res = WorkingSetCD(inner=inner).solve(problem)
        assert res.converged
        assert res.dual_gap <= 1e-6 * problem.affine_objective
        assert res.objective - ref.objective <= res.dual_gap + 1e-12
        assert abs(res.objective - ref.objective) <= 1e-5 * ref.objective


@pytest.mark.parametrize("T", [1, 2])
def test_warm_start_reaches_same_optimum(T):
    p1 = make_problem(d=2, T=T, n=60, n_dir=12, factor=0.05, seed=2)
    p2 = ProjectedLasso(p1.dictionary, p1.Y, p1.u, p1.alpha / 20)
    cold = WorkingSetCD(tol=1e-10).solve(p2)
    first = WorkingSetCD(tol=1e-10).solve(p1)
    warm = WorkingSetCD(tol=1e-10).solve(p2, warm_start=(first.idx, first.coef))
    assert warm.converged and cold.converged
    np.testing.assert_allclose(warm.objective, cold.objective, rtol=1e-8)
    # restarting from the optimum needs no new atoms
    again = WorkingSetCD(tol=1e-10).solve(p2, warm_start=(cold.idx, cold.coef))
    assert again.converged and len(again.history) <= 1
    np.testing.assert_allclose(again.objective, cold.objective, rtol=1e-10)
    # duplicated warm-start atoms are merged (their coefficients add up)
    idx = np.concatenate([cold.idx, cold.idx[:1]])
    coef = np.vstack([cold.coef, np.zeros((1, T))])
    dup = WorkingSetCD(tol=1e-10).solve(p2, warm_start=(idx, coef))
    np.testing.assert_allclose(dup.objective, cold.objective, rtol=1e-8)


def test_group_newton_reaches_gap_with_few_restricted_rounds():
    # Two outputs at a small alpha: 150 rows in the solution, many nearly collinear, several
    # heading to zero, which stalls plain Newton (the penalty's kink) and crawls in block
    # CD (the solver before this test existed took 9906 inner rounds). The Newton steps
    # stop at the kink and drop the row there, so a few dozen rounds reach the gap.
    problem = make_problem(d=2, T=2, n=300, n_dir=32, factor=3e-4, seed=3)
    res = WorkingSetCD(tol=1e-8).solve(problem)
    assert res.converged and res.dual_gap <= 1e-8 * problem.affine_objective
    assert res.n_iter < 500
    # The gap recomputed on the dense dictionary confirms it.
    primal, gap = dense_gap(problem, res.idx, res.coef)
    assert primal == pytest.approx(res.objective, rel=1e-10)
    assert gap <= 1e-8 * problem.affine_objective


def test_max_iter_warns():
    problem = make_problem(d=2, T=1, n=80, n_dir=16, factor=1e-4, seed=3)
    with pytest.warns(ConvergenceWarning, match="duality gap"):
        res = WorkingSetCD(max_iter=1).solve(problem)
    assert not res.converged
    assert res.dual_gap > 1e-6 * problem.affine_objective
    primal, gap = dense_gap(problem, res.idx, res.coef)
    np.testing.assert_allclose(res.objective, primal, rtol=1e-10)
    np.testing.assert_allclose(res.dual_gap, gap, rtol=1e-8)


def test_above_alpha_max_gives_no_atoms():
    problem = make_problem(d=2, T=2, factor=1.0)
    res = WorkingSetCD().solve(problem)
    assert res.converged and len(res.idx) == 0
    np.testing.assert_allclose(res.objective, problem.affine_objective)


def test_larger_problem_gap_is_honest():
    """Several hundred points, thousands of atoms: the structured pass's gap is the dense one."""
    rng = np.random.default_rng(4)
    n = 300
    X = rng.uniform(-1, 1, (n, 2))
    y = np.abs(X[:, 0] - X[:, 1] ** 2) + 0.05 * rng.standard_normal(n)
    dic = ReLUDictionary(X, spread_directions(16, 2, random_state=0))
    u = np.full(n, 1.0 / n)
    alpha = 1e-3 * alpha_max_from_dictionary(dic, y[:, None], u)
    problem = ProjectedLasso(dic, y[:, None], u, alpha)
    res = WorkingSetCD().solve(problem)
    assert res.converged
    primal, gap = dense_gap(problem, res.idx, res.coef)
    np.testing.assert_allclose(res.objective, primal, rtol=1e-10)
    assert gap <= 1e-6 * problem.affine_objective
    # sklearn's coordinate descent on the dense problem does not do better
    G = problem.projected_columns(np.arange(dic.n_atoms))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = Lasso(alpha=alpha / n, fit_intercept=False, tol=1e-10, max_iter=2000)
        sk.fit(G, problem.b[:, 0])
    r = problem.b[:, 0] - G @ sk.coef_
    sk_obj = 0.5 * r @ r + alpha * np.abs(sk.coef_).sum()
    assert res.objective <= sk_obj + 1e-12


# ---------------------------------------------------------------------- compiled kernels
def test_cholesky_updates():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 12))
    H = A.T @ A
    L = np.zeros((12, 12))
    act = np.arange(12)
    for j in range(8):
        assert not _chol_append(L, j, H, act, j, 1e-14)
    np.testing.assert_allclose(L[:8, :8] @ L[:8, :8].T, H[:8, :8], atol=1e-12)
    for p, keep in [(3, [0, 1, 2, 4, 5, 6, 7]), (0, [1, 2, 4, 5, 6, 7]), (5, [1, 2, 4, 5, 6])]:
        _chol_delete(L, len(keep) + 1, p)
        n = len(keep)
        np.testing.assert_allclose(L[:n, :n] @ L[:n, :n].T, H[np.ix_(keep, keep)], atol=1e-12)
        assert np.all(np.triu(L[:n, :n], 1) == 0)
    rhs = rng.standard_normal(5)
    x = np.empty(5)
    _chol_solve(L, 5, rhs, x)
    np.testing.assert_allclose(H[np.ix_(keep, keep)] @ x, rhs, atol=1e-10)
    # a column in the span of the factor is flagged (and floored)
    H2 = np.ones((2, 2))
    L2 = np.zeros((2, 2))
    _chol_append(L2, 0, H2, np.arange(2), 0, 1e-13)
    assert _chol_append(L2, 1, H2, np.arange(2), 1, 1e-13)


@pytest.mark.parametrize("n,p", [(60, 30), (40, 200)])
@pytest.mark.parametrize("factor", [0.5, 0.05, 1e-3])
def test_active_set_kernel_matches_sklearn(n, p, factor):
    rng = np.random.default_rng(p)
    A = rng.standard_normal((n, p))
    A[:, 1] = A[:, 0] + 1e-3 * rng.standard_normal(n)  # nearly collinear pair
    y = rng.standard_normal(n)
    H, c = A.T @ A, A.T @ y
    alpha = factor * np.abs(c).max()
    v = np.zeros(p)
    n_iter, converged = lasso_active_set(H, c, v, alpha, 100000, 1e-10, 1e-13, 4, n, 8)
    assert converged
    g = c - H @ v
    nz = v != 0
    assert nz.sum() <= n
    np.testing.assert_allclose(g[nz], alpha * np.sign(v[nz]), rtol=1e-7, atol=1e-9 * alpha)
    assert np.abs(g[~nz]).max(initial=0) <= alpha * (1 + 1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = Lasso(alpha=alpha / n, fit_intercept=False, tol=1e-12, max_iter=100000).fit(A, y)

    def obj(w):
        return 0.5 * np.sum((y - A @ w) ** 2) + alpha * np.abs(w).sum()

    assert obj(v) <= obj(sk.coef_) + 1e-10 * obj(sk.coef_)
    # warm start from a perturbed solution returns to the same point
    w = v + 0.01 * rng.standard_normal(p) * nz
    lasso_active_set(H, c, w, alpha, 100000, 1e-10, 1e-13, 4, n, 8)
    np.testing.assert_allclose(obj(w), obj(v), rtol=1e-10)
