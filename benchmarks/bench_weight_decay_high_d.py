"""Benchmark: radonsolve against Adam-then-L-BFGS weight-decay training for d >= 3 (issue 10).

Both sides are scored by the objective of problem (P) (DESIGN section 1),

    0.5 * mean_n (y_n - f(x_n))^2 + alpha * RTV2(f),

which weight decay on the input and output weights minimizes too (same alpha).

Cases (all offline and reproducible; X and y standardized on the whole data set):

- ``friedman1``: ``sklearn.datasets.make_friedman1(n_samples=N, n_features=10, noise=0.5,
  random_state=0)``, d = 10, at N = 2000 (alpha = 0.1 and 0.01 alpha_max) and N = 20000
  (0.1 alpha_max);
- ``diabetes``: :func:`radonsolve.datasets.load_diabetes_standardized`, N = 442, d = 10
  (0.1 and 0.01);
- ``ridges3d``: :func:`radonsolve.datasets.make_relu_ridges_3d` (three ReLU ridges of
  Gaussian inputs plus noise 0.1, random_state=0), N = 400, d = 3 (0.1 and 0.01).

alpha_max is :func:`radonsolve.alpha_max` (random_state=0) of the standardized data.

radonsolve: ``RadonReLURegressor(alpha, random_state=0)`` with every other parameter at its
default, fitted in a child process per fit (after a small warm-up fit there that loads the
compiled kernels), so that the peak resident memory reported is that fit's process's
(``ru_maxrss``: imports, data and fit). Its per-round history gives the time it first
reached training's best objective; ``fit_time_`` is the time to its default stop.

Training: :func:`radonsolve.baselines.train_adam_then_lbfgs`, width 512, float64, one torch
thread, full batch: Adam for a fixed number of epochs, then L-BFGS (strong Wolfe, one
iteration per epoch) continuing from Adam's parameters. The budgets are in epochs, not
seconds, so that training does the same work however loaded the machine is (its time, like
radonsolve's, grows with the load). Grid: learning rates x seeds (flags; fewer seeds above
N = 2000, where one run costs ten times more). For every run: its
best (P) objective (exact RTV2 of the exported network, evaluated about 100 times per phase,
evaluation time not counted), the training time at which it first got within ``--ttf-rtol``
(relative) of that best, the time at which it reached the best itself, and its total
training time. The best run of the grid (lowest objective) is the one compared with.

Usage:
    python benchmarks/bench_weight_decay_high_d.py            # full run, about an hour
                                                              # on 2 quiet cores (estimate)
    python benchmarks/bench_weight_decay_high_d.py --quick    # N = 2000 only, one seed,
                                                              # 300 + 150 epochs per run;
                                                              # 10 to 16 minutes
    python benchmarks/bench_weight_decay_high_d.py --cases friedman1-20000 --ratios 0.1

The markdown table is printed and written to benchmarks/results/weight_decay_high_d.md
(weight_decay_high_d_quick.md with --quick), with a JSON file of all runs next to it.
"""

import argparse
import json
import math
import os
import sys
import time
import warnings

from _common import (current_mib, fmt, git_commit, load_average, peak_mib, reset_peak_rss,
                     run_json_child, write_text)
from bench_weight_decay import machine_description, time_to_reach

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")

# (case id, data set, N, alpha / alpha_max ratios)
CASES = (
    ("friedman1-2000", "friedman1", 2000, (0.1, 0.01)),
    ("friedman1-20000", "friedman1", 20000, (0.1,)),
    ("diabetes", "diabetes", 442, (0.1, 0.01)),
    ("ridges3d", "ridges3d", 400, (0.1, 0.01)),
)
QUICK_CASES = ("friedman1-2000",)
GIB = 1024.0  # MiB


# ----------------------------------------------------------------------------- data
def load_case(data, n):
    """The standardized (X, y) of a case; the same arrays in the parent and in the child."""
    import numpy as np

    if data == "friedman1":
        from sklearn.datasets import make_friedman1

        X, y = make_friedman1(n_samples=n, n_features=10, noise=0.5, random_state=0)
    elif data == "diabetes":
        from radonsolve.datasets import load_diabetes_standardized

        X, y = load_diabetes_standardized()
    elif data == "ridges3d":
        from radonsolve.datasets import make_relu_ridges_3d

        X, y = make_relu_ridges_3d(n, random_state=0)
    else:
        raise ValueError(f"unknown data set {data!r}")
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = (y - y.mean()) / y.std()
    return np.ascontiguousarray(X), y


