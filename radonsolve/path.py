"""Regularization paths: fits of (P) over a decreasing grid of alphas.

Along a decreasing grid the fits are warm-started (:class:`~radonsolve.RadonReLURegressor`
with ``warm_start=True`` keeps the previous network's neurons and directions, refined ones
included), and what depends on X alone is built once for the whole path: for two features,
the exact certificate's critical angles (:class:`radonsolve.certificate.SweepEvents`), which
every exchange round of every fit uses.

The default grid runs geometrically from ``alpha_max`` down to ``eps * alpha_max``, as
scikit-learn's Lasso path does. For two or more features with refinement, ``alpha_max`` is
that of (P) itself, the largest dual-certificate value of the affine fit's residual over
*all* directions (exact for two features, searched for more), not only over the sampled
directions of the dictionary: above it, the affine fit is optimal for (P).
"""

import copy
import numbers
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.utils import check_random_state

from ._progress import progress_bar
from ._validation import check_X_y, normalized_weights
from .certificate import SweepEvents
from .classifier import RadonReLUClassifier, alpha_max_classification
from .affine import AffineProjector
from .estimator import RadonReLURegressor, alpha_max
from .refine import certify

__all__ = ["RadonPath", "alpha_grid", "path_fits", "radon_path"]


class RadonPath:
    """The fits of a regularization path, one entry per alpha (in decreasing order).

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
        Decreasing.
    networks : list of ReLUNetwork
        The fitted network at each alpha (logits for a classification path).
    objectives : ndarray of shape (n_alphas,)
        Value of (P) (or of the classifier's problem (C)) at each network.
    dual_gaps : ndarray of shape (n_alphas,)
        Duality gap of the problem on the final dictionary of each fit.
    n_neurons : ndarray of int of shape (n_alphas,)
    certificates : ndarray of shape (n_alphas,)
        Largest dual-certificate value found over all directions (regression; NaN for
        classification, where no certificate is computed).
    certified : ndarray of bool of shape (n_alphas,)
        The fit is proven optimal for (P) (exact certificate within the tolerance).
    global_gaps : ndarray of shape (n_alphas,)
        Duality gap of (P) from the certificate (NaN for classification).
    fit_times : ndarray of shape (n_alphas,)
        Seconds per fit (the warm-started ones: from the previous fit).
    n_rounds : ndarray of int of shape (n_alphas,)
        Exchange rounds of each fit (0 for classification).
    alpha_max : float or None
        The grid's ``alpha_max`` when the grid was the default one, else None.
    classifier : bool
        Whether the path fitted :class:`~radonsolve.RadonReLUClassifier`.
    """

    def __init__(self, alphas, networks, objectives, dual_gaps, n_neurons, certificates,
                 certified, global_gaps, fit_times, n_rounds, alpha_max=None,
                 classifier=False):
        self.alphas = np.asarray(alphas, dtype=float)
        self.networks = list(networks)
        self.objectives = np.asarray(objectives, dtype=float)
        self.dual_gaps = np.asarray(dual_gaps, dtype=float)
        self.n_neurons = np.asarray(n_neurons, dtype=int)
        self.certificates = np.asarray(certificates, dtype=float)
        self.certified = np.asarray(certified, dtype=bool)
        self.global_gaps = np.asarray(global_gaps, dtype=float)
        self.fit_times = np.asarray(fit_times, dtype=float)
        self.n_rounds = np.asarray(n_rounds, dtype=int)
        self.alpha_max = alpha_max
        self.classifier = bool(classifier)

    def __len__(self):
        return len(self.alphas)

    def __repr__(self):
        kind = "classification" if self.classifier else "regression"
        if not len(self):
            return f"RadonPath({kind}, empty)"
        return (f"RadonPath({kind}, {len(self)} alphas from {self.alphas[0]:.4g} to "
                f"{self.alphas[-1]:.4g}, {self.n_neurons.min()}-{self.n_neurons.max()} neurons)")

    def predict(self, X):
        """Outputs of every network of the path at the rows of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Y : ndarray of shape (n_alphas, n_samples) or (n_alphas, n_samples, n_outputs)
            Network outputs (logits for a classification path).
        """
        X = np.asarray(X, dtype=float)
        return np.stack([net.predict(X) for net in self.networks])


