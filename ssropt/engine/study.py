"""Studies: an ssropt study is an Optuna study plus the settings that rebuild its search.

The settings (:class:`StudyConfig`) live in the study's user attributes, one readable
attribute each, so ``ssropt resume`` needs only the storage and the study name and any
Optuna tool can read them.  Every evaluated design is one COMPLETE trial whose params
are the decoded design (batch, accelerator of each node, each accelerator's
parameters), whose values are the searched objectives (latency, throughput and, when
the space options ask for it, energy per image: :class:`ssropt.spaces.ObjectiveSet`),
whose constraints are the model's ``used - budget`` values, and whose user attributes
carry resources, energy, strategy and generation.  The strategy checkpoint is a study
system attribute, written in the same batch as the plan of the generation asked from it
(see :mod:`ssropt.engine.worker`): plain JSON data
(:meth:`ssropt.strategies.base.Strategy.state_dict`), nothing pickled.
Trial records are :mod:`.records`, the checkpoint attribute :mod:`.checkpoint`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import optuna

from ssropt.errors import SsroptError
from ssropt.objectives.models import MODEL_VERSION, CostModel
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.spec import workload_from_spec
from ssropt.spaces import ObjectiveSet, Space, SpaceOptions
from ssropt.storage import StudyNameTaken, backend_for, load_study

logger = logging.getLogger(__name__)

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
        try:
            config = cls(**{k: v for k, v in values.items() if k in known})
            if not isinstance(config.workload, dict):
                raise TypeError(f"workload {config.workload!r} is not an object")
            # the space options read back whole: options added since an older study was
            # created (a power cap, the objectives) take the defaults it was searched with
            space = SpaceOptions.from_dict(config.space).to_dict()
            return replace(config, space=space)
        except (TypeError, ValueError, AttributeError, KeyError) as error:
            raise StudyError(f"study {study_name!r}: its settings cannot be read ({error})") from None

    @property
    def objectives(self) -> ObjectiveSet:
        """The objectives the study searches (a space option; two in older studies)."""
        return SpaceOptions.from_dict(self.space).objective_set

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


#: study system attribute written last when a study is created: the settings it holds
SETTINGS_KEY = "ssropt:settings"
#: settings a study created before SETTINGS_KEY existed may lack (their defaults are right)
_LATER_SETTINGS = ("chunk_size",)


def missing_settings(user_attrs: dict, system_attrs: dict) -> list[str] | None:
    """The settings a study lacks ([] when complete), or None when it has none at all.

    A study created by this ssropt lists its settings in :data:`SETTINGS_KEY`, written in
    the same append / transaction as the settings, last; an older study has none, and is
    complete when it holds every setting (but those added since, whose defaults match
    what it did).
    """
    present = {k[len(CONFIG_PREFIX):] for k in user_attrs if k.startswith(CONFIG_PREFIX)}
    listed = system_attrs.get(SETTINGS_KEY)
    if isinstance(listed, list):
        return sorted(set(listed) - present)
    if not present:
        return None
    required = [f for f in StudyConfig.__dataclass_fields__ if f not in _LATER_SETTINGS]
    return sorted(set(required) - present)


def _study_state(backend, study_id: int) -> tuple[dict, list[str] | None]:
    user = backend.user_attrs(study_id)
    system = backend.read_study_attrs(study_id, [SETTINGS_KEY])
    return user, missing_settings(user, system)


def incomplete_message(name: str, missing: list[str]) -> str:
    return (
        f"study {name!r} has incomplete settings (missing {', '.join(missing)}): its creation "
        "was interrupted; `ssropt studies --repair` (with this --storage) removes such studies, "
        "then create it again under the same name"
    )


def load_ssropt_study(storage, study_name: str) -> tuple[optuna.Study, StudyConfig]:
    """Load a study by name and its ssropt settings; missing, incomplete -> StudyError."""
    backend = backend_for(storage)
    study_id = backend.study_id(study_name)
    if study_id is None:
        names = backend.study_names()
        known = ", ".join(names) if names else "none"
        raise StudyError(f"no study named {study_name!r} in this storage (studies: {known})")
    user, missing = _study_state(backend, study_id)
    if missing:
        raise StudyError(incomplete_message(study_name, missing))
    config = StudyConfig.from_attrs(user, study_name)
    directions = config.objectives.directions
    if tuple(d.name.lower() for d in backend.directions(study_id)) != directions:
        raise StudyError(f"study {study_name!r} has directions other than {directions}")
    return load_study(storage, study_name), config


def leftover(backend, study_id: int) -> bool:
    """Whether a study is what an interrupted creation left: no trials, and incomplete
    settings or no attributes at all (nothing to lose by removing it)."""
    if backend.n_trials(study_id):
        return False
    user, missing = _study_state(backend, study_id)
    if missing:
        return True
    return missing is None and not user and not backend.system_attrs(study_id)


def create_ssropt_study(storage, study_name: str, config: StudyConfig) -> optuna.Study:
    """Create a new study with all its settings at once; an existing name -> StudyError.

    The study, its directions, metric names and settings are written in one journal
    append or one database transaction (:meth:`ssropt.storage.StudyBackend.create_study`),
    so a kill leaves all of it or nothing.  A name held by what an interrupted creation
    left (no trials, incomplete settings) is taken over.
    """
    backend = backend_for(storage)
    taken = (
        f"a study named {study_name!r} already exists: resume it with `ssropt resume` or pick "
        "another --study-name"
    )
    existing = backend.study_id(study_name)
    if existing is not None:
        if not leftover(backend, existing):
            raise StudyError(taken)
        logger.warning("study %r was left incomplete by an interrupted creation: replacing it",
                       study_name)
        try:
            backend.delete_study(existing)
        except KeyError:
            pass  # someone else removed it meanwhile
    attrs = config.to_attrs()
    settings = sorted(k[len(CONFIG_PREFIX):] for k in attrs)
    try:
        backend.create_study(
            study_name, config.objectives.directions, config.objectives.names, attrs,
            {SETTINGS_KEY: settings},
        )
    except StudyNameTaken:
        raise StudyError(taken) from None
    return load_study(storage, study_name)


def config_summary(config: StudyConfig) -> str:
    work = config.workload
    name = work.get("model") or work.get("hf_config") or "gemms"
    return (
        f"{name} on {config.platform} {config.dtype} ({config.cost_model}), space "
        f"{config.space.get('family')}, strategy {config.strategy}, seed {config.seed}, "
        f"budget {config.budget}, objectives {config.objectives.text()}"
    )
