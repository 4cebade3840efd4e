"""Studies: an ssropt study is an Optuna study plus the settings that rebuild its search.

The settings (:class:`StudyConfig`) live in the study's user attributes, one readable
attribute each, so ``ssropt resume`` needs only the storage and the study name and any
Optuna tool can read them.  Every evaluated design is one COMPLETE trial whose params
are the decoded design (batch, accelerator of each node, each accelerator's
parameters), whose values are (latency, throughput), whose constraints are the model's
``used - budget`` values, and whose user attributes carry resources, energy, strategy
and generation.  The strategy checkpoint is a study system attribute, written in the
same batch as the plan of the generation asked from it (see :mod:`ssropt.worker`): plain
JSON data (:meth:`ssropt.strategies.base.Strategy.state_dict`), nothing pickled.

Studies of older ssropt versions hold checkpoints of format 1, a base64 pickle.  Those of
``exhaustive`` and ``ssr-ea`` held only numbers, lists and numpy arrays: they are read by
an unpickler that admits numpy arrays and nothing else, and converted.  The others held
pickled pymoo and Optuna objects, which are never unpickled: resuming such a study is
refused with one line saying so (start a new study; the trials stay readable).
"""

from __future__ import annotations

import base64
import io
import pickle
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import optuna

from ssropt.objectives.errors import SsroptError
from ssropt.objectives.model import MODEL_VERSION, CostModel
from ssropt.objectives.platform import load_platform
from ssropt.objectives.workload_spec import workload_from_spec
from ssropt.spaces import DIRECTIONS, OBJECTIVE_NAMES, Space, SpaceEvaluation, SpaceOptions
from ssropt.storage import TrialRecord

CONFIG_PREFIX = "ssropt:"
CHECKPOINT_KEY = "ssropt:checkpoint"
GENOME_KEY = "ssropt:genome"
GENERATION_KEY = "ssropt:generation"
INDIVIDUAL_KEY = "ssropt:individual"


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
    chunk_size: int = 25  # designs per unit of work shared out to workers (ssropt.worker)

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


def trial_records(
    space: Space, result: SpaceEvaluation, strategy: str, generation: int, first_individual: int
) -> list[TrialRecord]:
    """One TrialRecord per evaluated design of a population."""
    designs, ev = result.designs, result.evaluation
    workload = space.model.workload
    distributions = param_distributions(space)
    names = space.param_names
    totals = ev.resources()
    records = []
    for i in range(designs.n_designs):
        n_acc = int(designs.assignment[i].max()) + 1
        params = {"batch": int(designs.batch[i])}
        for j, node in enumerate(workload.names):
            params[f"acc_of_{node}"] = int(designs.assignment[i, j])
        for a in range(n_acc):
            for p, name in enumerate(names):
                params[f"acc{a}_{name}"] = int(designs.params[i, a, p])
        user = {
            "feasible": bool(result.feasible[i]),
            "images_per_s": float(ev.images_per_s[i]),
            "energy_j_per_image": _finite(ev.energy_j_per_image[i]),
            "power_w": _finite(ev.power_w[i]),
            "n_accelerators": n_acc,
            "steps": int(ev.steps[i]),
            "strategy": strategy,
            "generation": generation,
        }
        user.update({k: int(v[i]) for k, v in totals.items()})
        records.append(
            TrialRecord(
                params=params,
                distributions={k: distributions[k] for k in params},
                values=(float(ev.latency_s[i]), float(ev.throughput_ops_per_s[i])),
                constraints={n: float(result.G[i, c]) for c, n in enumerate(result.constraint_names)},
                user_attrs=user,
                system_attrs={
                    GENOME_KEY: [int(x) for x in result.genomes[i]],
                    GENERATION_KEY: generation,
                    INDIVIDUAL_KEY: first_individual + i,
                },
            )
        )
    return records


