"""The Python API: create, run, resume and read a study in a few lines.

One :class:`~ssropt.engine.study.StudyConfig` describes the search; it is passed once,
to :func:`create_study`, and stored with the study, so :func:`run` (and a later
:func:`run` from any process, on :func:`load_study`) needs only the study.  Fronts come
back as rows (:func:`load_front`, the dicts ``ssropt front --json`` writes) or as a
pandas DataFrame (:func:`front_dataframe`, the columns of ``--csv``; needs
``pip install -e ".[pandas]"``).  The functions here turn Optuna's INFO logging off the
first time they run (``optuna.logging.set_verbosity(optuna.logging.INFO)`` turns it
back on).

Example:
    >>> import ssropt
    >>> config = ssropt.StudyConfig(
    ...     workload={"model": "deit-t", "tokens": 32, "blocks": 2, "embed_and_head": False},
    ...     platform="vck190", space=ssropt.SpaceOptions(batch_sizes=(1, 2)),
    ...     budget=60, population_size=20)
    >>> study = ssropt.create_study(config, "demo", storage=":memory:")
    >>> ssropt.run(study).evaluated
    60
    >>> ssropt.run(study, budget=100).evaluated  # resume with a larger budget
    100
    >>> front = ssropt.load_front(study)
    >>> front[0]["batch"] in (1, 2) and front[0]["latency_s"] > 0
    True
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import optuna

from ssropt.engine.study import StudyConfig, create_ssropt_study, load_ssropt_study
from ssropt.errors import SsroptError
from ssropt.spaces import SpaceOptions
from ssropt.storage import DEFAULT_STORAGE, open_storage

if TYPE_CHECKING:
    import pandas

    from ssropt.engine.runner import RunSummary
    from ssropt.spaces import Space

__all__ = [
    "SpaceOptions", "StudyConfig", "check_config", "create_study", "front_dataframe",
    "load_front", "load_study", "run",
]

#: the ``storage`` of a study kept in this process's memory only
IN_MEMORY = ":memory:"
_quieted = False


def _quiet_optuna() -> None:
    """Optuna's INFO lines off, once per process (the user may turn them on again)."""
    global _quieted
    if not _quieted:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        _quieted = True


def _storage(storage: Any) -> optuna.storages.BaseStorage:
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if storage == IN_MEMORY:
        return optuna.storages.InMemoryStorage()
    return open_storage(str(storage))


def check_config(config: StudyConfig) -> Space:
    """The space of ``config``, after every check a study makes before it is created:
    workload, platform, dtype, cost model, space options, a space with feasible designs,
    and a strategy that accepts the space and the seed designs (SsroptError otherwise)."""
    from ssropt.strategies import make_strategy

    space = config.build_space()
    space.check_feasible()
    make_strategy(config.strategy, space, config.seed, config.population_size,
                  config.initial_genomes(space))
    return space


def create_study(config: StudyConfig, study_name: str,
                 storage: Any = DEFAULT_STORAGE) -> optuna.Study:
    """Create the study ``study_name`` of ``config`` (checked first) and return it;
    nothing is evaluated (StudyError when the name is taken).

    ``storage``: a journal file path (default ``ssropt-studies.log``), an Optuna RDB URL,
    ``":memory:"`` or an Optuna storage object.  ``config.space`` may be a
    :class:`~ssropt.spaces.SpaceOptions`.
    """
    _quiet_optuna()
    if isinstance(config.space, SpaceOptions):
        config = dataclasses.replace(config, space=config.space.to_dict())
    check_config(config)
    return create_ssropt_study(_storage(storage), study_name, config)


def load_study(study_name: str, storage: Any = DEFAULT_STORAGE) -> optuna.Study:
    """An existing ssropt study (StudyError when missing or not ssropt's)."""
    _quiet_optuna()
    study, _ = load_ssropt_study(_storage(storage), study_name)
    return study


def run(study: optuna.Study, *, budget: int | None = None, time_limit_s: float | None = None,
        n_jobs: int = 1, progress: bool = False) -> RunSummary:
    """Search ``study`` until its budget (or ``budget``, which raises it for good: a later
    run continues to it) or ``time_limit_s``; resumes where the study stands.  Other
    processes may run the same study at the same time (``ssropt worker``)."""
    from ssropt.engine.runner import run_study
    from ssropt.engine.study import CONFIG_PREFIX

    _quiet_optuna()
    config = StudyConfig.from_attrs(study.user_attrs, study.study_name)
    if budget is not None:
        if budget <= 0:
            raise SsroptError(f"the budget must be a positive number of designs, got {budget}")
        study.set_user_attr(CONFIG_PREFIX + "budget", budget)
        config = dataclasses.replace(config, budget=budget)
    return run_study(study, config, time_limit_s=time_limit_s, n_jobs=n_jobs, progress=progress)


def _study(study_or_storage: Any, study_name: str | None) -> optuna.Study:
    if isinstance(study_or_storage, optuna.Study):
        return study_or_storage
    if study_name is None:
        raise SsroptError("give the study's name with its storage")
    return load_study(study_name, study_or_storage)


def load_front(study_or_storage: Any, study_name: str | None = None, *, batch: int | None = None,
               all_trials: bool = False) -> list[dict]:
    """The front's rows by latency (``ssropt front --json``), or with ``all_trials`` every
    completed trial's (``--all``: with ``feasible``, ``on_front``, ``violations``).

    The first argument is a study, or a storage with ``study_name``.
    """
    from ssropt.outputs.front import all_rows, front_rows

    study = _study(study_or_storage, study_name)
    return all_rows(study, batch) if all_trials else front_rows(study, batch)


def front_dataframe(study_or_storage: Any, study_name: str | None = None, *,
                    batch: int | None = None, all_trials: bool = False) -> pandas.DataFrame:
    """:func:`load_front` as a pandas DataFrame with the columns of ``ssropt front --csv``
    (resources one column each, accelerators as text, the assignment as JSON)."""
    try:
        import pandas
    except ImportError:
        raise SsroptError('front_dataframe needs pandas: pip install -e ".[pandas]"') from None
    from ssropt.outputs.front import csv_fields
    from ssropt.outputs.rows import flat_row

    rows = load_front(study_or_storage, study_name, batch=batch, all_trials=all_trials)
    return pandas.DataFrame([flat_row(r) for r in rows], columns=csv_fields(rows))
