"""Tests of the logistic working-set solver's pieces (radonsolve.solvers.logistic).

The solver end to end is tested through the classifier (tests/test_classifier.py).
"""

import numpy as np
import pytest

from radonsolve.solvers._cd import lasso_active_set
from radonsolve.solvers.logistic import _group_active_set


def _relu_gram(n_atoms, T, seed):
    """A subproblem like the classifier's: Gram of nearly collinear ReLU columns, T outputs."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-1, 1, 120))
    knots = np.sort(rng.uniform(-1, 1, n_atoms))
    Phi = np.maximum(x[:, None] - knots[None, :], 0.0)
    Phi -= Phi.mean(axis=0)
    S = np.kron(Phi.T @ Phi / len(x), np.eye(T)) + 1e-8 * np.eye(n_atoms * T)
    c = np.kron(Phi.T, np.eye(T)) @ rng.standard_normal(len(x) * T) / len(x)
    return S, c


@pytest.mark.parametrize("T", [1, 3])
def test_subproblem_solvers_meet_kkt(T):
    # min 0.5 x'Sx - c'x + alpha sum_j ||x_j||: at the solution every zero block has
    # ||g_j|| <= alpha and every active block has g_j = alpha x_j / ||x_j||, g = c - S x.
    S, c = _relu_gram(60, T, seed=T)
    g0 = np.linalg.norm(c.reshape(-1, T), axis=1).max()
    for frac in (0.3, 0.03, 0.003):
        alpha = frac * g0
        x = np.zeros_like(c)
        if T == 1:
            _, ok = lasso_active_set(S, c, x, alpha, 10000, 1e-10, 1e-10, 16, len(x), 64)
            assert ok
        else:
            steps, viol = _group_active_set(S, c, x, alpha, T, 1e-10 * alpha)
            assert viol == 0.0 and steps < 2000
        G = (c - S @ x).reshape(-1, T)
        Xb = x.reshape(-1, T)
        nrm = np.linalg.norm(Xb, axis=1)
        on = nrm > 0
        assert on.any()
        assert np.all(np.linalg.norm(G[~on], axis=1) <= alpha * (1 + 1e-8))
        np.testing.assert_allclose(G[on], alpha * Xb[on] / nrm[on, None],
                                   atol=1e-6 * alpha)
