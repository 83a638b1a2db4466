"""radon_path: warm-started paths equal cold fits and exact optima; grids, weights, errors."""

import cvxpy as cp
import numpy as np
import pytest

from radonsolve import RadonPath, RadonReLUClassifier, RadonReLURegressor, alpha_max, radon_path
from radonsolve._progress import progress_bar
from radonsolve.certificate import SweepEvents
from radonsolve.datasets import make_piecewise_linear_1d, make_relu_ridges_2d
from radonsolve.path import alpha_grid, check_alphas, path_fits


def exact_1d_objective(x, y, s, alpha):
    """(P) for d = 1 as l1 trend filtering on the distinct points (DESIGN §2), by Clarabel."""
    u = s / s.sum()
    xs, inv = np.unique(x, return_inverse=True)
    z = cp.Variable(len(xs))
    slopes = cp.multiply(1.0 / np.diff(xs), cp.diff(z))
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum(cp.multiply(u, cp.square(y - z[inv])))
                                  + alpha * cp.norm1(cp.diff(slopes))))
    prob.solve(solver=cp.CLARABEL)
    return prob.value


def test_1d_path_equals_exact_optimum_at_every_point():
    X, y = make_piecewise_linear_1d(60, random_state=0)
    s = np.random.default_rng(0).uniform(0.5, 2.0, 60)
    path = radon_path(X, y, n_alphas=6, eps=1e-3, sample_weight=s, tol=1e-10)
    assert isinstance(path, RadonPath) and len(path) == 6
    assert np.all(np.diff(path.alphas) < 0)
    assert path.alphas[0] == pytest.approx(alpha_max(X, y, sample_weight=s), rel=1e-12)
    assert path.alphas[-1] == pytest.approx(1e-3 * path.alphas[0], rel=1e-12)
    for a, obj in zip(path.alphas, path.objectives):
        assert obj == pytest.approx(exact_1d_objective(X[:, 0], y, s, a), rel=1e-6)
    # At alpha_max the affine fit is optimal: no neuron; below it neurons enter.
    assert path.n_neurons[0] == 0 and path.n_neurons[-1] > 0
    assert path.certified.all()


def test_2d_warm_path_equals_cold_fits():
    X, y = make_relu_ridges_2d(70, random_state=1)
    params = dict(directions=8, random_state=0, tol=1e-8)
    path = radon_path(X, y, n_alphas=4, eps=1e-2, **params)
    assert path.certified.all()
    for a, obj, net in zip(path.alphas, path.objectives, path.networks):
        cold = RadonReLURegressor(alpha=a, **params).fit(X, y)
        assert cold.certified_
        assert obj == pytest.approx(cold.objective_, rel=1e-6)
        # The recorded network is the one that has this objective.
        res = y - net.predict(X)
        assert 0.5 * np.mean(res ** 2) + a * net.rtv2 == pytest.approx(obj, rel=1e-12)
    # The grid starts at alpha_max of (P) (exact certificate in 2-D): the affine fit.
    assert path.n_neurons[0] == 0
    assert path.alpha_max == path.alphas[0]
    assert path.alphas[0] >= alpha_max(X, y, directions=8, random_state=0) * (1 - 1e-12)


def test_optimal_values_decrease_along_decreasing_alphas_multioutput():
    X, y = make_relu_ridges_2d(60, random_state=2)
    Y = np.column_stack([y, np.sin(2 * X[:, 0])])
    path = radon_path(X, Y, n_alphas=4, eps=1e-2, directions=8, random_state=0)
    assert path.networks[-1].predict(X).shape == (60, 2)
    assert path.predict(X).shape == (4, 60, 2)
    # The optimal value of (P) is nondecreasing in alpha.
    obj = path.objectives
    assert np.all(obj[1:] <= obj[:-1] * (1 + 1e-8))


def test_integer_weights_equal_repeated_rows():
    X, y = make_piecewise_linear_1d(40, random_state=3)
    w = np.random.default_rng(3).integers(1, 4, 40)
    alphas = [0.05, 0.01, 0.002]
    pw = radon_path(X, y, alphas=alphas, sample_weight=w, tol=1e-10)
    pr = radon_path(np.repeat(X, w, axis=0), np.repeat(y, w), alphas=alphas, tol=1e-10)
    np.testing.assert_allclose(pw.objectives, pr.objectives, rtol=1e-7)


