"""The package layout shows the concepts of DESIGN.md section 12, and no module of radonsolve
imports another module's private (leading underscore) names.

Private *modules* (``._blocks``, ``._validation``, ``certificate._common``, ``solvers._cd``)
are shared internals and may be imported, as long as what is taken from them is public.
Tests are exempt.
"""

import ast
import importlib
import pathlib

import pytest

import radonsolve

PACKAGE = pathlib.Path(radonsolve.__file__).parent


def _module_name(path, root=PACKAGE, package="radonsolve"):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def _is_private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(source, module, is_package, is_module):
    """Private names that ``source`` (the module ``module``) takes from other modules.

    Parameters
    ----------
    source : str
        Python source of the module.
    module : str
        Its dotted name (relative imports are resolved against it).
    is_package : bool
        Whether it is a package's ``__init__`` (relative imports then start in itself).
    is_module : callable
        ``is_module(dotted_name)``: whether the name is a module of the package (a private
        module imported by name is allowed).

    Returns
    -------
    list of str
        ``"line: from TARGET import NAME"`` for each private name imported from, or
        ``"line: ALIAS.NAME"`` for each private attribute read on, another module of the
        package.
    """
    top = module.split(".")[0]
    here = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    aliases = {}                                   # local name -> package module it names
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != top:
                continue
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if is_module(full):
                    aliases[alias.asname or alias.name] = full
                elif _is_private(alias.name) and target != module:
                    found.append(f"{node.lineno}: from {target} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == top and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(ast.parse(source)):
        # A private attribute of an imported package module (not a submodule of it).
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and _is_private(node.attr)
                and not is_module(f"{aliases[node.value.id]}.{node.attr}")
                and aliases[node.value.id] != module):
            found.append(f"{node.lineno}: {node.value.id}.{node.attr}")
    return found


def _package_modules():
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))
            if "__pycache__" not in p.parts}


def test_no_module_imports_another_modules_private_names():
    modules = _package_modules()
    problems = []
    for name, path in modules.items():
        hits = private_imports(path.read_text(encoding="utf-8"), name,
                               path.name == "__init__.py", modules.__contains__)
        problems += [f"{path.relative_to(PACKAGE.parent)}:{hit}" for hit in hits]
    assert not problems, "private names imported across modules:\n" + "\n".join(problems)


def test_private_import_checker_flags_what_it_should():
    modules = {"pkg", "pkg.a", "pkg._b", "pkg.sub", "pkg.sub.c", "pkg.sub._d"}.__contains__
    source = "\n".join([
        "from ._b import public, _hidden",          # private name of a private module
        "from . import _b",                         # a private module: allowed
        "from .sub import c, _d",                   # modules: allowed
        "from .sub.c import _helper as h",          # private name, renamed
        "from numpy import _private",               # outside the package: not ours
        "from .a import __all__",                   # dunder: not private
        "import pkg.sub.c as cc",
        "def f():",
        "    from .sub.c import _late",              # inside a function too
        "    return c._inner, cc._inner2, _d.public, c.public",
    ])
    assert private_imports(source, "pkg.a", False, modules) == [
        "1: from pkg._b import _hidden", "4: from pkg.sub.c import _helper",
        "9: from pkg.sub.c import _late", "10: c._inner", "10: cc._inner2"]
    # From a package's __init__, "." is the package itself; its own names are its own.
    assert private_imports("from .c import _y\nfrom . import _z\n", "pkg.sub", True,
                           modules) == ["1: from pkg.sub.c import _y"]
    assert private_imports("from ._b import public\n", "pkg", True, modules) == []


# DESIGN.md section 12: each concept is a module of its own, holding its main names.
CONCEPTS = {
    "dictionary": ("radonsolve.dictionary", ["ReLUDictionary"]),
    "affine part": ("radonsolve.affine", ["AffineProjector", "affine_basis"]),
    "data fit": ("radonsolve.datafits", ["Quadratic", "Logistic", "Multinomial", "Huber",
                                         "Poisson"]),
    "penalty": ("radonsolve.penalties", ["GroupL1"]),
    "solvers": ("radonsolve.solvers", ["SolverResult"]),
    "certificate": ("radonsolve.certificate", ["eta", "Certificate"]),
    "exchange": (("radonsolve.exchange", "radonsolve.refine"),
                 ["exchange", "ExchangeOptions", "ExchangeResult", "LossFamily"]),
    "polish": ("radonsolve.polish", ["polish_network", "weight_decay_start"]),
    "solver adapters": ("radonsolve.solvers.adapters", ["UnivariateSolver", "ArrangementSolver"]),
    "working-set driver": ("radonsolve.solvers.driver", ["WorkingSetDriver"]),
    "estimator base": ("radonsolve.base", ["RadonReLUBase"]),
    "support reduction": ("radonsolve.support", ["reduce_support"]),
    "network": ("radonsolve.network", ["ReLUNetwork"]),
    "estimator": ("radonsolve.estimator", ["RadonReLURegressor"]),
    "classifier": ("radonsolve.classifier", ["RadonReLUClassifier"]),
}


@pytest.mark.parametrize("concept", sorted(CONCEPTS))
def test_file_list_shows_the_concepts_of_the_design(concept):
    names, attrs = CONCEPTS[concept]
    names = (names,) if isinstance(names, str) else names
    files = _package_modules()
    present = [n for n in names if n in files]
    assert present, f"{concept}: none of {names} is a module of radonsolve"
    module = importlib.import_module(present[0])
    missing = [a for a in attrs if not hasattr(module, a)]
    assert not missing, f"{concept}: {present[0]} lacks {missing}"
    # "certificate" and "solvers" are packages (several files), the rest single modules.
    if concept in ("certificate", "solvers"):
        assert files[present[0]].name == "__init__.py"
