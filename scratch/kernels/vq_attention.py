"""VQ attention: causal softmax attention over vector-quantized keys in linear time (spec transformer_vq.md §1, §3).

Keys are codewords, k̂_j = C[z_j] (C: (S, D_k) codebook, z_j ∈ [0, S) the code of key j). The score of
query t on key j ≤ t is

    s(t, j) = (q_t + u)·k̂_j + [t − j ≤ W] (q_t + w)·r_{t−j}                                    (§1)

with a Transformer-XL-style relative bias r_0 … r_W (r: (W+1, D_k)) that vanishes beyond distance W,
and o_t = Σ_j softmax_j(s(t, ·)) v_j. Beyond the window every key sharing a code adds the same score,
so exp(s)·v summed over them is exp((q_t+u)·c_s)·U_s with U_s their value sum: everything old
collapses into per-code counts N_s and means μ_s = U_s / N_s (§3.2).

Blockwise form (block length L ≥ W, R = ⌈T/L⌉ blocks). Query block n attends to 2L window slots —
block n−1 and block n (causal) — with the bias at distance L+i−j' for query row i and slot j'
(the "rel-shift"), and to S cache slots (key c_s, logit offset log N_s, value μ_s) holding blocks
≤ n−2; one joint row max over all 2L + S slots, −1e30 for masked slots and empty codes. After block
n the block n−1 is folded into the cache: N' = N + c, μ' = (N μ + Σ_{z_j=s} v_j) / max(N', 1).

Backward (§3.3), per block with A the normalised weights and dO the upstream gradient:

    dS = A ⊙ (dO Valᵀ − rowsum(dO ⊙ O))   for the window slots and the cache slots
    dV_window += A_winᵀ dO,   dμ⁽ⁿ⁾ = A_cacheᵀ dO,   dK_window += dS_winᵀ (Q + u)
    d(Q+u) = dS_win K_window + dS_cache C,   dP[i, d] = dS_win[i, L+i−d],   d(Q+w) = dP r,   dr += dPᵀ (Q+w)
    values through the cache: H⁽ᵐ⁾ = Σ_{n ≥ m} dμ⁽ⁿ⁾ / max(N⁽ⁿ⁾, 1) (reverse cumulative sum over blocks),
    dv_j += H⁽ᵇ⁺²⁾[z_j] for v_j in block b.

The codebook and the codes get no gradient, and keys older than the window get none either: the
forward reads them as C[z], not as k̂. So vq_attention's k̂-gradient is the windowed one of §2.5,
while ``quadratic_vq_attention`` (dense, every key from k̂) passes gradient to every key; the two
forwards agree whenever k̂ = C[z]. The output does not depend on L (§1): L is a compute knob.

Three implementations: the quadratic reference (engine ops, its gradients come from autograd), the
NumPy blockwise reference (the definition of the kernel), and the Numba kernel (``prange`` over the
batch, each sample independent, so deterministic). ``VQDecoder`` is the L = 1 path: a constant-size
state (the last W keys and values, the counts and means) updated one token at a time.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from ..autograd import Function, Tensor, as_tensor, pad, where
from ..autograd.functional import MASKED, softmax

IMPLEMENTATIONS = ("numba", "numpy")


# --- the NumPy reference ----------------------------------------------------------------------

def _window_geometry(block: int, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distances L+i−j' of the (L, 2L) window scores, which slots are causal and which carry a bias."""
    i = np.arange(block)[:, None]
    j = np.arange(2 * block)[None, :]
    distance = block + i - j
    return distance, distance >= 0, (distance >= 0) & (distance <= max_distance)


def _fold(counts: np.ndarray, means: np.ndarray, codes: np.ndarray, values: np.ndarray) -> None:
    """Add the keys with ``codes`` and their ``values`` to the cache in place: N' = N + c, μ' = (Nμ + U)/max(N', 1)."""
    sums = np.zeros_like(means)
    np.add.at(sums, codes, values)
    new_counts = counts + np.bincount(codes, minlength=counts.size)
    means *= (counts / np.maximum(new_counts, 1))[:, None]
    means += sums / np.maximum(new_counts, 1)[:, None]
    counts[:] = new_counts


def _cache_logits(counts: np.ndarray) -> np.ndarray:
    return np.where(counts > 0, np.log(np.maximum(counts, 1)), MASKED)


