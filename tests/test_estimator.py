"""RadonReLURegressor end to end: solvers agree, exact 1D fits, alpha_max, validation."""

import pickle
import warnings

import cvxpy as cp
import numpy as np
import pytest

from radonsolve import RadonReLURegressor, alpha_max
from radonsolve.datasets import make_piecewise_linear_1d, make_relu_ridges_2d


def trend_filtering_objective(x, y, s, alpha):
    """Independent exact formulation of (P) for d = 1 (DESIGN §2): l1 trend filtering of
    order one on unequally spaced points, with fitted values z at the distinct points."""
    u = s / s.sum()
    xs, inv = np.unique(x, return_inverse=True)
    z = cp.Variable(len(xs))
    fit = 0.5 * cp.sum(cp.multiply(u, cp.square(y - z[inv])))
    if len(xs) > 2:
        slopes = cp.multiply(1.0 / np.diff(xs), cp.diff(z))
        pen = cp.norm1(cp.diff(slopes))
    else:
        pen = 0
    prob = cp.Problem(cp.Minimize(fit + alpha * pen))
    prob.solve(solver=cp.CLARABEL)
    return prob.value


def test_1d_matches_trend_filtering_with_ties_and_weights():
    rng = np.random.default_rng(0)
    x = np.round(rng.uniform(-1, 1, 80), 2)  # many ties
    y = np.sin(3 * x) + 0.1 * rng.standard_normal(80)
    s = rng.uniform(0.2, 3.0, 80)
    amax = alpha_max(x[:, None], y, sample_weight=s)
    for frac in (0.3, 1e-2, 1e-3):
        model = RadonReLURegressor(alpha=frac * amax, tol=1e-10).fit(x[:, None], y,
                                                                     sample_weight=s)
        ref = trend_filtering_objective(x, y, s, frac * amax)
        assert model.objective_ == pytest.approx(ref, rel=1e-6)
        # Knots sit at data points and obey the univariate representer bound N' - 2.
        knots = model.network_.biases
        assert np.all(np.min(np.abs(knots[:, None] - np.unique(x)[None]), axis=1) < 1e-9)
        assert model.n_neurons_ <= len(np.unique(x)) - 2


@pytest.mark.parametrize("d", [1, 2])
def test_cd_and_cvxpy_reach_same_objective(d):
    if d == 1:
        X, y = make_piecewise_linear_1d(120, random_state=1)
    else:
        X, y = make_relu_ridges_2d(100, random_state=1)
    amax = alpha_max(X, y, directions=12, random_state=0)
    for frac in (1e-1, 1e-2):
        kw = dict(alpha=frac * amax, directions=12, random_state=0, refine=False)
        fast = RadonReLURegressor(solver="cd", tol=1e-9, **kw).fit(X, y)
        ref = RadonReLURegressor(solver="cvxpy", **kw).fit(X, y)
        assert fast.objective_ == pytest.approx(ref.objective_, rel=1e-6)
        # The reported gap bounds the distance to the optimum (up to Clarabel's accuracy).
        assert fast.objective_ - ref.objective_ <= fast.dual_gap_ + 1e-9 * ref.objective_
        np.testing.assert_allclose(fast.predict(X), ref.predict(X), atol=1e-3)


def test_gap_is_honest_at_loose_tolerance():
    X, y = make_relu_ridges_2d(150, random_state=3)
    amax = alpha_max(X, y, directions=16, random_state=0)
    kw = dict(alpha=1e-3 * amax, directions=16, random_state=0, refine=False)
    loose = RadonReLURegressor(tol=1e-2, **kw).fit(X, y)
    ref = RadonReLURegressor(solver="cvxpy", **kw).fit(X, y)
    assert loose.objective_ >= ref.objective_ - 1e-8 * ref.objective_
    assert loose.objective_ - ref.objective_ <= loose.dual_gap_ + 1e-8 * ref.objective_


