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
        """The penalty ``alpha * sum_j ||v_j||_2``.

        Parameters
        ----------
        V : ndarray of shape (n_atoms, n_outputs) or (n_atoms,)
            Coefficients, one row per atom (a vector: one output).

        Returns
        -------
        float

        Examples
        --------
        >>> import numpy as np
        >>> from radonsolve.penalties import GroupL1
        >>> GroupL1(0.5).value(np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]]))
        3.0
        """
        V = np.asarray(V, dtype=float)
        if V.size == 0:
            return 0.0
        if V.ndim == 1 or V.shape[1] == 1:
            return self.alpha * float(np.abs(V).sum())
        return self.alpha * float(np.linalg.norm(V, axis=1).sum())

    def prox(self, V, step):
        """Block soft-thresholding: proximal operator of ``step * penalty``.

        Parameters
        ----------
        V : ndarray of shape (n_atoms, n_outputs)
            Point to threshold (not modified).
        step : float
            Step size; rows shrink in norm by ``step * alpha``, or to zero.

        Returns
        -------
        ndarray of shape (n_atoms, n_outputs)

        Examples
        --------
        >>> import numpy as np
        >>> from radonsolve.penalties import GroupL1
        >>> GroupL1(1.0).prox(np.array([[3.0, 4.0], [0.3, 0.4]]), step=2.5)
        array([[1.5, 2. ],
               [0. , 0. ]])
        """
        n = np.linalg.norm(V, axis=1, keepdims=True)
        scale = np.maximum(1.0 - step * self.alpha / np.maximum(n, 1e-300), 0.0)
        return V * scale

    def dual_norm(self, C):
        """Largest row norm of the correlation matrix (the constraint of the dual).

        Parameters
        ----------
        C : ndarray of shape (n_atoms, n_outputs) or (n_atoms,), or None
            Correlations of the atoms with a dual point (a vector: one output; None: no
            atoms).

        Returns
        -------
        float
            ``max_j ||c_j||_2`` (0.0 when there are no atoms); the dual point is feasible
            when it is at most ``alpha``.
        """
        if C is None or C.size == 0:
            return 0.0
        if C.ndim == 1 or C.shape[1] == 1:
            # One output: a max-abs reduction, several times faster than row norms
            # on millions of atoms.
            return float(max(C.max(), -C.min()))
        return float(np.sqrt(np.einsum("ij,ij->i", C, C).max()))

    def row_norms(self, C):
        """Euclidean norms of the rows of ``C``.

        Parameters
        ----------
        C : ndarray of shape (n_atoms, n_outputs)

        Returns
        -------
        ndarray of shape (n_atoms,)
        """
        if C.ndim == 2 and C.shape[1] == 1:
            return np.abs(C[:, 0])
        return np.linalg.norm(C, axis=1)
