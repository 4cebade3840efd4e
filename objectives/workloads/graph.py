"""Workloads: the matmul graph of one image (or sequence), repeated over encoder blocks.

A :class:`Workload` is an ordered list of :class:`MatmulNode` s split into three
sections: ``pre`` (e.g. ``patch_embed``), ``block`` (the encoder block, repeated
``blocks`` times) and ``post`` (e.g. ``head``), plus the :class:`Dependency` edges
between them, each carrying the operand role it feeds (LHS, RHS, RHS transposed).

Unrolled over blocks, node ``j`` of block ``b`` is *layer* ``n_pre + b * n_block + j``;
pre nodes come first and post nodes last.  Every model function works per node (one
copy) and multiplies by :meth:`Workload.copies` where the semantics need all blocks.

Example:
    >>> from ssropt.objectives.workloads.graph import gemm_chain
    >>> w = gemm_chain([("l0", 192, 192, 576, 1), ("l1", 192, 576, 192, 1)])
    >>> w.ops_per_image
    84934656
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.validation import LIMITS, check_workload_size


class WorkloadError(SsroptError):
    """A workload description is invalid (unknown model, bad shape, unknown node...)."""


class Role(enum.StrEnum):
    """Which operand of the consumer a dependency feeds."""

    LHS = "lhs"  # producer rows -> consumer M, producer cols -> consumer K
    RHS = "rhs"  # producer rows -> consumer K, producer cols -> consumer N
    RHS_T = "rhs_t"  # producer cols -> consumer K, producer rows -> consumer N


#: a role as a number, for dependency arrays: 0 LHS, 1 RHS, 2 RHS transposed
ROLE_CODE = {Role.LHS: 0, Role.RHS: 1, Role.RHS_T: 2}


class Section(enum.StrEnum):
    PRE = "pre"
    BLOCK = "block"
    POST = "post"


@dataclass(frozen=True)
class MatmulNode:
    """One matrix multiplication ``(m x k) @ (k x n)``, repeated ``repeat`` times (heads).

    ``activation_rhs`` marks activation x activation products (QK^T, A.V): their RHS is
    produced at run time, so it is buffered, never stored as weights or hardened.
    ``attention_input`` marks the Q, K, V projections, which may share one input buffer.
    """

    name: str
    m: int
    k: int
    n: int
    repeat: int = 1
    activation_rhs: bool = False
    attention_input: bool = False
    section: Section = Section.BLOCK

    def __post_init__(self) -> None:
        for attr in ("m", "k", "n", "repeat"):
            limit = LIMITS["repeat" if attr == "repeat" else "dimension"]
            limit.check(getattr(self, attr), f"node {self.name!r}: {attr}", WorkloadError)

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one copy, heads included."""
        return self.m * self.k * self.n * self.repeat


@dataclass(frozen=True)
class Dependency:
    """``src`` feeds operand ``role`` of ``dst``.

    ``next_block`` means the producer in block ``b`` feeds the consumer in block ``b+1``
    (FC2 -> next Q/K/V); otherwise both are in the same block (or in pre/post sections).
    """

    src: str
    dst: str
    role: Role = Role.LHS
    next_block: bool = False


@dataclass(frozen=True)
class NonlinearOp:
    """A non-matmul operator (softmax, LayerNorm, GELU, residual add) after node ``after``.

    It costs no time in the ``ssr`` model (fused on the PL) but is part of the workload.
    """

    name: str
    kind: str
    rows: int
    cols: int
    count: int
    after: str


