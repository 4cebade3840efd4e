"""Options of a search space: family, batch sizes, accelerator counts, constraints, groups.

Example:
    >>> parse_batch_sizes("1-4")
    (1, 2, 3, 4)
    >>> SpaceOptions(family="hybrid", batch_sizes=(1, 6)).to_dict()["family"]
    'hybrid'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ssropt.errors import SsroptError
from ssropt.objectives.validation import LIMITS, show
from ssropt.spaces.configured import configurator_choices
from ssropt.spaces.objective_set import DEFAULT_KEYS, ObjectiveSet

FAMILIES = ("hybrid", "sequential", "spatial")

#: named node-grouping rules: nodes in one group always share an accelerator
GROUP_PRESETS: dict[str, tuple[tuple[str, ...], ...]] = {
    "none": (),
    "qkv": (("q", "k", "v"),),
    "attention": (("q", "k", "v"), ("attn_qk", "attn_av")),
}


class SpaceError(SsroptError):
    """A search-space option is invalid."""


def parse_batch_sizes(text: str | int | list) -> tuple[int, ...]:
    """``"1-8"``, ``"1,3,6"``, ``6`` or a list -> sorted tuple of positive batch sizes (at
    most the ``batch`` limit, 1024)."""
    if isinstance(text, bool):
        raise SpaceError(f"invalid batch sizes {text!r}")
    limit = LIMITS["batch"].high
    if isinstance(text, int):
        values = [text]
    elif isinstance(text, (list, tuple)):
        values = list(text)
    else:
        values = []
        for part in str(text).split(","):
            part = part.strip()
            try:
                bounds = [int(x) for x in part.split("-", 1)] if len(part) <= 40 else []
            except ValueError:
                bounds = []
            if not bounds:
                raise SpaceError(
                    f"invalid batch sizes {show(str(text))}: use a range like 1-8 or a list like 1,3,6"
                )
            if len(bounds) == 2 and bounds[0] > bounds[1]:
                raise SpaceError(f"invalid batch range {part!r}: {bounds[0]} > {bounds[1]}")
            if bounds[0] <= 0 or bounds[-1] > limit:  # refused below, before a range is built
                values.extend(bounds)
                continue
            values.extend(range(bounds[0], bounds[-1] + 1))
    if not values or any(not isinstance(v, int) or isinstance(v, bool) or v <= 0 for v in values):
        raise SpaceError(f"invalid batch sizes {show(text)}: batch sizes must be positive integers")
    if max(values) > limit:
        raise SpaceError(f"invalid batch sizes {show(text)}: at most {limit} images per batch")
    return tuple(sorted(set(values)))


@dataclass(frozen=True)
class SpaceOptions:
    """What a space searches.

    Attributes:
        family: ``hybrid`` (everything free), ``sequential`` (one accelerator) or
            ``spatial`` (one accelerator per node group).
        batch_sizes: the batch sizes searched.
        min_accelerators, max_accelerators: accelerator-count range of ``hybrid``
            (``max`` defaults to one per node group).
        latency_ceiling_s: optional constraint latency <= ceiling.
        power_cap_w: optional constraint power <= cap (the model's power of the design
            running its batch back to back, W).
        groups: node groups that must share an accelerator (e.g. q, k, v).
        values: parameter name -> allowed values, narrowing the default domains
            (e.g. ``{"h1": (32,)}``) to shrink a space.
        repair: map every genome onto the per-accelerator shape rules and the AIE
            budget before evaluation, so the search spends its budget on buildable
            designs.
        configurator: how each accelerator's parameters are chosen. ``none``: they are
            genes, searched with everything else. The name of a cost model with a
            configurator (:func:`~ssropt.spaces.configured.configurator_choices`): the
            genome is the batch and the assignment only, and that model's configurator
            configures each accelerator (for the SSR model: the chip split by each
            accelerator's share of the work and buffers, then the fastest configuration
            within its share by exhaustive enumeration); that cost model only.
        objectives: the objectives searched, keys of
            :data:`~ssropt.spaces.objective_set.OBJECTIVES`: latency and throughput, or
            those and energy per image (:class:`~ssropt.spaces.objective_set.ObjectiveSet`).
    """

    family: str = "hybrid"
    batch_sizes: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)
    min_accelerators: int = 1
    max_accelerators: int | None = None
    latency_ceiling_s: float | None = None
    power_cap_w: float | None = None
    groups: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    repair: bool = True
    values: dict[str, tuple[int, ...]] = field(default_factory=dict)
    configurator: str = "none"
    objectives: tuple[str, ...] = DEFAULT_KEYS

    def __post_init__(self) -> None:
        object.__setattr__(self, "objectives", ObjectiveSet(tuple(self.objectives)).keys)
        if self.family not in FAMILIES:
            raise SpaceError(f"unknown space {self.family!r}: known spaces are {', '.join(FAMILIES)}")
        if self.configurator not in configurator_choices():
            raise SpaceError(
                f"unknown configurator {self.configurator!r}: known are {', '.join(configurator_choices())}"
            )
        parse_batch_sizes(list(self.batch_sizes))
        if self.min_accelerators < 1:
            raise SpaceError("min_accelerators must be >= 1")
        if self.max_accelerators is not None and self.max_accelerators < self.min_accelerators:
            raise SpaceError(
                f"accelerator range {self.min_accelerators}-{self.max_accelerators} is empty"
            )
        if self.latency_ceiling_s is not None and not self.latency_ceiling_s > 0:
            raise SpaceError(f"latency ceiling must be > 0 seconds, got {self.latency_ceiling_s!r}")
        if self.power_cap_w is not None and not 0 < self.power_cap_w < float("inf"):
            raise SpaceError(f"power cap must be a positive number of watts, got {self.power_cap_w!r}")

    def to_dict(self) -> dict:
        out = asdict(self)
        out["batch_sizes"] = list(self.batch_sizes)
        out["groups"] = [list(g) for g in self.groups]
        out["values"] = {k: list(v) for k, v in self.values.items()}
        out["objectives"] = list(self.objectives)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> SpaceOptions:
        data = dict(data)
        data["batch_sizes"] = tuple(data.get("batch_sizes", (1,)))
        data["groups"] = tuple(tuple(g) for g in data.get("groups", ()))
        data["values"] = {k: tuple(v) for k, v in data.get("values", {}).items()}
        data["objectives"] = tuple(data.get("objectives", DEFAULT_KEYS))  # older studies: two
        return cls(**data)

    @property
    def objective_set(self) -> ObjectiveSet:
        """The objectives searched, with their names and directions."""
        return ObjectiveSet(self.objectives)
