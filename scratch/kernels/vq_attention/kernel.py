"""The Numba twin of the blockwise reference (``reference``): the same steps, batched, ``prange`` over samples.

Each sample is independent (its own cache), so the result does not depend on the thread count; du,
dw, dr are accumulated per sample and summed at the end for the same reason. The cache grows with
the shared ``fold_into_cache``.

Per block the work is a handful of matrix products written by ``gemm`` straight into buffers
allocated once per sample (column blocks and transposed views, no copies, gradients added in place;
the window's keys and values are read from the inputs, rows nL − L + lo … nL + L), and one pass per
score row for everything elementwise:

- scores: (q+u) K_winᵀ and (q+u) Cᵀ into the two column blocks of an (L, 2L+S) buffer, and the bias
  products P̃ = (q+w) r̃ᵀ with r̃_c = r_{W−c} (r reversed), so that the bias of row i is one contiguous
  run: column L+i−W+c gets P̃[i, c]; then the cache columns get log N;
- weights: per row, the maximum over the causal window slots [lo, L+i] and the cache, e^(s − m) on
  them (``vector_math.exp32`` for float32, ``math.exp`` for float64), zeros on the slots after the query;
  lo = L for block 0 (there is no block −1), else 0;
- forward: the weights divided by their row sum, lse = m + log(row sum), O = A_win V_win + A_cache μ;
- backward: the weights again from the saved log-normaliser, dS = A ⊙ (dO [V_win; μ]ᵀ − rowsum(dO ⊙ O))
  in place, dP̃[i, c] = dS[i, L+i−W+c] read back along the same runs, and the products of §3.3.

Row maxima, sums and dot products are ``vector_math.row_max``, ``row_sum`` and ``row_dot``, written so
that they vectorize (shared with the window-attention kernel).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ...autograd.functional import MASKED
from ..blas import gemm
from ..vector_math import exp_like, row_dot, row_max, row_sum
from .cache import WindowBias, fold_into_cache
from .reference import ForwardTape


@njit(cache=True)
def _exp_shifted(x, shift):
    """x ← e^(x − shift) in place: ``vector_math.exp_like`` (the vectorized ``exp32`` for float32,
    ``math.exp`` for float64)."""
    for j in range(x.size):
        x[j] = exp_like(x[j] - shift)


@njit(cache=True)
def _block_scores(q_block, k_window, codebook, bias, r_reversed, counts, lo, qu, qw, position, log_counts, scores):
    """Scores of one query block (``reference.block_scores``): window slots [lo, 2L) and the cache columns 2L…
    of ``scores`` (L, 2L+S), with the bias and log N added; fills qu = q+u, qw = q+w, P̃ (L, W+1), log N (S,)."""
    L, W = q_block.shape[0], r_reversed.shape[0] - 1
    for i in range(L):
        qu[i] = q_block[i] + bias.u
        qw[i] = q_block[i] + bias.w
    gemm(qu, k_window.T, scores[:, lo:2 * L], 0.0)
    gemm(qu, codebook.T, scores[:, 2 * L:], 0.0)
    gemm(qw, r_reversed.T, position, 0.0)
    for s in range(counts.size):
        log_counts[s] = np.log(counts[s]) if counts[s] > 0 else MASKED
    for i in range(L):
        scores[i, 2 * L:] += log_counts
        scores[i, L + i - W:L + i + 1] += position[i]


@njit(cache=True)
def _block_weights(scores, lo, lse, forward):
    """Scores → weights in place, row by row: e^(s − m) on the causal window slots [lo, L+i] and the cache,
    zero on the slots after the query. ``forward``: m is the row maximum, the weights are normalised and
    lse = m + log Σ_j e^(s_j − m) is written; otherwise m = lse (the backward's recomputation)."""
    L = scores.shape[0]
    for i in range(L):
        window, cache = scores[i, lo:L + i + 1], scores[i, 2 * L:]
        m = max(row_max(window), row_max(cache)) if forward else lse[i]
        _exp_shifted(window, m)
        _exp_shifted(cache, m)
        scores[i, L + i + 1:2 * L] = 0.0
        if forward:
            den = row_sum(window) + row_sum(cache)
            lse[i] = m + np.log(den)
            window /= den
            cache /= den


@njit(cache=True, parallel=True)
def _forward_blocks(q, k, v, codes, codebook, bias, block, out, lse, saved_counts, saved_means):
    """The forward of ``blockwise_forward_numba`` into out, lse and the cache before each block."""
    B, T, Dk = q.shape
    Dv, S, L, W = v.shape[2], codebook.shape[0], block, bias.r.shape[0] - 1
    r_reversed = np.ascontiguousarray(bias.r[::-1])
    for b in prange(B):
        counts = np.zeros(S, q.dtype)
        means = np.zeros((S, Dv), q.dtype)
        qu, qw = np.empty((L, Dk), q.dtype), np.empty((L, Dk), q.dtype)
        position = np.empty((L, W + 1), q.dtype)
        log_counts, scores = np.empty(S, q.dtype), np.empty((L, 2 * L + S), q.dtype)
        for n in range(T // L):
            saved_counts[b, n] = counts
            saved_means[b, n] = means
            lo = L if n == 0 else 0
            now, first = n * L, n * L - L + lo
            _block_scores(q[b, now:now + L], k[b, first:now + L], codebook, bias, r_reversed, counts, lo, qu, qw,
                          position, log_counts, scores)
            _block_weights(scores, lo, lse[b, now:now + L], True)
            gemm(scores[:, lo:2 * L], v[b, first:now + L], out[b, now:now + L], 0.0)
            gemm(scores[:, 2 * L:], means, out[b, now:now + L], 1.0)
            if n >= 1:
                fold_into_cache(counts, means, codes[b, (n - 1) * L:n * L], v[b, (n - 1) * L:n * L])


def blockwise_forward_numba(q: np.ndarray, k: np.ndarray, v: np.ndarray, codes: np.ndarray, codebook: np.ndarray,
                            bias: WindowBias, block: int) -> ForwardTape:
    """Batched ``reference.blockwise_forward_reference``: q, k (B, T, D_k), v (B, T, D_v), codes (B, T).

    The results are allocated here, by NumPy, which asks the operating system for transparent huge pages
    for large arrays; allocated inside the jitted code they cost a page fault per 4 KiB written."""
    B, T, Dv, S = q.shape[0], q.shape[1], v.shape[2], codebook.shape[0]
    tape = ForwardTape(np.empty((B, T, Dv), q.dtype), np.empty((B, T), q.dtype),
                       np.empty((B, T // block, S), q.dtype), np.empty((B, T // block, S, Dv), q.dtype))
    _forward_blocks(q, k, v, codes, codebook, bias, block, *tape)
    return tape


@njit(cache=True, parallel=True)
def _backward_blocks(grad, q, k, v, codes, codebook, bias, block, tape, dq, dk, dv, du_b, dw_b, dr_b):
    """The backward of ``blockwise_backward_numba`` into dq, dk, dv (zeros), per-sample du, dw, dr (zeros)."""
    B, T, Dk = q.shape
    Dv, S, L, W = v.shape[2], codebook.shape[0], block, bias.r.shape[0] - 1
    r_reversed = np.ascontiguousarray(bias.r[::-1])
    for b in prange(B):
        carried = np.zeros((S, Dv), q.dtype)
        d_means = np.empty((S, Dv), q.dtype)
        qu, qw = np.empty((L, Dk), q.dtype), np.empty((L, Dk), q.dtype)
        dqu, dqw = np.empty((L, Dk), q.dtype), np.empty((L, Dk), q.dtype)
        position, d_position = np.empty((L, W + 1), q.dtype), np.empty((L, W + 1), q.dtype)
        log_counts, weights = np.empty(S, q.dtype), np.empty((L, 2 * L + S), q.dtype)
        d_scores = np.empty((L, 2 * L + S), q.dtype)
        for n in range(T // L - 1, -1, -1):
            counts, means = tape.counts[b, n], tape.means[b, n]
            lo = L if n == 0 else 0
            now, first = n * L, n * L - L + lo
            g = grad[b, now:now + L]
            _block_scores(q[b, now:now + L], k[b, first:now + L], codebook, bias, r_reversed, counts, lo, qu, qw,
                          position, log_counts, weights)
            _block_weights(weights, lo, tape.lse[b, now:now + L], False)
            gemm(g, v[b, first:now + L].T, d_scores[:, lo:2 * L], 0.0)
            gemm(g, means.T, d_scores[:, 2 * L:], 0.0)
            for i in range(L):
                rowdot = row_dot(g[i], tape.out[b, now + i])
                for j in range(lo, 2 * L + S):
                    d_scores[i, j] = weights[i, j] * (d_scores[i, j] - rowdot)
            gemm(weights[:, lo:2 * L].T, g, dv[b, first:now + L], 1.0)
            gemm(weights[:, 2 * L:].T, g, d_means, 0.0)
            for s in range(S):
                carried[s] += d_means[s] / max(counts[s], 1.0)
            if n >= 2:
                for j in range((n - 2) * L, (n - 1) * L):
                    dv[b, j] += carried[codes[b, j]]
            gemm(d_scores[:, lo:2 * L], k[b, first:now + L], dqu, 0.0)
            gemm(d_scores[:, 2 * L:], codebook, dqu, 1.0)
            gemm(d_scores[:, lo:2 * L].T, qu, dk[b, first:now + L], 1.0)
            for i in range(L):
                d_position[i] = d_scores[i, L + i - W:L + i + 1]
                d_position[i, :max(lo - (L + i - W), 0)] = 0.0  # block −1 of block 0: no slots there
            gemm(d_position, r_reversed, dqw, 0.0)
            gemm(d_position.T, qw, dr_b[b], 1.0)
            for i in range(L):
                dq[b, now + i] = dqu[i] + dqw[i]
                du_b[b] += dqu[i]
                dw_b[b] += dqw[i]


def blockwise_backward_numba(grad: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray, codes: np.ndarray,
                             codebook: np.ndarray, bias: WindowBias, block: int, tape: ForwardTape):
    """Batched ``reference.blockwise_backward_reference``: (dq, dk, dv, du, dw, dr), du, dw, dr summed over B
    (allocated by NumPy, as in ``blockwise_forward_numba``)."""
    B, Dk, W = q.shape[0], q.shape[2], bias.r.shape[0] - 1
    dq, dk, dv = np.empty_like(q), np.zeros_like(k), np.zeros_like(v)
    du_b, dw_b = np.zeros((B, Dk), q.dtype), np.zeros((B, Dk), q.dtype)
    dr_b = np.zeros((B, W + 1, Dk), q.dtype)  # as r̃: row c holds dr_{W−c}
    _backward_blocks(grad, q, k, v, codes, codebook, bias, block, tape, dq, dk, dv, du_b, dw_b, dr_b)
    return dq, dk, dv, du_b.sum(axis=0), dw_b.sum(axis=0), dr_b.sum(axis=0)[::-1].copy()
