"""Make the README figures of radonsolve.plot in docs/images/.

``python docs/make_images.py`` writes fit_1d.png, fit_2d.png, classifier_2d.png, path.png
and certificate_2d.png (about a minute; the path figure runs 5-fold cross-validation). The
figures of the examples are made by the scripts in examples/.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402

from radonsolve import (  # noqa: E402
    RadonReLUClassifier,
    RadonReLURegressor,
    RadonReLURegressorCV,
    alpha_max,
)
from radonsolve.datasets import make_piecewise_linear_1d, make_relu_ridges_2d  # noqa: E402
from radonsolve.plot import plot_certificate, plot_fit, plot_path  # noqa: E402

DPI = 90


def _save(ax_or_axes, path):
    fig = (ax_or_axes[0] if isinstance(ax_or_axes, (list, tuple)) else ax_or_axes).figure
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def main(out_dir=None, n_1d=300, n_2d=300, n_cv=200, n_alphas=15, cv=5):
    """Write the five figures into ``out_dir``; return their paths."""
    out = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parent / "images"
    out.mkdir(parents=True, exist_ok=True)
    paths = []

    X, y = make_piecewise_linear_1d(n_1d, random_state=0)
    m1 = RadonReLURegressor(alpha=1e-2 * alpha_max(X, y)).fit(X, y)
    paths.append(_save(plot_fit(m1, X, y), out / "fit_1d.png"))

    X2, y2 = make_relu_ridges_2d(n_2d, random_state=0)
    m2 = RadonReLURegressor(alpha=3e-3, random_state=0).fit(X2, y2)
    paths.append(_save(plot_fit(m2, X2, y2), out / "fit_2d.png"))
    # From 8 initial directions, so that the refinement rounds have something to do.
    m8 = RadonReLURegressor(alpha=3e-3, directions=8, random_state=0).fit(X2, y2)
    paths.append(_save(plot_certificate(m8, X2, y2), out / "certificate_2d.png"))

    Xm, ym = make_moons(n_2d, noise=0.15, random_state=0)
    clf = RadonReLUClassifier(alpha=1e-3, random_state=0).fit(Xm, ym)
    paths.append(_save(plot_fit(clf, Xm, ym), out / "classifier_2d.png"))

    Xc, yc = make_relu_ridges_2d(n_cv, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # refinement warnings of the smallest alphas' folds
        cvm = RadonReLURegressorCV(n_alphas=n_alphas, cv=cv, random_state=0).fit(Xc, yc)
    ax, _ = plot_path(cvm)
    ax.set_title(f"RadonReLURegressorCV on 2-D ridges (N = {n_cv}, {cv} folds)", fontsize=10)
    paths.append(_save(ax, out / "path.png"))
    for p in paths:
        print(p)
    return paths


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
