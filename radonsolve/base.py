"""What the regressor and the classifier share (DESIGN §12: one estimator base).

:class:`RadonReLUBase` holds the parts of a radonsolve estimator that do not depend on the
data fit: the shared parameters and their validation, the settings of the exchange rounds
(:func:`radonsolve.refine.exchange`), the certificate attributes set from the rounds'
result, the warm-start state, the evaluation of the fitted network and the closing summary.
A concrete estimator adds its data fit (its :class:`~radonsolve.refine.LossFamily` and
solver), its own parameters, and ``predict``.
"""

import numbers
import time

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._validation import (DIRECTIONS, NONNEGATIVE_REAL, POSITIVE_INT, check_alpha,
                          check_positive_int, check_X_predict)
from .refine import ExchangeOptions

__all__ = ["RadonReLUBase", "SHARED_PARAMETER_CONSTRAINTS"]

#: scikit-learn constraints of the parameters every radonsolve estimator has; an estimator's
#: ``_parameter_constraints`` is this dict merged with its own entries.
SHARED_PARAMETER_CONSTRAINTS = {
    "alpha": [NONNEGATIVE_REAL],
    "directions": DIRECTIONS,
    "refine": [StrOptions({"auto"}), "boolean"],
    "max_rounds": [Interval(numbers.Integral, 0, None, closed="left")],
    "max_time": [Interval(numbers.Real, 0, None, closed="left"), None],
    "certificate_budget": [POSITIVE_INT],
    "tol": [NONNEGATIVE_REAL],
    "max_iter": [POSITIVE_INT],
    "random_state": ["random_state"],
    "warm_start": ["boolean"],
    "verbose": ["verbose"],
}


