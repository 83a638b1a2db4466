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

__all__ = ["CvxpySolver", "CvxpyDatafitSolver"]

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
        Above 1, cvxpy's solver prints its log.
    tol : float or None, default=None
        Stored for the solver protocol; the accuracy is set by the solver's own tolerances
        (Clarabel's default to 1e-10 here).
    **solver_options
        Passed to the cvxpy solver.
    """

    def __init__(self, solver=None, max_dense_entries=MAX_DENSE_ENTRIES, verbose=0, tol=None,
                 **solver_options):
        self.solver = solver
        self.max_dense_entries = max_dense_entries
        self.verbose = verbose
        self.tol = tol
        self.solver_options = solver_options

    def solve(self, problem, warm_start=None):
        """Solve ``problem`` (a :class:`radonsolve.lasso.ProjectedLasso`) by cvxpy.

        Parameters
        ----------
        problem : ProjectedLasso
            Problem (P) on a dictionary of at most ``max_dense_entries`` dense entries.
        warm_start : tuple (idx, V) or None, default=None
            Accepted for the solver protocol and ignored (interior-point method).

        Returns
        -------
        SolverResult
            Coefficients below ``1e-9`` times the largest row norm are zeroed; the objective
            and the duality gap are recomputed at the returned coefficients.

        Raises
        ------
        ValueError
            If the dense dictionary would exceed ``max_dense_entries``.
        RuntimeError
            If cvxpy fails or returns no optimal solution.
        """
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
        # Solved in units where the atoms and y are of order one (y / sy, atoms / sx, alpha /
        # (sx sy), DESIGN §1), the affine part on centred X (same span): Clarabel's
        # tol_gap_abs is absolute, and its scaling does not undo columns of 1e-9 or 1e9.
        sy = float(np.sqrt(2.0 * problem.affine_objective)) or 1.0
        sx = float(np.abs(Phi).max(initial=0.0)) or 1.0
        Phi = Phi / sx
        Xc = X - X.mean(axis=0)
        Xc = Xc / (float(np.abs(Xc).max(initial=0.0)) or 1.0)
        pred = Phi @ V + Xc @ c + np.ones((N, 1)) @ c0
        fit = 0.5 * cp.sum_squares(cp.multiply(sw[:, None], problem.Y / sy - pred))
        pen = cp.sum(cp.norm(V, 2, axis=1)) if T > 1 else cp.norm1(V)
        prob = cp.Problem(cp.Minimize(fit + (problem.alpha / (sx * sy)) * pen))
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
        Vv = (sy / sx) * np.asarray(V.value)
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


class CvxpyDatafitSolver:
    """Reference for a smooth data fit: (S) of :mod:`radonsolve.solvers.newton` by cvxpy.

    The loss comes from the data fit (``datafit.cvxpy_loss``), the skip connection is kept
    as unpenalized variables, the dictionary is dense. Clarabel handles the exponential
    cone (Poisson, logistic) but is less accurate there than on quadratic problems; the
    returned gap is computed honestly at the solution, as for :class:`CvxpySolver`.

    Parameters
    ----------
    max_dense_entries : int
        Refuse dictionaries with more than this many matrix entries.
    verbose : int
    **solver_options
        Passed to Clarabel (its tolerances default to 1e-10 here).
    """

    def __init__(self, max_dense_entries=MAX_DENSE_ENTRIES, verbose=0, **solver_options):
        self.max_dense_entries = max_dense_entries
        self.verbose = verbose
        self.solver_options = solver_options

    def solve(self, problem, warm_start=None, affine=None):
        """Solve a :class:`radonsolve.solvers.newton.DatafitProblem`; returns DatafitResult.

        ``warm_start`` and ``affine`` (starting points) are accepted for the solver protocol
        and ignored: the interior-point method does not use them.

        Parameters
        ----------
        problem : DatafitProblem
            Problem (S) on a dictionary of at most ``max_dense_entries`` dense entries.
        warm_start : tuple (idx, V) or None, default=None
            Ignored.
        affine : ndarray or None, default=None
            Ignored.

        Returns
        -------
        DatafitResult
            Coefficients below ``1e-9`` times the largest are zeroed; the objective and the
            duality gap are recomputed at the returned point.

        Raises
        ------
        ValueError
            If the dense dictionary would exceed ``max_dense_entries``.
        RuntimeError
            If cvxpy fails or returns no optimal solution.
        """
        import cvxpy as cp

        from .newton import DatafitResult

        t0 = time.perf_counter()
        dic = problem.dictionary
        N = dic.n_samples
        if N * dic.n_atoms > self.max_dense_entries:
            raise ValueError(
                f"The cvxpy reference solver needs the dense dictionary ({N} x {dic.n_atoms} "
                f"entries), above its limit of {self.max_dense_entries}.")
        Phi = dic.toarray()
        A = problem.A
        V = cp.Variable(dic.n_atoms)
        B = cp.Variable(A.shape[1])
        F = Phi @ V + A @ B
        prob = cp.Problem(cp.Minimize(problem.datafit.cvxpy_loss(F)
                                      + problem.alpha * cp.norm1(V)))
        kwargs = dict(self.solver_options)
        for key in ("tol_gap_abs", "tol_gap_rel", "tol_feas", "tol_ktratio"):
            kwargs.setdefault(key, 1e-10)
        kwargs.setdefault("max_iter", 500)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)   # reported through the status
                prob.solve(solver=cp.CLARABEL, verbose=self.verbose > 1, **kwargs)
        except cp.error.SolverError as exc:
            raise RuntimeError(f"cvxpy failed on the reference problem: {exc}") from exc
        if prob.status not in ("optimal", "optimal_inaccurate") or V.value is None:
            raise RuntimeError(f"cvxpy returned status {prob.status!r} on the reference problem.")
        if prob.status == "optimal_inaccurate":
            warnings.warn("cvxpy reports an inaccurate solution.", ConvergenceWarning)
        Vv = np.asarray(V.value)
        keep = np.abs(Vv) > 1e-9 * max(np.abs(Vv).max(initial=0.0), 1e-300)
        idx = np.flatnonzero(keep)
        Bv = np.asarray(B.value)
        Fv = Phi[:, idx] @ Vv[idx] + A @ Bv
        primal, dual, theta, _ = problem.gap_parts(Fv, Vv[idx], dic.rmatvec)
        c, c0 = problem.skip_connection(Bv)
        return DatafitResult(idx=idx, coef=Vv[idx][:, None], objective=primal,
                             dual_gap=primal - dual,
                             n_iter=int(prob.solver_stats.num_iters or 0)
                             if prob.solver_stats is not None else 0,
                             converged=True, time=time.perf_counter() - t0, skip_coef=c,
                             skip_intercept=c0, affine=Bv, outputs=Fv, theta=theta, dual=dual)
