"""Compiled kernels for the restricted (group) lasso on a Gram matrix.

A working set holds a few hundred atoms while N may be large, so the restricted problem is
solved on ``H = G_ws^T G_ws`` and ``C = G_ws^T b``: one coordinate update costs O(k T)
instead of O(N T), and the restricted objective and duality gap follow from H, C and
``||b||^2`` without touching the N-dimensional residual.

- ``gram_cd_epochs`` / ``gram_objective_and_gap``: block coordinate descent and its gap.
- ``lasso_active_set``: the exact active-set (feature-sign) lasso solver with a Cholesky
  factor updated in O(|A|^2) per change (``_chol_append`` / ``_chol_delete``).
- ``local_max_candidates``: which atoms may enter the working set.
"""

import numpy as np
from numba import njit
from numba.extending import register_jitable


@njit(cache=True)
def gram_cd_epochs(H, C, V, HV, alpha, n_epochs):
    """Run ``n_epochs`` cyclic block-CD epochs in place on V (k, T); HV = H @ V is kept.

    Parameters
    ----------
    H : ndarray of shape (k, k)
        Gram matrix ``G_ws^T G_ws`` of the working set.
    C : ndarray of shape (k, T)
        ``G_ws^T b``.
    V : ndarray of shape (k, T)
        Coefficients, updated in place.
    HV : ndarray of shape (k, T)
        ``H @ V``, kept up to date in place.
    alpha : float
        Regularization strength.
    n_epochs : int
        Number of passes over the k blocks.
    """
    k, T = V.shape
    delta = np.empty(T)
    for _ in range(n_epochs):
        for j in range(k):
            L = H[j, j]
            if L <= 0.0:
                continue
            nz2 = 0.0
            for t in range(T):
                z = V[j, t] - (HV[j, t] - C[j, t]) / L
                delta[t] = z
                nz2 += z * z
            nz = np.sqrt(nz2)
            thr = alpha / L
            scale = 0.0 if nz <= thr else 1.0 - thr / nz
            changed = False
            for t in range(T):
                new = delta[t] * scale
                delta[t] = new - V[j, t]
                if delta[t] != 0.0:
                    changed = True
                V[j, t] = new
            if changed:
                for i in range(k):
                    hij = H[i, j]
                    if hij != 0.0:
                        for t in range(T):
                            HV[i, t] += hij * delta[t]


@njit(cache=True)
def gram_objective_and_gap(H, C, V, HV, bb, alpha):
    """Restricted primal, dual and gap from Gram quantities.

    ||rho||^2 = ||b||^2 - 2 <V, C> + <V, HV>;  G^T rho = C - HV;  <b, rho> = ||b||^2 - <V, C>.

    Parameters
    ----------
    H : ndarray of shape (k, k)
        Gram matrix ``G_ws^T G_ws`` of the working set.
    C : ndarray of shape (k, T)
        ``G_ws^T b``.
    V : ndarray of shape (k, T)
        Coefficients.
    HV : ndarray of shape (k, T)
        ``H @ V``.
    bb : float
        ``||b||^2``.
    alpha : float
        Regularization strength.

    Returns
    -------
    primal : float
    dual : float
        Dual objective at the residual rescaled into the restricted dual constraints.
    """
    k, T = V.shape
    vc = 0.0
    vhv = 0.0
    pen = 0.0
    cmax = 0.0
    for j in range(k):
        n2 = 0.0
        c2 = 0.0
        for t in range(T):
            vc += V[j, t] * C[j, t]
            vhv += V[j, t] * HV[j, t]
            n2 += V[j, t] * V[j, t]
            g = C[j, t] - HV[j, t]
            c2 += g * g
        pen += np.sqrt(n2)
        if c2 > cmax:
            cmax = c2
    rr = max(bb - 2.0 * vc + vhv, 0.0)
    br = bb - vc
    primal = 0.5 * rr + alpha * pen
    cn = np.sqrt(cmax)
    s = 1.0 if cn <= alpha else alpha / cn
    dual = s * br - 0.5 * s * s * rr
    return primal, dual


