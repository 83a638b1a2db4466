"""Tests of the dual certificate over directions (radonsolve.certificate)."""

import numpy as np
import pytest

from radonsolve.certificate import (
    Certificate,
    SweepEvents,
    duality_gap_for_P,
    eta,
    eta_upper_bound_2d,
    exact_certificate_2d,
    search_certificate,
)
from radonsolve.dictionary import AffineProjector


# ------------------------------------------------------------------------------ helpers
def residual(X, rng, T=1, n_atoms=3, weights=True):
    """Realistic weighted projected residual q = sqrt(u) * rho, and (b, projector, u).

    Random targets, affine part removed by weighted least squares, then a partial fit on a
    few random atoms subtracted, so that q is a genuine projected residual.
    """
    N, d = X.shape
    u = rng.uniform(0.5, 2.0, N) if weights else np.ones(N)
    u = u / u.sum()
    P = AffineProjector(X, u)
    Y = rng.standard_normal((N, T)) + np.sin(3 * X[:, :1])
    b = P.project(P.sqrt_u[:, None] * Y)
    if n_atoms:
        W = rng.standard_normal((n_atoms, d))
        W /= np.linalg.norm(W, axis=1, keepdims=True)
        bias = np.einsum("ij,ij->i", W, X[rng.randint(0, N, n_atoms)])
        G = P.project(P.sqrt_u[:, None] * np.maximum(X @ W.T - bias, 0.0))
        V = np.linalg.lstsq(G, b, rcond=None)[0]
        b_res = b - 0.5 * G @ V
    else:
        b_res = b
    return P.sqrt_u[:, None] * b_res, b, P, u


def brute_eta(X, q, alpha, W):
    """Dense: atoms max(Xw - b, 0) for b at every data projection, max ||A^T q|| / alpha."""
    q = q.reshape(len(X), -1)
    out = np.empty(len(W))
    for k, w in enumerate(W):
        p = X @ w
        A = np.maximum(p[:, None] - p[None, :], 0.0)
        out[k] = np.linalg.norm(A.T @ q, axis=1).max() / alpha
    return out


def angles_to_dirs(th):
    return np.column_stack([np.cos(th), np.sin(th)])


def brute_sup_2d(X, q, alpha):
    """Maximum of eta over every angle where the 2D maximum can sit.

    The maximum over the half circle is attained either at a critical angle (two points
    project equally) or at a stationary angle of some anchor's correlation ||G_j^T w|| on an
    interval of fixed order. We evaluate eta at all critical angles (and +- tiny offsets),
    and at the stationary angles of every G_j for the order in every interval: since any
    direction gives a value <= sup, and the maximizer is among these, the max is exact.
    """
    q = q.reshape(len(X), -1)
    N = len(X)
    i, j = np.triu_indices(N, 1)
    D = X[i] - X[j]
    D = D[np.linalg.norm(D, axis=1) > 0]
    crit = np.unique(np.mod(np.arctan2(D[:, 1], D[:, 0]) + np.pi / 2, np.pi))
    ext = np.concatenate([crit, [crit[0] + np.pi]])
    mids = 0.5 * (ext[:-1] + ext[1:])
    cand = [crit, crit - 1e-9, crit + 1e-9, mids]
    for th in mids:
        w = np.array([np.cos(th), np.sin(th)])
        o = np.argsort(X @ w)
        Xs, qs = X[o], q[o]
        for jj in range(N - 1):
            G = (Xs[jj + 1:] - Xs[jj]).T @ qs[jj + 1:]  # 2 x T
            evals, evecs = np.linalg.eigh(G @ G.T)
            v = evecs[:, -1]
            cand.append([np.arctan2(v[1], v[0])])
    th = np.concatenate(cand)
    e, _, _ = eta(X, q, alpha, angles_to_dirs(th))
    return e.max()


def grid_points(rng, n, k=5, n_dup=4):
    """Points of a k x k integer grid (many collinear triples, equal critical angles),
    with duplicated points and a few generic ones."""
    g = np.array([(a, b) for a in range(k) for b in range(k)], dtype=float)
    X = g[rng.choice(len(g), size=min(n, len(g)), replace=False)]
    X = np.vstack([X, X[rng.randint(0, len(X), n_dup)], rng.standard_normal((3, 2))])
    return X * 0.7 - 1.0


