"""Cross-validated estimators: held-out quality against scikit-learn, time, n_jobs.

Sections (``--sections``, default all):

- ``jobs``: RadonReLURegressorCV on N = 10^4, d = 10 (scikit-learn's Friedman #1 problem,
  standardized) with n_jobs = 1 and n_jobs = 2: wall time of each, and whether mse_path_,
  alpha_ and the predictions are identical (they must be). Small settings so that it runs
  in a few minutes on two cores.
- ``regression``: held-out R^2 over repeated 75/25 splits of the diabetes data (d = 10,
  standardized) and of Friedman #1 (N = 500, d = 10): RadonReLURegressorCV with its defaults
  against LinearRegression and MLPRegressor with 32 and 128 hidden units.
- ``classification``: held-out accuracy over repeated stratified 75/25 splits of iris and
  wine (standardized in a pipeline): RadonReLUClassifierCV with its defaults against
  LogisticRegressionCV.

Timings are wall-clock on a shared machine (the load average is reported).

Usage: ``python benchmarks/bench_cv.py [--sections jobs regression classification]
[--splits 5] [--out benchmarks/results/cv.md]``
"""

import argparse
import sys
import time
import warnings

import numpy as np
from _common import git_commit, load_average, write_text
from sklearn.datasets import load_iris, load_wine, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegressionCV
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from radonsolve import RadonReLUClassifierCV, RadonReLURegressorCV
from radonsolve.datasets import load_diabetes_standardized


def friedman(n, seed):
    X, y = make_friedman1(n_samples=n, n_features=10, noise=1.0, random_state=seed)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, (y - y.mean()) / y.std()


def section_jobs(lines):
    X, y = friedman(10_000, 0)
    params = dict(n_alphas=5, eps=0.05, cv=3, patience=None, directions=32, cv_max_rounds=0,
                  cv_certificate_budget=200, certificate_budget=200, max_rounds=2,
                  random_state=0)
    runs = {}
    load0 = load_average()
    for n_jobs in (1, 2):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m = RadonReLURegressorCV(n_jobs=n_jobs, **params).fit(X, y)
        runs[n_jobs] = (time.perf_counter() - t0, m)
        print(f"jobs: n_jobs={n_jobs} {runs[n_jobs][0]:.1f} s", file=sys.stderr)
    (t1, m1), (t2, m2) = runs[1], runs[2]
    same = (np.array_equal(m1.mse_path_, m2.mse_path_) and m1.alpha_ == m2.alpha_ and
            np.array_equal(m1.predict(X), m2.predict(X)))
    lines += [
        "## n_jobs: N = 10^4, d = 10 (Friedman #1, standardized)",
        "",
        f"`RadonReLURegressorCV({', '.join(f'{k}={v!r}' for k, v in params.items())})`, "
        f"load average before: {load0}",
        "",
        "| n_jobs | wall time (s) | alpha_ | neurons of the refit | in-sample R^2 |",
        "|---:|---:|---:|---:|---:|",
        f"| 1 | {t1:.1f} | {m1.alpha_:.4g} | {m1.n_neurons_} | {m1.score(X, y):.4f} |",
        f"| 2 | {t2:.1f} | {m2.alpha_:.4g} | {m2.n_neurons_} | {m2.score(X, y):.4f} |",
        "",
        f"mse_path_, alpha_ and predictions identical between n_jobs=1 and 2: **{same}** "
        f"(speedup {t1 / t2:.2f}x).",
        "",
    ]


def _mean_sd(v):
    return f"{np.mean(v):.4f} ± {np.std(v):.4f}"


