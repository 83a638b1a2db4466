"""Tests of radonsolve.plot: rendered with Agg, checked for content, not for looks."""

import io
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # noqa: E402

from radonsolve import RadonReLUClassifier, RadonReLURegressor, alpha_max  # noqa: E402
from radonsolve.certificate import eta  # noqa: E402
from radonsolve.datasets import make_piecewise_linear_1d, make_relu_ridges_2d  # noqa: E402
from radonsolve.plot import plot_certificate, plot_fit, plot_path  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _pixels(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    buf.seek(0)
    return plt.imread(buf)


def assert_not_blank(fig):
    img = _pixels(fig)[..., :3]
    n_colours = len(np.unique(np.round(img.reshape(-1, 3) * 255).astype(int), axis=0))
    assert img.std() > 0.05, "the image is (nearly) uniform"
    assert n_colours > 20, f"only {n_colours} distinct colours"


def neuron_artists(ax, gid="neuron"):
    return [a for a in ax.lines if a.get_gid() == gid]


@pytest.fixture(scope="module")
def fit_1d():
    X, y = make_piecewise_linear_1d(60, random_state=0)
    model = RadonReLURegressor(alpha=1e-2 * alpha_max(X, y)).fit(X, y)
    return model, X, y


@pytest.fixture(scope="module")
def fit_2d():
    X, y = make_relu_ridges_2d(60, random_state=0)
    model = RadonReLURegressor(alpha=1e-2 * alpha_max(X, y), random_state=0).fit(X, y)
    return model, X, y


# ------------------------------------------------------------------------------ plot_fit
def test_plot_fit_1d_knots_are_the_network_knots(fit_1d):
    model, X, y = fit_1d
    ax = plot_fit(model, X, y)
    assert_not_blank(ax.figure)
    (knots,) = neuron_artists(ax, "knots")
    net = model.network_
    assert net.n_neurons >= 2
    expected = np.sort(net.biases / net.weights[:, 0])
    np.testing.assert_allclose(np.sort(knots.get_xdata()), expected)
    # The markers sit on the drawn fit, which is the network itself.
    np.testing.assert_allclose(knots.get_ydata(), model.predict(knots.get_xdata()[:, None]),
                               atol=1e-12 * np.ptp(y))
    fit_line = [ln for ln in ax.lines if ln.get_label() == "fit"][0]
    gx = fit_line.get_xdata()
    np.testing.assert_allclose(fit_line.get_ydata(), model.predict(gx[:, None]))
    assert gx.min() < X.min() and gx.max() > X.max()


def test_plot_fit_2d_one_line_per_neuron_on_its_hyperplane(fit_2d):
    model, X, y = fit_2d
    fig, ax = plt.subplots()
    out = plot_fit(model, X, y, ax=ax)
    assert out is ax
    assert_not_blank(fig)
    lines = neuron_artists(ax)
    net = model.network_
    assert len(lines) == net.n_neurons > 0
    lo, hi = X.min(axis=0), X.max(axis=0)
    for line in lines:
        P = np.column_stack([line.get_xdata(), line.get_ydata()])
        # each segment lies on some neuron's line w.x = b, inside the data's box
        resid = np.abs(P @ net.weights.T - net.biases).max(axis=0)
        assert resid.min() < 1e-9
        assert np.all(P >= lo - 1e-9) and np.all(P <= hi + 1e-9)
    # every neuron is drawn once
    hit = [int(np.argmin(np.abs(np.column_stack([ln.get_xdata(), ln.get_ydata()])
                                @ net.weights.T - net.biases).max(axis=0))) for ln in lines]
    assert sorted(hit) == list(range(net.n_neurons))


def test_plot_fit_pipeline_maps_neurons_to_original_units(fit_2d):
    _, X0, y = fit_2d
    X = X0 * np.array([5.0, 0.2]) + np.array([3.0, -1.0])
    pipe = make_pipeline(StandardScaler(), RadonReLURegressor(alpha=3e-3, random_state=0))
    pipe.fit(X, y)
    ax = plot_fit(pipe, X, y)
    assert_not_blank(ax.figure)
    lines = neuron_artists(ax)
    net = pipe[-1].network_
    assert len(lines) == net.n_neurons > 0
    scaler = pipe[0]
    for line in lines:
        P = np.column_stack([line.get_xdata(), line.get_ydata()])
        Z = scaler.transform(P)
        resid = np.abs(Z @ net.weights.T - net.biases).max(axis=0)
        assert resid.min() < 1e-8


def test_plot_fit_pipeline_1d_knots_in_original_units():
    X, y = make_piecewise_linear_1d(50, random_state=1)
    Xs = 10.0 * X + 4.0
    pipe = make_pipeline(StandardScaler(), RadonReLURegressor(alpha=1e-3)).fit(Xs, y)
    ax = plot_fit(pipe, Xs, y)
    (knots,) = neuron_artists(ax, "knots")
    net = pipe[-1].network_
    z = pipe[0].transform(np.sort(knots.get_xdata())[:, None])[:, 0]
    np.testing.assert_allclose(z, np.sort(net.biases / net.weights[:, 0]), atol=1e-10)


def test_plot_fit_non_affine_pipeline_skips_neurons_with_warning(fit_2d):
    _, X, y = fit_2d
    pipe = make_pipeline(FunctionTransformer(np.tanh),
                         RadonReLURegressor(alpha=3e-3, random_state=0)).fit(X, y)
    with pytest.warns(UserWarning, match="not affine"):
        ax = plot_fit(pipe, X, y)
    assert neuron_artists(ax) == []
    assert_not_blank(ax.figure)


def test_plot_fit_classifier_2d_binary_and_multiclass():
    X, y = make_moons(80, noise=0.15, random_state=0)
    clf = RadonReLUClassifier(alpha=3e-3, random_state=0).fit(X, y)
    ax = plot_fit(clf, X, y)
    assert_not_blank(ax.figure)
    assert len(neuron_artists(ax)) == clf.n_neurons_ > 0
    rng = np.random.RandomState(0)
    X3 = rng.uniform(-1, 1, (90, 2))
    y3 = np.digitize(X3[:, 0] + 0.5 * X3[:, 1], [-0.4, 0.4])
    clf3 = RadonReLUClassifier(alpha=1e-3, random_state=0).fit(X3, y3)
    ax3 = plot_fit(clf3, X3, y3)
    assert_not_blank(ax3.figure)
    assert len(neuron_artists(ax3)) == clf3.n_neurons_


def test_plot_fit_classifier_1d():
    rng = np.random.RandomState(0)
    x = np.sort(rng.uniform(-1, 1, 60))
    y = (np.abs(x) + 0.2 * rng.randn(60) > 0.5).astype(int)
    clf = RadonReLUClassifier(alpha=1e-2).fit(x[:, None], y)
    ax = plot_fit(clf, x[:, None], y)
    assert_not_blank(ax.figure)
    vlines = neuron_artists(ax)
    assert len(vlines) == clf.n_neurons_ > 0
    knots = np.sort([ln.get_xdata()[0] for ln in vlines])
    net = clf.network_
    np.testing.assert_allclose(knots, np.sort(net.biases / net.weights[:, 0]))
    # three classes, in a pipeline: one probability curve per class
    y3 = np.digitize(x + 0.1 * rng.randn(60), [-0.3, 0.3])
    pipe = make_pipeline(StandardScaler(), RadonReLUClassifier(alpha=1e-3)).fit(x[:, None], y3)
    ax3 = plot_fit(pipe, x[:, None], y3)
    assert_not_blank(ax3.figure)
    curves = [ln for ln in ax3.lines if ln.get_label().startswith("P(y = ")]
    assert len(curves) == 3
    P = np.column_stack([ln.get_ydata() for ln in curves])
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert len(neuron_artists(ax3)) == pipe[-1].n_neurons_


def test_plot_fit_multi_output_draws_the_chosen_output(fit_2d):
    _, X, y = fit_2d
    Y = np.column_stack([y, -2.0 * y + X[:, 0]])
    model = RadonReLURegressor(alpha=3e-3, random_state=0).fit(X, Y)
    ax0 = plot_fit(model, X, Y, output=0)
    ax1 = plot_fit(model, X, Y, output=1)
    assert_not_blank(ax1.figure)
    V = model.network_.outer
    assert len(neuron_artists(ax0)) == int(np.sum(V[:, 0] != 0))
    assert len(neuron_artists(ax1)) == int(np.sum(V[:, 1] != 0))
    with pytest.raises(ValueError, match="output must be an integer in \\[0, 2\\)"):
        plot_fit(model, X, Y, output=2)


def test_plot_fit_rejects_bad_input(fit_1d):
    model, X, y = fit_1d
    rng = np.random.RandomState(0)
    X3 = rng.randn(30, 3)
    m3 = RadonReLURegressor(alpha=1.0, refine=False, random_state=0).fit(X3, np.sin(X3[:, 0]))
    with pytest.raises(ValueError, match="plot_fit draws 1-D and 2-D inputs; X has 3 features"):
        plot_fit(m3, X3)
    with pytest.raises(TypeError, match="estimator must be a fitted"):
        plot_fit(StandardScaler().fit(X), X)
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        plot_fit(RadonReLURegressor(), X)
    with pytest.raises(ValueError, match="y has 5 samples but X has 60"):
        plot_fit(model, X, y[:5])
    with pytest.raises(ValueError, match="resolution"):
        plot_fit(model, X, y, resolution=1)


# ------------------------------------------------------------------------------ plot_path
def test_plot_path_radon_path_like_object():
    path = SimpleNamespace(alphas=np.array([1.0, 0.3, 0.1, 0.03]),
                           objectives=np.array([0.5, 0.3, 0.2, 0.15]),
                           n_neurons=np.array([0, 2, 5, 9]),
                           networks=[None] * 4, dual_gaps=np.zeros(4))
    ax, ax_n = plot_path(path)
    assert_not_blank(ax.figure)
    assert ax.get_xscale() == "log"
    # drawn in increasing alpha
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0.03, 0.1, 0.3, 1.0])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.15, 0.2, 0.3, 0.5])
    np.testing.assert_allclose(ax_n.lines[0].get_ydata(), [9, 5, 2, 0])


