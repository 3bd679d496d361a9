"""Blockwise VQ attention in NumPy, forward and backward: the definition the Numba kernel is checked against
(spec transformer_vq.md §3.2, §3.3).

The sequence is cut into R blocks of length L ≥ W. Query block n attends to 2L window slots — block
n−1 and block n (causal) — with the bias at distance d = L+i−j' for query row i and slot j' (the
"rel-shift"), and to the S cache slots holding blocks ≤ n−2 (``cache``); one joint row max over all
2L + S slots, the masked logit for slots after the query, for block −1 and for empty codes. After
block n, block n−1 is folded into the cache (it is two blocks back for block n+1).

Backward, per block, with A the normalised weights and dO the upstream gradient:

    dS = A ⊙ (dO Valᵀ − rowsum(dO ⊙ O))   for the window slots and the cache slots
    dV_window += A_winᵀ dO,   dμ⁽ⁿ⁾ = A_cacheᵀ dO,   dK_window += dS_winᵀ (Q + u)
    d(Q+u) = dS_win K_window + dS_cache C,   dP[i, d] = dS_win[i, L+i−d],   d(Q+w) = dP r,   dr += dPᵀ (Q+w)
    values through the cache: H⁽ᵐ⁾ = Σ_{n ≥ m} dμ⁽ⁿ⁾ / max(N⁽ⁿ⁾, 1) (reverse cumulative sum over blocks),
    dv_j += H⁽ᵇ⁺²⁾[z_j] for v_j in block b.

The codebook and the codes get no gradient, and keys older than the window get none either: the
forward reads them as C[z], not as k̂ — the windowed straight-through gradient of §2.5. The weights are
recomputed in the backward from the saved row log-normaliser (flash-style).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...autograd.functional import MASKED
from .cache import WindowBias, cache_logits, fold_into_cache


class ForwardTape(NamedTuple):
    """What the backward needs of the forward: output (T, D_v), row log-normaliser lse (T,), and the cache
    before each block, counts (R, S) and means (R, S, D_v) (with a leading batch axis when batched)."""

    out: np.ndarray
    lse: np.ndarray
    counts: np.ndarray
    means: np.ndarray


class WindowGeometry(NamedTuple):
    """The (L, 2L) window-score grid: distance L+i−j', its rows i, and which slots are causal and biased."""

    distance: np.ndarray
    rows: np.ndarray
    causal: np.ndarray
    biased: np.ndarray


def window_geometry(block: int, max_distance: int) -> WindowGeometry:
    """The grid of ``block`` query rows against 2·``block`` window slots for a bias up to ``max_distance``."""
    i = np.arange(block)[:, None]
    distance = block + i - np.arange(2 * block)[None, :]
    rows = np.broadcast_to(i, distance.shape)
    return WindowGeometry(distance, rows, distance >= 0, (distance >= 0) & (distance <= max_distance))


def block_scores(q_block: np.ndarray, k_window: np.ndarray, codebook: np.ndarray, counts: np.ndarray,
                 bias: WindowBias, grid: WindowGeometry, first: bool):
    """Scores of one query block: (q+u, q+w, the position products P = (q+w) rᵀ, window scores (L, 2L),
    cache scores (L, S)); ``first`` masks the window's first half (there is no block −1)."""
    L = q_block.shape[0]
    qu, qw = q_block + bias.u, q_block + bias.w
    position = qw @ bias.r.T
    s_window = qu @ k_window.T
    s_window[grid.biased] += position[grid.rows[grid.biased], grid.distance[grid.biased]]
    s_window[~grid.causal | ((np.arange(2 * L) < L) & first)] = MASKED
    s_cache = qu @ codebook.T + cache_logits(counts)
    return qu, qw, position, s_window, s_cache


def _padded_front(x: np.ndarray, rows: int) -> np.ndarray:
    """``x`` (T, D) after ``rows`` zero rows: the window of block 0 then starts at row 0."""
    return np.concatenate([np.zeros((rows, x.shape[1]), x.dtype), x])


