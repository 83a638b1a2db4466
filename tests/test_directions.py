"""Directions on the canonical half-sphere."""

import numpy as np
import pytest

from radonsolve.directions import canonical_directions, make_directions, spread_directions


def test_canonical_normalizes_flips_and_dedupes():
    W = canonical_directions([[0.0, -2.0], [0.0, 1.0], [3.0, 4.0], [-3.0, -4.0], [0.0, 0.0]])
    np.testing.assert_allclose(W, [[0.0, 1.0], [0.6, 0.8]])


@pytest.mark.parametrize("d", [2, 3, 7])
def test_spread_directions_reproducible_and_spread(d):
    W1 = spread_directions(40, d, random_state=0)
    W2 = spread_directions(40, d, random_state=0)
    np.testing.assert_array_equal(W1, W2)
    np.testing.assert_allclose(np.linalg.norm(W1, axis=1), 1.0)
    G = np.abs(W1 @ W1.T) - 2 * np.eye(len(W1))
    assert G.max() < 0.999  # no two directions (up to sign) nearly equal


def test_make_directions_errors():
    with pytest.raises(ValueError, match="directions"):
        make_directions("many", 2)
    with pytest.raises(ValueError, match="positive"):
        make_directions(-3, 2)
    with pytest.raises(ValueError, match="shape"):
        make_directions(np.ones((3, 4)), 2)
    with pytest.raises(ValueError, match="NaN"):
        make_directions([[np.nan, 1.0]], 2)
    np.testing.assert_array_equal(make_directions(10, 1), [[1.0]])
