"""scikit-learn estimators that return the sparse ReLU network solving problem (P).

The estimator composes the separate pieces of the library (DESIGN §9): the directions, the
dictionary operator built on them, the projected lasso (data fit + penalty), a solver, and
the fitted :class:`~radonsolve.network.ReLUNetwork`.
"""

import numbers
import time

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import check_alpha, check_positive_int, normalized_weights
from .dictionary import AffineProjector, ReLUDictionary
from .directions import canonical_directions, make_directions
from .lasso import alpha_max_from_dictionary
from .network import ReLUNetwork
from .refine import exchange
from .solvers import CvxpySolver, WorkingSetCD
from .support import reduce_support

__all__ = ["RadonReLURegressor", "alpha_max"]

SOLVERS = ("auto", "cd", "cvxpy", "univariate", "arrangement")


def _check_solver(solver):
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}; got {solver!r}.")
    return solver


def _as_2d_targets(y):
    return y[:, None] if y.ndim == 1 else y


def _drop_zero_weights(X, Y, u):
    """Samples of weight zero do not enter (P); removing them keeps dictionaries minimal."""
    keep = u > 0
    if keep.all():
        return X, Y, u
    return X[keep], Y[keep], u[keep] / u[keep].sum()


def alpha_max(X, y, *, directions="auto", random_state=None, sample_weight=None):
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

    Returns
    -------
    alpha_max : float

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve import alpha_max
    >>> x = np.linspace(-1, 1, 20)[:, None]
    >>> round(alpha_max(x, np.abs(x[:, 0])), 6)
    0.095
    """
    from sklearn.utils.validation import check_X_y

    X, y = check_X_y(X, y, dtype=np.float64, multi_output=True, y_numeric=True)
    u = normalized_weights(sample_weight, X)
    Y = _as_2d_targets(y)
    X, Y, u = _drop_zero_weights(X, Y, u)
    W = make_directions(directions, X.shape[1], random_state)
    dic = ReLUDictionary(X, W)
    return alpha_max_from_dictionary(dic, Y, u)


class RadonReLURegressor(RegressorMixin, BaseEstimator):
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
        Maximum number of exchange rounds; stopping there warns with ConvergenceWarning.
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
        Largest dual-certificate value eta found over all directions (DESIGN §5): exact for
        one and two features, searched for more. The fit is optimal for (P) iff it is <= 1.
    certified_ : bool
        True only when the certificate was computed exactly and the duality gap of (P)
        (``global_gap_``) is within the tolerance.
    global_gap_ : float
        Duality gap of (P) itself from the certificate; a proven bound only when the
        certificate is exact (``certified_`` explains which).
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

    def __init__(self, alpha=1.0, *, directions="auto", solver="auto", refine="auto",
                 max_rounds=30, certificate_budget=2000, sparsest=False, tol=1e-6,
                 max_iter=100, random_state=None, warm_start=False, verbose=0):
        self.alpha = alpha
        self.directions = directions
        self.solver = solver
        self.refine = refine
        self.max_rounds = max_rounds
        self.certificate_budget = certificate_budget
        self.sparsest = sparsest
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting
    def _validate_params_radon(self):
        alpha = check_alpha(self.alpha)
        solver = _check_solver(self.solver)
        tol = check_alpha(self.tol, "tol")
        max_iter = check_positive_int(self.max_iter, "max_iter")
        if self.refine not in ("auto", True, False):
            raise ValueError(f"refine must be 'auto', True or False; got {self.refine!r}.")
        if isinstance(self.max_rounds, bool) or \
                not isinstance(self.max_rounds, numbers.Integral) or self.max_rounds < 0:
            raise ValueError(f"max_rounds must be a nonnegative integer; got {self.max_rounds!r}.")
        check_positive_int(self.certificate_budget, "certificate_budget")
        return alpha, solver, tol, max_iter, self.refine

    def _make_solver(self, solver, tol, max_iter):
        if solver == "cvxpy":
            return CvxpySolver(verbose=self.verbose)
        return WorkingSetCD(tol=tol, max_iter=max_iter, verbose=max(self.verbose - 1, 0))

    def fit(self, X, y, sample_weight=None):
        """Fit the network to data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Several outputs share neurons through a group penalty.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        alpha, solver, tol, max_iter, refine = self._validate_params_radon()
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        u_all = normalized_weights(sample_weight, X)
        self._y_ndim = y.ndim
        Y_all = _as_2d_targets(y)
        X_fit, Y, u = _drop_zero_weights(X, Y_all, u_all)
        d = X.shape[1]

        W = make_directions(self.directions, d, self.random_state)
        warm = None
        prev = getattr(self, "network_", None) if self.warm_start else None
        if prev is not None and (prev.n_features != d or
                                 getattr(self, "_n_outputs", None) != Y.shape[1]):
            prev = None
        if prev is not None and prev.n_neurons and d > 1:
            # Keep the previous neurons' directions (refined ones included) so they can be
            # warm-started; they are appended, keeping the spread directions' atom indices.
            W = canonical_directions(np.vstack([W, prev.weights, self.directions_]))
        if prev is not None:
            warm = _warm_start_atoms(ReLUDictionary(X_fit, W), prev)
        if self.sparsest and d != 1:
            raise ValueError("sparsest=True applies to univariate fits (one feature) only; "
                             f"X has {d} features.")
        if solver == "univariate" and (d != 1 or Y.shape[1] != 1):
            raise ValueError("solver='univariate' needs one feature and one output.")
        if solver == "arrangement":
            return self._fit_arrangement(X, y, X_fit, Y, u, u_all, alpha, tol, t0)
        if solver == "univariate" or (solver == "auto" and d == 1 and Y.shape[1] == 1):
            return self._fit_univariate(X, y, X_fit, Y, u, u_all, alpha, tol, max_iter, t0)
        do_refine = d > 1 and (refine is True or refine == "auto")
        inner = self._make_solver(solver, 0.1 * tol if do_refine else tol, max_iter)
        problem, result, cert, gap_P, history, converged = exchange(
            X_fit, Y, u, alpha, W, inner, max_rounds=self.max_rounds if do_refine else 0,
            tol=tol, budget=self.certificate_budget, warm_start=warm,
            random_state=self.random_state, verbose=self.verbose, warn=do_refine)
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
        self.directions_ = dic.directions
        self.dual_gap_ = float(result.dual_gap)
        self.n_iter_ = int(result.n_iter)
        self.certificate_ = float(history[-1].eta)
        self.global_gap_ = float(gap_P)
        self.certified_ = bool(cert.exact and (self.certificate_ <= 1.0 + tol or
                                               gap_P <= tol * problem.affine_objective))
        if self.sparsest:
            self.network_ = _sparsest_network(self.network_, X_fit)
        return self._finish_fit(X, y, alpha, u_all, t0, history=history)

    def _finish_fit(self, X, y, alpha, u_all, t0, *, history=(), label=""):
        """The attributes every fit path sets last, from ``network_``, and the verbose line."""
        self.n_neurons_ = self.network_.n_neurons
        self.refinement_history_ = list(history)
        self.n_rounds_ = max(len(history) - 1, 0)
        # (P) is evaluated on all the data the user passed, zero-weight rows included (they
        # contribute nothing), so it is the same number whichever path produced the network.
        self.objective_ = objective(self.network_, X, y, alpha, u_all)
        self.fit_time_ = time.perf_counter() - t0
        if self.verbose:
            print(f"[radonsolve] {label}alpha={alpha:.4g}: {self.n_neurons_} neurons, "
                  f"objective {self.objective_:.10g}, gap {self.dual_gap_:.3e}, "
                  f"{self.fit_time_:.3f} s")
        return self

    def _fit_univariate(self, X, y, X_fit, Y, u, u_all, alpha, tol, max_iter, t0):
        """One feature, one output: the exact banded active-set solver (DESIGN §2)."""
        from .univariate import solve_univariate

        fit = solve_univariate(X_fit[:, 0], Y[:, 0], u, alpha, tol=tol,
                               max_iter=max(max_iter, 100), sparsest=self.sparsest)
        net = ReLUNetwork(np.ones((len(fit.knots), 1)), fit.knots, fit.outer,
                          [fit.skip_slope], fit.intercept)
        self._n_outputs = 1
        self.network_ = net if y.ndim == 1 else ReLUNetwork(
            net.weights, net.biases, net.outer[:, None], net.skip_coef[:, None],
            [net.skip_intercept])
        self.directions_ = np.ones((1, 1))
        self.n_iter_ = int(fit.n_iter)
        self.dual_gap_ = float(fit.dual_gap)
        self._set_certificate(X_fit, Y[:, 0], u, alpha, net, tol)
        self.alpha_max_ = _univariate_alpha_max(X_fit, Y[:, 0], u)
        return self._finish_fit(X, y, alpha, u_all, t0, label="univariate ")

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
        self.global_gap_ = duality_gap_for_P(b, rho, primal, cert.eta) \
            if np.isfinite(cert.eta) else np.inf
        self.certified_ = bool(cert.exact and (self.certificate_ <= 1.0 + tol or
                                               self.global_gap_ <= tol * 0.5 * float(b @ b)))

    def _fit_arrangement(self, X, y, X_fit, Y, u, u_all, alpha, tol, t0):
        """solver="arrangement": the exact convex program over activation patterns (§8)."""
        from .arrangement import fit_arrangement

        if Y.shape[1] > 1:
            raise ValueError("solver='arrangement' supports a single output only.")
        net, info = fit_arrangement(X_fit, Y, u, alpha, random_state=self.random_state,
                                    verbose=self.verbose)
        self._n_outputs = 1
        self.network_ = net
        self.arrangement_exact_ = bool(info["exact"])
        self.n_patterns_ = int(info["n_patterns"])
        self.directions_ = net.weights.copy()
        self.n_iter_ = 0
        # The program's own optimum against (P) at the recovered network.
        self.dual_gap_ = max(float(objective(net, X, y, alpha, u_all) - info["objective"]), 0.0)
        self._set_certificate(X_fit, Y[:, 0], u, alpha, net, tol)
        self.alpha_max_ = np.nan
        return self._finish_fit(X, y, alpha, u_all, t0, label="arrangement ")

    # ------------------------------------------------------------------ prediction
    def predict(self, X):
        """Network output at the rows of X.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self, "network_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.network_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


def objective(network, X, y, alpha, u):
    """Value of (P) for ``network`` on data (X, y) with normalized weights u (sum to one)."""
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
            if 0 <= p < len(biases) and abs(biases[p] - b) <= 1e-9 * max(1.0, abs(b)):
                idx.append(a0 + p)
                coefs.append(outer[k])
                break
    if not idx:
        return None
    idx = np.asarray(idx)
    idx, first = np.unique(idx, return_index=True)
    return idx, np.asarray(coefs)[first]


def _univariate_alpha_max(X, y, u):
    from .univariate import univariate_alpha_max

    return float(univariate_alpha_max(X[:, 0], y, u))


def _sparsest_network(net, X):
    """The fewest-knot network with the same fit and RTV2 (one feature, DESIGN §7)."""
    from .univariate import sparsest_spline

    if net.outer.ndim == 2:
        raise ValueError("sparsest=True supports a single output only.")
    # Canonical 1-D neurons have weight +1, so the knot is the bias.
    t, v, c, c0 = sparsest_spline(net.biases * net.weights[:, 0], net.outer,
                                  float(net.skip_coef[0]), float(net.skip_intercept), X[:, 0])
    return ReLUNetwork(np.ones((len(t), 1)), t, v, [c], c0)