def _check_eps_n_alphas(eps, n_alphas):
    if isinstance(n_alphas, bool) or not isinstance(n_alphas, numbers.Integral) or n_alphas < 1:
        raise ValueError(f"n_alphas must be a positive integer; got {n_alphas!r}.")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps <= 1:
        raise ValueError(f"eps must be a number in (0, 1]; got {eps!r}.")


def check_alphas(alphas, *, positive=False):
    """A user grid as a decreasing 1-D float array, with errors naming ``alphas``.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
    positive : bool, default=False
        Require every alpha > 0 (classification); else >= 0.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,), sorted in decreasing order

    Examples
    --------
    >>> check_alphas([0.1, 1.0, 0.01])
    array([1.  , 0.1 , 0.01])
    """
    try:
        a = np.asarray(alphas, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"alphas must be an array of numbers; got {alphas!r}.") from err
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-D array; got shape {a.shape}.")
    if not np.all(np.isfinite(a)) or np.any(a < 0) or (positive and np.any(a <= 0)):
        need = "positive" if positive else "nonnegative"
        raise ValueError(f"alphas must be finite and {need}; got {alphas!r}.")
    return np.sort(a)[::-1].copy()


def alpha_grid(X, y, *, n_alphas=30, eps=1e-3, sample_weight=None, classifier=False,
               directions="auto", refine="auto", certificate_budget=2000, random_state=None,
               loss="squared_error", epsilon=1.35):
    """The default alphas of a path: geometric from ``alpha_max`` down to ``eps * alpha_max``.

    Regression with two or more features and refinement: ``alpha_max`` is the larger of the
    dictionary's (:func:`~radonsolve.alpha_max`) and the certificate of the affine fit's
    residual over all directions (exact for two features, searched for more), so the grid
    starts where (P) itself has no neuron. Otherwise it is the dictionary's (for one feature
    the two agree). Classification: :func:`~radonsolve.alpha_max_classification`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    n_alphas : int, default=30
    eps : float, default=1e-3
        Ratio of the smallest to the largest alpha.
    sample_weight : array-like of shape (n_samples,), default=None
    classifier : bool, default=False
    directions, refine, certificate_budget, random_state
        As in :class:`~radonsolve.RadonReLURegressor` (they decide the dictionary and the
        search of the certificate).
    loss, epsilon
        The regressor's data fit. For "huber" and "poisson" the grid starts at the
        dictionary's alpha_max for that loss (:func:`~radonsolve.alpha_max`); with
        refinement a fit there may still find a neuron on a direction outside the
        dictionary (the certificate's alpha_max is computed for the squared loss only).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Decreasing. When ``alpha_max`` is 0 (y exactly affine in X, or separable classes)
        every entry is the float resolution, as in scikit-learn's Lasso grid.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.path import alpha_grid
    >>> from radonsolve import alpha_max
    >>> x = np.linspace(-1, 1, 20)[:, None]
    >>> grid = alpha_grid(x, np.abs(x[:, 0]), n_alphas=3, eps=0.01)
    >>> bool(np.isclose(grid[0], alpha_max(x, np.abs(x[:, 0]))))
    True
    >>> np.round(grid / grid[0], 6).tolist()
    [1.0, 0.1, 0.01]
    """
    _check_eps_n_alphas(eps, n_alphas)
    X, y = check_X_y(X, y, classifier=classifier)
    if classifier:
        amax = alpha_max_classification(X, y, directions=directions,
                                        random_state=random_state,
                                        sample_weight=sample_weight)
    else:
        amax = alpha_max(X, y, directions=directions, random_state=random_state,
                         sample_weight=sample_weight, loss=loss, epsilon=epsilon)
        if X.shape[1] >= 2 and refine is not False and loss == "squared_error":
            amax = max(amax, _certificate_alpha_max(X, y, sample_weight, certificate_budget,
                                                    random_state))
    # Correlations of an affine y with the atoms are rounding errors of the affine fit, of
    # the order of eps * |y| * |x|: below that scale alpha_max is 0.
    # (Class labels, strings included, have no such scale.)
    scale = 0.0
    if not classifier and len(y):
        Yc = (y - y.mean(axis=0)).reshape(len(y), -1)
        scale = float(np.sqrt(np.mean(Yc ** 2)) * np.max(np.ptp(X, axis=0)))
    if not amax > 1e-10 * scale:
        return np.full(n_alphas, np.finfo(float).resolution)
    return amax * np.geomspace(1.0, eps, n_alphas)


