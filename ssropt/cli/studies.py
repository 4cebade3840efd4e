"""``ssropt studies``: list the studies of a storage with their settings and trial counts;
remove what an interrupted creation left (``--repair``) or one study (``--delete``); copy
the whole records of a damaged journal file into a new one (``--salvage``).
"""

from __future__ import annotations

import argparse
import os
import sys

from ssropt.cli.args import add_storage_argument


def add_command(sub) -> None:
    """Register ``studies`` on the ``ssropt`` sub-command parser."""
    studies = sub.add_parser(
        "studies", help="list the studies of a storage (and repair it)",
        description="List the studies of a storage: name, trials, settings. A damaged journal "
        "file is reported with the number of its first bad line.",
    )
    add_storage_argument(studies)
    action = studies.add_mutually_exclusive_group()
    action.add_argument("--repair", action="store_true",
                        help="remove the studies whose creation was interrupted (no trials, "
                        "incomplete settings), so their names can be used again")
    action.add_argument("--delete", metavar="NAME", help="remove the study NAME and its trials")
    action.add_argument("--salvage", metavar="NEW.log",
                        help="journal files: copy every whole record into the new file NEW.log "
                        "(the damaged file is not changed); then use NEW.log as --storage")
    studies.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.salvage:
        return _salvage(args.storage, args.salvage)
    import optuna

    from ssropt.engine.study import (
        SETTINGS_KEY,
        StudyConfig,
        StudyError,
        config_summary,
        leftover,
        missing_settings,
    )
    from ssropt.storage import backend_for, open_storage

    storage = open_storage(args.storage, must_exist=True)
    backend = backend_for(storage)
    if args.delete:
        study_id = backend.study_id(args.delete)
        if study_id is None:
            names = ", ".join(backend.study_names()) or "none"
            raise StudyError(f"no study named {args.delete!r} in this storage (studies: {names})")
        backend.delete_study(study_id)
        print(f"removed study {args.delete!r}")
        return 0
    if args.repair:
        removed = []
        for name in backend.study_names():
            study_id = backend.study_id(name)
            if study_id is not None and leftover(backend, study_id):
                backend.delete_study(study_id)
                removed.append(name)
        for name in removed:
            print(f"removed study {name!r} (its creation was interrupted)")
        if not removed:
            print("nothing to repair: every study has its settings")
        return 0
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    if not summaries:
        print("no studies in this storage")
        return 0
    for s in summaries:
        study_id = backend.study_id(s.study_name)
        marker = backend.read_study_attrs(study_id, [SETTINGS_KEY]) if study_id is not None else {}
        missing = missing_settings(s.user_attrs, marker)
        if missing:
            text = (f"incomplete settings (missing {', '.join(missing)}): remove with "
                    "`ssropt studies --repair`")
        else:
            try:
                text = config_summary(StudyConfig.from_attrs(s.user_attrs, s.study_name))
            except StudyError:
                text = "not an ssropt study"
        print(f"{s.study_name}: {s.n_trials} trials; {text}")
    return 0


def _salvage(path: str, out: str) -> int:
    from ssropt.storage import StorageError, salvage_journal

    if "://" in path:
        raise StorageError(f"--salvage works on journal files, not on {path.split('://')[0]} URLs")
    if not os.path.isfile(path):
        raise StorageError(f"storage {path!r} does not exist")
    kept, damaged = salvage_journal(path, out)
    for damage in damaged:
        what = "its whole record at the end kept" if damage.recovered else "dropped"
        print(f"line {damage.line}: {damage.problem}: {what}", file=sys.stderr)
    print(f"{out}: {kept} whole records of {path}; {len(damaged)} damaged lines")
    return 0
