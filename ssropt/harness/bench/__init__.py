"""``ssropt bench``: every strategy x seed on one space with one budget.

* :mod:`.run` -- the plan and the runs, each an ordinary study with progress traces;
* :mod:`.metrics` -- the reference front, hypervolume fractions, targets, IGD+;
* :mod:`.report` -- results.csv, curves.csv, reference_front.csv, plots and summary.md.
"""
