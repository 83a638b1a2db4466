"""The affine part of every fit, span{1, X}, owned in one place (DESIGN §1, §12).

RTV2 does not see affine functions: the skip connection ``c.x + c0`` is unpenalized, so
every solver treats span{1, X} apart, in one of two ways:

- the squared loss projects it out (:class:`AffineProjector`, on vectors scaled by
  ``sqrt(u)``) and recovers it afterwards by a weighted least-squares fit;
- any other loss keeps it as an unpenalized block of coefficients in an orthonormal basis
  (:func:`affine_basis`), with the map back to ``[c0; c]``.

Both come from one factorization. Its numerical rank is decided on commensurate columns
(the features centred, then every column scaled to unit norm) so that it depends on the
geometry of the data, not on units: features of scale 1e-12 or 1e12 are kept next to the
column of ones, data far from the origin (|x| ~ 1e100) does not look collinear with it, and
collinear features or fewer samples than features (a rank-deficient ``[1, X]``) are handled.
"""

import numpy as np
from numba import njit

__all__ = ["AffineProjector", "affine_basis"]


def _factor(X, sqrt_u, center):
    """Orthonormal basis of ``sqrt_u * [1, X]`` and the map from its coefficients.

    Returns ``(Q, V, s)``: for the scaled function ``Q @ B``, ``V @ (B / s)`` are its
    coefficients on the scaled columns ``sqrt_u * [1, X - center]``.
    """
    N = X.shape[0]
    A = np.column_stack([np.ones(N), X - center]) * sqrt_u[:, None]
    # The rank cutoff is relative to the largest singular value, so the columns are made
    # commensurate first (see the module docstring); a zero column is left as it is.
    norms = np.linalg.norm(A, axis=0)
    norms[norms == 0] = 1.0
    U, s, Vt = np.linalg.svd(A / norms, full_matrices=False)
    rank = int(np.sum(s > s[0] * max(A.shape) * np.finfo(float).eps)) if s.size else 0
    return U[:, :rank], Vt[:rank].T / norms[:, None], s[:rank]


@njit(cache=True)
def _project(Q, Z):
    """Z - Q (Q^T Z) for Z (N, m) C-contiguous and Q (N, r) with small r."""
    N, r = Q.shape
    m = Z.shape[1]
    A = np.zeros((r, m))
    for n in range(N):
        for i in range(r):
            q = Q[n, i]
            for j in range(m):
                A[i, j] += q * Z[n, j]
    out = Z.copy()
    for n in range(N):
        for i in range(r):
            q = Q[n, i]
            for j in range(m):
                out[n, j] -= q * A[i, j]
    return out


