"""Language-model token streams: a corpus as bytes or characters, a train/validation split, and batches.

A stream is a 1-D integer array ``data``; a batch pairs inputs ``x = data[s : s + T]`` with targets
``y = data[s + 1 : s + T + 1]`` (the next token at every position). ``copy_mix_batches`` replaces a
fraction of those windows by periodic copies of a span of the stream (the copy-rich training set of
spec B.5); ``stdlib_source_bytes`` is the spec's pilot corpus, read from the running interpreter.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..validation import integer, positive_int, probability, text_encoding
from .paths import existing_file
from .text import load_corpus, undecodable


def load_text(path: str | os.PathLike | None = None, encoding: str = "utf-8") -> str:
    """The whole text of a corpus file (``.gz`` allowed) in ``encoding``; the default corpus when ``path``
    is None. A byte that does not decode raises ``UnicodeDecodeError`` naming the file and the line."""
    path = load_corpus() if path is None else existing_file(path, "corpus")
    raw = path.read_bytes()
    try:
        text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode(text_encoding("encoding", encoding))
    except UnicodeDecodeError as error:
        raise undecodable(path, error) from None
    if not text:
        raise ValueError(f"corpus {path} is empty")
    return text


def load_text_bytes(path: str | os.PathLike | None = None, encoding: str = "utf-8") -> np.ndarray:
    """The UTF-8 bytes of a corpus (default: the default corpus) read in ``encoding``, as a ``(n,)`` uint8
    array (256 symbols)."""
    return np.frombuffer(load_text(path, encoding).encode("utf-8"), dtype=np.uint8)


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
    val_fraction = probability("val_fraction", val_fraction, allow_zero=False, allow_one=False)
    blocks = integer("blocks", blocks, minimum=1, maximum=data.size)
    edges = np.linspace(0, data.size, blocks + 1).astype(np.int64)
    cuts = edges[1:] - np.round((edges[1:] - edges[:-1]) * val_fraction).astype(np.int64)
    train = np.concatenate([data[a:c] for a, c in zip(edges[:-1], cuts)])
    val = np.concatenate([data[c:b] for c, b in zip(cuts, edges[1:])])
    return train, val


def random_batches(data: np.ndarray, batch_size: int, seq_len: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` windows at uniformly random starts: ``x, y`` of shape ``(batch_size, seq_len)`` int64."""
    data = _stream(data)
    batch_size, seq_len = positive_int("batch_size", batch_size), positive_int("seq_len", seq_len)
    if data.size <= seq_len:
        raise ValueError(f"seq_len={seq_len} needs a stream longer than {seq_len}, got {data.size}")
    starts = rng.integers(0, data.size - seq_len, size=batch_size)
    window = starts[:, None] + np.arange(seq_len)
    return data[window].astype(np.int64), data[window + 1].astype(np.int64)


