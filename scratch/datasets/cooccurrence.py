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

Counting streams the corpus in chunks of lines; a Numba loop walks each chunk's ids once. Ids are
in decreasing frequency, so the frequent pairs have small ids: pairs with i * j <= P go straight
into a dense float64 table of the upper triangle (as in Stanford's ``cooccur``; P as large as a
cache-sized table allows, at most a quarter of ``memory``), the diagonal into its own array; every other pair becomes an int64 key
``(i * V + j) * window + (d - 1)`` of an overflow stream, where one ``np.sort`` groups equal pairs
and distances, so run lengths times the weight of d are the chunk's counts. Sorted partial results
are merged (a stable sort of concatenated sorted runs, then a segmented sum) whenever they outgrow
a quarter of ``memory``, which also sizes the chunks. Harmonic weights are counted as L/d with
L = lcm(1..window) (integers, exact in float64 in any order while below 2^53) and divided by L at
the end, so the counts are the correctly rounded sums, the same for every chunking and memory.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numba import njit

from .. import validation
from .text import TokenChunk, Vocab, iter_token_chunks
from .tokens import corpus_tokens

WEIGHTINGS = ("harmonic", "uniform")
# Cells of the dense table: 32 MB, about a last-level cache; a larger table misses the cache on most
# updates and counts slower than sorting its extra pairs (4M cells: 1.7 s, 64M: 2.2 s on 5.5M tokens).
_DENSE_CELLS = 1 << 22
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
    scale = _exact_scale(window, weighting, int(unigram.sum()))
    weights = scale / np.arange(1, window + 1) if weighting == "harmonic" else np.ones(window)
    row_start, row_last = _dense_layout(size, min(_DENSE_CELLS, int(memory * 1e9 / 4 / 8)))
    dense = np.zeros(row_start[-1])
    budget = memory * 1e9 / 4
    diagonal = np.zeros(size)
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    held = 0
    for chunk in chunks:
        keys, counts = _count_chunk(chunk, size=size, window=window, weights=weights, row_start=row_start,
                                    row_last=row_last, dense=dense, diagonal=diagonal)
        parts.append((keys, counts))
        held += keys.nbytes + counts.nbytes
        if held > budget and len(parts) > 1:
            parts = [_merge(parts)]
            held = parts[0][0].nbytes + parts[0][1].nbytes
    parts.append(_dense_records(dense, row_start, size))
    keys, counts = _merge(parts)
    if keys.size == 0:
        raise ValueError(f"the corpus has no pair of known words within window={window} on one line")
    return Cooccurrence((keys // size).astype(np.int32), (keys % size).astype(np.int32), counts / scale,
                        diagonal / scale, unigram.astype(np.int64), window, weighting)


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
    return rows.take(order), cols.take(order), values.take(order, axis=0)  # take: a row copy, not fancy indexing


def _checked_window_weighting(window: int, weighting: str) -> tuple[int, str]:
    return validation.positive_int("window", window), validation.choice("weighting", weighting, WEIGHTINGS)


def _exact_scale(window: int, weighting: str, tokens: int) -> int:
    """L = lcm(1..window) for harmonic weights, when every sum of the weights L/d of ``tokens`` tokens
    is an integer below 2^53: then the float64 sums are exact, whatever their order, and X = sum / L is
    the correctly rounded count; 1 otherwise (uniform weights are integers already)."""
    scale = math.lcm(*range(1, window + 1)) if weighting == "harmonic" else 1
    return scale if scale * window * max(tokens, 1) < 2**53 else 1


def _dense_layout(size: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Which pairs i < j a dense table holds: those with i * j <= P (frequent words have small ids),
    P as large as ``cells`` allows. Row i holds j = i+1 .. row_last[i] from cell row_start[i];
    row_start ``(size + 1,)`` int64 ends with the number of cells."""
    ids = np.arange(size, dtype=np.int64)

    def layout(product: int) -> tuple[np.ndarray, np.ndarray]:
        last = np.minimum(size - 1, product // np.maximum(ids, 1))
        last[0] = 0
        row_start = np.zeros(size + 1, np.int64)
        np.cumsum(np.maximum(last - ids, 0), out=row_start[1:])
        return row_start, np.maximum(last, ids)

    low, high = 0, (size - 1) ** 2
    while low < high:
        product = (low + high + 1) // 2
        low, high = (product, high) if layout(product)[0][-1] <= cells else (low, product - 1)
    return layout(low)


@njit(cache=True)
def _count_pairs(ids, offsets, size, weights, row_start, row_last, dense, diagonal, overflow):
    """Add the weight of each pair at distance d <= window on a line into ``dense`` (pairs the table
    holds) or ``diagonal``; write the key (i * V + j) * window + d - 1 of every other pair into
    ``overflow`` and return how many were written. Id 0 (unknown) takes part in no pair."""
    window = weights.size
    written = 0
    for line in range(offsets.size - 1):
        end = offsets[line + 1]
        for k in range(offsets[line], end):
            a = ids[k]
            if a == 0:
                continue
            for d in range(1, min(window, end - 1 - k) + 1):
                b = ids[k + d]
                if b == 0:
                    continue
                if a == b:
                    diagonal[a] += weights[d - 1]
                    continue
                lo, hi = min(a, b), max(a, b)
                if hi <= row_last[lo]:
                    dense[row_start[lo] + hi - lo - 1] += weights[d - 1]
                else:
                    overflow[written] = (np.int64(lo) * size + hi) * window + d - 1
                    written += 1
    return written


def _count_chunk(chunk: TokenChunk, size: int, window: int, weights: np.ndarray, row_start: np.ndarray,
                 row_last: np.ndarray, dense: np.ndarray, diagonal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Count one chunk into ``dense`` and ``diagonal``; the sorted unique keys i * V + j (i < j) of the
    pairs outside the dense table, and their weights (one ``np.sort`` groups equal pairs and distances)."""
    ids, offsets = chunk
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        raise ValueError(f"token ids must lie in [0, {size}), got [{ids.min()}, {ids.max()}]")
    overflow = np.empty(ids.size * window, np.int64)
    written = _count_pairs(ids, offsets, size=size, weights=weights, row_start=row_start, row_last=row_last,
                           dense=dense, diagonal=diagonal, overflow=overflow)
    stream = np.sort(overflow[:written])
    if stream.size == 0:
        return stream, np.zeros(0)
    starts = np.flatnonzero(np.r_[True, stream[1:] != stream[:-1]])
    runs = np.diff(np.r_[starts, stream.size]).astype(np.float64)
    return _segment_sum(stream[starts] // window, runs * weights[stream[starts] % window])


def _dense_records(dense: np.ndarray, row_start: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The keys i * V + j and weights of the non-zero cells of the dense table, sorted by key."""
    cells = np.flatnonzero(dense)
    rows = np.searchsorted(row_start, cells, side="right") - 1
    return rows * size + cells - row_start[rows] + rows + 1, dense[cells]


def _segment_sum(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique sorted ``keys`` and the sums of ``values`` over each run of equal keys (``keys`` sorted)."""
    if keys.size == 0:
        return keys, values
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return keys[starts], np.add.reduceat(values, starts)


def _merge(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Merge sorted (keys, counts) runs into one, adding the counts of equal keys."""
    parts = [part for part in parts if part[0].size] or [(np.zeros(0, np.int64), np.zeros(0))]
    if len(parts) == 1:
        return parts[0]
    keys = np.concatenate([k for k, _ in parts])
    order = np.argsort(keys, kind="stable")  # timsort: linear-time on concatenated sorted runs
    return _segment_sum(keys[order], np.concatenate([c for _, c in parts])[order])