# ------------------------------------------------------------------------------ eta
@pytest.mark.parametrize("T", [1, 3])
def test_eta_matches_brute_force(T):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((40, 3))
    X[5] = X[7]  # duplicate point
    X[10:14, 0] = X[10, 0]  # ties along the first coordinate
    X[20:24] = np.round(X[20:24])
    q, _, _, _ = residual(X, rng, T=T)
    alpha = 0.01
    W = rng.standard_normal((30, 3))
    W = np.vstack([W, np.eye(3)])  # axis directions hit the ties exactly
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    qq = q[:, 0] if T == 1 else q
    e, bias, idx, corr = eta(X, qq, alpha, W, return_correlation=True)
    np.testing.assert_allclose(e, brute_eta(X, q, alpha, W), rtol=1e-10, atol=1e-12)
    # The reported atom attains it: bias at data point idx, correlation as returned.
    np.testing.assert_allclose(bias, np.einsum("ij,ij->i", W, X[idx]), atol=1e-12)
    for k in range(len(W)):
        c = np.maximum(X @ W[k] - bias[k], 0.0) @ q
        np.testing.assert_allclose(c.ravel(), np.ravel(corr[k]), atol=1e-10)
        assert np.isclose(np.linalg.norm(c) / alpha, e[k], rtol=1e-10)
    assert corr.shape == ((len(W),) if T == 1 else (len(W), T))


def test_eta_symmetric_and_chunked():
    rng = np.random.RandomState(1)
    X = rng.standard_normal((25, 2))
    q, _, _, _ = residual(X, rng)
    W = rng.standard_normal((5000, 2))  # several chunks are not needed; just many
    e1, _, _ = eta(X, q[:, 0], 0.1, W)
    e2, _, _ = eta(X, q[:, 0], 0.1, -W)  # q orthogonal to affine: eta(w) = eta(-w)
    np.testing.assert_allclose(e1, e2, rtol=1e-9, atol=1e-12)
    e3, _, _ = eta(X, q[:, 0], 0.1, 3.0 * W)  # rows are normalized
    np.testing.assert_allclose(e1, e3, rtol=1e-12)


def test_eta_warns_on_unprojected_residual():
    rng = np.random.RandomState(2)
    X = rng.standard_normal((20, 2))
    with pytest.warns(UserWarning, match="orthogonal"):
        eta(X, rng.standard_normal(20) + 1.0, 1.0, [[1.0, 0.0]])


