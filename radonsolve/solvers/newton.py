"""Working-set proximal Newton for (P) with any separable smooth data fit (DESIGN §10, §12).

Problem. With a data fit ``L(f) = sum_n u_n l(y_n, f_n)`` (:mod:`radonsolve.datafits`:
Huber, Poisson, logistic, squared), the ReLU dictionary Phi and an orthonormal basis A of
the affine functions span{1, X} (the unpenalized skip connection),

    minimize_{V, B}  L(Phi V + A B) + alpha * sum_j |V_j|                              (S)

Solver. The driver asks the data fit for its value, gradient, diagonal Hessian and dual
point, and holds no loss-specific code:

- the restricted problem on the working set's dense columns ``Z = [A, Phi_ws]`` is solved by
  proximal Newton: the quadratic model of L (exact Hessian ``Z^T diag(h) Z``), with the affine
  block eliminated exactly (Schur complement), is a lasso on a small Gram matrix, solved
  exactly by the active-set method of the squared-loss solver; an Armijo backtracking line
  search on (S) makes the step. A zero curvature (Huber samples outside the band) gets a
  tiny floor, ``1e-8`` of the largest, so every model is strictly convex: any positive
  metric gives a descent direction, and the line search takes care of the step length.
  Where the active-set method still stops short on a nearly singular model (measured:
  Huber with epsilon far below the residuals, a nearly piecewise-linear loss), a proximal
  term ``mu max(diag S) I`` is added, growing until the model solve converges;
- one structured pass ``Phi^T theta`` over all atoms prices them (theta the dual point,
  minus the gradient in the outputs); the most violating local maxima along each
  direction's biases enter (as many as there are nonzero atoms, at least ``ws_start``), zero
  atoms leave, and the loop stops on the duality gap relative to the data fit's scale (the
  loss of the best affine fit).

Duality gap (computed, never assumed). For theta orthogonal to the columns of A, in the
domain of the conjugate and with ``|Phi_j^T theta| <= alpha`` for every atom,
``D(theta) = datafit.dual_value(theta)`` is a lower bound on (S). The dual point is built
from the current outputs f:

1. ``theta = -datafit.gradient(f)``;
2. affine feasibility by a projection in the Hessian metric,
   ``theta' = theta - h (A lambda)`` with ``(A^T diag(h) A) lambda = A^T theta``: this is the
   change of the gradient under the Newton step on the affine part, so it is small near the
   optimum over the affine part and keeps samples of zero curvature (Huber outliers, at the
   edge of the conjugate's domain) where they are. Then ``A^T theta' = 0`` up to rounding
   (checked; if the system is singular the projection in the metric ``diag(u)`` is used);
3. shrinking ``s = min(1, datafit.feasible_scale(theta'), alpha / max_j |Phi_j^T theta'|)``:
   every domain is convex and contains 0, so ``s theta'`` is dual feasible.

The gap is ``P - max(D(s theta'), 0)`` (``theta = 0`` is feasible with value 0, the loss's
infimum). The same theta', unscaled, is what the certificate over all directions takes in
place of the residual (:func:`exchange_datafit`).
"""

import copy
import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from ..datafits import fit_affine
from ..dictionary import ReLUDictionary
from ..directions import canonical_directions
from ._cd import lasso_active_set, local_max_candidates
from .result import SolverResult, merge_warm_start

__all__ = ["DatafitProblem", "DatafitResult", "WorkingSetProxNewton", "alpha_max_datafit",
           "exchange_datafit"]

# Exact active-set lasso (see ``_cd.lasso_active_set``): violators entering at once,
# candidates tracked between refreshes, and the collinearity threshold of an entering atom.
MAX_ADD = 16
N_TRACK = 64
SINGULAR = 1e-10
# Curvature floor relative to the largest curvature (zero-curvature samples).
CURVATURE_FLOOR = 1e-8


