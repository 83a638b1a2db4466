"""The exact solvers of (P) as solvers of the common protocol (DESIGN §12).

Every solver of the package has one entry point, ``solve(problem, warm_start=None)``, and
returns a :class:`~radonsolve.solvers.SolverResult`. The two solvers here are exact and need
no dictionary: the banded active-set solver for one feature and one output
(:func:`radonsolve.univariate.solve_univariate`, DESIGN §2) and the convex program over
activation patterns (:func:`radonsolve.arrangement.fit_arrangement`, DESIGN §8). Their
natural problem is therefore the data of (P) itself, :class:`SampleProblem` ``(X, Y, u,
alpha)``; building a dictionary for them would only cost its sort and memory (the
univariate solver fits millions of points in O(N) memory). They also accept a
:class:`~radonsolve.lasso.ProjectedLasso`, whose data they read (``dictionary.X``, ``Y``,
``u``, ``alpha``): that is what lets them be compared with, or swapped for, the dictionary
solvers on the same problem.

The result is an :class:`ExactResult`: a SolverResult with the fitted network and its skip
connection, and what only an exact solver knows (the certificate, the gap of (P)). Its
``idx`` and ``coef`` are atoms of the problem's dictionary where the solver's neurons are
atoms of it (the univariate solver's knots are data points, so they always are), and
otherwise the positions of the neurons in ``network``. The adapters do not change the
solvers' numerics: they call them and repackage what they return.
"""

from dataclasses import dataclass, field

import numpy as np

from ..network import ReLUNetwork
from .result import SolverResult

__all__ = ["ArrangementSolver", "ExactResult", "SampleProblem", "UnivariateSolver"]


@dataclass
class SampleProblem:
    """Problem (P) given by its data: ``0.5 sum_n u_n ||y_n - f(x_n)||^2 + alpha RTV2(f)``.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    u : ndarray of shape (n_samples,)
        Normalized sample weights (positive, sum to one).
    alpha : float

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.solvers import SampleProblem
    >>> p = SampleProblem(np.zeros((3, 1)), np.zeros((3, 1)), np.full(3, 1 / 3), 0.1)
    >>> p.alpha
    0.1
    """

    X: np.ndarray
    Y: np.ndarray
    u: np.ndarray
    alpha: float


@dataclass
class ExactResult(SolverResult):
    """What the exact solvers return: a SolverResult with the network and its certificate.

    Attributes
    ----------
    network : ReLUNetwork
        The fitted network (one output).
    skip_coef : ndarray of shape (n_features,)
        Linear weights of its skip connection.
    skip_intercept : float
    certificate : float
        The dual certificate ``sup_w eta(w)`` of ``network`` when the solver computes it
        (the univariate solver, exactly), else nan.
    global_gap : float
        Duality gap of (P) from that certificate, else nan.
    affine_objective : float
        Objective of the best affine fit (the scale of relative tolerances), else nan.
    alpha_max : float
        Smallest alpha without a neuron when the solver computes it, else nan.
    atoms : bool
        True when ``idx`` are atoms of the problem's dictionary; False when they are the
        positions of the neurons in ``network`` (a SampleProblem, or neurons that are not
        atoms of the dictionary).
    exact : bool
        Whether ``objective`` is the optimum of (P) over all networks, up to the solver's
        tolerance (False for the pattern program on sampled patterns).
    details : object
        The wrapped solver's own output (a ``UnivariateFit``, or the arrangement's info
        dict).
    """

    network: ReLUNetwork = None
    skip_coef: np.ndarray = None
    skip_intercept: float = 0.0
    certificate: float = np.nan
    global_gap: float = np.nan
    affine_objective: float = np.nan
    alpha_max: float = np.nan
    atoms: bool = False
    exact: bool = True
    details: object = field(default=None, repr=False)


