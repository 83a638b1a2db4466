"""Branch-and-bound upper bound on sup eta (radonsolve.certificate.bound, DESIGN §11)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from radonsolve import RadonReLURegressor, alpha_max
from radonsolve.certificate import (bound_certificate, certifiable_eta, duality_gap_for_P,
                                    eta, eta_cap_bound, exact_certificate_2d)
from radonsolve.dictionary import ReLUDictionary
from radonsolve.directions import spread_directions
from radonsolve.lasso import alpha_max_from_dictionary
from radonsolve.refine import ExchangeOptions, SquaredLossFamily, exchange
from radonsolve.solvers import WorkingSetCD


def _projected(X, z):
    """z minus its least-squares affine fit on X: orthogonal to 1 and to X's columns."""
    A = np.column_stack([np.ones(len(X)), X])
    return z - A @ np.linalg.lstsq(A, z, rcond=None)[0]


def _problem(N, d, seed, shift=0.0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((N, d)) + shift
    z = np.maximum(X[:, 0] - X[:, 1] - shift * 0.5, 0) + 0.3 * rng.standard_normal(N)
    return X, _projected(X, z)


def _in_cap(w0, radius, n, rng):
    """n random unit vectors within angle ``radius`` of unit w0 (boundary included)."""
    d = len(w0)
    V = rng.standard_normal((n, d))
    V -= np.outer(V @ w0, w0)
    V /= np.linalg.norm(V, axis=1)[:, None]
    ang = radius * rng.uniform(0, 1, n) ** 0.5
    ang[:n // 4] = radius          # the rim, where the bound is tightest
    return np.cos(ang)[:, None] * w0[None, :] + np.sin(ang)[:, None] * V


@pytest.mark.parametrize("d,shift", [(3, 0.0), (3, 5.0), (4, 0.0)])
def test_cap_bound_is_valid_everywhere_in_the_cap(d, shift):
    X, q = _problem(40, d, 1, shift)
    alpha = 0.05
    rng = np.random.RandomState(2)
    C = rng.standard_normal((30, d))
    C /= np.linalg.norm(C, axis=1)[:, None]
    radii = np.concatenate([10.0 ** rng.uniform(-4, 0, 27), [0.0, np.pi / 2, 1e-9]])
    ub = eta_cap_bound(X, q, alpha, C, radii)
    for k in range(len(C)):
        W = _in_cap(C[k], radii[k], 200, rng)
        e = eta(X, q, alpha, W)[0]
        assert e.max() <= ub[k] * (1 + 1e-12) + 1e-12, (k, radii[k])
    # a cap of radius 0 is its center: the bound is eta there
    e0 = eta(X, q, alpha, C[-3:-2])[0][0]
    assert ub[-3] == pytest.approx(e0, rel=1e-9)
    # caps on hyperplanes through pairs (and triples) of data points, where hinges cross
    # the cap and the bound treats the crossing points one by one
    C2 = []
    for _ in range(30):
        i, j, k = rng.choice(len(X), 3, replace=False)
        v = rng.standard_normal(d)
        for a in (X[i] - X[j], X[i] - X[k]):
            v -= (v @ a) / (a @ a) * a
        C2.append(v / np.linalg.norm(v))
    C2 = np.asarray(C2)
    radii2 = 10.0 ** rng.uniform(-4, -1, len(C2))
    ub2 = eta_cap_bound(X, q, alpha, C2, radii2)
    for k in range(len(C2)):
        e = eta(X, q, alpha, _in_cap(C2[k], radii2[k], 300, rng))[0]
        assert e.max() <= ub2[k] * (1 + 1e-12) + 1e-12, (k, radii2[k])


def test_cap_bound_is_tight_on_small_caps():
    X, q = _problem(60, 3, 3)
    alpha = 0.05
    w0 = np.array([0.6, 0.0, 0.8])
    u = np.array([0.8, 0.0, -0.6])
    v = np.cross(w0, u)
    phi = np.linspace(0, 2 * np.pi, 4000, endpoint=False)
    Xc = X - X.mean(axis=0)
    # what shifting every projection by its largest move would cost (first order)
    shift_slack = np.sum(np.abs(q) * np.linalg.norm(Xc, axis=1)) / alpha
    for r in (1e-3, 1e-4):
        rim = np.cos(r) * w0 + np.sin(r) * (np.cos(phi)[:, None] * u + np.sin(phi)[:, None] * v)
        cap_max = eta(X, q, alpha, rim)[0].max()
        ub = eta_cap_bound(X, q, alpha, w0[None, :], [r])[0]
        assert cap_max <= ub * (1 + 1e-12)
        # the linear part is maximized exactly over the cap: the bound is the cap's maximum
        # up to the rim's sampling, a thousandth of the shifted bound's slack or less
        assert ub - cap_max <= 1e-3 * shift_slack * r


def test_two_features_embedded_in_three_match_the_exact_sweep():
    rng = np.random.RandomState(4)
    X2, q = _problem(50, 2, 4)
    alpha = 0.05
    exact = exact_certificate_2d(X2, q, alpha).eta
    Qr, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    X3 = np.column_stack([X2, np.zeros(len(X2))]) @ Qr.T
    rtol = 1e-6
    res = bound_certificate(X3, q, alpha, rtol=rtol)
    assert res.stop == "complete"
    assert res.lower <= exact * (1 + 1e-10)
    assert exact <= res.upper * (1 + 1e-10)
    assert res.upper <= exact * (1 + rtol) * (1 + 1e-10)
    # the direction found lies (up to the rotation) in the data's plane
    assert abs(res.direction @ Qr[:, 2]) < 1e-3


@pytest.mark.parametrize("d", [3, 4])
def test_bound_dominates_a_dense_grid(d):
    X, q = _problem(25, d, 5)
    alpha = 0.05
    rtol = 1e-3 if d == 4 else 1e-5
    res = bound_certificate(X, q, alpha, rtol=rtol)
    W = np.random.RandomState(6).standard_normal((40000 if d == 3 else 20000, d))
    grid = eta(X, q, alpha, W)[0].max()
    assert grid <= res.upper * (1 + 1e-12)
    assert res.lower <= res.upper <= res.lower * (1 + rtol) * (1 + 1e-12)
    # the reported direction and bias are genuine
    e, b, _ = eta(X, q, alpha, res.direction[None, :])
    assert e[0] == pytest.approx(res.lower, rel=1e-10)
    assert res.bias == pytest.approx(b[0], rel=1e-9, abs=1e-9)


def test_threshold_certifies_or_finds_directions_above_it():
    X, q = _problem(30, 3, 7)
    alpha = 0.05
    sup = bound_certificate(X, q, alpha, rtol=1e-6)
    hi = bound_certificate(X, q, alpha, threshold=1.01 * sup.upper)
    assert hi.certified and hi.upper <= 1.01 * sup.upper
    # far fewer cells than the supremum itself
    assert hi.n_cells < sup.n_cells
    lo = bound_certificate(X, q, alpha, threshold=0.9 * sup.lower, stop_above=True)
    assert not lo.certified and lo.stop == "above"
    assert len(lo.directions) and np.all(lo.etas > 0.9 * sup.lower)
    np.testing.assert_allclose(eta(X, q, alpha, lo.directions)[0], lo.etas, rtol=1e-10)
    assert lo.upper >= sup.lower * (1 - 1e-12)


def test_budget_stop_keeps_a_valid_bound():
    X, q = _problem(30, 3, 8)
    alpha = 0.05
    full = bound_certificate(X, q, alpha, rtol=1e-9)
    grid = eta(X, q, alpha, np.random.RandomState(9).standard_normal((20000, 3)))[0].max()
    for kw in (dict(max_cells=50), dict(max_time=0.0), dict(max_depth=2)):
        res = bound_certificate(X, q, alpha, rtol=1e-9, **kw)
        assert res.stop == next(iter(kw)) and not res.certified
        # still a proven, finite bound, looser than the complete search's
        assert np.isfinite(res.upper)
        assert grid <= res.upper * (1 + 1e-12)
        assert full.upper <= res.upper * (1 + 1e-9)
        assert res.lower <= full.lower * (1 + 1e-12)


def test_certifiable_eta_inverts_the_gap():
    rng = np.random.RandomState(10)
    b = rng.standard_normal(20)
    rho = 0.4 * b + 0.05 * rng.standard_normal(20)
    primal = float(b @ rho) - 0.5 * float(rho @ rho) + 1e-4   # gap 1e-4 at eta <= 1
    for tol in (2e-4, 1e-3):
        e = certifiable_eta(b, rho, primal, tol)
        assert e > 1
        assert duality_gap_for_P(b, rho, primal, e) == pytest.approx(tol, rel=1e-8)
        assert duality_gap_for_P(b, rho, primal, e * (1 + 1e-6)) > tol
    # a finite gap already above the tolerance: nothing beyond 1 certifies
    assert certifiable_eta(b, rho, primal, 5e-5) == 1.0


def test_input_errors_name_the_argument():
    X, q = _problem(20, 3, 11)
    with pytest.raises(ValueError, match="q must have a single output"):
        bound_certificate(X, np.column_stack([q, q]), 0.1)
    with pytest.raises(ValueError, match="X must have at least two features"):
        bound_certificate(X[:, :1], _projected(X[:, :1], q), 0.1)
    with pytest.raises(ValueError, match="max_cells"):
        bound_certificate(X, q, 0.1, max_cells=0)
    with pytest.raises(ValueError, match="alpha"):
        bound_certificate(X, q, 0.0)
    with pytest.raises(ValueError, match="radii"):
        eta_cap_bound(X, q, 0.1, np.eye(3), [0.1, 0.2, 2.0])


def test_refined_three_feature_fit_ends_with_a_bound():
    rng = np.random.RandomState(12)
    N = 40
    X = rng.standard_normal((N, 3))
    y = np.maximum(X @ [1.0, -0.5, 0.3] - 0.2, 0) - np.maximum(X[:, 1] + X[:, 2], 0) \
        + 0.1 * rng.standard_normal(N)
    u = np.full(N, 1.0 / N)
    W = spread_directions(16, 3, 0)
    alpha = 0.1 * alpha_max_from_dictionary(ReLUDictionary(X, W), y[:, None], u)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        out = exchange(SquaredLossFamily(X, y[:, None], u, alpha), W, WorkingSetCD(tol=1e-8),
                       ExchangeOptions(tol=1e-6), random_state=0)
    problem, result, gap_P, history, converged = (out.problem, out.result, out.gap_P,
                                                  out.history, out.converged)
    last = history[-1]
    assert converged and last.stop_reason == "gap"
    assert last.certificate_kind == "bound"
    assert gap_P <= 1e-6 * problem.affine_objective
    # the bound is proven: no direction exceeds it
    rho = problem.residual(result.idx, result.coef)
    q = (problem.projector.sqrt_u[:, None] * rho)[:, 0]
    e = eta(X, q, alpha, np.random.RandomState(13).standard_normal((5000, 3)))[0]
    assert e.max() <= last.eta_bound * (1 + 1e-12)
    assert gap_P == pytest.approx(duality_gap_for_P(problem.b, rho, result.objective,
                                                    last.eta), rel=1e-10, abs=1e-15)


def test_three_ridges_400_points_end_certified_by_the_bound():
    # The d = 3 case (N = 400, standardized): the fit ends certified_ with a proven
    # bound. At 0.1 alpha_max the weight-decay start puts the first rounds so close to the
    # optimum that the bound can neither prove nor refute the threshold; the rounds must go
    # on with the searched violators instead of stopping on the searched gap.
    from radonsolve.datasets import make_relu_ridges_3d

    X, y = make_relu_ridges_3d(400, random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    y = (y - y.mean()) / y.std()
    alpha = 0.1 * alpha_max(X, y, random_state=0)
    m = RadonReLURegressor(alpha=alpha, random_state=0).fit(X, y)
    assert m.certificate_kind_ == "bound" and m.certified_
    assert m.stop_reason_ == "gap"
    A = np.column_stack([np.ones(len(X)), X])
    r = y - A @ np.linalg.lstsq(A, y, rcond=None)[0]
    assert 0 <= m.global_gap_ <= 1e-6 * 0.5 * np.mean(r ** 2)
