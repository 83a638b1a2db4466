"""The univariate and arrangement solvers behind the solver protocol
(radonsolve.solvers.adapters): same optimum as the dictionary solvers on the same problem,
and the estimator's exact paths go through them."""

import numpy as np
import pytest

from radonsolve import RadonReLURegressor
from radonsolve.dictionary import ReLUDictionary
from radonsolve.directions import make_directions
from radonsolve.lasso import ProjectedLasso
from radonsolve.solvers import (ArrangementSolver, CvxpySolver, ExactResult, SampleProblem,
                                SolverResult, UnivariateSolver, WorkingSetCD)
from radonsolve.univariate import solve_univariate


def _p_value(net, X, Y, u, alpha):
    """(P) at a network, evaluated directly (one output)."""
    r = Y[:, 0] - net.predict(X).reshape(len(X))
    return 0.5 * float(u @ (r * r)) + alpha * net.rtv2


def _data_1d(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = np.sort(rng.uniform(-2, 3, n))[:, None]
    Y = (np.abs(X[:, 0] - 0.5) + 0.3 * np.sin(3 * X[:, 0]) + 0.05 * rng.normal(size=n))[:, None]
    u = rng.uniform(0.5, 2.0, n)
    return X, Y, u / u.sum()


@pytest.mark.parametrize("alpha", [1e-4, 1e-2])
def test_univariate_adapter_equals_dictionary_solvers(alpha):
    X, Y, u = _data_1d()
    problem = ProjectedLasso(ReLUDictionary(X, np.ones((1, 1))), Y, u, alpha)
    exact = UnivariateSolver(tol=1e-10).solve(problem)
    assert isinstance(exact, ExactResult) and isinstance(exact, SolverResult)
    ws = WorkingSetCD(tol=1e-10).solve(problem)
    ref = CvxpySolver().solve(problem)
    assert exact.objective == pytest.approx(ws.objective, rel=1e-8)
    assert exact.objective == pytest.approx(ref.objective, rel=1e-6)
    # the knots are atoms of the dictionary, and the protocol's (idx, coef) give the same
    # value of the projected lasso, with the skip connection of the problem
    assert exact.atoms
    rho = problem.residual(exact.idx, exact.coef)
    assert problem.primal(rho, exact.coef) == pytest.approx(exact.objective, rel=1e-9)
    c, c0 = problem.skip_connection(exact.idx, exact.coef)
    np.testing.assert_allclose(exact.skip_coef, np.ravel(c), rtol=1e-7, atol=1e-9)
    assert exact.skip_intercept == pytest.approx(float(np.ravel(c0)[0]), rel=1e-7, abs=1e-9)
    # a duality gap, within the tolerance, and the certificate of an optimum
    assert 0 <= exact.dual_gap <= 1e-10 * exact.affine_objective
    assert exact.certificate <= 1 + 1e-6 and exact.converged and exact.n_iter >= 1


def test_univariate_adapter_on_sample_problem_packages_the_solver():
    X, Y, u = _data_1d(seed=1)
    res = UnivariateSolver(tol=1e-10).solve(SampleProblem(X, Y, u, 1e-3))
    fit = solve_univariate(X[:, 0], Y[:, 0], u, 1e-3, tol=1e-10)
    assert not res.atoms                      # no dictionary: idx numbers the neurons
    np.testing.assert_array_equal(res.idx, np.arange(res.network.n_neurons))
    np.testing.assert_array_equal(res.network.biases, fit.knots)
    np.testing.assert_array_equal(res.coef[:, 0], fit.outer)
    assert res.objective == fit.objective
    assert res.objective == pytest.approx(_p_value(res.network, X, Y, u, 1e-3), rel=1e-10)
    np.testing.assert_allclose(res.network.predict(X), fit.predict(X[:, 0]), rtol=1e-12,
                               atol=1e-12)


def test_univariate_adapter_refuses_other_shapes():
    X, Y, u = _data_1d(n=10)
    with pytest.raises(ValueError) as info:
        UnivariateSolver().solve(SampleProblem(np.hstack([X, X]), Y, u, 1e-3))
    assert str(info.value) == ("UnivariateSolver needs one feature and one output; got X of "
                               "shape (10, 2) and Y of shape (10, 1).")
    with pytest.raises(ValueError, match="one output"):
        UnivariateSolver().solve(SampleProblem(X, np.hstack([Y, Y]), u, 1e-3))


def test_estimator_univariate_path_is_the_adapter():
    X, Y, _ = _data_1d(seed=2)
    u = np.full(len(X), 1.0 / len(X))
    est = RadonReLURegressor(alpha=1e-3, tol=1e-10).fit(X, Y[:, 0])
    res = UnivariateSolver(tol=1e-10).solve(SampleProblem(X, Y, u, 1e-3))
    assert est.objective_ == pytest.approx(res.objective, rel=1e-10)
    assert est.n_iter_ == res.n_iter
    assert est.dual_gap_ == pytest.approx(res.dual_gap, rel=1e-6, abs=1e-14)
    assert est.certificate_ == pytest.approx(res.certificate, rel=1e-9)
    assert est.alpha_max_ == pytest.approx(res.alpha_max, rel=1e-12)
    np.testing.assert_array_equal(est.network_.biases, res.network.biases)


def _data_2d(n=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    Y = (np.maximum(X @ np.array([0.6, 0.8]) - 0.1, 0.0) + 0.3 * X[:, 0])[:, None]
    Y += 0.05 * rng.normal(size=(n, 1))
    return X, Y, np.full(n, 1.0 / n)


def test_arrangement_adapter_is_the_optimum_over_all_directions():
    X, Y, u = _data_2d()
    alpha = 1e-2
    res = ArrangementSolver(random_state=0).solve(SampleProblem(X, Y, u, alpha))
    assert res.exact and res.n_iter == 1 and res.dual_gap >= 0
    assert res.objective == pytest.approx(_p_value(res.network, X, Y, u, alpha), rel=1e-10)
    # a fixed dictionary restricts (P): its optimum is no lower
    W = make_directions(512, 2, 0)
    problem = ProjectedLasso(ReLUDictionary(X, W), Y, u, alpha)
    ws = WorkingSetCD(tol=1e-12).solve(problem)
    assert res.objective <= ws.objective * (1 + 1e-6)
    # and the certified exchange rounds reach the same optimum of (P)
    est = RadonReLURegressor(alpha=alpha, tol=1e-7, random_state=0).fit(X, Y[:, 0])
    assert est.certified_
    assert res.objective == pytest.approx(est.objective_, rel=1e-5)
    # on a ProjectedLasso it reads the data and solves over all directions the same way
    res2 = ArrangementSolver(random_state=0).solve(problem)
    assert res2.objective == pytest.approx(res.objective, rel=1e-9)


def test_arrangement_and_univariate_adapters_agree_in_1d():
    X, Y, u = _data_1d(n=12, seed=3)
    p = SampleProblem(X, Y, u, 1e-3)
    a = ArrangementSolver().solve(p)
    b = UnivariateSolver(tol=1e-10).solve(p)
    assert a.objective == pytest.approx(b.objective, rel=1e-6)


def test_estimator_arrangement_path_is_the_adapter():
    X, Y, u = _data_2d(seed=1)
    est = RadonReLURegressor(alpha=1e-2, solver="arrangement", random_state=0).fit(X, Y[:, 0])
    res = ArrangementSolver(random_state=0).solve(SampleProblem(X, Y, u, 1e-2))
    assert est.objective_ == pytest.approx(res.objective, rel=1e-10)
    assert est.arrangement_exact_ == res.exact
    with pytest.raises(ValueError, match="single output"):
        ArrangementSolver().solve(SampleProblem(X, np.hstack([Y, Y]), u, 1e-2))
