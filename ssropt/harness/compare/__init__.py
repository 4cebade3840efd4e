"""``ssropt compare``: the three space families of one workload, searched and compared.

* :mod:`.run` -- one study per family (and configurator), their fronts;
* :mod:`.analysis` -- throughput at latency ceilings, latency at throughput floors,
  hypervolumes against one reference;
* :mod:`.report` -- fronts.png, fronts.csv, fronts.json and summary.md.
"""
