"""Classification with sparse shallow ReLU networks: logistic / multinomial loss plus RTV2.

The classifier fits the logits ``f(x) = sum_k v_k max(w_k.x - b_k, 0) + c.x + c0`` (``v_k``
a scalar for two classes, a vector of one logit per class otherwise) by solving

    minimize  (1 / sum(s)) sum_n s_n loss(y_n, f(x_n)) + alpha sum_k ||v_k||_2
              + (beta / 2) ||c||^2                                                      (C)

with the logistic loss (two classes) or the softmax cross-entropy (more classes), over all
unit directions w_k and biases b_k, and ``beta = skip_penalty`` (``alpha`` by default).

Why the ridge on the skip connection (DESIGN §10)
-------------------------------------------------
With a free affine part, (C) has no minimizer when the classes are linearly separable: the
affine part alone drives the loss to zero, no neuron ever enters, and the logits diverge
(measured on standardized breast-cancer data: the skip's norm grew to about 1.5e3 and 99 %
of the test probabilities were saturated). Weight decay on every weight of the network but
the biases (input and output weights of the neurons *and* the skip's linear weights) is the
training problem whose convex form is (C) with ``beta = alpha``: the loss term is bounded
below by zero and the penalty is coercive in everything but the intercept, so (C) always
has a minimizer (the intercept stays bounded unless one class is absent, which is refused).

What changes with ``beta > 0``: the atoms (w, b) and (-w, -b) no longer differ by a free
affine function, so the dictionary holds both orientations of every direction, plus the
neuron that is linear on the data (bias below every projection), and the dual point theta is
orthogonal to the constant only; at the optimum ``c = X^T theta / beta``. The certificate
evaluates both orientations: ``eta(w) = max_b max(|corr(w, b)|, |corr(-w, -b)|) / alpha``
with ``corr(-w, -b) = corr(w, b) - w . X^T theta`` (exact over the full turn for two features,
searched for more). ``skip_penalty=0`` gives the free skip connection of earlier versions
(half-sphere dictionary, certificate symmetric), which is ill-posed on separable data.

Biases at the data projections stay exact for any convex loss of the fitted values
(DESIGN §2); only the directions are sampled, and the exchange rounds (DESIGN §6) add the
directions that violate the certificate until the duality gap of (C) itself is small.

The rounds are those of every loss (:func:`radonsolve.refine.exchange` with
:class:`LogisticFamily`): the same stopping contract, pruning of inactive directions, and
``max_time``.

Measured (standardized breast cancer, d = 30, alpha = 1e-3): 64 fixed directions give
(C) = 0.04658; the exchange rounds with local descent reach 0.02534 in 13 rounds, where
the progress rule stops them (15 s on a loaded machine), and 0.02531 in 15 rounds without
that rule (seeds 1 and 2); weight-decay training of a width-256 network by L-BFGS reaches
0.02533 (best of two starts, 200 s each).
"""

import dataclasses
import time
import warnings

import numpy as np
from scipy.special import expit, log_softmax, softmax
from sklearn.base import ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions, validate_params
from threadpoolctl import threadpool_limits

from ._validation import DIRECTIONS, NONNEGATIVE_REAL, check_alpha, check_X_y, normalized_weights
from .base import SHARED_PARAMETER_CONSTRAINTS, RadonReLUBase
from .certificate import (Certificate, SweepEvents, eta, exact_certificate_2d,
                          search_certificate)
from .directions import canonical_directions, make_directions
from .network import ReLUNetwork
from .refine import LossFamily, exchange, remap_atoms
from .solvers.logistic import (CvxpyLogistic, LogisticProblem, SignedDictionary,
                               WorkingSetNewton, affine_fit, alpha_max_logistic,
                               alpha_max_tied, cross_entropy)

__all__ = ["LogisticFamily", "RadonReLUClassifier", "alpha_max_classification",
           "certificate_two_sided"]

SOLVERS = ("auto", "newton", "cvxpy")

# Two directions closer than this (|cos| above 1 - _SAME_DIR) are one direction.
_SAME_DIR = 1e-9


def _check_skip_penalty(skip_penalty):
    if isinstance(skip_penalty, str):
        if skip_penalty != "auto":
            raise ValueError(f"skip_penalty must be 'auto' or a nonnegative number; got "
                             f"{skip_penalty!r}.")
        return "auto"
    return check_alpha(skip_penalty, "skip_penalty")


