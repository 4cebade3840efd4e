"""The analytical models (``ssropt.objectives``): pure functions over numpy arrays of designs.

* :mod:`.workloads` -- the matmul graph a design runs (zoo, Hugging Face configs, specs);
* :mod:`.platforms` -- the chips, one TOML file each;
* :mod:`.models` -- the cost models (``CostModel`` and one sub-package per model);
* :mod:`.design` -- designs as arrays (``DesignBatch``); :mod:`.design_file` -- one design
  as a JSON/TOML file; :mod:`.evaluation` -- what a cost model returns; :mod:`.energy` --
  the Versal power model.

Nothing here knows of search spaces, strategies or storage.
"""
