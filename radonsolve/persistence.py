"""Save fitted estimators to plain JSON and load them back, exactly, without pickle.

A model file is one JSON object::

    {"format": "radonsolve.model", "format_version": 1, "radonsolve_version": "0.1.0",
     "kind": "RadonReLURegressor", "params": {...}, "attributes": {...}}

``params`` are the constructor parameters (``get_params(deep=False)``), ``attributes`` every
attribute the fit set (the network, ``classes_``, ``feature_names_in_``, the certificate,
...). Numbers are written with Python's shortest round-trip representation, so every float64
comes back bit for bit; values JSON has no type for are written as one-key objects:

- ``{"__ndarray__": ...}``: dtype, shape and flat data of a numpy array (dtype preserved);
- ``{"__npscalar__": ...}``: a numpy scalar (``np.float64``, ``np.str_``, ...);
- ``{"__float__": ...}``: ``"nan"``, ``"inf"`` or ``"-inf"`` (strict JSON has no such number);
- ``{"__tuple__": ...}``, ``{"__dict__": ...}``: a tuple; a dict with string keys;
- ``{"__network__": ...}``: a :class:`~radonsolve.ReLUNetwork`, its arrays as they are;
- ``{"__random_state__": ...}``: a ``numpy.random.RandomState``, its full state;
- ``{"__record__": ...}``: a record of the fit's history (``RefinementRound``);
- ``{"__estimator__": ...}``: a nested estimator (same layout as the file).

Loading creates objects only of these types and of the estimator classes listed in
``ESTIMATOR_KINDS``: a model file cannot run code. Any other value makes :func:`save` raise a
TypeError naming the attribute. A ``RandomState`` given as ``random_state`` is saved with its
state at save time (after the fit consumed part of it), so the loaded estimator refits as the
saved one would have.
"""

import dataclasses
import importlib
import json
import math
import os
import warnings

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .network import ReLUNetwork

__all__ = ["ESTIMATOR_KINDS", "FORMAT", "FORMAT_VERSION", "load", "save"]

FORMAT = "radonsolve.model"
FORMAT_VERSION = 1

#: Estimator classes a model file may hold: class name -> module. Adding an estimator to the
#: format is one line here (its constructor parameters and fitted attributes are saved
#: generically). A Pipeline may hold any of them, e.g. a StandardScaler before a network.
ESTIMATOR_KINDS = {
    "RadonReLURegressor": "radonsolve.estimator",
    "RadonReLUClassifier": "radonsolve.classifier",
    "RadonReLURegressorCV": "radonsolve.model_selection",
    "RadonReLUClassifierCV": "radonsolve.model_selection",
    "Pipeline": "sklearn.pipeline",
    "StandardScaler": "sklearn.preprocessing",
}

#: Records (dataclasses) that fitted attributes may hold: class name -> module.
RECORD_KINDS = {
    "RefinementRound": "radonsolve.refine",
}

_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_TOP_KEYS = ("format", "format_version", "radonsolve_version", "kind", "params", "attributes")


def _library_version():
    from . import __version__
    return __version__


def _estimator_class(kind):
    """The registered class of ``kind``, or None when its module is not installed."""
    module = ESTIMATOR_KINDS.get(kind)
    if module is None:
        return None
    try:
        return getattr(importlib.import_module(module), kind, None)
    except ImportError:
        return None


def _record_class(name):
    module = RECORD_KINDS.get(name)
    return None if module is None else getattr(importlib.import_module(module), name, None)


# ---------------------------------------------------------------------- encoding
def _encode_float(x):
    x = float(x)
    if math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else "inf" if x > 0 else "-inf"}


def _encode_array(a, where):
    kind = a.dtype.kind
    if kind == "O":
        data = [_encode(v, f"{where}[{i}]") for i, v in enumerate(a.ravel())]
    elif kind in "biu":
        data = a.ravel().tolist()
    elif kind == "f" and a.dtype.itemsize <= 8:
        # tolist() gives Python floats; a float16/32 value is exact in float64 and back.
        data = [v if math.isfinite(v) else _encode_float(v) for v in a.ravel().tolist()]
    elif kind == "U":
        data = a.ravel().tolist()
    elif kind == "S":
        data = [v.decode("latin-1") for v in a.ravel().tolist()]
    else:
        raise TypeError(f"{where}: arrays of dtype {a.dtype} cannot be saved to JSON.")
    return {"__ndarray__": {"dtype": a.dtype.str, "shape": list(a.shape), "data": data}}


def _encode_network(net):
    arrays = net.to_arrays()
    enc = {k: _encode_array(np.asarray(v), f"network.{k}") for k, v in arrays.items()}
    # Re-canonicalizing on load would renormalize unit rows and could move their last bits;
    # the saved arrays are restored as they are, with the fact that they are canonical.
    enc["canonical"] = bool(getattr(net, "_is_canonical", False))
    return {"__network__": enc}