def test_plot_path_cv_like_object_mean_band_and_chosen_alpha():
    rng = np.random.RandomState(0)
    mse = rng.uniform(1, 2, size=(5, 3))
    cv = SimpleNamespace(alphas_=np.logspace(0, -2, 5), mse_path_=mse, alpha_=0.1,
                         n_neurons_path_=np.array([0, 1, 3, 4, 8]))
    ax, ax_n = plot_path(cv)
    assert_not_blank(ax.figure)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), mse.mean(axis=1)[::-1])
    assert len(ax.collections) == 1  # the +- std band
    vline = [ln for ln in ax.lines if ln.get_label().startswith("alpha_ =")]
    assert len(vline) == 1 and np.allclose(vline[0].get_xdata(), 0.1)
    np.testing.assert_allclose(ax_n.lines[0].get_ydata(), [8, 4, 3, 1, 0])
    clf_cv = SimpleNamespace(alphas_=np.logspace(0, -2, 5), scores_=mse, alpha_=0.01)
    ax2, ax2_n = plot_path(clf_cv)
    assert ax2_n is None and ax2.get_ylabel() == "CV score"


def test_plot_path_rejects_other_objects():
    with pytest.raises(TypeError, match="path_or_cv must be"):
        plot_path(object())
    bad = SimpleNamespace(alphas_=np.ones(3), mse_path_=np.ones((4, 2)))
    with pytest.raises(ValueError, match="path_or_cv has 3 alphas but 4 rows"):
        plot_path(bad)


