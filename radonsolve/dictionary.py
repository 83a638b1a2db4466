"""The ReLU dictionary as a structured operator (DESIGN §2-3).

For every direction w the atoms are ``max(w.x - b, 0)`` with biases at the distinct data
projections, minus the largest (an atom that is zero on the data) and the smallest (an
affine function, already in the skip connection). After one sort per direction,

    (Phi^T q)_j = sum_{m > j} q_(m) (p_(m) - p_(j)) = S1_j - p_(j) S0_j      (suffix sums)
    (Phi v)_(m) = sum_{j < m} v_j (p_(m) - p_(j))   = p_(m) V0_m - V1_m     (prefix sums)

so both products cost O(N) per direction and the dense N x (D N) matrix is never formed.
Dense columns are only built for a chosen subset (a solver's working set).
"""

import numpy as np

__all__ = ["ReLUDictionary", "AffineProjector"]

# Target number of (sample, direction) entries processed at once: bounds temporary memory
# of the structured products to a few hundred MB whatever N * D is.
_CHUNK_ENTRIES = 2_000_000


class AffineProjector:
    """Weighted projection onto the complement of the affine functions span{1, X}.

    Works on *scaled* vectors ``sqrt(u) * z``, where the weighted least-squares problem
    ``0.5 sum u (y - f)^2`` becomes an ordinary one. The basis comes from an SVD so that
    collinear features or fewer samples than features (rank-deficient [1, X]) are handled.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    u : ndarray of shape (n_samples,)
        Normalized sample weights (sum to one).
    """

    def __init__(self, X, u):
        self.X = X
        self.u = u
        self.sqrt_u = np.sqrt(u)
        A = np.column_stack([np.ones(X.shape[0]), X]) * self.sqrt_u[:, None]
        U, s, Vt = np.linalg.svd(A, full_matrices=False)
        rank = int(np.sum(s > s[0] * max(A.shape) * np.finfo(float).eps)) if s.size else 0
        self.rank = rank
        self.Q = U[:, :rank]
        self._pinv_parts = (Vt[:rank].T, s[:rank])

    def project(self, Z):
        """Remove the affine part of scaled vector(s) Z (shape (N,) or (N, k))."""
        return Z - self.Q @ (self.Q.T @ Z)

    def affine_fit(self, y):
        """Weighted least-squares affine fit of y: returns (coef (d,[T]), intercept ([T]))."""
        V, s = self._pinv_parts
        z = self.sqrt_u[:, None] * y if y.ndim == 2 else self.sqrt_u * y
        beta = V @ ((self.Q.T @ z) / (s[:, None] if z.ndim == 2 else s))
        return beta[1:], beta[0]


