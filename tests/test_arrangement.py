"""The exact arrangement program (DESIGN §8) against the direction-dictionary route."""

import numpy as np
import pytest

from radonsolve import RadonReLURegressor
from radonsolve.arrangement import arrangement_patterns, fit_arrangement
from radonsolve.certificate import exact_certificate_2d

# The exchange loop is run here, by hand, on explicit directions.
NO_REFINE = {"refine": False} if "refine" in RadonReLURegressor().get_params() else {}


def objective_P(net, X, y, u, alpha):
    """(P) evaluated directly at a network: weighted squares plus alpha * RTV2."""
    return 0.5 * float(u @ (y - net.predict(X)) ** 2) + alpha * net.rtv2


def problem(N, seed, d=2):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (N, d))
    y = np.sin(3 * X[:, 0]) * X[:, -1] + 0.1 * rng.standard_normal(N)
    s = rng.uniform(0.5, 2.0, N)
    return X, y, s, s / s.sum()


def critical_directions(X, n_spaced=64):
    """Normals of the line through every pair of points, plus equally spaced angles."""
    i, j = np.triu_indices(len(X), 1)
    diff = X[j] - X[i]
    Wc = np.column_stack([-diff[:, 1], diff[:, 0]])
    th = (np.arange(n_spaced) + 0.5) * np.pi / n_spaced
    return np.vstack([Wc / np.linalg.norm(Wc, axis=1, keepdims=True),
                      np.column_stack([np.cos(th), np.sin(th)])])


def dual_lower_bound(X, y, u, pred, eta):
    """Lower bound on the optimum of (P) from a residual and the exact sup of eta."""
    su = np.sqrt(u)
    Q, _ = np.linalg.qr(np.column_stack([np.ones(len(X)), X]) * su[:, None])
    proj = lambda z: z - Q @ (Q.T @ z)  # noqa: E731
    b, rho = proj(su * y), proj(su * (y - pred))
    s = min(1.0, 1.0 / eta)
    return s * float(b @ rho) - 0.5 * s * s * float(rho @ rho), su * rho


@pytest.mark.parametrize("N,alpha,seed", [(12, 1e-3, 1), (15, 1e-2, 1), (18, 3e-3, 1)])
def test_exact_program_matches_dictionary_with_certificate(N, alpha, seed):
    X, y, s, u = problem(N, seed)
    net, info = fit_arrangement(X, y, u, alpha)
    assert info["exact"]
    arr = info["objective"]
    # The recovered network attains the program's value, within the representer bound.
    assert objective_P(net, X, y, u, alpha) == pytest.approx(arr, rel=1e-6)
    assert net.n_neurons <= N - 3
    # Direction dictionary (all critical directions and many others), then an exchange loop
    # driven by the exact 2D certificate until it proves optimality.
    W = critical_directions(X)
    for _ in range(10):
        model = RadonReLURegressor(alpha, directions=W, solver="cvxpy", **NO_REFINE).fit(
            X, y, sample_weight=s)
        pred = model.predict(X)
        _, q = dual_lower_bound(X, y, u, pred, 1.0)
        cert = exact_certificate_2d(X, q, alpha)
        lower, _ = dual_lower_bound(X, y, u, pred, cert.eta)
        upper = model.objective_
        # Exact: never above a dictionary solution, never below a proven lower bound.
        assert arr <= upper * (1 + 1e-7)
        assert arr >= lower - 1e-7 * abs(upper)
        if cert.eta <= 1 + 1e-6:
            break
        W = np.vstack([W, cert.direction, cert.directions])
    assert cert.eta <= 1 + 1e-6
    assert arr == pytest.approx(upper, rel=1e-4)


def test_one_feature_matches_exact_dictionary():
    """d = 1: the ReLU dictionary with biases at the data is exact, so both routes agree."""
    X, y, s, u = problem(25, 3, d=1)
    for alpha in (1e-2, 1e-3):
        net, info = fit_arrangement(X, y, u, alpha)
        assert info["exact"] and info["n_patterns"] == 24
        ref = RadonReLURegressor(alpha, solver="cvxpy", **NO_REFINE).fit(X, y, sample_weight=s)
        assert info["objective"] == pytest.approx(ref.objective_, rel=1e-6)
        assert objective_P(net, X, y, u, alpha) == pytest.approx(info["objective"], rel=1e-6)


def test_enumeration_is_complete_in_2d():
    X, _, _, _ = problem(14, 5)
    masks, exact = arrangement_patterns(X)
    assert exact
    # Points in general position: N (N - 1) / 2 nonempty patterns up to complement.
    assert len(masks) == 14 * 13 // 2
    keys = {m.tobytes() for m in masks}
    rng = np.random.default_rng(0)
    for w in rng.standard_normal((300, 2)):
        p = X @ w
        for b in np.sort(p)[:-1]:
            m = p > b
            m = ~m if m[0] else m
            if m.any():
                assert m.tobytes() in keys


def test_sampled_patterns_in_3d_and_weights():
    X, y, s, u = problem(16, 7, d=3)
    net, info = fit_arrangement(X, y, s, 3e-3, n_patterns=150, random_state=0)
    assert not info["exact"]
    assert info["n_patterns"] == 150
    assert objective_P(net, X, y, u, 3e-3) == pytest.approx(info["objective"], rel=1e-6)
    dense, info_dense = fit_arrangement(X, y, s, 3e-3, n_patterns=150, random_state=0,
                                        sparsify=False)
    assert info_dense["objective"] == pytest.approx(info["objective"], rel=1e-12)
    assert objective_P(dense, X, y, u, 3e-3) == pytest.approx(info["objective"], rel=1e-6)
    assert net.n_neurons <= min(dense.n_neurons, 16 - 4)
    # Large alpha: no neuron, the value of the weighted affine least-squares fit.
    net_big, info_big = fit_arrangement(X, y, u, 1e3, n_patterns=50, random_state=0)
    assert net_big.n_neurons == 0
    A = np.column_stack([np.ones(16), X]) * np.sqrt(u)[:, None]
    r = np.sqrt(u) * y - A @ np.linalg.lstsq(A, np.sqrt(u) * y, rcond=None)[0]
    assert info_big["objective"] == pytest.approx(0.5 * r @ r, rel=1e-6)


def test_validation():
    X, y, s, u = problem(10, 0)
    with pytest.raises(NotImplementedError):
        fit_arrangement(X, np.column_stack([y, y]), u, 1e-2)
    with pytest.raises(ValueError):
        fit_arrangement(X, y, u, -1.0)
    with pytest.raises(ValueError):
        fit_arrangement(X, y[:-1], u, 1e-2)
    with pytest.raises(ValueError):
        fit_arrangement(X, y, -u, 1e-2)
    with pytest.raises(ValueError):
        fit_arrangement(np.column_stack([X, X[:, 0]]), y, u, 1e-2, patterns="exact")