class RadonReLUBase(BaseEstimator):
    """Base class of the radonsolve estimators (not meant to be used directly).

    A subclass defines its own ``__init__`` (scikit-learn reads the parameters from its
    signature) with at least the parameters of :data:`SHARED_PARAMETER_CONSTRAINTS` and
    ``solver``, sets ``_solvers`` (the accepted solver names, in the order its error
    message lists them) and ``_parameter_constraints`` (the shared constraints merged with
    its own), and implements ``fit`` and ``predict`` with the helpers here.

    Parameters
    ----------
    **params
        The shared parameters (the keys of :data:`SHARED_PARAMETER_CONSTRAINTS`, and
        ``solver``), set by the subclass's ``__init__``, which documents their meaning
        (:class:`~radonsolve.RadonReLURegressor`, :class:`~radonsolve.RadonReLUClassifier`).

    Attributes
    ----------
    network_ : ReLUNetwork
        The fitted network.
    objective_ : float
        Value of the fitted problem at ``network_``.
    dual_gap_ : float
        Duality gap of the problem on the final dictionary.
    n_iter_ : int
        Iterations of the last solve (what ``max_iter`` bounds; at least 1).
    certificate_ : float
        Dual certificate ``sup_w eta(w)`` over all directions, of the kind
        ``certificate_kind_``.
    certificate_kind_ : {"exact", "bound", "searched"}
    certified_ : bool
        True when an exact or proven certificate, or the gap of the problem computed from
        it, is within the tolerance.
    global_gap_ : float
        Duality gap of the problem over all directions, from the certificate.
    stop_reason_ : str
        Why the exchange rounds stopped (:func:`radonsolve.refine.exchange`).
    n_rounds_ : int
        Exchange rounds run.
    refinement_history_ : list of RefinementRound
    n_neurons_ : int
    directions_ : ndarray of shape (n_directions, n_features)
    fit_time_ : float
        Seconds the fit took.

    Examples
    --------
    >>> from radonsolve import RadonReLUClassifier, RadonReLURegressor
    >>> from radonsolve.base import RadonReLUBase
    >>> issubclass(RadonReLURegressor, RadonReLUBase)
    True
    >>> issubclass(RadonReLUClassifier, RadonReLUBase)
    True
    """

    _parameter_constraints = dict(SHARED_PARAMETER_CONSTRAINTS)

    #: The ``solver`` values the estimator accepts.
    _solvers = ("auto",)

    # ------------------------------------------------------------------ parameters
    def _check_alpha_value(self, alpha):
        """Hook: refuse values of alpha the estimator's problem cannot take.

        Parameters
        ----------
        alpha : float
            ``alpha`` after :func:`~radonsolve._validation.check_alpha`.
        """

    def _validate_shared_params(self):
        """Validate the parameters every estimator has; ``fit`` calls it first.

        scikit-learn's constraints run first (their messages name the parameter); the
        checks after them refuse what those intervals let through (bools as numbers).

        Returns
        -------
        alpha : float
        solver : str
        tol : float
        max_iter : int
        """
        self._validate_params()
        alpha = check_alpha(self.alpha)
        self._check_alpha_value(alpha)
        if not isinstance(self.solver, str) or self.solver not in self._solvers:
            raise ValueError(f"solver must be one of {self._solvers}; got {self.solver!r}.")
        tol = check_alpha(self.tol, "tol")
        max_iter = check_positive_int(self.max_iter, "max_iter")
        check_positive_int(self.certificate_budget, "certificate_budget")
        if self.refine not in ("auto", True, False):
            raise ValueError(f"refine must be 'auto', True or False; got {self.refine!r}.")
        if isinstance(self.max_rounds, bool) or \
                not isinstance(self.max_rounds, numbers.Integral) or self.max_rounds < 0:
            raise ValueError(
                f"max_rounds must be a nonnegative integer; got {self.max_rounds!r}.")
        if self.max_time is not None and (
                isinstance(self.max_time, bool) or not isinstance(self.max_time, numbers.Real)
                or not self.max_time >= 0):
            raise ValueError(f"max_time must be a nonnegative number of seconds or None; "
                             f"got {self.max_time!r}.")
        return alpha, self.solver, tol, max_iter

    def _refines(self, n_features):
        """Whether the fit runs exchange rounds: ``refine`` True or "auto", and d >= 2.

        Parameters
        ----------
        n_features : int

        Returns
        -------
        bool
        """
        return n_features > 1 and (self.refine is True or self.refine == "auto")

    # ------------------------------------------------------------------ exchange rounds
    def _exchange_options(self, do_refine, tol, t0, **extra):
        """The exchange rounds' settings from the estimator's parameters.

        Parameters
        ----------
        do_refine : bool
            False: no round after the first solve (only its certificate).
        tol : float
        t0 : float
            ``time.perf_counter()`` at the start of ``fit``: ``max_time`` bounds the whole
            fit, so the rounds get what validation and setup left of it.
        **extra
            Other :class:`~radonsolve.refine.ExchangeOptions` fields (the estimator's own
            settings of the search and of the progress rule).

        Returns
        -------
        ExchangeOptions
        """
        return ExchangeOptions(
            max_rounds=self.max_rounds if do_refine else 0, tol=tol,
            budget=self.certificate_budget, verbose=self.verbose, warn=do_refine,
            time_limit=None if self.max_time is None else
            self.max_time - (time.perf_counter() - t0), **extra)

    def _set_exchange_attributes(self, out, tol, scale):
        """Attributes of a fit by exchange rounds, from their result.

        Sets ``directions_``, ``dual_gap_``, ``n_iter_``, ``certificate_``,
        ``certificate_kind_``, ``stop_reason_``, ``global_gap_``, ``certified_``,
        ``refinement_history_`` and ``n_rounds_``.

        Parameters
        ----------
        out : ExchangeResult
            What :func:`radonsolve.refine.exchange` returned.
        tol : float
            Relative tolerance of the fit.
        scale : float
            The unit of ``tol`` (the family's scale: the loss of the best affine fit).
        """
        history = out.history
        last = history[-1]
        self.directions_ = out.problem.dictionary.directions
        self.dual_gap_ = float(out.result.dual_gap)
        # What max_iter bounds; the first pricing pass that finds the start optimal counts.
        self.n_iter_ = max(int(out.result.n_iter), 1)
        self.certificate_kind_ = out.certificate_kind
        self.stop_reason_ = out.stop_reason
        # "bound": the proven bound, from which the gap of (P) was computed
        self.certificate_ = float(last.eta_bound if self.certificate_kind_ == "bound"
                                  else last.eta)
        self.global_gap_ = float(out.gap_P)
        self.certified_ = bool(self.certificate_kind_ in ("exact", "bound") and
                               (self.certificate_ <= 1.0 + tol or
                                self.global_gap_ <= tol * scale))
        self._set_history(history)

    def _set_history(self, history):
        """``refinement_history_`` and ``n_rounds_`` (rounds after the first solve).

        Parameters
        ----------
        history : sequence of RefinementRound
            Empty for the solvers that run no rounds.
        """
        self.refinement_history_ = list(history)
        self.n_rounds_ = max(len(history) - 1, 0)

    # ------------------------------------------------------------------ warm start
    def _previous_network(self, n_features, **fitted):
        """The previous fit's network to start from, or None.

        Parameters
        ----------
        n_features : int
            Features of the data of this fit.
        **fitted
            Attributes the previous fit must have set to these values (compared with
            ``numpy.array_equal``), e.g. its classes or its number of outputs.

        Returns
        -------
        ReLUNetwork or None
            ``network_`` when ``warm_start`` is on and the previous fit was on data of the
            same shape; its directions are ``directions_``.
        """
        if not self.warm_start:
            return None
        net = getattr(self, "network_", None)
        if net is None or net.n_features != n_features:
            return None
        for name, value in fitted.items():
            if not hasattr(self, name) or not np.array_equal(getattr(self, name), value):
                return None
        return net

    # ------------------------------------------------------------------ evaluation
    def _network_output(self, X):
        """Output of the fitted network at the rows of X (checked like every input).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self, "network_")
        X = check_X_predict(X, self.n_features_in_, estimator=self)
        return self.network_.predict(X)

    def _set_summary(self, objective, t0, label, *, certificate=False):
        """``n_neurons_``, ``objective_`` and ``fit_time_``, and the verbose line.

        Parameters
        ----------
        objective : float
            The problem's value at ``network_``.
        t0 : float
            ``time.perf_counter()`` at the start of ``fit``.
        label : str
            What the verbose line calls the fit (ends with a space, or is empty).
        certificate : bool, default=False
            Also print ``certificate_``.
        """
        self.n_neurons_ = self.network_.n_neurons
        self.objective_ = float(objective)
        self.fit_time_ = time.perf_counter() - t0
        if self.verbose:
            cert = f", certificate {self.certificate_:.6f}" if certificate else ""
            print(f"[radonsolve] {label}alpha={float(self.alpha):.4g}: {self.n_neurons_} "
                  f"neurons, objective {self.objective_:.10g}, gap {self.dual_gap_:.3e}"
                  f"{cert}, {self.fit_time_:.3f} s")
        return self
