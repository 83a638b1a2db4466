"""Support reduction: meet the representer bound without changing the fit or the penalty.

DESIGN §7. If the active projected columns are linearly dependent, some direction z moves
the coefficients without moving the fit. Along ``V_j(t) = V_j (1 + t z_j)`` (each neuron's
output vector rescaled, so the group norms stay linear in t) the fit changes by
``t sum_j z_j G_j V_j^T = 0`` when z is in the null space of ``M = [vec(G_j V_j^T)]_j``,
and the penalty changes by ``t sum_j z_j ||V_j||``. At an optimum that slope is zero (else one
sign of t would decrease the objective); away from one we take the sign that does not increase
the penalty. Moving until the first ``1 + t z_j`` reaches zero drops a neuron. Repeating leaves
at most ``rank(M) <= rank(G)`` neurons, and ``rank(G) <= N' - rank([1, X])`` with N' the
number of distinct points, because G has been projected off the affine functions.

For data in general position ``rank([1, X]) = d + 1`` and the bound is the theorem's
``N' - (d + 1)``. For degenerate data (all points on a line in 2-D, N' <= d) the affine
functions cover fewer dimensions on the data and ``N' - rank([1, X])`` is what can be
reached: three collinear points in the plane with a bump need one neuron, not zero.
"""

import numpy as np

__all__ = ["reduce_support", "neuron_bound"]


def neuron_bound(X):
    """``N' - rank([1, X])``: the representer bound on the number of neurons for data X."""
    X = np.asarray(X, dtype=float)
    Xd = np.unique(X, axis=0)
    A = np.column_stack([np.ones(len(Xd)), Xd])
    return int(len(Xd) - np.linalg.matrix_rank(A))


def reduce_support(G, V, *, b=None, alpha=0.0, rtol=1e-9, obj_rtol=1e-11, max_steps=None):
    """Drop neurons along null-space directions until the active columns are independent.

    Parameters
    ----------
    G : ndarray of shape (n_samples, k)
        Projected (and sample-weight scaled) columns of the active atoms.
    V : ndarray of shape (k, n_outputs)
        Their output weights.
    b : ndarray of shape (n_samples, n_outputs), optional
        Projected targets. When given, a step is taken only if the objective
        ``0.5 ||b - G V||^2 + alpha sum_j ||V_j||`` grows by at most ``obj_rtol`` relative:
        a nearly dependent set of columns is not an exactly dependent one, and moving far
        along an approximate null vector would change the fit.
    alpha : float
    rtol : float
        Singular values below ``rtol`` times the largest count as zero.
    obj_rtol : float

    Returns
    -------
    keep : ndarray of int
        Indices (into the k atoms) that remain.
    V_new : ndarray of shape (len(keep), n_outputs)
        Their new output weights: same fit (up to rounding) and penalty not larger.
    """
    G = np.asarray(G, dtype=float)
    V = np.array(V, dtype=float, copy=True)
    if V.ndim == 1:
        V = V[:, None]
    k = V.shape[0]
    alive = np.flatnonzero(np.linalg.norm(V, axis=1) > 0)
    if b is not None:
        b = np.asarray(b, dtype=float).reshape(G.shape[0], -1)

    def objective(Vx):
        r = b - G[:, alive] @ Vx
        return 0.5 * float(np.sum(r * r)) + alpha * float(np.linalg.norm(Vx, axis=1).sum())
    max_steps = k if max_steps is None else max_steps
    for _ in range(max_steps):
        if len(alive) <= 1:
            break
        Ga, Va = G[:, alive], V[alive]
        # Columns vec(G_j V_j^T): the fit's derivative with respect to each neuron's scale.
        M = (Ga[:, :, None] * Va[None, :, :]).transpose(0, 2, 1).reshape(-1, len(alive))
        # Only the right singular vectors are needed; the full left factor would be
        # (N T)^2 (seconds at N = 1000, T = 3), so it is computed only when M is wide and
        # the thin Vt would miss part of the null space.
        _, s, Vt = np.linalg.svd(M, full_matrices=M.shape[0] < M.shape[1])
        smax = s[0] if s.size else 0.0
        rank = int(np.sum(s > rtol * smax)) if smax > 0 else 0
        if rank >= len(alive):
            break
        z = Vt[-1]
        norms = np.linalg.norm(Va, axis=1)
        if float(norms @ z) > 0:
            z = -z
        # Largest t >= 0 with all 1 + t z_j >= 0: the first neuron to reach zero drops.
        neg = z < -1e-15
        if not neg.any():
            z = -z
            neg = z < -1e-15
            if not neg.any():  # pragma: no cover - z is a unit vector
                break
        t = float(np.min(-1.0 / z[neg]))
        scale = 1.0 + t * z
        j_drop = np.flatnonzero(neg)[np.argmin(-1.0 / z[neg])]
        scale[j_drop] = 0.0
        V_try = Va * np.maximum(scale, 0.0)[:, None]
        if b is not None:
            before = objective(Va)
            if objective(V_try) > before + obj_rtol * max(abs(before), 1e-300):
                break
        V[alive] = V_try
        alive = alive[np.linalg.norm(V[alive], axis=1) > 0]
    return alive, V[alive]
