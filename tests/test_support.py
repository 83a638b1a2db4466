"""Support reduction and the representer bound (DESIGN §7)."""

import warnings

import numpy as np
import pytest

from radonsolve import RadonReLURegressor
from radonsolve.support import neuron_bound, reduce_support


def test_reduce_support_keeps_fit_and_penalty():
    rng = np.random.default_rng(0)
    G = rng.standard_normal((10, 4))
    G = np.column_stack([G, G[:, :3] @ [0.5, -1.0, 2.0], G[:, 1] - G[:, 3]])  # rank 4, k = 6
    V = rng.uniform(0.5, 1.5, (6, 1)) * np.sign(rng.standard_normal((6, 1)))
    # Make the l1 norm stationary along the null space (as at a lasso optimum) by choosing
    # signs consistent with a dual vector: here just check the penalty never increases.
    keep, V2 = reduce_support(G, V)
    assert len(keep) <= 4
    np.testing.assert_allclose(G[:, keep] @ V2, G @ V, atol=1e-10)
    assert np.abs(V2).sum() <= np.abs(V).sum() + 1e-12


def test_reduce_support_groups():
    rng = np.random.default_rng(1)
    G = rng.standard_normal((6, 3))
    G = np.column_stack([G, G @ [1.0, 1.0, 0.0]])
    V = rng.standard_normal((4, 2))
    keep, V2 = reduce_support(G, V)
    np.testing.assert_allclose(G[:, keep] @ V2, G @ V, atol=1e-10)
    assert np.linalg.norm(V2, axis=1).sum() <= np.linalg.norm(V, axis=1).sum() + 1e-12


def test_neuron_bound_values():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [2.0, 2.0]])  # collinear, duplicate
    assert neuron_bound(X) == 3 - 2
    X = np.random.default_rng(0).standard_normal((5, 8))  # N < d
    assert neuron_bound(X) == 0


def _instances():
    rng = np.random.default_rng(42)
    for i in range(12):
        kind = i % 4
        if kind == 0:  # duplicates
            X = rng.standard_normal((8, 2))
            X = X[rng.integers(0, 8, 14)]
        elif kind == 1:  # collinear points in the plane
            t = rng.standard_normal(12)
            X = np.column_stack([t, 2 * t + 1])
        elif kind == 2:  # fewer points than features
            X = rng.standard_normal((4, 6))
        else:  # tiny generic
            X = rng.standard_normal((9, 3))
        y = rng.standard_normal(len(X))
        yield X, y


@pytest.mark.parametrize("inst", range(12))
def test_representer_bound_on_degenerate_data(inst):
    X, y = list(_instances())[inst]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = RadonReLURegressor(alpha=1e-7, directions=2000, refine=False, random_state=0,
                               tol=1e-8, max_iter=50).fit(X, y)
    assert m.n_neurons_ <= neuron_bound(X)
    if len(np.unique(X, axis=0)) == X.shape[0]:
        # Tiny alpha with distinct points: the network nearly interpolates.
        assert m.score(X, y) > 0.999 or neuron_bound(X) == 0


def test_collinear_bump_needs_a_neuron():
    # Three collinear points in the plane with a bump: no affine function fits them, so the
    # theorem's N - (d + 1) = 0 cannot hold and N' - rank([1, X]) = 1 is what is reached.
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    y = np.array([0.0, 1.0, 0.0])
    m = RadonReLURegressor(alpha=1e-6, directions=16, random_state=0).fit(X, y)
    assert m.n_neurons_ == 1
    np.testing.assert_allclose(m.predict(X), y, atol=1e-4)


