"""Choosing the backend of a storage once (:func:`backend_for`), and finding the storage and
id behind an ``optuna.Study`` (:func:`study_ref`, :func:`load_study`)."""

from __future__ import annotations

import logging
import threading
import weakref

import optuna

from ssropt.storage._backend import StudyBackend, Unsupported
from ssropt.storage._generic import GenericBackend
from ssropt.storage._journal import JournalBackend
from ssropt.storage._open import StorageError, journal_file_of

_logger = logging.getLogger("ssropt.storage")

# -- choosing a backend once per storage -------------------------------------------------------
_BACKENDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()
_WARNED: set[str] = set()


def backend_for(storage: optuna.storages.BaseStorage) -> StudyBackend:
    """The backend of ``storage``, chosen the first time and kept for the storage's life.

    A journal file opened by :func:`ssropt.storage.open_storage` gets the journal backend,
    an RDB storage (also behind Optuna's cache) the RDB backend, anything else the generic
    one -- as does a journal file or RDB storage whose Optuna internals are missing or
    changed, after ONE warning per kind of storage.
    """
    storage = _uncached(storage)
    with _GUARD:
        backend = _BACKENDS.get(storage)
        if backend is None:
            backend = _choose(storage)
            _BACKENDS[storage] = backend
        return backend


def _choose(storage: optuna.storages.BaseStorage) -> StudyBackend:
    journal_file = journal_file_of(storage)
    try:
        if isinstance(storage, optuna.storages.JournalStorage):
            return JournalBackend(storage, journal_file)
        if isinstance(storage, optuna.storages.RDBStorage):
            from ssropt.storage._rdb import RdbBackend  # SQLAlchemy only for databases

            return RdbBackend(storage)
    except Unsupported as why:
        kind = "rdb" if isinstance(storage, optuna.storages.RDBStorage) else "journal"
        if kind not in _WARNED:
            _WARNED.add(kind)
            _logger.warning(
                "optuna %s: the %s fast path is not available (%s); using Optuna's public "
                "API instead (slower, same results)", optuna.__version__, kind, why,
            )
    return GenericBackend(storage, journal_file=journal_file)


# -- from an optuna.Study to its storage and id -------------------------------------------------
_STUDIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def remember_study(study: optuna.Study, storage: optuna.storages.BaseStorage, study_id: int):
    """Note which storage object and id a Study object stands for (see :func:`study_ref`)."""
    _STUDIES[study] = (storage, study_id)
    return study


def study_ref(study: optuna.Study) -> tuple[StudyBackend, int]:
    """The backend and id of an ``optuna.Study``: those it was loaded or created with through
    ssropt, else read off the Study object (an Optuna internal; the public API has no way)."""
    known = _STUDIES.get(study)
    if known is not None:
        return backend_for(known[0]), known[1]
    try:
        storage, study_id = study._storage, study._study_id
    except AttributeError:
        raise StorageError(
            f"study {study.study_name!r}: open it with ssropt.storage.load_study (this Optuna "
            "does not say which storage a Study object uses)"
        ) from None
    return backend_for(_uncached(storage)), study_id


def _uncached(storage: optuna.storages.BaseStorage) -> optuna.storages.BaseStorage:
    """The RDB storage behind Optuna's cache (writes around the cache are fine: new trials
    have larger ids, and the cache picks them up)."""
    cached = getattr(optuna.storages, "_CachedStorage", None)
    if cached is not None and isinstance(storage, cached):
        return getattr(storage, "_backend", storage)
    return storage


def load_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
    """``optuna.load_study`` that remembers the storage and id (KeyError if missing)."""
    backend = backend_for(storage)
    study_id = backend.study_id(name)
    if study_id is None:
        raise KeyError(name)
    return remember_study(optuna.load_study(study_name=name, storage=storage), storage, study_id)
