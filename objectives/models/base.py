"""The cost model type: a workload on a platform in one data type, priced over designs.

:class:`CostModel` is the one entry point of every cost model.  Calling it binds a
workload, a platform and a data type to the model named ``cost_model`` (``ssr``,
``charm``, ``fpga``, ``gpu-roofline`` or any registered one; by default the platform's
own, :attr:`~ssropt.objectives.platforms.Platform.default_cost_model`) and returns an
instance of that model's class, so every caller -- ``ssropt evaluate``, every search
strategy, the benchmarks -- goes through one path::

    CostModel(workload, platform, "int8")          # -> SsrModel on a Versal platform
    CostModel(workload, platform, "int8", "charm") # -> CharmModel

A cost model class declares what the rest of ssropt needs to know about it (its name,
accelerator parameters and their defaults, the platform tables it reads, whether a design
is one device) and implements the evaluation with power and energy, its value tables,
its resource budgets and, when it has them, closed-form shape repair, weight
offloading, a latency lower bound and a configurator.  See the README section "How to
add a cost model".

Example:
    >>> from ssropt.objectives.workloads.zoo import build_model
    >>> from ssropt.objectives.platforms import load_platform
    >>> model = CostModel(build_model("deit-t", tokens=192), load_platform("vck190"), "int8")
    >>> model.cost_model, type(model).__name__
    ('ssr', 'SsrModel')
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ssropt.errors import SsroptError
from ssropt.objectives.models.registry import model_class
from ssropt.objectives.platforms.platform import PlatformError

if TYPE_CHECKING:
    from ssropt.objectives.design import DesignBatch
    from ssropt.objectives.evaluation import Evaluation
    from ssropt.objectives.platforms import Platform
    from ssropt.objectives.workloads.graph import Workload

#: version of the models' equations, stored with every study (2: power from the work of
#: a batch, term by term; latency and resources unchanged)
MODEL_VERSION = "2"
#: the rules a configurator follows (``--configurator``): SSR's split of the chip, and
#: SSR's split with a share weight per accelerator
SSR_RULE, TUNED_RULE = "ssr", "tuned"
#: the share weights of ``tuned``: half to twice SSR's split, in steps of sqrt(2)
SHARE_WEIGHTS = np.array([0.5, 0.707, 1.0, 1.414, 2.0])

_CONFIGURATORS: OrderedDict[tuple, Any] = OrderedDict()
_CONFIGURATORS_LOCK = threading.Lock()
_CACHED_CONFIGURATORS = 8


def value_index(values: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Index of the largest allowed value ``<= given`` in an ascending value table (the
    smallest if none is)."""
    idx = np.searchsorted(values, given, side="right") - 1
    return np.clip(idx, 0, len(values) - 1)