@dataclass(frozen=True)
class Workload:
    """The matmul graph of one image.  See the module docstring."""

    name: str
    nodes: tuple[MatmulNode, ...]
    dependencies: tuple[Dependency, ...]
    blocks: int = 1
    nonlinear: tuple[NonlinearOp, ...] = ()
    options: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not self.nodes:
            raise WorkloadError(f"workload {self.name!r} has no matmul nodes")
        LIMITS["blocks"].check(self.blocks, f"workload {self.name!r}: blocks", WorkloadError)
        LIMITS["nodes"].check(len(self.nodes), f"workload {self.name!r}: the number of nodes", WorkloadError)
        names = [node.name for node in self.nodes]
        if len(set(names)) != len(names):
            raise WorkloadError(f"workload {self.name!r}: duplicate node names")
        order = {Section.PRE: 0, Section.BLOCK: 1, Section.POST: 2}
        if [order[n.section] for n in self.nodes] != sorted(order[n.section] for n in self.nodes):
            raise WorkloadError(f"workload {self.name!r}: nodes must be ordered pre, block, post")
        for dep in self.dependencies:
            for end in (dep.src, dep.dst):
                if end not in names:
                    raise WorkloadError(f"workload {self.name!r}: dependency names unknown node {end!r}")
        check_workload_size(self.name, self.n_layers, self.ops_per_image, WorkloadError)

    # -- structure -------------------------------------------------------------------
    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(node.name for node in self.nodes)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise WorkloadError(
                f"unknown node {name!r}: nodes of {self.name} are {', '.join(self.names)}"
            ) from None

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    def copies(self, node: MatmulNode) -> int:
        """How many times ``node`` runs per image (``blocks`` for block nodes, else 1)."""
        return self.blocks if node.section == Section.BLOCK else 1

    @cached_property
    def copies_array(self) -> np.ndarray:
        return np.array([self.copies(n) for n in self.nodes], dtype=np.int64)

    @cached_property
    def n_pre(self) -> int:
        return sum(1 for n in self.nodes if n.section == Section.PRE)

    @cached_property
    def n_block(self) -> int:
        return sum(1 for n in self.nodes if n.section == Section.BLOCK)

    @cached_property
    def n_layers(self) -> int:
        """Layers of one image after unrolling the blocks."""
        return int(self.copies_array.sum())

    @cached_property
    def layer_offset(self) -> np.ndarray:
        """``layer = layer_offset[j] + b * layer_stride[j]`` for copy ``b`` of node ``j``."""
        offsets = []
        for j, node in enumerate(self.nodes):
            if node.section == Section.PRE:
                offsets.append(j)
            elif node.section == Section.BLOCK:
                offsets.append(j)  # n_pre + position in block == j
            else:
                offsets.append(j + (self.blocks - 1) * self.n_block)
        return np.array(offsets, dtype=np.int64)

    @cached_property
    def layer_stride(self) -> np.ndarray:
        return np.array(
            [self.n_block if n.section == Section.BLOCK else 0 for n in self.nodes], dtype=np.int64
        )

    def unrolled_edges(self) -> np.ndarray:
        """All dependencies between unrolled layers, ``(n_edges, 3)``: src, dst, role code.

        Role codes: 0 LHS, 1 RHS, 2 RHS transposed.
        """
        rows = []
        for dep in self.dependencies:
            s, d = self.index(dep.src), self.index(dep.dst)
            src_node, dst_node = self.nodes[s], self.nodes[d]
            src_blocks = range(self.copies(src_node))
            for b in src_blocks:
                if src_node.section == Section.BLOCK and dst_node.section == Section.BLOCK:
                    bd = b + 1 if dep.next_block else b
                    if bd >= self.blocks:
                        continue
                elif src_node.section == Section.BLOCK:  # block -> post: only the last block
                    if b != self.blocks - 1:
                        continue
                    bd = 0
                else:
                    bd = 0  # pre -> block 0 (or pre/post -> pre/post)
                src_layer = int(self.layer_offset[s] + b * self.layer_stride[s])
                dst_layer = int(self.layer_offset[d] + bd * self.layer_stride[d])
                rows.append((src_layer, dst_layer, ROLE_CODE[dep.role]))
        return np.array(sorted(rows), dtype=np.int64).reshape(-1, 3)

    # -- work ------------------------------------------------------------------------
    @cached_property
    def ops_per_image(self) -> int:
        """OPS = 2 * sum of M*K*N*repeat over every node and block."""
        return int(2 * sum(n.macs * self.copies(n) for n in self.nodes))

    def shape_arrays(self) -> dict[str, np.ndarray]:
        """Per-node arrays ``m, k, n, repeat, activation_rhs, attention_input, copies``."""
        return {
            "m": np.array([n.m for n in self.nodes], dtype=np.int64),
            "k": np.array([n.k for n in self.nodes], dtype=np.int64),
            "n": np.array([n.n for n in self.nodes], dtype=np.int64),
            "repeat": np.array([n.repeat for n in self.nodes], dtype=np.int64),
            "activation_rhs": np.array([n.activation_rhs for n in self.nodes], dtype=bool),
            "attention_input": np.array([n.attention_input for n in self.nodes], dtype=bool),
            "copies": self.copies_array,
        }

    def describe(self) -> dict:
        """The workload object of the design file that rebuilds this workload."""
        if self.options:
            return dict(self.options)
        return {
            "gemms": [
                {"name": n.name, "M": n.m, "K": n.k, "N": n.n, "count": n.repeat} for n in self.nodes
            ]
        }


def gemm_chain(gemms: list[tuple[str, int, int, int, int]], name: str = "gemms") -> Workload:
    """A chain of GEMMs ``(name, M, K, N, count)``: each output is the next one's LHS."""
    nodes = tuple(MatmulNode(g[0], g[1], g[2], g[3], g[4]) for g in gemms)
    deps = tuple(Dependency(a.name, b.name, Role.LHS) for a, b in zip(nodes, nodes[1:]))
    return Workload(name=name, nodes=nodes, dependencies=deps, blocks=1)
