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
