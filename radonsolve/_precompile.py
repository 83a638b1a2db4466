"""Compile the numba kernels of the common fits into numba's cache, ahead of the first fit.

``python -m radonsolve._precompile`` runs small fits that reach the kernels of the usual
paths (1-D, 2-D and higher-dimensional regression, several outputs, classification); numba
writes what it compiles to its cache, next to the sources (``__pycache__``) unless
``NUMBA_CACHE_DIR`` says otherwise. ``pip install .`` runs it on the built package (see
setup.py), so an installed copy starts with its kernels compiled for this machine.

A cache entry is only used where it is valid: numba checks its own version, the Python
version, a hash of the source file and the CPU it was compiled for, and otherwise compiles
again (the first fit is then as slow as without this step, never wrong).
"""

import time
import warnings

import numpy as np

__all__ = ["compile_kernels"]


def compile_kernels(verbose=False):
    """Run small fits that compile (or load) the kernels of the common paths.

    Parameters
    ----------
    verbose : bool, default=False
        Print the time of each fit.

    Returns
    -------
    seconds : dict
        Wall time of each fit, by name.

    Examples
    --------
    >>> from radonsolve._precompile import compile_kernels
    >>> sorted(compile_kernels())  # doctest: +NORMALIZE_WHITESPACE
    ['classifier 2-D', 'regressor 1-D', 'regressor 2-D', 'regressor 2-D, 2 outputs',
     'regressor 5-D']
    """
    from . import RadonReLUClassifier, RadonReLURegressor

    rng = np.random.default_rng(0)
    fits = []
    for d in (1, 2, 5):
        X = rng.standard_normal((60, d))
        y = np.maximum(X @ rng.standard_normal(d), 0.0) + 0.1 * rng.standard_normal(60)
        fits.append((f"regressor {d}-D", RadonReLURegressor(alpha=1e-2, random_state=0,
                                                            max_rounds=3), X, y))
    X = rng.standard_normal((60, 2))
    Y = np.column_stack([np.maximum(X[:, 0], 0.0), np.abs(X[:, 1])])
    fits.append(("regressor 2-D, 2 outputs",
                 RadonReLURegressor(alpha=1e-2, random_state=0, max_rounds=3), X, Y))
    fits.append(("classifier 2-D", RadonReLUClassifier(alpha=1e-2, random_state=0,
                                                       max_rounds=3),
                 X, (X[:, 0] * X[:, 1] > 0).astype(int)))
    seconds = {}
    for name, model, X, y in fits:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            # Small fits with few rounds stop early by design: only the compiles matter.
            warnings.simplefilter("ignore")
            model.fit(X, y)
        seconds[name] = time.perf_counter() - t0
        if verbose:
            print(f"{name}: {seconds[name]:.1f} s", flush=True)
    return seconds


if __name__ == "__main__":
    compile_kernels(verbose=True)
