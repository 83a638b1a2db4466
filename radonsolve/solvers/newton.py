"""Working-set proximal Newton for (P) with any smooth data fit (DESIGN §10, §12).

Problem. With a data fit ``L(F) = sum_n u_n l(y_n, F_n)`` (:mod:`radonsolve.datafits`:
Huber, Poisson, logistic, multinomial, squared) of T outputs per sample (T = 1, or K logits
for the multinomial loss), the ReLU dictionary Phi (or any dictionary with the same
operator interface) and affine columns A (the skip connection),

    minimize_{V, B}  L(Phi V + A B) + alpha * sum_j ||V_j||_2 + (beta / 2) ||c||^2     (S)

with ``V_j`` the T output weights of atom j (``|V_j|`` for one output) and c the linear
weights of the skip connection. With ``skip_penalty = beta = 0`` (the default) the skip is
free and A is an orthonormal basis of span{1, X}; with ``beta > 0`` (the classifier's
well-posed problem on separable data, DESIGN §10) A is ``[1, X]`` itself, the ridge acts on
the coefficients of X, and only the intercept is free.

Solver (one driver for every loss). The loop is :class:`radonsolve.solvers.driver.
WorkingSetDriver`'s, shared with the squared loss's :class:`~radonsolve.solvers.WorkingSetCD`
(its constant-Hessian instance). It asks the data fit for its value, gradient, Hessian and
dual point, and holds no loss-specific code:

- the restricted problem on the working set's dense columns ``Z = [A, Phi_ws]`` is solved by
  proximal Newton (:func:`prox_newton`): the quadratic model of L (exact Hessian), with the
  affine block eliminated exactly (Schur complement; on the zero-sum subspace when the loss
  is invariant to a common shift of the outputs, as softmax is), is a (group) lasso on a
  small matrix, solved exactly by the restricted kernel of
  :mod:`radonsolve.solvers.restricted`; an Armijo backtracking line search on (S) makes the
  step. A zero curvature (Huber samples outside the band) gets a tiny floor, ``1e-8`` of
  the largest, so every one-output model is strictly convex; where the active-set method
  still stops short on a nearly singular model a growing proximal term is added;
- one structured pass ``Phi^T theta`` over all atoms prices them (theta the dual point,
  minus the gradient in the outputs); the most violating local maxima along each
  direction's biases enter (as many as there are nonzero atoms, at least ``ws_start``), zero
  atoms leave, and the loop stops on the duality gap relative to the problem's scale.

Duality gap (computed, never assumed). For theta orthogonal to the free affine columns, in
the domain of the conjugate and with ``||Phi_j^T theta|| <= alpha`` for every atom,

    D(theta) = datafit.dual_value(theta) - ||X^T theta||^2 / (2 beta)

(the second term only with the ridge, the conjugate of ``(beta / 2) ||c||^2``) is a lower
bound on (S). The dual point is built from the current outputs F:

1. ``theta = -datafit.gradient(F)``;
2. feasibility for the free affine columns ``A_f`` by a projection in the Hessian metric,
   ``theta' = theta - H (A_f lambda)`` with ``(A_f^T H A_f) lambda = A_f^T theta``: this is
   the change of the gradient under the Newton step on the free affine part, so it is small
   near the optimum and keeps samples of zero curvature (Huber outliers, at the edge of the
   conjugate's domain) where they are. Then ``A_f^T theta' = 0`` up to rounding (checked;
   if not, the projection in the metric ``diag(u)`` is used);
3. scaling: every ``s theta'`` with ``0 <= s <= s_max = min(1, datafit.feasible_scale(theta'),
   alpha / max_j ||Phi_j^T theta'||)`` is dual feasible (each domain is convex and contains
   0); D is concave in s, and its maximum over ``[0, s_max]`` is the dual value used.

The gap is ``P - max(D, 0)`` (``theta = 0`` is feasible with value 0, the loss's infimum).
The same theta', unscaled, is what the certificate over all directions takes in place of
the residual.
"""

import time
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from scipy.optimize import minimize_scalar
from threadpoolctl import threadpool_limits

from ..affine import affine_basis
from ..datafits import fit_affine
from ..penalties import GroupL1
from .driver import WorkingSetDriver
from .restricted import restricted_lasso
from .result import SolverResult, merge_warm_start

__all__ = ["DatafitProblem", "DatafitResult", "WorkingSetProxNewton", "alpha_max_datafit",
           "prox_newton"]