@pytest.mark.parametrize("d", [1, 3])
def test_alpha_max_boundary(d):
    rng = np.random.default_rng(d)
    X = rng.standard_normal((60, d))
    y = np.maximum(X[:, 0], 0) + 0.3 * np.maximum(X @ np.ones(d) / np.sqrt(d) - 0.5, 0) \
        + 0.05 * rng.standard_normal(60)
    s = rng.uniform(0.5, 2, 60)
    amax = alpha_max(X, y, directions=10, random_state=0, sample_weight=s)
    above = RadonReLURegressor(alpha=amax * (1 + 1e-3), directions=10, random_state=0,
                               tol=1e-10, refine=False).fit(X, y, sample_weight=s)
    assert above.n_neurons_ == 0
    affine = np.column_stack([np.ones(60), X])
    coef = np.linalg.lstsq(affine * np.sqrt(s)[:, None], y * np.sqrt(s), rcond=None)[0]
    np.testing.assert_allclose(above.predict(X), affine @ coef, atol=1e-8)
    below = RadonReLURegressor(alpha=amax * (1 - 1e-3), directions=10, random_state=0,
                               tol=1e-10, refine=False).fit(X, y, sample_weight=s)
    assert below.n_neurons_ >= 1
    assert below.alpha_max_ == pytest.approx(amax, rel=1e-12)


def test_objective_is_value_of_P():
    X, y = make_relu_ridges_2d(80, random_state=5)
    m = RadonReLURegressor(alpha=1e-3, directions=8, random_state=0).fit(X, y)
    net = m.network_
    direct = 0.5 * np.mean((y - net.predict(X)) ** 2) + 1e-3 * np.abs(net.outer).sum()
    assert m.objective_ == pytest.approx(direct, rel=1e-12)
    np.testing.assert_allclose(np.linalg.norm(net.weights, axis=1), 1.0)


def test_integer_weights_equal_repeated_samples():
    X, y = make_relu_ridges_2d(40, random_state=2)
    w = np.arange(40) % 3 + 1
    kw = dict(alpha=1e-3, directions=8, random_state=0, tol=1e-10, refine=False)
    a = RadonReLURegressor(**kw).fit(X, y, sample_weight=w)
    b = RadonReLURegressor(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    assert a.objective_ == pytest.approx(b.objective_, rel=1e-7)


def test_multi_output_matches_cvxpy_and_shares_neurons():
    X, y1 = make_relu_ridges_2d(80, random_state=4)
    Y = np.column_stack([y1, 2 * y1 + 0.01 * np.sin(5 * X[:, 0])])
    kw = dict(alpha=1e-2, directions=8, random_state=0, refine=False)
    fast = RadonReLURegressor(tol=1e-9, **kw).fit(X, Y)
    ref = RadonReLURegressor(solver="cvxpy", **kw).fit(X, Y)
    assert fast.predict(X).shape == (80, 2)
    assert fast.network_.outer.shape == (fast.n_neurons_, 2)
    assert fast.objective_ == pytest.approx(ref.objective_, rel=1e-6)


def test_directions_parameter_forms():
    X, y = make_relu_ridges_2d(60, random_state=0)
    m = RadonReLURegressor(alpha=1e-3, directions=[[2.0, 0.0], [0.0, -3.0], [1, 1]],
                           refine=False).fit(X, y)
    np.testing.assert_allclose(np.linalg.norm(m.directions_, axis=1), 1.0)
    assert m.directions_.shape == (3, 2)
    m = RadonReLURegressor(alpha=1e-3, directions=5, random_state=0, refine=False).fit(X, y)
    assert m.directions_.shape[0] >= 5
    # d = 1 ignores directions: the single exact direction.
    m = RadonReLURegressor(alpha=1e-3, directions=7).fit(X[:, :1], y)
    assert m.directions_.shape[0] == 1


def test_warm_start_reaches_same_objective():
    X, y = make_relu_ridges_2d(100, random_state=6)
    m = RadonReLURegressor(alpha=1e-2, directions=10, random_state=0, warm_start=True, tol=1e-9,
                           refine=False)
    m.fit(X, y)
    obj1 = m.objective_
    m.set_params(alpha=5e-3).fit(X, y)
    cold = RadonReLURegressor(alpha=5e-3, directions=10, random_state=0, tol=1e-9,
                              refine=False).fit(X, y)
    assert m.objective_ == pytest.approx(cold.objective_, rel=1e-6)
    assert m.objective_ < obj1


def test_pickle_roundtrip():
    X, y = make_relu_ridges_2d(50, random_state=0)
    m = RadonReLURegressor(alpha=1e-3, directions=6, random_state=0).fit(X, y)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m.predict(X), m2.predict(X))