# ---------------------------------------------------------------------- exact active set
# The helpers of lasso_active_set are register_jitable, not njit: as njit dispatchers each
# was compiled once per combination of int64 and constant (Literal[int]) arguments at its
# call sites, 8 extra compiles on the first fit; as overloads they are typed on plain int64
# and compiled with the solver (they stay callable from Python, uncompiled, for tests).
# lasso_active_set uses error_model="numpy": its divisions are by positive pivots, and the
# zero-division checks of the default model only made it larger to compile.
@register_jitable
def _chol_append(L, na, H, act, j, ridge):
    """Append atom j to the Cholesky factor L of H[act[:na], act[:na]] (in place)."""
    for i in range(na):
        s = H[act[i], j]
        for m in range(i):
            s -= L[i, m] * L[na, m]
        L[na, i] = s / L[i, i]
    d2 = H[j, j]
    for m in range(na):
        d2 -= L[na, m] * L[na, m]
    floor = ridge * H[j, j]
    singular = d2 <= floor
    if singular:
        d2 = max(floor, 1e-300)
    L[na, na] = np.sqrt(d2)
    for m in range(na + 1, L.shape[1]):
        L[na, m] = 0.0
    return singular


@register_jitable
def _chol_delete(L, na, p):
    """Remove row/column p from the na x na lower Cholesky factor L (in place)."""
    # Drop row p: rows below move up and gain one entry right of the diagonal.
    for i in range(p, na - 1):
        for m in range(i + 2):
            L[i, m] = L[i + 1, m]
    # Givens rotations on columns (i, i+1) restore the lower-triangular shape.
    for i in range(p, na - 1):
        a = L[i, i]
        b = L[i, i + 1]
        r = np.hypot(a, b)
        if r == 0.0:
            continue
        cs = a / r
        sn = b / r
        for row in range(i, na - 1):
            x = L[row, i]
            y = L[row, i + 1]
            L[row, i] = cs * x + sn * y
            L[row, i + 1] = -sn * x + cs * y
        L[i, i + 1] = 0.0
        if L[i, i] < 0.0:
            for row in range(i, na - 1):
                L[row, i] = -L[row, i]
    for m in range(na):
        L[na - 1, m] = 0.0


@register_jitable
def _chol_solve(L, na, rhs, out):
    for i in range(na):
        s = rhs[i]
        for m in range(i):
            s -= L[i, m] * out[m]
        out[i] = s / L[i, i]
    # Back substitution with L^T, column-oriented so that L is read by rows.
    for i in range(na - 1, -1, -1):
        xi = out[i] / L[i, i]
        out[i] = xi
        for m in range(i):
            out[m] -= L[i, m] * xi


@register_jitable
def _residual_grad(H, c, v, g):
    """g = c - H v (H symmetric; rows of the nonzero coefficients only)."""
    k = H.shape[0]
    for j in range(k):
        g[j] = c[j]
    for i in range(k):
        vi = v[i]
        if vi != 0.0:
            for j in range(k):
                g[j] -= H[i, j] * vi


@register_jitable
def _remove_active(L, na, i, act, pos_in, s):
    j = act[i]
    _chol_delete(L, na, i)
    for m in range(i, na - 1):
        act[m] = act[m + 1]
        pos_in[act[m]] = m
    pos_in[j] = -1
    s[j] = 0.0
    return na - 1


@register_jitable
def _smallest(vals, n, m, out):
    """Indices of the m smallest of vals[:n], ascending, ties in index order, into out[:m].

    Insertion into a sorted prefix: O(n) when few values displace the current m smallest,
    as for the largest violations among many candidates. Replaces ``np.argsort``, whose
    compiled sort routines doubled the compile time of the solver for a few short lists.
    """
    filled = 0
    if m <= 0:
        return filled
    for i in range(n):
        x = vals[i]
        if filled == m and not x < vals[out[m - 1]]:
            continue
        q = filled if filled < m else m - 1
        while q > 0 and x < vals[out[q - 1]]:
            out[q] = out[q - 1]
            q -= 1
        out[q] = i
        if filled < m:
            filled += 1
    return filled


@register_jitable
def _track(j, tracked, trk, nt):
    if not tracked[j]:
        tracked[j] = True
        trk[nt] = j
        nt += 1
    return nt