class RadonReLUClassifier(ClassifierMixin, RadonReLUBase):
    """Shallow ReLU network classifier fitted by convex optimization.

    Minimizes the (sample-weighted, averaged) logistic loss for two classes, or softmax
    cross-entropy for more, of the network's logits plus ``alpha`` times their RTV2
    seminorm ``sum_k ||v_k||_2`` plus ``(skip_penalty / 2) ||c||^2`` on the skip
    connection's linear weights (problem (C) of :mod:`radonsolve.classifier`). With the
    default ``skip_penalty="auto"`` (= alpha) this is the global optimum of training the
    logits network with weight decay ``alpha`` on every weight but the biases, and it is
    well-posed on linearly separable data.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength (positive). For ``alpha >= alpha_max_`` the fit is the
        affine (ridge) logistic model and has no neuron.
    skip_penalty : "auto" or float, default="auto"
        Ridge weight beta on the skip connection's linear weights (the intercept is never
        penalized). "auto": ``beta = alpha`` (weight decay on every weight but the biases).
        0: the free skip connection, ill-posed (no minimizer) on separable data.
    directions : "auto", int or array-like of shape (n_directions, n_features), default="auto"
        Initial directions of the neurons, as in :class:`~radonsolve.RadonReLURegressor`;
        each is used in both orientations when ``skip_penalty > 0``.
    solver : {"auto", "newton", "cvxpy"}, default="auto"
        "newton": working-set proximal Newton on the structured dictionary, stopping on the
        duality gap (:mod:`radonsolve.solvers.logistic`). "cvxpy": the explicit problem
        solved by Clarabel (reference; dense, small problems only). "auto": "newton".
    refine : {"auto", True, False}, default="auto"
        Exchange rounds (DESIGN §6) adding the directions that violate the dual certificate
        until the duality gap of (C) over all directions is below the tolerance. "auto": on
        for two or more features (for one feature the dictionary is exact). For three or
        more features the rounds also add the directions of a short local descent (L-BFGS)
        of the active neurons in weight-decay form, which the searched certificate misses.
    max_rounds : int, default=30
        Maximum number of exchange rounds (a budget: see ``stop_reason_`` for when stopping
        there warns with ConvergenceWarning).
    max_time : float or None, default=None
        Seconds the whole fit may take: checked between exchange rounds, so the round
        running when it passes finishes (and at least one round always runs); a budget
        like ``max_rounds``. None: no limit.
    certificate_budget : int, default=2000
        Candidate directions of the searched certificate (three or more features).
    tol : float, default=1e-6
        Stop when the duality gap (of the problem on the dictionary and, with refinement, of
        (C) itself) is below ``tol`` times the loss of the best constant model (the entropy
        of the class proportions).
    max_iter : int, default=100
        Maximum number of working-set iterations of the "newton" solver per solve.
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of directions and the certificate's search.
    warm_start : bool, default=False
        Start from the previous fit's directions, neurons and skip connection.
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    network_ : ReLUNetwork
        Network of the logits (canonical form): ``outer`` of shape (n_neurons,) for two
        classes (logit of ``classes_[1]``), (n_neurons, n_classes) otherwise. Neurons that
        are linear on the training data (bias below every projection) are part of its skip
        connection.
    objective_ : float
        Value of (C) at the solution: data fit, ``alpha`` times the output-weight norms of
        the fitted atoms (both orientations and the linear neurons), and the ridge on the
        skip's own linear weights.
    dual_gap_ : float
        Duality gap of (C) on the final dictionary (same units as ``objective_``).
    certificate_ : float
        Largest dual-certificate value eta found over all directions (both orientations):
        exact for one and two features, searched for more. Optimal for (C) iff <= 1.
    certificate_kind_ : {"exact", "searched"}
        "exact": the supremum itself (one and two features); "searched": the largest eta a
        search found, a lower estimate of the supremum.
    certified_ : bool
        True only when the certificate was computed exactly and the duality gap of (C)
        (``global_gap_``) is within the tolerance (or eta <= 1 + tol).
    stop_reason_ : str
        Why the exchange rounds stopped, as for
        :class:`~radonsolve.RadonReLURegressor`: "gap", "progress" (three or more
        features: the objective fell by less than 1e-3 of itself over the last 5 rounds),
        "no_new_directions", "max_rounds", "max_time", or "single_direction" (one
        feature). ConvergenceWarning is raised only when the objective was still falling
        at the stop (:func:`radonsolve.refine.exchange`, Notes).
    global_gap_ : float
        Duality gap of (C) over all directions from the certificate; a proven bound only
        when the certificate is exact.
    n_rounds_ : int
        Exchange rounds run.
    refinement_history_ : list of RefinementRound
        Per round: directions, atoms, objective, certificate, gap of (C), time.
    n_iter_ : int
        Working-set iterations of the last solve ("newton": restricted solves, each
        followed by a pricing pass over all atoms, at most ``max_iter``; "cvxpy": iterations
        of the conic solver). At least 1.
    n_neurons_ : int
    alpha_max_ : float
        Smallest alpha for which (C) on the initial dictionary has no atom (the fit is the
        affine ridge-logistic model). With ``skip_penalty="auto"`` the ridge moves with
        alpha, and alpha_max_ is found by bisection (finite and positive on separable data).
    skip_penalty_ : float
        The beta used.
    directions_ : ndarray of shape (n_directions, n_features)
        Directions of the final dictionary (canonical half-sphere; both orientations used).
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
    >>> clf.certified_
    True
    """

    # scikit-learn checks these in fit (messages name the parameter); a new parameter adds
    # its entry here (the shared ones are in radonsolve.base). alpha = 0 passes here and
    # gets its own message (_check_alpha_value).
    _parameter_constraints = {
        **SHARED_PARAMETER_CONSTRAINTS,
        "skip_penalty": [StrOptions({"auto"}), NONNEGATIVE_REAL],
        "solver": [StrOptions(set(SOLVERS))],
    }
    _solvers = SOLVERS

    def __init__(self, alpha=1.0, *, skip_penalty="auto", directions="auto", solver="auto",
                 refine="auto", max_rounds=30, max_time=None, certificate_budget=2000,
                 tol=1e-6, max_iter=100, random_state=None, warm_start=False, verbose=0):
        self.alpha = alpha
        self.skip_penalty = skip_penalty
        self.directions = directions
        self.solver = solver
        self.refine = refine
        self.max_rounds = max_rounds
        self.max_time = max_time
        self.certificate_budget = certificate_budget
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    def _check_alpha_value(self, alpha):
        if alpha <= 0:
            raise ValueError(
                "alpha must be positive for classification (with alpha = 0 the logistic loss "
                f"has no minimizer on separable data); got {self.alpha!r}.")

    def _validate_params_radon(self):
        alpha, solver, tol, max_iter = self._validate_shared_params()
        sp = _check_skip_penalty(self.skip_penalty)
        beta = alpha if sp == "auto" else float(sp)
        return alpha, beta, solver, tol, max_iter

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
        alpha, beta, solver, tol, max_iter = self._validate_params_radon()
        X, y = check_X_y(X, y, estimator=self, classifier=True)
        classes, y_enc, u_all, X_fit, y_fit, u = _prepare(X, y, sample_weight)
        K = len(classes)
        d = X.shape[1]
        W = make_directions(self.directions, d, self.random_state)
        prev = self._previous_network(d, classes_=classes)
        if prev is not None:
            W = _union_directions(self.directions_, W)
        two_sided = beta > 0
        do_refine = self._refines(d)
        if solver == "cvxpy":
            inner = CvxpyLogistic(verbose=self.verbose)
        else:
            inner = WorkingSetNewton(tol=0.1 * tol if do_refine else tol, max_iter=max_iter,
                                     verbose=max(self.verbose - 1, 0))
        rng = check_random_state(self.random_state)

        dic = SignedDictionary(X_fit, W, two_sided=two_sided, linear=two_sided)
        problem = LogisticProblem(dic, y_fit, u, alpha, K, skip_penalty=beta)
        if two_sided and self.skip_penalty == "auto":
            self.alpha_max_ = alpha_max_tied(dic, y_fit, u, K)
        else:
            _, F_aff = affine_fit(problem, primal_tol=0.1 * tol)
            self.alpha_max_ = alpha_max_logistic(problem, F_aff)
            if not two_sided and problem.loss(F_aff) <= 0.1 * tol * problem.null_objective:
                warnings.warn(
                    "The classes are linearly separable and skip_penalty=0 leaves the skip "
                    "connection free: the problem has no minimizer (its infimum, 0, is "
                    "approached by an ever steeper affine function, alpha_max is ~0 and the "
                    "probabilities saturate). Use skip_penalty='auto' or a positive value.",
                    UserWarning)
        warm, affine = None, None
        if prev is not None:
            warm, affine = _warm_from_network(dic, prev, problem)
        if affine is None:
            affine, _ = affine_fit(problem, primal_tol=0.1 * tol)
        family = LogisticFamily(X_fit, y_fit, u, alpha, K, skip_penalty=beta)
        options = self._exchange_options(
            do_refine, tol, t0,
            # The classifier's search settings (measured on breast cancer, d = 30): fewer,
            # longer ascents, and fewer violators per round than the regressor's.
            top_k=30 if d <= 2 else 50, n_ascent=20, ascent_iter=50, polish_iter=100,
            ascend_active=True, stall=(5, 1e-3))
        out = exchange(family, W, inner, options,
                       warm_start=(None if warm is None else warm[0],
                                   None if warm is None else warm[1], affine),
                       random_state=rng)
        problem = out.problem
        dic = problem.dictionary
        result = _reduce_support(out.result, dic, problem)
        self.classes_ = classes
        self.skip_penalty_ = beta
        self.network_ = _network(dic, result, problem.binary)
        # The family never proves a bound, so "exact" is the certificate's own exactness.
        self._set_exchange_attributes(out, tol, problem.null_objective)
        obj = _objective(self.network_, result, X, y_enc, alpha, beta, u_all, problem)
        return self._set_summary(obj, t0, "classifier ", certificate=True)

    # ------------------------------------------------------------------ prediction
    def decision_function(self, X):
        """Logits: shape (n_samples,) for two classes (of ``classes_[1]``), else
        (n_samples, n_classes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, with the number of features seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            The network's outputs; with two classes the log-odds of ``classes_[1]``.
        """
        return self._network_output(X)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, with the number of features seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to one.
        """
        F = self.decision_function(X)
        if F.ndim == 1:
            p = expit(F)
            return np.column_stack([expit(-F), p])
        return softmax(F, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, with the number of features seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        F = self.decision_function(X)
        if F.ndim == 1:
            F = np.column_stack([np.zeros_like(F), F])
        return log_softmax(F, axis=1)

    def predict(self, X):
        """Most probable class of each row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, with the number of features seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_`` (with two classes, ``classes_[1]`` where the logit is
            positive).
        """
        F = self.decision_function(X)
        if F.ndim == 1:
            return self.classes_[(F > 0).astype(int)]
        return self.classes_[np.argmax(F, axis=1)]


# ---------------------------------------------------------------------------- helpers
def _prepare(X, y, sample_weight):
    """Classes, encoded labels, all weights, and the rows of positive weight."""
    classes, y_enc = np.unique(y, return_inverse=True)
    y_enc = np.asarray(y_enc).ravel()
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
    return (classes, y_enc, u_all, np.ascontiguousarray(X[keep]), y_enc[keep],
            u_all[keep] / u_all[keep].sum())


def _union_directions(W_prev, W):
    return np.vstack([W_prev, _new_directions(W_prev, W)])


def _new_directions(W, cand):
    """Canonical rows of ``cand`` that are not (up to sign) rows of W, nor repeated."""
    if cand is None or not len(cand):
        return np.zeros((0, W.shape[1]))
    C = canonical_directions(cand)
    out = []
    for w in C:
        if np.max(np.abs(W @ w)) > 1.0 - _SAME_DIR:
            continue
        if out and np.max(np.abs(np.array(out) @ w)) > 1.0 - _SAME_DIR:
            continue
        out.append(w)
    return np.array(out).reshape(-1, W.shape[1])


def certificate_two_sided(X, theta, alpha, *, two_sided=True, active_directions=None,
                          budget=2000, top_k=30, n_ascent=20, ascent_iter=50,
                          random_state=None, events=None, n_jobs=None):
    """Certificate over all directions for a dual point orthogonal to the constant only.

    ``eta(w) = max_b max(|corr(w, b)|, |corr(-w, -b)|) / alpha`` with
    ``corr(w, b) = sum_n theta_n max(w.x_n - b, 0)`` (norms over classes for several
    logits). The orientation -w of the data X is the orientation w of the data -X
    (``max(-w.x - b, 0)`` is the atom (w, b) on -X), so the supremum over the whole circle
    (sphere) is the larger of the half-circle certificates of :mod:`radonsolve.certificate`
    on X and on -X, which evaluate eta with whatever theta is given (orthogonality to the
    features only makes the two equal). Exact for one and two features, searched for more.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    theta : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Dual point, orthogonal to the constant.
    alpha : float
    two_sided : bool, default=True
        Evaluate both orientations (False: theta is also orthogonal to the features).
    active_directions : ndarray or None
        Extra starting directions of the search (three or more features).
    budget, top_k : int
        Candidates of the search, and violating directions returned.
    n_ascent, ascent_iter : int, default=20, 50
        Best candidates refined by local ascent, and the steps of each (three or more
        features).
    random_state : RandomState or None
    events : dict or None
        Cache of :class:`~radonsolve.certificate.SweepEvents` for X and -X (two features).
    n_jobs : int or None, default=None
        Threads of the 2-D sweep or of the search's ascents; the result does not depend
        on it.

    Returns
    -------
    Certificate
        ``eta`` the supremum found, ``exact``, and the violating directions (canonical).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> theta = np.array([0.5, -0.5, 0.0, 0.0])
    >>> cert = certificate_two_sided(X, theta, 1.0)
    >>> cert.exact, round(cert.eta, 6)
    (True, 0.5)
    """
    from .certificate import Certificate
    X = np.ascontiguousarray(X, dtype=float)
    d = X.shape[1]
    events = {} if events is None else events
    sides = (1.0, -1.0) if two_sided else (1.0,)
    certs = []
    # Small dense algebra (d x d eigenproblems of the search): threads only contend.
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        # theta is orthogonal to the constant only: the certificate package warns that
        # eta(w) and eta(-w) differ, which is why both orientations are evaluated here.
        warnings.filterwarnings("ignore", message="q is not orthogonal", category=UserWarning)
        if d == 1:
            Wd = np.array([[1.0], [-1.0]]) if two_sided else np.ones((1, 1))
            e, b, idx = eta(X, theta, alpha, Wd)
            k = int(np.argmax(e))
            return Certificate(eta=float(e[k]), direction=np.ones(1), bias=float(b[k]),
                               exact=True, directions=np.zeros((0, 1)), etas=np.zeros(0),
                               n_evaluated=len(Wd), index=int(idx[k]))
        for s in sides:
            Xs = X if s > 0 else -X
            if d == 2:
                if s not in events:
                    events[s] = SweepEvents(Xs)
                certs.append(exact_certificate_2d(Xs, theta, alpha, top_k=top_k,
                                                  events=events[s], n_jobs=n_jobs))
            else:
                extra = None
                if active_directions is not None and len(active_directions):
                    extra = s * np.asarray(active_directions, dtype=float)
                certs.append(search_certificate(
                    Xs, theta, alpha, n_candidates=budget, top_k=top_k, n_ascent=n_ascent,
                    max_ascent_iter=ascent_iter, random_state=random_state,
                    extra_directions=extra, ascend_extra=extra is not None, n_jobs=n_jobs))
    best = max(certs, key=lambda c: c.eta)
    dirs = np.vstack([c.directions for c in certs])
    etas = np.concatenate([c.etas for c in certs])
    order = np.argsort(-etas, kind="stable")
    return Certificate(eta=float(best.eta), direction=best.direction, bias=best.bias,
                       exact=all(c.exact for c in certs), directions=dirs[order],
                       etas=etas[order], n_evaluated=sum(c.n_evaluated for c in certs),
                       index=best.index)


class LogisticFamily(LossFamily):
    """The classifier's problem (C) for :func:`radonsolve.refine.exchange`.

    The dictionary holds both orientations of every direction and the linear neurons when
    the skip connection's linear weights are penalized (``skip_penalty > 0``); the dual
    point theta is then orthogonal to the constant only, so the certificate evaluates both
    orientations (:func:`certificate_two_sided`) and the linear neurons' best direction
    exactly (the top left singular vector of ``X^T theta``). The polish step is the local
    descent of the weight-decay form of (C) (module docstring).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows of positive weight.
    y : ndarray of int, shape (n_samples,)
        Encoded labels in ``0 .. n_classes - 1``.
    u : ndarray of shape (n_samples,)
        Normalized positive sample weights.
    alpha : float
        Positive.
    n_classes : int
    skip_penalty : float, default=0.0
        Ridge weight beta on the skip's linear weights.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> import numpy as np
    >>> from radonsolve.classifier import LogisticFamily
    >>> from radonsolve.refine import ExchangeOptions, exchange
    >>> from radonsolve.solvers import WorkingSetProxNewton
    >>> X, y = make_moons(60, noise=0.1, random_state=0)
    >>> family = LogisticFamily(X, y, np.full(60, 1 / 60), 1e-2, 2, skip_penalty=1e-2)
    >>> out = exchange(family, np.eye(2), WorkingSetProxNewton(tol=1e-8),
    ...                ExchangeOptions(tol=1e-6))
    >>> out.stop_reason, out.certificate_kind
    ('gap', 'exact')
    """

    def __init__(self, X, y, u, alpha, n_classes, skip_penalty=0.0):
        self.X = np.ascontiguousarray(X, dtype=float)
        self.y = y
        self.u = u
        self.alpha = float(alpha)
        self.n_classes = int(n_classes)
        self.skip_penalty = float(skip_penalty)
        self.two_sided = self.skip_penalty > 0
        self.name = "logistic" if self.n_classes == 2 else "multinomial"
        # The sweep's critical angles of X and -X (two features), built once.
        self.events = {}

    def dictionary(self, directions):
        return SignedDictionary(self.X, directions, two_sided=self.two_sided,
                                linear=self.two_sided)

    def problem(self, dictionary):
        return LogisticProblem(dictionary, self.y, self.u, self.alpha, self.n_classes,
                               skip_penalty=self.skip_penalty)

    def scale(self, problem):
        return problem.null_objective

    def atom_directions(self, dictionary, idx):
        idx = np.asarray(idx, dtype=np.int64)
        D = len(dictionary.directions)
        rel = idx < dictionary.n_relu
        out = np.empty(len(idx), dtype=np.int64)
        k = dictionary.relu.atom_direction[idx[rel]]
        out[rel] = k % D if dictionary.two_sided else k
        out[~rel] = idx[~rel] - dictionary.n_relu
        return out

    def ascent_starts(self, dictionary, idx):
        # Oriented: each side of the two-sided search ascends from the atom's orientation.
        return np.unique(dictionary.atoms(idx)[0], axis=0)

    def remap(self, old, new, old_to_new, result):
        idx = np.asarray(result.idx, dtype=np.int64)
        coef = np.asarray(result.coef)
        rel = idx < old.n_relu
        D1 = len(new.directions)
        # Oriented directions of the ReLU part: w's first, then -w's.
        o2n = np.concatenate([old_to_new, np.where(old_to_new >= 0, old_to_new + D1, -1)]) \
            if old.two_sided else old_to_new
        i_rel, c_rel = remap_atoms(old.relu, new.relu, o2n, idx[rel], coef[rel])
        k_lin = old_to_new[idx[~rel] - old.n_relu]
        if np.any(k_lin < 0):
            raise RuntimeError("an active direction was pruned")
        return (np.concatenate([i_rel, new.n_relu + k_lin]),
                np.concatenate([c_rel, coef[~rel]]), result.affine)

    def dual(self, problem, result):
        Pp = result.dual_probs
        # No affine-feasible dual point (possible only far from the optimum): no bound.
        return None if Pp is None else problem.dual_theta(Pp)

    def certify(self, dual, *, active_directions, budget, top_k, n_ascent, ascent_iter,
                random_state, n_jobs):
        X = self.X
        d = X.shape[1]
        if dual is None:
            return Certificate(eta=np.inf, direction=np.zeros(d), bias=0.0, exact=False,
                               directions=np.zeros((0, d)), etas=np.zeros(0), n_evaluated=0)
        cert = certificate_two_sided(X, dual, self.alpha, two_sided=self.two_sided,
                                     active_directions=active_directions, budget=budget,
                                     top_k=top_k, n_ascent=n_ascent, ascent_iter=ascent_iter,
                                     random_state=random_state, events=self.events,
                                     n_jobs=n_jobs)
        if self.two_sided:
            # Linear neurons are atoms too, with correlation w . X^T theta: the certificate
            # meets them at the bias below every projection, but a search may miss the best
            # w, which is known exactly (the top left singular vector of X^T theta).
            G = (X.T @ dual).reshape(d, -1)
            U, sv, _ = np.linalg.svd(G, full_matrices=False)
            if sv.size and sv[0] / self.alpha > cert.eta:
                w = U[:, 0]
                cert = dataclasses.replace(cert, eta=float(sv[0] / self.alpha), direction=w,
                                           bias=float(np.min(X @ w)))
            if sv.size and sv[0] > self.alpha:
                cert = dataclasses.replace(
                    cert, directions=np.vstack([U[:, :1].T, cert.directions]),
                    etas=np.concatenate([[sv[0] / self.alpha], cert.etas]))
        return cert

    def finite_eta(self, problem, dual):
        if dual is None:
            return np.inf
        C = problem.dictionary.rmatvec(dual)
        C = C.reshape(C.shape[0], -1)
        return float(np.sqrt(np.max(np.sum(C * C, axis=1), initial=0.0))) / self.alpha

    def gap(self, problem, result, dual, eta_sup):
        return problem.gap_for_sup(result.logits, result.coef, result.affine,
                                   result.dual_probs if dual is not None else None,
                                   self.alpha * eta_sup)

    def polish(self, problem, result, max_iter):
        Wa, ba = problem.dictionary.atoms(result.idx)
        return _polish_directions(self.X, self.y, self.u, self.alpha, self.skip_penalty, Wa,
                                  ba, result.coef, result.skip_coef, result.skip_intercept,
                                  max_iter=max_iter)


def _reduce_support(result, dic, problem):
    """Support reduction (DESIGN §7) for any loss of the fitted values: move along null
    directions of the active columns (modulo what the free part of the skip absorbs) until
    they are independent; the logits stay, the penalty does not grow."""
    from .support import reduce_support

    idx = np.asarray(result.idx, dtype=np.int64)
    if len(idx) < 2:
        return result
    cols = dic.columns(idx)
    su = np.sqrt(problem.u)
    A = problem.A_free
    # weighted projection onto the complement of the free columns
    Q, _ = np.linalg.qr(su[:, None] * A)
    G = su[:, None] * cols
    G = G - Q @ (Q.T @ G)
    keep, coef = reduce_support(G, result.coef)
    if len(keep) == len(idx):
        return result
    # The logits moved by a function of the free columns: put it back there.
    dF = cols @ result.coef - cols[:, keep] @ coef
    lam = np.linalg.lstsq(su[:, None] * A, su[:, None] * dF, rcond=None)[0]
    lam = lam.reshape(A.shape[1], problem.T)
    B = np.array(result.affine, dtype=float, copy=True).reshape(problem.r, problem.T)
    if problem.skip_penalty > 0:
        B[0] += lam[0] / np.sqrt(problem.N)        # A_free = 1 / sqrt(N), B[0] on 1
    else:
        B += lam                                    # A_free is the affine basis itself
    if not problem.binary:
        B = B - B.mean(axis=1, keepdims=True)
        coef = coef - coef.mean(axis=1, keepdims=True)
    c, c0 = problem.skip_connection(B)
    return dataclasses.replace(result, idx=idx[keep], coef=coef, affine=B, skip_coef=c,
                               skip_intercept=c0)


def _polish_directions(X, y_enc, u, alpha, beta, W, b, V, c, c0, max_iter=100):
    """Directions of the active neurons after local descent (L-BFGS) of the weight-decay
    form of (C), ``loss + (alpha / 2)(||W||^2 + ||V||^2) + (beta / 2) ||c||^2``, over the
    neurons ``(w_k, b_k, v_k)`` and the skip ``(c, c0)``, started at the current solution
    with the neurons balanced (where it equals (C); with ``beta = 0``, c is penalized
    nowhere and the form is that of the free skip). Candidates only (DESIGN §6): the convex
    solve sets the output weights and biases, and the certificate judges. Returns the
    oriented unit directions (k, d) of the neurons left on, and the value reached."""
    from scipy.optimize import minimize

    from ._blocks import row_blocks
    k, d = W.shape
    T = V.shape[1]
    N = X.shape[0]
    K = 2 if T == 1 else T
    Y1 = np.zeros((N, K))
    Y1[np.arange(N), y_enc] = 1.0
    is_y = Y1.astype(bool)
    s = np.sqrt(np.linalg.norm(V, axis=1) / np.maximum(np.linalg.norm(W, axis=1), 1e-300))
    s = np.where(s > 0, s, 1.0)
    th0 = np.concatenate([(W * s[:, None]).ravel(), b * s, (V / s[:, None]).ravel(),
                          np.ravel(c), np.ravel(c0)])
    sizes = np.cumsum([k * d, k, k * T, d * T])

    def fg(th):
        Wt, bt, Vt, ct, c0 = np.split(th, sizes)
        Wt, Vt, ct = Wt.reshape(k, d), Vt.reshape(k, T), ct.reshape(d, T)
        gW, gb, gV = np.zeros_like(Wt), np.zeros_like(bt), np.zeros_like(Vt)
        gc, gc0 = np.zeros_like(ct), np.zeros_like(c0)
        loss = 0.0
        for sl in row_blocks(N, k + K):
            Z = X[sl] @ Wt.T - bt
            H = np.maximum(Z, 0.0)
            F = H @ Vt + X[sl] @ ct + c0
            F2 = np.column_stack([np.zeros(len(F)), F]) if T == 1 else F
            loss += float(u[sl] @ cross_entropy(F2, is_y[sl]))
            G2 = u[sl, None] * (softmax(F2, axis=1) - Y1[sl])
            G = G2[:, 1:] if T == 1 else G2
            gV += H.T @ G
            gc += X[sl].T @ G
            gc0 += G.sum(axis=0)
            gH = (G @ Vt.T) * (Z > 0)
            gW += gH.T @ X[sl]
            gb -= gH.sum(axis=0)
        val = loss + 0.5 * alpha * (np.sum(Wt * Wt) + np.sum(Vt * Vt)) + \
            0.5 * beta * np.sum(ct * ct)
        grad = np.concatenate([(gW + alpha * Wt).ravel(), gb, (gV + alpha * Vt).ravel(),
                               (gc + beta * ct).ravel(), gc0])
        return val, grad

    res = minimize(fg, th0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    Wn, _, Vn = np.split(res.x, sizes)[:3]
    Wn, Vn = Wn.reshape(k, d), Vn.reshape(k, T)
    # neurons the descent switched off carry no information
    mass = np.linalg.norm(Wn, axis=1) * np.linalg.norm(Vn, axis=1)
    keep = mass > 1e-9 * max(mass.max(initial=0.0), 1e-300)
    return Wn[keep] / np.linalg.norm(Wn[keep], axis=1, keepdims=True), float(res.fun)


def _network(dic, result, binary):
    """Logits network: ReLU atoms as neurons; linear atoms folded into the skip."""
    idx = np.asarray(result.idx, dtype=np.int64)
    W, b = dic.atoms(idx)
    coef = result.coef
    lin = dic.is_linear(idx) if hasattr(dic, "is_linear") else np.zeros(len(idx), bool)
    c = np.array(result.skip_coef, dtype=float, copy=True)
    c0 = np.array(result.skip_intercept, dtype=float, copy=True)
    if lin.any():
        # On the data these neurons are v (w.x - b): part of the skip connection, where
        # they also extrapolate linearly.
        Vl = coef[lin]
        if binary:
            c = c + W[lin].T @ Vl[:, 0]
            c0 = c0 - float(b[lin] @ Vl[:, 0])
        else:
            c = c + W[lin].T @ Vl
            c0 = c0 - b[lin] @ Vl
    keep = ~lin
    outer = coef[keep, 0] if binary else coef[keep]
    c0 = float(c0) if binary else c0
    return ReLUNetwork(W[keep], b[keep], outer, c, c0)


def _objective(network, result, X, y_enc, alpha, beta, u, problem):
    """Value of (C): data fit of the network on (X, y) with weights u, alpha times the
    output-weight norms of the fitted atoms, ridge on the skip's own linear weights."""
    F = network.predict(X)
    F2 = np.column_stack([np.zeros(len(F)), F]) if F.ndim == 1 else F
    is_y = np.zeros(F2.shape, dtype=bool)
    is_y[np.arange(len(y_enc)), y_enc] = True
    loss = float(u @ cross_entropy(F2, is_y))
    if beta > 0:
        coef = np.asarray(result.coef)
        pen = float(np.linalg.norm(coef.reshape(len(coef), problem.T), axis=1).sum())
        c = np.asarray(result.skip_coef, dtype=float)
        return loss + alpha * pen + 0.5 * beta * float(np.sum(c * c))
    return loss + alpha * network.rtv2


