"""Input checks shared by the estimators and the public functions.

scikit-learn's own validators do the work (NaN/inf, shapes, dtypes, empty input); this module
adds the checks that are specific to problem (P), turns sample weights into the normalized
weights ``u`` every solver uses (DESIGN §1: divide by the sum of the weights), and makes every
error name the argument it is about: scikit-learn's messages often do not ("Found array with
dim 3", "could not convert string to float"), so they are re-raised, with the same exception
type, prefixed by ``"Invalid <argument>: "``.
"""

import numbers
import re
from contextlib import contextmanager

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (_check_sample_weight, assert_all_finite, check_array,
                                      column_or_1d, validate_data)

# Parameter constraints shared by the estimators' ``_parameter_constraints`` and the public
# functions' ``validate_params`` (scikit-learn's messages then name the parameter).
NONNEGATIVE_REAL = Interval(numbers.Real, 0, np.inf, closed="left")
POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")
DIRECTIONS = [StrOptions({"auto"}), POSITIVE_INT, "array-like"]

__all__ = ["check_alpha", "check_data", "check_positive_int", "normalized_weights",
           "naming", "check_X", "check_X_y", "check_classification_y",
           "check_regression_targets", "check_X_predict", "as_float_array", "check_finite"]


def check_alpha(alpha, name="alpha"):
    """A finite nonnegative real number, else a ValueError naming the problem.

    Parameters
    ----------
    alpha : object
        The value to check (a bool is rejected).
    name : str, default="alpha"
        Argument name used in the error message.

    Returns
    -------
    float

    Examples
    --------
    >>> check_alpha(2)
    2.0
    >>> check_alpha(-1.0, name="C")
    Traceback (most recent call last):
    ...
    ValueError: C must be a finite nonnegative number; got -1.0.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise ValueError(f"{name} must be a nonnegative real number; got {alpha!r}.")
    alpha = float(alpha)
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"{name} must be a finite nonnegative number; got {alpha!r}.")
    return alpha


def check_positive_int(value, name):
    """A positive integer (not a bool), else a ValueError naming the parameter.

    Parameters
    ----------
    value : object
    name : str
        Parameter name used in the error message.

    Returns
    -------
    int
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def _names(message, name):
    # The name as a word of its own; a quoted data value ('X') does not count.
    return re.search(rf"(?<![\w'\"]){re.escape(name)}(?![\w'\"])", message) is not None


@contextmanager
def naming(name):
    """Re-raise ValueError/TypeError raised inside with ``name`` in the message.

    The exception keeps its type (scikit-learn's estimator checks, and callers, distinguish
    TypeError from ValueError); a message that already names the argument is left alone.

    Parameters
    ----------
    name : str
        Argument name put in front of the message, as ``"Invalid <name>: "``.

    Yields
    ------
    None

    Examples
    --------
    >>> import numpy as np
    >>> try:
    ...     with naming("y"):
    ...         np.asarray(["a"], dtype=float)
    ... except ValueError as e:
    ...     print(e)
    Invalid y: could not convert string to float: 'a'
    """
    try:
        yield
    except (ValueError, TypeError) as err:
        msg = str(err)
        if _names(msg, name):
            raise
        new_msg = f"Invalid {name}: {msg}"
        try:
            new = type(err)(new_msg)
            ok = str(new) == new_msg
        except Exception:
            ok = False
        if not ok:
            new = (ValueError if isinstance(err, ValueError) else TypeError)(new_msg)
        raise new from err


def _no_strings(a, name):
    """``a`` (lists as arrays), or a ValueError if it holds text: numbers are required.

    check_array with a float dtype would silently parse numeric strings ("1.5"), and the
    regressor's y is not converted at all by scikit-learn (strings then fail deep in the
    numerics); rejecting text up front gives one clear message.
    """
    if isinstance(a, (list, tuple)):
        a = np.asarray(a)
    dtype = getattr(a, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "USV":
        raise ValueError(f"{name} must contain numbers; got an array of dtype {dtype} "
                         f"(text).")
    return a


def as_float_array(a, name):
    """``a`` as a float64 ndarray of any shape, errors naming ``name``.

    Text, complex numbers and other non-numeric objects are rejected rather than parsed or
    truncated (``np.asarray(z, dtype=float)`` would drop an imaginary part with a warning).

    Parameters
    ----------
    a : array-like
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray of float64
        ``a`` itself when it already is one (no copy).
    """
    with naming(name):
        a = np.asarray(_no_strings(a, name))
        if a.dtype.kind == "c" or (a.dtype.kind == "O" and
                                   any(isinstance(v, complex) for v in a.ravel())):
            raise ValueError(f"{name} must be real; got complex values.")
        return a.astype(np.float64, copy=False)


def check_finite(a, name):
    """ValueError naming ``name`` if the array ``a`` holds NaN or infinity.

    Parameters
    ----------
    a : ndarray
    name : str
        Argument name used in the error message.

    Returns
    -------
    ndarray
        ``a`` itself.
    """
    if not np.all(np.isfinite(a)):
        what = "NaN" if np.any(np.isnan(a)) else "infinity"
        raise ValueError(f"{name} must be finite; it contains {what}.")
    return a


def _as_float(a):
    return a if a.dtype == np.float64 else a.astype(np.float64)


def check_X(X, *, estimator=None, reset=True, name="X"):
    """X as a finite float64 array of shape (n_samples, n_features), errors naming ``name``.

    With an estimator, scikit-learn's ``validate_data`` also sets (``reset=True``) or checks
    ``n_features_in_`` and ``feature_names_in_``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    estimator : estimator instance or None, default=None
    reset : bool, default=True
        Set (True) or check (False) the estimator's feature attributes.
    name : str, default="X"
        Argument name used in error messages.

    Returns
    -------
    ndarray of float64, shape (n_samples, n_features)
    """
    with naming(name):
        X = _no_strings(X, name)
        if estimator is None:
            X = check_array(X, dtype="numeric", input_name=name)
        else:
            X = validate_data(estimator, X, y="no_validation", dtype="numeric", reset=reset)
        return _as_float(X)


def _check_y_present(y, estimator):
    if y is None:
        who = f"This {type(estimator).__name__} estimator" if estimator is not None else "y"
        raise ValueError(f"{who} requires y to be passed, but the target y is None.")


def _check_lengths(n_X, y, name_X="X", name_y="y"):
    if y.shape[0] != n_X:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                         f"{name_X} has {n_X}, {name_y} has {y.shape[0]}.")


