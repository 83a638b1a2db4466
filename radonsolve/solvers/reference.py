"""Reference solver: the explicit problem (P) on a dense dictionary, solved by cvxpy.

This is the independent check on the fast solvers: it does not eliminate the skip
connection, it keeps it as unpenalized variables next to the atoms' output weights, and it
lets the conic solver (Clarabel by default) do the rest. Memory is that of the dense
dictionary, so it refuses problems whose matrix would be large.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .result import SolverResult

__all__ = ["CvxpySolver"]

MAX_DENSE_ENTRIES = 20_000_000


class CvxpySolver:
    """Solve (P) on the dictionary with cvxpy.

    Parameters
    ----------
    solver : str or None
        cvxpy solver name (default: cvxpy's choice, Clarabel for this problem).
    max_dense_entries : int
        Refuse dictionaries with more than this many matrix entries.
    verbose : int
    """

    def __init__(self, solver=None, max_dense_entries=MAX_DENSE_ENTRIES, verbose=0, tol=None,
                 **solver_options):
        self.solver = solver
        self.max_dense_entries = max_dense_entries
        self.verbose = verbose
        self.tol = tol
        self.solver_options = solver_options

    def solve(self, problem, warm_start=None):
        import cvxpy as cp

        t0 = time.perf_counter()
        dic = problem.dictionary
        N, T = problem.Y.shape
        if N * dic.n_atoms > self.max_dense_entries:
            raise ValueError(
                f"The cvxpy reference solver needs the dense dictionary ({N} x {dic.n_atoms} "
                f"entries), above its limit of {self.max_dense_entries}; use solver='cd'.")
        Phi = dic.toarray()
        sw = problem.sqrt_u
        X = dic.X
        d = X.shape[1]
        V = cp.Variable((dic.n_atoms, T))
        c = cp.Variable((d, T))
        c0 = cp.Variable((1, T))
        pred = Phi @ V + X @ c + np.ones((N, 1)) @ c0
        fit = 0.5 * cp.sum_squares(cp.multiply(sw[:, None], problem.Y - pred))
        pen = cp.sum(cp.norm(V, 2, axis=1)) if T > 1 else cp.norm1(V)
        prob = cp.Problem(cp.Minimize(fit + problem.alpha * pen))
        kwargs = dict(self.solver_options)
        solver_name = self.solver
        if solver_name is None and "CLARABEL" in cp.installed_solvers():
            solver_name = cp.CLARABEL
        if solver_name == cp.CLARABEL:
            # Clarabel's default tolerances are ~1e-8 relative to its internal scaling, which
            # leaves 1e-4 relative error on these strongly correlated dictionaries; the
            # reference must be accurate enough to check 1e-6 relative agreement.
            for key in ("tol_gap_abs", "tol_gap_rel", "tol_feas", "tol_ktratio"):
                kwargs.setdefault(key, 1e-10)
            kwargs.setdefault("max_iter", 500)
        try:
            prob.solve(solver=solver_name, verbose=self.verbose > 1, **kwargs)
        except cp.error.SolverError as exc:  # pragma: no cover - solver failure path
            raise RuntimeError(f"cvxpy failed on the reference problem: {exc}") from exc
        if prob.status not in ("optimal", "optimal_inaccurate") or V.value is None:
            raise RuntimeError(f"cvxpy returned status {prob.status!r} on the reference problem.")
        if prob.status == "optimal_inaccurate":
            warnings.warn("cvxpy reports an inaccurate solution.", ConvergenceWarning)
        Vv = np.asarray(V.value)
        # Interior-point solutions are dense up to solver precision: zero the coefficients
        # that are negligible relative to the largest, then measure the gap honestly.
        norms = np.linalg.norm(Vv, axis=1)
        keep = norms > 1e-9 * max(norms.max(initial=0.0), 1e-300)
        idx = np.flatnonzero(keep)
        coef = Vv[keep]
        rho = problem.residual(idx, coef)
        primal, dual, gap, _ = problem.gap(rho, coef)
        return SolverResult(idx=idx, coef=coef, objective=primal, dual_gap=gap,
                            n_iter=int(prob.solver_stats.num_iters or 0)
                            if prob.solver_stats is not None else 0,
                            converged=True, time=time.perf_counter() - t0)
