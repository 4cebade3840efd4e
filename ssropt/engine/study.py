"""Studies: an ssropt study is an Optuna study plus the settings that rebuild its search.

The settings (:class:`StudyConfig`) live in the study's user attributes, one readable
attribute each, so ``ssropt resume`` needs only the storage and the study name and any
Optuna tool can read them.  Every evaluated design is one COMPLETE trial whose params
are the decoded design (batch, accelerator of each node, each accelerator's
parameters), whose values are (latency, throughput), whose constraints are the model's
``used - budget`` values, and whose user attributes carry resources, energy, strategy
and generation.  The strategy checkpoint is a study system attribute, written in the
same batch as the plan of the generation asked from it (see :mod:`ssropt.engine.worker`):
plain JSON data (:meth:`ssropt.strategies.base.Strategy.state_dict`), nothing pickled.
Trial records are :mod:`.records`, the checkpoint attribute :mod:`.checkpoint`.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import optuna

from ssropt.errors import SsroptError
from ssropt.objectives.models import MODEL_VERSION, CostModel
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.spec import workload_from_spec
from ssropt.spaces import DIRECTIONS, OBJECTIVE_NAMES, Space, SpaceOptions

#: prefix of the study user attributes that hold a StudyConfig, one per field
CONFIG_PREFIX = "ssropt:"


class StudyError(SsroptError):
    """A study is missing, not an ssropt study, or inconsistent."""


@dataclass(frozen=True)
class StudyConfig:
    """Everything that defines a study's search (stored as study user attributes)."""

    workload: dict
    platform: str
    dtype: str = "int8"
    cost_model: str | None = None  # None: the platform's own (resolved on creation)
    space: dict = field(default_factory=lambda: SpaceOptions().to_dict())
    strategy: str = "nsga2"
    seed: int = 0
    budget: int | None = 2000
    time_limit_s: float | None = None
    population_size: int = 100
    seed_designs: list = field(default_factory=list)
    model_version: str = MODEL_VERSION
    chunk_size: int = 25  # designs per unit of work shared out to workers (ssropt.engine.worker)

    def __post_init__(self) -> None:
        if self.cost_model is None:
            try:
                platform = load_platform(self.platform)
            except SsroptError:
                return  # reported by build_space
            object.__setattr__(self, "cost_model", platform.default_cost_model)

    def to_attrs(self) -> dict:
        return {CONFIG_PREFIX + k: v for k, v in asdict(self).items()}

    @classmethod
    def from_attrs(cls, attrs: dict, study_name: str) -> StudyConfig:
        values = {k[len(CONFIG_PREFIX):]: v for k, v in attrs.items() if k.startswith(CONFIG_PREFIX)}
        if "workload" not in values:
            raise StudyError(f"study {study_name!r} was not created by ssropt (no ssropt settings)")
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in values.items() if k in known})

    def build_space(self) -> Space:
        workload = workload_from_spec(self.workload)
        model = CostModel(workload, load_platform(self.platform), self.dtype, self.cost_model)
        return Space(model, SpaceOptions.from_dict(self.space))

    def initial_genomes(self, space: Space) -> np.ndarray | None:
        """Genomes of the seed designs (first generation), or None."""
        if not self.seed_designs:
            return None
        from ssropt.objectives.design import DesignBatch
        from ssropt.objectives.design_file import parse_design

        batches = [parse_design(spec).designs for spec in self.seed_designs]
        return space.encode(DesignBatch.concatenate(batches))


def load_ssropt_study(storage, study_name: str) -> tuple[optuna.Study, StudyConfig]:
    """Load a study by name and its ssropt settings; missing -> StudyError."""
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        known = ", ".join(names) if names else "none"
        raise StudyError(f"no study named {study_name!r} in this storage (studies: {known})") from None
    config = StudyConfig.from_attrs(study.user_attrs, study_name)
    if tuple(d.name.lower() for d in study.directions) != DIRECTIONS:
        raise StudyError(f"study {study_name!r} has directions other than {DIRECTIONS}")
    return study, config


def create_ssropt_study(storage, study_name: str, config: StudyConfig) -> optuna.Study:
    """Create a new study with its settings; an existing name -> StudyError."""
    if study_name in {s.study_name for s in optuna.get_all_study_summaries(storage)}:
        raise StudyError(
            f"a study named {study_name!r} already exists: resume it with `ssropt resume` or pick "
            "another --study-name"
        )
    study = optuna.create_study(storage=storage, study_name=study_name, directions=list(DIRECTIONS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(list(OBJECTIVE_NAMES))
    for key, value in config.to_attrs().items():
        study.set_user_attr(key, value)
    return study


def config_summary(config: StudyConfig) -> str:
    work = config.workload
    name = work.get("model") or work.get("hf_config") or "gemms"
    return (
        f"{name} on {config.platform} {config.dtype} ({config.cost_model}), space "
        f"{config.space.get('family')}, strategy {config.strategy}, seed {config.seed}, "
        f"budget {config.budget}"
    )
