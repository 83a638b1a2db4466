"""The structured passes give the same bits for any number of threads.

Large dictionaries run their passes over slices of the directions from several threads;
each direction writes its own atoms, and Phi V is summed over a fixed set of direction
groups in a fixed order, so 1 and 2 threads must agree exactly (and agree with the serial
pass of small dictionaries to rounding).
"""

import numba
import numpy as np
import pytest

import radonsolve.dictionary as dictionary_module
from radonsolve.dictionary import AffineProjector, ReLUDictionary
from radonsolve.directions import spread_directions

pytestmark = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                                reason="numba allows a single thread here")


def _products(X, W, q, Q, v, V, u):
    dic = ReLUDictionary(X, W)
    proj = AffineProjector(X, u)
    return dict(order=dic.order.copy(), bias=dic.atom_bias.copy(),
                position=dic.atom_position.copy(), rmatvec=dic.rmatvec(q),
                rmatvec_T=dic.rmatvec(Q), rmatvec_T1=dic.rmatvec(Q[:, :1]),
                matvec=dic.matvec(v[:dic.n_atoms]), matvec_T=dic.matvec(V[:dic.n_atoms]),
                norms=dic.column_sq_norms(u), projected=dic.projected_column_sq_norms(proj))


@pytest.fixture
def problem():
    rng = np.random.default_rng(3)
    N, d, D = 150, 3, 40
    X = rng.standard_normal((N, d))
    X[7] = X[3]  # tied projections on every direction
    W = spread_directions(D, d, random_state=0)
    n_atoms = D * N
    v = rng.standard_normal(n_atoms) * (rng.random(n_atoms) < 0.05)
    V = rng.standard_normal((n_atoms, 3)) * (rng.random((n_atoms, 1)) < 0.05)
    u = rng.random(N)
    return X, W, rng.standard_normal(N), rng.standard_normal((N, 3)), v, V, u / u.sum()


def test_one_and_two_threads_agree_bitwise(problem, monkeypatch):
    monkeypatch.setattr(dictionary_module, "PARALLEL_MIN_ENTRIES", 0)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _products(*problem)
        numba.set_num_threads(2)
        two = _products(*problem)
    finally:
        numba.set_num_threads(before)
    for key in one:
        assert one[key].dtype == two[key].dtype
        np.testing.assert_array_equal(one[key], two[key], err_msg=key)
    monkeypatch.setattr(dictionary_module, "PARALLEL_MIN_ENTRIES", 10 ** 18)
    serial = _products(*problem)
    for key in one:
        scale = np.abs(serial[key]).max(initial=1.0)
        np.testing.assert_allclose(one[key], serial[key], rtol=0, atol=1e-12 * scale,
                                   err_msg=key)
