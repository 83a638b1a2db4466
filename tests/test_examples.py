"""The scripts of examples/ run at tiny sizes, make their figure, and their claim holds."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_png_not_blank(path):
    img = plt.imread(path)[..., :3]
    n_colours = len(np.unique(np.round(img.reshape(-1, 3) * 255).astype(int), axis=0))
    assert img.std() > 0.05 and n_colours > 20


def test_every_example_is_tested():
    scripts = sorted(p.stem for p in EXAMPLES.glob("*.py"))
    assert scripts == ["plot_adaptivity", "plot_linear_splines_1d", "plot_sparsity_path"]


def test_linear_splines_1d(tmp_path, capsys):
    out = tmp_path / "splines.png"
    rows = load("plot_linear_splines_1d").main(n=20, out=str(out), ratios=(1e-1, 1e-6))
    assert_png_not_blank(out)
    assert "knots" in capsys.readouterr().out
    for row in rows:
        # the representer bound, and the exact fit's certificate (eta <= 1: optimal for (P))
        assert 0 < row["knots"] <= row["N - 2"] == 18
        assert row["certificate"] <= 1 + 1e-6
    # sparser with more regularization
    assert rows[0]["knots"] < rows[1]["knots"]


def test_linear_splines_1d_with_weight_decay_training(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "splines_wd.png"
    rows = load("plot_linear_splines_1d").main(n=15, out=str(out), ratios=(1e-1,),
                                               train_epochs=200)
    assert_png_not_blank(out)
    # training cannot beat the global optimum of the same objective
    assert rows[0]["wd objective"] >= rows[0]["objective"] * (1 - 1e-6)


def test_sparsity_path(tmp_path):
    out = tmp_path / "path.png"
    rows = load("plot_sparsity_path").main(n=40, out=str(out), n_alphas=5, n_test=200)
    assert_png_not_blank(out)
    ratios = np.array([r["alpha/alpha_max"] for r in rows])
    neurons = np.array([r["neurons"] for r in rows])
    assert np.all(np.diff(ratios) < 0)
    # no neuron above alpha_max, some below it, within the bound N - (d + 1)
    assert np.all(neurons[ratios >= 1] == 0)
    assert neurons[-1] > 0
    assert neurons.max() <= 40 - 3
    # the objective decreases with alpha
    assert np.all(np.diff([r["objective"] for r in rows]) <= 1e-9)


def test_adaptivity(tmp_path):
    out = tmp_path / "adaptivity.png"
    mod = load("plot_adaptivity")
    rows = mod.main(sizes=(40,), out=str(out), max_rounds=2, n_test=500)
    assert_png_not_blank(out)
    _, f = mod.make_ridge_problem(5, 0)
    X = np.random.RandomState(3).uniform(-1, 1, (2000, 5))
    var_f = np.var(f(X))
    (row,) = rows
    # both methods learn something (beat the best constant) and the network obeys the bound
    assert row["radonsolve MSE"] < var_f and row["KRR MSE"] < var_f
    assert 0 < row["neurons"] <= 40 - 6


def test_readme_images_script(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "make_images", EXAMPLES.parent / "docs" / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    paths = module.main(tmp_path, n_1d=30, n_2d=40, n_cv=30, n_alphas=3, cv=2)
    assert sorted(p.name for p in paths) == ["certificate_2d.png", "classifier_2d.png",
                                             "fit_1d.png", "fit_2d.png", "path.png"]
    for p in paths:
        assert_png_not_blank(p)
