"""JSON save / load: exact round trips of fitted estimators and clear errors for bad files."""

import copy
import dataclasses
import json
import math

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge

import radonsolve
from radonsolve import RadonReLUClassifier, RadonReLURegressor, ReLUNetwork, load, save
from radonsolve.persistence import ESTIMATOR_KINDS, FORMAT_VERSION


def assert_identical(a, b, where="value"):
    """Same type and same value, bit for bit (NaN equal to NaN), recursively."""
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        if a.dtype.kind == "O":
            for i, (u, v) in enumerate(zip(a.ravel(), b.ravel())):
                assert_identical(u, v, f"{where}[{i}]")
        else:
            assert a.tobytes() == b.tobytes(), where
    elif isinstance(a, ReLUNetwork):
        for k, v in a.to_arrays().items():
            assert_identical(v, b.to_arrays()[k], f"{where}.{k}")
        assert a.rtv2 == b.rtv2, where
    elif isinstance(a, np.random.RandomState):
        sa, sb = a.get_state(), b.get_state()
        assert sa[0] == sb[0] and np.array_equal(sa[1], sb[1]) and sa[2:] == sb[2:], where
    elif hasattr(a, "get_params"):
        assert_identical(a.get_params(deep=False), b.get_params(deep=False), f"{where} params")
        assert_identical(vars(a), vars(b), where)
    elif dataclasses.is_dataclass(a):
        assert_identical(dataclasses.asdict(a), dataclasses.asdict(b), where)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            assert_identical(u, v, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_identical(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (float, np.floating)) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def assert_round_trip(est, path):
    save(est, path)
    # Strict JSON: NaN / Infinity tokens would make other JSON readers fail.
    json.loads(path.read_text(), parse_constant=lambda s: pytest.fail(f"non-JSON token {s}"))
    loaded = load(path)
    assert type(loaded) is type(est)
    assert_identical(loaded.get_params(deep=False), est.get_params(deep=False), "params")
    assert vars(loaded).keys() == vars(est).keys()
    for k, v in vars(est).items():
        assert_identical(getattr(loaded, k), v, k)
    return loaded


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 2)
    y = np.abs(X[:, 0]) - 0.5 * X[:, 1] ** 2 + 0.05 * rng.randn(60)
    return X, y


def test_regressor_2d_round_trip_predicts_identically(data, tmp_path):
    X, y = data
    est = RadonReLURegressor(alpha=1e-3, random_state=0).fit(X, y)
    # The exchange history holds NaN fields: they must survive as NaN, in strict JSON.
    assert any(math.isnan(r.polished_objective) for r in est.refinement_history_)
    loaded = assert_round_trip(est, tmp_path / "reg.json")
    Xt = np.random.RandomState(1).randn(50, 2) * 2
    assert loaded.predict(Xt).tobytes() == est.predict(Xt).tobytes()
    assert loaded.score(X, y) == est.score(X, y)


def test_univariate_multioutput_and_feature_names(tmp_path):
    pd = pytest.importorskip("pandas")
    x = np.linspace(-1, 1, 40)
    df = pd.DataFrame({"x": x})
    Y = np.column_stack([np.abs(x), np.maximum(x, 0)])
    est = RadonReLURegressor(alpha=1e-4, solver="cd").fit(df, Y)
    assert est.feature_names_in_.dtype == object
    loaded = assert_round_trip(est, tmp_path / "multi.json")
    assert loaded.predict(df).tobytes() == est.predict(df).tobytes()
    # the names are checked at predict time as for the fitted model
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(pd.DataFrame({"z": x}))

    one = RadonReLURegressor(alpha=1e-4).fit(x[:, None], np.abs(x))
    assert_round_trip(one, tmp_path / "one.json")


def test_array_directions_and_random_state_instance(data, tmp_path):
    X, y = data
    W = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.6, -0.8]])
    rs = np.random.RandomState(7)
    est = RadonReLUClassifier(alpha=1e-2, directions=W, random_state=rs).fit(X, y > 0)
    loaded = assert_round_trip(est, tmp_path / "w.json")
    assert loaded.directions is not W and np.array_equal(loaded.directions, W)
    # the saved generator continues exactly where the original's does
    assert loaded.random_state.randint(2 ** 31) == rs.randint(2 ** 31)
    # the loaded parameters are valid constructor arguments
    assert_identical(clone(loaded).get_params()["directions"], W, "directions")


