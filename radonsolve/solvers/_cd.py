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
