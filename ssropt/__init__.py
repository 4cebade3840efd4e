"""ssropt: design-space exploration for spatial-sequential hybrid transformer accelerators.

``ssropt.evaluate(design)`` evaluates one design object (the design-file format) and
returns the same dict as ``ssropt evaluate --json``.
"""

from ssropt.report import evaluate

__version__ = "0.1.0"
__all__ = ["__version__", "evaluate"]