@njit(cache=True, error_model="numpy")
def lasso_active_set(H, c, v, alpha, max_iter, rtol, ridge, max_add, cap, n_track):
    """Exact lasso on a Gram matrix by an active-set (feature-sign) method, in place on v.

    Minimizes ``0.5 v'Hv - c'v + alpha ||v||_1``. The active set A and its signs s define a
    quadratic whose minimizer solves ``H_AA x = c_A - alpha s_A`` (a Cholesky factor of
    H_AA is updated as atoms enter and leave); a line search over the segment to x,
    evaluated at x and at the points where coefficients cross zero, picks the best point
    (feature-sign search: Lee, Battle, Raina and Ng, 2007). Each step strictly decreases the
    objective, and once the active set and signs are right the step lands on the exact
    solution, which coordinate descent on strongly correlated columns only approaches slowly.

    Degenerate entries: a violator j whose column is (numerically, pivot^2 <= ridge * H_jj)
    in the span of the active ones cannot join the factor. Then ``z = H_AA^{-1} H_Aj`` gives
    the null direction ``(-z, 1) sign(g_j)``, along which the objective decreases at rate
    ``|g_j| - alpha``; moving until the first active coefficient reaches zero and swapping
    it for j is the exact step (this is how the active set moves once it has reached the
    rank bound).

    Cost control: the gradient ``g = c - H v`` is kept exact only on the active set and on
    up to ``n_track`` tracked candidates (the worst violators at the last full refresh, plus
    atoms that left the active set), O((|A| + n_track) |A|) per step. A full refresh,
    O(k |A|), happens only when no tracked candidate violates, and it is what certifies the
    result. Up to ``max_add`` violators enter at once; one just added whose minimizer has
    the wrong sign leaves again (with one new atom this cannot happen), so every segment
    starts downhill. ``cap`` is the rank bound on the number of active atoms.

    Returns (n_iter, converged): converged means a fresh gradient satisfies the optimality
    conditions to ``rtol * alpha``.

    Parameters
    ----------
    H : ndarray of shape (k, k)
        Gram matrix.
    c : ndarray of shape (k,)
        Linear term.
    v : ndarray of shape (k,)
        Starting coefficients, overwritten with the solution.
    alpha : float
        Regularization strength.
    max_iter : int
        Maximum steps.
    rtol : float
        Tolerance of the optimality conditions, relative to alpha.
    ridge : float
        Relative pivot threshold below which an entering column counts as dependent.
    max_add : int
        Violators entering at once.
    cap : int
        Rank bound on the number of active atoms.
    n_track : int
        Candidates whose gradient is kept exact between full refreshes.

    Returns
    -------
    n_iter : int
    converged : bool
    """
    k = H.shape[0]
    cap = min(cap + max_add + 1, k)
    L = np.empty((cap + 1, cap + 1))
    act = np.empty(cap + 1, dtype=np.int64)
    pos_in = -np.ones(k, dtype=np.int64)
    tracked = np.zeros(k, dtype=np.bool_)
    blocked = np.zeros(k, dtype=np.bool_)
    trk = np.empty(k, dtype=np.int64)
    nt = 0
    s = np.zeros(k)
    g = np.empty(k)
    rhs = np.empty(cap + 1)
    x = np.empty(cap + 1)
    d = np.empty(cap + 1)
    hd = np.empty(cap + 1)
    tc = np.empty(cap + 1)
    ic = np.empty(cap + 1, dtype=np.int64)
    viol = np.empty(k, dtype=np.int64)
    vals = np.empty(k)
    order = np.empty(k, dtype=np.int64)
    na = 0
    # Warm start: the nonzero coefficients form the initial active set (dependent ones
    # are dropped, which the line searches then repair).
    for j in range(k):
        if v[j] != 0.0:
            if na == cap or _chol_append(L, na, H, act, j, ridge):
                v[j] = 0.0
                continue
            act[na] = j
            pos_in[j] = na
            s[j] = 1.0 if v[j] > 0 else -1.0
            na += 1
    _residual_grad(H, c, v, g)
    fresh = True
    need_solve = na > 0
    n_iter = 0
    steps = 0
    stall = 0
    thr = alpha * (1.0 + rtol)
    while n_iter < max_iter:
        n_iter += 1
        if not need_solve:
            # Violators among the tracked candidates (current gradient) first.
            nv = 0
            for q in range(nt):
                j = trk[q]
                if pos_in[j] < 0 and not blocked[j] and abs(g[j]) > thr:
                    viol[nv] = j
                    vals[nv] = -abs(g[j])
                    nv += 1
            if nv == 0:
                if not fresh:
                    _residual_grad(H, c, v, g)
                    fresh = True
                    steps = 0
                    for q in range(k):
                        blocked[q] = False
                # Optimality on the active set, on the fresh gradient (after a stalled
                # step the active set is optimal to rounding: go on to the violators).
                if stall == 0:
                    ok = True
                    for i in range(na):
                        j = act[i]
                        if abs(g[j] - alpha * s[j]) > rtol * alpha:
                            ok = False
                            break
                    if not ok:
                        need_solve = True
                        continue
                # Full scan: the tracked set becomes the n_track worst violators.
                for q in range(nt):
                    tracked[trk[q]] = False
                nt = 0
                n_blocked = 0
                for j in range(k):
                    if pos_in[j] < 0:
                        a = abs(g[j])
                        if a > thr:
                            if blocked[j]:
                                n_blocked += 1
                                continue
                            viol[nv] = j
                            vals[nv] = -a
                            nv += 1
                if nv == 0:
                    return n_iter, n_blocked == 0
                if nv > n_track:
                    _smallest(vals, nv, n_track, order)
                    for q in range(n_track):
                        trk[q] = viol[order[q]]
                    nt = n_track
                else:
                    for q in range(nv):
                        trk[q] = viol[q]
                    nt = nv
                for q in range(nt):
                    tracked[trk[q]] = True
                nv = 0
                for q in range(nt):
                    viol[nv] = trk[q]
                    vals[nv] = -abs(g[trk[q]])
                    nv += 1
            n_add = min(nv, max_add)
            if nv > n_add:
                _smallest(vals, nv, n_add, order)
            else:
                for q in range(nv):
                    order[q] = q
            swapped = False
            appended = 0
            for q in range(n_add):
                j = viol[order[q]]
                if na >= cap:
                    blocked[j] = True
                    continue
                if not _chol_append(L, na, H, act, j, ridge):
                    act[na] = j
                    pos_in[j] = na
                    s[j] = 1.0 if g[j] > 0 else -1.0
                    na += 1
                    appended += 1
                    continue
                if appended > 0:
                    # The swap below needs the optimality conditions on A, which atoms
                    # just added do not satisfy yet: retry j after the next solve.
                    continue
                # Null direction: L^T z = l, with l = L[na, :na] from the append.
                for i in range(na):
                    x[i] = L[na, i]
                for i in range(na - 1, -1, -1):
                    xi = x[i] / L[i, i]
                    x[i] = xi
                    for m in range(i):
                        x[m] -= L[i, m] * xi
                sig = 1.0 if g[j] > 0 else -1.0
                t_cross = np.inf
                i_cross = -1
                for i in range(na):
                    di = -sig * x[i]
                    vi = v[act[i]]
                    if vi * di < 0.0:
                        t = -vi / di
                        if t < t_cross:
                            t_cross = t
                            i_cross = i
                pivot2 = L[na, na] * L[na, na]
                if i_cross < 0 or not (t_cross * (alpha - abs(g[j]))
                                       + 0.5 * t_cross * t_cross * pivot2 < 0.0):
                    blocked[j] = True
                    continue
                # Move along the null direction; gradient of active and tracked atoms.
                for i in range(na):
                    d[i] = -sig * x[i]
                for q2 in range(nt):
                    jj = trk[q2]
                    if pos_in[jj] < 0:
                        acc = H[jj, j] * sig
                        for m in range(na):
                            acc += H[jj, act[m]] * d[m]
                        g[jj] -= t_cross * acc
                for i in range(na):
                    jj = act[i]
                    acc = H[jj, j] * sig
                    for m in range(na):
                        acc += H[jj, act[m]] * d[m]
                    g[jj] -= t_cross * acc
                    v[jj] += t_cross * d[i]
                out = act[i_cross]
                v[out] = 0.0
                v[j] = sig * t_cross
                na = _remove_active(L, na, i_cross, act, pos_in, s)
                nt = _track(out, tracked, trk, nt)
                _chol_append(L, na, H, act, j, ridge)
                act[na] = j
                pos_in[j] = na
                s[j] = sig
                na += 1
                fresh = False
                steps += 1
                swapped = True
                break
            if swapped:
                need_solve = True
                continue
            if appended == 0:
                continue
        # Minimizer of the quadratic with fixed active set and signs.
        while True:
            for i in range(na):
                rhs[i] = c[act[i]] - alpha * s[act[i]]
            _chol_solve(L, na, rhs, x)
            wrong = -1
            for i in range(na):
                j = act[i]
                if v[j] == 0.0 and x[i] * s[j] <= 0.0:
                    wrong = i
                    break
            if wrong < 0:
                break
            na = _remove_active(L, na, wrong, act, pos_in, s)
        for i in range(na):
            d[i] = x[i] - v[act[i]]
        # hd = H_AA d, by rows of H (contiguous).
        for i in range(na):
            row = act[i]
            acc = 0.0
            for m in range(na):
                acc += H[row, act[m]] * d[m]
            hd[i] = acc
        dhd = 0.0
        gd = 0.0
        dl1 = 0.0
        for i in range(na):
            j = act[i]
            dhd += d[i] * hd[i]
            gd += d[i] * g[j]
            dl1 += abs(x[i]) - abs(v[j])
        # Line search: objective change f(t) - f(0) at t = 1 and at each zero crossing,
        # with the l1 change swept over the sorted crossings (piecewise linear in t).
        best_t = 1.0
        best_i = -1
        best_f = -gd + 0.5 * dhd + alpha * dl1
        nc = 0
        slope = 0.0
        for i in range(na):
            vi = v[act[i]]
            if vi != 0.0:
                slope += d[i] if vi > 0 else -d[i]
                if vi * x[i] < 0.0:
                    t = vi / (vi - x[i])
                    if 0.0 < t < 1.0:
                        tc[nc] = t
                        ic[nc] = i
                        nc += 1
            else:
                slope += abs(d[i])
        if nc > 0:
            _smallest(tc, nc, nc, order)
            dl1t = 0.0
            t_prev = 0.0
            for q in range(nc):
                i = ic[order[q]]
                t = tc[order[q]]
                dl1t += slope * (t - t_prev)
                t_prev = t
                slope += 2.0 * abs(d[i])
                f = -t * gd + 0.5 * t * t * dhd + alpha * dl1t
                if f < best_f:
                    best_f = f
                    best_t = t
                    best_i = i
        if not best_f < 0.0:
            # No decrease (rounding level): refresh the gradient, then look again.
            stall += 1
            if stall > 2:
                return n_iter, False
            _residual_grad(H, c, v, g)
            fresh = True
            steps = 0
            need_solve = False
            continue
        stall = 0
        # Gradient of the tracked candidates, then the step.
        for q in range(nt):
            j = trk[q]
            if pos_in[j] < 0:
                acc = 0.0
                for m in range(na):
                    acc += H[j, act[m]] * d[m]
                g[j] -= best_t * acc
        for i in range(na):
            j = act[i]
            v[j] = x[i] if best_t == 1.0 else v[j] + best_t * d[i]
            g[j] -= best_t * hd[i]
        if best_i >= 0:
            v[act[best_i]] = 0.0
        fresh = False
        steps += 1
        # Drop zero coefficients from the active set (they stay tracked); update signs.
        i = 0
        while i < na:
            j = act[i]
            if v[j] == 0.0:
                na = _remove_active(L, na, i, act, pos_in, s)
                nt = _track(j, tracked, trk, nt)
            else:
                s[j] = 1.0 if v[j] > 0 else -1.0
                i += 1
        if steps >= 256:
            _residual_grad(H, c, v, g)
            fresh = True
            steps = 0
        need_solve = best_i >= 0
        if not need_solve:
            for i in range(na):
                j = act[i]
                if abs(g[j] - alpha * s[j]) > rtol * alpha:
                    need_solve = True
                    break
    return n_iter, False


