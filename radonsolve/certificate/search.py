"""A searched (not proven) supremum of eta for any d: candidates, then local ascent."""

import numba
import numpy as np
from joblib import Parallel, delayed
from numba import njit
from sklearn.utils import check_random_state

from ._common import best_bias, canonical, check_n_jobs, eta_raw, unit_rows, validate
from .core import Certificate

__all__ = ["search_certificate", "ascend"]


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
    v, j = best_bias(p, q, order, c)
    return v, order[j]


def ascend(X, q, W0, max_iter, R, n_perturb, rel_tol):
    """Local ascent of eta from each row of W0 (in place); returns (value^2, anchor, n_eval).

    Each step fixes the current best anchor m and maximizes its correlation exactly along
    a great circle through w: first towards the gradient (on the current activation pattern
    the correlation is linear in w, G^T w, so its maximizer s g / ||g|| is the fixed point
    of DESIGN §6), then, if that gains nothing, along the gradient projected onto the ridge
    of points tied with the anchor, then along random great circles. The new direction
    re-chooses its bias, so eta never decreases.

    The starts are independent, so slices of them run on numba's number of threads (a
    serial kernel that releases the GIL: it compiles several times faster than a parallel
    one); each start walks the random circles from its own offset, so the result does not
    depend on the number of threads.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    q : ndarray of shape (n_samples, n_outputs)
        Weighted projected residual.
    W0 : ndarray of shape (n_starts, n_features)
        Unit starting directions, overwritten with the ascended directions.
    max_iter : int
        Maximum accepted steps per start.
    R : ndarray of shape (n_random, n_features)
        Random unit vectors spanning the perturbation circles (shared by the starts).
    n_perturb : int
        Random great circles tried when the gradient steps stall.
    rel_tol : float
        A step is accepted only when it increases the squared correlation by more than
        this relative amount.

    Returns
    -------
    value2 : ndarray of shape (n_starts,)
        Squared correlation norm ``||c(w, b)||^2`` at each final direction
        (``eta = sqrt(value2) / alpha``).
    anchor : ndarray of int64, shape (n_starts,)
        Index of the data point at whose projection the bias lies.
    n_eval : int
        Evaluations of the correlation, all starts together.
    """
    K = W0.shape[0]
    val2 = np.zeros(K)
    anchor = np.zeros(K, np.int64)
    evals = np.zeros(K, np.int64)
    args = (X, q, W0, max_iter, R, n_perturb, rel_tol, val2, anchor, evals)
    n_threads = min(numba.get_num_threads(), K)
    if n_threads <= 1:
        _ascend_starts(*args, 0, K)
    else:
        # more slices than threads: starts differ in cost (their number of steps)
        n_tasks = min(K, 4 * n_threads)
        bounds = [K * i // n_tasks for i in range(n_tasks + 1)]
        Parallel(n_jobs=n_threads, backend="threading")(
            delayed(_ascend_starts)(*args, bounds[i], bounds[i + 1]) for i in range(n_tasks))
    return val2, anchor, int(evals.sum())


@njit(cache=True, nogil=True)
def _ascend_starts(X, q, W0, max_iter, R, n_perturb, rel_tol, val2, anchor, evals, k0, k1):
    """The ascents of :func:`ascend` from rows k0..k1-1 of W0 (in place), results in place."""
    d = W0.shape[1]
    N, T = q.shape
    nR = R.shape[0]
    for k in range(k0, k1):
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
                        nrm0 = 0.0
                        for i in range(d):
                            basis[nb, i] = X[n, i] - X[m, i]
                            nrm0 += basis[nb, i] ** 2
                        nrm0 = np.sqrt(nrm0)
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
                        # relative to the difference itself: independent of the scale of X
                        if nrm > 1e-12 * nrm0:
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
                       random_state=None, extra_directions=None, ascend_extra=False,
                       n_jobs=None, screen_samples=2000):
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
    n_jobs : int or None, default=None
        Threads for the candidates' evaluation and the ascents (None: numba's default for
        the ascents, one thread for the candidates; -1: all cores). The result does not
        depend on it.
    screen_samples : int or None, default=2000
        With more samples than this, the random candidates are first scored on this many
        random samples (the residual re-projected there onto the orthogonal complement of
        the affine functions), and only the best ``max(200, 4 n_ascent, top_k)`` of them
        are scored on all samples. The ranking needs no more points than that and the
        candidates' cost no longer grows with n_samples. None: every candidate on all
        samples.

    Returns
    -------
    Certificate
        ``exact=False`` (except d = 1, where the single direction +1 is the whole sphere).

    Examples
    --------
    The residual of the affine fit of a planted ReLU ridge in 3-D: the search finds at
    least what 500 random directions find.

    >>> import numpy as np
    >>> from radonsolve.certificate import eta, search_certificate
    >>> from radonsolve.affine import AffineProjector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 3))
    >>> u = np.full(40, 1 / 40)
    >>> rho = AffineProjector(X, u).project(np.sqrt(u) * np.maximum(X[:, 0] - 0.2, 0))
    >>> q = np.sqrt(u) * rho
    >>> cert = search_certificate(X, q, alpha=0.01, random_state=0)
    >>> cert.exact, bool(cert.eta >= eta(X, q, 0.01, rng.standard_normal((500, 3)))[0].max())
    (False, True)
    """
    X, q, alpha = validate(X, q, alpha)
    threads = check_n_jobs(n_jobs)
    N, d = X.shape
    rng = check_random_state(random_state)
    if d == 1 or N < 2:
        W = np.ones((1, d)) / np.sqrt(d)
        v2, idx, bias, _ = eta_raw(X, q, W)
        e = float(np.sqrt(v2[0])) / alpha
        keep = e > threshold and top_k > 0
        return Certificate(e, W[0], float(bias[0]), d == 1, W[:int(keep)],
                           np.array([e])[:int(keep)], 1, bias[:int(keep)], int(idx[0]))
    W = _candidates(X, q, int(n_candidates), rng)
    n_eval = 0
    S = None
    n_keep = max(200, 4 * int(n_ascent), int(top_k))
    if screen_samples is not None and N > int(screen_samples) >= 2 and len(W) > n_keep:
        S = np.sort(rng.choice(N, int(screen_samples), replace=False))
        XS = np.ascontiguousarray(X[S])
        A = np.hstack([np.ones((len(S), 1)), XS])
        qS = q[S] - A @ np.linalg.lstsq(A, q[S], rcond=None)[0]
        v2s = eta_raw(XS, np.ascontiguousarray(qS), W, threads)[0]
        W = W[np.sort(np.argsort(-v2s, kind="stable")[:n_keep])]
        n_eval = len(v2s)
    n_cand = len(W)
    if extra_directions is not None:
        W = np.vstack([W, unit_rows(extra_directions, d)])
    v2, idx, bias, _ = eta_raw(X, q, W, threads)
    n_eval += len(W)

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

    def run_ascents(Xa, qa, iters):
        if n_jobs is None:
            return ascend(Xa, qa, W0, iters, Rp, int(n_perturb), 1e-12)
        # numba's thread count is per calling thread: set it for this call only
        prev = numba.get_num_threads()
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        try:
            return ascend(Xa, qa, W0, iters, Rp, int(n_perturb), 1e-12)
        finally:
            numba.set_num_threads(prev)

    n_asc = 0
    if S is not None:
        # Most of an ascent's steps are spent getting near its local maximum, which the
        # screening samples locate as well as all of them; the last steps, on all samples,
        # settle it (and give the anchors and values of all samples).
        n_asc += run_ascents(XS, np.ascontiguousarray(qS), int(max_ascent_iter))[2]
        a2, anchor, n_full = run_ascents(X, q, max(2, int(max_ascent_iter) // 4))
    else:
        a2, anchor, n_full = run_ascents(X, q, int(max_ascent_iter))
    n_asc += n_full
    n_eval += int(n_asc)
    ab = np.einsum("ij,ij->i", W0, X[anchor])

    allW = np.vstack([W0, W])
    allv = np.concatenate([a2, v2])
    allb = np.concatenate([ab, bias])
    alli = np.concatenate([anchor, idx])
    i_best = int(np.argmax(allv))
    Wc, bc = canonical(allW[i_best], [allb[i_best]])
    e_best = float(np.sqrt(allv[i_best])) / alpha

    dirs, etas, biases = np.zeros((0, d)), np.zeros(0), np.zeros(0)
    if top_k > 0:
        thr2 = (float(threshold) * alpha) ** 2
        above = np.nonzero(allv > thr2)[0]
        if len(above):
            sel = above[_distinct(allW[above], allv[above], min_angle, int(top_k))]
            dirs, biases = canonical(allW[sel], allb[sel])
            etas = np.sqrt(allv[sel]) / alpha
    return Certificate(eta=e_best, direction=Wc[0], bias=float(bc[0]), exact=False,
                       directions=dirs, etas=etas, n_evaluated=int(n_eval), biases=biases,
                       index=int(alli[i_best]))