def _problem_data(problem):
    """``(X, Y, u, alpha, dictionary)`` of a SampleProblem or a ProjectedLasso."""
    dictionary = getattr(problem, "dictionary", None)
    X = dictionary.X if dictionary is not None else problem.X
    Y = np.asarray(problem.Y, dtype=float)
    Y = Y[:, None] if Y.ndim == 1 else Y
    return (np.asarray(X, dtype=float), Y, np.asarray(problem.u, dtype=float),
            float(problem.alpha), dictionary)


def _atoms_of(dictionary, network):
    """Atom indices of the network's neurons in ``dictionary``, or None if one is not there.

    A neuron is an atom when its direction is a dictionary direction (to 1e-12) and its
    bias is one of that direction's atom biases (exactly: both come from the same data).
    """
    if dictionary is None:
        return None
    idx = []
    for w, b in zip(network.weights, network.biases):
        j = np.flatnonzero(np.abs(dictionary.directions @ w - 1.0) < 1e-12)
        if not len(j):
            return None
        a0, a1 = dictionary.direction_offsets[j[0]], dictionary.direction_offsets[j[0] + 1]
        k = np.flatnonzero(dictionary.atom_bias[a0:a1] == b)
        if not len(k):
            return None
        idx.append(a0 + k[0])
    return np.asarray(idx, dtype=np.int64)


def _result(network, objective, dual_gap, n_iter, converged, dictionary, t, **extra):
    idx = _atoms_of(dictionary, network)
    atoms = idx is not None
    if not atoms:
        idx = np.arange(network.n_neurons, dtype=np.int64)
    coef = np.asarray(network.outer, dtype=float).reshape(network.n_neurons, 1)
    return ExactResult(idx=idx, coef=coef, objective=float(objective),
                       dual_gap=float(dual_gap), n_iter=int(n_iter), converged=bool(converged),
                       time=t, network=network,
                       skip_coef=np.asarray(network.skip_coef, dtype=float).reshape(-1),
                       skip_intercept=float(np.asarray(network.skip_intercept).reshape(-1)[0]),
                       atoms=atoms, **extra)


class UnivariateSolver:
    """The exact univariate solver (one feature, one output) behind the solver protocol.

    Calls :func:`radonsolve.univariate.solve_univariate` on the problem's data: l1 trend
    filtering on the data points, O(N) memory, the exact certificate of its spline.

    Parameters
    ----------
    tol : float, default=1e-6
        Stop when the duality gap is below ``tol`` times the objective of the affine fit.
    max_iter : int, default=100
        Maximum number of working-set iterations (each one O(N) pass).
    sparsest : bool, default=False
        Among the optimal splines return one with the fewest knots (knots then are in
        general not data points, and ``idx`` numbers the neurons).
    verbose : int, default=0

    Examples
    --------
    The univariate solver and the working-set solver on the one-direction dictionary
    reach the same optimum:

    >>> import numpy as np
    >>> from radonsolve.dictionary import ReLUDictionary
    >>> from radonsolve.lasso import ProjectedLasso
    >>> from radonsolve.solvers import UnivariateSolver, WorkingSetCD
    >>> X = np.linspace(-1, 1, 9)[:, None]
    >>> problem = ProjectedLasso(ReLUDictionary(X, np.ones((1, 1))), np.abs(X) ** 1.5,
    ...                          np.full(9, 1 / 9), alpha=1e-3)
    >>> exact = UnivariateSolver(tol=1e-10).solve(problem)
    >>> ws = WorkingSetCD(tol=1e-10).solve(problem)
    >>> bool(np.isclose(exact.objective, ws.objective, rtol=1e-8))
    True
    """

    def __init__(self, tol=1e-6, max_iter=100, sparsest=False, verbose=0):
        self.tol = tol
        self.max_iter = max_iter
        self.sparsest = sparsest
        self.verbose = verbose

    def solve(self, problem, warm_start=None, affine=None):
        """Solve (P) with one feature and one output exactly.

        Parameters
        ----------
        problem : SampleProblem or ProjectedLasso
            One feature, one output.
        warm_start : None
            Accepted for the protocol and ignored: the solver starts from the affine fit
            and its working set grows in O(N) passes, so a start would save little.
        affine : None
            Accepted for the protocol and ignored (the skip connection is free).

        Returns
        -------
        ExactResult
            ``network`` is the solver's spline (knots as neurons of weight +1, no merging
            of knots: they are distinct data points); ``details`` the ``UnivariateFit``.
        """
        from ..univariate import solve_univariate

        X, Y, u, alpha, dictionary = _problem_data(problem)
        if X.shape[1] != 1 or Y.shape[1] != 1:
            raise ValueError(f"UnivariateSolver needs one feature and one output; got X of "
                             f"shape {X.shape} and Y of shape {Y.shape}.")
        fit = solve_univariate(X[:, 0], Y[:, 0], u, alpha, tol=self.tol,
                               max_iter=self.max_iter, sparsest=self.sparsest,
                               verbose=self.verbose)
        # The knots are distinct data points (ties merged by the solver's relative rule), so
        # only exact duplicates may merge: a merge tolerance relative to |knot| would merge
        # distinct knots of data far from the origin and change the optimal function.
        net = ReLUNetwork(np.ones((len(fit.knots), 1)), fit.knots, fit.outer,
                          [fit.skip_slope], fit.intercept, merge_tol=0.0)
        return _result(net, fit.objective, fit.dual_gap, fit.n_iter, fit.converged,
                       dictionary, 0.0, certificate=float(fit.certificate),
                       global_gap=float(fit.global_gap),
                       affine_objective=float(fit.affine_objective),
                       alpha_max=float(fit.alpha_max), exact=True, details=fit)


