"""Cross-validation on a 2-worker Dask cluster equals the sequential run exactly."""

import numpy as np
import pytest

distributed = pytest.importorskip("dask.distributed")
joblib = pytest.importorskip("joblib")

from radonsolve import RadonReLUClassifierCV, RadonReLURegressorCV  # noqa: E402
from radonsolve.datasets import make_relu_ridges_2d  # noqa: E402


@pytest.fixture(scope="module")
def client():
    # Workers as threads of this process talking over in-process queues (inproc://), no
    # dashboard: nothing listens on a network socket.
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    cl = distributed.Client(cluster)
    try:
        yield cl
    finally:
        cl.close()
        cluster.close()


def test_regressor_cv_on_dask_equals_sequential(client):
    X, y = make_relu_ridges_2d(50, random_state=0)
    kw = dict(n_alphas=3, eps=0.05, cv=3, directions=6, max_rounds=2, random_state=0)
    seq = RadonReLURegressorCV(n_jobs=1, **kw).fit(X, y)
    with joblib.parallel_backend("dask"):
        par = RadonReLURegressorCV(**kw).fit(X, y)
    assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_array_equal(par.mse_path_, seq.mse_path_)
    assert par.alpha_ == seq.alpha_
    np.testing.assert_array_equal(par.predict(X), seq.predict(X))


def test_classifier_cv_on_dask_equals_sequential(client):
    X, y = make_relu_ridges_2d(60, random_state=1)
    y = (y > np.median(y)).astype(int)
    kw = dict(n_alphas=3, eps=0.05, cv=3, directions=6, random_state=0)
    seq = RadonReLUClassifierCV(n_jobs=1, **kw).fit(X, y)
    with joblib.parallel_backend("dask"):
        par = RadonReLUClassifierCV(**kw).fit(X, y)
    np.testing.assert_array_equal(par.scores_, seq.scores_)
    assert par.alpha_ == seq.alpha_
    np.testing.assert_array_equal(par.predict_proba(X), seq.predict_proba(X))
