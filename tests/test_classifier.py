"""RadonReLUClassifier: scikit-learn compatibility, agreement with the cvxpy reference, the
duality gap and the certificate over all directions, alpha_max, well-posedness on
separable data (the ridge on the skip connection), refinement, validation.

Problem changes (issue 9): the default ``skip_penalty="auto"`` puts the ridge
``(alpha / 2) ||c||^2`` on the skip's linear weights, so the dual point is orthogonal to the
constant only and the atoms come in both orientations; the tests of the dual point and of
alpha_max follow that problem. ``skip_penalty=0`` keeps the old free skip connection (its
separable-data test is kept below with that setting).
"""

import warnings

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.datasets import make_blobs, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from radonsolve.certificate import eta
from radonsolve.classifier import (RadonReLUClassifier, alpha_max_classification,
                                   certificate_two_sided)


# Default parameters, and a fit with neurons. The second runs without refinement: with 30
# features the certificate is searched, the two fits of the sample-weight equivalence check
# then add different directions and meet the tolerance at different points of a flat
# optimum (objectives equal to 1e-8, probabilities to 5e-4, not to the check's 1e-7).
@parametrize_with_checks([RadonReLUClassifier(),
                          RadonReLUClassifier(alpha=0.01, random_state=0, refine=False)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def data(n_classes, n=40, seed=0):
    if n_classes == 2:
        X, y = make_moons(n, noise=0.25, random_state=seed)
    else:
        X, y = make_blobs(n, centers=n_classes, cluster_std=2.5, random_state=seed)
    s = np.random.default_rng(seed).uniform(0.5, 2.0, n)
    return X, y, s


def separable(n=60, seed=0):
    return make_blobs(n, centers=[[-3, 0], [3, 0]], cluster_std=0.5, random_state=seed)


def alpha_max_of(X, y, s=None, **kw):
    return RadonReLUClassifier(alpha=1.0, **kw).fit(X, y, sample_weight=s).alpha_max_


def dense_atoms(X, W):
    """Every atom of the two-sided dictionary with a ridge, built here from its definition:
    ``max(+-(X w) -+ b, 0)`` at the data projections, and the linear neuron of each w."""
    cols = []
    for w in W:
        p = X @ w
        for s in (1.0, -1.0):
            for b in np.unique(s * p):
                cols.append(np.maximum(s * p - b, 0.0))
        cols.append(p - p.min())
    return np.array(cols).T


def logits2(F):
    return np.column_stack([np.zeros(len(F)), F]) if F.ndim == 1 else F


@pytest.mark.parametrize("n_classes", [2, 3])
def test_matches_cvxpy_and_gap_bounds_suboptimality(n_classes):
    X, y, s = data(n_classes)
    kw = dict(directions=8, random_state=0, refine=False)
    amax = alpha_max_of(X, y, s, **kw)
    for frac in (0.3, 0.01):
        alpha = frac * amax
        fast = RadonReLUClassifier(alpha, tol=1e-10, **kw).fit(X, y, sample_weight=s)
        ref = RadonReLUClassifier(alpha, solver="cvxpy", **kw).fit(X, y, sample_weight=s)
        assert fast.objective_ == pytest.approx(ref.objective_, rel=1e-6)
        assert fast.n_neurons_ > 0 or frac > 0.1
        # The reported gap is a certificate: objective - gap is a lower bound on the optimum,
        # also for an early stop (here after one working-set iteration).
        assert fast.dual_gap_ >= -1e-12
        assert fast.objective_ - fast.dual_gap_ <= ref.objective_ + 1e-9
        assert ref.objective_ - ref.dual_gap_ <= fast.objective_ + 1e-9
        with pytest.warns(ConvergenceWarning):
            early = RadonReLUClassifier(alpha, max_iter=1, tol=1e-12, **kw).fit(
                X, y, sample_weight=s)
        assert early.n_iter_ == 1
        assert early.objective_ >= ref.objective_ - 1e-8
        assert early.objective_ - early.dual_gap_ <= ref.objective_ + 1e-9


def test_free_skip_matches_cvxpy():
    X, y, s = data(2)
    kw = dict(directions=8, random_state=0, refine=False, skip_penalty=0)
    alpha = 0.1 * alpha_max_of(X, y, s, **kw)
    fast = RadonReLUClassifier(alpha, tol=1e-10, **kw).fit(X, y, sample_weight=s)
    ref = RadonReLUClassifier(alpha, solver="cvxpy", **kw).fit(X, y, sample_weight=s)
    assert fast.objective_ == pytest.approx(ref.objective_, rel=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_gap_formula_against_independent_dual(n_classes):
    """The dual value behind dual_gap_, recomputed here from the formulas of DESIGN §10:
    theta = u (Y1 - pi') with pi' corrected (Hessian metric) to be orthogonal to 1,
    dual ``sum_n u_n H(pi''_n) - s^2 ||X^T theta'||^2 / (2 beta)`` at the scaling s that
    keeps every atom's correlation within alpha."""
    X, y, s = data(n_classes, n=30, seed=1)
    W = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [-0.6, 0.8]])
    clf = RadonReLUClassifier(3e-3, directions=W, refine=False, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y, sample_weight=s)
    K = n_classes
    u = s / s.sum()
    Y1 = np.eye(K)[y]
    Pi = softmax(logits2(clf.decision_function(X)), axis=1)
    # Orthogonality to the constant: z_n = lam (one scalar per class) in the Hessian metric.
    Th = u[:, None] * (Y1 - Pi)
    H = sum(u[n] * (np.diag(Pi[n]) - np.outer(Pi[n], Pi[n])) for n in range(len(X)))
    lam = np.linalg.lstsq(H, Th.sum(axis=0), rcond=1e-12)[0]
    Pp = np.array([Pi[n] + (np.diag(Pi[n]) - np.outer(Pi[n], Pi[n])) @ lam
                   for n in range(len(X))])
    Thp = u[:, None] * (Y1 - Pp)
    assert np.abs(Thp.sum(axis=0)).max() < 1e-12
    assert Pp.min() >= -1e-15
    Pp = np.maximum(Pp, 0.0)
    th = Thp[:, 1] if K == 2 else Thp          # logit space
    Phi = dense_atoms(X, clf.directions_)
    C = Phi.T @ th
    cmax = np.abs(C).max() if K == 2 else np.linalg.norm(C, axis=1).max()
    smax = min(1.0, clf.alpha / cmax)
    g2 = float(np.sum((X.T @ th) ** 2))

    def dual(sc):
        Pd = (1 - sc) * Y1 + sc * Pp
        ent = -np.sum(np.where(Pd > 0, Pd * np.log(np.where(Pd > 0, Pd, 1)), 0), axis=1)
        return float(u @ ent) - 0.5 * sc * sc * g2 / clf.alpha

    best = max(max(dual(t) for t in np.linspace(0, smax, 4001)), 0.0)
    gap = clf.objective_ - best
    # The estimator maximizes over s exactly (Brent), the grid here to about 1e-7 relative.
    assert clf.dual_gap_ <= gap + 1e-12
    assert clf.dual_gap_ == pytest.approx(gap, rel=1e-5, abs=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_alpha_max_gives_no_atom(n_classes):
    X, y, s = data(n_classes, n=60)
    kw = dict(random_state=0, refine=False)
    amax = alpha_max_classification(X, y, sample_weight=s, random_state=0)
    assert 0 < amax < np.inf
    assert amax == pytest.approx(alpha_max_of(X, y, s, **kw), rel=1e-12)
    for a in (amax, 2 * amax):
        clf = RadonReLUClassifier(a, **kw).fit(X, y, sample_weight=s)
        assert clf.n_neurons_ == 0
        # no linear neuron either: the skip is the ridge fit, ||c|| = ||X^T theta|| / alpha <= 1
        assert np.linalg.norm(clf.network_.skip_coef, 2) <= 1 + 1e-6
    below = RadonReLUClassifier(0.9 * amax, **kw).fit(X, y, sample_weight=s)
    assert below.n_neurons_ > 0 or np.linalg.norm(below.network_.skip_coef, 2) > 1


def test_optimality_conditions_of_the_ridge():
    """At the optimum c = X^T theta / beta (no atom) and every atom's correlation, the
    linear neurons' ``||X^T theta||`` included, is at most alpha."""
    X, y, s = data(2, n=50)
    u = s / s.sum()
    amax = alpha_max_classification(X, y, sample_weight=s, random_state=0)
    for a, beta in ((2 * amax, "auto"), (0.05, 0.3)):
        clf = RadonReLUClassifier(a, skip_penalty=beta, tol=1e-10, random_state=0).fit(
            X, y, sample_weight=s)
        p = expit(clf.decision_function(X))
        theta = u * (y - p)
        assert abs(theta.sum()) <= 1e-8 * np.abs(theta).sum()
        g = X.T @ theta
        assert np.linalg.norm(g) <= a * (1 + 1e-5)
        if clf.n_neurons_ == 0 and np.linalg.norm(g) < a * (1 - 1e-3):
            b = clf.skip_penalty_
            np.testing.assert_allclose(clf.network_.skip_coef, g / b, rtol=1e-5,
                                       atol=1e-8 * np.linalg.norm(g) / b)


def test_certificate_two_sided_matches_dense_angle_grid():
    """Exact 2-D certificate over the full turn for a dual point orthogonal to 1 only."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 2)) + [0.5, -0.2]
    # orthogonal to 1, with a moderate component along the features
    A = np.column_stack([np.ones(40), X])
    t0 = rng.standard_normal(40)
    theta = t0 - A @ np.linalg.lstsq(A, t0, rcond=None)[0]
    theta += 0.05 * (X - X.mean(axis=0)) @ np.array([1.0, -2.0])
    alpha = 0.1
    cert = certificate_two_sided(X, theta, alpha)
    assert cert.exact
    ang = np.linspace(0, 2 * np.pi, 20001)
    Wg = np.column_stack([np.cos(ang), np.sin(ang)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        grid = eta(X, theta, alpha, Wg)[0]
    assert cert.eta >= grid.max() * (1 - 1e-12)
    assert cert.eta <= grid.max() * (1 + 1e-3)
    # Both orientations matter here: eta(w) and eta(-w) differ.
    assert np.abs(grid[:10000] - grid[10000:20000]).max() > 1e-2 * grid.max()
    # several logits (norm over classes): same agreement
    Th = np.column_stack([theta, -theta, 0.5 * theta[::-1] - 0.5 * theta[::-1].mean()])
    certK = certificate_two_sided(X, Th, alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        gridK = eta(X, Th, alpha, Wg)[0]
    assert certK.exact
    assert gridK.max() * (1 - 1e-12) <= certK.eta <= gridK.max() * (1 + 1e-3)
    # one feature: exact over w = +-1
    c1 = certificate_two_sided(X[:, :1], theta, alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        e1 = eta(X[:, :1], theta, alpha, np.array([[1.0], [-1.0]]))[0]
    assert c1.exact and c1.eta == pytest.approx(e1.max(), rel=1e-12)


def test_moons_certified_and_below_fixed_dictionary():
    X, y = make_moons(100, noise=0.15, random_state=0)
    alpha = 3e-3
    clf = RadonReLUClassifier(alpha, random_state=0).fit(X, y)
    assert clf.certified_
    assert clf.certificate_ <= 1 + 1e-6 or clf.global_gap_ <= 1e-6 * np.log(2)
    objs = [h.objective for h in clf.refinement_history_]
    assert all(b <= a + 1e-7 * abs(a) for a, b in zip(objs, objs[1:]))
    fixed = RadonReLUClassifier(alpha, directions=2048, refine=False, random_state=0).fit(X, y)
    assert clf.objective_ <= fixed.objective_ + 1e-6 * np.log(2)
    assert 1 <= clf.n_iter_ <= clf.max_iter
    assert clf.score(X, y) >= 0.97


def test_refinement_in_3d_improves_and_is_not_claimed_exact():
    """d >= 3: searched certificate, directions from the search and from local descent of
    the active neurons; each round's objective is at most the previous one's."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 3))
    y = (np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] > 0).astype(int)
    kw = dict(alpha=3e-3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RadonReLUClassifier(max_rounds=2, **kw).fit(X, y)
    fixed = RadonReLUClassifier(refine=False, **kw).fit(X, y)
    objs = [h.objective for h in clf.refinement_history_]
    assert objs[0] == pytest.approx(fixed.objective_, rel=1e-6)
    assert all(b <= a + 1e-6 * np.log(2) for a, b in zip(objs, objs[1:]))
    assert clf.objective_ < 0.99 * fixed.objective_
    assert not clf.certified_
    assert clf.global_gap_ >= 0 and clf.certificate_ > 0


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
    assert clf.certified_
    # Logits are centred across classes (softmax is shift invariant; the ridge and the
    # group penalty are smallest there).
    assert np.allclose(clf.network_.outer.sum(axis=1), 0, atol=1e-10)
    assert np.allclose(clf.network_.skip_coef.sum(axis=1), 0, atol=1e-10)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_separable_data_is_well_posed(n_classes):
    """With the ridge on the skip, separable classes get a bounded fit: finite positive
    alpha_max, probabilities away from 0 and 1, a certified optimum."""
    if n_classes == 2:
        X, y = separable()
    else:
        X, y = make_blobs(90, centers=[[-4, 0], [4, 0], [0, 6]], cluster_std=0.5,
                          random_state=0)
    amax = alpha_max_classification(X, y, random_state=0)
    assert 0 < amax < np.inf
    for frac in (1.0, 0.1, 0.01):
        clf = RadonReLUClassifier(frac * amax, random_state=0).fit(X, y)
        assert clf.score(X, y) == 1.0
        assert clf.certified_
        p = clf.predict_proba(X)
        assert p.max() < 1 - 1e-6 and p.min() > 1e-6
    # The network's linear part is bounded by the penalty: objective <= log(K) bounds it.
    assert clf.objective_ <= np.log(n_classes)


def test_free_skip_on_separable_data_has_no_minimizer():
    """skip_penalty=0: the unpenalized skip connection separates, (C) has no minimizer, the
    infimum is 0, and the fit stops with a certified gap (the dual point 0)."""
    X, y = separable()
    with pytest.warns(UserWarning, match="linearly separable"):
        clf = RadonReLUClassifier(alpha=1e-3, skip_penalty=0, random_state=0).fit(X, y)
    assert clf.score(X, y) == 1.0
    assert clf.n_neurons_ == 0
    assert clf.objective_ <= 1e-6 * np.log(2)
    assert clf.dual_gap_ <= 1e-6 * np.log(2)


def test_n_iter_within_bounds():
    X, y, _ = data(2, n=40)
    amax = alpha_max_classification(X, y, random_state=0)
    for a in (10 * amax, amax, 0.01 * amax):
        with warnings.catch_warnings():
            # an early stop is allowed here (and warns); only the count is checked
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = RadonReLUClassifier(a, random_state=0, max_iter=7).fit(X, y)
        assert 1 <= clf.n_iter_ <= 7


def test_warm_start_keeps_directions_and_optimum():
    X, y = make_moons(80, noise=0.2, random_state=1)
    cold = RadonReLUClassifier(3e-3, random_state=0).fit(X, y)
    clf = RadonReLUClassifier(1e-2, random_state=0, warm_start=True).fit(X, y)
    n_dir = len(clf.directions_)
    clf.set_params(alpha=3e-3).fit(X, y)
    assert len(clf.directions_) >= n_dir
    assert clf.certified_ and cold.certified_
    tol = 1e-6 * np.log(2)
    assert clf.objective_ == pytest.approx(cold.objective_, abs=2 * tol)


def test_sample_weight_is_repetition():
    X, y, _ = data(2, n=30)
    w = np.random.default_rng(0).integers(1, 4, len(y))
    kw = dict(alpha=3e-3, random_state=0, tol=1e-10, refine=False)
    a = RadonReLUClassifier(**kw).fit(X, y, sample_weight=w)
    b = RadonReLUClassifier(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
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


@pytest.mark.parametrize("value", [-1.0, np.nan, "ridge", True])
def test_bad_skip_penalty(value):
    X, y, _ = data(2, n=20)
    with pytest.raises(ValueError, match="skip_penalty"):
        RadonReLUClassifier(skip_penalty=value).fit(X, y)


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
    with pytest.raises(ValueError, match="refine"):
        RadonReLUClassifier(refine="yes").fit(X, y)
    with pytest.raises(ValueError, match="max_rounds"):
        RadonReLUClassifier(max_rounds=-1).fit(X, y)
    clf = RadonReLUClassifier(alpha=1e-2, random_state=0).fit(X, y)
    with pytest.raises(ValueError):
        clf.predict(np.ones((3, 5)))
