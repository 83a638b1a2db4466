"""Tests of the bundled and generated data sets (radonsolve.datasets)."""

import numpy as np
import pytest

from radonsolve.datasets import (load_diabetes_standardized, make_piecewise_linear_1d,
                                 make_relu_ridges_2d, make_relu_ridges_3d,
                                 piecewise_linear_truth, relu_ridges_3d_truth,
                                 relu_ridges_truth)


@pytest.mark.parametrize("make,d", [(make_piecewise_linear_1d, 1), (make_relu_ridges_2d, 2)])
def test_generators_are_reproducible_and_shaped(make, d):
    X, y = make(57, random_state=3)
    assert X.shape == (57, d) and y.shape == (57,)
    X2, y2 = make(57, random_state=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(57, random_state=4)
    assert not np.array_equal(X, X3)
    assert np.all(np.abs(X) <= 1.0)


def test_noise_free_samples_are_the_truth():
    X, y = make_piecewise_linear_1d(40, noise=0.0, random_state=0)
    np.testing.assert_allclose(y, piecewise_linear_truth(X[:, 0]))
    assert np.all(np.diff(X[:, 0]) >= 0)          # sorted
    X, y = make_relu_ridges_2d(40, noise=0.0, random_state=0)
    np.testing.assert_allclose(y, relu_ridges_truth(X))


def test_piecewise_truth_has_its_four_knots():
    # The second difference of a piecewise-linear function is nonzero only around knots.
    x = np.linspace(-1, 1, 2001)
    f = piecewise_linear_truth(x)
    dd = np.abs(np.diff(f, 2))
    kinks = x[1:-1][dd > 1e-9]
    for k in (-0.5, 0.0, 0.3, 0.7):
        assert np.min(np.abs(kinks - k)) < 2e-3
    assert len(kinks) <= 8


def test_diabetes_standardized():
    X, y = load_diabetes_standardized()
    assert X.shape == (442, 10) and y.shape == (442,)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1, rtol=1e-12)
    assert y.mean() == pytest.approx(0, abs=1e-12) and y.std() == pytest.approx(1)


def test_relu_ridges_3d():
    X, y = make_relu_ridges_3d(300, random_state=5)
    assert X.shape == (300, 3) and y.shape == (300,)
    X2, y2 = make_relu_ridges_3d(300, random_state=5)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    # The noise is added after the inputs are drawn: same X, y differs by noise * z.
    X0, y0 = make_relu_ridges_3d(300, noise=0.0, random_state=5)
    np.testing.assert_array_equal(X0, X)
    np.testing.assert_allclose(y0, relu_ridges_3d_truth(X))
    assert 0.07 < np.std(y - y0) < 0.13
    # Three neurons: piecewise linear with hyperplanes of three directions. On a line that
    # crosses each hyperplane once, the second differences vanish except near 3 kinks.
    t = np.linspace(-6, 6, 6001)
    line = np.outer(t, [0.3, 0.5, 0.7]) + [0.1, -0.2, 0.05]
    dd = np.abs(np.diff(relu_ridges_3d_truth(line), 2))
    kinks = t[1:-1][dd > 1e-9]
    groups = np.sum(np.diff(kinks) > 0.01) + 1 if len(kinks) else 0
    assert groups == 3
    # At the origin only the third ridge is on: 0.8 * relu(0.4).
    assert relu_ridges_3d_truth(np.zeros((1, 3)))[0] == pytest.approx(0.8 * 0.4)
