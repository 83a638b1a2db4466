"""Benchmark: peak extra memory of ``ReLUNetwork.predict`` on a million rows.

``predict`` evaluates the network in row blocks (``radonsolve._blocks.row_blocks``), so its
memory beyond the output must not grow with the number of rows N. Measured for a random
canonical network with ``--neurons`` neurons (default 120) on N = ``--rows`` (default 10^6)
standard normal rows, d = 2 and d = 10, single output:

* ``predict``: ``net.predict(X)``, the blocked evaluation.
* ``dense``: ``net.hidden(X) @ net.outer + X @ net.skip_coef + net.skip_intercept``, the
  one-shot formula (what ``predict`` computed before it was blocked), for comparison: it
  builds the N x K activations.

Two measures, each in its own fresh subprocess (so that neither disturbs the other and peak
RSS is the run's own):

* tracemalloc peak: the largest total of Python and NumPy allocations alive at once during the
  call (NumPy reports its buffers to tracemalloc); minus the output array gives the extra.
* RSS: peak resident set (``ru_maxrss``) after the call minus the resident set just before it
  (X is generated in place, so nothing before the call peaks higher). It includes what the
  allocator and BLAS keep, and is coarser.

Usage::

    python benchmarks/bench_predict_memory.py            # ~1 min
    python benchmarks/bench_predict_memory.py --rows 200000 --dims 2

Writes benchmarks/results/predict_memory.md (``--out`` to change). Wall times are shown for
information only; the machine is shared, so they are noisy (the load average is reported).
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time

from _common import fmt, load_average, peak_mib, run_json_child, write_text

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
MIB = 2.0 ** 20
MODES = ("predict", "dense")


def _rss_mib():
    """Current resident set of this process, MiB (Linux /proc)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(args):
    import numpy as np

    from radonsolve import ReLUNetwork

    rng = np.random.default_rng(0)
    K, d, N = args.neurons, args.d, args.rows
    net = ReLUNetwork(rng.standard_normal((K, d)), rng.standard_normal(K),
                      rng.standard_normal(K), rng.standard_normal(d), 0.5)
    X = np.empty((N, d))
    rng.standard_normal(out=X)

    def call(A):
        if args.mode == "predict":
            return net.predict(A)
        return net.hidden(A) @ net.outer + A @ net.skip_coef + net.skip_intercept

    call(X[:1000])  # first-call costs (BLAS buffers, lazy imports) are not the method's
    if args.measure == "tracemalloc":
        import tracemalloc

        tracemalloc.start()
        t0 = time.perf_counter()
        out = call(X)
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        extra = peak / MIB - out.nbytes / MIB
        rec = dict(peak_mib=peak / MIB, extra_mib=extra)
    else:
        before = _rss_mib()
        peak_before = peak_mib()
        t0 = time.perf_counter()
        out = call(X)
        elapsed = time.perf_counter() - t0
        after = peak_mib()
        rec = dict(rss_before_mib=before, peak_before_mib=peak_before, peak_after_mib=after,
                   extra_mib=after - before - out.nbytes / MIB)
    rec.update(time=elapsed, output_mib=out.nbytes / MIB, x_mib=X.nbytes / MIB,
               n_neurons=net.n_neurons, nk_mib=N * net.n_neurons * 8 / MIB)
    print(json.dumps(rec), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10 ** 6)
    ap.add_argument("--neurons", type=int, default=120)
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 10])
    ap.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    ap.add_argument("--budget", type=float, default=300.0, help="seconds per run (hard kill)")
    ap.add_argument("--out", default=os.path.join(RESULTS, "predict_memory.md"))
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--d", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return

    cmdline = "python benchmarks/" + " ".join([os.path.basename(__file__)] + sys.argv[1:])
    rows = []
    for d in args.dims:
        for mode in args.modes:
            r = dict(d=d, mode=mode)
            for measure in ("tracemalloc", "rss"):
                cmd = [sys.executable, os.path.abspath(__file__), "--child", "--mode", mode,
                       "--measure", measure, "--d", str(d), "--rows", str(args.rows),
                       "--neurons", str(args.neurons)]
                recs, err, timed_out = run_json_child(cmd, args.budget)
                if not recs:
                    r[measure] = dict(note="timeout" if timed_out else err.strip()[-200:])
                    continue
                r[measure] = recs[-1]
            rows.append(r)
            tm, rs = r["tracemalloc"], r["rss"]
            print(f"d={d:>3} {mode:>8}: tracemalloc extra {fmt(tm.get('extra_mib'), '.1f')} "
                  f"MiB, RSS extra {fmt(rs.get('extra_mib'), '.1f')} MiB, "
                  f"time {fmt(rs.get('time'), '.3f')} s", file=sys.stderr, flush=True)

    lines = [
        "# Peak extra memory of `ReLUNetwork.predict`", "",
        f"- date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; "
        f"{os.cpu_count()} CPUs (shared), load average at end {load_average()}; python "
        f"{platform.python_version()}",
        f"- command: `{cmdline}`",
        f"- N = {args.rows} rows (float64, standard normal), random canonical network with "
        f"{args.neurons} neurons, one output. 'extra' = peak during the call minus the output "
        "array (X excluded: it exists before the call). tracemalloc and RSS are measured in "
        "separate fresh processes. 'N x K' is the size of the activations matrix a one-shot "
        "evaluation builds. Times: one call, shared machine, noisy.", "",
        "| d | method | N x K (MiB) | output (MiB) | extra, tracemalloc peak (MiB) | "
        "extra, peak RSS (MiB) | time (s) |",
        "|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        tm, rs = r["tracemalloc"], r["rss"]
        note = tm.get("note") or rs.get("note") or ""
        lines.append(
            f"| {r['d']} | {r['mode']}{' (' + note + ')' if note else ''} | "
            f"{fmt(tm.get('nk_mib'), '.0f')} | {fmt(tm.get('output_mib'), '.1f')} | "
            f"{fmt(tm.get('extra_mib'), '.1f')} | {fmt(rs.get('extra_mib'), '.1f')} | "
            f"{fmt(rs.get('time'), '.3f')} |")
    md = "\n".join(lines) + "\n"
    print(md)
    write_text(args.out, md)


if __name__ == "__main__":
    main()
