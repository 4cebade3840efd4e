"""``python -m ssropt.cli ...``: the ``ssropt`` command line (as ``python -m ssropt``)."""

import sys

from ssropt.cli import main

sys.exit(main())
