"""Dense softmax attention with masks and additive biases, and the head split/merge around it.

For queries q_i, keys k_j, values v_j ∈ R^D of one head (i, j = 0..T−1),

    s_ij = c_i · σ · q_i·k_j + β_ij,   s_ij = −∞ where the mask forbids j,
    o_i  = Σ_j softmax_j(s_ij) v_j,

with σ the scale (1/√D by default), β an additive bias (H, T, T) or (T, T) (ALiBi, KERPLE, Sandwich
as functions of i − j) and c_i a per-row factor (log-n scaling, spec B.2). Every row must keep at
least one allowed key (the diagonal, for the causal masks built here), so no row is all −∞.

This is the quadratic reference that the windowed kernel is tested against, and the model's path for
the variants that need a whole score matrix (ReRoPE's two matrices).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import Tensor, as_tensor, where
from .softmax import softmax

# The logit of a forbidden slot: finite, so 0 · MASKED stays 0 and a masked row never makes NaN,
# and far enough below any real logit that exp(MASKED − max) is exactly 0 in float32 and float64.
MASKED = -1e30


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