def _certificate_alpha_max(X, y, sample_weight, budget, random_state):
    """sup over all directions of eta for the affine fit's residual at alpha = 1."""
    u = normalized_weights(sample_weight, X)
    keep = u > 0
    X, Y, u = X[keep], (y[:, None] if y.ndim == 1 else y)[keep], u[keep] / u[keep].sum()
    projector = AffineProjector(X, u)
    b = projector.project(projector.sqrt_u[:, None] * Y)
    q = projector.sqrt_u[:, None] * b
    with warnings.catch_warnings():
        # b is orthogonal to the affine functions only up to rounding.
        warnings.simplefilter("ignore", UserWarning)
        cert = certify(X, q[:, 0] if q.shape[1] == 1 else q, 1.0, budget=budget,
                       random_state=random_state)
    return float(cert.eta) if np.isfinite(cert.eta) else 0.0


def _uses_sweep(estimator, X):
    return (isinstance(estimator, RadonReLURegressor) and X.shape[1] == 2 and
            estimator.solver != "arrangement")


def path_fits(estimator, X, y, alphas, *, sample_weight=None, sweep_events="auto"):
    """Fit ``estimator`` at each alpha in turn, yielding it after each fit.

    The same estimator object is refitted (and yielded) at every alpha, so with
    ``warm_start=True`` each fit starts from the previous one; copy what you need from it
    before asking for the next fit.

    Parameters
    ----------
    estimator : RadonReLURegressor or RadonReLUClassifier
        Modified in place (its ``alpha`` and fitted state).
    X : array-like of shape (n_samples, n_features)
    y : array-like
    alphas : array-like of shape (n_alphas,)
        Fitted in the given order.
    sample_weight : array-like of shape (n_samples,), default=None
    sweep_events : "auto", SweepEvents or None, default="auto"
        Regression with two features: the critical angles of the rows of X with positive
        weight, shared by all the fits ("auto": built here once; None: each fit builds its
        own).

    Yields
    ------
    estimator
        Fitted at the next alpha.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve import RadonReLURegressor
    >>> from radonsolve.path import path_fits
    >>> x = np.linspace(-1, 1, 31)[:, None]
    >>> est = RadonReLURegressor(warm_start=True)
    >>> [m.n_neurons_ for m in path_fits(est, x, np.maximum(x[:, 0], 0), [1.0, 1e-3])]
    [0, 1]
    """
    regression = isinstance(estimator, RadonReLURegressor)
    fit_kw = {}
    if regression and isinstance(sweep_events, str) and sweep_events == "auto":
        Xa = np.asarray(X, dtype=float) if not hasattr(X, "iloc") else X.to_numpy(float)
        sweep_events = None
        if Xa.ndim == 2 and _uses_sweep(estimator, Xa):
            u = normalized_weights(sample_weight, Xa)
            sweep_events = SweepEvents(Xa[u > 0])
    if regression and sweep_events is not None and not isinstance(sweep_events, str):
        fit_kw["sweep_events"] = sweep_events
    for a in alphas:
        estimator.set_params(alpha=float(a))
        estimator.fit(X, y, sample_weight=sample_weight, **fit_kw)
        yield estimator


def _record(est, regression):
    """What a path keeps of one fit (the network is copied: the estimator is refitted)."""
    return (copy.deepcopy(est.network_), float(est.objective_), float(est.dual_gap_),
            int(est.n_neurons_),
            float(est.certificate_) if regression else np.nan,
            bool(est.certified_) if regression else False,
            float(est.global_gap_) if regression else np.nan,
            float(est.fit_time_),
            int(est.n_rounds_) if regression else 0)


def _cold_fit(estimator, X, y, sample_weight, alpha):
    estimator.set_params(alpha=float(alpha))
    estimator.fit(X, y, sample_weight=sample_weight)
    return _record(estimator, isinstance(estimator, RadonReLURegressor))


