"""Typed, bounded field specs: every number ssropt reads is checked here before a model runs.

A field spec (:class:`Int`, :class:`Float`, :class:`Seq`) says what one value may be: its
type, that it is finite, and a documented range.  The readers of every input use them --
design files and workloads (:mod:`.design_file`, :mod:`.workloads.spec`,
:mod:`.workloads.hf_config`), platform TOMLs (:mod:`.platforms.rules`) and the command
line (``ssropt/cli/args.py``) -- so a value out of range is one precise error naming the
key, never an allocation without bound, a loop that does not end or a division by zero
deep in a model.

:data:`LIMITS` names the limits of workloads and designs; each is physical or practical
(its ``why``), and the README's error table lists them.  Besides single values, two
derived sizes are bounded: the work of one image (:func:`check_workload_size`) and the
jobs of one lock-step schedule (:func:`check_jobs`).

Example:
    >>> LIMITS["batch"].check(6, "batch")
    6
    >>> LIMITS["batch"].check(4096, "batch")
    Traceback (most recent call last):
    ...
    ssropt.errors.SsroptError: batch must be at most 1,024 (images processed together), got 4096
    >>> Float(0.0, 1.0, low_open=True, interval=True).check(1.5, "efficiency")
    Traceback (most recent call last):
    ...
    ssropt.errors.SsroptError: efficiency must be in (0, 1], got 1.5
    >>> Float(0.0, 1.0, low_open=True).check(float("nan"), "efficiency")
    Traceback (most recent call last):
    ...
    ssropt.errors.SsroptError: efficiency must be a finite number, got nan
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from ssropt.errors import SsroptError


def show(value: object, width: int = 60) -> str:
    """A short, safe repr of ``value`` for an error message (huge integers, long strings
    and containers are summarised; never raises)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, numbers.Integral):
        value = int(value)
        if abs(value) >= 10**18:
            if value.bit_length() < 1000:
                return f"{float(value):.3g}"
            return f"{'-' if value < 0 else ''}an integer of {abs(value).bit_length()} bits"
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dict, list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value) if isinstance(value, (str, bytes)) else f"a {type(value).__name__}"
    return text if len(text) <= width else text[: width - 3] + "..."


def _raise(error: type[Exception], key: str, what: str, value: object):
    raise error(f"{key} must be {what}, got {show(value)}")


@dataclass(frozen=True)
class Int:
    """An integer in ``[low, high]`` (booleans are not integers).

    ``why`` explains the upper limit in messages and in the README.
    """

    low: int
    high: int
    why: str = ""

    def describe(self) -> str:
        if self.low == 1:
            return "a positive integer"
        if self.low == 0:
            return "a non-negative integer"
        return f"an integer >= {self.low}"

    def check(self, value: object, key: str, error: type[Exception] = SsroptError) -> int:
        """``value`` as an int, or ``error`` naming ``key``."""
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < self.low:
            _raise(error, key, self.describe(), value)
        if value > self.high:
            _raise(error, key, f"at most {self.high:,}" + (f" ({self.why})" if self.why else ""), value)
        return int(value)


@dataclass(frozen=True)
class Float:
    """A finite number in ``[low, high]`` (``(low, high]`` with ``low_open``); integers
    are accepted and converted.  ``interval`` words both limits as the interval
    (``must be in (0, 1]``), for fractions."""

    low: float
    high: float
    low_open: bool = False
    why: str = ""
    interval: bool = False

    def describe(self) -> str:
        if self.interval:
            return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"
        if self.low == 0:
            return "a positive number" if self.low_open else "a non-negative number"
        return f"a number {'>' if self.low_open else '>='} {self.low:g}"

    def check(self, value: object, key: str, error: type[Exception] = SsroptError) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            _raise(error, key, "a number", value)
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            _raise(error, key, "a finite number", value)
        if number < self.low or (self.low_open and number == self.low):
            _raise(error, key, self.describe(), value)
        if number > self.high:
            limit = self.describe() if self.interval else f"at most {self.high:g}"
            _raise(error, key, limit + (f" ({self.why})" if self.why and not self.interval else ""), value)
        return number