@dataclass
class DatafitResult(SolverResult):
    """:class:`SolverResult` plus the skip connection and the dual point.

    Attributes
    ----------
    skip_coef : ndarray of shape (n_features,)
        Linear part of the skip connection (the attributes of :class:`SolverResult` are
        kept).
    skip_intercept : float
    affine : ndarray of shape (r,)
        Coefficients of the skip connection in the problem's orthonormal affine basis.
    outputs : ndarray of shape (n_samples,)
        Fitted outputs f on the data.
    theta : ndarray of shape (n_samples,)
        Affine-feasible dual point (before shrinking into the dual constraints).
    dual : float
        Dual objective at the shrunk dual point (a lower bound on the problem's optimum).
    """

    skip_coef: np.ndarray = None
    skip_intercept: float = 0.0
    affine: np.ndarray = None
    outputs: np.ndarray = None
    theta: np.ndarray = None
    dual: float = 0.0


class DatafitProblem:
    """Problem (S) on a dictionary (module docstring).

    Parameters
    ----------
    dictionary : ReLUDictionary
        Built on the rows of the data fit (samples of positive weight).
    datafit : Datafit
        One output (a :class:`radonsolve.datafits.Datafit`).
    alpha : float
        Positive regularization strength.
    basis : tuple (A, to_affine) or None, default=None
        ``affine_basis(dictionary.X)``, computed when None (pass it to share it).

    Attributes
    ----------
    A : ndarray of shape (n_samples, r)
        Orthonormal basis of span{1, X} (rank-deficient X handled).
    scale : float
        The data fit's loss at the best affine fit (at least ``1e-12`` times the size of its
        terms, their rounding): the unit of relative tolerances.
    """

    def __init__(self, dictionary, datafit, alpha, *, basis=None):
        self.dictionary = dictionary
        self.datafit = datafit
        self.alpha = float(alpha)
        if not self.alpha > 0:
            raise ValueError(f"alpha must be positive; got {alpha!r}.")
        X = dictionary.X
        self.X = X
        if datafit.y.shape[0] != X.shape[0]:
            raise ValueError(f"datafit has {datafit.y.shape[0]} samples, the dictionary "
                             f"{X.shape[0]}.")
        if basis is None:
            basis = affine_basis(X)
        self.A, self._to_affine = basis
        self.r = self.A.shape[1]
        self._affine_B, self._affine_F = None, None
        f_aff = self.affine_fit()[1]
        # Floored at the rounding of the loss's terms (an exactly affine y has loss 0).
        self.scale = max(self.datafit.value(f_aff), 1e-12 * self.datafit.magnitude(f_aff))

    def affine_fit(self):
        """Best affine fit: coefficients in the basis A (r,) and outputs (N,); cached.

        Returns
        -------
        B : ndarray of shape (r,)
        F : ndarray of shape (n_samples,)
        """
        if self._affine_B is None:
            self._affine_B, self._affine_F = fit_affine(self.datafit, self.A)
        return self._affine_B, self._affine_F

    def penalty(self, V):
        """``alpha * sum_j |V_j|``.

        Parameters
        ----------
        V : ndarray of shape (n_active,)
            Coefficients of the atoms.

        Returns
        -------
        float
        """
        return self.alpha * float(np.abs(V).sum())

    def objective(self, F, V):
        """Objective of (S): data fit at the outputs plus the penalty of the coefficients.

        Parameters
        ----------
        F : ndarray of shape (n_samples,)
            Outputs on the data.
        V : ndarray of shape (n_active,)
            Coefficients of the atoms.

        Returns
        -------
        float
        """
        return self.datafit.value(F) + self.penalty(V)

    def dual_theta(self, F):
        """Affine-feasible dual point theta' (module docstring, steps 1-2).

        Parameters
        ----------
        F : ndarray of shape (n_samples,)
            Outputs on the data.

        Returns
        -------
        ndarray of shape (n_samples,)
            Orthogonal to the affine functions up to rounding.
        """
        A = self.A
        theta = self.datafit.dual_point(F)
        g = A.T @ theta
        h = self.datafit.hessian(F)
        M = A.T @ (h[:, None] * A)
        out = None
        if np.all(np.isfinite(M)):
            lam = np.linalg.lstsq(M, g, rcond=1e-12)[0]
            out = theta - h * (A @ lam)
            if not _orthogonal(A, out):
                out = None
        if out is None:
            u = self.datafit.u
            lam = np.linalg.solve(A.T @ (u[:, None] * A), g)
            out = theta - u * (A @ lam)
        return out

    def gap_parts(self, F, V, corr_fn):
        """(primal, dual, theta', corr) at outputs F and coefficients V.

        ``corr_fn(theta)``: correlations of theta with the atoms considered (the working
        set, or the whole dictionary).

        Parameters
        ----------
        F : ndarray of shape (n_samples,)
            Outputs on the data.
        V : ndarray of shape (n_active,)
            Coefficients of the atoms.
        corr_fn : callable
            Maps theta to its correlations with the atoms considered.

        Returns
        -------
        primal : float
        dual : float
            Dual value at theta' shrunk into the dual constraints (at least 0).
        theta : ndarray of shape (n_samples,)
        corr : ndarray
        """
        primal = self.objective(F, V)
        theta = self.dual_theta(F)
        corr = corr_fn(theta)
        cmax = float(np.max(np.abs(corr), initial=0.0))
        s = min(1.0, self.datafit.feasible_scale(theta),
                self.alpha / cmax if cmax > 0 else np.inf)
        dual = max(self.datafit.dual_value(s * theta), 0.0)
        return primal, dual, theta, corr

    def skip_connection(self, B):
        """Affine coefficients (c (d,), c0) from basis coefficients B (r,).

        Parameters
        ----------
        B : ndarray of shape (r,)

        Returns
        -------
        coef : ndarray of shape (n_features,)
        intercept : float
        """
        beta = self._to_affine @ B
        return beta[1:], float(beta[0])


