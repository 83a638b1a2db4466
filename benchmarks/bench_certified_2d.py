"""Certified 2-D fits at growing N: the exact certificate in O(N) memory.

For each N and each alpha = frac x alpha_max: RadonReLURegressor on make_relu_ridges_2d
(X and y standardized), then the exact certificate alone at the fitted network's residual
(``top_k=0``: the supremum only; ``top_k=10``: also the violating directions, as the exchange
method asks), each in a child process that reports its peak resident memory.

Usage::

    python benchmarks/bench_certified_2d.py --sizes 1000 2000 5000 10000 20000 \\
        --fracs 0.1 0.01 --n-jobs 2 --out benchmarks/results/certified_2d.md
"""

import argparse
import json
import os
import sys
import time

from _common import git_commit, load_average, peak_mib, run_json_child, write_text


def child(n, frac, n_jobs, fit, fit_rows=None):
    import warnings

    import numpy as np

    from radonsolve import RadonReLURegressor, alpha_max
    from radonsolve.certificate import exact_certificate_2d
    from radonsolve.datasets import make_relu_ridges_2d
    from radonsolve.dictionary import AffineProjector

    X, y = make_relu_ridges_2d(n, random_state=0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = (y - y.mean()) / y.std()
    amax = alpha_max(X, y, random_state=0)
    alpha = frac * amax
    base = peak_mib()
    rec = dict(n=n, frac=frac, alpha=alpha, n_jobs=n_jobs, fit_rows=fit_rows or n)
    if fit:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            tic, cpu = time.perf_counter(), time.process_time()
            m = n if fit_rows is None else min(n, fit_rows)
            model = RadonReLURegressor(alpha=alpha, random_state=0,
                                       n_jobs=n_jobs).fit(X[:m], y[:m])
            rec.update(fit_s=time.perf_counter() - tic, fit_cpu_s=time.process_time() - cpu,
                       fit_peak_mib=peak_mib(),
                       eta_fit=float(model.certificate_), certified=bool(model.certified_),
                       gap_P=float(model.global_gap_), neurons=int(model.n_neurons_),
                       rounds=int(model.n_rounds_),
                       warnings=sorted({type(x.message).__name__ for x in w}))
        print(json.dumps(rec), flush=True)
        r = y - model.predict(X)
    else:
        r = y - y.mean()
    u = np.full(n, 1.0 / n)
    P = AffineProjector(X, u)
    q = P.sqrt_u * P.project(P.sqrt_u * r)
    for top_k in (0, 10):
        tic, cpu = time.perf_counter(), time.process_time()
        c = exact_certificate_2d(X, q, alpha, top_k=top_k, n_jobs=n_jobs)
        rec[f"cert{top_k}_s"] = time.perf_counter() - tic
        rec[f"cert{top_k}_cpu_s"] = time.process_time() - cpu
        rec[f"eta{top_k}"] = c.eta
        rec[f"n_eval{top_k}"] = c.n_evaluated
        rec[f"dirs{top_k}"] = len(c.etas)
        rec["peak_mib"] = peak_mib()
        print(json.dumps(rec), flush=True)
    rec["base_mib"] = base
    print(json.dumps(rec), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000, 20000])
    ap.add_argument("--fracs", type=float, nargs="+", default=[0.1, 0.01])
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--no-fit-above", type=int, default=None,
                    help="for larger N, certify the affine fit's residual only (no fit)")
    ap.add_argument("--fit-rows", type=int, default=None,
                    help="fit on the first FIT_ROWS rows only; the certificates then use the "
                         "residual on all N rows (a near-optimal residual at N too large to fit)")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--out", default=None)
    ap.add_argument("--child", nargs=5, metavar=("N", "FRAC", "N_JOBS", "FIT", "FIT_ROWS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        n, frac, n_jobs, fit, fit_rows = args.child
        child(int(n), float(frac), int(n_jobs), fit == "1", int(fit_rows) or None)
        return
    rows = []
    load_before = load_average()
    for n in args.sizes:
        for frac in args.fracs:
            fit = args.no_fit_above is None or n <= args.no_fit_above
            cmd = [sys.executable, os.path.abspath(__file__), "--child", str(n), str(frac),
                   str(args.n_jobs), "1" if fit else "0", str(args.fit_rows or 0)]
            recs, err, timed_out = run_json_child(cmd, args.timeout)
            rec = recs[-1] if recs else dict(n=n, frac=frac)
            rec["status"] = "timeout" if timed_out else ("ok" if "base_mib" in rec else
                                                         "failed: " + err.strip()[-200:])
            rows.append(rec)
            print(json.dumps(rec), flush=True)
    load_after = load_average()
    g = lambda r, k, s: format(r[k], s) if k in r else "-"  # noqa: E731
    lines = [
        "# Certified 2-D fits: the exact certificate in O(N) memory",
        "",
        f"Command: `python benchmarks/bench_certified_2d.py --sizes "
        f"{' '.join(map(str, args.sizes))} --fracs {' '.join(map(str, args.fracs))} "
        f"--n-jobs {args.n_jobs}"
        + (f" --no-fit-above {args.no_fit_above}" if args.no_fit_above else "")
        + (f" --fit-rows {args.fit_rows}" if args.fit_rows else "") + "`",
        f"Commit {git_commit()}; load average before {load_before}, after {load_after} "
        f"({os.cpu_count()} cores, shared: timings are noisy).",
        "",
        "Data: make_relu_ridges_2d(N, random_state=0), X and y standardized; alpha = frac x "
        "alpha_max. *fit*: RadonReLURegressor(alpha).fit on the first *fit rows* rows (exchange "
        "method, exact certificate each round; eta (fit) and certified are for those rows). "
        "*cert k*: exact_certificate_2d at the fitted residual on all N rows with top_k=k, "
        f"n_jobs={args.n_jobs} (k=0: supremum only; k=10: also the violating directions). "
        "Peak RSS of the child process (the fit and both certificates). CPU: process time "
        "(all threads), less sensitive to the shared machine's load than wall time.",
        "",
        "| N | alpha/alpha_max | fit rows | fit (s) | fit CPU (s) | rounds | neurons | eta (fit) | "
        "certified | cert 0 (s) | cert 10 (s) | cert 10 CPU (s) | eta (cert) | "
        "events+intervals | peak RSS (MiB) | status |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['frac']:g} | {g(r, 'fit_rows', 'd')} | {g(r, 'fit_s', '.1f')} | "
            f"{g(r, 'fit_cpu_s', '.1f')} | {g(r, 'rounds', 'd')} | "
            f"{g(r, 'neurons', 'd')} | {g(r, 'eta_fit', '.6f')} | {r.get('certified', '-')} | "
            f"{g(r, 'cert0_s', '.2f')} | {g(r, 'cert10_s', '.2f')} | "
            f"{g(r, 'cert10_cpu_s', '.2f')} | {g(r, 'eta0', '.6f')} | "
            f"{g(r, 'n_eval0', 'd')} | {g(r, 'peak_mib', '.0f')} | {r['status']} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        write_text(args.out, text)


if __name__ == "__main__":
    main()
