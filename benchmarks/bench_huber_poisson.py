"""Huber and Poisson regression: agreement with cvxpy on fixed dictionaries, and fit times.

Usage: python benchmarks/bench_huber_poisson.py [--quick]

Part 1: the working-set proximal Newton solver against the cvxpy reference (Clarabel) on
fixed dictionaries (d = 1, 2, 3; three alphas; three seeds); prints the largest relative
objective difference (cases where Clarabel fails or reports an inaccurate solution are
counted and skipped). Part 2: RadonReLURegressor fit times, certified or not.
"""

import sys
import time
import warnings

import numpy as np

from radonsolve import RadonReLURegressor
from radonsolve.datafits import Huber, Poisson
from radonsolve.dictionary import ReLUDictionary
from radonsolve.directions import make_directions
from radonsolve.solvers import CvxpyDatafitSolver, WorkingSetProxNewton
from radonsolve.solvers.newton import DatafitProblem, alpha_max_datafit


def data(loss, N, d, rng):
    X = rng.randn(N, d)
    f0 = np.sin(2 * X[:, 0]) + np.abs(X[:, -1])
    if loss == "huber":
        y = f0 + 0.1 * rng.randn(N)
        y[:4] += 5.0
        return X, y
    return X, rng.poisson(np.exp(f0)).astype(float)


def agreement(seeds):
    worst = {}
    skipped = 0
    for seed in seeds:
        for d, N, D in [(1, 60, 1), (2, 50, 16), (3, 40, 10)]:
            for loss in ("huber", "poisson"):
                rng = np.random.RandomState(seed)
                X, y = data(loss, N, d, rng)
                u = np.full(N, 1 / N)
                fit = Huber(y, u, 0.2) if loss == "huber" else Poisson(y, u)
                dic = ReLUDictionary(X, make_directions(D, d, seed))
                am = alpha_max_datafit(DatafitProblem(dic, fit, 1.0))
                for ratio in (0.1, 0.01, 0.001):
                    problem = DatafitProblem(dic, fit, ratio * am)
                    t = time.perf_counter()
                    res = WorkingSetProxNewton(tol=1e-9).solve(problem)
                    t = time.perf_counter() - t
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("error")
                            ref = CvxpyDatafitSolver().solve(problem)
                    except (RuntimeError, Warning):
                        skipped += 1
                        continue
                    rel = (res.objective - ref.objective) / ref.objective
                    key = (loss, d)
                    w = worst.get(key, (0.0, 0.0))
                    worst[key] = (max(w[0], abs(rel)), max(w[1], t))
    print("| loss | d | max rel. objective difference vs cvxpy | max solve time (s) |")
    print("|---|---|---|---|")
    for (loss, d), (rel, t) in sorted(worst.items()):
        print(f"| {loss} | {d} | {rel:.1e} | {t:.3f} |")
    print(f"(cvxpy failed or inaccurate on {skipped} cases, skipped)")


def timings(sizes):
    print("| loss | d | N | refine | time (s) | neurons | rounds | certified_ |")
    print("|---|---|---|---|---|---|---|---|")
    for d, N in sizes:
        rng = np.random.RandomState(0)
        X = rng.randn(N, d) if d > 1 else rng.uniform(-3, 3, (N, 1))
        f0 = np.sin(2 * X[:, 0]) + (np.abs(X[:, 1]) if d > 1 else 0.0)
        for loss in ("squared_error", "huber", "poisson"):
            y = rng.poisson(np.exp(f0)).astype(float) if loss == "poisson" else \
                f0 + 0.2 * rng.standard_t(2, N)
            for refine in ((False, True) if d > 1 else ("auto",)):
                t = time.perf_counter()
                m = RadonReLURegressor(alpha=1e-3, loss=loss, epsilon=0.3, refine=refine,
                                       random_state=0).fit(X, y)
                t = time.perf_counter() - t
                print(f"| {loss} | {d} | {N} | {refine} | {t:.2f} | {m.n_neurons_} | "
                      f"{m.n_rounds_} | {m.certified_} |")


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    agreement(range(1) if quick else range(3))
    timings([(1, 20000), (2, 1000)] if quick else [(1, 20000), (2, 1000), (2, 5000)])
