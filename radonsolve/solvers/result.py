"""What every solver returns."""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SolverResult:
    """Solution of the projected lasso on a dictionary.

    Attributes
    ----------
    idx : ndarray of int
        Atoms with nonzero coefficients.
    coef : ndarray of shape (len(idx), n_outputs)
        Their output weights.
    objective : float
        Value of (P) restricted to the dictionary at the solution.
    dual_gap : float
        Duality gap of the restricted problem, computed at the returned solution.
    n_iter : int
    converged : bool
    """

    idx: np.ndarray
    coef: np.ndarray
    objective: float
    dual_gap: float
    n_iter: int
    converged: bool
    history: list = field(default_factory=list)
    time: float = 0.0


def merge_warm_start(warm_start, n_outputs):
    """Atoms and coefficients of a warm start, with repeated atoms' coefficients summed.

    Returns sorted unique int64 indices and a (k, n_outputs) array; empty when there is no
    warm start. Every solver accepts ``warm_start=(idx, V)`` through this one normalization.

    Parameters
    ----------
    warm_start : tuple (idx, V) or None
        Atom indices (any order, repeats allowed) and their coefficients, of shape
        ``(len(idx),)`` or ``(len(idx), n_outputs)``. Not modified.
    n_outputs : int
        Number of outputs T.

    Returns
    -------
    idx : ndarray of int64, shape (k,)
        Sorted unique atoms.
    V : ndarray of shape (k, n_outputs)
        Their summed coefficients.

    Examples
    --------
    >>> from radonsolve.solvers.result import merge_warm_start
    >>> merge_warm_start(([3, 1, 3], [1.0, 2.0, 0.5]), 1)
    (array([1, 3]), array([[2. ],
           [1.5]]))
    """
    if warm_start is None or not len(warm_start[0]):
        return np.zeros(0, dtype=np.int64), np.zeros((0, n_outputs))
    idx0 = np.asarray(warm_start[0], dtype=np.int64).ravel()
    V0 = np.asarray(warm_start[1], dtype=float).reshape(len(idx0), n_outputs)
    idx, inv = np.unique(idx0, return_inverse=True)
    V = np.zeros((len(idx), n_outputs))
    np.add.at(V, inv, V0)
    return idx, V