# ------------------------------------------------------------------------------ exact 2D
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_2d_matches_brute_force_generic(seed):
    rng = np.random.RandomState(seed)
    N = [15, 25, 40][seed]
    X = rng.standard_normal((N, 2))
    q, _, _, _ = residual(X, rng)
    alpha = 0.02
    cert = exact_certificate_2d(X, q[:, 0], alpha)
    ref = brute_sup_2d(X, q, alpha)
    assert cert.exact
    assert cert.eta == pytest.approx(ref, rel=1e-9)
    # >= eta on 10,000 random directions
    th = rng.uniform(0, 2 * np.pi, 10000)
    e, _, _ = eta(X, q[:, 0], alpha, angles_to_dirs(th))
    assert cert.eta >= e.max() * (1 - 1e-12)
    # the returned atom attains it, in canonical form
    w = cert.direction
    assert np.isclose(np.linalg.norm(w), 1.0) and w[np.argmax(np.abs(w) > 1e-12)] > 0
    assert cert.bias == pytest.approx(w @ X[cert.index], abs=1e-12)
    c = np.maximum(X @ w - cert.bias, 0.0) @ q
    assert np.linalg.norm(c) / alpha == pytest.approx(cert.eta, rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_exact_2d_ties_duplicates_collinear(seed):
    rng = np.random.RandomState(10 + seed)
    X = grid_points(rng, 22 + 4 * seed)
    q, _, _, _ = residual(X, rng)
    alpha = 0.01
    cert = exact_certificate_2d(X, q[:, 0], alpha)
    ref = brute_sup_2d(X, q, alpha)
    assert cert.eta == pytest.approx(ref, rel=1e-9)
    e, _, _ = eta(X, q[:, 0], alpha, angles_to_dirs(np.linspace(0, np.pi, 10000)))
    assert cert.eta >= e.max() * (1 - 1e-12)


def test_exact_2d_all_points_on_lines():
    rng = np.random.RandomState(5)
    t = rng.uniform(-1, 1, 15)
    # two parallel lines and one crossing line, plus a repeated point: blocks of many
    # points reverse at the same angle
    X = np.vstack([np.column_stack([t, 0.5 * t + 0.1]), np.column_stack([t[:8], 0.5 * t[:8] - 0.4]),
                   np.column_stack([0.2 * t[:9], -2 * t[:9]]), [[0.3, 0.25]] * 3])
    q, _, _, _ = residual(X, rng)
    alpha = 0.01
    cert = exact_certificate_2d(X, q[:, 0], alpha)
    assert cert.eta == pytest.approx(brute_sup_2d(X, q, alpha), rel=1e-9)


def test_sweep_events_reused_across_residuals():
    # The critical angles depend on X only: one SweepEvents serves every residual on the
    # same points (duplicates included) and gives exactly the certificate built afresh.
    rng = np.random.RandomState(8)
    X = np.vstack([rng.standard_normal((30, 2)), grid_points(rng, 8, n_dup=2)])
    events = SweepEvents(X)
    for T in (1, 2):
        for _ in range(3):
            q, _, _, _ = residual(X, rng, T=T)
            fresh = exact_certificate_2d(X, q, 0.01)
            reused = exact_certificate_2d(X, q, 0.01, events=events)
            assert reused.eta == fresh.eta and reused.index == fresh.index
            np.testing.assert_array_equal(reused.directions, fresh.directions)
            assert reused.eta == pytest.approx(brute_sup_2d(X, q, 0.01), rel=1e-9)
    q_other, _, _, _ = residual(X[1:], rng)
    with pytest.raises(ValueError, match="other data"):
        exact_certificate_2d(X[1:], q_other, 0.01, events=events)
    with pytest.raises(ValueError, match="2 features"):
        SweepEvents(rng.standard_normal((5, 3)))


def test_exact_2d_several_outputs():
    rng = np.random.RandomState(7)
    X = np.vstack([rng.standard_normal((22, 2)), grid_points(rng, 8, n_dup=2)])
    q, _, _, _ = residual(X, rng, T=3)
    alpha = 0.02
    cert = exact_certificate_2d(X, q, alpha)
    assert cert.eta == pytest.approx(brute_sup_2d(X, q, alpha), rel=1e-9)
    e, _, _ = eta(X, q, alpha, angles_to_dirs(rng.uniform(0, np.pi, 10000)))
    assert cert.eta >= e.max() * (1 - 1e-12)


def test_exact_2d_top_k():
    rng = np.random.RandomState(3)
    X = rng.standard_normal((60, 2))
    q, _, _, _ = residual(X, rng)
    alpha = 0.005
    cert = exact_certificate_2d(X, q[:, 0], alpha, top_k=5, threshold=1.0, min_angle=0.05)
    assert 1 <= len(cert.etas) <= 5
    assert cert.etas[0] == pytest.approx(cert.eta, rel=1e-9)
    assert np.all(cert.etas > 1.0) and np.all(np.diff(cert.etas) <= 1e-12)
    e, _, _ = eta(X, q[:, 0], alpha, cert.directions)
    np.testing.assert_allclose(e, cert.etas, rtol=1e-9)
    np.testing.assert_allclose(cert.biases, np.array(
        [(X @ w)[np.argmin(np.abs(X @ w - b))] for w, b in zip(cert.directions, cert.biases)]))
    G = np.abs(cert.directions @ cert.directions.T) - np.eye(len(cert.etas))
    assert G.max() < np.cos(0.05)
    none = exact_certificate_2d(X, q[:, 0], alpha, threshold=1e9)
    assert none.directions.shape == (0, 2) and none.eta == pytest.approx(cert.eta)


def test_exact_2d_large_is_consistent():
    rng = np.random.RandomState(4)
    X = rng.standard_normal((400, 2))
    q, _, _, _ = residual(X, rng)
    cert = exact_certificate_2d(X, q[:, 0], 0.01)
    e, _, _ = eta(X, q[:, 0], 0.01, angles_to_dirs(np.linspace(0, np.pi, 20001)))
    assert e.max() <= cert.eta * (1 + 1e-12)
    assert e.max() >= cert.eta * (1 - 1e-3)  # the dense grid gets close


# Values of the previous implementation (one sweep over all N (N - 1) / 2 critical angles,
# O(N^2) memory) on the same inputs: eta, its direction and the top_k=3 local maxima.
PRE_BRANCH_AND_BOUND = [
    (0, 80, 1, "gauss", 9.847215956501994, [0.9770822957659342, 0.2128618972497696],
     [9.847215956501994, 9.813210965722872, 9.82340390050188]),
    (1, 150, 2, "gauss", 15.684832701265078, [0.9967773761963, -0.08021759347686572],
     [15.684832701265075, 15.680753931668695, 15.67671013798339]),
    (2, 120, 1, "grid", 7.434307550638273, [0.5547001962252289, -0.8320502943378438],
     [7.434307550638275, 7.316789885578194, 7.306781869965017]),
    (3, 60, 3, "gauss", 8.565308406736884, [0.9969249038772073, -0.07836284852799064],
     [8.565308406736884, 8.553047441482851, 8.536325676059098]),
]


@pytest.mark.parametrize("seed,N,T,kind,eta_ref,dir_ref,etas_ref", PRE_BRANCH_AND_BOUND)
def test_exact_2d_matches_previous_full_sweep(seed, N, T, kind, eta_ref, dir_ref, etas_ref):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((N, 2)) if kind == "gauss" else grid_points(rng, N)
    q, _, _, _ = residual(X, rng, T=T)
    cert = exact_certificate_2d(X, q, 0.01, top_k=3)
    assert cert.eta == pytest.approx(eta_ref, rel=1e-12)
    np.testing.assert_allclose(cert.direction, dir_ref, atol=1e-10)
    np.testing.assert_allclose(cert.etas, etas_ref, rtol=1e-12)


@pytest.mark.parametrize("T", [1, 2])
def test_interval_bound_is_valid_and_tight(T):
    rng = np.random.RandomState(10 + T)
    X = rng.standard_normal((300, 2)) + [3.0, -1.0]
    q, _, _, _ = residual(X, rng, T=T)
    alpha = 0.01
    for width in [1.0, 0.1, 0.01, 1e-3]:
        for _ in range(3):
            t0 = rng.uniform(-np.pi, np.pi)
            g = np.linspace(t0, t0 + width, 401)
            e, _, _ = eta(X, q, alpha, angles_to_dirs(g))
            bound = eta_upper_bound_2d(X, q, alpha, t0, t0 + width)
            assert bound >= e.max()
            if width <= 1e-3:
                # second order in the width: only points crossing the bias leave slack
                assert bound <= e.max() * (1 + 1e-4)
    with pytest.raises(ValueError, match="theta0 and theta1"):
        eta_upper_bound_2d(X, q, alpha, 0.0, 4.0)


def test_exact_2d_does_not_depend_on_n_jobs():
    rng = np.random.RandomState(5)
    X = rng.standard_normal((700, 2))
    q, _, _, _ = residual(X, rng)
    for top_k in (0, 10):
        ref = exact_certificate_2d(X, q, 0.02, top_k=top_k)
        for n_jobs in (2, 3, -1):
            c = exact_certificate_2d(X, q, 0.02, top_k=top_k, n_jobs=n_jobs)
            assert c.eta == ref.eta and c.bias == ref.bias and c.index == ref.index
            assert c.n_evaluated == ref.n_evaluated
            for a in ("direction", "directions", "etas", "biases"):
                np.testing.assert_array_equal(getattr(c, a), getattr(ref, a))
    with pytest.raises(ValueError, match="n_jobs"):
        exact_certificate_2d(X, q, 0.02, n_jobs=0)


def test_exact_2d_pruning_keeps_the_supremum():
    # Pruning at the threshold (top_k > 0) or at the best value found (top_k = 0) must keep
    # the exact supremum, below the threshold as well as above it.
    rng = np.random.RandomState(6)
    X = rng.standard_normal((50, 2))
    q, _, _, _ = residual(X, rng)
    sup = brute_sup_2d(X, q, 1.0)
    for alpha in (0.5 * sup, 2.0 * sup):  # eta_sup = 2 and 0.5
        ref = sup / alpha
        for top_k, thr in [(0, 1.0), (10, 1.0), (10, 1e9), (10, 0.0)]:
            c = exact_certificate_2d(X, q, alpha, top_k=top_k, threshold=thr)
            assert c.exact and c.eta == pytest.approx(ref, rel=1e-12)
            assert np.all(c.etas > thr) and np.all(c.etas <= c.eta * (1 + 1e-12))


# Residuals of 2-D fits (tests/test_invariances.py: _data(seed, n, 2), alpha = 0.03
# alpha_max, 8 initial directions, tol=1e-9) on which the interval bound of the branch and
# bound was invalid: the bound of the piece of biases ending at a point's lower range end
# was evaluated only after that point had turned from "crossing" to "sure", so the
# interval holding the supremum was pruned and the fits stopped above the optimum.
FIT_RESIDUALS = [
    # _data(2, 12, 2) rotated by 2.5 rad; eta on 200001 angles: 1.0000077973 at 2.7336
    dict(
        X=np.array([
            [0.6231607082538121, 0.03753807357152008],
            [-0.015026009665125977, 1.0299785805421304],
            [-0.4339640116577167, -0.2464048608414286],
            [1.0325368284865033, 0.339217851143602],
            [0.17212516047844503, -0.5216020392444569],
            [0.3190884987564061, 0.6352292966002612],
            [-0.09469461087542061, -0.35190008991193383],
            [-0.03569317392554056, -0.30582210662925235],
            [-0.9680850514701201, 0.26617236619115137],
            [0.5479893964487718, 0.37139217706646455],
            [0.233569904783045, -0.20210736965341813],
            [-0.9566645285052895, 0.02672328182103338],
        ]),
        q=np.array([
            0.0030222163368742593, 8.156011224400745e-06, 0.004989164000217831,
            -0.002080749690662877, -0.0020207708585089183, 0.0008456671221083105,
            -0.002061903656252151, -0.0036335362241713062, 0.0003779610364681014,
            -0.0017952897795440977, 0.004856512832672238, -0.0025074271304257917,
        ]),
        alpha=0.0012116037076059386,
    ),
    # _data(0, 9, 2); eta on 200001 angles: 1.0004050627 at 2.6292
    dict(
        X=np.array([
            [0.2739233746429086, -0.4604265724722594],
            [-0.9180529521276106, -0.9669447289429418],
            [0.6265404784005448, 0.8255111545554434],
            [0.21327155153435973, 0.4589931219679968],
            [0.08724998293084574, 0.8701448475755365],
            [0.6317071082430643, -0.9945229996597038],
            [0.7148085531751387, -0.9328288493890713],
            [0.45931089285988813, -0.648688758794882],
            [0.7263578446997732, 0.08292244049818343],
        ]),
        q=np.array([
            0.0013542792202163403, -0.0011935006248333477, -0.000670496973711951,
            0.004892610242351668, -0.003868337449272897, 0.0015719057449669767,
            -0.00635025324767601, 0.004880499318571811, -0.0006167062306125907,
        ]),
        alpha=0.0018482374927102255,
    ),
]


def lipschitz_slack(X, q, alpha, step):
    """Most that eta can exceed its largest value on a grid of angles spaced by step.

    eta(theta) is the max over anchors k of ||sum_n q_n ((x_n - x_k) . w(theta))_+|| /
    alpha, each Lipschitz in theta with constant sum_n ||q_n|| ||x_n - x_k|| / alpha.
    """
    qn = np.linalg.norm(q.reshape(len(X), -1), axis=1)
    L = (np.linalg.norm(X[:, None, :] - X[None, :, :], axis=2) @ qn).max() / alpha
    return 0.5 * L * step


def assert_matches_grid(X, q, alpha, cert, n_grid):
    th = np.linspace(0.0, np.pi, n_grid)
    e, _, _ = eta(X, q, alpha, angles_to_dirs(th))
    assert e.max() <= cert.eta * (1 + 1e-12)
    assert cert.eta <= e.max() + lipschitz_slack(X, q, alpha, th[1] - th[0]) + 1e-12 * e.max()


@pytest.mark.parametrize("case", range(len(FIT_RESIDUALS)))
def test_exact_2d_fit_residuals(case):
    X, q, alpha = (FIT_RESIDUALS[case][k] for k in ("X", "q", "alpha"))
    cert = exact_certificate_2d(X, q, alpha)
    assert cert.eta == pytest.approx(brute_sup_2d(X, q, alpha), rel=1e-12)
    assert_matches_grid(X, q, alpha, cert, 200001)
    assert cert.eta > 1.0 and np.any(cert.etas > 1.0)  # the violation the fit must see
    # The root cause: the bound of every interval of the first levels holds on it.
    for n_int in (16, 64):
        edges = np.linspace(0.0, np.pi, n_int + 1)
        for t0, t1 in zip(edges[:-1], edges[1:]):
            e, _, _ = eta(X, q, alpha, angles_to_dirs(np.linspace(t0, t1, 2001)))
            assert eta_upper_bound_2d(X, q, alpha, t0, t1) >= e.max()


def random_planar_residual(rng, target):
    """Small random points and projected random residual, rotated so that the largest eta
    on a dense grid sits at the angle ``target`` (None: where it falls)."""
    N = int(rng.randint(5, 31))
    T = 2 if rng.rand() < 0.25 else 1
    X = rng.uniform(-1.0, 1.0, (N, 2))
    u = rng.uniform(0.5, 2.0, N)
    P = AffineProjector(X, u / u.sum())
    q = P.sqrt_u[:, None] * P.project(P.sqrt_u[:, None] * rng.standard_normal((N, T)))
    if target is not None:
        th = np.linspace(0.0, np.pi, 20001)
        e, _, _ = eta(X, q, 1.0, angles_to_dirs(th))
        # eta(R x, w) = eta(x, R^T w): rotating X by r moves every angle by +r
        r = target - th[np.argmax(e)]
        X = X @ np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]]).T
    return X, (q[:, 0] if T == 1 else q)


