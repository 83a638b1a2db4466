"""Build hook: compile the numba kernels into the built package (metadata: pyproject.toml).

After the sources are copied to the build directory, ``python -m radonsolve._precompile``
runs on that copy, so numba's cache (``radonsolve/**/__pycache__/*.nbi, *.nbc``) goes into
the wheel and ``pip install .`` gives a package whose first fit loads compiled kernels
instead of compiling them (about 30 s on a fresh machine otherwise). numba 0.68 keys its
cache on a hash of each source file, not its path or time stamp, so the installed copy
finds it; a cache built by another numba, Python or CPU is ignored and the kernels compile
at first use, as without this step. The step is skipped, with a note, where it cannot run
(``RADONSOLVE_NO_PRECOMPILE=1`` skips it on purpose).
"""

import os
import subprocess
import sys
import tempfile

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithKernels(build_py):
    def run(self):
        super().run()
        # An editable install runs from the sources, whose cache fills at first use.
        if (os.environ.get("RADONSOLVE_NO_PRECOMPILE") or self.dry_run
                or getattr(self, "editable_mode", False)):
            return
        build_lib = os.path.abspath(self.build_lib)
        # Only numba's cache goes into the wheel; pip byte-compiles the sources on install.
        env = dict(os.environ, PYTHONPATH=build_lib, MPLBACKEND="Agg",
                   PYTHONDONTWRITEBYTECODE="1")
        # The cache must go next to the built sources, not to a user-wide directory.
        env.pop("NUMBA_CACHE_DIR", None)
        with tempfile.TemporaryDirectory() as cwd:
            try:
                out = subprocess.run([sys.executable, "-m", "radonsolve._precompile"], env=env,
                                     cwd=cwd, capture_output=True, text=True, check=False)
            except OSError as exc:
                out = None
                reason = str(exc)
        if out is not None and out.returncode == 0:
            print("radonsolve: numba kernels compiled into the package\n" + out.stdout)
            return
        if out is not None:
            reason = (out.stderr.strip().splitlines() or ["exit status %d" % out.returncode])[-1]
        print("radonsolve: kernels not precompiled (%s); they compile at first use" % reason)


setup(cmdclass={"build_py": BuildPyWithKernels})
