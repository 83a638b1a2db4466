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
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from .certificate import (
    Certificate,
    SweepEvents,
    bound_certificate,
    certifiable_eta,
    duality_gap_for_P,
    eta,
    exact_certificate_2d,
    search_certificate,
)
from .dictionary import AffineProjector, ReLUDictionary
from .polish import polish_network
from .directions import canonical_directions
from ._progress import progress_bar
from .lasso import ProjectedLasso, interpolation_objective

__all__ = ["RefinementRound", "certify", "exchange", "polish_network"]

# Two directions closer than this (|cos| above 1 - _SAME_DIR) are one direction here: the
# second would only add nearly collinear atoms.
_SAME_DIR = 1e-9


@dataclass
class RefinementRound:
    """One round of the exchange method, as reported by ``verbose`` and stored in history.

    Attributes
    ----------
    round : int
        Round number, from 1.
    n_directions : int
        Directions in the dictionary solved this round.
    n_added : int
        Directions added for the next round.
    n_neurons : int
        Atoms with nonzero coefficients in this round's solution.
    objective : float
        Objective of (P) restricted to this round's dictionary, at the solution.
    eta : float
        Certificate: the largest eta over all directions, exact, bounded or searched (see
        ``certificate_kind``).
    gap_P : float
        Duality gap of (P) from that certificate.
    time : float
        Seconds since the start of the exchange method.
    polished_objective : float, default=nan
        Objective after the local descent on the active neurons (nan when not run).
    n_pruned : int, default=0
        Directions dropped for the next round (inactive for ``prune_after`` rounds).
    certificate_kind : str, default=""
        "exact", "bound" or "searched": how ``eta`` and ``gap_P`` were obtained.
    stop_reason : str, default=""
        Why the loop stopped, on the last round only (see :func:`exchange`).
    eta_bound : float, default=nan
        Proven upper bound on sup eta from branch-and-bound, where it ran this round.
    """

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
    # "exact", "bound" or "searched": how ``eta`` and ``gap_P`` were obtained (DESIGN §11).
    certificate_kind: str = ""
    # Why the loop stopped (last round only, "" before): see :func:`exchange`.
    stop_reason: str = ""
    # Proven upper bound on sup eta from branch-and-bound, where it ran this round.
    eta_bound: float = np.nan


