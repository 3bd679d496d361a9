"""Word co-occurrence counts for GloVe and simpler GloVe (spec ``word_vectors.md`` §2.2, pitfall 6).

Within a line, every pair of tokens ``(w_k, w_{k+d})`` at distance ``1 <= d <= window`` adds a
weight to both X_ij and X_ji (i = w_k, j = w_{k+d}): ``1/d`` for Stanford GloVe (``weighting=
"harmonic"``) or ``1`` for simpler GloVe (``"uniform"``). Lines are boundaries. Pairs of one word
with itself (X_ii) are kept apart in ``diagonal``; no trainer fits them and they are not in T.

X is symmetric, so only the unordered records ``i < j`` are stored (int32, int32, float64), sorted
by ``(i, j)``; ``ordered_records`` emits both directions for training. The totals of the spec:

    T   = sum_{i != j} X_ij = 2 * counts.sum()        (ordered, both directions)
    n_i = unigram count of word i after min_count      (the vocabulary's counts, not row sums)
    N   = sum_i n_i

Counting streams the corpus: each chunk of lines becomes a pair stream of ``tokens * window``
int64 keys ``(i * V + j) * window + (d - 1)``; one ``np.sort`` groups equal pairs and distances,
so run lengths times ``1/d`` are the chunk's counts. Sorted partial results are merged (a stable
sort of concatenated sorted runs, then a segmented sum) whenever they outgrow half the ``memory``
budget, which also sizes the chunks: memory holds one chunk's pair stream plus the unique records.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .. import validation
from .text import TokenChunk, Vocab, iter_token_chunks
from .tokens import corpus_tokens

WEIGHTINGS = ("harmonic", "uniform")
# Bytes per token per window offset while a chunk is counted: its int64 key, the sort's copy, masks.
_BYTES_PER_PAIR = 24


@dataclass
class Cooccurrence:
    """Sparse symmetric co-occurrence counts of a corpus over a vocabulary of ``V`` ids (0 unused).

    rows, cols: ``(U,)`` int32 with ``rows < cols``, sorted by ``(rows, cols)``;
    counts: ``(U,)`` float64, X_ij = X_ji > 0;  diagonal: ``(V,)`` float64, X_ii;
    unigram: ``(V,)`` int64, n_i.
    """

    rows: np.ndarray
    cols: np.ndarray
    counts: np.ndarray
    diagonal: np.ndarray
    unigram: np.ndarray
    window: int
    weighting: str

    @property
    def vocab_size(self) -> int:
        """V, the number of ids including the unused id 0."""
        return self.unigram.size

    @property
    def total(self) -> float:
        """T = sum_{i != j} X_ij over ordered pairs."""
        return 2.0 * float(self.counts.sum())

    @property
    def tokens(self) -> int:
        """N = sum_i n_i."""
        return int(self.unigram.sum())

    def __len__(self) -> int:
        return self.rows.size

    def pmi(self) -> np.ndarray:
        """m_ij = log X_ij - log T - log n_i - log n_j + 2 log N, per unordered record: ``(U,)`` float64."""
        n = self.unigram.astype(np.float64)
        return (np.log(self.counts) - math.log(self.total) - np.log(n[self.rows]) - np.log(n[self.cols])
                + 2.0 * math.log(self.tokens))

    def to_dense(self) -> np.ndarray:
        """X as a dense ``(V, V)`` float64 matrix, diagonal included (for small vocabularies)."""
        dense = np.zeros((self.vocab_size, self.vocab_size))
        dense[self.rows, self.cols] = self.counts
        dense[self.cols, self.rows] = self.counts
        dense[np.diag_indices(self.vocab_size)] = self.diagonal
        return dense


def count_cooccurrences(chunks: Iterable[TokenChunk], unigram: np.ndarray, window: int = 10,
                        weighting: str = "harmonic", memory: float = 1.0) -> Cooccurrence:
    """Count the co-occurrences of ``chunks`` (ids < V, 0 = unknown and skipped) within ``window``.

    unigram: ``(V,)`` non-negative integer counts n_i; ``memory``: budget in GB for the partial
    results kept before a merge (chunks should be sized with ``chunk_tokens_for``).
    """
    unigram = np.asarray(unigram)
    if unigram.ndim != 1 or not np.issubdtype(unigram.dtype, np.integer) or unigram.size < 2:
        raise ValueError(f"unigram must be a 1-D integer array of V >= 2 counts, got {unigram.dtype} {unigram.shape}")
    window, weighting = _checked_window_weighting(window, weighting)
    memory = validation.positive_real("memory", memory)
    size = unigram.size
    budget = memory * 1e9 / 2
    diagonal = np.zeros(size)
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    held = 0
    for chunk in chunks:
        keys, counts = _count_chunk(chunk, size, window, weighting, diagonal)
        parts.append((keys, counts))
        held += keys.nbytes + counts.nbytes
        if held > budget and len(parts) > 1:
            parts = [_merge(parts)]
            held = parts[0][0].nbytes + parts[0][1].nbytes
    keys, counts = _merge(parts) if parts else (np.zeros(0, np.int64), np.zeros(0))
    if keys.size == 0:
        raise ValueError(f"the corpus has no pair of known words within window={window} on one line")
    return Cooccurrence((keys // size).astype(np.int32), (keys % size).astype(np.int32), counts, diagonal,
                        unigram.astype(np.int64), window, weighting)


def corpus_cooccurrences(path: str | os.PathLike, vocab: Vocab, window: int = 10, weighting: str = "harmonic",
                         memory: float = 1.0, encoding: str = "utf-8") -> Cooccurrence:
    """``count_cooccurrences`` over the corpus file ``path`` (text in ``encoding``); unknown words take no
    window position (as in Stanford's ``cooccur``)."""
    window, weighting = _checked_window_weighting(window, weighting)
    chunk_tokens = chunk_tokens_for(memory, window)
    return count_cooccurrences(iter_token_chunks(path, vocab, chunk_tokens, drop_unknown=True, encoding=encoding),
                               vocab.counts, window, weighting, memory)


def count_corpus(path: str | os.PathLike, min_count: int = 5, window: int = 10, weighting: str = "harmonic",
                 memory: float = 1.0, encoding: str = "utf-8", token_cache: str | os.PathLike | None = None
                 ) -> tuple[Vocab, Cooccurrence]:
    """The vocabulary of the corpus file ``path`` (text in ``encoding``) and its co-occurrences,
    tokenizing the text once.

    Equal to ``Vocab.from_corpus(path, min_count)`` followed by ``corpus_cooccurrences``, which
    tokenize the text twice. Here the text is tokenized once into ids on disk (``scratch.datasets.
    tokens``, 4 bytes a token, kept in the folder ``token_cache`` for later runs, a temporary folder
    when None); the vocabulary comes from their counts and the pairs from the ids streamed again.
    """
    min_count = validation.positive_int("min_count", min_count)
    window, weighting = _checked_window_weighting(window, weighting)
    chunk_tokens = chunk_tokens_for(memory, window)
    with corpus_tokens(path, encoding, token_cache) as tokens:
        vocab = tokens.vocab(min_count)
        chunks = tokens.chunks(vocab, chunk_tokens, drop_unknown=True)
        return vocab, count_cooccurrences(chunks, vocab.counts, window, weighting, memory)


def chunk_tokens_for(memory: float, window: int) -> int:
    """Tokens per chunk so that one chunk's pair stream takes about a quarter of ``memory`` GB."""
    memory = validation.positive_real("memory", memory)
    window = validation.positive_int("window", window)
    return max(1024, int(memory * 1e9 / 4 / (_BYTES_PER_PAIR * window)))


def ordered_records(cooc: Cooccurrence, values: np.ndarray, rng: np.random.Generator | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both directions of every record, shuffled by ``rng`` (kept in order when None).

    values: ``(U,)`` per unordered record (a target, a weight ...) -> rows, cols ``(2U,)`` int32 and
    the values ``(2U, ...)`` repeated for (i, j) and (j, i).
    """
    values = np.asarray(values)
    if values.shape[:1] != (len(cooc),):
        raise ValueError(f"values has shape {values.shape}, expected ({len(cooc)}, ...) one per record")
    rows = np.concatenate([cooc.rows, cooc.cols])
    cols = np.concatenate([cooc.cols, cooc.rows])
    values = np.concatenate([values, values])
    if rng is None:
        return rows, cols, values
    order = rng.permutation(rows.size)
    return rows[order], cols[order], values[order]


def _checked_window_weighting(window: int, weighting: str) -> tuple[int, str]:
    return validation.positive_int("window", window), validation.choice("weighting", weighting, WEIGHTINGS)


def _count_chunk(chunk: TokenChunk, size: int, window: int, weighting: str, diagonal: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique keys i * V + j (i < j) of one chunk and their counts; adds X_ii into ``diagonal``."""
    ids, offsets = chunk
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        raise ValueError(f"token ids must lie in [0, {size}), got [{ids.min()}, {ids.max()}]")
    # after[k]: tokens that follow k on its line, so (k, k + d) is a pair iff after[k] >= d.
    line_end = np.repeat(offsets[1:], np.diff(offsets))
    after = line_end - np.arange(ids.size) - 1
    wide = ids.astype(np.int64)
    streams = []
    for d in range(1, window + 1):
        a, b = wide[:-d], wide[d:]
        keep = (after[:-d] >= d) & (a != 0) & (b != 0)
        a, b = a[keep], b[keep]
        same = a == b
        diagonal += np.bincount(a[same], minlength=size) * (1.0 / d if weighting == "harmonic" else 1.0)
        lo, hi = np.minimum(a, b)[~same], np.maximum(a, b)[~same]
        streams.append((lo * size + hi) * window + (d - 1))
    stream = np.sort(np.concatenate(streams))
    if stream.size == 0:
        return stream, np.zeros(0)
    starts = np.flatnonzero(np.r_[True, stream[1:] != stream[:-1]])
    runs = np.diff(np.r_[starts, stream.size]).astype(np.float64)
    distance = stream[starts] % window + 1
    weights = runs / distance if weighting == "harmonic" else runs
    return _segment_sum(stream[starts] // window, weights)


def _segment_sum(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique sorted ``keys`` and the sums of ``values`` over each run of equal keys (``keys`` sorted)."""
    if keys.size == 0:
        return keys, values
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return keys[starts], np.add.reduceat(values, starts)


def _merge(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Merge sorted (keys, counts) runs into one, adding the counts of equal keys."""
    if len(parts) == 1:
        return parts[0]
    keys = np.concatenate([k for k, _ in parts])
    order = np.argsort(keys, kind="stable")  # timsort: linear-time on concatenated sorted runs
    return _segment_sum(keys[order], np.concatenate([c for _, c in parts])[order])
