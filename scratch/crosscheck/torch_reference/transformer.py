"""Window attention, the position schemes and the Transformer block in torch (the cases ``transformer/*``),
written as dense masked attention over a (T, T) matrix of distances δ = t − j."""
import math
from functools import partial

import torch
from torch.nn import functional as F


def distances(length):
    positions = torch.arange(length)
    return positions[:, None] - positions[None, :]


def window_attention(q, k, v, window, bias=None, log_n=None):
    """q, k, v (B, H, T, D); query t sees 0 ≤ t − j < window; logits c_t q·k/√D + bias[h, t − j]."""
    length, dim = q.shape[-2:]
    delta = distances(length)
    scores = q @ k.transpose(-1, -2) / math.sqrt(dim)
    if log_n is not None:
        visible = torch.clamp(torch.arange(1, length + 1), max=window).to(q.dtype)
        scores = scores * (visible.log() / math.log(log_n))[:, None]
    if bias is not None:
        scores = scores + bias[:, delta.clamp(0, window - 1)]
    allowed = (delta >= 0) & (delta < window)
    return torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1) @ v


def rotate(x, angles):
    """Rotate the pairs (x_{2i}, x_{2i+1}) by ``angles`` (..., D/2)."""
    even, odd = x[..., 0::2], x[..., 1::2]
    cos, sin = torch.cos(angles), torch.sin(angles)
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)


def frequencies(dim, base=10000.0):
    return base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)


def rope(x, base=10000.0):
    positions = torch.arange(x.shape[-2], dtype=torch.float64)
    return rotate(x, positions[:, None] * frequencies(x.shape[-1], base))


def xpos(q, k):
    length, dim = q.shape[-2:]
    zeta = (torch.arange(0, dim, 2, dtype=torch.float64) / dim + 0.4) / 1.4
    power = (torch.arange(length, dtype=torch.float64) - length // 2)[:, None] / 512.0
    scales = torch.repeat_interleave(zeta ** power, 2, dim=-1)
    return {"q_out": rope(q) * scales, "k_out": rope(k) / scales}


def alibi_bias(heads, window):
    slopes = 2.0 ** (-8.0 * torch.arange(1, heads + 1, dtype=torch.float64) / heads)
    return -slopes[:, None] * torch.arange(window, dtype=torch.float64)


def kerple_bias(a, b, window, form):
    delta = torch.arange(window, dtype=a.dtype)
    r1 = F.softplus(a)[:, None]
    if form == "power":
        r2 = 2 * torch.sigmoid(b)[:, None]
        return -r1 * torch.where(delta > 0, delta.clamp(min=1) ** r2, torch.zeros_like(delta))
    return -r1 * torch.log1p(F.softplus(b)[:, None] * delta)


def sandwich_bias(heads, window, dim, scale):
    values = scale * torch.cos(torch.arange(window, dtype=torch.float64)[:, None] * frequencies(dim)).sum(-1)
    return values.expand(heads, window)


def rerope_attention(q, k, v, window, leaky_k):
    """Causal attention with the logit of (t, j) at the clipped relative position: q_t·R(−δ') k_j/√D."""
    length, dim = q.shape[-2:]
    delta = distances(length).to(torch.float64)
    far = window + (delta - window) / leaky_k if leaky_k is not None else torch.full_like(delta, float(window))
    clipped = torch.where(delta < window, delta, far)
    keys = rotate(k[..., None, :, :], -clipped[..., None] * frequencies(dim))        # (B, H, T_q, T_k, D)
    scores = torch.einsum("bhtd,bhtjd->bhtj", q, keys) / math.sqrt(dim)
    return torch.softmax(scores.masked_fill(delta < 0, float("-inf")), dim=-1) @ v


def block(x, *, position, norm, prenorm, activation, window=None, **state):
    """One Transformer layer from its state dict (torch layouts): multi-head attention with RoPE or ALiBi
    and the MLP down(φ(up(·))), each with a residual and a pre- or post-norm."""
    heads = 2
    batch, length, dim = x.shape

    def normalise(h, name):
        if norm == "rms":
            return F.rms_norm(h, (dim,), state[f"{name}.weight"], 1e-6)
        return F.layer_norm(h, (dim,), state[f"{name}.weight"], state[f"{name}.bias"], 1e-5)

    def attention(h):
        q, k, v = (part.reshape(batch, length, heads, -1).transpose(1, 2)
                   for part in (h @ state["attention.qkv.weight"].T).chunk(3, dim=-1))
        if position == "rope":
            q, k = rope(q), rope(k)
        w = length if window is None else min(window, length)
        bias = alibi_bias(heads, w) if position == "alibi" else None
        o = window_attention(q, k, v, w, bias=bias)
        return o.transpose(1, 2).reshape(batch, length, dim) @ state["attention.out.weight"].T

    def mlp(h):
        up = h @ state["up.weight"].T
        return (F.gelu(up) if activation == "gelu" else F.silu(up)) @ state["down.weight"].T

    if prenorm:
        x = x + attention(normalise(x, "norm1"))
        return x + mlp(normalise(x, "norm2"))
    x = normalise(x + attention(x), "norm1")
    return normalise(x + mlp(x), "norm2")


FUNCTIONS = {
    "transformer/window_attention": window_attention,
    "transformer/window_attention_bias": window_attention,
    "transformer/window_attention_log_n": window_attention,
    "transformer/rope": rope,
    "transformer/xpos": xpos,
    "transformer/alibi": lambda q, k, v, window: window_attention(q, k, v, window, bias=alibi_bias(q.shape[1], window)),
    "transformer/kerple_power": lambda q, k, v, a, b, window, form:
        window_attention(q, k, v, window, bias=kerple_bias(a, b, window, form)),
    "transformer/kerple_log": lambda q, k, v, a, b, window, form:
        window_attention(q, k, v, window, bias=kerple_bias(a, b, window, form)),
    "transformer/sandwich": lambda q, k, v, window, scale:
        window_attention(q, k, v, window, bias=sandwich_bias(q.shape[1], window, q.shape[-1], scale)),
    "transformer/rerope": rerope_attention,
    "transformer/leaky_rerope": rerope_attention,
    "transformer/block_rope": partial(block, position="rope", norm="rms", prenorm=True, activation="gelu"),
    "transformer/block_alibi_window": partial(block, position="alibi", norm="layer", prenorm=False, activation="silu"),
}