#: Curvature floor relative to the largest curvature (zero-curvature samples).
CURVATURE_FLOOR = 1e-8


@dataclass
class DatafitResult(SolverResult):
    """:class:`SolverResult` plus the skip connection and the dual point.

    Shapes follow the number of outputs T of the data fit: with one output ``affine``,
    ``outputs`` and ``theta`` are vectors; with T outputs they have T columns.

    Attributes
    ----------
    skip_coef : ndarray of shape (n_features,) or (n_features, T)
        Linear part of the skip connection (the attributes of :class:`SolverResult` are
        kept).
    skip_intercept : float or ndarray of shape (T,)
    affine : ndarray of shape (r,) or (r, T)
        Coefficients of the skip connection on the problem's affine columns ``A``.
    outputs : ndarray of shape (n_samples,) or (n_samples, T)
        Fitted outputs F on the data.
    theta : ndarray of shape (n_samples,) or (n_samples, T)
        Dual point orthogonal to the free affine columns (before scaling into the dual
        constraints).
    dual : float
        Dual objective at the scaled dual point (a lower bound on the problem's optimum).
    """

    skip_coef: np.ndarray = None
    skip_intercept: object = 0.0
    affine: np.ndarray = None
    outputs: np.ndarray = None
    theta: np.ndarray = None
    dual: float = 0.0


