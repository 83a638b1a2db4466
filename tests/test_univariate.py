"""Tests of the exact univariate solver against an independent cvxpy trend-filtering model."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from radonsolve import RadonReLURegressor
from radonsolve.univariate import (
    UnivariateFit,
    certify_spline,
    merge_ties,
    solve_univariate,
    sparsest_spline,
    univariate_alpha_max,
)


# --------------------------------------------------------------------------- references
def cvx_trend_filter(x, y, u, alpha):
    """Independent model: fitted values z at the exact-distinct x, slopes from differences.

    Minimizes 0.5 sum_n u_n (y_n - z_{g(n)})^2 + alpha sum_i |slope_{i+1} - slope_i| on the
    original (untied) data. Returns (optimal value, xs, z).
    """
    xs, inv = np.unique(x, return_inverse=True)
    z = cp.Variable(xs.size)
    loss = 0.5 * cp.sum(cp.multiply(u, cp.square(y - z[inv])))
    if xs.size > 2:
        slopes = cp.multiply(1.0 / np.diff(xs), z[1:] - z[:-1])
        pen = alpha * cp.norm1(slopes[1:] - slopes[:-1])
    else:
        pen = 0
    prob = cp.Problem(cp.Minimize(loss + pen))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-10, tol_feas=1e-10,
               max_iter=500)
    assert prob.status == cp.OPTIMAL, prob.status
    return prob.value, xs, z.value


def objective_of(fit, x, y, u, alpha):
    """Objective of the returned spline recomputed from scratch with a dense evaluation."""
    f = np.maximum(x[:, None] - fit.knots[None, :], 0.0) @ fit.outer \
        + fit.skip_slope * x + fit.intercept
    r = y - f
    return 0.5 * np.sum(u * r * r) + alpha * np.sum(np.abs(fit.outer))


def dense_alpha_max(x, y, u):
    """max_j |Phi_j^T (u r)| with a dense dictionary and a dense weighted affine fit."""
    xs = np.unique(x)
    A = np.column_stack([np.ones_like(x), x]) * np.sqrt(u)[:, None]
    coef = np.linalg.lstsq(A, np.sqrt(u) * y, rcond=None)[0]
    r = y - coef[0] - coef[1] * x
    Phi = np.maximum(x[:, None] - xs[None, 1:-1], 0.0)
    return np.abs(Phi.T @ (u * r)).max(), coef


def noisy_pwl(rng, N, n_knots=4, sigma=0.1, ties=False):
    x = np.sort(rng.uniform(-1, 1, N))
    if ties:
        x = np.round(x * 20) / 20          # many exact duplicates
    t = np.sort(rng.uniform(-0.8, 0.8, n_knots))
    v = rng.normal(size=n_knots) * 3
    y = np.maximum(x[:, None] - t, 0) @ v + 0.5 * x + sigma * rng.normal(size=N)
    perm = rng.permutation(N)               # unsorted input on purpose
    return x[perm], y[perm]


CASES = [
    # (seed, N, ties, weighted, alpha fraction of alpha_max)
    (0, 150, False, False, 1e-1),
    (1, 200, False, False, 1e-2),
    (2, 250, False, False, 1e-3),
    (3, 200, True, False, 1e-2),
    (4, 300, True, False, 1e-3),
    (5, 200, False, True, 1e-2),
    (6, 250, True, True, 3e-3),
    (7, 120, False, True, 3e-1),
]


# --------------------------------------------------------------------------- against cvxpy
@pytest.mark.parametrize("seed,N,ties,weighted,frac", CASES)
def test_matches_cvxpy(seed, N, ties, weighted, frac):
    rng = np.random.default_rng(seed)
    x, y = noisy_pwl(rng, N, ties=ties)
    if weighted:
        u = rng.uniform(0.2, 3.0, N)
        u /= u.sum()
    else:
        u = np.full(N, 1.0 / N)
    amax = univariate_alpha_max(x, y, u)
    alpha = frac * amax
    fit = solve_univariate(x, y, u, alpha, tol=1e-9)
    assert isinstance(fit, UnivariateFit)
    assert fit.converged
    ref, xs_ref, z_ref = cvx_trend_filter(x, y, u, alpha)

    # same optimal value
    assert abs(fit.objective - ref) <= 1e-6 * abs(ref)
    # the reported objective is the objective of the returned spline
    assert np.isclose(fit.objective, objective_of(fit, x, y, u, alpha), rtol=1e-10, atol=0)
    # the gap is honest and bounds the suboptimality (up to cvxpy's own accuracy)
    assert 0 <= fit.dual_gap <= 1e-9 * fit.affine_objective
    assert fit.objective - ref <= fit.dual_gap + 1e-8 * abs(ref)
    # same fitted values (they are unique)
    scale = np.abs(z_ref).max()
    assert np.abs(fit.predict(xs_ref) - z_ref).max() <= 1e-4 * scale
    # knots are interior data points, at most n' - 2, with nonzero weights
    assert fit.n_knots <= xs_ref.size - 2
    assert np.all(np.isin(fit.knots, xs_ref[1:-1]))
    assert np.all(fit.outer != 0)
    assert np.all(np.diff(fit.knots) > 0)


def test_gap_bounds_suboptimality_when_stopped_early():
    rng = np.random.default_rng(11)
    x, y = noisy_pwl(rng, 300, n_knots=6, sigma=0.3)
    u = np.full(300, 1 / 300)
    alpha = 1e-3 * univariate_alpha_max(x, y, u)
    ref, _, _ = cvx_trend_filter(x, y, u, alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for max_iter in (1, 2, 3, 4):
            fit = solve_univariate(x, y, u, alpha, tol=1e-14, max_iter=max_iter)
            assert np.isclose(fit.objective, objective_of(fit, x, y, u, alpha), rtol=1e-10)
            assert fit.objective - ref <= fit.dual_gap + 1e-9 * ref
            assert fit.dual_gap >= 0


def test_convergence_warning_on_max_iter():
    rng = np.random.default_rng(12)
    x, y = noisy_pwl(rng, 300, n_knots=6, sigma=0.3)
    alpha = 1e-3 * univariate_alpha_max(x, y)
    with pytest.warns(ConvergenceWarning):
        fit = solve_univariate(x, y, None, alpha, tol=1e-12, max_iter=2)
    assert not fit.converged
    assert fit.relative_gap > 1e-12
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fit = solve_univariate(x, y, None, alpha, tol=1e-6)
    assert fit.converged and fit.relative_gap <= 1e-6


# --------------------------------------------------------------------------- alpha_max
@pytest.mark.parametrize("weighted", [False, True])
def test_alpha_max(weighted):
    rng = np.random.default_rng(21)
    N = 120
    x, y = noisy_pwl(rng, N, ties=True)
    u = rng.uniform(0.5, 2, N) if weighted else np.full(N, 1.0 / N)
    amax = univariate_alpha_max(x, y, u)
    ref, coef = dense_alpha_max(x, y, u)
    assert np.isclose(amax, ref, rtol=1e-10)

    above = solve_univariate(x, y, u, amax * (1 + 1e-9))
    assert above.n_knots == 0
    assert np.isclose(above.skip_slope, coef[1], rtol=1e-10, atol=1e-12)
    assert np.isclose(above.intercept, coef[0], rtol=1e-10, atol=1e-12)
    assert np.isclose(above.objective, above.affine_objective, rtol=1e-12)
    assert above.dual_gap <= 1e-12 * above.affine_objective

    below = solve_univariate(x, y, u, amax * (1 - 1e-3))
    assert below.n_knots >= 1
    assert below.objective < above.affine_objective


def test_alpha_zero_interpolates_merged_targets():
    rng = np.random.default_rng(31)
    x, y = noisy_pwl(rng, 80, ties=True)
    fit = solve_univariate(x, y, None, 0.0)
    xs, ys, us, inv, tie = merge_ties(x, y)
    assert np.allclose(fit.predict(xs), ys, atol=1e-9 * np.abs(ys).max())
    assert fit.n_knots <= xs.size - 2
    assert np.isclose(fit.objective, tie, rtol=1e-8)
    assert fit.dual_gap <= 1e-12 * fit.affine_objective


def test_few_distinct_points():
    # two distinct points: the line through the two weighted means, no knot
    x = np.array([0.0, 0.0, 1.0, 1.0, 1.0])
    y = np.array([1.0, 3.0, 2.0, 2.0, 5.0])
    u = np.array([1.0, 1.0, 1.0, 2.0, 1.0])
    fit = solve_univariate(x, y, u, 0.1)
    assert fit.n_knots == 0
    assert np.isclose(fit.predict(0.0), 2.0) and np.isclose(fit.predict(1.0), 11 / 4)
    assert np.isclose(fit.objective, objective_of(fit, x, y, u, 0.1))
    # one distinct point: a constant at the weighted mean
    fit1 = solve_univariate(np.ones(3), np.array([1.0, 2.0, 6.0]), None, 0.5)
    assert fit1.n_knots == 0 and np.isclose(fit1.predict(7.0), 3.0)
    # three points, alpha = 0: interpolation with one knot
    fit3 = solve_univariate(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 0.0]), None, 0.0)
    assert fit3.n_knots == 1 and np.isclose(fit3.outer[0], -2.0)


def test_knot_count_bound_and_inputs_untouched():
    rng = np.random.default_rng(41)
    for N in (5, 10, 40):
        x = rng.normal(size=N)
        y = rng.normal(size=N)
        u = rng.uniform(0.1, 1, N)
        copies = (x.copy(), y.copy(), u.copy())
        for frac in (0.0, 1e-9, 1e-4, 1e-2):
            alpha = frac * univariate_alpha_max(x, y, u)
            for sp in (False, True):
                fit = solve_univariate(x, y, u, alpha, sparsest=sp, tol=1e-10)
                assert fit.n_knots <= N - 2
        assert all(np.array_equal(a, b) for a, b in zip((x, y, u), copies))


def test_shapes_and_errors():
    rng = np.random.default_rng(51)
    x, y = noisy_pwl(rng, 60)
    a = 1e-2 * univariate_alpha_max(x, y)
    f1 = solve_univariate(x, y, None, a)
    f2 = solve_univariate(x[:, None], y[:, None], None, a)
    assert np.allclose(f1.knots, f2.knots) and np.allclose(f1.outer, f2.outer)
    with pytest.raises(NotImplementedError):
        solve_univariate(x, np.column_stack([y, y]), None, a)
    with pytest.raises(ValueError):
        solve_univariate(x, y, None, -1.0)
    with pytest.raises(ValueError):
        solve_univariate(x, y, -np.ones_like(x), a)
    with pytest.raises(ValueError):
        solve_univariate(x, y[:-1], None, a)


# --------------------------------------------------------------------------- ties
def test_merge_ties():
    x = np.array([3.0, 1.0, 2.0, 1.0 + 1e-14, 2.0 + 1e-6, 3.0])
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 7.0])
    u = np.array([1.0, 1.0, 1.0, 3.0, 1.0, 1.0])
    xs, ys, us, inv, tie = merge_ties(x, y, u)
    # 1 and 1 + 1e-14 merge (relative 1e-12 of the spread max - min = 2), 2 and 2 + 1e-6 do not
    assert np.allclose(xs, [1.0, 2.0, 2.0 + 1e-6, 3.0], rtol=0, atol=0)
    assert np.allclose(us, [4.0, 1.0, 1.0, 2.0])
    assert np.allclose(ys, [(2 + 12) / 4, 3.0, 5.0, 4.0])
    assert np.array_equal(xs[inv], [3.0, 1.0, 2.0, 1.0, 2.0 + 1e-6, 3.0])
    expected_tie = 0.5 * (1 * (2 - 3.5) ** 2 + 3 * (4 - 3.5) ** 2 + (1 - 4) ** 2 + (7 - 4) ** 2)
    assert np.isclose(tie, expected_tie)
    Y = np.column_stack([y, 2 * y])
    _, Ys, _, _, tie2 = merge_ties(x, Y, u)
    assert np.allclose(Ys[:, 1], 2 * ys) and np.isclose(tie2, 5 * expected_tie)


# --------------------------------------------------------------------------- sparsest
def three_knot_data(rng, N=60):
    """Samples of a 3-knot spline whose knots lie strictly between data points."""
    x = np.sort(rng.uniform(0, 1, N))
    x[0], x[-1] = 0.0, 1.0
    # one knot inside each of three well-separated data gaps
    gaps = [N // 4, N // 2, 3 * N // 4]
    t = np.array([x[i] + 0.37 * (x[i + 1] - x[i]) for i in gaps])
    v = np.array([2.0, -3.0, 1.5])
    y = np.maximum(x[:, None] - t, 0) @ v + 0.3 * x - 0.2
    return x, y, t, v


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparsest_recovers_three_knots(seed):
    rng = np.random.default_rng(seed)
    x, y, t, v = three_knot_data(rng)
    alpha = 1e-8 * univariate_alpha_max(x, y)
    dots = solve_univariate(x, y, None, alpha, tol=1e-12)
    sparse = solve_univariate(x, y, None, alpha, tol=1e-12, sparsest=True)
    assert dots.n_knots == 6
    assert sparse.n_knots == 3
    assert abs(sparse.objective - dots.objective) <= 1e-9 * dots.objective
    assert np.isclose(sparse.total_variation, dots.total_variation, rtol=1e-9)
    assert sparse.converged and sparse.dual_gap <= 1e-12 * sparse.affine_objective
    # the knots are the true ones (alpha is tiny) and none is a data point
    assert np.allclose(sparse.knots, t, atol=1e-6)
    assert np.allclose(sparse.outer, v, rtol=1e-5)
    assert not np.any(np.isin(sparse.knots, x))
    assert np.allclose(sparse.predict(x), dots.predict(x), atol=1e-12)


def test_sparsest_spline_runs():
    x = np.arange(10.0)
    # connect-the-dots knots at x = 2, 3, 4 (+,+,+), 6 (-), 7, 8 (+, +)
    knots = np.array([2.0, 3.0, 4.0, 6.0, 7.0, 8.0])
    outer = np.array([1.0, 2.0, 0.5, -1.0, 0.3, 0.4])
    kn, ov, c, c0 = sparsest_spline(knots, outer, 0.5, 1.0, x)
    # runs of 3, 1, 2 same-sign knots need 2 + 1 + 1 knots
    assert kn.size == 4
    f_old = UnivariateFit(knots, outer, 0.5, 1.0, 0, 0, 0, True).predict(x)
    f_new = UnivariateFit(kn, ov, c, c0, 0, 0, 0, True).predict(x)
    assert np.allclose(f_new, f_old, atol=1e-12)
    assert np.isclose(np.abs(ov).sum(), np.abs(outer).sum(), rtol=1e-12)
    assert np.all(np.sign(ov) == [1, 1, -1, 1])
    # merged knots strictly between data points
    assert 2 < kn[0] < 3 and kn[1] == 4.0 and kn[2] == 6.0 and 7 < kn[3] < 8


def test_sparsest_spline_random_never_worse():
    rng = np.random.default_rng(61)
    for _ in range(20):
        N = rng.integers(3, 40)
        x = np.round(rng.uniform(-2, 2, N), 2)              # with ties
        k = rng.integers(0, 12)
        knots = np.sort(rng.uniform(-2.5, 2.5, k))
        outer = rng.normal(size=k) * (rng.uniform(size=k) < 0.8)
        c, c0 = rng.normal(), rng.normal()
        kn, ov, c2, c02 = sparsest_spline(knots, outer, c, c0, x)
        xs = np.unique(x)
        f_old = UnivariateFit(knots, outer, c, c0, 0, 0, 0, True).predict(xs)
        f_new = UnivariateFit(kn, ov, c2, c02, 0, 0, 0, True).predict(xs)
        assert np.allclose(f_new, f_old, atol=1e-10)
        assert np.abs(ov).sum() <= np.abs(outer).sum() + 1e-10
        assert kn.size <= max(xs.size - 2, 0)
        assert np.all(ov != 0) and np.all(np.diff(kn) > 0)


@pytest.mark.parametrize("seed", [3, 4])
def test_sparsest_keeps_objective_on_noisy_data(seed):
    rng = np.random.default_rng(seed)
    x, y = noisy_pwl(rng, 200, ties=True)
    alpha = 1e-3 * univariate_alpha_max(x, y)
    a = solve_univariate(x, y, None, alpha, tol=1e-12)
    b = solve_univariate(x, y, None, alpha, tol=1e-12, sparsest=True)
    assert abs(a.objective - b.objective) <= 1e-9 * a.objective
    assert b.n_knots <= a.n_knots
    assert np.isclose(b.objective, objective_of(b, x, y, np.full(200, 1 / 200), alpha),
                      rtol=1e-10)


# --------------------------------------------------------------------------- certificate
def dense_certificate(x, y, u, alpha, fit):
    """Independent certificate and gap of a spline: dense atoms at every data point and a
    least-squares projection (no sorting, no recurrences)."""
    f = np.maximum(x[:, None] - fit.knots[None, :], 0.0) @ fit.outer \
        + fit.skip_slope * x + fit.intercept
    r = y - f
    A = np.column_stack([np.ones_like(x), x]) * np.sqrt(u)[:, None]
    coef = np.linalg.lstsq(A, np.sqrt(u) * r, rcond=None)[0]
    rp = r - coef[0] - coef[1] * x                   # weighted projection of the residual
    corr = np.maximum(x[:, None] - x[None, :], 0.0).T @ (u * rp)
    eta = np.abs(corr).max() / alpha
    primal = 0.5 * np.sum(u * r * r) + alpha * np.sum(np.abs(fit.outer))
    sc = min(1.0, 1.0 / eta)
    yp = y - np.linalg.lstsq(A, np.sqrt(u) * y, rcond=None)[0] @ np.vstack([np.ones_like(x), x])
    dual = sc * np.sum(u * yp * rp) - 0.5 * sc * sc * np.sum(u * rp * rp)
    return eta, primal - dual


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("max_iter", [1, 2, 100])
def test_certificate_matches_dense_reference(max_iter, ties):
    rng = np.random.default_rng(71)
    x, y = noisy_pwl(rng, 250, n_knots=6, sigma=0.2, ties=ties)
    u = rng.uniform(0.5, 2.0, x.size)
    u /= u.sum()
    alpha = 1e-3 * univariate_alpha_max(x, y, u)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = solve_univariate(x, y, u, alpha, tol=1e-12, max_iter=max_iter)
    opt = solve_univariate(x, y, u, alpha, tol=1e-13)
    eta, gap = dense_certificate(x, y, u, alpha, fit)
    # tied points add nothing to any correlation: the certificate is the same either way
    assert fit.certificate == pytest.approx(eta, rel=1e-8)
    if ties:
        # The solver's dual point lives on the merged data; on the raw data the same
        # scaling s gives a gap larger by 0.5 (1 - s)^2 times the tie constant.
        assert fit.global_gap <= gap * (1 + 1e-9) + 1e-12 * fit.affine_objective
    else:
        assert fit.global_gap == pytest.approx(gap, rel=1e-6, abs=1e-10 * fit.affine_objective)
    # both gaps are honest bounds on the suboptimality
    assert fit.objective - opt.objective <= fit.dual_gap + 1e-12 * fit.affine_objective
    assert 0 <= fit.dual_gap <= fit.global_gap + 1e-12 * fit.affine_objective
    if max_iter == 1:
        assert fit.certificate > 1.01          # stopped early: a violated dual constraint
    elif max_iter == 100:
        assert fit.converged and fit.certificate <= 1 + 1e-6
    assert fit.alpha_max == pytest.approx(univariate_alpha_max(x, y, u), rel=1e-12)


def test_certify_spline_of_any_spline():
    rng = np.random.default_rng(72)
    x, y = noisy_pwl(rng, 200, n_knots=5, sigma=0.1)
    u = np.full(200, 1 / 200)
    alpha = 1e-2 * univariate_alpha_max(x, y)
    opt = solve_univariate(x, y, None, alpha, tol=1e-12)
    same = certify_spline(x, y, None, alpha, opt.knots, opt.outer, opt.skip_slope,
                          opt.intercept)
    assert same.objective == pytest.approx(opt.objective, rel=1e-12)
    assert same.certificate == pytest.approx(opt.certificate, rel=1e-9)
    # a spline with knots off the data points, in any order
    knots = np.array([0.3, -0.41, 0.05])
    outer = np.array([1.0, -2.0, 0.5])
    chk = certify_spline(x[:, None], y, u, alpha, knots, outer, 0.2, -0.1)
    ref = UnivariateFit(knots, outer, 0.2, -0.1, 0, 0, 0, True)
    eta, gap = dense_certificate(x, y, u, alpha, ref)
    assert chk.objective == pytest.approx(objective_of(ref, x, y, u, alpha), rel=1e-12)
    assert chk.certificate == pytest.approx(eta, rel=1e-8)
    assert chk.dual_gap == pytest.approx(gap, rel=1e-8)
    assert chk.objective - opt.objective <= chk.dual_gap * (1 + 1e-9)
    assert np.all(np.diff(chk.knots) > 0)
    with pytest.raises(ValueError, match="knots and outer"):
        certify_spline(x, y, None, alpha, knots, outer[:2], 0.0, 0.0)


def test_fit_memory_has_no_rows_times_knots_array():
    # About 100 knots at N = 100,000: an N x n_knots float array would be 80 MB; the whole
    # fit (solver, certificate, objective on the data) must stay within a few N-vectors.
    import tracemalloc

    rng = np.random.default_rng(73)
    N = 100_000
    x = rng.uniform(0, 1, N)
    t = np.sort(rng.uniform(0.02, 0.98, 150))
    v = rng.normal(size=150) * 5
    y = 0.3 * x + 0.05 * rng.normal(size=N)
    for tk, vk in zip(t, v):
        y += vk * np.maximum(x - tk, 0.0)
    alpha = 1e-5 * univariate_alpha_max(x, y)
    model = RadonReLURegressor(alpha=alpha)
    model.fit(x[:20, None], y[:20])                 # compile / load kernels outside
    tracemalloc.start()
    model.fit(x[:, None], y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert model.n_neurons_ >= 60
    assert model.certified_
    assert peak <= 20 * 8 * N, peak / (8 * N)


# --------------------------------------------------------------------------- scale invariance
SCALES = (1e-12, 1e-6, 1.0, 1e6, 1e12)


def scaled_problem():
    rng = np.random.default_rng(81)
    x, y = noisy_pwl(rng, 150, n_knots=9, sigma=0.02)
    alpha = 1e-3 * univariate_alpha_max(x, y)
    return x, y, alpha


def test_solver_invariant_under_scaling():
    # f -> c f(./s) maps (P) for (x, y, alpha) to c^2 (P) for (s x, c y, alpha c s): the data
    # term scales as c^2 and RTV2 as c / s. Knots scale by s, slope changes by c / s.
    x, y, alpha = scaled_problem()
    ref = solve_univariate(x, y, None, alpha, tol=1e-10)
    assert ref.n_knots >= 5
    for s in SCALES:
        for c in SCALES:
            fit = solve_univariate(s * x, c * y, None, alpha * c * s, tol=1e-10)
            assert fit.n_knots == ref.n_knots, (s, c)
            assert fit.objective / c ** 2 == pytest.approx(ref.objective, rel=1e-7), (s, c)
            np.testing.assert_allclose(fit.knots / s, ref.knots, rtol=1e-12)
            np.testing.assert_allclose(fit.outer * s / c, ref.outer, rtol=1e-6)
            assert fit.converged and fit.relative_gap <= 1e-10
            assert fit.certificate == pytest.approx(ref.certificate, rel=1e-6)
            assert fit.alpha_max / (c * s) == pytest.approx(ref.alpha_max, rel=1e-9)


def test_estimator_invariant_under_scaling():
    x, y, alpha = scaled_problem()
    ref = RadonReLURegressor(alpha=alpha, tol=1e-10).fit(x[:, None], y)
    assert ref.certified_
    for s in SCALES:
        for c in SCALES:
            with warnings.catch_warnings():
                warnings.simplefilter("error", ConvergenceWarning)
                m = RadonReLURegressor(alpha=alpha * c * s, tol=1e-10).fit(s * x[:, None], c * y)
            assert m.n_neurons_ == ref.n_neurons_, (s, c)
            assert m.objective_ / c ** 2 == pytest.approx(ref.objective_, rel=1e-7), (s, c)
            np.testing.assert_allclose(m.network_.biases / s, ref.network_.biases, rtol=1e-12)
            assert m.certified_ and m.certificate_ <= 1 + 1e-6, (s, c)
            assert m.dual_gap_ / c ** 2 <= 1e-10 * ref.objective_ + ref.dual_gap_ * 10
            assert m.alpha_max_ / (c * s) == pytest.approx(ref.alpha_max_, rel=1e-9)


def test_ties_relative_to_spread_not_magnitude():
    # Data far from the origin: distinct points 1e-9 apart are 1e-6 of the spread, far above
    # rounding, and must stay distinct (a rule relative to max|x| = 1e6 would merge them).
    rng = np.random.default_rng(91)
    x = 1e6 + np.round(rng.uniform(0, 1e-3, 400), 9)
    xs, _, _, _, _ = merge_ties(x, np.zeros(400))
    assert xs.size == np.unique(x).size
    # and a uniform shift or scaling does not change which points merge
    z = np.round(rng.uniform(-1, 1, 300), 3)
    z[:5] = z[5] * (1 + 1e-15)
    n_ref = merge_ties(z, np.zeros(300))[0].size
    assert n_ref < np.unique(z).size            # the near-ties did merge
    for s, shift in ((1e-9, 0.0), (1e9, 0.0), (2.0, 3.0)):
        assert merge_ties(s * z + shift, np.zeros(300))[0].size == n_ref


def test_estimator_certifies_the_network_it_returns(monkeypatch):
    # If the network's canonicalization ever changes the solver's spline (here forced with a
    # huge merge tolerance), the estimator must report the objective, certificate and gap of
    # the network it returns, and warn.
    import radonsolve.estimator as est
    from radonsolve.network import ReLUNetwork

    class MergingNetwork(ReLUNetwork):
        def __init__(self, *args, **kwargs):
            kwargs["merge_tol"] = 0.3
            super().__init__(*args, **kwargs)

    rng = np.random.default_rng(101)
    x, y = noisy_pwl(rng, 200, n_knots=8, sigma=0.05)
    u = np.full(200, 1 / 200)
    alpha = 1e-3 * univariate_alpha_max(x, y)
    opt = solve_univariate(x, y, None, alpha, tol=1e-12)
    monkeypatch.setattr(est, "ReLUNetwork", MergingNetwork)
    with pytest.warns(ConvergenceWarning, match=r"not the solver's spline.*merged [1-9]"):
        m = RadonReLURegressor(alpha=alpha, tol=1e-8).fit(x[:, None], y)
    net = m.network_
    assert net.n_neurons < opt.n_knots
    as_fit = UnivariateFit(net.biases * net.weights[:, 0], net.outer,
                           float(net.skip_coef[0]), net.skip_intercept, 0, 0, 0, True)
    assert m.objective_ == pytest.approx(objective_of(as_fit, x, y, u, alpha), rel=1e-10)
    assert m.objective_ > opt.objective * (1 + 1e-6)
    assert m.objective_ - opt.objective <= m.dual_gap_ * (1 + 1e-9)
    eta, _ = dense_certificate(x, y, u, alpha, as_fit)
    assert m.certificate_ == pytest.approx(eta, rel=1e-8)
    assert not m.certified_