def affine_basis(X):
    """Orthonormal basis of span{1, X} and the map from its coefficients to ``[c0; c]``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    A : ndarray of shape (n_samples, r)
        Orthonormal columns, r the numerical rank of ``[1, X]``.
    to_affine : ndarray of shape (n_features + 1, r)
        ``[c0; c] = to_affine @ B`` for the function ``A @ B``.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.solvers.newton import affine_basis
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> A, to_affine = affine_basis(X)
    >>> B = A.T @ (1.0 + 2.0 * X[:, 0])      # the function 1 + 2 x in the basis
    >>> np.round(to_affine @ B, 10)
    array([1., 2.])
    """
    N = X.shape[0]
    M = np.column_stack([np.ones(N), X])
    U, s, Vt = np.linalg.svd(M, full_matrices=False)
    rank = int(np.sum(s > s[0] * max(M.shape) * np.finfo(float).eps)) if s.size else 0
    return np.ascontiguousarray(U[:, :rank]), Vt[:rank].T / s[:rank]


def _orthogonal(A, theta):
    """Whether A^T theta vanishes up to the rounding of its terms."""
    viol = float(np.abs(A.T @ theta).max(initial=0.0))
    scale = float((np.abs(A).T @ np.abs(theta)).max(initial=0.0))
    return np.isfinite(viol) and viol <= 1e-10 * scale + 1e-300


