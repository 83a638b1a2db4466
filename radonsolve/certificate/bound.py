"""A proven upper bound on ``sup_w eta(w)`` for d >= 3 by branch-and-bound (DESIGN §11).

The directions are covered, up to the symmetry ``eta(w) = eta(-w)`` (q is orthogonal to the
affine functions), by the d faces of the cube ``[-1, 1]^d`` that face the positive axes,
projected to the sphere (with their antipodes they cover it); a cell is a box of one face's
coordinates, contained in the spherical cap around its center ``w0`` whose angular radius
``delta`` is the largest angle to a vertex (the gnomonic image of a cap is convex, so the
vertices decide).

The bound on a cap. With the bias at data point m (biases at the data are exact, DESIGN §2),
the correlation of the atom is ``c_m(w) = sum_n q_n max(w.(x_n - x_m), 0)``. For w in the cap
and ``p_n = w0.x_n``, ``|w.x_n - p_n| <= r_n = (1 - cos delta) |p_n| + sin delta ||x_n -
p_n w0||``, so with ``lo = p - r``, ``hi = p + r``:

- points with ``lo_n > hi_m`` are active over the whole cap: their terms sum to ``w.g_m``
  with ``g_m = sum q_n (x_n - x_m)``, whose maximum over the cap is exact,
  ``||g_m|| cos(max(0, angle(w0, g_m) - delta))``;
- points with ``hi_n <= lo_m`` are inactive over the whole cap and add nothing;
- the others (the slab, m itself excluded: its term is 0) add at most
  ``q_n (hi_n - lo_m)`` when ``q_n > 0`` and at most 0 otherwise.

The same with -q bounds ``-c_m``, so ``max_m |c_m(w)| / alpha`` over the cap is bounded by the
largest of these 2N numbers. The active and slab sets are suffixes of the points sorted by
``lo`` and by ``hi``: two sorts and suffix sums give all N anchors in O(N log N). The slab's
slack is of second order in delta (O(delta) points, O(delta) each). The data are centered
first (q is orthogonal to 1, so a shift of x changes nothing but makes ``||x_n||``, hence
r_n, smaller).

Two refinements where the slab is small (deep cells): its points are classified again with
the pairwise radius of ``x_n - x_m`` (those on one side over the whole cap join the exact
linear part), and the few that truly cross the cap are handled jointly with the linear part
(:func:`_refined`): exactly for ``q_n > 0`` (a maximum over their on/off patterns) and by an
optimized linear relaxation for ``q_n < 0`` (``q_n max(t, 0) <= lam q_n t``, lam in [0, 1]).
The maxima of eta at a solution are typically kinks of the second kind (a hyperplane
through several data points), where the per-point bound keeps a first-order slack; the
joint treatment removes it (measured at N = 400: 3x to 4x fewer cells).

The search keeps the cells whose bound exceeds ``max(threshold, (1 + rtol) * best)``, with
``best`` the largest exact eta found at a cell center, splits the highest-bounded ones into
``2^(d-1)`` and stops when none remain, when a center exceeds the threshold (``stop_above``),
or when a budget runs out. The reported ``upper`` is the largest bound of any cell not yet
excluded (or discarded), never less than ``lower``: a proven bound whatever stopped it.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from .._validation import check_positive_int
from ._common import canonical, eta_raw, unit_rows, validate

__all__ = ["BoundResult", "bound_certificate", "certifiable_eta", "eta_cap_bound"]

_EPS = float(np.finfo(float).eps)

# Cells evaluated per batch (bounds the (cells x samples) temporaries of one batch).
_BATCH_ENTRIES = 1_000_000


@dataclass
class BoundResult:
    """Result of :func:`bound_certificate`.

    Attributes
    ----------
    upper : float
        Proven upper bound on ``sup_w eta(w)``; ``inf`` when a budget stopped the search
        with too many cells left to bound (more than four batches).
    lower : float
        Largest exact eta found (at a cell center): ``lower <= sup eta <= upper``.
    direction : ndarray of shape (n_features,)
        Canonical direction attaining ``lower``.
    bias : float
        Its maximizing bias.
    threshold : float
        The threshold the search was given (-inf: none).
    certified : bool
        True when ``upper <= threshold``: eta is proven at most the threshold everywhere.
    stop : str
        "complete" (no cell left above ``max(threshold, (1 + rtol) lower)``), "above" (a
        center exceeded the threshold with ``stop_above``), "max_cells", "max_time" or
        "max_depth".
    n_cells : int
        Cells whose bound was computed.
    depth : int
        Deepest subdivision level reached (0: the cube's faces).
    time : float
        Seconds spent.
    directions : ndarray of shape (k, n_features)
        Distinct canonical cell centers with eta above the threshold, best first (the
        candidates an exchange method adds); empty when none.
    etas : ndarray of shape (k,)
    cells_by_depth : ndarray of shape (depth + 1,)
        Cells bounded at each subdivision level.
    """

    upper: float
    lower: float
    direction: np.ndarray
    bias: float
    threshold: float
    certified: bool
    stop: str
    n_cells: int
    depth: int
    time: float
    directions: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    etas: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cells_by_depth: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def certifiable_eta(b, rho, primal, gap_tol):
    """The largest ``sup eta`` whose duality gap of (P) is at most ``gap_tol``.

    The gap of :func:`~radonsolve.certificate.duality_gap_for_P` increases with ``eta_sup``;
    this inverts it, so that proving ``sup eta <= certifiable_eta(...)`` proves the gap.

    Parameters
    ----------
    b : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Projected scaled targets.
    rho : ndarray, same shape as ``b``
        Projected residual of the finite solution.
    primal : float
        Its objective.
    gap_tol : float
        Gap to certify (absolute).

    Returns
    -------
    eta : float
        At least 1 (``inf`` when every eta gives a gap within ``gap_tol``); 1 when even
        ``eta_sup <= 1`` leaves a larger gap.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.certificate import certifiable_eta, duality_gap_for_P
    >>> b, rho = np.array([1.0, -1.0]), np.array([0.5, -0.5])
    >>> primal = 0.75 + 1e-3          # the dual value at eta <= 1 is 0.75: gap 1e-3
    >>> round(duality_gap_for_P(b, rho, primal, 1.0), 9)
    0.001
    >>> e = certifiable_eta(b, rho, primal, 2e-3)
    >>> round(duality_gap_for_P(b, rho, primal, e), 9)
    0.002
    """
    B = float(np.sum(np.asarray(b, dtype=float) * np.asarray(rho, dtype=float)))
    R = float(np.sum(np.asarray(rho, dtype=float) ** 2))
    c = float(primal) - float(gap_tol)
    # dual(s) = s B - s^2 R / 2 for the dual point s * rho, increasing on (0, 1] since
    # B - R = <b - rho, rho> >= 0 at a solution; the smallest s with dual(s) >= c.
    if B - 0.5 * R < c:
        return 1.0
    if c <= 0:
        return np.inf
    disc = max(B * B - 2.0 * R * c, 0.0)
    s = 2.0 * c / (B + np.sqrt(disc))
    return max(1.0, 1.0 / s) if s > 0 else np.inf


# ---------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------
def _face_axes(d):
    return np.array([[i for i in range(d) if i != f] for f in range(d)], dtype=np.int64)


def _directions_of(face, coords, d, axes):
    """Unit directions of face coordinates ``coords`` (shape (K, d-1)) on faces ``face``."""
    K = len(face)
    V = np.zeros((K, d))
    V[np.arange(K), face] = 1.0
    rows = np.repeat(np.arange(K), d - 1)
    V[rows, axes[face].ravel()] = coords.ravel()
    return V / np.linalg.norm(V, axis=1)[:, None]


def _geometry(face, lo, hi, d, axes):
    """Unit centers and angular radii (largest angle to a vertex) of the cells."""
    W0 = _directions_of(face, 0.5 * (lo + hi), d, axes)
    delta = np.zeros(len(face))
    for corner in range(2 ** (d - 1)):
        bits = (corner >> np.arange(d - 1)) & 1
        V = _directions_of(face, np.where(bits[None, :] == 1, hi, lo), d, axes)
        # 2 asin(|u - v| / 2) is accurate for small angles, where acos(u.v) is not.
        chord = np.linalg.norm(V - W0, axis=1)
        delta = np.maximum(delta, 2.0 * np.arcsin(np.minimum(0.5 * chord, 1.0)))
    # a relative and an absolute margin for the rounding of the angles above
    return W0, delta * (1.0 + 1e-9) + 1e-14


def _split(face, lo, hi, d):
    """The 2^(d-1) children of each cell (halving every coordinate)."""
    mid = 0.5 * (lo + hi)
    m = 2 ** (d - 1)
    faces, los, his = [], [], []
    for corner in range(m):
        bits = ((corner >> np.arange(d - 1)) & 1)[None, :] == 1
        faces.append(face)
        los.append(np.where(bits, mid, lo))
        his.append(np.where(bits, hi, mid))
    return np.concatenate(faces), np.vstack(los), np.vstack(his)


# ---------------------------------------------------------------------------------------
# The bound on a cap
# ---------------------------------------------------------------------------------------
@njit(cache=True)
def _cap_max(g, w0, cd, sd):
    """max over the cap (center w0, cos and sin of its radius) of w.g, exactly."""
    d = g.shape[0]
    gn2 = 0.0
    gw = 0.0
    for i in range(d):
        gn2 += g[i] * g[i]
        gw += g[i] * w0[i]
    if gn2 <= 0.0:
        return 0.0
    gn = np.sqrt(gn2)
    if gw >= gn * cd:
        return gn          # the direction of g is in the cap
    # ||g|| cos(angle - delta) from the components (no angle is formed: no rounding near 0)
    return gw * cd + np.sqrt(max(gn2 - gw * gw, 0.0)) * sd


# Crossing points handled exactly (positive coefficients, by enumerating their 2^k
# patterns) or by an optimized relaxation (negative ones); beyond these counts the plain
# per-point bounds are used, which are valid too.
_ENUM_POS = 3
_RELAX_NEG = 6


@njit(cache=True)
def _refined(g, A, c, dr, w0, cd, sd):
    """Bound of max over the cap of ``w.g + sum_i c_i max(w.A_i, 0)`` (crossing points A_i).

    Terms with c_i > 0: ``c_i max(t, 0) = max(c_i t, 0)``, so the maximum is the largest
    over the patterns of which are on, each a linear maximum over the cap (exact). Terms
    with c_i < 0: ``c_i max(t, 0) <= lam_i c_i t`` for any lam_i in [0, 1], so each lam
    gives a bound (the best lam gives the exact maximum over the cap's convex hull, by
    minimax); lam is chosen by coordinate-wise ternary search, and any lam is valid.
    Terms beyond the counts enumerated or relaxed take their per-point bound ``dr_i``.
    """
    k = c.shape[0]
    d = g.shape[0]
    pos = np.empty(k, np.int64)
    neg = np.empty(k, np.int64)
    npos = 0
    nneg = 0
    extra = 0.0
    for i in range(k):
        if c[i] > 0.0:
            if npos < _ENUM_POS:
                pos[npos] = i
                npos += 1
            else:
                extra += dr[i]
        elif c[i] < 0.0 and nneg < _RELAX_NEG:
            neg[nneg] = i
            nneg += 1
    h = np.empty(d)
    z = np.empty(d)
    lam = np.empty(nneg)
    best = -np.inf
    for pattern in range(2 ** npos):
        base = g.copy()
        for j in range(npos):
            if (pattern >> j) & 1:
                for t in range(d):
                    base[t] += c[pos[j]] * A[pos[j], t]
        for j in range(nneg):
            lam[j] = 0.0
        val = _cap_max(base, w0, cd, sd)
        for sweep in range(2):
            for j in range(nneg):
                i = neg[j]
                # h = base + sum of the other relaxed terms
                for t in range(d):
                    h[t] = base[t]
                for jj in range(nneg):
                    if jj != j:
                        for t in range(d):
                            h[t] += lam[jj] * c[neg[jj]] * A[neg[jj], t]
                a = 0.0
                b = 1.0
                for it in range(30):
                    m1 = a + (b - a) / 3.0
                    m2 = b - (b - a) / 3.0
                    for t in range(d):
                        z[t] = h[t] + m1 * c[i] * A[i, t]
                    f1 = _cap_max(z, w0, cd, sd)
                    for t in range(d):
                        z[t] = h[t] + m2 * c[i] * A[i, t]
                    f2 = _cap_max(z, w0, cd, sd)
                    if f1 <= f2:
                        b = m2
                    else:
                        a = m1
                lam[j] = 0.5 * (a + b)
        # the value at the final lam (a valid bound whatever lam is)
        for t in range(d):
            h[t] = base[t]
        for jj in range(nneg):
            for t in range(d):
                h[t] += lam[jj] * c[neg[jj]] * A[neg[jj], t]
        val = min(val, _cap_max(h, w0, cd, sd))
        if val > best:
            best = val
    return best + extra


# A slab of at most this many points (within the largest r of the anchor's interval) is
# treated point by point with the pairwise radius of x_n - x_m instead of r_n + r_m.
_PAIRWISE = 128


@njit(cache=True)
def _cap_bounds(X, xn2, q, W0, delta, P, R, olo, ohi, op, cut, exit_above, out):
    """Upper bound of max_m |c_m(w)| over each cap (see the module's docstring)."""
    K = W0.shape[0]
    N, d = X.shape
    GA = np.zeros((N + 1, d))
    SA = np.zeros(N + 1)
    PL = np.zeros(N + 1)
    PHL = np.zeros(N + 1)
    NL = np.zeros(N + 1)
    NHL = np.zeros(N + 1)
    PH = np.zeros(N + 1)
    PHH = np.zeros(N + 1)
    NH = np.zeros(N + 1)
    NHH = np.zeros(N + 1)
    los = np.empty(N)
    his = np.empty(N)
    ps = np.empty(N)
    g = np.empty(d)
    g0 = np.empty(d)
    Acr = np.empty((_PAIRWISE, d))
    ccr = np.empty(_PAIRWISE)
    drp = np.empty(_PAIRWISE)
    drn = np.empty(_PAIRWISE)
    for k in range(K):
        p = P[k]
        r = R[k]
        w0 = W0[k]
        cd = np.cos(delta[k])
        # 1 - cos(delta) without cancellation (delta is tiny in deep cells)
        omc = 2.0 * np.sin(0.5 * delta[k]) ** 2
        sd = np.sin(delta[k])
        rmax = 0.0
        # suffix sums in the order of lo (the active sets) and of hi (the slab's outer end)
        for j in range(N - 1, -1, -1):
            n = olo[k, j]
            qn = q[n]
            hn = p[n] + r[n]
            los[j] = p[n] - r[n]
            SA[j] = SA[j + 1] + qn
            for i in range(d):
                GA[j, i] = GA[j + 1, i] + qn * X[n, i]
            qp = qn if qn > 0.0 else 0.0
            qm = qp - qn
            PL[j] = PL[j + 1] + qp
            PHL[j] = PHL[j + 1] + qp * hn
            NL[j] = NL[j + 1] + qm
            NHL[j] = NHL[j + 1] + qm * hn
            n2 = ohi[k, j]
            qn2 = q[n2]
            hn2 = p[n2] + r[n2]
            his[j] = hn2
            qp2 = qn2 if qn2 > 0.0 else 0.0
            qm2 = qp2 - qn2
            PH[j] = PH[j + 1] + qp2
            PHH[j] = PHH[j + 1] + qp2 * hn2
            NH[j] = NH[j + 1] + qm2
            NHH[j] = NHH[j + 1] + qm2 * hn2
            ps[j] = p[op[k, j]]
            if r[n] > rmax:
                rmax = r[n]
        best = 0.0
        for m in range(N):
            pm = p[m]
            lo_m = pm - r[m]
            hi_m = pm + r[m]
            ja = np.searchsorted(los, hi_m, side="right")
            for i in range(d):
                g[i] = GA[ja, i] - SA[ja] * X[m, i]
            j0 = np.searchsorted(ps, lo_m - rmax, side="left")
            j1 = np.searchsorted(ps, hi_m + rmax, side="right")
            if j1 - j0 <= _PAIRWISE:
                # the slab point by point: |w.(x_n - x_m) - (p_n - p_m)| <= r_nm over the
                # cap; points on one side over the whole cap join the exact linear part
                sp = 0.0
                sn = 0.0
                ncr = 0
                for j in range(j0, j1):
                    n = op[k, j]
                    if n == m or not (p[n] + r[n] > lo_m and p[n] - r[n] <= hi_m):
                        continue
                    dp = p[n] - pm
                    dx2 = 0.0
                    for i in range(d):
                        dx2 += (X[n, i] - X[m, i]) ** 2
                    # ||(x_n - x_m) - dp w0||^2 = dx2 - dp^2 cancels when it is small: its
                    # rounding error (a few ulps of dx2 and of dp's terms) is added before
                    # the square root, where it matters, and a few ulps after
                    err = 8.0 * _EPS * (dx2 + abs(dp) * (abs(p[n]) + abs(pm)))
                    rnm = omc * abs(dp) + sd * np.sqrt(max(dx2 - dp * dp, 0.0) + err) \
                        + 8.0 * _EPS * (abs(p[n]) + abs(pm) + np.sqrt(dx2))
                    if dp >= rnm:
                        for i in range(d):
                            g[i] += q[n] * (X[n, i] - X[m, i])
                    elif dp > -rnm:
                        for i in range(d):
                            Acr[ncr, i] = X[n, i] - X[m, i]
                        ccr[ncr] = q[n]
                        if q[n] > 0.0:
                            sp += q[n] * (dp + rnm)
                            drp[ncr] = q[n] * (dp + rnm)
                            drn[ncr] = 0.0
                        else:
                            sn -= q[n] * (dp + rnm)
                            drn[ncr] = -q[n] * (dp + rnm)
                            drp[ncr] = 0.0
                        ncr += 1
                for i in range(d):
                    g0[i] = g[i]
                up = _cap_max(g, w0, cd, sd) + sp
                if ncr and up > max(best, cut):
                    up = min(up, _refined(g0.copy(), Acr[:ncr], ccr[:ncr], drp[:ncr], w0,
                                          cd, sd))
                for i in range(d):
                    g[i] = -g0[i]
                un = _cap_max(g, w0, cd, sd) + sn
                if ncr and un > max(best, up, cut):
                    un = min(un, _refined(g.copy(), Acr[:ncr], -ccr[:ncr], drn[:ncr], w0,
                                          cd, sd))
            else:
                jb = np.searchsorted(his, lo_m, side="right")
                sp = PH[jb] - PL[ja]
                sph = PHH[jb] - PHL[ja]
                sn = NH[jb] - NL[ja]
                snh = NHH[jb] - NHL[ja]
                if hi_m > lo_m:
                    # m is in its own slab, where its term is exactly zero
                    if q[m] > 0.0:
                        sp -= q[m]
                        sph -= q[m] * hi_m
                    else:
                        sn += q[m]
                        snh += q[m] * hi_m
                up = _cap_max(g, w0, cd, sd) + max(sph - lo_m * sp, 0.0)
                for i in range(d):
                    g[i] = -g[i]
                un = _cap_max(g, w0, cd, sd) + max(snh - lo_m * sn, 0.0)
            if up > best:
                best = up
            if un > best:
                best = un
            if best > exit_above:
                # the cell will be split whatever its bound: leave the bound to its parent's
                # (the caller takes the smaller), valid and cheaper
                best = np.inf
                break
        out[k] = best


def _evaluate(Xc, xn2, q, q2, W0, delta, cut=-np.inf, early_exit=False):
    """Upper bounds over the caps and exact eta (times alpha) at the centers.

    Bounds above ``cut`` (in the units of alpha * eta) are tightened further where cheap;
    with ``early_exit``, a cell whose bound exceeds ``cut`` gets ``inf`` (its parent's bound
    then holds). Every returned bound is valid either way.
    """
    P = W0 @ Xc.T
    omc = 2.0 * np.sin(0.5 * delta)[:, None] ** 2      # 1 - cos(delta), no cancellation
    sd = np.sin(delta)[:, None]
    # ||x_n - p_n w0||^2 = ||x_n||^2 - p_n^2 cancels when it is small: its rounding error is
    # added before the square root, and a few ulps of the largest projection after
    R = omc * np.abs(P) + sd * np.sqrt(np.maximum(xn2[None, :] - P * P, 0.0)
                                       + 8.0 * _EPS * xn2[None, :])
    R += 8.0 * _EPS * np.sqrt(xn2.max(initial=0.0))
    olo = np.argsort(P - R, axis=1)
    ohi = np.argsort(P + R, axis=1)
    op = np.argsort(P, axis=1)
    ub = np.empty(len(W0))
    _cap_bounds(Xc, xn2, q, W0, delta, P, R, olo, ohi, op, cut, cut if early_exit else np.inf,
                ub)
    val2, idx, bias, _ = eta_raw(Xc, q2, W0)
    return ub, np.sqrt(val2), bias


def eta_cap_bound(X, q, alpha, centers, radii):
    """Upper bounds of eta over spherical caps of directions (the bound of the module doc).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    q : ndarray of shape (n_samples,)
        Weighted projected residual (orthogonal to 1 and to the columns of X).
    alpha : float
        Regularization strength (> 0).
    centers : ndarray of shape (n_caps, n_features)
        Cap centers (normalized internally).
    radii : ndarray of shape (n_caps,)
        Angular radii in radians, in [0, pi / 2].

    Returns
    -------
    bound : ndarray of shape (n_caps,)
        ``bound[k] >= eta(w)`` for every unit w within angle ``radii[k]`` of ``centers[k]``.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.certificate import eta, eta_cap_bound
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((30, 3))
    >>> A = np.column_stack([np.ones(30), X])
    >>> q = rng.standard_normal(30)
    >>> q -= A @ np.linalg.lstsq(A, q, rcond=None)[0]
    >>> w0 = np.array([[1.0, 0.0, 0.0]])
    >>> ub = eta_cap_bound(X, q, 0.1, w0, [1e-3])[0]
    >>> e0 = eta(X, q, 0.1, w0)[0][0]
    >>> bool(e0 <= ub <= e0 * (1 + 1e-2))
    True
    """
    X, q2, alpha = validate(X, q, alpha)
    if q2.shape[1] != 1:
        raise ValueError(f"q must have a single output for the bound, got shape {q2.shape}.")
    W0 = unit_rows(centers, X.shape[1])
    radii = np.asarray(radii, dtype=float).reshape(-1)
    if radii.shape != (len(W0),) or not np.all((radii >= 0) & (radii <= 0.5 * np.pi)):
        raise ValueError(f"radii must be {len(W0)} angles in [0, pi/2], got {radii!r}.")
    Xc = np.ascontiguousarray(X - X.mean(axis=0))
    xn2 = np.einsum("ij,ij->i", Xc, Xc)
    out = np.empty(len(W0))
    step = max(1, _BATCH_ENTRIES // max(X.shape[0], 1))
    for k0 in range(0, len(W0), step):
        sl = slice(k0, k0 + step)
        ub, center, _ = _evaluate(Xc, xn2, np.ascontiguousarray(q2[:, 0]), q2, W0[sl],
                                  radii[sl] * (1.0 + 1e-9) + 1e-14)
        out[sl] = np.maximum(ub, center) / alpha
    return out


def bound_certificate(X, q, alpha, *, threshold=None, rtol=1e-6, stop_above=False,
                      max_cells=2_000_000, max_time=None, max_depth=40, top_k=20):
    """A proven upper bound on ``sup_w eta(w)`` by branch-and-bound over cells of directions.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        n_features >= 2 (meant for 3 and 4; the number of cells grows fast with it).
    q : ndarray of shape (n_samples,)
        Weighted projected residual (orthogonal to 1 and to the columns of X); one output.
    alpha : float
        Regularization strength (> 0).
    threshold : float or None, default=None
        Cells whose bound is at most the threshold are discarded: with a threshold the
        search proves ``sup eta <= threshold`` (``certified``) or finds a direction above
        it, which is far cheaper than the supremum itself. None: the supremum to ``rtol``.
    rtol : float, default=1e-6
        Cells whose bound is at most ``(1 + rtol)`` times the best eta found are discarded.
    stop_above : bool, default=False
        Stop as soon as a cell center's eta exceeds ``threshold``.
    max_cells : int, default=2_000_000
        Budget of cells bounded.
    max_time : float or None, default=None
        Budget in seconds (checked between batches of cells).
    max_depth : int, default=40
        Deepest subdivision (cells of angular radius about ``2^-depth``).
    top_k : int, default=20
        Most directions above the threshold returned.

    Returns
    -------
    BoundResult

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.certificate import bound_certificate, eta
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((30, 3))
    >>> A = np.column_stack([np.ones(30), X])
    >>> q = rng.standard_normal(30)
    >>> q -= A @ np.linalg.lstsq(A, q, rcond=None)[0]
    >>> res = bound_certificate(X, q, 0.1, rtol=1e-3)
    >>> bool(res.lower <= res.upper <= res.lower * (1 + 1e-3) + 1e-12)
    True
    >>> W = rng.standard_normal((500, 3))
    >>> bool(eta(X, q, 0.1, W)[0].max() <= res.upper)
    True
    """
    t0 = time.perf_counter()
    X, q2, alpha = validate(X, q, alpha)
    if q2.shape[1] != 1:
        raise ValueError(f"q must have a single output for the bound, got shape {q2.shape}.")
    N, d = X.shape
    if d < 2:
        raise ValueError(f"X must have at least two features for the bound, got {d}.")
    max_cells = check_positive_int(max_cells, "max_cells")
    max_depth = check_positive_int(max_depth, "max_depth")
    thr = -np.inf if threshold is None else float(threshold)
    if np.isnan(thr):
        raise ValueError("threshold must be a number or None, got nan.")
    if not (np.isfinite(rtol) and rtol >= 0):
        raise ValueError(f"rtol must be a nonnegative number, got {rtol!r}.")
    if max_time is not None and not max_time >= 0:
        raise ValueError(f"max_time must be nonnegative or None, got {max_time!r}.")
    Xc = np.ascontiguousarray(X - X.mean(axis=0))
    xn2 = np.einsum("ij,ij->i", Xc, Xc)
    qv = np.ascontiguousarray(q2[:, 0])
    axes = _face_axes(d)
    batch = max(2 ** (d - 1), _BATCH_ENTRIES // max(N, 1))

    # the d faces facing the positive axes, each the box [-1, 1]^(d-1)
    face = np.arange(d)
    lo = -np.ones((d, d - 1))
    hi = np.ones((d, d - 1))
    depth = np.zeros(d, dtype=np.int64)
    parent_ub = np.full(d, np.inf)
    active = None  # (face, lo, hi, depth, ub)
    best = -np.inf
    best_w = np.zeros(d)
    best_b = 0.0
    found_W, found_e = [], []
    discarded = -np.inf
    by_depth = prev_depth = np.zeros(1, dtype=np.int64)
    n_cells = 0
    deepest = 0
    stop = "complete"
    while True:
        W0, delta = _geometry(face, lo, hi, d, axes)
        ub, center, bias = _evaluate(Xc, xn2, qv, q2, W0, delta,
                                     alpha * max(thr, best * (1.0 + rtol)), early_exit=True)
        ub = np.minimum(ub / alpha, parent_ub)
        center = center / alpha
        n_cells += len(face)
        deepest = max(deepest, int(depth.max(initial=0)))
        by_depth = np.bincount(depth, minlength=max(deepest + 1, len(by_depth)))
        by_depth[:len(prev_depth)] += prev_depth
        prev_depth = by_depth
        k = int(np.argmax(center))
        if center[k] > best:
            best = float(center[k])
            best_w = W0[k]
            # the bias of the centered data, back in the user's coordinates
            best_b = float(bias[k] + W0[k] @ X.mean(axis=0))
        above = center > thr
        if np.any(above):
            found_W.append(W0[above])
            found_e.append(center[above])
        ub = np.maximum(ub, center)
        if active is not None:
            face = np.concatenate([active[0], face])
            lo = np.vstack([active[1], lo])
            hi = np.vstack([active[2], hi])
            depth = np.concatenate([active[3], depth])
            ub = np.concatenate([active[4], ub])
        cut = max(thr, best * (1.0 + rtol))
        keep = ub > cut
        if not keep.all():
            discarded = max(discarded, float(ub[~keep].max()))
        face, lo, hi, depth, ub = face[keep], lo[keep], hi[keep], depth[keep], ub[keep]
        if stop_above and best > thr:
            stop = "above"
            break
        if not len(face):
            break
        if n_cells >= max_cells:
            stop = "max_cells"
            break
        if max_time is not None and time.perf_counter() - t0 > max_time:
            stop = "max_time"
            break
        # split the highest-bounded cells, keep the rest for later
        n_split = min(len(face), max(1, batch // 2 ** (d - 1)))
        if n_split < len(face):
            sel = np.zeros(len(face), dtype=bool)
            sel[np.argpartition(-ub, n_split - 1)[:n_split]] = True
        else:
            sel = np.ones(len(face), dtype=bool)
        if np.any(depth[sel] >= max_depth):
            stop = "max_depth"
            break
        active = (face[~sel], lo[~sel], hi[~sel], depth[~sel], ub[~sel])
        m = 2 ** (d - 1)
        parent_ub = np.tile(ub[sel], m)
        child_depth = np.tile(depth[sel] + 1, m)
        face, lo, hi = _split(face[sel], lo[sel], hi[sel], d)
        depth = child_depth
    unknown = ~np.isfinite(ub)
    if stop in ("max_cells", "max_time", "max_depth") and unknown.any() and \
            unknown.sum() <= 4 * batch:
        # Cells left to split carry no finite bound (the search skips computing it once a
        # cell is certain to be split): compute it, for a finite upper bound at the stop.
        W0, delta = _geometry(face[unknown], lo[unknown], hi[unknown], d, axes)
        ub_left, _, _ = _evaluate(Xc, xn2, qv, q2, W0, delta)
        ub[unknown] = ub_left / alpha
    upper = max(best, discarded, float(ub.max(initial=-np.inf)) if len(ub) else -np.inf)
    if found_W:
        FW = np.vstack(found_W)
        FE = np.concatenate(found_e)
        order = np.argsort(-FE)
        FW, FE = FW[order], FE[order]
        keep_W, keep_e = [], []
        for w, e in zip(FW, FE):
            if keep_W and np.max(np.abs(np.asarray(keep_W) @ w)) > 1.0 - 1e-9:
                continue
            keep_W.append(w)
            keep_e.append(e)
            if len(keep_W) >= top_k:
                break
        dirs = canonical(np.asarray(keep_W), np.zeros(len(keep_W)))[0]
        etas = np.asarray(keep_e)
    else:
        dirs, etas = np.zeros((0, d)), np.zeros(0)
    w_can, b_can = canonical(best_w, best_b)
    return BoundResult(upper=float(upper), lower=float(best), direction=w_can[0],
                       bias=float(b_can[0]), threshold=thr,
                       certified=bool(threshold is not None and upper <= thr), stop=stop,
                       n_cells=int(n_cells), depth=int(deepest),
                       time=time.perf_counter() - t0, directions=dirs, etas=etas,
                       cells_by_depth=prev_depth)