class ArrangementSolver:
    """The convex program over activation patterns (DESIGN §8) behind the solver protocol.

    Calls :func:`radonsolve.arrangement.fit_arrangement` on the problem's data (all
    directions: a ProjectedLasso's own directions are not used). Single output; dense and
    cone-solved, for small problems.

    Parameters
    ----------
    patterns : "auto", "exact" or "sample", default="auto"
        See :func:`radonsolve.arrangement.arrangement_patterns`.
    n_patterns : int, default=1000
        Sampled patterns when not exact.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0

    Examples
    --------
    >>> import numpy as np
    >>> from radonsolve.solvers import ArrangementSolver, SampleProblem
    >>> X = np.linspace(-1, 1, 5)[:, None]
    >>> Y = np.maximum(X, 0)
    >>> res = ArrangementSolver().solve(SampleProblem(X, Y, np.full(5, 0.2), 1e-3))
    >>> res.exact, res.network.n_neurons
    (True, 1)
    """

    def __init__(self, patterns="auto", n_patterns=1000, random_state=None, verbose=0):
        self.patterns = patterns
        self.n_patterns = n_patterns
        self.random_state = random_state
        self.verbose = verbose

    def solve(self, problem, warm_start=None, affine=None):
        """Solve (P) by the pattern program.

        Parameters
        ----------
        problem : SampleProblem or ProjectedLasso
            One output.
        warm_start : None
            Accepted for the protocol and ignored (an interior-point solve takes no start).
        affine : None
            Accepted for the protocol and ignored (the skip connection is free).

        Returns
        -------
        ExactResult
            ``objective``: (P) at the recovered network; ``dual_gap``: how far that is
            above the program's optimal value (a duality gap of (P) when ``exact``, every
            pattern being present; against the restricted program otherwise);
            ``n_iter`` 1 (one cone program); ``details`` the info dict of
            :func:`~radonsolve.arrangement.fit_arrangement`.
        """
        from ..arrangement import fit_arrangement

        X, Y, u, alpha, dictionary = _problem_data(problem)
        if Y.shape[1] != 1:
            raise ValueError(f"ArrangementSolver supports a single output; got Y of shape "
                             f"{Y.shape}.")
        net, info = fit_arrangement(X, Y, u, alpha, patterns=self.patterns,
                                    n_patterns=self.n_patterns,
                                    random_state=self.random_state, verbose=self.verbose)
        obj = float(info["network_objective"])
        return _result(net, obj, max(obj - float(info["objective"]), 0.0), 1, True,
                       dictionary, float(info["time"]), exact=bool(info["exact"]),
                       details=info)
