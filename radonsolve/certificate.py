"""The dual certificate over all directions (DESIGN §5-6).

Let ``q = sqrt(u) * rho`` be the weighted projected residual of a finite solution (shape (N,)
or (N, T) for T outputs). Because rho is projected, q is orthogonal to the constant and to
every feature, so the correlation of the atom (w, b),

    c(w, b) = sum_n q_n max(w.x_n - b, 0),

is unchanged by ``(w, b) -> (-w, -b)`` (the two atoms differ by an affine function) and
vanishes for b outside the data range. It is piecewise linear in b with kinks at the data
projections, so

    eta(w) = max_b ||c(w, b)|| / alpha

is attained at a data projection. The finite solution solves the infinite-dimensional
problem (P) iff ``eta(w) <= 1`` for every unit w, and ``theta = rho / max(1, sup_w eta)`` is
dual feasible for (P), so ``sup_w eta`` turns the finite duality gap into a gap for (P).

This module computes

- :func:`eta`: eta on given directions, exactly, O(N log N) per direction;
- :func:`exact_certificate_2d`: the exact supremum for d = 2 by a rotating sweep over the
  N (N - 1) / 2 angles at which the sorted order of projections changes;
- :func:`search_certificate`: a searched (not proven) supremum for any d, from many candidate
  directions followed by local ascent with exact line searches along great circles;
- :func:`duality_gap_for_P`: the duality gap of (P) given ``sup eta``.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange
from sklearn.utils import check_random_state

__all__ = [
    "Certificate",
    "eta",
    "exact_certificate_2d",
    "SweepEvents",
    "search_certificate",
    "duality_gap_for_P",
]

# Target number of (direction, sample) projections held at once by :func:`eta`: bounds the
# temporary memory whatever the number of directions.
_CHUNK_ENTRIES = 2_000_000


# ---------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------
@dataclass
class Certificate:
    """Largest dual-constraint violation over directions.

    Attributes
    ----------
    eta : float
        Largest ``eta(w)`` found (the exact supremum when ``exact`` is True).
    direction : ndarray of shape (n_features,)
        Unit direction attaining ``eta``, on the canonical half-sphere (first nonzero
        coordinate positive).
    bias : float
        Bias of the maximizing atom (a data projection ``direction . x_index``).
    exact : bool
        True when ``eta`` is the proven supremum over all directions; False when searched.
    directions : ndarray of shape (k, n_features)
        Distinct (local maximum) directions with ``eta > threshold``, best first; the
        candidates an exchange method adds. Empty when nothing exceeds the threshold.
    etas : ndarray of shape (k,)
        ``eta`` of each row of ``directions``.
    n_evaluated : int
        Number of directions on which eta was evaluated (for the exact sweep: the number of
        pieces of the sweep, i.e. of order-change events).
    biases : ndarray of shape (k,)
        Maximizing bias of each row of ``directions``.
    index : int
        Index (into the input X) of the data point whose projection is ``bias``.
    """

    eta: float
    direction: np.ndarray
    bias: float
    exact: bool
    directions: np.ndarray
    etas: np.ndarray
    n_evaluated: int
    biases: np.ndarray = field(default_factory=lambda: np.zeros(0))
    index: int = -1

    def holds(self, tol=0.0):
        """True when the certificate proves optimality: exact and ``eta <= 1 + tol``."""
        return bool(self.exact and self.eta <= 1.0 + tol)


def duality_gap_for_P(b, rho, primal, eta_sup):
    """Duality gap of (P) from a finite solution and the supremum of eta.

    The dual point ``theta = s * rho`` with ``s = min(1, 1 / eta_sup)`` satisfies every dual
    constraint of (P) (over all directions and biases), so its dual objective
    ``s <b, rho> - s^2 ||rho||^2 / 2`` is a lower bound on the optimum of (P). Same rule as
    :func:`radonsolve.lasso.dual_objective` with ``corr_norm = alpha * eta_sup``.

    Parameters
    ----------
    b : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Projected scaled targets ``P sqrt(u) y``.
    rho : ndarray, same shape as ``b``
        Projected residual of the finite solution.
    primal : float
        Primal objective of the finite solution, ``0.5 ||rho||^2 + alpha * sum_k ||v_k||``.
    eta_sup : float
        Supremum of eta over all directions. An upper bound on it gives a valid (larger)
        gap; a searched value gives a gap that is only as trustworthy as the search.

    Returns
    -------
    gap : float
        ``primal - dual(theta)`` (nonnegative up to rounding when eta_sup is a true bound).
    """
    eta_sup = float(eta_sup)
    if not np.isfinite(eta_sup) or eta_sup < 0:
        raise ValueError(f"eta_sup must be a finite nonnegative number, got {eta_sup}.")
    s = 1.0 if eta_sup <= 1.0 else 1.0 / eta_sup
    b = np.asarray(b, dtype=float)
    rho = np.asarray(rho, dtype=float)
    dual = s * float(np.sum(b * rho)) - 0.5 * s * s * float(np.sum(rho ** 2))
    return float(primal) - dual


# ---------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------
def _validate(X, q, alpha):
    X = np.ascontiguousarray(np.asarray(X, dtype=float))
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array, got shape {X.shape}.")
    q = np.asarray(q, dtype=float)
    if q.ndim == 1:
        q = q[:, None]
    if q.ndim != 2 or q.shape[0] != X.shape[0]:
        raise ValueError(f"q must have shape ({X.shape[0]},) or ({X.shape[0]}, T), got {q.shape}.")
    q = np.ascontiguousarray(q)
    alpha = float(alpha)
    if not alpha > 0:
        raise ValueError(f"alpha must be positive, got {alpha}.")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(q))):
        raise ValueError("X and q must be finite.")
    _check_orthogonal(X, q)
    return X, q, alpha


def _check_orthogonal(X, q):
    # Everything here (half-sphere, biases only at data projections) relies on q being
    # orthogonal to affine functions; a raw residual silently gives a wrong certificate.
    qn = np.linalg.norm(q, axis=0)
    if not np.any(qn > 0):
        return
    N = X.shape[0]
    A = np.column_stack([np.ones(N), X - X.mean(axis=0)])
    an = np.maximum(np.linalg.norm(A, axis=0), 1e-300)
    rel = np.abs(A.T @ q) / (an[:, None] * np.maximum(qn, 1e-300)[None, :])
    if rel.max() > 1e-6:
        warnings.warn(
            f"q is not orthogonal to the affine functions (relative inner product "
            f"{rel.max():.1e}); eta(w) and eta(-w) differ and the certificate is not valid. "
            f"Pass q = sqrt(u) * rho with rho the projected residual.", UserWarning,
            stacklevel=3)


def _unit_rows(W, d):
    W = np.atleast_2d(np.asarray(W, dtype=float))
    if W.ndim != 2 or W.shape[1] != d:
        raise ValueError(f"directions must have shape (n_directions, {d}), got {W.shape}.")
    n = np.linalg.norm(W, axis=1)
    if np.any(n <= 0) or not np.all(np.isfinite(n)):
        raise ValueError("directions must be finite and nonzero.")
    return np.ascontiguousarray(W / n[:, None])


def _canonical(W, b):
    """Flip (w, b) -> (-w, -b) so that the first nonzero coordinate of w is positive."""
    W = np.array(W, dtype=float, ndmin=2, copy=True)
    b = np.array(b, dtype=float, ndmin=1, copy=True)
    first = np.argmax(np.abs(W) > 1e-12, axis=1)
    flip = W[np.arange(len(W)), first] < 0
    W[flip] *= -1
    b[flip] *= -1
    return W, b


# ---------------------------------------------------------------------------------------
# eta on given directions
# ---------------------------------------------------------------------------------------
@njit(cache=True)
def _best_bias(p, q, order, c_out):
    """Largest ||c|| over biases at the sorted projections; returns (value^2, position).

    Recurrence from the top: c_j = c_{j+1} + (p_(j+1) - p_(j)) S_{j+1} with S the suffix sum
    of q. Every term is a gap times a suffix sum, which avoids the cancellation of
    ``S1 - p S0`` when the projections are large compared with their spread.
    """
    N, T = q.shape
    S = np.zeros(T)
    c = np.zeros(T)
    best = 0.0
    best_j = N - 1
    for t in range(T):
        c_out[t] = 0.0
    for j in range(N - 2, -1, -1):
        k1 = order[j + 1]
        gap = p[k1] - p[order[j]]
        v = 0.0
        for t in range(T):
            S[t] += q[k1, t]
            c[t] += gap * S[t]
            v += c[t] * c[t]
        if v > best:
            best = v
            best_j = j
            for t in range(T):
                c_out[t] = c[t]
    return best, best_j


@njit(cache=True)
def _eta_batch(P, O, q, val2, idx, bias, corr):
    D = P.shape[0]
    T = q.shape[1]
    c = np.zeros(T)
    for k in range(D):
        p = P[k]
        order = O[k]
        v, j = _best_bias(p, q, order, c)
        val2[k] = v
        idx[k] = order[j]
        bias[k] = p[order[j]]
        for t in range(T):
            corr[k, t] = c[t]


def _eta_raw(X, q, W):
    """Squared best correlation norm, data index, bias and correlation for unit rows W."""
    N = X.shape[0]
    D = W.shape[0]
    T = q.shape[1]
    val2 = np.zeros(D)
    idx = np.zeros(D, dtype=np.int64)
    bias = np.zeros(D)
    corr = np.zeros((D, T))
    if N == 0 or D == 0:
        return val2, idx, bias, corr
    step = max(1, _CHUNK_ENTRIES // max(N, 1))
    for k0 in range(0, D, step):
        k1 = min(D, k0 + step)
        P = np.ascontiguousarray(W[k0:k1] @ X.T)
        # numpy's vectorized sort beats numba's argsort several times over
        O = np.argsort(P, axis=1)
        _eta_batch(P, O, q, val2[k0:k1], idx[k0:k1], bias[k0:k1], corr[k0:k1])
    return val2, idx, bias, corr


def eta(X, q, alpha, directions, *, return_correlation=False):
    """Exact ``eta(w) = max_b ||sum_n q_n max(w.x_n - b, 0)|| / alpha`` for each direction.

    One sort per direction, then a suffix-sum pass over the N candidate biases (the data
    projections): O(N log N) per direction, processed in chunks of directions so that
    memory stays bounded.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    q : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Weighted projected residual ``sqrt(u) * rho`` (orthogonal to 1 and to the columns
        of X).
    alpha : float
        Regularization strength (> 0).
    directions : ndarray of shape (n_directions, n_features)
        Directions; rows are normalized to unit length.
    return_correlation : bool, default=False
        Also return the correlation vector c(w, b) of each maximizing atom.

    Returns
    -------
    eta : ndarray of shape (n_directions,)
    bias : ndarray of shape (n_directions,)
        Maximizing bias ``b = w.x_index`` for each direction.
    index : ndarray of shape (n_directions,)
        Index of the data point whose projection is the maximizing bias.
    correlation : ndarray of shape (n_directions,) or (n_directions, n_outputs)
        Only with ``return_correlation``; shape follows q.
    """
    single = np.asarray(q).ndim == 1
    X, q, alpha = _validate(X, q, alpha)
    W = _unit_rows(directions, X.shape[1])
    val2, idx, bias, corr = _eta_raw(X, q, W)
    out = (np.sqrt(val2) / alpha, bias, idx)
    if return_correlation:
        out = out + (corr[:, 0] if single else corr,)
    return out


# ---------------------------------------------------------------------------------------
# Closed-form maximum of ||G^T w(theta)|| on an angle interval
# ---------------------------------------------------------------------------------------
# With G of shape (2, T), ||G^T w||^2 = a cos^2 + 2 b cos sin + c sin^2
#   = h + dl cos(2 theta) + b sin(2 theta),  h = (a + c)/2, dl = (a - c)/2,
# maximal (value h + R, R = sqrt(dl^2 + b^2)) at theta = atan2(b, dl)/2 mod pi. With T = 1 this
# is |w.g|^2, maximal where w is parallel to +-g.


@njit(cache=True)
def _record(v, th, k, best, use_bins, thr2, theta0, bin_val, bin_ang, bin_k):
    if v > best[0]:
        best[0] = v
        best[1] = th
        best[2] = k
    if use_bins and v > thr2:
        nb = bin_val.shape[0]
        bi = int((th - theta0) / np.pi * nb)
        if bi < 0:
            bi = 0
        elif bi >= nb:
            bi = nb - 1
        if v > bin_val[bi]:
            bin_val[bi] = v
            bin_ang[bi] = th
            bin_k[bi] = k


@njit(cache=True)
def _finalize(G, k, s, th, ct, st, best, use_bins, thr2, theta0, bin_val, bin_ang, bin_k):
    """Maximum of anchor k's correlation on its piece [s, th], where G[k] was constant.

    The value at s was already counted (end of the previous piece: the correlation of an
    anchor is continuous in the angle), so only the end th and the interior stationary
    point are checked.
    """
    T = G.shape[2]
    a = 0.0
    b = 0.0
    c = 0.0
    for t in range(T):
        g0 = G[k, 0, t]
        g1 = G[k, 1, t]
        a += g0 * g0
        b += g0 * g1
        c += g1 * g1
    h = 0.5 * (a + c)
    dl = 0.5 * (a - c)
    R = np.sqrt(dl * dl + b * b)
    lam = h + R
    # Prune: nothing on this piece can beat the best or enter a bin.
    cut = best[0]
    if use_bins and thr2 < cut:
        cut = thr2
    if lam <= cut:
        return
    v = a * ct * ct + 2.0 * b * ct * st + c * st * st
    _record(v, th, k, best, use_bins, thr2, theta0, bin_val, bin_ang, bin_k)
    if R > 0.0:
        phi = 0.5 * np.arctan2(b, dl)
        m = np.ceil((s - phi) / np.pi)
        ths = phi + m * np.pi
        if ths < th:
            _record(lam, ths, k, best, use_bins, thr2, theta0, bin_val, bin_ang, bin_k)


@njit(cache=True)
def _block_contrib(X, q, G, seq, sign):
    """Add sign * (contribution of the points after each point within seq) to G.

    For anchor seq[i]: sum_{l > i} q_seq[l] (x_seq[l] - x_seq[i]), by the same gap-times-
    suffix-sum recurrence as in :func:`_best_bias`.
    """
    B = seq.shape[0]
    T = q.shape[1]
    S = np.zeros(T)
    C0 = np.zeros(T)
    C1 = np.zeros(T)
    for i in range(B - 2, -1, -1):
        k1 = seq[i + 1]
        k = seq[i]
        d0 = X[k1, 0] - X[k, 0]
        d1 = X[k1, 1] - X[k, 1]
        for t in range(T):
            S[t] += q[k1, t]
            C0[t] += d0 * S[t]
            C1[t] += d1 * S[t]
            G[k, 0, t] += sign * C0[t]
            G[k, 1, t] += sign * C1[t]


@njit(cache=True)
def _sweep_2d(X, q, theta0, ev_ang, ev_a, ev_b, group_tol, use_bins, thr2,
              bin_val, bin_ang, bin_k):
    """Rotating sweep over theta in [theta0, theta0 + pi) (DESIGN §5).

    Events are sorted by angle; event e means "just after ev_ang[e], point ev_a[e] projects
    before point ev_b[e]". G[k] (2 x T) is the gradient of anchor k's correlation,
    sum_{n after k} q_n (x_n - x_k), constant between events that involve k. An adjacent swap
    changes two G's by one term each. Ties (collinear points, several pairs at one angle)
    and rounding are handled by re-sorting the whole block of positions between the two
    points by their projections just after the event group and updating the G's of that
    block from block-local suffix sums: the order is then self-correcting and G always
    matches the maintained order exactly.
    """
    N, T = q.shape
    best = np.zeros(3)
    c0 = np.cos(theta0)
    s0 = np.sin(theta0)
    p = np.empty(N)
    for n in range(N):
        p[n] = X[n, 0] * c0 + X[n, 1] * s0
    order = np.argsort(p, kind="mergesort")
    pos = np.empty(N, np.int64)
    for i in range(N):
        pos[order[i]] = i
    G = np.zeros((N, 2, T))
    S = np.zeros(T)
    for j in range(N - 2, -1, -1):
        k1 = order[j + 1]
        k = order[j]
        d0 = X[k1, 0] - X[k, 0]
        d1 = X[k1, 1] - X[k, 1]
        for t in range(T):
            S[t] += q[k1, t]
            G[k, 0, t] = G[k1, 0, t] + d0 * S[t]
            G[k, 1, t] = G[k1, 1, t] + d1 * S[t]
    start = np.full(N, theta0)
    best[0] = -1.0
    for k in range(N):
        v0 = 0.0
        for t in range(T):
            v = G[k, 0, t] * c0 + G[k, 1, t] * s0
            v0 += v * v
        _record(v0, theta0, k, best, use_bins, thr2, theta0, bin_val, bin_ang, bin_k)

    E = ev_ang.shape[0]
    theta_end = theta0 + np.pi
    e = 0
    while e < E:
        g_end = e
        while g_end + 1 < E and ev_ang[g_end + 1] - ev_ang[g_end] <= group_tol:
            g_end += 1
        th_next = ev_ang[g_end + 1] if g_end + 1 < E else theta_end
        th_mid = 0.5 * (ev_ang[g_end] + th_next)
        for f in range(e, g_end + 1):
            a = ev_a[f]
            b = ev_b[f]
            pa = pos[a]
            pb = pos[b]
            if pa < pb:
                continue  # already in the post-event order (handled within its group)
            th = ev_ang[f]
            ct = np.cos(th)
            st = np.sin(th)
            if pa == pb + 1:
                _finalize(G, b, start[b], th, ct, st, best, use_bins, thr2, theta0,
                          bin_val, bin_ang, bin_k)
                _finalize(G, a, start[a], th, ct, st, best, use_bins, thr2, theta0,
                          bin_val, bin_ang, bin_k)
                start[a] = th
                start[b] = th
                d0 = X[a, 0] - X[b, 0]
                d1 = X[a, 1] - X[b, 1]
                for t in range(T):
                    # b loses a from its active side, a gains b.
                    G[b, 0, t] -= q[a, t] * d0
                    G[b, 1, t] -= q[a, t] * d1
                    G[a, 0, t] -= q[b, t] * d0
                    G[a, 1, t] -= q[b, t] * d1
                order[pb] = a
                order[pa] = b
                pos[a] = pb
                pos[b] = pa
            else:
                lo = pb
                hi = pa
                seq = order[lo:hi + 1].copy()
                for i in range(seq.shape[0]):
                    k = seq[i]
                    _finalize(G, k, start[k], th, ct, st, best, use_bins, thr2, theta0,
                              bin_val, bin_ang, bin_k)
                    start[k] = th
                cm = np.cos(th_mid)
                sm = np.sin(th_mid)
                key = np.empty(seq.shape[0])
                for i in range(seq.shape[0]):
                    key[i] = X[seq[i], 0] * cm + X[seq[i], 1] * sm
                perm = np.argsort(key, kind="mergesort")
                new = seq[perm]
                _block_contrib(X, q, G, seq, -1.0)
                _block_contrib(X, q, G, new, 1.0)
                for i in range(new.shape[0]):
                    order[lo + i] = new[i]
                    pos[new[i]] = lo + i
        e = g_end + 1
    ct = np.cos(theta_end)
    st = np.sin(theta_end)
    for k in range(N):
        _finalize(G, k, start[k], theta_end, ct, st, best, use_bins, thr2, theta0,
                  bin_val, bin_ang, bin_k)
    return best


class SweepEvents:
    """The critical angles of planar data, reusable for every residual on the same points.

    The sweep's events (pairs of points projecting equally, sorted by angle) depend on X
    only; building them is O(N^2 log N), a third of a certificate's cost at N = 2000. The
    exchange method certifies many residuals on the same X, so it builds them once.

    Parameters
    ----------
    X : ndarray of shape (n_samples, 2)
    """

    def __init__(self, X):
        X = np.ascontiguousarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != 2:
            raise ValueError(f"SweepEvents needs 2 features, got shape {X.shape}.")
        self.n_samples = X.shape[0]
        self._X = X.copy()
        Xu, first, inv = np.unique(X, axis=0, return_index=True, return_inverse=True)
        self.inverse = np.asarray(inv).ravel()
        if len(Xu) == len(X):
            Xu, first, self.inverse = X, np.arange(len(X)), None
        self.points = np.ascontiguousarray(Xu)
        self.first = first
        self.theta0 = 0.0
        self.angles = np.zeros(0)
        self.after = self.before = np.zeros(0, dtype=np.int32)
        if len(Xu) < 2:
            return
        th, ea, eb = _events_2d(self.points)
        # Start in the middle of the largest gap between critical angles: the initial order
        # is then free of ties, and no event sits at the seam of the half circle.
        gaps = np.diff(th, append=th[0] + np.pi)
        g = int(np.argmax(gaps))
        theta0 = th[g] + 0.5 * gaps[g]
        if theta0 >= np.pi:
            theta0 -= np.pi
        L = int(np.searchsorted(th, theta0))
        # Events before theta0 happen at theta + pi, where w is reversed: the pair crosses
        # in the opposite sense, so the post-event order flips.
        self.theta0 = float(theta0)
        self.angles = np.concatenate([th[L:], th[:L] + np.pi])
        self.after = np.concatenate([ea[L:], eb[:L]])
        self.before = np.concatenate([eb[L:], ea[:L]])

    def matches(self, X):
        return X.shape == self._X.shape and np.array_equal(X, self._X)

    def merge(self, q):
        """Residuals summed over duplicated points (they share every atom's value)."""
        if self.inverse is None:
            return q
        qu = np.zeros((len(self.points), q.shape[1]))
        np.add.at(qu, self.inverse, q)
        return qu


@njit(cache=True)
def _event_angles(X):
    N = X.shape[0]
    E = N * (N - 1) // 2
    th = np.empty(E)
    a = np.empty(E, np.int32)
    b = np.empty(E, np.int32)
    below_pi = np.nextafter(np.pi, 0.0)
    e = 0
    for i in range(N):
        for j in range(i + 1, N):
            # p_i - p_j = |x_i - x_j| cos(theta - psi): zero at psi +- pi/2. At psi + pi/2 it
            # decreases (i goes before j); at psi - pi/2 it increases (j goes before i).
            t = np.arctan2(X[i, 1] - X[j, 1], X[i, 0] - X[j, 0]) + 0.5 * np.pi
            if t >= np.pi:
                t -= np.pi
                a[e] = j
                b[e] = i
            elif t < 0.0:
                t += np.pi
                a[e] = j
                b[e] = i
                # -tiny + pi may round to pi: keep it below (at 0 the sense is reversed)
                if t > below_pi:
                    t = below_pi
            else:
                a[e] = i
                b[e] = j
            th[e] = t
            e += 1
    return th, a, b


def _events_2d(X):
    """Critical angles in [0, pi) with the post-event order of each pair, sorted."""
    th, a, b = _event_angles(X)
    o = np.argsort(th)  # numpy's sort is much faster than numba's for millions of keys
    return th[o], a[o], b[o]


def exact_certificate_2d(X, q, alpha, *, top_k=10, threshold=1.0, min_angle=1e-3,
                         events=None):
    """Exact supremum of eta over all directions in the plane (d = 2), by a rotating sweep.

    The direction ``w(theta) = (cos theta, sin theta)`` turns through half a circle (enough,
    since eta(w) = eta(-w)). The sorted order of the projections changes only at the
    critical angles where two points project equally; between them each anchor's
    correlation is ``||G^T w(theta)||`` for a fixed 2 x T matrix G, maximized in closed form
    on the interval. Each event updates O(1) of the G's, so the sweep costs
    O(N^2 log N) time (the sort of the N (N - 1) / 2 critical angles) and O(N^2) memory.

    Parameters
    ----------
    X : ndarray of shape (n_samples, 2)
    q : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Weighted projected residual ``sqrt(u) * rho``.
    alpha : float
    top_k : int, default=10
        Number of distinct local maxima with eta > threshold to return in
        ``Certificate.directions`` (0 disables the bookkeeping, which is slightly faster).
    threshold : float, default=1.0
        Only directions with eta above it are returned in ``directions``.
    min_angle : float, default=1e-3
        Angular resolution (radians) separating distinct local maxima: the half circle is
        cut into ``ceil(pi / min_angle)`` bins, each keeping its best value, and the
        returned directions are bins that beat their neighbours. Heuristic (two maxima
        closer than ``min_angle`` are one); the global maximum is always exact.
    events : SweepEvents, optional
        The critical angles of X, built once for several residuals on the same points.

    Returns
    -------
    Certificate
        ``exact=True``. ``eta`` is the larger of the sweep's maximum and an exact
        re-evaluation at the returned direction (they agree to rounding).
    """
    X, q, alpha = _validate(X, q, alpha)
    if X.shape[1] != 2:
        raise ValueError(f"exact_certificate_2d needs 2 features, got {X.shape[1]}.")
    N0 = X.shape[0]
    if events is None:
        events = SweepEvents(X)
    elif not events.matches(X):
        raise ValueError("events were built for other data than X.")
    Xu, first = events.points, events.first
    N = Xu.shape[0]
    if N < 2:
        return Certificate(0.0, np.array([1.0, 0.0]), float(X[0, 0]) if N0 else 0.0, True,
                           np.zeros((0, 2)), np.zeros(0), 0, np.zeros(0), 0 if N0 else -1)
    qu = events.merge(q)
    th, ea, eb, theta0 = events.angles, events.after, events.before, events.theta0

    use_bins = top_k > 0
    nb = max(16, int(np.ceil(np.pi / float(min_angle)))) if use_bins else 1
    bin_val = np.full(nb, -1.0)
    bin_ang = np.zeros(nb)
    bin_k = np.zeros(nb, dtype=np.int64)
    thr2 = (float(threshold) * alpha) ** 2
    best = _sweep_2d(Xu, qu, float(theta0), th, ea, eb, 1e-11, use_bins, thr2,
                     bin_val, bin_ang, bin_k)
    n_events = len(th)

    th_best = best[1]
    k_best = int(best[2])
    w = np.array([np.cos(th_best), np.sin(th_best)])
    sweep_eta = np.sqrt(max(best[0], 0.0)) / alpha
    W, bvec = _canonical(w, [w @ Xu[k_best]])
    w, bias = W[0], float(bvec[0])
    val2, _, _, _ = _eta_raw(X, q, W)
    eta_best = max(sweep_eta, float(np.sqrt(val2[0])) / alpha)

    dirs = np.zeros((0, 2))
    etas = np.zeros(0)
    biases = np.zeros(0)
    if use_bins:
        left = np.roll(bin_val, 1)
        right = np.roll(bin_val, -1)
        # The seam wraps: theta0 + pi is the direction theta0 reversed.
        sel = np.nonzero((bin_val > thr2) & (bin_val > left) & (bin_val >= right))[0]
        sel = sel[np.argsort(-bin_val[sel], kind="stable")][:top_k]
        if len(sel):
            ang = bin_ang[sel]
            Wk = np.column_stack([np.cos(ang), np.sin(ang)])
            Wk, bk = _canonical(Wk, np.einsum("ij,ij->i", Wk, Xu[bin_k[sel]]))
            v2, _, _, _ = _eta_raw(X, q, Wk)
            ek = np.maximum(np.sqrt(v2), np.sqrt(bin_val[sel])) / alpha
            dirs, etas, biases = Wk, ek, bk
    return Certificate(eta=float(eta_best), direction=w, bias=bias, exact=True,
                       directions=dirs, etas=etas, n_evaluated=int(n_events), biases=biases,
                       index=int(first[k_best]))


# ---------------------------------------------------------------------------------------
# Search for d >= 3 (any d >= 2): candidates, then ascent with exact great-circle searches
# ---------------------------------------------------------------------------------------
@njit(cache=True)
def _circle_max(A, B, q):
    """Exact max over phi of ||sum_n q_n max(A_n cos phi + B_n sin phi, 0)||^2.

    This is one anchor's correlation along the great circle w(phi) = cos phi w + sin phi b
    (A_n = w.(x_n - x_m), B_n = b.(x_n - x_m)). Point n is active on the half circle
    centred on psi_n = atan2(B_n, A_n); sweeping the 2N entry/exit angles keeps the 2 x T
    gradient constant on each piece, maximized in closed form.
    Returns (max value^2, maximizing phi in [-pi, pi]).
    """
    N, T = q.shape
    ang = np.empty(2 * N)
    who = np.empty(2 * N, np.int64)
    sgn = np.empty(2 * N)
    G = np.zeros((2, T))
    ne = 0
    half = 0.5 * np.pi
    for n in range(N):
        if A[n] == 0.0 and B[n] == 0.0:
            continue
        psi = np.arctan2(B[n], A[n])
        en = psi - half
        if en < -np.pi:
            en += 2.0 * np.pi
        ex = psi + half
        if ex >= np.pi:
            ex -= 2.0 * np.pi
        ang[ne] = en
        who[ne] = n
        sgn[ne] = 1.0
        ang[ne + 1] = ex
        who[ne + 1] = n
        sgn[ne + 1] = -1.0
        ne += 2
        if ex < en:  # the active arc wraps through -pi: active at the start
            for t in range(T):
                G[0, t] += q[n, t] * A[n]
                G[1, t] += q[n, t] * B[n]
    o = np.argsort(ang[:ne])
    cur = -np.pi
    best = 0.0
    for t in range(T):
        best += (G[0, t] * -1.0) ** 2
    best_phi = -np.pi
    for i in range(ne + 1):
        th = ang[o[i]] if i < ne else np.pi
        a = 0.0
        b = 0.0
        c = 0.0
        for t in range(T):
            a += G[0, t] * G[0, t]
            b += G[0, t] * G[1, t]
            c += G[1, t] * G[1, t]
        h = 0.5 * (a + c)
        dl = 0.5 * (a - c)
        R = np.sqrt(dl * dl + b * b)
        if h + R > best:
            ct = np.cos(th)
            st = np.sin(th)
            v = a * ct * ct + 2.0 * b * ct * st + c * st * st
            if v > best:
                best = v
                best_phi = th
            if R > 0.0:
                phi = 0.5 * np.arctan2(b, dl)
                m = np.ceil((cur - phi) / np.pi)
                ths = phi + m * np.pi
                if ths < th and h + R > best:
                    best = h + R
                    best_phi = ths
        if i < ne:
            n = who[o[i]]
            s = sgn[o[i]]
            for t in range(T):
                G[0, t] += s * q[n, t] * A[n]
                G[1, t] += s * q[n, t] * B[n]
            cur = th
    return best, best_phi


@njit(cache=True)
def _eval_dir(X, q, w, p, c):
    N, d = X.shape
    for n in range(N):
        s = 0.0
        for i in range(d):
            s += X[n, i] * w[i]
        p[n] = s
    order = np.argsort(p)
    v, j = _best_bias(p, q, order, c)
    return v, order[j]


@njit(parallel=True, cache=True)
def _ascend(X, q, W0, max_iter, R, n_perturb, rel_tol):
    """Local ascent of eta from each row of W0 (in place); returns (value^2, anchor, n_eval).

    Each step fixes the current best anchor m and maximizes its correlation exactly along
    a great circle through w: first towards the gradient (on the current activation pattern
    the correlation is linear in w, G^T w, so its maximizer s g / ||g|| is the fixed point
    of DESIGN §6), then, if that gains nothing, along the gradient projected onto the ridge
    of points tied with the anchor, then along random great circles. The new direction
    re-chooses its bias, so eta never decreases.

    The starts are independent, so they run in parallel; each start walks the random circles
    from its own offset, so the result does not depend on the number of threads.
    """
    K, d = W0.shape
    N, T = q.shape
    val2 = np.zeros(K)
    anchor = np.zeros(K, np.int64)
    evals = np.zeros(K, np.int64)
    nR = R.shape[0]
    for k in prange(K):
        p = np.empty(N)
        c = np.empty(T)
        A = np.empty(N)
        B = np.empty(N)
        v = np.empty(d)
        bdir = np.empty(d)
        basis = np.empty((d, d))
        r_ptr = (k * max(n_perturb, 1)) % nR if nR > 0 else 0
        n_eval = 0
        w = W0[k].copy()
        cur, m = _eval_dir(X, q, w, p, c)
        n_eval += 1
        it = 0
        while it < max_iter and cur > 0.0:
            it += 1
            # gradient of ||c|| at the current pattern: sum_{p_n > p_m} (x_n - x_m) (q_n . c)
            for i in range(d):
                v[i] = 0.0
            pm = p[m]
            spread = 0.0
            for n in range(N):
                dn = abs(p[n] - pm)
                if dn > spread:
                    spread = dn
            tie = 1e-10 * spread
            for n in range(N):
                if p[n] > pm + tie:
                    qc = 0.0
                    for t in range(T):
                        qc += q[n, t] * c[t]
                    for i in range(d):
                        v[i] += (X[n, i] - X[m, i]) * qc
            improved = False
            n_try = 2 + n_perturb
            for attempt in range(n_try):
                if attempt == 0:
                    for i in range(d):
                        bdir[i] = v[i]
                elif attempt == 1:
                    # ridge: remove the components along w and along x_n - x_m for points
                    # tied with the anchor (moving along it keeps them tied).
                    nb = 0
                    for n in range(N):
                        if n == m or abs(p[n] - pm) > tie or nb >= d - 1:
                            continue
                        for i in range(d):
                            basis[nb, i] = X[n, i] - X[m, i]
                        for l in range(nb):
                            dot = 0.0
                            for i in range(d):
                                dot += basis[nb, i] * basis[l, i]
                            for i in range(d):
                                basis[nb, i] -= dot * basis[l, i]
                        nrm = 0.0
                        for i in range(d):
                            nrm += basis[nb, i] ** 2
                        nrm = np.sqrt(nrm)
                        if nrm > 1e-12:
                            for i in range(d):
                                basis[nb, i] /= nrm
                            nb += 1
                    if nb == 0:
                        continue
                    for i in range(d):
                        bdir[i] = v[i]
                    for l in range(nb):
                        dot = 0.0
                        for i in range(d):
                            dot += bdir[i] * basis[l, i]
                        for i in range(d):
                            bdir[i] -= dot * basis[l, i]
                else:
                    if nR == 0:
                        break
                    for i in range(d):
                        bdir[i] = R[r_ptr, i]
                    r_ptr = (r_ptr + 1) % nR
                nrm0 = 0.0
                dot = 0.0
                for i in range(d):
                    nrm0 += bdir[i] ** 2
                    dot += bdir[i] * w[i]
                nrm0 = np.sqrt(nrm0)
                nrm = 0.0
                for i in range(d):
                    bdir[i] -= dot * w[i]
                    nrm += bdir[i] ** 2
                nrm = np.sqrt(nrm)
                if nrm0 == 0.0 or nrm <= 1e-10 * nrm0:
                    continue
                for i in range(d):
                    bdir[i] /= nrm
                for n in range(N):
                    A[n] = p[n] - pm
                    s = 0.0
                    for i in range(d):
                        s += (X[n, i] - X[m, i]) * bdir[i]
                    B[n] = s
                best, phi = _circle_max(A, B, q)
                if best > cur * (1.0 + rel_tol):
                    cp = np.cos(phi)
                    sp = np.sin(phi)
                    nrm = 0.0
                    for i in range(d):
                        w[i] = cp * w[i] + sp * bdir[i]
                        nrm += w[i] * w[i]
                    nrm = np.sqrt(nrm)
                    for i in range(d):
                        w[i] /= nrm
                    new, m_new = _eval_dir(X, q, w, p, c)
                    n_eval += 1
                    cur = new
                    m = m_new
                    improved = True
                    break
            if not improved:
                break
        # p and c belong to the last evaluation of w
        for i in range(d):
            W0[k, i] = w[i]
        val2[k] = cur
        anchor[k] = m
        evals[k] = n_eval
    return val2, anchor, evals.sum()


def _distinct(W, vals, min_angle, limit):
    """Greedy selection, best first, of rows of W at least ``min_angle`` apart (projectively)."""
    o = np.argsort(-vals, kind="stable")
    cos_min = np.cos(min_angle)
    chosen = []
    for i in o:
        if len(chosen) >= limit:
            break
        if chosen and np.max(np.abs(W[chosen] @ W[i])) > cos_min:
            continue
        chosen.append(i)
    return np.asarray(chosen, dtype=int)


def _candidates(X, q, n_candidates, rng):
    """Random, data-difference, residual-separating and residual-curvature directions."""
    N, d = X.shape
    # One scalar residual for the data-shaped candidates: its dominant output.
    if q.shape[1] == 1:
        qs = q[:, 0]
    else:
        _, _, Vt = np.linalg.svd(q, full_matrices=False)
        qs = q @ Vt[0]
    n_rand = max(1, int(0.4 * n_candidates))
    n_diff = int(0.2 * n_candidates)
    n_sep = int(0.2 * n_candidates)
    n_curv = max(0, n_candidates - n_rand - n_diff - n_sep)
    parts = [rng.standard_normal((n_rand, d))]
    if N >= 2 and n_diff:
        i = rng.randint(0, N, n_diff)
        j = rng.randint(0, N, n_diff)
        parts.append(X[i] - X[j])
    pos = np.nonzero(qs > 0)[0]
    neg = np.nonzero(qs < 0)[0]
    if len(pos) and len(neg) and n_sep:
        # pairs of opposite-sign residuals, drawn by residual size: their difference is the
        # normal of a hyperplane putting a large positive and a large negative residual on
        # opposite sides.
        pp = np.abs(qs[pos]) / np.abs(qs[pos]).sum()
        pn = np.abs(qs[neg]) / np.abs(qs[neg]).sum()
        parts.append(X[rng.choice(pos, n_sep, p=pp)] - X[rng.choice(neg, n_sep, p=pn)])
    if n_curv and N > d:
        # Integrated over biases, c(w, b) gives w^T (sum_n q_n x_n x_n^T) w / 2: eigenvectors
        # of this residual-weighted second moment (globally and around random centres) are
        # the directions along which the residual is most curved.
        Xc = X - X.mean(axis=0)
        M = (Xc * qs[:, None]).T @ Xc
        _, V = np.linalg.eigh(M)
        parts.append(V.T)
        n_loc = max(0, (n_curv - d) // 2)
        k_nb = min(N, max(2 * d + 2, N // 8))
        centres = rng.randint(0, N, n_loc)
        for m in centres:
            dist = np.sum((X - X[m]) ** 2, axis=1)
            nb = np.argpartition(dist, k_nb - 1)[:k_nb]
            Z = X[nb] - X[m]
            Mm = (Z * qs[nb, None]).T @ Z
            _, V = np.linalg.eigh(Mm)
            parts.append(V[:, [0, -1]].T)
    W = np.vstack(parts)
    n = np.linalg.norm(W, axis=1)
    return W[n > 0] / n[n > 0, None]


def search_certificate(X, q, alpha, *, n_candidates=2000, n_ascent=20, max_ascent_iter=50,
                       n_perturb=4, top_k=10, threshold=1.0, min_angle=1e-3,
                       random_state=None, extra_directions=None, ascend_extra=False):
    """Searched supremum of eta over directions (any d >= 1; exact only for d = 1).

    1. Evaluate eta exactly on ``n_candidates`` candidate directions: uniform on the sphere
       (40%), normalized differences of random data points (20%), differences of a point
       with a large positive and one with a large negative residual (20%), and eigenvectors
       of the residual-weighted second moment ``sum_n q_n x_n x_n^T``, global and local
       (20%); plus all ``extra_directions`` (e.g. the active neurons' directions).
    2. From the ``n_ascent`` best distinct candidates, run local ascent: with the bias at
       data point m, the correlation on the current activation pattern is linear in w,
       ``w . g`` with ``g = sum_{active n} q_n (x_n - x_m)``; the step maximizes the anchor's
       exact (piecewise) correlation along the great circle from w towards ``s g / ||g||``,
       then re-sorts and re-chooses the bias. When this stalls (a kink), the gradient
       projected onto the ridge of tied points and ``n_perturb`` random great circles are
       tried. Every accepted step increases eta.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    q : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Weighted projected residual ``sqrt(u) * rho``.
    alpha : float
    n_candidates : int, default=2000
    n_ascent : int, default=20
        Number of best distinct candidates refined by ascent.
    max_ascent_iter : int, default=50
        Maximum accepted steps per ascent.
    n_perturb : int, default=4
        Random great circles tried when the gradient steps stall.
    top_k : int, default=10
        Number of distinct directions with eta > threshold to return.
    threshold : float, default=1.0
    min_angle : float, default=1e-3
        Directions closer than this angle (radians, up to sign) are not distinct.
    random_state : int, RandomState instance or None
    extra_directions : ndarray of shape (k, n_features), optional
        Directions always evaluated; eligible for the ``n_ascent`` starts unless
        ``ascend_extra``.
    ascend_extra : bool, default=False
        Also run the ascent from every extra direction, in addition to the ``n_ascent``
        best other candidates ("sliding" the current neurons, DESIGN §6).

    Returns
    -------
    Certificate
        ``exact=False`` (except d = 1, where the single direction +1 is the whole sphere).
    """
    X, q, alpha = _validate(X, q, alpha)
    N, d = X.shape
    rng = check_random_state(random_state)
    if d == 1 or N < 2:
        W = np.ones((1, d)) / np.sqrt(d)
        v2, idx, bias, _ = _eta_raw(X, q, W)
        e = float(np.sqrt(v2[0])) / alpha
        keep = e > threshold and top_k > 0
        return Certificate(e, W[0], float(bias[0]), d == 1, W[:int(keep)],
                           np.array([e])[:int(keep)], 1, bias[:int(keep)], int(idx[0]))
    W = _candidates(X, q, int(n_candidates), rng)
    n_cand = len(W)
    if extra_directions is not None:
        W = np.vstack([W, _unit_rows(extra_directions, d)])
    v2, idx, bias, _ = _eta_raw(X, q, W)
    n_eval = len(W)

    if ascend_extra and len(W) > n_cand:
        # The extras are ascended anyway; the n_ascent starts come from the other
        # candidates. (Chosen among all, extras at a local maximum -- the active neurons of
        # a solution, all at eta ~ 1 -- would take every start and leave the rest of the
        # sphere unsearched.)
        start = _distinct(W[:n_cand], v2[:n_cand], min_angle, int(n_ascent))
        start = np.union1d(start, np.arange(n_cand, len(W)))
    else:
        start = _distinct(W, v2, min_angle, int(n_ascent))
    W0 = np.ascontiguousarray(W[start])
    Rp = rng.standard_normal((max(1, 8 * int(n_perturb)), d)) if n_perturb > 0 \
        else np.zeros((0, d))
    a2, anchor, n_asc = _ascend(X, q, W0, int(max_ascent_iter), Rp, int(n_perturb), 1e-12)
    n_eval += int(n_asc)
    ab = np.einsum("ij,ij->i", W0, X[anchor])

    allW = np.vstack([W0, W])
    allv = np.concatenate([a2, v2])
    allb = np.concatenate([ab, bias])
    alli = np.concatenate([anchor, idx])
    i_best = int(np.argmax(allv))
    Wc, bc = _canonical(allW[i_best], [allb[i_best]])
    e_best = float(np.sqrt(allv[i_best])) / alpha

    dirs, etas, biases = np.zeros((0, d)), np.zeros(0), np.zeros(0)
    if top_k > 0:
        thr2 = (float(threshold) * alpha) ** 2
        above = np.nonzero(allv > thr2)[0]
        if len(above):
            sel = above[_distinct(allW[above], allv[above], min_angle, int(top_k))]
            dirs, biases = _canonical(allW[sel], allb[sel])
            etas = np.sqrt(allv[sel]) / alpha
    return Certificate(eta=e_best, direction=Wc[0], bias=float(bc[0]), exact=False,
                       directions=dirs, etas=etas, n_evaluated=int(n_eval), biases=biases,
                       index=int(alli[i_best]))
