"""The ``fpga`` configurator against the ``fpga`` model itself.

* One accelerator gets the whole chip: every candidate of the value tables is priced by
  the model (its node times, compute blocks, BRAM and URAM) and SSR's rule applied by
  hand -- least ``BRAM + uram_weight * URAM`` among the feasible candidates within 8 % of
  the fastest, ties to the faster, then to SSR's loop order -- and the configurator must
  pick exactly that candidate.
* Many accelerators: what the configurator calls feasible the model finds within every
  budget, each accelerator's compute blocks are the model's, and accelerators stay
  within the shares they were given.
"""

from __future__ import annotations

import numpy as np
import pytest

from ssropt.objectives.design import DesignBatch
from ssropt.objectives.models import CostModel
from ssropt.objectives.models.lockstep.configurator.selection import TIME_BAND
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.graph import gemm_chain
from ssropt.objectives.workloads.zoo import build_model


def _model(workload, platform, dtype="int8"):
    return CostModel(workload, load_platform(platform), dtype, "fpga")


def _brute_force(model, batch):
    """SSR's choice for one accelerator holding every node, each candidate priced by the model."""
    values = model.values()
    heads = int(model.workload.shape_arrays()["repeat"].max())
    dups = [d for d in values["dup"].tolist() if heads % d == 0]
    grid = np.array([(a, b, c, d, s) for c in values["c"] for b in values["b"] for a in values["a"]
                     for d in dups for s in values["stream"]], dtype=np.int64)
    n = len(grid)
    designs = DesignBatch("fpga", np.full(n, batch), np.zeros((n, model.workload.n_nodes), dtype=np.int64),
                          grid[:, None, :])
    result = model.evaluate(designs, detail=True)
    copies = model.workload.shape_arrays()["copies"]
    time_ns = (result.node_time_s * copies).sum(axis=1) * 1e9
    acc = result.accelerators
    budget = model.resource_budgets()
    fits = (acc["dsp"][:, 0] <= budget["dsp"]) & (acc["bram"][:, 0] <= budget["bram"])
    fits &= acc["uram"][:, 0] <= budget["uram"]
    # the rules the configurator keeps out of its grid: dup only on attention-only accelerators
    fits &= (grid[:, 3] == 1) | ~(~model.workload.shape_arrays()["activation_rhs"]).any()
    if not fits.any():
        return None
    best = time_ns[fits].min()
    band = max(np.floor(TIME_BAND * best), best)
    score = acc["bram"][:, 0] + model.constants.uram_weight * acc["uram"][:, 0]
    inside = np.flatnonzero(fits & (time_ns <= band * (1 + 1e-12)))
    order = np.lexsort((inside, time_ns[inside], score[inside]))  # grid order is SSR's loop order
    return grid[inside[order[0]]]


CASES = [
    ("deit-t", "zcu102", "int8", 1),
    ("deit-t", "zcu102", "int8", 4),
    ("deit-t", "u250", "int8", 2),
    ("deit-t", "u250", "fp32", 1),
    ("deit-t", "stratix10nx", "int8", 1),
    ("bert-base", "u250", "int8", 1),
]


@pytest.mark.parametrize("name, platform, dtype, batch", CASES)
def test_one_accelerator_is_the_brute_force_choice(name, platform, dtype, batch):
    model = _model(build_model(name), platform, dtype)
    expected = _brute_force(model, batch)
    got = model.configurator().configure(np.zeros(model.workload.n_nodes, dtype=np.int64), batch)
    if expected is None:
        assert not got.feasible
    else:
        assert got.feasible
        assert got.params[0].tolist() == expected.tolist()


def test_a_tiny_chain_is_the_brute_force_choice():
    """Hand-sized layers, so the band and the ties are exercised by small numbers."""
    model = _model(gemm_chain([("first", 64, 96, 48, 1), ("second", 64, 48, 96, 1)]), "zcu102")
    expected = _brute_force(model, 1)
    got = model.configurator().configure(np.zeros(2, dtype=np.int64), 1)
    assert got.params[0].tolist() == expected.tolist()


@pytest.mark.parametrize("platform", ["zcu102", "u250", "stratix10nx"])
def test_configured_designs_fit_the_chip(platform):
    model = _model(build_model("deit-t"), platform)
    configurator = model.configurator()
    rng = np.random.default_rng(7)
    n, J = 300, model.workload.n_nodes
    k = rng.integers(2, 7, n)
    assignment = (rng.random((n, J)) * k[:, None]).astype(np.int64)
    batch = rng.integers(1, 9, n)
    designs, feasible = configurator.designs(assignment, batch)
    cfg = configurator.configure_arrays(assignment, batch)
    assert feasible.any() and (~feasible).any()
    result = model.evaluate(designs)
    assert result.feasible[feasible].all()
    acc = result.accelerators
    used = designs.params[:, :, 0] > 0
    # compute blocks are the model's; no accelerator takes more than its share
    rows = np.flatnonzero(feasible)
    assert (cfg.used[rows, :, 0] == np.where(used[rows], acc["dsp"][rows], 0)).all()
    assert (cfg.used[rows] <= cfg.shares[rows]).all()
    # and the design's totals are within the chip, by the configurator's own count
    budget = configurator.budget
    assert (cfg.used[rows].sum(axis=1) <= budget).all()
