"""The projected lasso: problem (P) on a finite dictionary with the skip connection eliminated.

With normalized weights u, scaled vectors ``sqrt(u) * z`` and P the projector onto the
complement of span{sqrt(u), sqrt(u) X} (DESIGN §4), problem (P) on a dictionary Phi is

    minimize_V  0.5 ||b - G V||^2 + alpha * sum_j ||V_j||,   b = P sqrt(u) y,  G = P sqrt(u) Phi.

Because P is symmetric and idempotent, ``G^T rho = Phi^T (sqrt(u) rho)`` for any projected
residual rho: correlations come from the structured operator, never from G.
The duality gap uses the dual point ``theta = s rho``, ``s = min(1, alpha / ||G^T rho||_{2,inf})``
and the dual objective ``<b, theta> - 0.5 ||theta||^2`` (the same rule as scikit-learn's
coordinate descent).
"""

import numpy as np

from .dictionary import AffineProjector
from .penalties import GroupL1

__all__ = ["ProjectedLasso", "alpha_max_from_dictionary", "interpolation_objective"]


class ProjectedLasso:
    """Problem (P) restricted to a dictionary, in projected form.

    Parameters
    ----------
    dictionary : ReLUDictionary
    Y : ndarray of shape (n_samples, n_outputs)
    u : ndarray of shape (n_samples,)
        Normalized sample weights (positive, sum to one).
    alpha : float
    projector : AffineProjector or None, default=None
        Projector onto the complement of the weighted affine functions of
        ``dictionary.X``; None builds it (pass one to share it between problems).

    Attributes
    ----------
    b : ndarray of shape (n_samples, n_outputs)
        Projected, weighted targets ``P sqrt(u) Y``.
    affine_objective : float
        ``0.5 ||b||^2``, the objective of the best affine fit: the scale of the solvers'
        relative tolerances.
    penalty : GroupL1

    Examples
    --------
    A ReLU with its kink at a data point is recovered by one atom:

    >>> import numpy as np
    >>> from radonsolve.dictionary import ReLUDictionary
    >>> from radonsolve.lasso import ProjectedLasso
    >>> from radonsolve.solvers import WorkingSetCD
    >>> X = np.linspace(-1, 1, 9)[:, None]
    >>> dic = ReLUDictionary(X, np.ones((1, 1)))
    >>> problem = ProjectedLasso(dic, np.maximum(X, 0), np.full(9, 1 / 9), alpha=1e-3)
    >>> result = WorkingSetCD().solve(problem)
    >>> dic.atom_bias[result.idx], result.converged
    (array([0.]), True)
    """

    def __init__(self, dictionary, Y, u, alpha, projector=None):
        self.dictionary = dictionary
        self.Y = Y
        self.u = u
        self.alpha = float(alpha)
        self.penalty = GroupL1(alpha)
        self.projector = AffineProjector(dictionary.X, u) if projector is None else projector
        self.sqrt_u = self.projector.sqrt_u
        self.b = self.projector.project(self.sqrt_u[:, None] * Y)
        # Objective of the best affine fit: the scale of every relative tolerance.
        self.affine_objective = 0.5 * float(np.sum(self.b ** 2))
        # At alpha = 0 the rescaled residual is no dual point (every constraint is an
        # equality), so the gap would never close when the optimum is positive; the known
        # optimum of (P) over all networks is a lower bound on this problem's instead.
        self.interpolation_bound = interpolation_objective(dictionary.X, Y, u) \
            if self.alpha == 0 else 0.0

    # ------------------------------------------------------------------ pieces
    def projected_columns(self, idx):
        """Dense projected columns G[:, idx] (only for small working sets).

        Parameters
        ----------
        idx : array-like of int
            Atom indices.

        Returns
        -------
        ndarray of shape (n_samples, len(idx))
        """
        cols = self.dictionary.columns(idx)
        return self.projector.project(self.sqrt_u[:, None] * cols)

    def residual(self, idx, V, G_ws=None):
        """Projected residual ``rho = b - G[:, idx] V``.

        Parameters
        ----------
        idx : array-like of int
            Atom indices of the working set.
        V : ndarray of shape (len(idx), n_outputs)
            Their coefficients.
        G_ws : ndarray of shape (n_samples, len(idx)) or None, default=None
            ``projected_columns(idx)`` if already computed.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
            A new array (``b`` itself is never returned).
        """
        if len(idx) == 0:
            return self.b.copy()
        G_ws = self.projected_columns(idx) if G_ws is None else G_ws
        return self.b - G_ws @ V

    def correlations(self, rho):
        """``G^T rho`` for every atom, through the structured operator.

        Parameters
        ----------
        rho : ndarray of shape (n_samples, n_outputs)
            A projected residual.

        Returns
        -------
        ndarray of shape (n_atoms, n_outputs)
        """
        return self.dictionary.rmatvec(self.sqrt_u[:, None] * rho)

    def primal(self, rho, V):
        """Primal objective ``0.5 ||rho||^2 + alpha sum_j ||V_j||``.

        Parameters
        ----------
        rho : ndarray of shape (n_samples, n_outputs)
            Projected residual of ``V``.
        V : ndarray of shape (n_active, n_outputs)
            Coefficients (zero rows may be omitted).

        Returns
        -------
        float
        """
        return 0.5 * float(np.sum(rho ** 2)) + self.penalty.value(V)

    def gap(self, rho, V, corr=None):
        """(primal, dual, gap, corr) at residual rho and coefficients V.

        Parameters
        ----------
        rho : ndarray of shape (n_samples, n_outputs)
            Projected residual of ``V``.
        V : ndarray of shape (n_active, n_outputs)
            Coefficients (zero rows may be omitted).
        corr : ndarray of shape (n_atoms, n_outputs) or None, default=None
            ``correlations(rho)`` if already computed.

        Returns
        -------
        primal : float
        dual : float
            Dual objective at the rescaled residual (at ``alpha = 0``, at least the
            interpolation bound).
        gap : float
            ``primal - dual``, an upper bound on the suboptimality on this dictionary.
        corr : ndarray of shape (n_atoms, n_outputs)
        """
        corr = self.correlations(rho) if corr is None else corr
        primal = self.primal(rho, V)
        dual = dual_objective(self.b, rho, self.penalty.dual_norm(corr), self.alpha)
        if self.alpha == 0:
            dual = max(dual, self.interpolation_bound)
        return primal, dual, primal - dual, corr

    def skip_connection(self, idx, V):
        """Optimal unpenalized affine part given the neuron coefficients.

        Parameters
        ----------
        idx : array-like of int
            Atom indices.
        V : ndarray of shape (len(idx), n_outputs)
            Their coefficients.

        Returns
        -------
        coef : ndarray of shape (n_features, n_outputs)
        intercept : ndarray of shape (n_outputs,)
            The weighted least-squares affine fit of ``Y`` minus the neurons' output.
        """
        if len(idx):
            target = self.Y - self.dictionary.columns(idx) @ V
        else:
            target = self.Y
        return self.projector.affine_fit(target)


