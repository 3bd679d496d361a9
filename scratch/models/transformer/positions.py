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
ROPE_SCALINGS = ("pi", "ntk", "yarn")
YARN_ALPHA, YARN_BETA = 1.0, 32.0
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


def scaled_frequencies(dim: int, method: str, factor: float, train_len: int, base: float = ROPE_BASE) -> np.ndarray:
    """RoPE's θ_t changed at inference to run at ``factor`` s ≥ 1 times the training length N:

    * ``"pi"`` (position interpolation):  θ_t / s, every position squeezed into the trained range;
    * ``"ntk"`` (NTK-aware scaling):  the base raised to base · s^{D/(D−2)}, so the fastest pair keeps
      its frequency and the slowest is interpolated by s;
    * ``"yarn"`` (YaRN's frequency ramp):  with r_t = N θ_t / 2π the turns pair t makes over N and
      γ_t = clip((r_t − α)/(β − α), 0, 1), α = 1, β = 32:  (1 − γ_t) θ_t / s + γ_t θ_t — pairs that turn
      many times keep their frequency, pairs that do not complete a turn are interpolated. YaRN also
      sharpens the logits, ``yarn_logit_factor``.

    Returns (dim/2,) float64; s = 1 gives θ_t for every method."""
    validation.choice("method", method, ROPE_SCALINGS)
    factor = validation.real("factor", factor, minimum=1.0)
    train_len = validation.positive_int("train_len", train_len)
    theta = frequencies(dim, base)
    if method == "pi":
        return theta / factor
    if method == "ntk":
        return frequencies(dim, base * factor ** (dim / (dim - 2))) if dim > 2 else theta / factor
    turns = train_len * theta / (2 * math.pi)
    ramp = np.clip((turns - YARN_ALPHA) / (YARN_BETA - YARN_ALPHA), 0.0, 1.0)
    return (1 - ramp) * theta / factor + ramp * theta


def yarn_logit_factor(factor: float) -> float:
    """YaRN's logit multiplier (0.1 ln s + 1)², applied as 0.1 ln s + 1 on each of q and k."""
    factor = validation.real("factor", factor, minimum=1.0)
    return (0.1 * math.log(factor) + 1) ** 2


