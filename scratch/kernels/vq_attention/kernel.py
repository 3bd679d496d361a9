"""The Numba twin of the blockwise reference (``reference``): the same steps, batched, ``prange`` over samples.

Each sample is independent (its own cache and padded keys), so the result does not depend on the
thread count; du, dw, dr are accumulated per sample and summed at the end for the same reason. The
cache grows with the shared ``fold_into_cache``.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ...autograd.functional import MASKED
from .cache import WindowBias, fold_into_cache
from .reference import ForwardTape


@njit(cache=True)
def _block_scores(qu, qw, k_pad, bias, codebook, counts, n, L, s_window, s_cache):
    """Fill the (L, 2L) window scores and (L, S) cache scores of block n (``reference.block_scores``)."""
    W = bias.r.shape[0] - 1
    s_window[:] = qu @ k_pad[n * L:(n + 2) * L].T
    position = qw @ bias.r.T
    for i in range(L):
        for j in range(2 * L):
            d = L + i - j
            if d < 0 or (n == 0 and j < L):
                s_window[i, j] = MASKED
            elif d <= W:
                s_window[i, j] += position[i, d]
    s_cache[:] = qu @ codebook.T
    for s in range(counts.size):
        offset = np.log(counts[s]) if counts[s] > 0 else MASKED
        for i in range(L):
            s_cache[i, s] += offset


@njit(cache=True, parallel=True)
def blockwise_forward_numba(q: np.ndarray, k: np.ndarray, v: np.ndarray, codes: np.ndarray, codebook: np.ndarray,
                            bias: WindowBias, block: int) -> ForwardTape:
    """Batched ``reference.blockwise_forward_reference``: q, k (B, T, D_k), v (B, T, D_v), codes (B, T)."""
    B, T, Dk = q.shape
    Dv, S, L = v.shape[2], codebook.shape[0], block
    R = T // L
    out = np.empty((B, T, Dv), q.dtype)
    lse = np.empty((B, T), q.dtype)
    saved_counts = np.empty((B, R, S), q.dtype)
    saved_means = np.empty((B, R, S, Dv), q.dtype)
    for b in prange(B):
        k_pad = np.zeros((T + L, Dk), q.dtype)
        v_pad = np.zeros((T + L, Dv), q.dtype)
        k_pad[L:] = k[b]
        v_pad[L:] = v[b]
        counts = np.zeros(S, q.dtype)
        means = np.zeros((S, Dv), q.dtype)
        s_window = np.empty((L, 2 * L), q.dtype)
        s_cache = np.empty((L, S), q.dtype)
        for n in range(R):
            saved_counts[b, n] = counts
            saved_means[b, n] = means
            qu = q[b, n * L:(n + 1) * L] + bias.u
            qw = q[b, n * L:(n + 1) * L] + bias.w
            _block_scores(qu, qw, k_pad, bias, codebook, counts, n, L, s_window, s_cache)
            for i in range(L):
                m = max(s_window[i].max(), s_cache[i].max())
                s_window[i] = np.exp(s_window[i] - m)
                s_cache[i] = np.exp(s_cache[i] - m)
                den = s_window[i].sum() + s_cache[i].sum()
                s_window[i] /= den
                s_cache[i] /= den
                lse[b, n * L + i] = m + np.log(den)
            out[b, n * L:(n + 1) * L] = s_window @ v_pad[n * L:(n + 2) * L] + s_cache @ means
            if n >= 1:
                fold_into_cache(counts, means, codes[b, (n - 1) * L:n * L], v[b, (n - 1) * L:n * L])
    return ForwardTape(out, lse, saved_counts, saved_means)


@njit(cache=True, parallel=True)
def blockwise_backward_numba(grad: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray, codes: np.ndarray,
                             codebook: np.ndarray, bias: WindowBias, block: int, tape: ForwardTape):
    """Batched ``reference.blockwise_backward_reference``: (dq, dk, dv, du, dw, dr), du, dw, dr summed over B."""
    B, T, Dk = q.shape
    Dv, S, L, W = v.shape[2], codebook.shape[0], block, bias.r.shape[0] - 1
    dq = np.zeros_like(q)
    dk = np.zeros_like(k)
    dv = np.zeros_like(v)
    du_b = np.zeros((B, Dk), q.dtype)
    dw_b = np.zeros((B, Dk), q.dtype)
    dr_b = np.zeros((B, W + 1, Dk), q.dtype)
    for b in prange(B):
        k_pad = np.zeros((T + L, Dk), q.dtype)
        v_pad = np.zeros((T + L, Dv), q.dtype)
        k_pad[L:] = k[b]
        v_pad[L:] = v[b]
        dk_pad = np.zeros((T + L, Dk), q.dtype)
        dv_pad = np.zeros((T + L, Dv), q.dtype)
        carried = np.zeros((S, Dv), q.dtype)
        s_window = np.empty((L, 2 * L), q.dtype)
        s_cache = np.empty((L, S), q.dtype)
        d_position = np.empty((L, W + 1), q.dtype)
        for n in range(T // L - 1, -1, -1):
            counts = tape.counts[b, n]
            qu = q[b, n * L:(n + 1) * L] + bias.u
            qw = q[b, n * L:(n + 1) * L] + bias.w
            _block_scores(qu, qw, k_pad, bias, codebook, counts, n, L, s_window, s_cache)
            g = np.ascontiguousarray(grad[b, n * L:(n + 1) * L])
            v_window = v_pad[n * L:(n + 2) * L]
            gv_window = g @ v_window.T
            gv_cache = g @ tape.means[b, n].T
            for i in range(L):
                t = n * L + i
                rowdot = np.dot(g[i], tape.out[b, t])
                s_window[i] = np.exp(s_window[i] - tape.lse[b, t])
                s_cache[i] = np.exp(s_cache[i] - tape.lse[b, t])
                gv_window[i] = s_window[i] * (gv_window[i] - rowdot)
                gv_cache[i] = s_cache[i] * (gv_cache[i] - rowdot)
            dv_pad[n * L:(n + 2) * L] += s_window.T @ g
            d_means = s_cache.T @ g
            for s in range(S):
                carried[s] += d_means[s] / max(counts[s], 1.0)
            if n >= 2:
                for j in range((n - 2) * L, (n - 1) * L):
                    dv_pad[L + j] += carried[codes[b, j]]
            dqu = gv_window @ k_pad[n * L:(n + 2) * L] + gv_cache @ codebook
            dk_pad[n * L:(n + 2) * L] += gv_window.T @ qu
            d_position[:] = 0.0
            for i in range(L):
                for d in range(min(W, L + i) + 1):
                    d_position[i, d] = gv_window[i, L + i - d]
            dqw = d_position @ bias.r
            dr_b[b] += d_position.T @ qw
            dq[b, n * L:(n + 1) * L] = dqu + dqw
            du_b[b] += dqu.sum(axis=0)
            dw_b[b] += dqw.sum(axis=0)
        dk[b] = dk_pad[L:]
        dv[b] = dv_pad[L:]
    return dq, dk, dv, du_b.sum(axis=0), dw_b.sum(axis=0), dr_b.sum(axis=0)