def _encode(value, where):
    """``value`` as JSON-compatible data; TypeError naming ``where`` if it has no encoding."""
    if value is None or isinstance(value, (bool, str)) and not isinstance(value, np.generic):
        return value
    if isinstance(value, np.generic):
        if value.dtype.kind not in "biufUS" or (value.dtype.kind == "f" and
                                                value.dtype.itemsize > 8):
            raise TypeError(f"{where}: numpy scalars of dtype {value.dtype} cannot be saved.")
        enc = _encode_array(np.asarray(value).reshape(1), where)["__ndarray__"]
        return {"__npscalar__": {"dtype": enc["dtype"], "value": enc["data"][0]}}
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _encode_float(value)
    if isinstance(value, np.ndarray):
        return _encode_array(value, where)
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise TypeError(f"{where}: only dicts with string keys can be saved; key {bad[0]!r}.")
        return {"__dict__": {k: _encode(v, f"{where}[{k!r}]") for k, v in value.items()}}
    if isinstance(value, ReLUNetwork):
        return _encode_network(value)
    if isinstance(value, np.random.RandomState):
        name, keys, pos, has_gauss, cached = value.get_state()
        return {"__random_state__": [name, keys.tolist(), int(pos), int(has_gauss),
                                     float(cached)]}
    cls = type(value)
    if dataclasses.is_dataclass(value) and _record_class(cls.__name__) is cls:
        fields = {f.name: _encode(getattr(value, f.name), f"{where}.{f.name}")
                  for f in dataclasses.fields(value)}
        return {"__record__": {"name": cls.__name__, "fields": fields}}
    if _estimator_class(cls.__name__) is cls:
        return {"__estimator__": _encode_estimator(value, where)}
    raise TypeError(f"{where}: a value of type {cls.__module__}.{cls.__qualname__} cannot be "
                    f"saved to a radonsolve model file.")


def _encode_estimator(estimator, where="estimator"):
    cls = type(estimator)
    if _estimator_class(cls.__name__) is not cls:
        raise TypeError(
            f"{where}: save() supports the estimators {sorted(ESTIMATOR_KINDS)}; got "
            f"{cls.__module__}.{cls.__qualname__}.")
    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    attributes = {k: v for k, v in vars(estimator).items() if k not in params}
    return {
        "kind": cls.__name__,
        "params": {k: _encode(v, f"{where} parameter {k!r}") for k, v in params.items()},
        "attributes": {k: _encode(v, f"{where} attribute {k!r}")
                       for k, v in attributes.items()},
    }


# ---------------------------------------------------------------------- decoding
class _BadFile(Exception):
    """A model file's content is not what the format says (reported by load with its path)."""


def _decode_array(spec):
    try:
        dtype = np.dtype(spec["dtype"])
        shape = tuple(int(s) for s in spec["shape"])
        data = spec["data"]
    except (KeyError, TypeError) as exc:
        raise _BadFile(f"an array entry is malformed ({exc!r})") from None
    if not isinstance(data, list) or len(data) != math.prod(shape):
        raise _BadFile(f"an array entry of shape {shape} does not hold {math.prod(shape)} values")
    if dtype.kind == "O":
        out = np.empty(len(data), dtype=object)
        for i, v in enumerate(data):
            out[i] = _decode(v)
        return out.reshape(shape)
    if dtype.kind == "f":
        data = [_decode(v) if isinstance(v, dict) else v for v in data]
    elif dtype.kind == "S":
        data = [v.encode("latin-1") for v in data]
    elif dtype.kind not in "biuU":
        raise _BadFile(f"arrays of dtype {dtype} are not part of the format")
    try:
        return np.array(data, dtype=dtype).reshape(shape)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _BadFile(f"an array of dtype {dtype} holds invalid values ({exc})") from None


def _decode_network(spec):
    try:
        arrays = {k: _decode(spec[k]) for k in
                  ("weights", "biases", "outer", "skip_coef", "skip_intercept")}
        canonical = spec["canonical"]
    except KeyError as exc:
        raise _BadFile(f"a network entry has no {exc.args[0]!r}") from None
    net = ReLUNetwork.from_arrays(arrays, canonicalize=False)
    if canonical:
        net._is_canonical = True
    return net


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise _BadFile(f"unexpected object with keys {sorted(value)[:5]}")
    (tag, spec), = value.items()
    if tag == "__float__":
        if spec not in _NONFINITE:
            raise _BadFile(f"unknown float value {spec!r}")
        return _NONFINITE[spec]
    if tag == "__ndarray__":
        return _decode_array(spec)
    if tag == "__npscalar__":
        if not isinstance(spec, dict) or "value" not in spec:
            raise _BadFile("a numpy scalar entry is malformed")
        return _decode_array({"dtype": spec.get("dtype"), "shape": [1],
                              "data": [spec["value"]]})[0]
    if tag == "__tuple__":
        return tuple(_decode(v) for v in spec)
    if tag == "__dict__":
        return {k: _decode(v) for k, v in spec.items()}
    if tag == "__network__":
        return _decode_network(spec)
    if tag == "__random_state__":
        rs = np.random.RandomState()
        name, keys, pos, has_gauss, cached = spec
        rs.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
        return rs
    if tag == "__record__":
        cls = _record_class(spec.get("name"))
        if cls is None:
            raise _BadFile(f"unknown record type {spec.get('name')!r}")
        return cls(**{k: _decode(v) for k, v in spec["fields"].items()})
    if tag == "__estimator__":
        return _decode_estimator(spec)
    raise _BadFile(f"unknown entry {tag!r}")


