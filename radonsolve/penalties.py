"""Penalties on the output weights of the atoms.

Coefficients are stored as (n_atoms, n_outputs) arrays; with one output the group penalty
``sum_j ||v_j||_2`` is the l1 norm, so one implementation serves the lasso (one output,
DESIGN §1) and the group lasso (several outputs share a neuron or drop it).
"""

import numpy as np

__all__ = ["GroupL1"]


class GroupL1:
    """``alpha * sum_j ||v_j||_2`` over the rows v_j of the coefficient matrix.

    Parameters
    ----------
    alpha : float
        Regularization strength (scikit-learn Lasso convention).
    """

    def __init__(self, alpha):
        self.alpha = float(alpha)

    def value(self, V):
        return self.alpha * float(np.linalg.norm(V, axis=1).sum())

    def prox(self, V, step):
        """Block soft-thresholding: proximal operator of ``step * penalty``."""
        n = np.linalg.norm(V, axis=1, keepdims=True)
        scale = np.maximum(1.0 - step * self.alpha / np.maximum(n, 1e-300), 0.0)
        return V * scale

    def dual_norm(self, C):
        """Largest row norm of the correlation matrix (the constraint of the dual)."""
        if C.size == 0:
            return 0.0
        if C.ndim == 2 and C.shape[1] == 1:
            # One output: a max-abs reduction, several times faster than row norms
            # on millions of atoms.
            return float(max(C.max(), -C.min()))
        return float(np.sqrt(np.einsum("ij,ij->i", C, C).max()))

    def row_norms(self, C):
        if C.ndim == 2 and C.shape[1] == 1:
            return np.abs(C[:, 0])
        return np.linalg.norm(C, axis=1)