def blockwise_forward_reference(q: np.ndarray, k: np.ndarray, v: np.ndarray, codes: np.ndarray,
                                codebook: np.ndarray, bias: WindowBias, block: int) -> ForwardTape:
    """One sample: q, k (T, D_k), v (T, D_v), codes (T,), codebook (S, D_k), T a multiple of ``block``."""
    T, L, S, Dv = q.shape[0], block, codebook.shape[0], v.shape[1]
    grid = window_geometry(L, bias.r.shape[0] - 1)
    k_pad, v_pad = _padded_front(k, L), _padded_front(v, L)
    counts, means = np.zeros(S, q.dtype), np.zeros((S, Dv), q.dtype)
    tape = ForwardTape(np.empty((T, Dv), q.dtype), np.empty(T, q.dtype), np.empty((T // L, S), q.dtype),
                       np.empty((T // L, S, Dv), q.dtype))
    for n in range(T // L):
        now, window = slice(n * L, (n + 1) * L), slice(n * L, (n + 2) * L)
        tape.counts[n], tape.means[n] = counts, means
        _, _, _, s_window, s_cache = block_scores(q[now], k_pad[window], codebook, counts, bias, grid, n == 0)
        m = np.maximum(s_window.max(1), s_cache.max(1))[:, None]
        a_window, a_cache = np.exp(s_window - m), np.exp(s_cache - m)
        den = a_window.sum(1, keepdims=True) + a_cache.sum(1, keepdims=True)
        tape.out[now] = (a_window / den) @ v_pad[window] + (a_cache / den) @ means
        tape.lse[now] = (m + np.log(den))[:, 0]
        if n >= 1:
            previous = slice((n - 1) * L, n * L)
            fold_into_cache(counts, means, codes[previous], v[previous])
    return tape


def blockwise_backward_reference(grad: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray, codes: np.ndarray,
                                 codebook: np.ndarray, bias: WindowBias, block: int, tape: ForwardTape):
    """Gradients (dq, dk, dv, du, dw, dr) of one sample, ``tape`` from ``blockwise_forward_reference``."""
    T, L = q.shape[0], block
    grid = window_geometry(L, bias.r.shape[0] - 1)
    k_pad, v_pad = _padded_front(k, L), _padded_front(v, L)
    dq, dk_pad, dv_pad = np.zeros_like(q), np.zeros_like(k_pad), np.zeros_like(v_pad)
    du, dw, dr = np.zeros_like(bias.u), np.zeros_like(bias.w), np.zeros_like(bias.r)
    carried = np.zeros_like(tape.means[0])
    for n in reversed(range(T // L)):
        now, window = slice(n * L, (n + 1) * L), slice(n * L, (n + 2) * L)
        counts, means = tape.counts[n], tape.means[n]
        qu, qw, position, s_window, s_cache = block_scores(q[now], k_pad[window], codebook, counts, bias, grid,
                                                           n == 0)
        a_window, a_cache = np.exp(s_window - tape.lse[now, None]), np.exp(s_cache - tape.lse[now, None])
        g = grad[now]
        rowdot = np.sum(g * tape.out[now], axis=1, keepdims=True)
        ds_window = a_window * (g @ v_pad[window].T - rowdot)
        ds_cache = a_cache * (g @ means.T - rowdot)
        dv_pad[window] += a_window.T @ g
        carried += (a_cache.T @ g) / np.maximum(counts, 1)[:, None]
        if n >= 2:
            older = slice((n - 2) * L, (n - 1) * L)
            dv_pad[L:][older] += carried[codes[older]]
        dqu = ds_window @ k_pad[window] + ds_cache @ codebook
        dk_pad[window] += ds_window.T @ qu
        d_position = np.zeros_like(position)
        d_position[grid.rows[grid.biased], grid.distance[grid.biased]] = ds_window[grid.biased]
        dqw = d_position @ bias.r
        dr += d_position.T @ qw
        dq[now] = dqu + dqw
        du += dqu.sum(0)
        dw += dqw.sum(0)
    return dq, dk_pad[L:], dv_pad[L:], du, dw, dr


def forward_reference(q: np.ndarray, k: np.ndarray, v: np.ndarray, codes: np.ndarray, codebook: np.ndarray,
                      bias: WindowBias, block: int) -> ForwardTape:
    """``blockwise_forward_reference`` sample by sample: q, k (B, T, D_k), v (B, T, D_v), codes (B, T)."""
    tapes = [blockwise_forward_reference(*sample, codebook, bias, block) for sample in zip(q, k, v, codes)]
    return ForwardTape(*(np.stack(parts) for parts in zip(*tapes)))


def backward_reference(grad: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray, codes: np.ndarray,
                       codebook: np.ndarray, bias: WindowBias, block: int, tape: ForwardTape):
    """``blockwise_backward_reference`` sample by sample; du, dw, dr summed over the batch."""
    grads = [blockwise_backward_reference(*sample, codebook, bias, block, ForwardTape(*sample_tape))
             for *sample, sample_tape in zip(grad, q, k, v, codes, zip(*tape))]
    dq, dk, dv, du, dw, dr = zip(*grads)
    return np.stack(dq), np.stack(dk), np.stack(dv), np.sum(du, axis=0), np.sum(dw, axis=0), np.sum(dr, axis=0)