def rope_angles(positions: np.ndarray, dim: int, base: float = ROPE_BASE, *,
                theta: np.ndarray | None = None) -> np.ndarray:
    """Angles p θ_t for each position p (float positions allowed): (T,) → (T, dim/2); ``theta`` (dim/2,)
    replaces the frequencies base^{−2t/dim} (``scaled_frequencies``)."""
    validation.shape("positions", positions, (None,))
    if theta is None:
        theta = frequencies(dim, base)
    validation.shape("theta", theta, (dim // 2,))
    return np.asarray(positions, np.float64)[:, None] * theta[None, :]


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


def rope(x: Any, positions: np.ndarray, base: float = ROPE_BASE, *, theta: np.ndarray | None = None) -> Tensor:
    """RoPE: x (..., T, D) with the pairs of row i rotated by positions[i]·θ_t; positions (T,); ``theta``
    (D/2,) replaces the frequencies base^{−2t/D}."""
    x = as_tensor(x)
    validation.shape("positions", positions, (x.shape[-2],))
    return Rotate.apply(x, angles=rope_angles(positions, x.shape[-1], base, theta=theta))


def xpos_scales(seq_len: int, dim: int, scale_base: float = XPOS_SCALE_BASE) -> np.ndarray:
    """ζ_t^{(i − ⌊T/2⌋)/γ} on both entries of pair t of row i, for the query side (T, dim); the key side
    is its reciprocal, so pair t of q_i·k_j is multiplied by ζ_t^{(i − j)/γ}. γ = ``scale_base`` > 0."""
    seq_len = validation.integer("seq_len", seq_len, minimum=0)
    return xpos_factors(np.arange(seq_len) - seq_len // 2, dim, scale_base)


def xpos_factors(positions: np.ndarray, dim: int, scale_base: float = XPOS_SCALE_BASE) -> np.ndarray:
    """ζ_t^{p/γ} on both entries of pair t for each (possibly fractional) position p: (T,) → (T, dim)."""
    validation.shape("positions", positions, (None,))
    dim = validation.positive_int("dim", dim)
    scale_base = validation.positive_real("scale_base", scale_base)
    zeta = (np.arange(0, dim, 2) / dim + 0.4) / 1.4
    return np.repeat(zeta[None, :] ** (np.asarray(positions, np.float64)[:, None] / scale_base), 2, axis=1)


def alibi_slopes(heads: int) -> np.ndarray:
    """λ_h = 2^{−8h/H}, h = 1..H: (H,)."""
    heads = validation.positive_int("heads", heads)
    return 2.0 ** (-8.0 * np.arange(1, heads + 1) / heads)


def alibi_bias(heads: int, window: int, *, distances: np.ndarray | None = None) -> np.ndarray:
    """β_h(δ) = −λ_h δ for δ = 0..window−1, or at ``distances`` (window,): (H, window)."""
    delta = _distances(window, distances)
    return -alibi_slopes(heads)[:, None] * delta[None, :]


def _distances(window: int, distances: np.ndarray | None) -> np.ndarray:
    """The distances a bias is evaluated at: 0..window−1, or the given (window,) non-negative reals."""
    window = validation.positive_int("window", window)
    if distances is None:
        return np.arange(window, dtype=np.float64)
    distances = np.asarray(distances, np.float64)
    validation.shape("distances", distances, (window,))
    if not np.all(np.isfinite(distances)) or np.any(distances < 0):
        raise ValueError(f"distances must be finite and non-negative, got {distances}")
    return distances


def softplus(x: Tensor) -> Tensor:
    """log(1 + eˣ), computed as max(x, 0) + log(1 + e^{−|x|}) so that it never overflows."""
    return x.relu() + ((-x.abs()).exp() + 1).log()


def kerple_bias(a: Any, b: Any, window: int, form: str, *, distances: np.ndarray | None = None) -> Tensor:
    """KERPLE bias (H, window) at δ = 0..window−1 (or at ``distances`` (window,)) from the raw per-head
    parameters a, b (H,): r1 = softplus(a) and r2 = 2·sigmoid(b) (``form=KERPLE_POWER``: −r1 δ^{r2}) or
    softplus(b) (``form=KERPLE_LOG``: −r1 log(1 + r2 δ))."""
    a, b = as_tensor(a), as_tensor(b)
    validation.shape("a", a, (None,))
    validation.shape("b", b, a.shape)
    validation.choice("form", form, (KERPLE_POWER, KERPLE_LOG))
    delta = _distances(window, distances).astype(a.dtype)
    r1 = softplus(a).reshape(-1, 1)
    if form == KERPLE_POWER:
        r2 = (b.sigmoid() * 2).reshape(-1, 1)
        # δ^{r2} = exp(r2 log δ) for δ > 0 and 0 at δ = 0, where its r2-gradient is 0 as well
        log_delta = np.log(np.where(delta > 0, delta, 1))
        return -r1 * where(delta > 0, (r2 * log_delta).exp(), np.zeros(len(delta), a.dtype))
    r2 = softplus(b).reshape(-1, 1)
    return -r1 * (r2 * delta + 1).log()


def sandwich_bias(heads: int, window: int, dim: int, scale: float = 1.0, *,
                  distances: np.ndarray | None = None) -> np.ndarray:
    """β(δ) = λ Σ_{t<dim/2} cos(δ ω_t), the same for every head: (H, window) at δ = 0..window−1 (or at
    ``distances`` (window,)); λ = ``scale``, a finite real."""
    heads = validation.positive_int("heads", heads)
    delta = _distances(window, distances)
    scale = validation.real("scale", scale)
    values = scale * np.cos(delta[:, None] * frequencies(dim)[None, :]).sum(axis=1)
    return np.broadcast_to(values, (heads, window)).copy()


def clipped_log_n(seq_len: int, train_len: int) -> np.ndarray:
    """log n† = max(1, log_N(i + 1)) for i = 0..T−1 with N = ``train_len`` ≥ 2: (T,)."""
    seq_len = validation.integer("seq_len", seq_len, minimum=0)
    train_len = validation.integer("train_len", train_len, minimum=2)
    return np.maximum(1.0, np.log(np.arange(1, seq_len + 1)) / math.log(train_len))


def rerope_scores(q: Any, k: Any, window: int, leaky_k: float | None = None, *, scale: float | None = None,
                  base: float = ROPE_BASE, xpos_scale_base: float | None = None) -> Tensor:
    """ReRoPE (``leaky_k`` None) or Leaky ReRoPE logits σ q_i·k_j at the clipped relative position,
    by the two-score-matrix form: q, k (B, H, T, D) unrotated → (B, H, T, T) (causal part meaningful).
    window: w ≥ 1;  leaky_k: k ≥ 1 or None;  scale: σ, default 1/√D.

    With ``xpos_scale_base`` γ (an XPOS model) pair t is also scaled by ζ_t^{r/γ} at the same clipped
    relative position r, so inside the window the logits are XPOS's own: positions p_q of the queries
    and p_k of the keys carry ζ^{(p − c)/γ} and ζ^{−(p − c)/γ} (c a common centre, which cancels)."""
    q, k = as_tensor(q), as_tensor(k)
    validation.shape("q", q, (None, None, None, None))
    validation.shape("k", k, q.shape)
    seq_len, dim = q.shape[-2:]
    window, leaky_k, scale = _rerope_settings(dim, window, leaky_k, scale)
    positions = np.arange(seq_len, dtype=np.float64)
    if leaky_k is None:  # r = p_q − p_k = w, the query rotated by w and the key not at all
        far_q, far_k = np.full(seq_len, float(window)), np.zeros(seq_len)
    else:                # r = (i − w)/k + w − j/k = w + (δ − w)/k
        far_q, far_k = (positions - window) / leaky_k + window, positions / leaky_k
    inner = _rotated_scores(q, k, positions, positions, base, xpos_scale_base)
    outer = _rotated_scores(q, k, far_q, far_k, base, xpos_scale_base)
    return where(relative_positions(seq_len) < window, inner, outer) * scale


def _rotated_scores(q: Tensor, k: Tensor, query_positions: np.ndarray, key_positions: np.ndarray, base: float,
                    xpos_scale_base: float | None) -> Tensor:
    """R(p_q) q · R(p_k) k for every query/key pair, with XPOS's ζ^{±(p − c)/γ} when γ is given."""
    q, k = rope(q, query_positions, base), rope(k, key_positions, base)
    if xpos_scale_base is not None:
        centre = key_positions[len(key_positions) // 2]
        dim = q.shape[-1]
        q = q * xpos_factors(query_positions - centre, dim, xpos_scale_base).astype(q.dtype)
        k = k * xpos_factors(centre - key_positions, dim, xpos_scale_base).astype(k.dtype)
    return q @ k.swapaxes(-1, -2)


def rerope_query_scores(q_i: np.ndarray, k: np.ndarray, i: int, window: int, leaky_k: float | None = None, *,
                        scale: float | None = None, base: float = ROPE_BASE,
                        xpos_scale_base: float | None = None) -> np.ndarray:
    """The single-pass form for one query: q_i (..., D) unrotated at position i, keys k (..., T', D) at
    positions 0..T'−1, each rotated by max(j − i, −w) (ReRoPE) or max(j − i, (j − i + w)/k − w) (Leaky),
    and with ``xpos_scale_base`` γ scaled by ζ_t^{r/γ} at that clipped relative position r.
    Returns the logits (..., T'). i ≥ 0;  window: w ≥ 1;  leaky_k: k ≥ 1 or None;  scale: σ, default 1/√D."""
    dim = q_i.shape[-1]
    validation.shape("k", k, (*q_i.shape[:-1], None, dim))
    i = validation.integer("i", i, minimum=0)
    window, leaky_k, scale = _rerope_settings(dim, window, leaky_k, scale)
    offset = np.arange(k.shape[-2]) - i
    clipped = -window if leaky_k is None else (offset + window) / leaky_k - window
    relative = np.maximum(offset, clipped)
    rotated = _rotate(k, rope_angles(relative, dim, base))
    if xpos_scale_base is not None:
        rotated = rotated * xpos_factors(-relative, dim, xpos_scale_base)
    return np.einsum("...d,...td->...t", q_i, rotated) * scale


def clipped_distances(length: int, window: int, leaky_k: float | None = None) -> np.ndarray:
    """ReRoPE's distances for δ = 0..length−1: δ if δ < w, else w (ReRoPE) or w + (δ − w)/k (Leaky):
    (length,) float64 — the distances at which a distance-bias scheme (ALiBi, KERPLE, Sandwich) is
    evaluated under ReRoPE."""
    length = validation.positive_int("length", length)
    window = validation.positive_int("window", window)
    if leaky_k is not None:
        leaky_k = validation.real("leaky_k", leaky_k, minimum=1.0)
    delta = np.arange(length, dtype=np.float64)
    far = np.full(length, float(window)) if leaky_k is None else window + (delta - window) / leaky_k
    return np.where(delta < window, delta, far)


def _rerope_settings(dim: int, window: Any, leaky_k: Any, scale: Any) -> tuple[int, float | None, float]:
    """The checked w, k (or None) and σ (default 1/√D) of the ReRoPE functions."""
    validation.positive_int("q.shape[-1], the head size D,", dim)
    window = validation.positive_int("window", window)
    leaky_k = None if leaky_k is None else validation.real("leaky_k", leaky_k, minimum=1.0)
    scale = 1 / math.sqrt(dim) if scale is None else validation.real("scale", scale)
    return window, leaky_k, scale
