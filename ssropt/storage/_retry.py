"""Retrying storage calls through outages: database restarts, dropped connections, I/O errors.

A worker keeps going while its storage is away for a while: :func:`retry_unavailable`
calls a function again after exponentially growing pauses (0.1 s doubling to 5 s) as
long as it fails with a *transient* error and the outage has not lasted ``max_seconds``
(60 by default); every retry is logged.  What counts as transient:
:class:`~ssropt.storage.StorageUnavailable`, ``OSError`` (journal file I/O), and
database errors that mean "not reachable now" (:func:`ssropt.storage._rdb_rows.is_transient`:
SQLAlchemy OperationalError / InterfaceError / DisconnectionError / pool timeouts, also
wrapped in Optuna's StorageInternalError).  Anything else is raised at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from ssropt.storage._open import StorageError, StorageUnavailable, _one_line
from ssropt.storage._rdb_rows import is_transient

_logger = logging.getLogger("ssropt.storage")
T = TypeVar("T")

FIRST_PAUSE_S = 0.1
LONGEST_PAUSE_S = 5.0
MAX_OUTAGE_S = 60.0


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the storage is away for now (so the call may be retried)."""
    if isinstance(error, StorageUnavailable):
        return True
    if isinstance(error, StorageError):
        return False
    if isinstance(error, OSError):
        return True
    return is_transient(error)


def retry_unavailable(
    call: Callable[[], T],
    what: str,
    *,
    max_seconds: float = MAX_OUTAGE_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``call()``, retried with exponential backoff while the storage is unavailable.

    Raises:
        StorageUnavailable: still unavailable after ``max_seconds`` (one-line message
            naming ``what`` and the last error).
        Exception: any error that is not transient, at once.
    """
    began = None
    pause = FIRST_PAUSE_S
    attempt = 0
    while True:
        try:
            return call()
        except Exception as error:
            if not is_unavailable(error):
                raise
            now = clock()
            began = now if began is None else began
            attempt += 1
            waited = now - began
            detail = _one_line(error)
            if waited + pause > max_seconds:
                raise StorageUnavailable(
                    f"storage unavailable for {waited:.0f} s while trying to {what} "
                    f"({attempt} attempts): {detail}"
                ) from None
            _logger.warning(
                "storage unavailable (%s; attempt %d): retrying to %s in %.1f s",
                detail, attempt, what, pause,
            )
            sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_S)