class DatafitProblem:
    """Problem (S) on a dictionary (module docstring).

    Parameters
    ----------
    dictionary : ReLUDictionary or SignedDictionary
        Built on the rows of the data fit (samples of positive weight): ``X``,
        ``n_atoms``, ``rmatvec``, ``columns`` and ``direction_offsets`` are used.
    datafit : Datafit
        A :class:`radonsolve.datafits.Datafit` (one output, or K for
        :class:`~radonsolve.datafits.Multinomial`).
    alpha : float
        Positive regularization strength.
    basis : tuple (A, to_affine) or None, default=None
        ``affine_basis(dictionary.X)`` (free skip only), computed when None (pass it to
        share it).
    skip_penalty : float, default=0.0
        Ridge weight beta on the skip connection's linear weights; 0 leaves the skip free.
    scale : float or None, default=None
        Unit of relative tolerances. None: the data fit's loss at the best affine fit
        (one output) or at the best constant model (shift-invariant losses).

    Attributes
    ----------
    A : ndarray of shape (n_samples, r)
        Affine columns: orthonormal basis of span{1, X} (free skip; rank-deficient X
        handled), or ``[1, X]`` (ridge).
    A_free : ndarray of shape (n_samples, r_free)
        Orthonormal columns of the unpenalized affine functions (all of span{1, X}, or the
        constant): the dual point is orthogonal to them.
    ridge : ndarray of shape (r,)
        Ridge weight of each affine column (0 on the free ones).
    T : int
        Outputs per sample.
    scale : float
        The unit of relative tolerances (at least ``1e-12`` times the size of the loss's
        terms, their rounding).

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.datafits import Poisson
    >>> from radonsolve.dictionary import ReLUDictionary
    >>> from radonsolve.solvers.newton import DatafitProblem
    >>> x = np.linspace(0, 1, 5)[:, None]
    >>> problem = DatafitProblem(ReLUDictionary(x, np.ones((1, 1))),
    ...                          Poisson(np.exp(1 + 2 * x[:, 0]), np.full(5, 0.2)), 0.1)
    >>> problem.T, problem.r, problem.A.shape
    (1, 2, (5, 2))
    """

    def __init__(self, dictionary, datafit, alpha, *, basis=None, skip_penalty=0.0,
                 scale=None):
        self.dictionary = dictionary
        self.datafit = datafit
        self.alpha = float(alpha)
        if not self.alpha > 0:
            raise ValueError(f"alpha must be positive; got {alpha!r}.")
        self.group_penalty = GroupL1(self.alpha)
        beta = float(skip_penalty)
        if not (np.isfinite(beta) and beta >= 0):
            raise ValueError(f"skip_penalty must be a nonnegative finite number; got "
                             f"{skip_penalty!r}.")
        self.skip_penalty = beta
        X = dictionary.X
        self.X = X
        N, d = X.shape
        if datafit.y.shape[0] != N:
            raise ValueError(f"datafit has {datafit.y.shape[0]} samples, the dictionary "
                             f"{N}.")
        self.T = int(datafit.n_outputs)
        if beta > 0:
            # Ridge on the skip's linear weights in the user's coordinates: the columns are
            # [1, X] themselves, with curvature beta on every one but the constant's.
            self.A = np.ascontiguousarray(np.column_stack([np.ones(N), X]))
            self._to_affine = np.eye(d + 1)
            self.ridge = np.concatenate([[0.0], np.full(d, beta)])
            self.A_free = np.full((N, 1), 1.0 / np.sqrt(max(N, 1)))
        else:
            if basis is None:
                basis = affine_basis(X)
            self.A, self._to_affine = basis
            self.ridge = np.zeros(self.A.shape[1])
            self.A_free = self.A
        self.r = self.A.shape[1]
        self._affine_B, self._affine_F = None, None
        if scale is None:
            if self.T == 1 and beta == 0:
                f_aff = self._f(self.affine_fit()[1])
                # Floored at the rounding of the loss's terms (an exactly affine y has
                # loss 0).
                scale = max(datafit.value(f_aff), 1e-12 * datafit.magnitude(f_aff))
            else:
                scale = datafit.scale(affine_basis(X)[0])
        self.scale = float(scale)

    # ---------------------------------------------------------------- shapes
    def _as2(self, F):
        F = np.asarray(F, dtype=float)
        return F.reshape(len(F), -1)

    def _f(self, F):
        """Outputs as the data fit takes them: a vector for one output."""
        F = self._as2(F)
        return F[:, 0] if self.T == 1 else F

    # ---------------------------------------------------------------- objective
    def affine_fit(self):
        """Best fit by the skip connection alone (no atom); cached.

        Returns
        -------
        B : ndarray of shape (r, T)
            Coefficients on the columns ``A``.
        F : ndarray of shape (n_samples, T)
            Outputs ``A @ B``.
        """
        if self._affine_B is None:
            if self.T == 1 and self.skip_penalty == 0:
                B, F = fit_affine(self.datafit, self.A)
                B, F = B[:, None], F[:, None]
            else:
                B = np.zeros((self.r, self.T))
                B, F, _, _ = prox_newton(self, self.A, B, self.A @ B, 1e-12 * self.scale,
                                         max_newton=200)
            self._affine_B, self._affine_F = B, F
        return self._affine_B, self._affine_F

    def affine_start(self):
        """Skip connection the solver starts from without a given one: the affine fit.

        Returns
        -------
        ndarray of shape (r, T)
        """
        return self.affine_fit()[0]

    def penalty(self, V):
        """``alpha * sum_j ||V_j||`` of the atoms' coefficients.

        Parameters
        ----------
        V : ndarray of shape (n_active,) or (n_active, T)

        Returns
        -------
        float
        """
        return self.group_penalty.value(V)

    def ridge_penalty(self, B):
        """``(beta / 2) ||c||^2`` of the affine coefficients B; 0 for a free skip.

        Parameters
        ----------
        B : ndarray of shape (r,) or (r, T), or None
            Affine coefficients (None counts as no ridge).

        Returns
        -------
        float
        """
        if B is None or self.skip_penalty <= 0:
            return 0.0
        B = np.asarray(B, dtype=float).reshape(self.r, -1)
        return 0.5 * float(np.sum(self.ridge[:, None] * B * B))

    def loss(self, F):
        """The data fit at the outputs F.

        Parameters
        ----------
        F : ndarray of shape (n_samples,) or (n_samples, T)

        Returns
        -------
        float
        """
        return self.datafit.value(self._f(F))

    def objective(self, F, V, B=None):
        """Objective of (S): data fit, penalty of the atoms and ridge on the skip.

        Parameters
        ----------
        F : ndarray of shape (n_samples,) or (n_samples, T)
            Outputs on the data.
        V : ndarray of shape (n_active,) or (n_active, T)
            Coefficients of the atoms.
        B : ndarray of shape (r,) or (r, T), or None, default=None
            Affine coefficients (for the ridge; not needed for a free skip).

        Returns
        -------
        float
        """
        return self.loss(F) + self.penalty(V) + self.ridge_penalty(B)

    # ---------------------------------------------------------------- Newton model
    def _hessian_blocks(self, Z, hess):
        """``Z^T H Z`` for the per-sample Hessian ``hess``: (p T, p T), index j*T + t."""
        if self.T == 1:
            return Z.T @ (hess[:, None] * Z)
        p, T = Z.shape[1], self.T
        H = np.empty((p, T, p, T))
        for t in range(T):
            for s in range(t, T):
                M = Z.T @ (hess[:, t, s][:, None] * Z)
                H[:, t, :, s] = M
                if s != t:
                    H[:, s, :, t] = M
        return H.reshape(p * T, p * T)

    def newton_system(self, Z, F, B):
        """Gradient and Hessian of the smooth part of (S) in the coefficients of Z.

        Z holds the affine columns ``A`` first (their coefficients carry the ridge), then
        any atoms' columns. One-output curvatures get the floor ``CURVATURE_FLOOR`` times
        the largest one.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, p)
            ``[A, Phi_ws]``.
        F : ndarray of shape (n_samples, T)
            Current outputs.
        B : ndarray of shape (r, T)
            Current affine coefficients.

        Returns
        -------
        g : ndarray of shape (p * T,)
        H : ndarray of shape (p * T, p * T)
            Index ``j * T + t``.
        """
        T, r = self.T, self.r
        f = self._f(F)
        g = (Z.T @ self.datafit.gradient(f).reshape(len(Z), T)).ravel()
        hess = self.datafit.hessian(f)
        if T == 1:
            # Only zero curvatures (Huber samples outside the band, underflow) are raised:
            # small positive ones (nearly separated logistic samples) are the model.
            floor = CURVATURE_FLOOR * max(float(hess.max(initial=0.0)),
                                          float(self.datafit.u.max()))
            hess = np.where(hess > 0, hess, floor)
        H = self._hessian_blocks(Z, hess)
        if self.skip_penalty > 0:
            nA = r * T
            ridge = np.repeat(self.ridge, T)
            g[:nA] += ridge * np.asarray(B, dtype=float).ravel()
            H[np.arange(nA), np.arange(nA)] += ridge
        return g, H

    def affine_inverse(self, H_AA):
        """Inverse of the Hessian block of the affine coefficients (index j*T + t).

        For a shift-invariant loss (softmax) the block is singular along the
        class-constant directions and is inverted on the zero-sum subspace, explicitly,
        rather than by an eigenvalue cutoff that would also have to decide on the
        genuinely small curvatures of nearly separable data. Otherwise the pseudo-inverse
        with eigenvalues below ``1e-12`` of the largest dropped: no step along directions
        where the loss is flat to rounding (the affine part of separable data).

        Parameters
        ----------
        H_AA : ndarray of shape (r_a * T, r_a * T)

        Returns
        -------
        ndarray of shape (r_a * T, r_a * T)
        """
        if H_AA.size == 0:
            return np.zeros_like(H_AA)
        if self.datafit.shift_invariant and self.T > 1:
            E = _zero_sum_basis(self.T)
            Eb = np.kron(np.eye(H_AA.shape[0] // self.T), E)
            return Eb @ _psd_pinv(Eb.T @ H_AA @ Eb) @ Eb.T
        return _psd_pinv(H_AA)

    # ---------------------------------------------------------------- dual
    def dual_point(self, F):
        """Dual point orthogonal to the free affine columns (module docstring, steps 1-2).

        Parameters
        ----------
        F : ndarray of shape (n_samples,) or (n_samples, T)
            Outputs on the data.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, T)
            Orthogonal to ``A_free`` up to rounding.
        """
        T = self.T
        f = self._f(F)
        theta = self.datafit.dual_point(f)
        A = self.A_free
        N = len(A)
        Th = theta.reshape(N, T)
        G = A.T @ Th
        hess = self.datafit.hessian(f)
        out = None
        if np.all(np.isfinite(hess)):
            lam = (self.affine_inverse(self._hessian_blocks(A, hess)) @ G.ravel())
            Z = A @ lam.reshape(A.shape[1], T)
            if T == 1:
                cand = theta - hess * Z[:, 0]
            else:
                cand = theta - np.einsum("nij,nj->ni", hess, Z)
            if _orthogonal(A, cand.reshape(N, T)):
                out = cand
        if out is None:
            u = self.datafit.u
            lam = np.linalg.lstsq(A.T @ (u[:, None] * A), G, rcond=None)[0]
            out = theta - (u[:, None] * (A @ lam)).reshape(theta.shape)
        return out

    def dual_objective(self, theta, s=1.0):
        """Dual value at ``s * theta`` (``-inf`` outside the conjugate's domain).

        Parameters
        ----------
        theta : ndarray of shape (n_samples,) or (n_samples, T)
            Orthogonal to the free affine columns.
        s : float, default=1.0
            Scaling.

        Returns
        -------
        float
            ``datafit.dual_value(s theta) - s^2 ||X^T theta||^2 / (2 beta)``.
        """
        return self._dual_along(theta)(s)

    def _dual_along(self, theta):
        """``s -> dual_objective(theta, s)``, with the ridge's quadratic computed once."""
        q = 0.0
        if self.skip_penalty > 0:
            g = self.X.T @ np.asarray(theta).reshape(len(self.X), -1)
            q = 0.5 * float(np.sum(g * g)) / self.skip_penalty
        value = self.datafit.dual_value

        def along(s):
            val = value(s * theta)
            return val - s * s * q if np.isfinite(val) else val
        return along

    def best_dual(self, theta, s_max):
        """Largest dual value over the scalings ``0 <= s <= s_max`` (concave in s).

        Parameters
        ----------
        theta : ndarray
            Dual point orthogonal to the free affine columns.
        s_max : float
            Largest feasible scaling.

        Returns
        -------
        float
            At least 0 (the dual value at s = 0).
        """
        if not s_max > 0:
            return 0.0
        along = self._dual_along(theta)
        at_end = along(s_max)
        best = max(at_end, 0.0)
        # Concave in s: when it still increases at s_max, s_max is the maximizer.
        h = 1e-7 * s_max
        if along(s_max - h) > at_end:
            res = minimize_scalar(lambda t: -along(t), bounds=(0.0, s_max), method="bounded",
                                  options={"xatol": 1e-9 * s_max})
            if np.isfinite(res.fun):
                best = max(best, -float(res.fun))
        return best

    def dual_bound(self, theta, corr_max):
        """Lower bound on (S) from a dual point and its largest atom correlation.

        Parameters
        ----------
        theta : ndarray of shape (n_samples,) or (n_samples, T)
            Dual point orthogonal to the free affine columns.
        corr_max : float
            Largest ``||Phi_j^T theta||`` over the atoms considered (for a bound on (P)
            itself: ``alpha * sup eta`` over all directions).

        Returns
        -------
        float
            ``max(D(s theta), 0)`` over the feasible scalings; 0 when corr_max is not
            finite.
        """
        if not np.isfinite(corr_max):
            return 0.0
        s = min(1.0, self.datafit.feasible_scale(theta),
                self.alpha / corr_max if corr_max > 0 else np.inf)
        return self.best_dual(theta, s)

    def gap_parts(self, F, V, corr_fn, B=None):
        """(primal, dual, theta', corr) at outputs F and coefficients V (and B).

        Parameters
        ----------
        F : ndarray of shape (n_samples,) or (n_samples, T)
            Outputs on the data.
        V : ndarray of shape (n_active,) or (n_active, T)
            Coefficients of the atoms.
        corr_fn : callable
            Maps theta to its correlations with the atoms considered (the working set, or
            the whole dictionary).
        B : ndarray of shape (r,) or (r, T), or None, default=None
            Affine coefficients (for the ridge).

        Returns
        -------
        primal : float
        dual : float
            Dual value at the best feasible scaling of theta' (at least 0).
        theta : ndarray of shape (n_samples,) or (n_samples, T)
        corr : ndarray
        """
        primal = self.objective(F, V, B)
        theta = self.dual_point(F)
        corr = corr_fn(theta)
        dual = self.dual_bound(theta, self.group_penalty.dual_norm(corr))
        return primal, dual, theta, corr

    # ---------------------------------------------------------------- output
    def skip_connection(self, B):
        """Affine coefficients (c, c0) from coefficients B on the columns ``A``.

        Parameters
        ----------
        B : ndarray of shape (r,) or (r, T)

        Returns
        -------
        coef : ndarray of shape (n_features,) or (n_features, T)
        intercept : float or ndarray of shape (T,)
        """
        beta = self._to_affine @ np.asarray(B, dtype=float).reshape(self.r, -1)
        if self.T == 1:
            return beta[1:, 0], float(beta[0, 0])
        return beta[1:], beta[0]

    def make_result(self, idx, coef, B, F, theta, *, objective, dual, converged, n_iter,
                    history=(), time=0.0):
        """The result of a solve in this problem's shapes (see :class:`DatafitResult`).

        For a shift-invariant loss the classes are centred first (the penalty can only
        decrease; the affine part is not identifiable otherwise).

        Parameters
        ----------
        idx : ndarray of int, shape (k,)
            Atoms with a nonzero coefficient row.
        coef : ndarray of shape (k, T)
        B : ndarray of shape (r, T)
        F : ndarray of shape (n_samples, T)
        theta : ndarray
            The dual point of F (:meth:`dual_point`).
        objective, dual : float
        converged : bool
        n_iter : int
        history : list, default=()
        time : float, default=0.0

        Returns
        -------
        DatafitResult
        """
        coef = np.asarray(coef, dtype=float).reshape(len(idx), self.T)
        B = np.asarray(B, dtype=float).reshape(self.r, self.T)
        if self.datafit.shift_invariant and self.T > 1:
            coef = coef - coef.mean(axis=1, keepdims=True)
            B = B - B.mean(axis=1, keepdims=True)
        c, c0 = self.skip_connection(B)
        one = self.T == 1
        return DatafitResult(idx=np.asarray(idx, dtype=np.int64), coef=coef,
                             objective=float(objective), dual_gap=float(objective - dual),
                             n_iter=int(n_iter), converged=bool(converged),
                             history=list(history), time=time, skip_coef=c,
                             skip_intercept=c0, affine=B[:, 0].copy() if one else B,
                             outputs=F[:, 0].copy() if one else F, theta=theta,
                             dual=float(dual))


_ZERO_SUM = {}


def _zero_sum_basis(K):
    """Orthonormal basis (K, K - 1) of {v : sum v = 0}: eigenvectors of the centring matrix
    (cached per K; read-only)."""
    if K not in _ZERO_SUM:
        w, U = np.linalg.eigh(np.eye(K) - 1.0 / K)
        E = np.ascontiguousarray(U[:, w > 0.5])
        E.flags.writeable = False
        _ZERO_SUM[K] = E
    return _ZERO_SUM[K]


def _psd_pinv(H, rcond=1e-12):
    if H.size == 0:
        return np.zeros_like(H)
    w, Q = np.linalg.eigh(H)
    cut = rcond * max(w.max(initial=0.0), 1e-300)
    inv = np.where(w > cut, 1.0 / np.where(w > cut, w, 1.0), 0.0)
    return (Q * inv) @ Q.T


def _orthogonal(A, theta):
    """Whether A^T theta vanishes up to the rounding of its terms."""
    viol = float(np.abs(A.T @ theta).max(initial=0.0))
    scale = float((np.abs(A).T @ np.abs(theta)).max(initial=0.0))
    return np.isfinite(viol) and viol <= 1e-10 * scale + 1e-300


# ----------------------------------------------------------------------------- restricted
def prox_newton(problem, Z, beta, F, eps, *, max_newton=200, max_inner=100000,
                primal_eps=0.0, verbose=0):
    """Proximal Newton for (S) restricted to the columns ``Z = [A, Phi_ws]``.

    Each step minimizes the quadratic model of the smooth part (exact Hessian, affine
    block eliminated) plus the penalty exactly (:func:`radonsolve.solvers.restricted.
    restricted_lasso`), then backtracks (Armijo) on (S). Near the optimum the predicted
    decrease falls below the rounding of the objective, so the full step is taken unless
    the objective visibly increases, and the loop stops when that no longer shrinks the gap.

    Parameters
    ----------
    problem : DatafitProblem
    Z : ndarray of shape (n_samples, r + k)
        The affine columns ``problem.A`` followed by k atoms' columns.
    beta : ndarray of shape (r + k, T)
        Starting coefficients.
    F : ndarray of shape (n_samples, T)
        ``Z @ beta``.
    eps : float
        Stop when the restricted duality gap is at most eps.
    max_newton : int, default=200
        Maximum Newton steps.
    max_inner : int, default=100000
        Maximum steps of the restricted kernel per model.
    primal_eps : float, default=0.0
        Also stop when the objective is at most this (0 is a lower bound: separable
        classes with a free skip, where no minimizer exists).
    verbose : int, default=0

    Returns
    -------
    beta : ndarray of shape (r + k, T)
    F : ndarray of shape (n_samples, T)
    steps : int
    gap : float
        The restricted duality gap at the returned point.
    """
    alpha = problem.alpha
    r, T = problem.r, problem.T
    p = Z.shape[1]
    k = p - r
    nA = r * T
    steps = 0
    gap = np.inf
    obj = problem.objective(F, beta[r:], beta[:r])
    n_tiny = 0
    last_tiny_gap = np.inf
    while True:
        primal, dual, _, _ = problem.gap_parts(F, beta[r:], lambda th: Z[:, r:].T @ th,
                                               beta[:r])
        gap = primal - dual
        if gap <= eps or primal <= primal_eps or steps >= max_newton:
            break
        steps += 1
        g, H = problem.newton_system(Z, F, beta[:r])
        H_AA, H_AV, H_VV = H[:nA, :nA], H[:nA, nA:], H[nA:, nA:]
        Hinv = problem.affine_inverse(H_AA)
        g_A, g_V = g[:nA], g[nA:]
        b_V = beta[r:].ravel()
        if k:
            HiAV = Hinv @ H_AV
            S = H_VV - H_AV.T @ HiAV
            S = np.ascontiguousarray(0.5 * (S + S.T))
            gS = g_V - HiAV.T @ g_A
            x = b_V.copy()
            restricted_lasso(S, S @ b_V - gS, x, alpha, T, max_inner)
            d_V = x - b_V
        else:
            d_V = np.zeros(0)
        d_A = -Hinv @ (g_A + H_AV @ d_V)
        d = np.concatenate([d_A, d_V]).reshape(p, T)
        dF = Z @ d
        pen_V = problem.penalty(beta[r:])
        pen0 = pen_V + problem.ridge_penalty(beta[:r])
        descent = float(g @ d.ravel()) + problem.penalty(beta[r:] + d[r:]) - pen_V
        noise = 1e-13 * (abs(obj) + pen0 + problem.scale)
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
            new_obj = problem.objective(newF, newb[r:], newb[:r])
            if new_obj <= obj + 1e-4 * t * descent or (tiny and new_obj <= obj + noise):
                accepted = True
                break
            t *= 0.5
        if verbose > 2:
            print(f"[prox-newton]   step {steps}: gap {gap:.3e}, predicted decrease "
                  f"{-descent:.3e}, step length {t:.3g}{'' if accepted else ' (rejected)'}")
        if not accepted:
            break
        beta, F, obj = newb, newF, new_obj
    return beta, F, steps, gap


# ----------------------------------------------------------------------------- driver
class WorkingSetProxNewton(WorkingSetDriver):
    """Working-set proximal Newton solver for :class:`DatafitProblem` (module docstring).

    One driver for every smooth data fit: Huber, Poisson, logistic, multinomial (group
    penalty over the K logits) and squared, with a free or ridge-penalized skip connection.

    Parameters
    ----------
    tol : float, default=1e-6
        Stop when the duality gap is below ``tol`` times ``problem.scale``.
    max_iter : int, default=100
        Maximum working-set iterations (restricted solve and pricing pass); ``n_iter``
        counts them.
    max_newton : int, default=200
        Maximum proximal Newton steps per restricted solve.
    max_inner : int, default=100000
        Maximum steps of the restricted kernel solving each Newton model.
    ws_start : int, default=10
        Atoms added in the first round; later rounds add as many as there are nonzero
        coefficients (at least ``ws_start``).
    prune : bool, default=True
        Drop atoms whose coefficient is zero from the working set when new atoms enter (the
        Hessian costs N (r + k)^2 T^2, so k stays near twice the support).
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
                 prune=True, verbose=0):
        self.tol = tol
        self.max_iter = max_iter
        self.max_newton = max_newton
        self.max_inner = max_inner
        self.ws_start = ws_start
        self.prune = prune
        self.verbose = verbose

    def solve(self, problem, warm_start=None, affine=None):
        """Solve ``problem`` from ``warm_start = (idx, V)`` and affine coefficients ``affine``.

        Parameters
        ----------
        problem : DatafitProblem
        warm_start : tuple (idx, V) or None, default=None
            Atoms and coefficients (T columns) to start from.
        affine : ndarray of shape (r,) or (r, T), or None, default=None
            Starting coefficients of the skip connection on the columns ``problem.A``;
            None starts from ``problem.affine_start()``.

        Returns
        -------
        DatafitResult
            ``converged`` is True when the duality gap is at most ``tol`` times
            ``problem.scale``.
        """
        with threadpool_limits(limits=1, user_api="blas"):
            return self._solve(problem, warm_start, affine)

    # ------------------------------------------------------------------ driver hooks
    def _solve(self, problem, warm_start, affine):
        r, T = problem.r, problem.T
        st = SimpleNamespace(t0=time.perf_counter(), timing=None, r=r)
        st.idx, V = merge_warm_start(warm_start, T)
        st.in_ws = np.zeros(problem.dictionary.n_atoms, dtype=bool)
        st.in_ws[st.idx] = True
        st.Z = np.hstack([problem.A, problem.dictionary.columns(st.idx)]) if len(st.idx) \
            else problem.A.copy()
        B0 = problem.affine_start() if affine is None else affine
        st.beta = np.vstack([np.asarray(B0, dtype=float).reshape(r, T), V])
        st.F = st.Z @ st.beta
        tol_abs = self.tol * problem.scale
        st.eps = 0.1 * tol_abs
        # The affine part (and any warm-started atoms) is fitted before the first pricing:
        # the dual point needs it.
        self._restricted(problem, st, np.inf, tol_abs)
        return self._loop(problem, st, 1)

    def _label(self, problem):
        return f"Proximal Newton working-set solver ({problem.datafit.name} loss)"

    def _scale(self, problem):
        return problem.scale

    def _nnz(self, st):
        return int(np.sum(np.any(st.beta[st.r:] != 0, axis=1)))

    def _price(self, problem, st):
        r = problem.r
        primal, dual, st.theta, corr = problem.gap_parts(st.F, st.beta[r:],
                                                         problem.dictionary.rmatvec,
                                                         st.beta[:r])
        return primal, dual, primal - dual, corr

    def _add(self, problem, st, cand, gap, tol_abs):
        r = problem.r
        nz = np.any(st.beta[r:] != 0, axis=1)
        if self.prune and not nz.all():
            # Atoms at zero leave (pricing brings back any that violate later).
            st.in_ws[st.idx[~nz]] = False
            st.idx = st.idx[nz]
            st.Z = np.hstack([st.Z[:, :r], st.Z[:, r:][:, nz]])
            st.beta = np.vstack([st.beta[:r], st.beta[r:][nz]])
        st.idx = np.concatenate([st.idx, cand])
        st.in_ws[cand] = True
        st.Z = np.hstack([st.Z, problem.dictionary.columns(cand)])
        st.beta = np.vstack([st.beta, np.zeros((len(cand), problem.T))])
        st.eps = max(0.3 * gap, 0.1 * tol_abs)

    def _stalled(self, problem, st, gap, tol_abs):
        # Nothing violates: the restricted problem was not solved accurately enough.
        st.eps = max(min(st.eps, 0.3 * gap) * 0.1, 1e-4 * tol_abs)

    def _restricted(self, problem, st, gap, tol_abs):
        st.beta, st.F, _, _ = prox_newton(problem, st.Z, st.beta, st.F, st.eps,
                                          max_newton=self.max_newton,
                                          max_inner=self.max_inner, verbose=self.verbose)

    def _finish(self, problem, st, primal, dual, gap, converged, n_iter, history, t0):
        r = problem.r
        keep = np.any(st.beta[r:] != 0, axis=1)
        return problem.make_result(st.idx[keep], st.beta[r:][keep], st.beta[:r], st.F,
                                   st.theta, objective=primal, dual=dual,
                                   converged=converged, n_iter=n_iter, history=history,
                                   time=time.perf_counter() - t0)


def alpha_max_datafit(problem):
    """Smallest alpha with no neuron on the dictionary: ``max_j ||Phi_j^T theta||``.

    theta is the dual point of the best fit by the skip connection alone (orthogonal to
    the free affine functions).

    Parameters
    ----------
    problem : DatafitProblem
        Its alpha is not used.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.datafits import Huber
    >>> from radonsolve.dictionary import ReLUDictionary
    >>> from radonsolve.solvers.newton import DatafitProblem, alpha_max_datafit
    >>> x = np.linspace(-1, 1, 20)[:, None]
    >>> fit = Huber(np.abs(x[:, 0]), np.full(20, 1 / 20), epsilon=1.0)
    >>> dic = ReLUDictionary(x, np.ones((1, 1)))
    >>> am = alpha_max_datafit(DatafitProblem(dic, fit, 1.0))
    >>> from radonsolve.solvers import WorkingSetProxNewton
    >>> len(WorkingSetProxNewton().solve(DatafitProblem(dic, fit, am)).idx)
    0
    """
    theta = problem.dual_point(problem.affine_fit()[1])
    corr = problem.dictionary.rmatvec(theta)
    return problem.group_penalty.dual_norm(corr)
