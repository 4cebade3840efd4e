"""What ssropt writes and prints: a study's front, plots, one design's report, schedules.

* :mod:`.front` -- a stored study's Pareto front as rows, a table, CSV and JSON;
* :mod:`.plots` -- latency-throughput front plots;
* :mod:`.design` -- one evaluated design as the ``ssropt evaluate`` record and text;
* :mod:`.gantt` -- the lock-step schedule chart of one design.
"""