# Near the ends of the half circle (0 and pi are one direction reversed), near pi / 2
# (the second coordinate's sign, and an edge of the first intervals) and anywhere.
@pytest.mark.parametrize("target", [1e-4, 1e-3, 0.5 * np.pi - 1e-3, 0.5 * np.pi,
                                    0.5 * np.pi + 1e-3, np.pi - 1e-3, np.pi - 1e-4, None])
def test_exact_2d_matches_dense_grid_on_small_residuals(target):
    rng = np.random.RandomState(int(1e6 * (target or 7.0)) % 2 ** 31)
    for _ in range(40):
        X, q = random_planar_residual(rng, target)
        alpha = 1.0
        cert = exact_certificate_2d(X, q, alpha, top_k=int(rng.rand() < 0.5) * 10)
        assert_matches_grid(X, q, alpha, cert, 20001)
        # the bound on intervals around the target, across the seam at pi and anywhere
        for width in (1.0, 0.2, 0.02):
            t0 = rng.uniform(-np.pi, np.pi) if target is None else target - rng.rand() * width
            e, _, _ = eta(X, q, alpha, angles_to_dirs(np.linspace(t0, t0 + width, 1001)))
            assert eta_upper_bound_2d(X, q, alpha, t0, t0 + width) >= e.max()


