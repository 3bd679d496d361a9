"""Where the shipped data lives: the repository's ``data/`` folder, or ``$SCRATCH_DATA`` when set."""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "SCRATCH_DATA"
FETCH_COMMAND = "python scripts/fetch_data.py"


def data_dir() -> Path:
    """The data folder: ``$SCRATCH_DATA`` if set, else ``data/`` at the root of the repository."""
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "data"


def data_path(name: str) -> Path:
    """Path of the data file ``name``; ``FileNotFoundError`` naming the file and the command that makes it."""
    path = data_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"data file {path} not found; `{FETCH_COMMAND}` makes the default data files and "
            f"`{FETCH_COMMAND} --optional` adds the larger ones (GCIDE, Fashion-MNIST)"
        )
    return path


def existing_file(path: str | os.PathLike, what: str = "file") -> Path:
    """``Path(path)``, or ``FileNotFoundError`` naming ``what`` and the path when it is not a file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    return path
