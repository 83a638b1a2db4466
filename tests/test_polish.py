"""The polish descent (radonsolve.polish): gradient of the weight-decay form, descent of (P)."""

import numpy as np
import pytest

from radonsolve.dictionary import AffineProjector
from radonsolve.polish import polish_network, weight_decay_value_grad


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
