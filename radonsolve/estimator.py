"""scikit-learn estimators that return the sparse ReLU network solving problem (P).

The estimator composes the separate pieces of the library (DESIGN §9): the directions, the
dictionary operator built on them, the projected lasso (data fit + penalty), a solver, and
the fitted :class:`~radonsolve.network.ReLUNetwork`.
"""

import numbers
import time

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._validation import DIRECTIONS, check_X_y, normalized_weights
from .affine import AffineProjector
from .base import SHARED_PARAMETER_CONSTRAINTS, RadonReLUBase
from .dictionary import ReLUDictionary
from .directions import canonical_directions, make_directions
from .lasso import alpha_max_from_dictionary
from .network import ReLUNetwork
from .refine import DatafitFamily, SquaredLossFamily, exchange
from .solvers import (ArrangementSolver, CvxpySolver, SampleProblem, UnivariateSolver,
                      WorkingSetCD)
from .support import reduce_support

__all__ = ["RadonReLURegressor", "alpha_max"]

SOLVERS = ("auto", "cd", "cvxpy", "univariate", "arrangement")
LOSSES = ("squared_error", "huber", "poisson")


def _stall_rule(progress_tol):
    """ExchangeOptions.stall for the estimator's ``progress_tol``."""
    if isinstance(progress_tol, str):
        return "auto"
    if progress_tol is None or progress_tol <= 0:
        return None
    return (2, 2.0 * float(progress_tol))


def _as_2d_targets(y):
    return y[:, None] if y.ndim == 1 else y


def _drop_zero_weights(X, Y, u):
    """Samples of weight zero do not enter (P); removing them keeps dictionaries minimal."""
    keep = u > 0
    if keep.all():
        return X, Y, u
    return X[keep], Y[keep], u[keep] / u[keep].sum()


@validate_params({"X": ["array-like"], "y": ["array-like"], "directions": DIRECTIONS,
                  "random_state": ["random_state"], "sample_weight": ["array-like", None],
                  "loss": [StrOptions(set(LOSSES))],
                  "epsilon": [Interval(numbers.Real, 0, None, closed="neither")]},
                 prefer_skip_nested_validation=True)
def alpha_max(X, y, *, directions="auto", random_state=None, sample_weight=None,
              loss="squared_error", epsilon=1.35):
    """Smallest alpha for which (P) on the dictionary has no neuron.

    For ``alpha >= alpha_max`` the solution is the (weighted) affine least-squares fit of y:
    ``alpha_max = max_atoms |phi^T u r|`` with r the affine fit's residual (DESIGN §4; the
    norm of the correlation vector for several outputs). For one feature the dictionary is
    exact, so this is the alpha_max of (P) itself; for several features it is that of the
    sampled directions.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    directions : "auto", int or array-like of shape (n_directions, n_features)
        Same meaning as in :class:`RadonReLURegressor`.
    random_state : int, RandomState instance or None
    sample_weight : array-like of shape (n_samples,), default=None
    loss : {"squared_error", "huber", "poisson"}, default="squared_error"
        The data fit, as in :class:`RadonReLURegressor`. For "huber" and "poisson" the
        affine fit is that loss's (Newton) and the residual is replaced by its dual point,
        minus the gradient of the loss in the outputs (DESIGN §10); one output.
    epsilon : float, default=1.35
        Huber's band (``loss="huber"`` only).

    Returns
    -------
    alpha_max : float

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve import alpha_max
    >>> x = np.linspace(-1, 1, 20)[:, None]
    >>> round(alpha_max(x, np.abs(x[:, 0])), 6)
    0.045706
    """
    X, y = check_X_y(X, y)
    u = normalized_weights(sample_weight, X)
    Y = _as_2d_targets(y)
    X, Y, u = _drop_zero_weights(X, Y, u)
    W = make_directions(directions, X.shape[1], random_state)
    dic = ReLUDictionary(X, W)
    if loss != "squared_error":
        from .datafits import Huber, Poisson
        from .solvers.newton import DatafitProblem, alpha_max_datafit

        if Y.shape[1] != 1:
            raise ValueError(f"loss={loss!r} supports a single output; y has shape {y.shape}.")
        fit = Huber(Y[:, 0], u, epsilon) if loss == "huber" else Poisson(Y[:, 0], u)
        return alpha_max_datafit(DatafitProblem(dic, fit, 1.0))
    return alpha_max_from_dictionary(dic, Y, u)


