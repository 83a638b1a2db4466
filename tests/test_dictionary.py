"""The structured dictionary operator equals its dense matrix (DESIGN §2-3)."""

import numpy as np
import pytest

import radonsolve.dictionary as dictionary_module
from radonsolve.dictionary import AffineProjector, ReLUDictionary
from radonsolve.directions import spread_directions


def _data(d, n=37, seed=0):
    """Integer-valued points (many tied projections) with duplicated points."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-3, 4, size=(n, d)).astype(float)
    X[5] = X[2]
    X[9] = X[2]
    X[-1] = X[0]
    return X


def _directions(d):
    if d == 1:
        return np.ones((1, 1))
    if d == 2:
        # axis-aligned and diagonal directions make projections tie exactly
        s = np.sqrt(0.5)
        return np.array([[1.0, 0.0], [0.0, 1.0], [s, s], [s, -s], [0.6, 0.8]])
    W = np.vstack([np.eye(d), spread_directions(4, d, random_state=0)])
    return W


CASES = [(1, 0), (2, 0), (2, 1), (3, 2)]


@pytest.fixture(params=[False, True], ids=["serial", "parallel"])
def parallel(request, monkeypatch):
    """Run every product through both the serial and the parallel kernels."""
    monkeypatch.setattr(dictionary_module, "PARALLEL_MIN_ENTRIES",
                        0 if request.param else 10 ** 18)
    return request.param


@pytest.mark.parametrize("d,seed", CASES)
def test_atoms_are_distinct_interior_projections(d, seed):
    X = _data(d, seed=seed)
    W = _directions(d)
    dic = ReLUDictionary(X, W)
    P = X @ W.T
    assert dic.order.shape == (X.shape[0], len(W))
    assert dic.order.dtype == np.int32
    n_expected = 0
    for k in range(len(W)):
        np.testing.assert_allclose(dic.sorted_proj[:, k], P[dic.order[:, k], k], atol=1e-14)
        assert np.all(np.diff(dic.sorted_proj[:, k]) >= 0)
        # distinct projections, equal up to rounding counted once
        p = np.sort(P[:, k])
        distinct = p[np.concatenate([[True], np.diff(p) > 1e-9])]
        n_expected += max(len(distinct) - 2, 0)
        mine = np.sort(dic.atom_bias[dic.atom_direction == k])
        np.testing.assert_allclose(mine, distinct[1:-1], atol=1e-12)
    assert dic.n_atoms == n_expected
    # positions point at the first point of each tie group
    ps = dic.sorted_proj[dic.atom_position, dic.atom_direction]
    np.testing.assert_array_equal(ps, dic.atom_bias)
    before = dic.sorted_proj[dic.atom_position - 1, dic.atom_direction]
    assert np.all(before < dic.atom_bias)
    assert np.all(np.diff(dic.direction_offsets) == dic.atoms_per_direction)


@pytest.mark.parametrize("d,seed", CASES)
def test_products_equal_dense(d, seed, parallel):
    X = _data(d, seed=seed)
    dic = ReLUDictionary(X, _directions(d))
    A = dic.toarray()
    assert A.shape == (X.shape[0], dic.n_atoms)
    rng = np.random.default_rng(seed + 10)
    q = rng.standard_normal(X.shape[0])
    Q = rng.standard_normal((X.shape[0], 3))
    v = rng.standard_normal(dic.n_atoms)
    V = rng.standard_normal((dic.n_atoms, 2))
    V[::3] = 0.0  # rows of zeros, and whole directions of zeros below
    V[: dic.direction_offsets[1]] = 0.0
    np.testing.assert_allclose(dic.rmatvec(q), A.T @ q, atol=1e-10)
    np.testing.assert_allclose(dic.rmatvec(Q), A.T @ Q, atol=1e-10)
    np.testing.assert_allclose(dic.rmatvec(Q[:, :1]), A.T @ Q[:, :1], atol=1e-10)
    assert dic.rmatvec(Q[:, :0]).shape == (dic.n_atoms, 0)
    np.testing.assert_allclose(dic.matvec(v), A @ v, atol=1e-10)
    np.testing.assert_allclose(dic.matvec(V), A @ V, atol=1e-10)
    np.testing.assert_allclose(dic.matvec(np.zeros(dic.n_atoms)), 0.0)


@pytest.mark.parametrize("d,seed", CASES)
def test_column_norms_equal_dense(d, seed, parallel):
    X = _data(d, seed=seed)
    dic = ReLUDictionary(X, _directions(d))
    A = dic.toarray()
    rng = np.random.default_rng(seed)
    u = rng.uniform(0.1, 2.0, X.shape[0])
    u /= u.sum()
    np.testing.assert_allclose(dic.column_sq_norms(), (A ** 2).sum(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dic.column_sq_norms(u), (u[:, None] * A ** 2).sum(0),
                               rtol=1e-12, atol=1e-14)
    proj = AffineProjector(X, u)
    G = proj.project(np.sqrt(u)[:, None] * A)
    np.testing.assert_allclose(dic.projected_column_sq_norms(proj), (G ** 2).sum(0),
                               rtol=1e-9, atol=1e-12)


def test_columns_on_new_points_and_atoms():
    X = _data(2)
    dic = ReLUDictionary(X, _directions(2))
    idx = np.array([0, 3, dic.n_atoms - 1])
    Xn = np.random.default_rng(1).standard_normal((6, 2))
    W, b = dic.atoms(idx)
    np.testing.assert_allclose(dic.columns(idx, Xn), np.maximum(Xn @ W.T - b, 0.0))
    np.testing.assert_allclose(dic.columns(idx), dic.toarray()[:, idx])
    np.testing.assert_allclose(np.linalg.norm(W, axis=1), 1.0)


def test_large_random_data_matches_dense():
    """Continuous data (no ties), more points: checks the recurrences' accuracy."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((400, 2)) * [1.0, 1e-3] + [1e3, 0.0]  # offset and anisotropic
    dic = ReLUDictionary(X, spread_directions(6, 2, random_state=0))
    A = dic.toarray()
    q = rng.standard_normal(400)
    q -= q.mean()
    ref = A.T @ q
    np.testing.assert_allclose(dic.rmatvec(q), ref, atol=1e-9 * np.abs(ref).max())
    v = rng.standard_normal(dic.n_atoms)
    ref = A @ v
    np.testing.assert_allclose(dic.matvec(v), ref, atol=1e-9 * np.abs(ref).max())


