"""Cross-validated estimators: alpha chosen on held-out folds, then one refit on all data.

Each fold fits a warm-started regularization path (:func:`radonsolve.path.path_fits`) on its
training part and scores every path point on its held-out part; the alpha with the best mean
score is refitted on all the data with the full settings. Folds run in parallel with joblib
(``n_jobs``), so under ``joblib.parallel_backend("dask")`` they run on a Dask cluster.

Determinism: every fold and the refit use one integer seed (drawn once from
``random_state``), every task gets its inputs explicitly and returns its results, and the
results are combined in fold order, so ``mse_path_``, ``alpha_`` and the refit do not depend
on ``n_jobs``, the backend or the number of workers.

Speed (the defaults, measured on the diabetes data, d = 10, and stated in the docstrings):
exchange rounds dominate the cost of a fit with three or more features, and the small alphas
(many neurons) are the expensive ones. So the folds fit with at most ``cv_max_rounds``
exchange rounds per alpha (the warm start carries the refined directions down the path), the
path stops early once the held-out score has not improved for ``patience`` alphas, and only
the refit at ``alpha_`` gets the full ``max_rounds``.
"""

import numbers
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._progress import progress_bar
from ._validation import (DIRECTIONS, NONNEGATIVE_REAL, POSITIVE_INT, check_X_y,
                          normalized_weights)
from .classifier import RadonReLUClassifier
from .estimator import RadonReLURegressor
from .path import alpha_grid, check_alphas, path_fits

__all__ = ["RadonReLURegressorCV", "RadonReLUClassifierCV"]

# Fitted attributes of the refit that the CV estimator exposes as its own.
_REFIT_ATTRS = ("network_", "objective_", "dual_gap_", "n_iter_", "n_neurons_", "alpha_max_",
                "directions_", "fit_time_", "certificate_", "certified_", "global_gap_",
                "n_rounds_", "refinement_history_", "classes_")


def _fold_chunk(estimator, X, y, sample_weight, train, test, alphas, scorer, classifier):
    """Continue one fold's path over ``alphas``; returns the estimator (its warm start) and,
    per alpha, the held-out mean squared error (regression), score and neuron count."""
    sw_tr = None if sample_weight is None else sample_weight[train]
    w_te = None if sample_weight is None else sample_weight[test]
    if w_te is not None and not w_te.sum() > 0:
        w_te = None
    X_te, y_te = X[test], y[test]
    mse, scores, n_neurons = [], [], []
    with warnings.catch_warnings():
        # The folds' fits are truncated on purpose (cv_max_rounds); the refit warns.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for est in path_fits(estimator, X[train], y[train], alphas, sample_weight=sw_tr):
            if not classifier:
                err = (y_te - est.predict(X_te)) ** 2
                err = err.reshape(len(test), -1).mean(axis=1)
                mse.append(float(np.average(err, weights=w_te)))
            if scorer is not None:
                kw = {} if w_te is None else {"sample_weight": w_te}
                scores.append(float(scorer(est, X_te, y_te, **kw)))
            n_neurons.append(est.n_neurons_)
    return estimator, np.asarray(mse), np.asarray(scores), np.asarray(n_neurons)


