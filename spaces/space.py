"""The search space: integer genomes <-> complete designs, with repair and constraints.

Genome layout (every gene an index into a value table, see :mod:`.genes`):

``[batch | accelerator label of each node group (hybrid only) | slot 0 params | slot 1 ...]``

Decoding relabels accelerators in order of first use (removing symmetric duplicates)
and moves each slot's parameters with its label.  ``sequential`` has one slot and no
label genes; ``spatial`` has one slot per node group and no label genes.

Cost models whose design is one device holding every node (``gpu-roofline``) have no
accelerator parameters: every family collapses to that one device, so ``hybrid``,
``sequential`` and ``spatial`` are the same space, whose genome is the batch index alone.

:meth:`Space.evaluate` is the one evaluation path of every strategy: decode, repair
(shrink over-budget designs, re-evaluating until they fit or the rounds run out),
evaluate with the cost model, and return objectives ``F = [latency, -throughput]``
(minimised) and constraint values ``G`` (``<= 0`` feasible) with the repaired genomes.

Example:
    >>> from ssropt.objectives.workloads.zoo import build_model
    >>> from ssropt.objectives.platforms import load_platform
    >>> from ssropt.objectives.model import CostModel
    >>> model = CostModel(build_model("deit-t", tokens=192, embed_and_head=False),
    ...                   load_platform("vck190"), "int8")
    >>> space = Space(model, SpaceOptions(family="sequential", batch_sizes=(1,)))
    >>> space.n_genes
    8
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssropt.objectives.design import PARAM_NAMES, DesignBatch, relabel_by_first_use
from ssropt.objectives.evaluation import Evaluation
from ssropt.objectives.model import CostModel
from ssropt.objectives.ssr_accelerator import broadcast_and_columns
from ssropt.spaces.genes import parameter_values, sample_genomes, value_index
from ssropt.spaces.options import GROUP_PRESETS, SpaceError, SpaceOptions

OBJECTIVE_NAMES = ("latency_s", "throughput_ops_per_s")
DIRECTIONS = ("minimize", "maximize")
#: constraints the repair loop shrinks designs for (Versal models; every model names its
#: own through ``CostModel.resource_budgets``)
BUDGET_CONSTRAINTS = ("aie", "plio_in", "plio_out", "bram", "uram")
#: budgets no design of a space can beat if its smallest design already exceeds them
HARD_BUDGETS = ("aie", "plio_in", "plio_out", "columns", "dsp")
REPAIR_ROUNDS = 6


@dataclass
class SpaceEvaluation:
    """One evaluated population: repaired genomes, designs, objectives, constraints."""

    genomes: np.ndarray
    designs: DesignBatch
    evaluation: Evaluation
    F: np.ndarray
    G: np.ndarray
    constraint_names: list[str]

    @property
    def feasible(self) -> np.ndarray:
        return (self.G <= 0).all(axis=1)


class Space:
    """A family of designs of one cost model over one workload and platform."""

    def __init__(self, model: CostModel, options: SpaceOptions) -> None:
        self.model = model
        self.options = options
        workload = model.workload
        self.param_names = PARAM_NAMES[model.cost_model]
        self.values = parameter_values(model.cost_model, workload, model.platform, model.dtype)
        for name, allowed in options.values.items():
            if name not in self.values:
                raise SpaceError(f"unknown parameter {name!r} in space values: known are {', '.join(self.param_names)}")
            if not allowed or any(not isinstance(v, int) or v < 0 for v in allowed):
                raise SpaceError(f"space values of {name!r} must be non-negative integers")
            self.values[name] = np.array(sorted(set(allowed)), dtype=np.int64)
        self.tables = [self.values[name] for name in self.param_names]
        self.batch_values = np.array(options.batch_sizes, dtype=np.int64)
        self.group_of_node, self.group_names = self._groups(workload, options.groups)
        n_groups = len(self.group_names)
        if model.single_device or options.family == "sequential":
            self.n_slots, self.n_label_genes = 1, 0
        elif options.family == "spatial":
            self.n_slots, self.n_label_genes = n_groups, 0
        else:
            top = n_groups if options.max_accelerators is None else options.max_accelerators
            self.n_slots, self.n_label_genes = min(top, n_groups), n_groups
        if options.min_accelerators > self.n_slots:
            raise SpaceError(
                f"impossible accelerator range: at least {options.min_accelerators} accelerators "
                f"but the {options.family} space of {workload.name} has at most {self.n_slots}"
            )
        self.configurator = None
        if options.configurator == "ssr":
            from ssropt.objectives.models.ssr.configurator import configurator_for

            self.configurator = configurator_for(self)  # SsroptError off the ssr model
        self.n_params = len(self.param_names)
        #: parameter genes per slot: none when a configurator chooses the parameters
        self.n_param_genes = 0 if self.configurator is not None else self.n_params
        self.param_start = 1 + self.n_label_genes
        self.n_genes = self.param_start + self.n_slots * self.n_param_genes
        upper = [len(self.batch_values) - 1] + [self.n_slots - 1] * self.n_label_genes
        upper += [len(t) - 1 for t in self.tables[: self.n_param_genes]] * self.n_slots
        self.lower = np.zeros(self.n_genes, dtype=np.int64)
        self.upper = np.array(upper, dtype=np.int64)
        self.gene_names = (
            ["batch"]
            + [f"acc_of_{g}" for g in self.group_names[: self.n_label_genes]]
            + [
                f"acc{s}_{p}"
                for s in range(self.n_slots)
                for p in self.param_names[: self.n_param_genes]
            ]
        )

    # -- structure -------------------------------------------------------------------------
    @staticmethod
    def _groups(workload, groups) -> tuple[np.ndarray, list[str]]:
        group_of = np.arange(workload.n_nodes)
        for group in groups:
            present = [g for g in group if g in workload.names]
            if not present:
                continue
            first = workload.index(present[0])
            for name in present[1:]:
                group_of[workload.index(name)] = group_of[first]
        _, first_index, inverse = np.unique(group_of, return_index=True, return_inverse=True)
        order = np.argsort(first_index)
        rank = np.argsort(order)
        group_of = rank[inverse]
        names = ["+".join(n for j, n in enumerate(workload.names) if group_of[j] == g) for g in range(len(order))]
        return group_of.astype(np.int64), names

    @property
    def label_genes(self) -> slice:
        return slice(1, 1 + self.n_label_genes)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` random genomes, uniform over the accelerator count (see sample_genomes)."""
        return sample_genomes(self.lower, self.upper, self.label_genes, self.options.min_accelerators, n, rng)

    def size(self) -> int:
        """Number of distinct genomes (an upper bound on distinct designs)."""
        return int(np.prod((self.upper - self.lower + 1).astype(object)))

    # -- decode / encode ---------------------------------------------------------------------
    def decode(self, genomes: np.ndarray) -> DesignBatch:
        """Designs of ``(n, n_genes)`` genomes (clipped to bounds), without repair."""
        g = np.clip(np.asarray(genomes, dtype=np.int64), self.lower, self.upper)
        n = g.shape[0]
        batch = self.batch_values[g[:, 0]]
        if self.model.single_device or self.options.family == "sequential":
            labels = np.zeros((n, len(self.group_of_node)), dtype=np.int64)
        elif self.options.family == "spatial":
            labels = np.broadcast_to(self.group_of_node, (n, len(self.group_of_node))).copy()
        else:
            labels = g[:, 1 : 1 + self.n_label_genes][:, self.group_of_node]
        assignment, rank = relabel_by_first_use(labels)
        if self.configurator is not None:
            return self.configurator.designs(assignment, batch, n_slots=self.n_slots)[0]
        raw = g[:, self.param_start :].reshape(n, self.n_slots, self.n_params)
        if not self.n_params:
            return DesignBatch(self.model.cost_model, batch, assignment, np.zeros((n, self.n_slots, 0), dtype=np.int64))
        values = np.stack([self.tables[p][raw[:, :, p]] for p in range(self.n_params)], axis=2)
        order = np.argsort(np.pad(rank, ((0, 0), (0, self.n_slots - rank.shape[1])), constant_values=self.n_slots), axis=1, kind="stable")
        params = np.take_along_axis(values, order[:, :, None], axis=1)
        used = np.arange(self.n_slots)[None, :] < (assignment.max(axis=1) + 1)[:, None]
        params = np.where(used[:, :, None], params, 0)
        return DesignBatch(self.model.cost_model, batch, assignment, params)

    def encode(self, designs: DesignBatch) -> np.ndarray:
        """Genomes of designs (parameters rounded down to allowed values)."""
        n = designs.n_designs
        assignment, rank = relabel_by_first_use(designs.assignment)
        g = np.zeros((n, self.n_genes), dtype=np.int64)
        g[:, 0] = value_index(self.batch_values, designs.batch)
        if self.n_label_genes:
            first_node = np.array([np.flatnonzero(self.group_of_node == k)[0] for k in range(self.n_label_genes)])
            g[:, 1 : 1 + self.n_label_genes] = np.minimum(assignment[:, first_node], self.n_slots - 1)
        if not self.n_param_genes:
            return g
        width = min(designs.max_accelerators, self.n_slots)
        pad = designs.max_accelerators - rank.shape[1]
        rank = np.pad(rank, ((0, 0), (0, max(pad, 0))), constant_values=designs.max_accelerators)
        order = np.argsort(rank, axis=1, kind="stable")[:, :width]
        params = np.take_along_axis(designs.params, order[:, :, None], axis=1)
        for p in range(self.n_params):
            idx = value_index(self.tables[p], params[:, :, p])
            g[:, self.param_start + p : self.param_start + width * self.n_params : self.n_params] = idx
        return g

    # -- evaluate ----------------------------------------------------------------------------
    def evaluate(self, genomes: np.ndarray, detail: bool = False) -> SpaceEvaluation:
        """Decode, repair, evaluate; the one evaluation path of every strategy."""
        designs = self.decode(genomes)
        if self.options.repair and self.model.cost_model in ("ssr", "fpga"):
            designs = self._repair_shapes(designs)
        result = self.model.evaluate(designs, detail=detail)
        if self.options.repair:
            for _ in range(REPAIR_ROUNDS):
                over = self._budget_ratio(result)
                bad = np.flatnonzero(over < 1.0)
                if bad.size == 0:
                    break
                fixed = self._offload_weights(designs.take(bad), result, bad)
                fixed = self._shrink(fixed, over[bad], keep=fixed.params != designs.params[bad])
                designs = designs.replaced(bad, fixed)
                result = result.replaced(bad, self.model.evaluate(fixed, detail=detail))
        names, G = self.constraints(result)
        F = np.stack([result.latency_s, -result.throughput_ops_per_s], axis=1)
        return SpaceEvaluation(self.encode(designs), designs, result, F, G, names)

    def constraints(self, result: Evaluation) -> tuple[list[str], np.ndarray]:
        """Constraint names and ``(n, m)`` values: the model's plus the space's own."""
        names, G = result.constraint_matrix()
        extra_names, extra = [], []
        if self.options.min_accelerators > 1:
            n_acc = result.n_accelerators_used
            extra_names.append("min_accelerators")
            extra.append(self.options.min_accelerators - n_acc)
        if self.options.latency_ceiling_s is not None:
            extra_names.append("latency_ceiling_s")
            extra.append(result.latency_s - self.options.latency_ceiling_s)
        if extra:
            G = np.concatenate([G, np.stack(extra, axis=1).astype(float)], axis=1)
        return names + extra_names, G

    def latency_lower_bound(self) -> float:
        """Seconds no design of this space can beat: the DDR input of one image plus one
        launch overhead per layer on the longest dependency chain (``ssr``), else 0."""
        if self.model.cost_model != "ssr":
            return 0.0
        workload, p = self.model.workload, self.model.platform
        depth = np.ones(workload.n_layers, dtype=np.int64)
        for src, dst, _ in workload.unrolled_edges():
            depth[dst] = max(depth[dst], depth[src] + 1)
        cycle_s = 1.0 / p.aie.clock_hz / (p.pl.clock_hz / p.pl.reference_clock_hz)
        launch = depth.max() * p.ssr.launch_cycles * cycle_s
        return p.ssr.input_bytes_per_image / p.ssr.input_bandwidth_bytes_per_s + launch

    def check_feasible(self) -> None:
        """Raise SpaceError when the options leave no feasible design at all.

        Two certain signs: the smallest arrays (every parameter at its least value)
        already exceed an AIE, PLIO or column budget, or the latency ceiling is below
        :meth:`latency_lower_bound`.
        """
        smallest = self.evaluate(np.zeros((1, self.n_genes), dtype=np.int64)).evaluation
        for name in HARD_BUDGETS:
            excess = float(smallest.violations[name][0]) if name in smallest.violations else 0.0
            if excess > 0:
                raise SpaceError(
                    f"impossible budget: the smallest {self.options.family} design already exceeds "
                    f"the {name} budget of {self.model.platform.name} by {excess:g}"
                )
        ceiling = self.options.latency_ceiling_s
        if ceiling is not None and ceiling < self.latency_lower_bound():
            raise SpaceError(
                f"impossible latency ceiling {ceiling:g} s: no design of {self.model.workload.name} "
                f"can be faster than {self.latency_lower_bound():.3g} s"
            )

    # -- repair ------------------------------------------------------------------------------
    def _budget_ratio(self, result: Evaluation, names: tuple[str, ...] | None = None) -> np.ndarray:
        """``(n,)`` smallest budget / used over the budget constraints (or over ``names``;
        >= 1: fits)."""
        totals = result.resources()
        ratio = np.ones(result.n_designs)
        for name, budget in self.model.resource_budgets().items():
            if names is not None and name not in names:
                continue
            used = totals[name].astype(float)
            ratio = np.minimum(ratio, np.where(used > 0, budget / np.maximum(used, 1), 1.0))
        return ratio

    def _repair_shapes(self, designs: DesignBatch) -> DesignBatch:
        """Per-accelerator shape rules, in closed form.

        Both templates: ``dup > 1`` only on attention-only accelerators.  ``ssr`` also: not
        both ``a, c > 8``; ``a*c <= 48``; the cascade ``b`` shortened until the array fits
        the columns.  (The ``fpga`` template's other shape rules -- ``a, c`` multiples of 2
        or 3 up to 32, ``b`` a power of two in range -- hold for every decoded genome,
        since they are the value tables.)
        """
        params = designs.params.copy()
        a, b, c, dup = (params[:, :, i] for i in range(4))
        on = designs.assignment[:, None, :] == np.arange(designs.max_accelerators)[None, :, None]
        act = self.model.workload.shape_arrays()["activation_rhs"]
        attention_only = on.any(axis=2) & ~(on & ~act).any(axis=2)
        dup[:] = np.where(attention_only, dup, np.minimum(dup, 1))
        if self.model.cost_model != "ssr":
            return DesignBatch(designs.cost_model, designs.batch, designs.assignment, params)
        s = self.model.platform.ssr
        both = (a > s.ac_both_max) & (c > s.ac_both_max)
        a_le_c = a <= c
        a[:] = np.where(both & a_le_c, s.ac_both_max, a)
        c[:] = np.where(both & ~a_le_c, s.ac_both_max, c)
        too_big = a * c > s.ac_max
        a_ge_c = a >= c
        a[:] = np.where(too_big & a_ge_c, np.maximum(1, s.ac_max // np.maximum(c, 1)), a)
        c[:] = np.where(too_big & ~a_ge_c, np.maximum(1, s.ac_max // np.maximum(a, 1)), c)
        used = a > 0
        _, _, cols = broadcast_and_columns(np.maximum(a, 1), np.ones_like(b), np.maximum(c, 1))
        b_cap = np.maximum(1, self.model.platform.budget.columns // np.maximum(cols, 1))
        b_values = self.values["b"]
        b[:] = np.where(used, b_values[value_index(b_values, np.minimum(b, b_cap))], 0)
        return DesignBatch(designs.cost_model, designs.batch, designs.assignment, params)

    def _offload_weights(self, designs: DesignBatch, result: Evaluation, index: np.ndarray) -> DesignBatch:
        """Designs ``index`` of ``result`` over their RAM budget: where the space lets
        accelerators stream their weights (``stream``), the accelerator holding the most
        weight bytes on chip streams them instead."""
        if "stream" not in self.values or self.values["stream"].max() < 1:
            return designs
        held = result.accelerators["weight_bytes"][index]
        ram_over = self._budget_ratio(result, ("bram", "uram"))[index] < 1.0
        target = np.argmax(held, axis=1)
        flip = ram_over & (held.max(axis=1) > 0)
        params = designs.params.copy()
        column = self.param_names.index("stream")
        rows = np.flatnonzero(flip)
        params[rows, target[rows], column] = 1
        return DesignBatch(designs.cost_model, designs.batch, designs.assignment, params)

    def _shrink(self, designs: DesignBatch, ratio: np.ndarray, keep: np.ndarray | None = None) -> DesignBatch:
        """Scale every accelerator of over-budget designs by ``ratio`` (cascade first);
        every shrunk parameter is snapped to its value table.  Designs with any ``keep``
        entry set were repaired otherwise this round and are left as they are."""
        if not self.n_params:
            return designs
        if keep is not None and keep.any():
            rest = ~keep.reshape(len(ratio), -1).any(axis=1)
            if not rest.any():
                return designs
            return designs.replaced(rest, self._shrink(designs.take(rest), ratio[rest]))
        params = designs.params.copy()
        f = np.clip(ratio, 0.05, 0.97)[:, None]
        names = self.param_names
        used = params[:, :, 0] > 0
        if "b" in names:
            bi = names.index("b")
            b = params[:, :, bi]
            new_b = self.values["b"][value_index(self.values["b"], np.maximum(1, np.floor(b * f)))]
            rest = f * b / np.maximum(new_b, 1)  # the part the cascade could not absorb
            params[:, :, bi] = np.where(used, new_b, 0)
        else:
            rest = f
        scale = np.sqrt(np.clip(rest, 0.0, 1.0))
        for name in ("a", "c"):
            i = names.index(name)
            shrunk = np.maximum(1, np.floor(params[:, :, i] * scale)).astype(np.int64)
            shrunk = self.values[name][value_index(self.values[name], shrunk)]
            params[:, :, i] = np.where(used & (rest < 0.999), shrunk, params[:, :, i])
        return DesignBatch(designs.cost_model, designs.batch, designs.assignment, params)


def group_preset(name: str) -> tuple[tuple[str, ...], ...]:
    try:
        return GROUP_PRESETS[name]
    except KeyError:
        raise SpaceError(f"unknown node grouping {name!r}: known are {', '.join(GROUP_PRESETS)}") from None
