"""``ssropt compare-platforms``: the best hybrid front of one workload on each platform.

* :mod:`.run` -- one study per platform, the best design per batch size, ratios;
* :mod:`.report` -- fronts.png (two panels), fronts.csv, fronts.json and summary.md.
"""
