"""The per-code cache of VQ attention and the one formula that grows it (spec transformer_vq.md §3.2, §3.5).

Keys older than the window reach a query only through their codes, so the cache keeps, per code s,
the count N_s of those keys and the mean μ_s of their values. Keys with codes z_j and values v_j join
it by

    N'_s = N_s + c_s,   c_s = #{j: z_j = s}
    μ'_s = (N_s μ_s + Σ_{j: z_j = s} v_j) / max(N'_s, 1)

(the merge rule of two caches: counts add, means combine weighted by counts; means, not sums, keep
the values O(|v|)). A query reads code s as one extra key c_s whose logit is offset by log N_s, so
exp((q+u)·c_s + log N_s) μ_s = Σ_{z_j = s} exp((q+u)·c_s) v_j; an empty code gets the masked logit.
The decoder (through ``fold_rows``), the NumPy reference and the Numba kernel all grow the cache with
``fold_into_cache``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ...autograd.functional import MASKED


class WindowBias(NamedTuple):
    """The relative-position bias of the score: u, w (D_k,), r (W+1, D_k) the vectors r_0 … r_W."""

    u: np.ndarray
    w: np.ndarray
    r: np.ndarray


@njit(cache=True)
def fold_into_cache(counts: np.ndarray, means: np.ndarray, codes: np.ndarray, values: np.ndarray) -> None:
    """Keys with ``codes`` (n,) and ``values`` (n, D_v) join the cache counts N (S,), means μ (S, D_v), in place."""
    new_counts = counts.copy()
    sums = np.empty_like(means)  # only the rows of the codes used are read: zeroing those is enough
    for j in range(codes.size):  # (zeroing all S × D_v was most of a decoding step's fold)
        sums[codes[j]] = 0.0
    for j in range(codes.size):
        new_counts[codes[j]] += 1
        sums[codes[j]] += values[j]
    for s in range(counts.size):
        # a code the keys do not use keeps its mean exactly (max(N', 1) = N' for the others)
        if new_counts[s] != counts[s]:
            means[s] = (counts[s] * means[s] + sums[s]) / new_counts[s]
    counts[:] = new_counts


@njit(cache=True)
def fold_rows(counts: np.ndarray, means: np.ndarray, codes: np.ndarray, values: np.ndarray) -> None:
    """One key per sample joins its cache: ``codes`` (B,), ``values`` (B, D_v) into counts (B, S), means
    (B, S, D_v), in place — ``fold_into_cache`` per sample, in one call from Python (the decoder's step)."""
    for b in range(codes.shape[0]):
        fold_into_cache(counts[b], means[b], codes[b:b + 1], values[b:b + 1])


def cache_logits(counts: np.ndarray) -> np.ndarray:
    """log N_s for the codes in the cache, the masked logit for empty ones: (..., S) → (..., S)."""
    return np.where(counts > 0, np.log(np.maximum(counts, 1)), MASKED)


def check_window_bias(u: np.ndarray, w: np.ndarray, r: np.ndarray, d_k: int) -> None:
    """ValueError naming ``window_bias`` unless u, w are (D_k,) and r is (W+1, D_k)."""
    if np.shape(u) != (d_k,) or np.shape(w) != (d_k,) or len(np.shape(r)) != 2 or np.shape(r)[1] != d_k:
        raise ValueError(f"window_bias (u, w, r) must have shapes ({d_k},), ({d_k},), (W+1, {d_k}); "
                         f"got {np.shape(u)}, {np.shape(w)}, {np.shape(r)}")
