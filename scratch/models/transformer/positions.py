"""Position encodings and distance biases for length extrapolation (spec Part B, B.2 and B.4).

Positions are 0-based; δ = i − j ≥ 0 is the distance from query i back to key j.

* sinusoidal (absolute):  P[i, 2t] = sin(i ω_t), P[i, 2t+1] = cos(i ω_t),  ω_t = base^{−2t/d}.
* RoPE: the pairs (x_{2t}, x_{2t+1}) of q_i and k_j are rotated by the angles i θ_t and j θ_t,
  θ_t = base^{−2t/D}, so q_i·k_j depends on i − j only:  R_i q · R_j k = qᵀ R_{j−i} k.
* XPOS: RoPE with q_i scaled by ζ_t^{i/γ} and k_j by ζ_t^{−j/γ}, ζ_t = (2t/D + 0.4)/1.4, γ = 512,
  so pair t of the logit decays as ζ_t^{δ}; positions are centred on T/2 (it cancels in δ) so the
  factors stay finite at long lengths.
* ALiBi:  β_h(δ) = −λ_h δ,  λ_h = 2^{−8h/H}, h = 1..H.
* KERPLE:  power β_h(δ) = −r1 δ^{r2},  log β_h(δ) = −r1 log(1 + r2 δ),  r trainable per head, kept in
  range as r1 = softplus(a), r2 = 2·sigmoid(b) (power, r2 ∈ (0, 2)) or softplus(b) (log).
* Sandwich:  β_h(δ) = λ Σ_{t<D/2} cos(δ ω_t), the dot product of two sinusoidal vectors δ apart.
* log n† (inference only, spec part 11): q_i multiplied by max(1, log_N(i + 1)).
* ReRoPE / Leaky ReRoPE (spec part 12, inference): the relative position δ becomes δ if δ < w, else
  w (ReRoPE) or w + (δ − w)/k (Leaky). RoPE cannot express it in one rotation of q and k, so two
  score matrices are computed and selected by δ < w: standard RoPE, and q rotated by w with k
  unrotated (ReRoPE) or q rotated by (i − w)/k + w with k rotated by j/k (Leaky). With one query
  (decoding) one pass suffices: q unrotated and key j rotated by max(j − i, −w) (ReRoPE) or
  max(j − i, (j − i + w)/k − w) (Leaky).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...autograd import Function, Tensor, as_tensor, where
from ...autograd.functional.attention import relative_positions

ROPE_BASE = 10000.0
XPOS_SCALE_BASE = 512.0


def frequencies(dim: int, base: float = ROPE_BASE) -> np.ndarray:
    """ω_t = base^{−2t/dim}, t = 0..dim/2 − 1: (dim/2,) float64."""
    if dim % 2:
        raise ValueError(f"the dimension must be even for pairs of sines and cosines, got {dim}")
    return base ** (-np.arange(0, dim, 2) / dim)


def sinusoidal_table(seq_len: int, dim: int, base: float = ROPE_BASE) -> np.ndarray:
    """The absolute encoding P (T, dim): P[i, 2t] = sin(i ω_t), P[i, 2t+1] = cos(i ω_t)."""
    angles = np.arange(seq_len)[:, None] * frequencies(dim, base)[None, :]
    table = np.empty((seq_len, dim))
    table[:, 0::2], table[:, 1::2] = np.sin(angles), np.cos(angles)
    return table


def rope_angles(positions: np.ndarray, dim: int, base: float = ROPE_BASE) -> np.ndarray:
    """Angles p θ_t for each position p (float positions allowed): (T,) → (T, dim/2)."""
    return np.asarray(positions, np.float64)[:, None] * frequencies(dim, base)[None, :]


class Rotate(Function):
    """Rotate the pairs (x_{2t}, x_{2t+1}) of x (..., T, D) by the angles (T, D/2); backward rotates back."""

    @staticmethod
    def forward(ctx, x, angles):
        ctx.angles = angles
        return _rotate(x, angles)

    @staticmethod
    def backward(ctx, grad):
        return _rotate(grad, -ctx.angles)


def _rotate(x: np.ndarray, angles: np.ndarray) -> np.ndarray:
    cos, sin = np.cos(angles).astype(x.dtype), np.sin(angles).astype(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def rope(x: Any, positions: np.ndarray, base: float = ROPE_BASE) -> Tensor:
    """RoPE: x (..., T, D) with the pairs of row i rotated by positions[i]·θ_t; positions (T,)."""
    x = as_tensor(x)
    positions = np.asarray(positions)
    if positions.shape != (x.shape[-2],):
        raise ValueError(f"positions must have shape (T,) = ({x.shape[-2]},), got {positions.shape}")
    return Rotate.apply(x, angles=rope_angles(positions, x.shape[-1], base))


def xpos_scales(seq_len: int, dim: int, scale_base: float = XPOS_SCALE_BASE) -> np.ndarray:
    """ζ_t^{(i − T/2)/γ} for the query side (T, D); the key side is its reciprocal."""
    zeta = (np.arange(0, dim, 2) / dim + 0.4) / 1.4
    power = (np.arange(seq_len) - seq_len // 2)[:, None] / scale_base
    return np.repeat(zeta[None, :] ** power, 2, axis=1)


def alibi_slopes(heads: int) -> np.ndarray:
    """λ_h = 2^{−8h/H}, h = 1..H: (H,)."""
    return 2.0 ** (-8.0 * np.arange(1, heads + 1) / heads)


def alibi_bias(heads: int, window: int) -> np.ndarray:
    """β_h(δ) = −λ_h δ for δ = 0..window−1: (H, window)."""
    return -alibi_slopes(heads)[:, None] * np.arange(window)[None, :]


def softplus(x: Tensor) -> Tensor:
    """log(1 + eˣ), computed as max(x, 0) + log(1 + e^{−|x|}) so that it never overflows."""
    return x.relu() + ((-x.abs()).exp() + 1).log()


def kerple_bias(a: Any, b: Any, window: int, form: str) -> Tensor:
    """KERPLE bias (H, window) from the raw per-head parameters a, b (H,): r1 = softplus(a) and
    r2 = 2·sigmoid(b) (``form="power"``: −r1 δ^{r2}) or softplus(b) (``form="log"``: −r1 log(1 + r2 δ))."""
    a, b = as_tensor(a), as_tensor(b)
    delta = np.arange(window, dtype=a.dtype)
    r1 = softplus(a).reshape(-1, 1)
    if form == "power":
        r2 = (b.sigmoid() * 2).reshape(-1, 1)
        # δ^{r2} = exp(r2 log δ) for δ ≥ 1 and 0 at δ = 0, where its r2-gradient is 0 as well
        log_delta = np.log(np.maximum(delta, 1))
        return -r1 * where(delta > 0, (r2 * log_delta).exp(), np.zeros(window, a.dtype))
    if form == "log":
        r2 = softplus(b).reshape(-1, 1)
        return -r1 * (r2 * delta + 1).log()
    raise ValueError(f"form must be 'power' or 'log', got {form!r}")


def sandwich_bias(heads: int, window: int, dim: int, scale: float = 1.0) -> np.ndarray:
    """β(δ) = λ Σ_{t<dim/2} cos(δ ω_t), the same for every head: (H, window)."""
    values = scale * np.cos(np.arange(window)[:, None] * frequencies(dim)[None, :]).sum(axis=1)
    return np.broadcast_to(values, (heads, window)).copy()


def clipped_log_n(seq_len: int, train_len: int) -> np.ndarray:
    """log n† = max(1, log_N(i + 1)) for i = 0..T−1 with N = ``train_len``: (T,)."""
    return np.maximum(1.0, np.log(np.arange(1, seq_len + 1)) / math.log(train_len))


def rerope_scores(q: Any, k: Any, window: int, leaky_k: float | None = None, *, scale: float | None = None,
                  base: float = ROPE_BASE) -> Tensor:
    """ReRoPE (``leaky_k`` None) or Leaky ReRoPE logits σ q_i·k_j at the clipped relative position,
    by the two-score-matrix form: q, k (B, H, T, D) unrotated → (B, H, T, T) (causal part meaningful)."""
    q, k = as_tensor(q), as_tensor(k)
    seq_len, dim = q.shape[-2:]
    scale = 1 / math.sqrt(dim) if scale is None else scale
    positions = np.arange(seq_len, dtype=np.float64)
    inner = rope(q, positions, base) @ rope(k, positions, base).swapaxes(-1, -2)
    if leaky_k is None:
        outer = rope(q, np.full(seq_len, float(window)), base) @ k.swapaxes(-1, -2)
    else:
        q_far = rope(q, (positions - window) / leaky_k + window, base)
        outer = q_far @ rope(k, positions / leaky_k, base).swapaxes(-1, -2)
    return where(relative_positions(seq_len) < window, inner, outer) * scale


def rerope_query_scores(q_i: np.ndarray, k: np.ndarray, i: int, window: int, leaky_k: float | None = None, *,
                        scale: float | None = None, base: float = ROPE_BASE) -> np.ndarray:
    """The single-pass form for one query: q_i (..., D) unrotated at position i, keys k (..., T', D) at
    positions 0..T'−1, each rotated by max(j − i, −w) (ReRoPE) or max(j − i, (j − i + w)/k − w) (Leaky).
    Returns the logits (..., T')."""
    dim = q_i.shape[-1]
    scale = 1 / math.sqrt(dim) if scale is None else scale
    offset = np.arange(k.shape[-2]) - i
    clipped = -window if leaky_k is None else (offset + window) / leaky_k - window
    rotated = _rotate(k, rope_angles(np.maximum(offset, clipped), dim, base))
    return np.einsum("...d,...td->...t", q_i, rotated) * scale