def dual_objective(b, rho, corr_norm, alpha):
    """Dual objective at theta = s rho with s rescaling rho into dual feasibility.

    Parameters
    ----------
    b : ndarray of shape (n_samples, n_outputs)
        Projected, weighted targets.
    rho : ndarray of shape (n_samples, n_outputs)
        Projected residual.
    corr_norm : float
        ``||G^T rho||_{2,inf}``, the dual norm of the correlations.
    alpha : float

    Returns
    -------
    float
        ``s <b, rho> - 0.5 s^2 ||rho||^2`` with ``s = min(1, alpha / corr_norm)``.
    """
    s = 1.0 if corr_norm <= alpha else alpha / corr_norm
    return s * float(np.sum(b * rho)) - 0.5 * s * s * float(np.sum(rho ** 2))


def alpha_max_from_dictionary(dictionary, Y, u, projector=None):
    """``max_j ||Phi_j^T u r||`` with r the residual of the affine least-squares fit.

    The smallest alpha at which problem (P) on this dictionary has the zero network (only
    the skip connection) as solution.

    Parameters
    ----------
    dictionary : ReLUDictionary
    Y : ndarray of shape (n_samples, n_outputs)
    u : ndarray of shape (n_samples,)
        Normalized sample weights.
    projector : AffineProjector or None, default=None
        Built from ``dictionary.X`` and ``u`` when None.

    Returns
    -------
    float
        0.0 for an empty dictionary.
    """
    projector = AffineProjector(dictionary.X, u) if projector is None else projector
    b = projector.project(projector.sqrt_u[:, None] * Y)
    corr = dictionary.rmatvec(projector.sqrt_u[:, None] * b)
    if corr.size == 0:
        return 0.0
    return float(np.linalg.norm(corr, axis=1).max())


def interpolation_objective(X, Y, u):
    """Optimum of (P) at ``alpha = 0``: the weighted spread of y over repeated points.

    With no penalty, (P) is least squares over all networks, and the networks take every
    set of values on the distinct points of X (along a direction where their projections
    are distinct, the atoms and the affine functions span all functions of the projection).
    So the optimum is what no function of x can fit: ``0.5 sum_n u_n ||y_n - ybar(x_n)||^2``
    with ``ybar`` the weighted mean of y over the samples at the same point. It is the exact
    lower bound that replaces the certificate at ``alpha = 0``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    u : ndarray of shape (n_samples,)
        Normalized sample weights.

    Returns
    -------
    objective : float

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.lasso import interpolation_objective
    >>> X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    >>> interpolation_objective(X, np.array([1.0, 3.0, 5.0]), np.full(3, 1 / 3))
    0.3333333333333333
    """
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float).reshape(X.shape[0], -1)
    u = np.asarray(u, dtype=float)
    _, inv = np.unique(X, axis=0, return_inverse=True)
    inv = inv.ravel()
    n_groups = int(inv.max()) + 1 if inv.size else 0
    if n_groups == len(u):
        return 0.0
    wsum = np.bincount(inv, weights=u, minlength=n_groups)
    mean = np.zeros((n_groups, Y.shape[1]))
    for t in range(Y.shape[1]):
        mean[:, t] = np.bincount(inv, weights=u * Y[:, t], minlength=n_groups)
    mean /= np.where(wsum > 0, wsum, 1.0)[:, None]
    R = Y - mean[inv]
    return 0.5 * float(np.sum(u[:, None] * R * R))
