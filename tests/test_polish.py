"""The polish descent (radonsolve.polish): gradient of the weight-decay form, descent of (P)."""

import numpy as np
import pytest

from radonsolve.dictionary import AffineProjector
from radonsolve.dictionary import ReLUDictionary
from radonsolve.lasso import ProjectedLasso
from radonsolve.polish import polish_network, weight_decay_start, weight_decay_value_grad
from radonsolve.solvers import WorkingSetCD


@pytest.mark.parametrize("block", [30, 7], ids=["one-block", "row-blocks"])
def test_polish_gradient_and_descent(block):
    rng = np.random.RandomState(0)
    N, d, K, T = 30, 3, 4, 2
    X = rng.standard_normal((N, d))
    u = rng.uniform(0.5, 2, N)
    u /= u.sum()
    P = AffineProjector(X, u)
    b = P.project(P.sqrt_u[:, None] * rng.standard_normal((N, T)))
    W, bias, V = rng.standard_normal((K, d)), 0.1 * rng.standard_normal(K), \
        rng.standard_normal((K, T))
    XT = np.ascontiguousarray(X.T)
    Q = np.ascontiguousarray(P.Q)
    alpha = 0.01
    gW, gb, gV = np.empty((K, d)), np.empty(K), np.empty((K, T))

    def f(W, bias, V):
        return weight_decay_value_grad(XT, W, bias, V, P.sqrt_u, Q, b, alpha, np.empty((K, d)),
                                       np.empty(K), np.empty((K, T)), block)[0]

    f0, _ = weight_decay_value_grad(XT, W, bias, V, P.sqrt_u, Q, b, alpha, gW, gb, gV, block)
    A = np.maximum(X @ W.T - bias, 0)
    rho = b - P.project(P.sqrt_u[:, None] * (A @ V))
    assert f0 == pytest.approx(0.5 * np.sum(rho ** 2) + 0.5 * alpha * (np.sum(W ** 2)
                                                                       + np.sum(V ** 2)))
    h = 1e-6
    for arr, g in ((W, gW), (bias, gb), (V, gV)):
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + h
            fp = f(W, bias, V)
            arr[i] = old - h
            fm = f(W, bias, V)
            arr[i] = old
            assert g[i] == pytest.approx((fp - fm) / (2 * h), rel=1e-4, abs=1e-7)
    n = np.linalg.norm(W, axis=1)
    exact0 = 0.5 * np.sum(rho ** 2) + alpha * np.sum(n * np.linalg.norm(V, axis=1))
    _, _, _, obj = polish_network(X, b, P, W / n[:, None], bias / n, V * n[:, None], alpha,
                                  max_iter=50)
    assert obj < exact0


@pytest.mark.parametrize("n_neurons", ["auto", 48])
def test_weight_decay_start_directions_are_at_least_as_good_for_the_convex_solve(n_neurons):
    # Exact discretization (DESIGN §2): on the start's directions, the lasso with biases at
    # the data is at most the descended network's objective, which is below the affine fit.
    rng = np.random.RandomState(0)
    N, d = 150, 3
    X = rng.standard_normal((N, d))
    y = np.maximum(X @ [1.0, -0.5, 0.3] - 0.2, 0) - np.maximum(X @ [0.2, 1.0, 0.0], 0) \
        + 0.05 * rng.standard_normal(N)
    u = np.full(N, 1.0 / N)
    P = AffineProjector(X, u)
    b = P.project(P.sqrt_u[:, None] * y[:, None])
    alpha = 0.01
    W, obj = weight_decay_start(X, b, P, alpha, n_neurons=n_neurons, max_iter=60,
                                random_state=0)
    assert W.ndim == 2 and W.shape[1] == d and len(W) >= 1
    np.testing.assert_allclose(np.linalg.norm(W, axis=1), 1.0, rtol=1e-12)
    assert obj < 0.5 * float(np.sum(b ** 2))
    problem = ProjectedLasso(ReLUDictionary(X, W), y[:, None], u, alpha, projector=P)
    res = WorkingSetCD(tol=1e-10).solve(problem)
    assert res.objective <= obj * (1 + 1e-9)
    # the same seed gives the same directions; the inputs are not modified
    X0 = X.copy()
    W2, obj2 = weight_decay_start(X, b, P, alpha, n_neurons=n_neurons, max_iter=60,
                                  random_state=0)
    np.testing.assert_array_equal(W, W2)
    np.testing.assert_array_equal(X, X0)


def test_weight_decay_start_grows_while_most_neurons_carry_output():
    # Tiny alpha on many points: the 256 first neurons all stay in use, so the width grows
    # (more directions come back than the first stage had).
    rng = np.random.RandomState(1)
    N, d = 600, 3
    X = rng.standard_normal((N, d))
    y = np.sin(2 * X[:, 0]) * np.cos(X[:, 1]) + X[:, 2] ** 2
    u = np.full(N, 1.0 / N)
    P = AffineProjector(X, u)
    b = P.project(P.sqrt_u[:, None] * y[:, None])
    W, _ = weight_decay_start(X, b, P, 1e-6, max_iter=20, random_state=0)
    assert len(W) > 256