@pytest.mark.parametrize("s", [1e-12, 1e-6, 1.0, 1e6, 1e12])
def test_certificates_invariant_to_scale(s):
    # eta is dimensionless: X -> s X, q -> q / sqrt(s), alpha -> alpha sqrt(s) keeps it, so no
    # threshold inside may be absolute.
    rng = np.random.RandomState(7)
    X2 = rng.standard_normal((150, 2)) + [5.0, 0.0]
    q2, _, _, _ = residual(X2, rng)
    X3 = rng.standard_normal((150, 3))
    q3, _, _, _ = residual(X3, rng)
    f = np.sqrt(s)
    ref2 = exact_certificate_2d(X2, q2, 0.01, top_k=5)
    c2 = exact_certificate_2d(s * X2, q2 / f, 0.01 * f, top_k=5)
    assert c2.eta == pytest.approx(ref2.eta, rel=1e-9)
    np.testing.assert_allclose(c2.etas, ref2.etas, rtol=1e-9)
    assert eta_upper_bound_2d(s * X2, q2 / f, 0.01 * f, 0.3, 0.4) == pytest.approx(
        eta_upper_bound_2d(X2, q2, 0.01, 0.3, 0.4), rel=1e-9)
    W = rng.standard_normal((20, 3))
    np.testing.assert_allclose(eta(s * X3, q3 / f, 0.01 * f, W)[0], eta(X3, q3, 0.01, W)[0],
                               rtol=1e-9)
    ref3 = search_certificate(X3, q3, 0.01, n_candidates=200, random_state=0)
    c3 = search_certificate(s * X3, q3 / f, 0.01 * f, n_candidates=200, random_state=0)
    assert c3.eta == pytest.approx(ref3.eta, rel=1e-9)


