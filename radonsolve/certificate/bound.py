"""A proven upper bound on ``sup_w eta(w)`` for d >= 3 by branch-and-bound (DESIGN §11).

The directions are covered, up to the symmetry ``eta(w) = eta(-w)`` (q is orthogonal to the
affine functions), by the d faces ``{w : w_f = max_i |w_i|... }`` of the cube that face the
positive axes, projected to the sphere; a cell is a box of one face's coordinates, contained
in the spherical cap around its center ``w0`` whose angular radius ``delta`` is the largest
angle to a vertex (the gnomonic image of a cap is convex, so the vertices decide).

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
slack is of second order in delta (O(delta) points, O(delta) each), so near a smooth maximum
only a bounded number of cells survive per level. The data are centered first (q is
orthogonal to 1, so a shift of x changes nothing but makes ``||x_n||``, hence r_n, smaller).

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

# Cells evaluated per batch (bounds the (cells x samples) temporaries of one batch).
_BATCH_ENTRIES = 1_000_000


@dataclass
class BoundResult:
    """Result of :func:`bound_certificate`.

    Attributes
    ----------
    upper : float
        Proven upper bound on ``sup_w eta(w)``.
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
    >>> primal = duality_gap_for_P(b, rho, 0.0, 1.0) * -1.0 + 1e-3
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
def _cap_max(g, w0, cd, sd, delta):
    """max over the cap (center w0, radius delta) of w.g, exactly."""
    d = g.shape[0]
    gn2 = 0.0
    gw = 0.0
    for i in range(d):
        gn2 += g[i] * g[i]
        gw += g[i] * w0[i]
    if gn2 <= 0.0:
        return 0.0
    gn = np.sqrt(gn2)
    perp = np.sqrt(max(gn2 - gw * gw, 0.0))
    ang = np.arctan2(perp, gw)
    if ang <= delta:
        return gn
    # ||g|| cos(ang - delta) from the components, avoiding the angle's rounding near 0
    return gw * cd + perp * sd


@njit(cache=True)
def _cap_bounds(X, q, W0, delta, P, R, olo, ohi, out):
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
    g = np.empty(d)
    for k in range(K):
        p = P[k]
        r = R[k]
        w0 = W0[k]
        cd = np.cos(delta[k])
        sd = np.sin(delta[k])
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
        best = 0.0
        for m in range(N):
            lo_m = p[m] - r[m]
            hi_m = p[m] + r[m]
            ja = np.searchsorted(los, hi_m, side="right")
            jb = np.searchsorted(his, lo_m, side="right")
            for i in range(d):
                g[i] = GA[ja, i] - SA[ja] * X[m, i]
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
            up = _cap_max(g, w0, cd, sd, delta[k]) + max(sph - lo_m * sp, 0.0)
            if up > best:
                best = up
            for i in range(d):
                g[i] = -g[i]
            un = _cap_max(g, w0, cd, sd, delta[k]) + max(snh - lo_m * sn, 0.0)
            if un > best:
                best = un
        out[k] = best


def _evaluate(Xc, xn2, q, q2, W0, delta):
    """Upper bounds over the caps and exact eta (times alpha) at the centers."""
    P = W0 @ Xc.T
    cd = np.cos(delta)[:, None]
    sd = np.sin(delta)[:, None]
    R = (1.0 - cd) * np.abs(P) + sd * np.sqrt(np.maximum(xn2[None, :] - P * P, 0.0))
    # rounding of P and R themselves: a few ulps of the largest projection
    R += 4.0 * np.finfo(float).eps * np.sqrt(xn2.max(initial=0.0))
    olo = np.argsort(P - R, axis=1)
    ohi = np.argsort(P + R, axis=1)
    ub = np.empty(len(W0))
    _cap_bounds(Xc, q, W0, delta, P, R, olo, ohi, ub)
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
    n_cells = 0
    deepest = 0
    stop = "complete"
    while True:
        W0, delta = _geometry(face, lo, hi, d, axes)
        ub, center, bias = _evaluate(Xc, xn2, qv, q2, W0, delta)
        ub = np.minimum(ub / alpha, parent_ub)
        center = center / alpha
        n_cells += len(face)
        deepest = max(deepest, int(depth.max(initial=0)))
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
                       time=time.perf_counter() - t0, directions=dirs, etas=etas)
