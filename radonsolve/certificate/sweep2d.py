"""The exact supremum of eta in the plane (d = 2): branch-and-bound over angle intervals.

The direction ``w(theta) = (cos theta, sin theta)`` turns through half a circle (enough,
since eta(w) = eta(-w)). The half circle is cut into angle intervals, processed level by
level:

1. **Bound.** On an interval every projection ``x_n . w(theta)`` stays in an exactly
   computed range ``[lo_n, hi_n]`` (a sinusoid's range on an arc). For a bias b, the points
   whose range lies above b contribute exactly ``q_n (x_n . w - b)``, affine in w; the
   points whose range contains b contribute a hinge within ``[0, hi_n - b]``. The affine
   part's norm is convex in w, so its maximum over the arc is at most that over the
   vertices of the triangle holding the arc; the crossing points add their worst case. The
   result bounds ``max_b ||c(w(theta), b)||`` on the interval, is tight to second order in
   the width (only O(N width) points cross), and costs one pass over the 2N sorted range
   ends (:func:`eta_upper_bound_2d`). An interval whose bound cannot beat the best value
   found (nor, when directions are requested, the threshold) is discarded.
2. **Count.** A pair of points changes order at most once inside an interval narrower than
   pi, so the order changes of [t0, t1] are those between the sorted orders at t0 and at
   t1, counted by insertion sorts from the order at the centre (O(N + changes)).
3. **Sweep.** A surviving interval with few order changes (a few per point) is swept
   exactly: its events are enumerated by a merge sort of the end ranks
   (O(N log N + events)), sorted by angle, and the order and each anchor's gradient are
   updated event by event; between events each anchor's correlation is
   ``||G^T w(theta)||`` for a fixed 2 x T matrix G, maximized in closed form. A surviving
   interval with many changes is halved.

Memory is O(N T) per worker plus the events of one interval (a bounded multiple of N, except
where many pairs are exactly tied at one angle); the work is the bound passes plus the events
of the surviving intervals, all N (N - 1) / 2 of them only when the bound prunes nothing.
Intervals are independent, so they run in parallel (``n_jobs``); every decision depends only
on per-interval results reduced in interval order, so the result does not depend on
``n_jobs``.
"""

import numpy as np
from joblib import Parallel, delayed
from numba import njit

from ._common import best_bias, canonical, check_n_jobs, eta_raw, validate
from .core import Certificate

__all__ = ["SweepEvents", "exact_certificate_2d", "eta_upper_bound_2d"]

# Events swept per interval, in units of N: below it a sweep costs about as much as the
# O(N log N) bound passes that halving the interval would take (measured).
_EVENTS_PER_POINT = 4
# Insertion sort from a nearby order gives up past this many shifts per point (it then costs
# about as much as a full sort).
_INSERTION_SHIFTS = 48
# Angle intervals of the first level (halved where needed).
_FIRST_INTERVALS = 16
# Intervals narrower than this (radians) are swept whatever their event count: only exact
# ties (collinear points) remain to be separated there.
_MIN_WIDTH = 1e-9
# Event angles closer than this (radians) form one group, re-sorted as a block.
_GROUP_TOL = 1e-11
# Rounding slack of the interval bound per point, relative to sum_n ||q_n|| ||x_n||.
_BOUND_SLACK = 1e-15


# ---------------------------------------------------------------------------------------
# Closed-form maximum of ||G^T w(theta)|| on an angle interval
# ---------------------------------------------------------------------------------------
# With G of shape (2, T), ||G^T w||^2 = a cos^2 + 2 b cos sin + c sin^2
#   = h + dl cos(2 theta) + b sin(2 theta),  h = (a + c)/2, dl = (a - c)/2,
# maximal (value h + R, R = sqrt(dl^2 + b^2)) at theta = atan2(b, dl)/2 mod pi. With T = 1 this
# is |w.g|^2, maximal where w is parallel to +-g.


@njit(cache=True, nogil=True)
def _record(v, th, k, best, use_bins, thr2, nb, bin_off, bin_val, bin_ang, bin_k):
    if v > best[0]:
        best[0] = v
        best[1] = th
        best[2] = k
    if use_bins and v > thr2:
        # bins of the whole half circle [0, pi); this interval holds bins bin_off, ...
        bi = int(th / np.pi * nb) - bin_off
        if bi < 0:
            bi = 0
        elif bi >= bin_val.shape[0]:
            bi = bin_val.shape[0] - 1
        if v > bin_val[bi]:
            bin_val[bi] = v
            bin_ang[bi] = th
            bin_k[bi] = k