def exact_index(values: np.ndarray, given: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(index, found)``: where each of ``given`` stands in an ascending value table, and
    whether it is there exactly (the index is then meaningless where not found)."""
    idx = np.clip(np.searchsorted(values, given), 0, len(values) - 1)
    return idx, values[idx] == given


def _requested(workload: Workload, platform: Platform, dtype: str = "int8", cost_model: str | None = None) -> str:
    """The cost model name a ``CostModel(...)`` call asks for (the platform's by default)."""
    return cost_model or platform.default_cost_model


class CostModel(ABC):
    """A workload on a platform in one data type, under one cost model.

    Class attributes (declared by every model):
        name: the registry name (``ssr``, ``fpga`` ...).
        param_names: per-accelerator parameters, in the order of ``DesignBatch.params``.
        param_defaults: parameters a design file may omit, with their values.
        platform_tables, dtype_tables: tables the model reads from the platform (top
            level, and in ``[dtype.NAME]``).
        single_device: a design is one device holding every node (no accelerators).
        repairable: :meth:`repair_shapes` maps designs onto the shape rules.
        hard_budgets: budgets no design can meet if the smallest design exceeds them.
        configurator_type: the class that configures accelerators for an assignment
            (``--configurator NAME``), or None.

    Attributes:
        workload, platform, dtype: what the model is bound to (``dtype`` a name).
        lock: held while the model evaluates and while its configurator configures: a
            model serves one thread at a time (its schedule cache and its configurator's
            tables grow as they meet new designs; the configurator is shared by every
            model of the process that prices the same workload).
    """

    name: ClassVar[str]
    param_names: ClassVar[tuple[str, ...]]
    param_defaults: ClassVar[dict[str, int]] = {}
    platform_tables: ClassVar[tuple[str, ...]] = ()
    dtype_tables: ClassVar[tuple[str, ...]] = ()
    single_device: ClassVar[bool] = False
    repairable: ClassVar[bool] = False
    hard_budgets: ClassVar[tuple[str, ...]] = ()
    configurator_type: ClassVar[type | None] = None

    def __new__(cls, *args: Any, **kwargs: Any) -> CostModel:
        if cls is CostModel:  # CostModel(...) builds the registered model it names
            cls = model_class(_requested(*args, **kwargs))
        return super().__new__(cls)

    def __init__(
        self, workload: Workload, platform: Platform, dtype: str = "int8", cost_model: str | None = None
    ) -> None:
        if cost_model is not None and cost_model != self.name:
            raise SsroptError(f"{type(self).__name__} is the {self.name!r} cost model, not {cost_model!r}")
        platform.dtype(dtype)  # validates the data type
        self.check_platform(platform, dtype)
        self.workload = workload
        self.platform = platform
        self.dtype = dtype
        self.lock = threading.RLock()

    @property
    def cost_model(self) -> str:
        """The model's registry name."""
        return self.name

    @classmethod
    def check_platform(cls, platform: Platform, dtype: str) -> None:
        """PlatformError unless ``platform`` has every table this model reads for ``dtype``."""
        missing = platform.missing_tables(cls.platform_tables, cls.dtype_tables, dtype)
        if missing:
            raise PlatformError(
                f"platform {platform.name} ({platform.family}) cannot run cost model {cls.name!r}: "
                f"no [{missing[0]}] table in {platform.source}; its default cost model is "
                f"{platform.default_cost_model!r}"
            )

    # -- evaluation ----------------------------------------------------------------------
    def evaluate(self, designs: DesignBatch, detail: bool = True) -> Evaluation:
        """Evaluate N designs (vectorised), power and energy included; ``detail=False``
        skips the latency breakdown (NaN)."""
        if designs.cost_model != self.cost_model:
            raise SsroptError(
                f"designs are for cost model {designs.cost_model!r}, not {self.cost_model!r}"
            )
        if designs.assignment.shape[1] != self.workload.n_nodes:
            raise SsroptError(
                f"assignment has {designs.assignment.shape[1]} nodes, "
                f"workload {self.workload.name} has {self.workload.n_nodes}"
            )
        with self.lock:
            return self._evaluate(designs, detail)

    @abstractmethod
    def _evaluate(self, designs: DesignBatch, detail: bool) -> Evaluation:
        """The model itself, on designs already checked against the workload."""

    @abstractmethod
    def values(self) -> dict[str, np.ndarray]:
        """The allowed values of every accelerator parameter (ascending), a fresh dict."""

    def resource_budgets(self) -> dict[str, float]:
        """Chip-wide budgets a design's resource totals must fit, by resource name."""
        return {}

    def budget_ratio(self, result: Evaluation, names: tuple[str, ...] | None = None) -> np.ndarray:
        """``(n,)`` smallest budget / used over :meth:`resource_budgets` (or those of
        ``names``); ``>= 1``: the design fits."""
        totals = result.resources()
        ratio = np.ones(result.n_designs)
        for name, budget in self.resource_budgets().items():
            if names is not None and name not in names:
                continue
            used = totals[name].astype(float)
            ratio = np.minimum(ratio, np.where(used > 0, budget / np.maximum(used, 1), 1.0))
        return ratio

    @property
    def scheduler(self):
        """The lock-step scheduler (and its cache) of lock-step models; None otherwise."""
        return None

    # -- search support ------------------------------------------------------------------
    def repair_shapes(self, designs: DesignBatch, values: dict[str, np.ndarray]) -> DesignBatch:
        """Designs mapped onto the per-accelerator shape rules in closed form, every
        parameter within ``values``; the designs unchanged by default."""
        return designs

    def offload_weights(
        self, designs: DesignBatch, result: Evaluation, index: np.ndarray, values: dict[str, np.ndarray]
    ) -> DesignBatch:
        """``designs`` (rows ``index`` of ``result``, over a budget) with weights moved off
        chip where the model allows it; the designs unchanged by default."""
        return designs

    def latency_lower_bound(self) -> float:
        """Seconds no design can beat (0 when the model knows no bound)."""
        return 0.0

    def configurator(self, values: dict[str, np.ndarray] | None = None):
        """The model's configurator for the value tables ``values`` (default
        :meth:`values`), or None when the model has none.

        Cached by what a configuration depends on (workload, platform, data type, model,
        value tables), not by object, so the many studies of one comparison or benchmark
        share one configurator and its caches.
        """
        if self.configurator_type is None:
            return None
        values = self.values() if values is None else values
        key = (
            json.dumps(self.workload.describe(), sort_keys=True),
            self.platform.source,
            self.dtype,
            self.cost_model,
            tuple((name, tuple(np.asarray(v).tolist())) for name, v in sorted(values.items())),
        )
        with _CONFIGURATORS_LOCK:
            if key in _CONFIGURATORS:
                _CONFIGURATORS.move_to_end(key)
                return _CONFIGURATORS[key]
            configurator = self.configurator_type(self, values)
            _CONFIGURATORS[key] = configurator
            if len(_CONFIGURATORS) > _CACHED_CONFIGURATORS:
                _CONFIGURATORS.popitem(last=False)
            return configurator
