"""The data fits of radonsolve.datafits: derivatives, conjugates, duality, input errors."""

import numpy as np
import pytest

from radonsolve.datafits import Huber, Logistic, Poisson, Quadratic, fit_affine

N = 30


def _make(name, rng):
    u = rng.rand(N) + 0.1
    u /= u.sum()
    if name == "quadratic":
        return Quadratic(rng.randn(N), u)
    if name == "huber":
        return Huber(2 * rng.randn(N), u, epsilon=0.7)
    if name == "poisson":
        y = rng.poisson(2.0, N).astype(float)
        y[:3] = 0.0
        return Poisson(y, u)
    return Logistic((rng.rand(N) > 0.5).astype(float), u)


NAMES = ["quadratic", "huber", "poisson", "logistic"]


def _point(fit, rng):
    """Outputs away from Huber's kinks (finite differences straddle no kink)."""
    f = rng.randn(N)
    if isinstance(fit, Huber):
        r = fit.y - f
        near = np.abs(np.abs(r) - fit.epsilon) < 0.05
        f[near] += 0.2
    return f


@pytest.mark.parametrize("name", NAMES)
def test_gradient_and_hessian_match_finite_differences(name):
    rng = np.random.RandomState(0)
    fit = _make(name, rng)
    f = _point(fit, rng)
    h = 1e-6
    fd_grad = np.array([(fit.value(f + h * e) - fit.value(f - h * e)) / (2 * h)
                        for e in np.eye(N)])
    g = fit.gradient(f)
    assert np.allclose(g, fd_grad, rtol=1e-6, atol=1e-8 * np.abs(g).max())
    fd_hess = np.array([(fit.gradient(f + h * e)[i] - fit.gradient(f - h * e)[i]) / (2 * h)
                        for i, e in enumerate(np.eye(N))])
    H = fit.hessian(f)
    assert np.allclose(H, fd_hess, rtol=1e-5, atol=1e-7 * np.abs(H).max())
    # The gradient is separable: off-diagonal Hessian entries vanish.
    e0 = np.eye(N)[0]
    assert np.allclose((fit.gradient(f + h * e0) - fit.gradient(f - h * e0))[1:], 0.0)


@pytest.mark.parametrize("name", NAMES)
def test_fenchel_young_equality_at_the_dual_point_and_inequality_elsewhere(name):
    # l(f) + l*(z) >= z f, with equality at z = l'(f); here theta = -u z.
    rng = np.random.RandomState(1)
    fit = _make(name, rng)
    f = _point(fit, rng)
    theta = fit.dual_point(f)
    z = -theta / fit.u
    lstar = -fit.conjugate(theta / fit.u)
    assert np.allclose(fit.losses(f) + lstar, z * f, atol=1e-12 * (1 + np.abs(z * f)).max())
    for _ in range(5):
        other = fit.dual_point(_point(fit, rng))
        other = other * fit.feasible_scale(other)
        zo = -other / fit.u
        lo = -fit.conjugate(other / fit.u)
        assert np.all(np.isfinite(lo))
        assert np.all(fit.losses(f) + lo >= zo * f - 1e-12 * (1 + np.abs(zo * f)))


@pytest.mark.parametrize("name", NAMES)
def test_dual_value_is_zero_at_zero_and_the_loss_infimum_is_zero(name):
    rng = np.random.RandomState(2)
    fit = _make(name, rng)
    assert fit.dual_value(np.zeros(N)) == pytest.approx(0.0, abs=1e-12)
    assert fit.value(_point(fit, rng)) >= 0.0


@pytest.mark.parametrize("name", ["huber", "poisson", "logistic"])
def test_feasible_scale_is_the_largest_feasible_shrinking(name):
    rng = np.random.RandomState(3)
    fit = _make(name, rng)
    # A point far outside the conjugate's domain in the shrinkable direction.
    theta = 3.0 * fit.dual_point(_point(fit, rng) + 2.0 * rng.randn(N))
    s = fit.feasible_scale(theta)
    assert 0.0 <= s < 1.0
    assert np.isfinite(fit.dual_value(s * theta))
    assert fit.dual_value(min(1.0, s * 1.01) * theta) == -np.inf


def test_logistic_wrong_sign_is_not_shrinkable():
    fit = Logistic(np.array([1.0, 0.0]), np.array([0.5, 0.5]))
    # theta / u = y - pi; pi > 1 for the positive label at any s > 0.
    assert fit.feasible_scale(np.array([-0.1, -0.1])) == 0.0


def test_weak_duality_and_equality_at_the_optimum_of_the_affine_fit():
    # min_b L(A b) has the dual max { D(theta) : A^T theta = 0 }; at the optimum the dual
    # point is orthogonal to A and both values agree.
    rng = np.random.RandomState(4)
    x = rng.randn(N)
    A = np.column_stack([np.ones(N), x])
    for name in NAMES:
        fit = _make(name, rng)
        b, f = fit_affine(fit, A)
        theta = fit.dual_point(f)
        scale = np.abs(A).T @ np.abs(theta)
        assert np.all(np.abs(A.T @ theta) <= 1e-9 * scale + 1e-15)
        assert fit.dual_value(theta) == pytest.approx(fit.value(f), rel=1e-9, abs=1e-12)
        for _ in range(5):
            other = f + A @ rng.randn(2)
            assert fit.value(other) >= fit.value(f) - 1e-12