@njit(cache=True, nogil=True)
def _finalize(G, k, s, th, ct, st, best, use_bins, thr2, nb, bin_off, bin_val, bin_ang,
              bin_k, end_bins):
    """Maximum of anchor k's correlation on its piece [s, th], where G[k] was constant.

    The value at s was already counted (end of the previous piece: the correlation of an
    anchor is continuous in the angle), so only the end th and the interior stationary
    point are checked. The bins (local maxima) sample each anchor at its order-change
    events and stationary points only, so ``end_bins`` is False where th merely ends an
    interval: the bins are then those of one sweep of the whole half circle.
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
    _record(v, th, k, best, use_bins and end_bins, thr2, nb, bin_off, bin_val, bin_ang,
            bin_k)
    if R > 0.0:
        phi = 0.5 * np.arctan2(b, dl)
        m = np.ceil((s - phi) / np.pi)
        ths = phi + m * np.pi
        if ths < th:
            _record(lam, ths, k, best, use_bins, thr2, nb, bin_off, bin_val, bin_ang, bin_k)


@njit(cache=True, nogil=True)
def _block_contrib(X, q, G, seq, sign):
    """Add sign * (contribution of the points after each point within seq) to G.

    For anchor seq[i]: sum_{l > i} q_seq[l] (x_seq[l] - x_seq[i]), by the same gap-times-
    suffix-sum recurrence as the exact evaluation of eta.
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


