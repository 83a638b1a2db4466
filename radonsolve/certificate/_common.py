"""Helpers shared by the certificate's modules (internal to :mod:`radonsolve.certificate`).

Input validation, the canonical half-sphere, and the exact O(N log N) evaluation of eta on
given directions that every certificate ends with.
"""

import os
import warnings

import numpy as np
from joblib import Parallel, delayed
from numba import njit

from .._validation import as_float_array, check_alpha, check_finite

# Target number of (direction, sample) projections held at once by :func:`eta`: bounds the
# temporary memory whatever the number of directions.
CHUNK_ENTRIES = 2_000_000

# ---------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------
def validate(X, q, alpha):
    """Checked float64 X (N, d), q (N, T) and a positive alpha; warns if q is not projected.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    q : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Weighted projected residual.
    alpha : float
        Positive regularization strength.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        C-contiguous.
    q : ndarray of shape (n_samples, n_outputs)
        Always 2-D, C-contiguous.
    alpha : float
    """
    X = np.ascontiguousarray(as_float_array(X, "X"))
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array, got shape {X.shape}.")
    q = as_float_array(q, "q")
    if q.ndim == 1:
        q = q[:, None]
    if q.ndim != 2 or q.shape[0] != X.shape[0]:
        raise ValueError(f"q must have shape ({X.shape[0]},) or ({X.shape[0]}, T), got {q.shape}.")
    q = np.ascontiguousarray(q)
    alpha = check_alpha(alpha)
    if not alpha > 0:
        raise ValueError(f"alpha must be positive, got {alpha}.")
    check_finite(X, "X")
    check_finite(q, "q")
    check_orthogonal(X, q)
    return X, q, alpha


def check_orthogonal(X, q):
    """Warn (UserWarning) when q is not orthogonal to the affine functions of X.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    q : ndarray of shape (n_samples, n_outputs)
    """
    # Everything here (half-sphere, biases only at data projections) relies on q being
    # orthogonal to affine functions; a raw residual silently gives a wrong certificate.
    qn = np.linalg.norm(q, axis=0)
    if not np.any(qn > 0):
        return
    N = X.shape[0]
    A = np.column_stack([np.ones(N), X - X.mean(axis=0)])
    an = np.linalg.norm(A, axis=0)
    # a zero column or output has a zero inner product: divide it by 1, not by its norm
    an = np.where(an > 0, an, 1.0)
    rel = np.abs(A.T @ q) / (an[:, None] * np.where(qn > 0, qn, 1.0)[None, :])
    if rel.max() > 1e-6:
        warnings.warn(
            f"q is not orthogonal to the affine functions (relative inner product "
            f"{rel.max():.1e}); eta(w) and eta(-w) differ and the certificate is not valid. "
            f"Pass q = sqrt(u) * rho with rho the projected residual.", UserWarning,
            stacklevel=3)


def unit_rows(W, d):
    """Rows of W scaled to unit length (C-contiguous), errors naming ``directions``.

    Parameters
    ----------
    W : array-like of shape (n_directions, d)
        Finite nonzero directions.
    d : int
        Number of features.

    Returns
    -------
    ndarray of shape (n_directions, d)
    """
    W = np.atleast_2d(as_float_array(W, "directions"))
    if W.ndim != 2 or W.shape[1] != d:
        raise ValueError(f"directions must have shape (n_directions, {d}), got {W.shape}.")
    n = np.linalg.norm(W, axis=1)
    if np.any(n <= 0) or not np.all(np.isfinite(n)):
        raise ValueError("directions must be finite and nonzero.")
    return np.ascontiguousarray(W / n[:, None])


def canonical(W, b):
    """Flip (w, b) -> (-w, -b) so that the first nonzero coordinate of w is positive.

    Parameters
    ----------
    W : array-like of shape (k, n_features)
    b : array-like of shape (k,)

    Returns
    -------
    W : ndarray of shape (k, n_features)
    b : ndarray of shape (k,)
        New arrays; the inputs are not modified.
    """
    W = np.array(W, dtype=float, ndmin=2, copy=True)
    b = np.array(b, dtype=float, ndmin=1, copy=True)
    first = np.argmax(np.abs(W) > 1e-12, axis=1)
    flip = W[np.arange(len(W)), first] < 0
    W[flip] *= -1
    b[flip] *= -1
    return W, b