def radon_path(X, y, *, alphas=None, n_alphas=30, eps=1e-3, sample_weight=None,
               classifier=False, warm_start=True, n_jobs=None, verbose=0, **params):
    """Fits of (P) (or of the classifier's problem) along a decreasing grid of alphas.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets (several outputs share neurons), or class labels with ``classifier=True``.
    alphas : array-like of shape (n_alphas,), default=None
        The grid (sorted into decreasing order); None: :func:`alpha_grid` with ``n_alphas``
        and ``eps``.
    n_alphas : int, default=30
    eps : float, default=1e-3
        Ratio of the smallest to the largest alpha of the default grid.
    sample_weight : array-like of shape (n_samples,), default=None
    classifier : bool, default=False
        Fit :class:`~radonsolve.RadonReLUClassifier` (logistic / multinomial loss) instead of
        :class:`~radonsolve.RadonReLURegressor`.
    warm_start : bool, default=True
        Regression: start each fit from the previous alpha's network (sequential). With
        False, or for classification (whose estimator has no warm start), every fit is
        independent and the fits run in parallel with ``n_jobs``.
    n_jobs : int or None, default=None
        joblib workers for independent fits (see ``warm_start``); None means 1 unless in a
        ``joblib.parallel_backend`` context (e.g. Dask).
    verbose : int, default=0
        Progress bar over the path's points (with tqdm installed); the fits themselves get
        ``verbose - 1``.
    **params
        Other parameters of the estimator (``directions``, ``max_rounds``, ``tol``,
        ``random_state``, ...), the same for every fit.

    Returns
    -------
    path : RadonPath

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve import radon_path
    >>> x = np.linspace(-1, 1, 41)[:, None]
    >>> path = radon_path(x, np.abs(x[:, 0]), n_alphas=4, eps=1e-3)
    >>> path.n_neurons.tolist()
    [0, 1, 1, 1]
    >>> bool(np.all(np.diff(path.objectives) < 0))
    True
    """
    for name in ("alpha", "warm_start", "verbose"):
        if name in params:
            raise TypeError(f"radon_path() sets {name!r} itself; got {name}={params[name]!r}.")
    _check_eps_n_alphas(eps, n_alphas)
    est = (RadonReLUClassifier if classifier else RadonReLURegressor)(**params)
    est.set_params(verbose=max(int(verbose) - 1, 0))
    regression = not classifier
    if not isinstance(warm_start, (bool, np.bool_)):
        raise ValueError(f"warm_start must be True or False; got {warm_start!r}.")
    Xv, yv = check_X_y(X, y, classifier=classifier)
    rs = params.get("random_state")
    if rs is not None and not isinstance(rs, numbers.Integral):
        # One seed for every fit: with a RandomState instance each fit would draw its own
        # directions, and the path would not be one family of fits.
        est.set_params(random_state=int(check_random_state(rs).randint(np.iinfo(np.int32).max)))
    amax = None
    if alphas is None:
        alphas = alpha_grid(Xv, yv, n_alphas=n_alphas, eps=eps, sample_weight=sample_weight,
                            classifier=classifier, directions=est.directions,
                            refine=getattr(est, "refine", "auto"),
                            certificate_budget=getattr(est, "certificate_budget", 2000),
                            random_state=est.random_state,
                            **({} if classifier else dict(loss=est.loss,
                                                          epsilon=est.epsilon)))
        amax = float(alphas[0])
    else:
        alphas = check_alphas(alphas, positive=classifier)
    records = []
    with progress_bar(len(alphas), desc="path", enabled=bool(verbose)) as bar:
        if regression and warm_start:
            est.set_params(warm_start=True)
            for fitted in path_fits(est, X, y, alphas, sample_weight=sample_weight):
                records.append(_record(fitted, True))
                bar.update(1)
        else:
            jobs = (delayed(_cold_fit)(clone(est), X, y, sample_weight, a) for a in alphas)
            for rec in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):
                records.append(rec)
                bar.update(1)
    cols = list(zip(*records))
    return RadonPath(alphas, *cols, alpha_max=amax, classifier=classifier)

