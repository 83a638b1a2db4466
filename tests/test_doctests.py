"""The docs run: every docstring example in radonsolve is a doctest, and public callables
carry numpydoc sections.

Modules are discovered with :func:`pkgutil.walk_packages`, so a new module is covered without
editing this file. A module that cannot be imported because an optional dependency (torch,
matplotlib, tqdm, pandas, dask) is missing is skipped; any other import error fails.
"""

import ast
import doctest
import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import sys
import textwrap

import pytest

# Plot examples must render off-screen; only effective if matplotlib is not yet imported.
os.environ.setdefault("MPLBACKEND", "Agg")

import radonsolve  # noqa: E402

OPTIONAL = {"torch", "matplotlib", "tqdm", "pandas", "dask", "distributed"}
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS

# ``python -m radonsolve`` runs the command line on import.
MODULES = sorted(m.name for m in pkgutil.walk_packages(radonsolve.__path__, "radonsolve.")
                 if not m.name.endswith("__main__"))


def _import(name):
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        # The module may re-raise the ImportError with an install hint: walk the chain.
        err = exc
        while err is not None:
            top = (getattr(err, "name", None) or "").split(".")[0]
            if top in OPTIONAL and importlib.util.find_spec(top) is None:
                pytest.skip(f"{name} needs the optional dependency {top}")
            err = err.__cause__ or err.__context__
        raise


def _doctests(module):
    finder = doctest.DocTestFinder()
    tests = finder.find(module, module.__name__)
    found = {t.name for t in tests}
    # A numba dispatcher is found through its __wrapped__ where doctest unwraps; elsewhere
    # its docstring is reached through py_func.
    for name, obj in vars(module).items():
        func = getattr(obj, "py_func", None)
        qualname = f"{module.__name__}.{name}"
        if (inspect.isfunction(func) and func.__module__ == module.__name__
                and qualname not in found):
            tests += finder.find(func, qualname, module=module, globs=vars(module).copy())
    return [t for t in tests if t.examples]


def run_doctests(module):
    """Run the examples of ``module``; return (examples attempted, failure reports)."""
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    failures = []
    attempted = 0
    for test in sorted(_doctests(module), key=lambda t: t.name):
        out = []
        result = runner.run(test, out=out.append, clear_globs=True)
        attempted += result.attempted
        if result.failed:
            failures.append("".join(out))
    return attempted, failures


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = _import(name)
    try:
        _, failures = run_doctests(module)
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
    assert not failures, "failing docstring examples:\n" + "\n".join(failures)


def test_doctest_runner_reports_a_wrong_example():
    # The runner must fail on a wrong expected output and pass on a right one.
    module = type(sys)("fake_module")
    module.__doc__ = ">>> 1 + 1\n3\n"
    module.__name__ = "fake_module"
    attempted, failures = run_doctests(module)
    assert attempted == 1 and len(failures) == 1 and "Expected:\n    3" in failures[0]
    module.__doc__ = ">>> [1,  2]\n[1, 2]\n>>> list(range(20))\n[0, 1, ..., 19]\n"
    assert run_doctests(module) == (2, [])


# ---------------------------------------------------------------- numpydoc sections
# Checked in every module: each function, class and method whose name has no leading
# underscore and that is defined there (not imported) has a docstring whose first line is a
# summary; a "Parameters" section when it takes arguments (besides self/cls); "Returns" when
# its own body returns a value other than None, "Yields" when it yields. A class whose own
# __init__ takes arguments has "Parameters" (or "Attributes", for dataclasses); a
# scikit-learn estimator has Parameters, Attributes and Examples. Exempt: properties,
# dunder and private names, inherited methods, and overrides without a docstring of their
# own (they inherit the documented one).

def has_section(doc, title):
    """Whether the cleaned docstring ``doc`` has a numpydoc section header ``title``."""
    return re.search(rf"^{title}\n-{{{len(title)}}}[ \t]*$", doc, re.M) is not None


