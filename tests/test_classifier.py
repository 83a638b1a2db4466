"""RadonReLUClassifier: scikit-learn compatibility, agreement with the cvxpy reference,
the duality gap as a certificate, alpha_max, validation."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from radonsolve.classifier import RadonReLUClassifier, alpha_max_classification


@parametrize_with_checks([RadonReLUClassifier(alpha=0.01, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def data(n_classes, n=40, seed=0):
    if n_classes == 2:
        X, y = make_moons(n, noise=0.25, random_state=seed)
    else:
        X, y = make_blobs(n, centers=n_classes, cluster_std=2.5, random_state=seed)
    s = np.random.default_rng(seed).uniform(0.5, 2.0, n)
    return X, y, s


def alpha_max_of(X, y, s=None, **kw):
    return RadonReLUClassifier(alpha=1.0, **kw).fit(X, y, sample_weight=s).alpha_max_


@pytest.mark.parametrize("n_classes", [2, 3])
def test_matches_cvxpy_and_gap_bounds_suboptimality(n_classes):
    X, y, s = data(n_classes)
    kw = dict(directions=8, random_state=0)
    amax = alpha_max_of(X, y, s, **kw)
    for frac in (0.3, 0.01):
        alpha = frac * amax
        fast = RadonReLUClassifier(alpha, tol=1e-10, **kw).fit(X, y, sample_weight=s)
        ref = RadonReLUClassifier(alpha, solver="cvxpy", **kw).fit(X, y, sample_weight=s)
        assert fast.objective_ == pytest.approx(ref.objective_, rel=1e-6)
        assert fast.n_neurons_ > 0
        # The reported gap is a certificate: objective - gap is a lower bound on the optimum,
        # also for an early stop (here after one working-set round).
        assert fast.dual_gap_ >= -1e-12
        assert fast.objective_ - fast.dual_gap_ <= ref.objective_ + 1e-9
        assert ref.objective_ - ref.dual_gap_ <= fast.objective_ + 1e-9
        with pytest.warns(ConvergenceWarning):
            early = RadonReLUClassifier(alpha, max_iter=1, tol=1e-12, **kw).fit(
                X, y, sample_weight=s)
        assert early.objective_ >= ref.objective_ - 1e-8
        assert early.objective_ - early.dual_gap_ <= ref.objective_ + 1e-9


def test_gap_formula_against_independent_dual():
    """The dual value behind dual_gap_, recomputed here from the formula of the docstring."""
    from scipy.special import softmax

    from radonsolve.dictionary import ReLUDictionary
    X, y, s = data(3, n=30, seed=1)
    clf = RadonReLUClassifier(3e-3, directions=6, random_state=0, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y, sample_weight=s)
    u = s / s.sum()
    Y1 = np.eye(3)[y]
    F = clf.decision_function(X)
    Pi = softmax(F, axis=1)
    # Affine feasibility by a plain least-squares correction in the Hessian metric.
    A = np.column_stack([np.ones(len(X)), X])
    Th = u[:, None] * (Y1 - Pi)
    H = np.zeros((3 * 3, 3 * 3))
    for n in range(len(X)):
        Hn = np.diag(Pi[n]) - np.outer(Pi[n], Pi[n])
        H += u[n] * np.kron(np.outer(A[n], A[n]), Hn)
    lam = np.linalg.lstsq(H, (A.T @ Th).ravel(), rcond=1e-12)[0].reshape(3, 3)
    Pp = np.array([Pi[n] + (np.diag(Pi[n]) - np.outer(Pi[n], Pi[n])) @ (lam.T @ A[n])
                   for n in range(len(X))])
    Thp = u[:, None] * (Y1 - Pp)
    assert np.abs(A.T @ Thp).max() < 1e-12
    assert Pp.min() >= -1e-15          # on the simplex (up to rounding of this formula)
    Pp = np.maximum(Pp, 0.0)
    Phi = ReLUDictionary(X, clf.directions_).toarray()
    cmax = np.linalg.norm(Phi.T @ Thp, axis=1).max()
    sc = min(1.0, clf.alpha / cmax)
    Pd = (1 - sc) * Y1 + sc * Pp
    dual = float(u @ -np.sum(np.where(Pd > 0, Pd * np.log(np.where(Pd > 0, Pd, 1)), 0), axis=1))
    assert clf.objective_ - max(dual, 0.0) == pytest.approx(clf.dual_gap_, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_alpha_max_gives_no_neuron(n_classes):
    X, y, s = data(n_classes, n=60)
    amax = alpha_max_classification(X, y, sample_weight=s, random_state=0)
    assert amax > 0
    assert amax == pytest.approx(alpha_max_of(X, y, s, random_state=0), rel=1e-12)
    for a in (amax, 2 * amax):
        clf = RadonReLUClassifier(a, random_state=0).fit(X, y, sample_weight=s)
        assert clf.n_neurons_ == 0
        assert clf.alpha_max_ == pytest.approx(amax)
    assert RadonReLUClassifier(0.9 * amax, random_state=0).fit(
        X, y, sample_weight=s).n_neurons_ > 0


def test_moons_high_accuracy():
    X, y = make_moons(400, noise=0.1, random_state=0)
    Xt, yt = make_moons(400, noise=0.1, random_state=1)
    clf = RadonReLUClassifier(alpha=1e-4, random_state=0).fit(X, y)
    assert clf.score(X, y) >= 0.99
    assert clf.score(Xt, yt) >= 0.97
    assert clf.dual_gap_ <= 1e-6 * np.log(2)
    proba = clf.predict_proba(Xt)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(Xt))


def test_multiclass_outputs_and_labels():
    X, y = make_blobs(80, centers=4, cluster_std=1.5, random_state=0)
    labels = np.array(["a", "b", "c", "d"])[y]
    clf = RadonReLUClassifier(alpha=1e-3, random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["a", "b", "c", "d"]
    assert clf.network_.outer.shape == (clf.n_neurons_, 4)
    assert clf.decision_function(X).shape == (80, 4)
    assert clf.score(X, labels) > 0.95
    # Logits are centred across classes (softmax is shift invariant).
    assert np.allclose(clf.network_.outer.sum(axis=1), 0, atol=1e-10)


def test_linearly_separable_data_certified():
    """The unpenalized skip connection separates: (C) has no minimizer, the infimum is 0,
    and the fit stops with a certified gap (the dual point 0) and perfect accuracy."""
    X, y = make_blobs(60, centers=[[-3, 0], [3, 0]], cluster_std=0.5, random_state=0)
    clf = RadonReLUClassifier(alpha=1e-3, random_state=0).fit(X, y)
    assert clf.score(X, y) == 1.0
    assert clf.n_neurons_ == 0
    assert clf.objective_ <= 1e-6 * np.log(2)
    assert clf.dual_gap_ <= 1e-6 * np.log(2)


def test_sample_weight_is_repetition():
    X, y, _ = data(2, n=30)
    w = np.random.default_rng(0).integers(1, 4, len(y))
    a = RadonReLUClassifier(alpha=3e-3, random_state=0, tol=1e-10).fit(X, y, sample_weight=w)
    b = RadonReLUClassifier(alpha=3e-3, random_state=0, tol=1e-10).fit(
        np.repeat(X, w, axis=0), np.repeat(y, w))
    assert a.objective_ == pytest.approx(b.objective_, rel=1e-9)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-6, atol=1e-9)


def test_inputs_not_modified():
    X, y, s = data(3, n=30)
    X0, y0, s0 = X.copy(), y.copy(), s.copy()
    RadonReLUClassifier(alpha=1e-2, random_state=0).fit(X, y, sample_weight=s)
    assert np.array_equal(X, X0) and np.array_equal(y, y0) and np.array_equal(s, s0)


@pytest.mark.parametrize("alpha", [-1.0, 0.0, np.nan, np.inf, "1", None, True])
def test_bad_alpha(alpha):
    X, y, _ = data(2, n=20)
    with pytest.raises(ValueError, match="alpha"):
        RadonReLUClassifier(alpha=alpha).fit(X, y)


def test_validation_errors():
    X, y, _ = data(2, n=20)
    Xn = X.copy()
    Xn[3, 0] = np.nan
    with pytest.raises(ValueError):
        RadonReLUClassifier().fit(Xn, y)
    with pytest.raises(ValueError, match="class"):
        RadonReLUClassifier().fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="class"):
        RadonReLUClassifier().fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError):
        RadonReLUClassifier().fit(X, y, sample_weight=np.ones(19))
    with pytest.raises(ValueError):
        RadonReLUClassifier().fit(X, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError):
        RadonReLUClassifier().fit(X, np.linspace(0, 1, 20))      # continuous target
    with pytest.raises(ValueError, match="solver"):
        RadonReLUClassifier(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="max_iter"):
        RadonReLUClassifier(max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="tol"):
        RadonReLUClassifier(tol=-1).fit(X, y)
    clf = RadonReLUClassifier(alpha=1e-2, random_state=0).fit(X, y)
    with pytest.raises(ValueError):
        clf.predict(np.ones((3, 5)))
