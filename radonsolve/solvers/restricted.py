"""The restricted (group) lasso kernel of the working-set drivers.

Every working-set solver of this package ends up, on its working set of k atoms, with

    minimize_x  0.5 x^T S x - c^T x + alpha * sum_j ||x_j||_2                   (R)

over k blocks of T outputs (T = 1: the lasso). For the squared loss S is the Gram matrix of
the projected working-set columns (constant: built incrementally as atoms enter); for a
smooth loss it is the Schur complement of the Hessian of a proximal Newton model. (R) is
solved exactly, not approximately: neighbouring ReLU atoms are nearly collinear, coordinate
descent crawls on them, and exact restricted solves let the outer iteration converge fast
once the support is found.

- :func:`restricted_lasso`: (R) for any T, with a growing proximal term when S is too
  singular for the active-set method (the kernel every driver calls);
- :func:`group_active_set`: the group analogue of feature-sign search for T > 1;
- T = 1 is the compiled active-set lasso ``radonsolve.solvers._cd.lasso_active_set``.

The constants below are the active-set settings shared by every caller.
"""

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ._cd import lasso_active_set

__all__ = ["MAX_ADD", "N_TRACK", "SINGULAR", "group_active_set", "restricted_lasso"]

#: Violators entering the one-output active set at once.
MAX_ADD = 16
#: Candidates whose gradient the one-output active set tracks between full refreshes.
N_TRACK = 64
#: An entering column whose component orthogonal to the active ones is below
#: ``sqrt(SINGULAR)`` of its norm counts as in their span (it enters by a swap).
SINGULAR = 1e-10


def restricted_lasso(S, c, x, alpha, T, max_inner, *, rtol=1e-10, cap=None, prox=True):
    """Solve (R) (module docstring) exactly from x, in place.

    T = 1 runs the active-set lasso, T > 1 the group active set. When the method stops
    short (S numerically singular along a violating atom: near-duplicate columns, or a
    Newton model with zero curvature on some samples) a proximal term ``mu max(diag S) I``
    is added, ``mu`` growing from 1e-10 by factors of 100 up to 1e-2, until it converges:
    for a Newton model any positive definite metric still gives a descent direction. For
    a fixed S (squared loss) the caller passes ``prox=False`` and checks ``converged``
    instead.

    Parameters
    ----------
    S : ndarray of shape (k * T, k * T)
        Positive semidefinite quadratic term, index ``j * T + t``.
    c : ndarray of shape (k * T,)
        Linear term.
    x : ndarray of shape (k * T,)
        Starting point, overwritten with the solution.
    alpha : float
        Positive regularization strength.
    T : int
        Outputs per block.
    max_inner : int
        Maximum steps of the active-set method per attempt.
    rtol : float, default=1e-10
        Tolerance of the optimality conditions relative to alpha.
    cap : int or None, default=None
        Rank bound on the number of active atoms (one output; None: k).
    prox : bool, default=True
        Whether to retry with a growing proximal term when the method stops short.

    Returns
    -------
    n_steps : int
        Active-set steps over all attempts.
    converged : bool
        Whether the last attempt met the optimality conditions (of the problem with the
        proximal term, if one was added).

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.solvers.restricted import restricted_lasso
    >>> x = np.zeros(2)
    >>> restricted_lasso(np.eye(2), np.array([3.0, -0.5]), x, 1.0, 1, 100)[1]
    True
    >>> x                  # soft thresholding of c at alpha
    array([2., 0.])
    """
    S = np.ascontiguousarray(S)
    x0 = np.array(x, dtype=float, copy=True)
    ridge = 0.0
    scale = float(np.max(S.diagonal(), initial=0.0)) or 1.0
    total = 0
    while True:
        Sr = S + ridge * scale * np.eye(len(x0)) if ridge else S
        cr = c + ridge * scale * x0 if ridge else c
        x[:] = x0
        if T == 1:
            steps, ok = lasso_active_set(Sr, np.ascontiguousarray(cr), x, alpha, max_inner,
                                         rtol, SINGULAR, MAX_ADD,
                                         len(x) if cap is None else cap, N_TRACK)
        else:
            steps, viol = group_active_set(Sr, np.ascontiguousarray(cr), x, alpha, T,
                                           rtol * alpha, max_inner)
            ok = viol == 0.0
        total += int(steps)
        if ok or not prox or ridge >= 1e-2:
            return total, bool(ok)
        ridge = 1e-10 if not ridge else 100.0 * ridge


