"""Deterministic output files: gzip text with mtime 0 and no file name, ``.npz`` zip entries with a
fixed timestamp, written atomically; and a one-line description of a written file."""
from __future__ import annotations

import gzip
import io
import os
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..text import iter_lines, tokenize
from .registry import sha256


def gzip_lines(lines: Iterable[str]) -> bytes:
    """UTF-8 lines, each ending in ``\\n``, gzip-compressed at level 9 with mtime 0 and no file name."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buffer, mtime=0) as f:
        for line in lines:
            f.write(line.encode("utf-8") + b"\n")
    return buffer.getvalue()


def npz_bytes(**arrays: np.ndarray) -> bytes:
    """An ``.npz`` archive of ``arrays`` (deflated, fixed timestamps), readable with ``allow_pickle=False``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, array in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            with archive.open(entry, "w") as f:
                np.lib.format.write_array(f, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` (mode 644) through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def describe(path: Path) -> str:
    """A Markdown table row for ``path``: name, bytes, sha256, and for a corpus its lines, tokens and
    number of words occurring at least 5 times."""
    row = f"| {path.name} | {path.stat().st_size:,} | {sha256(path)} |"
    if not path.name.endswith(".txt.gz"):
        return row + " | | |"
    counts: Counter[str] = Counter()
    lines = 0
    for line in iter_lines(path):
        counts.update(tokenize(line))
        lines += 1
    frequent = sum(count >= 5 for count in counts.values())
    return row + f" {lines:,} | {sum(counts.values()):,} | {frequent:,} |"
