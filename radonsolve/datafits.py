"""Data-fit terms: the loss of problem (P) in the network's outputs (DESIGN §10, §12).

A data fit is ``L(f) = sum_n u_n l(y_n, f_n)`` with normalized sample weights u (positive,
summing to one) and f the network's outputs on the data (one output). Everything a solver
or a certificate needs from the loss is here, so no solver holds loss-specific code:

- ``value(f)``, ``gradient(f)`` (``u_n l'(y_n, f_n)``) and ``hessian(f)`` (the diagonal
  ``u_n l''(y_n, f_n)``: every loss here is separable over samples; :class:`Multinomial`,
  with K outputs per sample, returns K x K blocks);
- ``dual_point(f)``: minus the gradient, ``theta_n = -u_n l'(y_n, f_n)``. For the optimum
  over the unpenalized affine part it is orthogonal to 1 and to every feature, and it is the
  dual point of (P) that the certificate of DESIGN §5 takes in place of the residual;
- ``dual_value(theta) = -sum_n u_n l*(y_n, -theta_n / u_n)`` (l* the convex conjugate in f),
  ``-inf`` where the conjugate is infinite. By Fenchel duality, for any theta orthogonal to
  the affine functions with ``|Phi_j^T theta| <= alpha`` for every atom,
  ``dual_value(theta) <= min (P)`` (weak duality), with equality at the optimum;
- ``feasible_scale(theta)``: the largest ``s`` in [0, 1] with ``s theta`` in the conjugate's
  domain. Every domain here is convex and contains 0 (``dual_value(0) = 0``, the loss's
  infimum), so shrinking theta towards 0 by ``min(feasible_scale, alpha / max_j |Phi_j^T
  theta|)`` gives a dual-feasible point (DESIGN §10: each loss owns this rule);
- ``scale(A)``: the loss of the best affine fit (columns A spanning [1, X]), the scale of
  every relative tolerance, as the affine fit's objective is for the squared loss;
- ``cvxpy_loss(f)``: the same loss as a cvxpy expression, for the reference solver;
- ``inverse_link(f)``: the prediction from the output (``exp`` for Poisson);
- ``n_outputs`` (outputs per sample: 1, or K for :class:`Multinomial`) and
  ``shift_invariant`` (whether adding one constant to every output of a sample changes
  nothing, as for softmax: the solvers then work on the zero-sum subspace).

The logistic and multinomial losses, their gradients and their dual values are computed
without cancellation when the loss is tiny (a nearly separated sample): the solvers stop on
duality gaps relative to the loss of the best constant model, and on separable data both
the loss and the gap are many orders of magnitude below it.

Every loss is shifted so that its infimum over f is 0 (``l(y, y) = 0`` for the squared and
Huber losses, the half deviance for Poisson), which makes ``dual_value(0) = 0`` a valid
lower bound and the scale meaningful.

The squared loss keeps its projected fast path (:class:`radonsolve.lasso.ProjectedLasso`);
:class:`Quadratic` is the same loss in this interface, for the generic gap and certificate
code.
"""

import numpy as np
from scipy.special import entr, expit, xlogy

__all__ = ["Datafit", "Quadratic", "Huber", "Poisson", "Logistic", "Multinomial",
           "cross_entropy", "fit_affine"]


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
    >>> from radonsolve.datafits import cross_entropy
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


_BELOW_ONE = float(np.nextafter(1.0, 0.0))


def _entropy_off(off):
    """Entropy of probability rows given only their off-label masses ``off`` (N, m): the
    label's mass is ``1 - sum(off)``, whose entropy term is taken by ``log1p`` (no
    cancellation when the off-label masses are tiny)."""
    delta = off.sum(axis=1)
    # The label's term -(1 - delta) log(1 - delta), 0 at delta = 1 (the log is kept finite).
    return entr(off).sum(axis=1) - np.maximum(1.0 - delta, 0.0) * \
        np.log1p(-np.minimum(delta, _BELOW_ONE))