# ----------------------------------------------------------------------------- radonsolve
def child(data, n, alpha):
    """Fit radonsolve in this (fresh) process and print one JSON record."""
    import numpy as np

    from radonsolve import RadonReLURegressor
    from radonsolve.baselines import penalized_objective

    X, y = load_case(data, n)
    # Load the compiled kernels for this d outside the timing.
    rng = np.random.default_rng(0)
    Xw = rng.standard_normal((60, X.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        RadonReLURegressor(alpha=1e-2, random_state=0, max_rounds=2).fit(
            Xw, np.abs(Xw).sum(axis=1))
    # The peak of the fit alone: not of the imports and the warm-up (compiling kernels, where
    # the numba cache is stale, takes more memory than a small fit).
    reset = reset_peak_rss()
    base = current_mib() if reset else peak_mib()
    est = RadonReLURegressor(alpha=alpha, random_state=0)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    wall = time.perf_counter() - t0
    hist = est.refinement_history_
    rec = {
        "objective": float(est.objective_),
        # independent check that objective_ is (P) at the returned network
        "objective_check": float(penalized_objective(est.network_, X, y, alpha)),
        "time": float(est.fit_time_),
        "wall": wall,
        "n_neurons": int(est.n_neurons_),
        "n_rounds": int(est.n_rounds_),
        "eta": float(est.certificate_),
        "certificate_kind": str(est.certificate_kind_),
        "certified": bool(est.certified_),
        "global_gap": float(est.global_gap_),
        "stop_reason": str(est.stop_reason_),
        # (seconds since the exchange started, restricted objective) per round; the fit's
        # seconds outside the rounds are charged in full to every round (time_to_reach)
        "rounds": [(float(h.time), float(h.objective)) for h in hist],
        "overhead": float(est.fit_time_ - (hist[-1].time if hist else 0.0)),
        "base_mib": base,
        "peak_mib": peak_mib(),
        "peak_of_fit_only": reset,
        "warnings": sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught}),
    }
    print(json.dumps(rec), flush=True)


def run_radonsolve(data, n, alpha, timeout):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", data, str(n), repr(alpha)]
    recs, err, timed_out = run_json_child(cmd, timeout)
    if recs:
        rec = recs[-1]
        rec["status"] = "ok"
    else:
        rec = {"status": f"timed out after {timeout:g} s" if timed_out
               else "failed: " + err.strip()[-300:]}
    return rec


# ----------------------------------------------------------------------------- training
def run_training(X, y, alpha, settings, n):
    from radonsolve.baselines import train_adam_then_lbfgs

    cap = settings["max_phase_seconds"]
    runs = []
    for lr in settings["lrs"]:
        for seed in settings["seeds"] if n <= 2000 else settings["large_seeds"]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # divergence is recorded
                r = train_adam_then_lbfgs(
                    X, y, alpha, width=settings["width"], lr=lr,
                    adam_epochs=settings["adam_epochs"], lbfgs_epochs=settings["lbfgs_epochs"],
                    adam_time=cap, lbfgs_time=cap,
                    random_state=seed, n_threads=1)
            k = r.params["phase_start"]
            h = r.history
            best = float(r.best_objective)
            runs.append({
                "lr": lr, "seed": seed, "width": settings["width"],
                "objective": best,
                "last_objective": float(r.objective),
                "adam_best_objective": float(h[:k, 3].min()),
                "time_to_best": float(r.time_to(best)),
                "time_to_final": float(r.time_to_final(settings["ttf_rtol"])),
                "time": float(r.time),
                "adam_time": float(h[k - 1, 0]),
                "wall": float(r.wall_time),
                "adam_epochs": int(h[k - 1, 1]),
                "n_epochs": int(r.n_epochs),
                "n_neurons": int(r.best_network.n_neurons),
                # L-BFGS must start from the function Adam ended with
                "handover_rel_diff": float(abs(h[k, 3] - h[k - 1, 3])
                                           / max(abs(h[k - 1, 3]), 1e-300))
                if math.isfinite(h[k - 1, 3]) else float("nan"),
            })
    return runs


def warm_up_training():
    import numpy as np

    from radonsolve.baselines import train_adam_then_lbfgs

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    train_adam_then_lbfgs(X, np.abs(X).sum(axis=1), 1e-3, width=8, adam_epochs=5,
                          lbfgs_epochs=5, random_state=0)


