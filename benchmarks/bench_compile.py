"""Benchmark: the first fit on a fresh machine (numba compiles every kernel on first use).

Runs the probe below in a child process twice: with an empty ``NUMBA_CACHE_DIR`` (cold: every
kernel the fits reach is compiled) and again with the cache the first run filled (warm: the
kernels are loaded from disk). The probe imports radonsolve, then fits
``RadonReLURegressor(alpha=1e-2, random_state=0, max_rounds=3)`` on N = 200 samples in 1-D,
2-D and 5-D, one after the other (the issue's "import plus a first 1-D, 2-D and 5-D fit").
For each phase it gives the wall time and the CPU time of the process (all threads): on a
shared machine the wall time grows with the load, the CPU time much less.

Compile time per kernel comes from numba's ``numba:compile`` events, with the time of nested
compiles (callees, numba's own helpers such as its sort implementations) subtracted, so
the column sums to the time spent compiling. A kernel compiled for several signatures
gets one row per signature; ``Literal[int]`` in a signature is a specialization on a
constant argument (a compile that a plain int64 argument would have shared).

Then ``radonsolve demo`` (the command line, a fresh process) runs cold, with its own empty
cache, and warm.

``--fresh-install`` also measures what a new user gets from ``pip install .``: the repository
is built into a wheel (setup.py compiles the kernels into it, see radonsolve/_precompile.py),
installed into a new virtual environment (dependencies from this one), and the probe runs
there with numba's default cache location. The build time is reported too: it is where the
compiling moved.

Usage::

    python benchmarks/bench_compile.py              # -> benchmarks/results/compile.md
    python benchmarks/bench_compile.py --no-demo    # the probe only
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import git_commit, load_average, write_text  # noqa: E402

PHASES = ["import", "fit_1d", "fit_2d", "fit_5d"]


# ---------------------------------------------------------------------- child: the probe
def _install_compile_listener():
    """Record (dispatcher name, signature, exclusive seconds) of every numba compile."""
    from numba.core import event

    stack, rows = [], []

    class Exclusive(event.Listener):
        def on_start(self, ev):
            stack.append([time.perf_counter(), 0.0])

        def on_end(self, ev):
            t0, nested = stack.pop()
            total = time.perf_counter() - t0
            if stack:
                stack[-1][1] += total
            disp = ev.data["dispatcher"]
            fn = getattr(disp, "py_func", None)
            name = f"{fn.__module__}.{fn.__qualname__}" if fn is not None else str(disp)
            rows.append(dict(kernel=name, sig=str(ev.data.get("args")), excl=total - nested,
                             incl=total, top=not stack, phase=_phase[0]))

    event.register("numba:compile", Exclusive())
    return rows


_phase = ["import"]


def child():
    import warnings

    warnings.simplefilter("ignore")
    rows = _install_compile_listener()
    res = {}
    w0, c0 = time.perf_counter(), time.process_time()
    import numpy as np
    from radonsolve import RadonReLURegressor
    res["import"] = (time.perf_counter() - w0, time.process_time() - c0)
    rng = np.random.default_rng(0)
    for d in (1, 2, 5):
        _phase[0] = f"fit_{d}d"
        X = rng.standard_normal((200, d))
        y = np.maximum(X @ rng.standard_normal(d), 0) + 0.1 * rng.standard_normal(200)
        w, c = time.perf_counter(), time.process_time()
        RadonReLURegressor(alpha=1e-2, random_state=0, max_rounds=3).fit(X, y)
        res[f"fit_{d}d"] = (time.perf_counter() - w, time.process_time() - c)
    res["total"] = (time.perf_counter() - w0, time.process_time() - c0)
    print(json.dumps(dict(times=res, compiles=rows)))


# ---------------------------------------------------------------------- driver
def run_probe(cache_dir, python=sys.executable, cwd=None):
    env = dict(os.environ)
    if cache_dir is None:
        # the installed copy, with numba's default cache location
        env.pop("NUMBA_CACHE_DIR", None)
        env.pop("PYTHONPATH", None)
    else:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run([python, os.path.abspath(__file__), "--child"], env=env, cwd=cwd,
                         capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"probe failed ({python}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_install(tmp):
    """Build a wheel of the repository, install it into a new venv; (python, build seconds).

    The venv sees this environment's packages (a .pth file lists its site directories,
    which also works where this environment is itself a venv) and the wheel is built without
    build isolation, so that no index is needed.
    """
    repo = os.path.dirname(HERE)
    # A clean copy: no build/ or __pycache__ left over from the working tree.
    src = os.path.join(tmp, "src")
    shutil.copytree(os.path.join(repo, "radonsolve"), os.path.join(src, "radonsolve"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE"):
        shutil.copy(os.path.join(repo, name), src)
    env = dict(os.environ)
    env.pop("NUMBA_CACHE_DIR", None)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", os.path.join(tmp, "wheel"), src], env=env, check=True,
                   capture_output=True)
    build = time.perf_counter() - t0
    venv = os.path.join(tmp, "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = os.path.join(venv, "bin", "python")
    site_dir = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True).stdout.strip()
    import site

    parents = site.getsitepackages() + [site.getusersitepackages()]
    with open(os.path.join(site_dir, "_parent_env.pth"), "w") as fh:
        fh.write("\n".join(p for p in parents if os.path.isdir(p)) + "\n")
    wheel = [f for f in os.listdir(os.path.join(tmp, "wheel")) if f.endswith(".whl")][0]
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "-q",
                    os.path.join(tmp, "wheel", wheel)], env=env, check=True, capture_output=True)
    return python, build


def run_demo(cache_dir, python=sys.executable):
    env = dict(os.environ, MPLBACKEND="Agg")
    if cache_dir is None:
        env.pop("NUMBA_CACHE_DIR", None)
        env.pop("PYTHONPATH", None)
    else:
        env["NUMBA_CACHE_DIR"] = cache_dir
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        r0 = os.times()
        subprocess.run([python, "-m", "radonsolve", "demo", "--plot",
                        os.path.join(tmp, "demo.png")], env=env, cwd=tmp,
                       capture_output=True, text=True, check=True)
        r1 = os.times()
    cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    return time.perf_counter() - t0, cpu


def _n_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def _numba_version():
    import numba

    return numba.__version__


def report(cold, warm, demo, top, installed=None):
    lines = [
        "# First fit on a fresh machine: numba compile time",
        "",
        f"`python benchmarks/bench_compile.py`; load average {load_average()} (at the end); "
        f"{_n_cpus()} CPUs available to the process; numba {_numba_version()}; "
        f"radonsolve commit {git_commit()}.",
        "",
        "Probe: import radonsolve, then `RadonReLURegressor(alpha=1e-2, random_state=0, "
        "max_rounds=3).fit` on N = 200 samples in 1-D, 2-D and 5-D, in one fresh process. "
        "Cold: empty `NUMBA_CACHE_DIR`; warm: the cache the cold run filled. "
        "Wall / CPU seconds (CPU: all threads of the process).",
        "",
        "| phase | cold wall | cold CPU | compiling (cold) | warm wall | warm CPU |"
        + (" fresh install wall | fresh install CPU |" if installed else ""),
        "|---|---|---|---|---|---|" + ("---|---|" if installed else ""),
    ]
    comp = {}
    for r in cold["compiles"]:
        comp[r["phase"]] = comp.get(r["phase"], 0.0) + r["excl"]
    for p in PHASES + ["total"]:
        cw, cc = cold["times"][p]
        ww, wc = warm["times"][p]
        c = sum(comp.values()) if p == "total" else comp.get(p, 0.0)
        row = f"| {p} | {cw:.2f} | {cc:.2f} | {c:.2f} | {ww:.2f} | {wc:.2f} |"
        if installed:
            iw, ic = installed[0]["times"][p]
            row += f" {iw:.2f} | {ic:.2f} |"
        lines.append(row)
    lines += ["", f"Kernels compiled: {len(cold['compiles'])} cold, {len(warm['compiles'])} warm "
              "(warm should be 0; more means a source file changed between the two runs)."]
    if installed:
        lines += ["", "Fresh install: `pip wheel --no-build-isolation .` took "
                  f"{installed[1]:.1f} s (setup.py compiling the kernels into the wheel), "
                  "then the probe, in a new venv with the wheel installed and numba's default "
                  f"cache location, compiled {len(installed[0]['compiles'])} kernels."]
        if installed[2] is not None:
            lines[-1] += (f" `radonsolve demo` there (first run): {installed[2][0]:.1f} s wall / "
                          f"{installed[2][1]:.1f} s CPU.")
    if demo is not None:
        (dcw, dcc), (dww, dwc) = demo
        lines += ["", "`radonsolve demo` (fresh process, cold then warm cache): "
                  f"cold {dcw:.1f} s wall / {dcc:.1f} s CPU, warm {dww:.1f} s wall / "
                  f"{dwc:.1f} s CPU."]
    agg = {}
    for r in cold["compiles"]:
        a = agg.setdefault(r["kernel"], dict(excl=0.0, n=0, phase=r["phase"]))
        a["excl"] += r["excl"]
        a["n"] += 1
    rows = sorted(agg.items(), key=lambda kv: -kv[1]["excl"])
    lines += ["", f"Compile time per kernel (cold, exclusive of nested compiles; top {top} of "
              f"{len(rows)}, {len(cold['compiles'])} compiles in all):", "",
              "| kernel | signatures | seconds | first compiled in |", "|---|---|---|---|"]
    for name, a in rows[:top]:
        lines.append(f"| `{name}` | {a['n']} | {a['excl']:.2f} | {a['phase']} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "results", "compile.md"))
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--no-demo", action="store_true")
    ap.add_argument("--fresh-install", action="store_true",
                    help="also time the probe after pip install of a wheel of the repository")
    ap.add_argument("--json", help="also write the raw cold and warm records here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child()
        return
    with tempfile.TemporaryDirectory() as cache:
        cold = run_probe(cache)
        warm = run_probe(cache)
    installed = None
    if args.fresh_install:
        with tempfile.TemporaryDirectory() as tmp:
            python, build = fresh_install(tmp)
            installed = (run_probe(None, python=python, cwd=tmp), build,
                         None if args.no_demo else run_demo(None, python))
    demo = None
    if not args.no_demo:
        with tempfile.TemporaryDirectory() as cache:
            demo = (run_demo(cache), run_demo(cache))
    if args.json:
        write_text(args.json, json.dumps(dict(cold=cold, warm=warm, demo=demo,
                                              installed=installed)))
    text = report(cold, warm, demo, args.top, installed)
    print(text)
    write_text(args.out, text)


if __name__ == "__main__":
    main()