class Datafit:
    """Base class of the separable data fits (see the module docstring).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Targets.
    u : array-like of shape (n_samples,)
        Positive normalized sample weights (summing to one).
    """

    name = "datafit"
    #: Outputs per sample.
    n_outputs = 1
    #: Whether a common shift of a sample's outputs leaves the loss unchanged.
    shift_invariant = False

    def __init__(self, y, u):
        y = np.asarray(y, dtype=float)
        u = np.asarray(u, dtype=float)
        if y.ndim != 1:
            raise ValueError(f"y must be one-dimensional for a data fit; got shape {y.shape}.")
        if u.shape != y.shape:
            raise ValueError(f"u has shape {u.shape}; expected {y.shape}, the shape of y.")
        if not np.all(u > 0):
            raise ValueError("u must be positive (drop samples of weight zero first).")
        self.y = y
        self.u = u

    # The per-sample pieces each loss defines.
    def losses(self, f):
        """``l(y_n, f_n)`` per sample, shifted so that its infimum over f is 0.

        Parameters
        ----------
        f : ndarray of shape (n_samples,)
            Network outputs on the data.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        raise NotImplementedError

    def derivative(self, f):
        """``l'(y_n, f_n)`` per sample (derivative in f).

        Parameters
        ----------
        f : ndarray of shape (n_samples,)
            Network outputs on the data.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        raise NotImplementedError

    def second_derivative(self, f):
        """``l''(y_n, f_n)`` per sample (a generalized one where l is not twice smooth).

        Parameters
        ----------
        f : ndarray of shape (n_samples,)
            Network outputs on the data.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        raise NotImplementedError

    def conjugate(self, t):
        """``-l*(y_n, -t_n)`` per sample for ``t = theta / u`` (``-inf`` outside the domain).

        Parameters
        ----------
        t : ndarray of shape (n_samples,)
            Dual point divided by the weights, ``theta / u``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        raise NotImplementedError

    def feasible_scale(self, theta):
        """Largest s in [0, 1] with ``s * theta`` in the domain of the conjugate.

        Parameters
        ----------
        theta : ndarray of shape (n_samples,)
            A dual point.

        Returns
        -------
        float
            1.0 for a loss whose conjugate is finite everywhere (the base class).
        """
        return 1.0

    def initial_prediction(self):
        """A constant output from which Newton's method starts safely.

        Returns
        -------
        float
            0.0 in the base class; e.g. the log of the weighted mean for Poisson.
        """
        return 0.0

    def inverse_link(self, f):
        """Prediction of the model from its output f.

        Parameters
        ----------
        f : ndarray of shape (n_samples,)
            Network outputs on the data.

        Returns
        -------
        ndarray of shape (n_samples,)
            f itself in the base class (identity link); ``exp(f)`` for Poisson, the
            probability ``expit(f)`` for logistic.
        """
        return f

    # Assembled from the pieces.
    def value(self, f):
        """``sum_n u_n l(y_n, f_n)``.

        Parameters
        ----------
        f : ndarray of shape (n_samples,)
            Network outputs on the data.

        Returns
        -------
        float
        """
        return float(self.u @ self.losses(np.asarray(f, dtype=float)))

    def gradient(self, f):
        """Gradient of :meth:`value` in f: ``u_n l'(y_n, f_n)``.

        Parameters
        ----------
        f : ndarray of shape (n_samples,)
            Network outputs on the data.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.u * self.derivative(np.asarray(f, dtype=float))

    def hessian(self, f):
        """Diagonal of the Hessian of :meth:`value` in f: ``u_n l''(y_n, f_n)``.

        Parameters
        ----------
        f : ndarray of shape (n_samples,)
            Network outputs on the data.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.u * self.second_derivative(np.asarray(f, dtype=float))

    def dual_point(self, f):
        """``theta = -gradient(f)``: the dual point of the solution with outputs f.

        Parameters
        ----------
        f : ndarray of shape (n_samples,)
            Network outputs on the data.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return -self.gradient(f)

    def dual_value(self, theta):
        """``-sum_n u_n l*(y_n, -theta_n / u_n)``; ``-inf`` outside the conjugate's domain.

        Parameters
        ----------
        theta : array-like of shape (n_samples,)
            A dual point.

        Returns
        -------
        float
            A lower bound on the optimum of (P) when theta is dual feasible.
        """
        theta = np.asarray(theta, dtype=float)
        c = self.conjugate(theta / self.u)
        if not np.all(np.isfinite(c)):
            return -np.inf
        return float(self.u @ c)

    def magnitude(self, f):
        """Size of the terms whose rounding the loss's value carries at f.

        A floor for relative tolerances: when the affine fit is exact its loss is rounding,
        and a gap cannot be asked to be smaller than that.

        Parameters
        ----------
        f : ndarray of shape (n_samples,)
            Network outputs on the data.

        Returns
        -------
        float
            ``sum_n u_n (|y_n| + |f_n|)^2 / 2`` in the base class.
        """
        f = np.asarray(f, dtype=float)
        return float(self.u @ (0.5 * (np.abs(self.y) + np.abs(f)) ** 2))

    def scale(self, A):
        """Loss of the best affine fit on the columns A (spanning [1, X]), the unit of
        relative tolerances; at least ``1e-12 * magnitude`` there (rounding).

        Parameters
        ----------
        A : ndarray of shape (n_samples, r)
            Full-rank columns spanning the affine functions (see :func:`fit_affine`).

        Returns
        -------
        float
        """
        f = fit_affine(self, A)[1]
        return max(self.value(f), 1e-12 * self.magnitude(f))

    def cvxpy_loss(self, f):
        """The loss as a cvxpy expression of the outputs f (a cvxpy vector).

        Parameters
        ----------
        f : cvxpy.Expression of shape (n_samples,)

        Returns
        -------
        cvxpy.Expression
            Scalar, equal to :meth:`value` at the same outputs.
        """
        raise NotImplementedError


class Quadratic(Datafit):
    """Squared loss ``l(y, f) = (y - f)^2 / 2`` (problem (P) of DESIGN §1).

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.datafits import Quadratic
    >>> fit = Quadratic(np.array([1.0, 3.0]), np.array([0.5, 0.5]))
    >>> fit.value(np.array([0.0, 0.0]))
    2.5
    """

    name = "squared_error"

    def losses(self, f):
        return 0.5 * (self.y - f) ** 2

    def derivative(self, f):
        return f - self.y

    def second_derivative(self, f):
        return np.ones_like(f)

    def conjugate(self, t):
        # l*(y, z) = z y + z^2 / 2, at z = -t.
        return t * self.y - 0.5 * t * t

    def initial_prediction(self):
        return float(self.u @ self.y)

    def cvxpy_loss(self, f):
        import cvxpy as cp
        return 0.5 * cp.sum(cp.multiply(self.u, cp.square(self.y - f)))


class Huber(Datafit):
    """Huber loss ``l(y, f) = H_eps(y - f)``, quadratic for ``|y - f| <= epsilon``.

    ``H_eps(r) = r^2 / 2`` for ``|r| <= eps`` and ``eps |r| - eps^2 / 2`` beyond; epsilon is
    absolute, in the units of y. Its conjugate is the squared loss's restricted to
    ``|theta_n / u_n| <= epsilon``; its second derivative is 1 inside the band and 0 outside.

    Parameters
    ----------
    y, u : see :class:`Datafit`
    epsilon : float
        Positive width of the quadratic band.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.datafits import Huber
    >>> fit = Huber(np.array([0.0, 0.0]), np.array([0.5, 0.5]), epsilon=1.0)
    >>> fit.value(np.array([0.5, 3.0]))    # (0.125 + 2.5) / 2
    1.3125
    """

    name = "huber"

    def __init__(self, y, u, epsilon=1.35):
        super().__init__(y, u)
        epsilon = float(epsilon)
        if not (np.isfinite(epsilon) and epsilon > 0):
            raise ValueError(f"epsilon must be a positive finite number; got {epsilon!r}.")
        self.epsilon = epsilon

    def losses(self, f):
        a = np.abs(self.y - f)
        e = self.epsilon
        return np.where(a <= e, 0.5 * a * a, e * a - 0.5 * e * e)

    def derivative(self, f):
        return -np.clip(self.y - f, -self.epsilon, self.epsilon)

    def second_derivative(self, f):
        return (np.abs(self.y - f) <= self.epsilon).astype(float)

    def conjugate(self, t):
        # Rounding of a feasible point may put |t| a hair above epsilon: accept it.
        out = t * self.y - 0.5 * t * t
        return np.where(np.abs(t) <= self.epsilon * (1.0 + 1e-12), out, -np.inf)

    def feasible_scale(self, theta):
        top = float(np.max(np.abs(theta) / self.u, initial=0.0))
        return 1.0 if top <= self.epsilon else self.epsilon / top

    def initial_prediction(self):
        # Weighted median: inside the band of most samples whatever the outliers.
        o = np.argsort(self.y)
        c = np.cumsum(self.u[o])
        return float(self.y[o][min(np.searchsorted(c, 0.5), len(c) - 1)])

    def cvxpy_loss(self, f):
        import cvxpy as cp
        # cvxpy's huber(r, M) is 2 H_M(r).
        return 0.5 * cp.sum(cp.multiply(self.u, cp.huber(self.y - f, self.epsilon)))


class Poisson(Datafit):
    """Half Poisson deviance of the mean ``exp(f)``: ``l(y, f) = exp(f) - y f + y log y - y``.

    The mean half Poisson deviance of scikit-learn's PoissonRegressor, with f the log of the
    mean. The dual point is ``theta_n = u_n (y_n - exp(f_n))`` and the conjugate is finite
    where ``m_n = y_n - theta_n / u_n >= 0``: ``-l*(y, -t) = y log y - y - m log m + m``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Nonnegative counts (or rates) with a positive weighted sum.
    u : see :class:`Datafit`

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.datafits import Poisson
    >>> fit = Poisson(np.array([1.0, 2.0]), np.array([0.5, 0.5]))
    >>> round(fit.value(np.log(np.array([1.0, 2.0]))), 12)
    0.0
    """

    name = "poisson"

    def __init__(self, y, u):
        super().__init__(y, u)
        if np.any(self.y < 0):
            raise ValueError("y must be nonnegative for the Poisson loss; some values of y "
                             "are negative.")
        if not self.u @ self.y > 0:
            raise ValueError("y must have a positive (weighted) sum for the Poisson loss: "
                             "with y all zero the log-mean tends to -inf and no fit exists.")
        self._ylogy_y = xlogy(self.y, self.y) - self.y

    def losses(self, f):
        with np.errstate(over="ignore"):
            return np.exp(f) - self.y * f + self._ylogy_y

    def derivative(self, f):
        with np.errstate(over="ignore"):
            return np.exp(f) - self.y

    def second_derivative(self, f):
        with np.errstate(over="ignore"):
            return np.exp(f)

    def conjugate(self, t):
        m = self.y - t
        # A hair below zero is rounding of a feasible point (m log m -> 0 there).
        tol = 1e-12 * np.maximum(self.y, np.abs(t))
        ok = m >= -tol
        m = np.maximum(m, 0.0)
        return np.where(ok, self._ylogy_y - xlogy(m, m) + m, -np.inf)

    def feasible_scale(self, theta):
        # m(s) = y - s t >= 0: binding only where t > y (which is >= 0).
        t = theta / self.u
        bad = t > self.y
        if not bad.any():
            return 1.0
        return float(np.min(self.y[bad] / t[bad]))

    def initial_prediction(self):
        return float(np.log(self.u @ self.y))

    def inverse_link(self, f):
        return np.exp(f)

    def magnitude(self, f):
        f = np.asarray(f, dtype=float)
        with np.errstate(over="ignore"):
            return float(self.u @ (np.exp(f) + np.abs(self.y * f) + np.abs(self._ylogy_y)))

    def cvxpy_loss(self, f):
        import cvxpy as cp
        return cp.sum(cp.multiply(self.u, cp.exp(f) - cp.multiply(self.y, f))) + \
            float(self.u @ self._ylogy_y)


class Logistic(Datafit):
    """Logistic loss of the logit f for labels y in {0, 1}: ``log(1 + exp(f)) - y f``.

    The dual point is ``theta_n = u_n (y_n - p_n)`` (p the probability); the conjugate is
    finite where ``pi_n = y_n - theta_n / u_n`` lies in [0, 1], where ``-l*`` is the binary
    entropy of pi. Everything is computed from the probability of the *other* label,
    ``expit(-f)`` for y = 1, so that nearly separated samples keep their relative accuracy.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels 0 and 1.
    u : see :class:`Datafit`

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.datafits import Logistic
    >>> fit = Logistic(np.array([0.0, 1.0]), np.array([0.5, 0.5]))
    >>> round(fit.value(np.zeros(2)), 6)    # log 2
    0.693147
    """

    name = "logistic"

    def __init__(self, y, u):
        super().__init__(y, u)
        if not np.all((self.y == 0) | (self.y == 1)):
            raise ValueError("y must hold labels 0 and 1 for the logistic loss.")

    def _sign(self):
        # +1 for label 1, -1 for label 0: the loss is log(1 + exp(-sign f)).
        return 2.0 * self.y - 1.0

    def losses(self, f):
        return np.logaddexp(0.0, -self._sign() * f)

    def derivative(self, f):
        # minus the probability of the other label, with its sign
        s = self._sign()
        return -s * expit(-s * f)

    def second_derivative(self, f):
        return expit(f) * expit(-f)

    def conjugate(self, t):
        # a = probability that pi puts on the other label (t with the label's sign).
        a = self._sign() * t
        tol = 1e-12
        ok = (a >= -tol) & (a <= 1.0 + tol)
        a = np.clip(a, 0.0, 1.0)[:, None]
        return np.where(ok, _entropy_off(a), -np.inf)

    def feasible_scale(self, theta):
        # pi(s) = y - s t must stay in [0, 1]: for y = 1, t in [0, 1]; for y = 0, t in
        # [-1, 0]. Shrinking fixes |t| > 1, not a wrong sign (then only s = 0 is feasible).
        t = (theta / self.u) * np.where(self.y == 1, 1.0, -1.0)
        if np.any(t < 0):
            return 0.0
        top = float(t.max(initial=0.0))
        return 1.0 if top <= 1.0 else 1.0 / top

    def initial_prediction(self):
        p = float(np.clip(self.u @ self.y, 1e-12, 1 - 1e-12))
        return float(np.log(p / (1.0 - p)))

    def inverse_link(self, f):
        return expit(f)

    def magnitude(self, f):
        f = np.asarray(f, dtype=float)
        return float(self.u @ (np.logaddexp(0.0, f) + np.abs(self.y * f)))

    def scale(self, A=None):
        """Loss of the best constant model (the entropy of the weighted label proportions).

        The logistic loss of the best *affine* model is 0 on separable data, so it cannot
        be a unit; this one is positive whenever both labels occur.

        Parameters
        ----------
        A : ndarray or None, default=None
            Ignored (accepted for the :class:`Datafit` interface).

        Returns
        -------
        float
        """
        p = float(self.u @ self.y)
        return float(entr(p) + entr(1.0 - p))

    def cvxpy_loss(self, f):
        import cvxpy as cp
        return cp.sum(cp.multiply(self.u, cp.logistic(f) - cp.multiply(self.y, f)))


class Multinomial(Datafit):
    """Softmax cross-entropy of K logits per sample: ``logsumexp(f_n) - f_n[y_n]``.

    Outputs f have shape (n_samples, K) and the loss couples them within each sample, so
    :meth:`hessian` returns per-sample K x K blocks ``u_n (diag(p_n) - p_n p_n^T)`` (the
    working-set driver then penalizes each atom's K output weights by their group norm, and
    works on the zero-sum subspace: the loss is ``shift_invariant``). The dual
    point is ``theta_n = u_n (e_{y_n} - p_n)``; the conjugate is finite where
    ``pi_n = e_{y_n} - theta_n / u_n`` lies on the probability simplex, where ``-l*`` is
    the Shannon entropy of pi.

    Parameters
    ----------
    y : array-like of int, shape (n_samples,)
        Class indices in ``0 .. n_classes - 1``.
    u : see :class:`Datafit`
    n_classes : int or None
        Number of classes (default ``max(y) + 1``).

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.datafits import Multinomial
    >>> fit = Multinomial(np.array([0, 2]), np.array([0.5, 0.5]))
    >>> round(fit.value(np.zeros((2, 3))), 6)    # log 3
    1.098612
    """

    name = "multinomial"
    shift_invariant = True

    def __init__(self, y, u, n_classes=None):
        y = np.asarray(y)
        if y.ndim != 1 or not np.all(np.equal(np.mod(y, 1), 0)) or np.any(y < 0):
            raise ValueError("y must hold class indices 0, 1, ... for the multinomial loss.")
        super().__init__(y.astype(float), u)
        self.labels = y.astype(np.int64)
        K = int(self.labels.max()) + 1 if n_classes is None else int(n_classes)
        if K <= int(self.labels.max()):
            raise ValueError(f"n_classes={K} is too small for the labels in y.")
        self.n_classes = K
        self.n_outputs = K
        self.Y1 = np.zeros((len(y), K))
        self.Y1[np.arange(len(y)), self.labels] = 1.0
        self.is_y = self.Y1.astype(bool)

    def _probs(self, f):
        e = np.exp(f - f.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def losses(self, f):
        return cross_entropy(np.asarray(f, dtype=float), self.is_y)

    def gradient(self, f):
        # The label's entry, p_y - 1, as minus the other classes' mass (no cancellation).
        p = self._probs(np.asarray(f, dtype=float))
        G = self.u[:, None] * p
        G[self.is_y] = -self.u * np.where(self.is_y, 0.0, p).sum(axis=1)
        return G

    def hessian(self, f):
        """Per-sample blocks, shape (n_samples, K, K).

        Parameters
        ----------
        f : ndarray of shape (n_samples, K)
            Logits.

        Returns
        -------
        ndarray of shape (n_samples, K, K)
            ``u_n (diag(p_n) - p_n p_n^T)`` for each sample.
        """
        p = self._probs(np.asarray(f, dtype=float))
        H = -p[:, :, None] * p[:, None, :]
        idx = np.arange(self.n_classes)
        H[:, idx, idx] += p
        return self.u[:, None, None] * H

    def dual_value(self, theta):
        """``sum_n u_n H(pi_n)`` with ``pi_n = e_{y_n} - theta_n / u_n`` (H the entropy).

        Computed from the off-label masses of pi (accurate when they are tiny); ``-inf``
        unless every pi_n lies on the probability simplex (to rounding).

        Parameters
        ----------
        theta : array-like of shape (n_samples, n_classes)
            A dual point.

        Returns
        -------
        float
        """
        t = np.asarray(theta, dtype=float) / self.u[:, None]
        off = -t
        off[self.is_y] = 0.0
        tol = 1e-12
        if off.min(initial=0.0) < -tol or np.abs(t.sum(axis=1)).max(initial=0.0) > 1e-9:
            return -np.inf
        np.maximum(off, 0.0, out=off)
        if off.sum(axis=1).max(initial=0.0) > 1.0 + tol:
            return -np.inf
        return float(self.u @ _entropy_off(off))

    def feasible_scale(self, theta):
        # pi(s) = e_y - s t with rows of t summing to 0: the wrong classes need t <= 0
        # (no shrinking fixes t > 0 there), the true class t_y <= 1 / s.
        t = np.asarray(theta, dtype=float) / self.u[:, None]
        if np.any(np.where(self.Y1 == 0, t, 0.0) > 0):
            return 0.0
        top = float(np.max(np.where(self.Y1 == 1, t, 0.0), initial=0.0))
        return 1.0 if top <= 1.0 else 1.0 / top

    def initial_prediction(self):
        prop = np.maximum(self.u @ self.Y1, 1e-12)
        return np.log(prop)

    def inverse_link(self, f):
        return self._probs(np.asarray(f, dtype=float))

    def magnitude(self, f):
        f = np.asarray(f, dtype=float)
        return float(self.u @ (np.abs(f).max(axis=1) + self.losses(f)))

    def scale(self, A=None):
        """Loss of the best constant model (the entropy of the weighted class proportions),
        the scale the classifier's tolerances use; A is not needed.

        Parameters
        ----------
        A : ndarray or None, default=None
            Ignored (accepted for the :class:`Datafit` interface).

        Returns
        -------
        float
        """
        prop = self.u @ self.Y1
        return float(-xlogy(prop, prop).sum())

    def cvxpy_loss(self, f):
        import cvxpy as cp
        return self.u @ cp.log_sum_exp(f, axis=1) - \
            cp.sum(cp.multiply(self.u[:, None] * self.Y1, f))


def fit_affine(datafit, A, *, tol=1e-20, max_iter=200):
    """Unpenalized fit on the columns A: ``min_b datafit.value(A b)`` by damped Newton.

    Parameters
    ----------
    datafit : Datafit
    A : ndarray of shape (n_samples, r)
        Columns of full rank spanning the constant (e.g. an orthonormal basis of [1, X]).
    tol : float, default=1e-20
        Stop when the squared Newton decrement is below ``tol`` times the loss at the
        start (a relative test, whatever the units of y). Newton converges quadratically,
        so the default costs one or two steps more than a loose one and stops at rounding.
    max_iter : int, default=200

    Returns
    -------
    b : ndarray of shape (r,)
    f : ndarray of shape (n_samples,)
        The fitted outputs ``A b``.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.datafits import Poisson, fit_affine
    >>> x = np.linspace(0, 1, 5)
    >>> A = np.column_stack([np.ones(5), x])
    >>> b, f = fit_affine(Poisson(np.exp(1 + 2 * x), np.full(5, 0.2)), A)
    >>> np.round(b, 8)
    array([1., 2.])
    """
    A = np.asarray(A, dtype=float)
    # Start at the datafit's safe constant, written in the columns A (least squares).
    f0 = np.full(A.shape[0], datafit.initial_prediction())
    b = np.linalg.lstsq(A, f0, rcond=None)[0]
    f = A @ b
    val = datafit.value(f)
    scale = max(abs(val), np.finfo(float).tiny)
    for _ in range(max_iter):
        g = A.T @ datafit.gradient(f)
        h = datafit.hessian(f)
        # A Hessian with zero curvature (Huber samples all outside the band) is made
        # positive by a small floor: any positive metric gives a descent direction.
        h = h + 1e-10 * max(float(h.max(initial=0.0)), float(datafit.u.max()))
        H = A.T @ (h[:, None] * A)
        step = -np.linalg.solve(H, g)
        dec = -float(g @ step)
        if dec <= tol * scale:
            break
        df = A @ step
        # Near the optimum the decrease falls below the rounding of the value: the full
        # Newton step is then taken unless the value visibly increases.
        noise = 1e-14 * (abs(val) + scale)
        t = 1.0
        for _ in range(60):
            new = datafit.value(f + t * df)
            if new <= val - 1e-4 * t * dec or (t == 1.0 and new <= val + noise):
                break
            t *= 0.5
        else:
            break
        b = b + t * step
        f = f + t * df
        val = new
    return b, f
