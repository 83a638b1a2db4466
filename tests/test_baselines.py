"""Weight-decay training baseline (radonsolve.baselines): objective bookkeeping and inputs."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from radonsolve import RadonReLURegressor, ReLUNetwork, alpha_max  # noqa: E402
from radonsolve._torch import (make_shallow_relu_net, network_from_torch,  # noqa: E402
                               network_to_torch)
from radonsolve.baselines import (best_of_weight_decay, penalized_objective,  # noqa: E402
                                  train_adam_then_lbfgs, train_weight_decay)
from radonsolve.datasets import make_piecewise_linear_1d, make_relu_ridges_2d  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def objective_P(net, X, y, alpha, sample_weight=None):
    """(P) computed here from scratch: 0.5 * sum_n u_n (y_n - f(x_n))^2 + alpha * RTV2."""
    u = np.full(len(y), 1.0 / len(y)) if sample_weight is None else \
        np.asarray(sample_weight, float) / np.sum(sample_weight)
    r = y - net.predict(X)
    return 0.5 * float(np.sum(u * r * r)) + alpha * net.rtv2


def module_predict(module, X):
    with torch.no_grad():
        return module(torch.as_tensor(np.asarray(X, float))).numpy()


def path_norm_np(module):
    W = module.hidden.weight.detach().numpy()
    V = module.output.weight.detach().numpy()
    return float(np.sum(np.linalg.norm(W, axis=1) * np.linalg.norm(V, axis=0)))


@pytest.fixture(scope="module")
def data_1d():
    X, y = make_piecewise_linear_1d(80, random_state=0)
    return X, y, 0.05 * alpha_max(X, y)


@pytest.fixture(scope="module")
def data_2d():
    X, y = make_relu_ridges_2d(60, random_state=1)
    return X, y, 0.05 * alpha_max(X, y, random_state=0)


# ----------------------------------------------------------------------------- objective
@pytest.mark.parametrize("kind", ["1d", "2d", "2d-weighted", "2d-minibatch", "2d-lbfgs"])
def test_recorded_objective_is_P_of_exported_network(kind, data_1d, data_2d):
    X, y, alpha = data_1d if kind == "1d" else data_2d
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y)) if kind == "2d-weighted" else None
    kw = dict(width=24, lr=1e-2, n_epochs=150, eval_every=30, random_state=3, sample_weight=sw)
    if kind == "2d-minibatch":
        kw.update(batch_size=16, n_epochs=20, eval_every=5)
    if kind == "2d-lbfgs":
        kw.update(optimizer="lbfgs", lr=1.0, n_epochs=30, eval_every=10)
    r = train_weight_decay(X, y, alpha, **kw)

    net = network_from_torch(r.module)
    assert isinstance(net, ReLUNetwork)
    np.testing.assert_allclose(net.predict(X), module_predict(r.module, X), rtol=0, atol=1e-10)
    expected = objective_P(net, X, y, alpha, sw)
    assert r.objective == pytest.approx(expected, rel=1e-12, abs=1e-14)
    assert r.history[-1, 3] == pytest.approx(expected, rel=1e-12, abs=1e-14)
    assert r.objective == pytest.approx(objective_P(r.module.to_network(), X, y, alpha, sw),
                                        rel=1e-12)
    assert r.objective == pytest.approx(penalized_objective(r.network, X, y, alpha, sw),
                                        rel=1e-12)
    # Generic trained weights: no two neurons share a hyperplane, so RTV2 is the path norm.
    assert net.rtv2 == pytest.approx(path_norm_np(r.module), rel=1e-9)
    # The loss column is the training loss: fit + (alpha/2)(||V||^2 + ||W||^2).
    fit = objective_P(net, X, y, 0.0, sw)
    pen = float(r.module.weight_decay_penalty().detach())
    assert r.loss == pytest.approx(fit + alpha * pen, rel=1e-10)
    # The best network attains the best objective; it is the running minimum of the history.
    assert r.best_objective == pytest.approx(objective_P(r.best_network, X, y, alpha, sw),
                                             rel=1e-12)
    assert r.best_objective == pytest.approx(r.history[:, 3].min(), rel=0, abs=0)


class _FakeClock:
    """A perf_counter that advances a fixed step per call, so time budgets are deterministic."""

    def __init__(self, step):
        self.step, self.now = step, 0.0

    def perf_counter(self):
        self.now += self.step
        return self.now


def test_history_time_excludes_evaluations(data_2d, monkeypatch):
    import radonsolve.baselines as baselines
    X, y, alpha = data_2d
    # Each epoch reads the clock at its start and end: 1/64 s of training time per epoch (a
    # power of two, so sums are exact). The evaluations read no clock; they must not count.
    step = 1 / 64
    monkeypatch.setattr(baselines, "time", _FakeClock(step))
    r = train_weight_decay(X, y, alpha, width=16, n_epochs=10**6, eval_every=10**6,
                           eval_every_seconds=2 * step, time_budget=0.3, random_state=0)
    t = r.history[:, 0]
    assert t[0] == 0.0 and r.history[0, 1] == 0
    assert np.all(np.diff(t) > 0)
    assert r.time == t[-1]
    # The budget is checked after every epoch: the run stops at the first epoch ending past it.
    assert r.n_epochs == 20 and r.time == 20 * step and r.history[-1, 1] == r.n_epochs
    assert np.all(t[:-1] < 0.3)
    # One evaluation every two epochs of training time, the first and the last included.
    np.testing.assert_array_equal(r.history[:, 1], np.arange(0, 21, 2))
    np.testing.assert_array_equal(t, r.history[:, 1] * step)
    assert r.wall_time > r.time                      # the wall clock also saw the set-up reads
    ttf = r.time_to_final(1e-4)
    assert 0.0 <= ttf <= r.time
    assert r.time_to(r.best_objective) == r.time_to_final(0.0)


def test_time_budget_stops_a_real_run(data_2d):
    X, y, alpha = data_2d
    r = train_weight_decay(X, y, alpha, width=16, n_epochs=10**6, eval_every=10**6,
                           time_budget=0.2, random_state=0)
    # No wall-clock upper bound: a loaded machine can make one epoch arbitrarily long.
    assert r.time >= 0.2 and r.time <= r.wall_time
    assert r.n_epochs < 10**6 and r.history[-1, 1] == r.n_epochs
    assert np.all(r.history[:-1, 0] < 0.2)


def test_cosine_schedule_runs(data_1d):
    X, y, alpha = data_1d
    r = train_weight_decay(X, y, alpha, width=16, lr=1e-2, n_epochs=100, eval_every=20,
                           lr_schedule="cosine", random_state=0)
    assert r.n_epochs == 100 and np.isfinite(r.objective)
    assert r.params["lr_schedule"] == "cosine"


# ----------------------------------------------------------------------------- penalties
def test_path_norm_at_most_weight_decay_penalty(data_2d):
    X, y, alpha = data_2d
    gen = torch.Generator().manual_seed(0)
    for width in (0, 1, 7, 50):
        m = make_shallow_relu_net(2, width)
        with torch.no_grad():
            m.hidden.weight.copy_(3 * torch.randn(width, 2, generator=gen, dtype=torch.float64))
            m.output.weight.copy_(torch.randn(1, width, generator=gen, dtype=torch.float64) / 3)
        pn, wd = float(m.path_norm().detach()), float(m.weight_decay_penalty().detach())
        assert pn <= wd + 1e-12
        assert pn == pytest.approx(path_norm_np(m), rel=1e-12, abs=1e-15)
        assert network_from_torch(m).rtv2 <= pn * (1 + 1e-12) + 1e-15
    r = train_weight_decay(X, y, alpha, width=32, n_epochs=100, random_state=0)
    with torch.no_grad():
        assert float(r.module.path_norm()) <= float(r.module.weight_decay_penalty()) + 1e-12
        # The balanced export of a network: all three penalties coincide.
        m = network_to_torch(r.network, balanced=True)
        assert float(m.path_norm()) == pytest.approx(float(m.weight_decay_penalty()),
                                                     rel=1e-12)
        assert float(m.path_norm()) == pytest.approx(r.network.rtv2, rel=1e-12)


# ----------------------------------------------------------------------------- warm start
def test_training_from_exact_solution_finds_nothing_lower():
    X, y = make_piecewise_linear_1d(100, random_state=2)
    alpha = 0.02 * alpha_max(X, y)
    est = RadonReLURegressor(alpha=alpha, tol=1e-10).fit(X, y)
    assert est.certified_
    rs = est.objective_
    assert rs == pytest.approx(objective_P(est.network_, X, y, alpha), rel=1e-12)
    for lr, seed, extra in ((1e-3, 0, 0), (1e-2, 1, 8)):
        r = train_weight_decay(X, y, alpha, init=est.network_, width=est.n_neurons_ + extra,
                               lr=lr, n_epochs=400, eval_every=10, random_state=seed)
        # Training starts exactly at radonsolve's function and objective.
        assert r.history[0, 3] == pytest.approx(rs, rel=1e-10)
        if extra == 0:
            # Balanced start, no fresh neurons: the training loss is (P) itself.
            assert r.history[0, 2] == pytest.approx(rs, rel=1e-10)
        assert r.best_objective >= rs * (1 - 1e-6)


def test_best_of_grid(data_1d):
    X, y, alpha = data_1d
    best, runs = best_of_weight_decay(X, y, alpha, widths=(8, 16), seeds=(0,), lrs=(1e-2,),
                                      n_epochs=50)
    assert len(runs) == 2
    assert best.best_objective == min(r.best_objective for r in runs)
    assert {r.params["width"] for r in runs} == {8, 16}


# ----------------------------------------------------------------------------- inputs
BAD_KWARGS = [
    dict(alpha=-1.0), dict(alpha=float("nan")), dict(alpha="a"),
    dict(width=-1), dict(width=2.5), dict(width=None), dict(width="8"),
    dict(lr=0.0), dict(lr=-1e-3), dict(lr=float("nan")), dict(lr="x"), dict(lr=None),
    dict(n_epochs=-1), dict(n_epochs=1.5), dict(n_epochs=None),
    dict(optimizer="rmsprop"), dict(batch_size=0), dict(batch_size=2.5),
    dict(optimizer="lbfgs", batch_size=10), dict(eval_every=0), dict(eval_every=1.5),
    dict(eval_every_seconds=0.0), dict(eval_every_seconds=-1.0),
    dict(time_budget=0.0), dict(time_budget=-1.0), dict(time_budget=float("nan")),
    dict(lr_schedule="step"), dict(n_threads=0), dict(loss="hinge"),
    dict(sample_weight=-np.ones(30)), dict(sample_weight=np.zeros(30)),
    dict(sample_weight=np.ones(29)),
]


@pytest.mark.parametrize("kwargs", BAD_KWARGS, ids=[repr(k)[:60] for k in BAD_KWARGS])
def test_bad_parameters_raise(kwargs):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 2)), rng.standard_normal(30)
    kw = dict(alpha=0.01, width=4, n_epochs=2)
    kw.update(kwargs)
    alpha = kw.pop("alpha")
    with pytest.raises(ValueError):
        train_weight_decay(X, y, alpha, **kw)


def test_bad_data_raise():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 2)), rng.standard_normal(30)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    cases = [
        (Xn, y, {}), (X, y[:-1], {}), (X[:0], y[:0], {}), (X[:, :, None], y, {}),
        (X, np.ones((30, 2, 2)), {}), (X, y, dict(loss="logistic")),
        (X, y, dict(init=ReLUNetwork(np.ones((1, 3)), [0.0], [1.0], np.zeros(3), 0.0))),
    ]
    for Xc, yc, kw in cases:
        with pytest.raises(ValueError):
            train_weight_decay(Xc, yc, 0.01, width=4, n_epochs=1, **kw)
    with pytest.raises(ValueError):
        best_of_weight_decay(X, y, 0.01, width=4)
    with pytest.raises(ValueError):
        best_of_weight_decay(X, y, 0.01, widths=())
    net = ReLUNetwork(np.ones((1, 3)), [0.0], [1.0], np.zeros(3), 0.0)
    with pytest.raises(ValueError):
        penalized_objective(net, X, y, 0.01)
    with pytest.raises(ValueError):
        penalized_objective(network_from_torch(make_shallow_relu_net(2, 3)), X, y, -1.0)


def test_divergence_is_reported_not_raised(data_2d):
    X, y, alpha = data_2d
    with pytest.warns(RuntimeWarning, match="diverged"):
        r = train_weight_decay(X, 1e150 * y, alpha, width=8, optimizer="sgd", lr=1e3,
                               n_epochs=50, eval_every=1, random_state=0)
    assert r.n_epochs < 50 and math.isinf(r.objective)


# ---------------------------------------------------------------------------- Adam then L-BFGS
def test_adam_then_lbfgs_continues_adams_function():
    X, y = make_relu_ridges_2d(80, random_state=1)
    alpha = 0.05 * alpha_max(X, y, random_state=0)
    res = train_adam_then_lbfgs(X, y, alpha, width=16, lr=1e-2, adam_epochs=40,
                                lbfgs_epochs=15, random_state=0)
    adam = train_weight_decay(X, y, alpha, width=16, lr=1e-2, n_epochs=40, random_state=0)
    k = res.params["phase_start"]
    # The first phase is exactly Adam on its own (same seed, same steps).
    np.testing.assert_allclose(res.history[:k, 1:], adam.history[:, 1:], rtol=1e-12)
    # L-BFGS starts from Adam's last parameters: same training loss and same (P) objective.
    np.testing.assert_allclose(res.history[k, 2:], res.history[k - 1, 2:], rtol=1e-12)
    # ... at the training time Adam stopped (its last row is its last epoch).
    assert res.history[k, 0] == res.history[k - 1, 0]
    assert np.all(np.diff(res.history[:, 0]) >= 0)
    assert res.n_epochs == 55 and res.history[-1, 1] == 55
    # The strong Wolfe line search only accepts decreasing steps.
    assert res.history[-1, 2] <= res.history[k, 2]
    assert res.best_objective == pytest.approx(float(np.min(res.history[:, 3])), rel=1e-12)
    assert res.best_objective == pytest.approx(objective_P(res.best_network, X, y, alpha),
                                               rel=1e-10)
    assert res.objective == pytest.approx(objective_P(res.network, X, y, alpha), rel=1e-10)
    assert res.params["adam"]["optimizer"] == "adam"
    assert res.params["lbfgs"]["optimizer"] == "lbfgs"


def test_adam_then_lbfgs_phases_can_be_skipped():
    X, y = make_piecewise_linear_1d(40, random_state=0)
    res = train_adam_then_lbfgs(X, y, 1e-3, width=8, adam_epochs=0, lbfgs_epochs=10,
                                random_state=0)
    # No Adam step: the history starts at the initialization, evaluated once per phase.
    assert res.params["phase_start"] == 1 and res.n_epochs == 10
    np.testing.assert_allclose(res.history[1, 2:], res.history[0, 2:], rtol=1e-12)


@pytest.mark.parametrize("kwargs,name", [
    (dict(adam_epochs=-1), "adam_epochs"),
    (dict(lbfgs_epochs=2.5), "lbfgs_epochs"),
    (dict(adam_time=0.0), "adam_time"),
    (dict(lbfgs_time=-1.0), "lbfgs_time"),
    (dict(lbfgs_lr=0.0), "lbfgs_lr"),
    (dict(lbfgs_lr=math.inf), "lbfgs_lr"),
])
def test_adam_then_lbfgs_rejects_bad_settings(kwargs, name):
    X, y = make_piecewise_linear_1d(20, random_state=0)
    with pytest.raises(ValueError, match=name):
        train_adam_then_lbfgs(X, y, 1e-3, width=4, **kwargs)