class AffineProjector:
    """Weighted projection onto the complement of the affine functions span{1, X}.

    Works on *scaled* vectors ``sqrt(u) * z``, where the weighted least-squares problem
    ``0.5 sum u (y - f)^2`` becomes an ordinary one: ``project`` is the orthogonal
    projector, in the plain inner product of scaled vectors (the ``u``-weighted inner
    product of unscaled ones), onto the complement of ``sqrt(u) * span{1, X}``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs (not modified).
    u : ndarray of shape (n_samples,)
        Normalized sample weights (nonnegative, summing to one).

    Attributes
    ----------
    sqrt_u : ndarray of shape (n_samples,)
        Square roots of the weights (the scaling of the vectors projected).
    Q : ndarray of shape (n_samples, rank)
        Orthonormal basis of the scaled affine functions ``sqrt(u) * [1, X]``.
    rank : int
        Numerical rank of ``[1, X]`` under the weights (module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.affine import AffineProjector
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> proj = AffineProjector(X, np.full(4, 0.25))
    >>> proj.rank
    2
    >>> coef, intercept = proj.affine_fit(np.array([1.0, 3.0, 5.0, 7.0]))
    >>> coef, float(intercept)
    (array([2.]), 1.0)
    >>> r = proj.project(proj.sqrt_u * np.array([0.0, 0.0, 1.0, 3.0]))  # a hinge
    >>> bool(np.allclose(proj.Q.T @ r, 0.0))
    True
    """

    def __init__(self, X, u):
        self.X = X
        self.u = u
        self.sqrt_u = np.sqrt(u)
        # Weighted mean (u sums to one): centring makes the ones column and the features
        # orthogonal under the weights.
        self._center = u @ X if X.shape[0] else np.zeros(X.shape[1])
        self.Q, V, s = _factor(X, self.sqrt_u, self._center)
        self.rank = self.Q.shape[1]
        self._pinv_parts = (V, s)

    def project(self, Z):
        """Remove the affine part of scaled vector(s) Z.

        Parameters
        ----------
        Z : array-like of shape (n_samples,) or (n_samples, k)
            Scaled vectors ``sqrt(u) * z`` (not modified).

        Returns
        -------
        ndarray of the shape of ``Z``
            ``Z - Q Q^T Z``: orthogonal to every scaled affine function.
        """
        Z = np.asarray(Z, dtype=float)
        if Z.ndim == 2 and Z.shape[1] > 0 and Z.shape[0] == self.Q.shape[0]:
            # Compiled loop: Q has a handful of columns, a shape on which multithreaded
            # BLAS can be very slow (thread wake-ups dominate).
            return _project(self.Q, np.ascontiguousarray(Z))
        return Z - self.Q @ (self.Q.T @ Z)

    def affine_fit(self, y):
        """Weighted least-squares affine fit of unscaled targets.

        Minimizes ``sum_n u_n (y_n - c.x_n - c0)^2`` (the minimum-norm solution when
        ``[1, X]`` is rank deficient).

        Parameters
        ----------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Unscaled targets (not modified).

        Returns
        -------
        coef : ndarray of shape (n_features,) or (n_features, n_outputs)
            Linear part ``c``.
        intercept : float or ndarray of shape (n_outputs,)
            Constant ``c0``.
        """
        V, s = self._pinv_parts
        # Centred targets: a large mean would otherwise cost digits in the slope (the ones
        # column and the centred features are orthogonal, so the mean is the intercept's part).
        ybar = self.u @ y
        yc = y - ybar
        z = self.sqrt_u[:, None] * yc if y.ndim == 2 else self.sqrt_u * yc
        beta = V @ ((self.Q.T @ z) / (s[:, None] if z.ndim == 2 else s))
        coef = beta[1:]
        return coef, beta[0] + ybar - self._center @ coef


def affine_basis(X):
    """Orthonormal basis of span{1, X} and the map from its coefficients to ``[c0; c]``.

    The unpenalized block of the solvers that keep the affine part as coefficients (any
    loss but the squared one). Same factorization and rank as :class:`AffineProjector` with
    uniform weights.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs (not modified).

    Returns
    -------
    A : ndarray of shape (n_samples, r)
        Orthonormal columns (C-contiguous), r the numerical rank of ``[1, X]``.
    to_affine : ndarray of shape (n_features + 1, r)
        ``[c0; c] = to_affine @ B`` for the function ``A @ B``, i.e.
        ``A @ B = c0 + X @ c`` on the data.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.affine import affine_basis
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> A, to_affine = affine_basis(X)
    >>> B = A.T @ (1.0 + 2.0 * X[:, 0])      # the function 1 + 2 x in the basis
    >>> np.round(to_affine @ B, 10)
    array([1., 2.])
    """
    N, d = X.shape
    center = X.mean(axis=0) if N else np.zeros(d)
    Q, V, s = _factor(X, np.ones(N), center)
    gamma = V / s                                  # coefficients on [1, X - center]
    # c0 + X c = (c0 + center . c) + (X - center) c: shift the constant back.
    to_affine = gamma.copy()
    to_affine[0] -= center @ gamma[1:]
    return np.ascontiguousarray(Q), to_affine
