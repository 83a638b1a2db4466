"""Data sets for the demo, the tests and the benchmarks, generated or bundled (no network).

Every generator is reproducible from ``random_state`` and returns ``(X, y)`` with X of shape
(n_samples, n_features).
"""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_piecewise_linear_1d", "make_relu_ridges_2d", "make_relu_ridges_3d",
           "load_diabetes_standardized"]


def make_piecewise_linear_1d(n_samples=200, *, noise=0.05, random_state=None):
    """Noisy samples of a piecewise-linear function with four knots on [-1, 1].

    Parameters
    ----------
    n_samples : int, default=200
        Number of samples, drawn uniformly on [-1, 1] and sorted.
    noise : float, default=0.05
        Standard deviation of the Gaussian noise added to :func:`piecewise_linear_truth`.
    random_state : int, RandomState instance or None, default=None
        Seeds the inputs and the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
        Sorted inputs.
    y : ndarray of shape (n_samples,)
        Noisy targets.

    Examples
    --------
    >>> from radonsolve.datasets import make_piecewise_linear_1d
    >>> X, y = make_piecewise_linear_1d(50, random_state=0)
    >>> X.shape, y.shape
    ((50, 1), (50,))
    """
    rng = check_random_state(random_state)
    x = np.sort(rng.uniform(-1.0, 1.0, n_samples))
    y = piecewise_linear_truth(x) + noise * rng.standard_normal(n_samples)
    return x[:, None], y


def piecewise_linear_truth(x):
    """The function sampled by :func:`make_piecewise_linear_1d` (knots at -0.5, 0, 0.3, 0.7).

    Parameters
    ----------
    x : array-like of float
        Points, any shape.

    Returns
    -------
    ndarray of the shape of ``x``
        The noiseless function at ``x``.

    Examples
    --------
    >>> from radonsolve.datasets import piecewise_linear_truth
    >>> piecewise_linear_truth([-1.0, -0.5, 0.0, 1.0])
    array([-0.2 , -0.1 ,  0.75,  0.85])
    """
    x = np.asarray(x, dtype=float)
    return (0.2 * x + 1.5 * np.maximum(x + 0.5, 0) - 2.5 * np.maximum(x, 0)
            + 1.8 * np.maximum(x - 0.3, 0) - 1.2 * np.maximum(x - 0.7, 0))


def make_relu_ridges_2d(n_samples=300, *, noise=0.05, random_state=None):
    """Noisy samples of a sum of three ReLU ridges plus an affine function on [-1, 1]^2.

    Parameters
    ----------
    n_samples : int, default=300
        Number of samples, drawn uniformly on the square [-1, 1]^2.
    noise : float, default=0.05
        Standard deviation of the Gaussian noise added to :func:`relu_ridges_truth`.
    random_state : int, RandomState instance or None, default=None
        Seeds the inputs and the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        Inputs.
    y : ndarray of shape (n_samples,)
        Noisy targets.

    Examples
    --------
    >>> from radonsolve.datasets import make_relu_ridges_2d
    >>> X, y = make_relu_ridges_2d(40, random_state=0)
    >>> X.shape, y.shape
    ((40, 2), (40,))
    """
    rng = check_random_state(random_state)
    X = rng.uniform(-1.0, 1.0, (n_samples, 2))
    y = relu_ridges_truth(X) + noise * rng.standard_normal(n_samples)
    return X, y


_RIDGES = (
    (np.array([np.cos(0.3), np.sin(0.3)]), 0.2, 1.0),
    (np.array([np.cos(1.9), np.sin(1.9)]), -0.1, -1.5),
    (np.array([np.cos(2.6), np.sin(2.6)]), 0.4, 2.0),
)


def relu_ridges_truth(X):
    """The function sampled by :func:`make_relu_ridges_2d`.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
        Points.

    Returns
    -------
    ndarray of shape (n_samples,)
        The noiseless function at ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.datasets import relu_ridges_truth
    >>> relu_ridges_truth(np.zeros((1, 2)))
    array([-0.05])
    """
    X = np.asarray(X, dtype=float)
    out = 0.3 * X[:, 0] - 0.2 * X[:, 1] + 0.1
    for w, b, v in _RIDGES:
        out = out + v * np.maximum(X @ w - b, 0.0)
    return out


def make_relu_ridges_3d(n_samples=400, *, noise=0.1, random_state=None):
    """Noisy samples of a sum of three ReLU ridges of three standard Gaussian features.

    The function is :func:`relu_ridges_3d_truth`: three neurons with different directions
    and offsets, one of them (``-1.5 * relu(x_1 + x_2)``) through the origin. A small
    d = 3 problem with a known sparse network, for the certified bound and the benchmarks.

    Parameters
    ----------
    n_samples : int, default=400
        Number of samples; the features are independent standard normals.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to the function.
    random_state : int, RandomState instance or None, default=None
        Seeds the inputs, then the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, 3)
        Inputs.
    y : ndarray of shape (n_samples,)
        Noisy targets.

    Examples
    --------
    >>> from radonsolve.datasets import make_relu_ridges_3d
    >>> X, y = make_relu_ridges_3d(40, random_state=0)
    >>> X.shape, y.shape
    ((40, 3), (40,))
    """
    rng = check_random_state(random_state)
    X = rng.standard_normal((n_samples, 3))
    y = relu_ridges_3d_truth(X) + noise * rng.standard_normal(n_samples)
    return X, y


def relu_ridges_3d_truth(X):
    """The function sampled by :func:`make_relu_ridges_3d`.

    ``relu(x_0 - 0.5 x_1 + 0.3 x_2 - 0.2) - 1.5 relu(x_1 + x_2)
    + 0.8 relu(0.4 - 0.3 x_0 - 0.8 x_1 + 0.5 x_2)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, 3)
        Points.

    Returns
    -------
    ndarray of shape (n_samples,)
        The noiseless function at ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.datasets import relu_ridges_3d_truth
    >>> relu_ridges_3d_truth(np.zeros((1, 3)))
    array([0.32])
    """
    X = np.asarray(X, dtype=float)
    return (np.maximum(X @ [1.0, -0.5, 0.3] - 0.2, 0.0)
            - 1.5 * np.maximum(X[:, 1] + X[:, 2], 0.0)
            + 0.8 * np.maximum(0.4 - X @ [0.3, 0.8, -0.5], 0.0))


def load_diabetes_standardized():
    """scikit-learn's bundled diabetes data (442 x 10), features and target standardized.

    Standardization is done here once, on the whole data set, so that alphas are comparable
    across runs; in a pipeline use ``StandardScaler`` instead.

    Returns
    -------
    X : ndarray of shape (442, 10)
        Features with zero mean and unit (population) standard deviation.
    y : ndarray of shape (442,)
        Disease progression, zero mean and unit standard deviation.

    Examples
    --------
    >>> from radonsolve.datasets import load_diabetes_standardized
    >>> X, y = load_diabetes_standardized()
    >>> X.shape, round(float(y.std()), 6)
    ((442, 10), 1.0)
    """
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = (y - y.mean()) / y.std()
    return X, y
