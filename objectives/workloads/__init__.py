"""Workloads: the matmul graph a design runs, from the model zoo, a Hugging Face
``config.json`` or a chain of GEMMs.

* :mod:`.graph` -- :class:`Workload` (nodes, dependencies, blocks) and :func:`gemm_chain`;
* :mod:`.zoo` -- the transformer builder and the named models (:func:`build_model`);
* :mod:`.hf_config` -- a workload from a BERT/ViT/DeiT-style ``config.json``;
* :mod:`.spec` -- the ``workload`` object of design files and ``--workload`` files.

Example:
    >>> build_model("deit-t", tokens=192, embed_and_head=False).n_nodes
    8
"""

from ssropt.objectives.workloads.graph import (
    Dependency,
    MatmulNode,
    NonlinearOp,
    Role,
    Section,
    Workload,
    WorkloadError,
    gemm_chain,
)
from ssropt.objectives.workloads.hf_config import from_hf_config
from ssropt.objectives.workloads.spec import load_workload_file, workload_from_spec
from ssropt.objectives.workloads.zoo import BLOCK_NODES, build_model, known_models, transformer

__all__ = [
    "BLOCK_NODES",
    "Dependency",
    "MatmulNode",
    "NonlinearOp",
    "Role",
    "Section",
    "Workload",
    "WorkloadError",
    "build_model",
    "from_hf_config",
    "gemm_chain",
    "known_models",
    "load_workload_file",
    "transformer",
    "workload_from_spec",
]
