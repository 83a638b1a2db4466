"""Working-set proximal Newton solver for classification on the structured ReLU dictionary.

Problem (DESIGN §1 with a logistic or multinomial data fit). With normalized sample weights u
(sum to one), logits ``F = Phi V + A B`` (Phi the ReLU dictionary, ``A = [1, X]`` the
unpenalized skip connection), and the per-sample loss ``L_n(F_n) = logsumexp(F2_n) - F2_n[y_n]``
(``F2_n = (0, f_n)`` for two classes with a single logit f, ``F2_n = F_n`` for K > 2 classes),

    minimize_{V, B}  sum_n u_n L_n(F_n) + alpha * sum_j ||V_j||_2          (C)

(``|V_j|`` with one logit).

Solver
------
A working set of atoms holds dense columns; the restricted problem on ``Z = [A_basis, Phi_ws]``
(A_basis an orthonormal basis of span{1, X}) is solved by proximal Newton: at each step the
exact Hessian of the loss gives a quadratic model, the unpenalized affine block is eliminated
exactly (Schur complement; for K classes on the zero-sum subspace, since a common shift of the
logits changes nothing), the remaining (group) lasso on a small Gram matrix is solved exactly
by an active-set method (feature-sign search for one logit, its group analogue with Newton
steps on the active blocks for K logits), and an Armijo backtracking line search on (C) makes
the step. Coordinate descent was measured first for the subproblem and crawled: neighbouring
ReLU atoms are nearly collinear. One structured pass ``Phi^T theta`` over all atoms then prices
them (the gradient of the loss with respect to the logits is ``-theta``); the most violating
local maxima along each direction's biases enter (as many as there are nonzero atoms, at
least 10, so the working set roughly doubles), and the loop stops on the duality gap below.

Duality gap (computed, never assumed)
-------------------------------------
Fenchel duality for (C) gives, for any dual point theta (N x T2, one column per class)

    D(theta) = sum_n u_n H(pi_n),   pi_n = Y1_n - theta_n / u_n,                      (dual)

with H the Shannon entropy (``-L_n^*`` is the negative entropy on the simplex; for two classes
the binary entropy of ``(1 - p, p)``), valid whenever pi_n lies on the probability simplex,
``A^T theta = 0`` (the unpenalized skip connection) and ``||Phi_j^T theta|| <= alpha`` for
every atom j. The dual point is built from the current probabilities ``pi = softmax(F2)``:

1. ``theta = u (Y1 - pi)`` (minus the gradient of the weighted loss in the logits);
2. affine feasibility by a projection in the Hessian metric: ``pi'_n = pi_n + H_n z_n`` with
   ``H_n = diag(pi_n) - pi_n pi_n^T`` and ``z_n = Lambda^T a_n`` where Lambda solves the affine
   Newton system ``(A^T W A) Lambda = A^T theta``; then ``A^T u (Y1 - pi') = 0`` exactly (up to
   rounding, which is checked), rows still sum to one, and
   ``pi'_nt = pi_nt (1 + z_nt - pi_n . z_n)`` stays nonnegative when the correction is small
   (checked; near the optimum it is of the size of the affine gradient, i.e. tiny);
3. rescaling as in celer/skglm: ``s = min(1, alpha / max_j ||Phi_j^T theta'||)`` and
   ``pi'' = (1 - s) Y1 + s pi'`` (a convex combination, so it stays on the simplex; for two
   classes this is the usual ``0 <= p <= 1`` condition).

The gap is ``P - max(D(theta''), 0)``: ``theta = 0`` (``pi = Y1``) is always dual feasible
with value 0, which keeps the bound valid (and convergent) when the projection is
impossible, e.g. when the classes are linearly separable and (C) has no minimizer (the
unpenalized skip connection then diverges and P tends to 0).
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize_scalar
from scipy.special import entr
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from ..dictionary import ReLUDictionary, relu_columns
from ._cd import lasso_active_set
from .result import SolverResult, merge_warm_start
from .working_set import _MAX_ADD, _N_TRACK, _SINGULAR

__all__ = ["LogisticProblem", "SignedDictionary", "WorkingSetNewton", "CvxpyLogistic",
           "LogisticResult", "affine_fit", "alpha_max_logistic", "alpha_max_tied"]


# ----------------------------------------------------------------------------- results
@dataclass
class LogisticResult(SolverResult):
    """:class:`SolverResult` plus the skip connection (``skip_coef``, ``skip_intercept``).

    ``affine`` holds the skip's coefficients in the problem's affine basis (a warm start),
    ``logits`` the fitted logits on the training rows, and ``dual_probs`` the probabilities
    pi' of the affine-feasible dual point (None where it could not be built): the dual
    point ``theta = u (Y1 - pi')`` that a certificate over all directions is computed for.

    Attributes
    ----------
    skip_coef : ndarray of shape (n_features,) or (n_features, n_classes)
        Linear part of the skip connection (per class with more than two classes).
    skip_intercept : float or ndarray of shape (n_classes,)
    affine : ndarray of shape (r, T)
        The skip's coefficients in the problem's affine basis.
    logits : ndarray of shape (n_samples, T)
        Fitted logits on the training rows.
    dual_probs : ndarray of shape (n_samples, n_classes) or None
        Probabilities pi' of the affine-feasible dual point.
    """

    skip_coef: np.ndarray = None
    skip_intercept: object = None
    affine: np.ndarray = None
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
class LogisticProblem:
    """Problem (C) on a dictionary.

    Parameters
    ----------
    dictionary : ReLUDictionary
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
    """

    def __init__(self, dictionary, y, u, alpha, n_classes, skip_penalty=0.0):
        self.dictionary = dictionary
        self.X = dictionary.X
        self.y = np.asarray(y, dtype=np.int64)
        self.u = np.asarray(u, dtype=float)
        self.alpha = float(alpha)
        self.skip_penalty = float(skip_penalty)
        self.n_classes = int(n_classes)
        self.binary = self.n_classes == 2
        self.T = 1 if self.binary else self.n_classes
        N, d = self.X.shape
        self.N = N
        self.Y1 = np.zeros((N, self.n_classes))
        self.Y1[np.arange(N), self.y] = 1.0
        self.is_y = self.Y1.astype(bool)
        if self.skip_penalty > 0:
            # Ridge on the skip's linear weights in the user's coordinates: the smooth block
            # is [1, X] itself, with curvature beta on every column but the intercept's.
            self.A = np.ascontiguousarray(np.column_stack([np.ones(N), self.X]))
            self.r = d + 1
            self.ridge = np.concatenate([[0.0], np.full(d, self.skip_penalty)])
            self._to_affine = np.eye(d + 1)
            # Only the intercept is free: the dual point need only be orthogonal to 1.
            self.A_free = np.full((N, 1), 1.0 / np.sqrt(max(N, 1)))
        else:
            # Orthonormal basis of span{1, X}: conditioning of the unpenalized block, and
            # rank deficiency (collinear features, fewer samples than features) handled once.
            A = np.column_stack([np.ones(N), self.X])
            U, s, Vt = np.linalg.svd(A, full_matrices=False)
            rank = int(np.sum(s > s[0] * max(A.shape) * np.finfo(float).eps)) if s.size else 0
            self.A = np.ascontiguousarray(U[:, :rank])
            self._to_affine = Vt[:rank].T / s[:rank]           # [c0; c] = _to_affine @ B
            self.r = rank
            self.ridge = np.zeros(rank)
            self.A_free = self.A
        # Scale of the tolerances: the objective of the best constant model, i.e. the
        # (weighted) entropy of the class proportions. Positive with two classes present.
        prop = np.bincount(self.y, weights=self.u, minlength=self.n_classes)
        self.null_objective = float(entr(prop).sum())

    # ---------------------------------------------------------------- loss pieces
    def logits2(self, F):
        """Logits of every class: (N, n_classes); for two classes (0, f).

        Parameters
        ----------
        F : ndarray of shape (n_samples, T)
            Logits (T = 1 for two classes: the logit of class 1).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        if self.binary:
            return np.column_stack([np.zeros(len(F)), F[:, 0]])
        return F

    def probs(self, F):
        """Class probabilities (softmax of :meth:`logits2`).

        Parameters
        ----------
        F : ndarray of shape (n_samples, T)
            Logits (T = 1 for two classes: the logit of class 1).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        F2 = self.logits2(F)
        E = np.exp(F2 - F2.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)

    def losses(self, F):
        """Per-sample losses, accurate when they are tiny (no 1 - p cancellation).

        Parameters
        ----------
        F : ndarray of shape (n_samples, T)
            Logits (T = 1 for two classes: the logit of class 1).

        Returns
        -------
        ndarray of shape (n_samples,)
            Cross-entropy of each sample's label.
        """
        return cross_entropy(self.logits2(F), self.is_y)

    def loss(self, F):
        """Weighted loss ``sum_n u_n l_n(F)``.

        Parameters
        ----------
        F : ndarray of shape (n_samples, T)
            Logits (T = 1 for two classes: the logit of class 1).

        Returns
        -------
        float
        """
        return float(self.u @ self.losses(F))

    def penalty(self, V):
        """``alpha * sum_j ||V_j||`` of the atoms' coefficients.

        Parameters
        ----------
        V : ndarray of shape (n_active, T)

        Returns
        -------
        float
        """
        if V.size == 0:
            return 0.0
        return self.alpha * float(np.linalg.norm(V, axis=1).sum())

    def ridge_penalty(self, B):
        """``(beta / 2) ||c||^2`` of the affine coefficients B (r, T); 0 for a free skip.

        Parameters
        ----------
        B : ndarray of shape (r, T) or None
            Affine coefficients (None counts as no ridge).

        Returns
        -------
        float
        """
        if B is None or self.skip_penalty <= 0:
            return 0.0
        return 0.5 * float(np.sum(self.ridge[:, None] * np.asarray(B).reshape(self.r, -1) ** 2))

    def objective(self, F, V, B=None):
        """Objective of (C): loss, group penalty and ridge on the skip.

        Parameters
        ----------
        F : ndarray of shape (n_samples, T)
            Logits.
        V : ndarray of shape (n_active, T)
            Coefficients of the atoms.
        B : ndarray of shape (r, T) or None, default=None
            Affine coefficients (for the ridge).

        Returns
        -------
        float
        """
        return self.loss(F) + self.penalty(V) + self.ridge_penalty(B)

    def theta(self, Pi):
        """``u (Y1 - pi)`` with the true-class entry computed as the sum of the others.

        Parameters
        ----------
        Pi : ndarray of shape (n_samples, n_classes)
            Class probabilities (e.g. :meth:`probs`).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        Th = -self.u[:, None] * Pi
        Th[self.is_y] = self.u * _others(Pi, self.is_y)
        return Th

    def logit_grad(self, Pi):
        """Gradient of the weighted loss w.r.t. the logits F, shape (N, T).

        Parameters
        ----------
        Pi : ndarray of shape (n_samples, n_classes)
            Class probabilities (e.g. :meth:`probs`).

        Returns
        -------
        ndarray of shape (n_samples, T)
        """
        Th = self.theta(Pi)
        return -Th[:, 1:2] if self.binary else -Th

    # ---------------------------------------------------------------- Hessians
    def hessian(self, Z, Pi):
        """Hessian of the weighted loss in the coefficients of Z: (p T, p T), index j*T + t.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, p)
            Columns whose coefficients the logits are linear in.
        Pi : ndarray of shape (n_samples, n_classes)
            Class probabilities at the current logits.

        Returns
        -------
        ndarray of shape (p * T, p * T)
        """
        p = Z.shape[1]
        T = self.T
        u = self.u
        if self.binary:
            w = u * Pi[:, 0] * Pi[:, 1]
            return Z.T @ (w[:, None] * Z)
        H = np.empty((p, T, p, T))
        for t in range(T):
            for s_ in range(t, T):
                h = -u * Pi[:, t] * Pi[:, s_]
                if s_ == t:
                    h = h + u * Pi[:, t]
                M = Z.T @ (h[:, None] * Z)
                H[:, t, :, s_] = M
                if s_ != t:
                    H[:, s_, :, t] = M
        return H.reshape(p * T, p * T)

    def affine_pinv(self, H_AA):
        """Pseudo-inverse of the Hessian block of the affine coefficients (index j*T + t).

        With K > 2 classes, logits shifted by a common constant give the same loss, so the
        block is singular along the class-constant directions. It is inverted on the
        zero-sum subspace, explicitly, rather than by an eigenvalue cutoff that would also
        have to decide on the genuinely small curvatures of nearly separable data. (With
        the ridge on the skip, its optimum is centred over the classes too, so steps stay
        in that subspace.)

        Parameters
        ----------
        H_AA : ndarray of shape (r * T, r * T)
            Hessian block of the affine coefficients (see :meth:`hessian`).

        Returns
        -------
        ndarray of shape (r * T, r * T)
        """
        if self.binary:
            return _psd_pinv(H_AA)
        r = H_AA.shape[0] // self.T
        E = self._zero_sum_basis()
        Eb = np.kron(np.eye(r), E)
        return Eb @ _psd_pinv(Eb.T @ H_AA @ Eb) @ Eb.T

    def _zero_sum_basis(self):
        if getattr(self, "_E", None) is None:
            K = self.T
            # Orthonormal basis of {v : sum v = 0}: eigenvectors of the centring matrix.
            M = np.eye(K) - 1.0 / K
            w, U = np.linalg.eigh(M)
            self._E = U[:, w > 0.5]
        return self._E

    # ---------------------------------------------------------------- dual
    def dual_point(self, Pi):
        """Affine-feasible dual probabilities pi' (N, n_classes), or None if impossible.

        Projection in the Hessian metric (module docstring, step 2).

        Parameters
        ----------
        Pi : ndarray of shape (n_samples, n_classes)
            Class probabilities (e.g. :meth:`probs`).

        Returns
        -------
        ndarray of shape (n_samples, n_classes) or None
            None when the projection leaves the simplex or misses affine feasibility
            beyond rounding.
        """
        A = self.A_free
        Th = self.theta(Pi)
        G = A.T @ (Th[:, 1:2] if self.binary else Th)          # (r, T) = A^T theta
        H = self.hessian(A, Pi)
        lam = (self.affine_pinv(H) @ G.ravel()).reshape(A.shape[1], self.T)
        Zl = A @ lam                                             # z_n for each sample
        if self.binary:
            Zl = np.column_stack([np.zeros(self.N), Zl[:, 0]])
        factor = 1.0 + Zl - np.sum(Pi * Zl, axis=1, keepdims=True)
        if np.any(factor < 0) or not np.all(np.isfinite(factor)):
            return None
        Pp = Pi * factor
        # Affine feasibility reached up to rounding? (a dual point that violates it gives
        # no bound; the tolerance is rounding relative to the size of the summed terms.)
        Thp = self.theta(Pp)
        Tc = Thp[:, 1:2] if self.binary else Thp
        viol = np.abs(A.T @ Tc).max(initial=0.0)
        scale = (np.abs(A).T @ np.abs(Tc)).max(initial=0.0)
        if viol > 1e-10 * scale + 1e-300:
            return None
        return Pp

    def dual_value(self, Pp, s):
        """``sum_n u_n H((1 - s) Y1_n + s pi'_n)``, accurate when the entropies are tiny.

        Parameters
        ----------
        Pp : ndarray of shape (n_samples, n_classes)
            Dual probabilities pi' from :meth:`dual_point`.
        s : float
            Scaling of the dual point, in [0, 1].

        Returns
        -------
        float
            The entropy part of the dual objective (H the entropy).
        """
        off = s * np.where(self.is_y, 0.0, Pp)                   # wrong-class masses
        delta = off.sum(axis=1)                                  # 1 - mass of the true class
        h = entr(off).sum(axis=1) - (1.0 - delta) * np.log1p(-np.minimum(delta, 1.0))
        return float(self.u @ h)

    def dual_theta(self, Pp):
        """theta of pi' in logit space: (N,) for two classes, (N, K) otherwise.

        Parameters
        ----------
        Pp : ndarray of shape (n_samples, n_classes)
            Dual probabilities.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        Th = self.theta(Pp)
        return Th[:, 1] if self.binary else Th

    def dual_objective(self, Pp, s):
        """Dual value at the dual point ``s theta(pi')`` (feasible when ``s`` is small enough).

        ``sum_n u_n H((1 - s) Y1_n + s pi'_n)``, minus ``s^2 ||X^T theta'||^2 / (2 beta)``
        with the ridge on the skip (the conjugate of ``(beta / 2) ||c||^2``).

        Parameters
        ----------
        Pp : ndarray of shape (n_samples, n_classes)
            Dual probabilities pi' from :meth:`dual_point`.
        s : float
            Scaling of the dual point, in [0, 1].

        Returns
        -------
        float
        """
        val = self.dual_value(Pp, s)
        if self.skip_penalty > 0:
            g = self.X.T @ self.dual_theta(Pp)
            val -= 0.5 * s * s * float(np.sum(g * g)) / self.skip_penalty
        return val

    def best_dual(self, Pp, s_max):
        """Largest dual value over the scalings ``0 <= s <= s_max`` (concave in s).

        Parameters
        ----------
        Pp : ndarray of shape (n_samples, n_classes)
            Dual probabilities.
        s_max : float
            Largest feasible scaling.

        Returns
        -------
        float
            At least 0 (the dual value at s = 0).
        """
        at_end = self.dual_objective(Pp, s_max)
        best = max(at_end, 0.0)
        # Concave in s: when it still increases at s_max, s_max is the maximizer.
        h = 1e-7 * s_max
        if s_max > 0 and self.dual_objective(Pp, s_max - h) > at_end:
            res = minimize_scalar(lambda t: -self.dual_objective(Pp, t), bounds=(0.0, s_max),
                                  method="bounded", options={"xatol": 1e-9 * s_max})
            if np.isfinite(res.fun):
                best = max(best, -float(res.fun))
        return best

    def gap_parts(self, F, V, corr_fn, B=None):
        """(primal, dual, Pp, dual-point correlations) at logits F and coefficients V.

        ``corr_fn(theta)`` returns the correlations of theta with the atoms considered (the
        working set, or the whole dictionary). B: the affine coefficients (for the ridge).

        Parameters
        ----------
        F : ndarray of shape (n_samples, T)
            Logits.
        V : ndarray of shape (n_active, T)
            Coefficients of the atoms.
        corr_fn : callable
            Maps a dual point theta to its correlations with the atoms considered.
        B : ndarray of shape (r, T) or None, default=None
            Affine coefficients.

        Returns
        -------
        primal : float
        dual : float
            0.0 when no dual point could be built.
        Pp : ndarray of shape (n_samples, n_classes) or None
        corr : ndarray or None
            ``corr_fn`` at the dual point.
        """
        Pi = self.probs(F)
        primal = self.objective(F, V, B)
        Pp = self.dual_point(Pi)
        if Pp is None:
            return primal, 0.0, None, None
        corr = corr_fn(self.dual_theta(Pp))
        cmax = _max_row_norm(corr)
        s = 1.0 if cmax <= self.alpha else self.alpha / cmax
        dual = self.best_dual(Pp, s)
        return primal, dual, Pp, corr

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
        if Pp is None or not np.isfinite(corr_sup):
            return primal
        s = 1.0 if corr_sup <= self.alpha else self.alpha / corr_sup
        return primal - self.best_dual(Pp, s)

    # ---------------------------------------------------------------- output
    def skip_connection(self, B):
        """Affine coefficients (c (d[, T]), c0 ([T])) from basis coefficients B (r, T).

        Parameters
        ----------
        B : ndarray of shape (r, T)
            Coefficients in the problem's affine basis.

        Returns
        -------
        coef : ndarray of shape (n_features,) or (n_features, T)
        intercept : float or ndarray of shape (T,)
        """
        beta = self._to_affine @ np.asarray(B).reshape(self.r, self.T)
        if self.binary:
            return beta[1:, 0], float(beta[0, 0])
        return beta[1:], beta[0]


def cross_entropy(F2, is_y):
    """``logsumexp(F2_n) - F2_n[y_n]`` per row, accurate when it is tiny.

    Parameters
    ----------
    F2 : ndarray of shape (n_samples, n_classes)
        Logits of every class.
    is_y : ndarray of bool, shape (n_samples, n_classes)
        One-hot mask of the labels.

    Returns
    -------
    ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.solvers.logistic import cross_entropy
    >>> cross_entropy(np.zeros((1, 2)), np.array([[True, False]])).round(6)
    array([0.693147])
    """
    Dm = F2 - F2[is_y][:, None]
    m = Dm.max(axis=1)
    E = np.exp(Dm - m[:, None])
    E[is_y] = 0.0
    others = E.sum(axis=1)
    with np.errstate(divide="ignore"):
        return np.where(m == 0.0, np.log1p(others), m + np.log(np.exp(-m) + others))


def _others(Pi, is_y):
    """Total probability of the wrong classes, computed without cancellation."""
    return np.where(is_y, 0.0, Pi).sum(axis=1)


def _max_row_norm(C):
    if C is None or C.size == 0:
        return 0.0
    if C.ndim == 1:
        return float(np.abs(C).max())
    return float(np.sqrt(np.einsum("ij,ij->i", C, C).max()))


def _psd_pinv(H, rcond=1e-12):
    if H.size == 0:
        return np.zeros_like(H)
    w, Q = np.linalg.eigh(H)
    cut = rcond * max(w.max(initial=0.0), 1e-300)
    inv = np.where(w > cut, 1.0 / np.where(w > cut, w, 1.0), 0.0)
    return (Q * inv) @ Q.T


# ----------------------------------------------------------------------------- kernels
def _group_active_set(S, c, x, alpha, T, tol, max_steps=10000):
    """Group lasso ``min 0.5 x^T S x - c^T x + alpha sum_j ||x_j||`` (blocks of T), in place.

    The group analogue of feature-sign search. Coordinate descent crawls on this dictionary
    (neighbouring ReLU atoms are nearly collinear) and, started from many small blocks,
    keeps near-duplicate atoms alive; here blocks enter a few at a time, the most violating
    first (``||g_j|| > alpha``), at the exact minimizer along their steepest direction, and
    the objective restricted to the active blocks, smooth there (the Hessian of
    ``alpha ||x_j||`` is ``alpha / ||x_j|| (I - xh xh^T)``), is minimized by Newton steps.
    The line search tries the full step and, for each block that the step drives close to
    zero, the point of the segment nearest to zero with that block set exactly to zero
    (the block then leaves): the way out of the degenerate directions that move weight
    between two near-duplicate atoms. Stops when every KKT violation is below ``tol``.
    Returns (steps, violation) with violation 0.0 on success, inf otherwise.
    """
    q = x.shape[0]
    k = q // T
    Xb = x.reshape(k, T)
    g = c - S @ x                      # minus the gradient of the smooth part
    nrm = np.linalg.norm(Xb, axis=1)
    active = nrm > 0
    need_solve = bool(active.any())
    eyeT = np.eye(T)
    steps = 0
    stall = 0

    while steps < max_steps:
        steps += 1
        if not need_solve:
            G = g.reshape(k, T)
            gn = np.linalg.norm(G, axis=1)
            gn[active] = -np.inf
            viol = np.flatnonzero(gn > alpha + tol)
            if not len(viol):
                return steps, 0.0
            # Several blocks enter per Newton solve (a quarter of the support, the most
            # violating first): one at a time, each solve of size |A| T made hundreds of
            # neurons cost thousands of dense solves. Each enters at its exact minimizer
            # along its steepest direction given those before it, so the objective still
            # decreases at every entry.
            n_add = max(1, int(active.sum()) // 4)
            for j in viol[np.argsort(-gn[viol])[:n_add]]:
                sl = slice(j * T, (j + 1) * T)
                gj = g[sl]
                nj = float(np.linalg.norm(gj))
                if nj <= alpha + tol:
                    continue
                uj = gj / nj
                curv = float(uj @ S[sl, sl] @ uj)
                if curv <= 0:
                    return steps, np.inf
                step = (nj - alpha) / curv * uj
                x[sl] = step
                g -= S[:, sl] @ step
                active[j] = True
            need_solve = True
            continue
        act = np.flatnonzero(active)
        na = len(act)
        ii = (act[:, None] * T + np.arange(T)).ravel()
        xs = x[ii].copy()
        Xs = xs.reshape(na, T)
        nr = np.linalg.norm(Xs, axis=1)
        xh = Xs / nr[:, None]
        gr = -g[ii] + alpha * xh.ravel()            # gradient of the objective on the support
        S_aa = S[np.ix_(ii, ii)]
        M = S_aa.copy()
        M4 = M.reshape(na, T, na, T)
        ar = np.arange(na)
        M4[ar, :, ar, :] += (alpha / nr)[:, None, None] * (
            eyeT[None] - xh[:, :, None] * xh[:, None, :])
        M[np.diag_indices_from(M)] += 1e-12 * max(np.trace(M) / len(M), 1e-300)
        # M is symmetric positive definite on the support (S is, and the penalty's Hessian
        # is positive semidefinite): Cholesky, half the cost of a general solve.
        try:
            dlt = -cho_solve(cho_factor(M, check_finite=False), gr, check_finite=False)
        except np.linalg.LinAlgError:
            dlt = -np.linalg.lstsq(M, gr, rcond=None)[0]
        if not np.all(np.isfinite(dlt)):
            return steps, np.inf
        Sd = S_aa @ dlt
        gd = -float(g[ii] @ dlt)
        dSd = float(dlt @ Sd)
        D = dlt.reshape(na, T)
        pen0 = alpha * float(nr.sum())
        gl = -g[ii]

        none = np.zeros(0, dtype=np.int64)

        def change(t, zeros=none):
            """Objective change at xs + t dlt with the blocks ``zeros`` set to zero."""
            Xn = Xs + t * D
            f = t * gd + 0.5 * t * t * dSd
            if len(zeros):
                zi = (zeros[:, None] * T + np.arange(T)).ravel()
                e = -Xn[zeros].ravel()
                f += float(gl[zi] @ e) + t * float(Sd[zi] @ e) \
                    + 0.5 * float(e @ S_aa[np.ix_(zi, zi)] @ e)
                Xn = Xn.copy()
                Xn[zeros] = 0.0
            return f + alpha * float(np.linalg.norm(Xn, axis=1).sum()) - pen0

        cands = [(1.0, none)]
        dd = np.einsum("ij,ij->i", D, D)
        with np.errstate(divide="ignore", invalid="ignore"):
            tstar = -np.einsum("ij,ij->i", Xs, D) / dd
        near = np.flatnonzero((tstar > 0) & (tstar < 1))
        if len(near):
            dist = np.linalg.norm(Xs[near] + tstar[near, None] * D[near], axis=1)
            near = near[dist <= 0.5 * nr[near]]
            near = near[np.argsort(tstar[near])]
            # Each block alone at its closest approach to zero, and every prefix of them
            # (all blocks reached by then set to zero): after many blocks entered together,
            # dozens leave again, and one factorization per leaving block was most of the
            # cost (measured: 171 of 213 steps on a 608-block subproblem).
            cands += [(float(tstar[a]), np.array([a])) for a in near]
            cands += [(float(tstar[near[m - 1]]), near[:m]) for m in range(2, len(near) + 1)]
        best_t, best_z, best_f = 0.0, none, 0.0
        for t, z in cands:
            f = change(t, z)
            if f < best_f:
                best_t, best_z, best_f = t, z, f
        if best_t == 0.0:
            # Near the solution the decrease falls below the rounding of the objective
            # (a step e changes it by e^2): take the Newton step if it is a descent
            # direction and the objective does not visibly increase.
            noise = 1e-14 * (pen0 + abs(gd) + abs(dSd) + 1e-300)
            if float(gr @ dlt) < 0 and change(1.0) <= noise:
                best_t = 1.0
        if best_t == 0.0:
            t = 0.5
            while t > 1e-12:
                f = change(t)
                if f < 0:
                    best_t, best_f = t, f
                    break
                t *= 0.5
        if best_t == 0.0:
            stall += 1
            if stall > 2:
                return steps, np.inf
            need_solve = False
            continue
        stall = 0
        xn = xs + best_t * dlt
        if len(best_z):
            xn.reshape(na, T)[best_z] = 0.0
            active[act[best_z]] = False
        g -= S[:, ii] @ (xn - xs)
        x[ii] = xn
        # Optimality on the active set; a block that left forces a new solve.
        Xs = xn.reshape(na, T)
        nr = np.linalg.norm(Xs, axis=1)
        ok = nr > 0
        G = g[ii].reshape(na, T)
        v = np.linalg.norm(-G[ok] + alpha * Xs[ok] / nr[ok, None], axis=1)
        need_solve = len(best_z) > 0 or (v.size and v.max() > tol)
        if steps % 50 == 0:
            g = c - S @ x
    return steps, np.inf


def _local_max_candidates(score, atom_direction, in_ws, alpha):
    """Atoms outside the working set with score > alpha that are local maxima along the
    biases of their direction (ties count)."""
    n = len(score)
    ok = (score > alpha) & ~in_ws
    if n > 1:
        same_prev = np.zeros(n, dtype=bool)
        same_prev[1:] = atom_direction[1:] == atom_direction[:-1]
        prev_bigger = np.zeros(n, dtype=bool)
        prev_bigger[1:] = same_prev[1:] & (score[:-1] > score[1:])
        next_bigger = np.zeros(n, dtype=bool)
        next_bigger[:-1] = same_prev[1:] & (score[1:] > score[:-1])
        cand = np.flatnonzero(ok & ~prev_bigger & ~next_bigger)
        if len(cand):
            return cand
    return np.flatnonzero(ok)


# ----------------------------------------------------------------------------- solver
class WorkingSetNewton:
    """Working-set proximal Newton solver for problem (C) (module docstring).

    Parameters
    ----------
    tol : float, default=1e-6
        Stop when the duality gap is below ``tol`` times the objective of the best constant
        model (the entropy of the class proportions).
    max_iter : int, default=100
        Maximum number of working-set (outer) iterations.
    max_newton : int, default=200
        Maximum proximal Newton steps per restricted solve.
    max_inner : int, default=100000
        Maximum steps of the active-set method solving each Newton subproblem.
    ws_start : int, default=10
        Atoms added in the first round; later rounds add as many atoms as there are
        nonzero coefficients (at least ``ws_start``), so the working set roughly doubles.
    prune : bool, default=True
        Drop atoms whose coefficient is zero from the working set when new atoms enter.
    verbose : int, default=0
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
        """Solve ``problem`` (:class:`LogisticProblem`).

        Parameters
        ----------
        problem : LogisticProblem
        warm_start : tuple (idx, V) or None
            Atoms and coefficients (T columns) to start from.
        affine : ndarray of shape (problem.r, T) or None
            Starting coefficients of the skip connection in the problem's affine basis
            (e.g. the affine fit of :func:`affine_fit`).

        Returns
        -------
        LogisticResult
            ``converged`` is True when the duality gap is at most ``tol`` times
            ``problem.null_objective``.
        """
        with threadpool_limits(limits=1, user_api="blas"):
            return self._solve(problem, warm_start, affine)

    # ---------------------------------------------------------------- restricted problem
    def _restricted(self, problem, Zc, beta, F, eps, primal_eps=0.0):
        """Proximal Newton on the columns Zc = [A, Phi_ws] from beta (p, T) with logits F.

        Stops when the restricted duality gap is below eps, or the objective itself below
        primal_eps (0 is a lower bound). Returns (beta, F, steps, gap).
        """
        alpha = problem.alpha
        r = problem.r
        T = problem.T
        p = Zc.shape[1]
        k = p - r
        steps = 0
        gap = np.inf
        obj = problem.objective(F, beta[r:], beta[:r])
        ridge = np.repeat(problem.ridge, T)                      # index j*T + t
        n_tiny = 0
        last_tiny_gap = np.inf
        while True:
            primal, dual, _, _ = problem.gap_parts(
                F, beta[r:], lambda th: Zc[:, r:].T @ th, beta[:r])
            gap = primal - dual
            if gap <= eps or primal <= primal_eps or steps >= self.max_newton:
                break
            steps += 1
            Pi = problem.probs(F)
            g = (Zc.T @ problem.logit_grad(Pi)).ravel()          # (p T,)
            H = problem.hessian(Zc, Pi)
            nA = r * T
            g[:nA] += ridge * beta[:r].ravel()
            H[np.arange(nA), np.arange(nA)] += ridge
            H_AA, H_AV, H_VV = H[:nA, :nA], H[:nA, nA:], H[nA:, nA:]
            Hinv = problem.affine_pinv(H_AA)
            g_A, g_V = g[:nA], g[nA:]
            b_V = beta[r:].ravel()
            if k:
                S = H_VV - H_AV.T @ Hinv @ H_AV
                S = 0.5 * (S + S.T)
                gS = g_V - H_AV.T @ (Hinv @ g_A)
                c = S @ b_V - gS
                # The subproblem is solved exactly (to rounding, relative to alpha): inner
                # steps are cheap next to forming the Hessian, and exact subproblems make
                # the outer iteration converge quadratically once the support is found.
                x = b_V.copy()
                if T == 1:
                    # The regression solver's exact active-set lasso: no rank bound
                    # here (cap = k), the same entry and tracking settings.
                    lasso_active_set(S, c, x, alpha, self.max_inner, 1e-10, _SINGULAR,
                                     _MAX_ADD, len(x), _N_TRACK)
                else:
                    _group_active_set(S, c, x, alpha, T, 1e-10 * alpha, self.max_inner)
                d_V = x - b_V
            else:
                d_V = np.zeros(0)
            d_A = -Hinv @ (g_A + H_AV @ d_V)
            d = np.concatenate([d_A, d_V]).reshape(p, T)
            dF = Zc @ d
            pen_V = problem.penalty(beta[r:])
            pen0 = pen_V + problem.ridge_penalty(beta[:r])
            descent = float(g @ d.ravel()) + problem.penalty(beta[r:] + d[r:]) - pen_V
            # Near the optimum the predicted decrease falls below the rounding of the
            # objective (a step of size e changes it by e^2 while the gap moves by e), so
            # an Armijo test on objective values cannot see it: take the full Newton step
            # unless the objective visibly increases (and stop if that does not help).
            noise = 1e-13 * (1.0 + abs(obj) + pen0)
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
            for _ in range(60):
                newF = F + t * dF
                newb = beta + t * d
                new_obj = problem.objective(newF, newb[r:], newb[:r])
                if new_obj <= obj + 1e-4 * t * descent or (tiny and new_obj <= obj + noise):
                    accepted = True
                    break
                t *= 0.5
            if not accepted:
                break
            beta, F, obj = newb, newF, new_obj
        return beta, F, steps, gap

    # ---------------------------------------------------------------- main loop
    def _solve(self, problem, warm_start, affine):
        t0 = time.perf_counter()
        dic = problem.dictionary
        alpha = problem.alpha
        r, T = problem.r, problem.T
        tol_abs = self.tol * problem.null_objective
        n_atoms = dic.n_atoms

        idx, V = merge_warm_start(warm_start, T)
        in_ws = np.zeros(n_atoms, dtype=bool)
        in_ws[idx] = True
        Zc = np.hstack([problem.A, dic.columns(idx)]) if len(idx) else problem.A.copy()
        B0 = np.zeros((r, T)) if affine is None else np.asarray(affine, dtype=float)
        beta = np.vstack([B0.reshape(r, T), V])
        F = Zc @ beta
        eps = 0.1 * tol_abs
        steps_total = 0
        history = []
        it = 0
        converged = False
        gap = np.inf
        primal = np.nan
        while True:
            beta, F, steps, rgap = self._restricted(problem, Zc, beta, F, eps)
            steps_total += steps
            primal, dual, Pp, corr = problem.gap_parts(F, beta[r:], dic.rmatvec, beta[:r])
            gap = primal - dual
            history.append((time.perf_counter() - t0, primal, gap, len(idx)))
            if self.verbose:
                print(f"[logistic-ws] iter {it}: working set {len(idx)}, nonzeros "
                      f"{int(np.sum(np.any(beta[r:] != 0, axis=1)))}, objective "
                      f"{primal:.10g}, gap {gap:.3e} (restricted {rgap:.3e}, "
                      f"target {tol_abs:.3e}), {steps} Newton steps")
            if gap <= tol_abs:
                converged = True
                break
            # ``it + 1`` working-set iterations (restricted solve and pricing pass) so far;
            # max_iter bounds that count, which n_iter reports.
            if it + 1 >= self.max_iter:
                break
            it += 1
            cand = np.zeros(0, dtype=np.int64)
            if corr is not None and n_atoms:
                score = np.abs(corr) if corr.ndim == 1 else np.linalg.norm(corr, axis=1)
                cand = _local_max_candidates(score, dic.atom_direction, in_ws, alpha)
                nnz = int(np.sum(np.any(beta[r:] != 0, axis=1)))
                n_new = max(self.ws_start, nnz)
                if len(cand) > n_new:
                    top = np.argpartition(-score[cand], n_new - 1)[:n_new]
                    cand = np.sort(cand[top])
            if len(cand) and self.prune:
                # Atoms at zero in the solved restricted problem leave the working set (they
                # satisfy its optimality condition; pricing brings back any that violate
                # later): the Hessian costs N (d + k)^2 T^2 per Newton step, so k stays near
                # twice the support instead of accumulating every atom ever priced.
                nzr = np.any(beta[r:] != 0, axis=1)
                if not nzr.all():
                    in_ws[idx[~nzr]] = False
                    idx = idx[nzr]
                    Zc = np.hstack([Zc[:, :r], Zc[:, r:][:, nzr]])
                    beta = np.vstack([beta[:r], beta[r:][nzr]])
            if len(cand):
                idx = np.concatenate([idx, cand])
                in_ws[cand] = True
                Zc = np.hstack([Zc, dic.columns(cand)])
                beta = np.vstack([beta, np.zeros((len(cand), T))])
                eps = max(0.3 * gap, 0.1 * tol_abs)
            else:
                # Nothing violates: the restricted problem was not solved accurately enough
                # (or the projection of the dual point failed); tighten.
                eps = max(min(eps, 0.3 * gap) * 0.1, 1e-3 * tol_abs)
        if not converged:
            warnings.warn(
                f"Logistic working-set solver stopped after {it + 1} iterations with duality gap "
                f"{gap:.3e}, above the tolerance {tol_abs:.3e}. Increase max_iter or tol.",
                ConvergenceWarning)
        Vw = beta[r:]
        keep = np.any(Vw != 0, axis=1)
        coef = Vw[keep]
        B = beta[:r]
        if not problem.binary:
            # Softmax is invariant to a common shift of the logits: centre the classes
            # (the penalty can only decrease; the affine part is not identifiable otherwise).
            coef = coef - coef.mean(axis=1, keepdims=True)
            B = B - B.mean(axis=1, keepdims=True)
        c, c0 = problem.skip_connection(B)
        return LogisticResult(idx=idx[keep], coef=coef, objective=primal, dual_gap=gap,
                              n_iter=it + 1, converged=converged, history=history,
                              time=time.perf_counter() - t0, skip_coef=c, skip_intercept=c0,
                              affine=B, logits=F, dual_probs=Pp)


# ----------------------------------------------------------------------------- alpha_max
def affine_fit(problem, tol=1e-12, primal_tol=1e-7, max_newton=100, B0=None):
    """Unpenalized affine logistic fit (Newton). Returns (B (r, T), F).

    Stops when the duality gap is below ``tol`` or the loss below ``primal_tol`` (both
    relative to the loss of the constant model). The second rule matters only when the
    classes are linearly separable: then there is no minimizer, the loss tends to 0 as
    the logits grow along the separating direction, and Newton steps only push them on.

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
        Coefficients in the problem's affine basis ``problem.A``.
    F : ndarray of shape (n_samples, T)
        The fitted logits ``A B``.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _affine_fit(problem, tol, primal_tol, max_newton, B0)


def _affine_fit(problem, tol=1e-12, primal_tol=1e-7, max_newton=100, B0=None):
    solver = WorkingSetNewton(max_newton=max_newton)
    B = np.zeros((problem.r, problem.T)) if B0 is None else np.array(B0, dtype=float)
    F = problem.A @ B
    scale = max(problem.null_objective, 1e-300)
    B, F, _, _ = solver._restricted(problem, problem.A, B, F, tol * scale,
                                    primal_eps=primal_tol * scale)
    return B, F


def alpha_max_logistic(problem, F=None):
    """Smallest alpha with no neuron: ``max_j ||Phi_j^T theta||`` at the affine fit.

    theta is the (affine-projected) dual point, i.e. minus the gradient of the weighted
    loss with respect to the logits. When the classes are linearly separable the affine
    fit has no minimizer, the gradient tends to zero and so does alpha_max (returned at the
    approximate fit).

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
    Pi = problem.probs(F)
    Pp = problem.dual_point(Pi)
    th = problem.dual_theta(Pp) if Pp is not None else problem.dual_theta(Pi)
    corr = problem.dictionary.rmatvec(th)
    return _max_row_norm(corr)


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
class CvxpyLogistic:
    """Problem (C) on the dense dictionary, solved by cvxpy (Clarabel): the reference.

    The skip connection is kept as unpenalized variables; logistic loss via ``cp.logistic``,
    multinomial via ``cp.log_sum_exp``. Dense, small problems only.

    Parameters
    ----------
    max_dense_entries : int, default=5_000_000
        Refuse problems whose dense dictionary times the number of logits exceeds this.
    verbose : int, default=0
        Above 1, Clarabel prints its log.
    **solver_options
        Passed to Clarabel (its tolerances default to 1e-10 here).
    """

    def __init__(self, max_dense_entries=5_000_000, verbose=0, **solver_options):
        self.max_dense_entries = max_dense_entries
        self.verbose = verbose
        self.solver_options = solver_options

    def solve(self, problem, warm_start=None):
        """Solve ``problem`` (:class:`LogisticProblem`) by cvxpy.

        Parameters
        ----------
        problem : LogisticProblem
        warm_start : tuple (idx, V) or None, default=None
            Accepted for the solver protocol and ignored.

        Returns
        -------
        LogisticResult
            Coefficients below ``1e-9`` times the largest row norm are zeroed; the gap is
            recomputed at the returned point.

        Raises
        ------
        ValueError
            If the dense problem would exceed ``max_dense_entries``.
        RuntimeError
            If cvxpy returns no optimal solution.
        """
        import cvxpy as cp

        t0 = time.perf_counter()
        dic = problem.dictionary
        N, T = problem.N, problem.T
        if N * dic.n_atoms * T > self.max_dense_entries:
            raise ValueError(
                f"The cvxpy reference needs the dense dictionary ({N} x {dic.n_atoms} x {T}); "
                f"above its limit of {self.max_dense_entries}; use solver='newton'.")
        Phi = dic.toarray()
        X = problem.X
        d = X.shape[1]
        u = problem.u
        V = cp.Variable((dic.n_atoms, T))
        c = cp.Variable((d, T))
        c0 = cp.Variable((1, T))
        F = Phi @ V + X @ c + np.ones((N, 1)) @ c0
        if problem.binary:
            ypm = np.where(problem.y == 1, 1.0, -1.0)
            loss = u @ cp.logistic(-cp.multiply(ypm, F[:, 0]))
            pen = cp.norm1(V)
        else:
            loss = u @ cp.log_sum_exp(F, axis=1) - cp.sum(cp.multiply(u[:, None] * problem.Y1, F))
            pen = cp.sum(cp.norm(V, 2, axis=1))
        obj = loss + problem.alpha * pen
        if problem.skip_penalty > 0:
            obj = obj + 0.5 * problem.skip_penalty * cp.sum_squares(c)
        prob = cp.Problem(cp.Minimize(obj))
        kwargs = dict(self.solver_options)
        for key in ("tol_gap_abs", "tol_gap_rel", "tol_feas", "tol_ktratio"):
            kwargs.setdefault(key, 1e-10)
        kwargs.setdefault("max_iter", 500)
        prob.solve(solver=cp.CLARABEL, verbose=self.verbose > 1, **kwargs)
        if prob.status not in ("optimal", "optimal_inaccurate") or V.value is None:
            raise RuntimeError(f"cvxpy returned status {prob.status!r} on the reference problem.")
        if prob.status == "optimal_inaccurate":
            warnings.warn("cvxpy reports an inaccurate solution.", ConvergenceWarning)
        Vv = np.asarray(V.value)
        norms = np.linalg.norm(Vv, axis=1)
        keep = norms > 1e-9 * max(norms.max(initial=0.0), 1e-300)
        idx = np.flatnonzero(keep)
        coef = Vv[keep]
        cv = np.asarray(c.value)
        c0v = np.asarray(c0.value)[0]
        if not problem.binary:
            coef = coef - coef.mean(axis=1, keepdims=True)
            cv = cv - cv.mean(axis=1, keepdims=True)
            c0v = c0v - c0v.mean()
        Fv = Phi[:, idx] @ coef + X @ cv + c0v
        B = np.vstack([np.atleast_2d(c0v), cv]) if problem.skip_penalty > 0 else None
        primal, dual, Pp, _ = problem.gap_parts(Fv, coef, dic.rmatvec, B)
        if problem.binary:
            cv, c0v = cv[:, 0], float(c0v[0])
        return LogisticResult(idx=idx, coef=coef, objective=primal, dual_gap=primal - dual,
                              n_iter=int(prob.solver_stats.num_iters or 0)
                              if prob.solver_stats is not None else 0,
                              converged=True, time=time.perf_counter() - t0,
                              skip_coef=cv, skip_intercept=c0v, affine=B, logits=Fv,
                              dual_probs=Pp)