class WorkingSetProxNewton:
    """Working-set proximal Newton solver for :class:`DatafitProblem` (module docstring).

    Parameters
    ----------
    tol : float, default=1e-6
        Stop when the duality gap is below ``tol`` times ``problem.scale`` (the loss of
        the best affine fit).
    max_iter : int, default=100
        Maximum working-set (outer) iterations.
    max_newton : int, default=200
        Maximum proximal Newton steps per restricted solve.
    max_inner : int, default=100000
        Maximum steps of the active-set lasso solving each Newton model.
    ws_start : int, default=10
        Atoms added in the first round; later rounds add as many as there are nonzero
        coefficients (at least ``ws_start``).
    verbose : int, default=0

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.datafits import Huber
    >>> from radonsolve.dictionary import ReLUDictionary
    >>> from radonsolve.solvers.newton import DatafitProblem, WorkingSetProxNewton
    >>> x = np.linspace(-1, 1, 30)[:, None]
    >>> y = np.abs(x[:, 0]); y[5] += 10.0            # one gross outlier
    >>> problem = DatafitProblem(ReLUDictionary(x, np.ones((1, 1))),
    ...                          Huber(y, np.full(30, 1 / 30), epsilon=0.1), alpha=1e-3)
    >>> res = WorkingSetProxNewton().solve(problem)
    >>> res.converged, res.dual_gap <= 1e-6 * problem.scale
    (True, True)
    """

    def __init__(self, tol=1e-6, max_iter=100, max_newton=200, max_inner=100000, ws_start=10,
                 verbose=0):
        self.tol = tol
        self.max_iter = max_iter
        self.max_newton = max_newton
        self.max_inner = max_inner
        self.ws_start = ws_start
        self.verbose = verbose

    def solve(self, problem, warm_start=None, affine=None):
        """Solve ``problem`` from ``warm_start = (idx, V)`` and affine coefficients ``affine``.

        Parameters
        ----------
        problem : DatafitProblem
        warm_start : tuple (idx, V) or None, default=None
            Atoms and coefficients to start from.
        affine : ndarray of shape (r,) or None, default=None
            Starting coefficients of the skip connection in the basis ``problem.A``.

        Returns
        -------
        DatafitResult
            ``converged`` is True when the duality gap is at most ``tol`` times
            ``problem.scale``.
        """
        with threadpool_limits(limits=1, user_api="blas"):
            return self._solve(problem, warm_start, affine)

    # ---------------------------------------------------------------- restricted problem
    def _restricted(self, problem, Zc, beta, F, eps):
        """Proximal Newton on the columns Zc = [A, Phi_ws] from beta with outputs F.

        Stops when the restricted duality gap is below eps. Returns (beta, F, steps, gap).
        """
        alpha = problem.alpha
        datafit = problem.datafit
        r = problem.r
        k = Zc.shape[1] - r
        steps = 0
        obj = problem.objective(F, beta[r:])
        n_tiny = 0
        last_tiny_gap = np.inf
        while True:
            primal, dual, _, _ = problem.gap_parts(F, beta[r:], lambda th: Zc[:, r:].T @ th)
            gap = primal - dual
            if gap <= eps or steps >= self.max_newton:
                break
            steps += 1
            g = Zc.T @ datafit.gradient(F)
            h = datafit.hessian(F)
            h = h + CURVATURE_FLOOR * max(float(h.max(initial=0.0)), float(datafit.u.max()))
            H = Zc.T @ (h[:, None] * Zc)
            H_AA, H_AV, H_VV = H[:r, :r], H[:r, r:], H[r:, r:]
            g_A, g_V = g[:r], g[r:]
            # H_AA is positive definite (orthonormal A, positive curvatures).
            L_AA = np.linalg.cholesky(H_AA)
            Hinv_AV = _chol_solve(L_AA, H_AV)
            b_V = beta[r:]
            if k:
                S = H_VV - H_AV.T @ Hinv_AV
                S = np.ascontiguousarray(0.5 * (S + S.T))
                gS = g_V - Hinv_AV.T @ g_A
                # Exact model solve (to rounding relative to alpha): inner steps are cheap
                # next to forming the Hessian, and exact models make the outer iteration
                # converge fast once the support is found.
                x = _model_lasso(S, b_V, gS, alpha, self.max_inner)
                d_V = x - b_V
            else:
                d_V = np.zeros(0)
            d_A = -_chol_solve(L_AA, g_A + H_AV @ d_V)
            d = np.concatenate([d_A, d_V])
            dF = Zc @ d
            pen0 = problem.penalty(b_V)
            descent = float(g @ d) + problem.penalty(b_V + d_V) - pen0
            # Near the optimum the predicted decrease falls below the rounding of the
            # objective: take the full step unless the objective visibly increases (and
            # stop when that no longer shrinks the gap).
            noise = 1e-13 * (abs(obj) + problem.scale)
            if descent > noise or not np.isfinite(descent):
                break
            tiny = -descent <= 1e3 * noise
            if tiny:
                n_tiny += 1
                if n_tiny > 3 and gap >= 0.5 * last_tiny_gap:
                    break
                last_tiny_gap = min(last_tiny_gap, gap)
            t = 1.0
            accepted = False
            for _ in range(80):
                newF = F + t * dF
                newb = beta + t * d
                new_obj = problem.objective(newF, newb[r:])
                if new_obj <= obj + 1e-4 * t * descent or (tiny and new_obj <= obj + noise):
                    accepted = True
                    break
                t *= 0.5
            if self.verbose > 2:
                print(f"[prox-newton]   step {steps}: gap {gap:.3e}, predicted decrease "
                      f"{-descent:.3e}, step length {t:.3g}{'' if accepted else ' (rejected)'}")
            if not accepted:
                break
            beta, F, obj = newb, newF, new_obj
        return beta, F, steps, gap

    # ---------------------------------------------------------------- main loop
    def _solve(self, problem, warm_start, affine):
        t0 = time.perf_counter()
        dic = problem.dictionary
        alpha = problem.alpha
        r = problem.r
        tol_abs = self.tol * problem.scale
        n_atoms = dic.n_atoms

        idx, V = merge_warm_start(warm_start, 1)
        V = V[:, 0]
        in_ws = np.zeros(n_atoms, dtype=bool)
        in_ws[idx] = True
        Zc = np.hstack([problem.A, dic.columns(idx)]) if len(idx) else problem.A.copy()
        if affine is None:
            # Best affine fit of what the warm-started atoms leave (or of the data).
            affine = problem.affine_fit()[0]
        beta = np.concatenate([np.asarray(affine, dtype=float).reshape(r), V])
        F = Zc @ beta
        eps = 0.1 * tol_abs
        history = []
        it = 0
        converged = False
        gap = np.inf
        while True:
            beta, F, steps, rgap = self._restricted(problem, Zc, beta, F, eps)
            primal, dual, theta, corr = problem.gap_parts(F, beta[r:], dic.rmatvec)
            gap = primal - dual
            history.append((time.perf_counter() - t0, primal, gap, len(idx)))
            nnz = int(np.count_nonzero(beta[r:]))
            if self.verbose:
                print(f"[prox-newton] iter {it}: working set {len(idx)}, nonzeros {nnz}, "
                      f"objective {primal:.12g}, gap {gap:.3e} (restricted {rgap:.3e}, "
                      f"target {tol_abs:.3e}), {steps} Newton steps")
            if gap <= tol_abs:
                converged = True
                break
            if it >= self.max_iter:
                break
            it += 1
            score = np.abs(corr)
            cand = local_max_candidates(score, dic.direction_offsets, in_ws, alpha)
            n_new = max(self.ws_start, nnz)
            if len(cand) > n_new:
                top = np.argpartition(-score[cand], n_new - 1)[:n_new]
                cand = np.sort(cand[top])
            if len(cand):
                # Atoms at zero leave (pricing brings back any that violate later): the
                # Hessian costs N (r + k)^2, so k stays near twice the support.
                nzr = beta[r:] != 0
                if not nzr.all():
                    in_ws[idx[~nzr]] = False
                    idx = idx[nzr]
                    Zc = np.hstack([Zc[:, :r], Zc[:, r:][:, nzr]])
                    beta = np.concatenate([beta[:r], beta[r:][nzr]])
                idx = np.concatenate([idx, cand])
                in_ws[cand] = True
                Zc = np.hstack([Zc, dic.columns(cand)])
                beta = np.concatenate([beta, np.zeros(len(cand))])
                eps = max(0.3 * gap, 0.1 * tol_abs)
            else:
                # Nothing violates: the restricted problem was not solved accurately enough.
                eps = max(min(eps, 0.3 * gap) * 0.1, 1e-4 * tol_abs)
        if not converged:
            warnings.warn(
                f"Proximal Newton working-set solver ({problem.datafit.name} loss) stopped "
                f"after {it} iterations with duality gap {gap:.3e}, above the tolerance "
                f"{tol_abs:.3e}. Increase max_iter or tol.", ConvergenceWarning)
        Vw = beta[r:]
        keep = Vw != 0
        B = beta[:r]
        c, c0 = problem.skip_connection(B)
        return DatafitResult(idx=idx[keep], coef=Vw[keep][:, None], objective=primal,
                             dual_gap=gap, n_iter=it + 1, converged=converged,
                             history=history, time=time.perf_counter() - t0, skip_coef=c,
                             skip_intercept=c0, affine=B.copy(), outputs=F, theta=theta,
                             dual=dual)