# ----------------------------------------------------------------------------- targets
def target(case, ratio):
    """The issue's Done-when target for a row: (text, factor on training time, memory cap)."""
    if case == "friedman1-2000" and ratio == 0.1:
        return "obj <= wd, stop <= wd/5", 0.2, None
    if case == "friedman1-2000" and ratio == 0.01:
        return "obj <= wd, stop <= wd", 1.0, None
    if case == "friedman1-20000" and ratio == 0.1:
        return "obj <= wd, stop <= wd, peak < 2 GiB", 1.0, 2 * GIB
    if case == "ridges3d":
        return "certified (bound) in <= 120 s", None, None
    return "-", None, None


def verdict(row):
    rs, wd = row["rs"], row["wd_best"]
    text, factor, mem = target(row["case"], row["alpha_ratio"])
    if text == "-" or rs.get("status") != "ok":
        return text, "-" if text == "-" else "FAIL"
    if row["case"] == "ridges3d":
        ok = rs["certified"] and rs["certificate_kind"] == "bound" and rs["time"] <= 120
    else:
        ok = rs["objective"] <= wd["objective"] and rs["time"] <= factor * wd["time_to_final"]
        if mem is not None:
            ok = ok and rs["peak_mib"] < mem
    return text, "pass" if ok else "FAIL"