class ReLUDictionary:
    """Operator over all ReLU ridge atoms with biases at the data projections.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    directions : ndarray of shape (n_directions, n_features)
        Unit rows on the canonical half-sphere (see :func:`radonsolve.directions.make_directions`).

    Attributes
    ----------
    n_atoms : int
    atom_direction : ndarray of shape (n_atoms,)
        Index of each atom's direction.
    atom_bias : ndarray of shape (n_atoms,)
        Each atom's bias (a data projection).
    atom_position : ndarray of shape (n_atoms,)
        Position, in the sorted projections of its direction, of the first point at the bias.
    """

    def __init__(self, X, directions):
        X = np.asarray(X, dtype=float)
        W = np.atleast_2d(np.asarray(directions, dtype=float))
        self.X = X
        self.directions = W
        self.n_samples, self.n_features = X.shape
        self.n_directions = W.shape[0]
        P = X @ W.T
        self.order = np.argsort(P, axis=0, kind="stable")
        self.sorted_proj = np.take_along_axis(P, self.order, axis=0)
        self._build_atoms()

    def _build_atoms(self):
        ps = self.sorted_proj
        N, D = ps.shape
        # Projections equal up to rounding are one bias: otherwise two atoms differing by
        # 1e-16 in bias give nearly identical columns and inflate the neuron count.
        scale = np.maximum(np.abs(ps).max(axis=0), 1e-300)
        start = np.zeros((N, D), dtype=bool)
        start[0] = True
        if N > 1:
            start[1:] = (ps[1:] - ps[:-1]) > 1e-12 * scale
        pos, dirs = np.nonzero(start)
        # order by direction, then by position
        o = np.lexsort((pos, dirs))
        pos, dirs = pos[o], dirs[o]
        counts = np.bincount(dirs, minlength=D)
        first_of_dir = np.concatenate([[0], np.cumsum(counts)[:-1]])
        last_of_dir = first_of_dir + counts - 1
        drop = np.zeros(len(pos), dtype=bool)
        drop[first_of_dir] = True     # smallest projection: affine atom
        drop[last_of_dir[counts > 0]] = True  # largest projection: zero atom
        keep = ~drop
        self.atom_position = pos[keep]
        self.atom_direction = dirs[keep]
        self.atom_bias = ps[self.atom_position, self.atom_direction]
        self.n_atoms = int(keep.sum())
        self.atoms_per_direction = np.bincount(self.atom_direction, minlength=D)
        self.direction_offsets = np.concatenate([[0], np.cumsum(self.atoms_per_direction)])

    # ------------------------------------------------------------------ helpers
    def _direction_chunks(self):
        step = max(1, _CHUNK_ENTRIES // max(self.n_samples, 1))
        for k0 in range(0, self.n_directions, step):
            yield k0, min(self.n_directions, k0 + step)

    def _atoms_in(self, k0, k1):
        a0, a1 = self.direction_offsets[k0], self.direction_offsets[k1]
        return slice(a0, a1), self.atom_position[a0:a1], self.atom_direction[a0:a1] - k0

    # ------------------------------------------------------------------ products
    def rmatvec(self, q):
        """Correlations ``Phi^T q`` of every atom with q (shape (N,) or (N, T))."""
        q = np.asarray(q, dtype=float)
        if q.ndim == 2:
            return np.column_stack([self.rmatvec(q[:, t]) for t in range(q.shape[1])]) \
                if q.shape[1] else np.zeros((self.n_atoms, 0))
        out = np.empty(self.n_atoms)
        for k0, k1 in self._direction_chunks():
            sl, pos, dk = self._atoms_in(k0, k1)
            ps = self.sorted_proj[:, k0:k1]
            qs = q[self.order[:, k0:k1]]
            S0 = np.cumsum(qs[::-1], axis=0)[::-1]
            S1 = np.cumsum((qs * ps)[::-1], axis=0)[::-1]
            # Points tied with the bias contribute (p - b) = 0, so starting the suffix at
            # the first tied point is exact.
            out[sl] = S1[pos, dk] - self.atom_bias[sl] * S0[pos, dk]
        return out

    def matvec(self, v):
        """``Phi v`` on the data (v of shape (n_atoms,) or (n_atoms, T))."""
        v = np.asarray(v, dtype=float)
        if v.ndim == 2:
            return np.column_stack([self.matvec(v[:, t]) for t in range(v.shape[1])]) \
                if v.shape[1] else np.zeros((self.n_samples, 0))
        out = np.zeros(self.n_samples)
        for k0, k1 in self._direction_chunks():
            sl, pos, dk = self._atoms_in(k0, k1)
            if not np.any(v[sl]):
                continue
            n, m = self.n_samples, k1 - k0
            A0 = np.zeros((n, m))
            A1 = np.zeros((n, m))
            A0[pos, dk] = v[sl]
            A1[pos, dk] = v[sl] * self.atom_bias[sl]
            # Atoms starting at or before position m have bias <= p_(m); tied ones add zero.
            res = self.sorted_proj[:, k0:k1] * np.cumsum(A0, axis=0) - np.cumsum(A1, axis=0)
            np.add.at(out, self.order[:, k0:k1].ravel(), res.ravel())
        return out

    def column_sq_norms(self, u=None):
        """Weighted squared norms ``sum_n u_n max(p_n - b, 0)^2`` of every atom (u=1 if None)."""
        u = np.ones(self.n_samples) if u is None else np.asarray(u, dtype=float)
        out = np.empty(self.n_atoms)
        for k0, k1 in self._direction_chunks():
            sl, pos, dk = self._atoms_in(k0, k1)
            ps = self.sorted_proj[:, k0:k1]
            us = u[self.order[:, k0:k1]]
            S0 = np.cumsum(us[::-1], axis=0)[::-1][pos, dk]
            S1 = np.cumsum((us * ps)[::-1], axis=0)[::-1][pos, dk]
            S2 = np.cumsum((us * ps * ps)[::-1], axis=0)[::-1][pos, dk]
            b = self.atom_bias[sl]
            out[sl] = np.maximum(S2 - 2 * b * S1 + b * b * S0, 0.0)
        return out

    def projected_column_sq_norms(self, projector):
        """Squared norms of the scaled atoms after removing their affine part.

        ``||P sqrt(u) phi||^2 = ||sqrt(u) phi||^2 - ||Q^T sqrt(u) phi||^2``; the inner products
        with the affine basis come from ``rmatvec`` applied to the basis columns.
        """
        u = projector.u
        sq = self.column_sq_norms(u)
        # Q^T (sqrt(u) phi) = Phi^T (sqrt(u) Q): one structured pass per basis vector.
        QtPhi = self.rmatvec(projector.sqrt_u[:, None] * projector.Q)
        return np.maximum(sq - (QtPhi ** 2).sum(axis=1), 0.0)

    # ------------------------------------------------------------------ explicit pieces
    def atoms(self, idx):
        """Directions (k, d) and biases (k,) of the atoms ``idx``."""
        idx = np.asarray(idx, dtype=int)
        return self.directions[self.atom_direction[idx]], self.atom_bias[idx]

    def columns(self, idx, X=None):
        """Dense columns ``max(X w - b, 0)`` for the atoms ``idx`` (on the data by default)."""
        W, b = self.atoms(idx)
        X = self.X if X is None else X
        return np.maximum(X @ W.T - b, 0.0)

    def toarray(self):
        """The full dense matrix. For tests and small problems only."""
        return self.columns(np.arange(self.n_atoms))
