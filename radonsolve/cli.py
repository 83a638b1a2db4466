"""Command line: ``radonsolve fit``, ``predict``, ``info`` and ``demo``.

``fit`` reads a CSV file (header row, one column per feature and the target), fits a
:class:`~radonsolve.RadonReLURegressor` or, with ``--classify``, a
:class:`~radonsolve.RadonReLUClassifier`, and saves it with :func:`radonsolve.save`;
``predict`` applies a saved model to the columns of another CSV file by name; ``info`` prints
what a model file holds. The demo fits three offline data sets end to end and prints one row
per data set, so a new user sees in a minute what the library returns: a small network, its
RTV2, the objective of (P) and the duality gap that certifies it.

Errors in the user's input (a file that cannot be read, a missing or non-numeric column, a
model file that is not one) print one line naming the file or column on stderr and exit with
status 2, as argparse does for a bad command line; no traceback.
"""

import argparse
import csv
import math
import os
import sys
import time
import warnings

import numpy as np

__all__ = ["main", "run_demo"]

def _demo_problems(random_state=0):
    from sklearn.model_selection import train_test_split

    from .datasets import load_diabetes_standardized, make_piecewise_linear_1d, \
        make_relu_ridges_2d

    problems = []
    for name, (X, y), frac in (
        ("1D piecewise linear", make_piecewise_linear_1d(400, random_state=random_state), 1e-2),
        ("2D three ReLU ridges", make_relu_ridges_2d(400, random_state=random_state), 1e-2),
        # No fixed alpha for real data: cross-validation chooses it (issue: a fixed fraction
        # of alpha_max overfitted, held-out R^2 0.29 against 0.48 for linear regression).
        ("diabetes (standardized), alpha by 5-fold CV", load_diabetes_standardized(), None),
    ):
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=random_state)
        problems.append((name, Xtr, Xte, ytr, yte, frac))
    return problems


def run_demo(plot=None, random_state=0, out=sys.stdout):
    """Fit the demo problems, print the table, return its rows (list of dicts).

    The problems are the 1D piecewise-linear and 2D ReLU-ridge data sets (400 samples each)
    and the standardized diabetes data, each split 75/25 into training and held-out data; the
    first two are fitted at 0.01 ``alpha_max``, diabetes at the alpha that 5-fold
    cross-validation chooses (:class:`RadonReLURegressorCV`), next to linear regression's
    held-out R^2.

    Parameters
    ----------
    plot : str, path-like or None, default=None
        File to plot the 1D fit to (needs matplotlib); None plots nothing.
    random_state : int, default=0
        Seeds the data, the splits and the estimators.
    out : file-like, default=sys.stdout
        Where the table and the notes are printed.

    Returns
    -------
    list of dict
        One row per problem, with the keys ``data``, ``N``, ``d``, ``alpha``, ``neurons``,
        ``kind`` (``certificate_kind_``), ``rtv2``, ``objective``, ``gap``, ``certificate``,
        ``certified``, ``exact``, ``time`` (seconds), ``r2_train``, ``r2_test``,
        ``r2_test_linear`` and ``notes`` (warnings raised).
    """
    from sklearn.linear_model import LinearRegression

    from . import RadonReLURegressor, RadonReLURegressorCV, alpha_max

    rows = []
    fitted_1d = None
    for name, Xtr, Xte, ytr, yte, frac in _demo_problems(random_state):
        t0 = time.perf_counter()
        if frac is None:
            model = RadonReLURegressorCV(random_state=random_state)
        else:
            amax = alpha_max(Xtr, ytr, random_state=random_state)
            model = RadonReLURegressor(alpha=frac * amax, random_state=random_state)
        # Warnings become notes under the table: the demo's reader should see why a fit
        # stopped next to its row, not a traceback-like line in the middle of the output.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(Xtr, ytr)
        elapsed = time.perf_counter() - t0
        exact = Xtr.shape[1] <= 2
        linear = LinearRegression().fit(Xtr, ytr)
        rows.append(dict(
            data=name, N=Xtr.shape[0], d=Xtr.shape[1],
            alpha=getattr(model, "alpha_", getattr(model, "alpha", np.nan)),
            kind=getattr(model, "certificate_kind_", "exact" if exact else "searched"),
            neurons=model.n_neurons_, rtv2=model.network_.rtv2, objective=model.objective_,
            gap=model.dual_gap_, certificate=getattr(model, "certificate_", np.nan),
            certified=bool(getattr(model, "certified_", False)), exact=exact,
            time=elapsed, r2_train=model.score(Xtr, ytr), r2_test=model.score(Xte, yte),
            r2_test_linear=linear.score(Xte, yte),
            notes=[f"{w.category.__name__}: {w.message}" for w in caught]))
        if Xtr.shape[1] == 1:
            fitted_1d = (model, Xtr, ytr)
    header = ("| data | N | d | alpha | neurons | RTV2 | objective | gap | certificate | "
              "time (s) | R^2 train | R^2 held-out | linear regression R^2 held-out |")
    print(header, file=out)
    print("|" + "---|" * 13, file=out)
    for r in rows:
        kind = r["kind"] + (", certified" if r["certified"] else "")
        print(f"| {r['data']} | {r['N']} | {r['d']} | {r['alpha']:.3g} | {r['neurons']} | "
              f"{r['rtv2']:.4g} | {r['objective']:.6g} | {r['gap']:.1e} | "
              f"{r['certificate']:.4g} ({kind}) | {r['time']:.2f} | {r['r2_train']:.3f} | "
              f"{r['r2_test']:.3f} | {r['r2_test_linear']:.3f} |", file=out)
    notes = [(r["data"], n) for r in rows for n in r["notes"]]
    if notes:
        print("\nNotes:", file=out)
        for data, n in notes:
            print(f"- {data}: {n}", file=out)
    print("\ngap: duality gap of the fit on its directions; certificate: the largest eta over "
          "all directions (<= 1 + tol: optimal for (P)): exact for d <= 2, a proven bound "
          "(branch-and-bound) or a searched value above.", file=out)
    if plot and fitted_1d is not None:
        path = _plot_1d(*fitted_1d, plot)
        if path:
            print(f"1D fit plotted to {path}", file=out)
    return rows