def check_regression_targets(y, n_samples, *, estimator=None, multi_output=True):
    """Numeric finite float64 targets of shape (n_samples,) or (n_samples, n_outputs).

    Parameters
    ----------
    y : array-like
    n_samples : int
        Number of rows of X, which y must match.
    estimator : estimator instance or None, default=None
    multi_output : bool, default=True
        Accept 2-D targets.

    Returns
    -------
    ndarray of float64, shape (n_samples,) or (n_samples, n_outputs)
    """
    _check_y_present(y, estimator)
    with naming("y"):
        y = _no_strings(y, "y")
        y = check_array(y, ensure_2d=False, dtype="numeric", input_name="y",
                        estimator=estimator)
        if y.ndim == 0 or y.ndim > (2 if multi_output else 1):
            shape = "(n_samples,) or (n_samples, n_outputs)" if multi_output \
                else "(n_samples,)"
            raise ValueError(f"y must have shape {shape}; got shape {y.shape}.")
    _check_lengths(n_samples, y)
    return _as_float(y)


def check_classification_y(y, n_samples, *, estimator=None):
    """Class labels of shape (n_samples,): finite, discrete (not continuous values).

    Parameters
    ----------
    y : array-like
    n_samples : int
        Number of rows of X, which y must match.
    estimator : estimator instance or None, default=None

    Returns
    -------
    ndarray of shape (n_samples,)
        The labels, of their own dtype.
    """
    _check_y_present(y, estimator)
    with naming("y"):
        if isinstance(y, (list, tuple)):
            y = np.asarray(y)
        y = column_or_1d(y, warn=True)
        if np.iscomplexobj(y):
            raise ValueError("y must not be complex: Complex data not supported.")
        assert_all_finite(y, input_name="y")
        check_classification_targets(y)
    _check_lengths(n_samples, y)
    return y


def check_X_y(X, y, *, estimator=None, classifier=False, multi_output=True):
    """Validated X (float64) and y, each error naming the argument at fault.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like
    estimator : estimator instance or None, default=None
    classifier : bool, default=False
        Check y as class labels (:func:`check_classification_y`), else as regression
        targets (:func:`check_regression_targets`).
    multi_output : bool, default=True
        Accept 2-D regression targets.

    Returns
    -------
    X : ndarray of float64, shape (n_samples, n_features)
    y : ndarray
    """
    X = check_X(X, estimator=estimator, reset=True)
    if classifier:
        y = check_classification_y(y, X.shape[0], estimator=estimator)
    else:
        y = check_regression_targets(y, X.shape[0], estimator=estimator,
                                     multi_output=multi_output)
    return X, y


def check_data(X, y, *, multi_output=True):
    """Validated float64 copies-or-views of X (N, d) and y ((N,) or (N, T)).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    multi_output : bool, default=True
        Accept 2-D targets; a single column is returned 1-D.

    Returns
    -------
    X : ndarray of float64, shape (n_samples, n_features)
    y : ndarray of float64, shape (n_samples,) or (n_samples, n_outputs)
    """
    X, y = check_X_y(X, y, multi_output=multi_output)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return X, y


def normalized_weights(sample_weight, X, name="sample_weight"):
    """Weights u >= 0 summing to one (None -> uniform), with clear errors for bad input.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or None
        Nonnegative weights with a positive sum.
    X : ndarray of shape (n_samples, n_features)
        The data (for the number of samples).
    name : str, default="sample_weight"
        Argument name used in error messages.

    Returns
    -------
    ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> normalized_weights([1, 3], np.zeros((2, 1)))
    array([0.25, 0.75])
    """
    N = X.shape[0]
    if sample_weight is None:
        return np.full(N, 1.0 / N)
    with naming(name):
        sample_weight = _no_strings(sample_weight, name)
        s = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                 ensure_non_negative=True)
    top = float(s.max()) if N else 0.0
    if not top > 0:
        raise ValueError(f"{name} must have a positive sum; got all weights zero.")
    # Scaled by the largest weight first: huge (finite) weights would overflow the sum.
    s = s / top
    return s / s.sum()


def check_X_predict(X, n_features, *, estimator=None):
    """X for prediction: float64, finite, with the number of features seen in fit.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_features : int
        Number of features seen in fit (checked by the estimator when one is given).
    estimator : estimator instance or None, default=None

    Returns
    -------
    ndarray of float64, shape (n_samples, n_features)
    """
    if estimator is not None:
        return check_X(X, estimator=estimator, reset=False)
    X = check_X(X)
    if X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but the model was fitted with {n_features} features.")
    return X
