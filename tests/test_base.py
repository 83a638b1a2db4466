"""The shared estimator base (radonsolve.base): both estimators validate, certify, warm
start, clone and evaluate the same way."""

import inspect
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from radonsolve import RadonReLUClassifier, RadonReLURegressor
from radonsolve.base import SHARED_PARAMETER_CONSTRAINTS, RadonReLUBase

ESTIMATORS = [RadonReLURegressor, RadonReLUClassifier]


def _data(make, d=2, n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, d))
    if make is RadonReLURegressor:
        y = np.abs(X[:, 0]) + 0.5 * np.maximum(X[:, -1] - 0.2, 0.0)
    else:
        y = (np.abs(X[:, 0]) + 0.3 * X[:, -1] > 0.5).astype(int)
    return X, y


@pytest.mark.parametrize("make", ESTIMATORS)
def test_one_base_and_constraints_match_init(make):
    assert issubclass(make, RadonReLUBase)
    params = set(inspect.signature(make.__init__).parameters) - {"self"}
    # every parameter is validated, and only parameters are
    assert set(make._parameter_constraints) == params
    for name, constraint in SHARED_PARAMETER_CONSTRAINTS.items():
        assert make._parameter_constraints[name] is constraint
    assert set(SHARED_PARAMETER_CONSTRAINTS) <= params


# Values scikit-learn's constraints let through (bools are numbers to them): the base's own
# checks refuse them with these messages, the same for both estimators.
@pytest.mark.parametrize("params, message", [
    (dict(alpha=True), "alpha must be a nonnegative real number; got True."),
    (dict(tol=True), "tol must be a nonnegative real number; got True."),
    (dict(max_iter=True), "max_iter must be a positive integer; got True."),
    (dict(certificate_budget=True), "certificate_budget must be a positive integer; got True."),
    (dict(max_rounds=True), "max_rounds must be a nonnegative integer; got True."),
    (dict(max_time=True),
     "max_time must be a nonnegative number of seconds or None; got True."),
])
@pytest.mark.parametrize("make", ESTIMATORS)
def test_shared_validation_messages(make, params, message):
    X, y = _data(make)
    with pytest.raises(ValueError) as info:
        make(**params).fit(X, y)
    assert str(info.value) == message


@pytest.mark.parametrize("name, value", [
    ("refine", "yes"), ("max_rounds", -1), ("max_time", -1.0), ("certificate_budget", 0),
    ("tol", -1.0), ("max_iter", 0), ("directions", 0), ("warm_start", "no"),
    ("alpha", -1.0), ("solver", "adam"),
])
@pytest.mark.parametrize("make", ESTIMATORS)
def test_shared_parameters_named_in_errors(make, name, value):
    X, y = _data(make)
    with pytest.raises(ValueError, match=f"'{name}' parameter of {make.__name__}"):
        make(**{name: value}).fit(X, y)


def test_estimator_specific_messages_kept():
    X, y = _data(RadonReLUClassifier)
    with pytest.raises(ValueError) as info:
        RadonReLUClassifier(alpha=0.0).fit(X, y)
    assert str(info.value).startswith("alpha must be positive for classification")
    X, y = _data(RadonReLURegressor)
    with pytest.raises(ValueError) as info:
        RadonReLURegressor(progress_tol=True).fit(X, y)
    assert str(info.value) == ("progress_tol must be 'auto', a nonnegative number or None; "
                               "got True.")


@pytest.mark.parametrize("make", ESTIMATORS)
def test_certificate_attributes(make):
    X, y = _data(make)
    tol = 1e-6
    est = make(alpha=1e-2, random_state=0, tol=tol).fit(X, y)
    hist = est.refinement_history_
    assert est.n_rounds_ == len(hist) - 1 >= 0
    assert est.stop_reason_ == hist[-1].stop_reason
    assert est.certificate_kind_ == "exact"                  # two features: the exact sweep
    assert est.certificate_ == hist[-1].eta
    assert est.global_gap_ == hist[-1].gap_P
    assert est.certified_
    assert 1 <= est.n_iter_ <= est.max_iter
    assert est.n_neurons_ == est.network_.n_neurons
    assert est.directions_.shape[1] == 2
    np.testing.assert_allclose(np.linalg.norm(est.directions_, axis=1), 1.0, rtol=1e-12)
    assert est.fit_time_ > 0 and np.isfinite(est.objective_)
    assert est.dual_gap_ >= 0


