"""Support reduction: meet the representer bound without changing the fit or the penalty.

DESIGN §7. If the active projected columns are linearly dependent, some direction z moves
the coefficients without moving the fit. Along ``V_j(t) = V_j (1 + t z_j)`` (each neuron's
output vector rescaled, so the group norms stay linear in t) the fit changes by
``t sum_j z_j G_j V_j^T = 0`` when z is in the null space of ``M = [vec(G_j V_j^T)]_j``,
and the penalty changes by ``t sum_j z_j ||V_j||``. At an optimum that slope is zero (else one
sign of t would decrease the objective); away from one we take the sign that does not increase
the penalty. Moving until the first ``1 + t z_j`` reaches zero drops a neuron. Repeating leaves
at most ``rank(M)`` neurons. With one output ``rank(M) <= rank(G) <= N' - rank([1, X])``, N'
the number of distinct points, because G has been projected off the affine functions; with T
outputs the fitted values live in a space of dimension ``T (N' - rank([1, X]))``, which
bounds ``rank(M)`` (and outputs that are multiples of one another keep the one-output bound).

For data in general position ``rank([1, X]) = d + 1`` and the bound is the theorem's
``N' - (d + 1)``. For degenerate data (all points on a line in 2-D, N' <= d) the affine
functions cover fewer dimensions on the data and ``N' - rank([1, X])`` is what can be
reached: three collinear points in the plane with a bump need one neuron, not zero.

Every tolerance here is relative, so that rescaling X, y or alpha (DESIGN §1) changes nothing:
the rank cut is relative to the largest singular value of M, and a step is accepted only if
it keeps the fit to ``fit_rtol`` of the scale of the fit (``||b||``, or the columns of M when
the coefficients cancel and the fit itself is only known to that precision) and the
objective to ``obj_rtol`` of the affine fit's objective. Neither scale vanishes at
``alpha = 0``, where the objective of an interpolating fit is zero up to rounding.
"""

import numpy as np

__all__ = ["reduce_support", "neuron_bound"]


