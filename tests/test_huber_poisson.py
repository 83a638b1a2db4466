"""Huber and Poisson regression (loss="huber" / "poisson"): solver, certificate, estimator."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from radonsolve import RadonReLURegressor
from radonsolve.datafits import Huber, Poisson
from radonsolve.dictionary import ReLUDictionary
from radonsolve.directions import make_directions
from radonsolve.solvers import CvxpyDatafitSolver, WorkingSetProxNewton
from radonsolve.refine import DatafitFamily, ExchangeOptions, exchange
from radonsolve.solvers.newton import DatafitProblem, alpha_max_datafit

pytest.importorskip("cvxpy")


def _data(loss, N=40, d=2, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(N, d)
    f0 = np.sin(2 * X[:, 0]) + np.abs(X[:, -1])
    if loss == "huber":
        y = f0 + 0.1 * rng.randn(N)
        y[:4] += 5.0                       # gross outliers: the band matters
    else:
        y = rng.poisson(np.exp(f0)).astype(float)
    return X, y


def _datafit(loss, y, u, epsilon=0.2):
    return Huber(y, u, epsilon) if loss == "huber" else Poisson(y, u)


def _rel(a, b):
    return abs(a - b) / abs(b)


@pytest.mark.parametrize("loss", ["huber", "poisson"])
@pytest.mark.parametrize("ratio", [0.1, 0.01])
def test_fixed_dictionary_matches_cvxpy(loss, ratio):
    X, y = _data(loss)
    rng = np.random.RandomState(1)
    u = rng.rand(len(y)) + 0.5
    u /= u.sum()
    dic = ReLUDictionary(X, make_directions(8, 2, 0))
    fit = _datafit(loss, y, u)
    alpha = ratio * alpha_max_datafit(DatafitProblem(dic, fit, 1.0))
    problem = DatafitProblem(dic, fit, alpha)
    res = WorkingSetProxNewton(tol=1e-10).solve(problem)
    ref = CvxpyDatafitSolver().solve(problem)
    assert res.converged
    assert res.dual_gap <= 1e-10 * problem.scale
    assert _rel(res.objective, ref.objective) <= 1e-6
    # The dual value is a lower bound, attained at the optimum.
    assert res.dual <= ref.objective * (1 + 1e-9)
    assert _rel(res.dual, res.objective) <= 1e-9


@pytest.mark.parametrize("loss", ["huber", "poisson"])
def test_optimality_conditions_at_the_solution(loss):
    X, y = _data(loss, N=60)
    N = len(y)
    dic = ReLUDictionary(X, make_directions(16, 2, 0))
    fit = _datafit(loss, y, np.full(N, 1 / N))
    problem = DatafitProblem(dic, fit, 1.0)
    problem = DatafitProblem(dic, fit, 0.02 * alpha_max_datafit(problem))
    res = WorkingSetProxNewton(tol=1e-12).solve(problem)
    theta = fit.dual_point(res.outputs)
    # Orthogonal to the affine part (the skip connection is optimal) ...
    A = np.column_stack([np.ones(N), X])
    assert np.all(np.abs(A.T @ theta) <= 1e-8 * (np.abs(A).T @ np.abs(theta)))
    # ... and the lasso conditions: |corr| <= alpha, = alpha sign(v) on the support.
    corr = dic.rmatvec(theta)
    alpha = problem.alpha
    assert np.abs(corr).max() <= alpha * (1 + 1e-6)
    assert np.allclose(corr[res.idx], alpha * np.sign(res.coef[:, 0]), rtol=1e-6)


@pytest.mark.parametrize("loss", ["huber", "poisson"])
def test_weak_duality_at_arbitrary_points(loss):
    X, y = _data(loss)
    N = len(y)
    dic = ReLUDictionary(X, make_directions(8, 2, 0))
    problem = DatafitProblem(dic, _datafit(loss, y, np.full(N, 1 / N)), 0.01)
    rng = np.random.RandomState(2)
    for _ in range(10):
        idx = rng.choice(dic.n_atoms, 5, replace=False)
        V = 0.3 * rng.randn(5)
        F = dic.columns(idx) @ V + problem.A @ rng.randn(problem.r)
        primal, dual, _, _ = problem.gap_parts(F, V, dic.rmatvec)
        assert primal == pytest.approx(problem.objective(F, V))
        assert dual <= primal


@pytest.mark.parametrize("loss", ["huber", "poisson"])
def test_univariate_equals_the_exact_spline_program(loss):
    # In 1-D the dictionary {max(x - x_n, 0)} with the free affine part is exact (DESIGN
    # §2): the estimator's fit is the optimum of the infinite-dimensional problem.
    X, y = _data(loss, N=40, d=1, seed=3)
    model = RadonReLURegressor(alpha=3e-3, loss=loss, epsilon=0.2).fit(X, y)
    N = len(y)
    fit = _datafit(loss, y, np.full(N, 1 / N))
    problem = DatafitProblem(ReLUDictionary(X, np.ones((1, 1))), fit, 3e-3)
    ref = CvxpyDatafitSolver().solve(problem)
    assert _rel(model.objective_, ref.objective) <= 1e-6
    assert model.certified_
    assert model.n_neurons_ <= N - 2


@pytest.mark.parametrize("loss", ["huber", "poisson"])
def test_refined_2d_fit_is_certified_and_beats_a_fixed_dictionary(loss):
    X, y = _data(loss, N=60, seed=4)
    kw = dict(alpha=5e-3, loss=loss, epsilon=0.2, random_state=0)
    refined = RadonReLURegressor(directions=8, **kw).fit(X, y)
    assert refined.certified_
    assert refined.certificate_ <= 1 + 1e-4
    assert refined.global_gap_ <= 1e-6 * refined.objective_ * 10
    fixed = RadonReLURegressor(directions=256, refine=False, **kw).fit(X, y)
    assert refined.objective_ <= fixed.objective_ * (1 + 1e-7)
    # The certificate over all directions is the proof: a fixed dictionary's is > 1 here.
    assert fixed.certificate_ >= refined.certificate_


def test_huber_with_a_huge_epsilon_is_the_squared_loss():
    for d, kw in [(1, {}), (2, dict(directions=16, refine=False, random_state=0))]:
        X, y = _data("huber", N=40, d=d, seed=5)
        sq = RadonReLURegressor(alpha=1e-2, tol=1e-9, **kw).fit(X, y)
        hu = RadonReLURegressor(alpha=1e-2, loss="huber", epsilon=1e6, tol=1e-9, **kw).fit(X, y)
        assert _rel(hu.objective_, sq.objective_) <= 1e-6
        assert np.allclose(hu.predict(X), sq.predict(X), atol=1e-4 * np.abs(y).max())


def test_estimator_objective_is_the_solver_objective():
    X, y = _data("poisson", N=50)
    model = RadonReLURegressor(alpha=1e-2, loss="poisson", directions=8, refine=False,
                               random_state=0).fit(X, y)
    dic = ReLUDictionary(X, model.directions_)
    problem = DatafitProblem(dic, Poisson(y, np.full(50, 1 / 50)), 1e-2)
    ref = CvxpyDatafitSolver().solve(problem)
    assert _rel(model.objective_, ref.objective) <= 1e-6
    # predict returns the mean exp(f); network_ is f.
    assert np.allclose(model.predict(X), np.exp(model.network_.predict(X)))


@pytest.mark.parametrize("loss", ["huber", "poisson"])
def test_alpha_max_switches_the_neurons_off(loss):
    X, y = _data(loss, N=40, d=1, seed=6)
    am = RadonReLURegressor(alpha=1.0, loss=loss, epsilon=0.2).fit(X, y).alpha_max_
    assert RadonReLURegressor(alpha=am * 1.001, loss=loss, epsilon=0.2).fit(X, y).n_neurons_ == 0
    assert RadonReLURegressor(alpha=am * 0.9, loss=loss, epsilon=0.2).fit(X, y).n_neurons_ > 0


@pytest.mark.parametrize("loss", ["huber", "poisson"])
def test_integer_sample_weights_equal_repeated_rows(loss):
    X, y = _data(loss, N=30, d=1, seed=7)
    w = np.random.RandomState(0).randint(1, 4, size=30)
    kw = dict(alpha=5e-3, loss=loss, epsilon=0.2, tol=1e-9)
    a = RadonReLURegressor(**kw).fit(X, y, sample_weight=w)
    b = RadonReLURegressor(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    assert _rel(a.objective_, b.objective_) <= 1e-6


def test_input_errors_name_the_argument():
    X, y = _data("poisson", N=20, d=1)
    with pytest.raises(ValueError, match="y must be nonnegative"):
        RadonReLURegressor(loss="poisson").fit(X, y - 1.0)
    with pytest.raises(ValueError, match="y must have a positive"):
        RadonReLURegressor(loss="poisson").fit(X, np.zeros_like(y))
    with pytest.raises(ValueError, match="alpha must be positive"):
        RadonReLURegressor(alpha=0.0, loss="huber").fit(X, y)
    with pytest.raises(ValueError, match="single output"):
        RadonReLURegressor(loss="huber").fit(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match="solver='univariate'"):
        RadonReLURegressor(loss="huber", solver="univariate").fit(X, y)
    with pytest.raises(ValueError, match="epsilon"):
        RadonReLURegressor(loss="huber", epsilon=0.0).fit(X, y)
    with pytest.raises(ValueError, match="loss"):
        RadonReLURegressor(loss="absolute_error").fit(X, y)


def test_predict_follows_the_loss_of_the_last_fit():
    X, y = _data("poisson", N=20, d=1)
    model = RadonReLURegressor(alpha=1e-2, loss="poisson").fit(X, y)
    pred = model.predict(X)
    model.set_params(loss="squared_error")
    assert np.array_equal(model.predict(X), pred)
    model.fit(X, y)
    assert np.allclose(model.predict(X), model.network_.predict(X))


def test_exchange_rounds_decrease_the_objective():
    X, y = _data("huber", N=60, seed=8)
    fit = Huber(y, np.full(60, 1 / 60), 0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        history = exchange(DatafitFamily(X, fit, 5e-3), make_directions(4, 2, 0),
                           WorkingSetProxNewton(tol=1e-9),
                           ExchangeOptions(max_rounds=6, tol=1e-7)).history
    obj = np.array([h.objective for h in history])
    assert np.all(np.diff(obj) <= 1e-7 * obj[0])
    assert history[-1].eta < history[0].eta


# Fast settings (refinement is tested above): the checks fit many data sets with d >= 3.
@parametrize_with_checks([
    RadonReLURegressor(alpha=0.01, loss=loss, directions=8, refine=False,
                       certificate_budget=50, random_state=0)
    for loss in ("huber", "poisson")])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_huber_near_absolute_loss_converges():
    # epsilon far below the residuals: almost every sample outside the band, the loss is
    # nearly piecewise linear and the Newton models nearly singular (the degenerate case
    # the proximal term of the model solve is for).
    rng = np.random.RandomState(0)
    X = rng.randn(60, 2)
    y = np.sin(2 * X[:, 0]) + np.abs(X[:, 1]) + 0.3 * rng.randn(60)
    fit = Huber(y, np.full(60, 1 / 60), 1e-4)
    dic = ReLUDictionary(X, make_directions(8, 2, 0))
    problem = DatafitProblem(dic, fit, 1.0)
    problem = DatafitProblem(dic, fit, 1e-3 * alpha_max_datafit(problem))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = WorkingSetProxNewton(tol=1e-7).solve(problem)
    ref = CvxpyDatafitSolver().solve(problem)
    assert _rel(res.objective, ref.objective) <= 1e-6


def test_the_driver_is_loss_agnostic():
    # The same driver with the squared and logistic data fits reaches the optimum of the
    # dedicated solvers (projected lasso; the classifier's Newton solver).
    from radonsolve.datafits import Logistic, Quadratic
    from radonsolve.lasso import ProjectedLasso
    from radonsolve.solvers import WorkingSetCD
    from radonsolve.solvers.logistic import LogisticProblem, WorkingSetNewton

    X, y = _data("huber", N=50, seed=9)
    u = np.full(50, 1 / 50)
    dic = ReLUDictionary(X, make_directions(8, 2, 0))
    res = WorkingSetProxNewton(tol=1e-10).solve(DatafitProblem(dic, Quadratic(y, u), 1e-2))
    ref = WorkingSetCD(tol=1e-10).solve(ProjectedLasso(dic, y[:, None], u, 1e-2))
    assert _rel(res.objective, ref.objective) <= 1e-8
    labels = (y > np.median(y)).astype(float)
    res = WorkingSetProxNewton(tol=1e-10).solve(DatafitProblem(dic, Logistic(labels, u), 1e-2))
    ref = WorkingSetNewton(tol=1e-10).solve(LogisticProblem(dic, labels.astype(int), u, 1e-2, 2))
    assert _rel(res.objective, ref.objective) <= 1e-8


@pytest.mark.parametrize("loss", ["huber", "poisson"])
def test_alpha_max_function_and_path_follow_the_loss(loss):
    from radonsolve import alpha_max, radon_path

    X, y = _data(loss, N=40, d=1, seed=10)
    am = alpha_max(X, y, loss=loss, epsilon=0.2)
    model = RadonReLURegressor(alpha=1.0, loss=loss, epsilon=0.2).fit(X, y)
    assert am == pytest.approx(model.alpha_max_, rel=1e-12)
    assert am != pytest.approx(alpha_max(X, y), rel=1e-3)
    path = radon_path(X, y, n_alphas=4, eps=1e-2, loss=loss, epsilon=0.2)
    assert path.alphas[0] == pytest.approx(am)
    assert path.n_neurons[0] == 0 and path.n_neurons[-1] > 0
    assert np.all(np.diff(path.objectives) < 0)


# --------------------------------------------------------------------------- the one loop
@pytest.mark.parametrize("loss", ["huber", "poisson"])
def test_max_time_applies_to_every_loss(loss):
    X, y = _data(loss, N=50)
    with pytest.warns(ConvergenceWarning, match="time limit"):
        model = RadonReLURegressor(alpha=1e-3, loss=loss, max_time=0.0,
                                   random_state=0).fit(X, y)
    assert (model.stop_reason_, model.n_rounds_) == ("max_time", 0)
    assert model.certificate_kind_ == "exact"
    assert not model.certified_


@pytest.mark.parametrize("loss", ["huber", "poisson"])
def test_three_features_prune_and_stop_by_the_contract(loss):
    X, y = _data(loss, N=60, d=3, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = RadonReLURegressor(alpha=3e-3, loss=loss, max_rounds=6, directions=16,
                                   random_state=0).fit(X, y)
    hist = model.refinement_history_
    assert model.stop_reason_ in ("gap", "progress", "max_rounds", "no_new_directions")
    assert model.certificate_kind_ in ("searched", "bound")
    assert model.certified_ == (model.certificate_kind_ == "bound")
    obj = np.array([h.objective for h in hist])
    assert np.all(np.diff(obj) <= 1e-6 * obj[0])
    assert sum(h.n_pruned for h in hist) > 0
    assert len(model.directions_) < 16 + sum(h.n_added for h in hist)


def test_certifiable_eta_is_where_the_gap_meets_the_tolerance():
    X, y = _data("poisson", N=60)
    u = np.full(60, 1 / 60)
    family = DatafitFamily(X, Poisson(y, u), 1e-2)
    problem = family.problem(ReLUDictionary(X, make_directions(8, 2, 0)))
    res = WorkingSetProxNewton(tol=1e-10).solve(problem)
    theta = family.dual(problem, res)
    finite = family.finite_eta(problem, theta)
    tol_abs = family.gap(problem, res, theta, 1.5 * max(finite, 1.0))
    thr = family.certifiable_eta(problem, res, theta, tol_abs)
    # the threshold is the largest sup eta whose gap is within tol_abs
    assert family.gap(problem, res, theta, thr * (1 - 1e-9)) <= tol_abs * (1 + 1e-9)
    assert family.gap(problem, res, theta, thr * 1.01) > tol_abs


@pytest.mark.parametrize("loss", ["huber", "poisson"])
def test_three_features_end_with_a_proven_bound(loss):
    # Without the progress rule the rounds end on the gap, proven by branch-and-bound with
    # the data fit's dual point in place of the residual.
    from radonsolve.certificate import eta

    rng = np.random.RandomState(12)
    N = 40
    X = rng.standard_normal((N, 3))
    f = np.maximum(X @ [1.0, -0.5, 0.3] - 0.2, 0) - np.maximum(X[:, 1] + X[:, 2], 0)
    y = f + 0.1 * rng.standard_normal(N) if loss == "huber" else \
        rng.poisson(np.exp(0.5 * f)).astype(float)
    u = np.full(N, 1 / N)
    fit = _datafit(loss, y, u, epsilon=0.3)
    alpha = 0.1 * alpha_max_datafit(DatafitProblem(
        ReLUDictionary(X, make_directions("auto", 3, 0)), fit, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        out = exchange(DatafitFamily(X, fit, alpha), make_directions("auto", 3, 0),
                       WorkingSetProxNewton(tol=1e-8),
                       ExchangeOptions(stall=None, same_direction=1e-13), random_state=0)
    last = out.history[-1]
    assert (out.stop_reason, out.certificate_kind) == ("gap", "bound")
    assert out.gap_P <= 1e-6 * out.problem.scale
    theta = out.result.theta
    e = eta(X, theta, alpha, np.random.RandomState(13).standard_normal((5000, 3)))[0]
    assert e.max() <= last.eta_bound * (1 + 1e-12)
