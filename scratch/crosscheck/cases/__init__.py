"""The golden cases of each family, built on demand from the reference code (one module per family)."""
from __future__ import annotations

import importlib
from functools import lru_cache

from ..checker import Case

FAMILIES = ("engine", "word2vec", "glove", "capsule", "transformer", "transformer_vq", "perturb_max")


@lru_cache(maxsize=None)
def _built(family: str) -> tuple[Case, ...]:
    return tuple(importlib.import_module(f"{__name__}.{family}").cases())


def cases(family: str | None = None) -> list[Case]:
    """The cases of ``family`` (one of ``FAMILIES``), or of every family when None; built once per process."""
    if family is not None and family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    return [c for f in ((family,) if family else FAMILIES) for c in _built(f)]


def case(name: str) -> Case:
    """The case called ``name`` ("family/case", e.g. "capsule/route_su2")."""
    family = name.split("/")[0]
    found = [c for c in cases(family if family in FAMILIES else None) if c.name == name]
    if not found:
        raise KeyError(f"no case {name!r}; see scratch.crosscheck.cases(family) for the names")
    return found[0]