# ---------------------------------------------------------------- input validation
def _xy():
    rng = np.random.default_rng(0)
    return rng.standard_normal((20, 2)), rng.standard_normal(20)


@pytest.mark.parametrize("bad, match", [
    ("nan", "NaN"), ("inf", "infinity"), ("shape", "inconsistent numbers of samples"),
    ("empty", "0 sample"), ("text", "could not convert"),
])
def test_bad_data_raise_value_error(bad, match):
    X, y = _xy()
    if bad == "nan":
        X[3, 1] = np.nan
    elif bad == "inf":
        y[2] = np.inf
    elif bad == "shape":
        y = y[:-1]
    elif bad == "empty":
        X, y = X[:0], y[:0]
    elif bad == "text":
        X = X.astype(object)
        X[0, 0] = "abc"
    with pytest.raises(ValueError, match=match):
        RadonReLURegressor().fit(X, y)


@pytest.mark.parametrize("params, match", [
    (dict(alpha=-1.0), "alpha"), (dict(alpha="big"), "alpha"), (dict(solver="adam"), "solver"),
    (dict(max_iter=0), "max_iter"), (dict(tol=-1), "tol"), (dict(directions=0), "directions"),
    (dict(directions="many"), "directions"), (dict(directions=[[1.0, 2.0, 3.0]]), "shape"),
])
def test_bad_parameters_raise_value_error(params, match):
    X, y = _xy()
    with pytest.raises(ValueError, match=match):
        RadonReLURegressor(**params).fit(X, y)


def test_bad_sample_weight():
    X, y = _xy()
    with pytest.raises(ValueError, match="sample_weight"):
        RadonReLURegressor().fit(X, y, sample_weight=np.ones(19))
    with pytest.raises(ValueError, match="[Nn]egative"):
        RadonReLURegressor().fit(X, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="[Ss]ample.weight"):
        RadonReLURegressor().fit(X, y, sample_weight=np.zeros(20))


def test_predict_wrong_features():
    X, y = _xy()
    m = RadonReLURegressor(alpha=0.1, directions=4).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :1])


def test_inputs_not_modified():
    X, y = _xy()
    X[5] = X[4]
    s = np.linspace(1, 2, 20)
    X0, y0, s0 = X.copy(), y.copy(), s.copy()
    RadonReLURegressor(alpha=1e-3, directions=4).fit(X, y, sample_weight=s)
    RadonReLURegressor(alpha=1e-3).fit(X[:, :1], y, sample_weight=s)
    alpha_max(X, y, sample_weight=s)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(s, s0)


def test_max_iter_warns():
    X, y = make_relu_ridges_2d(200, random_state=0)
    with pytest.warns(Warning, match="duality gap"):
        RadonReLURegressor(alpha=1e-6, directions=32, max_iter=1, tol=1e-14,
                           random_state=0).fit(X, y)


