"""``python -m ssropt ...``: the ``ssropt`` command line."""

import sys

from ssropt.cli import main

sys.exit(main())