def test_poisson_affine_fit_matches_scikit_learn_glm():
    from sklearn.linear_model import PoissonRegressor

    rng = np.random.RandomState(5)
    x = rng.randn(200, 2)
    y = rng.poisson(np.exp(0.3 + 0.5 * x[:, 0] - 0.2 * x[:, 1])).astype(float)
    u = np.full(200, 1 / 200)
    A = np.column_stack([np.ones(200), x])
    b, f = fit_affine(Poisson(y, u), A)
    ref = PoissonRegressor(alpha=0.0, tol=1e-12, max_iter=1000, solver="newton-cholesky")
    ref.fit(x, y)
    assert np.allclose(b, np.r_[ref.intercept_, ref.coef_], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_cvxpy_loss_is_the_same_loss(name):
    cp = pytest.importorskip("cvxpy")
    rng = np.random.RandomState(6)
    fit = _make(name, rng)
    f = _point(fit, rng)
    F = cp.Variable(N)
    F.value = f
    assert float(fit.cvxpy_loss(F).value) == pytest.approx(fit.value(f), rel=1e-12)


def test_input_errors_name_the_argument():
    u = np.full(3, 1 / 3)
    with pytest.raises(ValueError, match="y must be nonnegative"):
        Poisson(np.array([1.0, -1.0, 0.0]), u)
    with pytest.raises(ValueError, match="y must have a positive"):
        Poisson(np.zeros(3), u)
    with pytest.raises(ValueError, match="epsilon must be a positive"):
        Huber(np.zeros(3), u, epsilon=0.0)
    with pytest.raises(ValueError, match="y must hold labels 0 and 1"):
        Logistic(np.array([0.0, 2.0, 1.0]), u)
    with pytest.raises(ValueError, match="u must be positive"):
        Quadratic(np.zeros(3), np.array([0.5, 0.5, 0.0]))
    with pytest.raises(ValueError, match="u has shape"):
        Quadratic(np.zeros(3), np.full(2, 0.5))


def test_inputs_are_not_modified():
    y = np.array([1.0, 2.0, 0.0])
    u = np.full(3, 1 / 3)
    y0, u0 = y.copy(), u.copy()
    fit = Poisson(y, u)
    fit_affine(fit, np.ones((3, 1)))
    assert np.array_equal(y, y0) and np.array_equal(u, u0)


# ------------------------------------------------------------------ multinomial (K outputs)
def _multinomial(rng, K=3):
    from radonsolve.datafits import Multinomial

    u = rng.rand(N) + 0.1
    return Multinomial(rng.randint(0, K, N), u / u.sum(), n_classes=K)


def test_multinomial_gradient_and_hessian_blocks_match_finite_differences():
    rng = np.random.RandomState(10)
    fit = _multinomial(rng)
    f = rng.randn(N, 3)
    h = 1e-6
    g = fit.gradient(f)
    H = fit.hessian(f)
    for k in range(3):
        E = np.zeros_like(f)
        E[:, k] = h
        # Samples are separable: one shift of column k gives every sample's derivative.
        fd = (fit.losses(f + E) - fit.losses(f - E)) / (2 * h) * fit.u
        assert np.allclose(g[:, k], fd, rtol=1e-6, atol=1e-9)
        fdH = (fit.gradient(f + E) - fit.gradient(f - E)) / (2 * h)
        assert np.allclose(H[:, :, k], fdH, rtol=1e-5, atol=1e-9)


def test_multinomial_value_is_the_classifiers_cross_entropy():
    from radonsolve.solvers.logistic import cross_entropy

    rng = np.random.RandomState(11)
    fit = _multinomial(rng)
    f = 3 * rng.randn(N, 3)
    assert fit.value(f) == pytest.approx(float(fit.u @ cross_entropy(f, fit.Y1.astype(bool))),
                                         rel=1e-12)


def test_multinomial_fenchel_young_and_feasible_scale():
    rng = np.random.RandomState(12)
    fit = _multinomial(rng)
    f = rng.randn(N, 3)
    theta = fit.dual_point(f)
    # l(f) + l*(z) = <z, f> at z = l'(f), summed with the weights u.
    zf = float(np.sum(-theta * f))
    assert fit.value(f) - fit.dual_value(theta) == pytest.approx(zf, rel=1e-10, abs=1e-12)
    for _ in range(5):
        other = fit.dual_point(3 * rng.randn(N, 3)) * 3.0
        s = fit.feasible_scale(other)
        assert 0 < s < 1
        assert np.isfinite(fit.dual_value(s * other))
        assert fit.dual_value(min(1.0, 1.01 * s) * other) == -np.inf
        # weak Fenchel-Young inequality at the feasible point
        assert fit.value(f) - fit.dual_value(s * other) >= float(np.sum(-s * other * f)) - 1e-12
    assert fit.dual_value(np.zeros((N, 3))) == pytest.approx(0.0, abs=1e-15)


def test_multinomial_cvxpy_loss_and_errors():
    cp = pytest.importorskip("cvxpy")
    from radonsolve.datafits import Multinomial

    rng = np.random.RandomState(13)
    fit = _multinomial(rng)
    f = rng.randn(N, 3)
    F = cp.Variable((N, 3))
    F.value = f
    assert float(fit.cvxpy_loss(F).value) == pytest.approx(fit.value(f), rel=1e-12)
    with pytest.raises(ValueError, match="class indices"):
        Multinomial(np.array([0.5, 1.0]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="n_classes"):
        Multinomial(np.array([0, 3]), np.array([0.5, 0.5]), n_classes=2)