def _seed(random_state):
    """One integer seed for all fits (an int stays itself)."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class _RadonCV(BaseEstimator):
    """What the regressor and the classifier share: the fold paths, the choice, the refit."""

    _classifier = False

    _cv_constraints = {
        "alphas": ["array-like", None],
        "n_alphas": [POSITIVE_INT],
        "eps": [Interval(numbers.Real, 0, 1, closed="right")],
        "cv": ["cv_object"],
        "n_jobs": [numbers.Integral, None],
        "scoring": [str, callable, None],
        "patience": [POSITIVE_INT, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "directions": DIRECTIONS,
        "tol": [NONNEGATIVE_REAL],
        "max_iter": [POSITIVE_INT],
    }

    def _estimators(self, seed):
        """(fold template, refit estimator), from the parameters."""
        raise NotImplementedError

    def _fit_cv(self, X, y, sample_weight):
        self._validate_params()
        X_orig = X
        X, y = check_X_y(X, y, estimator=self, classifier=self._classifier)
        if sample_weight is not None:
            # Validated once; the scale is irrelevant (every fit normalizes its weights).
            sample_weight = normalized_weights(sample_weight, X) * X.shape[0]
        seed = _seed(self.random_state)
        fold_est, refit_est = self._estimators(seed)
        if self.alphas is None:
            alphas = alpha_grid(X, y, n_alphas=self.n_alphas, eps=self.eps,
                                sample_weight=sample_weight, classifier=self._classifier,
                                directions=self.directions,
                                refine=getattr(self, "refine", "auto"),
                                certificate_budget=getattr(self, "certificate_budget", 2000),
                                random_state=seed)
        else:
            alphas = check_alphas(self.alphas, positive=self._classifier)
        cv = check_cv(self.cv, y, classifier=self._classifier)
        folds = list(cv.split(X, y))
        scorer = None
        if self.scoring is not None or self._classifier:
            scorer = check_scoring(fold_est, scoring=self.scoring)
        # Lock-step over chunks of the grid, so that the early stop sees every fold's score
        # at the same alphas; chunk boundaries depend on the grid alone, not on the workers.
        step = len(alphas) if self.patience is None else int(self.patience)
        states = [clone(fold_est) for _ in folds]
        mse, scores, neurons = [], [], []
        parallel = Parallel(n_jobs=self.n_jobs, return_as="generator")
        n_done = 0
        with progress_bar(len(folds) * len(alphas), desc="CV fits",
                          enabled=bool(self.verbose)) as bar:
            while n_done < len(alphas):
                chunk = alphas[n_done:n_done + step]
                outs = []
                for out in parallel(
                        delayed(_fold_chunk)(states[k], X, y, sample_weight, tr, te, chunk,
                                             scorer, self._classifier)
                        for k, (tr, te) in enumerate(folds)):
                    outs.append(out)
                    bar.update(len(chunk))
                states = [o[0] for o in outs]
                mse.append(np.column_stack([o[1] for o in outs]) if not self._classifier
                           else np.zeros((len(chunk), 0)))
                scores.append(np.column_stack([o[2] for o in outs]) if scorer is not None
                              else np.zeros((len(chunk), 0)))
                neurons.append(np.column_stack([o[3] for o in outs]))
                n_done += len(chunk)
                crit = self._criterion(np.vstack(mse), np.vstack(scores))
                if self.patience is not None and \
                        n_done - 1 - int(np.argmax(crit)) >= self.patience:
                    break
        mse, scores, neurons = np.vstack(mse), np.vstack(scores), np.vstack(neurons)
        crit = self._criterion(mse, scores)
        best = int(np.argmax(crit))
        self.alphas_ = alphas[:n_done]
        self.alpha_ = float(alphas[best])
        self.n_neurons_path_ = neurons.mean(axis=1)
        if not self._classifier:
            self.mse_path_ = mse
        if scorer is not None:
            self.scores_ = scores
        self.best_score_ = float(crit[best]) if scorer is not None else float(-crit[best])
        self.n_folds_ = len(folds)
        refit_est.set_params(alpha=self.alpha_)
        if self.verbose:
            print(f"[radonsolve] CV chose alpha={self.alpha_:.4g} "
                  f"({best + 1} of {n_done} alphas evaluated); refitting on all data")
        refit_est.fit(X_orig, y, sample_weight=sample_weight)
        self.estimator_ = refit_est
        for name in _REFIT_ATTRS:
            if hasattr(refit_est, name):
                setattr(self, name, getattr(refit_est, name))
        return self

    def _criterion(self, mse, scores):
        """Mean over folds of what is maximized: the score if any, else minus the MSE."""
        if scores.shape[1]:
            return scores.mean(axis=1)
        return -mse.mean(axis=1)


class RadonReLURegressorCV(RegressorMixin, _RadonCV):
    """:class:`~radonsolve.RadonReLURegressor` with alpha chosen by cross-validation.

    Each of the ``cv`` folds fits a warm-started path over a decreasing grid of alphas on
    its training part and measures the mean squared error on its held-out part; the alpha
    with the smallest mean error (or the best mean ``scoring``) is refitted on all the data
    with the full settings, and the CV estimator then predicts with that network.

    The defaults are chosen for speed with three or more features, where a fit with full
    refinement takes seconds: the folds' fits run at most ``cv_max_rounds`` exchange rounds
    per alpha (the refined directions are carried down the path by the warm start, so later
    alphas start well), and the path stops once the mean held-out error has not improved for
    ``patience`` consecutive alphas (the small alphas, with the most neurons, are the costly
    ones and past the optimum they only overfit). Measured (``benchmarks/results/cv.md``,
    random 75/25 splits, 2 cores shared with other jobs): held-out R^2 0.453 on the diabetes
    data (LinearRegression 0.445, the better of MLPRegressor with 32 or 128 units 0.312), in
    about 110 s per CV; 0.918 on Friedman #1 (500 x 10; MLP 0.830) in about 260 s. On the
    diabetes data the folds' path with ``cv_max_rounds=1`` and ``cv_certificate_budget=500``
    reached objectives within 0.3% of 3 rounds with 2000 candidates, at half the cost. For one
    or two features every fit is exact or certified and cheap; ``patience=None`` and
    ``cv_max_rounds=max_rounds`` give the full, unshortened cross-validation.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,), default=None
        The grid (sorted into decreasing order). None: ``n_alphas`` alphas from
        ``alpha_max`` of (P) down to ``eps * alpha_max`` (:func:`radonsolve.path.alpha_grid`).
    n_alphas : int, default=30
    eps : float, default=1e-3
    cv : int, cross-validation generator or iterable, default=5
        As in scikit-learn (an int: that many unshuffled ``KFold`` folds).
    n_jobs : int or None, default=None
        joblib workers over the folds (None: 1, or the backend's default inside a
        ``joblib.parallel_backend`` context, e.g. all the workers of a Dask cluster).
    scoring : str, callable or None, default=None
        Choose alpha by this scikit-learn scorer (``scores_``) instead of the mean squared
        error; ``mse_path_`` is recorded either way.
    patience : int or None, default=5
        Stop descending the grid once the mean held-out criterion has not improved on its
        best for this many consecutive alphas (evaluated in chunks of this many alphas, the
        same for every fold). None: the whole grid.
    cv_max_rounds : int, default=1
        Exchange rounds per alpha in the folds' fits (the refit uses ``max_rounds``).
    cv_certificate_budget : int, default=500
        Candidate directions of the searched certificate (three or more features) in the
        folds' fits (the refit uses ``certificate_budget``).
    directions, solver, refine, max_rounds, certificate_budget, sparsest, tol, max_iter
        As in :class:`~radonsolve.RadonReLURegressor`.
    random_state : int, RandomState instance or None, default=None
        Seeds the directions; one seed is drawn for all folds and the refit.
    verbose : int, default=0
        Progress bars (with tqdm installed) over the folds' path points and the refit's
        refinement rounds.

    Attributes
    ----------
    alpha_ : float
        The chosen alpha.
    alphas_ : ndarray of shape (n_alphas_evaluated,)
        The grid, truncated where ``patience`` stopped it (decreasing).
    mse_path_ : ndarray of shape (n_alphas_evaluated, n_folds)
        Held-out mean squared error (sample-weighted; averaged over outputs).
    scores_ : ndarray of shape (n_alphas_evaluated, n_folds)
        Only with ``scoring``: the held-out scores.
    best_score_ : float
        Mean held-out criterion at ``alpha_`` (the MSE, or the score with ``scoring``).
    n_neurons_path_ : ndarray of shape (n_alphas_evaluated,)
        Mean over folds of the number of neurons at each alpha.
    n_folds_ : int
    estimator_ : RadonReLURegressor
        The refit on all the data at ``alpha_``.
    network_, objective_, dual_gap_, certificate_, certified_, global_gap_, n_rounds_, \
