"""The public-API path for storages without a fast path (in-memory, gRPC proxy, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from ssropt.storage._records import _Prepared


def _write_generic(
    storage: optuna.storages.BaseStorage,
    study_id: int,
    prepared: Sequence[_Prepared],
    study_system_attrs: Mapping[str, Any],
) -> list[int]:
    """Public-API fallback: one ``create_new_trial`` per record, then the study attributes.

    Trials go first so that an interruption leaves trials without their checkpoint (the
    run loop redoes the generation) rather than a checkpoint without its trials. Returns
    the new trials' ids.
    """
    ids = []
    for item in prepared:
        template = optuna.trial.create_trial(
            state=item.state,
            values=item.values,
            params={
                n: d.to_external_repr(item.params_internal[n])
                for n, d in item.distributions.items()
            },
            distributions=item.distributions,
            user_attrs=item.user_attrs,
            system_attrs=item.system_attrs,
        )
        # create_trial stamped "now"; Optuna keeps naive local times in a FrozenTrial
        if item.datetime_start is not None:
            template.datetime_start = item.datetime_start.astimezone().replace(tzinfo=None)
        if item.datetime_complete is not None:
            template.datetime_complete = item.datetime_complete.astimezone().replace(tzinfo=None)
        ids.append(storage.create_new_trial(study_id, template_trial=template))
    for key, value in study_system_attrs.items():
        storage.set_study_system_attr(study_id, key, value)
    return ids
