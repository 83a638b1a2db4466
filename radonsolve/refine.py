"""Continuous refinement of the directions: the exchange method of DESIGN §6.

A dictionary on sampled directions only upper-bounds (P). Each round solves the lasso on the
current directions (warm-started), evaluates the dual certificate eta over *all* directions
(exactly in 2-D, by search otherwise; DESIGN §5), and adds the directions that violate it,
including the slid (locally re-ascended) directions of the active neurons. Directions are only
ever appended, so every round's dictionary contains the previous one and the objective cannot
increase (up to the solver tolerance). The loop stops when the duality gap of (P) itself,
computed from the certificate, is below the tolerance.
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .certificate import Certificate, duality_gap_for_P, eta, exact_certificate_2d, \
    search_certificate
from .dictionary import AffineProjector, ReLUDictionary
from .directions import canonical_directions
from .lasso import ProjectedLasso

__all__ = ["certify", "exchange", "RefinementRound"]


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


def certify(X, q, alpha, *, active_directions=None, budget=2000, top_k=10,
            random_state=None):
    """The certificate for a weighted projected residual ``q``: exact for d <= 2, else searched."""
    d = X.shape[1]
    if alpha <= 0:
        return Certificate(eta=np.inf, direction=np.ones(d) / np.sqrt(d), bias=0.0,
                           exact=False, directions=np.zeros((0, d)), etas=np.zeros(0),
                           n_evaluated=0)
    if d == 1:
        e, b, _ = eta(X, q, alpha, np.ones((1, 1)))
        return Certificate(eta=float(e[0]), direction=np.ones(1), bias=float(b[0]), exact=True,
                           directions=np.ones((1, 1)), etas=np.asarray(e, dtype=float),
                           n_evaluated=1)
    if d == 2:
        return exact_certificate_2d(X, q, alpha, top_k=top_k)
    extra = None
    if active_directions is not None and len(active_directions):
        extra = np.asarray(active_directions, dtype=float)
    return search_certificate(X, q, alpha, n_candidates=budget, top_k=top_k,
                              random_state=random_state, extra_directions=extra,
                              ascend_extra=extra is not None)


def exchange(X, Y, u, alpha, directions, solver, *, max_rounds=30, tol=1e-6, budget=2000,
             top_k=10, warm_start=None, random_state=None, verbose=0, warn=True):
    """Solve (P) by exchange rounds on a growing set of directions.

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
    projector = AffineProjector(X, u)
    W = np.asarray(directions, dtype=float)
    warm = warm_start
    history = []
    rng = np.random.RandomState(None if random_state is None else
                                np.random.RandomState(random_state).randint(2 ** 31))
    converged = False
    for rnd in range(max_rounds + 1):
        dic = ReLUDictionary(X, W)
        problem = ProjectedLasso(dic, Y, u, alpha, projector=projector)
        result = solver.solve(problem, warm_start=warm)
        rho = problem.residual(result.idx, result.coef)
        q = projector.sqrt_u[:, None] * rho
        q_cert = q[:, 0] if q.shape[1] == 1 else q
        active = dic.directions[np.unique(dic.atom_direction[result.idx])] \
            if len(result.idx) else None
        with warnings.catch_warnings():
            # rho is orthogonal to the affine functions only up to the solver's rounding.
            warnings.simplefilter("ignore", UserWarning)
            cert = certify(X, q_cert, alpha, active_directions=active, budget=budget,
                           top_k=top_k, random_state=rng)
        # The restricted problem's own constraint violation is part of the supremum too.
        finite_eta = problem.penalty.dual_norm(problem.correlations(rho)) / alpha \
            if alpha > 0 else np.inf
        eta_sup = max(cert.eta, finite_eta)
        gap_P = duality_gap_for_P(problem.b, rho, result.objective, eta_sup) \
            if np.isfinite(eta_sup) else np.inf
        scale = problem.affine_objective
        new = cert.directions[cert.etas > 1.0] if len(cert.etas) else cert.directions[:0]
        if cert.eta > 1.0 and not len(new):
            new = cert.direction[None, :]
        n_before = W.shape[0]
        done = gap_P <= tol * scale or rnd == max_rounds or X.shape[1] == 1
        if not done:
            W = canonical_directions(np.vstack([W, new]))
        n_added = W.shape[0] - n_before
        history.append(RefinementRound(rnd, n_before, n_added, len(result.idx),
                                       result.objective, eta_sup, gap_P,
                                       time.perf_counter() - t0))
        if verbose:
            print(f"[refine] round {rnd}: {n_before} directions, {len(result.idx)} atoms, "
                  f"objective {result.objective:.10g}, certificate eta {eta_sup:.8f}, "
                  f"gap(P) {gap_P:.3e}, added {n_added} directions")
        if gap_P <= tol * scale:
            converged = True
            break
        if done or n_added == 0:
            break
        # Directions were appended, so old atom indices are unchanged in the new dictionary.
        warm = (result.idx, result.coef)
    if warn and not converged and X.shape[1] > 1:
        warnings.warn(
            f"Refinement stopped after {len(history) - 1} rounds with certificate "
            f"{history[-1].eta:.6g} and duality gap of (P) {history[-1].gap_P:.3e} above the "
            f"tolerance {tol * problem.affine_objective:.3e}; increase max_rounds.",
            ConvergenceWarning)
    return problem, result, cert, gap_P, history, converged