def section_regression(lines, n_splits):
    data = {"diabetes (442 x 10)": load_diabetes_standardized(),
            "friedman1 (500 x 10, noise 1)": friedman(500, 1)}
    lines += ["## Held-out R^2, d = 10 regression",
              "",
              f"{n_splits} random 75/25 splits (ShuffleSplit, random_state=0); mean ± sd over "
              "splits. RadonReLURegressorCV: defaults, `random_state=0, n_jobs=2`. MLP: "
              "`MLPRegressor(hidden_layer_sizes=(w,), max_iter=2000, random_state=0)`.",
              "",
              "| data | LinearRegression | MLP 32 | MLP 128 | RadonReLURegressorCV | "
              "CV time per split (s) | alpha_/alpha_max | neurons |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, (X, y) in data.items():
        r = {k: [] for k in ("lin", "mlp32", "mlp128", "radon", "time", "ratio", "neurons")}
        for tr, te in ShuffleSplit(n_splits, test_size=0.25, random_state=0).split(X):
            r["lin"].append(LinearRegression().fit(X[tr], y[tr]).score(X[te], y[te]))
            for w in (32, 128):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    mlp = MLPRegressor(hidden_layer_sizes=(w,), max_iter=2000,
                                       random_state=0).fit(X[tr], y[tr])
                r[f"mlp{w}"].append(mlp.score(X[te], y[te]))
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                m = RadonReLURegressorCV(random_state=0, n_jobs=2).fit(X[tr], y[tr])
            r["time"].append(time.perf_counter() - t0)
            r["radon"].append(m.score(X[te], y[te]))
            r["ratio"].append(m.alpha_ / m.alphas_[0])
            r["neurons"].append(m.n_neurons_)
            print(f"regression {name}: lin {r['lin'][-1]:.4f} mlp {r['mlp32'][-1]:.4f} "
                  f"{r['mlp128'][-1]:.4f} radon {r['radon'][-1]:.4f} "
                  f"({r['time'][-1]:.1f} s, {len(m.alphas_)} alphas)", file=sys.stderr)
        lines.append(f"| {name} | {_mean_sd(r['lin'])} | {_mean_sd(r['mlp32'])} | "
                     f"{_mean_sd(r['mlp128'])} | {_mean_sd(r['radon'])} | "
                     f"{np.mean(r['time']):.1f} | {np.median(r['ratio']):.3g} (median) | "
                     f"{np.median(r['neurons']):.0f} (median) |")
        best_mlp = max(np.mean(r["mlp32"]), np.mean(r["mlp128"]))
        lines.append(f"|  | | | | R^2 - best MLP: {np.mean(r['radon']) - best_mlp:+.4f} "
                     f"| | | |")
    lines.append("")


def section_classification(lines, n_splits):
    data = {"iris (150 x 4, 3 classes)": load_iris(return_X_y=True),
            "wine (178 x 13, 3 classes)": load_wine(return_X_y=True)}
    lines += ["## Held-out accuracy, small multiclass data",
              "",
              f"{n_splits} stratified random 75/25 splits (random_state=0); mean ± sd. Both "
              "in `make_pipeline(StandardScaler(), ...)`; RadonReLUClassifierCV: defaults, "
              "`random_state=0, n_jobs=2`; LogisticRegressionCV: `max_iter=5000`.",
              "",
              "| data | LogisticRegressionCV | RadonReLUClassifierCV | difference | "
              "CV time per split (s) | neurons |",
              "|---|---:|---:|---:|---:|---:|"]
    for name, (X, y) in data.items():
        r = {k: [] for k in ("log", "radon", "time", "neurons")}
        split = StratifiedShuffleSplit(n_splits, test_size=0.25, random_state=0)
        for tr, te in split.split(X, y):
            log = make_pipeline(StandardScaler(), LogisticRegressionCV(max_iter=5000))
            r["log"].append(log.fit(X[tr], y[tr]).score(X[te], y[te]))
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf = make_pipeline(StandardScaler(),
                                    RadonReLUClassifierCV(random_state=0, n_jobs=2))
                clf.fit(X[tr], y[tr])
            r["time"].append(time.perf_counter() - t0)
            r["radon"].append(clf.score(X[te], y[te]))
            r["neurons"].append(clf[-1].n_neurons_)
            print(f"classification {name}: log {r['log'][-1]:.4f} radon {r['radon'][-1]:.4f} "
                  f"({r['time'][-1]:.1f} s)", file=sys.stderr)
        lines.append(f"| {name} | {_mean_sd(r['log'])} | {_mean_sd(r['radon'])} | "
                     f"{np.mean(r['radon']) - np.mean(r['log']):+.4f} | "
                     f"{np.mean(r['time']):.1f} | {np.median(r['neurons']):.0f} (median) |")
    lines.append("")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", nargs="+", default=["jobs", "regression", "classification"],
                    choices=["jobs", "regression", "classification"])
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--out", default=None, help="Markdown report (default: print only)")
    args = ap.parse_args(argv)
    lines = ["# Cross-validated estimators",
             "",
             f"`python benchmarks/bench_cv.py {' '.join(argv or sys.argv[1:])}`, commit "
             f"{git_commit()}, load average at start {load_average()} (2-core machine shared "
             "with other jobs: timings are noisy).",
             ""]
    t0 = time.perf_counter()
    for s in args.sections:
        {"jobs": lambda: section_jobs(lines),
         "regression": lambda: section_regression(lines, args.splits),
         "classification": lambda: section_classification(lines, args.splits)}[s]()
    lines.append(f"Total {time.perf_counter() - t0:.0f} s; load average at end "
                 f"{load_average()}.")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        write_text(args.out, text)


if __name__ == "__main__":
    main()