def neuron_bound(X):
    """``N' - rank([1, X])``: the representer bound on the number of neurons for data X.

    N' counts distinct rows. The rank is that of ``[1, X]`` with X centred and each column
    scaled to unit norm, so it does not depend on the units of the features nor on where
    their origin is (translating or rescaling a feature keeps span{1, X}).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    bound : int

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.support import neuron_bound
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    >>> neuron_bound(X)
    1
    >>> neuron_bound(1e-12 * X + 1e-9)
    1
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    Xd = np.unique(X, axis=0)
    n = len(Xd)
    if n == 0:
        return 0
    # Each feature in its own units (divided by its largest magnitude, so that its entries
    # carry rounding errors of about eps), then centred, which removes the constant column
    # without changing the span. The rank cut is the rounding level of those entries, not
    # a fraction of the largest singular value: a feature offset by 1e6 has a spread of
    # 1e-6 after the division and still counts, while points made collinear by rounding
    # (a line offset by 1e4) stay collinear.
    top = np.abs(Xd).max(axis=0)
    Z = Xd[:, top > 0] / top[top > 0]
    Z = Z - Z.mean(axis=0)
    if Z.size == 0:
        return n - 1
    s = np.linalg.svd(Z, compute_uv=False)
    return int(n - 1 - np.sum(s > max(Z.shape) * np.sqrt(Z.size) * np.finfo(float).eps))


def _basis_of_columns(G, V, alive, F0, rtol, fit_rtol, fit_scale, max_steps):
    """At alpha = 0, keep a basis of the active columns and refit the outputs on it.

    With several outputs the scaling moves can only reach ``rank(M) <= T rank(G)``; without
    a penalty in the objective any columns spanning the same space fit the same values, so
    a column-pivoted QR picks ``rank(G)`` of them and least squares sets their weights. The
    move is taken only if the fit is kept to ``fit_rtol``, as for the scaling moves.
    """
    from scipy.linalg import qr

    Ga = G[:, alive]
    _, R, piv = qr(Ga, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    r = int(np.sum(diag > rtol * diag[0])) if diag.size and diag[0] > 0 else 0
    r = max(r, len(alive) - max_steps)
    if r >= len(alive) or r == 0:
        return alive, V
    sel = np.sort(piv[:r])
    Vs = np.linalg.lstsq(Ga[:, sel], F0, rcond=None)[0]
    terms = np.linalg.norm(Ga, axis=0) * np.linalg.norm(V[alive], axis=1)
    tol_fit = fit_rtol * max(fit_scale, float(np.linalg.norm(terms)))
    if float(np.linalg.norm(Ga[:, sel] @ Vs - F0)) > tol_fit:
        return alive, V
    V = V.copy()
    V[alive] = 0.0
    V[alive[sel]] = Vs
    return alive[sel], V


def reduce_support(G, V, *, b=None, rtol=1e-9, fit_rtol=1e-12, obj_rtol=1e-12,
                   alpha=0.0, max_steps=None):
    """Drop neurons along null-space directions until the active columns are independent.

    Parameters
    ----------
    G : ndarray of shape (n_samples, k)
        Projected (and sample-weight scaled) columns of the active atoms.
    V : ndarray of shape (k, n_outputs) or (k,)
        Their output weights.
    b : ndarray of shape (n_samples, n_outputs), optional
        Projected targets. When given, ``||b||`` is a scale of the fit tolerance, and a step
        is taken only if the objective ``0.5 ||b - G V||^2 + alpha sum_j ||V_j||`` grows by at
        most ``obj_rtol`` times ``max(objective, 0.5 ||b||^2)`` (the second term, the affine
        fit's objective, keeps the test meaningful at ``alpha = 0``).
    rtol : float, default=1e-9
        Singular values of M below ``rtol`` times the largest are candidates for a null
        direction (a step along one is then checked on the fit).
    fit_rtol : float, default=1e-12
        A step is taken only if the fit ``G V`` stays, over all steps together, within
        ``fit_rtol`` times ``max(||b||, ||G V||, ||M||_F)`` of the original fit: a nearly
        dependent set of columns is not an exactly dependent one, and moving along an
        approximate null vector would change the fit.
    obj_rtol : float, default=1e-12
    alpha : float, default=0.0
        Penalty weight of the objective checked when ``b`` is given. With ``b`` given and
        ``alpha = 0`` the penalty is no part of the objective, and several outputs are first
        reduced to a basis of the active columns (refitted by least squares), which meets
        ``rank(G)`` instead of ``T rank(G)``; the output weights' norms may grow there.
    max_steps : int or None
        Most neurons dropped (default: all that can be).

    Returns
    -------
    keep : ndarray of int
        Indices (into the k atoms) that remain.
    V_new : ndarray of shape (len(keep), n_outputs)
        Their new output weights: same fit (to ``fit_rtol``) and penalty not larger (except
        in the ``alpha = 0`` basis step above).

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.support import reduce_support
    >>> G = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    >>> keep, V = reduce_support(G, np.array([1.0, 1.0, 1.0]))
    >>> len(keep), np.allclose(G[:, keep] @ V, G @ np.ones((3, 1)))
    (2, True)
    """
    G = np.asarray(G, dtype=float)
    V = np.array(V, dtype=float, copy=True)
    if V.ndim == 1:
        V = V[:, None]
    k = V.shape[0]
    alive = np.flatnonzero(np.linalg.norm(V, axis=1) > 0)
    F0 = G[:, alive] @ V[alive]
    fit_scale = float(np.linalg.norm(F0))
    if b is not None:
        b = np.asarray(b, dtype=float).reshape(G.shape[0], -1)
        fit_scale = max(fit_scale, float(np.linalg.norm(b)))
        obj_scale = 0.5 * float(np.sum(b * b))

    def objective(idx, Vx):
        r = b - G[:, idx] @ Vx
        return 0.5 * float(np.sum(r * r)) + alpha * float(np.linalg.norm(Vx, axis=1).sum())

    max_steps = k if max_steps is None else max_steps
    if b is not None and alpha == 0 and V.shape[1] > 1 and len(alive) > 1:
        alive, V = _basis_of_columns(G, V, alive, F0, rtol, fit_rtol, fit_scale, max_steps)
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
        # (z is a unit vector: the cut is relative to it.)
        neg = z < -1e-15
        if not neg.any():
            z = -z
            neg = z < -1e-15
            if not neg.any():  # pragma: no cover - z is a unit vector
                break
        t = float(np.min(-1.0 / z[neg]))
        scale = np.maximum(1.0 + t * z, 0.0)
        scale[np.flatnonzero(neg)[np.argmin(-1.0 / z[neg])]] = 0.0
        V_try = Va * scale[:, None]
        # The computed fit is only known to rounding relative to the terms that add up to
        # it (||M||_F > ||G V|| when coefficients cancel), so that is part of the scale.
        tol_fit = fit_rtol * max(fit_scale, float(np.linalg.norm(M)))
        if float(np.linalg.norm(Ga @ V_try - F0)) > tol_fit:
            break
        if b is not None:
            before = objective(alive, Va)
            if objective(alive, V_try) > before + obj_rtol * max(before, obj_scale):
                break
        V[alive] = V_try
        alive = alive[np.linalg.norm(V[alive], axis=1) > 0]
    return alive, V[alive]