def test_search_does_not_depend_on_n_jobs():
    rng = np.random.RandomState(8)
    X = rng.standard_normal((300, 3))
    q, _, _, _ = residual(X, rng)
    ref = search_certificate(X, q, 0.01, n_candidates=300, random_state=1)
    c = search_certificate(X, q, 0.01, n_candidates=300, random_state=1, n_jobs=2)
    assert c.eta == ref.eta
    np.testing.assert_array_equal(c.directions, ref.directions)


def test_exact_2d_rejects_other_dimensions():
    with pytest.raises(ValueError):
        exact_certificate_2d(np.zeros((5, 3)), np.zeros(5), 1.0)
    with pytest.raises(ValueError):
        exact_certificate_2d(np.zeros((5, 2)), np.zeros(5), 0.0)


# ------------------------------------------------------------------------------ search
def test_search_beats_given_random_directions():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((150, 6))
    q, _, _, _ = residual(X, rng)
    alpha = 0.005
    R = rng.standard_normal((500, 6))
    cert = search_certificate(X, q[:, 0], alpha, n_candidates=300, extra_directions=R,
                              random_state=0)
    e, _, _ = eta(X, q[:, 0], alpha, R)
    assert not cert.exact
    assert cert.eta >= e.max()
    # it is a genuine value at the returned atom
    c = np.maximum(X @ cert.direction - cert.bias, 0.0) @ q
    assert np.linalg.norm(c) / alpha == pytest.approx(cert.eta, rel=1e-9)
    assert cert.bias == pytest.approx(cert.direction @ X[cert.index], abs=1e-12)
    # top-k: distinct, above threshold, sorted, consistent
    assert np.all(cert.etas > 1.0) and len(cert.etas) <= 10
    assert cert.etas[0] == pytest.approx(cert.eta)
    np.testing.assert_allclose(eta(X, q[:, 0], alpha, cert.directions)[0], cert.etas, rtol=1e-9)