refinement_history_, n_iter_, n_neurons_, directions_, alpha_max_, fit_time_
        Those of ``estimator_``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X has feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve import RadonReLURegressorCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, (80, 1))
    >>> y = np.abs(X[:, 0]) + 0.05 * rng.standard_normal(80)
    >>> model = RadonReLURegressorCV(n_alphas=10, cv=3).fit(X, y)
    >>> model.mse_path_.shape[1]
    3
    >>> model.score(X, y) > 0.9
    True
    """

    _classifier = False

    _parameter_constraints = {
        **_RadonCV._cv_constraints,
        "cv_max_rounds": [Interval(numbers.Integral, 0, None, closed="left")],
        "cv_certificate_budget": [POSITIVE_INT],
        "solver": [StrOptions({"auto", "cd", "cvxpy", "univariate", "arrangement"})],
        "refine": [StrOptions({"auto"}), "boolean"],
        "max_rounds": [Interval(numbers.Integral, 0, None, closed="left")],
        "certificate_budget": [POSITIVE_INT],
        "sparsest": ["boolean"],
    }

    def __init__(self, *, alphas=None, n_alphas=30, eps=1e-3, cv=5, n_jobs=None, scoring=None,
                 patience=5, cv_max_rounds=1, cv_certificate_budget=500, directions="auto",
                 solver="auto", refine="auto",
                 max_rounds=30, certificate_budget=2000, sparsest=False, tol=1e-6,
                 max_iter=100, random_state=None, verbose=0):
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.n_jobs = n_jobs
        self.scoring = scoring
        self.patience = patience
        self.cv_max_rounds = cv_max_rounds
        self.cv_certificate_budget = cv_certificate_budget
        self.directions = directions
        self.solver = solver
        self.refine = refine
        self.max_rounds = max_rounds
        self.certificate_budget = certificate_budget
        self.sparsest = sparsest
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.verbose = verbose

    def _estimators(self, seed):
        common = dict(directions=self.directions, solver=self.solver, refine=self.refine,
                      sparsest=self.sparsest, tol=self.tol, max_iter=self.max_iter,
                      random_state=seed)
        fold = RadonReLURegressor(
            max_rounds=min(self.cv_max_rounds, self.max_rounds),
            certificate_budget=min(self.cv_certificate_budget, self.certificate_budget),
            warm_start=True, verbose=0, **common)
        refit = RadonReLURegressor(max_rounds=self.max_rounds,
                                   certificate_budget=self.certificate_budget,
                                   verbose=self.verbose, **common)
        return fold, refit

    def fit(self, X, y, sample_weight=None):
        """Choose alpha by cross-validation, then refit on all the data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Used by every fit and to weight the held-out errors.

        Returns
        -------
        self
        """
        return self._fit_cv(X, y, sample_weight)

    def predict(self, X):
        """Output of the refitted network at the rows of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class RadonReLUClassifierCV(ClassifierMixin, _RadonCV):
    """:class:`~radonsolve.RadonReLUClassifier` with alpha chosen by cross-validation.

    Each of the ``cv`` (stratified) folds fits the classifier at every alpha of a decreasing
    grid on its training part and scores it on its held-out part (accuracy by default); the
    alpha with the best mean score (the largest such alpha on ties: the simplest model) is
    refitted on all the data.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,), default=None
        The grid (positive; sorted into decreasing order). None: ``n_alphas`` alphas from
        :func:`~radonsolve.alpha_max_classification` down to ``eps`` times it.
    n_alphas : int, default=20
    eps : float, default=1e-3
    cv : int, cross-validation generator or iterable, default=5
        An int: that many ``StratifiedKFold`` folds.
    n_jobs : int or None, default=None
        joblib workers over the folds.
    scoring : str, callable or None, default=None
        scikit-learn scorer; None: accuracy.
    patience : int or None, default=None
        As in :class:`RadonReLURegressorCV`. None (the default here): the whole grid;
        accuracy is flat over stretches of alphas, where an early stop would be premature.
    directions, solver, tol, max_iter
        As in :class:`~radonsolve.RadonReLUClassifier`.
    random_state : int, RandomState instance or None, default=None
        Seeds the directions; one seed is drawn for all folds and the refit.
    verbose : int, default=0
        Progress bar over the folds' fits (with tqdm installed).

    Attributes
    ----------
    alpha_ : float
    alphas_ : ndarray of shape (n_alphas_evaluated,)
    scores_ : ndarray of shape (n_alphas_evaluated, n_folds)
        Held-out scores.
    best_score_ : float
        Mean held-out score at ``alpha_``.
    n_neurons_path_ : ndarray of shape (n_alphas_evaluated,)
        Mean over folds of the number of neurons at each alpha.
    n_folds_ : int
    estimator_ : RadonReLUClassifier
        The refit on all the data at ``alpha_``.
    classes_, network_, objective_, dual_gap_, n_iter_, n_neurons_, directions_, \
alpha_max_, fit_time_
        Those of ``estimator_``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X has feature names.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from radonsolve import RadonReLUClassifierCV
    >>> X, y = make_moons(150, noise=0.1, random_state=0)
    >>> clf = RadonReLUClassifierCV(n_alphas=6, cv=3, random_state=0).fit(X, y)
    >>> clf.scores_.shape
    (6, 3)
    >>> clf.score(X, y) > 0.95
    True
    """

    _classifier = True

    _parameter_constraints = {
        **_RadonCV._cv_constraints,
        "solver": [StrOptions({"auto", "newton", "cvxpy"})],
    }

    def __init__(self, *, alphas=None, n_alphas=20, eps=1e-3, cv=5, n_jobs=None, scoring=None,
                 patience=None, directions="auto", solver="auto", tol=1e-6, max_iter=100,
                 random_state=None, verbose=0):
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.n_jobs = n_jobs
        self.scoring = scoring
        self.patience = patience
        self.directions = directions
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.verbose = verbose

    def _estimators(self, seed):
        common = dict(directions=self.directions, solver=self.solver, tol=self.tol,
                      max_iter=self.max_iter, random_state=seed)
        return (RadonReLUClassifier(verbose=0, **common),
                RadonReLUClassifier(verbose=max(int(self.verbose) - 1, 0), **common))

    def fit(self, X, y, sample_weight=None):
        """Choose alpha by cross-validation, then refit on all the data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Used by every fit and to weight the held-out scores.

        Returns
        -------
        self
        """
        return self._fit_cv(X, y, sample_weight)

    def decision_function(self, X):
        """Logits of the refitted classifier (see :class:`~radonsolve.RadonReLUClassifier`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            ``estimator_.decision_function(X)``.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_log_proba(X)

    def predict(self, X):
        """Most probable class of each row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)