@njit(cache=True, nogil=True)
def _sweep_piece(X, q, theta0, theta_end, order, ev_ang, ev_a, ev_b, use_bins, thr2, nb,
                 bin_off, bin_val, bin_ang, bin_k):
    """Rotating sweep over [theta0, theta_end] from the sorted order ``order`` at theta0.

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
        _record(v0, theta0, k, best, use_bins and theta0 == 0.0, thr2, nb, bin_off,
                bin_val, bin_ang, bin_k)

    E = ev_ang.shape[0]
    e = 0
    while e < E:
        g_end = e
        while g_end + 1 < E and ev_ang[g_end + 1] - ev_ang[g_end] <= _GROUP_TOL:
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
                _finalize(G, b, start[b], th, ct, st, best, use_bins, thr2, nb, bin_off,
                          bin_val, bin_ang, bin_k, True)
                _finalize(G, a, start[a], th, ct, st, best, use_bins, thr2, nb, bin_off,
                          bin_val, bin_ang, bin_k, True)
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
                    _finalize(G, k, start[k], th, ct, st, best, use_bins, thr2, nb, bin_off,
                              bin_val, bin_ang, bin_k, True)
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
    seam = theta_end == np.pi
    for k in range(N):
        _finalize(G, k, start[k], theta_end, ct, st, best, use_bins, thr2, nb, bin_off,
                  bin_val, bin_ang, bin_k, seam)
    return best


# ---------------------------------------------------------------------------------------
# Orders at the ends of an interval and the pairs that swap between them
# ---------------------------------------------------------------------------------------
def _projections_sorted(X, theta):
    """Projections on w(theta) and their order (numpy's sort releases the GIL and beats
    numba's several times over)."""
    p = _project(X, theta)
    return p, np.argsort(p)


@njit(cache=True, nogil=True)
def _insertion(vals, base, budget):
    """Order of vals by insertion sort from the nearly sorting order ``base``.

    Returns the order and the number of shifts (the number of pairs that ``base`` has in
    the wrong order: the order changes between the two angles), or -1 once the shifts pass
    ``budget``. Stable: ties keep the order of ``base``.
    """
    N = base.shape[0]
    order = base.copy()
    shifts = 0
    for i in range(1, N):
        k = order[i]
        v = vals[k]
        j = i - 1
        while j >= 0 and vals[order[j]] > v:
            order[j + 1] = order[j]
            j -= 1
        shifts += i - 1 - j
        order[j + 1] = k
        if shifts > budget:
            return order, -1
    return order, shifts


@njit(cache=True, nogil=True)
def _merge_orders(keys, a, b):
    """Merge two orders of disjoint index sets, each sorting keys, into one."""
    na = a.shape[0]
    nb = b.shape[0]
    out = np.empty(na + nb, np.int64)
    i = 0
    j = 0
    for o in range(na + nb):
        if j >= nb or (i < na and keys[a[i]] <= keys[b[j]]):
            out[o] = a[i]
            i += 1
        else:
            out[o] = b[j]
            j += 1
    return out


def _sorted_near(vals, base, count=True, near=True):
    """Order of vals given the order ``base`` of a nearby angle, and the shifts it took.

    Near an angle the projections in ``base`` order are nearly sorted: insertion sort costs
    O(N + changes); past a budget, numpy's sort (which releases the GIL) takes over and the
    changes are counted by a merge sort.
    """
    N = base.shape[0]
    shifts = -1
    if near:
        order, shifts = _insertion(vals, base, _INSERTION_SHIFTS * N)
    if shifts < 0:
        perm = np.argsort(vals[base], kind="stable")
        order = base[perm]
        if count:
            none = np.empty(0, np.int64)
            shifts = _inversions(np.arange(N), perm, False, none, none)
    return order, shifts


def _project(X, theta):
    return X @ np.array([np.cos(theta), np.sin(theta)])


@njit(cache=True, nogil=True)
def _inversions(order0, order1, emit, out_a, out_b):
    """Pairs in one order at theta0 and the other at theta1 (count; with ``emit``, list them).

    Bottom-up merge sort of the end ranks, in the order at theta0: when an element of a
    right run is taken before the rest of its left run, it precedes each of them at theta1
    and follows each at theta0. out_a[e] then precedes out_b[e] at theta1.
    """
    N = order0.shape[0]
    rank1 = np.empty(N, np.int64)
    for i in range(N):
        rank1[order1[i]] = i
    key = np.empty(N, np.int64)
    ids = np.empty(N, np.int64)
    for i in range(N):
        ids[i] = order0[i]
        key[i] = rank1[order0[i]]
    key2 = np.empty(N, np.int64)
    ids2 = np.empty(N, np.int64)
    count = 0
    width = 1
    while width < N:
        for lo in range(0, N, 2 * width):
            mid = min(lo + width, N)
            hi = min(lo + 2 * width, N)
            i = lo
            j = mid
            o = lo
            while i < mid and j < hi:
                if key[j] < key[i]:
                    if emit:
                        for l in range(i, mid):
                            out_a[count + l - i] = ids[j]
                            out_b[count + l - i] = ids[l]
                    count += mid - i
                    key2[o] = key[j]
                    ids2[o] = ids[j]
                    j += 1
                else:
                    key2[o] = key[i]
                    ids2[o] = ids[i]
                    i += 1
                o += 1
            while i < mid:
                key2[o] = key[i]
                ids2[o] = ids[i]
                i += 1
                o += 1
            while j < hi:
                key2[o] = key[j]
                ids2[o] = ids[j]
                j += 1
                o += 1
        key, key2 = key2, key
        ids, ids2 = ids2, ids
        width *= 2
    return count


@njit(cache=True, nogil=True)
def _event_angles(X, t0, t1, ev_a, ev_b):
    """Angle in [t0, t1] at which ev_a overtakes ev_b (t1 - t0 < pi)."""
    E = ev_a.shape[0]
    ang = np.empty(E)
    two_pi = 2.0 * np.pi
    width = t1 - t0
    for e in range(E):
        a = ev_a[e]
        b = ev_b[e]
        # a follows b at t0 and precedes it at t1: x_a . w - x_b . w = |x_a - x_b|
        # cos(theta - psi) goes from positive to negative, at psi + pi / 2.
        t = np.arctan2(X[a, 1] - X[b, 1], X[a, 0] - X[b, 0]) + 0.5 * np.pi
        r = (t - t0) % two_pi
        if r > width:
            # rounding put an event of an end just outside: snap to the nearer end
            r = width if r - width < two_pi - r else 0.0
        ang[e] = t0 + r
    return ang


def _sweep_interval(X, q, t0, t1, use_bins, thr2, nb, bin_off, n_loc):
    """Exact sweep of [t0, t1] (t1 - t0 < pi); returns (best, bins..., number of events)."""
    _, om = _projections_sorted(X, 0.5 * (t0 + t1))
    order0, _ = _sorted_near(_project(X, t0), om)
    order1, _ = _sorted_near(_project(X, t1), om)
    none = np.empty(0, np.int64)
    E = _inversions(order0, order1, False, none, none)
    ev_a = np.empty(E, np.int64)
    ev_b = np.empty(E, np.int64)
    _inversions(order0, order1, True, ev_a, ev_b)
    ang = _event_angles(X, t0, t1, ev_a, ev_b)
    o = np.argsort(ang, kind="stable")
    bin_val = np.full(n_loc, -1.0)
    bin_ang = np.zeros(n_loc)
    bin_k = np.zeros(n_loc, np.int64)
    best = _sweep_piece(X, q, t0, t1, order0, ang[o], ev_a[o], ev_b[o], use_bins, thr2, nb,
                        bin_off, bin_val, bin_ang, bin_k)
    return best, bin_val, bin_ang, bin_k, E


# ---------------------------------------------------------------------------------------
# Upper bound of eta on an interval, its event count, and eta at its centre
# ---------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _range_keys(X, rho, t0, t1):
    """Ends of the range of each projection x_n . w(theta) over [t0, t1] (t1 - t0 < pi).

    keys[n] is the upper end, keys[N + n] the lower one, each widened by the rounding of a
    projection.
    """
    N = X.shape[0]
    c0 = np.cos(t0)
    s0 = np.sin(t0)
    c1 = np.cos(t1)
    s1 = np.sin(t1)
    keys = np.empty(2 * N)
    for n in range(N):
        x0 = X[n, 0]
        x1 = X[n, 1]
        p0 = x0 * c0 + x1 * s0
        p1 = x0 * c1 + x1 * s1
        # derivative of x . w(theta) at both ends: + then - is an interior maximum
        d0 = -x0 * s0 + x1 * c0
        d1 = -x0 * s1 + x1 * c1
        hi = max(p0, p1)
        lo = min(p0, p1)
        if d0 > 0.0 and d1 < 0.0:
            hi = rho[n]
        if d0 < 0.0 and d1 > 0.0:
            lo = -rho[n]
        slack = 4e-16 * rho[n]
        keys[n] = hi + slack
        keys[N + n] = lo - slack
    return keys


@njit(cache=True, nogil=True)
def _bound_at(V, A, s, Cq, Cqh, Ca, Cah, b):
    """The bound of one state (sure and crossing sets) at the bias b: the affine part's
    largest norm over the triangle's vertices plus the crossing points' worst case."""
    T = s.shape[0]
    vmax = 0.0
    for i in range(3):
        v = 0.0
        for t in range(T):
            e = A[t, 0] * V[i, 0] + A[t, 1] * V[i, 1] - b * s[t] + Cqh[t] - b * Cq[t]
            v += e * e
        if v > vmax:
            vmax = v
    return np.sqrt(vmax) + max(Cah - b * Ca, 0.0)


@njit(cache=True, nogil=True)
def _bound_sorted(keys, o, X, q, qn, t0, t1):
    """Upper bound of max_b ||c(w(theta), b)|| over theta in [t0, t1] (t1 - t0 < pi).

    keys are the ends of the projections' ranges (:func:`_range_keys`), o their ascending
    order. For a bias b, the points whose range lies above b contribute exactly
    ``sum q_n (x_n . w - b)``, affine in w, and the points whose range contains b ("crossing")
    a hinge within ``[0, hi_n - b]``, i.e. ``mid_n +- rad_n`` with ``mid_n = rad_n =
    (hi_n - b) / 2``. So ``||c|| <= ||A w - b s + sum_cross q_n mid_n|| + sum_cross ||q_n||
    rad_n``, and the first term, convex in w, is at most its largest value at the vertices
    of the triangle that holds the arc (its ends and the tangents' intersection
    ``w(centre) / cos(half width)``). Only crossing points leave slack, and only O(N delta)
    of them cross, so the bound is tight to second order in the width delta.

    Between two consecutive keys the sure and crossing sets are fixed and the bound is
    convex in b, so its maximum there is at one of the two keys, evaluated with that
    piece's sets. The bound jumps where a point turns from crossing to sure (at its lower
    key, its hinge's worst case ``hi_n - b`` gives way to the exact, vertex-evaluated
    ``x_n . w - b``, which may be smaller), so each lower key is evaluated with the sets
    of both pieces it ends: before and after the point turns sure. (At an upper key the
    point's hinge range is ``[0, 0]``: no jump.) Evaluated at every key, from the top down.
    """
    N, T = q.shape
    half = 0.5 * (t1 - t0)
    tc = 0.5 * (t0 + t1)
    V = np.empty((3, 2))
    V[0, 0] = np.cos(t0)
    V[0, 1] = np.sin(t0)
    V[1, 0] = np.cos(t1)
    V[1, 1] = np.sin(t1)
    V[2, 0] = np.cos(tc) / np.cos(half)
    V[2, 1] = np.sin(tc) / np.cos(half)
    A = np.zeros((T, 2))   # sum over sure points of q_n x_n^T
    s = np.zeros(T)        # sum over sure points of q_n
    Cq = np.zeros(T)       # sum over crossing points of q_n / 2
    Cqh = np.zeros(T)      # ... of q_n hi_n / 2
    Ca = 0.0               # ... of ||q_n|| / 2
    Cah = 0.0              # ... of ||q_n|| hi_n / 2
    best = 0.0
    for j in range(2 * N - 1, -1, -1):
        k = o[j]
        b = keys[k]
        if k < N:
            n = k
            h = keys[n]
            for t in range(T):
                Cq[t] += 0.5 * q[n, t]
                Cqh[t] += 0.5 * q[n, t] * h
            Ca += 0.5 * qn[n]
            Cah += 0.5 * qn[n] * h
        else:
            # the lower end of the piece above, with that piece's sets
            val = _bound_at(V, A, s, Cq, Cqh, Ca, Cah, b)
            if val > best:
                best = val
            n = k - N
            h = keys[n]
            for t in range(T):
                Cq[t] -= 0.5 * q[n, t]
                Cqh[t] -= 0.5 * q[n, t] * h
                A[t, 0] += q[n, t] * X[n, 0]
                A[t, 1] += q[n, t] * X[n, 1]
                s[t] += q[n, t]
            Ca -= 0.5 * qn[n]
            Cah -= 0.5 * qn[n] * h
        val = _bound_at(V, A, s, Cq, Cqh, Ca, Cah, b)
        if val > best:
            best = val
    return best


def _examine_chunk(X, rho, q, qn, slack, t0s, t1s, est, level):
    """Bound of each interval; for those above ``level``, event count and centre value.

    ``est`` estimates each interval's number of order changes (half its parent's): where it
    is large, insertion sorts from the centre's order would cost more than full sorts.
    """
    m = len(t0s)
    N = X.shape[0]
    bound = np.empty(m)
    count = np.zeros(m, np.int64)
    mid_val = np.full(m, -1.0)
    mid_k = np.zeros(m, np.int64)
    c_best = np.empty(q.shape[1])
    for i in range(m):
        t0, t1 = float(t0s[i]), float(t1s[i])
        p, om = _projections_sorted(X, 0.5 * (t0 + t1))
        keys = _range_keys(X, rho, t0, t1)
        near = est[i] <= _INSERTION_SHIFTS * N
        # the upper and the lower ends of the ranges are each nearly in the centre's order
        o_hi, _ = _sorted_near(keys, om, False, near)
        o_lo, _ = _sorted_near(keys, om + N, False, near)
        o = _merge_orders(keys, o_hi, o_lo)
        bound[i] = _bound_sorted(keys, o, X, q, qn, t0, t1) + slack
        if bound[i] <= level:
            continue
        # a pair changes order once at most in [t0, t1]: in [t0, tc] or in [tc, t1]
        count[i] = (_sorted_near(_project(X, t0), om, True, near)[1]
                    + _sorted_near(_project(X, t1), om, True, near)[1])
        v, j = best_bias(p, q, om, c_best)
        mid_val[i], mid_k[i] = v, om[j]
    return bound, count, mid_val, mid_k


def _sweep_chunk(X, q, t0s, t1s, use_bins, thr2, nb):
    out = []
    for t0, t1 in zip(t0s, t1s):
        lo = min(int(t0 / np.pi * nb), nb - 1)
        hi = min(int(t1 / np.pi * nb), nb - 1)
        res = _sweep_interval(X, q, float(t0), float(t1), use_bins, thr2, nb, lo,
                              hi - lo + 1 if use_bins else 1)
        out.append((lo,) + tuple(res))
    return out


def _run(parallel, n_workers, fn, m, args_of):
    """fn over contiguous chunks of m items (results in item order)."""
    n = max(1, min(m, 4 * n_workers))
    edges = np.linspace(0, m, n + 1).astype(int)
    spans = [(edges[i], edges[i + 1]) for i in range(n) if edges[i + 1] > edges[i]]
    if n_workers == 1 or len(spans) == 1:
        return [fn(*args_of(s, e)) for s, e in spans]
    return parallel(delayed(fn)(*args_of(s, e)) for s, e in spans)


def _branch_and_bound(X, q, use_bins, thr, nb, n_jobs):
    """Exact max of ||c||^2 over [0, pi) by bounded intervals; returns best and bins.

    Level by level: bound every interval; sweep the live ones with few events, halve the
    live ones with many. Live: the bound exceeds the best value found so far (min'ed with
    the threshold when bins are wanted, since every value above it must reach its bin).
    Each decision uses values reduced in interval order, so n_jobs changes nothing.
    """
    N, T = q.shape
    rho = np.sqrt(np.einsum("ij,ij->i", X, X))
    qn = np.sqrt(np.einsum("ij,ij->i", q, q))
    # rounding of the bound's sums, relative to their terms
    slack = _BOUND_SLACK * N * float(qn @ rho)
    cap = _EVENTS_PER_POINT * N
    t = np.linspace(0.0, np.pi, _FIRST_INTERVALS + 1)
    t0s, t1s = t[:-1], t[1:]
    est = np.full(len(t0s), 0.5 * N * (N - 1) / len(t0s))
    best = np.array([-1.0, 0.0, 0.0])
    bin_val = np.full(nb, -1.0)
    bin_ang = np.zeros(nb)
    bin_k = np.zeros(nb, np.int64)
    stats = {"intervals": 0, "swept": 0, "events": 0}

    def level():
        v = np.sqrt(max(best[0], 0.0))
        return min(v, thr) if use_bins else v

    with Parallel(n_jobs=n_jobs, backend="threading") as parallel:
        while len(t0s):
            stats["intervals"] += len(t0s)
            lev = level()
            parts = _run(parallel, n_jobs, _examine_chunk, len(t0s),
                         lambda s, e: (X, rho, q, qn, slack, t0s[s:e], t1s[s:e], est[s:e],
                                       lev))
            bound, count, mid_val, mid_k = (np.concatenate(z) for z in zip(*parts))
            i = int(np.argmax(mid_val))
            if mid_val[i] > best[0]:
                best[:] = (mid_val[i], 0.5 * (t0s[i] + t1s[i]), mid_k[i])
            live = bound > level()
            sweep = live & ((count <= cap) | (t1s - t0s <= _MIN_WIDTH))
            si = np.nonzero(sweep)[0]
            if len(si):
                s0, s1 = t0s[si], t1s[si]
                parts = _run(parallel, n_jobs, _sweep_chunk, len(si),
                             lambda s, e: (X, q, s0[s:e], s1[s:e], use_bins, thr ** 2, nb))
                for lo, b, bv, ba, bk, E in (r for p in parts for r in p):
                    stats["swept"] += 1
                    stats["events"] += int(E)
                    if b[0] > best[0]:
                        best[:] = b
                    if use_bins:
                        sl = slice(lo, lo + len(bv))
                        upd = bv > bin_val[sl]
                        bin_val[sl][upd] = bv[upd]
                        bin_ang[sl][upd] = ba[upd]
                        bin_k[sl][upd] = bk[upd]
            sp = np.nonzero(live & ~sweep)[0]
            mid = 0.5 * (t0s[sp] + t1s[sp])
            t0s = np.column_stack([t0s[sp], mid]).ravel()
            t1s = np.column_stack([mid, t1s[sp]]).ravel()
            est = np.repeat(0.5 * count[sp], 2)
    return best, bin_val, bin_ang, bin_k, stats


def eta_upper_bound_2d(X, q, alpha, theta0, theta1):
    """Certified upper bound of eta(w(theta)) over the angles theta0 <= theta <= theta1.

    The bound the exact certificate prunes with (see the module docstring): one O(N log N)
    pass, tight to second order in the width of the interval.

    Parameters
    ----------
    X : ndarray of shape (n_samples, 2)
    q : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Weighted projected residual ``sqrt(u) * rho``.
    alpha : float
    theta0, theta1 : float
        Ends of the interval of angles of ``w(theta) = (cos theta, sin theta)``,
        ``theta0 <= theta1 < theta0 + pi``.

    Returns
    -------
    bound : float
        ``>= eta(w(theta))`` for every theta in the interval.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.certificate import eta, eta_upper_bound_2d
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> q = np.array([1.0, -1.0, -1.0, 1.0])
    >>> bound = eta_upper_bound_2d(X, q, 1.0, 0.1, 0.2)
    >>> bool(bound >= eta(X, q, 1.0, [[np.cos(0.15), np.sin(0.15)]])[0][0])
    True
    """
    X, q, alpha = validate(X, q, alpha)
    if X.shape[1] != 2:
        raise ValueError(f"eta_upper_bound_2d needs 2 features, got {X.shape[1]}.")
    t0, t1 = float(theta0), float(theta1)
    if not (np.isfinite(t0) and np.isfinite(t1) and t0 <= t1 < t0 + np.pi):
        raise ValueError(f"theta0 and theta1 must satisfy theta0 <= theta1 < theta0 + pi, "
                         f"got {t0} and {t1}.")
    if X.shape[0] == 0:
        return 0.0
    Xc = np.ascontiguousarray(X - X.mean(axis=0))
    rho = np.sqrt(np.einsum("ij,ij->i", Xc, Xc))
    qn = np.sqrt(np.einsum("ij,ij->i", q, q))
    keys = _range_keys(Xc, rho, t0, t1)
    bound = _bound_sorted(keys, np.argsort(keys), Xc, q, qn, t0, t1)
    return float(bound + _BOUND_SLACK * len(X) * float(qn @ rho)) / alpha


class SweepEvents:
    """The distinct points of planar data, reusable for every residual on the same points.

    The sweep generates the order changes of each angle interval on the fly, so nothing
    quadratic is stored; this object only keeps the duplicate merging (O(N log N)) that
    every certificate on the same X shares.

    Parameters
    ----------
    X : ndarray of shape (n_samples, 2)

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.certificate import SweepEvents
    >>> ev = SweepEvents(np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0]]))
    >>> ev.points.shape
    (2, 2)
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

    def matches(self, X):
        """True when ``X`` is the data these events were built for.

        Parameters
        ----------
        X : ndarray of shape (n_samples, 2)

        Returns
        -------
        bool
            Same shape and the same values, in the same order.
        """
        return X.shape == self._X.shape and np.array_equal(X, self._X)

    def merge(self, q):
        """Residuals summed over duplicated points (they share every atom's value).

        Parameters
        ----------
        q : ndarray of shape (n_samples, n_outputs)
            Residuals of the samples.

        Returns
        -------
        ndarray of shape (n_points, n_outputs)
            One row per distinct point (``q`` itself when there are no duplicates).

        Examples
        --------
        >>> import numpy as np
        >>> from radonsolve.certificate import SweepEvents
        >>> ev = SweepEvents(np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0]]))
        >>> ev.merge(np.array([[1.0], [2.0], [3.0]]))
        array([[1.],
               [5.]])
        """
        if self.inverse is None:
            return q
        qu = np.zeros((len(self.points), q.shape[1]))
        np.add.at(qu, self.inverse, q)
        return qu


def exact_certificate_2d(X, q, alpha, *, top_k=10, threshold=1.0, min_angle=1e-3,
                         events=None, n_jobs=None):
    """Exact supremum of eta over all directions in the plane (d = 2).

    Branch-and-bound over angle intervals with an exact rotating sweep of the intervals
    that may hold the supremum (or, with ``top_k``, a value above ``threshold``); see the
    module docstring. Between the critical angles where two points project equally each
    anchor's correlation is ``||G^T w(theta)||`` for a fixed 2 x T matrix G, maximized in
    closed form, so the result is the exact supremum (to rounding) in O(N T) memory per
    worker.

    Parameters
    ----------
    X : ndarray of shape (n_samples, 2)
    q : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Weighted projected residual ``sqrt(u) * rho``.
    alpha : float
    top_k : int, default=10
        Number of distinct local maxima with eta > threshold to return in
        ``Certificate.directions`` (0 disables them: then only intervals that may beat the
        best value found are swept).
    threshold : float, default=1.0
        Only directions with eta above it are returned in ``directions``.
    min_angle : float, default=1e-3
        Angular resolution (radians) separating distinct local maxima: the half circle is
        cut into ``ceil(pi / min_angle)`` bins, each keeping its best value, and the
        returned directions are bins that beat their neighbours. Heuristic (two maxima
        closer than ``min_angle`` are one); the global maximum is always exact.
    events : SweepEvents, optional
        The distinct points of X, built once for several residuals on the same points.
    n_jobs : int or None, default=None
        Threads over angle intervals (None: 1; -1: all cores). The result does not depend
        on it.

    Returns
    -------
    Certificate
        ``exact=True``. ``eta`` is the larger of the sweep's maximum and an exact
        re-evaluation at the returned direction (they agree to rounding). ``n_evaluated``
        is the number of order-change events swept plus the number of intervals bounded.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.certificate import exact_certificate_2d
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> q = np.array([1.0, -1.0, -1.0, 1.0])  # orthogonal to 1, x1 and x2
    >>> cert = exact_certificate_2d(X, q, alpha=1.0)
    >>> round(cert.eta, 6), cert.exact
    (0.707107, True)
    """
    X, q, alpha = validate(X, q, alpha)
    if X.shape[1] != 2:
        raise ValueError(f"exact_certificate_2d needs 2 features, got {X.shape[1]}.")
    n_jobs = check_n_jobs(n_jobs)
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
    qu = np.ascontiguousarray(events.merge(q))
    # Correlations are translation invariant (q is orthogonal to constants); centring keeps
    # the projections, their ranges on an interval and the bound as tight as rounding allows.
    Xc = np.ascontiguousarray(Xu - Xu.mean(axis=0))

    use_bins = top_k > 0
    nb = max(16, int(np.ceil(np.pi / float(min_angle)))) if use_bins else 1
    thr = float(threshold) * alpha
    best, bin_val, bin_ang, bin_k, stats = _branch_and_bound(Xc, qu, use_bins, thr, nb,
                                                             n_jobs)
    thr2 = thr * thr

    th_best = best[1]
    k_best = int(best[2])
    w = np.array([np.cos(th_best), np.sin(th_best)])
    sweep_eta = np.sqrt(max(best[0], 0.0)) / alpha
    W, bvec = canonical(w, [w @ Xu[k_best]])
    w, bias = W[0], float(bvec[0])
    val2, _, _, _ = eta_raw(X, q, W)
    eta_best = max(sweep_eta, float(np.sqrt(val2[0])) / alpha)

    dirs = np.zeros((0, 2))
    etas = np.zeros(0)
    biases = np.zeros(0)
    if use_bins:
        left = np.roll(bin_val, 1)
        right = np.roll(bin_val, -1)
        # The seam wraps: pi is the direction 0 reversed.
        sel = np.nonzero((bin_val > thr2) & (bin_val > left) & (bin_val >= right))[0]
        sel = sel[np.argsort(-bin_val[sel], kind="stable")][:top_k]
        if len(sel):
            ang = bin_ang[sel]
            Wk = np.column_stack([np.cos(ang), np.sin(ang)])
            Wk, bk = canonical(Wk, np.einsum("ij,ij->i", Wk, Xu[bin_k[sel]]))
            v2, _, _, _ = eta_raw(X, q, Wk)
            ek = np.maximum(np.sqrt(v2), np.sqrt(bin_val[sel])) / alpha
            dirs, etas, biases = Wk, ek, bk
    return Certificate(eta=float(eta_best), direction=w, bias=bias, exact=True,
                       directions=dirs, etas=etas,
                       n_evaluated=int(stats["events"] + stats["intervals"]),
                       biases=biases, index=int(first[k_best]))
