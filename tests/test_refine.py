"""The exchange method (radonsolve.refine): optimality in 2-D, monotonicity, honest gaps."""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from radonsolve.certificate import duality_gap_for_P, eta, search_certificate
from radonsolve.certificate.search import ascend
from radonsolve.datasets import make_relu_ridges_2d
from radonsolve.dictionary import AffineProjector, ReLUDictionary
from radonsolve.directions import spread_directions
from radonsolve.lasso import ProjectedLasso, alpha_max_from_dictionary
from radonsolve.refine import ExchangeOptions, SquaredLossFamily, exchange, remap_atoms
from radonsolve.solvers import CvxpySolver, WorkingSetCD


def _setup(X, y, frac, n_dirs=16, seed=0):
    u = np.full(len(X), 1.0 / len(X))
    W = spread_directions(n_dirs, X.shape[1], seed)
    amax = alpha_max_from_dictionary(ReLUDictionary(X, W), y[:, None], u)
    return u, W, frac * amax


def _nonincreasing(history, slack):
    obj = np.array([h.objective for h in history])
    return np.all(np.diff(obj) <= slack)


# --------------------------------------------------------------------------- 2-D: exact
@pytest.mark.parametrize("frac", [0.2, 0.02])
def test_2d_refined_beats_fine_fixed_dictionary_and_is_certified(frac):
    X, y = make_relu_ridges_2d(40, random_state=1)
    u, W, alpha = _setup(X, y, frac)
    tol = 1e-8
    out = exchange(SquaredLossFamily(X, y[:, None], u, alpha), W, WorkingSetCD(tol=1e-2 * tol),
                   ExchangeOptions(tol=tol, max_rounds=30), random_state=0)
    problem, result, cert, gap_P, history, converged = (
        out.problem, out.result, out.certificate, out.gap_P, out.history, out.converged)
    assert out.stop_reason == "gap" and out.certificate_kind == "exact"
    assert converged and cert.exact
    assert history[-1].eta <= 1.0 + 1e-6
    assert gap_P <= tol * problem.affine_objective
    assert _nonincreasing(history, 1e-10 * problem.affine_objective)
    # A fixed dictionary of 3000 spread directions solved tightly is an upper bound on (P).
    fine = ProjectedLasso(ReLUDictionary(X, spread_directions(3000, 2, 0)), y[:, None], u,
                          alpha)
    ref = WorkingSetCD(tol=1e-10).solve(fine)
    assert result.objective <= ref.objective + 1e-9 * problem.affine_objective
    # ... and the fine dictionary is near-optimal: the certified gap bounds the difference.
    assert ref.objective - result.objective <= ref.dual_gap + 1e-3 * problem.affine_objective


def test_2d_refined_matches_cvxpy_on_the_refined_directions():
    X, y = make_relu_ridges_2d(25, random_state=3)
    u, W, alpha = _setup(X, y, 0.05, n_dirs=8)
    out = exchange(SquaredLossFamily(X, y[:, None], u, alpha), W, WorkingSetCD(tol=1e-10),
                   ExchangeOptions(tol=1e-8), random_state=0)
    problem, result, cert, converged = out.problem, out.result, out.certificate, out.converged
    assert converged and cert.holds(1e-6)
    ref = CvxpySolver().solve(problem)
    assert result.objective <= ref.objective + 1e-6 * problem.affine_objective
    assert abs(result.objective - ref.objective) <= 1e-5 * problem.affine_objective