@pytest.mark.parametrize("labels", [
    np.array(["no", "yes"]),                                   # numpy str: dtype <U3
    np.array(["no", "yes"], dtype=object),                     # Python str in object array
    np.array([3, 11]),                                         # integers
    np.array(["a", "b", "c"]),                                 # three classes
])
def test_classifier_round_trip_labels(labels, tmp_path):
    from sklearn.datasets import make_blobs
    X, yi = make_blobs(90, centers=len(labels), cluster_std=2.0, random_state=0)
    y = labels[yi]
    clf = RadonReLUClassifier(alpha=1e-2, random_state=0).fit(X, y)
    loaded = assert_round_trip(clf, tmp_path / "clf.json")
    assert loaded.classes_.dtype == labels.dtype
    assert_identical(loaded.predict(X), clf.predict(X), "predict")
    assert loaded.predict_proba(X).tobytes() == clf.predict_proba(X).tobytes()
    assert loaded.score(X, y) == clf.score(X, y)


def test_numpy_scalars_keep_their_type(data, tmp_path):
    X, y = data
    est = RadonReLURegressor(alpha=np.float32(1e-2), max_iter=np.int64(50),
                             refine=False).fit(X, y)
    loaded = assert_round_trip(est, tmp_path / "s.json")
    assert type(loaded.alpha) is np.float32 and type(loaded.max_iter) is np.int64


def test_save_errors(data, tmp_path):
    X, y = data
    path = tmp_path / "m.json"
    with pytest.raises(NotFittedError):
        save(RadonReLURegressor(), path)
    with pytest.raises(TypeError, match="supports the estimators"):
        save(Ridge().fit(X, y), path)
    est = copy.deepcopy(RadonReLURegressor(alpha=1e-2, refine=False).fit(X, y))
    est.extra_ = object()
    with pytest.raises(TypeError, match="attribute 'extra_'"):
        save(est, path)
    est.extra_ = np.array([1 + 2j])
    with pytest.raises(TypeError, match="attribute 'extra_': arrays of dtype complex128"):
        save(est, path)
    assert not path.exists()  # nothing half-written


@pytest.fixture(scope="module")
def saved_doc(data, tmp_path_factory):
    X, y = data
    path = tmp_path_factory.mktemp("doc") / "m.json"
    save(RadonReLURegressor(alpha=1e-2, refine=False).fit(X, y), path)
    return json.loads(path.read_text())


def _write(tmp_path, doc, name="bad.json"):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_load_errors_name_the_file(saved_doc, tmp_path):
    p = _write(tmp_path, "{not json")
    with pytest.raises(ValueError, match=rf"{p}.*not a radonsolve model file.*not valid JSON"):
        load(p)
    p = _write(tmp_path, {"weights": [1, 2]})
    with pytest.raises(ValueError, match=rf"{p} is not a radonsolve model file \(it has no "):
        load(p)
    p = _write(tmp_path, [1, 2])
    with pytest.raises(ValueError, match="not a radonsolve model file"):
        load(p)
    p = tmp_path / "latin1.json"
    p.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match=rf"{p}.*not UTF-8"):
        load(p)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.json")

    doc = dict(saved_doc, format_version=FORMAT_VERSION + 1)
    p = _write(tmp_path, doc)
    with pytest.raises(ValueError, match=rf"{p} has model format version "
                                         rf"{FORMAT_VERSION + 1}; this radonsolve"):
        load(p)
    doc = {k: v for k, v in saved_doc.items() if k != "attributes"}
    p = _write(tmp_path, doc)
    with pytest.raises(ValueError, match=rf"{p} .* no 'attributes' entry"):
        load(p)
    p = _write(tmp_path, dict(saved_doc, kind="Ridge"))
    with pytest.raises(ValueError, match=rf"{p} .*holds a 'Ridge', which this radonsolve "
                                         "cannot load"):
        load(p)
    p = _write(tmp_path, dict(saved_doc, params=dict(saved_doc["params"], depth=3)))
    with pytest.raises(ValueError, match=rf"{p} .*parameters do not match RadonReLURegressor"):
        load(p)
    attrs = dict(saved_doc["attributes"], network_={"__pickle__": "x"})
    p = _write(tmp_path, dict(saved_doc, attributes=attrs))
    with pytest.raises(ValueError, match=rf"{p} .*unknown entry '__pickle__'"):
        load(p)
    attrs = dict(saved_doc["attributes"], __class__={"__tuple__": []})
    p = _write(tmp_path, dict(saved_doc, attributes=attrs))
    with pytest.raises(ValueError, match=rf"{p} .*invalid attribute name '__class__'"):
        load(p)
    attrs = dict(saved_doc["attributes"],
                 directions_={"__ndarray__": {"dtype": "<f8", "shape": [3], "data": [1.0]}})
    p = _write(tmp_path, dict(saved_doc, attributes=attrs))
    with pytest.raises(ValueError, match=rf"{p} .*shape \(3,\) does not hold 3 values"):
        load(p)