def _model_lasso(S, v, gS, alpha, max_inner):
    """Minimizer x of the Newton model ``0.5 (x - v)^T S (x - v) + gS^T (x - v) + alpha |x|_1``.

    Solved exactly by the active-set lasso. When S is (numerically) singular along a
    violating atom (near-duplicate columns, or Huber samples outside the band leaving
    fewer curvatures than unknowns) the active-set method can stop short; then a
    proximal term ``mu max(diag S) I`` is added, growing until it converges: any positive
    definite model still gives a descent direction, and the line search does the rest.
    """
    ridge = 0.0
    scale = float(np.max(S.diagonal(), initial=0.0)) or 1.0
    while True:
        Sr = S + ridge * scale * np.eye(len(v)) if ridge else S
        c = np.ascontiguousarray(Sr @ v - gS)
        x = v.copy()
        _, ok = lasso_active_set(np.ascontiguousarray(Sr), c, x, alpha, max_inner, 1e-10,
                                 SINGULAR, MAX_ADD, len(x), N_TRACK)
        if ok or ridge >= 1e-2:
            return x
        ridge = 1e-10 if not ridge else 100.0 * ridge


def _chol_solve(L, B):
    """``(L L^T)^{-1} B`` from the lower Cholesky factor L."""
    return solve_triangular(L.T, solve_triangular(L, B, lower=True), lower=False)


