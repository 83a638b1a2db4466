"""scikit-learn's estimator checks on the radonsolve estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from radonsolve import RadonReLURegressor


@parametrize_with_checks([RadonReLURegressor(alpha=0.01, max_rounds=2, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
