"""Input checks shared by the estimators and the public functions.

scikit-learn's own validators do the work (NaN/inf, shapes, dtypes, empty input); this module
only adds the checks that are specific to problem (P) and turns sample weights into the
normalized weights ``u`` every solver uses (DESIGN §1: divide by the sum of the weights).
"""

import numbers

import numpy as np
from sklearn.utils.validation import _check_sample_weight, check_array, check_X_y

__all__ = ["check_alpha", "check_data", "check_positive_int", "normalized_weights"]


def check_alpha(alpha, name="alpha"):
    """A finite nonnegative real number, else a ValueError naming the problem."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise ValueError(f"{name} must be a nonnegative real number; got {alpha!r}.")
    alpha = float(alpha)
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"{name} must be a finite nonnegative number; got {alpha!r}.")
    return alpha


def check_positive_int(value, name):
    """A positive integer (not a bool), else a ValueError naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def check_data(X, y, *, multi_output=True):
    """Validated float64 copies-or-views of X (N, d) and y ((N,) or (N, T))."""
    X, y = check_X_y(X, y, dtype=np.float64, multi_output=multi_output, y_numeric=True,
                     ensure_min_samples=1)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return X, y


def normalized_weights(sample_weight, X):
    """Weights u >= 0 summing to one (None -> uniform), with clear errors for bad input."""
    N = X.shape[0]
    if sample_weight is None:
        return np.full(N, 1.0 / N)
    s = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    top = float(s.max()) if N else 0.0
    if not top > 0:
        raise ValueError("sample_weight must have a positive sum.")
    # Scaled by the largest weight first: huge (finite) weights would overflow the sum.
    s = s / top
    return s / s.sum()


def check_X_predict(X, n_features):
    X = check_array(X, dtype=np.float64)
    if X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but the model was fitted with {n_features} features.")
    return X