def _decode_estimator(doc):
    for key in ("kind", "params", "attributes"):
        if key not in doc:
            raise _BadFile(f"no {key!r} entry")
    kind = doc["kind"]
    cls = _estimator_class(kind)
    if cls is None:
        known = sorted(k for k in ESTIMATOR_KINDS if _estimator_class(k) is not None)
        raise _BadFile(f"it holds a {kind!r}, which this radonsolve cannot load "
                       f"(it loads {known})")
    params = {k: _decode(v) for k, v in doc["params"].items()}
    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise _BadFile(f"its parameters do not match {kind} ({exc})") from None
    for name, value in doc["attributes"].items():
        # Plain attribute names only: a crafted "__dict__" or "__class__" entry must not
        # replace the object's internals.
        if not (isinstance(name, str) and name.isidentifier()) or name.startswith("__"):
            raise _BadFile(f"invalid attribute name {name!r}")
        setattr(estimator, name, _decode(value))
    return estimator


# ---------------------------------------------------------------------- public API
def save(estimator, path):
    """Write a fitted radonsolve estimator to a JSON file.

    The file holds the constructor parameters, every fitted attribute (network, classes,
    feature names, certificate, ...), the library version and the format version, as plain
    JSON (no pickle; see :mod:`radonsolve.persistence` for the layout). Floats are written
    exactly: :func:`load` gives back an estimator whose predictions are bit-identical.

    Parameters
    ----------
    estimator : RadonReLURegressor, RadonReLUClassifier, their CV versions or a Pipeline
        A fitted estimator of ``ESTIMATOR_KINDS``; a Pipeline's steps must be of these
        kinds too (e.g. a StandardScaler, then a radonsolve estimator).
    path : str or path-like
        File to write (replaced if it exists). It is written only once the whole estimator
        has been encoded, so a failed save leaves no partial file.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If the estimator is not a radonsolve estimator, or a parameter or attribute holds a
        value the format has no encoding for (the message names it).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import radonsolve
    >>> x = np.linspace(-1, 1, 41)[:, None]
    >>> model = radonsolve.RadonReLURegressor(alpha=1e-4).fit(x, np.abs(x[:, 0]))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "model.json")
    ...     radonsolve.save(model, path)
    ...     loaded = radonsolve.load(path)
    >>> bool(np.array_equal(loaded.predict(x), model.predict(x)))
    True
    """
    doc = {"format": FORMAT, "format_version": FORMAT_VERSION,
           "radonsolve_version": _library_version()}
    doc.update(_encode_estimator(estimator))
    text = json.dumps(doc, allow_nan=False, separators=(",", ":"))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.write("\n")


def load(path, *, return_metadata=False):
    """Read an estimator written by :func:`save`.

    Parameters
    ----------
    path : str or path-like
        A model file.
    return_metadata : bool, default=False
        Also return the file's header: ``format``, ``format_version``, ``radonsolve_version``
        (the version that wrote it) and ``kind``.

    Returns
    -------
    estimator : fitted estimator
        Same class, parameters and fitted attributes as the saved one.
    metadata : dict
        Only with ``return_metadata=True``.

    Raises
    ------
    ValueError
        If the file is not JSON, not a radonsolve model file, has another format version,
        holds an estimator this installation cannot load, or lacks an entry; the message
        names the file. (An unreadable file raises the usual OSError.)

    Warns
    -----
    UserWarning
        If the file was written by another radonsolve version (same format version: it
        loads; the fit it holds was made by that version's solvers).

    Examples
    --------
    See :func:`save`.
    """
    name = os.fspath(path)
    with open(path, encoding="utf-8") as f:
        try:
            doc = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{name} is not a radonsolve model file: it is not valid JSON "
                             f"({exc}).") from None
        except UnicodeDecodeError:
            raise ValueError(f"{name} is not a radonsolve model file: it is not UTF-8 "
                             "text.") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{name} is not a radonsolve model file (it has no "
                         f"\"format\": \"{FORMAT}\" entry).")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{name} has model format version {version!r}; this radonsolve "
                         f"({_library_version()}) reads format version {FORMAT_VERSION}.")
    missing = [k for k in _TOP_KEYS if k not in doc]
    if missing:
        raise ValueError(f"{name} is not a complete radonsolve model file: it has no "
                         f"{missing[0]!r} entry.")
    try:
        estimator = _decode_estimator(doc)
    except (_BadFile, TypeError, ValueError, AttributeError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, _BadFile) else f"{type(exc).__name__}: {exc}"
        raise ValueError(f"{name} is not a valid radonsolve model file: {msg}.") from None
    if doc["radonsolve_version"] != _library_version():
        warnings.warn(f"{name} was written by radonsolve {doc['radonsolve_version']}; this is "
                      f"radonsolve {_library_version()}.", UserWarning, stacklevel=2)
    if return_metadata:
        return estimator, {k: doc[k] for k in _TOP_KEYS[:4]}
    return estimator