def test_alpha_zero_interpolates_in_1d():
    x = np.array([0.0, 0.3, 0.5, 0.9, 1.4])
    y = np.array([0.0, 1.0, -1.0, 2.0, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = RadonReLURegressor(alpha=0.0, tol=1e-12, max_iter=1000).fit(x[:, None], y)
    np.testing.assert_allclose(m.predict(x[:, None]), y, atol=1e-6)


def test_arrangement_solver_matches_refined_route_in_2d():
    rng = np.random.default_rng(7)
    X = rng.uniform(-1, 1, (14, 2))
    y = np.maximum(X @ [0.8, 0.6] - 0.1, 0) - 0.5 * X[:, 1] + 0.05 * rng.standard_normal(14)
    alpha = 1e-3
    arr = RadonReLURegressor(alpha=alpha, solver="arrangement").fit(X, y)
    assert arr.arrangement_exact_
    ref = RadonReLURegressor(alpha=alpha, random_state=0, tol=1e-9, max_rounds=60).fit(X, y)
    assert ref.certified_
    assert arr.objective_ == pytest.approx(ref.objective_, rel=1e-4)
    assert arr.n_neurons_ <= 14 - 3


def test_sparsest_univariate_fit_through_estimator():
    # A spline with 3 knots strictly between data points, tiny alpha, no noise: the
    # connect-the-dots optimum has 6 knots, the sparsest optimal spline 3, same objective.
    x = np.linspace(0, 1, 41)
    true_knots = np.array([0.2125, 0.5125, 0.7875])
    y = 0.3 * x + np.maximum(x - true_knots[0], 0) * 2 - np.maximum(x - true_knots[1], 0) * 3 \
        + np.maximum(x - true_knots[2], 0) * 1.5
    amax = alpha_max(x[:, None], y)
    for solver in ("univariate", "cd"):
        kw = dict(alpha=1e-8 * amax, tol=1e-12, solver=solver, max_iter=500)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dense = RadonReLURegressor(**kw).fit(x[:, None], y)
            sparse = RadonReLURegressor(sparsest=True, **kw).fit(x[:, None], y)
        assert dense.n_neurons_ == 6
        assert sparse.n_neurons_ == 3
        np.testing.assert_allclose(np.sort(sparse.network_.biases), true_knots, atol=1e-6)
        assert sparse.objective_ == pytest.approx(dense.objective_, rel=1e-9)


def test_sparsest_rejects_several_features():
    X, y = make_relu_ridges_2d(30, random_state=0)
    with pytest.raises(ValueError, match="sparsest"):
        RadonReLURegressor(sparsest=True).fit(X, y)


def test_univariate_solver_certified_and_matches_cd():
    X, y = make_piecewise_linear_1d(500, random_state=3)
    amax = alpha_max(X, y)
    fast = RadonReLURegressor(alpha=1e-3 * amax, tol=1e-9).fit(X, y)
    cd = RadonReLURegressor(alpha=1e-3 * amax, tol=1e-9, solver="cd").fit(X, y)
    assert fast.certified_ and fast.certificate_ <= 1 + 1e-6
    assert fast.objective_ == pytest.approx(cd.objective_, rel=1e-7)
    assert fast.alpha_max_ == pytest.approx(amax, rel=1e-9)


def test_shared_neurons_fewer_than_separate_fits():
    # Two outputs built from the same three ridges: the group penalty shares the neurons, so
    # the joint network has fewer neurons than the two single-output networks together.
    rng = np.random.default_rng(11)
    X = rng.uniform(-1, 1, (150, 2))
    W = np.array([[np.cos(0.4), np.sin(0.4)], [np.cos(1.7), np.sin(1.7)],
                  [np.cos(2.5), np.sin(2.5)]])
    H = np.maximum(X @ W.T - [0.1, -0.2, 0.3], 0)
    Y = np.column_stack([H @ [1.0, -1.5, 2.0], H @ [-0.5, 2.0, 1.0]])
    Y += 0.02 * rng.standard_normal(Y.shape)
    kw = dict(alpha=2e-3, random_state=0, directions=32)
    joint = RadonReLURegressor(**kw).fit(X, Y)
    sep = [RadonReLURegressor(**kw).fit(X, Y[:, t]) for t in range(2)]
    assert joint.certified_
    assert joint.n_neurons_ < sum(m.n_neurons_ for m in sep)
    assert joint.n_neurons_ <= 150 - 3
    np.testing.assert_allclose(np.linalg.norm(joint.network_.outer, axis=1).sum(),
                               joint.network_.rtv2)