# ----------------------------------------------------------------------------- report
HEADER = ("| case | N | d | alpha/alpha_max | rs objective | wd best objective | "
          "rs / wd objective | rs time to default stop (s) | rs time to reach wd best (s) | "
          "wd time (s) | rs stop / wd time | wd time to best (s) | wd total (s) | wd best config | "
          "rs stop | rs certificate | rs neurons | rs rounds | rs peak RSS (MiB) (at fit start) | "
          "target | result |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def fmt_row(r):
    rs, wd = r["rs"], r["wd_best"]
    text, result = verdict(r)
    head = f"| {r['case']} | {r['N']} | {r['d']} | {r['alpha_ratio']:g} | "
    cfg = f"lr={wd['lr']:g}, s={wd['seed']}"
    mark = " (b)" if wd["time_to_final"] >= 0.9 * wd["time"] else ""
    if rs.get("status") != "ok":
        return (head + f"{rs['status']} | {wd['objective']:.8g} | - | - | - | "
                f"{wd['time_to_final']:.1f}{mark} | - | {wd['time_to_best']:.1f} | "
                f"{wd['time']:.1f} | {cfg} | - | - | - | - | - | {text} | {result} |")
    t_reach = time_to_reach(rs, wd["objective"])
    cert = (f"{rs['certificate_kind']} {rs['eta']:.4f}"
            + (" (certified)" if rs["certified"] else ""))
    return (head + f"{rs['objective']:.8g} | {wd['objective']:.8g} | "
            f"{rs['objective'] / wd['objective']:.5f} | {rs['time']:.1f} | "
            f"{fmt(t_reach, '.1f')} | {wd['time_to_final']:.1f}{mark} | "
            f"{rs['time'] / wd['time_to_final']:.2f} | {wd['time_to_best']:.1f} | "
            f"{wd['time']:.1f} | {cfg} | {rs['stop_reason']} | {cert} | {rs['n_neurons']} | "
            f"{rs['n_rounds']} | {rs['peak_mib']:.0f} ({rs['base_mib']:.0f}) | {text} | "
            f"{result} |")


RUN_HEADER = ("| case | alpha/alpha_max | lr | seed | best objective | after Adam (best) | "
              "time to within rtol (s) | time to best (s) | Adam (s) | total (s) | "
              "epochs (Adam + L-BFGS) |\n|---|---|---|---|---|---|---|---|---|---|---|")


def fmt_run(r, w):
    return (f"| {r['case']} | {r['alpha_ratio']:g} | {w['lr']:g} | {w['seed']} | "
            f"{w['objective']:.8g} | {w['adam_best_objective']:.8g} | "
            f"{w['time_to_final']:.1f} | {w['time_to_best']:.1f} | {w['adam_time']:.1f} | "
            f"{w['time']:.1f} | {w['adam_epochs']} + {w['n_epochs'] - w['adam_epochs']} |")


def markdown(rows, machine, settings, total):
    lines = [
        "# radonsolve vs weight-decay training for d >= 3 (objective of (P))",
        "",
        f"- date: {machine['date']}",
        f"- machine: `nproc` = {machine['nproc']}, CPU: {machine['cpu']}, load average at "
        f"start: {machine['load_average_start']}, at end: {machine['load_average_end']}",
        f"- python {machine['python']}, torch {machine['torch']}, "
        f"radonsolve {machine['radonsolve']}",
        f"- command: `{settings['command']}`; total run time {total / 60:.1f} min",
        "",
        "Data (offline, reproducible; X and y standardized): friedman1 = "
        "`sklearn.datasets.make_friedman1(n_samples=N, n_features=10, noise=0.5, "
        "random_state=0)`; diabetes = `radonsolve.datasets.load_diabetes_standardized()`; "
        "ridges3d = `radonsolve.datasets.make_relu_ridges_3d(400, random_state=0)` (three "
        "ReLU ridges of Gaussian inputs, noise 0.1). alpha = ratio x `alpha_max(X, y, "
        "random_state=0)`.",
        "",
        "radonsolve: `RadonReLURegressor(alpha, random_state=0)`, all else default, one fit "
        "per child process (after a small warm-up fit there). 'time to default stop' is "
        "`fit_time_`; 'time to reach wd best' is the time of the first exchange round whose "
        "restricted objective (an upper bound on (P) at that round's network) was at most "
        "training's best objective, plus all of the fit's time outside the rounds ('-': "
        "never). Peak RSS is the child's peak resident memory during the fit (its count "
        "restarted after the imports, the data and the warm-up fit, on Linux; `ru_maxrss`), "
        "in parentheses its resident memory when the fit started (imports and data). "
        "'rs stop' is `stop_reason_`; 'rs certificate' is `certificate_kind_` and "
        "`certificate_`.",
        "",
        "Weight decay: `radonsolve.baselines.train_adam_then_lbfgs`, width %d, float64, one "
        "torch thread, full batch: %d Adam epochs, then %d L-BFGS iterations (strong Wolfe, "
        "one per epoch) from Adam's parameters%s; training time excludes the evaluations; "
        "grid lr %s x seeds %s (seeds %s above N = 2000). "
        "A run's objective is the lowest (P), with exact RTV2, over its evaluations (about "
        "100 per phase, so times have that resolution); the best run of the grid is shown. "
        "'wd time' = first training time at which that run's objective was within %g "
        "(relative) of its best; 'wd time to "
        "best' = when it reached the best itself; 'wd total' = its training time. (b): "
        "still improving by more than that in the last 10%% of the run (budget-limited). "
        "The ratio 'rs stop / wd time' and the targets use 'wd time', the smallest of the "
        "three (strictest for radonsolve)."
        % (settings["width"], settings["adam_epochs"], settings["lbfgs_epochs"],
           "" if settings["max_phase_seconds"] is None else
           ", each phase stopped after %g s at most" % settings["max_phase_seconds"],
           list(settings["lrs"]), list(settings["seeds"]), list(settings["large_seeds"]),
           settings["ttf_rtol"]),
        "",
        "Targets (issue 10, Done when): friedman1 N = 2000 at 0.1: objective <= training's "
        "and stop <= 1/5 of its time; at 0.01 and N = 20000 at 0.1: objective <= training's "
        "and stop <= its time, and at N = 20000 peak < 2 GiB; d = 3, N = 400: certified_ "
        "with certificate_kind_ 'bound' within 2 minutes.",
        "",
        HEADER,
    ]
    lines += [fmt_row(r) for r in rows]
    lines += ["", "## Every training run", "", RUN_HEADER]
    lines += [fmt_run(r, w) for r in rows for w in r["wd_runs"]]
    notes = []
    for r in rows:
        rs = r["rs"]
        tag = f"- {r['case']} alpha ratio {r['alpha_ratio']:g}"
        if rs.get("status") == "ok":
            if abs(rs["objective"] - rs["objective_check"]) > 1e-9 * max(1.0,
                                                                          abs(rs["objective"])):
                notes.append(f"{tag}: objective_ {rs['objective']:.10g} differs from (P) "
                             f"recomputed {rs['objective_check']:.10g}")
            for w in rs["warnings"]:
                notes.append(f"{tag}: radonsolve warned: {w}")
            if not rs.get("peak_of_fit_only", False):
                notes.append(f"{tag}: the peak RSS count could not be restarted; it covers "
                             f"the imports and the warm-up fit too")
        for w in r["wd_runs"]:
            if not w["handover_rel_diff"] <= 1e-9:
                notes.append(f"{tag}: lr {w['lr']:g} seed {w['seed']}: L-BFGS started at an "
                             f"objective {w['handover_rel_diff']:.2e} (relative) away from "
                             f"Adam's last")
    if notes:
        lines += ["", "Notes:", ""] + notes
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="friedman1 N = 2000 only, seed 0, 300 Adam + 150 L-BFGS epochs")
    p.add_argument("--cases", nargs="+", default=None, choices=[c[0] for c in CASES])
    p.add_argument("--ratios", type=float, nargs="+", default=None,
                   help="only these alpha / alpha_max ratios (of those each case runs)")
    p.add_argument("--adam-epochs", type=int, default=None,
                   help="Adam epochs per run (default 1000; 300 with --quick)")
    p.add_argument("--lbfgs-epochs", type=int, default=None,
                   help="L-BFGS iterations per run after Adam (default 500; 150 with --quick)")
    p.add_argument("--max-phase-seconds", type=float, default=None,
                   help="also stop each training phase after this many training seconds")
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--lrs", type=float, nargs="+", default=None)
    p.add_argument("--seeds", type=int, nargs="+", default=None,
                   help="training seeds for N <= 2000 (default 0 1; 0 with --quick)")
    p.add_argument("--large-seeds", type=int, nargs="+", default=[0],
                   help="training seeds for N > 2000 (default 0)")
    p.add_argument("--ttf-rtol", type=float, default=1e-4)
    p.add_argument("--timeout", type=float, default=3600,
                   help="seconds allowed to one radonsolve fit (its child process)")
    p.add_argument("--out", default=None, help="markdown output path")
    p.add_argument("--child", nargs=3, metavar=("DATA", "N", "ALPHA"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]), float(args.child[2]))
        return

    import torch
    torch.set_num_threads(1)

    quick = args.quick
    settings = {
        "cases": tuple(args.cases or (QUICK_CASES if quick else [c[0] for c in CASES])),
        "adam_epochs": args.adam_epochs if args.adam_epochs is not None
        else (300 if quick else 1000),
        "lbfgs_epochs": args.lbfgs_epochs if args.lbfgs_epochs is not None
        else (150 if quick else 500),
        "max_phase_seconds": args.max_phase_seconds,
        "width": args.width,
        "lrs": tuple(args.lrs or (1e-3, 1e-2)),
        "seeds": tuple(args.seeds or ((0,) if quick else (0, 1))),
        "large_seeds": tuple(args.large_seeds),
        "ttf_rtol": args.ttf_rtol,
        "timeout": args.timeout,
        "command": "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
        if argv is None else "main(%r)" % (argv,),
    }
    out = args.out or os.path.join(RESULTS, "weight_decay_high_d_quick.md" if quick
                                   else "weight_decay_high_d.md")

    from radonsolve import alpha_max

    machine = machine_description()
    machine["commit"] = git_commit()
    t_start = time.perf_counter()
    warm_up_training()
    rows = []
    print(HEADER, flush=True)
    for case, data, n, ratios in CASES:
        if case not in settings["cases"]:
            continue
        X, y = load_case(data, n)
        amax = alpha_max(X, y, random_state=0)
        for ratio in ratios:
            if args.ratios is not None and ratio not in args.ratios:
                continue
            alpha = ratio * amax
            rs = run_radonsolve(data, n, alpha, args.timeout)
            runs = run_training(X, y, alpha, settings, n)
            row = {
                "case": case, "data": data, "N": int(X.shape[0]), "d": int(X.shape[1]),
                "alpha_ratio": ratio, "alpha": alpha, "alpha_max": amax, "rs": rs,
                "wd_best": min(runs, key=lambda w: w["objective"]), "wd_runs": runs,
            }
            row["target"], row["result"] = verdict(row)
            rows.append(row)
            print(fmt_row(row), flush=True)
    total = time.perf_counter() - t_start
    machine["load_average_end"] = load_average()

    md = markdown(rows, machine, settings, total)
    write_text(out, md)
    with open(os.path.splitext(out)[0] + ".json", "w") as fh:
        json.dump({"machine": machine, "settings": settings, "total_seconds": total,
                   "rows": rows}, fh, indent=1)
    print()
    print(md)
    print(f"written to {out} ({total / 60:.1f} min)")


if __name__ == "__main__":
    main()