def test_other_library_version_warns_and_loads(saved_doc, data, tmp_path):
    p = _write(tmp_path, dict(saved_doc, radonsolve_version="0.0.1"))
    with pytest.warns(UserWarning, match=r"written by radonsolve 0\.0\.1; this is radonsolve"):
        est, meta = load(p, return_metadata=True)
    assert meta == {"format": "radonsolve.model", "format_version": FORMAT_VERSION,
                    "radonsolve_version": "0.0.1", "kind": "RadonReLURegressor"}
    X, _ = data
    assert est.predict(X).shape == (len(X),)


def test_registry_names_the_estimator_classes():
    import importlib
    for kind, module in ESTIMATOR_KINDS.items():
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue  # an estimator of a module not in this installation
        cls = getattr(mod, kind)
        assert cls.__name__ == kind and hasattr(cls, "get_params")
    assert radonsolve.save is save and radonsolve.load is load


def test_cv_estimators_round_trip(tmp_path):
    ms = pytest.importorskip("radonsolve.model_selection")
    from sklearn.datasets import make_blobs
    from sklearn.model_selection import KFold
    x = np.linspace(-1, 1, 50)[:, None]
    y = np.abs(x[:, 0]) + 0.05 * np.random.RandomState(0).randn(50)
    reg = ms.RadonReLURegressorCV(n_alphas=6, cv=3, random_state=0).fit(x, y)
    loaded = assert_round_trip(reg, tmp_path / "regcv.json")
    assert loaded.predict(x).tobytes() == reg.predict(x).tobytes()
    assert type(loaded.estimator_) is RadonReLURegressor and loaded.alpha_ in loaded.alphas_

    X, yi = make_blobs(60, centers=2, cluster_std=2.0, random_state=0)
    labels = np.array(["left", "right"])[yi]
    clf = ms.RadonReLUClassifierCV(alphas=[1e-1, 1e-2], cv=3, random_state=0).fit(X, labels)
    loaded = assert_round_trip(clf, tmp_path / "clfcv.json")
    assert_identical(loaded.predict(X), clf.predict(X), "predict")
    assert loaded.predict_proba(X).tobytes() == clf.predict_proba(X).tobytes()

    # a splitter object has no JSON form: the error names the parameter
    reg.set_params(cv=KFold(3))
    with pytest.raises(TypeError, match="parameter 'cv'"):
        save(reg, tmp_path / "splitter.json")


def test_pipeline_with_scaler_round_trip(data, tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler
    X, y = data
    pipe = make_pipeline(StandardScaler(), RadonReLURegressor(alpha=1e-2, refine=False))
    pipe.fit(3 * X + 1, y)
    save(pipe, tmp_path / "pipe.json")
    loaded = load(tmp_path / "pipe.json")
    assert [type(s) for _, s in loaded.steps] == [type(s) for _, s in pipe.steps]
    for (_, a), (_, b) in zip(loaded.steps, pipe.steps):
        assert_identical(a, b, type(a).__name__)
    assert loaded.predict(X).tobytes() == pipe.predict(X).tobytes()
    # only registered steps: a scaler the format does not list is named in the error
    other = make_pipeline(MinMaxScaler(), RadonReLURegressor(alpha=1e-2, refine=False))
    with pytest.raises(TypeError, match="MinMaxScaler"):
        save(other.fit(X, y), tmp_path / "other.json")
