"""Search spaces: genomes <-> designs, families, repair and constraints."""

from ssropt.spaces.objective_set import ObjectiveError, ObjectiveSet
from ssropt.spaces.options import (
    FAMILIES,
    GROUP_PRESETS,
    SpaceError,
    SpaceOptions,
    parse_batch_sizes,
)
from ssropt.spaces.space import DIRECTIONS, OBJECTIVE_NAMES, Space, SpaceEvaluation, group_preset

__all__ = [
    "DIRECTIONS",
    "FAMILIES",
    "GROUP_PRESETS",
    "OBJECTIVE_NAMES",
    "ObjectiveError",
    "ObjectiveSet",
    "Space",
    "SpaceError",
    "SpaceEvaluation",
    "SpaceOptions",
    "group_preset",
    "parse_batch_sizes",
]
