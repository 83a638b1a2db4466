"""Reference solvers: the explicit problem on a dense dictionary, solved by cvxpy.

This is the independent check on the fast solvers: it does not eliminate the skip
connection, it keeps it as variables next to the atoms' output weights, and it lets the
conic solver (Clarabel by default) do the rest. One program serves every loss
(:func:`solve_dense`): the loss is the data fit's own cvxpy expression
(``Datafit.cvxpy_loss``), the penalty the group norm over each atom's outputs. The solver
classes are adapters of it: :class:`CvxpySolver` for the squared loss's projected problem
(:class:`radonsolve.lasso.ProjectedLasso`), :class:`CvxpyDatafitSolver` for any data fit
(:class:`radonsolve.solvers.newton.DatafitProblem`), and ``CvxpyLogistic`` of
:mod:`radonsolve.solvers.logistic` for the classifier. Memory is that of the dense
dictionary, so they refuse problems whose matrix would be large.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..datafits import Quadratic
from .result import SolverResult

__all__ = ["CvxpySolver", "CvxpyDatafitSolver", "solve_dense"]

MAX_DENSE_ENTRIES = 20_000_000


def solve_dense(Phi, A, loss, alpha, n_outputs, *, ridge=None, solver=None, verbose=0,
                **solver_options):
    """``min_{V, B} loss(Phi V + A B) + alpha sum_j ||V_j|| + 0.5 sum_i ridge_i ||B_i||^2``.

    Parameters
    ----------
    Phi : ndarray of shape (n_samples, n_atoms)
        Dense dictionary.
    A : ndarray of shape (n_samples, r)
        Affine columns (the skip connection's).
    loss : callable
        Maps the cvxpy outputs (a vector for one output, else n_samples x n_outputs) to a
        scalar cvxpy expression: a data fit's ``cvxpy_loss``.
    alpha : float
        Weight of the penalty (``|V_j|`` for one output, the group norm for several).
    n_outputs : int
    ridge : ndarray of shape (r,) or None, default=None
        Ridge weight of each affine coefficient row (None: a free skip connection).
    solver : str or None, default=None
        cvxpy solver name; None: Clarabel when installed, with its tolerances at 1e-10
        (its defaults, ~1e-8 relative to its internal scaling, leave 1e-4 relative error on
        these strongly correlated dictionaries).
    verbose : int, default=0
        Above 1, the solver prints its log.
    **solver_options
        Passed to the solver.

    Returns
    -------
    V : ndarray of shape (n_atoms, n_outputs)
    B : ndarray of shape (r, n_outputs)
    n_iter : int
        The solver's iteration count (0 if it reports none).

    Raises
    ------
    RuntimeError
        If cvxpy fails or returns no optimal solution.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.datafits import Quadratic
    >>> from radonsolve.solvers.reference import solve_dense
    >>> x = np.linspace(0, 1, 5)
    >>> fit = Quadratic(np.maximum(x - 0.5, 0), np.full(5, 0.2))
    >>> V, B, _ = solve_dense(np.maximum(x[:, None] - 0.5, 0), np.column_stack([np.ones(5), x]),
    ...                       fit.cvxpy_loss, 1e-9, 1)
    >>> np.round(V.ravel(), 6)       # the hinge at 0.5 is the data
    array([1.])
    """
    import cvxpy as cp

    T = int(n_outputs)
    V = cp.Variable((Phi.shape[1], T))
    B = cp.Variable((A.shape[1], T))
    F = Phi @ V + A @ B
    pen = cp.norm1(V) if T == 1 else cp.sum(cp.norm(V, 2, axis=1))
    obj = loss(F[:, 0] if T == 1 else F) + alpha * pen
    if ridge is not None and np.any(ridge > 0):
        obj = obj + 0.5 * cp.sum(cp.multiply(np.asarray(ridge, dtype=float)[:, None],
                                             cp.square(B)))
    prob = cp.Problem(cp.Minimize(obj))
    kwargs = dict(solver_options)
    if solver is None and "CLARABEL" in cp.installed_solvers():
        solver = cp.CLARABEL
    if solver == cp.CLARABEL:
        for key in ("tol_gap_abs", "tol_gap_rel", "tol_feas", "tol_ktratio"):
            kwargs.setdefault(key, 1e-10)
        kwargs.setdefault("max_iter", 500)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # reported through the status
            prob.solve(solver=solver, verbose=verbose > 1, **kwargs)
    except cp.error.SolverError as exc:
        raise RuntimeError(f"cvxpy failed on the reference problem: {exc}") from exc
    if prob.status not in ("optimal", "optimal_inaccurate") or V.value is None:
        raise RuntimeError(f"cvxpy returned status {prob.status!r} on the reference problem.")
    if prob.status == "optimal_inaccurate":
        warnings.warn("cvxpy reports an inaccurate solution.", ConvergenceWarning)
    n_iter = int(prob.solver_stats.num_iters or 0) if prob.solver_stats is not None else 0
    return np.asarray(V.value), np.asarray(B.value), n_iter


def _keep_rows(V):
    """Rows of V above ``1e-9`` times the largest row norm: interior-point solutions are
    dense up to solver precision."""
    norms = np.linalg.norm(V, axis=1)
    return norms > 1e-9 * max(norms.max(initial=0.0), 1e-300)


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
        t0 = time.perf_counter()
        dic = problem.dictionary
        N, T = problem.Y.shape
        if N * dic.n_atoms > self.max_dense_entries:
            raise ValueError(
                f"The cvxpy reference solver needs the dense dictionary ({N} x {dic.n_atoms} "
                f"entries), above its limit of {self.max_dense_entries}; use solver='cd'.")
        Phi = dic.toarray()
        X = dic.X
        # Solved in units where the atoms and y are of order one (y / sy, atoms / sx, alpha /
        # (sx sy), DESIGN §1), the affine part on centred X (same span): Clarabel's
        # tol_gap_abs is absolute, and its scaling does not undo columns of 1e-9 or 1e9.
        sy = float(np.sqrt(2.0 * problem.affine_objective)) or 1.0
        sx = float(np.abs(Phi).max(initial=0.0)) or 1.0
        Xc = X - X.mean(axis=0)
        Xc = Xc / (float(np.abs(Xc).max(initial=0.0)) or 1.0)
        u = np.asarray(problem.u, dtype=float)
        fits = [Quadratic(problem.Y[:, t] / sy, u) for t in range(T)]

        def loss(F):
            if T == 1:
                return fits[0].cvxpy_loss(F)
            return sum(fit.cvxpy_loss(F[:, t]) for t, fit in enumerate(fits))

        Vv, _, n_iter = solve_dense(Phi / sx, np.column_stack([np.ones(N), Xc]), loss,
                                    problem.alpha / (sx * sy), T, solver=self.solver,
                                    verbose=self.verbose, **self.solver_options)
        Vv = (sy / sx) * Vv
        keep = _keep_rows(Vv)
        idx = np.flatnonzero(keep)
        coef = Vv[keep]
        rho = problem.residual(idx, coef)
        primal, dual, gap, _ = problem.gap(rho, coef)
        return SolverResult(idx=idx, coef=coef, objective=primal, dual_gap=gap,
                            n_iter=n_iter, converged=True, time=time.perf_counter() - t0)


class CvxpyDatafitSolver:
    """Reference for any data fit: (S) of :mod:`radonsolve.solvers.newton` by cvxpy.

    The loss comes from the data fit (``datafit.cvxpy_loss``), the skip connection is kept
    as variables on the problem's affine columns (with the problem's ridge on them, if
    any), the penalty is the group norm over each atom's T outputs (``|v|`` for one), and
    the dictionary is dense. Clarabel handles the exponential cone (Poisson, logistic,
    softmax) but is less accurate there than on quadratic problems; the returned gap is
    computed honestly at the solution, as for :class:`CvxpySolver`.

    Parameters
    ----------
    max_dense_entries : int
        Refuse problems whose dense dictionary times the number of outputs exceeds this.
    verbose : int
        Above 1, Clarabel prints its log.
    **solver_options
        Passed to Clarabel (its tolerances default to 1e-10 here).

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.datafits import Poisson
    >>> from radonsolve.dictionary import ReLUDictionary
    >>> from radonsolve.solvers import CvxpyDatafitSolver, WorkingSetProxNewton
    >>> from radonsolve.solvers.newton import DatafitProblem
    >>> x = np.linspace(-1, 1, 15)[:, None]
    >>> problem = DatafitProblem(ReLUDictionary(x, np.ones((1, 1))),
    ...                          Poisson(1 + x[:, 0] ** 2, np.full(15, 1 / 15)), 1e-2)
    >>> ref = CvxpyDatafitSolver().solve(problem)
    >>> ours = WorkingSetProxNewton(tol=1e-10).solve(problem)
    >>> bool(np.isclose(ours.objective, ref.objective, rtol=1e-6))
    True
    """

    def __init__(self, max_dense_entries=MAX_DENSE_ENTRIES, verbose=0, **solver_options):
        self.max_dense_entries = max_dense_entries
        self.verbose = verbose
        self.solver_options = solver_options

    def solve(self, problem, warm_start=None, affine=None):
        """Solve a :class:`radonsolve.solvers.newton.DatafitProblem` by cvxpy.

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
            From ``problem.make_result`` (the problem's shapes). Coefficient rows below
            ``1e-9`` times the largest are zeroed; the objective and the duality gap are
            recomputed at the returned point.

        Raises
        ------
        ValueError
            If the dense problem would exceed ``max_dense_entries``.
        RuntimeError
            If cvxpy fails or returns no optimal solution.
        """
        t0 = time.perf_counter()
        dic = problem.dictionary
        A = problem.A
        N, T = A.shape[0], problem.T
        if N * dic.n_atoms * T > self.max_dense_entries:
            raise ValueError(
                f"The cvxpy reference solver needs the dense dictionary ({N} x {dic.n_atoms} "
                f"x {T} entries), above its limit of {self.max_dense_entries}.")
        Phi = dic.toarray()
        Vv, Bv, n_iter = solve_dense(Phi, A, problem.datafit.cvxpy_loss, problem.alpha, T,
                                     ridge=problem.ridge, verbose=self.verbose,
                                     **self.solver_options)
        idx = np.flatnonzero(_keep_rows(Vv))
        Fv = Phi[:, idx] @ Vv[idx] + A @ Bv
        primal, dual, theta, _ = problem.gap_parts(Fv, Vv[idx], dic.rmatvec, Bv)
        return problem.make_result(idx, Vv[idx], Bv, Fv, theta, objective=primal, dual=dual,
                                   converged=True, n_iter=n_iter,
                                   time=time.perf_counter() - t0)
