"""scikit-learn's estimator checks on the radonsolve estimators, with default parameters too."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from radonsolve import RadonReLUClassifier, RadonReLURegressor


@parametrize_with_checks([RadonReLURegressor(),
                          RadonReLURegressor(alpha=0.01, max_rounds=2, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("alpha", [1e-3, 1e3])
@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("make", [RadonReLURegressor, RadonReLUClassifier])
def test_n_iter_counts_what_max_iter_bounds(make, d, alpha):
    # 1e3 is above alpha_max: the start is optimal, and that first check is one iteration.
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (40, d))
    y = np.abs(X[:, 0]) if make is RadonReLURegressor else (np.abs(X[:, 0]) > 0.5)
    est = make(alpha=alpha, max_iter=50, random_state=0).fit(X, y)
    assert 1 <= est.n_iter_ <= est.max_iter
