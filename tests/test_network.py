"""ReLUNetwork: canonical form, RTV2, balanced weight-decay form, export."""

import numpy as np
import pytest

from radonsolve import ReLUNetwork


def _random_net(rng, K=6, d=3, T=None):
    W = rng.standard_normal((K, d))
    b = rng.standard_normal(K)
    v = rng.standard_normal(K) if T is None else rng.standard_normal((K, T))
    c = rng.standard_normal(d) if T is None else rng.standard_normal((d, T))
    c0 = rng.standard_normal() if T is None else rng.standard_normal(T)
    return W, b, v, c, c0


@pytest.mark.parametrize("T", [None, 2])
def test_canonical_form_keeps_function(T):
    rng = np.random.default_rng(0)
    W, b, v, c, c0 = _random_net(rng, T=T)
    raw = ReLUNetwork(W, b, v, c, c0, canonicalize=False)
    net = ReLUNetwork(W, b, v, c, c0)
    X = rng.standard_normal((50, 3))
    np.testing.assert_allclose(net.predict(X), raw.predict(X), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(net.weights, axis=1), 1.0)
    first = net.weights[np.arange(net.n_neurons), np.argmax(np.abs(net.weights) > 0, axis=1)]
    assert np.all(first > 0)


def test_opposite_neurons_merge_and_rtv2():
    # max(z, 0) and -max(-z, 0) = -(max(z,0) - z): same hyperplane, opposite orientation.
    w = np.array([0.6, 0.8])
    net = ReLUNetwork([w, -w, 2 * w], [0.1, -0.1, 0.2], [1.0, 2.0, 0.5], [0.0, 0.0], 0.0)
    assert net.n_neurons == 1
    assert net.outer[0] == pytest.approx(1.0 + 2.0 + 0.5 * 2)
    assert net.rtv2 == pytest.approx(4.0)
    X = np.random.default_rng(1).standard_normal((20, 2))
    raw = ReLUNetwork([w, -w, 2 * w], [0.1, -0.1, 0.2], [1.0, 2.0, 0.5], [0.0, 0.0], 0.0,
                      canonicalize=False)
    np.testing.assert_allclose(net.predict(X), raw.predict(X), atol=1e-12)


def test_cancelling_neurons_vanish():
    w = np.array([1.0, 0.0])
    net = ReLUNetwork([w, w], [0.3, 0.3], [1.5, -1.5], [0.0, 0.0], 0.0)
    assert net.n_neurons == 0 and net.rtv2 == 0.0


def test_balanced_is_weight_decay_optimum():
    rng = np.random.default_rng(2)
    net = ReLUNetwork(*_random_net(rng))
    W, b, V = net.balanced()
    np.testing.assert_allclose(np.linalg.norm(W, axis=1), np.abs(V))
    assert 0.5 * (np.sum(V ** 2) + np.sum(W ** 2)) == pytest.approx(net.rtv2)
    X = rng.standard_normal((30, 3))
    pred = np.maximum(X @ W.T - b, 0) @ V + X @ net.skip_coef + net.skip_intercept
    np.testing.assert_allclose(pred, net.predict(X), atol=1e-12)


def test_arrays_roundtrip():
    rng = np.random.default_rng(3)
    net = ReLUNetwork(*_random_net(rng, T=2))
    net2 = ReLUNetwork.from_arrays(net.to_arrays())
    X = rng.standard_normal((10, 3))
    np.testing.assert_allclose(net2.predict(X), net.predict(X))
    assert net2.outer.shape == (net.n_neurons, 2)


def test_torch_export_roundtrip():
    torch = pytest.importorskip("torch")
    from radonsolve._torch import network_from_torch

    rng = np.random.default_rng(4)
    net = ReLUNetwork(*_random_net(rng))
    module = net.to_torch()
    X = rng.standard_normal((25, 3))
    with torch.no_grad():
        out = module(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(out, net.predict(X), atol=1e-10)
    # Balanced export: the weight-decay penalty on hidden and output weights equals RTV2.
    pen = 0.5 * (module.hidden.weight.pow(2).sum() + module.output.weight.pow(2).sum()).item()
    assert pen == pytest.approx(net.rtv2, rel=1e-10)
    back = network_from_torch(module)
    np.testing.assert_allclose(back.predict(X), net.predict(X), atol=1e-10)
