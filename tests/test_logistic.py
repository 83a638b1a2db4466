"""Tests of the classification pieces (radonsolve.solvers.logistic) and of the restricted
group kernel every working-set driver shares (radonsolve.solvers.restricted).

The solver end to end is tested through the classifier (tests/test_classifier.py).
"""

import numpy as np
import pytest

from radonsolve.solvers._cd import lasso_active_set
from radonsolve.solvers.restricted import group_active_set


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
            steps, viol = group_active_set(S, c, x, alpha, T, 1e-10 * alpha)
            assert viol == 0.0 and steps < 2000
        G = (c - S @ x).reshape(-1, T)
        Xb = x.reshape(-1, T)
        nrm = np.linalg.norm(Xb, axis=1)
        on = nrm > 0
        assert on.any()
        assert np.all(np.linalg.norm(G[~on], axis=1) <= alpha * (1 + 1e-8))
        np.testing.assert_allclose(G[on], alpha * Xb[on] / nrm[on, None],
                                   atol=1e-6 * alpha)


# ----------------------------------------------------------------------------- ridge on the skip
from radonsolve.dictionary import ReLUDictionary  # noqa: E402
from radonsolve.solvers.logistic import (LogisticProblem, SignedDictionary,  # noqa: E402
                                         affine_fit, alpha_max_logistic, alpha_max_tied)


def _planar(n=25, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    W = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    return X, W


def test_signed_dictionary_products_match_definition():
    X, W = _planar()
    dic = SignedDictionary(X, W)
    # Columns from the definition: both orientations at the interior data projections, and
    # the linear neuron w.x - min_n w.x_n of each direction.
    cols = []
    for s in (1.0, -1.0):
        for w in W:
            p = s * (X @ w)
            for b in np.sort(p)[1:-1]:
                cols.append(np.maximum(p - b, 0.0))
    for w in W:
        p = X @ w
        cols.append(p - p.min())
    Phi = np.array(cols).T
    np.testing.assert_allclose(dic.toarray(), Phi, atol=1e-12)
    q = np.random.default_rng(1).standard_normal((len(X), 3))
    np.testing.assert_allclose(dic.rmatvec(q), Phi.T @ q, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dic.rmatvec(q[:, 0]), Phi.T @ q[:, 0], rtol=1e-10, atol=1e-10)
    # one-sided without linear atoms: the plain half-sphere dictionary
    plain = SignedDictionary(X, W, two_sided=False, linear=False)
    np.testing.assert_array_equal(plain.toarray(), ReLUDictionary(X, W).toarray())


def test_signed_dictionary_remap_keeps_atoms():
    X, W = _planar()
    small = SignedDictionary(X, W)
    big = SignedDictionary(X, np.vstack([W, [[0.8, -0.6]]]))
    idx = np.arange(small.n_atoms)
    new = big.remap(small, idx)
    assert np.all(new >= 0)
    np.testing.assert_array_equal(big.columns(new), small.columns(idx))


def test_alpha_max_tied_is_the_fixed_point():
    """beta = alpha: at alpha_max the largest atom correlation of the ridge(alpha_max)
    affine fit equals alpha_max; just below, it exceeds alpha."""
    X, W = _planar(40, seed=2)
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)        # separable
    u = np.full(len(X), 1.0 / len(X))
    dic = SignedDictionary(X, W)
    am = alpha_max_tied(dic, y, u, 2)
    assert 0 < am < np.inf

    def cmax(a):
        prob = LogisticProblem(dic, y, u, a, 2, skip_penalty=a)
        _, F = affine_fit(prob)
        return alpha_max_logistic(prob, F)

    assert cmax(am) <= am * (1 + 1e-9)
    assert cmax(am * (1 - 1e-4)) > am * (1 - 1e-4)
    # The affine fit stays bounded on separable data: finite logits.
    prob = LogisticProblem(dic, y, u, am, 2, skip_penalty=am)
    B, F = affine_fit(prob)
    assert np.all(np.isfinite(B)) and np.abs(F).max() < 1e3
