"""Checkpoints as ``.npz`` files: written atomically, read without unpickling.

Layout of the archive (every entry a plain array, so ``np.load(..., allow_pickle=False)`` reads it):

* ``model/<name>``: the module's ``state_dict()``;
* ``optim/<name>``: the optimizer's ``state_dict()`` (when one is given);
* ``meta/<key>``: scalars, strings or arrays describing the run (step, seed, hyper-parameters ...).

The file is first written next to its destination (``<name><random>.tmp``), flushed to disk
(``fsync``) and then renamed over it (``os.replace`` is atomic on POSIX and Windows), so an
interrupted save never leaves a truncated checkpoint behind; the temporary file of a save that was
killed is removed by the next ``save`` or ``load`` of that checkpoint (one process at a time writes
a given checkpoint, so such a file is never a save in progress). The checkpoint gets the mode
of any new file of the user (0666 less the umask), not the temporary file's 0600.

A run stores its configuration (``meta/config``, JSON of the flags) so that ``config_differences``
can tell whether a resumed run continues the same run; ``read_meta`` reads the meta values alone.
A file that is not a readable checkpoint (truncated, corrupted, another kind of file, pickled
objects) raises ``CheckpointError`` naming it.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .validation import boolean

CONFIG_KEY = "config"
TEMPORARY_SUFFIX = ".tmp"
_MISSING = object()


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or that another run wrote; the message names the file."""


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
    if path.parent.exists() and not path.parent.is_dir():
        raise NotADirectoryError(f"cannot write checkpoint {path}: {path.parent} is a file, not a folder")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write checkpoint {path}: it is a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=TEMPORARY_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **entries)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, new_file_mode())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    _fsync_folder(path.parent)
    return path


def load(path: str | os.PathLike, module: Any = None, optimizer: Any = None, *, strict: bool = True) -> dict[str, Any]:
    """Restore ``module`` and ``optimizer`` from ``path`` (when given) and return the meta values.

    Scalars come back as Python numbers or strings, arrays as arrays.
    """
    strict = boolean("strict", strict)
    wanted = ["meta"] + ["model"] * (module is not None) + ["optim"] * (optimizer is not None)
    path, parts = Path(path), _read(path, wanted)
    if module is not None:
        module.load_state_dict(parts["model"], strict=strict)
    if optimizer is not None:
        if not parts["optim"]:
            raise CheckpointError(f"checkpoint {path} holds no optimizer state")
        optimizer.load_state_dict(parts["optim"])
    return _meta_values(parts["meta"])


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The meta values of the checkpoint ``path`` (as ``load`` returns them), without reading its arrays."""
    return _meta_values(_read(path, ["meta"])["meta"])


def _meta_values(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return {k: (v.item() if v.ndim == 0 else v) for k, v in arrays.items()}


def _read(path: str | os.PathLike, wanted: Iterable[str]) -> dict[str, dict[str, np.ndarray]]:
    """The entries of the parts ``wanted`` ("model", "optim", "meta") of the checkpoint ``path``, by part."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint {path} is a folder, not a checkpoint file")
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    remove_stale_temporaries(path)
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"checkpoint {path} is not an .npz archive (truncated, or another kind of file)")
    parts: dict[str, dict[str, np.ndarray]] = {"model": {}, "optim": {}, "meta": {}}
    try:
        with np.load(path, allow_pickle=False) as archive:
            unexpected = [key for key in archive.files if key.partition("/")[0] not in parts]
            if not unexpected:
                for key in archive.files:
                    part, _, name = key.partition("/")
                    if part in wanted:
                        parts[part][name] = archive[key]
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as error:
        raise CheckpointError(f"checkpoint {path} cannot be read (corrupted?): {type(error).__name__}: {error}") \
            from error
    if unexpected:
        raise CheckpointError(f"checkpoint {path} has an unexpected entry {unexpected[0]!r}")
    return parts


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that interrupted saves of the checkpoint ``path`` left next to it
    (``<name><8 random characters>.tmp``); returns them. A file that cannot be removed (a read-only
    folder, another user's file) is left in place."""
    path = Path(path)
    pattern = re.compile(re.escape(path.name) + r"[a-z0-9_]{8}" + re.escape(TEMPORARY_SUFFIX))
    removed = []
    for candidate in path.parent.iterdir():
        if pattern.fullmatch(candidate.name):
            try:
                candidate.unlink()
            except OSError:
                continue
            removed.append(candidate)
    return removed


def new_file_mode() -> int:
    """The mode a newly created file gets from the process's umask (0644 under umask 022)."""
    umask = os.umask(0o022)  # the umask can only be read by setting it; restored at once
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    """Flush the folder's entry of a renamed file to disk, where the system allows opening a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def encode_config(config: Mapping[str, Any]) -> str:
    """A run's configuration (flag name → value) as the JSON string stored under ``meta/config``."""
    return json.dumps(dict(config), sort_keys=True, default=str)


def config_differences(path: str | os.PathLike, config: Mapping[str, Any],
                       may_change: Iterable[str] = ()) -> dict[str, tuple[Any, Any]]:
    """The settings of ``config`` that differ from those stored in the checkpoint ``path``, other than
    those in ``may_change``: name → (stored value, value in ``config``); a setting only one side has
    counts as a difference (its missing side is None).

    ``CheckpointError`` when the checkpoint stores no configuration.
    """
    meta = read_meta(path)
    if CONFIG_KEY not in meta:
        raise CheckpointError(f"checkpoint {path} stores no run configuration, so a resumed run cannot be checked "
                              "against it")
    stored = json.loads(meta[CONFIG_KEY])
    current = json.loads(encode_config(config))
    allowed = set(may_change)
    return {name: (stored.get(name), current.get(name)) for name in sorted(set(stored) | set(current))
            if name not in allowed and stored.get(name, _MISSING) != current.get(name, _MISSING)}