def certify(X, q, alpha, *, active_directions=None, budget=2000, top_k=10, n_ascent=20,
            ascent_iter=50, random_state=None, events=None, n_jobs=None):
    """The certificate for a weighted projected residual ``q``: exact for d <= 2, else searched.

    For d >= 3, ``budget`` candidates, ascent from the ``n_ascent`` best and from every row of
    ``active_directions`` (sliding the current neurons); ``top_k`` violators are returned.
    For d = 2, ``events`` (a :class:`SweepEvents` of X) saves merging duplicate points again.
    ``n_jobs`` runs the 2-D sweep's angle intervals or the search's ascents in parallel
    (joblib threads); the result does not depend on it.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    q : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Weighted projected residual ``sqrt(u) * rho``.
    alpha : float
        Regularization strength; at 0 the certificate is ``eta = inf`` (exact).
    active_directions : ndarray of shape (k, n_features) or None, default=None
        Directions of the current neurons, ascended from (d >= 3).
    budget : int, default=2000
        Candidate directions evaluated (d >= 3).
    top_k : int, default=10
        Violating directions returned (d >= 2).
    n_ascent : int, default=20
        Best candidates refined by local ascent (d >= 3).
    ascent_iter : int, default=50
        Maximum accepted steps per ascent (d >= 3).
    random_state : int, RandomState instance or None, default=None
        Seeds the search (d >= 3).
    events : SweepEvents or None, default=None
        Distinct points of X, reused across calls (d = 2).
    n_jobs : int or None, default=None
        Threads (joblib convention); the result does not depend on it.

    Returns
    -------
    Certificate
        ``exact`` is True for d <= 2 (and at ``alpha = 0``), False for a searched one.
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
        return exact_certificate_2d(X, q, alpha, top_k=top_k, events=events, n_jobs=n_jobs)
    extra = None
    if active_directions is not None and len(active_directions):
        extra = np.asarray(active_directions, dtype=float)
    return search_certificate(X, q, alpha, n_candidates=budget, top_k=top_k,
                              n_ascent=n_ascent, max_ascent_iter=ascent_iter,
                              random_state=random_state,
                              extra_directions=extra,
                              ascend_extra=extra is not None, n_jobs=n_jobs)


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
             time_limit=None, events=None, bound_budget="auto", n_jobs=None):
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
        The progress rule ``(k, threshold)`` for d >= 3: stop when the objective fell by
        less than ``threshold`` times itself over the last ``k`` rounds,
        ``objective[r - k] - objective[r] < threshold * objective[r]`` (scale-free; default
        5 rounds and 1e-3). None: no progress rule.
    time_limit : float or None
        Seconds: no new round starts after this much time (the round running may finish).
    events : SweepEvents or None
        For two features, the merged duplicate points of exactly these rows of X, built by
        the caller once for several fits on the same X (a regularization path); None: built
        here.
    bound_budget : "auto", float or None
        Seconds of branch-and-bound (:func:`radonsolve.certificate.bound_certificate`) per
        round in which the searched certificate would stop the loop (d >= 3, one output):
        a proven bound replaces the searched value when it certifies, and the directions
        it finds above the threshold are added otherwise. "auto": 60 s for d = 3, off for
        d >= 4 (pass a number to try it there); None or 0: off. Never more than what is left
        of ``time_limit``.
    n_jobs : int or None, default=None
        Parallel workers (joblib threads) for the certificate: the 2-D sweep's angle
        intervals, or the d >= 3 search's ascents. The result does not depend on it.

    Notes
    -----
    The stopping contract. The loop stops after the first round ``r`` at which one of
    these holds, and ``history[-1].stop_reason`` says which (first match):

    - ``"gap"``: the duality gap of (P) from the certificate is at most ``tol`` times the
      objective of the affine fit. For d >= 3 a searched certificate that would stop the
      loop is first searched again with ``confirm`` times the budget and then, where
      ``bound_budget`` allows, bounded by branch-and-bound.
    - ``"progress"`` (d >= 3 only): the progress rule of ``stall``. In 1-D and 2-D the
      certificate is exact, so an exact gap above ``tol`` means the objective can still fall
      and only the gap stops the loop.
    - ``"no_new_directions"``: the certificate's violators (after the enlarged search of
      d >= 3) are all in the dictionary already, so another round would repeat this one.
    - ``"max_rounds"`` or ``"max_time"``: a budget (``max_rounds``, ``time_limit``).
    - ``"single_direction"``: one feature (the dictionary is exact; one solve).

    ConvergenceWarning (with ``warn``) is raised only when the objective was still falling
    when the loop stopped: on a budget stop (``"max_rounds"``, ``"max_time"``), at which
    neither the gap nor the progress rule held, and on ``"no_new_directions"`` with an
    exact certificate (1-D and 2-D: the exact gap says the objective can fall further). A
    stop by the gap or the progress rule does not warn.

    ``history[-1].certificate_kind`` is "exact" for d <= 2, "bound" when branch-and-bound
    proved the bound the gap was computed from, and "searched" otherwise: then ``gap_P``
    is computed from the largest eta the search found, a lower estimate of the gap of (P)
    that is a bound only if the search found the supremum.

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
    timing = dict.fromkeys(("solve", "certify", "bound", "polish", "dictionary"), 0.0)
    d = X.shape[1]
    searched = d >= 3
    projector = AffineProjector(X, u)
    W = np.asarray(directions, dtype=float)
    do_polish = searched if polish == "auto" else bool(polish)
    if isinstance(bound_budget, str):
        if bound_budget != "auto":
            raise ValueError(f"bound_budget must be 'auto', a number of seconds or None; "
                             f"got {bound_budget!r}.")
        bound_seconds = 60.0 if d == 3 else 0.0
    else:
        bound_seconds = 0.0 if bound_budget is None else float(bound_budget)
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
                            random_state=rng, events=events, n_jobs=n_jobs)
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
        kind = "exact" if cert.exact else "searched"
        eta_bound = np.nan
        bound_new = None
        if searched and alpha > 0 and gap_P <= tol_abs and bound_seconds > 0 and \
                q_cert.ndim == 1:
            left = bound_seconds if time_limit is None else \
                min(bound_seconds, time_limit - (time.perf_counter() - t0))
            if left > 0:
                tic = time.perf_counter()
                thr = certifiable_eta(problem.b, rho, result.objective, tol_abs)
                bres = bound_certificate(X, q_cert, alpha, threshold=max(thr, 1.0 + tol),
                                         stop_above=True, max_time=left)
                timing["bound"] += time.perf_counter() - tic
                eta_bound = bres.upper
                if bres.certified:
                    # A proven bound: the gap of (P) computed from it is a true bound.
                    kind = "bound"
                    eta_sup = max(bres.upper, finite_eta)
                    gap_P = duality_gap_for_P(problem.b, rho, result.objective, eta_sup)
                elif bres.lower > bres.threshold:
                    # The search missed these: the round goes on with them.
                    bound_new = bres.directions
                    eta_sup = max(eta_sup, bres.lower)
                    gap_P = duality_gap_for_P(problem.b, rho, result.objective, eta_sup)
        converged = gap_P <= tol_abs
        out_of_time = time_limit is not None and time.perf_counter() - t0 > time_limit
        # The progress rule (d >= 3): the objective fell by less than stall[1] of itself
        # over the last stall[0] rounds.
        stalled = bool(searched and stall is not None and rnd >= stall[0] and
                       history[rnd - stall[0]].objective - result.objective
                       < stall[1] * result.objective)
        stop_reason = ("gap" if converged else "progress" if stalled else
                       "single_direction" if d == 1 else "max_rounds" if rnd == max_rounds
                       else "max_time" if out_of_time else "")
        done = bool(stop_reason)
        n_before = W.shape[0]
        n_added = n_pruned = 0
        pol_obj = np.nan
        if not done:
            new = cert.directions[cert.etas > 1.0] if len(cert.etas) else cert.directions[:0]
            if cert.eta > 1.0 and not len(new):
                new = cert.direction[None, :]
            if bound_new is not None:
                new = np.vstack([bound_new, new])
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
                                       time.perf_counter() - t0, pol_obj, n_pruned,
                                       certificate_kind=kind, eta_bound=eta_bound))
        bar.update(1)
        if verbose:
            msg = (f"[refine] round {rnd}: {n_before} directions, {len(result.idx)} atoms, "
                   f"objective {result.objective:.10g}, certificate eta {eta_sup:.8f}"
                   f" ({kind}), gap(P) {gap_P:.3e}")
            if np.isfinite(eta_bound):
                msg += f", bound {eta_bound:.8f}"
            if np.isfinite(pol_obj):
                msg += f", polished {pol_obj:.10g}"
            msg += f", added {n_added}, pruned {n_pruned} directions " \
                   f"({time.perf_counter() - t0:.2f} s)"
            print(msg)
        if not done and n_added == 0 and not (searched and searched_last < max_search_scale):
            stop_reason = "no_new_directions"
        if stop_reason:
            history[-1].stop_reason = stop_reason
            break
    bar.close()
    if verbose:
        print("[refine] time: " + ", ".join(f"{k} {v:.2f} s" for k, v in timing.items())
              + f", total {time.perf_counter() - t0:.2f} s; stopped: {stop_reason}")
    # Warn only where the objective was still falling (the contract in the Notes): a budget
    # stop at which neither the gap nor the progress rule held, or an exact certificate
    # whose violators the loop could not add.
    still_falling = stop_reason in ("max_rounds", "max_time") or \
        (stop_reason == "no_new_directions" and not searched)
    if warn and still_falling and d > 1:
        why = {"max_rounds": "increase max_rounds",
               "max_time": "the time limit was reached",
               "no_new_directions": "the violating directions are already in the dictionary "
                                    "(decrease the solver's tolerance)"}[stop_reason]
        warnings.warn(
            f"Refinement stopped after {len(history) - 1} rounds while the objective was still "
            f"falling, with certificate {history[-1].eta:.6g} ({kind}) and duality gap of "
            f"(P) {history[-1].gap_P:.3e} above the tolerance "
            f"{tol * problem.affine_objective:.3e}; {why}.", ConvergenceWarning)
    return problem, result, cert, gap_P, history, converged