# ------------------------------------------------------------------------ plot_certificate
def test_plot_certificate_2d_eta_over_angle(fit_2d):
    model, X, y = fit_2d
    axes = plot_certificate(model, X, y)
    assert len(axes) == (2 if model.refinement_history_ else 1)
    fig = axes[0].figure
    assert_not_blank(fig)
    ax = axes[0]
    curve = ax.lines[0]
    theta, e = curve.get_xdata(), curve.get_ydata()
    assert np.all((theta >= 0) & (theta < np.pi))
    # the panel's eta is the certificate module's eta at those angles
    W = np.column_stack([np.cos(theta[::37]), np.sin(theta[::37])])
    net = model.network_
    from radonsolve.dictionary import AffineProjector
    proj = AffineProjector(X, np.full(len(X), 1.0 / len(X)))
    q = proj.sqrt_u * proj.project(proj.sqrt_u * (y - model.predict(X)))
    np.testing.assert_allclose(e[::37], eta(X, q, model.alpha, W)[0], rtol=1e-10)
    # optimality: eta <= 1 everywhere (up to the fit's tolerance), = 1 at the neurons
    assert model.certified_
    assert e.max() <= model.certificate_ * (1 + 1e-9)
    neurons = neuron_artists(ax)
    assert len(neurons) == net.n_neurons
    th_k = np.array([ln.get_xdata()[0] for ln in neurons])
    at_k = np.interp(th_k, theta, e)
    np.testing.assert_allclose(at_k, 1.0, atol=1e-3)


def test_plot_certificate_rounds_panel(fit_2d):
    model, _, _ = fit_2d
    assert len(model.refinement_history_) >= 2
    (ax,) = plot_certificate(model)
    assert_not_blank(ax.figure)
    np.testing.assert_allclose(ax.lines[0].get_ydata(),
                               [h.objective for h in model.refinement_history_])
    twin = [a for a in ax.figure.axes if a is not ax][0]
    np.testing.assert_allclose(twin.lines[0].get_ydata(),
                               [h.eta for h in model.refinement_history_])


