"""The harnesses: many studies run side by side and one report of how they compare.

* :mod:`.report` -- what every report shares (output directory, study names, tables, the
  command line it quotes);
* :mod:`.compare` -- hybrid vs sequential-only vs spatial-only on one workload
  (``ssropt compare``);
* :mod:`.platforms` -- the best hybrid front of one workload on several platforms
  (``ssropt compare-platforms``);
* :mod:`.bench` -- every strategy x seed on one space, hypervolume curves (``ssropt bench``).
"""
