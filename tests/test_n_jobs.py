"""n_jobs on the estimator: the certificate runs in parallel, the fit does not change."""

import numpy as np
import pytest

from radonsolve import RadonReLURegressor


@pytest.mark.parametrize("d", [2, 3])
def test_fit_does_not_depend_on_n_jobs(d):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (60, d))
    y = np.maximum(X @ rng.standard_normal(d), 0) + 0.05 * rng.standard_normal(60)
    kw = dict(alpha=3e-3, directions=8, random_state=0, max_rounds=3)
    fits = [RadonReLURegressor(n_jobs=n, **kw).fit(X, y) for n in (1, 2)]
    a, b = (f.network_ for f in fits)
    assert a.n_neurons == b.n_neurons
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.outer, b.outer)
    assert fits[0].objective_ == fits[1].objective_
    assert fits[0].certificate_ == fits[1].certificate_


def test_n_jobs_is_validated():
    X = np.random.default_rng(0).uniform(-1, 1, (20, 2))
    with pytest.raises(ValueError, match="n_jobs"):
        RadonReLURegressor(n_jobs="two").fit(X, X[:, 0])
