"""Benchmark: radonsolve's working-set solver against generic lasso solvers.

Every solver gets the *same* problem, the projected lasso of radonsolve.lasso.ProjectedLasso

    minimize_v  0.5 ||b - G v||^2 + alpha ||v||_1,   b = P sqrt(u) y,  G = P sqrt(u) Phi,

with Phi the ReLU dictionary (biases at the data projections) on a fixed set of directions,
u = 1/N and P the projector onto the complement of the affine functions.

- radonsolve: ``WorkingSetCD`` on the structured operator; the time covers building the
  dictionary, the projector and the problem, and the solve (median of ``--repeats`` runs in
  one process; the first run also loads the compiled kernels from numba's cache).
- sklearn ``Lasso``, skglm ``Lasso``, celer ``Lasso`` on the dense matrix G (Fortran order);
  the time includes building G. Their objective has 1/(2 N), so they get alpha / N.
  Tolerances giving the same stopping rule, duality gap <= 1e-6 * 0.5 ||b||^2: sklearn and
  celer tol = 0.5e-6 (both stop on the duality gap relative to ||b||^2, resp. ||b||^2 / N on
  the 1/(2N) objective); skglm stops on the largest violation of the optimality conditions,
  so it gets tol = 1e-6 * alpha / N (a relative violation of 1e-6).
- cvxpy with Clarabel (default tolerances) on the dense G.

Each dense peer's address space is capped (``--mem-cap`` GB, RLIMIT_AS): beyond it the run
fails with MemoryError and is reported as 'OOM'.

Each solver runs in a fresh subprocess, so its peak resident memory (from ``os.wait4``) is its
own. Dense peers are skipped when G would need more than ``--mem-budget`` GB ('OOM') and
killed after ``--time-budget`` seconds ('timeout'). For each run the table gives the time, the
objective, the suboptimality relative to the best objective any solver reached, the duality
gap relative to 0.5 ||b||^2 (computed here on the dense G when it fits, else the one reported
by radonsolve's structured pass), the number of nonzeros and the peak memory.

Usage::

    python benchmarks/bench_lasso.py            # full grid -> benchmarks/results/lasso.md
    python benchmarks/bench_lasso.py --quick    # small subset -> benchmarks/results/lasso_quick.md
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOL = 1e-6
SOLVERS = ["radonsolve", "sklearn", "skglm", "celer", "cvxpy"]


# ---------------------------------------------------------------------- instances
def make_instance(name):
    """(X, y, directions) for '2d-<N>-<D>' or 'diabetes-<D>'."""
    from radonsolve.directions import spread_directions

    parts = name.split("-")
    if parts[0] == "2d":
        N, D = int(parts[1]), int(parts[2])
        rng = np.random.default_rng(0)
        X = rng.uniform(-1.0, 1.0, (N, 2))
        y = (np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1]) + np.abs(X[:, 0] + X[:, 1])
             + 0.1 * rng.standard_normal(N))
        return X, y, spread_directions(D, 2, random_state=0)
    if parts[0] == "diabetes":
        from sklearn.datasets import load_diabetes

        D = int(parts[1])
        X, y = load_diabetes(return_X_y=True)
        X = (X - X.mean(0)) / X.std(0)
        y = (y - y.mean()) / y.std()
        return X, y, spread_directions(D, X.shape[1], random_state=0)
    raise ValueError(name)


def build_problem(name, factor):
    from radonsolve.dictionary import ReLUDictionary
    from radonsolve.lasso import ProjectedLasso, alpha_max_from_dictionary

    X, y, W = make_instance(name)
    N = len(y)
    dic = ReLUDictionary(X, W)
    u = np.full(N, 1.0 / N)
    Y = y[:, None]
    alpha = factor * alpha_max_from_dictionary(dic, Y, u)
    return ProjectedLasso(dic, Y, u, alpha)


def n_atoms_of(name):
    from radonsolve.dictionary import ReLUDictionary

    X, _, W = make_instance(name)
    return X.shape[0], ReLUDictionary(X, W).n_atoms


# ---------------------------------------------------------------------- workers
def dense_G(problem):
    """The dense projected dictionary, Fortran-ordered (what the CD peers want)."""
    dic = problem.dictionary
    N = problem.b.shape[0]
    G = np.empty((N, dic.n_atoms), order="F")
    step = max(1, 2_000_000 // N)
    for a0 in range(0, dic.n_atoms, step):
        idx = np.arange(a0, min(dic.n_atoms, a0 + step))
        G[:, idx] = problem.projected_columns(idx)
    return G


def dense_metrics(problem, G, w):
    b = problem.b[:, 0]
    r = b - G @ w
    obj = 0.5 * float(r @ r) + problem.alpha * float(np.abs(w).sum())
    cn = float(np.abs(G.T @ r).max())
    s = min(1.0, problem.alpha / cn) if cn > 0 else 1.0
    dual = s * float(b @ r) - 0.5 * s * s * float(r @ r)
    return obj, (obj - dual) / problem.affine_objective


def worker(task):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore", ConvergenceWarning)
    # One BLAS thread for everyone: building G and the peers' BLAS calls are skinny
    # products on which multithreaded OpenBLAS is much slower on a small, busy machine
    # (radonsolve's solver does the same internally).
    threadpool_limits(limits=1, user_api="blas")
    name, factor, solver, repeats = task["instance"], task["factor"], task["solver"], \
        task["repeats"]
    if solver != "radonsolve" and task.get("mem_cap_gb"):
        # Cap the address space of the dense peers (cvxpy's canonicalization takes ~9x the
        # matrix): going over raises MemoryError, reported as 'OOM', instead of swamping a
        # shared machine.
        import resource

        cap = int(task["mem_cap_gb"] * 1e9)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    out = {}
    if solver == "radonsolve":
        from radonsolve.solvers import WorkingSetCD

        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            problem = build_problem(name, factor)
            t1 = time.perf_counter()
            res = WorkingSetCD(tol=TOL, max_iter=1000).solve(problem)
            t2 = time.perf_counter()
            times.append((t2 - t0, t1 - t0))
        tot = [t[0] for t in times]
        i = int(np.argsort(tot)[len(tot) // 2])
        out.update(time=times[i][0], setup=times[i][1], first=times[0][0],
                   objective=res.objective, gap=res.dual_gap / problem.affine_objective,
                   nnz=len(res.idx), converged=bool(res.converged))
        return out
    problem = build_problem(name, factor)
    N = problem.b.shape[0]
    alpha = problem.alpha
    b = problem.b[:, 0]
    t0 = time.perf_counter()
    G = dense_G(problem)
    t_build = time.perf_counter() - t0
    if solver == "sklearn":
        from sklearn.linear_model import Lasso

        m = Lasso(alpha=alpha / N, fit_intercept=False, tol=0.5 * TOL, max_iter=10 ** 7,
                  selection="cyclic")
        m.fit(G, b)
        w = m.coef_
    elif solver == "celer":
        from celer import Lasso

        m = Lasso(alpha=alpha / N, fit_intercept=False, tol=0.5 * TOL, max_iter=10 ** 4,
                  max_epochs=10 ** 6)
        m.fit(G, b)
        w = m.coef_
    elif solver == "skglm":
        from skglm import Lasso

        m = Lasso(alpha=alpha / N, fit_intercept=False, tol=TOL * alpha / N, max_iter=10 ** 4,
                  max_epochs=10 ** 6)
        m.fit(G, b)
        w = m.coef_
    elif solver == "cvxpy":
        import cvxpy as cp

        v = cp.Variable(G.shape[1])
        prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(b - G @ v) + alpha * cp.norm1(v)))
        prob.solve(solver=cp.CLARABEL)
        w = np.asarray(v.value)
    else:
        raise ValueError(solver)
    t_total = time.perf_counter() - t0
    obj, gap = dense_metrics(problem, G, w)
    out.update(time=t_total, setup=t_build, objective=obj, gap=gap,
               nnz=int(np.sum(np.abs(w) > 1e-12 * max(np.abs(w).max(initial=0), 1e-300))),
               converged=gap <= TOL)
    return out


def run_task(task, time_budget):
    """Run one task in a subprocess; returns (result dict or status string, peak MB)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(task)]
    with tempfile.TemporaryFile() as fout, tempfile.TemporaryFile() as ferr:
        proc = subprocess.Popen(cmd, stdout=fout, stderr=ferr, start_new_session=True)
        t0 = time.perf_counter()
        status = None
        while True:
            pid, st, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > time_budget:
                os.killpg(proc.pid, signal.SIGKILL)
                pid, st, ru = os.wait4(proc.pid, 0)
                status = "timeout"
                break
            time.sleep(0.05)
        proc.returncode = 0  # reaped by wait4
        fout.seek(0)
        ferr.seek(0)
        out, err = fout.read().decode(), ferr.read().decode()
    peak_mb = ru.ru_maxrss / 1024.0
    if status is not None:
        return status, peak_mb
    code = os.waitstatus_to_exitcode(st)
    if code != 0:
        tail = err.strip().splitlines()[-1:] or ["?"]
        if ("MemoryError" in err or "bad_alloc" in err or "memory" in err.lower()
                or code in (-9, 137)):
            return "OOM", peak_mb
        return f"error ({tail[0][:60]})", peak_mb
    return json.loads(out.strip().splitlines()[-1]), peak_mb