def alpha_max_datafit(problem):
    """Smallest alpha with no neuron on the dictionary: ``max_j |Phi_j^T theta|``.

    theta is the dual point of the best affine fit (orthogonal to the affine functions).

    Parameters
    ----------
    problem : DatafitProblem

    Returns
    -------
    float
    """
    theta = problem.dual_theta(problem.affine_fit()[1])
    corr = problem.dictionary.rmatvec(theta)
    return float(np.max(np.abs(corr), initial=0.0))


# ----------------------------------------------------------------------------- exchange
def exchange_datafit(X, datafit, alpha, directions, solver, *, max_rounds=30, tol=1e-6,
                     budget=2000, top_k=None, warm_start=None, random_state=None, verbose=0,
                     warn=True):
    """Exchange rounds (DESIGN §6) for a smooth data fit: solve, certify, add directions.

    Each round solves (S) on the current directions (warm-started), evaluates the
    certificate over all directions with the dual point theta' in place of the residual
    (exact in 2-D, searched for d >= 3: :func:`radonsolve.refine.certify`), and appends the
    violating directions. Directions are only appended, never pruned, so the atoms of the
    previous dictionary keep their indices and the previous solution warm-starts the next.
    The gap of (P) uses the dual point ``s theta'`` with ``s = min(1, 1 / sup eta,
    datafit.feasible_scale(theta'))``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    datafit : Datafit
    alpha : float
    directions : ndarray of shape (n_directions, n_features)
        Initial canonical directions.
    solver : WorkingSetProxNewton
    max_rounds : int
        Rounds after the first solve (0: only certify it).
    tol : float
        Stop when the gap of (P) is below ``tol * problem.scale``.
    budget : int
        Candidates of the searched certificate (d >= 3).
    top_k : int or None
        Violating directions added per round (None: 30 for d <= 2, 200 otherwise).
    warm_start : tuple (idx, V) or None
        Atoms of the initial dictionary.
    random_state : int, RandomState or None
    verbose : int
    warn : bool
        Warn (ConvergenceWarning) when the rounds end above the tolerance.

    Returns
    -------
    problem : DatafitProblem
        The problem on the final directions.
    result : DatafitResult
    certificate : Certificate
    gap_P : float
    history : list of RefinementRound
    converged : bool
    """
    from ..certificate import SweepEvents
    from ..refine import RefinementRound, certify

    t0 = time.perf_counter()
    X = np.asarray(X, dtype=float)
    d = X.shape[1]
    searched = d >= 3
    if top_k is None:
        top_k = 200 if searched else 30
    W = canonical_directions(np.asarray(directions, dtype=float))
    basis = affine_basis(X)
    rng = np.random.RandomState(None if random_state is None else
                                np.random.RandomState(random_state).randint(2 ** 31))
    warm, affine = warm_start, None
    # The 2-D sweep's critical angles depend on X alone: built once for all rounds.
    events = SweepEvents(X) if d == 2 else None
    history = []
    converged = False
    problem = result = cert = None
    gap_P = np.inf
    n_tighten = 0
    for rnd in range(max_rounds + 1):
        dic = ReLUDictionary(X, W)
        problem = DatafitProblem(dic, datafit, alpha, basis=basis)
        result = solver.solve(problem, warm_start=warm, affine=affine)
        theta = result.theta
        active = dic.directions[np.unique(dic.atom_direction[result.idx])] \
            if len(result.idx) else None
        with warnings.catch_warnings():
            # theta' is orthogonal to the affine functions up to rounding only.
            warnings.simplefilter("ignore", UserWarning)
            cert = certify(X, theta, alpha, active_directions=active, budget=budget,
                           top_k=top_k, random_state=rng, events=events)
        finite_eta = float(np.max(np.abs(dic.rmatvec(theta)), initial=0.0)) / alpha
        eta_sup = max(float(cert.eta), finite_eta)
        s = min(1.0, 1.0 / eta_sup if eta_sup > 0 else np.inf,
                datafit.feasible_scale(theta))
        dual_P = max(datafit.dual_value(s * theta), 0.0)
        gap_P = result.objective - dual_P
        converged = gap_P <= tol * problem.scale
        n_before = W.shape[0]
        n_added = 0
        done = converged or rnd == max_rounds or d == 1
        if not done:
            new = cert.directions[cert.etas > 1.0] if len(cert.etas) else cert.directions[:0]
            if cert.eta > 1.0 and not len(new):
                new = cert.direction[None, :]
            add = _new_directions(W, new)
            n_added = len(add)
            if n_added:
                W = np.vstack([W, add])
            warm, affine = (result.idx, result.coef), result.affine
        history.append(RefinementRound(rnd, n_before, n_added, len(result.idx),
                                       result.objective, eta_sup, gap_P,
                                       time.perf_counter() - t0))
        if verbose:
            print(f"[refine-{datafit.name}] round {rnd}: {n_before} directions, "
                  f"{len(result.idx)} atoms, objective {result.objective:.12g}, eta "
                  f"{eta_sup:.8f}{'' if cert.exact else ' (searched)'}, gap(P) "
                  f"{gap_P:.3e}, added {n_added}")
        if done:
            break
        if n_added == 0:
            # Every violating direction is already in the dictionary: the inner solve was
            # too loose for this tolerance. Tighten it (a copy: the caller's solver is left
            # as it is) and solve again, a few times at most.
            if n_tighten >= 3:
                break
            n_tighten += 1
            solver = copy.copy(solver)
            solver.tol = 0.1 * solver.tol
    if warn and not converged and d > 1:
        warnings.warn(
            f"Refinement ({datafit.name} loss) stopped after {len(history) - 1} rounds with "
            f"certificate {history[-1].eta:.6g}{'' if cert.exact else ' (searched)'} and "
            f"duality gap of (P) {gap_P:.3e} above the tolerance "
            f"{tol * problem.scale:.3e}; increase max_rounds.", ConvergenceWarning)
    return problem, result, cert, gap_P, history, converged


def _new_directions(W, cand, same=1e-13):
    """Canonical rows of ``cand`` that are not (numerically) rows of W or of each other.

    The threshold is tight on purpose: the exact 2-D certificate peaks at critical angles
    (two points projecting equally), and a peak 4e-5 rad from a dictionary direction was
    measured to hold eta at 1 + 7e-6 (Huber, N = 200) when such near-duplicates were dropped.
    """
    if cand is None or len(cand) == 0:
        return np.zeros((0, W.shape[1]))
    out = []
    for c in canonical_directions(cand):
        if np.max(np.abs(W @ c)) >= 1.0 - same:
            continue
        if out and np.max(np.abs(np.asarray(out) @ c)) >= 1.0 - same:
            continue
        out.append(c)
    return np.asarray(out).reshape(-1, W.shape[1])
