"""Directions of the ReLU dictionary: unit vectors on the canonical half-sphere.

Atoms (w, b) and (-w, -b) differ by an affine function, which the skip connection absorbs
(DESIGN §1), so a direction and its opposite are the same direction here. The canonical
representative has its first nonzero coordinate positive.
"""

import numbers

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["canonical_directions", "spread_directions", "make_directions"]

DEFAULT_N_DIRECTIONS = 64


def canonical_directions(W, *, tol=1e-12, dedupe=True):
    """Normalize rows, flip them onto the canonical half-sphere, drop zero and repeated rows.

    A row is dropped only when it is exactly zero: its length is the user's (or a descent's)
    units, not a tolerance. ``tol`` is relative to the unit rows: coordinates below it do not
    decide the orientation, and rows closer than about ``1e-10`` are one direction.

    Parameters
    ----------
    W : array-like of shape (n_directions, n_features)
        Direction vectors, any nonzero length; a 1-D array is one direction. Not modified.
    tol : float, default=1e-12
        Coordinates of the unit rows with absolute value at most ``tol`` are treated as zero
        when choosing the orientation (the first coordinate above it is made positive).
    dedupe : bool, default=True
        Drop rows that coincide with an earlier row after normalization (first kept).

    Returns
    -------
    ndarray of shape (n_kept, n_features)
        Unit rows with their first nonzero coordinate positive, in input order.

    Raises
    ------
    ValueError
        If ``W`` is not 2-D, has NaN or infinity, or has no nonzero row.

    Examples
    --------
    >>> from radonsolve.directions import canonical_directions
    >>> canonical_directions([[-3, 4], [6, -8], [0, 0]])
    array([[ 0.6, -0.8]])
    """
    W = np.array(W, dtype=float, ndmin=2, copy=True)
    if W.ndim != 2:
        raise ValueError(f"directions must be a 2-D array of direction vectors, got shape {W.shape}.")
    if not np.all(np.isfinite(W)):
        raise ValueError("directions contain NaN or infinity.")
    # Divided by the largest entry first, so that tiny or huge rows neither underflow nor
    # overflow in the norm.
    top = np.max(np.abs(W), axis=1) if W.shape[1] else np.zeros(len(W))
    W = W[top > 0] / top[top > 0, None]
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    if W.shape[0] == 0:
        raise ValueError("directions must contain at least one nonzero vector.")
    first = np.argmax(np.abs(W) > tol, axis=1)
    W[W[np.arange(len(W)), first] < 0] *= -1
    if dedupe and len(W) > 1:
        keyed = np.round(W / 1e-10).astype(np.int64)
        _, idx = np.unique(keyed, axis=0, return_index=True)
        W = W[np.sort(idx)]
    return W


def spread_directions(n_directions, n_features, random_state=None):
    """``n_directions`` directions spread over the half-sphere, reproducible from ``random_state``.

    d = 1: the single direction +1. d = 2: equally spaced angles on [0, pi) with a random
    offset. d >= 3: farthest-point selection among many random candidates under the
    projective distance ``1 - |w.w'|`` (uniform samples leave large holes).

    Parameters
    ----------
    n_directions : int
        Number of directions wanted.
    n_features : int
        Dimension d of the directions.
    random_state : int, RandomState instance or None, default=None
        Seeds the angle offset (d = 2) or the candidates (d >= 3).

    Returns
    -------
    ndarray of shape (n_directions, n_features)
        Unit rows on the canonical half-sphere; shape (1, 1) when ``n_features == 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.directions import spread_directions
    >>> W = spread_directions(4, 2, random_state=0)
    >>> W.shape, np.allclose(np.linalg.norm(W, axis=1), 1.0)
    ((4, 2), True)
    >>> spread_directions(10, 1)
    array([[1.]])
    """
    rng = check_random_state(random_state)
    d = int(n_features)
    if d == 1:
        return np.ones((1, 1))
    if d == 2:
        theta = (np.arange(n_directions) + rng.uniform()) * np.pi / n_directions
        return canonical_directions(np.column_stack([np.cos(theta), np.sin(theta)]))
    n_cand = max(8 * n_directions, 256)
    cand = rng.standard_normal((n_cand, d))
    cand /= np.linalg.norm(cand, axis=1, keepdims=True)
    chosen = [0]
    dist = 1.0 - np.abs(cand @ cand[0])
    for _ in range(1, min(n_directions, n_cand)):
        i = int(np.argmax(dist))
        chosen.append(i)
        dist = np.minimum(dist, 1.0 - np.abs(cand @ cand[i]))
    return canonical_directions(cand[chosen])