def copy_mix_batches(data: np.ndarray, batch_size: int, seq_len: int, rng: np.random.Generator,
                     copy_fraction: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``random_batches`` with the first ``k = round(copy_fraction · batch_size)`` rows replaced by copies.

    A copy row takes a span s = data[a : a + L] of the stream itself, with L uniform on
    {⌈N/4⌉, …, ⌊N/2⌋} (N = ``seq_len``) and a uniform, and tiles it: z = s ‖ s ‖ s ‖ … cut to N + 1
    tokens, x = z[:N], y = z[1:N + 1]. Every target from position L − 1 on is then the token L back
    in the input (z_{t+1} = z_{t+1−L}), predictable by copying across the distance L.

    Why this form: it is the training-time version of the copy test (``scratch.training.lm.repeated_windows``:
    u ‖ u for a held-out window u of length T/2, no separator), so what is learned transfers to it —
    with L = N/2 a copy row *is* that test at T = N on training text. Text spans (not random bytes)
    keep the symbol statistics of natural text, so the copy rows teach "look up the earlier
    occurrence" rather than a new alphabet; no separator byte is added because the test has none.
    Varying L over [N/4, N/2] keeps the copy distance from being one fixed offset that a purely
    positional head could learn. The rows are drawn after the natural batch from the same generator,
    so ``copy_fraction = 0`` returns exactly ``random_batches(data, batch_size, seq_len, rng)``.

    data ``(n,)`` int  ->  x, y ``(batch_size, seq_len)`` int64.
    """
    copy_fraction = probability("copy_fraction", copy_fraction)
    x, y = random_batches(data, batch_size, seq_len, rng)
    copies = int(round(copy_fraction * batch_size))
    if copies == 0:
        return x, y
    if seq_len < 2:
        raise ValueError(f"copy rows need seq_len ≥ 2, got {seq_len}")
    data = _stream(data)
    periods = rng.integers(-(-seq_len // 4), seq_len // 2 + 1, size=copies)
    starts = rng.integers(0, data.size - periods + 1)
    t = np.arange(seq_len + 1)
    z = data[starts[:, None] + t % periods[:, None]].astype(np.int64)
    x[:copies], y[:copies] = z[:, :-1], z[:, 1:]
    return x, y


def stdlib_source_bytes() -> tuple[np.ndarray, str]:
    """The pilot corpus of spec B.5: the top-level ``*.py`` files of the running interpreter's standard
    library (``sysconfig.get_paths()["stdlib"]``), sorted by name and concatenated, bytes > 127 → ``?``.

    Returns the ``(n,)`` uint8 stream and its SHA-256 (hex), which identifies the Python version's text.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(root.glob("*.py"))
    if not files:
        raise FileNotFoundError(f"no *.py files in the standard library directory {root}")
    data = np.frombuffer(b"".join(f.read_bytes() for f in files), dtype=np.uint8).copy()
    data[data > 127] = ord("?")
    return data, hashlib.sha256(data.tobytes()).hexdigest()


def head_tail_split(data: np.ndarray, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """The first ``1 − val_fraction`` of a stream for training, the rest for validation (the pilot's split)."""
    data = _stream(data)
    val_fraction = probability("val_fraction", val_fraction, allow_zero=False, allow_one=False)
    cut = data.size - int(round(data.size * val_fraction))
    return data[:cut], data[cut:]


def lm_corpus_split(corpus: str | os.PathLike | None = None,
                    encoding: str = "utf-8") -> tuple[np.ndarray, np.ndarray, str]:
    """Train and validation byte streams of a corpus (a text file read in ``encoding``), and a one-line
    description of it.

    ``None``: the shipped English text, split by ``train_val_split`` (last 5% of each of 20 blocks
    held out); ``"stdlib"``: ``stdlib_source_bytes`` split by ``head_tail_split`` (first 90% / last
    10%, the pilot's setting of spec B.5); any other value: a text file, split like the default.
    """
    if corpus is not None and str(corpus) == "stdlib":
        data, digest = stdlib_source_bytes()
        train, val = head_tail_split(data)
        return train, val, f"stdlib *.py of {sysconfig.get_paths()['stdlib']}, {data.size:,} bytes, sha256 {digest}"
    data = load_text_bytes(corpus, encoding)
    train, val = train_val_split(data)
    name = "the shipped English corpus" if corpus is None else str(corpus)
    return train, val, f"{name}, {data.size:,} bytes, sha256 {hashlib.sha256(data.tobytes()).hexdigest()}"


def sequential_batches(data: np.ndarray, batch_size: int, seq_len: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every position once, in order, for evaluation.

    The stream is cut into ``batch_size`` contiguous rows of ``m = (n - 1) // batch_size`` inputs
    (the remainder at the end is left out) and walked ``seq_len`` columns at a time; the last
    batch may be narrower. Yields ``x, y`` of shape ``(batch_size, ≤ seq_len)`` int64, ``y`` = ``x``
    shifted by one along each row.
    """
    data = _stream(data)
    batch_size, seq_len = positive_int("batch_size", batch_size), positive_int("seq_len", seq_len)
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
