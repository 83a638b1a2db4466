"""Certified fits in three features: branch-and-bound on the certificate (DESIGN §11).

For each problem (N = 400, d = 3 by default, standardized) and alpha (0.1 and 0.01 alpha_max), fits
RadonReLURegressor with its defaults and reports how the fit ended (certificate kind, stop
reason, rounds, time), then re-runs the final round's branch-and-bound on the returned
network to report its cells and time: with the fit's threshold (what the fit ran) and for
the supremum itself to a relative 1e-6.

Run: python benchmarks/bench_bound_3d.py [--out benchmarks/results/bound_3d.md]
     python benchmarks/bench_bound_3d.py --d 4 --no-sup [--out ...]
"""

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.preprocessing import StandardScaler

from radonsolve import RadonReLURegressor, alpha_max
from radonsolve.certificate import bound_certificate, certifiable_eta, eta
from radonsolve.dictionary import AffineProjector


def ridges(N, rng, d=3):
    X = rng.standard_normal((N, d))
    pad = [0.2] * (d - 3)
    y = (np.maximum(X @ [1.0, -0.5, 0.3, *pad] - 0.2, 0)
         - 1.5 * np.maximum(X[:, 1] + X[:, 2], 0)
         + 0.8 * np.maximum(0.4 - X @ [0.3, 0.8, -0.5, *pad], 0)
         + 0.1 * rng.standard_normal(N))
    return X, y


def random_features(N, rng, d=3, width=20):
    X = rng.standard_normal((N, d))
    W = rng.standard_normal((width, d))
    W /= np.linalg.norm(W, axis=1)[:, None]
    b = rng.uniform(-1, 1, width)
    v = rng.standard_normal(width) / np.sqrt(width)
    y = np.maximum(X @ W.T - b, 0) @ v + 0.05 * rng.standard_normal(N)
    return X, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--d", type=int, default=3,
                    help="features; for d = 4 the fit's certificate is searched (the "
                         "estimator runs the bound for d = 3 only) and the B&B columns show "
                         "what it would cost")
    ap.add_argument("--no-sup", action="store_true", help="skip the supremum run")
    args = ap.parse_args()
    rows = []
    for name, make in (("three ReLU ridges", ridges), ("random features (20)", random_features)):
        X, y = make(args.n, np.random.RandomState(0), d=args.d)
        X = StandardScaler().fit_transform(X)
        y = (y - y.mean()) / y.std()
        amax = alpha_max(X, y, random_state=0)
        for frac in (0.1, 0.01):
            model = RadonReLURegressor(alpha=frac * amax, random_state=0)
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model.fit(X, y)
            fit_time = time.perf_counter() - t0
            u = np.full(len(y), 1.0 / len(y))
            pr = AffineProjector(X, u)
            rho = pr.project(pr.sqrt_u * (y - model.predict(X)))
            b = pr.project(pr.sqrt_u * y)
            q = pr.sqrt_u * rho
            primal = 0.5 * float(rho @ rho) + model.alpha * model.network_.rtv2
            tol_abs = model.tol * 0.5 * float(b @ b)
            thr = max(certifiable_eta(b, rho, primal, tol_abs), 1 + model.tol)
            r1 = bound_certificate(X, q, model.alpha, threshold=thr, stop_above=True,
                                   max_time=120)
            r2 = bound_certificate(X, q, model.alpha, rtol=1e-6,
                                   max_time=0.0 if args.no_sup else 120)
            grid = eta(X, q, model.alpha,
                       np.random.RandomState(1).standard_normal((20000, args.d)))[0].max()
            h = model.refinement_history_
            bound_rounds = sum(np.isfinite(r.eta_bound) for r in h)
            rows.append(dict(
                data=name, frac=frac, alpha=model.alpha, fit_time=fit_time,
                rounds=model.n_rounds_, neurons=model.n_neurons_, kind=model.certificate_kind_,
                certified=model.certified_, stop=model.stop_reason_, cert=model.certificate_,
                gap=model.global_gap_ / (0.5 * float(b @ b)), bound_rounds=bound_rounds,
                thr=thr, c1=r1.n_cells, t1=r1.time, s1=r1.stop, u1=r1.upper,
                c2=r2.n_cells, t2=r2.time, lo2=r2.lower, up2=r2.upper, s2=r2.stop,
                depth2=r2.depth, grid=grid,
                warns=[str(w.message)[:80] for w in caught
                       if w.category.__name__ == "ConvergenceWarning"]))
            r = rows[-1]
            print(r, flush=True)
    load = open("/proc/loadavg").read().split()[:3]
    lines = [
        f"# Certified fits in {args.d} features (branch-and-bound)", "",
        f"`python benchmarks/bench_bound_3d.py --n {args.n} --d {args.d}"
        f"{' --no-sup' if args.no_sup else ''}` (X and y standardized, "
        f"RadonReLURegressor defaults, tol = 1e-6, random_state=0). Load average during the run: "
        f"{' '.join(load)} on {os.cpu_count()} cores (shared machine: times are noisy, upper "
        "estimates).", "",
        "Fit: the whole fit (all rounds; the branch-and-bound runs in a round where the "
        "searched certificate would stop the loop). B&B at threshold: the final round's call "
        "re-run on the returned network (threshold = the largest eta whose gap of (P) is within "
        "tol). Sup: the supremum itself to a relative 1e-6 (lower/upper), with the largest eta "
        "on 20,000 random directions for comparison.", "",
        "| data | alpha / alpha_max | fit (s) | rounds | neurons | kind | certified | stop | "
        "certificate | gap(P) / affine | B&B rounds | threshold - 1 | B&B cells | B&B (s) | "
        "sup: cells | sup (s) | sup lower - 1 | sup upper - 1 | grid max - 1 |",
        "|" + "---|" * 19]
    for r in rows:
        lines.append(
            f"| {r['data']} | {r['frac']} | {r['fit_time']:.1f} | {r['rounds']} | "
            f"{r['neurons']} | {r['kind']} | {r['certified']} | {r['stop']} | "
            f"{r['cert']:.8f} | {r['gap']:.2e} | {r['bound_rounds']} | {r['thr'] - 1:.2e} | "
            f"{r['c1']} ({r['s1']}) | {r['t1']:.2f} | {r['c2']} ({r['s2']}) | {r['t2']:.2f} | "
            f"{r['lo2'] - 1:.2e} | {r['up2'] - 1:.2e} | {r['grid'] - 1:.2e} |")
    notes = [f"- {r['data']}, {r['frac']}: {w}" for r in rows for w in r["warns"]]
    if notes:
        lines += ["", "ConvergenceWarnings:"] + notes
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
