"""Figures of fitted networks, regularization paths and dual certificates (matplotlib).

matplotlib is an optional dependency (the ``plot`` extra: ``pip install radonsolve[plot]``);
this module is not imported by ``import radonsolve``. It imports matplotlib, and pyplot only
when it makes a new figure (drawing on given Axes leaves the backend to the caller).

- :func:`plot_fit`: the data, the fitted function and its neurons, for one or two features
  (knots in 1-D, the lines ``w_k . x = b_k`` in 2-D), for regressors, classifiers and
  pipelines ending in one of them.
- :func:`plot_path`: cross-validated error (or the objective) and the neuron count against
  alpha, for a cross-validated estimator or a regularization path.
- :func:`plot_certificate`: the dual certificate eta over the angle of the direction (two
  features) or over the bias (one feature), and eta and the objective per refinement round.

Every function draws on the given Axes (or on a new figure) and returns what it drew on.
The artists that stand for neurons carry ``gid="neuron"`` (one per neuron) or, for the knot
markers of a 1-D regression fit, ``gid="knots"`` (one marker per knot), so that they can be
found again in ``ax.lines``.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_array, check_is_fitted

from ._blocks import row_blocks
from ._validation import normalized_weights
from .certificate import eta
from .affine import AffineProjector

try:
    from matplotlib import patheffects
    from matplotlib.ticker import MaxNLocator
except ImportError as exc:  # pragma: no cover - exercised only without matplotlib
    raise ImportError("radonsolve.plot needs matplotlib: pip install 'radonsolve[plot]'."
                      ) from exc

__all__ = ["plot_fit", "plot_path", "plot_certificate"]

# Colours of neurons by the sign of their output weight (the kink bends up or down).
_POS, _NEG = "tab:red", "tab:blue"


def _pyplot():
    # pyplot (and with it a backend) only when a figure is made here, not at import.
    import matplotlib.pyplot as plt

    return plt


# ---------------------------------------------------------------------------------------
# The estimator, and the map from the plotted inputs to the network's inputs
# ---------------------------------------------------------------------------------------
def _unwrap(estimator, regressor_only=False):
    """(final radonsolve estimator, transform of the steps before it or None).

    Any radonsolve estimator with a ``network_`` qualifies (the cross-validated ones too).
    """
    transform = None
    final = estimator
    if isinstance(estimator, Pipeline):
        final = estimator.steps[-1][1]
        if len(estimator.steps) > 1:
            transform = estimator[:-1].transform
    ours = isinstance(final, BaseEstimator) and \
        type(final).__module__.split(".")[0] == "radonsolve"
    if not ours or (regressor_only and is_classifier(final)):
        names = "RadonReLURegressor" if regressor_only else \
            "RadonReLURegressor or RadonReLUClassifier"
        raise TypeError(f"estimator must be a fitted {names} (or its CV version), or a "
                        f"Pipeline ending in one; got {type(final).__name__}.")
    check_is_fitted(final, "network_")
    return final, transform


def _alpha_of(final):
    """The alpha of the fitted network (``alpha_`` of a cross-validated estimator)."""
    chosen = getattr(final, "alpha_", None)
    return float(final.alpha if chosen is None else chosen)


def _affine_map(transform, X):
    """``(A, c)`` with ``transform(x) = A x + c`` on the box of X, or None if not affine.

    Tested numerically on the data and on points spread over their bounding box, so any
    affine preprocessing qualifies (StandardScaler, MinMaxScaler, PCA, ...).
    """
    d = X.shape[1]
    lo, hi = X.min(axis=0), X.max(axis=0)
    rng = np.random.RandomState(0)
    probe = np.vstack([X, lo, hi, lo + (hi - lo) * rng.uniform(size=(20, d))])
    Z = transform(probe)
    Z = np.asarray(Z.toarray() if hasattr(Z, "toarray") else Z, dtype=float)
    if Z.ndim != 2 or Z.shape[0] != probe.shape[0]:
        return None
    B = np.column_stack([np.ones(len(probe)), probe])
    beta = np.linalg.lstsq(B, Z, rcond=None)[0]
    err = np.max(np.abs(B @ beta - Z)) if Z.size else 0.0
    if not err <= 1e-8 * max(1.0, float(np.max(np.abs(Z)))):
        return None
    return beta[1:].T, beta[0]


def _neurons_in_input_space(network, amap):
    """Directions (unit rows) and biases of the neurons in the plotted coordinates.

    With ``z = A x + c`` the hyperplane ``w . z = b`` is ``(A^T w) . x = b - w . c``.
    Returns a mask of the neurons that remain hyperplanes there (``A^T w != 0``).
    """
    W, b = network.weights, network.biases
    if amap is not None:
        A, c = amap
        W, b = W @ A, b - W @ c
    norm = np.linalg.norm(W, axis=1)
    ok = norm > 1e-12 * max(1.0, float(norm.max(initial=0.0)))
    norm = np.where(ok, norm, 1.0)
    return W / norm[:, None], b / norm, ok


def _outer_for(network, output):
    """Output weights of each neuron for output ``output`` (all outputs: their norms)."""
    V = network.outer
    if V.ndim == 1:
        return V
    if output is None:
        return np.linalg.norm(V, axis=1)
    return V[:, output]


def _check_output(output, n_outputs):
    if isinstance(output, bool) or not isinstance(output, numbers.Integral) or \
            not 0 <= output < n_outputs:
        raise ValueError(f"output must be an integer in [0, {n_outputs}); got {output!r}.")
    return int(output)


def _new_axes(ax, figsize):
    if ax is not None:
        return ax
    plt = _pyplot()
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _predict_blocks(fn, Z, width):
    """``fn`` on the rows of Z in row blocks (the network builds (rows x neurons) activations)."""
    parts = [np.asarray(fn(Z[s])) for s in row_blocks(len(Z), max(width, 1))]
    return np.concatenate(parts, axis=0)


def _clip_line(w, b, lo, hi):
    """End points of the segment of the line ``w . x = b`` (unit w) inside the box, or None."""
    p0 = b * w
    t = np.array([-w[1], w[0]])
    t_lo, t_hi = -np.inf, np.inf
    for i in range(2):
        if abs(t[i]) < 1e-15:
            if not lo[i] <= p0[i] <= hi[i]:
                return None
            continue
        a, c = (lo[i] - p0[i]) / t[i], (hi[i] - p0[i]) / t[i]
        t_lo, t_hi = max(t_lo, min(a, c)), min(t_hi, max(a, c))
    if not t_lo <= t_hi:
        return None
    return p0 + t_lo * t, p0 + t_hi * t


# ---------------------------------------------------------------------------------------
# plot_fit
# ---------------------------------------------------------------------------------------
def plot_fit(estimator, X, y=None, *, ax=None, output=0, resolution=200, margin=0.05):
    """Draw a fitted network over one or two input features, with its neurons.

    One feature: the data, the fitted function and its knots ``x = b_k / w_k`` (a regressor),
    or the class probabilities with a vertical line at each knot (a classifier). Two
    features: filled contours of the fit (a regressor), of the probability of the second
    class (binary classifier, with the decision boundary) or of the predicted class
    (multiclass), the data, and each neuron's line ``w_k . x = b_k`` clipped to the data's
    bounding box, coloured by the sign of its output weight (red: positive).

    For a Pipeline the fit is drawn in the units of X through ``estimator.predict``; the
    neurons are mapped back through the steps before the network when these are affine (a
    scaler, PCA, ...), and are left out, with a warning, when they are not.

    Parameters
    ----------
    estimator : RadonReLURegressor, RadonReLUClassifier or Pipeline ending in one
        Fitted.
    X : array-like of shape (n_samples, 1) or (n_samples, 2)
        Inputs to draw (usually the training inputs); they set the plotted region.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        Targets or labels of X, drawn as the data points.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    output : int, default=0
        For a regressor with several outputs, the output drawn (the neurons drawn are those
        whose weight on it is nonzero). Ignored for classifiers.
    resolution : int, default=200
        Grid points per axis.
    margin : float, default=0.05
        Fraction of the data range added on each side of the plotted region.

    Returns
    -------
    ax : matplotlib Axes

    Raises
    ------
    ValueError
        If X has more than two features.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from radonsolve import RadonReLURegressor
    >>> from radonsolve.plot import plot_fit
    >>> x = np.linspace(-1, 1, 41)[:, None]
    >>> model = RadonReLURegressor(alpha=1e-4).fit(x, np.abs(x[:, 0]))
    >>> ax = plot_fit(model, x, np.abs(x[:, 0]))
    >>> [len(line.get_xdata()) for line in ax.lines if line.get_gid() == "knots"]
    [1]
    """
    final, transform = _unwrap(estimator)
    X = check_array(X, dtype=np.float64)
    d = X.shape[1]
    if d > 2:
        raise ValueError(f"plot_fit draws 1-D and 2-D inputs; X has {d} features.")
    if isinstance(resolution, bool) or not isinstance(resolution, numbers.Integral) or \
            resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2; got {resolution!r}.")
    margin = float(margin)
    if not 0.0 <= margin < np.inf:
        raise ValueError(f"margin must be a finite nonnegative number; got {margin!r}.")
    net = final.network_
    classifier = is_classifier(final)
    if classifier:
        output = None
    else:
        output = _check_output(output, net.n_outputs or 1)
        if net.n_outputs is None:
            output = None
    if y is not None:
        y = np.asarray(y)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {y.shape[0]} samples but X has {X.shape[0]}.")
        if not classifier:
            y = np.asarray(y, dtype=float)
            if y.ndim == 2:
                y = y[:, output or 0]
    amap = None
    if transform is not None:
        amap = _affine_map(transform, X)
    W, b, ok = _neurons_in_input_space(net, amap)
    show = np.abs(_outer_for(net, output)) > 0
    if transform is not None and amap is None:
        warnings.warn("plot_fit: the neurons are not drawn, because the pipeline's steps "
                      "before the network are not affine.", UserWarning, stacklevel=2)
        show[:] = False
    show &= ok
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = margin * np.where(hi > lo, hi - lo, 1.0)
    ax = _new_axes(ax, (7, 4.2) if d == 1 else (6.4, 5))
    width = net.n_neurons + 1
    if d == 1:
        _fit_1d(ax, estimator, final, classifier, X, y, W, b, show, output, lo, hi, pad,
                resolution, width)
    else:
        _fit_2d(ax, estimator, final, classifier, X, y, W, b, show, output, lo, hi, pad,
                resolution, width)
    drawn = f"{int(show.sum())} neurons" if show.any() or not net.n_neurons else \
        f"{net.n_neurons} neurons (not drawn)"
    ax.set_title(f"{type(final).__name__}: {drawn}, alpha = {_alpha_of(final):.3g}",
                 fontsize=10)
    return ax


def _fit_1d(ax, estimator, final, classifier, X, y, W, b, show, output, lo, hi, pad,
            resolution, width):
    x = X[:, 0]
    knots = b[show] / W[show, 0]
    grid = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    # Knots inside the range are grid points, so the drawn polyline is the exact spline.
    inside = knots[(knots > grid[0]) & (knots < grid[-1])]
    grid = np.unique(np.concatenate([grid, inside]))
    if classifier:
        P = _predict_blocks(estimator.predict_proba, grid[:, None], width)
        classes = final.classes_
        first = 1 if len(classes) == 2 else 0
        for k in range(first, len(classes)):
            ax.plot(grid, P[:, k], color=f"C{k}", lw=2, label=f"P(y = {classes[k]})")
        if y is not None:
            for k, c in enumerate(classes):
                sel = y == c
                level = float(k == 1) if len(classes) == 2 else -0.04 * (k + 1)
                ax.plot(x[sel], np.full(sel.sum(), level), "|" if len(classes) > 2 else "o",
                        color=f"C{k}", ms=5, alpha=0.6, label=f"class {c}")
        for j, t in enumerate(np.sort(knots)):
            ax.axvline(t, color="0.4", lw=0.8, ls=":", gid="neuron",
                       label=f"{len(knots)} knots" if j == 0 else None)
        ax.set_ylabel("probability")
    else:
        f = _predict_blocks(estimator.predict, grid[:, None], width)
        if f.ndim == 2:
            f = f[:, output or 0]
        if y is not None:
            ax.plot(x, y, ".", color="0.55", ms=4, label="data")
        ax.plot(grid, f, color="C0", lw=2, label="fit")
        fk = np.interp(knots, grid, f)
        # The limits follow the data and the fit over the data's range: a steep end piece
        # in the margin (tiny alpha) would otherwise flatten everything else.
        inner = f[(grid >= lo[0]) & (grid <= hi[0])]
        ys = np.concatenate([inner, y if y is not None else inner])
        y0, y1 = float(ys.min()), float(ys.max())
        span = y1 - y0 if y1 > y0 else 1.0
        ax.set_ylim(y0 - 0.08 * span, y1 + 0.08 * span)
        ax.plot(knots, fk, "o", color=_POS, mec="k", mew=0.5, ms=6, gid="knots",
                label=f"{len(knots)} knots")
        ax.set_ylabel("y" if output is None else f"y[:, {output}]")
    ax.set_xlabel("x")
    ax.set_xlim(grid[0], grid[-1])
    ax.legend(fontsize=8, loc="best")


def _fit_2d(ax, estimator, final, classifier, X, y, W, b, show, output, lo, hi, pad,
            resolution, width):
    g0 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    g1 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    G0, G1 = np.meshgrid(g0, g1)
    Z = np.column_stack([G0.ravel(), G1.ravel()])
    fig = ax.figure
    if classifier:
        classes = final.classes_
        P = _predict_blocks(estimator.predict_proba, Z, width)
        if len(classes) == 2:
            F = P[:, 1].reshape(G0.shape)
            cs = ax.contourf(G0, G1, F, levels=np.linspace(0, 1, 11), cmap="RdBu_r",
                             alpha=0.8)
            ax.contour(G0, G1, F, levels=[0.5], colors="k", linewidths=1.5)
            fig.colorbar(cs, ax=ax, label=f"P(y = {classes[1]})")
        else:
            F = np.argmax(P, axis=1).reshape(G0.shape)
            ax.contourf(G0, G1, F, levels=np.arange(len(classes) + 1) - 0.5,
                        colors=[f"C{k}" for k in range(len(classes))], alpha=0.3)
        if y is not None:
            for k, c in enumerate(classes):
                sel = y == c
                color = ("tab:blue", "tab:red")[k] if len(classes) == 2 else f"C{k}"
                ax.scatter(X[sel, 0], X[sel, 1], s=12, color=color, edgecolors="k",
                           linewidths=0.3, label=f"class {c}", zorder=3)
        colors = ["k"] * len(W)
    else:
        F = _predict_blocks(estimator.predict, Z, width)
        if F.ndim == 2:
            F = F[:, output or 0]
        F = F.reshape(G0.shape)
        vmin, vmax = float(F.min()), float(F.max())
        if y is not None:
            vmin, vmax = min(vmin, float(y.min())), max(vmax, float(y.max()))
        if not vmax > vmin:
            vmax = vmin + 1.0
        levels = MaxNLocator(20).tick_values(vmin, vmax)
        cs = ax.contourf(G0, G1, F, levels=levels, cmap="viridis")
        fig.colorbar(cs, ax=ax, label="fit" if output is None else f"fit, output {output}")
        if y is not None:
            ax.scatter(X[:, 0], X[:, 1], c=y, cmap="viridis", vmin=vmin, vmax=vmax, s=12,
                       edgecolors="w", linewidths=0.4, zorder=3, label="data")
        v = _outer_for(final.network_, output)
        colors = [_POS if vk > 0 else _NEG for vk in v]
    labelled = set()
    for k in np.flatnonzero(show):
        seg = _clip_line(W[k], b[k], lo, hi)
        if seg is None:
            # Biases are data projections, so this needs a hyperplane through no data point
            # (e.g. a hand-made network); an empty artist keeps one artist per neuron.
            seg = (np.full(2, np.nan), np.full(2, np.nan))
        label = None
        if colors[k] not in labelled:
            labelled.add(colors[k])
            label = {"k": "neurons", _POS: "neuron, v > 0", _NEG: "neuron, v < 0"}[colors[k]]
        # A light halo keeps the lines readable on any colour of the contours.
        ax.plot([seg[0][0], seg[1][0]], [seg[0][1], seg[1][1]], color=colors[k], lw=1.5,
                gid="neuron", label=label, zorder=4,
                path_effects=[patheffects.withStroke(linewidth=2.6, foreground="w",
                                                     alpha=0.6)])
    ax.set_xlim(g0[0], g0[-1])
    ax.set_ylim(g1[0], g1[-1])
    ax.set_xlabel("x[:, 0]")
    ax.set_ylabel("x[:, 1]")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper right", framealpha=0.8)


# ---------------------------------------------------------------------------------------
# plot_path
# ---------------------------------------------------------------------------------------
def _path_data(obj):
    """(alphas, values (n_alphas, n_folds), ylabel, neuron counts or None, chosen alpha,
    alpha_max or None)."""
    amax = None
    by_score = getattr(obj, "scoring", None) is not None and hasattr(obj, "scores_")
    if hasattr(obj, "mse_path_") and hasattr(obj, "alphas_") and not by_score:
        vals, label = obj.mse_path_, "CV mean squared error"
        alphas, neurons = obj.alphas_, getattr(obj, "n_neurons_path_", None)
        chosen = getattr(obj, "alpha_", None)
    elif hasattr(obj, "scores_") and hasattr(obj, "alphas_"):
        vals, label = obj.scores_, "CV score"
        if isinstance(vals, dict):
            vals = next(iter(vals.values()))
        alphas, neurons = obj.alphas_, getattr(obj, "n_neurons_path_", None)
        chosen = getattr(obj, "alpha_", None)
    elif hasattr(obj, "alphas") and hasattr(obj, "objectives"):
        vals = obj.objectives
        label = "objective of (C)" if getattr(obj, "classifier", False) else "objective of (P)"
        alphas, neurons, chosen = obj.alphas, getattr(obj, "n_neurons", None), None
        amax = getattr(obj, "alpha_max", None)
    else:
        raise TypeError("path_or_cv must be a RadonPath (alphas, objectives, n_neurons) or a "
                        "fitted cross-validated estimator (alphas_ with mse_path_ or scores_); "
                        f"got {type(obj).__name__}.")
    alphas = np.asarray(alphas, dtype=float).ravel()
    vals = np.asarray(vals, dtype=float)
    vals = vals.reshape(len(vals), -1) if vals.ndim else vals.reshape(1, 1)
    if vals.shape[0] != len(alphas):
        raise ValueError(f"path_or_cv has {len(alphas)} alphas but {vals.shape[0]} rows of "
                         f"{label}.")
    if neurons is not None:
        neurons = np.asarray(neurons, dtype=float).reshape(-1)
        if len(neurons) != len(alphas):
            raise ValueError(f"path_or_cv has {len(alphas)} alphas but {len(neurons)} neuron "
                             "counts.")
    if chosen is not None:
        chosen = float(chosen)
    if amax is not None:
        amax = float(amax)
    return alphas, vals, label, neurons, chosen, amax


def plot_path(path_or_cv, *, ax=None):
    """Cross-validated error (or the objective) and the neuron count against alpha.

    Parameters
    ----------
    path_or_cv : RadonPath or fitted cross-validated estimator
        A regularization path (attributes ``alphas``, ``objectives``, ``n_neurons``): the
        objective of (P) against alpha. A cross-validated estimator: the mean, with a band
        of one standard deviation over the folds, of ``mse_path_`` (regression) or
        ``scores_`` (classification), both of shape (n_alphas, n_folds), against
        ``alphas_``, with a vertical line at the chosen ``alpha_``. The neuron count
        (``n_neurons`` or ``n_neurons_path_``, when present) goes on a second y axis.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        Axes of the error (or objective), with a logarithmic alpha axis.
    ax_neurons : matplotlib Axes or None
        The twin axes of the neuron count (None without neuron counts).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from radonsolve import radon_path
    >>> from radonsolve.plot import plot_path
    >>> x = np.linspace(-1, 1, 41)[:, None]
    >>> path = radon_path(x, np.abs(x[:, 0]), n_alphas=4, eps=1e-3)
    >>> ax, ax_neurons = plot_path(path)
    >>> ax_neurons.lines[0].get_ydata().tolist()  # by increasing alpha
    [1.0, 1.0, 1.0, 0.0]
    """
    alphas, vals, label, neurons, chosen, amax = _path_data(path_or_cv)
    keep = alphas > 0
    if not keep.any():
        raise ValueError("path_or_cv has no positive alpha to draw on a logarithmic axis.")
    alphas, vals = alphas[keep], vals[keep]
    order = np.argsort(alphas)
    alphas, vals = alphas[order], vals[order]
    ax = _new_axes(ax, (6.4, 4.2))
    mean = np.nanmean(vals, axis=1)
    ax.plot(alphas, mean, "o-", color="C0", ms=3, label=label)
    if vals.shape[1] > 1:
        std = np.nanstd(vals, axis=1)
        ax.fill_between(alphas, mean - std, mean + std, color="C0", alpha=0.2,
                        label="+- 1 std over folds")
    ax.set_xscale("log")
    ax.set_xlabel("alpha")
    ax.set_ylabel(label, color="C0")
    if chosen is not None and chosen > 0:
        ax.axvline(chosen, color="k", ls="--", lw=1, label=f"alpha_ = {chosen:.3g}")
    if amax is not None and amax > 0:
        ax.axvline(amax, color="0.5", ls=":", lw=1, label=f"alpha_max = {amax:.3g}")
    ax_n = None
    if neurons is not None:
        neurons = neurons[keep][order]
        ax_n = ax.twinx()
        ax_n.plot(alphas, neurons, "s-", color="C1", ms=3, label="neurons")
        ax_n.set_ylabel("neurons", color="C1")
        ax_n.set_ylim(bottom=0)
    handles, labels = ax.get_legend_handles_labels()
    if ax_n is not None:
        h2, l2 = ax_n.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, fontsize=8, loc="best")
    return ax, ax_n


# ---------------------------------------------------------------------------------------
# plot_certificate
# ---------------------------------------------------------------------------------------
def _dual_point(final, Xm, y, sample_weight):
    """Weighted projected residual ``q = sqrt(u) P sqrt(u) (y - f(X))`` of the fit (DESIGN §5)."""
    Y = np.asarray(y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape[0] != Xm.shape[0]:
        raise ValueError(f"y has {Y.shape[0]} samples but X has {Xm.shape[0]}.")
    u = normalized_weights(sample_weight, Xm)
    keep = u > 0
    Xm, Y, u = Xm[keep], Y[keep], u[keep] / u[keep].sum()
    net = final.network_
    pred = _predict_blocks(net.predict, Xm, net.n_neurons + 1).reshape(len(Xm), -1)
    proj = AffineProjector(Xm, u)
    q = proj.sqrt_u[:, None] * proj.project(proj.sqrt_u[:, None] * (Y - pred))
    return Xm, (q[:, 0] if q.shape[1] == 1 else q)


def plot_certificate(estimator, X=None, y=None, *, sample_weight=None, ax=None,
                     n_angles=720):
    """The dual certificate of a fit: over the directions, and per refinement round.

    Panels, each drawn when it applies:

    - two features (with X and y): ``eta(theta)`` of the direction
      ``(cos theta, sin theta)`` for theta in [0, pi), computed exactly on a grid of
      ``n_angles`` angles plus the active neurons' angles, with the line eta = 1 and a
      vertical line at each neuron's angle (the fit is optimal iff eta <= 1 everywhere;
      eta touches 1 at the active neurons);
    - one feature (with X and y): the signed correlation ``c(b) / alpha`` of the atom
      ``max(x - b, 0)`` with the dual point, over the bias b, within [-1, 1] at the optimum
      and touching +-1 at the knots;
    - a fit with refinement rounds (``refinement_history_``): the objective and eta per
      round.

    Angles and biases are those of the network's own inputs (after the steps of a
    Pipeline).

    Parameters
    ----------
    estimator : RadonReLURegressor or Pipeline ending in one
        Fitted.
    X : array-like of shape (n_samples, n_features), default=None
        The training inputs (needed for the first panel).
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        The training targets (needed with X).
    sample_weight : array-like of shape (n_samples,), default=None
        The training sample weights, if the fit had any.
    ax : matplotlib Axes or sequence of Axes, default=None
        One Axes per panel drawn; a new figure when None.
    n_angles : int, default=720
        Angles of the grid of the two-feature panel.

    Returns
    -------
    axes : list of matplotlib Axes
        One per panel, in the order above. The round panel's eta is on ``axes[-1]``'s twin.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from radonsolve import RadonReLURegressor
    >>> from radonsolve.datasets import make_relu_ridges_2d
    >>> from radonsolve.plot import plot_certificate
    >>> X, y = make_relu_ridges_2d(60, random_state=0)
    >>> model = RadonReLURegressor(alpha=3e-3, random_state=0).fit(X, y)
    >>> axes = plot_certificate(model, X, y)
    >>> len(axes)
    2
    """
    final, transform = _unwrap(estimator, regressor_only=True)
    if isinstance(n_angles, bool) or not isinstance(n_angles, numbers.Integral) or \
            n_angles < 2:
        raise ValueError(f"n_angles must be an integer >= 2; got {n_angles!r}.")
    panels = []
    if X is not None:
        if y is None:
            raise ValueError("y is required with X: the dual point is built from the "
                             "residual y - f(X).")
        X = check_array(X, dtype=np.float64)
        Xm = X if transform is None else np.asarray(transform(X), dtype=float)
        if Xm.shape[1] != final.network_.n_features:
            raise ValueError(f"X has {Xm.shape[1]} features, but the model was fitted with "
                             f"{final.network_.n_features} features.")
        if Xm.shape[1] > 2:
            raise ValueError("plot_certificate draws eta over the directions for 1-D and 2-D "
                             f"inputs; X has {Xm.shape[1]} features (pass X=None to draw "
                             "only the refinement rounds).")
        panels.append("directions")
    history = list(getattr(final, "refinement_history_", []))
    if history:
        panels.append("rounds")
    if not panels:
        raise ValueError("plot_certificate has nothing to draw: pass X and y for eta over "
                         "the directions; the estimator has no refinement rounds "
                         "(refinement_history_ is empty).")
    axes = _panel_axes(ax, len(panels))
    i = 0
    if "directions" in panels:
        Xq, q = _dual_point(final, Xm, y, sample_weight)
        if Xq.shape[1] == 2:
            _eta_over_angle(axes[i], final, Xq, q, n_angles)
        else:
            _correlation_over_bias(axes[i], final, Xq, q)
        i += 1
    if "rounds" in panels:
        _rounds(axes[i], history)
    return axes


def _panel_axes(ax, n):
    if ax is None:
        plt = _pyplot()
        _, axs = plt.subplots(1, n, figsize=(6.0 * n, 4.2), squeeze=False,
                              layout="constrained")
        return list(axs[0])
    axs = list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axs) != n:
        raise ValueError(f"ax must hold one Axes per panel drawn ({n}); got {len(axs)}.")
    return axs


def _eta_over_angle(ax, final, X, q, n_angles):
    alpha = _alpha_of(final)
    net = final.network_
    Wn = net.weights
    th_neurons = np.mod(np.arctan2(Wn[:, 1], Wn[:, 0]), np.pi)
    theta = np.unique(np.concatenate([np.linspace(0.0, np.pi, n_angles, endpoint=False),
                                      th_neurons]))
    W = np.column_stack([np.cos(theta), np.sin(theta)])
    e = eta(X, q, alpha, W)[0]
    ax.plot(theta, e, color="C0", lw=1.2, label="eta(theta)")
    ax.axhline(1.0, color="k", ls="--", lw=1, label="eta = 1")
    for j, t in enumerate(th_neurons):
        ax.axvline(t, color=_POS, lw=0.7, alpha=0.6, gid="neuron",
                   label=f"{net.n_neurons} neurons' angles" if j == 0 else None)
    ax.set_xlim(0.0, np.pi)
    ax.set_xticks(np.linspace(0, np.pi, 5))
    ax.set_xticklabels(["0", "pi/4", "pi/2", "3pi/4", "pi"])
    ax.set_xlabel("angle theta of the direction w = (cos theta, sin theta)")
    ax.set_ylabel("eta")
    ax.set_ylim(bottom=0.0)
    cert = getattr(final, "certificate_", np.nan)
    ax.set_title(f"eta over all directions: max {np.max(e):.6f} on the grid "
                 f"(certificate_ {cert:.6f})", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")


def _correlation_over_bias(ax, final, X, q):
    alpha = _alpha_of(final)
    x = X[:, 0]
    order = np.argsort(x, kind="stable")
    xs = x[order]
    Q = q[order] if q.ndim == 1 else q[order]
    Q2 = Q[:, None] if Q.ndim == 1 else Q
    # c(b_j) = sum_{m >= j} q_m (x_m - b_j): suffix sums in sorted order (DESIGN §3).
    S0 = np.cumsum(Q2[::-1], axis=0)[::-1]
    S1 = np.cumsum((Q2 * xs[:, None])[::-1], axis=0)[::-1]
    c = S1 - xs[:, None] * S0
    c = c[:, 0] if q.ndim == 1 else np.linalg.norm(c, axis=1)
    ax.plot(xs, c / alpha, color="C0", lw=1.2, label="c(b) / alpha")
    for level in ((-1.0, 1.0) if q.ndim == 1 else (1.0,)):
        ax.axhline(level, color="k", ls="--", lw=1, label="|eta| = 1" if level > 0 else None)
    net = final.network_
    knots = net.biases / net.weights[:, 0]
    for j, t in enumerate(np.sort(knots)):
        ax.axvline(t, color=_POS, lw=0.7, alpha=0.6, gid="neuron",
                   label=f"{len(knots)} knots" if j == 0 else None)
    ax.set_xlabel("bias b (knot position)")
    ax.set_ylabel("correlation / alpha" if q.ndim == 1 else "||correlation|| / alpha")
    ax.set_title(f"Dual certificate over the bias: eta = {np.max(np.abs(c)) / alpha:.6f}",
                 fontsize=9)
    ax.legend(fontsize=8, loc="best")


def _rounds(ax, history):
    r = np.array([h.round for h in history])
    obj = np.array([h.objective for h in history])
    et = np.array([h.eta for h in history])
    ax.plot(r, obj, "o-", color="C0", ms=4, label="objective")
    ax.set_xlabel("refinement round")
    ax.set_ylabel("objective of (P)", color="C0")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3), useOffset=False)
    ax2 = ax.twinx()
    ax2.plot(r, et, "s-", color="C1", ms=4, label="eta (sup over directions)")
    ax2.axhline(1.0, color="k", ls="--", lw=1, label="eta = 1")
    ax2.set_ylabel("eta", color="C1")
    if len(r) > 1 and np.nanmax(et) > 0 and np.nanmax(et) / max(np.nanmin(et), 1e-300) > 10:
        ax2.set_yscale("log")
    ax.set_xticks(r if len(r) <= 12 else np.linspace(r[0], r[-1], 7).round())
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper right")
    ax.set_title(f"Refinement: {len(r) - 1} rounds, final eta {et[-1]:.6f}", fontsize=9)