@dataclass(frozen=True)
class Seq:
    """A list of ``item`` values with ``min_len`` to ``max_len`` entries, optionally
    strictly ascending."""

    item: Int | Float
    min_len: int = 0
    max_len: int = 256
    ascending: bool = False

    def check(self, value: object, key: str, error: type[Exception] = SsroptError) -> tuple:
        if not isinstance(value, (list, tuple)):
            _raise(error, key, "a list", value)
        if not self.min_len <= len(value) <= self.max_len:
            what = "a non-empty list" if self.min_len == 1 else f"a list of {self.min_len} to {self.max_len} entries"
            if len(value) > self.max_len:
                what = f"a list of at most {self.max_len} entries"
            _raise(error, key, what, value)
        items = tuple(self.item.check(v, f"{key}[{i}]", error) for i, v in enumerate(value))
        if self.ascending and any(b <= a for a, b in zip(items, items[1:])):
            raise error(f"{key} must be strictly ascending, got {list(items)}")
        return items


@dataclass(frozen=True)
class Text:
    """A non-empty string of at most ``max_len`` characters."""

    max_len: int = 128

    def check(self, value: object, key: str, error: type[Exception] = SsroptError) -> str:
        if not isinstance(value, str) or not value:
            _raise(error, key, "a non-empty string", value)
        if len(value) > self.max_len:
            _raise(error, key, f"a string of at most {self.max_len} characters", value)
        return value


#: the limits of workloads and designs, by name (listed in the README's error table)
LIMITS: dict[str, Int] = {
    "batch": Int(1, 1024, "images processed together"),
    "blocks": Int(1, 1024, "encoder blocks; published encoders have at most a few hundred"),
    "tokens": Int(1, 131072, "token rows per image, 2^17"),
    "dimension": Int(1, 131072, "a matrix dimension or model width, 2^17"),
    "repeat": Int(1, 65536, "repeats of one GEMM or attention heads, 2^16"),
    "nodes": Int(1, 256, "matmul nodes of one image; a transformer block has 8"),
    "parameter": Int(1, 4096, "an accelerator parameter; the largest table value is 96"),
    "patch": Int(1, 4096, "patch size or input channels"),
}

#: the most matmul layers of one image (nodes unrolled over blocks)
MAX_LAYERS = 16384
#: the most operations of one image, 2^50: a batch of 1024 images keeps int64 and float
#: arithmetic exact (ViT-L/16 needs about 2^37)
MAX_OPS_PER_IMAGE = 2**50
#: the most jobs (batch x layers) one lock-step schedule places: every zoo model at batch
#: 1024 fits, and a schedule takes seconds at most
MAX_JOBS = 262144


def check_workload_size(name: str, n_layers: int, ops_per_image: int,
                        error: type[Exception] = SsroptError) -> None:
    """``error`` when a workload has more than :data:`MAX_LAYERS` layers or
    :data:`MAX_OPS_PER_IMAGE` operations per image."""
    if n_layers > MAX_LAYERS:
        raise error(
            f"workload {name!r} has {n_layers:,} layers per image (nodes x blocks): at most "
            f"{MAX_LAYERS:,}"
        )
    if ops_per_image > MAX_OPS_PER_IMAGE:
        raise error(
            f"workload {name!r} has {show(ops_per_image)} operations per image: at most 2^50 "
            f"({MAX_OPS_PER_IMAGE:.3g}); reduce the GEMM sizes or counts"
        )


def check_jobs(n_layers: int, batch: int, error: type[Exception] = SsroptError) -> None:
    """``error`` when batch x layers exceeds :data:`MAX_JOBS` (the schedule's size)."""
    if n_layers * batch > MAX_JOBS:
        raise error(
            f"batch {batch} x {n_layers:,} layers per image = {n_layers * batch:,} jobs: at most "
            f"{MAX_JOBS:,} per schedule; use a smaller batch or fewer blocks"
        )