def _plot_1d(model, X, y, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: install radonsolve[plot] for the PNG)")
        return None
    net = model.network_
    grid = np.linspace(X.min() - 0.05, X.max() + 0.05, 1000)[:, None]
    knots = np.sort(net.biases * np.sign(net.weights[:, 0]))
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(X[:, 0], y, ".", color="0.6", ms=4, label="data")
    ax.plot(grid[:, 0], net.predict(grid), "C0", lw=2, label="radonsolve fit")
    ax.plot(knots, net.predict(knots[:, None]), "o", color="C3", ms=6,
            label=f"{len(knots)} knots")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"Exact univariate fit, alpha = {model.alpha:.3g}, RTV2 = {net.rtv2:.3g}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path



# ---------------------------------------------------------------------- fit / predict / info
DEFAULT_CV = 5


class _InputError(Exception):
    """A problem with the user's input: printed on one line, exit status 2."""


class _Table:
    """The header and data rows of a CSV file, with the line number of each row."""

    def __init__(self, path):
        self.path = path
        try:
            # utf-8-sig: spreadsheet programs often start UTF-8 CSV files with a byte-order mark.
            with open(path, newline="", encoding="utf-8-sig") as f:
                reader = csv.reader(f)
                header = next(reader, None)
                self.rows, self.lines = [], []
                for row in reader:
                    if any(cell.strip() for cell in row):
                        self.rows.append(row)
                        self.lines.append(reader.line_num)
        except OSError as exc:
            raise _InputError(f"cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise _InputError(f"cannot read {path}: it is not UTF-8 text") from None
        except csv.Error as exc:
            raise _InputError(f"cannot read {path}: not a valid CSV file ({exc})") from None
        if header is None:
            raise _InputError(f"{path} is empty (expected a header row of column names)")
        self.header = [h.strip() for h in header]
        seen = set()
        for h in self.header:
            if not h:
                raise _InputError(f"{path}: the header row has an empty column name")
            if h in seen:
                raise _InputError(f"{path}: column {h!r} appears twice in the header")
            seen.add(h)
        for row, line in zip(self.rows, self.lines):
            if len(row) != len(self.header):
                raise _InputError(f"{path}, line {line}: {len(row)} fields, but the header "
                                  f"has {len(self.header)} columns")
        if not self.rows:
            raise _InputError(f"{path} has no data rows")

    def require(self, names, what="column", note=""):
        for name in names:
            if name not in self.header:
                raise _InputError(f"{what} {name!r}{note} not found in {self.path} (its "
                                  f"columns: {', '.join(self.header)})")

    def strings(self, name):
        self.require([name])
        j = self.header.index(name)
        values = [row[j].strip() for row in self.rows]
        for value, line in zip(values, self.lines):
            if not value:
                raise _InputError(f"{self.path}, line {line}: column {name!r} is empty")
        return values

    def numeric(self, names):
        """The columns ``names`` as a float array of shape (n_rows, len(names))."""
        self.require(names)
        out = np.empty((len(self.rows), len(names)))
        for k, name in enumerate(names):
            j = self.header.index(name)
            for i, (row, line) in enumerate(zip(self.rows, self.lines)):
                cell = row[j].strip()
                try:
                    value = float(cell)
                except ValueError:
                    what = "is empty" if not cell else f"is not numeric ({cell!r})"
                    raise _InputError(f"{self.path}, line {line}: column {name!r} "
                                      f"{what}") from None
                if not math.isfinite(value):
                    raise _InputError(f"{self.path}, line {line}: column {name!r} is not "
                                      f"finite ({cell!r})")
                out[i, k] = value
        return out


def _module_available(name):
    import importlib.util
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def _parse_features(args, table):
    if args.features is None:
        features = [c for c in table.header if c != args.target]
    else:
        features = [f.strip() for f in args.features.split(",") if f.strip()]
        if len(set(features)) != len(features):
            raise _InputError(f"--features names a column twice: {args.features!r}")
        if args.target in features:
            raise _InputError(f"--features includes the target column {args.target!r}")
    if not features:
        raise _InputError(f"{table.path} has no feature column besides the target "
                          f"{args.target!r}")
    table.require([args.target], "target column")
    table.require(features, "feature column")
    return features


def _make_estimator(args, X, y):
    """The estimator the options ask for (not fitted)."""
    from . import RadonReLUClassifier, RadonReLURegressor, alpha_max, alpha_max_classification

    cv = args.cv
    if cv is None and args.alpha is None and args.alpha_ratio is None:
        cv = DEFAULT_CV
    params = {}
    if cv is not None:
        if cv < 2:
            raise _InputError(f"--cv must be at least 2 folds; got {cv}")
        if not _module_available("radonsolve.model_selection"):
            raise _InputError("choosing alpha by cross-validation (--cv, the default) needs "
                              "radonsolve.model_selection, which this installation lacks; "
                              "give --alpha or --alpha-ratio")
        from . import model_selection
        cls = getattr(model_selection, "RadonReLUClassifierCV" if args.classify
                      else "RadonReLURegressorCV")
        params["cv"] = cv
    else:
        cls = RadonReLUClassifier if args.classify else RadonReLURegressor
    accepted = cls().get_params(deep=False)
    if "random_state" in accepted:
        params["random_state"] = args.random_state
    if args.loss is not None:
        if "loss" in accepted:
            params["loss"] = args.loss
        elif args.classify or args.loss != "squared_error":
            raise _InputError(f"--loss {args.loss}: {cls.__name__} in this radonsolve has no "
                              "loss parameter" + ("" if args.classify else
                                                  " (it fits the squared error)"))
    if args.alpha is not None:
        params["alpha"] = args.alpha
    elif args.alpha_ratio is not None:
        if not (math.isfinite(args.alpha_ratio) and args.alpha_ratio > 0):
            raise _InputError(f"--alpha-ratio must be a positive number; got {args.alpha_ratio}")
        if params.get("loss", "squared_error") != "squared_error":
            raise _InputError(f"--alpha-ratio is relative to alpha_max of the squared error; "
                              f"give --alpha with --loss {args.loss}")
        amax = (alpha_max_classification if args.classify else alpha_max)
        if args.standardize:
            from sklearn.preprocessing import StandardScaler
            X = StandardScaler().fit_transform(X)
        try:
            params["alpha"] = args.alpha_ratio * amax(X, y, random_state=args.random_state)
        except ValueError as exc:
            raise _InputError(f"cannot compute alpha_max of {args.data}: {exc}") from None
    est = cls(**params)
    if args.standardize:
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler
        est = Pipeline([("standardize", StandardScaler()), ("model", est)])
    return est


def _final(est):
    """The last step of a pipeline, else the estimator itself."""
    steps = getattr(est, "steps", None)
    return steps[-1][1] if steps else est


def _kind(est):
    steps = getattr(est, "steps", None)
    return " + ".join(type(s).__name__ for _, s in steps) if steps else type(est).__name__


def _report_warnings(caught, command):
    for w in caught:
        print(f"radonsolve {command}: warning: {w.category.__name__}: {w.message}",
              file=sys.stderr)


def _describe(est):
    """Lines about a fitted estimator, for ``fit``'s summary and ``info``."""
    model = _final(est)
    # A CV estimator describes the estimator it refitted with the chosen alpha.
    inner = getattr(model, "estimator_", model)
    net = getattr(model, "network_", getattr(inner, "network_", None))
    lines = []
    if model is not est:
        lines.append("preprocessing: " + ", ".join(type(s).__name__ for _, s in est.steps[:-1])
                     + " (the network's inputs are the transformed features)")
    names = getattr(est, "feature_names_in_", None)
    n = getattr(est, "n_features_in_", None)
    if names is not None:
        lines.append(f"features ({len(names)}): {', '.join(map(str, names))}")
    elif n is not None:
        lines.append(f"features: {n} (unnamed)")
    classes = getattr(est, "classes_", None)
    if classes is not None:
        lines.append(f"classes ({len(classes)}): {', '.join(map(str, classes))}")
    alpha = getattr(model, "alpha_", None)
    if alpha is not None:
        lines.append(f"alpha: {alpha:.6g} (chosen by cross-validation)")
    elif getattr(model, "alpha", None) is not None:
        lines.append(f"alpha: {model.alpha:.6g}")
    for label, attr, fmt in (("alpha_max", "alpha_max_", ".6g"),
                             ("neurons", "n_neurons_", "d"),
                             ("objective", "objective_", ".10g"),
                             ("dual gap", "dual_gap_", ".3e")):
        value = getattr(model, attr, getattr(inner, attr, None))
        if value is not None:
            lines.append(f"{label}: {value:{fmt}}")
    if net is not None:
        lines.append(f"RTV2: {net.rtv2:.10g}")
    cert = getattr(model, "certificate_", getattr(inner, "certificate_", None))
    if cert is not None:
        certified = getattr(model, "certified_", getattr(inner, "certified_", False))
        gap = getattr(model, "global_gap_", getattr(inner, "global_gap_", math.nan))
        status = "certified optimal" if certified else "not certified"
        lines.append(f"certificate: {cert:.6g} ({status}; gap of (P) {gap:.3e})")
    return lines


def _show_param(value):
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    if isinstance(value, np.random.RandomState):
        return "RandomState instance"
    return repr(value)


def _figure_of(result):
    for obj in (result, getattr(result, "figure", None),
                np.ravel(result)[0] if isinstance(result, (np.ndarray, list, tuple)) and
                len(result) else None):
        if hasattr(obj, "savefig"):
            return obj
        if hasattr(getattr(obj, "figure", None), "savefig"):
            return obj.figure
    return None


def _plot(est, X, y, path):
    if not _module_available("matplotlib"):
        raise _InputError("--plot needs matplotlib: pip install 'radonsolve[plot]'")
    if not _module_available("radonsolve.plot"):
        raise _InputError("--plot needs radonsolve.plot, which this installation lacks")
    import matplotlib
    # A command line writes files; it must not need (or open) a display.
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plot import plot_fit

    with warnings.catch_warnings():
        # X was matched to the model's columns by name; the array passed on has none.
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        try:
            # A CV estimator is plotted through the estimator it refitted with the chosen alpha.
            model = _final(est)
            if hasattr(model, "estimator_"):
                from sklearn.pipeline import Pipeline
                est = model.estimator_ if model is est else \
                    Pipeline(est.steps[:-1] + [("model", model.estimator_)])
            result = plot_fit(est, X, y)
        except (ValueError, TypeError) as exc:
            raise _InputError(f"cannot plot the fit: {exc}") from None
    fig = _figure_of(result)
    if fig is None:
        fig = plt.gcf()
    try:
        fig.savefig(path)
    except (OSError, ValueError) as exc:
        raise _InputError(f"cannot write {path}: {exc}") from None
    finally:
        plt.close(fig)


def _cmd_fit(args):
    from .persistence import save

    table = _Table(args.data)
    # A fit can take minutes: an output path that cannot be written fails before it.
    for option, path in (("--out", args.out), ("--plot", args.plot)):
        folder = os.path.dirname(os.path.abspath(path)) if path else None
        if folder and not os.path.isdir(folder):
            raise _InputError(f"cannot write {path} ({option}): no directory {folder}")
    features = _parse_features(args, table)
    X = table.numeric(features)
    if args.classify:
        y = np.array(table.strings(args.target))
    else:
        try:
            y = table.numeric([args.target])[:, 0]
        except _InputError as exc:
            hint = "; class labels need --classify" if "not numeric" in str(exc) else ""
            raise _InputError(f"{exc}{hint}") from None
    est = _make_estimator(args, X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X, y)
        except (ValueError, TypeError) as exc:
            raise _InputError(f"cannot fit {args.data}: {exc}") from None
    _report_warnings(caught, "fit")
    # As if fitted on a data frame: predict then checks columns by name. (A pipeline's
    # feature names are those of its first step.)
    first = est.steps[0][1] if hasattr(est, "steps") else est
    first.feature_names_in_ = np.asarray(features, dtype=object)
    try:
        save(est, args.out)
    except OSError as exc:
        raise _InputError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"{_kind(est)} fitted on {X.shape[0]} rows of {args.data}, saved to "
          f"{args.out}")
    for line in _describe(est):
        print(f"  {line}")
    if args.plot:
        _plot(est, X, y, args.plot)
        print(f"  plot: {args.plot}")
    return 0