def blockwise_forward_reference(q, k, v, codes, codebook, u, w, r, block):
    """One sample: q, k (T, D_k), v (T, D_v), codes (T,), T a multiple of ``block``.

    Returns the output (T, D_v), the row log-normaliser lse (T,) and the cache before each block:
    counts (R, S), means (R, S, D_v) — what the backward needs.
    """
    T, L, S = q.shape[0], block, codebook.shape[0]
    distance, causal, biased = _window_geometry(L, r.shape[0] - 1)
    rows = np.broadcast_to(np.arange(L)[:, None], distance.shape)
    k_pad = np.concatenate([np.zeros((L, k.shape[1]), k.dtype), k])
    v_pad = np.concatenate([np.zeros((L, v.shape[1]), v.dtype), v])
    counts, means = np.zeros(S, q.dtype), np.zeros((S, v.shape[1]), q.dtype)
    out, lse = np.empty((T, v.shape[1]), q.dtype), np.empty(T, q.dtype)
    saved_counts, saved_means = np.empty((T // L, S), q.dtype), np.empty((T // L, S, v.shape[1]), q.dtype)
    for n in range(T // L):
        now = slice(n * L, (n + 1) * L)
        saved_counts[n], saved_means[n] = counts, means
        qu, qw = q[now] + u, q[now] + w
        position = qw @ r.T
        s_win = qu @ k_pad[n * L:(n + 2) * L].T
        s_win[biased] += position[rows[biased], distance[biased]]
        s_win[~causal | ((np.arange(2 * L) < L) & (n == 0))] = MASKED
        s_cache = qu @ codebook.T + _cache_logits(counts)
        m = np.maximum(s_win.max(1), s_cache.max(1))[:, None]
        a_win, a_cache = np.exp(s_win - m), np.exp(s_cache - m)
        den = a_win.sum(1, keepdims=True) + a_cache.sum(1, keepdims=True)
        out[now] = (a_win / den) @ v_pad[n * L:(n + 2) * L] + (a_cache / den) @ means
        lse[now] = (m + np.log(den))[:, 0]
        if n >= 1:
            previous = slice((n - 1) * L, n * L)
            _fold(counts, means, codes[previous], v[previous])
    return out, lse, saved_counts, saved_means


def blockwise_backward_reference(grad, q, k, v, codes, codebook, u, w, r, block, out, lse, saved_counts,
                                 saved_means):
    """Gradients (dq, dk, dv, du, dw, dr) of one sample, recomputing the weights from lse (flash-style)."""
    T, L = q.shape[0], block
    distance, causal, biased = _window_geometry(L, r.shape[0] - 1)
    rows = np.broadcast_to(np.arange(L)[:, None], distance.shape)
    k_pad = np.concatenate([np.zeros((L, k.shape[1]), k.dtype), k])
    v_pad = np.concatenate([np.zeros((L, v.shape[1]), v.dtype), v])
    dq, dk_pad, dv_pad = np.zeros_like(q), np.zeros_like(k_pad), np.zeros_like(v_pad)
    du, dw, dr = np.zeros_like(u), np.zeros_like(w), np.zeros_like(r)
    carried = np.zeros_like(saved_means[0])
    for n in reversed(range(T // L)):
        now, window = slice(n * L, (n + 1) * L), slice(n * L, (n + 2) * L)
        counts, means = saved_counts[n], saved_means[n]
        qu, qw = q[now] + u, q[now] + w
        position = qw @ r.T
        s_win = qu @ k_pad[window].T
        s_win[biased] += position[rows[biased], distance[biased]]
        s_win[~causal | ((np.arange(2 * L) < L) & (n == 0))] = MASKED
        s_cache = qu @ codebook.T + _cache_logits(counts)
        a_win, a_cache = np.exp(s_win - lse[now, None]), np.exp(s_cache - lse[now, None])
        g = grad[now]
        rowdot = np.sum(g * out[now], axis=1, keepdims=True)
        ds_win = a_win * (g @ v_pad[window].T - rowdot)
        ds_cache = a_cache * (g @ means.T - rowdot)
        dv_pad[window] += a_win.T @ g
        carried += (a_cache.T @ g) / np.maximum(counts, 1)[:, None]
        if n >= 2:
            older = slice((n - 2) * L, (n - 1) * L)
            dv_pad[L:][older] += carried[codes[older]]
        dqu = ds_win @ k_pad[window] + ds_cache @ codebook
        dk_pad[window] += ds_win.T @ qu
        d_position = np.zeros_like(position)
        d_position[rows[biased], distance[biased]] = ds_win[biased]
        dqw = d_position @ r
        dr += d_position.T @ qw
        dq[now] = dqu + dqw
        du += dqu.sum(0)
        dw += dqw.sum(0)
    return dq, dk_pad[L:], dv_pad[L:], du, dw, dr


# --- the Numba kernel -------------------------------------------------------------------------

@njit(cache=True)
def _window_scores(qu, qw, k_pad, r, codebook, counts, n, L, s_win, s_cache):
    """Fill the (L, 2L) window scores and (L, S) cache scores of block n (the reference's steps)."""
    W = r.shape[0] - 1
    s_win[:] = qu @ k_pad[n * L:(n + 2) * L].T
    position = qw @ r.T
    for i in range(L):
        for j in range(2 * L):
            d = L + i - j
            if d < 0 or (n == 0 and j < L):
                s_win[i, j] = MASKED
            elif d <= W:
                s_win[i, j] += position[i, d]
    s_cache[:] = qu @ codebook.T
    for s in range(counts.size):
        offset = np.log(counts[s]) if counts[s] > 0 else MASKED
        for i in range(L):
            s_cache[i, s] += offset


@njit(cache=True, parallel=True)
def blockwise_forward_numba(q, k, v, codes, codebook, u, w, r, block):
    """Batched twin of ``blockwise_forward_reference``: q, k (B, T, D_k), v (B, T, D_v), codes (B, T)."""
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
        s_win = np.empty((L, 2 * L), q.dtype)
        s_cache = np.empty((L, S), q.dtype)
        for n in range(R):
            saved_counts[b, n] = counts
            saved_means[b, n] = means
            qu = q[b, n * L:(n + 1) * L] + u
            qw = q[b, n * L:(n + 1) * L] + w
            _window_scores(qu, qw, k_pad, r, codebook, counts, n, L, s_win, s_cache)
            for i in range(L):
                m = max(s_win[i].max(), s_cache[i].max())
                s_win[i] = np.exp(s_win[i] - m)
                s_cache[i] = np.exp(s_cache[i] - m)
                den = s_win[i].sum() + s_cache[i].sum()
                s_win[i] /= den
                s_cache[i] /= den
                lse[b, n * L + i] = m + np.log(den)
            out[b, n * L:(n + 1) * L] = s_win @ v_pad[n * L:(n + 2) * L] + s_cache @ means
            if n >= 1:
                for j in range((n - 1) * L, n * L):
                    z = codes[b, j]
                    counts[z] += 1
                    means[z] += (v[b, j] - means[z]) / counts[z]
    return out, lse, saved_counts, saved_means


@njit(cache=True, parallel=True)
def blockwise_backward_numba(grad, q, k, v, codes, codebook, u, w, r, block, out, lse, saved_counts, saved_means):
    """Batched twin of ``blockwise_backward_reference``; du, dw, dr summed over the batch."""
    B, T, Dk = q.shape
    Dv, S, L, W = v.shape[2], codebook.shape[0], block, r.shape[0] - 1
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
        s_win = np.empty((L, 2 * L), q.dtype)
        s_cache = np.empty((L, S), q.dtype)
        d_position = np.empty((L, W + 1), q.dtype)
        for n in range(T // L - 1, -1, -1):
            counts = saved_counts[b, n]
            qu = q[b, n * L:(n + 1) * L] + u
            qw = q[b, n * L:(n + 1) * L] + w
            _window_scores(qu, qw, k_pad, r, codebook, counts, n, L, s_win, s_cache)
            g = np.ascontiguousarray(grad[b, n * L:(n + 1) * L])
            v_win = v_pad[n * L:(n + 2) * L]
            gv_win = g @ v_win.T
            gv_cache = g @ saved_means[b, n].T
            for i in range(L):
                t = n * L + i
                rowdot = np.dot(g[i], out[b, t])
                s_win[i] = np.exp(s_win[i] - lse[b, t])
                s_cache[i] = np.exp(s_cache[i] - lse[b, t])
                gv_win[i] = s_win[i] * (gv_win[i] - rowdot)
                gv_cache[i] = s_cache[i] * (gv_cache[i] - rowdot)
            dv_pad[n * L:(n + 2) * L] += s_win.T @ g
            d_means = s_cache.T @ g
            for s in range(S):
                carried[s] += d_means[s] / max(counts[s], 1.0)
            if n >= 2:
                for j in range((n - 2) * L, (n - 1) * L):
                    dv_pad[L + j] += carried[codes[b, j]]
            dqu = gv_win @ k_pad[n * L:(n + 2) * L] + gv_cache @ codebook
            dk_pad[n * L:(n + 2) * L] += gv_win.T @ qu
            d_position[:] = 0.0
            for i in range(L):
                for d in range(min(W, L + i) + 1):
                    d_position[i, d] = gv_win[i, L + i - d]
            dqw = d_position @ r
            dr_b[b] += d_position.T @ qw
            dq[b, n * L:(n + 1) * L] = dqu + dqw
            du_b[b] += dqu.sum(axis=0)
            dw_b[b] += dqw.sum(axis=0)
        dk[b] = dk_pad[L:]
        dv[b] = dv_pad[L:]
    return dq, dk, dv, du_b.sum(axis=0), dw_b.sum(axis=0), dr_b.sum(axis=0)


# --- autograd wrapper -------------------------------------------------------------------------

def _padded(x: np.ndarray, extra: int) -> np.ndarray:
    """``x`` (B, T, ...) extended by ``extra`` zero rows along T (keys there come after every real query)."""
    width = [(0, 0)] * x.ndim
    width[1] = (0, extra)
    return np.ascontiguousarray(np.pad(x, width))


class VQAttention(Function):
    """o = blockwise VQ attention(q, k̂, v; codes, C, u, w, r); gradients to q, k̂ (window), v, u, w, r."""

    @staticmethod
    def forward(ctx, q, k_hat, v, u, w, r, codes, codebook, block, implementation):
        T = q.shape[1]
        extra = -T % block
        q, k_hat, v, codes = (_padded(x, extra) for x in (q, k_hat, v, codes))
        u, w, r, codebook = (np.ascontiguousarray(x, dtype=q.dtype) for x in (u, w, r, codebook))
        if implementation == "numba":
            tape = blockwise_forward_numba(q, k_hat, v, codes, codebook, u, w, r, block)
        else:
            samples = [blockwise_forward_reference(*x, codebook, u, w, r, block) for x in zip(q, k_hat, v, codes)]
            tape = tuple(np.stack(parts) for parts in zip(*samples))
        ctx.save_for_backward(q, k_hat, v, codes, codebook, u, w, r, *tape)
        ctx.options = (T, block, implementation)
        return tape[0][:, :T]

    @staticmethod
    def backward(ctx, grad):
        q, k_hat, v, codes, codebook, u, w, r, out, lse, counts, means = ctx.saved_tensors
        T, block, implementation = ctx.options
        grad = _padded(grad, q.shape[1] - T)
        if implementation == "numba":
            dq, dk, dv, du, dw, dr = blockwise_backward_numba(grad, q, k_hat, v, codes, codebook, u, w, r, block,
                                                              out, lse, counts, means)
        else:
            per_sample = [blockwise_backward_reference(*x[:5], codebook, u, w, r, block, *x[5:])
                          for x in zip(grad, q, k_hat, v, codes, out, lse, counts, means)]
            dq, dk, dv = (np.stack(parts) for parts in list(zip(*per_sample))[:3])
            du, dw, dr = (np.sum(parts, axis=0) for parts in list(zip(*per_sample))[3:])
        return dq[:, :T], dk[:, :T], dv[:, :T], du, dw, dr, None, None, None, None


def _check_inputs(q, k_hat, v, codes, codebook, block, window_bias):
    """Shapes, dtypes and ranges of the public functions' arguments; returns (q, k̂, v, codes, C, u, w, r)."""
    q, k_hat, v = as_tensor(q), as_tensor(k_hat), as_tensor(v)
    if q.ndim != 3 or k_hat.shape != q.shape:
        raise ValueError(f"q and k_hat must both be (B, T, D_k), got {q.shape} and {k_hat.shape}")
    if v.ndim != 3 or v.shape[:2] != q.shape[:2]:
        raise ValueError(f"v must be (B, T, D_v) with (B, T) = {q.shape[:2]}, got {v.shape}")
    for name, x in (("q", q), ("k_hat", k_hat), ("v", v)):
        if x.dtype not in (np.float32, np.float64) or x.dtype != q.dtype:
            raise ValueError(f"{name} must be float32 or float64 like q ({q.dtype}), got {x.dtype}")
    codebook = np.asarray(codebook.data if isinstance(codebook, Tensor) else codebook)
    if codebook.ndim != 2 or codebook.shape[1] != q.shape[2]:
        raise ValueError(f"codebook must be (S, D_k) with D_k = {q.shape[2]}, got {codebook.shape}")
    codes = np.asarray(codes.data if isinstance(codes, Tensor) else codes)
    if codes.shape != q.shape[:2] or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"codes must be an integer array of shape {q.shape[:2]}, got {codes.dtype} {codes.shape}")
    if codes.size and (codes.min() < 0 or codes.max() >= codebook.shape[0]):
        raise ValueError(f"codes must lie in [0, {codebook.shape[0]}), got [{codes.min()}, {codes.max()}]")
    if not isinstance(block, (int, np.integer)) or block < 1:
        raise ValueError(f"block must be a positive integer, got {block!r}")
    if window_bias is None:
        zero = np.zeros(q.shape[2], q.dtype)
        u, w, r = Tensor(zero), Tensor(zero), Tensor(zero[None])
    else:
        if len(window_bias) != 3:
            raise ValueError("window_bias must be a tuple (u, w, r) with u, w (D_k,) and r (W+1, D_k)")
        u, w, r = (as_tensor(x) for x in window_bias)
        if u.shape != (q.shape[2],) or w.shape != (q.shape[2],) or r.ndim != 2 or r.shape[1] != q.shape[2]:
            raise ValueError(f"window_bias (u, w, r) must have shapes ({q.shape[2]},), ({q.shape[2]},), "
                             f"(W+1, {q.shape[2]}); got {u.shape}, {w.shape}, {r.shape}")
    return q, k_hat, v, codes.astype(np.int64), codebook.astype(q.dtype), u, w, r


def vq_attention(q: Any, k_hat: Any, v: Any, codes: Any, codebook: Any, *, block: int,
                 window_bias: tuple[Any, Any, Any] | None = None, implementation: str = "numba") -> Tensor:
    """Blockwise linear-time VQ attention (module docstring), O(T (L + S)(D_k + D_v)).

    q, k_hat: (B, T, D_k) with k_hat = C[codes] in the forward (the straight-through keys); v: (B, T, D_v);
    codes: (B, T) integers in [0, S); codebook C: (S, D_k), a constant; block L ≥ W, any T (the last block
    is padded). ``window_bias = (u, w, r)``: u, w (D_k,), r (W+1, D_k) the relative vectors r_0 … r_W;
    None means no bias (u = w = 0, W = 0). ``implementation`` ∈ {"numba", "numpy"} picks the kernel or its
    reference twin. Returns o: (B, T, D_v).
    """
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
    q, k_hat, v, codes, codebook, u, w, r = _check_inputs(q, k_hat, v, codes, codebook, block, window_bias)
    if r.shape[0] - 1 > block:
        raise ValueError(f"the bias range W = {r.shape[0] - 1} must not exceed block = {block}")
    return VQAttention.apply(q, k_hat, v, u.astype(q.dtype), w.astype(q.dtype), r.astype(q.dtype),
                             codes, codebook, block, implementation)


# --- the quadratic reference ------------------------------------------------------------------

def relative_bias_matrix(position: Tensor) -> Tensor:
    """M[.., t, j] = position[.., t, t − j] for 0 ≤ t − j ≤ W, else 0: (.., T, W+1) → (.., T, T).

    The Transformer-XL skew with pads and reshapes only: reverse the distance axis, pad to width T+W+1
    and read the flat rows with stride T+W, which moves row t right by t.
    """
    *lead, T, width = position.shape
    W = width - 1
    reversed_ = position[..., ::-1]
    flat = pad(reversed_, [(0, 0)] * len(lead) + [(0, 0), (0, T)]).reshape(*lead, T * (T + width))
    skewed = flat[..., :T * (T + W)].reshape(*lead, T, T + W)
    return skewed[..., W:W + T]


def windowed_bias_attention(q: Any, k: Any, v: Any, window_bias: tuple[Any, Any, Any] | None = None, *,
                            visible: int | None = None) -> Tensor:
    """Dense causal softmax attention with score (q_t+u)·k_j + [t−j ≤ W](q_t+w)·r_{t−j}, O(T²).

    q, k: (B, T, D_k), v: (B, T, D_v), ``window_bias`` as in ``vq_attention`` (any W; W ≥ T−1 is a bias
    at all distances); ``visible`` limits the keys to distances t−j ≤ visible (a sliding window, None: all).
    Built from engine ops, so its gradients come from autograd.
    """
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    T = q.shape[1]
    scores = q @ k.transpose(0, 2, 1)
    if window_bias is not None:
        u, w, r = (as_tensor(x) for x in window_bias)
        scores = (q + u) @ k.transpose(0, 2, 1) + relative_bias_matrix(((q + w) @ r.T)[:, :, :T])
    distance = np.arange(T)[:, None] - np.arange(T)[None, :]
    allowed = (distance >= 0) & (distance <= (T if visible is None else visible))
    return softmax(where(allowed, scores, MASKED), axis=-1) @ v


def quadratic_vq_attention(q: Any, k_hat: Any, v: Any, codes: Any, codebook: Any, *, block: int,
                           window_bias: tuple[Any, Any, Any] | None = None) -> Tensor:
    """The quadratic reference of ``vq_attention``: dense attention over k̂ with the same window bias.

    Same arguments and checks; ``block`` does not change the result (§1) and ``codes``/``codebook``
    are only checked: every key comes from k̂, so the k̂-gradient reaches all keys (full STE).
    """
    q, k_hat, v, codes, codebook, u, w, r = _check_inputs(q, k_hat, v, codes, codebook, block, window_bias)
    if r.shape[0] - 1 > block:
        raise ValueError(f"the bias range W = {r.shape[0] - 1} must not exceed block = {block}")
    return windowed_bias_attention(q, k_hat, v, None if window_bias is None else (u, w, r))


# --- decoding with a constant-size state (L = 1) ----------------------------------------------

class VQDecoder:
    """Token-by-token VQ attention: o_t from the last W keys/values (with bias) and the per-code cache.

    State, per sample: the W previous keys k̂, values and codes (a ring), counts N (S,) and means μ (S, D_v);
    its size does not grow with t. ``step`` equals row t of ``vq_attention`` on the whole sequence.
    """

    def __init__(self, codebook: np.ndarray, window_bias: tuple[Any, Any, Any] | None, batch: int, dim_v: int):
        codebook = np.asarray(codebook)
        dtype, Dk = codebook.dtype, codebook.shape[1]
        if window_bias is None:
            window_bias = (np.zeros(Dk, dtype), np.zeros(Dk, dtype), np.zeros((1, Dk), dtype))
        self.codebook = codebook
        self.u, self.w, self.r = (np.asarray(x.data if isinstance(x, Tensor) else x, dtype) for x in window_bias)
        W = self.r.shape[0] - 1
        self.keys = np.zeros((batch, W, Dk), dtype)
        self.values = np.zeros((batch, W, dim_v), dtype)
        self.codes = np.zeros((batch, W), np.int64)
        self.counts = np.zeros((batch, codebook.shape[0]), dtype)
        self.means = np.zeros((batch, codebook.shape[0], dim_v), dtype)
        self.t = 0

    def step(self, q: np.ndarray, k_hat: np.ndarray, v: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """One token per sample: q, k_hat (B, D_k), v (B, D_v), codes (B,) → o (B, D_v)."""
        W = self.r.shape[0] - 1
        # window slots: distances 1..W live in the ring (slot (t − d) mod W), distance 0 is the new key
        distance = np.arange(1, W + 1)
        slots = (self.t - distance) % max(W, 1)
        keys = np.concatenate([k_hat[:, None], self.keys[:, slots]], axis=1)
        values = np.concatenate([v[:, None], self.values[:, slots]], axis=1)
        visible = np.concatenate([[True], distance <= self.t])
        qu, qw = q + self.u, q + self.w
        s_win = np.einsum("bd,bjd->bj", qu, keys) + qw @ self.r.T
        s_win[:, ~visible] = MASKED
        s_cache = qu @ self.codebook.T + _cache_logits(self.counts)
        m = np.maximum(s_win.max(1), s_cache.max(1))[:, None]
        a_win, a_cache = np.exp(s_win - m), np.exp(s_cache - m)
        den = a_win.sum(1, keepdims=True) + a_cache.sum(1, keepdims=True)
        out = np.einsum("bj,bjd->bd", a_win / den, values) + np.einsum("bs,bsd->bd", a_cache / den, self.means)
        if W == 0:
            self._fold_one(codes, v)
        else:
            slot = self.t % W
            if self.t >= W:
                self._fold_one(self.codes[:, slot], self.values[:, slot])
            self.keys[:, slot], self.values[:, slot], self.codes[:, slot] = k_hat, v, codes
        self.t += 1
        return out

    def _fold_one(self, codes: np.ndarray, values: np.ndarray) -> None:
        """The key leaving the window (distance W+1 from the next query) joins the cache."""
        for b, (z, value) in enumerate(zip(codes, values)):
            self.counts[b, z] += 1
            self.means[b, z] += (value - self.means[b, z]) / self.counts[b, z]