def make_directions(directions, n_features, random_state=None):
    """Resolve the estimator's ``directions`` parameter into a (D, d) array of unit rows.

    The parameter is checked whatever the number of features, although for one feature the
    single direction +1 is always returned: an invalid value is a mistake either way.

    Parameters
    ----------
    directions : "auto", int or array-like of shape (n_directions, n_features)
        ``"auto"``: 64 spread directions; an int: that many spread directions (see
        :func:`spread_directions`); an array: these directions, made canonical by
        :func:`canonical_directions`.
    n_features : int
        Number of features d of the data.
    random_state : int, RandomState instance or None, default=None
        Seeds :func:`spread_directions` (unused for an explicit array).

    Returns
    -------
    ndarray of shape (n_directions, n_features)
        Unit rows on the canonical half-sphere; ``[[1.0]]`` when ``n_features == 1``.

    Raises
    ------
    ValueError
        If ``directions`` is another string, a non-positive integer, or an array of the
        wrong shape, with NaN or infinity, or with a zero row.

    Examples
    --------
    >>> from radonsolve.directions import make_directions
    >>> make_directions("auto", 3, random_state=0).shape
    (64, 3)
    >>> make_directions([[2.0, 0.0], [-1.0, -1.0]], 2)
    array([[1.        , 0.        ],
           [0.70710678, 0.70710678]])
    """
    if isinstance(directions, str):
        if directions != "auto":
            raise ValueError(
                f"directions must be 'auto', a positive integer or an array of shape "
                f"(n_directions, {n_features}); got {directions!r}.")
        n = DEFAULT_N_DIRECTIONS
    elif isinstance(directions, numbers.Integral) and not isinstance(directions, bool):
        if directions < 1:
            raise ValueError(
                f"directions must be a positive number of directions, got {directions}.")
        n = int(directions)
    else:
        W = _direction_array(directions, n_features)
        return np.ones((1, 1)) if n_features == 1 else canonical_directions(W)
    if n_features == 1:
        return np.ones((1, 1))
    return spread_directions(n, n_features, random_state)


def _direction_array(directions, n_features):
    """Explicit directions as a finite (D, d) float array with nonzero rows, scaled by row."""
    try:
        W = np.asarray(directions)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"directions could not be read as an array ({exc}).") from None
    if W.dtype.kind not in "iuf" or W.ndim == 0:
        raise ValueError(
            f"directions must be 'auto', a positive integer or a numeric array of shape "
            f"(n_directions, {n_features}); got {directions!r}.")
    W = np.atleast_2d(W.astype(float))
    if W.ndim != 2 or W.shape[1] != n_features or W.shape[0] == 0:
        raise ValueError(
            f"directions array must have shape (n_directions, {n_features}) with "
            f"n_directions >= 1, got {W.shape}.")
    if not np.all(np.isfinite(W)):
        raise ValueError("directions contain NaN or infinity.")
    top = np.max(np.abs(W), axis=1)
    zero = np.flatnonzero(top == 0)
    if zero.size:
        raise ValueError(f"directions must be nonzero vectors; row(s) {zero.tolist()} are zero.")
    # Divided by each row's largest entry first, so that the norm of a huge (1e200) or tiny
    # (1e-200) row neither overflows nor falls below the zero tolerance.
    return W / top[:, None]
