"""Continuous refinement of the directions: the exchange method of DESIGN §6.

A dictionary on sampled directions only upper-bounds (P). Each round solves the lasso on the
current directions (warm-started), evaluates the dual certificate eta over *all* directions
(exactly in 2-D, by search otherwise; DESIGN §5), and adds the directions that violate it.
The loop stops when the duality gap of (P) itself, computed from the certificate, is below
the tolerance.

For d >= 3 two more sources of directions make the difference (measured on the diabetes data,
d = 10: without them 40 rounds ended far above what weight-decay training reaches):

- **Polish.** L-BFGS steps (a budget that adapts to what they gained) on the active neurons ``(w_k, b_k, v_k)`` of the current
  solution, on the exact objective in its smooth weight-decay form
  ``0.5 ||b - P sqrt(u) relu(X W^T - b) V||^2 + (alpha / 2) (||W||^2 + ||V||^2)`` (whose
  minimum over rescalings is (P), DESIGN §1), move every neuron at once. The moved directions
  are fed back as candidates only: the convex solve sets the output weights and the biases
  (exact at the data, DESIGN §2) optimally, so the next objective is at most the polished
  network's, and the certificate judges what remains.
- **Many certificate directions.** Up to ``top_k`` distinct violating directions per round,
  from ascents started at the best candidates and at every active direction (sliding).

The searched certificate is only as good as its search: a search that would stop the loop is
repeated with a larger budget first, and ``stall`` stops the loop when rounds stop paying.

Directions that have been inactive for ``prune_after`` rounds are dropped so the dictionary
stays small; the active atoms' directions are always kept, so the previous solution stays
feasible (its atoms are remapped to the new dictionary for the warm start) and the objective
cannot increase from round to round beyond the solver's tolerance.
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from .certificate import (
    Certificate,
    SweepEvents,
    duality_gap_for_P,
    eta,
    exact_certificate_2d,
    search_certificate,
)
from .dictionary import AffineProjector, ReLUDictionary
from .directions import canonical_directions
from ._progress import progress_bar
from .lasso import ProjectedLasso, interpolation_objective

__all__ = ["RefinementRound", "certify", "exchange", "polish_network"]

# Two directions closer than this (|cos| above 1 - _SAME_DIR) are one direction here: the
# second would only add nearly collinear atoms.
_SAME_DIR = 1e-9


@dataclass
class RefinementRound:
    """One round of the exchange method, as reported by ``verbose`` and stored in history."""

    round: int
    n_directions: int
    n_added: int
    n_neurons: int
    objective: float
    eta: float
    gap_P: float
    time: float
    polished_objective: float = np.nan
    n_pruned: int = 0


def certify(X, q, alpha, *, active_directions=None, budget=2000, top_k=10, n_ascent=20,
            ascent_iter=50, random_state=None, events=None):
    """The certificate for a weighted projected residual ``q``: exact for d <= 2, else searched.

    For d >= 3, ``budget`` candidates, ascent from the ``n_ascent`` best and from every row of
    ``active_directions`` (sliding the current neurons); ``top_k`` violators are returned.
    For d = 2, ``events`` (a :class:`SweepEvents` of X) saves rebuilding the critical angles.
    """
    d = X.shape[1]
    if alpha <= 0:
        # Every dual constraint of (P) is an equality at alpha = 0, so eta is infinite
        # unless the residual is orthogonal to every atom; the gap of (P) then comes from
        # its known optimum instead (:func:`interpolation_objective`), which is exact.
        return Certificate(eta=np.inf, direction=np.ones(d) / np.sqrt(d), bias=0.0,
                           exact=True, directions=np.zeros((0, d)), etas=np.zeros(0),
                           n_evaluated=0)
    if d == 1:
        e, b, _ = eta(X, q, alpha, np.ones((1, 1)))
        return Certificate(eta=float(e[0]), direction=np.ones(1), bias=float(b[0]), exact=True,
                           directions=np.ones((1, 1)), etas=np.asarray(e, dtype=float),
                           n_evaluated=1)
    if d == 2:
        return exact_certificate_2d(X, q, alpha, top_k=top_k, events=events)
    extra = None
    if active_directions is not None and len(active_directions):
        extra = np.asarray(active_directions, dtype=float)
    return search_certificate(X, q, alpha, n_candidates=budget, top_k=top_k,
                              n_ascent=n_ascent, max_ascent_iter=ascent_iter,
                              random_state=random_state,
                              extra_directions=extra,
                              ascend_extra=extra is not None)


# ---------------------------------------------------------------------------------------
# Polish: local descent on the active neurons
# ---------------------------------------------------------------------------------------
@njit(cache=True, fastmath=True)
def _wd_value_grad(XT, W, bias, V, su, Q, b, alpha, gW, gb, gV):
    """Value and gradient of the weight-decay form of (P) with the affine part eliminated.

    ``0.5 ||rho||^2 + (alpha/2) (||W||^2 + ||V||^2)`` with ``rho = b - P (su * relu(X W^T -
    bias) V)``, P = I - Q Q^T, X given transposed (XT, shape (d, N)). Since P rho = rho, the
    gradient with respect to the unprojected network output is ``-su * rho``. Serial on
    purpose: the sizes are small (active neurons only) and threads contend on a shared
    machine; sample-contiguous loops so that they vectorize.
    """
    d, N = XT.shape
    K = W.shape[0]
    T = V.shape[1]
    r = Q.shape[1]
    Z = np.empty((K, N))
    F = np.zeros((T, N))
    for k in range(K):
        zk = Z[k]
        for n in range(N):
            zk[n] = -bias[k]
        for i in range(d):
            w = W[k, i]
            xi = XT[i]
            for n in range(N):
                zk[n] += w * xi[n]
        for t in range(T):
            v = V[k, t]
            Ft = F[t]
            for n in range(N):
                Ft[n] += max(zk[n], 0.0) * v
    S = np.empty((T, N))
    loss = 0.0
    for t in range(T):
        Ft = F[t]
        for n in range(N):
            Ft[n] *= su[n]
        C = np.zeros(r)
        for n in range(N):
            for j in range(r):
                C[j] += Q[n, j] * Ft[n]
        for n in range(N):
            v = b[n, t] - Ft[n]
            for j in range(r):
                v += Q[n, j] * C[j]
            loss += v * v
            S[t, n] = su[n] * v
    loss *= 0.5
    reg = 0.0
    sv = np.empty(N)
    for k in range(K):
        zk = Z[k]
        for n in range(N):
            s = 0.0
            for t in range(T):
                s += S[t, n] * V[k, t]
            sv[n] = s if zk[n] > 0.0 else 0.0
        gbk = 0.0
        for n in range(N):
            gbk += sv[n]
        gb[k] = gbk
        for i in range(d):
            xi = XT[i]
            acc = 0.0
            for n in range(N):
                acc += sv[n] * xi[n]
            gW[k, i] = alpha * W[k, i] - acc
            reg += W[k, i] * W[k, i]
        for t in range(T):
            St = S[t]
            acc = 0.0
            for n in range(N):
                acc += max(zk[n], 0.0) * St[n]
            gV[k, t] = alpha * V[k, t] - acc
            reg += V[k, t] * V[k, t]
    return loss + 0.5 * alpha * reg, loss


def polish_network(X, b, projector, weights, biases, outer, alpha, *, max_iter=100):
    """Local descent (L-BFGS) of (P) over the neurons ``(w_k, b_k, v_k)`` jointly.

    Works on the weight-decay form, started at the balanced rescaling of the given neurons,
    where it equals (P); its local minima are those of (P) (DESIGN §1).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    b : ndarray of shape (n_samples, n_outputs)
        Projected scaled targets of the problem.
    projector : AffineProjector
    weights : ndarray of shape (K, n_features)
    biases : ndarray of shape (K,)
    outer : ndarray of shape (K, n_outputs)
    alpha : float
    max_iter : int

    Returns
    -------
    weights, biases, outer : the moved neurons (weights not normalized)
    objective : float
        Value of (P) (path-norm form) at the moved neurons with the optimal affine part.
    """
    XT = np.ascontiguousarray(np.asarray(X, dtype=float).T)
    V0 = np.asarray(outer, dtype=float)
    K, T = V0.shape
    d = XT.shape[0]
    su = np.ascontiguousarray(projector.sqrt_u)
    Q = np.ascontiguousarray(projector.Q)
    bb = np.ascontiguousarray(b, dtype=float)
    nw = np.linalg.norm(weights, axis=1)
    g = np.sqrt(np.maximum(np.linalg.norm(V0, axis=1), 1e-300) / np.maximum(nw, 1e-300))
    # Biases at data projections sit on a kink of the ReLU, where the one-sided gradient can
    # stop L-BFGS's first line search: start a hair below (the point at the bias active),
    # a hair relative to the scale of the projections, whatever the units of X.
    biases = np.asarray(biases, dtype=float)
    proj_scale = np.abs(np.asarray(weights, dtype=float)).sum(axis=1) * \
        float(np.abs(XT).max(initial=0.0))
    biases = biases - 1e-9 * np.maximum(proj_scale, np.abs(biases))
    th0 = np.concatenate([(weights * g[:, None]).ravel(), biases * g,
                          (V0 / g[:, None]).ravel()])
    gW = np.empty((K, d))
    gb = np.empty(K)
    gV = np.empty((K, T))

    def unpack(th):
        return (th[:K * d].reshape(K, d), th[K * d:K * d + K], th[K * d + K:].reshape(K, T))

    # L-BFGS-B's stopping tests are absolute below 1 (ftol compares the decrease with
    # max(|f|, 1)): the objective is divided by the affine fit's so that they are relative,
    # and the descent does the same in any units of y.
    fscale = max(0.5 * float(np.sum(bb * bb)), np.finfo(float).tiny)

    def fg(th):
        Wt, bt, Vt = unpack(th)
        f, _ = _wd_value_grad(XT, Wt, bt, Vt, su, Q, bb, alpha, gW, gb, gV)
        return f / fscale, np.concatenate([gW.ravel(), gb, gV.ravel()]) / fscale

    with threadpool_limits(limits=1, user_api="blas"):
        # gtol is absolute too: relative to the gradient at the start, whose size follows
        # the units of X (the variables scale with them).
        g0 = np.abs(fg(th0)[1]).max(initial=0.0)
        res = minimize(fg, th0, jac=True, method="L-BFGS-B",
                       options={"maxiter": int(max_iter),
                                "gtol": 1e-14 * max(g0, np.finfo(float).tiny), "ftol": 1e-15,
                                "maxcor": 20})
    Wt, bt, Vt = (a.copy() for a in unpack(res.x))
    _, loss = _wd_value_grad(XT, Wt, bt, Vt, su, Q, bb, alpha, gW, gb, gV)
    obj = loss + alpha * float(np.sum(np.linalg.norm(Wt, axis=1) * np.linalg.norm(Vt, axis=1)))
    return Wt, bt, Vt, obj


# ---------------------------------------------------------------------------------------
# Bookkeeping of the directions
# ---------------------------------------------------------------------------------------
def _new_directions(W, cand):
    """Canonical rows of ``cand`` that are not (numerically) rows of W or of each other."""
    if cand is None or len(cand) == 0:
        return np.zeros((0, W.shape[1]))
    C = canonical_directions(cand)
    keep = np.max(np.abs(C @ W.T), axis=1) < 1.0 - _SAME_DIR
    C = C[keep]
    out = []
    for c in C:
        if out and np.max(np.abs(np.asarray(out) @ c)) >= 1.0 - _SAME_DIR:
            continue
        out.append(c)
    return np.asarray(out).reshape(-1, W.shape[1])


def _remap_atoms(old_dic, new_dic, old_to_new, idx, coef):
    """Indices in ``new_dic`` of atoms ``idx`` of ``old_dic`` (their directions were kept).

    Atoms are ordered by direction, then by bias; a kept direction is the same vector over
    the same data, so it has the same atoms in the same order. Checked, with a fallback
    search by bias should rounding ever change the tie groups.
    """
    idx = np.asarray(idx, dtype=np.int64)
    if len(idx) == 0:
        return idx, coef
    k_old = old_dic.atom_direction[idx]
    k_new = old_to_new[k_old]
    if np.any(k_new < 0):
        raise RuntimeError("an active direction was pruned")
    new_idx = new_dic.direction_offsets[k_new] + (idx - old_dic.direction_offsets[k_old])
    ok = (new_idx < new_dic.direction_offsets[k_new + 1]) & \
        (new_dic.atom_bias[np.minimum(new_idx, new_dic.n_atoms - 1)] == old_dic.atom_bias[idx])
    if not ok.all():
        for i in np.flatnonzero(~ok):
            a0, a1 = new_dic.direction_offsets[k_new[i]], new_dic.direction_offsets[k_new[i] + 1]
            biases = new_dic.atom_bias[a0:a1]
            j = int(np.argmin(np.abs(biases - old_dic.atom_bias[idx[i]]))) if a1 > a0 else -1
            new_idx[i] = a0 + j if j >= 0 else -1
        keep = new_idx >= 0
        new_idx, coef = new_idx[keep], coef[keep]
    return new_idx, coef


# ---------------------------------------------------------------------------------------
# The exchange method
# ---------------------------------------------------------------------------------------
def exchange(X, Y, u, alpha, directions, solver, *, max_rounds=30, tol=1e-6, budget=2000,
             top_k=None, warm_start=None, random_state=None, verbose=0, warn=True,
             polish="auto", polish_iter=200, prune_after="auto", n_ascent=50, ascent_iter=20,
             ascend_active=True, confirm=8, max_search_scale=8, stall=(5, 1e-3),
             time_limit=None, events=None):
    """Solve (P) by exchange rounds on a changing set of directions.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    u : ndarray of shape (n_samples,)
        Normalized sample weights (positive, sum to one).
    alpha : float
    directions : ndarray of shape (n_directions, n_features)
        Initial directions (canonical, distinct).
    solver : object with ``solve(problem, warm_start=None)``
    max_rounds : int
        Exchange rounds after the first solve (0: only certify the first solve).
    tol : float
        Stop when the gap of (P) is below ``tol`` times the objective of the affine fit.
    budget : int
        Candidate directions of the searched certificate (d >= 3).
    top_k : int or None
        Most violating directions added per round; None: 30 for d <= 2 (the exact
        certificate's distinct local maxima; measured at N = 1000 in 2-D, 30 instead of 10
        saved a round or two of the O(N^2 log N) sweep), 200 otherwise.
    polish : "auto" or bool
        Feed the directions of a local descent on the active neurons back as candidates each
        round ("auto": for d >= 3).
    polish_iter : int
        L-BFGS iterations of the first polish; later ones adapt to what the previous polish
        gained (doubled above a relative gain of 1e-3, halved below 1e-5, within
        [polish_iter / 8, 2 polish_iter]).
    prune_after : "auto", int or None
        Drop directions without an active atom for this many rounds ("auto": 2 for d >= 3,
        never for d <= 2; None: never).
    n_ascent : int
        Best candidates refined by local ascent in the searched certificate (d >= 3).
    ascent_iter : int
        Steps of each ascent (they are the cost of the search: many short ascents find more
        violators than few long ones).
    ascend_active : bool
        Also ascend from every active direction ("sliding", d >= 3).
    confirm : int
        For d >= 3, a searched certificate that would stop the loop is first re-searched with
        this many times the budget and ascents (0 or 1: no confirmation). When a search adds
        nothing, the next one is likewise enlarged (doubling, up to ``max_search_scale``).
    max_search_scale : int
    stall : (int, float) or None
        For d >= 3, stop (unconverged, with the warning) when the objective fell by less than
        ``stall[1]`` times itself over the last ``stall[0]`` rounds: the searched certificate
        has not been met, but the rounds have stopped paying.
    time_limit : float or None
        Stop (unconverged) after the round that passes this many seconds.
    events : SweepEvents or None
        For two features, the critical angles of exactly these rows of X, built by the
        caller once for several fits on the same X (a regularization path); None: built here.

    Returns
    -------
    problem : ProjectedLasso
        The problem on the final directions.
    result : SolverResult
    certificate : Certificate
        The certificate of the final solution.
    gap_P : float
        Duality gap of (P) from that certificate (a bound only where it is exact).
    history : list of RefinementRound
    converged : bool
    """
    t0 = time.perf_counter()
    timing = dict.fromkeys(("solve", "certify", "polish", "dictionary"), 0.0)
    d = X.shape[1]
    searched = d >= 3
    projector = AffineProjector(X, u)
    W = np.asarray(directions, dtype=float)
    do_polish = searched if polish == "auto" else bool(polish)
    if prune_after == "auto":
        prune_after = 2 if searched else None
    if top_k is None:
        top_k = 200 if searched else 30
    # Round at which each direction was last active (new directions count as active).
    last_active = np.zeros(W.shape[0], dtype=int)
    warm = warm_start
    history = []
    # A generator of its own, seeded from random_state: an int, None, or a RandomState
    # instance (check_random_state passes it through; it is advanced by one draw).
    rng = np.random.RandomState(None if random_state is None else
                                check_random_state(random_state).randint(2 ** 31))
    converged = False
    scale = 1
    n_polish = int(polish_iter)
    dic = ReLUDictionary(X, W)
    # The 2-D sweep's critical angles depend on X alone: built once for all rounds.
    if d != 2 or alpha <= 0:
        events = None
    elif events is None:
        events = SweepEvents(X)
    elif events.n_samples != X.shape[0]:
        raise ValueError(f"sweep_events (events) were built on {events.n_samples} samples; "
                         f"X has {X.shape[0]} (rows of positive weight).")
    bar = progress_bar(max_rounds + 1, desc="refinement rounds", enabled=bool(verbose))
    # At alpha = 0 the optimum of (P) is known exactly and takes the certificate's place.
    opt0 = interpolation_objective(X, Y, u) if alpha <= 0 else 0.0
    for rnd in range(max_rounds + 1):
        problem = ProjectedLasso(dic, Y, u, alpha, projector=projector)
        tic = time.perf_counter()
        result = solver.solve(problem, warm_start=warm)
        timing["solve"] += time.perf_counter() - tic
        rho = problem.residual(result.idx, result.coef)
        q = projector.sqrt_u[:, None] * rho
        q_cert = q[:, 0] if q.shape[1] == 1 else q
        active_k = np.unique(dic.atom_direction[result.idx]) if len(result.idx) else \
            np.zeros(0, dtype=int)
        last_active[active_k] = rnd
        active = dic.directions[active_k] if len(active_k) and ascend_active else None
        elapsed = time.perf_counter() - t0
        # The restricted problem's own constraint violation is part of the supremum too.
        finite_eta = problem.penalty.dual_norm(problem.correlations(rho)) / alpha \
            if alpha > 0 else np.inf
        tol_abs = tol * problem.affine_objective

        def judge(search_scale, q_cert=q_cert, active=active, finite_eta=finite_eta,
                  problem=problem, rho=rho, result=result):
            tic = time.perf_counter()
            with warnings.catch_warnings():
                # rho is orthogonal to the affine functions only up to the solver's rounding.
                warnings.simplefilter("ignore", UserWarning)
                c = certify(X, q_cert, alpha, active_directions=active,
                            budget=int(budget * search_scale), top_k=top_k,
                            n_ascent=int(n_ascent * search_scale), ascent_iter=ascent_iter,
                            random_state=rng, events=events)
            timing["certify"] += time.perf_counter() - tic
            e = max(c.eta, finite_eta)
            if alpha <= 0:
                g = result.objective - opt0
            else:
                g = duality_gap_for_P(problem.b, rho, result.objective, e) \
                    if np.isfinite(e) else np.inf
            return c, e, g

        cert, eta_sup, gap_P = judge(scale)
        if searched and gap_P <= tol_abs and confirm > 1:
            cert2, eta2, gap2 = judge(max(confirm, scale))
            if eta2 > eta_sup:
                cert, eta_sup, gap_P = cert2, eta2, gap2
        converged = gap_P <= tol_abs
        out_of_time = time_limit is not None and elapsed > time_limit
        stalled = False
        if searched and stall is not None and rnd >= stall[0]:
            old_obj = history[rnd - stall[0]].objective
            stalled = old_obj - result.objective < stall[1] * result.objective
        done = converged or rnd == max_rounds or d == 1 or out_of_time or stalled
        n_before = W.shape[0]
        n_added = n_pruned = 0
        pol_obj = np.nan
        if not done:
            new = cert.directions[cert.etas > 1.0] if len(cert.etas) else cert.directions[:0]
            if cert.eta > 1.0 and not len(new):
                new = cert.direction[None, :]
            cands = [new]
            if do_polish and len(result.idx) and alpha > 0:
                tic = time.perf_counter()
                Wa, ba = dic.atoms(result.idx)
                Wp, _, Vp, pol_obj = polish_network(X, problem.b, projector, Wa, ba,
                                                    result.coef, alpha, max_iter=n_polish)
                gain = (result.objective - pol_obj) / max(result.objective, 1e-300)
                if gain > 1e-3:
                    n_polish = min(2 * n_polish, 2 * polish_iter)
                elif gain < 1e-5:
                    n_polish = max(n_polish // 2, max(polish_iter // 8, 1))
                # neurons the descent switched off carry no information
                mass = np.linalg.norm(Wp, axis=1) * np.linalg.norm(Vp, axis=1)
                cands.append(Wp[mass > 1e-9 * max(mass.max(), 1e-300)])
                timing["polish"] += time.perf_counter() - tic
            add = _new_directions(W, np.vstack(cands))
            n_added = len(add)
            # A search that finds nothing new is enlarged next time.
            searched_last = scale
            if searched:
                scale = 1 if len(_new_directions(W, new)) else min(2 * scale, max_search_scale)
            keep = np.ones(n_before, dtype=bool)
            if prune_after is not None:
                keep = rnd - last_active < prune_after
                keep[active_k] = True
            n_pruned = int(n_before - keep.sum())
            if n_added or n_pruned:
                old_to_new = -np.ones(n_before, dtype=np.int64)
                old_to_new[keep] = np.arange(keep.sum())
                W = np.vstack([W[keep], add])
                last_active = np.concatenate([last_active[keep],
                                              np.full(n_added, rnd + 1, dtype=int)])
                tic = time.perf_counter()
                new_dic = ReLUDictionary(X, W)
                timing["dictionary"] += time.perf_counter() - tic
                # Active directions are kept, so the solution stays feasible: warm start.
                warm = _remap_atoms(dic, new_dic, old_to_new, result.idx, result.coef)
                dic = new_dic
            else:
                warm = (result.idx, result.coef)
        history.append(RefinementRound(rnd, n_before, n_added, len(result.idx),
                                       result.objective, eta_sup, gap_P,
                                       time.perf_counter() - t0, pol_obj, n_pruned))
        bar.update(1)
        if verbose:
            msg = (f"[refine] round {rnd}: {n_before} directions, {len(result.idx)} atoms, "
                   f"objective {result.objective:.10g}, certificate eta {eta_sup:.8f}"
                   f"{'' if cert.exact else ' (searched)'}, gap(P) {gap_P:.3e}")
            if np.isfinite(pol_obj):
                msg += f", polished {pol_obj:.10g}"
            msg += f", added {n_added}, pruned {n_pruned} directions " \
                   f"({time.perf_counter() - t0:.2f} s)"
            print(msg)
        if done or (n_added == 0 and not (searched and searched_last < max_search_scale)):
            break
    bar.close()
    if verbose:
        print("[refine] time: " + ", ".join(f"{k} {v:.2f} s" for k, v in timing.items())
              + f", total {time.perf_counter() - t0:.2f} s")
    if warn and not converged and d > 1:
        why = (f"the objective fell by less than {stall[1]:g} of itself in {stall[0]} rounds"
               if stalled else "time limit reached" if out_of_time else "increase max_rounds")
        warnings.warn(
            f"Refinement stopped after {len(history) - 1} rounds with certificate "
            f"{history[-1].eta:.6g}{'' if cert.exact else ' (searched)'} and duality gap of "
            f"(P) {history[-1].gap_P:.3e} above the tolerance "
            f"{tol * problem.affine_objective:.3e}; {why}.", ConvergenceWarning)
    return problem, result, cert, gap_P, history, converged
