"""Classification on the ReLU dictionary: problem (C) as an instance of the one data-fit problem.

Problem (C) of :mod:`radonsolve.classifier` is problem (S) of :mod:`radonsolve.solvers.newton`
with the logistic data fit (two classes, one logit: the logit of class 1) or the multinomial
one (K > 2 classes, one logit per class, group penalty over the classes), optionally with
the ridge ``(beta / 2) ||c||^2`` on the skip connection's linear weights and the atoms of
both orientations (:class:`SignedDictionary`), which keeps it well-posed on separable data
(DESIGN §10):

    minimize_{V, B}  sum_n u_n L_n(F_n) + alpha * sum_j ||V_j||_2 + (beta / 2) ||c||^2    (C)

Everything that solves it is shared with the other losses: the working-set proximal Newton
driver (:class:`~radonsolve.solvers.newton.WorkingSetProxNewton`, also importable here as
:data:`WorkingSetNewton`), its restricted kernel and line search, the dual point and the
gap. This module keeps what is particular to classification: the problem's constructor from
class labels (:class:`LogisticProblem`, whose tolerances are relative to the entropy of the
class proportions, the loss of the best constant model: the affine fit's loss is 0 on
separable data), the dual point as class probabilities (``dual_probs``), the signed
dictionary, and alpha_max with the ridge tied to alpha.

The dual point as probabilities: ``pi'_n = e_{y_n} - theta'_n / u_n`` (two classes:
``(1 - pi'_n1, pi'_n1)``); the off-label entries are stored exactly, so that
``theta' = u (Y1 - pi')`` is recovered without cancellation (:meth:`LogisticProblem.dual_theta`).
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import entr
from threadpoolctl import threadpool_limits

from ..datafits import Logistic, Multinomial, cross_entropy
from ..dictionary import ReLUDictionary, relu_columns
from .newton import DatafitProblem, DatafitResult, WorkingSetProxNewton, prox_newton
from .reference import CvxpyDatafitSolver

__all__ = ["LogisticProblem", "SignedDictionary", "WorkingSetNewton", "CvxpyLogistic",
           "LogisticResult", "affine_fit", "alpha_max_logistic", "alpha_max_tied",
           "cross_entropy"]

#: The classifier's solver: the one working-set proximal Newton driver of every loss.
WorkingSetNewton = WorkingSetProxNewton


# ----------------------------------------------------------------------------- results
@dataclass
class LogisticResult(DatafitResult):
    """:class:`~radonsolve.solvers.newton.DatafitResult` in the classifier's shapes.

    ``affine`` has shape (r, T) and ``coef`` (k, T) also for two classes (T = 1), and two
    attributes are added.

    Attributes
    ----------
    logits : ndarray of shape (n_samples, T)
        Fitted logits on the training rows (``outputs`` with T columns).
    dual_probs : ndarray of shape (n_samples, n_classes) or None
        Probabilities pi' of the dual point ``theta' = u (Y1 - pi')`` that a certificate
        over all directions is computed for; None where pi' is not on the probability
        simplex (possible only far from the optimum: then there is no dual bound).
    """

    logits: np.ndarray = None
    dual_probs: np.ndarray = None


# ----------------------------------------------------------------------------- dictionary
class SignedDictionary:
    """ReLU atoms of both orientations, plus linear atoms: the dictionary of (C) with a ridge.

    With the skip's linear weights penalized, the atoms ``max(w.x - b, 0)`` and
    ``max(-w.x + b, 0)`` no longer differ by a free function (DESIGN §10), so every
    direction w of ``directions`` contributes the atoms of w and of -w (biases at the data
    projections, as in :class:`~radonsolve.dictionary.ReLUDictionary`), and, with
    ``linear=True``, the atom whose bias lies below every projection: ``w.x - min_n w.x_n``
    on the data, a neuron that is linear there (it costs ``alpha |v|`` while the skip's
    linear part costs ``beta ||c||^2 / 2``; both are available to the network).

    With ``two_sided=False, linear=False`` it is the plain (half-sphere) ReLU dictionary.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    directions : ndarray of shape (n_directions, n_features)
        Unit rows (canonical half-sphere).
    two_sided : bool, default=True
    linear : bool, default=True

    Attributes
    ----------
    n_atoms : int
    atom_direction : ndarray of shape (n_atoms,)
        A group label per atom: atoms along one oriented direction share it (the biases of
        one direction are scanned for local maxima); each linear atom has its own.
    direction_offsets : ndarray of int64, shape (n_groups + 1,)
        First atom of each group of ``atom_direction`` (the groups are contiguous), as
        :attr:`ReLUDictionary.direction_offsets <radonsolve.dictionary.ReLUDictionary>`.
    directions : ndarray of shape (n_directions, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.solvers.logistic import SignedDictionary
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> dic = SignedDictionary(X, np.ones((1, 1)))
    >>> dic.toarray()       # max(x - 1, 0), max(1 - x, 0), and the linear neuron x - 0
    array([[0., 1., 0.],
           [0., 0., 1.],
           [1., 0., 2.]])
    """

    def __init__(self, X, directions, two_sided=True, linear=True):
        X = np.asarray(X, dtype=float)
        W = np.atleast_2d(np.asarray(directions, dtype=float))
        self.X = X
        self.directions = W
        self.two_sided = bool(two_sided)
        self.linear = bool(linear)
        D = W.shape[0]
        self.relu = ReLUDictionary(X, np.vstack([W, -W]) if two_sided else W)
        self.n_relu = self.relu.n_atoms
        n_lin = D if linear else 0
        self.n_atoms = self.n_relu + n_lin
        n_or = self.relu.n_directions
        self.atom_direction = np.concatenate(
            [self.relu.atom_direction, n_or + np.arange(n_lin)]).astype(np.int64)
        self.direction_offsets = np.concatenate(
            [self.relu.direction_offsets, self.n_relu + np.arange(1, n_lin + 1)]).astype(np.int64)
        if linear:
            P = X @ W.T
            self._lin_bias = P.min(axis=0) if len(X) else np.zeros(D)
        else:
            self._lin_bias = np.zeros(0)

    def rmatvec(self, q):
        """Correlations of every atom with q (shape (N,) or (N, T)).

        Parameters
        ----------
        q : array-like of shape (n_samples,) or (n_samples, T)

        Returns
        -------
        ndarray of shape (n_atoms,) or (n_atoms, T)
            ReLU atoms first, then (with ``linear=True``) the linear atoms.
        """
        q = np.asarray(q, dtype=float)
        out = self.relu.rmatvec(q)
        if not self.linear:
            return out
        # (X w - b_w 1)^T q for every direction at once: d-dimensional work per direction.
        lin = self.directions @ (self.X.T @ q) - np.multiply.outer(self._lin_bias, q.sum(axis=0))
        return np.concatenate([out, lin], axis=0)

    def atoms(self, idx):
        """Oriented directions (k, d) and biases (k,) of the atoms ``idx``.

        Parameters
        ----------
        idx : array-like of int, shape (k,)
            Atom indices.

        Returns
        -------
        directions : ndarray of shape (k, n_features)
            Oriented unit directions (w or -w).
        biases : ndarray of shape (k,)
            For a linear atom, the smallest projection of the data on its direction.
        """
        idx = np.asarray(idx, dtype=np.int64)
        rel = idx < self.n_relu
        W = np.empty((len(idx), self.X.shape[1]))
        b = np.empty(len(idx))
        if rel.any():
            W[rel], b[rel] = self.relu.atoms(idx[rel])
        if (~rel).any():
            k = idx[~rel] - self.n_relu
            W[~rel] = self.directions[k]
            b[~rel] = self._lin_bias[k]
        return W, b

    def is_linear(self, idx):
        """Whether each atom of ``idx`` is a linear atom (not a ReLU atom).

        Parameters
        ----------
        idx : array-like of int
            Atom indices.

        Returns
        -------
        ndarray of bool of the shape of ``idx``
        """
        return np.asarray(idx, dtype=np.int64) >= self.n_relu

    def columns(self, idx, X=None):
        """Dense columns ``max(X w - b, 0)`` of the atoms ``idx`` (on the data by default).

        Parameters
        ----------
        idx : array-like of int, shape (k,)
            Atom indices (a small subset: the result is dense).
        X : array-like of shape (n_points, n_features) or None, default=None
            Points to evaluate the atoms at; None uses the data.

        Returns
        -------
        ndarray of shape (n_points, k)
        """
        W, b = self.atoms(idx)
        return relu_columns(self.X if X is None else X, W, b)

    def toarray(self):
        """The full dense matrix. For tests and small problems only.

        Returns
        -------
        ndarray of shape (n_samples, n_atoms)
        """
        return self.columns(np.arange(self.n_atoms))

    def remap(self, other, idx):
        """Indices in this dictionary of the atoms ``idx`` of ``other``, built on the same X
        with directions that start with all of ``other``'s (-1 where absent).

        Parameters
        ----------
        other : SignedDictionary
            The dictionary the atoms ``idx`` index into (same X, same options).
        idx : array-like of int, shape (k,)
            Atom indices in ``other``.

        Returns
        -------
        ndarray of int64, shape (k,)
            All -1 when this dictionary's directions do not start with ``other``'s.
        """
        idx = np.asarray(idx, dtype=np.int64)
        out = np.full(len(idx), -1, dtype=np.int64)
        D0, D1 = len(other.directions), len(self.directions)
        if D1 < D0 or not np.array_equal(self.directions[:D0], other.directions):
            return out
        rel = idx < other.n_relu
        if rel.any():
            k0 = other.relu.atom_direction[idx[rel]]
            k1 = k0.copy()
            if self.two_sided:
                k1 = np.where(k0 >= D0, k0 - D0 + D1, k0)
            off = idx[rel] - other.relu.direction_offsets[k0]
            out[rel] = self.relu.direction_offsets[k1] + off
        if (~rel).any() and self.linear:
            out[~rel] = self.n_relu + (idx[~rel] - other.n_relu)
        return out


# ----------------------------------------------------------------------------- problem
class LogisticProblem(DatafitProblem):
    """Problem (C) on a dictionary: :class:`~radonsolve.solvers.newton.DatafitProblem` with
    the logistic (two classes) or multinomial data fit, built from class labels.

    Parameters
    ----------
    dictionary : ReLUDictionary or SignedDictionary
        Built on the training X (rows with positive weight).
    y : ndarray of int, shape (n_samples,)
        Class indices in ``0 .. n_classes - 1``.
    u : ndarray of shape (n_samples,)
        Positive normalized sample weights.
    alpha : float
        Positive regularization strength.
    n_classes : int
        2 gives the logistic loss with one logit; more gives the multinomial loss with one
        logit per class.
    skip_penalty : float, default=0.0
        Weight beta of the ridge ``(beta / 2) ||c||^2`` on the skip connection's linear
        coefficients; 0 leaves the skip unpenalized.

    Attributes
    ----------
    null_objective : float
        Loss of the best constant model (the weighted entropy of the class proportions):
        the unit of relative tolerances (``scale``).
    binary : bool
    N : int

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.dictionary import ReLUDictionary
    >>> from radonsolve.solvers.logistic import LogisticProblem, WorkingSetNewton
    >>> X = np.linspace(-1, 1, 20)[:, None]
    >>> y = (np.abs(X[:, 0]) > 0.5).astype(int)
    >>> problem = LogisticProblem(ReLUDictionary(X, np.ones((1, 1))), y,
    ...                           np.full(20, 1 / 20), 1e-2, 2)
    >>> res = WorkingSetNewton().solve(problem)
    >>> res.converged, res.logits.shape, res.dual_probs.shape
    (True, (20, 1), (20, 2))
    """

    def __init__(self, dictionary, y, u, alpha, n_classes, skip_penalty=0.0):
        self.y = np.asarray(y, dtype=np.int64)
        self.u = np.asarray(u, dtype=float)
        self.n_classes = int(n_classes)
        self.binary = self.n_classes == 2
        if self.binary:
            datafit = Logistic(self.y.astype(float), self.u)
        else:
            datafit = Multinomial(self.y, self.u, self.n_classes)
        N = len(self.y)
        self.N = N
        self.Y1 = np.zeros((N, self.n_classes))
        self.Y1[np.arange(N), self.y] = 1.0
        self.is_y = self.Y1.astype(bool)
        # The objective of the best constant model: positive with two classes present.
        prop = np.bincount(self.y, weights=self.u, minlength=self.n_classes)
        self.null_objective = float(entr(prop).sum())
        super().__init__(dictionary, datafit, alpha, skip_penalty=skip_penalty,
                         scale=self.null_objective)

    def affine_start(self):
        """Zero: the affine fit has no minimizer on separable data with a free skip.

        Returns
        -------
        ndarray of shape (r, T)
        """
        return np.zeros((self.r, self.T))

    # ---------------------------------------------------------------- probabilities
    def logits2(self, F):
        """Logits of every class: (N, n_classes); for two classes (0, f).

        Parameters
        ----------
        F : ndarray of shape (n_samples, T)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        F = self._as2(F)
        if self.binary:
            return np.column_stack([np.zeros(len(F)), F[:, 0]])
        return F

    def probs(self, F):
        """Class probabilities (softmax of :meth:`logits2`).

        Parameters
        ----------
        F : ndarray of shape (n_samples, T)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        F2 = self.logits2(F)
        E = np.exp(F2 - F2.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)

    def dual_probs(self, theta):
        """Probabilities pi' of a dual point in logit space, or None off the simplex.

        Parameters
        ----------
        theta : ndarray of shape (n_samples,) or (n_samples, n_classes)

        Returns
        -------
        ndarray of shape (n_samples, n_classes) or None
        """
        if self.datafit.feasible_scale(theta) < 1.0:
            return None
        t = np.asarray(theta, dtype=float).reshape(self.N, -1) / self.u[:, None]
        if self.binary:
            off = np.where(self.y == 1, t[:, 0], -t[:, 0])[:, None] * (~self.is_y)
        else:
            off = np.where(self.is_y, 0.0, -t)
        off = np.clip(off, 0.0, 1.0)
        P = off.copy()
        P[self.is_y] = np.maximum(1.0 - off.sum(axis=1), 0.0)
        return P

    def dual_theta(self, Pp):
        """theta of pi' in logit space: (N,) for two classes, (N, K) otherwise.

        The label's entry is the sum of the others' (no cancellation).

        Parameters
        ----------
        Pp : ndarray of shape (n_samples, n_classes)
            Dual probabilities.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        Th = -self.u[:, None] * Pp
        Th[self.is_y] = self.u * np.where(self.is_y, 0.0, Pp).sum(axis=1)
        return Th[:, 1] if self.binary else Th

    def gap_for_sup(self, F, V, B, Pp, corr_sup):
        """Duality gap given the largest correlation ``corr_sup`` of the dual point with
        *any* atom (e.g. ``alpha * sup eta`` from a certificate over all directions).

        Parameters
        ----------
        F : ndarray of shape (n_samples, T)
            Logits.
        V : ndarray of shape (n_active, T)
            Coefficients of the atoms.
        B : ndarray of shape (r, T) or None
            Affine coefficients.
        Pp : ndarray of shape (n_samples, n_classes) or None
            Dual probabilities.
        corr_sup : float
            Largest correlation norm of the dual point with any atom.

        Returns
        -------
        float
            The primal objective itself when there is no dual point or ``corr_sup`` is not
            finite.
        """
        primal = self.objective(F, V, B)
        if Pp is None:
            return primal
        return primal - self.dual_bound(self.dual_theta(Pp), corr_sup)

    def make_result(self, idx, coef, B, F, theta, **kwargs):
        """:meth:`DatafitProblem.make_result` in the classifier's shapes (see
        :class:`LogisticResult`).

        Parameters
        ----------
        idx, coef, B, F, theta
            As for :meth:`DatafitProblem.make_result`.
        **kwargs
            Passed to it.

        Returns
        -------
        LogisticResult
        """
        res = super().make_result(idx, coef, B, F, theta, **kwargs)
        fields = {k: getattr(res, k) for k in res.__dataclass_fields__}
        fields["affine"] = np.asarray(res.affine).reshape(self.r, self.T)
        fields["logits"] = np.asarray(res.outputs).reshape(self.N, self.T)
        fields["dual_probs"] = self.dual_probs(theta) if theta is not None else None
        return LogisticResult(**fields)


# ----------------------------------------------------------------------------- alpha_max
def affine_fit(problem, tol=1e-12, primal_tol=1e-7, max_newton=100, B0=None):
    """Fit of the skip connection alone (ridge-penalized or free) by proximal Newton.

    Stops when the duality gap is below ``tol`` or the loss below ``primal_tol`` (both
    relative to the loss of the constant model). The second rule matters only when the
    classes are linearly separable and the skip is free: then there is no minimizer, the
    loss tends to 0 as the logits grow along the separating direction, and Newton steps only
    push them on.

    Parameters
    ----------
    problem : LogisticProblem
    tol : float, default=1e-12
        Relative duality gap at which Newton stops.
    primal_tol : float, default=1e-7
        Relative loss at which Newton stops (separable classes).
    max_newton : int, default=100
        Maximum Newton steps.
    B0 : ndarray of shape (r, T) or None, default=None
        Starting coefficients (zero when None).

    Returns
    -------
    B : ndarray of shape (r, T)
        Coefficients on the problem's affine columns ``problem.A``.
    F : ndarray of shape (n_samples, T)
        The fitted logits ``A B``.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _affine_fit(problem, tol, primal_tol, max_newton, B0)


def _affine_fit(problem, tol=1e-12, primal_tol=1e-7, max_newton=100, B0=None):
    B = np.zeros((problem.r, problem.T)) if B0 is None else \
        np.array(B0, dtype=float).reshape(problem.r, problem.T)
    F = problem.A @ B
    scale = max(problem.scale, 1e-300)
    B, F, _, _ = prox_newton(problem, problem.A, B, F, tol * scale, max_newton=max_newton,
                             primal_eps=primal_tol * scale)
    return B, F


def alpha_max_logistic(problem, F=None):
    """Smallest alpha with no neuron: ``max_j ||Phi_j^T theta||`` at the affine fit.

    theta is the dual point (orthogonal to the free affine functions), i.e. minus the
    gradient of the weighted loss with respect to the logits, projected. When the classes
    are linearly separable and the skip is free the affine fit has no minimizer, the
    gradient tends to zero and so does alpha_max (returned at the approximate fit).

    Parameters
    ----------
    problem : LogisticProblem
        Its alpha is not used.
    F : ndarray of shape (n_samples, T) or None, default=None
        Logits of the affine fit, computed by :func:`affine_fit` when None.

    Returns
    -------
    float
    """
    if F is None:
        _, F = affine_fit(problem)
    corr = problem.dictionary.rmatvec(problem.dual_point(F))
    if corr.size == 0:
        return 0.0
    if corr.ndim == 1:
        return float(np.abs(corr).max())
    return float(np.sqrt(np.einsum("ij,ij->i", corr, corr).max()))


def alpha_max_tied(dictionary, y, u, n_classes, rtol=1e-7, max_steps=200):
    """Smallest alpha with no atom when the skip's ridge is tied to it (``beta = alpha``).

    At a given alpha the fit has no atom iff ``max_j ||Phi_j^T theta(alpha)|| <= alpha``
    with theta(alpha) the dual point of the ridge(alpha) affine fit (linear atoms
    included: their correlation is ``w . X^T theta = alpha w . c``, so they enter when
    ``||c|| > 1``). The root of ``log(max_j ||Phi_j^T theta(alpha)|| / alpha)`` in log
    alpha is bracketed (factors of 4), then found by Brent's method; the returned alpha is
    the end of the final bracket at which no atom enters (within ``rtol``). Finite and
    positive on separable data: the ridge keeps the affine fit bounded. Should the ratio
    cross 1 more than once, this is the crossing nearest the first bracket found.

    Parameters
    ----------
    dictionary : SignedDictionary or ReLUDictionary
    y : ndarray of int, shape (n_samples,)
        Class indices in ``0 .. n_classes - 1``.
    u : ndarray of shape (n_samples,)
        Positive normalized sample weights.
    n_classes : int
    rtol : float, default=1e-7
        Relative accuracy of the root in alpha.
    max_steps : int, default=200
        Maximum bracketing steps and Brent iterations.

    Returns
    -------
    float
        ``inf`` if atoms enter at every alpha tried, 0.0 if none enters at any.
    """
    from scipy.optimize import brentq

    cache = {}
    warm = [None]

    def log_ratio(t):
        if t not in cache:
            a = float(np.exp(t))
            prob = LogisticProblem(dictionary, y, u, a, n_classes, skip_penalty=a)
            B, F = _affine_fit(prob, B0=warm[0])
            warm[0] = B
            cache[t] = float(np.log(max(alpha_max_logistic(prob, F), 1e-300) / a))
        return cache[t]

    with threadpool_limits(limits=1, user_api="blas"):
        t = 0.0
        step = np.log(4.0)
        f = log_ratio(t)
        lo = hi = None
        for _ in range(max_steps):
            if f > 0:
                lo = t
                if hi is not None:
                    break
                t += step
            else:
                hi = t
                if lo is not None:
                    break
                t -= step
            if abs(t) > 690:
                break
            f = log_ratio(t)
        if hi is None:
            return float("inf")
        if lo is None:
            # No atom at any alpha tried: the data are fit by the affine part alone.
            return 0.0
        root = brentq(log_ratio, lo, hi, xtol=0.25 * rtol, rtol=1e-15, maxiter=max_steps)
        # The no-atom side of the root.
        for k in range(60):
            t = root + rtol * (k + 1) ** 2
            if t >= hi or log_ratio(t) <= 0:
                break
        return float(np.exp(min(t, hi)))


# ----------------------------------------------------------------------------- reference
class CvxpyLogistic(CvxpyDatafitSolver):
    """Problem (C) on the dense dictionary, solved by cvxpy (Clarabel): the reference.

    :class:`~radonsolve.solvers.reference.CvxpyDatafitSolver` (the loss from the data fit,
    the skip connection as variables, the group penalty over the logits and the ridge on
    the skip) with a smaller default limit on the dense problem; results in the
    classifier's shapes (:class:`LogisticResult`).

    Parameters
    ----------
    max_dense_entries : int, default=5_000_000
        Refuse problems whose dense dictionary times the number of logits exceeds this.
    verbose : int, default=0
        Above 1, Clarabel prints its log.
    **solver_options
        Passed to Clarabel (its tolerances default to 1e-10 here).

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.dictionary import ReLUDictionary
    >>> from radonsolve.solvers.logistic import (CvxpyLogistic, LogisticProblem,
    ...                                          WorkingSetNewton)
    >>> X = np.linspace(-1, 1, 12)[:, None]
    >>> y = (np.abs(X[:, 0]) > 0.5).astype(int)
    >>> problem = LogisticProblem(ReLUDictionary(X, np.ones((1, 1))), y,
    ...                           np.full(12, 1 / 12), 1e-2, 2, skip_penalty=1e-2)
    >>> ref = CvxpyLogistic().solve(problem)
    >>> ours = WorkingSetNewton(tol=1e-10).solve(problem)
    >>> bool(np.isclose(ours.objective, ref.objective, rtol=1e-6))
    True
    """

    def __init__(self, max_dense_entries=5_000_000, verbose=0, **solver_options):
        super().__init__(max_dense_entries=max_dense_entries, verbose=verbose,
                         **solver_options)
