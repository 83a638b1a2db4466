"""Weight decay gives linear splines: in 1-D the fit has at most N - 2 knots.

A shallow ReLU network trained with weight decay ``alpha`` has the same minimizers as
problem (P) with RTV2 as the penalty (DESIGN §1), and (P) has a solution that is a linear
spline with at most N - 2 knots (the representer theorem). radonsolve solves (P) exactly in
1-D, so the fitted network *is* that spline: this script fits noisy samples of a smooth
function at a few alphas and draws each fit with its knots; the table checks the bound
and the certificate (eta = 1: optimal for (P) over all networks of any width).

With ``train_epochs > 0`` (and PyTorch installed) it also trains a wide network
(64 neurons) with weight decay at the same alpha by full-batch Adam and draws it dashed:
training heads for the same spline, from above in objective.

Run ``python examples/plot_linear_splines_1d.py`` for the README figure.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from radonsolve import RadonReLURegressor, alpha_max  # noqa: E402
from radonsolve.plot import plot_fit  # noqa: E402


def make_data(n, noise=0.15, random_state=0):
    """Noisy samples of a smooth (not piecewise-linear) function on [-1, 1]."""
    rng = np.random.RandomState(random_state)
    x = np.sort(rng.uniform(-1.0, 1.0, n))
    y = np.sin(3.0 * x) + 0.5 * x ** 2 + noise * rng.standard_normal(n)
    return x[:, None], y


def main(n=40, out="linear_splines_1d.png", ratios=(1e-1, 1e-2, 1e-5), train_epochs=0,
         random_state=0):
    """Fit at ``alpha = ratio * alpha_max`` for each ratio; save one figure, print a table.

    Returns
    -------
    rows : list of dict
        One per ratio: alpha, knots, the bound N - 2, objective, certificate, and the
        weight-decay training run's objective when ``train_epochs > 0``.
    """
    X, y = make_data(n, random_state=random_state)
    amax = alpha_max(X, y)
    fig, axes = plt.subplots(1, len(ratios), figsize=(4.2 * len(ratios), 3.6),
                             layout="constrained", squeeze=False)
    rows = []
    for ax, ratio in zip(axes[0], ratios):
        alpha = ratio * amax
        model = RadonReLURegressor(alpha=alpha).fit(X, y)
        plot_fit(model, X, y, ax=ax)
        row = {"alpha/alpha_max": ratio, "N": n, "knots": model.n_neurons_,
               "N - 2": n - 2, "objective": model.objective_,
               "certificate": model.certificate_}
        if train_epochs:
            from radonsolve.baselines import train_weight_decay

            wd = train_weight_decay(X, y, alpha, width=64, lr=1e-2, n_epochs=train_epochs,
                                    random_state=random_state)
            grid = np.linspace(X.min(), X.max(), 400)[:, None]
            ax.plot(grid[:, 0], wd.best_network.predict(grid), "--", color="k", lw=1,
                    label="weight-decay training")
            ax.legend(fontsize=7, loc="best")
            row["wd objective"] = wd.best_objective
        ax.set_title(f"alpha = {ratio:g} alpha_max: {model.n_neurons_} knots "
                     f"(N - 2 = {n - 2})", fontsize=9)
        rows.append(row)
    fig.suptitle("Weight decay = RTV2: the fit is a linear spline with at most N - 2 knots",
                 fontsize=10)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    _print_table(rows)
    return rows


def _print_table(rows):
    keys = list(rows[0])
    print(" | ".join(keys))
    for r in rows:
        print(" | ".join(f"{r[k]:.6g}" if isinstance(r[k], float) else str(r[k])
                         for k in keys))


if __name__ == "__main__":
    try:
        import torch  # noqa: F401
        epochs = 4000
    except ImportError:
        epochs = 0
    out = sys.argv[1] if len(sys.argv) > 1 else \
        str(Path(__file__).resolve().parents[1] / "docs" / "images" / "linear_splines_1d.png")
    main(n=40, out=out, train_epochs=epochs)
