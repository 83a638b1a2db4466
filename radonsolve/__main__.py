"""``python -m radonsolve``: the command line (see :mod:`radonsolve.cli`)."""

import sys

from .cli import main

sys.exit(main())
