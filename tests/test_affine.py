"""The affine part (radonsolve.affine): projector and basis, as properties of span{1, X}."""

import numpy as np
import pytest

from radonsolve.affine import AffineProjector, affine_basis


def _data(seed, N=40, d=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    u = rng.uniform(0.1, 1.0, N)
    return rng, X, u / u.sum()


def _unscaled(proj, z):
    """The projector on unscaled vectors: z -> rho with sqrt(u) rho = P (sqrt(u) z)."""
    su = proj.sqrt_u[:, None] if z.ndim == 2 else proj.sqrt_u
    return proj.project(su * z) / su


def _span_residual(M, Z):
    """Relative distance of the columns of Z from span(M) (independent least squares)."""
    R = Z - M @ np.linalg.lstsq(M, Z, rcond=None)[0]
    return np.linalg.norm(R) / np.linalg.norm(Z)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_projector_is_idempotent_and_self_adjoint_in_the_u_inner_product(seed):
    rng, X, u = _data(seed)
    proj = AffineProjector(X, u)
    a, b = rng.standard_normal((2, len(u)))
    Pa, Pb = _unscaled(proj, a), _unscaled(proj, b)
    inner = lambda x, y: float(np.sum(u * x * y))  # noqa: E731
    scale = np.sqrt(inner(a, a) * inner(b, b))
    assert abs(inner(Pa, b) - inner(a, Pb)) <= 1e-12 * scale
    np.testing.assert_allclose(_unscaled(proj, Pa), Pa, rtol=0, atol=1e-12 * np.abs(a).max())
    # The complement: what is removed is affine, what is left is u-orthogonal to 1 and X.
    M = np.column_stack([np.ones(len(u)), X])
    assert _span_residual(M, (a - Pa)[:, None]) < 1e-12
    np.testing.assert_allclose(M.T @ (u * Pa), 0.0, atol=1e-12 * np.abs(a).max())


def test_projector_annihilates_affine_functions_and_keeps_their_complement():
    rng, X, u = _data(3)
    proj = AffineProjector(X, u)
    F = rng.standard_normal((1, 4)) + X @ rng.standard_normal((3, 4))   # 4 affine functions
    out = proj.project(proj.sqrt_u[:, None] * F)
    assert np.abs(out).max() <= 1e-12 * np.abs(F).max()
    # Vector path and compiled matrix path agree column by column.
    Z = rng.standard_normal((len(u), 3))
    cols = np.column_stack([proj.project(Z[:, j]) for j in range(3)])
    np.testing.assert_allclose(proj.project(Z), cols, rtol=0, atol=1e-13 * np.abs(Z).max())
    np.testing.assert_allclose(proj.Q.T @ proj.Q, np.eye(proj.rank), atol=1e-13)
    assert proj.rank == X.shape[1] + 1


def test_rank_cut_is_relative_to_the_scale_of_each_column():
    # Columns of scale 1e-12 .. 1e12 span the same affine functions as unit columns: same
    # projection, same rank, same basis span (a cut relative to the largest column would
    # drop the small ones).
    rng, X, u = _data(4, N=50, d=5)
    scales = np.logspace(-12, 12, 5)
    Z = rng.standard_normal((50, 2))
    ref = AffineProjector(X, u)
    scaled = AffineProjector(X * scales, u)
    assert scaled.rank == ref.rank == 6
    np.testing.assert_allclose(scaled.project(Z), ref.project(Z), rtol=0,
                               atol=1e-9 * np.abs(Z).max())
    A_ref, _ = affine_basis(X)
    A_sc, _ = affine_basis(X * scales)
    assert A_sc.shape[1] == 6
    np.testing.assert_allclose(A_sc @ (A_sc.T @ Z), A_ref @ (A_ref.T @ Z), rtol=0,
                               atol=1e-9 * np.abs(Z).max())


@pytest.mark.parametrize("offset", [0.0, 1e100])
def test_ones_column_is_kept_far_from_the_origin(offset):
    # |x| ~ 1e100: without centring, the ones column looks negligible next to X.
    rng, X0, u = _data(5, N=30, d=2)
    X = offset + 1e97 * X0 if offset else 1e100 * X0
    proj = AffineProjector(X, u)
    assert proj.rank == 3
    ones = proj.project(proj.sqrt_u)
    assert np.abs(ones).max() <= 1e-12 * np.abs(proj.sqrt_u).max()
    # Same projection as on the unit-scale data (the same affine span).
    z = rng.standard_normal(30)
    np.testing.assert_allclose(proj.project(z), AffineProjector(X0, u).project(z), rtol=0,
                               atol=1e-9 * np.abs(z).max())
    A, to_affine = affine_basis(X)
    assert A.shape[1] == 3
    one = np.ones(30)
    np.testing.assert_allclose(A @ (A.T @ one), one, rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
def test_affine_basis_spans_ones_and_X_and_maps_back_to_coefficients(seed):
    rng, X, _ = _data(seed, N=25, d=3)
    A, to_affine = affine_basis(X)
    M = np.column_stack([np.ones(25), X])
    assert A.flags.c_contiguous and A.shape == (25, 4) and to_affine.shape == (4, 4)
    np.testing.assert_allclose(A.T @ A, np.eye(4), atol=1e-13)
    np.testing.assert_allclose(A @ (A.T @ M), M, rtol=0, atol=1e-12 * np.abs(M).max())
    # to_affine: the function A @ B is c0 + X c with [c0; c] = to_affine @ B.
    B = rng.standard_normal(4)
    f = A @ B
    np.testing.assert_allclose(M @ (to_affine @ B), f, rtol=0, atol=1e-12 * np.abs(f).max())
    beta = np.array([0.5, -1.0, 2.0, 3.0])
    np.testing.assert_allclose(to_affine @ (A.T @ (M @ beta)), beta, rtol=1e-12, atol=0)


def test_rank_deficient_affine_part():
    rng = np.random.default_rng(6)
    # Collinear features (x2 = 2 x1 - 1, a combination of x1 and the ones column).
    x = rng.standard_normal(20)
    X = np.column_stack([x, 2 * x - 1, rng.standard_normal(20)])
    u = np.full(20, 1 / 20)
    proj = AffineProjector(X, u)
    A, to_affine = affine_basis(X)
    assert proj.rank == A.shape[1] == 3
    M = np.column_stack([np.ones(20), X])
    np.testing.assert_allclose(A @ (A.T @ M), M, rtol=0, atol=1e-12 * np.abs(M).max())
    B = rng.standard_normal(3)
    np.testing.assert_allclose(M @ (to_affine @ B), A @ B, rtol=0, atol=1e-12)
    # Fewer samples than features: every vector is affine on the data.
    Xw = rng.standard_normal((4, 6))
    pw = AffineProjector(Xw, np.full(4, 0.25))
    assert pw.rank == 4 and affine_basis(Xw)[0].shape[1] == 4
    assert np.abs(pw.project(rng.standard_normal(4))).max() < 1e-12


def test_affine_fit_is_the_weighted_least_squares_fit_and_inputs_are_untouched():
    rng, X, u = _data(7, N=30, d=2)
    Y = 1e6 + rng.standard_normal((30, 2))
    E = Y - 1e6                                 # exact (Sterbenz)
    X0, u0, Y0 = X.copy(), u.copy(), Y.copy()
    proj = AffineProjector(X, u)
    coef, intercept = proj.affine_fit(Y)
    M = np.column_stack([np.ones(30), X]) * np.sqrt(u)[:, None]
    ref = np.linalg.lstsq(M, np.sqrt(u)[:, None] * E, rcond=None)[0]
    # A large mean must not cost the slope digits: the fit of 1e6 + E is that of E,
    # shifted (the plain least squares on 1e6 + E itself loses about 6 of them).
    np.testing.assert_allclose(coef, ref[1:], rtol=1e-12)
    np.testing.assert_allclose(intercept, ref[0] + 1e6, rtol=1e-14)
    c1, i1 = proj.affine_fit(Y[:, 0])
    np.testing.assert_allclose(c1, coef[:, 0], rtol=1e-12)
    assert np.isclose(i1, intercept[0], rtol=1e-14)
    Z = rng.standard_normal((30, 2))
    Zc = Z.copy()
    proj.project(Z)
    affine_basis(X)
    for a, b in ((X, X0), (u, u0), (Y, Y0), (Z, Zc)):
        np.testing.assert_array_equal(a, b)


def test_projector_and_basis_share_one_span():
    _, X, _ = _data(8)
    proj = AffineProjector(X, np.full(len(X), 1 / len(X)))
    A, _ = affine_basis(X)
    np.testing.assert_allclose(proj.Q @ proj.Q.T, A @ A.T, rtol=0, atol=1e-13)


def test_old_import_paths_are_the_same_objects():
    from radonsolve import affine, dictionary
    from radonsolve.solvers import newton

    assert dictionary.AffineProjector is affine.AffineProjector
    assert newton.affine_basis is affine.affine_basis