def test_shared_sweep_events_give_the_same_fits():
    X, y = make_relu_ridges_2d(50, random_state=4)
    alphas = [3e-2, 1e-2]
    a = [m.objective_ for m in path_fits(RadonReLURegressor(directions=6, random_state=0,
                                                            warm_start=True), X, y, alphas)]
    b = [m.objective_ for m in path_fits(RadonReLURegressor(directions=6, random_state=0,
                                                            warm_start=True), X, y, alphas,
                                         sweep_events=None)]
    np.testing.assert_allclose(a, b, rtol=1e-9)
    with pytest.raises(ValueError, match="sweep_events"):
        RadonReLURegressor(alpha=0.01, directions=6).fit(X, y,
                                                         sweep_events=SweepEvents(X[:-1]))


def test_classifier_path_points_are_classifier_fits():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((90, 2))
    y = (X[:, 0] ** 2 + 0.3 * rng.standard_normal(90) > 1).astype(int)
    p1 = radon_path(X, y, classifier=True, n_alphas=4, eps=1e-2, directions=8, random_state=0)
    assert p1.classifier and np.isnan(p1.certificates).all()
    assert p1.predict(X).shape == (4, 90)
    # Each point is the classifier's fit at that alpha.
    clf = RadonReLUClassifier(alpha=p1.alphas[2], directions=8, random_state=0).fit(X, y)
    assert clf.objective_ == pytest.approx(p1.objectives[2], rel=1e-12)
    assert np.all(np.diff(p1.objectives) <= 1e-9 * p1.objectives[0])


def test_cold_regression_path_in_parallel_equals_sequential():
    X, y = make_relu_ridges_2d(50, random_state=6)
    kw = dict(n_alphas=3, eps=1e-2, directions=6, random_state=0, warm_start=False)
    p1, p2 = radon_path(X, y, **kw), radon_path(X, y, n_jobs=2, **kw)
    np.testing.assert_array_equal(p1.objectives, p2.objectives)
    np.testing.assert_array_equal(p1.n_neurons, p2.n_neurons)


def test_alpha_grid_and_check_alphas():
    X, y = make_piecewise_linear_1d(30, random_state=7)
    grid = alpha_grid(X, y, n_alphas=5, eps=1e-2)
    np.testing.assert_allclose(grid / grid[0], np.geomspace(1, 1e-2, 5), rtol=1e-12)
    # y affine in X: alpha_max is 0 and the grid is the float resolution (as in sklearn).
    flat = alpha_grid(X, 2 * X[:, 0] + 1, n_alphas=3)
    assert np.all(flat == np.finfo(float).resolution)
    np.testing.assert_array_equal(check_alphas([0.1, 1.0, 0.5]), [1.0, 0.5, 0.1])


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(alpha=0.1), TypeError, "alpha"),
    (dict(warm_start="yes"), ValueError, "warm_start"),
    (dict(n_alphas=0), ValueError, "n_alphas"),
    (dict(eps=0.0), ValueError, "eps"),
    (dict(eps=2.0), ValueError, "eps"),
    (dict(alphas=[0.1, -1.0]), ValueError, "alphas"),
    (dict(alphas=[[0.1]]), ValueError, "alphas"),
    (dict(alphas=[0.1, 0.0], classifier=True), ValueError, "alphas"),
])
def test_bad_arguments_are_named(kwargs, exc, match):
    X, y = make_piecewise_linear_1d(20, random_state=8)
    if kwargs.get("classifier"):
        y = (y > np.median(y)).astype(int)
    with pytest.raises(exc, match=match):
        radon_path(X, y, **kwargs)


def test_inputs_are_not_modified():
    X, y = make_relu_ridges_2d(40, random_state=9)
    s = np.ones(40)
    X0, y0, s0 = X.copy(), y.copy(), s.copy()
    radon_path(X, y, n_alphas=2, eps=0.1, sample_weight=s, directions=4, random_state=0)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(s, s0)


def test_verbose_shows_a_progress_bar(capsys):
    pytest.importorskip("tqdm")
    X, y = make_piecewise_linear_1d(30, random_state=10)
    radon_path(X, y, n_alphas=3, verbose=1)
    assert "path" in capsys.readouterr().err
    # verbose=2: the fits get verbose=1, and the exchange rounds of a 2-D fit get a bar too.
    X2, y2 = make_relu_ridges_2d(40, random_state=10)
    radon_path(X2, y2, alphas=[1e-2], directions=4, random_state=0, verbose=2)
    out = capsys.readouterr()
    assert "refinement rounds" in out.err and "[refine] round 0" in out.out


def test_progress_bar_without_tqdm_is_silent(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    with progress_bar(2, desc="nothing", enabled=True) as bar:
        bar.update(1)
        bar.set_postfix_str("x")
    assert capsys.readouterr().err == ""
