"""Benchmark: radonsolve against weight-decay training of the same network class (PyTorch).

Both sides are scored by the objective of problem (P) (DESIGN section 1),

    0.5 * mean_n (y_n - f(x_n))^2 + alpha * RTV2(f),

which weight decay on the input and output weights minimizes too (same alpha). radonsolve
runs with its defaults (refinement "auto", tol 1e-6, random_state 0) through the public
estimator, so improvements to the library show up when this script is rerun.

Training: full-batch Adam in float64 on a grid of widths x learning rates x seeds, each run
with the same fixed budget of training seconds (evaluation of (P) along the way is not
counted; a longer budget for d >= 3, where training settles slowest). A run's objective is
the best (P) value it recorded (its running best at the end, which favours training slightly
over its last iterate), and the best run over the grid is reported. Its "time to final" is
the first training time at which its running best got within 1e-4 (relative) of that final
value; resolution is the evaluation interval (budget / 100).

For d >= 3 at larger N (d = 10 Friedman #1 at N = 2000 and 20000, diabetes, a d = 3 ridge
network) against Adam-then-L-BFGS training of width 512, with the targets of issue 10 and
peak memory per fit, see ``benchmarks/bench_weight_decay_high_d.py``.

Usage:
    python benchmarks/bench_weight_decay.py            # full run, about 25 minutes on 2 cores
    python benchmarks/bench_weight_decay.py --quick    # about 3 minutes

The markdown table is printed and written to benchmarks/results/weight_decay.md
(weight_decay_quick.md with --quick), with a JSON file of all runs next to it.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
import warnings

import numpy as np
from _common import git_commit, load_average, write_text

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
TTF_RTOL = 1e-4


# ----------------------------------------------------------------------------- problems
def problems(quick):
    from radonsolve.datasets import (load_diabetes_standardized, make_piecewise_linear_1d,
                                     make_relu_ridges_2d)

    if quick:
        spec = [
            ("piecewise-1d", 1000, lambda: make_piecewise_linear_1d(1000, random_state=0),
             (1e-1, 1e-2)),
            ("ridges-2d", 200, lambda: make_relu_ridges_2d(200, random_state=0), (1e-1, 1e-2)),
            ("diabetes", 442, load_diabetes_standardized, (1e-1, 1e-2)),
        ]
    else:
        spec = [
            ("piecewise-1d", 1000, lambda: make_piecewise_linear_1d(1000, random_state=0),
             (1e-1, 1e-2, 1e-3)),
            ("piecewise-1d", 10000, lambda: make_piecewise_linear_1d(10000, random_state=0),
             (1e-1, 1e-2, 1e-3)),
            ("ridges-2d", 200, lambda: make_relu_ridges_2d(200, random_state=0), (1e-1, 1e-2)),
            ("ridges-2d", 1000, lambda: make_relu_ridges_2d(1000, random_state=0),
             (1e-1, 1e-2)),
            ("diabetes", 442, load_diabetes_standardized, (1e-1, 1e-2)),
        ]
    for name, n, make, ratios in spec:
        X, y = make()
        yield name, n, X, y, ratios


# ----------------------------------------------------------------------------- machine
def machine_description():
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(os.cpu_count())
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = load_average()
    commit = git_commit()
    import torch

    import radonsolve
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": nproc,
        "cpu": cpu,
        "load_average_start": load,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "radonsolve": f"{radonsolve.__version__}, commit {commit}",
    }


# ----------------------------------------------------------------------------- runs
def run_radonsolve(X, y, alpha, tol):
    from radonsolve import RadonReLURegressor
    from radonsolve.baselines import penalized_objective

    est = RadonReLURegressor(alpha=alpha, tol=tol, random_state=0)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    wall = time.perf_counter() - t0
    # Independent check that objective_ is (P) at the returned network.
    check = penalized_objective(est.network_, X, y, alpha)
    return {
        "objective": float(est.objective_),
        "objective_check": float(check),
        "time": float(getattr(est, "fit_time_", wall)),
        "wall": wall,
        "n_neurons": int(est.n_neurons_),
        "eta": float(est.certificate_),
        "certified": bool(est.certified_),
        "global_gap": float(est.global_gap_),
        # (seconds since the exchange started, objective of the restricted fit) per round; the
        # seconds outside the rounds (set-up, final support reduction) are added to each.
        "rounds": [(float(h.time), float(h.objective)) for h in est.refinement_history_],
        "overhead": float(getattr(est, "fit_time_", wall)
                          - (est.refinement_history_[-1].time
                             if est.refinement_history_ else 0.0)),
        "warnings": sorted({f"{w.category.__name__}: {str(w.message)[:120]}" for w in caught}),
    }


def time_to_reach(rs, target):
    """Seconds radonsolve needed to reach an objective <= target (inf if it never did).

    A refinement round's objective is the restricted lasso objective, an upper bound on (P)
    at its network, so this errs on radonsolve's side of slow; the time outside the rounds
    is charged in full to every round.
    """
    tol = 1e-9 * abs(target)
    for t, obj in rs["rounds"]:
        if obj <= target + tol:
            return t + rs["overhead"]
    return rs["time"] if rs["objective"] <= target + tol else float("inf")


def run_training(X, y, alpha, widths, lrs, seeds, budget):
    from radonsolve.baselines import train_weight_decay

    runs = []
    for width in widths:
        for lr in lrs:
            for seed in seeds:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # divergence is recorded
                    r = train_weight_decay(
                        X, y, alpha, width=width, lr=lr, optimizer="adam", random_state=seed,
                        n_epochs=10**9, eval_every=10**9, eval_every_seconds=budget / 100,
                        time_budget=budget, n_threads=1)
                runs.append({
                    "width": width, "lr": lr, "seed": seed, "budget": budget,
                    "objective": float(r.best_objective),
                    "last_objective": float(r.objective),
                    "time": float(r.time),
                    "wall": float(r.wall_time),
                    "time_to_final": float(r.time_to_final(TTF_RTOL)),
                    "n_epochs": int(r.n_epochs),
                    "n_neurons": int(r.best_network.n_neurons),
                })
    return runs


def warm_up():
    """Load numba-compiled kernels and torch once, outside the timings."""
    from radonsolve import RadonReLURegressor
    from radonsolve.baselines import train_weight_decay

    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for d in (1, 2, 3):
            X = rng.uniform(-1, 1, (40, d))
            y = np.abs(X).sum(axis=1) + 0.1 * rng.standard_normal(40)
            RadonReLURegressor(alpha=1e-3, random_state=0, max_rounds=2).fit(X, y)
            train_weight_decay(X, y, 1e-3, width=8, n_epochs=5, random_state=0)


# ----------------------------------------------------------------------------- report
def fmt_row(r):
    wd, rs = r["wd_best"], r["rs"]
    cfg = f"w={wd['width']}, lr={wd['lr']:g}, s={wd['seed']}"
    ratio = wd["time_to_final"] / rs["time"] if rs["time"] > 0 else float("inf")
    t_match = time_to_reach(rs, wd["objective"])
    ratio_match = wd["time_to_final"] / t_match if t_match > 0 else float("inf")
    # Budget-limited: the running best still improved by > TTF_RTOL in the last 10%.
    mark = " (b)" if wd["time_to_final"] >= 0.9 * wd["budget"] else ""
    return (f"| {r['problem']} | {r['N']} | {r['d']} | {r['alpha_ratio']:g} | "
            f"{rs['objective']:.8g} | {rs['time']:.2f} | {rs['n_neurons']} | {rs['eta']:.6f} | "
            f"{'yes' if rs['certified'] else 'no'} | {wd['objective']:.8g} | {cfg} | "
            f"{wd['time']:.2f} | {wd['time_to_final']:.2f}{mark} | {r['rel_diff']:+.2e} | "
            f"{ratio:.2f} | {t_match:.2f} | {ratio_match:.1f} |")


HEADER = ("| problem | N | d | alpha/alpha_max | rs objective | rs time (s) | rs neurons | "
          "rs eta | certified | wd best objective | wd best config | wd run time (s) | "
          "wd time to final (s) | (rs-wd)/wd | wd time-to-final / rs time | "
          "rs time to reach wd best (s) | wd time-to-final / rs time to reach |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def markdown(rows, machine, settings, total):
    lines = [
        "# radonsolve vs weight-decay training (objective of (P))",
        "",
        f"- date: {machine['date']}",
        f"- machine: `nproc` = {machine['nproc']}, CPU: {machine['cpu']}, "
        f"load average at start: {machine['load_average_start']} (shared machine)",
        f"- python {machine['python']}, torch {machine['torch']}, "
        f"radonsolve {machine['radonsolve']}",
        f"- command: `{settings['command']}`; total run time {total / 60:.1f} min",
        "",
        "radonsolve: `RadonReLURegressor(alpha, tol=%g, random_state=0)` (refine='auto', other "
        "settings default); time is `fit_time_`. eta is the dual certificate `certificate_` "
        "(<= 1 + tol means no violating direction found); certified = `certified_`."
        % settings["tol"],
        "",
        "Weight decay: full-batch Adam, float64, 1 torch thread, loss 0.5*mean((y-f)^2) + "
        "(alpha/2)(||V||^2+||W||^2), grid widths %s x lr %s x seeds %s, each run stopped after "
        "%g s of training time (%g s for d >= 3; evaluations excluded). Every run's objective "
        "is (P) of its exported canonical network (exact RTV2), best value recorded over the "
        "run; the best run of the grid is shown. 'wd time to final' = first training time at "
        "which that run's running-best (P) was within %g relative of its final value "
        "(resolution: budget/100). '(rs-wd)/wd' < 0 means radonsolve is lower. The time ratio "
        "compares training's time-to-final with radonsolve's fit time; it is bounded by the "
        "budget, and where training ends above radonsolve it understates radonsolve's "
        "advantage. (b) marks a best run that was still improving in the last 10%% of its "
        "budget (budget-limited: more time would lower its objective). 'rs time to reach wd "
        "best' is the time of the first refinement round whose restricted objective (an upper "
        "bound on (P) at that round's network) was at most the best training objective, plus "
        "all of the fit's time outside the rounds; the last column compares it with training's "
        "time-to-final (for d = 1, where there are no rounds, it is the whole fit time)."
        % (list(settings["widths"]), list(settings["lrs"]), list(settings["seeds"]),
           settings["budget"], settings["budget_high_d"], TTF_RTOL),
        "",
        HEADER,
    ]
    lines += [fmt_row(r) for r in rows]
    notes = []
    for r in rows:
        rs = r["rs"]
        if abs(rs["objective"] - rs["objective_check"]) > 1e-9 * max(1.0, abs(rs["objective"])):
            notes.append(f"- {r['problem']} N={r['N']} alpha ratio {r['alpha_ratio']:g}: "
                         f"objective_ {rs['objective']:.10g} differs from (P) recomputed "
                         f"{rs['objective_check']:.10g}")
        for w in rs["warnings"]:
            notes.append(f"- {r['problem']} N={r['N']} alpha ratio {r['alpha_ratio']:g}: "
                         f"radonsolve warned: {w}")
    if notes:
        lines += ["", "Notes:", ""] + notes
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="fewer problems, smaller grid, 1.5 s per run (about 3 minutes)")
    p.add_argument("--budget", type=float, default=None,
                   help="training seconds per run (default 3, or 1.5 with --quick)")
    p.add_argument("--budget-high-d", type=float, default=None,
                   help="training seconds per run for d >= 3 (diabetes), where training is "
                        "slowest to settle (default 10, or 3 with --quick)")
    p.add_argument("--widths", type=int, nargs="+", default=None)
    p.add_argument("--lrs", type=float, nargs="+", default=None)
    p.add_argument("--seeds", type=int, nargs="+", default=None)
    p.add_argument("--tol", type=float, default=1e-6)
    p.add_argument("--out", default=None, help="markdown output path")
    args = p.parse_args(argv)

    import torch
    torch.set_num_threads(1)

    quick = args.quick
    settings = {
        "budget": args.budget or (1.5 if quick else 3.0),
        "budget_high_d": args.budget_high_d or (3.0 if quick else 10.0),
        "widths": tuple(args.widths or ((32, 128) if quick else (32, 128, 512))),
        "lrs": tuple(args.lrs or (1e-3, 1e-2)),
        "seeds": tuple(args.seeds or ((0,) if quick else (0, 1, 2))),
        "tol": args.tol,
        "command": "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
        if argv is None else "main(%r)" % (argv,),
    }
    out = args.out or os.path.join(RESULTS, "weight_decay_quick.md" if quick
                                   else "weight_decay.md")

    from radonsolve import alpha_max

    machine = machine_description()
    t_start = time.perf_counter()
    warm_up()
    rows = []
    print(HEADER, flush=True)
    for name, n, X, y, ratios in problems(quick):
        amax = alpha_max(X, y, random_state=0)
        for ratio in ratios:
            alpha = ratio * amax
            rs = run_radonsolve(X, y, alpha, settings["tol"])
            runs = run_training(X, y, alpha, settings["widths"], settings["lrs"],
                                settings["seeds"],
                                settings["budget_high_d"] if X.shape[1] >= 3
                                else settings["budget"])
            best = min(runs, key=lambda r: r["objective"])
            row = {
                "problem": name, "N": int(X.shape[0]), "d": int(X.shape[1]),
                "alpha_ratio": ratio, "alpha": alpha, "alpha_max": amax,
                "rs": rs, "wd_best": best, "wd_runs": runs,
                "rel_diff": (rs["objective"] - best["objective"]) / best["objective"],
            }
            rows.append(row)
            print(fmt_row(row), flush=True)
    total = time.perf_counter() - t_start
    machine["load_average_end"] = load_average()

    md = markdown(rows, machine, settings, total)
    md += f"\nLoad average at end: {machine.get('load_average_end', 'n/a')}.\n"
    write_text(out, md)
    with open(os.path.splitext(out)[0] + ".json", "w") as fh:
        json.dump({"machine": machine, "settings": settings, "total_seconds": total,
                   "rows": rows}, fh, indent=1)
    print()
    print(md)
    print(f"written to {out} ({total / 60:.1f} min)")


if __name__ == "__main__":
    main()