@pytest.mark.parametrize("T", [1, 2])
def test_search_screening_reports_values_on_all_samples(T):
    # More samples than screen_samples: candidates are ranked and ascended on a subsample,
    # but every value the certificate reports is eta on all samples, and the search still
    # finds a planted violation.
    rng = np.random.RandomState(3)
    X = rng.standard_normal((900, 4))
    q, _, _, _ = residual(X, rng, T=T)
    alpha = 0.002
    full = search_certificate(X, q, alpha, n_candidates=400, n_ascent=10, random_state=0,
                              screen_samples=None, top_k=20)
    scr = search_certificate(X, q, alpha, n_candidates=400, n_ascent=10, random_state=0,
                             screen_samples=200, top_k=20)
    c = np.maximum(X @ scr.direction - scr.bias, 0.0) @ q
    assert np.linalg.norm(c) / alpha == pytest.approx(scr.eta, rel=1e-9)
    assert scr.bias == pytest.approx(scr.direction @ X[scr.index], abs=1e-12)
    np.testing.assert_allclose(eta(X, q, alpha, scr.directions)[0], scr.etas, rtol=1e-9)
    assert scr.eta >= 0.99 * full.eta
    # fewer evaluations on all samples is the point: the count includes the screening
    assert scr.n_evaluated > 0


def test_search_ascent_improves_and_multi_output():
    rng = np.random.RandomState(1)
    X = rng.standard_normal((120, 5))
    q, _, _, _ = residual(X, rng, T=2)
    alpha = 0.01
    no_ascent = search_certificate(X, q, alpha, n_candidates=200, n_ascent=0, random_state=0)
    asc = search_certificate(X, q, alpha, n_candidates=200, n_ascent=10, random_state=0)
    assert asc.eta >= no_ascent.eta
    c = np.maximum(X @ asc.direction - asc.bias, 0.0) @ q
    assert np.linalg.norm(c) / alpha == pytest.approx(asc.eta, rel=1e-9)


def test_search_ascends_extra_directions():
    rng = np.random.RandomState(4)
    X = rng.standard_normal((100, 4))
    q, _, _, _ = residual(X, rng)
    alpha = 0.01
    E = rng.standard_normal((6, 4))
    base = search_certificate(X, q[:, 0], alpha, n_candidates=50, n_ascent=0,
                              extra_directions=E, random_state=0)
    slid = search_certificate(X, q[:, 0], alpha, n_candidates=50, n_ascent=0,
                              extra_directions=E, ascend_extra=True, random_state=0)
    assert slid.eta >= base.eta
    assert slid.n_evaluated > base.n_evaluated


def test_search_does_not_depend_on_thread_count():
    # The ascents run in parallel; each start owns its perturbation stream, so one thread
    # and several give the same certificate.
    numba = pytest.importorskip("numba")
    rng = np.random.RandomState(5)
    X = rng.standard_normal((150, 6))
    q, _, _, _ = residual(X, rng)
    E = rng.standard_normal((12, 6))
    n_max = numba.config.NUMBA_NUM_THREADS
    old = numba.get_num_threads()
    try:
        found = []
        for n in sorted({1, min(2, n_max), n_max}):
            numba.set_num_threads(n)
            found.append(search_certificate(X, q[:, 0], 0.01, n_candidates=300, n_ascent=10,
                                            extra_directions=E, ascend_extra=True,
                                            random_state=0))
    finally:
        numba.set_num_threads(old)
    for c in found[1:]:
        assert c.eta == found[0].eta and c.n_evaluated == found[0].n_evaluated
        np.testing.assert_array_equal(c.directions, found[0].directions)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_search_matches_exact_in_2d(seed):
    rng = np.random.RandomState(20 + seed)
    X = rng.standard_normal((60, 2))
    q, _, _, _ = residual(X, rng)
    alpha = 0.01
    exact = exact_certificate_2d(X, q[:, 0], alpha)
    found = search_certificate(X, q[:, 0], alpha, n_candidates=200, random_state=seed)
    assert found.eta <= exact.eta * (1 + 1e-12)
    assert found.eta == pytest.approx(exact.eta, rel=1e-6)