def group_active_set(S, c, x, alpha, T, tol, max_steps=10000):
    """Group lasso ``min 0.5 x^T S x - c^T x + alpha sum_j ||x_j||`` (blocks of T), in place.

    The group analogue of feature-sign search. Coordinate descent crawls on this dictionary
    (neighbouring ReLU atoms are nearly collinear) and, started from many small blocks,
    keeps near-duplicate atoms alive; here blocks enter a few at a time, the most violating
    first (``||g_j|| > alpha``), at the exact minimizer along their steepest direction, and
    the objective restricted to the active blocks, smooth there (the Hessian of
    ``alpha ||x_j||`` is ``alpha / ||x_j|| (I - xh xh^T)``), is minimized by Newton steps.
    The line search tries the full step and, for each block that the step drives close to
    zero, the point of the segment nearest to zero with that block set exactly to zero
    (the block then leaves): the way out of the degenerate directions that move weight
    between two near-duplicate atoms. Stops when every KKT violation is below ``tol``.

    Returns (steps, violation) as below.
    Parameters
    ----------
    S : ndarray of shape (k * T, k * T)
        Positive semidefinite quadratic term (index ``j * T + t``: block j, output t).
    c : ndarray of shape (k * T,)
        Linear term.
    x : ndarray of shape (k * T,)
        Starting point, overwritten with the solution.
    alpha : float
        Positive weight of the group norms.
    T : int
        Size of each block.
    tol : float
        Tolerance on the KKT violations (absolute, in the units of alpha).
    max_steps : int, default=10000
        Maximum steps (entries, Newton solves and line searches together).

    Returns
    -------
    steps : int
    violation : float
        0.0 when the KKT conditions hold to ``tol``, ``inf`` when the method stopped short
        (zero curvature along an entering block, a stalled line search or ``max_steps``).

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.solvers.restricted import group_active_set
    >>> x = np.zeros(2)
    >>> group_active_set(np.eye(2), np.array([3.0, 4.0]), x, 1.0, 2, 1e-12)[1]
    0.0
    >>> x                  # the block shrunk by alpha along c: (1 - 1 / 5) (3, 4)
    array([2.4, 3.2])
    """
    q = x.shape[0]
    k = q // T
    Xb = x.reshape(k, T)
    g = c - S @ x                      # minus the gradient of the smooth part
    nrm = np.linalg.norm(Xb, axis=1)
    active = nrm > 0
    need_solve = bool(active.any())
    eyeT = np.eye(T)
    steps = 0
    stall = 0

    while steps < max_steps:
        steps += 1
        if not need_solve:
            G = g.reshape(k, T)
            gn = np.linalg.norm(G, axis=1)
            gn[active] = -np.inf
            viol = np.flatnonzero(gn > alpha + tol)
            if not len(viol):
                return steps, 0.0
            # Several blocks enter per Newton solve (a quarter of the support, the most
            # violating first): one at a time, each solve of size |A| T made hundreds of
            # neurons cost thousands of dense solves. Each enters at its exact minimizer
            # along its steepest direction given those before it, so the objective still
            # decreases at every entry.
            n_add = max(1, int(active.sum()) // 4)
            for j in viol[np.argsort(-gn[viol])[:n_add]]:
                sl = slice(j * T, (j + 1) * T)
                gj = g[sl]
                nj = float(np.linalg.norm(gj))
                if nj <= alpha + tol:
                    continue
                uj = gj / nj
                curv = float(uj @ S[sl, sl] @ uj)
                if curv <= 0:
                    return steps, np.inf
                step = (nj - alpha) / curv * uj
                x[sl] = step
                g -= S[:, sl] @ step
                active[j] = True
            need_solve = True
            continue
        act = np.flatnonzero(active)
        na = len(act)
        ii = (act[:, None] * T + np.arange(T)).ravel()
        xs = x[ii].copy()
        Xs = xs.reshape(na, T)
        nr = np.linalg.norm(Xs, axis=1)
        xh = Xs / nr[:, None]
        gr = -g[ii] + alpha * xh.ravel()            # gradient of the objective on the support
        S_aa = S[np.ix_(ii, ii)]
        M = S_aa.copy()
        M4 = M.reshape(na, T, na, T)
        ar = np.arange(na)
        M4[ar, :, ar, :] += (alpha / nr)[:, None, None] * (
            eyeT[None] - xh[:, :, None] * xh[:, None, :])
        M[np.diag_indices_from(M)] += 1e-12 * max(np.trace(M) / len(M), 1e-300)
        # M is symmetric positive definite on the support (S is, and the penalty's Hessian
        # is positive semidefinite): Cholesky, half the cost of a general solve.
        try:
            dlt = -cho_solve(cho_factor(M, check_finite=False), gr, check_finite=False)
        except np.linalg.LinAlgError:
            dlt = -np.linalg.lstsq(M, gr, rcond=None)[0]
        if not np.all(np.isfinite(dlt)):
            return steps, np.inf
        Sd = S_aa @ dlt
        gd = -float(g[ii] @ dlt)
        dSd = float(dlt @ Sd)
        D = dlt.reshape(na, T)
        pen0 = alpha * float(nr.sum())
        gl = -g[ii]

        none = np.zeros(0, dtype=np.int64)

        def change(t, zeros=none):
            """Objective change at xs + t dlt with the blocks ``zeros`` set to zero."""
            Xn = Xs + t * D
            f = t * gd + 0.5 * t * t * dSd
            if len(zeros):
                zi = (zeros[:, None] * T + np.arange(T)).ravel()
                e = -Xn[zeros].ravel()
                f += float(gl[zi] @ e) + t * float(Sd[zi] @ e) \
                    + 0.5 * float(e @ S_aa[np.ix_(zi, zi)] @ e)
                Xn = Xn.copy()
                Xn[zeros] = 0.0
            return f + alpha * float(np.linalg.norm(Xn, axis=1).sum()) - pen0

        cands = [(1.0, none)]
        dd = np.einsum("ij,ij->i", D, D)
        with np.errstate(divide="ignore", invalid="ignore"):
            tstar = -np.einsum("ij,ij->i", Xs, D) / dd
        near = np.flatnonzero((tstar > 0) & (tstar < 1))
        if len(near):
            dist = np.linalg.norm(Xs[near] + tstar[near, None] * D[near], axis=1)
            near = near[dist <= 0.5 * nr[near]]
            near = near[np.argsort(tstar[near])]
            # Each block alone at its closest approach to zero, and every prefix of them
            # (all blocks reached by then set to zero): after many blocks entered together,
            # dozens leave again, and one factorization per leaving block was most of the
            # cost (measured: 171 of 213 steps on a 608-block subproblem).
            cands += [(float(tstar[a]), np.array([a])) for a in near]
            cands += [(float(tstar[near[m - 1]]), near[:m]) for m in range(2, len(near) + 1)]
        best_t, best_z, best_f = 0.0, none, 0.0
        for t, z in cands:
            f = change(t, z)
            if f < best_f:
                best_t, best_z, best_f = t, z, f
        if best_t == 0.0:
            # Near the solution the decrease falls below the rounding of the objective
            # (a step e changes it by e^2): take the Newton step if it is a descent
            # direction and the objective does not visibly increase.
            noise = 1e-14 * (pen0 + abs(gd) + abs(dSd) + 1e-300)
            if float(gr @ dlt) < 0 and change(1.0) <= noise:
                best_t = 1.0
        if best_t == 0.0:
            t = 0.5
            while t > 1e-12:
                f = change(t)
                if f < 0:
                    best_t, best_f = t, f
                    break
                t *= 0.5
        if best_t == 0.0:
            stall += 1
            if stall > 2:
                return steps, np.inf
            need_solve = False
            continue
        stall = 0
        xn = xs + best_t * dlt
        if len(best_z):
            xn.reshape(na, T)[best_z] = 0.0
            active[act[best_z]] = False
        g -= S[:, ii] @ (xn - xs)
        x[ii] = xn
        # Optimality on the active set; a block that left forces a new solve.
        Xs = xn.reshape(na, T)
        nr = np.linalg.norm(Xs, axis=1)
        ok = nr > 0
        G = g[ii].reshape(na, T)
        v = np.linalg.norm(-G[ok] + alpha * Xs[ok] / nr[ok, None], axis=1)
        need_solve = len(best_z) > 0 or (v.size and v.max() > tol)
        if steps % 50 == 0:
            g = c - S @ x
    return steps, np.inf
