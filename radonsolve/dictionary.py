"""The ReLU dictionary as a structured operator (DESIGN §2-3).

For every direction w the atoms are ``max(w.x - b, 0)`` with biases at the distinct data
projections, minus the largest (an atom that is zero on the data) and the smallest (an
affine function, already in the skip connection). After one sort per direction,

    (Phi^T q)_j = sum_{m > j} q_(m) (p_(m) - p_(j))          (suffix sums)
    (Phi v)_(m) = sum_{j < m} v_j (p_(m) - p_(j))            (prefix sums)

so both products cost O(N) per direction and the dense N x (D N) matrix is never formed.
Dense columns are only built for a chosen subset (a solver's working set).

Implementation notes
--------------------
The products are compiled numba kernels, run over slices of the directions from a few
threads for large dictionaries (directions are independent), that walk each direction's
sorted projections once without any N x D temporary. Instead of the textbook
``S1_j - p_(j) S0_j`` (two large suffix sums that cancel for atoms low in the order) they
carry the sums relative to the current point,

    R_m = R_{m+1} + (p_(m+1) - p_(m)) * S0_{m+1},      R_m = sum_{l >= m} q_(l) (p_(l) - p_(m)),

which only adds products of nonnegative gaps: the same cost, no cancellation between large
terms. Column norms use the same shifted recurrences for the second moment. The sort orders
are stored as int32, direction-major (D, N), so each kernel reads contiguous memory;
``order`` and ``sorted_proj`` are (N, D) views of them.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from .affine import AffineProjector  # noqa: F401 (re-exported: the old import path)

__all__ = ["ReLUDictionary", "AffineProjector", "relu_columns"]

# Structured passes run in parallel over directions from this many (sample, direction)
# pairs on; below it a serial pass is faster than handing work to threads.
PARALLEL_MIN_ENTRIES = 1_000_000

# Phi V is summed over this many fixed groups of directions (each accumulated separately,
# then added in order), whatever the number of threads: the result is the same for any
# thread count.
MATVEC_CHUNKS = 16

# Relative gap below which two projections are one bias (rounding ties).
_TIE_RTOL = 1e-12


# ---------------------------------------------------------------------- compiled kernels
# Every structured pass is one serial kernel over a range of directions [k0, k1), run on the
# whole range for small dictionaries and on slices of it from a few Python threads for large
# ones (the kernels release the GIL). Directions are independent, so the result does not
# depend on the number of threads. One serial kernel per pass, instead of a serial and a
# numba-parallel (prange) variant, compiles several times faster: parfor lowering dominated
# the compile time of the first fit on a fresh machine.
@njit(cache=True, nogil=True)
def _projections(X, W, P, k0, k1):
    """P[k, n] = W[k] . X[n] (direction-major), without BLAS on a K = d product."""
    N, d = X.shape
    for k in range(k0, k1):
        for n in range(N):
            s = 0.0
            for f in range(d):
                s += W[k, f] * X[n, f]
            P[k, n] = s


@njit(cache=True, nogil=True)
def _gather_sorted(P, o, order, ps, counts, k0, k1):
    """Sorted rows of P (D, N) given the argsort o, into int32 order and ps; atoms per
    direction into counts."""
    N = P.shape[1]
    for k in range(k0, k1):
        scale = 0.0
        for m in range(N):
            i = o[k, m]
            order[k, m] = i
            ps[k, m] = P[k, i]
            a = abs(ps[k, m])
            if a > scale:
                scale = a
        thr = _TIE_RTOL * max(scale, 1e-300)
        groups = 1 if N > 0 else 0
        for m in range(1, N):
            if ps[k, m] - ps[k, m - 1] > thr:
                groups += 1
        counts[k] = max(groups - 2, 0)


@njit(cache=True, nogil=True)
def _fill_atoms(ps, offsets, pos_out, dir_out, bias_out, k0, k1):
    """Atoms of each direction: starts of tie groups, without the first and last group."""
    N = ps.shape[1]
    for k in range(k0, k1):
        a = offsets[k]
        end = offsets[k + 1]
        if a >= end:
            continue
        scale = 0.0
        for m in range(N):
            if abs(ps[k, m]) > scale:
                scale = abs(ps[k, m])
        thr = _TIE_RTOL * max(scale, 1e-300)
        for m in range(1, N):
            if a >= end:
                break
            if ps[k, m] - ps[k, m - 1] > thr:
                pos_out[a] = m
                dir_out[a] = k
                bias_out[a] = ps[k, m]
                a += 1


@njit(cache=True, nogil=True)
def _rmatvec_1(q, order, ps, offsets, pos, out, k0, k1):
    """out[a] = sum_n q_n max(p_n - b_a, 0) for the atoms of directions k0..k1-1."""
    N = ps.shape[1]
    for k in range(k0, k1):
        a0 = offsets[k]
        a = offsets[k + 1] - 1
        if a < a0:
            continue
        nxt = pos[a]
        s0 = 0.0
        r = 0.0
        prev = ps[k, N - 1]
        for m in range(N - 1, -1, -1):
            p = ps[k, m]
            r += (prev - p) * s0
            prev = p
            s0 += q[order[k, m]]
            if m == nxt:
                out[a] = r
                a -= 1
                if a < a0:
                    break
                nxt = pos[a]


@njit(cache=True, nogil=True)
def _rmatvec_T(Q, order, ps, offsets, pos, out, k0, k1):
    """Several outputs: Q (N, T), out (n_atoms, T)."""
    N = ps.shape[1]
    T = Q.shape[1]
    s0 = np.empty(T)
    r = np.empty(T)
    for k in range(k0, k1):
        a0 = offsets[k]
        a = offsets[k + 1] - 1
        if a < a0:
            continue
        nxt = pos[a]
        for t in range(T):
            s0[t] = 0.0
            r[t] = 0.0
        prev = ps[k, N - 1]
        for m in range(N - 1, -1, -1):
            p = ps[k, m]
            dp = prev - p
            prev = p
            i = order[k, m]
            for t in range(T):
                r[t] += dp * s0[t]
                s0[t] += Q[i, t]
            if m == nxt:
                for t in range(T):
                    out[a, t] = r[t]
                a -= 1
                if a < a0:
                    break
                nxt = pos[a]


@njit(cache=True, nogil=True)
def _matvec_chunk(Vc, order, ps, offsets, pos, acc, c, n_chunks):
    """acc += Phi V restricted to the directions k = c, c + n_chunks, ... (acc (N, T))."""
    D, N = ps.shape
    T = Vc.shape[1]
    v0 = np.zeros(T)
    r = np.zeros(T)
    for k in range(c, D, n_chunks):
        a0 = offsets[k]
        a1 = offsets[k + 1]
        first = -1
        for a in range(a0, a1):
            nz = False
            for t in range(T):
                if Vc[a, t] != 0.0:
                    nz = True
            if nz:
                first = a
                break
        if first < 0:
            continue
        for t in range(T):
            v0[t] = 0.0
            r[t] = 0.0
        a = first
        m0 = pos[first]
        prev = ps[k, m0]
        for m in range(m0, N):
            p = ps[k, m]
            dp = p - prev
            prev = p
            for t in range(T):
                r[t] += dp * v0[t]
            if a < a1 and pos[a] == m:
                for t in range(T):
                    v0[t] += Vc[a, t]
                a += 1
            i = order[k, m]
            for t in range(T):
                acc[i, t] += r[t]


@njit(cache=True, nogil=True)
def _sq_norms(u, A, order, ps, offsets, pos, out, k0, k1):
    """out[a] = sum_n u_n max(p_n - b_a, 0)^2 - sum_i (sum_n A_ni max(p_n - b_a, 0))^2."""
    N = ps.shape[1]
    r_ = A.shape[1]
    c0 = np.empty(r_)
    c1 = np.empty(r_)
    for k in range(k0, k1):
        a0 = offsets[k]
        a = offsets[k + 1] - 1
        if a < a0:
            continue
        nxt = pos[a]
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        for j in range(r_):
            c0[j] = 0.0
            c1[j] = 0.0
        prev = ps[k, N - 1]
        for m in range(N - 1, -1, -1):
            p = ps[k, m]
            dp = prev - p
            prev = p
            s2 += dp * (2.0 * s1 + dp * s0)
            s1 += dp * s0
            i = order[k, m]
            s0 += u[i]
            for j in range(r_):
                c1[j] += dp * c0[j]
                c0[j] += A[i, j]
            if m == nxt:
                val = s2
                for j in range(r_):
                    val -= c1[j] * c1[j]
                out[a] = val if val > 0.0 else 0.0
                a -= 1
                if a < a0:
                    break
                nxt = pos[a]


# Threads for the large passes, one pool per thread count: created on first use, and again
# after a fork (a pool's threads do not exist in the child process).
_POOLS = {}


def _pool(n_threads):
    key = (os.getpid(), n_threads)
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS.setdefault(key, ThreadPoolExecutor(max_workers=n_threads,
                                                         thread_name_prefix="radonsolve"))
    return pool


def _over_directions(kernel, n_dir, parallel, *args):
    """Run ``kernel(*args, k0, k1)`` over all directions, on slices from threads if parallel.

    More slices than threads, so that a thread descheduled on a busy machine holds back
    only a small part of the pass.
    """
    n_threads = _n_threads() if parallel else 1
    if n_threads <= 1 or n_dir < 2:
        kernel(*args, 0, n_dir)
        return
    n_tasks = min(n_dir, 4 * n_threads)
    bounds = [n_dir * i // n_tasks for i in range(n_tasks + 1)]
    pool = _pool(n_threads)
    futures = [pool.submit(kernel, *args, bounds[i], bounds[i + 1])
               for i in range(n_tasks)]
    for f in futures:
        f.result()


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
    order : ndarray of int32, shape (n_samples, n_directions)
        ``order[:, k]`` sorts the projections on direction k (a view of a direction-major array).
    sorted_proj : ndarray of shape (n_samples, n_directions)
        The sorted projections (a view, like ``order``).

    Examples
    --------
    On four points of a line the atoms have the interior data points as biases:

    >>> import numpy as np
    >>> from radonsolve.dictionary import ReLUDictionary
    >>> dic = ReLUDictionary(np.array([[0.0], [1.0], [2.0], [3.0]]), np.ones((1, 1)))
    >>> dic.atom_bias
    array([1., 2.])
    >>> dic.toarray()
    array([[0., 0.],
           [0., 0.],
           [1., 0.],
           [2., 1.]])
    >>> dic.rmatvec(np.ones(4)), dic.matvec(np.array([1.0, -1.0]))
    (array([3., 1.]), array([0., 0., 1., 1.]))
    """

    def __init__(self, X, directions):
        X = np.asarray(X, dtype=float)
        W = np.atleast_2d(np.asarray(directions, dtype=float))
        self.X = X
        self.directions = W
        self.n_samples, self.n_features = X.shape
        self.n_directions = W.shape[0]
        D, N = self.n_directions, self.n_samples
        par = self._parallel
        P = np.empty((D, N))
        _over_directions(_projections, D, par, np.ascontiguousarray(X),
                         np.ascontiguousarray(W), P)
        # NumPy's (vectorized) quicksort is several times faster than a stable sort; the
        # order among tied projections does not matter (tied points add zero to an atom).
        self._order = np.empty((D, N), dtype=np.int32)
        self._sorted_proj = np.empty((D, N))
        counts = np.zeros(D, dtype=np.int64)
        _over_directions(_gather_sorted, D, par, P, np.argsort(P, axis=1), self._order,
                         self._sorted_proj, counts)
        del P
        self.atoms_per_direction = counts
        self.direction_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        n = int(self.direction_offsets[-1])
        self.n_atoms = n
        self.atom_position = np.empty(n, dtype=np.int64)
        self.atom_direction = np.empty(n, dtype=np.int64)
        self.atom_bias = np.empty(n)
        _over_directions(_fill_atoms, D, par, self._sorted_proj, self.direction_offsets,
                         self.atom_position, self.atom_direction, self.atom_bias)

    @property
    def _parallel(self):
        return self.n_samples * self.n_directions >= PARALLEL_MIN_ENTRIES

    @property
    def order(self):
        return self._order.T

    @property
    def sorted_proj(self):
        return self._sorted_proj.T

    def _atoms_in(self, k0, k1):
        a0, a1 = self.direction_offsets[k0], self.direction_offsets[k1]
        return slice(a0, a1), self.atom_position[a0:a1], self.atom_direction[a0:a1] - k0

    def _check_rows(self, Z, name):
        if Z.shape[0] != self.n_samples:
            raise ValueError(f"{name} has {Z.shape[0]} rows, expected {self.n_samples}.")

    # ------------------------------------------------------------------ products
    def rmatvec(self, q):
        """Correlations ``Phi^T q`` of every atom with q (shape (N,) or (N, T)).

        Parameters
        ----------
        q : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        ndarray of shape (n_atoms,) or (n_atoms, n_outputs)

        Raises
        ------
        ValueError
            If ``q`` does not have ``n_samples`` rows.
        """
        q = np.asarray(q, dtype=float)
        self._check_rows(q, "q")
        if q.ndim == 1:
            out = np.zeros(self.n_atoms)
            if self.n_atoms:
                self._rmatvec_1(np.ascontiguousarray(q), out)
            return out
        T = q.shape[1]
        out = np.zeros((self.n_atoms, T))
        if self.n_atoms and T:
            if T == 1:
                col = np.zeros(self.n_atoms)
                self._rmatvec_1(np.ascontiguousarray(q[:, 0]), col)
                out[:, 0] = col
            else:
                _over_directions(_rmatvec_T, self.n_directions, self._parallel,
                                 np.ascontiguousarray(q), self._order, self._sorted_proj,
                                 self.direction_offsets, self.atom_position, out)
        return out

    def _rmatvec_1(self, q, out):
        _over_directions(_rmatvec_1, self.n_directions, self._parallel, q, self._order,
                         self._sorted_proj, self.direction_offsets, self.atom_position, out)

    def matvec(self, v):
        """``Phi v`` on the data (v of shape (n_atoms,) or (n_atoms, T)).

        Parameters
        ----------
        v : array-like of shape (n_atoms,) or (n_atoms, n_outputs)
            Atom coefficients.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)

        Raises
        ------
        ValueError
            If ``v`` does not have ``n_atoms`` rows.
        """
        v = np.asarray(v, dtype=float)
        if v.shape[0] != self.n_atoms:
            raise ValueError(f"v has {v.shape[0]} rows, expected {self.n_atoms}.")
        V = v[:, None] if v.ndim == 1 else v
        if V.shape[1] == 0 or self.n_atoms == 0:
            out = np.zeros((self.n_samples, V.shape[1]))
        else:
            args = (np.ascontiguousarray(V), self._order, self._sorted_proj,
                    self.direction_offsets, self.atom_position)
            out = np.zeros((self.n_samples, V.shape[1]))
            if self._parallel:
                self._matvec_chunked(args, out)
            else:
                _matvec_chunk(*args, out, 0, 1)
        return out[:, 0] if v.ndim == 1 else out

    def _matvec_chunked(self, args, out):
        # MATVEC_CHUNKS accumulators added to out in chunk order, n_threads of them alive
        # at a time: the same sums in the same order for any number of threads.
        n_chunks = min(MATVEC_CHUNKS, self.n_directions)
        n_threads = max(1, min(_n_threads(), n_chunks))
        acc = np.empty((n_threads,) + out.shape)
        for c0 in range(0, n_chunks, n_threads):
            chunks = range(c0, min(c0 + n_threads, n_chunks))
            acc[:len(chunks)] = 0.0
            if n_threads == 1:
                _matvec_chunk(*args, acc[0], c0, n_chunks)
            else:
                pool = _pool(n_threads)
                futures = [pool.submit(_matvec_chunk, *args, acc[i], c, n_chunks)
                           for i, c in enumerate(chunks)]
                for f in futures:
                    f.result()
            for i in range(len(chunks)):
                out += acc[i]

    def column_sq_norms(self, u=None):
        """Weighted squared norms ``sum_n u_n max(p_n - b, 0)^2`` of every atom (u=1 if None).

        Parameters
        ----------
        u : array-like of shape (n_samples,) or None, default=None
            Sample weights; None weighs every sample 1.

        Returns
        -------
        ndarray of shape (n_atoms,)
        """
        u = np.ones(self.n_samples) if u is None else np.ascontiguousarray(u, dtype=float)
        return self._sq_norms(u, np.zeros((self.n_samples, 0)))

    def projected_column_sq_norms(self, projector):
        """Squared norms of the scaled atoms after removing their affine part.

        ``||P sqrt(u) phi||^2 = ||sqrt(u) phi||^2 - ||Q^T sqrt(u) phi||^2``, both terms from
        one structured pass.

        Parameters
        ----------
        projector : AffineProjector
            Built on this dictionary's ``X`` with the weights u.

        Returns
        -------
        ndarray of shape (n_atoms,)
        """
        A = np.ascontiguousarray(projector.sqrt_u[:, None] * projector.Q)
        return self._sq_norms(np.ascontiguousarray(projector.u, dtype=float), A)

    def _sq_norms(self, u, A):
        out = np.zeros(self.n_atoms)
        if self.n_atoms:
            _over_directions(_sq_norms, self.n_directions, self._parallel, u, A, self._order,
                             self._sorted_proj, self.direction_offsets, self.atom_position,
                             out)
        return out

    # ------------------------------------------------------------------ explicit pieces
    def atoms(self, idx):
        """Directions (k, d) and biases (k,) of the atoms ``idx``.

        Parameters
        ----------
        idx : array-like of int, shape (k,)
            Atom indices.

        Returns
        -------
        directions : ndarray of shape (k, n_features)
        biases : ndarray of shape (k,)
        """
        idx = np.asarray(idx, dtype=np.int64)
        return self.directions[self.atom_direction[idx]], self.atom_bias[idx]

    def columns(self, idx, X=None):
        """Dense columns ``max(X w - b, 0)`` for the atoms ``idx`` (on the data by default).

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


def relu_columns(X, W, b):
    """Dense atoms ``max(X w_k - b_k, 0)`` (one column per atom).

    Parameters
    ----------
    X : array-like of shape (n_points, n_features)
        Points to evaluate the atoms at.
    W : ndarray of shape (k, n_features)
        Directions of the atoms.
    b : ndarray of shape (k,)
        Biases of the atoms.

    Returns
    -------
    ndarray of shape (n_points, k)

    Examples
    --------
    >>> import numpy as np
    >>> relu_columns(np.array([[0.0], [2.0]]), np.array([[1.0]]), np.array([1.0]))
    array([[0.],
           [1.]])
    """
    out = np.asarray(X, dtype=float) @ W.T
    out -= b
    np.maximum(out, 0.0, out=out)
    return out


def _n_threads():
    import numba
    return numba.get_num_threads()