@pytest.mark.parametrize("inst", [0, 1, 3])
def test_representer_bound_several_outputs(inst):
    # T outputs: the fitted values live in an (N' - rank[1, X]) x T space, so support
    # reduction leaves at most T (N' - rank[1, X]) neurons; outputs that are multiples of one
    # another share every neuron, and the single-output bound holds.
    X, y = list(_instances())[inst]
    rng = np.random.default_rng(inst)
    kw = dict(alpha=1e-7, directions=500, refine=False, random_state=0, tol=1e-8, max_iter=50)
    Y = np.column_stack([y, rng.standard_normal(len(X)), np.abs(y)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = RadonReLURegressor(**kw).fit(X, Y)
        m1 = RadonReLURegressor(**kw).fit(X, y[:, None] * [1.0, -2.0, 3.0])
    assert m.network_.outer.shape == (m.n_neurons_, 3)
    assert m.n_neurons_ <= 3 * neuron_bound(X)
    assert m1.n_neurons_ <= neuron_bound(X)


# --------------------------------------------------------------------------- scale and alpha = 0
@pytest.mark.parametrize("s", [1e-12, 1.0, 1e12])
@pytest.mark.parametrize("c", [1e-12, 1.0, 1e12])
def test_reduce_support_is_scale_free(s, c):
    # G in units of X (times s), V in units of y / X (times c / s), b in units of y: the
    # same neurons are dropped and the fit is kept to the same relative precision.
    rng = np.random.default_rng(3)
    G = rng.standard_normal((12, 5))
    G = np.column_stack([G, G[:, :3] @ [0.5, -1.0, 2.0], G[:, 1] - G[:, 3]])
    V = rng.uniform(0.5, 1.5, (7, 1)) * np.sign(rng.standard_normal((7, 1)))
    b = G @ V + 1e-3 * rng.standard_normal((12, 1))
    keep1, V1 = reduce_support(G, V, b=b, alpha=0.0)
    keep2, V2 = reduce_support(s * G, (c / s) * V, b=c * b, alpha=0.0)
    # Which neuron drops first can be a tie broken by rounding; how many cannot.
    assert len(keep1) == len(keep2) == 5
    fit = s * G[:, keep2] @ V2
    assert np.linalg.norm(fit - c * G @ V) <= 1e-10 * np.linalg.norm(c * G @ V)
    assert np.abs(V2).sum() <= (c / s) * np.abs(V).sum() * (1 + 1e-12)


def test_reduce_support_rejects_an_approximate_null_vector():
    # Columns dependent only to 1e-10: a step would change the fit far beyond rounding.
    rng = np.random.default_rng(4)
    G = rng.standard_normal((10, 3))
    G = np.column_stack([G, G @ [1.0, -1.0, 0.5] + 1e-10 * rng.standard_normal(10)])
    V = np.ones((4, 1))
    keep, V2 = reduce_support(G, V, b=G @ V, rtol=1e-8)
    assert len(keep) == 4
    np.testing.assert_array_equal(V2, V)


@pytest.mark.parametrize("s", [1e-12, 1.0, 1e12])
def test_neuron_bound_is_scale_and_translation_free(s):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((9, 2))
    t = rng.standard_normal(6)
    collinear = np.column_stack([t, 2 * t + 1])
    assert neuron_bound(s * X) == neuron_bound(s * X + 1e6 * s) == 9 - 3
    assert neuron_bound(s * collinear) == neuron_bound(s * collinear - 1e4 * s) == 6 - 2
    # A feature in tiny units next to one in huge units is still a feature.
    assert neuron_bound(X * [1e-12 * s, 1e12]) == 9 - 3


def _interpolation_data(n, T, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n, 2))
    Y = rng.standard_normal((n, T)) if T > 1 else rng.standard_normal(n)
    return X, Y


@pytest.mark.parametrize("s", [1e-6, 1.0, 1e6])
def test_interpolation_meets_the_bound_2d(s):
    # alpha = 0: the objective of an interpolating fit is zero up to rounding, so support
    # reduction must judge its steps on a scale that does not vanish (the issue: 30 neurons
    # for 30 points, the bound being 27).
    X, y = _interpolation_data(30, 1)
    m = RadonReLURegressor(alpha=0.0, directions=16, random_state=0, tol=1e-12).fit(s * X, y)
    assert m.n_neurons_ <= neuron_bound(X) == 27
    # The optimum of (P) at alpha = 0 is known exactly (zero here), so the fit is
    # certified, and its gap bounds the residual.
    assert m.certified_
    assert m.global_gap_ <= 1e-12 * 0.5 * np.var(y)
    np.testing.assert_allclose(m.predict(s * X), y, atol=1e-5 * np.abs(y).max())


def test_interpolation_several_outputs_2d():
    # At alpha = 0 the penalty is no part of (P), so several outputs meet the one-output
    # bound too (a basis of the active columns fits every output).
    X, Y = _interpolation_data(20, 3, seed=1)
    kw = dict(alpha=0.0, directions=16, random_state=0, tol=1e-12)
    for T in (Y, Y[:, :1] * [1.0, -2.0, 3.0]):
        m = RadonReLURegressor(**kw).fit(X, T)
        assert m.n_neurons_ <= neuron_bound(X) == 17
        assert m.certified_
        np.testing.assert_allclose(m.predict(X), T, atol=1e-5 * np.abs(T).max())


def test_interpolation_with_repeated_points_is_certified():
    # Repeated points with different targets: the optimum at alpha = 0 is their spread,
    # which no network can fit, and the certificate knows it.
    X, y = _interpolation_data(12, 1, seed=2)
    X = np.vstack([X, X[:4]])
    y = np.concatenate([y, y[:4] + 1.0])
    m = RadonReLURegressor(alpha=0.0, directions=16, random_state=0).fit(X, y)
    expected = 0.5 * 8 * 0.5 ** 2 / len(y)  # 4 pairs, each 0.5 from its mean
    np.testing.assert_allclose(m.objective_, expected, rtol=1e-8)
    assert m.certified_
    assert m.n_neurons_ <= neuron_bound(X)


def test_interpolation_objective_values():
    from radonsolve.lasso import interpolation_objective

    X = np.array([[0.0, 1.0], [2.0, 3.0], [0.0, 1.0], [0.0, 1.0]])
    y = np.array([1.0, 5.0, 2.0, 4.0])
    u = np.array([0.1, 0.2, 0.3, 0.4])
    # Weighted mean of the repeated point: (0.1 + 0.6 + 1.6) / 0.8.
    m = 2.3 / 0.8
    expected = 0.5 * (0.1 * (1 - m) ** 2 + 0.3 * (2 - m) ** 2 + 0.4 * (4 - m) ** 2)
    assert interpolation_objective(X, y, u) == pytest.approx(expected, rel=1e-14)
    assert interpolation_objective(X[:2], y[:2], np.array([0.5, 0.5])) == 0.0