# ---------------------------------------------------------------------------------------
# eta on given directions
# ---------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def best_bias(p, q, order, c_out):
    """Largest ||c|| over biases at the sorted projections; returns (value^2, position).

    Recurrence from the top: c_j = c_{j+1} + (p_(j+1) - p_(j)) S_{j+1} with S the suffix sum
    of q. Every term is a gap times a suffix sum, which avoids the cancellation of
    ``S1 - p S0`` when the projections are large compared with their spread.

    Parameters
    ----------
    p : ndarray of shape (n_samples,)
        Projections of the data on one direction.
    q : ndarray of shape (n_samples, n_outputs)
    order : ndarray of int, shape (n_samples,)
        Sorting permutation of p.
    c_out : ndarray of shape (n_outputs,)
        Receives the best correlation vector.

    Returns
    -------
    value2 : float
        ``||c||^2`` of the best bias.
    position : int
        Its position in the sorted order.
    """
    N, T = q.shape
    S = np.zeros(T)
    c = np.zeros(T)
    best = 0.0
    best_j = N - 1
    for t in range(T):
        c_out[t] = 0.0
    for j in range(N - 2, -1, -1):
        k1 = order[j + 1]
        gap = p[k1] - p[order[j]]
        v = 0.0
        for t in range(T):
            S[t] += q[k1, t]
            c[t] += gap * S[t]
            v += c[t] * c[t]
        if v > best:
            best = v
            best_j = j
            for t in range(T):
                c_out[t] = c[t]
    return best, best_j


@njit(cache=True, nogil=True)
def eta_batch(P, O, q, val2, idx, bias, corr):
    """:func:`best_bias` for each row of P, written into the output arrays (in place).

    Parameters
    ----------
    P : ndarray of shape (n_directions, n_samples)
        Projections, one direction per row.
    O : ndarray of int, shape (n_directions, n_samples)
        Sorting permutations of the rows of P.
    q : ndarray of shape (n_samples, n_outputs)
    val2, idx, bias, corr : ndarray
        Outputs of shapes (n_directions,), (n_directions,), (n_directions,) and
        (n_directions, n_outputs): squared best norm, data index, bias, correlation.
    """
    D = P.shape[0]
    T = q.shape[1]
    c = np.zeros(T)
    for k in range(D):
        p = P[k]
        order = O[k]
        v, j = best_bias(p, q, order, c)
        val2[k] = v
        idx[k] = order[j]
        bias[k] = p[order[j]]
        for t in range(T):
            corr[k, t] = c[t]


def eta_raw(X, q, W, n_jobs=1):
    """Squared best correlation norm, data index, bias and correlation for unit rows W.

    Chunks of directions are independent, so ``n_jobs`` threads share them (numpy's sort and
    the kernel release the GIL) without changing any value.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    q : ndarray of shape (n_samples, n_outputs)
    W : ndarray of shape (n_directions, n_features)
        Unit directions.
    n_jobs : int, default=1
        Threads.

    Returns
    -------
    val2 : ndarray of shape (n_directions,)
    idx : ndarray of int64, shape (n_directions,)
    bias : ndarray of shape (n_directions,)
    corr : ndarray of shape (n_directions, n_outputs)
    """
    N = X.shape[0]
    D = W.shape[0]
    T = q.shape[1]
    val2 = np.zeros(D)
    idx = np.zeros(D, dtype=np.int64)
    bias = np.zeros(D)
    corr = np.zeros((D, T))
    if N == 0 or D == 0:
        return val2, idx, bias, corr
    step = max(1, CHUNK_ENTRIES // max(N, 1))
    if n_jobs > 1:
        # at least one chunk per thread, memory still bounded by n_jobs chunks
        step = max(1, min(step, -(-D // n_jobs)))

    def run(k0):
        k1 = min(D, k0 + step)
        P = np.ascontiguousarray(W[k0:k1] @ X.T)
        # numpy's vectorized sort beats numba's argsort several times over
        O = np.argsort(P, axis=1)
        eta_batch(P, O, q, val2[k0:k1], idx[k0:k1], bias[k0:k1], corr[k0:k1])

    starts = range(0, D, step)
    if n_jobs > 1 and len(starts) > 1:
        Parallel(n_jobs=n_jobs, backend="threading")(delayed(run)(k0) for k0 in starts)
    else:
        for k0 in starts:
            run(k0)
    return val2, idx, bias, corr


def check_n_jobs(n_jobs):
    """Number of workers from joblib's convention (None: 1; -1: all cores).

    Parameters
    ----------
    n_jobs : int or None
        Nonzero; a negative value counts back from the number of cores.

    Returns
    -------
    int
        At least 1.
    """
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a nonzero integer or None, got {n_jobs!r}.")
    n_cpu = os.cpu_count() or 1
    return int(n_jobs) if n_jobs > 0 else max(1, n_cpu + 1 + int(n_jobs))
