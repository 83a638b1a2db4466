"""Classification with sparse shallow ReLU networks: logistic / multinomial loss plus RTV2.

The classifier solves, over networks ``f(x) = sum_k v_k max(w_k.x - b_k, 0) + c.x + c0``
(logits; ``v_k`` a scalar for two classes, a vector of one logit per class otherwise),

    minimize_f  (1 / sum(s)) sum_n s_n loss(y_n, f(x_n)) + alpha * sum_k ||v_k||_2        (C)

with the logistic loss (two classes) or the softmax cross-entropy (more classes). As for the
regressor (DESIGN §1-2), ``sum_k ||v_k||`` is the RTV2 seminorm of the logits (group penalty
for several logits), the skip connection is unpenalized, and biases at the data projections
are exact for any convex loss of the fitted values; only the directions are sampled.
"""

import time

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted

from ._validation import (DIRECTIONS, NONNEGATIVE_REAL, POSITIVE_INT, check_alpha,
                          check_positive_int, check_X_predict, check_X_y, normalized_weights)
from .dictionary import ReLUDictionary
from .directions import make_directions
from .network import ReLUNetwork
from .solvers.logistic import (CvxpyLogistic, LogisticProblem, WorkingSetNewton, affine_fit,
                               alpha_max_logistic, cross_entropy)

__all__ = ["RadonReLUClassifier", "alpha_max_classification"]

SOLVERS = ("auto", "newton", "cvxpy")


class RadonReLUClassifier(ClassifierMixin, BaseEstimator):
    """Shallow ReLU network classifier fitted by convex optimization.

    Minimizes the (sample-weighted, averaged) logistic loss for two classes, or softmax
    cross-entropy for more, of the network's logits plus ``alpha`` times their RTV2 seminorm
    ``sum_k ||v_k||_2`` (problem (C) of :mod:`radonsolve.classifier`): the global optimum of
    training the logits network with weight decay ``alpha`` on input and output weights, over
    the dictionary of directions. The affine skip connection is not penalized.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength (positive). For ``alpha >= alpha_max_`` the fit is the affine
        (linear) logistic model and has no neuron.
    directions : "auto", int or array-like of shape (n_directions, n_features), default="auto"
        Directions of the neurons searched, as in :class:`~radonsolve.RadonReLURegressor`.
    solver : {"auto", "newton", "cvxpy"}, default="auto"
        "newton": working-set proximal Newton on the structured dictionary, stopping on the
        duality gap (:mod:`radonsolve.solvers.logistic`). "cvxpy": the explicit problem
        solved by Clarabel (reference; dense, small problems only). "auto": "newton".
    tol : float, default=1e-6
        Stop when the duality gap is below ``tol`` times the loss of the best constant model
        (the entropy of the class proportions).
    max_iter : int, default=100
        Maximum number of working-set iterations of the "newton" solver.
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of directions.
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    network_ : ReLUNetwork
        Network of the logits: ``outer`` of shape (n_neurons,) for two classes (logit of
        ``classes_[1]``), (n_neurons, n_classes) otherwise.
    objective_ : float
        Value of (C) at the fitted network.
    dual_gap_ : float
        Duality gap of (C) on the dictionary at the solution (same units as objective_).
    n_iter_ : int
        Working-set iterations: restricted solves, each followed by a pricing pass over
        all atoms ("newton"); iterations of the conic solver ("cvxpy").
    n_neurons_ : int
    alpha_max_ : float
        Smallest alpha for which (C) on the dictionary has no neuron.
    directions_ : ndarray of shape (n_directions, n_features)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X has feature names.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from radonsolve.classifier import RadonReLUClassifier
    >>> X, y = make_moons(200, noise=0.1, random_state=0)
    >>> clf = RadonReLUClassifier(alpha=1e-3, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.95
    True
    """

    # scikit-learn checks these in fit (messages name the parameter); a new parameter adds
    # its entry here. alpha = 0 passes here and gets its own message below.
    _parameter_constraints = {
        "alpha": [NONNEGATIVE_REAL],
        "directions": DIRECTIONS,
        "solver": [StrOptions(set(SOLVERS))],
        "tol": [NONNEGATIVE_REAL],
        "max_iter": [POSITIVE_INT],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, alpha=1.0, *, directions="auto", solver="auto", tol=1e-6, max_iter=100,
                 random_state=None, verbose=0):
        self.alpha = alpha
        self.directions = directions
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.verbose = verbose

    def _validate_params_radon(self):
        self._validate_params()
        # scikit-learn's intervals accept bools as numbers; these do not.
        alpha = check_alpha(self.alpha)
        if alpha <= 0:
            raise ValueError(
                "alpha must be positive for classification (with alpha = 0 the logistic loss "
                f"has no minimizer on separable data); got {self.alpha!r}.")
        if not isinstance(self.solver, str) or self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}; got {self.solver!r}.")
        tol = check_alpha(self.tol, "tol")
        max_iter = check_positive_int(self.max_iter, "max_iter")
        return alpha, self.solver, tol, max_iter

    def fit(self, X, y, sample_weight=None):
        """Fit the classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        alpha, solver, tol, max_iter = self._validate_params_radon()
        X, y = check_X_y(X, y, estimator=self, classifier=True)
        classes, y_enc, u_all, problem = _problem(X, y, sample_weight, alpha, self.directions,
                                                  self.random_state)
        dic = problem.dictionary
        B_aff, F_aff = affine_fit(problem, primal_tol=0.1 * tol)
        self.alpha_max_ = alpha_max_logistic(problem, F_aff)
        if solver == "cvxpy":
            result = CvxpyLogistic(verbose=self.verbose).solve(problem)
        else:
            result = WorkingSetNewton(tol=tol, max_iter=max_iter,
                                      verbose=max(self.verbose - 1, 0)).solve(problem,
                                                                              affine=B_aff)
        Wn, bn = dic.atoms(result.idx)
        outer = result.coef[:, 0] if problem.binary else result.coef
        self.classes_ = classes
        self.network_ = ReLUNetwork(Wn, bn, outer, result.skip_coef, result.skip_intercept)
        self.directions_ = dic.directions
        self.dual_gap_ = float(result.dual_gap)
        self.n_iter_ = int(result.n_iter)
        self.n_neurons_ = self.network_.n_neurons
        self.objective_ = objective(self.network_, X, y_enc, alpha, u_all)
        self.fit_time_ = time.perf_counter() - t0
        if self.verbose:
            print(f"[radonsolve] classifier alpha={alpha:.4g}: {self.n_neurons_} neurons, "
                  f"objective {self.objective_:.10g}, gap {self.dual_gap_:.3e}, "
                  f"{self.fit_time_:.3f} s")
        return self

    # ------------------------------------------------------------------ prediction
    def decision_function(self, X):
        """Logits: shape (n_samples,) for two classes (of ``classes_[1]``), else
        (n_samples, n_classes)."""
        check_is_fitted(self, "network_")
        X = check_X_predict(X, self.n_features_in_, estimator=self)
        return self.network_.predict(X)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        F = self.decision_function(X)
        if F.ndim == 1:
            p = expit(F)
            return np.column_stack([expit(-F), p])
        return softmax(F, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably."""
        F = self.decision_function(X)
        if F.ndim == 1:
            F = np.column_stack([np.zeros_like(F), F])
        from scipy.special import log_softmax
        return log_softmax(F, axis=1)

    def predict(self, X):
        """Most probable class of each row of X."""
        F = self.decision_function(X)
        if F.ndim == 1:
            return self.classes_[(F > 0).astype(int)]
        return self.classes_[np.argmax(F, axis=1)]


