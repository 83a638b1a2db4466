"""ReLUNetwork: canonical form (keeps the function, relative tolerances), RTV2, balanced
weight-decay form, export, blocked evaluation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ---------------------------------------------------------------------------------------
# The canonical form keeps the function, at every scale
# ---------------------------------------------------------------------------------------
def _raw_formula(W, b, V, c, c0, X):
    """sum_k v_k max(w_k.x - b_k, 0) + c.x + c0, and the sum of the magnitudes of its terms."""
    Z = X @ W.T
    H = np.maximum(Z - b, 0.0)
    V2 = V.reshape(len(b), -1)
    c2 = np.asarray(c).reshape(X.shape[1], -1)
    out = H @ V2 + X @ c2 + np.asarray(c0).reshape(-1)
    mag = ((np.abs(Z) + np.abs(b)) @ np.abs(V2) + np.abs(X) @ np.abs(c2)
           + np.abs(np.asarray(c0)).reshape(-1))
    return out, mag


def _messy_network(rng, d, T, s, cy):
    """Raw parameters full of rewrites (as the function of X * s, y * cy) and the true RTV2.

    Hyperplanes: random, plus exact copies with random row norms, opposite orientations,
    a coordinate-aligned one (zeros in the direction), one far from any data; neurons with
    zero rows, exact-zero outputs and exactly cancelling outputs.
    """
    out_shape = () if T is None else (T,)
    rows, bs, vs = [], [], []
    rtv2 = 0.0
    n_planes = int(rng.integers(1, 6))
    for p in range(n_planes + 2):
        w = rng.standard_normal(d)
        if p == n_planes:                      # direction with exact zeros
            w = np.zeros(d)
            w[-1] = rng.choice([-1.0, 1.0])
        bias = rng.standard_normal() * s
        if p == n_planes + 1:                  # hyperplane far from any data
            bias = 1e6 * s * rng.choice([-1.0, 1.0])
        group = np.zeros(out_shape)
        for _ in range(int(rng.integers(1, 4))):
            r = 10.0 ** rng.uniform(-3, 3)     # row norm, moved into outer and bias
            sign = rng.choice([-1.0, 1.0])     # orientation of the copy
            u = rng.standard_normal(out_shape) * cy / s
            rows.append(sign * r * w)
            bs.append(sign * r * bias)
            vs.append(u)
            group = group + u * r * np.linalg.norm(w)
        rtv2 += float(np.linalg.norm(group))
    # An exactly cancelling pair, a zero output and zero rows (constants v max(-b, 0)).
    w = rng.standard_normal(d)
    u = rng.standard_normal(out_shape) * cy / s
    rows += [w, 2.0 * w, rng.standard_normal(d), np.zeros(d), np.zeros(d)]
    bs += [0.5 * s, s, 0.3 * s, -0.7 * s, 0.4 * s]
    vs += [u, -0.5 * u, np.zeros(out_shape), rng.standard_normal(out_shape) * cy / s,
           rng.standard_normal(out_shape) * cy / s]
    perm = rng.permutation(len(rows))
    W = np.asarray(rows)[perm]
    b = np.asarray(bs)[perm]
    V = np.asarray(vs)[perm]
    c = rng.standard_normal((d,) + out_shape) * cy / s
    c0 = rng.standard_normal(out_shape) * cy
    return W, b, V, c, (float(c0) if T is None else c0), rtv2


@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2 ** 32 - 1), d=st.integers(1, 4),
       T=st.sampled_from([None, 1, 3]), log_s=st.floats(-12, 12), log_c=st.floats(-12, 12))
def test_canonical_network_keeps_raw_function_and_rtv2(seed, d, T, log_s, log_c):
    rng = np.random.default_rng(seed)
    s, cy = 10.0 ** log_s, 10.0 ** log_c
    W, b, V, c, c0, rtv2 = _messy_network(rng, d, T, s, cy)
    net = ReLUNetwork(W, b, V, c, c0)
    X = s * rng.standard_normal((60, d))
    want, mag = _raw_formula(W, b, V, c, c0, X)
    got = net.predict(X).reshape(want.shape)
    assert np.all(np.abs(got - want) <= 1e-11 * mag)
    # Canonical form: unit half-sphere directions, distinct hyperplanes, nonzero outputs.
    np.testing.assert_allclose(np.linalg.norm(net.weights, axis=1), 1.0, rtol=1e-14)
    first = net.weights[np.arange(net.n_neurons), np.argmax(net.weights != 0, axis=1)]
    assert np.all(first > 0)
    assert np.all(net._outer_norms() > 0)
    assert net.rtv2 == pytest.approx(rtv2, rel=1e-12)
    assert ReLUNetwork(W, b, V, c, c0, canonicalize=False).rtv2 == pytest.approx(rtv2, rel=1e-12)
    assert net.rtv2 == pytest.approx(float(np.sum(net._outer_norms())), rel=1e-15)
    assert net.n_outputs == T
    # Canonicalizing again changes nothing.
    again = net.canonical()
    assert again.n_neurons == net.n_neurons
    np.testing.assert_array_equal(again.weights, net.weights)
    np.testing.assert_array_equal(again.outer, net.outer)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2 ** 32 - 1), d=st.integers(1, 3),
       T=st.sampled_from([None, 2]), log_s=st.floats(-12, 12), log_c=st.floats(-12, 12))
def test_canonical_network_rescales_with_the_data(seed, d, T, log_s, log_c):
    # The network of (X s, y cy) is the network of (X, y) with biases times s, output weights
    # and skip slopes times cy / s, intercept times cy: every tolerance is relative.
    rng = np.random.default_rng(seed)
    s, cy = 10.0 ** log_s, 10.0 ** log_c
    W, b, V, c, c0, _ = _messy_network(rng, d, T, 1.0, 1.0)
    net = ReLUNetwork(W, b, V, c, c0)
    scaled = ReLUNetwork(W, s * b, V * (cy / s), c * (cy / s), np.asarray(c0) * cy)
    assert scaled.n_neurons == net.n_neurons
    i, j = np.argsort(net.biases), np.argsort(scaled.biases / s)
    np.testing.assert_allclose(scaled.weights[j], net.weights[i], rtol=0, atol=1e-14)
    bscale = np.max(np.abs(net.biases), initial=0.0)
    np.testing.assert_allclose(scaled.biases[j] / s, net.biases[i], rtol=1e-13,
                               atol=1e-15 * bscale)
    vscale = np.max(np.abs(net.outer), initial=0.0)
    np.testing.assert_allclose(scaled.outer[j] * (s / cy), net.outer[i], rtol=1e-12,
                               atol=1e-14 * vscale)
    # The skip connection absorbed affine parts of magnitude up to sum |v| (|w|, |b|).
    cmag = np.sum(np.abs(V).reshape(len(b), -1).T * np.linalg.norm(W, axis=1), axis=1) + 1.0
    bmag = np.abs(V).reshape(len(b), -1).T @ np.abs(b) + 1.0
    assert np.all(np.abs(scaled.skip_coef * (s / cy) - net.skip_coef).reshape(d, -1)
                  <= 1e-13 * cmag)
    assert np.all(np.abs(np.asarray(scaled.skip_intercept) / cy - net.skip_intercept)
                  <= 1e-13 * bmag)
    assert scaled.rtv2 == pytest.approx(net.rtv2 * cy / s, rel=1e-12)


def test_zero_row_constant_moves_into_intercept():
    # max(0.x + 0.65, 0) = 0.65: a constant neuron, not a neuron to drop.
    net = ReLUNetwork([[0.0, 0.0], [1.0, 0.0]], [-0.65, 0.2], [1.0, 2.0], [0.0, 0.0], 0.5)
    assert net.n_neurons == 1
    assert net.skip_intercept == pytest.approx(0.5 + 0.65, rel=1e-15)
    # A zero row with positive bias is identically zero.
    net = ReLUNetwork([[0.0, 0.0]], [0.3], [4.0], [0.0, 0.0], 0.5)
    assert net.n_neurons == 0 and net.skip_intercept == 0.5


@pytest.mark.parametrize("s", [1e-12, 1.0, 1e12])
def test_close_knots_at_small_scale_are_not_merged(s):
    # Nine knots spread over [-s, s]: a relative tolerance keeps them apart at every scale.
    t = np.linspace(-1.0, 1.0, 9) * s
    v = np.arange(1.0, 10.0) / s
    net = ReLUNetwork(np.ones((9, 1)), t, v, [0.0], 0.0)
    assert net.n_neurons == 9
    np.testing.assert_allclose(np.sort(net.biases), t, rtol=1e-15, atol=1e-16 * s)
    assert net.rtv2 == pytest.approx(v.sum(), rel=1e-15)


def test_far_hyperplane_kept():
    # The network does not know the data: a hyperplane far away is part of the function.
    net = ReLUNetwork([[1.0], [1.0]], [0.0, 1e9], [1.0, 3.0], [0.0], 0.0)
    assert net.n_neurons == 2
    assert float(net.predict([[2e9]])[0]) == pytest.approx(2e9 + 3e9, rel=1e-15)


def test_merge_tolerance_is_relative():
    # Directions within merge_tol in angle and biases within merge_tol relative merge.
    w = np.array([0.6, 0.8])
    w2 = w + 1e-12 * np.array([-0.8, 0.6])
    for s in (1e-9, 1.0, 1e9):
        net = ReLUNetwork([w, w2], [s, s * (1 + 1e-12)], [1.0, 2.0], [0.0, 0.0], 0.0)
        assert net.n_neurons == 1 and net.outer[0] == pytest.approx(3.0, rel=1e-15)
        net = ReLUNetwork([w, w2], [s, s * (1 + 1e-8)], [1.0, 2.0], [0.0, 0.0], 0.0)
        assert net.n_neurons == 2
    # Near-opposite orientations (the half-sphere boundary) merge too.
    u = np.array([1e-13, 1.0])
    u2 = np.array([-1e-13, 1.0])
    raw = ([u, u2], [0.5, 0.5], [1.0, 2.0], [0.0, 0.0], 0.0)
    net = ReLUNetwork(*raw)
    assert net.n_neurons == 1 and net.rtv2 == pytest.approx(3.0, rel=1e-15)
    X = np.random.default_rng(5).standard_normal((30, 2))
    np.testing.assert_allclose(net.predict(X), ReLUNetwork(*raw, canonicalize=False).predict(X),
                               rtol=0, atol=1e-11)
    # merge_tol=0 merges exact copies only.
    assert ReLUNetwork([w, w2], [1.0, 1.0], [1.0, 2.0], [0.0, 0.0], 0.0,
                       merge_tol=0.0).n_neurons == 2


def test_bias_scale_floor_merges_near_zero_biases():
    w = np.array([1.0, 0.0])
    raw = ([w, w], [1e-17, -1e-17], [1.0, 1.0], [0.0, 0.0], 0.0)
    assert ReLUNetwork(*raw).n_neurons == 2      # no scale known: kept apart, function exact
    assert ReLUNetwork(*raw, bias_scale=1.0).n_neurons == 1


def test_kink_beyond_float_range_is_affine():
    # b / ||w|| overflows: on every representable input the neuron is w.x - b.
    raw = ([[1e-300]], [-1e10], [2.0], [0.0], 0.0)
    net = ReLUNetwork(*raw)
    assert net.n_neurons == 0
    X = np.array([[-1e5], [0.0], [3.0]])
    np.testing.assert_allclose(net.predict(X),
                               ReLUNetwork(*raw, canonicalize=False).predict(X), rtol=1e-15)


def test_bad_parameters_raise_naming_the_argument():
    good = dict(weights=[[1.0, 0.0]], biases=[0.0], outer=[1.0], skip_coef=[0.0, 0.0],
                skip_intercept=0.0)
    for name, bad in [("weights", [[1.0, 0.0, 2.0]]), ("biases", [0.0, 1.0]),
                      ("outer", [1.0, 2.0]), ("skip_intercept", [1.0, 2.0]),
                      ("weights", [[np.nan, 0.0]]), ("outer", [np.inf])]:
        with pytest.raises(ValueError, match=name):
            ReLUNetwork(**{**good, name: bad})
    with pytest.raises(ValueError, match="skip_coef"):
        ReLUNetwork([[1.0, 0.0]], [0.0], [[1.0, 2.0]], [[0.0, 0.0, 0.0]], [0.0, 0.0])
    with pytest.raises(ValueError, match="merge_tol"):
        ReLUNetwork(**good, merge_tol=1.0)
    with pytest.raises(ValueError, match="bias_scale"):
        ReLUNetwork(**good, bias_scale=-1.0)
    with pytest.raises(ValueError, match="X has shape"):
        ReLUNetwork(**good).predict(np.zeros((3, 3)))


# ---------------------------------------------------------------------------------------
# Evaluation in row blocks
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("T", [None, 2])
def test_predict_in_blocks_matches_formula(T):
    rng = np.random.default_rng(6)
    K, d = 120, 3
    W, b, v, c, c0 = _random_net(rng, K=K, d=d, T=T)
    net = ReLUNetwork(W, b, v, c, c0)
    X = rng.standard_normal((30000, d)).astype(np.float32)   # several blocks, cast per block
    want, mag = _raw_formula(W, b, v, c, c0, X.astype(float))
    got = net.predict(X)
    assert got.shape == ((30000,) if T is None else (30000, T))
    assert np.all(np.abs(got.reshape(want.shape) - want) <= 1e-12 * mag)
    np.testing.assert_array_equal(net.predict(X[:0]), np.zeros((0,) if T is None else (0, T)))


def test_predict_memory_does_not_grow_with_rows():
    import tracemalloc

    rng = np.random.default_rng(7)
    K, d, N = 100, 4, 200_000
    net = ReLUNetwork(*_random_net(rng, K=K, d=d))
    X = rng.standard_normal((N, d))
    tracemalloc.start()
    try:
        net.predict(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # An N x K temporary would be 160 MB; the output is 1.6 MB, the blocks a few 8 MiB.
    assert peak < N * 8 + 48 * 2 ** 20
    assert peak < N * K * 8 / 2
