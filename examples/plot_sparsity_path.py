"""Sparsity against alpha: the neuron count and the held-out error along a path.

RTV2 is an l1-type (total-variation) penalty, so the fit is sparse: no neuron at all for
``alpha >= alpha_max`` (the affine least-squares fit), then more and more neurons as alpha
decreases, always within the representer bound N - (d + 1). This script fits a
regularization path on noisy samples of a sum of three ReLU ridges in 2-D (warm-started
fits from large to small alpha, each refined until certified) and draws the objective and
the neuron count against alpha, next to the training and held-out errors (the held-out
error is smallest at an intermediate alpha, with a few more neurons than the truth's three
ridges: the extra ones fit the noise's curvature at small amplitude).

Run ``python examples/plot_sparsity_path.py`` for the README figure.
"""

import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from radonsolve import RadonReLURegressor, alpha_max  # noqa: E402
from radonsolve.datasets import make_relu_ridges_2d, relu_ridges_truth  # noqa: E402
from radonsolve.plot import plot_path  # noqa: E402


def fit_path(X, y, alphas, random_state=0):
    """The path at ``alphas`` (decreasing): :func:`radonsolve.radon_path` when available,
    else a loop of warm-started fits with the same attributes."""
    try:
        from radonsolve import radon_path
    except ImportError:
        radon_path = None
    if radon_path is not None:
        return radon_path(X, y, alphas=alphas, random_state=random_state)
    model = RadonReLURegressor(warm_start=True, random_state=random_state)
    networks, objectives, gaps, counts = [], [], [], []
    for a in alphas:
        model.set_params(alpha=a).fit(X, y)
        networks.append(model.network_)
        objectives.append(model.objective_)
        gaps.append(model.global_gap_)
        counts.append(model.n_neurons_)
    return SimpleNamespace(alphas=np.asarray(alphas), networks=networks,
                           objectives=np.asarray(objectives), dual_gaps=np.asarray(gaps),
                           n_neurons=np.asarray(counts))


def main(n=200, out="sparsity_path.png", n_alphas=15, n_test=2000, random_state=0):
    """Path from 2 alpha_max down to 1e-3 alpha_max; save one figure, print a table.

    Returns
    -------
    rows : list of dict
        One per alpha (decreasing): alpha / alpha_max, neurons, objective, train and
        held-out mean squared error (against the noiseless function).
    """
    X, y = make_relu_ridges_2d(n, random_state=random_state)
    rng = np.random.RandomState(random_state + 1)
    X_test = rng.uniform(-1.0, 1.0, (n_test, 2))
    y_test = relu_ridges_truth(X_test)
    amax = alpha_max(X, y, random_state=random_state)
    ratios = np.logspace(np.log10(2.0), -3.0, n_alphas)
    path = fit_path(X, y, ratios * amax, random_state=random_state)
    rows = []
    for r, net, obj, k in zip(ratios, path.networks, path.objectives, path.n_neurons):
        rows.append({"alpha/alpha_max": float(r), "neurons": int(k),
                     "objective": float(obj),
                     "train MSE": float(np.mean((net.predict(X) - y) ** 2)),
                     "held-out MSE": float(np.mean((net.predict(X_test) - y_test) ** 2))})
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    plot_path(path, ax=ax0)
    ax0.axvline(amax, color="0.5", ls=":", lw=1)
    ax0.set_title(f"Path on N = {n}: objective and neurons (alpha_max dotted)", fontsize=9)
    alphas = ratios * amax
    test = np.array([r["held-out MSE"] for r in rows])
    ax1.plot(alphas, [r["train MSE"] for r in rows], "o-", ms=3, color="C2",
             label="train MSE (noisy y)")
    ax1.plot(alphas, test, "o-", ms=3, color="C3", label="held-out MSE (noiseless f)")
    best = int(np.argmin(test))
    ax1.axvline(alphas[best], color="k", ls="--", lw=1,
                label=f"best held-out: {rows[best]['neurons']} neurons")
    ax1.axvline(amax, color="0.5", ls=":", lw=1, label="alpha_max")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("alpha")
    ax1.set_ylabel("mean squared error")
    ax1.legend(fontsize=8)
    ax1.set_title("Errors along the path (truth: 3 ReLU ridges + affine)", fontsize=9)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    keys = list(rows[0])
    print(" | ".join(keys))
    for r in rows:
        print(" | ".join(f"{r[k]:.4g}" if isinstance(r[k], float) else str(r[k])
                         for k in keys))
    return rows


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else \
        str(Path(__file__).resolve().parents[1] / "docs" / "images" / "sparsity_path.png")
    main(n=200, out=out)
