"""The search space: integer genomes <-> complete designs, with repair and constraints.

Genome layout (every gene an index into a value table, see :mod:`.genes`):

``[batch | accelerator label of each node group (hybrid only) | slot 0 params | slot 1 ...]``

Decoding relabels accelerators in order of first use (removing symmetric duplicates)
and moves each slot's parameters with its label.  ``sequential`` has one slot and no
label genes; ``spatial`` has one slot per node group and no label genes.

Cost models whose design is one device holding every node (``single_device``) have no
accelerator parameters: every family collapses to that one device, so ``hybrid``,
``sequential`` and ``spatial`` are the same space, whose genome is the batch index alone.

Everything model-specific comes from the cost model: the parameter names and value
tables, the shape repair, the budgets, the latency bound and the configurator.

:meth:`Space.evaluate` is the one evaluation path of every strategy: decode, repair
(:mod:`.repair`: shrink over-budget designs, re-evaluating until they fit or the rounds
run out), evaluate with the cost model, and return objectives ``F`` (minimised:
``[latency, -throughput]``, and energy per image when the options ask for it, see
:mod:`.objective_set`) and constraint values ``G`` (``<= 0`` feasible) with the
repaired genomes.

Example:
    >>> from ssropt.objectives.workloads.zoo import build_model
    >>> from ssropt.objectives.platforms import load_platform
    >>> from ssropt.objectives.models import CostModel
    >>> model = CostModel(build_model("deit-t", tokens=192, embed_and_head=False),
    ...                   load_platform("vck190"), "int8")
    >>> space = Space(model, SpaceOptions(family="sequential", batch_sizes=(1,)))
    >>> space.n_genes
    8
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssropt.objectives.design import DesignBatch, relabel_by_first_use
from ssropt.objectives.evaluation import Evaluation
from ssropt.objectives.models import SHARE_WEIGHTS, TUNED_RULE, CostModel
from ssropt.objectives.validation import check_jobs
from ssropt.spaces.configured import NO_CONFIGURATOR, configurator_for
from ssropt.spaces.genes import sample_genomes, value_index
from ssropt.spaces.objective_set import ObjectiveSet
from ssropt.spaces.options import GROUP_PRESETS, SpaceError, SpaceOptions
from ssropt.spaces.repair import repair_and_evaluate

#: the stored value names and directions of the default (two-objective) search
OBJECTIVE_NAMES = ObjectiveSet().names
DIRECTIONS = ObjectiveSet().directions


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
        #: the objectives searched: the columns of ``F`` and the stored trial values
        self.objectives = options.objective_set
        workload = model.workload
        self.param_names = model.param_names
        self.values = model.values()
        for name, allowed in options.values.items():
            if name not in self.values:
                raise SpaceError(f"unknown parameter {name!r} in space values: known are {', '.join(self.param_names)}")
            if not allowed or any(not isinstance(v, int) or v < 0 for v in allowed):
                raise SpaceError(f"space values of {name!r} must be non-negative integers")
            self.values[name] = np.array(sorted(set(allowed)), dtype=np.int64)
        self.tables = [self.values[name] for name in self.param_names]
        self.batch_values = np.array(options.batch_sizes, dtype=np.int64)
        check_jobs(workload.n_layers, int(self.batch_values.max()), SpaceError)
        self.group_of_node, self.group_names = self._groups(workload, options.groups)
        n_groups = len(self.group_names)
        if model.single_device or options.family == "sequential":
            self.n_slots, self.n_label_genes = 1, 0
        elif options.family == "spatial":
            self.n_slots, self.n_label_genes = n_groups, 0
            if options.max_accelerators is not None and options.max_accelerators < n_groups:
                raise SpaceError(
                    f"the spatial space of {workload.name} has exactly {n_groups} accelerators "
                    f"(one per node group), more than --max-accelerators "
                    f"{options.max_accelerators}: use the hybrid space to cap the count"
                )
        else:
            top = n_groups if options.max_accelerators is None else options.max_accelerators
            self.n_slots, self.n_label_genes = min(top, n_groups), n_groups
        if options.min_accelerators > self.n_slots:
            raise SpaceError(
                f"impossible accelerator range: at least {options.min_accelerators} accelerators "
                f"but the {options.family} space of {workload.name} has at most {self.n_slots}"
            )
        self.configurator = None
        self.n_params = len(self.param_names)
        #: the genes of every accelerator slot, and their value tables: the model's
        #: parameters, none when a configurator chooses them, a share weight (``tuned``)
        self.slot_gene_names, self.slot_tables = self.param_names, self.tables
        if options.configurator != NO_CONFIGURATOR:
            self.configurator = configurator_for(self)  # SsroptError for a model without one
            self.slot_gene_names, self.slot_tables = (), []
            if options.configurator == TUNED_RULE:
                self.slot_gene_names, self.slot_tables = ("weight",), [SHARE_WEIGHTS]
        self.n_param_genes = len(self.slot_gene_names)
        self.param_start = 1 + self.n_label_genes
        self.n_genes = self.param_start + self.n_slots * self.n_param_genes
        upper = [len(self.batch_values) - 1] + [self.n_slots - 1] * self.n_label_genes
        upper += [len(t) - 1 for t in self.slot_tables] * self.n_slots
        self.lower = np.zeros(self.n_genes, dtype=np.int64)
        self.upper = np.array(upper, dtype=np.int64)
        self.gene_names = (
            ["batch"]
            + [f"acc_of_{g}" for g in self.group_names[: self.n_label_genes]]
            + [f"acc{s}_{p}" for s in range(self.n_slots) for p in self.slot_gene_names]
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
        assignment, rank = relabel_by_first_use(self._labels(g))
        slots = self._slot_values(g, rank, assignment)
        if self.configurator is not None:
            weights = slots[:, :, 0] if self.n_param_genes else None
            return self.configurator.designs(assignment, batch, n_slots=self.n_slots, weights=weights)[0]
        if not self.n_params:
            return DesignBatch(self.model.cost_model, batch, assignment, np.zeros((n, self.n_slots, 0), dtype=np.int64))
        return DesignBatch(self.model.cost_model, batch, assignment, slots.astype(np.int64))

    def _labels(self, g: np.ndarray) -> np.ndarray:
        """``(n, n_nodes)`` the accelerator label of every node of genomes ``g``."""
        n = len(g)
        if self.model.single_device or self.options.family == "sequential":
            return np.zeros((n, len(self.group_of_node)), dtype=np.int64)
        if self.options.family == "spatial":
            return np.broadcast_to(self.group_of_node, (n, len(self.group_of_node))).copy()
        return g[:, 1 : 1 + self.n_label_genes][:, self.group_of_node]

    def _slot_values(self, g: np.ndarray, rank: np.ndarray, assignment: np.ndarray) -> np.ndarray:
        """``(n, n_slots, n_param_genes)`` the slot genes' values, each slot's moved with its
        label to the accelerator's canonical place (0 beyond the design's accelerators)."""
        n = len(g)
        raw = g[:, self.param_start :].reshape(n, self.n_slots, self.n_param_genes)
        if not self.n_param_genes:
            return np.zeros((n, self.n_slots, 0))
        values = np.stack([self.slot_tables[p][raw[:, :, p]] for p in range(self.n_param_genes)], axis=2)
        order = np.argsort(np.pad(rank, ((0, 0), (0, self.n_slots - rank.shape[1])), constant_values=self.n_slots), axis=1, kind="stable")
        values = np.take_along_axis(values, order[:, :, None], axis=1)
        used = np.arange(self.n_slots)[None, :] < (assignment.max(axis=1) + 1)[:, None]
        return np.where(used[:, :, None], values, 0)

    def canonical(self, genomes: np.ndarray) -> np.ndarray:
        """The genomes of the same designs with accelerators labelled in order of first use
        (slot genes moved with their labels, unused slots' genes 0): what a configured
        space's evaluation returns, since its genome holds no accelerator parameter."""
        g = np.clip(np.asarray(genomes, dtype=np.int64), self.lower, self.upper)
        out = np.zeros_like(g)
        out[:, 0] = g[:, 0]
        assignment, rank = relabel_by_first_use(self._labels(g))
        if self.n_label_genes:
            first_node = np.array([np.flatnonzero(self.group_of_node == k)[0] for k in range(self.n_label_genes)])
            out[:, 1 : 1 + self.n_label_genes] = np.minimum(assignment[:, first_node], self.n_slots - 1)
        if self.n_param_genes:
            raw = g[:, self.param_start :].reshape(len(g), self.n_slots, self.n_param_genes)
            order = np.argsort(np.pad(rank, ((0, 0), (0, self.n_slots - rank.shape[1])), constant_values=self.n_slots), axis=1, kind="stable")
            raw = np.take_along_axis(raw, order[:, :, None], axis=1)
            used = np.arange(self.n_slots)[None, :] < (assignment.max(axis=1) + 1)[:, None]
            out[:, self.param_start :] = np.where(used[:, :, None], raw, 0).reshape(len(g), -1)
        return out

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
        if self.configurator is not None:  # tuned: designs carry no weight, SSR's split is 1
            used = np.arange(self.n_slots)[None, :] < (assignment.max(axis=1) + 1)[:, None]
            g[:, self.param_start :] = np.where(used, int(np.flatnonzero(SHARE_WEIGHTS == 1.0)[0]), 0)
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
        designs, result = repair_and_evaluate(self, self.decode(genomes), detail)
        names, G = self.constraints(result)
        F = self.objectives.minimised(self.objectives.values(result))
        evaluated = self.canonical(genomes) if self.configurator is not None else self.encode(designs)
        return SpaceEvaluation(evaluated, designs, result, F, G, names)

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
        if self.options.power_cap_w is not None:
            extra_names.append("power_cap_w")
            extra.append(result.power_w - self.options.power_cap_w)
        if extra:
            G = np.concatenate([G, np.stack(extra, axis=1).astype(float)], axis=1)
        return names + extra_names, G

    def latency_lower_bound(self) -> float:
        """Seconds no design of this space can beat (the cost model's bound, 0 if none)."""
        return self.model.latency_lower_bound()

    def check_feasible(self) -> None:
        """Raise SpaceError when the options leave no feasible design at all.

        Two certain signs: the smallest arrays (every parameter at its least value)
        already exceed one of the model's hard budgets (an AIE, PLIO, column or compute
        block budget), the latency ceiling is below :meth:`latency_lower_bound`, or the
        power cap is below the platform's static power (the ``static`` power term: every
        design pays it).
        """
        smallest = self.evaluate(np.zeros((1, self.n_genes), dtype=np.int64)).evaluation
        for name in self.model.hard_budgets:
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
        cap = self.options.power_cap_w
        static = smallest.power_terms.get("static")
        if cap is not None and static is not None and cap < float(static[0]):
            raise SpaceError(
                f"impossible power cap {cap:g} W: every design on {self.model.platform.name} "
                f"draws at least its static power, {float(static[0]):.3g} W"
            )


def group_preset(name: str) -> tuple[tuple[str, ...], ...]:
    try:
        return GROUP_PRESETS[name]
    except KeyError:
        raise SpaceError(f"unknown node grouping {name!r}: known are {', '.join(GROUP_PRESETS)}") from None