def param_distributions(space: Space) -> dict[str, optuna.distributions.BaseDistribution]:
    """The fixed distribution of every readable trial param of a space."""
    out: dict[str, optuna.distributions.BaseDistribution] = {
        "batch": optuna.distributions.IntDistribution(int(space.batch_values.min()), int(space.batch_values.max()))
    }
    for node in space.model.workload.names:
        out[f"acc_of_{node}"] = optuna.distributions.IntDistribution(0, max(space.n_slots - 1, 0))
    for a in range(space.n_slots):
        for name in space.param_names:
            values = space.values[name]
            out[f"acc{a}_{name}"] = optuna.distributions.IntDistribution(int(values.min()), int(values.max()))
    return out


def encode_state(generation: int, evaluated: int, state: dict) -> dict:
    """The study system attribute of a strategy checkpoint (``Strategy.state_dict()``,
    plain JSON data) taken before generation ``generation``, after ``evaluated`` designs."""
    return {CHECKPOINT_KEY: {"generation": generation, "evaluated": evaluated, "state": state}}


def decode_state(attrs: dict) -> tuple[int, int, dict] | None:
    """``(generation, evaluated, state)`` of the study's checkpoint, or None; a format-1
    checkpoint (older ssropt) is converted where that is safe, else StudyError."""
    checkpoint = attrs.get(CHECKPOINT_KEY)
    if not checkpoint:
        return None
    state = checkpoint["state"]
    if isinstance(state, str):  # format 1: a base64 pickle
        state = _format1_state(state)
    return checkpoint["generation"], checkpoint["evaluated"], state


#: strategies whose format-1 checkpoints held only numbers, lists and numpy arrays
FORMAT1_PLAIN_STRATEGIES = ("exhaustive", "ssr-ea")
#: what a pickled numpy array or scalar needs (numpy 1 and 2 module names), nothing else
_NUMPY_GLOBALS = frozenset(
    [("numpy", "ndarray"), ("numpy", "dtype")]
    + [(f"numpy.{core}.multiarray", name) for core in ("core", "_core")
       for name in ("_reconstruct", "scalar")]
    + [(f"numpy.{core}.numeric", "_frombuffer") for core in ("core", "_core")]
)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Builtin values and numpy arrays; any other class or function is refused."""

    def find_class(self, module: str, name: str):
        if (module, name) in _NUMPY_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not admitted")


def _format1_state(text: str) -> dict:
    """A format-1 checkpoint as plain data (format 2) if its strategy kept plain state
    (numbers, lists, numpy arrays); StudyError otherwise, without unpickling any object."""
    try:
        envelope = _NumpyOnlyUnpickler(io.BytesIO(base64.b64decode(text))).load()
    except Exception:
        envelope = None
    strategy = envelope.get("strategy") if isinstance(envelope, dict) else None
    if strategy not in FORMAT1_PLAIN_STRATEGIES or envelope.get("format") != 1:
        what = f"the {strategy!r} strategy's" if isinstance(strategy, str) else "its strategy's"
        raise StudyError(
            f"this study was written by an older ssropt, whose checkpoint of {what} state "
            "(format 1, pickled library objects) cannot be restored safely: start a new study "
            "with `ssropt run` (this one's trials stay readable, e.g. by `ssropt front`)"
        )
    from ssropt.strategies.base import STATE_FORMAT

    return {**_plain(envelope), "format": STATE_FORMAT}


def _plain(value):
    """``value`` with numpy arrays and scalars as plain lists and numbers (floats as
    :func:`~ssropt.strategies.base.plain_floats` writes them) and tuples as lists."""
    from ssropt.strategies.base import plain_floats

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return plain_floats(value) if value.dtype.kind == "f" else value.tolist()
    if isinstance(value, float):
        return plain_floats(value)
    return value


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


def _finite(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def config_summary(config: StudyConfig) -> str:
    work = config.workload
    name = work.get("model") or work.get("hf_config") or "gemms"
    return (
        f"{name} on {config.platform} {config.dtype} ({config.cost_model}), space "
        f"{config.space.get('family')}, strategy {config.strategy}, seed {config.seed}, "
        f"budget {config.budget}"
    )