def _warm_from_network(dic, net, problem):
    """Warm start (atoms, coefficients) and affine coefficients from a previous network.

    Neurons whose direction and bias are atoms of ``dic`` (same data) start there; the
    skip connection starts the affine part. A starting point only.
    """
    T = problem.T
    rel = dic.relu if hasattr(dic, "relu") else dic
    Wd = rel.directions
    idx, V = [], []
    outer = net.outer.reshape(net.n_neurons, -1)
    for k in range(net.n_neurons):
        w, b = net.weights[k], net.biases[k]
        j = np.flatnonzero(Wd @ w > 1.0 - _SAME_DIR)
        if not len(j):
            continue
        a = np.flatnonzero((rel.atom_direction == j[0]) &
                           np.isclose(rel.atom_bias, b, rtol=1e-12, atol=1e-12))
        if len(a):
            idx.append(int(a[0]))
            V.append(outer[k] if T > 1 or outer.shape[1] == 1 else outer[k, :1])
    warm = (np.array(idx, dtype=np.int64), np.array(V).reshape(len(idx), T)) if idx else None
    affine = None
    if problem.skip_penalty > 0:
        c = np.asarray(net.skip_coef).reshape(problem.r - 1, -1)
        c0 = np.atleast_1d(np.asarray(net.skip_intercept, dtype=float))
        if c.shape[1] == T and c0.shape[0] == T:
            affine = np.vstack([c0[None, :], c])
            if T > 1:
                affine = affine - affine.mean(axis=1, keepdims=True)
    return warm, affine