def _problem(X, y, sample_weight, alpha, directions, random_state):
    """Validated classes, encoded labels, weights and the problem (C) on the dictionary."""
    classes, y_enc = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"y must contain samples of at least two classes; got one class "
            f"({classes[0]!r}).")
    u_all = normalized_weights(sample_weight, X)
    keep = u_all > 0
    present = np.unique(y_enc[keep])
    if len(present) < len(classes):
        missing = classes[np.setdiff1d(np.arange(len(classes)), present)]
        raise ValueError(
            f"sample_weight must give every class of y a positive total weight; class(es) "
            f"{list(missing)} have none.")
    # Samples of weight zero do not enter (C); removing them keeps the dictionary minimal.
    X_fit, y_fit, u = X[keep], y_enc[keep], u_all[keep] / u_all[keep].sum()
    W = make_directions(directions, X.shape[1], random_state)
    problem = LogisticProblem(ReLUDictionary(X_fit, W), y_fit, u, alpha, len(classes))
    return classes, y_enc, u_all, problem


@validate_params({"X": ["array-like"], "y": ["array-like"], "directions": DIRECTIONS,
                  "random_state": ["random_state"], "sample_weight": ["array-like", None]},
                 prefer_skip_nested_validation=True)
def alpha_max_classification(X, y, *, directions="auto", random_state=None,
                             sample_weight=None):
    """Smallest alpha for which (C) on the dictionary has no neuron.

    ``alpha_max = max_j ||Phi_j^T theta||`` with ``theta = -u * (gradient of the loss in the
    logits)`` at the affine (linear) logistic / multinomial fit, made exactly orthogonal to
    the affine functions (see :mod:`radonsolve.solvers.logistic`). When the classes are
    linearly separable the affine fit has no minimizer and alpha_max tends to 0 (it is
    returned at the fit where the loss is negligible).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    directions : "auto", int or array-like, default="auto"
        Same meaning as in :class:`RadonReLUClassifier`.
    random_state : int, RandomState instance or None
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    alpha_max : float
    """
    X, y = check_X_y(X, y, classifier=True)
    _, _, _, problem = _problem(X, y, sample_weight, 1.0, directions, random_state)
    _, F_aff = affine_fit(problem, primal_tol=1e-7)
    return alpha_max_logistic(problem, F_aff)


def objective(network, X, y_enc, alpha, u):
    """Value of (C) for a logits network on (X, encoded y) with normalized weights u."""
    F = network.predict(X)
    F2 = np.column_stack([np.zeros(len(F)), F]) if F.ndim == 1 else F
    is_y = np.zeros(F2.shape, dtype=bool)
    is_y[np.arange(len(y_enc)), y_enc] = True
    return float(u @ cross_entropy(F2, is_y)) + alpha * network.rtv2