# ---------------------------------------------------------------------- driver
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small subset of the grid")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--instances", nargs="*", help="e.g. 2d-1000-64 diabetes-256")
    ap.add_argument("--factors", nargs="*", type=float, help="alpha / alpha_max values")
    ap.add_argument("--solvers", nargs="*", default=SOLVERS, choices=SOLVERS)
    ap.add_argument("--time-budget", type=float, default=120.0, help="seconds per run")
    ap.add_argument("--mem-budget", type=float, default=4.0, help="GB for a dense G")
    ap.add_argument("--mem-cap", type=float, default=12.0,
                    help="GB of address space a dense peer may use (then 'OOM')")
    ap.add_argument("--repeats", type=int, default=3, help="radonsolve runs (median)")
    ap.add_argument("--output", help="markdown file (default benchmarks/results/lasso[_quick].md)")
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return

    if args.quick:
        grid = [("2d-1000-64", [1e-1, 1e-2]), ("diabetes-64", [1e-1, 1e-2]),
                ("2d-10000-256", [1e-3])]
        if args.time_budget == 120.0:
            args.time_budget = 60.0
    else:
        names = ["2d-1000-64", "2d-1000-256", "2d-10000-64", "2d-10000-256",
                 "diabetes-64", "diabetes-256"]
        grid = [(n, [1e-1, 1e-2, 1e-3]) for n in names]
    if args.instances:
        grid = [(n, f) for n, f in grid if n in args.instances] or \
            [(n, [1e-1, 1e-2, 1e-3]) for n in args.instances]
    if args.factors:
        grid = [(n, args.factors) for n, _ in grid]
    output = args.output or os.path.join(HERE, "results",
                                         "lasso_quick.md" if args.quick else "lasso.md")

    rows = []
    header = ("| instance | N | atoms | alpha/alpha_max | solver | time (s) | objective | "
              "rel. subopt. | rel. gap | nnz | peak MB | speedup |")
    sep = "|" + "---|" * 12
    print(header)
    print(sep)
    for name, factors in grid:
        N, n_atoms = n_atoms_of(name)
        dense_gb = 8.0 * N * n_atoms / 1e9
        for factor in factors:
            results = {}
            for solver in args.solvers:
                if solver != "radonsolve" and dense_gb > args.mem_budget:
                    results[solver] = (f"OOM (G: {dense_gb:.0f} GB)", None)
                    continue
                task = dict(instance=name, factor=factor, solver=solver,
                            repeats=args.repeats if solver == "radonsolve" else 1,
                            mem_cap_gb=args.mem_cap)
                results[solver] = run_task(task, args.time_budget)
            done = [r for r, _ in results.values() if isinstance(r, dict)]
            best = min((r["objective"] for r in done), default=np.nan)
            peer_times = [r["time"] for s, (r, _) in results.items()
                          if s != "radonsolve" and isinstance(r, dict)]
            timed_out = [s for s, (r, _) in results.items()
                         if s != "radonsolve" and r == "timeout"]
            for solver in args.solvers:
                r, peak = results[solver]
                peak_s = f"{peak:.0f}" if peak is not None else "-"
                if not isinstance(r, dict):
                    line = (f"| {name} | {N} | {n_atoms} | {factor:g} | {solver} | {r} | - | - | "
                            f"- | - | {peak_s} | - |")
                else:
                    sub = (r["objective"] - best) / best if best > 0 else 0.0
                    speed = "-"
                    if solver == "radonsolve":
                        if peer_times:
                            speed = f"{min(peer_times) / r['time']:.0f}x"
                        elif timed_out:
                            speed = f">{args.time_budget / r['time']:.0f}x"
                    t = f"{r['time']:.3f}"
                    if solver == "radonsolve":
                        t += f" (setup {r['setup']:.3f}, 1st run {r['first']:.3f})"
                    elif r.get("setup"):
                        t += f" (G {r['setup']:.2f})"
                    line = (f"| {name} | {N} | {n_atoms} | {factor:g} | {solver} | {t} | "
                            f"{r['objective']:.10g} | {sub:.1e} | {r['gap']:.1e} | {r['nnz']} | "
                            f"{peak_s} | {speed} |")
                print(line, flush=True)
                rows.append(line)
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w") as f:
        f.write("# Projected lasso: radonsolve vs generic lasso solvers\n\n")
        f.write(f"Generated by `python benchmarks/bench_lasso.py{' --quick' if args.quick else ''}`"
                f" on {os.cpu_count()} CPU cores; relative duality gap target {TOL:g}; time "
                f"budget {args.time_budget:g} s per run; dense matrices above "
                f"{args.mem_budget:g} GB skipped, dense peers capped at {args.mem_cap:g} GB of "
                "address space. Times in seconds: radonsolve's include "
                "building the dictionary and the problem (median of "
                f"{args.repeats} runs), the dense peers' include building G. 'speedup' = "
                "fastest finished peer time / radonsolve time ('>' when all peers timed "
                "out). 'rel. subopt.' is relative to the best objective of the row group.\n\n")
        f.write(header + "\n" + sep + "\n" + "\n".join(rows) + "\n")
    print(f"\nwritten to {output}")


if __name__ == "__main__":
    main()
