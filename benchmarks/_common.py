"""Pieces every benchmark script uses: machine facts, peak memory, child runs, table cells.

The scripts run as ``python benchmarks/bench_*.py``, so this directory is on ``sys.path``
and ``from _common import ...`` finds this module (in their child processes too).
"""

import json
import math
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def peak_mib():
    """Peak resident memory of this process so far, MiB (Linux reports ru_maxrss in KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss():
    """Restart the peak resident memory count of this process from its current size.

    Linux only (``/proc/self/clear_refs``, since 4.0): afterwards :func:`peak_mib` reports the
    peak since this call, e.g. of one fit after the imports and a warm-up. Returns False
    where that is not possible (the peak then still covers the whole process).
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def current_mib():
    """Resident memory of this process now, MiB (None where /proc is unavailable)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def load_average():
    """The 1, 5 and 15 minute load averages as a string ('n/a' where unavailable)."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def git_commit():
    """Short hash of HEAD, marked when tracked files have uncommitted changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                                capture_output=True, text=True, check=False).stdout.strip()
        if not commit:
            return "n/a"
        if subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=HERE,
                          capture_output=True, text=True, check=False).stdout.strip():
            commit += " (with uncommitted changes)"
        return commit
    except OSError:
        return "n/a"


def run_json_child(cmd, timeout):
    """Run a child benchmark process and collect the JSON objects it printed, one per line.

    Returns ``(records, stderr, timed_out)``; a child killed at ``timeout`` seconds still
    gives the records it printed before (its progress reports).
    """
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout)
        stdout, err, timed_out = out.stdout, out.stderr, False
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err, timed_out = "", True
    records = [json.loads(ln) for ln in stdout.splitlines() if ln.startswith("{")]
    return records, err, timed_out


def write_text(path, text):
    """Write a report, creating its directory (a bare file name means the current one)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


def fmt(v, spec):
    """A table cell: '-' for a missing or NaN value."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return format(v, spec)
