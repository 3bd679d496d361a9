"""The models written directly in PyTorch, one function per golden case, with no call into scratch: the
independent reference the kit's tests check against every case, the example of the call convention, and
the torch peers of the benchmarks (``capsule.torch_model``, ``lm.TorchTransformerLM``). torch is imported
by the family modules only, so this package imports without it.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

MODULES = ("engine", "word_vectors", "capsule", "transformer", "transformer_vq", "perturb_max")


def functions() -> dict[str, Callable[..., Any]]:
    """Case name → the torch function that implements it (imports torch)."""
    found: dict[str, Callable[..., Any]] = {}
    for name in MODULES:
        found.update(importlib.import_module(f"{__name__}.{name}").FUNCTIONS)
    return found