def _load_model(path):
    from .persistence import load

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est, meta = load(path, return_metadata=True)
        except OSError as exc:
            raise _InputError(f"cannot read {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise _InputError(str(exc)) from None
    return est, meta, caught


def _write_csv(path, header, rows):
    def write(f):
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    if path == "-":
        write(sys.stdout)
        return
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            write(f)
    except OSError as exc:
        raise _InputError(f"cannot write {path}: {exc.strerror or exc}") from None


def _cmd_predict(args):
    est, _, caught = _load_model(args.model)
    _report_warnings(caught, "predict")
    is_classifier = hasattr(est, "classes_")
    if args.proba and not is_classifier:
        raise _InputError(f"--proba applies to classifiers; {args.model} holds a "
                          f"{_kind(est)}")
    table = _Table(args.data)
    names = getattr(est, "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        table.require(names, "column", f" (a feature of {args.model})")
    elif len(table.header) == est.n_features_in_:
        names = table.header
    else:
        n = est.n_features_in_
        raise _InputError(f"{args.model} has no feature names and {n} feature"
                          f"{'s' if n != 1 else ''}; {args.data} has {len(table.header)} "
                          "columns")
    X = table.numeric(names)
    with warnings.catch_warnings():
        # The columns were matched by name above; the array passed on has none.
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        try:
            pred = est.predict(X)
            proba = est.predict_proba(X) if args.proba else None
        except ValueError as exc:
            raise _InputError(f"cannot predict {args.data}: {exc}") from None
    if pred.ndim == 2:
        header = [f"prediction_{j}" for j in range(pred.shape[1])]
    else:
        header = ["prediction"]
        pred = pred[:, None]
    cells = [[repr(float(v)) for v in row] for row in pred] if pred.dtype.kind == "f" else \
        [[str(v) for v in row] for row in pred]
    if proba is not None:
        header += [f"proba_{c}" for c in est.classes_]
        cells = [r + [repr(float(p)) for p in pr] for r, pr in zip(cells, proba)]
    _write_csv(args.out, header, cells)
    if args.out != "-":
        print(f"{len(cells)} predictions written to {args.out}")
    return 0


def _cmd_info(args):
    est, meta, caught = _load_model(args.model)
    _report_warnings(caught, "info")
    print(f"{args.model}: {_kind(est)} (saved by radonsolve {meta['radonsolve_version']}, "
          f"model format {meta['format_version']})")
    for line in _describe(est):
        print(f"  {line}")
    params = _final(est).get_params(deep=False)
    params = ", ".join(f"{k}={_show_param(v)}" for k, v in params.items())
    print(f"  parameters: {params}")
    return 0


def _cmd_demo(args):
    run_demo(plot=args.plot or None, random_state=args.random_state)
    return 0


def _parser():
    parser = argparse.ArgumentParser(
        prog="radonsolve",
        description="Sparse shallow ReLU networks by convex optimization, certified.",
        epilog="Errors in the input (unreadable file, missing or non-numeric column) exit "
               "with status 2.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    fit = sub.add_parser(
        "fit", help="fit a network to a CSV file and save it as JSON",
        description="Fit a RadonReLURegressor (or, with --classify, a RadonReLUClassifier) "
                    "to the columns of a CSV file with a header row, and save it as JSON "
                    "(radonsolve.save). Features: every column but the target unless "
                    "--features is given; all must be numeric. Without --alpha or "
                    f"--alpha-ratio, alpha is chosen by {DEFAULT_CV}-fold cross-validation.")
    fit.add_argument("data", metavar="DATA.csv")
    fit.add_argument("--target", required=True, metavar="COL", help="the target column")
    fit.add_argument("--features", metavar="A,B,...",
                     help="comma-separated feature columns (default: all but the target)")
    how = fit.add_mutually_exclusive_group()
    how.add_argument("--alpha", type=float, metavar="A", help="regularization strength")
    how.add_argument("--alpha-ratio", type=float, metavar="R",
                     help="alpha as a fraction of alpha_max, the smallest alpha whose fit has "
                          "no neuron (e.g. 0.01)")
    how.add_argument("--cv", type=int, metavar="K",
                     help=f"choose alpha by K-fold cross-validation (the default, K = "
                          f"{DEFAULT_CV})")
    fit.add_argument("--loss", metavar="L",
                     help="data-fit loss of the regressor (default squared_error; others as "
                          "the installed RadonReLURegressor accepts)")
    fit.add_argument("--classify", action="store_true",
                     help="classification: the target column holds class labels (kept as "
                          "strings)")
    fit.add_argument("--standardize", action="store_true",
                     help="standardize the features (zero mean, unit variance) before the "
                          "network; RTV2 is not scale-invariant, so this helps when the "
                          "columns have different units. The scaling is saved with the model "
                          "and applied by predict")
    fit.add_argument("--random-state", type=int, default=0, metavar="S",
                     help="seed of the directions (default 0: the same fit every run)")
    fit.add_argument("--out", required=True, metavar="MODEL.json", help="model file to write")
    fit.add_argument("--plot", metavar="FILE.png",
                     help="also plot the fit (radonsolve.plot.plot_fit; needs matplotlib)")
    fit.set_defaults(func=_cmd_fit)

    pred = sub.add_parser(
        "predict", help="apply a saved model to a CSV file",
        description="Predict the rows of a CSV file with a model saved by 'radonsolve fit' or "
                    "radonsolve.save. The model's feature columns are found by name (any "
                    "order; other columns are ignored). Writes a CSV with a header: "
                    "'prediction' (one column per output for several outputs), and with "
                    "--proba one 'proba_<class>' column per class.")
    pred.add_argument("model", metavar="MODEL.json")
    pred.add_argument("data", metavar="DATA.csv")
    pred.add_argument("--out", default="-", metavar="PRED.csv",
                      help="file to write (default '-': standard output)")
    pred.add_argument("--proba", action="store_true",
                      help="classifiers: also write the class probabilities")
    pred.set_defaults(func=_cmd_predict)

    info = sub.add_parser("info", help="describe a saved model",
                          description="Print what a model file holds: kind, version, "
                                      "features, neurons, alpha, objective, certificate and "
                                      "parameters.")
    info.add_argument("model", metavar="MODEL.json")
    info.set_defaults(func=_cmd_info)

    demo = sub.add_parser("demo", help="fit three offline data sets and print a table")
    demo.add_argument("--plot", default="radonsolve_demo_1d.png",
                      help="PNG path for the 1D fit (needs matplotlib); '' to skip")
    demo.add_argument("--random-state", type=int, default=0)
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status (2 for errors in the input).

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name (None: ``sys.argv[1:]``).

    Returns
    -------
    status : int

    Examples
    --------
    >>> from radonsolve.cli import main
    >>> main(["info", "no-such-model.json"])
    2
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except _InputError as exc:
        print(f"radonsolve {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of standard output stopped early (``... | head``): not an error to
        # report; stdout goes to devnull so that the interpreter's final flush is silent.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