# --------------------------------------------------------------------------- d >= 3
@pytest.fixture(scope="module")
def run_3d():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((80, 4))
    y = np.maximum(X @ [1.0, -0.5, 0.3, 0.0] - 0.2, 0) - 1.5 * np.maximum(X[:, 1] + X[:, 2], 0) \
        + 0.1 * rng.standard_normal(80)
    u, W, alpha = _setup(X, y, 0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        family = SquaredLossFamily(X, y[:, None], u, alpha)
        # the rounds themselves, without the weight-decay start (tested below)
        out = exchange(family, W, WorkingSetCD(tol=1e-8),
                       ExchangeOptions(tol=1e-6, max_rounds=8, start=False), random_state=0)
        base = exchange(family, W, WorkingSetCD(tol=1e-8),
                        ExchangeOptions(tol=1e-6, max_rounds=0, start=False), random_state=0)
    return X, y, u, alpha, out, base


def test_weight_decay_start_lowers_the_first_round(run_3d):
    # The start's directions enter the first dictionary (DESIGN §11): its first solve is
    # at most the spread directions' (the dictionary only grows) and here far below.
    X, y, u, alpha, _, base = run_3d
    family = SquaredLossFamily(X, y[:, None], u, alpha)
    W = base.problem.dictionary.directions
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = exchange(family, W, WorkingSetCD(tol=1e-8),
                           ExchangeOptions(tol=1e-6, max_rounds=0, start=True),
                           random_state=0)
    assert started.problem.dictionary.n_directions > len(W)
    assert started.result.objective < 0.9 * base.result.objective


def test_searched_refinement_is_monotone_and_improves(run_3d):
    _, _, _, _, out, base = run_3d
    problem, result, cert, history = out.problem, out.result, out.certificate, out.history
    assert not cert.exact
    assert len(history) > 2
    assert _nonincreasing(history, 1e-7 * problem.affine_objective)
    assert result.objective < 0.9 * base.result.objective
    # the directions were pruned: far fewer than all those ever added
    assert problem.dictionary.n_directions < 16 + sum(h.n_added for h in history)
    # every polish ended at or above the next round's convex optimum (biases are exact)
    for h, nxt in itertools.pairwise(history):
        if np.isfinite(h.polished_objective):
            assert nxt.objective <= h.polished_objective + 1e-7 * problem.affine_objective


def test_searched_gap_is_computed_not_assumed(run_3d):
    X, _, _, alpha, out, _ = run_3d
    problem, result, cert, gap_P, history = (out.problem, out.result, out.certificate,
                                             out.gap_P, out.history)
    rho = problem.residual(result.idx, result.coef)
    q = (problem.projector.sqrt_u[:, None] * rho)[:, 0]
    # the certificate is a genuine value at its direction
    e, _, _ = eta(X, q, alpha, cert.direction[None, :])
    assert e[0] == pytest.approx(cert.eta, rel=1e-8)
    assert history[-1].eta >= cert.eta
    # and the gap is the formula's at that value
    assert gap_P == pytest.approx(duality_gap_for_P(problem.b, rho, result.objective,
                                                    history[-1].eta), rel=1e-10, abs=1e-15)
    # the objective is that of the returned atoms
    assert result.objective == pytest.approx(problem.primal(rho, result.coef), rel=1e-10)


def test_multi_output_refinement_runs_and_is_monotone():
    rng = np.random.RandomState(2)
    X = rng.standard_normal((50, 3))
    Y = np.column_stack([np.maximum(X[:, 0] - 0.3, 0), np.abs(X[:, 1] + X[:, 2])])
    u = np.full(50, 1 / 50)
    W = spread_directions(8, 3, 0)
    alpha = 0.05 * alpha_max_from_dictionary(ReLUDictionary(X, W), Y, u)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        out = exchange(SquaredLossFamily(X, Y, u, alpha), W, WorkingSetCD(tol=1e-8),
                       ExchangeOptions(max_rounds=4), random_state=0)
    problem, result, history = out.problem, out.result, out.history
    assert result.coef.shape[1] == 2
    assert _nonincreasing(history, 1e-7 * problem.affine_objective)
    assert history[-1].objective < history[0].objective


# --------------------------------------------------------------------------- pieces
def testremap_atoms_after_pruning():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((30, 3))
    X[5] = X[4]  # a tie
    W = spread_directions(6, 3, 0)
    old = ReLUDictionary(X, W)
    keep = np.array([False, True, False, True, True, False])
    add = spread_directions(3, 3, 1)
    new = ReLUDictionary(X, np.vstack([W[keep], add]))
    old_to_new = -np.ones(6, dtype=np.int64)
    old_to_new[keep] = np.arange(keep.sum())
    idx = np.flatnonzero(np.isin(old.atom_direction, np.flatnonzero(keep)))[::3]
    coef = rng.standard_normal((len(idx), 1))
    new_idx, new_coef = remap_atoms(old, new, old_to_new, idx, coef)
    np.testing.assert_array_equal(new_coef, coef)
    np.testing.assert_allclose(new.columns(new_idx), old.columns(idx))


def test_search_ascends_candidates_besides_extras():
    # Extras at lesser local maxima (like the active neurons of a solution, all at eta ~ 1)
    # must not take the candidates' ascent starts: with them the search still finds at least
    # what it finds without them. (Before the fix, this case returned about 154.)
    rng = np.random.RandomState(3)
    X = rng.standard_normal((100, 5))
    q = AffineProjector(X, np.full(100, 0.01)).project(rng.standard_normal((100, 1)))
    alpha = 0.05
    S = rng.standard_normal((200, 5))
    S /= np.linalg.norm(S, axis=1, keepdims=True)
    v2, _, _ = ascend(X, q, S, 500, rng.standard_normal((32, 5)), 4, 1e-12)
    plain = search_certificate(X, q[:, 0], alpha, n_candidates=300, n_ascent=5, random_state=2)
    E = S[np.sqrt(v2) / alpha < 0.97 * plain.eta]
    assert len(E) > 5
    slid = search_certificate(X, q[:, 0], alpha, n_candidates=300, n_ascent=5, random_state=2,
                              extra_directions=E, ascend_extra=True)
    assert slid.eta >= plain.eta * (1 - 1e-12)


def test_loose_solver_is_tightened_when_the_violators_are_known():
    # A restricted solve too loose for the tolerance makes the certificate's violators
    # directions already in the dictionary; the loop then solves again with a copy of the
    # solver at a tenth of its tolerance (``tighten`` times), which lowers the gap of (P).
    X, y = make_relu_ridges_2d(60, random_state=1)
    u, W, alpha = _setup(X, y, 0.05)
    solver = WorkingSetCD(tol=1e-3)
    family = SquaredLossFamily(X, y[:, None], u, alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = exchange(family, W, solver, ExchangeOptions(tol=1e-8, tighten=0),
                         random_state=0)
        tight = exchange(family, W, solver, ExchangeOptions(tol=1e-8, tighten=3),
                         random_state=0)
    assert plain.stop_reason == "no_new_directions"
    assert len(tight.history) > len(plain.history)
    assert tight.gap_P < 0.1 * plain.gap_P
    assert tight.result.objective <= plain.result.objective + 1e-12 * plain.gap_P
    assert solver.tol == 1e-3          # the caller's solver is not modified