def test_degenerate_data():
    # two points: every direction has only the affine and the zero atom
    dic = ReLUDictionary(np.array([[0.0, 0.0], [1.0, 2.0]]), _directions(2))
    assert dic.n_atoms == 0
    assert dic.rmatvec(np.ones(2)).shape == (0,)
    assert dic.matvec(np.zeros(0)).shape == (2,)
    assert dic.column_sq_norms().shape == (0,)
    # all points identical along the second direction
    X = np.column_stack([np.arange(6.0), np.zeros(6)])
    dic = ReLUDictionary(X, np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert dic.atoms_per_direction.tolist() == [4, 0]
    A = dic.toarray()
    q = np.arange(6.0) ** 2
    np.testing.assert_allclose(dic.rmatvec(q), A.T @ q)
    with pytest.raises(ValueError):
        dic.rmatvec(np.ones(5))
    with pytest.raises(ValueError):
        dic.matvec(np.ones(dic.n_atoms + 1))


@pytest.mark.parametrize("d", [1, 3])
def test_affine_projector(d):
    rng = np.random.default_rng(d)
    X = rng.standard_normal((30, d))
    u = rng.uniform(0.5, 1.5, 30)
    u /= u.sum()
    proj = AffineProjector(X, u)
    A = np.sqrt(u)[:, None] * np.column_stack([np.ones(30), X])
    Z = rng.standard_normal((30, 4))
    coef, *_ = np.linalg.lstsq(A, Z, rcond=None)
    ref = Z - A @ coef
    np.testing.assert_allclose(proj.project(Z), ref, atol=1e-12)
    np.testing.assert_allclose(proj.project(Z[:, 0]), ref[:, 0], atol=1e-12)
    # the projection of a projected vector is itself, and it is orthogonal to [1, X]
    np.testing.assert_allclose(proj.project(ref), ref, atol=1e-12)
    np.testing.assert_allclose(A.T @ proj.project(Z), 0.0, atol=1e-12)
    y = X @ np.arange(1.0, d + 1) + 2.0
    c, c0 = proj.affine_fit(y)
    np.testing.assert_allclose(c, np.arange(1.0, d + 1), atol=1e-10)
    np.testing.assert_allclose(c0, 2.0, atol=1e-10)


def test_affine_projector_rank_deficient():
    X = np.column_stack([np.arange(5.0), 2 * np.arange(5.0)])  # collinear features
    proj = AffineProjector(X, np.full(5, 0.2))
    assert proj.rank == 2
    z = np.arange(5.0) ** 2
    out = proj.project(z[:, None])
    np.testing.assert_allclose(out.sum(), 0.0, atol=1e-12)
    np.testing.assert_allclose(out[:, 0] @ np.arange(5.0), 0.0, atol=1e-10)
