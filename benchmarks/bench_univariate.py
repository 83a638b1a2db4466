"""Benchmark of the exact univariate solver (radonsolve.univariate.solve_univariate).

Times ``solve_univariate`` on noisy piecewise-linear data for N in {1e3, 1e4, 1e5, 1e6} and
alpha in {1e-1, 1e-2, 1e-3} x alpha_max, each in a fresh subprocess so that the peak resident
memory (``ru_maxrss``) belongs to that run alone. Numba compilation is excluded (a small warm-up
solve runs first; compiled kernels are also cached on disk). Prints a markdown table.

Usage::

    python benchmarks/bench_univariate.py                 # full grid
    python benchmarks/bench_univariate.py --sizes 1000 10000 --tol 1e-6
"""

import argparse
import json
import os
import subprocess
import sys
import time


def make_data(N, seed, n_knots=10, noise=0.1):
    """Piecewise-linear target with n_knots random knots plus Gaussian noise, x uniform."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, N)
    t = np.sort(rng.uniform(0.05, 0.95, n_knots))
    v = rng.normal(size=n_knots) * 5.0
    f = np.zeros(N)
    for tk, vk in zip(t, v):            # no N x n_knots temporary
        f += vk * np.maximum(x - tk, 0.0)
    y = f + 0.3 * x + noise * rng.normal(size=N)
    return x, y


def run_one(N, frac, seed, tol):
    import resource

    import numpy as np

    from radonsolve.univariate import solve_univariate, univariate_alpha_max

    xw, yw = make_data(2000, 1)         # warm-up: load/compile every kernel
    for f in (1e-1, 1e-3, 1e-5):
        solve_univariate(xw, yw, None, f * univariate_alpha_max(xw, yw))
    x, y = make_data(N, seed)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    amax = univariate_alpha_max(x, y)
    t0 = time.perf_counter()
    fit = solve_univariate(x, y, None, frac * amax, tol=tol)
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return dict(N=N, frac=frac, time=elapsed, objective=fit.objective,
                rel_gap=fit.relative_gap, knots=fit.n_knots, n_iter=fit.n_iter,
                converged=fit.converged, peak_mib=peak / 1024, base_mib=base / 1024)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000, 1000000])
    ap.add_argument("--fracs", type=float, nargs="+", default=[1e-1, 1e-2, 1e-3])
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.single:
        print(json.dumps(run_one(args.sizes[0], args.fracs[0], args.seed, args.tol)))
        return

    rows = []
    for N in args.sizes:
        for frac in args.fracs:
            cmd = [sys.executable, os.path.abspath(__file__), "--single", "--sizes", str(N),
                   "--fracs", str(frac), "--seed", str(args.seed), "--tol", str(args.tol)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(f"N={N:>8} alpha={frac:g}*alpha_max: {r['time']:.3f} s", file=sys.stderr)

    print(f"solve_univariate, tol = {args.tol:g} (relative duality gap), "
          f"{os.cpu_count()} CPUs, numba kernels warm\n")
    print("| N | alpha / alpha_max | time (s) | objective | rel. gap | knots | outer it. "
          "| peak RSS (MiB) | RSS before solve (MiB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['N']:,} | {r['frac']:g} | {r['time']:.3f} | {r['objective']:.6e} "
              f"| {r['rel_gap']:.1e} | {r['knots']} | {r['n_iter']} | {r['peak_mib']:.0f} "
              f"| {r['base_mib']:.0f} |")


if __name__ == "__main__":
    main()
