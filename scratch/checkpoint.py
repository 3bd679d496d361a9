"""Checkpoints as ``.npz`` files: written atomically, read without unpickling.

Layout of the archive (every entry a plain array, so ``np.load(..., allow_pickle=False)`` reads it):

* ``model/<name>``: the module's ``state_dict()``;
* ``optim/<name>``: the optimizer's ``state_dict()`` (when one is given);
* ``meta/<key>``: scalars, strings or arrays describing the run (step, seed, hyper-parameters ...).

The file is first written next to its destination and then renamed over it (``os.replace`` is
atomic on POSIX and Windows), so an interrupted save never leaves a truncated checkpoint behind.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .validation import boolean


def save(path: str | os.PathLike, module: Any = None, optimizer: Any = None, **meta: Any) -> Path:
    """Write ``module``'s and ``optimizer``'s state and the ``meta`` values to ``path`` atomically."""
    path = Path(path)
    entries: dict[str, np.ndarray] = {}
    if module is not None:
        entries.update({f"model/{k}": np.asarray(v) for k, v in module.state_dict().items()})
    if optimizer is not None:
        entries.update({f"optim/{k}": np.asarray(v) for k, v in optimizer.state_dict().items()})
    for key, value in meta.items():
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(f"meta value {key!r} is not a plain array, number or string")
        entries[f"meta/{key}"] = array
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **entries)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def load(path: str | os.PathLike, module: Any = None, optimizer: Any = None, *, strict: bool = True) -> dict[str, Any]:
    """Restore ``module`` and ``optimizer`` from ``path`` (when given) and return the meta values.

    Scalars come back as Python numbers or strings, arrays as arrays.
    """
    path = Path(path)
    strict = boolean("strict", strict)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    with np.load(path, allow_pickle=False) as archive:
        parts: dict[str, dict[str, np.ndarray]] = {"model": {}, "optim": {}, "meta": {}}
        for key in archive.files:
            part, _, name = key.partition("/")
            if part not in parts:
                raise ValueError(f"checkpoint {path} has an unexpected entry {key!r}")
            parts[part][name] = archive[key]
    if module is not None:
        module.load_state_dict(parts["model"], strict=strict)
    if optimizer is not None:
        if not parts["optim"]:
            raise ValueError(f"checkpoint {path} holds no optimizer state")
        optimizer.load_state_dict(parts["optim"])
    return {k: (v.item() if v.ndim == 0 else v) for k, v in parts["meta"].items()}
