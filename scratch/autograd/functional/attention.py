"""Dense softmax attention with masks and additive biases, and the head split/merge around it.

For queries q_i, keys k_j, values v_j ∈ R^D of one head (i, j = 0..T−1),

    s_ij = c_i · σ · q_i·k_j + β_ij,   s_ij = −∞ where the mask forbids j,
    o_i  = Σ_j softmax_j(s_ij) v_j,

with σ the scale (1/√D by default), β an additive bias (H, T, T) or (T, T) (ALiBi, KERPLE, Sandwich
as functions of i − j) and c_i a per-row factor (log-n scaling, spec B.2). Every row must keep at
least one allowed key (the diagonal, for the causal masks built here), so no row is all −∞.

This is the quadratic reference that the windowed kernel is tested against, and the model's path for
the variants that need a whole score matrix (ReRoPE's two matrices).

``causal_attention`` is the same computation for the causal mask without a bias as one node
(``CausalAttention``): the probabilities P are kept from the forward and, with Δ_i = dO_i·o_i,

    dS = P ⊙ (dO Vᵀ − Δ),   dq_i = c_i σ Σ_j dS_ij k_j,   dk_j = Σ_i c_i σ dS_ij q_i,   dv_j = Σ_i p_ij dO_i,

where every step writes into the (B, H, T, T) array of the step before it. A key after the query
never reaches it: a NaN there stays out of the row's output and gradients.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import Tensor, as_tensor, where
from ..function import Function
from .softmax import softmax

# The logit of a forbidden slot: finite, so 0 · MASKED stays 0 and a masked row never makes NaN,
# and far enough below any real logit that exp(MASKED − max) is exactly 0 in float32 and float64.
MASKED = -1e30
# a block of the batch in ``CausalAttention`` has scores of about this many bytes (L2-sized)
BLOCK_BYTES = 2 ** 18


def causal_mask(seq_len: int, window: int | None = None) -> np.ndarray:
    """Allowed (T, T) boolean: key j is visible to query i iff 0 ≤ i − j < window (window None: ∞)."""
    rel = relative_positions(seq_len)
    return (rel >= 0) & (rel < (seq_len if window is None else window))


def relative_positions(seq_len: int) -> np.ndarray:
    """i − j for query i (rows) and key j (columns): (T, T) int64."""
    positions = np.arange(seq_len)
    return positions[:, None] - positions[None, :]


def split_heads(x: Tensor, heads: int) -> Tensor:
    """(B, T, H·D) → (B, H, T, D)."""
    batch, seq_len, width = x.shape
    if width % heads:
        raise ValueError(f"the model width {width} is not divisible by heads={heads}")
    return x.reshape(batch, seq_len, heads, width // heads).transpose(0, 2, 1, 3)


def merge_heads(x: Tensor) -> Tensor:
    """(B, H, T, D) → (B, T, H·D)."""
    batch, heads, seq_len, dim = x.shape
    return x.transpose(0, 2, 1, 3).reshape(batch, seq_len, heads * dim)


def attention_scores(q: Any, k: Any, *, scale: float | None = None, row_scale: np.ndarray | None = None) -> Tensor:
    """The content logits c_i σ q_i·k_j: q, k (B, H, T, D) → (B, H, T, T); ``row_scale`` c (T,) or None."""
    q, k = as_tensor(q), as_tensor(k)
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = (q @ k.swapaxes(-1, -2)) * scale
    if row_scale is not None:
        s = s * np.asarray(row_scale, q.dtype)[:, None]
    return s


def attend(scores: Tensor, v: Any, mask: np.ndarray | None = None, bias: Any = None) -> Tensor:
    """o = softmax(scores + β, masked) v: scores (B, H, T, S), v (B, H, S, D), mask (T, S) → (B, H, T, D)."""
    if bias is not None:
        scores = scores + bias
    if mask is not None:
        scores = where(mask, scores, np.asarray(MASKED, scores.dtype))
    return softmax(scores, axis=-1) @ v


def dense_attention(q: Any, k: Any, v: Any, *, mask: np.ndarray | None = None, bias: Any = None,
                    scale: float | None = None, row_scale: np.ndarray | None = None) -> Tensor:
    """Softmax attention of the module docstring: q, k, v (B, H, T, D), mask (T, T) boolean (True =
    visible, None = all), bias (H, T, T) or (T, T), row_scale c (T,) → o (B, H, T, D)."""
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    if q.ndim != 4 or k.shape != q.shape or v.shape != q.shape:
        raise ValueError(f"q, k, v must share one shape (B, H, T, D), got {q.shape}, {k.shape}, {v.shape}")
    seq_len = q.shape[2]
    if mask is not None and np.shape(mask) != (seq_len, seq_len):
        raise ValueError(f"mask must have shape (T, T) = {(seq_len, seq_len)}, got {np.shape(mask)}")
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape[-2:] != (seq_len, seq_len):
            raise ValueError(f"bias must end in (T, T) = {(seq_len, seq_len)}, got {bias.shape}")
        if bias.ndim == 3:
            bias = bias.reshape(1, *bias.shape)
    if mask is not None:
        mask = np.asarray(mask, bool)
    return attend(attention_scores(q, k, scale=scale, row_scale=row_scale), v, mask, bias)


class CausalAttention(Function):
    """o = softmax(c σ q kᵀ, causal) v for q, k, v (B, H, T, D) as one node; ``factor`` c σ: (T, 1) or a scalar.

    Both passes walk blocks of the batch (``batch_blocks``) so that the (b, H, T, T) temporaries of a
    block stay in cache; P is written into one (B, H, T, T) array kept for the backward.
    """

    @staticmethod
    def forward(ctx, q, k, v, *, factor):
        future = ~causal_mask(q.shape[2])
        masked = np.asarray(MASKED, q.dtype)
        p = np.empty(q.shape[:3] + q.shape[2:3], q.dtype)
        o = np.empty(q.shape, q.dtype)
        for part in batch_blocks(q.shape, q.itemsize):
            s = p[part]
            np.matmul(q[part], k[part].swapaxes(-1, -2), out=s)
            s *= factor
            np.copyto(s, masked, where=future)
            s -= np.fmax.reduce(s, axis=-1, keepdims=True)  # fmax: a NaN reaches the row through exp instead
            np.exp(s, out=s)
            s /= s.sum(axis=-1, keepdims=True)
            _causal_matmul(s, v[part], ~future, o[part])
        ctx.save_for_backward(q, k, v, p, o)
        ctx.factor, ctx.future = factor, future
        return o

    @staticmethod
    def backward(ctx, grad):
        q, k, v, p, o = ctx.saved_tensors
        need_q, need_k, need_v = ctx.needs_input_grad
        future = ctx.future
        dq, dk, dv = (np.empty(q.shape, q.dtype) if need else None for need in (need_q, need_k, need_v))
        zero = np.zeros((), q.dtype)
        blocks = batch_blocks(q.shape, q.itemsize)
        scores = np.empty((blocks[0].stop,) + p.shape[1:], p.dtype) if need_q or need_k else None
        for part in blocks:
            p_part, g = p[part], grad[part]
            if need_v:
                _causal_matmul(p_part.swapaxes(-1, -2), g, ~future.T, dv[part])
            if not (need_q or need_k):
                continue
            ds = scores[:len(p_part)]
            np.matmul(g, v[part].swapaxes(-1, -2), out=ds)
            ds -= np.einsum("bhtd,bhtd->bht", g, o[part])[..., None]
            ds *= p_part
            np.copyto(ds, zero, where=future)
            ds *= ctx.factor
            if need_q:
                _causal_matmul(ds, k[part], ~future, dq[part])
            if need_k:
                _causal_matmul(ds.swapaxes(-1, -2), q[part], ~future.T, dk[part])
        return dq, dk, dv


def _causal_matmul(a: np.ndarray, b: np.ndarray, keep: np.ndarray, out: np.ndarray) -> None:
    """out = a @ b over the terms ``keep`` (n, m) allows, for a (..., n, m) that is 0 elsewhere.

    BLAS multiplies those zeros too, so a NaN or ∞ of b met by a skipped term would spread (0 · NaN);
    only a non-finite product can hold such a term, and it is recomputed from the allowed terms alone."""
    np.matmul(a, b, out=out)
    if not np.isfinite(out).all():
        out[...] = np.where(keep[..., None], a[..., :, :, None] * b[..., None, :, :], 0).sum(axis=-2)


def batch_blocks(shape: tuple[int, int, int, int], itemsize: int) -> list[slice]:
    """Slices of the batch axis of (B, H, T, D) attention whose (b, H, T, T) scores take about ``BLOCK_BYTES``."""
    batch, heads, seq_len = shape[:3]
    step = max(1, BLOCK_BYTES // max(1, heads * seq_len * seq_len * itemsize))
    return [slice(start, min(start + step, batch)) for start in range(0, batch, step)]


def causal_attention(q: Any, k: Any, v: Any, *, scale: float | None = None,
                     row_scale: np.ndarray | None = None) -> Tensor:
    """Causal softmax attention as one fused node: q, k, v (B, H, T, D), row_scale c (T,) or None →
    o (B, H, T, D), equal to ``dense_attention(q, k, v, mask=causal_mask(T), scale=scale, row_scale=c)``."""
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    if q.ndim != 4 or k.shape != q.shape or v.shape != q.shape:
        raise ValueError(f"q, k, v must share one shape (B, H, T, D), got {q.shape}, {k.shape}, {v.shape}")
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    if row_scale is None:
        factor = np.asarray(scale, q.dtype)
    else:
        row_scale = np.asarray(row_scale)
        if row_scale.shape != (q.shape[2],):
            raise ValueError(f"row_scale must have shape (T,) = {(q.shape[2],)}, got {row_scale.shape}")
        factor = (scale * row_scale).astype(q.dtype)[:, None]
    return CausalAttention.apply(q, k, v, factor=factor)