@validate_params({"X": ["array-like"], "y": ["array-like"], "directions": DIRECTIONS,
                  "random_state": ["random_state"], "sample_weight": ["array-like", None],
                  "skip_penalty": [StrOptions({"auto"}), NONNEGATIVE_REAL]},
                 prefer_skip_nested_validation=True)
def alpha_max_classification(X, y, *, directions="auto", random_state=None,
                             sample_weight=None, skip_penalty="auto"):
    """Smallest alpha for which (C) on the dictionary has no atom.

    With ``skip_penalty`` a number beta > 0: ``alpha_max = max_j ||Phi_j^T theta||`` over
    the dictionary's atoms (both orientations and the linear ones) with theta the dual point
    of the affine ridge(beta) logistic fit. With ``skip_penalty="auto"`` (beta = alpha) the
    affine fit moves with alpha; alpha_max is the alpha at which that maximum equals alpha,
    found by bisection. Both are finite and positive on separable data. With
    ``skip_penalty=0`` (free skip connection) it tends to 0 on separable data.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    directions : "auto", int or array-like, default="auto"
        Same meaning as in :class:`RadonReLUClassifier`.
    random_state : int, RandomState instance or None
    sample_weight : array-like of shape (n_samples,), default=None
    skip_penalty : "auto" or float, default="auto"

    Returns
    -------
    alpha_max : float

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.classifier import alpha_max_classification
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> y = np.array([0, 0, 1, 1])          # separable
    >>> a = alpha_max_classification(X, y)
    >>> bool(0 < a < np.inf)
    True
    """
    X, y = check_X_y(X, y, classifier=True)
    sp = _check_skip_penalty(skip_penalty)
    classes, _, _, X_fit, y_fit, u = _prepare(X, y, sample_weight)
    W = make_directions(directions, X.shape[1], random_state)
    if sp == "auto":
        return alpha_max_tied(SignedDictionary(X_fit, W), y_fit, u, len(classes))
    beta = float(sp)
    dic = SignedDictionary(X_fit, W, two_sided=beta > 0, linear=beta > 0)
    problem = LogisticProblem(dic, y_fit, u, 1.0, len(classes), skip_penalty=beta)
    _, F_aff = affine_fit(problem, primal_tol=1e-7)
    return alpha_max_logistic(problem, F_aff)