def test_plot_certificate_1d_correlation_over_bias(fit_1d):
    model, X, y = fit_1d
    (ax,) = plot_certificate(model, X, y)
    assert_not_blank(ax.figure)
    c = ax.lines[0].get_ydata()
    # within [-1, 1] at the optimum, touching +-1 at the knots; the max is the module's eta
    assert np.max(np.abs(c)) <= 1 + 1e-6
    proj_u = np.full(len(X), 1.0 / len(X))
    from radonsolve.dictionary import AffineProjector
    proj = AffineProjector(X, proj_u)
    q = proj.sqrt_u * proj.project(proj.sqrt_u * (y - model.predict(X)))
    np.testing.assert_allclose(np.max(np.abs(c)), eta(X, q, model.alpha, np.ones((1, 1)))[0][0],
                               rtol=1e-9)
    knots = np.array([ln.get_xdata()[0] for ln in neuron_artists(ax)])
    assert len(knots) == model.n_neurons_
    np.testing.assert_allclose(np.abs(np.interp(knots, ax.lines[0].get_xdata(), c)), 1.0,
                               atol=1e-4)


def test_plot_certificate_with_sample_weight():
    X, y = make_piecewise_linear_1d(50, random_state=2)
    w = np.random.RandomState(0).uniform(0.0, 3.0, 50)
    w[:5] = 0.0
    model = RadonReLURegressor(alpha=1e-3).fit(X, y, sample_weight=w)
    (ax,) = plot_certificate(model, X, y, sample_weight=w)
    c = ax.lines[0].get_ydata()
    assert np.max(np.abs(c)) <= 1 + 1e-6
    knots = np.array([ln.get_xdata()[0] for ln in neuron_artists(ax)])
    np.testing.assert_allclose(np.abs(np.interp(knots, ax.lines[0].get_xdata(), c)), 1.0,
                               atol=1e-4)
    # without the weights the dual point is another one, no longer within [-1, 1]
    (ax2,) = plot_certificate(model, X, y)
    assert np.max(np.abs(ax2.lines[0].get_ydata())) > 1 + 1e-3


def test_plot_certificate_errors(fit_1d, fit_2d):
    model, X, y = fit_1d
    with pytest.raises(ValueError, match="plot_certificate has nothing to draw"):
        plot_certificate(model)
    with pytest.raises(ValueError, match="y is required with X"):
        plot_certificate(model, X)
    Xm, ym = make_moons(40, random_state=0)
    clf = RadonReLUClassifier(alpha=1e-2, random_state=0).fit(Xm, ym)
    with pytest.raises(TypeError, match="estimator must be a fitted RadonReLURegressor"):
        plot_certificate(clf, Xm, ym)
    m2, X2, y2 = fit_2d
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="ax must hold one Axes per panel drawn \\(2\\)"):
        plot_certificate(m2, X2, y2, ax=ax)


def test_plot_certificate_does_not_modify_inputs(fit_2d):
    model, X, y = fit_2d
    X0, y0 = X.copy(), y.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_certificate(model, X, y)
        plot_fit(model, X, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


# ------------------------------------------------------------- with the real path and CV
def test_plot_path_and_fit_with_radon_path_and_cv_estimators():
    from radonsolve import RadonReLUClassifierCV, RadonReLURegressorCV, radon_path

    X, y = make_piecewise_linear_1d(40, random_state=0)
    path = radon_path(X, y, n_alphas=5, eps=1e-3)
    ax, ax_n = plot_path(path)
    assert_not_blank(ax.figure)
    order = np.argsort(path.alphas)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), path.alphas[order])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), path.objectives[order])
    np.testing.assert_allclose(ax_n.lines[0].get_ydata(), path.n_neurons[order])

    cv = RadonReLURegressorCV(n_alphas=5, cv=3).fit(X, y)
    ax, ax_n = plot_path(cv)
    assert_not_blank(ax.figure)
    order = np.argsort(cv.alphas_)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), cv.mse_path_.mean(axis=1)[order])
    np.testing.assert_allclose(ax_n.lines[0].get_ydata(), cv.n_neurons_path_[order])
    assert any(np.allclose(ln.get_xdata(), cv.alpha_) for ln in ax.lines[1:])
    # the refit network of a CV estimator is drawn like any fit, its certificate too
    ax = plot_fit(cv, X, y)
    (knots,) = neuron_artists(ax, "knots")
    assert len(knots.get_xdata()) == cv.n_neurons_
    (ax,) = plot_certificate(cv, X, y)
    assert np.max(np.abs(ax.lines[0].get_ydata())) <= 1 + 1e-6
    with pytest.raises(ValueError, match="X has 2 features, but the model was fitted with 1"):
        plot_certificate(cv, np.column_stack([X, X]), y)

    Xm, ym = make_moons(60, noise=0.15, random_state=0)
    ccv = RadonReLUClassifierCV(n_alphas=3, cv=3, random_state=0).fit(Xm, ym)
    ax, _ = plot_path(ccv)
    np.testing.assert_allclose(ax.lines[0].get_ydata(),
                               ccv.scores_.mean(axis=1)[np.argsort(ccv.alphas_)])