def _body_outputs(func):
    """(returns a value, yields) of ``func``'s own body, nested definitions excluded."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return False, False
    node = ast.parse(source).body[0]
    returns = yields = False
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(child, ast.Return) and child.value is not None and not (
                isinstance(child.value, ast.Constant) and child.value.value is None):
            returns = True
        if isinstance(child, (ast.Yield, ast.YieldFrom)):
            yields = True
        stack.extend(ast.iter_child_nodes(child))
    return returns, yields


def _parameters(func, bound):
    try:
        names = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return []
    return names[1:] if bound else names


def function_problems(qualname, func, bound):
    """numpydoc problems of one function (``bound``: first argument is self/cls)."""
    if not func.__doc__ or not func.__doc__.strip():
        return [f"{qualname}: no docstring"]
    doc = inspect.cleandoc(func.__doc__)
    problems = []
    lines = doc.splitlines()
    # cleandoc drops leading blank lines, so a missing summary shows as a leading section.
    if len(lines) > 1 and set(lines[1].strip()) == {"-"}:
        problems.append(f"{qualname}: no summary line")
    if _parameters(func, bound) and not has_section(doc, "Parameters"):
        problems.append(f"{qualname}: no Parameters section")
    returns, yields = _body_outputs(func)
    if returns and not has_section(doc, "Returns"):
        problems.append(f"{qualname}: no Returns section")
    if yields and not has_section(doc, "Yields"):
        problems.append(f"{qualname}: no Yields section")
    return problems


def class_problems(qualname, cls):
    """numpydoc problems of a class docstring and of its own public methods."""
    from sklearn.base import BaseEstimator

    problems = []
    doc = inspect.cleandoc(cls.__doc__) if cls.__doc__ else ""
    if not doc.strip():
        problems.append(f"{qualname}: no docstring")
    init = vars(cls).get("__init__")
    # A dataclass or record documents its fields as Attributes.
    if (inspect.isfunction(init) and _parameters(init, True)
            and not (has_section(doc, "Parameters") or has_section(doc, "Attributes"))):
        problems.append(f"{qualname}: no Parameters section")
    if issubclass(cls, BaseEstimator):
        problems += [f"{qualname}: no {title} section"
                     for title in ("Parameters", "Attributes", "Examples")
                     if not has_section(doc, title)]
    for name, attr in vars(cls).items():
        if name.startswith("_") or isinstance(attr, property):
            continue
        if isinstance(attr, (staticmethod, classmethod)):
            func, bound = attr.__func__, isinstance(attr, classmethod)
        elif inspect.isfunction(attr):
            func, bound = attr, True
        else:
            continue
        # An override without a docstring inherits its base's documentation.
        if func.__doc__ is None and any(hasattr(base, name) for base in cls.__mro__[1:]):
            continue
        problems += function_problems(f"{qualname}.{name}", func, bound)
    return problems


def module_problems(module):
    """numpydoc problems of the public functions and classes defined in ``module``."""
    problems = []
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        qualname = f"{module.__name__}.{name}"
        obj = getattr(obj, "py_func", obj)  # a numba dispatcher documents its py_func
        if inspect.isclass(obj):
            problems += class_problems(qualname, obj)
        elif inspect.isfunction(obj):
            problems += function_problems(qualname, obj, False)
    return problems


# Qualified names (module.function or module.Class.method) exempt from the numpydoc check,
# e.g. while a module is being rewritten. test_exemptions_are_current fails on an entry that
# no longer needs it.
EXEMPT = set()


@pytest.mark.parametrize("name", MODULES)
def test_numpydoc_sections(name):
    module = _import(name)
    problems = [p for p in module_problems(module) if p.split(":")[0] not in EXEMPT]
    assert not problems, "docstrings missing numpydoc sections:\n" + "\n".join(problems)


def test_exemptions_are_current():
    # A stale exemption hides nothing but must not linger.
    found = set()
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        found |= {p.split(":")[0] for p in module_problems(module)}
    assert not (EXEMPT - found), f"exempt but documented, remove: {sorted(EXEMPT - found)}"


def test_section_checker_flags_what_is_missing():
    def documented(a, b=1):
        """Add.

        Parameters
        ----------
        a, b : float

        Returns
        -------
        float
        """
        return a + b

    def undocumented(a):
        """Add one."""
        def inner():
            return 0
        return a + 1

    def procedure():
        """Do nothing."""
        return None

    def generator(n):
        """Count.

        Parameters
        ----------
        n : int
        """
        yield from range(n)

    assert function_problems("d", documented, False) == []
    assert function_problems("u", undocumented, False) == [
        "u: no Parameters section", "u: no Returns section"]
    assert function_problems("p", procedure, False) == []
    assert function_problems("g", generator, False) == ["g: no Yields section"]
    assert function_problems("n", lambda: 0, False) == ["n: no docstring"]

    def sections_only(a):
        """
        Parameters
        ----------
        a : int
        """

    assert function_problems("s", sections_only, False) == ["s: no summary line"]