def objective(network, X, y_enc, alpha, u, skip_penalty=0.0):
    """Value of (C) for a logits network on (X, encoded y) with normalized weights u.

    The penalty is ``alpha`` times the network's RTV2 plus ``(skip_penalty / 2)
    ||skip_coef||^2``: for a network fitted with a ridge on the skip this is an upper
    bound on the fitted objective (``objective_`` counts the neurons that are linear on the
    data at their own price, which is lower).

    Parameters
    ----------
    network : ReLUNetwork
        Single output (the logit of class 1) for two classes, else one output per class.
    X : array-like of shape (n_samples, n_features)
    y_enc : ndarray of int, shape (n_samples,)
        Encoded labels in ``0 .. n_classes - 1``.
    alpha : float
        Regularization strength.
    u : ndarray of shape (n_samples,)
        Normalized sample weights.
    skip_penalty : float, default=0.0
        Weight of the ridge on the skip connection's linear coefficients.

    Returns
    -------
    float
        Weighted mean cross-entropy plus the penalties.
    """
    F = network.predict(X)
    F2 = np.column_stack([np.zeros(len(F)), F]) if F.ndim == 1 else F
    is_y = np.zeros(F2.shape, dtype=bool)
    is_y[np.arange(len(y_enc)), y_enc] = True
    c = np.asarray(network.skip_coef)
    return float(u @ cross_entropy(F2, is_y)) + alpha * network.rtv2 + \
        0.5 * float(skip_penalty) * float(np.sum(c * c))
