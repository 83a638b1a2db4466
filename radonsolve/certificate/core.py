"""The certificate's result, eta on given directions, and the duality gap of (P)."""

from dataclasses import dataclass, field

import numpy as np

from ._common import eta_raw, unit_rows, validate

__all__ = ["Certificate", "eta", "duality_gap_for_P"]


# ---------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------
@dataclass
class Certificate:
    """Largest dual-constraint violation over directions.

    Attributes
    ----------
    eta : float
        Largest ``eta(w)`` found (the exact supremum when ``exact`` is True).
    direction : ndarray of shape (n_features,)
        Unit direction attaining ``eta``, on the canonical half-sphere (first nonzero
        coordinate positive).
    bias : float
        Bias of the maximizing atom (a data projection ``direction . x_index``).
    exact : bool
        True when ``eta`` is the proven supremum over all directions; False when searched.
    directions : ndarray of shape (k, n_features)
        Distinct (local maximum) directions with ``eta > threshold``, best first; the
        candidates an exchange method adds. Empty when nothing exceeds the threshold.
    etas : ndarray of shape (k,)
        ``eta`` of each row of ``directions``.
    n_evaluated : int
        Number of directions on which eta was evaluated (for the exact sweep: the number of
        pieces of the sweep, i.e. of order-change events).
    biases : ndarray of shape (k,)
        Maximizing bias of each row of ``directions``.
    index : int
        Index (into the input X) of the data point whose projection is ``bias``.
    """

    eta: float
    direction: np.ndarray
    bias: float
    exact: bool
    directions: np.ndarray
    etas: np.ndarray
    n_evaluated: int
    biases: np.ndarray = field(default_factory=lambda: np.zeros(0))
    index: int = -1

    def holds(self, tol=0.0):
        """True when the certificate proves optimality: exact and ``eta <= 1 + tol``.

        Parameters
        ----------
        tol : float, default=0.0
            Allowed excess of ``eta`` over 1.

        Returns
        -------
        bool
            False for a searched (inexact) certificate, whatever its value.
        """
        return bool(self.exact and self.eta <= 1.0 + tol)


def duality_gap_for_P(b, rho, primal, eta_sup):
    """Duality gap of (P) from a finite solution and the supremum of eta.

    The dual point ``theta = s * rho`` with ``s = min(1, 1 / eta_sup)`` satisfies every dual
    constraint of (P) (over all directions and biases), so its dual objective
    ``s <b, rho> - s^2 ||rho||^2 / 2`` is a lower bound on the optimum of (P). Same rule as
    :func:`radonsolve.lasso.dual_objective` with ``corr_norm = alpha * eta_sup``.

    Parameters
    ----------
    b : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Projected scaled targets ``P sqrt(u) y``.
    rho : ndarray, same shape as ``b``
        Projected residual of the finite solution.
    primal : float
        Primal objective of the finite solution, ``0.5 ||rho||^2 + alpha * sum_k ||v_k||``.
    eta_sup : float
        Supremum of eta over all directions. An upper bound on it gives a valid (larger)
        gap; a searched value gives a gap that is only as trustworthy as the search.

    Returns
    -------
    gap : float
        ``primal - dual(theta)`` (nonnegative up to rounding when eta_sup is a true bound).
    """
    eta_sup = float(eta_sup)
    if not np.isfinite(eta_sup) or eta_sup < 0:
        raise ValueError(f"eta_sup must be a finite nonnegative number, got {eta_sup}.")
    s = 1.0 if eta_sup <= 1.0 else 1.0 / eta_sup
    b = np.asarray(b, dtype=float)
    rho = np.asarray(rho, dtype=float)
    dual = s * float(np.sum(b * rho)) - 0.5 * s * s * float(np.sum(rho ** 2))
    return float(primal) - dual


def eta(X, q, alpha, directions, *, return_correlation=False):
    """Exact ``eta(w) = max_b ||sum_n q_n max(w.x_n - b, 0)|| / alpha`` for each direction.

    One sort per direction, then a suffix-sum pass over the N candidate biases (the data
    projections): O(N log N) per direction, processed in chunks of directions so that
    memory stays bounded.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    q : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Weighted projected residual ``sqrt(u) * rho`` (orthogonal to 1 and to the columns
        of X).
    alpha : float
        Regularization strength (> 0).
    directions : ndarray of shape (n_directions, n_features)
        Directions; rows are normalized to unit length.
    return_correlation : bool, default=False
        Also return the correlation vector c(w, b) of each maximizing atom.

    Returns
    -------
    eta : ndarray of shape (n_directions,)
    bias : ndarray of shape (n_directions,)
        Maximizing bias ``b = w.x_index`` for each direction.
    index : ndarray of shape (n_directions,)
        Index of the data point whose projection is the maximizing bias.
    correlation : ndarray of shape (n_directions,) or (n_directions, n_outputs)
        Only with ``return_correlation``; shape follows q.

    Examples
    --------
    On four points of a line, with a q orthogonal to 1 and to x, the best atom has its
    bias at x = 1, where ``sum_n q_n max(x_n - 1, 0) = 1``:

    >>> import numpy as np
    >>> from radonsolve.certificate import eta
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> eta(X, np.array([1.0, -2.0, 1.0, 0.0]), 0.5, np.ones((1, 1)))
    (array([2.]), array([1.]), array([1]))
    """
    single = np.asarray(q).ndim == 1
    X, q, alpha = validate(X, q, alpha)
    W = unit_rows(directions, X.shape[1])
    val2, idx, bias, corr = eta_raw(X, q, W)
    out = (np.sqrt(val2) / alpha, bias, idx)
    if return_correlation:
        out = out + (corr[:, 0] if single else corr,)
    return out

