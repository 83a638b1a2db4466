"""Command-line entry point: ``radonsolve demo``.

The demo fits three offline data sets end to end and prints one row per data set, so a new
user sees in a minute what the library returns: a small network, its RTV2, the objective of
(P) and the duality gap that certifies it.
"""

import argparse
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
        ("diabetes (standardized)", load_diabetes_standardized(), 3e-1),
    ):
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=random_state)
        problems.append((name, Xtr, Xte, ytr, yte, frac))
    return problems


def run_demo(plot=None, random_state=0, out=sys.stdout):
    """Fit the demo problems, print the table, return its rows (list of dicts)."""
    from . import RadonReLURegressor, alpha_max

    rows = []
    fitted_1d = None
    for name, Xtr, Xte, ytr, yte, frac in _demo_problems(random_state):
        t0 = time.perf_counter()
        amax = alpha_max(Xtr, ytr, random_state=random_state)
        model = RadonReLURegressor(alpha=frac * amax, random_state=random_state)
        # Warnings become notes under the table: the demo's reader should see why a fit
        # stopped next to its row, not a traceback-like line in the middle of the output.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(Xtr, ytr)
        elapsed = time.perf_counter() - t0
        exact = Xtr.shape[1] <= 2
        rows.append(dict(
            data=name, N=Xtr.shape[0], d=Xtr.shape[1], alpha=model.alpha,
            neurons=model.n_neurons_, rtv2=model.network_.rtv2, objective=model.objective_,
            gap=model.dual_gap_, certificate=getattr(model, "certificate_", np.nan),
            certified=bool(getattr(model, "certified_", False)), exact=exact,
            time=elapsed, r2_train=model.score(Xtr, ytr), r2_test=model.score(Xte, yte),
            notes=[f"{w.category.__name__}: {w.message}" for w in caught]))
        if Xtr.shape[1] == 1:
            fitted_1d = (model, Xtr, ytr)
    header = ("| data | N | d | alpha | neurons | RTV2 | objective | gap | certificate | "
              "time (s) | R^2 train | R^2 held-out |")
    print(header, file=out)
    print("|" + "---|" * 12, file=out)
    for r in rows:
        kind = "certified" if r["certified"] else "exact" if r["exact"] else "searched"
        print(f"| {r['data']} | {r['N']} | {r['d']} | {r['alpha']:.3g} | {r['neurons']} | "
              f"{r['rtv2']:.4g} | {r['objective']:.6g} | {r['gap']:.1e} | "
              f"{r['certificate']:.4g} ({kind}) | {r['time']:.2f} | {r['r2_train']:.3f} | "
              f"{r['r2_test']:.3f} |", file=out)
    notes = [(r["data"], n) for r in rows for n in r["notes"]]
    if notes:
        print("\nNotes:", file=out)
        for data, n in notes:
            print(f"- {data}: {n}", file=out)
    print("\ngap: duality gap of the fit on its directions; certificate: the largest eta over "
          "all directions (<= 1 + tol: optimal for (P)), exact for d <= 2, searched above.",
          file=out)
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


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="radonsolve",
        description="Sparse shallow ReLU networks by convex optimization, certified.")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="fit three offline data sets and print a table")
    demo.add_argument("--plot", default="radonsolve_demo_1d.png",
                      help="PNG path for the 1D fit (needs matplotlib); '' to skip")
    demo.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command != "demo":
        parser.print_help()
        return 2
    run_demo(plot=args.plot or None, random_state=args.random_state)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
