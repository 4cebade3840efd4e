"""What ssropt writes and prints: a study's front, plots, reports, one design, schedules.

* :mod:`.rows` -- what a stored trial says, as one row (either record layout);
* :mod:`.front` -- a stored study's Pareto front (or every trial) as rows, a table, CSV, JSON;
* :mod:`.axes`, :mod:`.plots` -- readable log axes; latency-throughput front plots (PNG);
* :mod:`.gantt` -- the lock-step schedule of one design: its data and its PNG chart;
* :mod:`.html_figures`, :mod:`.html_page`, :mod:`.report` -- the interactive HTML reports
  (plotly): figures, the self-contained page, a study's report;
* :mod:`.dashboard` -- optuna-dashboard with feasible-only best trials;
* :mod:`.design` -- one evaluated design as the ``ssropt evaluate`` record and text.
"""
