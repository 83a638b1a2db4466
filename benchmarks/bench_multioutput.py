"""Benchmark: multi-output (P) (group lasso, shared neurons) against separate fits and cvxpy.

Problem (P) for targets Y of shape (N, T) (DESIGN section 1, multi-output):

    minimize  0.5 * mean_n ||y_n - f(x_n)||^2 + alpha * sum_k ||v_k||_2,

a neuron is shared by all outputs or dropped. Compared on the same data and alpha:

* ``joint``: ``RadonReLURegressor(alpha, directions=64, random_state=0, refine=False)`` on Y:
  the group lasso on the fixed 64-direction dictionary.
* ``separate``: the same estimator on each column of Y alone (T fits, same alpha, same
  directions): it minimizes the sum over outputs of the single-output objectives, i.e. the
  separable penalty ``alpha * sum_k sum_t |v_kt|``. Reported: the sum of those objectives
  ("own"), the group objective (P) of the combined network (neurons of all fits, identical
  atoms merged), total neurons (sum over fits) and distinct neurons.
* ``joint-refined`` / ``separate-refined``: the same with ``refine="auto"`` (exchange rounds
  adding directions until the certificate holds: the optimum of (P) itself, d = 2 exact).
* ``cvxpy``: the group lasso on the dense (unprojected) dictionary of the same 64 directions
  with unpenalized affine variables, Clarabel (tolerances 1e-10): the agreement check for
  ``joint`` (only where the dense dictionary has at most ``--cvxpy-max-entries`` entries).

Data: ``ridges2`` = make_relu_ridges_2d inputs (uniform on [-1, 1]^2) with two related targets
(the library's three-ridge function, and a second one sharing two of its ridges plus one
ridge of its own, noise 0.05 each); ``linnerud`` = scikit-learn's bundled Linnerud data
(20 samples, 3 exercise features -> 3 physiological targets), X and Y standardized.
alpha = frac x ``alpha_max(X, Y)`` on the 64 directions.

Each run is a fresh subprocess (peak RSS ``ru_maxrss`` is its own); radonsolve times are
medians of ``--repeats`` fits.

Usage::

    python benchmarks/bench_multioutput.py --quick    # ~3 min
    python benchmarks/bench_multioutput.py            # full

Writes benchmarks/results/multioutput.md (``--out`` to change).
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time
import warnings

from _common import fmt, load_average, peak_mib, run_json_child, write_text

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
N_DIRECTIONS = 64
METHODS = ("joint", "separate", "joint-refined", "separate-refined", "cvxpy")


def load(name):
    import numpy as np

    if name.startswith("ridges2-"):
        from radonsolve.datasets import make_relu_ridges_2d

        n = int(name.split("-")[1])
        X, y1 = make_relu_ridges_2d(n, noise=0.05, random_state=0)
        rng = np.random.default_rng(1)

        def ridge(angle, b):
            return np.maximum(X @ np.array([np.cos(angle), np.sin(angle)]) - b, 0.0)

        y2 = (1.5 * ridge(0.3, 0.2) - 1.0 * ridge(2.6, 0.4) + 0.8 * ridge(1.2, -0.3)
              - 0.1 * X[:, 0] + 0.05 * rng.standard_normal(n))
        return X, np.column_stack([y1, y2])
    if name == "linnerud":
        from sklearn.datasets import load_linnerud

        X, Y = load_linnerud(return_X_y=True)
        X = (X - X.mean(0)) / X.std(0)
        Y = (Y - Y.mean(0)) / Y.std(0)
        return X, Y
    raise ValueError(name)


def emit(**kw):
    print(json.dumps(kw), flush=True)


def setup(args):
    from radonsolve import alpha_max
    from radonsolve.directions import make_directions

    X, Y = load(args.problem)
    W = make_directions(N_DIRECTIONS, X.shape[1], 0)
    amax = alpha_max(X, Y, directions=W)
    return X, Y, W, amax, args.frac * amax


def fit_timed(make, X, y, repeats):
    import numpy as np

    times = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(repeats):
            est = make()
            t0 = time.perf_counter()
            est.fit(X, y)
            times.append(time.perf_counter() - t0)
    return est, float(np.median(times)), sorted({str(w.message)[:90] for w in caught})


def child_radonsolve(args):
    import numpy as np

    from radonsolve import RadonReLURegressor
    from radonsolve.baselines import penalized_objective
    from radonsolve.network import ReLUNetwork

    X, Y, W, amax, alpha = setup(args)
    refine = "auto" if args.method.endswith("refined") else False
    make = lambda: RadonReLURegressor(alpha=alpha, directions=W, random_state=0,
                                      refine=refine, tol=args.tol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        RadonReLURegressor(alpha=alpha, directions=W[:4], max_rounds=1).fit(X[:30], Y[:30])
    base = peak_mib()
    if args.method.startswith("joint"):
        est, t, warn = fit_timed(make, X, Y, args.repeats)
        obj = penalized_objective(est.network_, X, Y, alpha)
        A = np.column_stack([np.ones(len(X)), X])
        R_aff = Y - A @ np.linalg.lstsq(A, Y, rcond=None)[0]
        emit(final=True, method=args.method, time=t, objective=obj,
             objective_own=float(est.objective_),
             rel_gap=float(est.dual_gap_) / (0.5 * float(np.sum(R_aff ** 2)) / len(Y)),
             nnz=int(est.n_neurons_), nnz_distinct=int(est.n_neurons_),
             certificate=float(est.certificate_), certified=bool(est.certified_),
             n_dirs=len(est.directions_), peak_mib=peak_mib(), base_mib=base,
             alpha=alpha, alpha_max=amax, warnings=warn)
        return
    # separate fits, one per output
    nets, t_total, own, nnz, warns, certs = [], 0.0, 0.0, 0, [], []
    for j in range(Y.shape[1]):
        est, t, warn = fit_timed(make, X, Y[:, j], args.repeats)
        nets.append(est.network_)
        t_total += t
        own += float(est.objective_)
        nnz += int(est.n_neurons_)
        warns += warn
        certs.append(float(est.certificate_))
    T = Y.shape[1]
    Wn = np.vstack([n.weights for n in nets])
    bn = np.concatenate([n.biases for n in nets])
    V = np.zeros((len(bn), T))
    c = np.zeros((X.shape[1], T))
    c0 = np.zeros(T)
    k = 0
    for j, n in enumerate(nets):
        V[k:k + n.n_neurons, j] = n.outer
        k += n.n_neurons
        c[:, j] = n.skip_coef
        c0[j] = n.skip_intercept
    combined = ReLUNetwork(Wn, bn, V, c, c0)          # canonical: identical atoms merged
    obj = penalized_objective(combined, X, Y, alpha)
    emit(final=True, method=args.method, time=t_total, objective=obj, objective_own=own,
         nnz=nnz, nnz_distinct=int(combined.n_neurons), certificate=max(certs),
         peak_mib=peak_mib(), base_mib=base, alpha=alpha, alpha_max=amax,
         warnings=sorted(set(warns)))


def child_cvxpy(args):
    import cvxpy as cp
    import numpy as np

    from radonsolve.dictionary import ReLUDictionary

    X, Y, W, amax, alpha = setup(args)
    N, T = Y.shape
    base = peak_mib()
    t0 = time.perf_counter()
    dic = ReLUDictionary(X, W)
    Phi = dic.toarray()
    V = cp.Variable((dic.n_atoms, T))
    c = cp.Variable((X.shape[1], T))
    c0 = cp.Variable((1, T))
    R = Y - (Phi @ V + X @ c + np.ones((N, 1)) @ c0)
    prob = cp.Problem(cp.Minimize(0.5 / N * cp.sum_squares(R)
                                  + alpha * cp.sum(cp.norm(V, 2, axis=1))))
    attempts = []
    for tol in (1e-10, 1e-8, None):
        kw = {} if tol is None else dict(tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol,
                                         tol_ktratio=max(tol, 1e-8), max_iter=500)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                prob.solve(solver=cp.CLARABEL, **kw)
            attempts.append(f"tol={tol or 'default'}: {prob.status}")
            if prob.status in ("optimal", "optimal_inaccurate"):
                break
        except cp.error.SolverError:
            attempts.append(f"tol={tol or 'default'}: failed")
    elapsed = time.perf_counter() - t0
    if V.value is None:
        emit(final=True, method="cvxpy", status="error", time=elapsed, note="; ".join(attempts))
        return
    Vv = np.asarray(V.value)
    Rv = Y - (Phi @ Vv + X @ np.asarray(c.value) + np.asarray(c0.value))
    norms = np.linalg.norm(Vv, axis=1)
    obj = 0.5 * float(np.sum(Rv ** 2)) / N + alpha * float(norms.sum())
    nnz = int(np.sum(norms > 1e-6 * norms.max()))
    emit(final=True, method="cvxpy", time=elapsed, objective=obj, nnz=nnz, nnz_distinct=nnz,
         peak_mib=peak_mib(), base_mib=base, alpha=alpha, alpha_max=amax,
         note="; ".join(attempts) + f"; {dic.n_atoms} atoms; neurons: |v_k| > 1e-6 max")


def run_child(method, problem, frac, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--method", method,
           "--problem", problem, "--frac", repr(frac), "--tol", repr(args.tol),
           "--repeats", str(args.repeats)]
    lines, err, timed_out = run_json_child(cmd, args.budget)
    if timed_out:
        return dict(method=method, status="timeout", note=f"killed after {args.budget:g} s")
    if not lines:
        return dict(method=method, status="error", note=err.strip()[-300:])
    r = lines[-1]
    r.setdefault("status", "ok")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--problems", nargs="+")
    ap.add_argument("--fracs", type=float, nargs="+")
    ap.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget", type=float, help="seconds per run (hard kill)")
    ap.add_argument("--cvxpy-max-entries", type=float, default=6e6)
    ap.add_argument("--out", default=os.path.join(RESULTS, "multioutput.md"))
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--method", help=argparse.SUPPRESS)
    ap.add_argument("--problem", help=argparse.SUPPRESS)
    ap.add_argument("--frac", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.problems is None:
        args.problems = ["ridges2-200", "linnerud"] if args.quick else \
            ["ridges2-200", "ridges2-1000", "linnerud"]
    if args.fracs is None:
        args.fracs = [1e-1, 1e-2]
    if args.budget is None:
        args.budget = 300.0 if args.quick else 600.0
    if args.child:
        (child_cvxpy if args.method == "cvxpy" else child_radonsolve)(args)
        return

    cmdline = "python benchmarks/" + " ".join([os.path.basename(__file__)] + sys.argv[1:])
    t_total = time.perf_counter()
    rows = []
    for problem in args.problems:
        X, Y = load(problem)
        N, d = X.shape
        for frac in args.fracs:
            for method in args.methods:
                entries = N * N_DIRECTIONS * (N - 2) * Y.shape[1]
                if method == "cvxpy" and entries > args.cvxpy_max_entries:
                    r = dict(method=method, status="skip",
                             note=f"dense dictionary x outputs = {entries:.2g} entries > "
                                  f"{args.cvxpy_max_entries:.2g}")
                else:
                    r = run_child(method, problem, frac, args)
                r.update(problem=problem, frac=frac, N=N, d=d, T=Y.shape[1])
                rows.append(r)
                print(f"{problem:>12} frac={frac:g} {method:>16}: {r['status']:>7} "
                      f"time={fmt(r.get('time'), '.3g')} obj={fmt(r.get('objective'), '.10g')}"
                      f" neurons={r.get('nnz')}/{r.get('nnz_distinct')}",
                      file=sys.stderr, flush=True)
    total = time.perf_counter() - t_total

    load_avg = load_average()
    lines = [
        f"# Multi-output (P): shared neurons vs separate fits "
        f"({'quick' if args.quick else 'full'} run)", "",
        f"- date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; "
        f"{os.cpu_count()} CPUs (shared), load average at end {load_avg}; python "
        f"{platform.python_version()}",
        f"- command: `{cmdline}`; total {total / 60:.1f} min",
        f"- {N_DIRECTIONS} directions make_directions({N_DIRECTIONS}, d, random_state=0); "
        f"alpha = frac x alpha_max(X, Y); tol {args.tol:g}; radonsolve times are medians of "
        f"{args.repeats} fits (separate: sum over outputs of the medians).",
        "- objective = group (P) of the returned network (recomputed from the network on the "
        "data). 'own' = the estimator's objective_ (separate: sum of the per-output "
        "objectives, separable l1 penalty). neurons: total (sum over fits) / distinct "
        "(identical atoms merged). rel. diff = (objective - joint objective) / joint "
        "objective for the same dictionary (refined rows vs joint-refined).", "",
        "| data | N | d | T | alpha/alpha_max | method | status | time (s) | objective (P) | "
        "own objective | rel. diff | neurons (total / distinct) | eta | peak RSS (MiB) | "
        "notes |",
        "|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---|---:|---:|---|"]
    for r in rows:
        ref_name = "joint-refined" if r["method"].endswith("refined") else "joint"
        ref = next((q for q in rows if q["problem"] == r["problem"] and q["frac"] == r["frac"]
                    and q["method"] == ref_name and q.get("objective")), None)
        diff = ((r["objective"] - ref["objective"]) / ref["objective"]
                if ref and r.get("objective") is not None else None)
        note = r.get("note", "")
        if r.get("warnings"):
            note += ("; " if note else "") + "warned: " + r["warnings"][0]
        if r.get("n_dirs"):
            note += ("; " if note else "") + f"{r['n_dirs']} directions"
        lines.append(
            f"| {r['problem']} | {r['N']} | {r['d']} | {r['T']} | {r['frac']:g} | "
            f"{r['method']} | {r['status']} | {fmt(r.get('time'), '.3g')} | "
            f"{fmt(r.get('objective'), '.10g')} | {fmt(r.get('objective_own'), '.10g')} | "
            f"{fmt(diff, '+.1e')} | {fmt(r.get('nnz'), 'd')} / "
            f"{fmt(r.get('nnz_distinct'), 'd')} | {fmt(r.get('certificate'), '.4f')} | "
            f"{fmt(r.get('peak_mib'), '.0f')} | {note} |")
    md = "\n".join(lines) + "\n"
    print(md)
    write_text(args.out, md)


if __name__ == "__main__":
    main()
