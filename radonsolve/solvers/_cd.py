"""Compiled coordinate-descent kernel for the group lasso on a Gram matrix.

A working set holds a few hundred atoms while N may be large, so the restricted problem is
solved on ``H = G_ws^T G_ws`` and ``C = G_ws^T b``: one coordinate update costs O(k T)
instead of O(N T), and the restricted objective and duality gap follow from H, C and
``||b||^2`` without touching the N-dimensional residual.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def gram_cd_epochs(H, C, V, HV, alpha, n_epochs):
    """Run ``n_epochs`` cyclic block-CD epochs in place on V (k, T); HV = H @ V is kept."""
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
@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def _chol_solve(L, na, rhs, out):
    for i in range(na):
        s = rhs[i]
        for m in range(i):
            s -= L[i, m] * out[m]
        out[i] = s / L[i, i]
    for i in range(na - 1, -1, -1):
        s = out[i]
        for m in range(i + 1, na):
            s -= L[m, i] * out[m]
        out[i] = s / L[i, i]


@njit(cache=True)
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


@njit(cache=True)
def lasso_active_set(H, c, v, alpha, max_iter, rtol, ridge):
    """Exact lasso on a Gram matrix by an active-set (feature-sign) method, in place on v.

    Minimizes ``0.5 v'Hv - c'v + alpha ||v||_1``. The active set A and its signs s define a
    quadratic whose minimizer solves ``H_AA x = c_A - alpha s_A`` (a Cholesky factor of
    H_AA is updated as atoms enter and leave); a line search over the segment to x,
    evaluated at x and at the points where coefficients cross zero, picks the best point
    (Lee, Battle, Raina and Ng, 2007). Atoms enter one at a time, the most violating first.
    Each step strictly decreases the objective, and for the right active set and signs the
    step lands on the exact solution, which coordinate descent on strongly correlated
    columns only approaches slowly.

    Returns (n_iter, converged).
    """
    k = H.shape[0]
    L = np.zeros((k, k))
    act = np.empty(k, dtype=np.int64)
    pos_in = -np.ones(k, dtype=np.int64)
    s = np.zeros(k)
    g = np.empty(k)
    rhs = np.empty(k)
    x = np.empty(k)
    d = np.empty(k)
    hd = np.empty(k)
    na = 0
    # Warm start: the nonzero coefficients form the initial active set.
    for j in range(k):
        if v[j] != 0.0:
            _chol_append(L, na, H, act, j, ridge)
            act[na] = j
            pos_in[j] = na
            s[j] = 1.0 if v[j] > 0 else -1.0
            na += 1
    _residual_grad(H, c, v, g)
    need_solve = na > 0
    n_iter = 0
    since_refresh = 0
    stall = 0
    thr = alpha * (1.0 + rtol)
    while n_iter < max_iter:
        n_iter += 1
        if not need_solve:
            best = -1
            bestval = thr
            for j in range(k):
                if pos_in[j] < 0:
                    a = abs(g[j])
                    if a > bestval:
                        bestval = a
                        best = j
            if best < 0:
                # Confirm on a fresh gradient before declaring optimality.
                if since_refresh == 0:
                    return n_iter, True
                _residual_grad(H, c, v, g)
                since_refresh = 0
                ok = True
                for i in range(na):
                    j = act[i]
                    if abs(g[j] - alpha * s[j]) > rtol * alpha:
                        ok = False
                for j in range(k):
                    if pos_in[j] < 0 and abs(g[j]) > thr:
                        ok = False
                if ok:
                    return n_iter, True
                need_solve = True
                continue
            _chol_append(L, na, H, act, best, ridge)
            act[na] = best
            pos_in[best] = na
            s[best] = 1.0 if g[best] > 0 else -1.0
            na += 1
        # Minimizer of the quadratic with fixed active set and signs.
        for i in range(na):
            rhs[i] = c[act[i]] - alpha * s[act[i]]
        _chol_solve(L, na, rhs, x)
        for i in range(na):
            d[i] = x[i] - v[act[i]]
        for j in range(k):
            hd[j] = 0.0
        for i in range(na):
            di = d[i]
            if di != 0.0:
                row = act[i]
                for j in range(k):
                    hd[j] += H[row, j] * di
        dhd = 0.0
        gd = 0.0
        l1_0 = 0.0
        for i in range(na):
            j = act[i]
            dhd += d[i] * hd[j]
            gd += d[i] * g[j]
            l1_0 += abs(v[j])
        # Line search: objective change f(t) - f(0) at t = 1 and at each zero crossing.
        best_t = 1.0
        best_i = -1
        l1 = 0.0
        for i in range(na):
            l1 += abs(x[i])
        best_f = -gd + 0.5 * dhd + alpha * (l1 - l1_0)
        for i in range(na):
            vi = v[act[i]]
            if vi != 0.0 and vi * x[i] < 0.0:
                t = vi / (vi - x[i])
                if t <= 0.0 or t >= 1.0:
                    continue
                l1 = 0.0
                for m in range(na):
                    if m != i:
                        l1 += abs(v[act[m]] + t * d[m])
                f = -t * gd + 0.5 * t * t * dhd + alpha * (l1 - l1_0)
                if f < best_f:
                    best_f = f
                    best_t = t
                    best_i = i
        if not best_f < 0.0:
            # No decrease (rounding level): the current point is as good as it gets.
            stall += 1
            if stall > 2:
                return n_iter, False
            _residual_grad(H, c, v, g)
            since_refresh = 0
            need_solve = False
            continue
        stall = 0
        for i in range(na):
            j = act[i]
            v[j] = x[i] if best_t == 1.0 else v[j] + best_t * d[i]
        if best_i >= 0:
            v[act[best_i]] = 0.0
        for j in range(k):
            g[j] -= best_t * hd[j]
        since_refresh += 1
        if since_refresh >= 64:
            _residual_grad(H, c, v, g)
            since_refresh = 0
        # Drop zero coefficients from the active set; update signs.
        i = 0
        while i < na:
            j = act[i]
            if v[j] == 0.0:
                _chol_delete(L, na, i)
                for m in range(i, na - 1):
                    act[m] = act[m + 1]
                    pos_in[act[m]] = m
                pos_in[j] = -1
                s[j] = 0.0
                na -= 1
            else:
                s[j] = 1.0 if v[j] > 0 else -1.0
                i += 1
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
    along the biases of their direction (ties count as maxima)."""
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
            if a > a0 and score[a - 1] > sc:
                continue
            if a < a1 - 1 and score[a + 1] > sc:
                continue
            out[m] = a
            m += 1
    return out[:m]
