"""The exchange loop's stopping contract (refine.exchange, Notes) and the estimator's report.

Stops: "gap", "progress" (d >= 3), "no_new_directions", budgets "max_rounds" / "max_time";
ConvergenceWarning only on a stop while the objective was still falling. No test here
asserts a duration: max_time is tiny, so the stop happens after the first round.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from radonsolve import RadonReLURegressor, alpha_max
from radonsolve.certificate import duality_gap_for_P, eta
from radonsolve.dictionary import AffineProjector, ReLUDictionary
from radonsolve.directions import spread_directions
from radonsolve.lasso import alpha_max_from_dictionary
from radonsolve.refine import ExchangeOptions, SquaredLossFamily, exchange
from radonsolve.solvers import WorkingSetCD


def _data(N, d, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((N, d))
    w1 = np.r_[1.0, -0.5, 0.3, 0.2][:d]
    w2 = np.r_[0.0, 1.0, 1.0, -0.4][:d] if d > 1 else np.r_[1.0]
    y = np.maximum(X @ w1 - 0.2, 0) - 1.5 * np.maximum(X @ w2, 0) \
        + 0.1 * rng.standard_normal(N)
    return X, y


def _exchange(X, y, frac, **kw):
    N, d = X.shape
    u = np.full(N, 1.0 / N)
    W = spread_directions(16, d, 0)
    alpha = frac * alpha_max_from_dictionary(ReLUDictionary(X, W), y[:, None], u)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = exchange(SquaredLossFamily(X, y[:, None], u, alpha), W, WorkingSetCD(tol=1e-8),
                       ExchangeOptions(tol=1e-6, **kw), random_state=0)
    conv = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    return out, conv


@pytest.fixture(scope="module")
def data3():
    return _data(50, 3)


def test_max_time_stops_after_first_round_and_warns(data3):
    X, y = data3
    with pytest.warns(ConvergenceWarning, match="time limit"):
        model = RadonReLURegressor(alpha=0.05 * alpha_max(X, y, random_state=0),
                                   max_time=1e-9, random_state=0).fit(X, y)
    assert model.stop_reason_ == "max_time"
    assert model.n_rounds_ == 0
    assert len(model.refinement_history_) == 1
    # a budget stop while the objective could still fall: the gap is above the tolerance
    assert model.refinement_history_[-1].gap_P > 0
    assert not model.certified_


def test_max_time_two_features_same_contract():
    X, y = _data(60, 2)
    with pytest.warns(ConvergenceWarning, match="time limit"):
        model = RadonReLURegressor(alpha=0.05 * alpha_max(X, y, random_state=0),
                                   max_time=0.0, random_state=0).fit(X, y)
    assert (model.stop_reason_, model.n_rounds_) == ("max_time", 0)
    assert model.certificate_kind_ == "exact"


def test_progress_rule_stops_without_warning(data3):
    X, y = data3
    # a generous rule (less than half of the objective gained in one round) must stop the
    # loop at round 1, before the gap is met, and without a warning
    out, conv = _exchange(X, y, 0.05, stall=(1, 0.5), max_rounds=10, bound_budget=None)
    problem, gap_P, history, converged = out.problem, out.gap_P, out.history, out.converged
    assert history[-1].stop_reason == "progress"
    assert len(history) == 2
    assert history[0].objective - history[1].objective < 0.5 * history[1].objective
    assert not converged and gap_P > 1e-6 * problem.affine_objective
    assert conv == []
    assert all(h.stop_reason == "" for h in history[:-1])


def test_budget_stop_while_improving_warns(data3):
    X, y = data3
    out, conv = _exchange(X, y, 0.05, max_rounds=1, stall=(1, 1e-12), bound_budget=None)
    history = out.history
    assert history[-1].stop_reason == "max_rounds"
    # the rule did not hold: the objective fell by more than its threshold
    assert history[0].objective - history[1].objective >= 1e-12 * history[1].objective
    assert len(conv) == 1 and "still falling" in str(conv[0].message)


def test_budget_stop_when_rule_also_holds_does_not_warn(data3):
    X, y = data3
    # max_rounds is reached at the round where the progress rule holds: the rule is the
    # reason reported, and there is no warning
    out, conv = _exchange(X, y, 0.05, max_rounds=1, stall=(1, 0.5), bound_budget=None)
    history = out.history
    assert history[-1].stop_reason == "progress"
    assert conv == []


def test_certificate_kind_one_and_two_features():
    X1, y1 = _data(40, 1)
    m1 = RadonReLURegressor(alpha=0.05 * alpha_max(X1, y1)).fit(X1, y1)
    assert (m1.certificate_kind_, m1.stop_reason_) == ("exact", "not_refined")
    assert m1.certified_
    X2, y2 = _data(60, 2)
    m2 = RadonReLURegressor(alpha=0.1 * alpha_max(X2, y2, random_state=0),
                            random_state=0).fit(X2, y2)
    assert (m2.certificate_kind_, m2.stop_reason_) == ("exact", "gap")
    assert m2.certified_


def test_certificate_kind_bound_three_features(data3):
    X, y = data3
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = RadonReLURegressor(alpha=0.1 * alpha_max(X, y, random_state=0),
                                   random_state=0).fit(X, y)
    assert model.stop_reason_ == "gap"
    assert model.certificate_kind_ == "bound"
    assert model.certified_
    # the proven bound is at least eta anywhere, and global_gap_ is the gap it gives
    projector = AffineProjector(X, np.full(len(y), 1.0 / len(y)))
    rho = projector.project(projector.sqrt_u * (y - model.predict(X)))
    b = projector.project(projector.sqrt_u * y)
    W = np.random.RandomState(1).standard_normal((3000, 3))
    e = eta(X, projector.sqrt_u * rho, model.alpha, W)[0]
    assert e.max() <= model.certificate_ * (1 + 1e-9)
    primal = 0.5 * float(rho @ rho) + model.alpha * model.network_.rtv2
    assert model.global_gap_ == pytest.approx(
        duality_gap_for_P(b, rho, primal, model.certificate_), rel=1e-6,
        abs=1e-9 * float(b @ b))
    assert model.global_gap_ <= 1e-6 * 0.5 * float(b @ b) * (1 + 1e-6)


def test_certificate_kind_searched_four_features():
    X, y = _data(40, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = RadonReLURegressor(alpha=0.1 * alpha_max(X, y, random_state=0), max_rounds=3,
                                   random_state=0).fit(X, y)
    # branch-and-bound is off by default for d = 4: the certificate is searched
    assert model.certificate_kind_ == "searched"
    assert not model.certified_
    assert model.stop_reason_ in ("gap", "progress", "max_rounds", "no_new_directions")


@pytest.mark.parametrize("bad", [-1.0, True, "1", np.nan])
def test_max_time_validation(bad, data3):
    X, y = data3
    with pytest.raises((ValueError, TypeError), match="max_time"):
        RadonReLURegressor(max_time=bad).fit(X, y)


@pytest.mark.parametrize("bad", [-1.0, True, "1", "fast"])
def test_progress_tol_validation(bad, data3):
    X, y = data3
    with pytest.raises((ValueError, TypeError), match="progress_tol"):
        RadonReLURegressor(progress_tol=bad).fit(X, y)


def test_progress_tol_is_the_estimators_progress_rule():
    # Four features (no bound): a generous progress_tol stops by the rule after the two
    # rounds it needs; None leaves only the gap and the budgets, so the same fit runs
    # until max_rounds (and warns, its objective still falling).
    X, y = _data(150, 4, seed=2)
    alpha = 0.02 * alpha_max(X, y, random_state=0)
    kw = dict(alpha=alpha, random_state=0, max_rounds=3)
    loose = RadonReLURegressor(progress_tol=0.25, **kw).fit(X, y)
    h = loose.refinement_history_
    assert loose.stop_reason_ == "progress" and loose.n_rounds_ == 2
    assert h[0].objective - h[2].objective < 2 * 0.25 * h[2].objective
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        off = RadonReLURegressor(progress_tol=None, **kw).fit(X, y)
    assert off.stop_reason_ == "max_rounds" and off.n_rounds_ == 3
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