class RadonReLURegressor(RegressorMixin, RadonReLUBase):
    """Shallow ReLU network fitted by convex optimization: the global optimum of weight decay.

    Solves, over shallow ReLU networks with an unpenalized affine skip connection,

        minimize_f  (1 / (2 * sum(s))) * sum_n s_n (y_n - f(x_n))^2 + alpha * RTV2(f)

    (problem (P) of DESIGN.md; ``s`` are the sample weights, 1 by default), which has the same
    minimizers as training the network with weight decay ``alpha`` on its input and output
    weights. The problem is a lasso over ReLU atoms ``max(w.x - b, 0)`` with biases at the data
    (exact) and directions w from ``directions``; for one feature the dictionary is exact and
    the fit is the global optimum of (P).

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength, with scikit-learn's Lasso convention (see :func:`alpha_max`).
    loss : {"squared_error", "huber", "poisson"}, default="squared_error"
        Data fit (DESIGN §10). "huber": ``(1 / sum(s)) sum_n s_n H_eps(y_n - f(x_n))`` with
        ``H_eps(r) = r^2 / 2`` for ``|r| <= epsilon`` and ``epsilon |r| - epsilon^2 / 2``
        beyond (robust regression). "poisson": the mean half Poisson deviance of
        ``exp(f)``, as scikit-learn's PoissonRegressor defines it (y nonnegative with a
        positive sum); ``network_`` is f and :meth:`predict` returns ``exp(f)``. Both need
        ``alpha > 0`` and one output, and are solved by working-set proximal Newton
        (:mod:`radonsolve.solvers.newton`) with the same certificate and exchange rounds.
    epsilon : float, default=1.35
        Width of the Huber loss's quadratic band, absolute, in the units of y (used only
        with ``loss="huber"``).
    directions : "auto", int or array-like of shape (n_directions, n_features), default="auto"
        Directions of the neurons searched: "auto" (64 well-spread directions), a number of
        well-spread directions drawn with ``random_state``, or explicit direction vectors
        (normalized internally). Ignored for one feature, where the single exact direction is
        used.
    solver : {"auto", "cd", "cvxpy"}, default="auto"
        "cd": working-set coordinate descent on the structured dictionary, stopping on the
        duality gap. "cvxpy": the explicit problem solved by Clarabel through cvxpy (the
        reference; dense, small problems only). "arrangement": the exact convex program
        over activation patterns (DESIGN §8; all patterns enumerated for small 2-D data,
        sampled otherwise: see ``arrangement_exact_``), single output, small problems.
        "univariate": the exact banded active-set solver for one feature and one output
        (millions of points in about a second). "auto": "univariate" where it applies,
        else "cd".
    refine : {"auto", True, False}, default="auto"
        Exchange rounds (DESIGN §6) that add the directions violating the dual certificate
        until the duality gap of (P) itself is below the tolerance. "auto": on for two or
        more features (for one feature the dictionary is already exact).
    max_rounds : int, default=30
        Maximum number of exchange rounds (a budget: see ``stop_reason_`` for when stopping
        there warns with ConvergenceWarning).
    max_time : float or None, default=None
        Seconds the whole fit may take (every loss): checked between exchange rounds, so
        the round running when it passes finishes (and at least one round always runs); a
        budget like ``max_rounds``. None: no limit.
    progress_tol : "auto", float or None, default="auto"
        The progress rule of three or more features, where the certificate is searched:
        stop when the objective fell by less than ``progress_tol`` of itself per round, on
        average over the last two rounds. "auto": 1e-3, and no rule for three features,
        where branch-and-bound can prove the gap; 0 or None: no progress rule (only the
        gap and the budgets stop the rounds).
    certificate_budget : int, default=2000
        Candidate directions evaluated by the searched certificate (three or more features).
    sparsest : bool, default=False
        One feature only: among all optimal splines return one with the fewest knots
        (Debarre et al. 2022); its knots are in general not data points. Same objective.
    tol : float, default=1e-6
        Stop when the duality gap (of the lasso on the dictionary and, with refinement, of
        (P) itself) is below ``tol`` times the objective of the affine fit.
    max_iter : int, default=100
        Maximum number of working-set iterations of the "cd" solver.
    n_jobs : int or None, default=None
        Parallel workers (joblib threads) for the certificate over all directions: the
        exact 2-D sweep's angle intervals, or the d >= 3 search's ascents. None means 1
        (joblib's convention); -1 all cores. The result does not depend on it.
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of directions.
    warm_start : bool, default=False
        Reuse the previous fit's neurons as the starting point (and keep their directions).
    verbose : int, default=0

    Attributes
    ----------
    network_ : ReLUNetwork
        The fitted network (canonical form).
    objective_ : float
        Value of (P) at the fitted network.
    dual_gap_ : float
        Duality gap of the lasso on the dictionary at the solution (absolute, in the units of
        ``objective_``).
    n_iter_ : int
        Iterations of the solver (last round).
    certificate_ : float
        The dual certificate ``sup_w eta(w)`` over all directions (DESIGN §5), of the kind
        ``certificate_kind_`` says. The fit is optimal for (P) iff the supremum is <= 1.
    certificate_kind_ : {"exact", "bound", "searched"}
        "exact": the supremum itself (one and two features). "bound": a proven upper bound
        from branch-and-bound over cells of directions (three features, and more where
        its time allows; :func:`radonsolve.certificate.bound_certificate`). "searched": the
        largest eta a search found, a lower estimate of the supremum.
    certified_ : bool
        True only when the certificate is "exact" or "bound" and it, or the duality gap of
        (P) computed from it (``global_gap_``), is within the tolerance.
    global_gap_ : float
        Duality gap of (P) itself computed from ``certificate_``: a proven bound for the
        kinds "exact" and "bound"; for "searched", a lower estimate (a bound only if the
        search found the supremum).
    stop_reason_ : str
        Why the exchange rounds stopped: "gap" (the gap of (P) from the certificate is
        within the tolerance), "progress" (three or more features: the rule of
        ``progress_tol``), "no_new_directions" (the
        certificate's violators are already in the dictionary), "max_rounds", "max_time"
        (budgets), "single_direction" (one feature), or "not_refined" (the univariate and
        arrangement solvers, which run no rounds). ConvergenceWarning is raised only when
        the objective was still falling at the stop: a budget stop at which neither the
        gap nor the progress rule held, or "no_new_directions" with an exact certificate.
        Every loss runs the same rounds (:func:`radonsolve.refine.exchange`) and the same
        contract.
    n_rounds_ : int
        Exchange rounds run.
    refinement_history_ : list of RefinementRound
        Per round: directions, atoms, objective, certificate, gap of (P), time.
    n_neurons_ : int
        Number of neurons of ``network_``.
    directions_ : ndarray of shape (n_directions, n_features)
        The directions of the dictionary.
    alpha_max_ : float
        :func:`alpha_max` of the training data on ``directions_``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X has feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve import RadonReLURegressor
    >>> x = np.linspace(-1, 1, 41)[:, None]
    >>> y = np.abs(x[:, 0])
    >>> model = RadonReLURegressor(alpha=1e-4).fit(x, y)
    >>> model.n_neurons_
    1
    >>> round(float(model.predict([[0.5]])[0]), 3)
    0.5
    """

    # scikit-learn checks these in fit (messages name the parameter); a new parameter adds
    # its entry here (the shared ones are in radonsolve.base).
    _parameter_constraints = {
        **SHARED_PARAMETER_CONSTRAINTS,
        "loss": [StrOptions(set(LOSSES))],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "solver": [StrOptions(set(SOLVERS))],
        "progress_tol": [StrOptions({"auto"}), Interval(numbers.Real, 0, None, closed="left"),
                         None],
        "sparsest": ["boolean"],
        "n_jobs": [None, numbers.Integral],
    }
    _solvers = SOLVERS

    def __init__(self, alpha=1.0, *, loss="squared_error", epsilon=1.35, directions="auto",
                 solver="auto", refine="auto",
                 max_rounds=30, max_time=None, progress_tol="auto",
                 certificate_budget=2000, sparsest=False,
                 tol=1e-6, max_iter=100, n_jobs=None, random_state=None, warm_start=False,
                 verbose=0):
        self.alpha = alpha
        self.loss = loss
        self.epsilon = epsilon
        self.directions = directions
        self.solver = solver
        self.refine = refine
        self.max_rounds = max_rounds
        self.max_time = max_time
        self.progress_tol = progress_tol
        self.certificate_budget = certificate_budget
        self.sparsest = sparsest
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting
    def _validate_params_radon(self):
        alpha, solver, tol, max_iter = self._validate_shared_params()
        # scikit-learn's intervals accept bools as numbers; this one does not.
        if isinstance(self.progress_tol, bool):
            raise ValueError(f"progress_tol must be 'auto', a nonnegative number or None; "
                             f"got {self.progress_tol!r}.")
        return alpha, solver, tol, max_iter

    def _regressor_options(self, do_refine, tol, t0, **extra):
        """ExchangeOptions with the regressor's own settings (``n_jobs``, ``progress_tol``)."""
        return self._exchange_options(do_refine, tol, t0, n_jobs=self.n_jobs,
                                      stall=_stall_rule(self.progress_tol), **extra)

    def _make_solver(self, solver, tol, max_iter):
        if solver == "cvxpy":
            return CvxpySolver(verbose=self.verbose)
        return WorkingSetCD(tol=tol, max_iter=max_iter, verbose=max(self.verbose - 1, 0))

    def fit(self, X, y, sample_weight=None, *, sweep_events=None):
        """Fit the network to data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Several outputs share neurons through a group penalty.
        sample_weight : array-like of shape (n_samples,), default=None
        sweep_events : SweepEvents or None, default=None
            Two features only: the exact certificate's critical angles of the rows of X with
            positive weight (``radonsolve.certificate.SweepEvents``), so that several fits on
            the same X (:func:`radonsolve.radon_path`) build them once. Ignored otherwise.

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        alpha, solver, tol, max_iter = self._validate_params_radon()
        # predict follows the loss of the last fit, not a loss set after it.
        prev_loss = getattr(self, "_fitted_loss", "squared_error")
        self._fitted_loss = self.loss
        if self.loss != "squared_error":
            return self._fit_smooth_loss(X, y, sample_weight, alpha, solver, tol, max_iter,
                                         prev_loss, t0, sweep_events)
        X, y = check_X_y(X, y, estimator=self)
        u_all = normalized_weights(sample_weight, X)
        self._y_ndim = y.ndim
        Y_all = _as_2d_targets(y)
        X_fit, Y, u = _drop_zero_weights(X, Y_all, u_all)
        d = X.shape[1]

        W = make_directions(self.directions, d, self.random_state)
        warm = None
        prev = self._previous_network(d, _n_outputs=Y.shape[1])
        if prev is not None and prev.n_neurons and d > 1:
            # Keep the previous neurons' directions (refined ones included) so they can be
            # warm-started; they are appended, keeping the spread directions' atom indices.
            W = canonical_directions(np.vstack([W, prev.weights, self.directions_]))
        if self.sparsest and d != 1:
            raise ValueError("sparsest=True applies to univariate fits (one feature) only; "
                             f"X has {d} features.")
        if solver == "univariate" and (d != 1 or Y.shape[1] != 1):
            raise ValueError("solver='univariate' needs one feature and one output.")
        if solver == "arrangement":
            return self._fit_arrangement(X, y, X_fit, Y, u, u_all, alpha, tol, t0)
        if solver == "univariate" or (solver == "auto" and d == 1 and Y.shape[1] == 1):
            return self._fit_univariate(X, y, X_fit, Y, u, u_all, alpha, tol, max_iter, t0)
        if prev is not None:
            # Only the dictionary solvers take a warm start (built here, not for the exact
            # univariate and arrangement solvers, which would only pay for the dictionary).
            warm = _warm_start_atoms(ReLUDictionary(X_fit, W), prev)
        do_refine = self._refines(d)
        inner = self._make_solver(solver, 0.1 * tol if do_refine else tol, max_iter)
        out = exchange(SquaredLossFamily(X_fit, Y, u, alpha, events=sweep_events), W, inner,
                       self._regressor_options(do_refine, tol, t0), warm_start=warm,
                       random_state=self.random_state)
        problem, result = out.problem, out.result
        dic = problem.dictionary
        self.alpha_max_ = alpha_max_from_dictionary(dic, Y, u, projector=problem.projector)
        idx, coef = result.idx, result.coef
        if len(idx) > 1:
            keep, coef = reduce_support(problem.projected_columns(idx), coef, b=problem.b,
                                        alpha=alpha)
            idx = idx[keep]
        self._n_outputs = Y.shape[1]
        self.network_ = _network_from_solution(problem, idx, coef,
                                               single_output=(y.ndim == 1))
        self._set_exchange_attributes(out, tol, problem.affine_objective)
        if self.sparsest:
            self.network_ = _sparsest_network(self.network_, X_fit)
        return self._finish_fit(X, y, alpha, u_all, t0)

    def _finish_fit(self, X, y, alpha, u_all, t0, *, label="", objective_value=None):
        """The attributes every fit path sets last, from ``network_``, and the verbose line.

        ``objective_value``: (P) at ``network_`` on (X, y, u_all) when the fit path already
        evaluated it more cheaply (the univariate path, piece by piece in O(N)).
        """
        # (P) is evaluated on all the data the user passed, zero-weight rows included (they
        # contribute nothing), so it is the same number whichever path produced the network.
        obj = objective(self.network_, X, y, alpha, u_all) \
            if objective_value is None else objective_value
        return self._set_summary(obj, t0, label)

    def _fit_univariate(self, X, y, X_fit, Y, u, u_all, alpha, tol, max_iter, t0):
        """One feature, one output: the exact banded active-set solver (DESIGN §2).

        O(N) memory throughout: the solver returns the exact certificate, gap and alpha_max of
        its spline from its own sorted data and sums (no re-sort), and the objective on the
        user's data is evaluated piece by piece (no N x n_knots array).
        """
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        from .univariate import certify_spline

        solved = UnivariateSolver(tol=tol, max_iter=max(max_iter, 100),
                                  sparsest=self.sparsest).solve(SampleProblem(X_fit, Y, u, alpha))
        fit = solved.details
        # The returned network is built here from the spline (as the adapter builds its own):
        # it is this network's canonical form that the check below certifies. The knots are
        # distinct data points (ties merged by the solver's relative rule), so only exact
        # duplicates may merge: a merge tolerance relative to |knot| would merge distinct
        # knots of data far from the origin and change the optimal function.
        net = ReLUNetwork(np.ones((len(fit.knots), 1)), fit.knots, fit.outer,
                          [fit.skip_slope], fit.intercept, merge_tol=0.0)
        n_iter = int(solved.n_iter)
        if not _is_same_spline(net, fit):
            # Canonicalization changed the function (it merged knots closer than its merge
            # tolerance): certify the network actually returned, not the solver's spline.
            dual = fit.objective - fit.dual_gap         # the solver's dual point stays valid
            n_merged = fit.n_knots - net.n_neurons
            fit = certify_spline(X_fit[:, 0], Y[:, 0], u, alpha, net.biases * net.weights[:, 0],
                                 net.outer, float(net.skip_coef[0]), net.skip_intercept,
                                 tol=tol)
            fit.dual_gap = min(fit.dual_gap, max(fit.objective - dual, 0.0))
            if not fit.dual_gap <= tol * fit.affine_objective:
                warnings.warn(
                    f"The fitted network is not the solver's spline: ReLUNetwork's "
                    f"canonicalization merged {n_merged} knot(s) closer "
                    f"than its merge tolerance, and its relative duality gap is "
                    f"{fit.relative_gap:.3e} > tol = {tol:.1e}.", ConvergenceWarning,
                    stacklevel=3)
        self._n_outputs = 1
        self.network_ = net if y.ndim == 1 else ReLUNetwork(
            net.weights, net.biases, net.outer[:, None], net.skip_coef[:, None],
            [net.skip_intercept])
        self.directions_ = np.ones((1, 1))
        self.n_iter_ = n_iter
        self.dual_gap_ = float(fit.dual_gap)
        self.certificate_ = float(fit.certificate)
        self.global_gap_ = float(fit.global_gap)
        self.certificate_kind_ = "exact"
        self.stop_reason_ = "not_refined"
        # With alpha = 0 no finite certificate exists (as in refine.certify).
        self.certified_ = bool(alpha > 0 and (self.certificate_ <= 1.0 + tol or
                                              self.global_gap_ <= tol * fit.affine_objective))
        self._set_history(())
        self.alpha_max_ = float(fit.alpha_max)
        # (P) on all the user's rows (zero weights included), the spline walked piece by piece.
        res = _as_2d_targets(y)[:, 0] - fit.predict(X[:, 0])
        obj = 0.5 * float(np.dot(u_all * res, res)) + alpha * net.rtv2
        return self._finish_fit(X, y, alpha, u_all, t0, label="univariate ",
                                objective_value=obj)

    def _set_certificate(self, X_fit, y_fit, u, alpha, net, tol):
        """certificate_, global_gap_ and certified_ computed from the residual of ``net``."""
        from .certificate import duality_gap_for_P
        from .refine import certify

        projector = AffineProjector(X_fit, u)
        rho = projector.project(projector.sqrt_u * (y_fit - net.predict(X_fit)))
        b = projector.project(projector.sqrt_u * y_fit)
        cert = certify(X_fit, projector.sqrt_u * rho, alpha, budget=self.certificate_budget,
                       random_state=self.random_state)
        primal = 0.5 * float(rho @ rho) + alpha * net.rtv2
        self.certificate_ = float(cert.eta)
        self.certificate_kind_ = "exact" if cert.exact else "searched"
        self.stop_reason_ = "not_refined"
        self.global_gap_ = duality_gap_for_P(b, rho, primal, cert.eta) \
            if np.isfinite(cert.eta) else np.inf
        self.certified_ = bool(cert.exact and (self.certificate_ <= 1.0 + tol or
                                               self.global_gap_ <= tol * 0.5 * float(b @ b)))
        self._set_history(())

    def _fit_smooth_loss(self, X, y, sample_weight, alpha, solver, tol, max_iter,
                         prev_loss, t0, sweep_events=None):
        """loss="huber" or "poisson": working-set proximal Newton and exchange rounds.

        The data fit (:mod:`radonsolve.datafits`) supplies the dual point that replaces the
        residual in the certificate (DESIGN §10); tolerances are relative to the loss of the
        best affine fit.
        """
        from .datafits import Huber, Poisson
        from .solvers import CvxpyDatafitSolver, WorkingSetProxNewton
        from .solvers.newton import alpha_max_datafit

        loss = self.loss
        if solver in ("univariate", "arrangement"):
            raise ValueError(f"solver={solver!r} supports loss='squared_error' only; "
                             f"got loss={loss!r}.")
        if not alpha > 0:
            raise ValueError(f"alpha must be positive for loss={loss!r}; got {self.alpha!r}.")
        X, y = check_X_y(X, y, estimator=self)
        if y.ndim == 2 and y.shape[1] != 1:
            raise ValueError(f"loss={loss!r} supports a single output; y has shape {y.shape}.")
        if y.ndim == 2:
            # One output only, as scikit-learn's single-output regressors: a column y is
            # accepted with a DataConversionWarning.
            from sklearn.utils.validation import column_or_1d
            y = column_or_1d(y, warn=True)
        Y_all = _as_2d_targets(y)
        if loss == "poisson" and np.any(Y_all < 0):
            raise ValueError("y must be nonnegative for loss='poisson'; some values of y are "
                             "negative.")
        u_all = normalized_weights(sample_weight, X)
        self._y_ndim = y.ndim
        X_fit, Y, u = _drop_zero_weights(X, Y_all, u_all)
        datafit = Huber(Y[:, 0], u, self.epsilon) if loss == "huber" else Poisson(Y[:, 0], u)
        d = X.shape[1]
        W = make_directions(self.directions, d, self.random_state)
        prev = self._previous_network(d, _n_outputs=1) if prev_loss == loss else None
        warm = None
        if prev is not None and prev.n_neurons:
            if d > 1:
                W = canonical_directions(np.vstack([W, prev.weights, self.directions_]))
            warm = _warm_start_atoms(ReLUDictionary(X_fit, W), prev)
            if warm is not None:
                warm = (warm[0], np.asarray(warm[1]).reshape(len(warm[0]), -1)[:, :1])
        do_refine = self._refines(d)
        if solver == "cvxpy":
            inner = CvxpyDatafitSolver(verbose=self.verbose)
        else:
            inner = WorkingSetProxNewton(tol=0.1 * tol if do_refine else tol,
                                         max_iter=max_iter, verbose=max(self.verbose - 1, 0))
        # Candidates within 1e-9 of a dictionary direction are kept (measured: a peak of
        # the exact 2-D certificate 4e-5 rad from a dictionary direction held eta at
        # 1 + 7e-6 for Huber, N = 200, when such near-duplicates were dropped).
        out = exchange(DatafitFamily(X_fit, datafit, alpha, events=sweep_events), W, inner,
                       self._regressor_options(do_refine, tol, t0, same_direction=1e-13),
                       warm_start=warm, random_state=self.random_state)
        problem, result = out.problem, out.result
        dic = problem.dictionary
        idx, coef = result.idx, result.coef
        if len(idx) > 1:
            # Moving along a null direction of the projected columns changes the outputs by
            # an affine function only, which the skip connection absorbs: any loss's value
            # is unchanged, so the squared loss's support reduction applies (DESIGN §7).
            from threadpoolctl import threadpool_limits

            projector = AffineProjector(X_fit, u)
            G = projector.project(projector.sqrt_u[:, None] * dic.columns(idx))
            # Small dense factorizations: threaded BLAS only adds wake-ups (measured 1 s
            # per 200 x 100 SVD on a loaded 2-core machine, against milliseconds).
            with threadpool_limits(limits=1, user_api="blas"):
                keep, coef = reduce_support(G, coef)
            idx = idx[keep]
        # Skip connection: the affine part of what the neurons leave of the fitted outputs.
        rest = result.outputs - (dic.columns(idx) @ coef[:, 0] if len(idx) else 0.0)
        beta = np.linalg.lstsq(np.column_stack([np.ones(len(rest)), X_fit]), rest,
                               rcond=None)[0]
        Wn, bn = dic.atoms(idx)
        self._n_outputs = 1
        self.network_ = ReLUNetwork(Wn, bn, coef[:, 0], beta[1:], float(beta[0]))
        self.alpha_max_ = alpha_max_datafit(problem)
        self._set_exchange_attributes(out, tol, problem.scale)
        if self.sparsest:
            if d != 1:
                raise ValueError("sparsest=True applies to univariate fits (one feature) "
                                 f"only; X has {d} features.")
            self.network_ = _sparsest_network(self.network_, X_fit)
        # (P) with this loss at the returned network (rows of weight zero add nothing).
        f_fit = self.network_.predict(X_fit)
        obj = datafit.value(f_fit[:, 0] if f_fit.ndim == 2 else f_fit) + \
            alpha * self.network_.rtv2
        return self._finish_fit(X, y, alpha, u_all, t0, label=f"{loss} ", objective_value=obj)

    def _fit_arrangement(self, X, y, X_fit, Y, u, u_all, alpha, tol, t0):
        """solver="arrangement": the exact convex program over activation patterns (§8)."""
        if Y.shape[1] > 1:
            raise ValueError("solver='arrangement' supports a single output only.")
        res = ArrangementSolver(random_state=self.random_state, verbose=self.verbose).solve(
            SampleProblem(X_fit, Y, u, alpha))
        net, info = res.network, res.details
        self._n_outputs = 1
        self.network_ = net
        self.arrangement_exact_ = bool(info["exact"])
        self.n_patterns_ = int(info["n_patterns"])
        self.directions_ = net.weights.copy()
        self.n_iter_ = 1  # one convex program, solved by the cone solver
        # The program's own optimum against (P) at the recovered network.
        self.dual_gap_ = max(float(objective(net, X, y, alpha, u_all) - info["objective"]), 0.0)
        self._set_certificate(X_fit, Y[:, 0], u, alpha, net, tol)
        self.alpha_max_ = np.nan
        return self._finish_fit(X, y, alpha, u_all, t0, label="arrangement ")

    # ------------------------------------------------------------------ prediction
    def predict(self, X):
        """Network output at the rows of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, with the number of features seen in ``fit``.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            ``network_.predict(X)``; with ``loss="poisson"`` its exponential (the predicted
            mean, the network being the log-mean).
        """
        F = self._network_output(X)
        if getattr(self, "_fitted_loss", "squared_error") == "poisson":
            return np.exp(F)
        return F

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        if self.loss != "squared_error":
            tags.target_tags.multi_output = False
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags


def objective(network, X, y, alpha, u):
    """Value of (P) for ``network`` on data (X, y) with normalized weights u (sum to one).

    Parameters
    ----------
    network : ReLUNetwork
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    alpha : float
        Regularization strength.
    u : ndarray of shape (n_samples,)
        Normalized sample weights.

    Returns
    -------
    float
        ``0.5 sum_n u_n ||y_n - f(x_n)||^2 + alpha * network.rtv2``.

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve import ReLUNetwork
    >>> from radonsolve.estimator import objective
    >>> net = ReLUNetwork([[1.0]], [0.0], [2.0], [0.0], 0.0)
    >>> X, y = np.array([[-1.0], [1.0]]), np.array([0.0, 1.0])
    >>> round(objective(net, X, y, alpha=0.1, u=np.full(2, 0.5)), 12)
    0.45
    """
    pred = network.predict(X)
    res = np.asarray(y, dtype=float) - pred
    if res.ndim == 2:
        fit = 0.5 * float(np.sum(u[:, None] * res ** 2))
    else:
        fit = 0.5 * float(np.sum(u * res ** 2))
    return fit + alpha * network.rtv2


def _network_from_solution(problem, idx, coef, single_output):
    """Assemble the network from the atoms and the optimal skip connection."""
    idx = np.asarray(idx, dtype=int)
    coef = np.asarray(coef, dtype=float).reshape(len(idx), problem.Y.shape[1])
    W, b = problem.dictionary.atoms(idx)
    c, c0 = problem.skip_connection(idx, coef)
    if single_output:
        return ReLUNetwork(W, b, coef[:, 0], np.asarray(c)[:, 0], float(np.asarray(c0)[0]))
    return ReLUNetwork(W, b, coef, c, c0)


def _warm_start_atoms(dic, network):
    """Indices and coefficients, in ``dic``, of the neurons of a previous network.

    A neuron is kept only when its (direction, bias) is an atom of the new dictionary (same
    direction, bias at a data projection); the solver's gap check takes care of the rest.
    """
    if network.n_neurons == 0:
        return None
    idx, coefs = [], []
    outer = network.outer if network.outer.ndim == 2 else network.outer[:, None]
    for k in range(network.n_neurons):
        w, b = network.weights[k], network.biases[k]
        match = np.flatnonzero(np.abs(dic.directions @ w - 1.0) < 1e-12)
        if len(match) == 0:
            continue
        j = match[0]
        a0, a1 = np.searchsorted(dic.atom_direction, [j, j + 1])
        biases = dic.atom_bias[a0:a1]
        pos = np.searchsorted(biases, b)
        for p in (pos - 1, pos):
            if 0 <= p < len(biases) and \
                    abs(biases[p] - b) <= 1e-9 * max(abs(b), np.abs(biases).max()):
                idx.append(a0 + p)
                coefs.append(outer[k])
                break
    if not idx:
        return None
    idx = np.asarray(idx)
    idx, first = np.unique(idx, return_index=True)
    return idx, np.asarray(coefs)[first]


def _is_same_spline(net, fit):
    """Whether the 1-D network computes exactly the UnivariateFit's spline (same parameters)."""
    return (net.n_neurons == fit.n_knots and np.array_equal(net.weights[:, 0], np.ones(
        net.n_neurons)) and np.array_equal(net.biases, fit.knots)
        and np.array_equal(net.outer, fit.outer)
        and float(net.skip_coef[0]) == fit.skip_slope
        and float(net.skip_intercept) == fit.intercept)


def _sparsest_network(net, X):
    """The fewest-knot network with the same fit and RTV2 (one feature, DESIGN §7)."""
    from .univariate import sparsest_spline

    if net.outer.ndim == 2:
        raise ValueError("sparsest=True supports a single output only.")
    # Canonical 1-D neurons have weight +1, so the knot is the bias.
    t, v, c, c0 = sparsest_spline(net.biases * net.weights[:, 0], net.outer,
                                  float(net.skip_coef[0]), float(net.skip_intercept), X[:, 0])
    return ReLUNetwork(np.ones((len(t), 1)), t, v, [c], c0)
