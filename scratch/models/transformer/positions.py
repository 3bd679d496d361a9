"""Position encodings and distance biases for length extrapolation (spec Part B, B.2 and B.4).

Positions are 0-based; δ = i − j ≥ 0 is the distance from query i back to key j.

* sinusoidal (absolute):  P[i, 2t] = sin(i ω_t), P[i, 2t+1] = cos(i ω_t),  ω_t = base^{−2t/d}.
* RoPE: the pairs (x_{2t}, x_{2t+1}) of q_i and k_j are rotated by the angles i θ_t and j θ_t,
  θ_t = base^{−2t/D}, so q_i·k_j depends on i − j only:  R_i q · R_j k = qᵀ R_{j−i} k.
* XPOS: RoPE with the pair t of q_i scaled by ζ_t^{i/γ} and of k_j by ζ_t^{−j/γ}, ζ_t = (2t/D + 0.4)/1.4,
  γ = 512, so pair t of the logit decays as ζ_t^{δ/γ} (ζ_t < 1); positions are centred on ⌊T/2⌋ (the
  centre cancels in δ) so the factors stay finite at long lengths.
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

from ... import validation
from ...autograd import Function, Tensor, as_tensor, where
from ...autograd.functional.attention import relative_positions

ROPE_BASE = 10000.0
XPOS_SCALE_BASE = 512.0
KERPLE_POWER = "power"
KERPLE_LOG = "log"


def frequencies(dim: int, base: float = ROPE_BASE) -> np.ndarray:
    """ω_t = base^{−2t/dim}, t = 0..dim/2 − 1: (dim/2,) float64. dim: even, ≥ 2;  base > 0."""
    dim = validation.positive_int("dim", dim)
    if dim % 2:
        raise ValueError(f"dim must be even for pairs of sines and cosines, got {dim}")
    base = validation.positive_real("base", base)
    return base ** (-np.arange(0, dim, 2) / dim)


def sinusoidal_table(seq_len: int, dim: int, base: float = ROPE_BASE) -> np.ndarray:
    """The absolute encoding P (T, dim): P[i, 2t] = sin(i ω_t), P[i, 2t+1] = cos(i ω_t)."""
    seq_len = validation.integer("seq_len", seq_len, minimum=0)
    angles = np.arange(seq_len)[:, None] * frequencies(dim, base)[None, :]
    table = np.empty((seq_len, dim))
    table[:, 0::2], table[:, 1::2] = np.sin(angles), np.cos(angles)
    return table


def rope_angles(positions: np.ndarray, dim: int, base: float = ROPE_BASE) -> np.ndarray:
    """Angles p θ_t for each position p (float positions allowed): (T,) → (T, dim/2)."""
    validation.shape("positions", positions, (None,))
    return np.asarray(positions, np.float64)[:, None] * frequencies(dim, base)[None, :]


class Rotate(Function):
    """Rotate the pairs (x_{2t}, x_{2t+1}) of x (..., T, D) by the angles (T, D/2); backward rotates back."""

    @staticmethod
    def forward(ctx, x, *, angles):
        ctx.angles = angles
        return _rotate(x, angles)

    @staticmethod
    def backward(ctx, grad):
        return _rotate(grad, -ctx.angles)


def _rotate(x: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """(x_{2t}, x_{2t+1}) → (x_{2t} cos a_t − x_{2t+1} sin a_t, x_{2t} sin a_t + x_{2t+1} cos a_t) per row."""
    cos, sin = np.cos(angles).astype(x.dtype), np.sin(angles).astype(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def rope(x: Any, positions: np.ndarray, base: float = ROPE_BASE) -> Tensor:
    """RoPE: x (..., T, D) with the pairs of row i rotated by positions[i]·θ_t; positions (T,)."""
    x = as_tensor(x)
    validation.shape("positions", positions, (x.shape[-2],))
    return Rotate.apply(x, angles=rope_angles(positions, x.shape[-1], base))


def xpos_scales(seq_len: int, dim: int, scale_base: float = XPOS_SCALE_BASE) -> np.ndarray:
    """ζ_t^{(i − ⌊T/2⌋)/γ} on both entries of pair t of row i, for the query side (T, dim); the key side
    is its reciprocal, so pair t of q_i·k_j is multiplied by ζ_t^{(i − j)/γ}. γ = ``scale_base`` > 0."""
    seq_len = validation.integer("seq_len", seq_len, minimum=0)
    dim = validation.positive_int("dim", dim)
    scale_base = validation.positive_real("scale_base", scale_base)
    zeta = (np.arange(0, dim, 2) / dim + 0.4) / 1.4
    power = (np.arange(seq_len) - seq_len // 2)[:, None] / scale_base
    return np.repeat(zeta[None, :] ** power, 2, axis=1)


def alibi_slopes(heads: int) -> np.ndarray:
    """λ_h = 2^{−8h/H}, h = 1..H: (H,)."""
    heads = validation.positive_int("heads", heads)
    return 2.0 ** (-8.0 * np.arange(1, heads + 1) / heads)


def alibi_bias(heads: int, window: int) -> np.ndarray:
    """β_h(δ) = −λ_h δ for δ = 0..window−1: (H, window)."""
    window = validation.positive_int("window", window)
    return -alibi_slopes(heads)[:, None] * np.arange(window)[None, :]


def softplus(x: Tensor) -> Tensor:
    """log(1 + eˣ), computed as max(x, 0) + log(1 + e^{−|x|}) so that it never overflows."""
    return x.relu() + ((-x.abs()).exp() + 1).log()


def kerple_bias(a: Any, b: Any, window: int, form: str) -> Tensor:
    """KERPLE bias (H, window) from the raw per-head parameters a, b (H,): r1 = softplus(a) and
    r2 = 2·sigmoid(b) (``form=KERPLE_POWER``: −r1 δ^{r2}) or softplus(b) (``form=KERPLE_LOG``:
    −r1 log(1 + r2 δ))."""
    a, b = as_tensor(a), as_tensor(b)
    validation.shape("a", a, (None,))
    validation.shape("b", b, a.shape)
    window = validation.positive_int("window", window)
    validation.choice("form", form, (KERPLE_POWER, KERPLE_LOG))
    delta = np.arange(window, dtype=a.dtype)
    r1 = softplus(a).reshape(-1, 1)
    if form == KERPLE_POWER:
        r2 = (b.sigmoid() * 2).reshape(-1, 1)
        # δ^{r2} = exp(r2 log δ) for δ ≥ 1 and 0 at δ = 0, where its r2-gradient is 0 as well
        log_delta = np.log(np.maximum(delta, 1))
        return -r1 * where(delta > 0, (r2 * log_delta).exp(), np.zeros(window, a.dtype))
    r2 = softplus(b).reshape(-1, 1)
    return -r1 * (r2 * delta + 1).log()


def sandwich_bias(heads: int, window: int, dim: int, scale: float = 1.0) -> np.ndarray:
    """β(δ) = λ Σ_{t<dim/2} cos(δ ω_t), the same for every head: (H, window); λ = ``scale``, a finite real."""
    heads = validation.positive_int("heads", heads)
    window = validation.positive_int("window", window)
    scale = validation.real("scale", scale)
    values = scale * np.cos(np.arange(window)[:, None] * frequencies(dim)[None, :]).sum(axis=1)
    return np.broadcast_to(values, (heads, window)).copy()


def clipped_log_n(seq_len: int, train_len: int) -> np.ndarray:
    """log n† = max(1, log_N(i + 1)) for i = 0..T−1 with N = ``train_len`` ≥ 2: (T,)."""
    seq_len = validation.integer("seq_len", seq_len, minimum=0)
    train_len = validation.integer("train_len", train_len, minimum=2)
    return np.maximum(1.0, np.log(np.arange(1, seq_len + 1)) / math.log(train_len))


def rerope_scores(q: Any, k: Any, window: int, leaky_k: float | None = None, *, scale: float | None = None,
                  base: float = ROPE_BASE) -> Tensor:
    """ReRoPE (``leaky_k`` None) or Leaky ReRoPE logits σ q_i·k_j at the clipped relative position,
    by the two-score-matrix form: q, k (B, H, T, D) unrotated → (B, H, T, T) (causal part meaningful).
    window: w ≥ 1;  leaky_k: k ≥ 1 or None;  scale: σ, default 1/√D."""
    q, k = as_tensor(q), as_tensor(k)
    validation.shape("q", q, (None, None, None, None))
    validation.shape("k", k, q.shape)
    seq_len, dim = q.shape[-2:]
    window, leaky_k, scale = _rerope_settings(dim, window, leaky_k, scale)
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
    Returns the logits (..., T'). i ≥ 0;  window: w ≥ 1;  leaky_k: k ≥ 1 or None;  scale: σ, default 1/√D."""
    dim = q_i.shape[-1]
    validation.shape("k", k, (*q_i.shape[:-1], None, dim))
    i = validation.integer("i", i, minimum=0)
    window, leaky_k, scale = _rerope_settings(dim, window, leaky_k, scale)
    offset = np.arange(k.shape[-2]) - i
    clipped = -window if leaky_k is None else (offset + window) / leaky_k - window
    rotated = _rotate(k, rope_angles(np.maximum(offset, clipped), dim, base))
    return np.einsum("...d,...td->...t", q_i, rotated) * scale


def _rerope_settings(dim: int, window: Any, leaky_k: Any, scale: Any) -> tuple[int, float | None, float]:
    """The checked w, k (or None) and σ (default 1/√D) of the ReRoPE functions."""
    validation.positive_int("q.shape[-1], the head size D,", dim)
    window = validation.positive_int("window", window)
    leaky_k = None if leaky_k is None else validation.real("leaky_k", leaky_k, minimum=1.0)
    scale = 1 / math.sqrt(dim) if scale is None else validation.real("scale", scale)
    return window, leaky_k, scale
