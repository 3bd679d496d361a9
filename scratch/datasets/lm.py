"""Language-model token streams: a corpus as bytes or characters, a train/validation split, and batches.

A stream is a 1-D integer array ``data``; a batch pairs inputs ``x = data[s : s + T]`` with targets
``y = data[s + 1 : s + T + 1]`` (the next token at every position).
"""
from __future__ import annotations

import gzip
import os
from collections.abc import Iterator

import numpy as np

from .paths import existing_file
from .text import load_corpus


def load_text(path: str | os.PathLike | None = None) -> str:
    """The whole text of a corpus file (``.gz`` allowed); the default corpus when ``path`` is None."""
    path = load_corpus() if path is None else existing_file(path, "corpus")
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8")
    if not text:
        raise ValueError(f"corpus {path} is empty")
    return text


def load_text_bytes(path: str | os.PathLike | None = None) -> np.ndarray:
    """The UTF-8 bytes of a corpus (default: the default corpus) as a ``(n,)`` uint8 array (256 symbols)."""
    return np.frombuffer(load_text(path).encode("utf-8"), dtype=np.uint8)


def char_vocab(text: str) -> tuple[list[str], np.ndarray]:
    """The sorted distinct characters of ``text`` and ``text`` as their ids: ``(chars, ids (n,) int32)``."""
    if not text:
        raise ValueError("text is empty")
    code_points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    distinct, ids = np.unique(code_points, return_inverse=True)
    return [chr(c) for c in distinct.tolist()], ids.astype(np.int32)


def train_val_split(data: np.ndarray, val_fraction: float = 0.05, blocks: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Split a stream into training and validation parts, deterministically.

    ``data`` is cut into ``blocks`` equal contiguous blocks and the last ``val_fraction`` of each
    block goes to validation, so the validation text is contiguous within a block and drawn from
    the whole corpus (all its sources), not only from its end.

    data: ``(n,)``  ->  train ``(≈(1 - val_fraction)·n,)``, val ``(≈val_fraction·n,)``.
    """
    data = _stream(data)
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    if not isinstance(blocks, (int, np.integer)) or not 1 <= blocks <= data.size:
        raise ValueError(f"blocks must be an integer in [1, {data.size}], got {blocks!r}")
    edges = np.linspace(0, data.size, blocks + 1).astype(np.int64)
    cuts = edges[1:] - np.round((edges[1:] - edges[:-1]) * val_fraction).astype(np.int64)
    train = np.concatenate([data[a:c] for a, c in zip(edges[:-1], cuts)])
    val = np.concatenate([data[c:b] for c, b in zip(cuts, edges[1:])])
    return train, val


def random_batches(data: np.ndarray, batch_size: int, seq_len: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` windows at uniformly random starts: ``x, y`` of shape ``(batch_size, seq_len)`` int64."""
    data = _stream(data)
    _check_positive(batch_size=batch_size, seq_len=seq_len)
    if data.size <= seq_len:
        raise ValueError(f"seq_len={seq_len} needs a stream longer than {seq_len}, got {data.size}")
    starts = rng.integers(0, data.size - seq_len, size=batch_size)
    window = starts[:, None] + np.arange(seq_len)
    return data[window].astype(np.int64), data[window + 1].astype(np.int64)


def sequential_batches(data: np.ndarray, batch_size: int, seq_len: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every position once, in order, for evaluation.

    The stream is cut into ``batch_size`` contiguous rows of ``m = (n - 1) // batch_size`` inputs
    (the remainder at the end is left out) and walked ``seq_len`` columns at a time; the last
    batch may be narrower. Yields ``x, y`` of shape ``(batch_size, ≤ seq_len)`` int64, ``y`` = ``x``
    shifted by one along each row.
    """
    data = _stream(data)
    _check_positive(batch_size=batch_size, seq_len=seq_len)
    m = (data.size - 1) // batch_size
    if m < 1:
        raise ValueError(f"batch_size={batch_size} needs a stream longer than {batch_size}, got {data.size}")
    inputs = data[: m * batch_size].reshape(batch_size, m).astype(np.int64)
    targets = data[1 : m * batch_size + 1].reshape(batch_size, m).astype(np.int64)
    for start in range(0, m, seq_len):
        yield inputs[:, start:start + seq_len], targets[:, start:start + seq_len]


def _stream(data: np.ndarray) -> np.ndarray:
    data = np.asarray(data)
    if data.ndim != 1 or not np.issubdtype(data.dtype, np.integer):
        raise ValueError(f"data must be a 1-D integer array, got {data.dtype} {data.shape}")
    return data


def _check_positive(**values: int) -> None:
    for arg, value in values.items():
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{arg} must be a positive integer, got {value!r}")
