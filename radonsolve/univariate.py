"""Exact univariate solver: problem (P) with d = 1 as l1 trend filtering (DESIGN §2, §7).

With one input the direction is w = +1 and the biases at the data are exact, so (P) is

    minimize_f  0.5 * sum_n u_n (y_n - f(x_n))^2 + alpha * sum_k |v_k|
    f(x) = sum_k v_k max(x - t_k, 0) + c x + c0,

and an optimal f is a linear spline whose knots are data points: l1 trend filtering of order one
on the sorted distinct points. This module solves it exactly (to rounding) in O(N) memory.

Method (chosen by measurement, see ``benchmarks/bench_univariate.py``): a working-set
active-set method.

* **Sign-fixed solves are tridiagonal.** Given knots A (data points) and the signs s of their
  slope changes, the spline is determined by its values F at the nodes {x_first} + A + {x_last};
  the data fit is a quadratic in F with a tridiagonal Gram matrix (hat functions) and the penalty
  ``alpha * sum_k s_k v_k`` is linear in F. One tridiagonal solve gives the exact minimizer.
* **Reduced problems.** The data between consecutive working-set points are summarized by ten
  moments (sums of u, u*y, u*y^2 and of distances to both ends), so every sign-fixed solve and
  every correlation on the working set costs O(|W|), not O(N). The moments are taken about the
  nearer interval ends, so that combining them only adds nonnegative terms (no cancellation).
* **Active set with safeguards** on the working set: add, in one batch, the most violating point
  of each run of dual violators; if a slope change gets the wrong sign, first try dropping the
  offenders, and otherwise take the Lawson-Hanson step (move toward the new solution until the
  first slope change reaches zero, drop it). Every accepted step strictly decreases the objective,
  so the method cannot cycle (a plain primal-dual active-set / semismooth Newton iteration does
  cycle on this problem: its matrix is not an M-matrix).
* **Outer loop.** One O(N) pass computes the residual, the dual correlations
  ``w_j = sum_{m > j} u_m r_m (x_m - x_j)`` at every point (a two-term recurrence), the duality
  gap and the run maxima of the violators outside the working set, which join it.

Interior-point methods on the (pentadiagonal) dual were measured and rejected: the dual variable
is a double integral of the residual, so recovering the residual from it loses about N^2 in
relative precision, and at N = 10^6 with few knots the Newton steps stalled far from the
optimum. Here the residual is always computed from the primal spline, and the dual from the
residual, the numerically stable direction.

The duality gap is that of the projected lasso (DESIGN §4): with r the residual, r_P its
weighted projection onto the complement of span{1, x} and ``s = min(1, alpha / max_j |w_j(r_P)|)``,
the dual objective is ``s <u y, r_P> - 0.5 s^2 <u r_P, r_P>``. It bounds the distance to the
optimum of the spline actually returned.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from numba import njit
from sklearn.exceptions import ConvergenceWarning

from ._validation import (as_float_array, check_alpha, check_finite,
                          check_positive_int)

__all__ = [
    "UnivariateFit",
    "merge_ties",
    "univariate_alpha_max",
    "solve_univariate",
    "sparsest_spline",
    "certify_spline",
]

# Relative distance, to the spread max(x) - min(x), under which two inputs are the same point.
# The spread (not max|x|, which ReLUDictionary uses for projections that carry rounding of
# size eps * |x|) makes the rule invariant under x -> s x + shift: shifted data far from the
# origin keep their distinct points. For data around the origin both rules agree up to a
# factor of two, so both solvers see the same atoms except for pairs at that boundary.
TIE_RTOL = 1e-12

# A dual correlation counts as violating only above alpha * (1 + _VIOL_RTOL): below that, the
# correlations' own rounding (about 1e-15 relative) could make the method chase noise.
_VIOL_RTOL = 1e-9

# Moment columns of one working-set interval [x_p, x_q) (data p..q-1), xi = x - x_p,
# eta = x_q - x: sums of u, u xi, u eta, u xi^2, u eta^2, u xi eta, u y, u xi y, u eta y, u y^2.
_M0, _A1, _B1, _A2, _B2, _C, _Y0, _YA, _YB, _Y2 = range(10)


# --------------------------------------------------------------------------- results
@dataclass
class UnivariateFit:
    """A fitted univariate linear spline ``f(x) = sum_k v_k max(x - t_k, 0) + c x + c0``.

    Attributes
    ----------
    knots : ndarray of shape (n_knots,)
        Knot locations t_k, increasing.
    outer : ndarray of shape (n_knots,)
        Slope changes (outer weights) v_k, all nonzero.
    skip_slope : float
        Slope c of the unpenalized skip connection (the slope left of the first knot).
    intercept : float
        Intercept c0.
    objective : float
        ``0.5 * sum_n u_n (y_n - f(x_n))^2 + alpha * sum_k |v_k|`` at the returned spline, on the
        input data (tied points included).
    dual_gap : float
        Objective minus the dual objective at a feasible dual point: an upper bound on how far
        ``objective`` is from the optimum.
    n_iter : int
        Outer (working-set) iterations.
    converged : bool
        Whether ``dual_gap <= tol * affine_objective``.
    alpha : float
    affine_objective : float
        Objective of the weighted affine least-squares fit, ``0.5 ||P sqrt(u) y||^2``: the scale
        of the relative gap.
    certificate : float
        The dual certificate of the returned spline over all directions (DESIGN §5): with r_P
        the weighted projection of its residual onto the complement of span{1, x},
        ``max_b |sum_n u_n r_P,n max(x_n - b, 0)| / alpha``. With one input the direction +1 is
        the only one (-1 differs by an affine function), so this is exact; the spline is optimal
        iff it is <= 1. Infinite for ``alpha = 0`` unless every correlation vanishes.
    global_gap : float
        ``objective`` minus the dual objective at the returned spline's own projected residual
        scaled by ``min(1, 1 / certificate)``: the duality gap of (P) obtained from the
        certificate. ``dual_gap`` is the smaller of this and the gap at the solver's dual point.
    alpha_max : float
        :func:`univariate_alpha_max` of the data (computed on the solver's sorted data).
    """

    knots: np.ndarray
    outer: np.ndarray
    skip_slope: float
    intercept: float
    objective: float
    dual_gap: float
    n_iter: int
    converged: bool
    alpha: float = 0.0
    affine_objective: float = 0.0
    certificate: float = np.nan
    global_gap: float = np.nan
    alpha_max: float = np.nan

    @property
    def n_knots(self):
        return int(self.knots.size)

    @property
    def relative_gap(self):
        """``dual_gap / affine_objective`` (0 when both vanish)."""
        if self.affine_objective > 0:
            return self.dual_gap / self.affine_objective
        return 0.0 if self.dual_gap <= 0 else np.inf

    @property
    def total_variation(self):
        """``sum_k |v_k|``, the second-order total variation of the spline."""
        return float(np.sum(np.abs(self.outer)))

    def predict(self, x):
        """Evaluate the spline at x (any shape).

        Parameters
        ----------
        x : array-like of float
            Points, any shape.

        Returns
        -------
        ndarray of the shape of ``x``
            ``sum_k outer_k max(x - knots_k, 0) + skip_slope * x + intercept``.

        Examples
        --------
        >>> import numpy as np
        >>> from radonsolve.univariate import UnivariateFit
        >>> fit = UnivariateFit(knots=np.array([0.0]), outer=np.array([2.0]), skip_slope=1.0,
        ...                     intercept=0.5, objective=0.0, dual_gap=0.0, n_iter=0,
        ...                     converged=True)
        >>> fit.predict([-1.0, 0.0, 1.0])
        array([-0.5,  0.5,  3.5])
        """
        x = np.asarray(x, dtype=float)
        return _evaluate(self.knots, self.outer, self.skip_slope, self.intercept, x)


def _pieces(knots, outer, c, c0):
    """Value at each knot and slope right of it (O(K)).

    Summing v_k (x - t_k) over many knots cancels badly far from the knots; walking the pieces
    only ever adds a slope times a local distance.
    """
    knots = np.ascontiguousarray(knots, dtype=float)
    slopes = c + np.cumsum(outer)                     # slope right of knot k
    vals = np.empty(knots.size)                       # value at knot k
    if knots.size:
        vals[0] = c * knots[0] + c0
        if knots.size > 1:
            vals[1:] = vals[0] + np.cumsum(slopes[:-1] * np.diff(knots))
    return knots, np.ascontiguousarray(vals), np.ascontiguousarray(slopes, dtype=float)


@njit(cache=True)
def _eval_pieces(knots, vals, slopes, c, c0, x, out, is_sorted):
    """out = spline at x: a merge with the knots for sorted x (O(N + K)), else binary search.

    Both walks give the same number for a given point: the piece left of x's last knot <= x.
    """
    K = knots.size
    k = -1
    for i in range(x.size):
        xi = x[i]
        if is_sorted:
            while k + 1 < K and knots[k + 1] <= xi:
                k += 1
        else:
            lo = 0
            hi = K
            while lo < hi:                     # number of knots <= xi
                mid = (lo + hi) // 2
                if knots[mid] <= xi:
                    lo = mid + 1
                else:
                    hi = mid
            k = lo - 1
        if k < 0:
            out[i] = c * xi + c0
        else:
            out[i] = vals[k] + slopes[k] * (xi - knots[k])


def _evaluate(knots, outer, c, c0, x, is_sorted=False):
    """Spline value at x (any shape), one output array and no N x K temporary."""
    x = np.asarray(x, dtype=float)
    flat = np.ascontiguousarray(x.ravel())
    out = np.empty(flat.size)
    kn, vals, slopes = _pieces(knots, outer, float(c), float(c0))
    _eval_pieces(kn, vals, slopes, float(c), float(c0), flat, out, bool(is_sorted))
    return out.reshape(x.shape)


# --------------------------------------------------------------------------- preprocessing
def _check_inputs(x, y, u):
    x = as_float_array(x, "x")
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D (or of shape (N, 1)), got shape {x.shape}.")
    y = as_float_array(y, "y")
    if y.ndim not in (1, 2) or y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have shape (N,) or (N, T) with N = {x.shape[0]}, got {y.shape}.")
    if u is None:
        u = np.full(x.shape[0], 1.0 / max(x.shape[0], 1))
    else:
        u = as_float_array(u, "u")
        if u.shape != x.shape:
            raise ValueError(f"u must have shape {x.shape}, got {u.shape}.")
        if np.any(~(u > 0)) or not np.all(np.isfinite(u)):
            raise ValueError("Sample weights u must be positive and finite.")
    if x.shape[0] == 0:
        raise ValueError("At least one sample is required (x and y are empty).")
    check_finite(x, "x")
    check_finite(y, "y")
    return x, y, u


def merge_ties(x, y, u=None):
    """Merge repeated x values into distinct points.

    Points whose sorted x values differ by at most ``1e-12 * (max(x) - min(x))`` from their
    predecessor are one point (chains of such near-ties merge into one group); the rule is
    invariant under ``x -> s x + shift``. A merged point sits at the smallest x of its group, its
    weight is the sum of the group's weights and its target the weighted mean of their targets.
    Because ``sum u (y - f)^2 = sum_groups U (Y - f)^2 + sum u (y - Y)^2`` for f constant on a
    group, problem (P) on the merged data has the same minimizers, and its objective differs by
    the constant returned as ``tie_constant``.

    Parameters
    ----------
    x : array-like of shape (N,)
    y : array-like of shape (N,) or (N, T)
    u : array-like of shape (N,), optional
        Positive sample weights (default ``1/N`` each).

    Returns
    -------
    xs : ndarray of shape (n,)
        Distinct x values, increasing.
    ys : ndarray of shape (n,) or (n, T)
        Weighted mean target of each group.
    us : ndarray of shape (n,)
        Total weight of each group.
    inverse : ndarray of int of shape (N,)
        Group of each input point: ``xs[inverse]`` and ``ys[inverse]`` map back to the inputs.
    tie_constant : float
        ``0.5 * sum_n u_n ||y_n - ys[inverse[n]]||^2``.

    Examples
    --------
    >>> from radonsolve.univariate import merge_ties
    >>> xs, ys, us, inverse, tie = merge_ties([0.0, 1.0, 1.0], [1.0, 2.0, 4.0])
    >>> xs.tolist(), ys.tolist(), inverse.tolist(), round(tie, 6)
    ([0.0, 1.0], [1.0, 3.0], [0, 1, 1], 0.333333)
    """
    x, y, u = _check_inputs(x, y, u)
    N = x.shape[0]
    order = np.argsort(x, kind="stable")
    xo = x[order]
    start = np.ones(N, dtype=bool)
    # With zero spread every difference is 0, not above 0: one group.
    start[1:] = (xo[1:] - xo[:-1]) > TIE_RTOL * float(xo[-1] - xo[0])
    gid_sorted = np.cumsum(start) - 1
    n = int(gid_sorted[-1]) + 1
    inverse = np.empty(N, dtype=np.int64)
    inverse[order] = gid_sorted
    xs = xo[start]
    us = np.bincount(inverse, weights=u, minlength=n)
    if n == N:
        # No ties: skip the averaging so that ys is exactly y (sorted).
        ys = y[order].copy()
        return xs, ys, us, inverse, 0.0
    if y.ndim == 1:
        ys = np.bincount(inverse, weights=u * y, minlength=n) / us
        dev = y - ys[inverse]
        tie = 0.5 * float(np.dot(u * dev, dev))
    else:
        ys = np.column_stack([np.bincount(inverse, weights=u * y[:, t], minlength=n) / us
                              for t in range(y.shape[1])]) if y.shape[1] else np.zeros((n, 0))
        dev = y - ys[inverse]
        tie = 0.5 * float(np.sum(u[:, None] * dev * dev))
    return xs, ys, us, inverse, tie


def _affine_fit(xs, ys, us):
    """Weighted least-squares line: returns (slope, intercept, xbar) with x centered at xbar."""
    su = us.sum()
    xbar = float(np.dot(us, xs) / su)
    xc = xs - xbar
    ybar = float(np.dot(us, ys) / su)
    sxx = float(np.dot(us * xc, xc))
    slope = float(np.dot(us * xc, ys - ybar) / sxx) if sxx > 0 else 0.0
    return slope, ybar - slope * xbar, xbar


# --------------------------------------------------------------------------- numba kernels
@njit(cache=True)
def _correlations(x, u, r, w):
    """w_j = sum_{m > j} u_m r_m (x_m - x_j), by w_j = w_{j+1} + (x_{j+1} - x_j) S_{j+1}."""
    n = x.size
    w[n - 1] = 0.0
    S = 0.0
    for j in range(n - 2, -1, -1):
        S += u[j + 1] * r[j + 1]
        w[j] = w[j + 1] + (x[j + 1] - x[j]) * S


@njit(cache=True)
def _compress(x, u, y, nodes, mom):
    """Moments of the data in each working-set interval (see _M0..._Y2)."""
    for j in range(nodes.size - 1):
        p = nodes[j]
        q = nodes[j + 1]
        xp = x[p]
        xq = x[q]
        m0 = 0.0
        a1 = 0.0
        b1 = 0.0
        a2 = 0.0
        b2 = 0.0
        c = 0.0
        y0 = 0.0
        ya = 0.0
        yb = 0.0
        y2 = 0.0
        for i in range(p, q):
            ui = u[i]
            xi = x[i] - xp
            eta = xq - x[i]
            yi = y[i]
            m0 += ui
            a1 += ui * xi
            b1 += ui * eta
            a2 += ui * xi * xi
            b2 += ui * eta * eta
            c += ui * xi * eta
            y0 += ui * yi
            ya += ui * xi * yi
            yb += ui * eta * yi
            y2 += ui * yi * yi
        mom[j, 0] = m0
        mom[j, 1] = a1
        mom[j, 2] = b1
        mom[j, 3] = a2
        mom[j, 4] = b2
        mom[j, 5] = c
        mom[j, 6] = y0
        mom[j, 7] = ya
        mom[j, 8] = yb
        mom[j, 9] = y2


@njit(cache=True)
def _tridiag_ldl(d, e, g):
    """Solve the SPD tridiagonal system (diag d, offdiag e) in place of copies; returns x."""
    m = d.size
    dd = d.copy()
    gg = g.copy()
    ll = np.empty(max(m - 1, 0))
    for k in range(1, m):
        ll[k - 1] = e[k - 1] / dd[k - 1]
        dd[k] -= ll[k - 1] * e[k - 1]
        gg[k] -= ll[k - 1] * gg[k - 1]
    out = np.empty(m)
    out[m - 1] = gg[m - 1] / dd[m - 1]
    for k in range(m - 2, -1, -1):
        out[k] = gg[k] / dd[k] - ll[k] * out[k + 1]
    return out


@njit(cache=True)
def _hat_solve(xw, mom, ulast, ylast, anodes, s, alpha):
    """Exact minimizer over splines with knots at W-nodes anodes[1:-1] with fixed signs s.

    anodes: W-node indices of the spline's nodes (first and last W-node included).
    Returns (F, v, d, e, g): values at the nodes, slope changes at the knots, and the data fit
    ``0.5 F'HF - g'F + const`` (H tridiagonal with diagonal d and off-diagonal e).
    """
    m = anodes.size
    d = np.zeros(m)
    e = np.zeros(max(m - 1, 0))
    g = np.zeros(m)
    h = np.empty(max(m - 1, 0))
    for a in range(m - 1):
        P = anodes[a]
        Q = anodes[a + 1]
        xP = xw[P]
        xQ = xw[Q]
        L = xQ - xP
        h[a] = L
        sHH = 0.0
        sXX = 0.0
        sXH = 0.0
        sHy = 0.0
        sXy = 0.0
        for j in range(P, Q):
            dl = xw[j] - xP
            ep = xQ - xw[j + 1]
            m0 = mom[j, 0]
            a1 = mom[j, 1]
            b1 = mom[j, 2]
            sXX += mom[j, 3] + dl * (2.0 * a1 + dl * m0)
            sHH += mom[j, 4] + ep * (2.0 * b1 + ep * m0)
            sXH += mom[j, 5] + ep * a1 + dl * b1 + dl * ep * m0
            sHy += mom[j, 8] + ep * mom[j, 6]
            sXy += mom[j, 7] + dl * mom[j, 6]
        d[a] += sHH / (L * L)
        d[a + 1] += sXX / (L * L)
        e[a] = sXH / (L * L)
        g[a] += sHy / L
        g[a + 1] += sXy / L
    d[m - 1] += ulast
    g[m - 1] += ulast * ylast
    rhs = g.copy()
    for k in range(1, m - 1):
        sk = alpha * s[k - 1]
        rhs[k - 1] -= sk / h[k - 1]
        rhs[k] += sk * (1.0 / h[k - 1] + 1.0 / h[k])
        rhs[k + 1] -= sk / h[k]
    F = _tridiag_ldl(d, e, rhs)
    v = np.empty(max(m - 2, 0))
    for k in range(1, m - 1):
        v[k - 1] = (F[k + 1] - F[k]) / h[k] - (F[k] - F[k - 1]) / h[k - 1]
    return F, v, d, e, g


@njit(cache=True)
def _node_state(xw, mom, ulast, ylast, anodes, F, w):
    """Correlations w at all W-nodes and the data-fit term 0.5 sum u r^2 of the spline (anodes, F).

    Per W-interval the residual sums rho0 = sum u r and rho1 = sum u r xi follow from the
    moments because the spline is linear on each W-interval.
    """
    mW = xw.size
    rho0 = np.empty(mW - 1)
    rho1 = np.empty(mW - 1)
    fit = 0.0
    for a in range(anodes.size - 1):
        P = anodes[a]
        Q = anodes[a + 1]
        xP = xw[P]
        xQ = xw[Q]
        L = xQ - xP
        FP = F[a] / L
        FQ = F[a + 1] / L
        for j in range(P, Q):
            dl = xw[j] - xP
            ep = xQ - xw[j + 1]
            m0 = mom[j, 0]
            a1 = mom[j, 1]
            b1 = mom[j, 2]
            sH = b1 + ep * m0
            sX = a1 + dl * m0
            rho0[j] = mom[j, 6] - (FP * sH + FQ * sX)
            rho1[j] = mom[j, 7] - (FP * (mom[j, 5] + ep * a1) + FQ * (mom[j, 3] + dl * a1))
            sXX = mom[j, 3] + dl * (2.0 * a1 + dl * m0)
            sHH = mom[j, 4] + ep * (2.0 * b1 + ep * m0)
            sXH = mom[j, 5] + ep * a1 + dl * b1 + dl * ep * m0
            sHy = mom[j, 8] + ep * mom[j, 6]
            sXy = mom[j, 7] + dl * mom[j, 6]
            fit += 0.5 * mom[j, 9] - (FP * sHy + FQ * sXy) \
                + 0.5 * (FP * FP * sHH + 2.0 * FP * FQ * sXH + FQ * FQ * sXX)
    rl = ylast - F[anodes.size - 1]
    fit += 0.5 * ulast * rl * rl
    S = ulast * rl
    w[mW - 1] = 0.0
    for k in range(mW - 2, -1, -1):
        w[k] = w[k + 1] + (xw[k + 1] - xw[k]) * S + rho1[k]
        S += rho0[k]
    return fit


@njit(cache=True)
def _run_maxima(w, excluded, thresh, out):
    """Index of the largest |w| in each maximal run of consecutive same-sign violators.

    Violators are indices 1..len-2 not excluded with |w| > thresh. Returns the count written.
    """
    n = w.size
    cnt = 0
    best = -1
    bestv = 0.0
    sg = 0.0
    last = -2
    for j in range(1, n - 1):
        wj = w[j]
        aw = abs(wj)
        if aw > thresh and not excluded[j]:
            sj = 1.0 if wj > 0 else -1.0
            if j == last + 1 and sj == sg:
                if aw > bestv:
                    bestv = aw
                    best = j
            else:
                if best >= 0:
                    out[cnt] = best
                    cnt += 1
                best = j
                bestv = aw
                sg = sj
            last = j
    if best >= 0:
        out[cnt] = best
        cnt += 1
    return cnt


@njit(cache=True)
def _full_pass(x, u, y, dnodes, F, inW, alpha, thresh, xbar, sxx, r, cand):
    """Residual, projected dual correlations, gap ingredients and new candidates, in O(N).

    dnodes: data indices of the spline's nodes; F: values there. r is a work buffer.
    Returns (fit, ry, rr, maxw, ncand): 0.5 sum u r^2, <u y, r_P>, <u r_P, r_P>, max interior
    |w(r_P)|, number of candidates written (run maxima of violators outside the working set).
    """
    _node_residual(x, y, dnodes, F, r)
    return _project_pass(x, u, y, r, inW, thresh, xbar, sxx, cand)


@njit(cache=True)
def _node_residual(x, y, dnodes, F, r):
    """r = y minus the spline with nodes x[dnodes] and values F there (sorted x)."""
    n = x.size
    for a in range(dnodes.size - 1):
        p = dnodes[a]
        q = dnodes[a + 1]
        xp = x[p]
        L = x[q] - xp
        Fp = F[a]
        Fq = F[a + 1]
        for i in range(p, q):
            lam = (x[i] - xp) / L
            ri = y[i] - ((1.0 - lam) * Fp + lam * Fq)
            r[i] = ri
    r[n - 1] = y[n - 1] - F[dnodes.size - 1]


@njit(cache=True)
def _project_pass(x, u, y, r, inW, thresh, xbar, sxx, cand):
    """From the residual r (sorted x; overwritten by its projection r_P), in one O(N) pass:
    (fit, ry, rr, maxw, ncand) as in :func:`_full_pass`."""
    n = x.size
    fit = 0.0
    s0 = 0.0
    s1 = 0.0
    su = 0.0
    for i in range(n):
        ui = u[i]
        ri = r[i]
        fit += 0.5 * ui * ri * ri
        s0 += ui * ri
        s1 += ui * ri * (x[i] - xbar)
        su += ui
    # Project out the weighted affine part (it is ~0 at a sign-fixed optimum; this makes the
    # dual point feasible for the projected problem whatever the rounding).
    b = s1 / sxx if sxx > 0 else 0.0
    a0 = s0 / su
    ry = 0.0
    rr = 0.0
    for i in range(n):
        rp = r[i] - a0 - b * (x[i] - xbar)
        r[i] = rp
        ry += u[i] * y[i] * rp
        rr += u[i] * rp * rp
    # correlations, right to left, with run maxima of violators outside W
    maxw = 0.0
    cnt = 0
    best = -1
    bestv = 0.0
    sg = 0.0
    last = -2
    wnext = 0.0
    S = 0.0
    for j in range(n - 2, -1, -1):
        S += u[j + 1] * r[j + 1]
        wj = wnext + (x[j + 1] - x[j]) * S
        wnext = wj
        if j == 0:
            break
        aw = abs(wj)
        if aw > maxw:
            maxw = aw
        if aw > thresh and not inW[j]:
            sj = 1.0 if wj > 0 else -1.0
            if j == last - 1 and sj == sg:
                if aw > bestv:
                    bestv = aw
                    best = j
            else:
                if best >= 0:
                    cand[cnt] = best
                    cnt += 1
                best = j
                bestv = aw
                sg = sj
            last = j
    if best >= 0:
        cand[cnt] = best
        cnt += 1
    return fit, ry, rr, maxw, cnt


@njit(cache=True)
def _interp_nodes(xw, anodes, F, targets):
    """Values of the spline (nodes xw[anodes], values F) at the W-nodes `targets` (sorted)."""
    out = np.empty(targets.size)
    a = 0
    for k in range(targets.size):
        t = targets[k]
        while a < anodes.size - 2 and anodes[a + 1] <= t:
            a += 1
        P = anodes[a]
        Q = anodes[a + 1]
        if t == P:
            out[k] = F[a]
        elif t == Q:
            out[k] = F[a + 1]
        else:
            lam = (xw[t] - xw[P]) / (xw[Q] - xw[P])
            out[k] = (1.0 - lam) * F[a] + lam * F[a + 1]
    return out


def _slope_changes(xn, F):
    sl = np.diff(F) / np.diff(xn)
    return np.diff(sl)


# --------------------------------------------------------------------------- the solver
class _Reduced:
    """Problem (P) with knots restricted to a working set W, summarized by interval moments."""

    def __init__(self, x, u, y, W):
        n = x.size
        self.nodes = np.concatenate([[0], W, [n - 1]]).astype(np.int64)
        self.xw = x[self.nodes]
        self.mom = np.empty((self.nodes.size - 1, 10))
        _compress(x, u, y, self.nodes, self.mom)
        self.ulast = float(u[n - 1])
        self.ylast = float(y[n - 1])
        self.w = np.empty(self.nodes.size)
        self.n_solves = 0

    def anodes(self, act):
        return np.concatenate([[0], act, [self.xw.size - 1]]).astype(np.int64)

    def solve(self, act, s, alpha):
        self.n_solves += 1
        return _hat_solve(self.xw, self.mom, self.ulast, self.ylast, self.anodes(act), s, alpha)

    def state(self, act, F):
        return _node_state(self.xw, self.mom, self.ulast, self.ylast, self.anodes(act), F,
                           self.w)


def _merge(act, s, add, sadd):
    a = np.concatenate([act, add])
    o = np.argsort(a, kind="stable")
    return a[o], np.concatenate([s, sadd])[o], np.argsort(o)[act.size:]


def _inner(red, act, s, F, alpha, max_inner):
    """Safeguarded active-set method on the working set; (act, s, F) sign-consistent on entry.

    Returns the new (act, s, F) and the number of iterations. Each accepted step strictly
    decreases the objective of problem (P) restricted to the working set, so the method cannot
    cycle (plain primal-dual active-set steps do cycle here).
    """
    thresh = alpha * (1.0 + _VIOL_RTOL)
    excluded = np.zeros(red.xw.size, dtype=bool)
    buf = np.empty(red.xw.size, dtype=np.int64)
    J = red.state(act, F) + alpha * np.sum(np.abs(_slope_changes(red.xw[red.anodes(act)], F)))
    it = 0
    for it in range(1, max_inner + 1):
        excluded[:] = False
        excluded[act] = True
        nb = _run_maxima(red.w, excluded, thresh, buf)
        if nb == 0:
            break
        B = buf[:nb].copy()
        sB = np.sign(red.w[B])
        # Shrink the batch until every new knot gets the sign of its violation (a single most
        # violating knot always does, in exact arithmetic), so that the steps below progress.
        while True:
            act2, s2, newpos = _merge(act, s, B, sB)
            F2, v2 = red.solve(act2, s2, alpha)[:2]
            bad = s2[newpos] * v2[newpos] <= 0
            if not bad.any():
                break
            if B.size == 1:
                return act, s, F, it   # the violation is at rounding level
            if bad.all():
                k = np.argmax(np.abs(red.w[B]))
                B, sB = B[k:k + 1], sB[k:k + 1]
            else:
                B, sB = B[~bad], sB[~bad]
        ok = s2 * v2 > 0
        if ok.all():
            act, s, F = act2, s2, F2
            J = red.state(act, F) + alpha * np.sum(np.abs(v2))
            continue
        # Aggressive step: drop every knot whose sign flipped, re-solve, keep if better.
        act3, s3 = act2[ok], s2[ok]
        F3, v3 = red.solve(act3, s3, alpha)[:2]
        if np.all(s3 * v3 > 0):
            J3 = red.state(act3, F3) + alpha * np.sum(np.abs(v3))
            if J3 < J:
                act, s, F, J = act3, s3, F3, J3
                continue
        # Lawson-Hanson steps: from the current spline toward the sign-fixed solution until
        # the first slope change reaches zero; drop it; repeat until the signs hold.
        Fo = _interp_nodes(red.xw, red.anodes(act), F, red.anodes(act2))
        vo = _slope_changes(red.xw[red.anodes(act2)], Fo)
        vo[newpos] = 0.0
        while True:
            dv = v2 - vo
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(s2 * dv < 0, -vo / dv, np.inf)
            k = int(np.argmin(ratio))
            th = min(1.0, max(float(ratio[k]), 0.0))
            Fo = Fo + th * (F2 - Fo)
            vo = vo + th * dv
            keep = s2 * vo > 0
            # New knots move in the direction of their sign (checked above): keep them even
            # when the step is zero, so that dropping the blocking knot makes room for them.
            keep[newpos] = True
            if th < 1.0:
                keep[k] = False
            # Removing a node where the slope change is zero leaves the spline unchanged.
            nodes_keep = np.concatenate([[True], keep, [True]])
            act2, s2, Fo, vo = act2[keep], s2[keep], Fo[nodes_keep], vo[keep]
            newpos = np.zeros(0, dtype=np.int64)
            F2, v2 = red.solve(act2, s2, alpha)[:2]
            if np.all(s2 * v2 > 0):
                break
        act, s, F = act2, s2, F2
        J = red.state(act, F) + alpha * np.sum(np.abs(v2))
    return act, s, F, it


def univariate_alpha_max(x, y, u=None):
    """Smallest alpha for which the affine least-squares fit solves problem (P) with d = 1.

    ``alpha_max = max_j |sum_{m > j} u_m r_m (x_m - x_j)|`` over the interior distinct points,
    with r the residual of the weighted affine fit: the largest correlation of a ReLU atom with
    the residual (DESIGN §4, with u in place of 1/N).

    Parameters
    ----------
    x : array-like of shape (N,)
    y : array-like of shape (N,) or (N, T)
        For T outputs the correlation norm is the Euclidean norm over outputs.
    u : array-like of shape (N,), optional
        Positive sample weights (default ``1/N`` each).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.univariate import univariate_alpha_max
    >>> x = np.linspace(-1, 1, 41)
    >>> round(univariate_alpha_max(x, np.abs(x)), 6)
    0.043828
    """
    xs, ys, us, _, _ = merge_ties(x, y, u)
    if xs.size <= 2:
        return 0.0
    Y = ys[:, None] if ys.ndim == 1 else ys
    W2 = np.zeros(xs.size)
    w = np.empty(xs.size)
    for t in range(Y.shape[1]):
        c, c0, _ = _affine_fit(xs, Y[:, t], us)
        r = Y[:, t] - (c * xs + c0)
        _correlations(xs, us, r, w)
        W2 += w * w
    return float(np.sqrt(W2[1:-1].max()))


def _alpha_max_sorted(xs, us, yr, w):
    """alpha_max from the affine fit's residual yr on merged sorted data (w: work buffer)."""
    if xs.size <= 2:
        return 0.0
    _correlations(xs, us, yr, w)
    return float(np.abs(w[1:-1]).max())


def _affine_result(xs, ys, us, tie, alpha, aff):
    if xs.size == 1:
        c, c0 = 0.0, float(ys[0])
    else:
        c, c0, _ = _affine_fit(xs, ys, us)
    r = ys - (c * xs + c0)
    obj = 0.5 * float(np.dot(us * r, r)) + tie
    # At most two distinct points: every atom with a bias at the data is affine or zero on
    # them, so all correlations vanish and the affine fit is certified.
    return UnivariateFit(np.zeros(0), np.zeros(0), float(c), float(c0), obj, 0.0, 0, True,
                         float(alpha), aff, certificate=0.0, global_gap=0.0, alpha_max=0.0)


def solve_univariate(x, y, u=None, alpha=1e-3, *, tol=1e-6, max_iter=100, sparsest=False,
                     max_inner=100000, verbose=0):
    """Solve problem (P) with one input exactly: l1 trend filtering on unequally spaced points.

    Minimizes ``0.5 * sum_n u_n (y_n - f(x_n))^2 + alpha * sum_k |v_k|`` over linear splines
    ``f(x) = sum_k v_k max(x - t_k, 0) + c x + c0`` (the skip connection ``c x + c0`` is not
    penalized). With weights normalized to sum to one this is problem (P) of DESIGN §1 with
    d = 1; the weights are used as given.

    Parameters
    ----------
    x : array-like of shape (N,) or (N, 1)
    y : array-like of shape (N,) or (N, 1)
        Multi-output targets (N, T) with T > 1 are not supported here.
    u : array-like of shape (N,), optional
        Positive sample weights (default ``1/N`` each).
    alpha : float
        Regularization strength, >= 0.
    tol : float, default=1e-6
        Stop when the duality gap is at most ``tol`` times the objective of the affine fit.
    max_iter : int, default=100
        Maximum number of outer (working-set) iterations, each one O(N) pass over the data.
    sparsest : bool, default=False
        Return, among the optimal splines through the optimal fitted values, one with the
        fewest knots (:func:`sparsest_spline`); its knots are in general not data points.
    max_inner : int, default=100000
        Maximum number of active-set iterations per working set.
    verbose : int, default=0

    Returns
    -------
    UnivariateFit
        Knots (at most n - 2 for n distinct points; data points unless ``sparsest``), slope
        changes, skip connection, objective, duality gap, iterations and convergence flag.

    Raises
    ------
    NotImplementedError
        For targets with more than one output column.

    Notes
    -----
    Warns with :class:`sklearn.exceptions.ConvergenceWarning` if ``max_iter`` is reached with
    the relative gap above ``tol``. Time O(N log N) (one sort) plus O(N) per outer iteration;
    memory a few length-N vectors, whatever the number of knots.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.univariate import solve_univariate
    >>> x = np.linspace(-1, 1, 41)
    >>> fit = solve_univariate(x, np.abs(x), None, 1e-4, tol=1e-12)
    >>> fit.knots.tolist(), round(float(fit.outer[0]), 6), bool(fit.certificate <= 1 + 1e-9)
    ([0.0], 1.995437, True)
    """
    x, y, u = _check_inputs(x, y, u)
    if y.ndim == 2:
        if y.shape[1] != 1:
            raise NotImplementedError(
                "solve_univariate supports a single output (y of shape (N,) or (N, 1)); the "
                "group penalty for T > 1 outputs needs the generic (working-set lasso) solver.")
        y = y[:, 0]
    alpha = check_alpha(alpha)
    tol = check_alpha(tol, "tol")
    max_iter = check_positive_int(max_iter, "max_iter")
    max_inner = check_positive_int(max_inner, "max_inner")
    xs, ys, us, _, tie = merge_ties(x, y, u)
    n = xs.size
    if n <= 2:
        aff = tie
        return _affine_result(xs, ys, us, tie, alpha, aff)

    # The affine part is free, so fit it first and solve for the rest: all later quantities
    # (residuals, objective differences) then live on the scale of the nonaffine signal.
    c_aff, c0_aff, xbar = _affine_fit(xs, ys, us)
    yr = ys - (c_aff * xs + c0_aff)
    xc = xs - xbar
    sxx = float(np.dot(us * xc, xc))
    aff = 0.5 * float(np.dot(us * yr, yr)) + tie
    tol_abs = tol * aff
    r_buf = np.empty(n)
    amax = _alpha_max_sorted(xs, us, yr, r_buf)

    if alpha == 0.0:
        return _finish(xs, yr, us, tie, alpha, aff, np.arange(1, n - 1), yr.copy(),
                       c_aff, c0_aff, 0, sparsest, xbar, sxx, tol_abs, amax)

    cand = np.empty(n, dtype=np.int64)
    inW = np.zeros(n, dtype=bool)
    thresh = alpha * (1.0 + _VIOL_RTOL)

    W = np.zeros(0, dtype=np.int64)          # working set (data indices)
    act = np.zeros(0, dtype=np.int64)        # knots, as data indices
    s = np.zeros(0)
    F = np.zeros(2)                          # spline values at [x_0] + knots + [x_last]
    # F = 0: the affine fit of yr is zero, which is the optimum with no knot.
    converged = False
    gap = np.inf
    it = 0
    for it in range(1, max_iter + 1):
        dnodes = np.concatenate([[0], act, [n - 1]]).astype(np.int64)
        fit, ry, rr, maxw, nc = _full_pass(xs, us, yr, dnodes, F, inW, alpha, thresh, xbar,
                                           sxx, r_buf, cand)
        v = _slope_changes(xs[dnodes], F)
        primal = fit + alpha * float(np.sum(np.abs(v)))
        sc = 1.0 if maxw <= alpha else alpha / maxw
        dual = sc * ry - 0.5 * sc * sc * rr
        gap = max(primal - dual, 0.0)
        if verbose:
            print(f"[univariate] it {it}: |W| = {W.size}, knots = {act.size}, "
                  f"rel gap = {gap / aff if aff > 0 else 0.0:.3e}, new candidates = {nc}")
        # Below alpha_max the affine fit is never returned, even when it is within tol: that
        # keeps alpha_max meaningful (the first knots can improve on it by less than tol).
        if nc == 0 or (gap <= tol_abs and act.size > 0) or (gap <= tol_abs and maxw <= alpha):
            converged = gap <= tol_abs
            break
        if it == max_iter:
            break
        W = np.union1d(W, cand[:nc])
        inW[W] = True
        red = _Reduced(xs, us, yr, W)
        # knots and signs in W-node numbering (node k <-> W[k - 1])
        actW = np.searchsorted(W, act) + 1
        actW, s, F, _ = _inner(red, actW.astype(np.int64), s, F, alpha, max_inner)
        act = red.nodes[actW]
    if not converged:
        why = ("Increase max_iter." if it == max_iter else
               "No violated optimality condition is left above rounding level; tol is too "
               "small for this problem in double precision.")
        warnings.warn(
            f"solve_univariate stopped after {it} iterations with relative duality gap "
            f"{gap / aff if aff > 0 else np.inf:.3e} > tol = {tol:.1e}. {why}",
            ConvergenceWarning, stacklevel=2)
    return _finish(xs, yr, us, tie, alpha, aff, act, F, c_aff, c0_aff, it, sparsest, xbar,
                   sxx, tol_abs, amax)


def _dual_value(alpha, maxw, ry, rr):
    """Dual objective at the projected residual scaled into the dual feasible set."""
    sc = 1.0 if maxw <= alpha else alpha / maxw
    return sc * ry - 0.5 * sc * sc * rr


def _certify_sorted(xs, yr, us, alpha, knots, outer, c, c0, xbar, sxx, buf):
    """Objective (without the tie constant), dual value and certificate of a given spline.

    All on the merged sorted data with the affine fit removed from the targets (yr): one
    O(N + K) evaluation by merging the knots with xs, then one O(N) pass for the projected
    residual and its correlations ``w_j = sum_{m > j} u_m r_P,m (x_m - x_j)`` at every data
    point, whose maximum over j is the certificate's numerator (DESIGN §3, §5). ``buf`` (length
    N) is overwritten; nothing else of length N is allocated.
    """
    n = xs.size
    kn, vals, slopes = _pieces(knots, outer, float(c), float(c0))
    _eval_pieces(kn, vals, slopes, float(c), float(c0), xs, buf, True)
    np.subtract(yr, buf, out=buf)
    fit, ry, rr, maxw, _ = _project_pass(xs, us, yr, buf, np.ones(n, dtype=np.bool_), np.inf,
                                         xbar, sxx, np.empty(1, dtype=np.int64))
    primal = fit + alpha * float(np.sum(np.abs(outer)))
    if alpha > 0:
        eta = maxw / alpha
    else:
        eta = 0.0 if maxw == 0 else np.inf
    return primal, _dual_value(alpha, maxw, ry, rr), eta


def _finish(xs, yr, us, tie, alpha, aff, act, F, c_aff, c0_aff, it, sparsest, xbar, sxx,
            tol_abs, amax):
    """Build the returned spline and compute its objective, certificate and duality gap.

    The primal value and the certificate are those of the returned spline (knots, weights,
    skip connection) evaluated at the data. Two dual points are tried: the returned spline's
    scaled projected residual and the one from the solver's own representation (values at the
    nodes, interpolated), which can be more accurate than re-evaluating the returned weights
    when there are many knots; any feasible dual point gives a valid gap.
    """
    n = xs.size
    dnodes = np.concatenate([[0], act, [n - 1]]).astype(np.int64)
    xn = xs[dnodes]
    v = _slope_changes(xn, F)
    nz = v != 0
    knots, outer = xn[1:-1][nz], v[nz]
    c = (F[1] - F[0]) / (xn[1] - xn[0])
    c0 = F[0] - c * xn[0]
    if sparsest:
        knots, outer, c, c0 = _sparsest_sorted(knots, outer, c, c0, xs)
    buf = np.empty(n)
    # dual point from the internal residual
    _, ry, rr, maxw, _ = _full_pass(xs, us, yr, dnodes, F, np.ones(n, dtype=bool), alpha,
                                    np.inf, xbar, sxx, buf, np.empty(1, dtype=np.int64))
    dual_int = _dual_value(alpha, maxw, ry, rr)
    # the returned spline itself (the affine part added back below changes neither the
    # residual nor the penalty)
    primal, dual_own, eta = _certify_sorted(xs, yr, us, alpha, knots, outer, c, c0, xbar, sxx,
                                            buf)
    gap = max(primal - max(dual_int, dual_own), 0.0)
    global_gap = max(primal - dual_own, 0.0) if np.isfinite(eta) else np.inf
    return UnivariateFit(np.asarray(knots, float), np.asarray(outer, float),
                         float(c + c_aff), float(c0 + c0_aff), primal + tie, gap, int(it),
                         bool(gap <= tol_abs), float(alpha), aff, certificate=float(eta),
                         global_gap=float(global_gap), alpha_max=float(amax))


def certify_spline(x, y, u, alpha, knots, outer, skip_slope, intercept, *, tol=1e-6):
    """Objective, duality gap and exact dual certificate of a given linear spline for (P), d = 1.

    For any spline ``f(x) = sum_k v_k max(x - t_k, 0) + skip_slope x + intercept`` (knots
    anywhere), computes in O(N log N) time (one sort) and O(N) memory, with no N x K array:
    its objective ``0.5 sum_n u_n (y_n - f(x_n))^2 + alpha sum_k |v_k|``, the certificate
    ``max_b |sum_n u_n r_P,n max(x_n - b, 0)| / alpha`` (r_P: its weighted projected residual;
    exact, DESIGN §5) and the duality gap at the dual point ``min(1, 1 / certificate) r_P``.

    Parameters
    ----------
    x : array-like of shape (N,) or (N, 1)
    y : array-like of shape (N,) or (N, 1)
    u : array-like of shape (N,) or None
        Positive sample weights (default ``1/N`` each).
    alpha : float
        Regularization strength, >= 0.
    knots, outer : array-like of shape (K,)
        Knot locations and slope changes.
    skip_slope, intercept : float
        The affine part.
    tol : float, default=1e-6
        Sets ``converged``: ``dual_gap <= tol * affine_objective``.

    Returns
    -------
    UnivariateFit
        The spline (knots sorted) with ``objective``, ``dual_gap`` (= ``global_gap``),
        ``certificate``, ``affine_objective`` and ``alpha_max``; ``n_iter`` is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.univariate import certify_spline, solve_univariate
    >>> x = np.linspace(-1, 1, 101)
    >>> y = np.abs(x)
    >>> fit = solve_univariate(x, y, None, 1e-3, tol=1e-12)
    >>> chk = certify_spline(x, y, None, 1e-3, fit.knots, fit.outer, fit.skip_slope,
    ...                      fit.intercept)
    >>> bool(abs(chk.objective - fit.objective) <= 1e-12), bool(chk.certificate <= 1 + 1e-9)
    (True, True)
    """
    x, y, u = _check_inputs(x, y, u)
    if y.ndim == 2:
        if y.shape[1] != 1:
            raise ValueError(f"y must have a single output column, got shape {y.shape}.")
        y = y[:, 0]
    alpha = check_alpha(alpha)
    tol = check_alpha(tol, "tol")
    knots = check_finite(as_float_array(knots, "knots").ravel(), "knots")
    outer = check_finite(as_float_array(outer, "outer").ravel(), "outer")
    if knots.shape != outer.shape:
        raise ValueError(f"knots and outer must have the same length, got {knots.size} and "
                         f"{outer.size}.")
    o = np.argsort(knots, kind="stable")
    knots, outer = knots[o], outer[o]
    c_in, c0_in = float(skip_slope), float(intercept)
    xs, ys, us, _, tie = merge_ties(x, y, u)
    n = xs.size
    if n == 1:
        c_aff, c0_aff, xbar, sxx = 0.0, float(ys[0]), float(xs[0]), 0.0
    else:
        c_aff, c0_aff, xbar = _affine_fit(xs, ys, us)
        sxx = float(np.dot(us * (xs - xbar), xs - xbar))
    yr = ys - (c_aff * xs + c0_aff)
    aff = 0.5 * float(np.dot(us * yr, yr)) + tie
    buf = np.empty(n)
    amax = _alpha_max_sorted(xs, us, yr, buf)
    # the spline minus the affine fit, evaluated against yr: same residual, same penalty
    primal, dual, eta = _certify_sorted(xs, yr, us, alpha, knots, outer, c_in - c_aff,
                                        c0_in - c0_aff, xbar, sxx, buf)
    gap = max(primal - dual, 0.0) if np.isfinite(eta) else np.inf
    return UnivariateFit(knots, outer, c_in, c0_in, primal + tie, gap, 0,
                         bool(gap <= tol * aff), alpha, aff, certificate=float(eta),
                         global_gap=float(gap), alpha_max=float(amax))


# --------------------------------------------------------------------------- sparsest
def sparsest_spline(knots, outer, skip_slope, intercept, x_data):
    """Fewest-knot linear spline with the same values at the data and no larger total variation.

    Implements the linear-time construction of Debarre, Denoyelle, Unser and Fageot (2022,
    "Sparsest piecewise-linear regression of one-dimensional data"), in our own code. The spline
    is first replaced by its connect-the-dots interpolant at the distinct data points (which
    never increases ``sum_k |v_k|``). An interval between two consecutive data points whose
    slope changes have the same strict sign is free: any convex (or concave) curve through its
    ends keeps the total variation. So in each run of n same-sign knots at consecutive data
    points, the knots are paired from the left and each pair (x_i, x_{i+1}) is replaced by one
    knot at the crossing of the line pieces on [x_{i-1}, x_i] and [x_{i+1}, x_{i+2}],

        t = x_i + (x_{i+1} - x_i) * v_{i+1} / (v_i + v_{i+1}),   weight v_i + v_{i+1},

    which lies strictly inside (x_i, x_{i+1}) and has the same sign: the values at the data and
    the total variation are unchanged, and the run needs ceil(n/2) knots, the minimum.

    Parameters
    ----------
    knots, outer : ndarray of shape (k,)
        Knot locations and slope changes of the input spline.
    skip_slope, intercept : float
        Its affine part (``f(x) = sum v_k max(x - t_k, 0) + skip_slope x + intercept``).
    x_data : array-like of shape (N,)
        Data locations (ties are merged as in :func:`merge_ties`).

    Returns
    -------
    knots, outer : ndarray
        The sparsest spline's knots (increasing) and slope changes.
    skip_slope, intercept : float

    Examples
    --------
    >>> from radonsolve.univariate import sparsest_spline
    >>> knots, outer, c, c0 = sparsest_spline([1.0, 2.0], [1.0, 1.0], 0.0, 0.0,
    ...                                       [0.0, 1.0, 2.0, 3.0])
    >>> knots.tolist(), outer.tolist()
    ([1.5], [2.0])
    """
    knots = np.asarray(knots, dtype=float).ravel()
    outer = np.asarray(outer, dtype=float).ravel()
    o = np.argsort(knots, kind="stable")
    knots, outer = knots[o], outer[o]
    xs, _, _, _, _ = merge_ties(np.asarray(x_data, dtype=float).ravel(),
                                np.zeros(np.size(x_data)))
    return _sparsest_sorted(knots, outer, skip_slope, intercept, xs)


def _sparsest_sorted(knots, outer, skip_slope, intercept, xs):
    """:func:`sparsest_spline` on distinct sorted data xs, knots sorted."""
    n = xs.size
    z = _evaluate(knots, outer, float(skip_slope), float(intercept), xs, is_sorted=True)
    if n == 1:
        return np.zeros(0), np.zeros(0), 0.0, float(z[0])
    h = np.diff(xs)
    sig = np.diff(z) / h
    if n == 2:
        return np.zeros(0), np.zeros(0), float(sig[0]), float(z[0] - sig[0] * xs[0])
    v = np.diff(sig)                       # slope change at interior point i = 1..n-2
    # Where no input knot lies in the open interval (x_{i-1}, x_{i+1}) the spline is linear
    # there: its slope change at x_i is exactly zero, whatever the rounding of z says.
    nzk = knots[outer != 0]
    lo = np.searchsorted(nzk, xs[:-2], side="right")
    hi = np.searchsorted(nzk, xs[2:], side="left")
    v[hi <= lo] = 0.0
    new_t, new_v = _pair_runs(xs, v)
    c = float(sig[0])
    return new_t, new_v, c, float(z[0] - c * xs[0])


def _pair_runs(xs, v):
    """Pair consecutive same-sign slope changes (v[i-1] sits at xs[i]) into single knots."""
    m = v.size
    sgn = np.sign(v)
    out_t = []
    out_v = []
    i = 0
    while i < m:
        if sgn[i] == 0:
            i += 1
            continue
        if i + 1 < m and sgn[i + 1] == sgn[i]:
            a, b = v[i], v[i + 1]
            xi, xj = xs[i + 1], xs[i + 2]
            frac = b / (a + b)             # in (0, 1): same strict sign
            t = xi + (xj - xi) * frac
            # Keep the knot strictly inside against rounding (the crossing is inside in exact
            # arithmetic); nudging by one ulp changes the fit only at rounding level.
            if t <= xi:
                t = np.nextafter(xi, xj)
            elif t >= xj:
                t = np.nextafter(xj, xi)
            out_t.append(t)
            out_v.append(a + b)
            i += 2
        else:
            out_t.append(xs[i + 1])
            out_v.append(v[i])
            i += 1
    return np.asarray(out_t, dtype=float), np.asarray(out_v, dtype=float)
