"""The exact convex program over activation patterns (DESIGN §8; Pilanci and Ergen, 2020).

For squared loss, an unpenalized skip connection and unpenalized biases, problem (P)

    minimize_f  0.5 * sum_n u_n (y_n - f(x_n))^2 + alpha * RTV2(f)

is, on the data, a group lasso over the activation patterns of the hyperplane arrangement of
the data. A neuron ``v max(w.x - b, 0)`` (unit w) restricted to the data is
``v D (X w - b 1)`` with D = diag(1[X w > b]) its pattern. Writing ``(a, beta) = |v| (w, b)``,

    D_i (X a_i - beta_i 1),   (2 D_i - I)(X a_i - beta_i 1) >= 0,   penalty ||a_i||_2,

represents every neuron of pattern D_i with output sign +, and a second block
``(a'_i, beta'_i)`` those with sign -; the cone constraint says the block is a ReLU with exactly
that pattern on the data, so any feasible block is a neuron (``w = a/||a||``,
``b = beta/||a||``, output ``+-||a||``) and conversely. Blocks with the same pattern add
(the cone is convex and the norm subadditive), so one pair per pattern suffices, and the
program

    minimize  0.5 sum_n u_n (y_n - sum_i [D_i (X a_i - beta_i 1) - D_i (X a'_i - beta'_i 1)]_n
                                  - x_n.c - c0)^2  +  alpha sum_i (||a_i|| + ||a'_i||)

has the optimal value of (P) when every pattern is present. The penalty is on ``a`` only,
which is RTV2 because w is a unit vector: biases are not penalized. Complementary patterns
D and I - D are redundant with the free skip connection (``D^c (X a - beta) =
(X a - beta) + D (X (-a) - (-beta))``, and ``(-a, -beta)`` satisfies D's cone constraint), so
only one of each pair is kept; the empty and full patterns (zero and affine functions) are
dropped.

Patterns. For d <= 2 all of them are enumerated (exact): for d = 2 the order of the
projections ``w(theta).x_n`` changes only at the angles where two points project equally, so
one direction inside each arc between consecutive such angles, with all its thresholds,
yields every pattern {n : w.x_n > b} (O(N^2) of them). For d >= 3, or when the exact set
is too large, patterns come from random directions with all their thresholds and the
program is a restriction of (P): its value is an upper bound (``info['exact'] = False``).

Several outputs (a vector output weight per neuron with a group penalty) do not reduce to this
program (the vector case leads to a copositive / nuclear-norm type program, Sahiner et al.),
so only one output is supported.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from .network import ReLUNetwork
from .solvers._cd import lasso_active_set
from .solvers.restricted import N_TRACK, SINGULAR

__all__ = ["fit_arrangement", "arrangement_patterns"]

DEFAULT_MAX_EXACT = 1500


# ----------------------------------------------------------------------------- patterns
def _canonical_unique(masks):
    """Unique patterns, one per complementary pair (the one without point 0), no empty/full."""
    masks = np.asarray(masks, dtype=bool)
    if masks.shape[0] == 0:
        return masks
    masks = np.where(masks[:, :1], ~masks, masks)
    cnt = masks.sum(axis=1)
    masks = masks[(cnt > 0) & (cnt < masks.shape[1])]
    if not len(masks):
        return masks
    packed = np.packbits(masks, axis=1)
    _, first = np.unique(packed, axis=0, return_index=True)
    return masks[np.sort(first)]


def _suffix_patterns(P):
    """All threshold sets {n : p_n > b} of the projections P (n_dirs, N) (ties kept together)."""
    n_dirs, N = P.shape
    out = []
    for p in P:
        order = np.argsort(p, kind="stable")
        ps = p[order]
        scale = max(np.abs(ps).max(initial=0.0), 1e-300)
        cuts = np.flatnonzero(np.diff(ps) > 1e-12 * scale) + 1    # split between distinct values
        if not len(cuts):
            continue
        ranks = np.empty(N, dtype=np.int64)
        ranks[order] = np.arange(N)
        # Pattern for cut position m: points whose rank >= m.
        out.append(ranks[None, :] >= cuts[:, None])
    if not out:
        return np.zeros((0, N), dtype=bool)
    return np.vstack(out)


def _critical_arc_directions(X):
    """One direction strictly inside each arc of [0, pi) between critical angles (d = 2)."""
    N = X.shape[0]
    i, j = np.triu_indices(N, k=1)
    diff = X[j] - X[i]
    # The normal of the line through x_i and x_j: w . (x_j - x_i) = 0.
    ang = np.mod(np.arctan2(diff[:, 1], diff[:, 0]) + 0.5 * np.pi, np.pi)
    ang = np.unique(np.round(ang, 14))
    if len(ang) == 0:
        mids = np.array([0.25 * np.pi])
    else:
        nxt = np.append(ang[1:], ang[0] + np.pi)
        mids = 0.5 * (ang + nxt)
    return np.column_stack([np.cos(mids), np.sin(mids)])


def _exact_count_estimate(N, d):
    """Number of patterns up to complement for points in general position."""
    if d == 1:
        return N - 1
    return N * (N - 1) // 2 + 1


def arrangement_patterns(X, *, patterns="auto", n_patterns=1000, random_state=None,
                         max_exact=DEFAULT_MAX_EXACT):
    """Activation patterns of the data, one per complementary pair.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    patterns : "auto", "exact", "sample" or bool array of shape (n_patterns, n_samples)
        "exact": every pattern (d <= 2 only). "sample": patterns of random directions.
        "auto": exact when d <= 2 and the exact set has at most ``max_exact`` patterns.
    n_patterns : int, default=1000
        Number of sampled patterns (at most).
    random_state : int, RandomState instance or None
    max_exact : int

    Returns
    -------
    masks : bool ndarray of shape (n_patterns, n_samples)
    exact : bool
        Whether every pattern of the arrangement is present.

    Examples
    --------
    Three points on a line have two patterns besides the trivial ones (all or none
    active), one of each complementary pair:

    >>> import numpy as np
    >>> from radonsolve.arrangement import arrangement_patterns
    >>> masks, exact = arrangement_patterns(np.array([[0.0], [1.0], [2.0]]))
    >>> masks.astype(int), exact
    (array([[0, 1, 1],
           [0, 0, 1]]), True)
    """
    X = np.asarray(X, dtype=float)
    N, d = X.shape
    if not isinstance(patterns, str):
        masks = np.asarray(patterns)
        if masks.ndim != 2 or masks.shape[1] != N:
            raise ValueError(f"patterns array must have shape (n_patterns, {N}), got "
                             f"{masks.shape}.")
        return _canonical_unique(masks.astype(bool)), False
    if patterns not in ("auto", "exact", "sample"):
        raise ValueError(f"patterns must be 'auto', 'exact', 'sample' or a boolean array; "
                         f"got {patterns!r}.")
    Xu = np.unique(X, axis=0)
    if patterns == "exact" and d > 2:
        raise ValueError("Exact enumeration of the patterns is implemented for d <= 2 only.")
    exact = patterns == "exact" or (
        patterns == "auto" and d <= 2 and _exact_count_estimate(len(Xu), d) <= max_exact)
    if exact:
        if d == 1:
            W = np.ones((1, 1))
        else:
            W = _critical_arc_directions(Xu)
        return _canonical_unique(_suffix_patterns(W @ X.T)), True
    rng = check_random_state(random_state)
    n_patterns = int(n_patterns)
    if n_patterns < 1:
        raise ValueError(f"n_patterns must be a positive integer; got {n_patterns}.")
    per_dir = max(N - 1, 1)
    masks = np.zeros((0, N), dtype=bool)
    for _ in range(20):
        n_dirs = max(1, int(np.ceil(1.5 * (n_patterns - len(masks)) / per_dir)))
        W = rng.standard_normal((n_dirs, d))
        masks = _canonical_unique(np.vstack([masks, _suffix_patterns(W @ X.T)]))
        if len(masks) >= n_patterns:
            break
    if len(masks) > n_patterns:
        masks = masks[np.sort(rng.choice(len(masks), n_patterns, replace=False))]
    return masks, False


# ----------------------------------------------------------------------------- program
def fit_arrangement(X, Y, u, alpha, *, patterns="auto", n_patterns=1000, random_state=None,
                    max_exact=DEFAULT_MAX_EXACT, sparsify=True, verbose=0):
    """Solve problem (P) by the convex program over activation patterns (cvxpy, Clarabel).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, 1)
        Targets (one output; several raise NotImplementedError, see the module docstring).
    u : array-like of shape (n_samples,)
        Nonnegative sample weights, normalized here to sum to one.
    alpha : float
        Regularization strength (objective ``0.5 sum u (y - f)^2 + alpha RTV2(f)``).
    patterns : "auto", "exact", "sample" or bool array, default="auto"
        See :func:`arrangement_patterns`.
    n_patterns : int, default=1000
        Number of sampled patterns when not exact.
    random_state : int, RandomState instance or None
    max_exact : int, default=1500
        "auto" enumerates exactly up to this many patterns.
    sparsify : bool, default=True
        Re-solve the lasso on the recovered neurons exactly (active set) to return a vertex
        solution: same objective, at most N - (d + 1) neurons (the interior-point solution
        of the program is generally denser).
    verbose : int, default=0

    Returns
    -------
    network : ReLUNetwork
        The recovered network (canonical form; single output), with the skip connection
        refitted by weighted least squares given its neurons.
    info : dict
        ``exact`` (bool, every pattern enumerated: the value is the optimum of (P)),
        ``n_patterns`` (int), ``objective`` (optimal value of the program),
        ``network_objective`` ((P) evaluated at the returned network), ``status``, ``time``.

    Examples
    --------
    The convex program and the estimator reach the same optimum of (P):

    >>> import numpy as np
    >>> from radonsolve import RadonReLURegressor
    >>> from radonsolve.arrangement import fit_arrangement
    >>> X = np.linspace(-1, 1, 5)[:, None]
    >>> y = np.maximum(X[:, 0], 0)
    >>> net, info = fit_arrangement(X, y, np.ones(5), alpha=1e-3)
    >>> info["exact"], net.n_neurons
    (True, 1)
    >>> est = RadonReLURegressor(alpha=1e-3).fit(X, y)
    >>> bool(np.isclose(info["network_objective"], est.objective_, rtol=1e-6))
    True
    """
    t0 = time.perf_counter()
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}.")
    N, d = X.shape
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 2:
        if Y.shape[1] != 1:
            raise NotImplementedError(
                "fit_arrangement supports one output: with vector outputs the convex "
                "reformulation over patterns is not this group lasso.")
        Y = Y[:, 0]
    if Y.shape != (N,):
        raise ValueError(f"Y must have {N} rows, got shape {Y.shape}.")
    u = np.asarray(u, dtype=float).reshape(-1)
    if u.shape != (N,) or np.any(u < 0) or not np.isfinite(u).all() or u.sum() <= 0:
        raise ValueError("u must be nonnegative finite weights, one per sample, with a "
                         "positive sum.")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise ValueError("X and Y must be finite.")
    alpha = float(alpha)
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite nonnegative number; got {alpha!r}.")
    u = u / u.sum()
    # Clarabel's stopping tests are partly absolute (tol_gap_abs; feasibility relative to
    # max(1, ...)), so the program is solved in units where X and y are of order one and the
    # answer mapped back by the invariances of (P) (DESIGN §1): translating X changes
    # nothing, X times s is alpha times s, y times c is alpha times c. The patterns are
    # those of the same threshold sets.
    shift = u @ X
    sx = float(np.abs(X - shift).max(initial=0.0)) or 1.0
    sy = float(np.sqrt(u @ (Y - u @ Y) ** 2)) or 1.0
    net, info = _fit_program((X - shift) / sx, Y / sy, u, alpha / (sx * sy), patterns,
                             n_patterns, random_state, max_exact, sparsify, verbose)
    W = net.weights
    net = ReLUNetwork(W, net.biases * sx + W @ shift, net.outer * (sy / sx),
                      net.skip_coef * (sy / sx),
                      sy * (net.skip_intercept - net.skip_coef @ shift / sx))
    info["objective"] *= sy * sy
    info["network_objective"] = 0.5 * float(u @ (Y - net.predict(X)) ** 2) + alpha * net.rtv2
    info["time"] = time.perf_counter() - t0
    return net, info


def _fit_program(X, Y, u, alpha, patterns, n_patterns, random_state, max_exact, sparsify,
                 verbose):
    """The program of :func:`fit_arrangement` on validated data (one output)."""
    import cvxpy as cp

    t0 = time.perf_counter()
    N, d = X.shape
    masks, exact = arrangement_patterns(X, patterns=patterns, n_patterns=n_patterns,
                                        random_state=random_state, max_exact=max_exact)
    P = len(masks)
    Dm = masks.T.astype(float)                       # (N, P)
    Sg = 2.0 * Dm - 1.0
    su = np.sqrt(u)
    c = cp.Variable(d)
    c0 = cp.Variable()
    objective_terms = []
    if P:
        A1 = cp.Variable((P, d))
        A2 = cp.Variable((P, d))
        b1 = cp.Variable(P)
        b2 = cp.Variable(P)
        ones = np.ones((N, 1))
        G1 = X @ A1.T - ones @ cp.reshape(b1, (1, P), order="C")
        G2 = X @ A2.T - ones @ cp.reshape(b2, (1, P), order="C")
        pred = cp.sum(cp.multiply(Dm, G1 - G2), axis=1) + X @ c + c0
        constraints = [cp.multiply(Sg, G1) >= 0, cp.multiply(Sg, G2) >= 0]
        pen = cp.sum(cp.norm(A1, 2, axis=1)) + cp.sum(cp.norm(A2, 2, axis=1))
        objective_terms.append(alpha * pen)
    else:
        pred = X @ c + c0
        constraints = []
    fit = 0.5 * cp.sum_squares(cp.multiply(su, Y - pred))
    prob = cp.Problem(cp.Minimize(fit + sum(objective_terms)), constraints)
    opts = dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10, tol_ktratio=1e-10,
                max_iter=500)
    try:
        prob.solve(solver=cp.CLARABEL, verbose=verbose > 1, **opts)
    except cp.error.SolverError:
        prob.solve(solver=cp.CLARABEL, verbose=verbose > 1)
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"cvxpy returned status {prob.status!r} on the arrangement program.")
    if prob.status == "optimal_inaccurate":
        warnings.warn("cvxpy reports an inaccurate solution of the arrangement program.",
                      ConvergenceWarning)

    # ------------------------------------------------------------- recover the network
    if P:
        blocks = []
        for Av, bv, sign in ((A1.value, b1.value, 1.0), (A2.value, b2.value, -1.0)):
            nrm = np.linalg.norm(Av, axis=1)
            blocks.append((Av, bv, sign, nrm))
        top = max(float(bl[3].max(initial=0.0)) for bl in blocks)
        # Interior-point solutions are dense up to solver precision: drop blocks that are
        # negligible relative to the largest, or whose whole contribution on the data
        # (at most ||a|| times the diameter of X) is negligible relative to the targets.
        diam = float(np.linalg.norm(np.ptp(X, axis=0)))
        thr = max(1e-9 * top, 1e-10 * (np.ptp(Y) + 1e-300) / max(diam, 1e-300))
        W, B, V = [], [], []
        for Av, bv, sign, nrm in blocks:
            keep = nrm > thr
            W.append(Av[keep] / nrm[keep, None])
            B.append(bv[keep] / nrm[keep])
            V.append(sign * nrm[keep])
        W, B, V = np.vstack(W), np.concatenate(B), np.concatenate(V)
    else:
        W, B, V = np.zeros((0, d)), np.zeros(0), np.zeros(0)
    A = np.column_stack([np.ones(N), X]) * su[:, None]
    Hid = np.maximum(X @ W.T - B, 0.0) if len(B) else np.zeros((N, 0))
    if sparsify and len(B) and alpha > 0:
        # An interior-point solution lies inside the optimal face and can use more neurons
        # than the representer bound N - (d + 1). The lasso on the recovered neurons (skip
        # connection eliminated by projection) has the same optimal value, since the
        # program's solution is one of its points; the exact active-set solution, built one
        # atom at a time, is a vertex with at most rank(G) <= N - (d + 1) atoms.
        Qa, sa, _ = np.linalg.svd(A, full_matrices=False)
        Qa = Qa[:, sa > sa[0] * max(A.shape) * np.finfo(float).eps]
        proj = lambda Z: Z - Qa @ (Qa.T @ Z)  # noqa: E731
        G = proj(su[:, None] * Hid)
        bvec = proj(su * Y)
        x = np.zeros(len(B))
        # One atom enters at a time; columns in the span of the active ones enter by a swap,
        # so the active columns stay independent (at most N of them).
        lasso_active_set(np.ascontiguousarray(G.T @ G), G.T @ bvec, x, alpha, 100000, 1e-10,
                         SINGULAR, 1, min(len(x), G.shape[0]), N_TRACK)
        nz = x != 0
        W, B, V, Hid = W[nz], B[nz], x[nz], Hid[:, nz]
    # Optimal skip connection given the neurons (weighted least squares): never worse than
    # the program's own c, c0 and removes their solver noise.
    resid = Y - Hid @ V
    coef = np.linalg.lstsq(A, su * resid, rcond=None)[0]
    net = ReLUNetwork(W, B, V, coef[1:], coef[0])
    net_obj = 0.5 * float(u @ (Y - net.predict(X)) ** 2) + alpha * net.rtv2
    info = {
        "exact": bool(exact),
        "n_patterns": int(P),
        "objective": float(prob.value),
        "network_objective": net_obj,
        "status": prob.status,
        "time": time.perf_counter() - t0,
    }
    return net, info
