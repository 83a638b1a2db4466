"""Hostile inputs, one table: each row is an input and the outcome it must get.

An invalid input must raise the exception type written in its row, with a message that names
the argument at fault (the regex of the row contains the argument's name). A valid but awkward
input must give a fit that the row's check compares with an independent computation (numpy's
least squares or weighted mean, the reference cvxpy solver, or an invariance of problem (P)).
``python tests/test_hostile_inputs.py`` prints the table with the message each input gets.
"""

import functools
import re
import warnings
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning

from radonsolve import (RadonReLUClassifier, RadonReLURegressor, alpha_max,
                        alpha_max_classification)
from radonsolve.certificate import eta, exact_certificate_2d, search_certificate
from radonsolve.univariate import solve_univariate, univariate_alpha_max


@dataclass
class Case:
    name: str
    call: Callable
    exc: Optional[type] = None        # expected exception type (None: must succeed)
    match: str = ""                   # regex the message must contain; names the argument
    check: Optional[Callable] = None  # for valid inputs: receives call()'s result
    marks: tuple = ()


# ----------------------------------------------------------------------------- data
def xy(d=2, n=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.abs(X[:, 0]) + 0.1 * rng.standard_normal(n)


X2, Y2 = xy(2)
X1, Y1 = xy(1)
LABELS = (X2[:, 0] * X2[:, 1] > 0).astype(int)


def reg(**kw):
    """A fast regressor: few directions and rounds (the checks below do not need more)."""
    params = dict(alpha=0.01, directions=8, max_rounds=2, random_state=0)
    params.update(kw)
    return RadonReLURegressor(**params)


def clf(**kw):
    params = dict(alpha=0.01, directions=8, random_state=0)
    params.update(kw)
    return RadonReLUClassifier(**params)


def fit_reg(X, y, sample_weight=None, **kw):
    return lambda: reg(**kw).fit(X, y, sample_weight=sample_weight)


def fit_clf(X, y, sample_weight=None, **kw):
    return lambda: clf(**kw).fit(X, y, sample_weight=sample_weight)


def with_(a, idx, value, dtype=None):
    a = np.array(a, dtype=dtype if dtype is not None else np.asarray(a).dtype)
    a[idx] = value
    return a


@functools.lru_cache(maxsize=None)
def fitted_reg():
    return reg().fit(X2, Y2)


@functools.lru_cache(maxsize=None)
def fitted_clf():
    return clf().fit(X2, LABELS)


def orthogonal_residual(X, seed=0):
    """A vector orthogonal to 1 and the columns of X (what the certificate functions take)."""
    rng = np.random.default_rng(seed)
    A = np.column_stack([np.ones(len(X)), X])
    r = rng.standard_normal(len(X))
    return r - A @ np.linalg.lstsq(A, r, rcond=None)[0]


Q2 = orthogonal_residual(X2)

# ----------------------------------------------------------------------------- invalid inputs
ERRORS = [
    # X, regressor
    Case("X 3-D", fit_reg(np.zeros((20, 2, 2)), Y2), ValueError,
         r"Invalid X: Found array with dim 3"),
    Case("X 1-D", fit_reg(X1[:, 0], Y1), ValueError, r"Invalid X: Expected 2D array, got 1D"),
    Case("X scalar", fit_reg(3.0, Y2), ValueError,
         r"Invalid X: Expected 2D array, got scalar array"),
    Case("X None", fit_reg(None, Y2), ValueError,
         r"(?s)Invalid X: Expected 2D array, got scalar array.*None"),
    Case("X string array", fit_reg(X2.astype(str), Y2), ValueError, r"X must contain numbers"),
    Case("X numeric strings", fit_reg([["1", "2"], ["3", "4"]], [1.0, 2.0]), ValueError,
         r"X must contain numbers"),
    Case("X object with a word", fit_reg(with_(X2, (0, 0), "abc", object), Y2), ValueError,
         r"Invalid X: could not convert string to float"),
    Case("X object with a dict", fit_reg(with_(X2, (0, 0), {"a": 1}, object), Y2), TypeError,
         r"Invalid X: float\(\) argument must be a string or a (real )?number"),
    Case("X complex", fit_reg(X2 + 1j, Y2), ValueError, r"Invalid X: Complex data not supported"),
    Case("X NaN", fit_reg(with_(X2, (3, 1), np.nan), Y2), ValueError, r"Input X contains NaN"),
    Case("X inf", fit_reg(with_(X2, (3, 1), -np.inf), Y2), ValueError,
         r"Input X contains infinity"),
    Case("X empty", fit_reg(X2[:0], Y2[:0]), ValueError, r"Invalid X: Found array with 0 sample"),
    Case("X no feature", fit_reg(X2[:, :0], Y2), ValueError,
         r"Invalid X: Found array with 0 feature"),
    Case("X ragged list", fit_reg([[1.0, 2.0], [3.0]], [1.0, 2.0]), ValueError, r"Invalid X: "),
    Case("X sparse", fit_reg(sp.csr_matrix(X2), Y2), TypeError, r"Sparse data was passed for X"),
    # y, regressor
    Case("y None", fit_reg(X2, None), ValueError, r"requires y to be passed, but the target y"),
    Case("y too short", fit_reg(X2, Y2[:-1]), ValueError,
         r"inconsistent numbers of samples: X has 20, y has 19"),
    Case("y 3-D", fit_reg(X2, np.zeros((20, 1, 2))), ValueError,
         r"Invalid y: Found array with dim 3"),
    Case("y scalar", fit_reg(X2, 1.0), (ValueError, TypeError), r"Invalid y: "),
    Case("y strings (regressor)", fit_reg(X2, np.array(["a", "b"] * 10)), ValueError,
         r"y must contain numbers"),
    Case("y numeric strings (regressor)", fit_reg(X2, Y2.astype(str)), ValueError,
         r"y must contain numbers"),
    Case("y object with a word", fit_reg(X2, with_(Y2, 0, "abc", object)), ValueError,
         r"Invalid y: could not convert string to float"),
    Case("y complex", fit_reg(X2, Y2 + 1j), ValueError, r"Invalid y: Complex data not supported"),
    Case("y NaN", fit_reg(X2, with_(Y2, 2, np.nan)), ValueError, r"Input y contains NaN"),
    Case("y inf", fit_reg(X2, with_(Y2, 2, np.inf)), ValueError, r"Input y contains infinity"),
    Case("y empty", fit_reg(X2, Y2[:0]), ValueError, r"Invalid y: Found array with 0 sample"),
    # sample_weight
    Case("sample_weight too short", fit_reg(X2, Y2, np.ones(19)), ValueError,
         r"sample_weight\.shape == \(19,\), expected \(20,\)"),
    Case("sample_weight negative", fit_reg(X2, Y2, with_(np.ones(20), 4, -1.0)), ValueError,
         r"Negative values in data passed to `?sample_weight"),
    Case("sample_weight NaN", fit_reg(X2, Y2, with_(np.ones(20), 4, np.nan)), ValueError,
         r"Input sample_weight contains NaN"),
    Case("sample_weight inf", fit_reg(X2, Y2, with_(np.ones(20), 4, np.inf)), ValueError,
         r"Input sample_weight contains infinity"),
    Case("sample_weight all zero", fit_reg(X2, Y2, np.zeros(20)), ValueError,
         # scikit-learn >= 1.7 says it first, with the argument then named by radonsolve
         r"sample_weight must have a positive sum|"
         r"Invalid sample_weight: Sample weights must contain at least one non-zero"),
    Case("sample_weight 2-D", fit_reg(X2, Y2, np.ones((20, 2))), ValueError,
         r"Invalid sample_weight: Sample weights must be 1D"),
    Case("sample_weight strings", fit_reg(X2, Y2, np.array(["1"] * 20)), ValueError,
         r"sample_weight must contain numbers"),
    # parameters of the regressor
    *[Case(f"{p}={v!r}", fit_reg(X2, Y2, **{p: v}), ValueError, rf"\b{p}\b")
      for p, v in [("alpha", -1.0), ("alpha", np.nan), ("alpha", np.inf), ("alpha", "1"),
                   ("alpha", None), ("alpha", True), ("solver", "adam"), ("refine", "yes"),
                   ("refine", 1), ("max_rounds", -1), ("max_rounds", 2.0),
                   ("certificate_budget", 0), ("sparsest", "no"), ("tol", -1e-3),
                   ("tol", np.nan), ("max_iter", 0), ("max_iter", 2.5), ("max_iter", True),
                   ("random_state", "seed"), ("warm_start", "yes"), ("verbose", -1)]],
    Case("alpha=-1 message", fit_reg(X2, Y2, alpha=-1.0), ValueError,
         r"The 'alpha' parameter of RadonReLURegressor must be a float in the range"),
    # directions, with one feature and with two (checked whatever the number of features)
    *[Case(f"directions={label}, {d} feature(s)", fit_reg(X, Y, directions=v(d)), ValueError,
           r"\bdirections\b")
      for X, Y, d in [(X1, Y1, 1), (X2, Y2, 2)]
      for label, v in [("0", lambda d: 0), ("-3", lambda d: -3), ("'foo'", lambda d: "foo"),
                       ("2.5", lambda d: 2.5), ("True", lambda d: True), ("[]", lambda d: []),
                       ("text rows", lambda d: [["a"] * d]),
                       ("rows of width d + 1", lambda d: np.ones((2, d + 1))),
                       ("a NaN entry", lambda d: with_(np.ones((2, d)), (0, 0), np.nan)),
                       ("all rows zero", lambda d: np.zeros((2, d))),
                       ("one zero row", lambda d: with_(np.ones((3, d)), 1, 0.0)),
                       ("3-D array", lambda d: np.ones((2, 2, d))),
                       ("complex rows", lambda d: [[1j] * d])]],
    # prediction
    Case("predict, wrong feature count", lambda: fitted_reg().predict(X2[:, :1]), ValueError,
         r"X has 1 features, but RadonReLURegressor is expecting 2"),
    Case("predict, strings", lambda: fitted_reg().predict(X2.astype(str)), ValueError,
         r"X must contain numbers"),
    Case("predict, NaN", lambda: fitted_reg().predict(with_(X2, (0, 0), np.nan)), ValueError,
         r"Input X contains NaN"),
    Case("predict, 1-D", lambda: fitted_reg().predict(X2[0]), ValueError,
         r"Invalid X: Expected 2D array, got 1D"),
    Case("predict, 3-D", lambda: fitted_reg().predict(X2[None]), ValueError,
         r"Invalid X: Found array with dim 3"),
    # classifier
    Case("classifier: continuous y", fit_clf(X2, Y2), ValueError,
         r"Invalid y: Unknown label type: continuous"),
    Case("classifier: one class", fit_clf(X2, np.zeros(20)), ValueError,
         r"y must contain samples of at least two classes"),
    Case("classifier: y 2-D", fit_clf(X2, np.column_stack([LABELS, LABELS])), ValueError,
         r"y should be a 1d array"),
    Case("classifier: y NaN", fit_clf(X2, with_(LABELS, 0, np.nan, float)), ValueError,
         r"Input y contains NaN"),
    Case("classifier: y None", fit_clf(X2, None), ValueError, r"target y is None"),
    Case("classifier: y complex", fit_clf(X2, LABELS + 1j), ValueError,
         r"y(:| must not be complex:) Complex data not supported"),
    Case("classifier: y too short", fit_clf(X2, LABELS[:-1]), ValueError,
         r"inconsistent numbers of samples: X has 20, y has 19"),
    Case("classifier: a class of zero weight", fit_clf(X2, LABELS, LABELS.astype(float)),
         ValueError, r"sample_weight must give every class of y a positive total weight"),
    Case("classifier: sample_weight too long", fit_clf(X2, LABELS, np.ones(21)), ValueError,
         r"sample_weight\.shape"),
    Case("classifier: X 3-D", fit_clf(np.zeros((20, 2, 2)), LABELS), ValueError,
         r"Invalid X: Found array with dim 3"),
    Case("classifier: X strings", fit_clf(X2.astype(str), LABELS), ValueError,
         r"X must contain numbers"),
    Case("classifier: alpha=0", fit_clf(X2, LABELS, alpha=0.0), ValueError,
         r"alpha must be positive for classification"),
    Case("classifier: solver='lbfgs'", fit_clf(X2, LABELS, solver="lbfgs"), ValueError,
         r"The 'solver' parameter of RadonReLUClassifier"),
    Case("classifier: directions='foo', 1 feature", fit_clf(X1, X1[:, 0] > 0, directions="foo"),
         ValueError, r"The 'directions' parameter of RadonReLUClassifier"),
    Case("classifier: directions of wrong width", fit_clf(X2, LABELS, directions=np.ones((2, 3))),
         ValueError, r"directions array must have shape \(n_directions, 2\)"),
    Case("decision_function, wrong feature count",
         lambda: fitted_clf().decision_function(np.ones((3, 5))), ValueError,
         r"X has 5 features, but RadonReLUClassifier is expecting 2"),
    Case("predict_proba, strings", lambda: fitted_clf().predict_proba(X2.astype(str)),
         ValueError, r"X must contain numbers"),
    Case("predict, NaN (classifier)", lambda: fitted_clf().predict(with_(X2, (1, 1), np.nan)),
         ValueError, r"Input X contains NaN"),
    # public functions
    Case("alpha_max: X 3-D", lambda: alpha_max(np.zeros((20, 2, 2)), Y2), ValueError,
         r"Invalid X: Found array with dim 3"),
    Case("alpha_max: y strings", lambda: alpha_max(X2, Y2.astype(str)), ValueError,
         r"y must contain numbers"),
    Case("alpha_max: y too short", lambda: alpha_max(X2, Y2[:-1]), ValueError,
         r"X has 20, y has 19"),
    Case("alpha_max: directions='foo', 1 feature", lambda: alpha_max(X1, Y1, directions="foo"),
         ValueError, r"The 'directions' parameter of alpha_max"),
    Case("alpha_max: zero direction, 1 feature", lambda: alpha_max(X1, Y1, directions=[[0.0]]),
         ValueError, r"directions must be nonzero vectors"),
    Case("alpha_max: random_state='x'", lambda: alpha_max(X2, Y2, random_state="x"), ValueError,
         r"The 'random_state' parameter of alpha_max"),
    Case("alpha_max: sample_weight negative",
         lambda: alpha_max(X2, Y2, sample_weight=-np.ones(20)), ValueError, r"sample_weight"),
    Case("alpha_max: X a string", lambda: alpha_max("abc", Y2), ValueError,
         r"The 'X' parameter of alpha_max must be an array-like"),
    Case("alpha_max_classification: continuous y", lambda: alpha_max_classification(X2, Y2),
         ValueError, r"Invalid y: Unknown label type"),
    Case("alpha_max_classification: directions=0",
         lambda: alpha_max_classification(X2, LABELS, directions=0), ValueError,
         r"The 'directions' parameter of alpha_max_classification"),
    Case("solve_univariate: x with 2 columns", lambda: solve_univariate(X2, Y2, None, 0.01),
         ValueError, r"x must be 1-D"),
    Case("solve_univariate: y strings", lambda: solve_univariate(X1, Y1.astype(str), None, 0.01),
         ValueError, r"y must contain numbers"),
    Case("solve_univariate: y object with a word",
         lambda: solve_univariate(X1, with_(Y1, 0, "abc", object), None, 0.01), ValueError,
         r"Invalid y: could not convert string to float"),
    Case("solve_univariate: x NaN", lambda: solve_univariate(with_(X1, 0, np.nan), Y1),
         ValueError, r"x must be finite; it contains NaN"),
    Case("solve_univariate: y too long", lambda: solve_univariate(X1, np.ones(21)), ValueError,
         r"y must have shape"),
    Case("solve_univariate: u negative", lambda: solve_univariate(X1, Y1, -np.ones(20)),
         ValueError, r"weights u must be positive"),
    Case("solve_univariate: u complex", lambda: solve_univariate(X1, Y1, np.ones(20) + 1j),
         ValueError, r"u must be real"),
    Case("solve_univariate: alpha='big'", lambda: solve_univariate(X1, Y1, None, "big"),
         ValueError, r"alpha must be a nonnegative real number"),
    Case("solve_univariate: alpha=-1", lambda: solve_univariate(X1, Y1, None, -1.0), ValueError,
         r"alpha must be a finite nonnegative number"),
    Case("solve_univariate: tol=-1", lambda: solve_univariate(X1, Y1, tol=-1.0), ValueError,
         r"tol must be"),
    Case("solve_univariate: max_iter=0", lambda: solve_univariate(X1, Y1, max_iter=0),
         ValueError, r"max_iter must be a positive integer"),
    Case("solve_univariate: empty", lambda: solve_univariate([], []), ValueError,
         r"x and y are empty"),
    Case("univariate_alpha_max: y inf", lambda: univariate_alpha_max(X1, with_(Y1, 0, np.inf)),
         ValueError, r"y must be finite; it contains infinity"),
    Case("univariate_alpha_max: x strings", lambda: univariate_alpha_max(["a", "b"], [1, 2]),
         ValueError, r"x must contain numbers"),
    Case("eta: X strings", lambda: eta(X2.astype(str), Q2, 0.1, np.eye(2)), ValueError,
         r"X must contain numbers"),
    Case("eta: q too short", lambda: eta(X2, Q2[:-1], 0.1, np.eye(2)), ValueError,
         r"q must have shape"),
    Case("eta: q NaN", lambda: eta(X2, with_(Q2, 0, np.nan), 0.1, np.eye(2)), ValueError,
         r"q must be finite"),
    Case("eta: alpha=0", lambda: eta(X2, Q2, 0.0, np.eye(2)), ValueError,
         r"alpha must be positive"),
    Case("eta: alpha='x'", lambda: eta(X2, Q2, "x", np.eye(2)), ValueError, r"alpha must be"),
    Case("eta: directions of wrong width", lambda: eta(X2, Q2, 0.1, np.ones((2, 3))),
         ValueError, r"directions must have shape"),
    Case("eta: directions strings", lambda: eta(X2, Q2, 0.1, [["a", "b"]]), ValueError,
         r"directions must contain numbers"),
    Case("exact_certificate_2d: X 3-D", lambda: exact_certificate_2d(np.zeros((5, 2, 2)),
                                                                     np.zeros(5), 0.1),
         ValueError, r"X must be a 2-D array"),
    Case("search_certificate: X complex", lambda: search_certificate(X2 + 1j, Q2, 0.1),
         ValueError, r"X must be real"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c.name for c in ERRORS])
def test_invalid_input_names_the_argument(case):
    with pytest.raises(case.exc, match=case.match):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            case.call()


# ----------------------------------------------------------------------------- valid inputs
def close(a, b, rtol=1e-6, scale=None):
    """Agreement relative to the scale of what is compared."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    s = scale if scale is not None else max(np.max(np.abs(b)), 1e-300)
    np.testing.assert_allclose(a, b, rtol=0, atol=rtol * s)


def check_constant(model_and_data):
    m, X, y, w = model_and_data
    assert m.n_neurons_ == 0
    close(m.predict(X), np.full(len(X), np.average(y, weights=w)))


def fit_with(X, y, w=None, **kw):
    return lambda: (reg(**kw).fit(X, y, sample_weight=w), X, y, w)


def check_affine(model_and_data):
    m, X, y, w = model_and_data
    A = np.column_stack([np.ones(len(X)), X])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    assert m.n_neurons_ == 0
    close(m.predict(X), A @ coef)
    close(m.network_.skip_coef, coef[1:], scale=np.max(np.abs(coef)))


def check_interpolates(model_and_data):
    m, X, y, w = model_and_data
    close(m.predict(X), y)


def check_line_fit(model_and_data):
    m, X, y, w = model_and_data
    c = np.polyfit(X[:, 0], y, 1)
    assert m.n_neurons_ == 0
    close(m.predict(X), np.polyval(c, X[:, 0]))


def same_as(reference, rtol=1e-6, columns=None):
    """Check: the fit predicts as ``reference()`` does (a model fitted another way)."""
    def check(result):
        m, X, y, w = result
        ref = reference()
        Xr = np.asarray(X, dtype=float)
        close(m.predict(X), ref.predict(Xr if columns is None else Xr[:, columns]), rtol)
        close(m.objective_, ref.objective_, rtol)
    return check


# duplicates: rows 0..4 repeated with other targets; the merged problem has the mean
# targets and summed weights (problem (P) only sees weighted sums of squares).
_RNG = np.random.default_rng(3)
XD1 = np.sort(_RNG.uniform(-1, 1, (12, 1)), axis=0)
YD1 = np.abs(XD1[:, 0]) + 0.05 * _RNG.standard_normal(12)
XD_dup = np.vstack([XD1, XD1[:5]])
YD_dup = np.concatenate([YD1, YD1[:5] + _RNG.standard_normal(5)])
YD_merged = YD1.copy()
YD_merged[:5] = 0.5 * (YD1[:5] + YD_dup[12:])
WD_merged = np.r_[np.full(5, 2.0), np.ones(7)]
XD2 = _RNG.standard_normal((12, 2))
XD2_dup = np.vstack([XD2, XD2[:5]])
DIRS = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0], [2.0, 1.0]])


def tie_constant():
    """(P) on the merged data differs by the spread of the duplicated targets."""
    dev = YD_dup[:5] - YD_merged[:5]
    return 0.5 * 2 * float(dev @ dev) / len(YD_dup)


def check_duplicates(reference):
    def check(result):
        m, X, y, w = result
        ref = reference()
        close(m.predict(XD1 if X.shape[1] == 1 else XD2),
              ref.predict(XD1 if X.shape[1] == 1 else XD2), 1e-5)
        close(m.objective_, ref.objective_ + tie_constant(), 1e-5)
    return check


# zero weights: the rows of weight zero are ignored, the objective is the same
WZ = np.r_[np.ones(15), np.zeros(5)]


def check_pandas(result):
    m, X, y, w = result
    assert list(m.feature_names_in_) == ["a", "b"]
    close(m.predict(X), reg().fit(X2, Y2).predict(X2), 1e-12)


def scaled(s, c, d):
    """(P) on (s X, c y) with alpha * s * c is (P) on (X, y) rescaled: f -> c f(./s).

    A tight tol: predictions are only as close as the square root of the objectives' gap.
    """
    X, y = (X1, Y1) if d == 1 else (X2, Y2)
    kw = dict(refine=False, tol=1e-12) if d == 2 else dict(tol=1e-12)

    def check(result):
        m, Xs, ys, w = result
        ref = reg(**kw).fit(X, y)
        close(m.predict(Xs) / c, ref.predict(X), 1e-6)
        close(m.objective_ / c ** 2, ref.objective_, 1e-8)
    return fit_with(X * s, y * c, alpha=0.01 * s * c, **kw), check


def check_alpha_max_scaled(value):
    close(value, alpha_max(X1, Y1), 1e-9)


def check_univariate_constant(fit):
    assert fit.n_knots == 0
    close(fit.predict(X1[:, 0]), np.full(20, 2.5))


def check_classifier_labels(kind):
    def check(model):
        ref = clf().fit(X2, LABELS)
        assert list(model.classes_) == list(kind(ref.classes_))
        np.testing.assert_array_equal(model.predict(X2), kind(ref.predict(X2)))
        close(model.objective_, ref.objective_, 1e-9)
    return check


# Found by this table: the affine projector's rank cutoff used to compare the singular values
# of [1, X] across columns of different scales, so alpha_max(1e100 x, 1e-100 y) was 0.84
# instead of 0.12 and 2-D fits at |x| ~ 1e-100 were off; these rows keep it fixed.
SCALE_ROW = ()
CONST = np.full(20, 2.5)
SMALL = {n: xy(1, n, seed=n) for n in (1, 2, 3)}
SMALL2 = {n: xy(2, n, seed=n) for n in (1, 2, 3)}
INT_X = np.random.default_rng(5).integers(-5, 6, (20, 2))
INT_Y = np.random.default_rng(6).integers(-5, 6, 20)
BOOL_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 5, dtype=bool)
BOOL_Y = np.array([0, 1, 1, 0] * 5, dtype=bool)

VALID = [
    Case("constant y, 1 feature", fit_with(X1, CONST), check=check_constant),
    Case("constant y, 2 features, weighted", fit_with(X2, CONST, np.arange(1.0, 21.0)),
         check=check_constant),
    Case("y exactly affine, 1 feature", fit_with(X1, 1.0 - 3.0 * X1[:, 0]), check=check_affine),
    Case("y exactly affine, 2 features", fit_with(X2, 1.0 + 2 * X2[:, 0] - 3 * X2[:, 1]),
         check=check_affine),
    Case("duplicate x with other y, 1 feature (vs cvxpy on merged data)",
         fit_with(XD_dup, YD_dup, alpha=0.005),
         check=check_duplicates(lambda: reg(alpha=0.005, solver="cvxpy").fit(
             XD1, YD_merged, sample_weight=WD_merged))),
    Case("duplicate rows with other y, 2 features",
         fit_with(XD2_dup, YD_dup, alpha=0.005, directions=DIRS,
                  refine=False),
         check=check_duplicates(lambda: reg(alpha=0.005, directions=DIRS, refine=False,
                                            solver="cvxpy").fit(XD2, YD_merged,
                                                                sample_weight=WD_merged))),
    *[Case(f"N = {n}, 1 feature, alpha = 0 (interpolates)", fit_with(*SMALL[n], alpha=0.0),
           check=check_interpolates) for n in (1, 2, 3)],
    Case("N = 3, 1 feature, alpha huge (least-squares line)", fit_with(*SMALL[3], alpha=1e6),
         check=check_line_fit),
    *[Case(f"N = {n}, 2 features (affine interpolation)", fit_with(*SMALL2[n]),
           check=check_interpolates) for n in (1, 2, 3)],
    Case("constant feature column (vs the exact 1-feature fit)",
         fit_with(np.column_stack([X1[:, 0], np.full(20, 5.0)]), Y1, max_rounds=10),
         check=same_as(lambda: reg().fit(X1, Y1), 1e-4, columns=[0])),
    Case("all rows of X equal", fit_with(np.ones((20, 2)), Y2), check=check_constant),
    Case("all x equal, 1 feature", fit_with(np.ones((20, 1)), Y1, np.arange(20.0)),
         check=check_constant),
    Case("zero-weight rows = rows dropped, 1 feature", fit_with(X1, Y1, WZ),
         check=same_as(lambda: reg().fit(X1[:15], Y1[:15]))),
    Case("zero-weight rows = rows dropped, 2 features", fit_with(X2, Y2, WZ, refine=False),
         check=same_as(lambda: reg(refine=False).fit(X2[:15], Y2[:15]))),
    Case("scalar sample_weight = no weights", fit_with(X1, Y1, 3.0),
         check=same_as(lambda: reg().fit(X1, Y1), 1e-9)),
    Case("huge weights (1e300) = unit weights", fit_with(X1, Y1, np.full(20, 1e300)),
         check=same_as(lambda: reg().fit(X1, Y1), 1e-9)),
    *[Case(f"x times {s:g}, y times {c:g}, {d} feature(s)", *scaled(s, c, d)[:1],
           check=scaled(s, c, d)[1], marks=marks)
      for s, c, d, marks in [(1e100, 1e-100, 1, ()), (1e-100, 1e100, 1, ()), (1e5, 1.0, 2, ()),
                             (1e-5, 1.0, 2, ()), (1e100, 1.0, 2, SCALE_ROW),
                             (1e-100, 1.0, 2, SCALE_ROW)]],
    Case("integer X and y", fit_with(INT_X, INT_Y),
         check=same_as(lambda: reg().fit(INT_X.astype(float), INT_Y.astype(float)), 1e-12)),
    Case("bool X and y", fit_with(BOOL_X, BOOL_Y),
         check=same_as(lambda: reg().fit(BOOL_X.astype(float), BOOL_Y.astype(float)), 1e-12)),
    Case("float32 X and y", fit_with(X2.astype(np.float32), Y2.astype(np.float32)),
         check=same_as(lambda: reg().fit(X2.astype(np.float32).astype(float),
                                         Y2.astype(np.float32).astype(float)), 1e-12)),
    Case("object-dtype numbers", fit_with(X2.astype(object), Y2.astype(object)),
         check=same_as(lambda: reg().fit(X2, Y2), 1e-12)),
    Case("pandas DataFrame and Series", fit_with(pd.DataFrame(X2, columns=["a", "b"]),
                                                 pd.Series(Y2)), check=check_pandas),
    Case("lists", fit_with(X2.tolist(), Y2.tolist()),
         check=same_as(lambda: reg().fit(X2, Y2), 1e-12)),
    Case("y of shape (N, 1)", fit_with(X1, Y1[:, None]),
         check=lambda r: close(r[0].predict(X1)[:, 0], reg().fit(X1, Y1).predict(X1), 1e-9)),
    Case("alpha_max of x times 1e5, y times 1e-5", lambda: alpha_max(X1 * 1e5, Y1 * 1e-5),
         check=check_alpha_max_scaled),
    Case("alpha_max of x times 1e100, y times 1e-100",
         lambda: alpha_max(X1 * 1e100, Y1 * 1e-100), check=check_alpha_max_scaled,
         marks=SCALE_ROW),
    Case("solve_univariate, constant y", lambda: solve_univariate(X1, CONST, None, 0.1),
         check=check_univariate_constant),
    Case("classifier, string labels", lambda: clf().fit(X2, np.where(LABELS, "yes", "no")),
         check=check_classifier_labels(lambda c: np.where(c, "yes", "no"))),
    Case("classifier, bool labels", lambda: clf().fit(X2, LABELS.astype(bool)),
         check=check_classifier_labels(lambda c: np.asarray(c).astype(bool))),
]


@pytest.mark.parametrize("case", [pytest.param(c, marks=c.marks, id=c.name) for c in VALID])
def test_valid_awkward_input(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")    # ConvergenceWarning of the short runs
        case.check(case.call())


def test_classifier_column_y_warns_and_fits_the_same():
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        m = clf().fit(X2, LABELS[:, None])
    np.testing.assert_array_equal(m.predict(X2), clf().fit(X2, LABELS).predict(X2))


def test_every_error_row_names_an_argument():
    """The table itself: every regex mentions the argument it is about."""
    names = ("X", "y", "x", "u", "q", "sample_weight", "alpha", "directions", "solver",
             "refine", "max_rounds", "certificate_budget", "sparsest", "tol", "max_iter",
             "random_state", "warm_start", "verbose")
    for case in ERRORS:
        assert any(re.search(rf"(?<!\w){n}(?!\w)", case.match.replace("\\b", ""))
                   for n in names), case.name


def test_inputs_not_modified():
    X, y, w = X2.copy(), Y2.copy(), np.arange(1.0, 21.0)
    reg(max_rounds=0).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, Y2)
    np.testing.assert_array_equal(w, np.arange(1.0, 21.0))


if __name__ == "__main__":          # the table for the notes: input -> what it gets
    for case in ERRORS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                case.call()
            print(f"| {case.name} | no error |")
        except Exception as e:      # noqa: BLE001 (printing whatever it is)
            msg = " ".join(str(e).split())
            print(f"| {case.name} | {type(e).__name__}: {msg[:160]} |")
    for case in VALID:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                case.check(case.call())
            print(f"| {case.name} | fit agrees with the independent computation |")
        except Exception as e:      # noqa: BLE001
            msg = " ".join(str(e).split())
            print(f"| {case.name} | {type(e).__name__}: {msg[:160]} |")
