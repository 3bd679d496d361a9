"""Random numbers of the word2vec kernel: word2vec.c's LCG and the draws of the sampled ids.

The generator is word2vec.c's linear congruential one, r ← r · 25214903917 + 11 (mod 2^64); a draw
in [0, n) reads (r >> 16) mod n and a draw in [0, 1) reads the top 53 bits, (r >> 11) / 2^53. Each
part of a chunk starts from its own state (``dispatch.part_seeds``), so a seed reproduces a run.

A sampled id comes from one of three samplers (spec word_vectors.md §1.2):

    SAMPLER_UNIFORM      uniform on [low, V+1), low = 1 to never draw the padding id 0
    SAMPLER_UNIGRAM      any table q (word2vec's counts^0.75) by Walker's alias method
    SAMPLER_LOG_UNIFORM  P(k) = log((k+2)/(k+1)) / log(V+1) over ranks k = 0..V−1 (id k+1)
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import config as numba_config
from numba import njit

SAMPLER_UNIFORM = 0
SAMPLER_UNIGRAM = 1
SAMPLER_LOG_UNIFORM = 2
SAMPLERS = {"uniform": SAMPLER_UNIFORM, "unigram": SAMPLER_UNIGRAM, "log-uniform": SAMPLER_LOG_UNIFORM}
LCG_MULTIPLIER = np.uint64(25214903917)
LCG_INCREMENT = np.uint64(11)


# --- the generator --------------------------------------------------------------------------------

@njit(cache=True)
def lcg_next(state: np.uint64) -> np.uint64:
    """word2vec.c's generator: r ← r · 25214903917 + 11 (mod 2^64)."""
    return state * LCG_MULTIPLIER + LCG_INCREMENT


if numba_config.DISABLE_JIT:
    def lcg_next(state: np.uint64) -> np.uint64:  # noqa: F811 -- NumPy warns on uint64 wrap-around; Python ints do not
        """word2vec.c's generator: r ← r · 25214903917 + 11 (mod 2^64)."""
        return np.uint64((int(state) * int(LCG_MULTIPLIER) + int(LCG_INCREMENT)) & 0xFFFF_FFFF_FFFF_FFFF)


@njit(cache=True)
def below(state: np.uint64, n: int) -> int:
    """A draw in [0, n) from the high bits of the LCG state."""
    return int((state >> np.uint64(16)) % np.uint64(n))


@njit(cache=True)
def unit(state: np.uint64) -> float:
    """A draw in [0, 1) from the top 53 bits of the LCG state."""
    return float(state >> np.uint64(11)) * (1.0 / 9007199254740992.0)


# --- Walker's alias tables ------------------------------------------------------------------------

def alias_table(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias tables ``(threshold float64 (n,), alias int64 (n,))`` for drawing i with probability ∝ q_i.

    A draw takes u uniform on [0, n), the bucket i = ⌊u⌋, and returns i when u − i < threshold_i, else
    alias_i: one random number and at most two table reads whatever n, where a binary search over
    the cumulative q costs log2 n dependent, cache-missing reads. Vose's construction pairs an
    under-full bucket (n q_s < 1) with an over-full one, so that for every i
    P(i) = (threshold_i + Σ_{j: alias_j = i} (1 − threshold_j)) / n = q_i / Σ q.
    """
    q = np.asarray(q, dtype=np.float64)
    if q.ndim != 1 or q.size == 0 or not np.all(np.isfinite(q)) or np.any(q < 0) or not q.sum() > 0:
        raise ValueError(f"q must be a non-empty 1-D array of non-negative finite weights, got {q!r}")
    n = q.shape[0]
    scaled = q * (n / q.sum())
    threshold = np.ones(n)
    alias = np.arange(n, dtype=np.int64)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        threshold[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    return threshold, alias  # the buckets left over hold 1/n up to rounding: threshold 1


# --- one sampled id -------------------------------------------------------------------------------

class Sampler(NamedTuple):
    """How sampled ids are drawn: ``kind`` (a SAMPLER_* constant), ``low`` the smallest id of the
    uniform sampler (1 excludes the padding id), and the alias tables of ``alias_table`` (unigram)."""

    kind: int
    low: int
    threshold: np.ndarray
    alias: np.ndarray


@njit(cache=True)
def draw(state: np.uint64, sampler: Sampler, rows: int) -> int:
    """One sampled id in [0, rows) from the LCG state ``state``, by ``sampler``."""
    if sampler.kind == SAMPLER_UNIFORM:
        return sampler.low + below(state, rows - sampler.low)
    if sampler.kind == SAMPLER_UNIGRAM:
        u = unit(state) * rows
        i = min(int(u), rows - 1)
        return i if u - i < sampler.threshold[i] else sampler.alias[i]
    k = int(math.exp(unit(state) * math.log(rows))) - 1
    return min(max(k, 0), rows - 2) + 1