@njit(cache=True)
def local_max_candidates(score, offsets, in_ws, alpha):
    """Atoms outside the working set whose score exceeds alpha and is a local maximum
    along the biases of their direction, among the atoms outside the working set (ties
    count as maxima).

    Parameters
    ----------
    score : ndarray of shape (n_atoms,)
        Correlation norm of each atom.
    offsets : ndarray of int, shape (n_directions + 1,)
        First atom of each direction (``ReLUDictionary.direction_offsets``).
    in_ws : ndarray of bool, shape (n_atoms,)
        Atoms already in the working set.
    alpha : float
        Regularization strength.

    Returns
    -------
    ndarray of int64
        Candidate atom indices, in increasing order.
    """
    n = score.shape[0]
    D = offsets.shape[0] - 1
    out = np.empty(n, dtype=np.int64)
    m = 0
    for k in range(D):
        a0 = offsets[k]
        a1 = offsets[k + 1]
        for a in range(a0, a1):
            sc = score[a]
            if sc <= alpha or in_ws[a]:
                continue
            if a > a0 and not in_ws[a - 1] and score[a - 1] > sc:
                continue
            if a < a1 - 1 and not in_ws[a + 1] and score[a + 1] > sc:
                continue
            out[m] = a
            m += 1
    return out[:m]