@pytest.mark.parametrize("make", ESTIMATORS)
def test_no_refinement_runs_no_round(make):
    X, y = _data(make)
    est = make(alpha=1e-2, random_state=0, refine=False).fit(X, y)
    assert est.n_rounds_ == 0 and len(est.refinement_history_) == 1


@pytest.mark.parametrize("make", ESTIMATORS)
def test_warm_start_keeps_state_and_optimum(make):
    X, y = _data(make)
    kw = dict(random_state=0, tol=1e-7, directions=8)
    cold = make(alpha=3e-3, **kw).fit(X, y)
    warm = make(alpha=1e-2, warm_start=True, **kw).fit(X, y)
    prev_dirs = warm.directions_.copy()
    warm.set_params(alpha=3e-3).fit(X, y)
    # the previous fit's directions (refined ones included) are kept in the dictionary
    for w in prev_dirs:
        assert np.max(np.abs(warm.directions_ @ w)) > 1 - 1e-9
    assert warm.certified_ and cold.certified_
    assert warm.objective_ == pytest.approx(cold.objective_, rel=1e-5)


@pytest.mark.parametrize("make", ESTIMATORS)
def test_warm_start_ignores_a_fit_on_other_data(make):
    X, y = _data(make)
    est = make(alpha=1e-2, random_state=0, warm_start=True).fit(X[:, :1], y)
    est.fit(X, y)                                      # other number of features
    cold = make(alpha=1e-2, random_state=0).fit(X, y)
    assert est.objective_ == pytest.approx(cold.objective_, rel=1e-5)
    assert est.n_features_in_ == 2


@pytest.mark.parametrize("make", ESTIMATORS)
def test_without_warm_start_refits_are_identical(make):
    X, y = _data(make)
    est = make(alpha=1e-2, random_state=0).fit(X, y)
    first = est.network_
    est.fit(X, y)
    fresh = make(alpha=1e-2, random_state=0).fit(X, y)
    for net in (first, est.network_):
        np.testing.assert_array_equal(net.weights, fresh.network_.weights)
        np.testing.assert_array_equal(net.outer, fresh.network_.outer)


@pytest.mark.parametrize("make", ESTIMATORS)
def test_clone_and_params_round_trip(make):
    params = dict(alpha=0.05, directions=7, refine=False, max_rounds=3, max_time=10.0,
                  certificate_budget=50, tol=1e-5, max_iter=20, random_state=3,
                  warm_start=True, verbose=0)
    est = make(**params)
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert {k: copy.get_params()[k] for k in params} == params
    fresh = make().set_params(**est.get_params())
    assert fresh.get_params() == est.get_params()
    X, y = _data(make)
    est.fit(X, y)
    assert not hasattr(clone(est), "network_")
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.predict(X), est.predict(X))


@pytest.mark.parametrize("make", ESTIMATORS)
def test_network_evaluation_checks_inputs(make):
    X, y = _data(make)
    with pytest.raises(NotFittedError):
        make().predict(X)
    est = make(alpha=1e-2, random_state=0, refine=False).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :1])
    F = est.network_.predict(X)
    if make is RadonReLUClassifier:
        np.testing.assert_array_equal(est.decision_function(X), F)
    else:
        np.testing.assert_array_equal(est.predict(X), F)


@pytest.mark.parametrize("make, label", [(RadonReLURegressor, "[radonsolve] alpha=0.01: "),
                                         (RadonReLUClassifier,
                                          "[radonsolve] classifier alpha=0.01: ")])
def test_verbose_summary_line(make, label, capsys):
    X, y = _data(make)
    est = make(alpha=1e-2, random_state=0, refine=False, verbose=1).fit(X, y)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(label)]
    assert len(lines) == 1
    assert f"{est.n_neurons_} neurons, objective {est.objective_:.10g}" in lines[0]
    assert ("certificate" in lines[0]) == (make is RadonReLUClassifier)