def test_search_d1_is_exact():
    rng = np.random.RandomState(2)
    X = rng.standard_normal((30, 1))
    q, _, _, _ = residual(X, rng)
    cert = search_certificate(X, q[:, 0], 0.01)
    assert cert.exact
    assert cert.eta == pytest.approx(brute_eta(X, q, 0.01, np.ones((1, 1)))[0])


# ------------------------------------------------------------------------------ gap
def _solve_lasso(G, b, alpha):
    cp = pytest.importorskip("cvxpy")
    v = cp.Variable(G.shape[1])
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(b - G @ v) + alpha * cp.norm1(v)))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return v.value


def test_gap_formula_zero_at_certified_optimum_and_nonnegative():
    # Collinear data in the plane: the exact univariate dictionary (direction along the
    # line, biases at the data) solves (P), and the certificate over all directions
    # proves it.
    rng = np.random.RandomState(0)
    N = 30
    t = np.sort(rng.uniform(-2, 2, N))
    X = np.column_stack([t, 0.5 * t])
    u = np.ones(N) / N
    P = AffineProjector(X, u)
    y = np.sin(2 * t) + 0.3 * rng.standard_normal(N)
    b = P.project(P.sqrt_u * y)
    w = np.array([1.0, 0.5]) / np.sqrt(1.25)
    Phi = np.maximum((X @ w)[:, None] - (X @ w)[None, 1:-1], 0.0)
    G = P.project(P.sqrt_u[:, None] * Phi)
    alpha = 0.01
    v = _solve_lasso(G, b, alpha)
    rho = b - G @ v
    primal = 0.5 * rho @ rho + alpha * np.abs(v).sum()
    q = P.sqrt_u * rho
    cert = exact_certificate_2d(X, q, alpha)
    dense, _, _ = eta(X, q, alpha, angles_to_dirs(np.linspace(0, np.pi, 2001)))
    assert cert.eta >= dense.max() * (1 - 1e-12)
    assert cert.eta <= 1 + 1e-6
    gap = duality_gap_for_P(b, rho, primal, cert.eta)
    assert -1e-12 <= gap <= 1e-8 * (0.5 * b @ b)
    # away from the optimum (a worse solution, 2D data), the gap is positive
    X2 = rng.standard_normal((N, 2))
    P2 = AffineProjector(X2, u)
    b2 = P2.project(P2.sqrt_u * np.sin(2 * X2[:, 0]))
    for scale in [0.0, 0.5]:
        Phi2 = np.maximum(X2 @ np.eye(2) - 0.1, 0.0)
        G2 = P2.project(P2.sqrt_u[:, None] * Phi2)
        v2 = scale * np.linalg.lstsq(G2, b2, rcond=None)[0]
        rho2 = b2 - G2 @ v2
        primal2 = 0.5 * rho2 @ rho2 + alpha * np.abs(v2).sum()
        c2 = exact_certificate_2d(X2, P2.sqrt_u * rho2, alpha)
        assert c2.eta > 1
        assert duality_gap_for_P(b2, rho2, primal2, c2.eta) > 0
    with pytest.raises(ValueError):
        duality_gap_for_P(b, rho, primal, -1.0)


def test_gap_matches_lasso_dual_objective():
    from radonsolve.lasso import dual_objective
    rng = np.random.RandomState(3)
    b = rng.standard_normal(20)
    rho = 0.6 * b + 0.1 * rng.standard_normal(20)
    for eta_sup in [0.3, 1.0, 2.5]:
        gap = duality_gap_for_P(b, rho, 10.0, eta_sup)
        assert gap == pytest.approx(10.0 - dual_objective(b, rho, 0.7 * eta_sup, 0.7))


def test_certificate_holds():
    c = Certificate(0.999, np.array([1.0, 0.0]), 0.0, True, np.zeros((0, 2)), np.zeros(0), 1)
    assert c.holds()
    c.exact = False
    assert not c.holds()
