"""Write the stored-study fixtures ``tests/data/studies.log`` and ``tests/data/studies.db``.

Each holds two studies, ``nsga2`` and ``optuna-nsga2`` (DeiT-T, one encoder block, VCK190
INT8, hybrid space with parameters as genes, batch 1-2, population 10, seed 0, budget 60),
interrupted after their second generation: trials, checkpoint and the plan of the third
generation are stored, the budget is not reached.  ``tests/storage/test_fixtures.py``
resumes copies of them with the current code and checks they end exactly where an
uninterrupted run ends.  They are the studies of an earlier ssropt: regenerate them only
when a change has to leave old studies behind, never to make that test pass::

    python tests/data/make_fixtures.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STRATEGIES = ("nsga2", "optuna-nsga2")
STORAGES = {"journal": HERE / "studies.log", "sqlite": HERE / "studies.db"}
BUDGET = 60
STOP_AFTER = 2  # generations stored before the interruption


def fixture_config(strategy: str):
    from ssropt.engine.study import StudyConfig
    from ssropt.spaces import SpaceOptions

    return StudyConfig(
        workload={"model": "deit-t", "tokens": 192, "blocks": 1, "embed_and_head": False},
        platform="vck190",
        dtype="int8",
        space=SpaceOptions(family="hybrid", batch_sizes=(1, 2), configurator="none").to_dict(),
        strategy=strategy,
        seed=0,
        budget=BUDGET,
        population_size=10,
        chunk_size=5,
    )


def url_of(kind: str, path: Path) -> str:
    return str(path) if kind == "journal" else f"sqlite:///{path}"


class _Stop(KeyboardInterrupt):
    """Interrupts the run as Ctrl-C would."""


def main() -> int:
    import optuna

    from ssropt.engine.runner import run_study
    from ssropt.engine.study import create_ssropt_study
    from ssropt.storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for kind, path in STORAGES.items():
        path.unlink(missing_ok=True)
        storage = open_storage(url_of(kind, path))
        for strategy in STRATEGIES:
            config = fixture_config(strategy)
            study = create_ssropt_study(storage, strategy, config)

            def stop(report) -> None:
                if report.generation >= STOP_AFTER:
                    raise _Stop

            try:
                run_study(study, config, progress=False, on_generation=stop)
            except _Stop:
                pass
            else:
                raise AssertionError("the run was not interrupted")
        print(f"{path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
