"""The torch peer of ``TransformerLM`` for the engine benchmark: the same pre-norm RoPE model in torch.

It computes what ``scratch.models.transformer.TransformerLM`` computes for a pre-norm config with
RoPE, full causal attention and no log-n factor (the default and the ``rope`` variant of the
extrapolation experiment), written as a torch user would: ``F.rms_norm`` / ``F.layer_norm``,
``F.scaled_dot_product_attention(is_causal=True)``, ``F.gelu`` / ``F.silu`` and a tied output layer.

    x⁰ = √d · E[ids];  x ← x + Attn(N₁(x)),  x ← x + W₂ φ(W₁ N₂(x));  logits = N_f(x) Eᵀ

RoPE rotates the pairs (x_{2t}, x_{2t+1}) of q and k at position i by i θ_t, θ_t = 10000^{−2t/D}; the
cos/sin tables are made once per length, in float64 and then cast, like scratch's ``Rotate``.
Parameter names match scratch's, so ``load_from`` copies a scratch model by name.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

ROPE_BASE = 10000.0


class Block(nn.Module):
    def __init__(self, config, dtype):
        super().__init__()
        self.heads, self.norm = config.heads, config.norm
        d, kw = config.dim, {"bias": False, "dtype": dtype}
        self.attention = nn.Module()
        self.attention.qkv = nn.Linear(d, 3 * d, **kw)
        self.attention.out = nn.Linear(d, d, **kw)
        self.norm1, self.norm2 = _norm(config, dtype), _norm(config, dtype)
        self.up = nn.Linear(d, config.ffn_dim, **kw)
        self.down = nn.Linear(config.ffn_dim, d, **kw)
        self.activation = F.gelu if config.activation == "gelu" else F.silu

    def forward(self, x, cos, sin):
        batch, length, d = x.shape
        q, k, v = (part.reshape(batch, length, self.heads, -1).transpose(1, 2)
                   for part in self.attention.qkv(self.norm1(x)).chunk(3, dim=-1))
        q, k = _rotate(q, cos, sin), _rotate(k, cos, sin)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.attention.out(o.transpose(1, 2).reshape(batch, length, d))
        return x + self.down(self.activation(self.up(self.norm2(x))))


class TorchTransformerLM(nn.Module):
    """ids (B, T) int64 → logits (B, T, V) for a pre-norm RoPE ``TransformerConfig`` without log-n or HWFA."""

    def __init__(self, config, dtype=torch.float32):
        super().__init__()
        if not config.prenorm or config.position != "rope" or config.log_n or config.hwfa_window is not None:
            raise ValueError("the torch peer covers pre-norm RoPE models with full attention and no log-n, "
                             f"got {config}")
        self.dim, self.head_dim = config.dim, config.dim // config.heads
        self.embedding = nn.Embedding(config.vocab_size, config.dim, dtype=dtype)
        self.blocks = nn.ModuleList([Block(config, dtype) for _ in range(config.layers)])
        self.final_norm = _norm(config, dtype)
        self._tables = {}

    def forward(self, ids):
        x = self.embedding(ids) * math.sqrt(self.dim)
        cos, sin = self._rope_tables(ids.shape[1], x.dtype)
        for block in self.blocks:
            x = block(x, cos, sin)
        return self.final_norm(x) @ self.embedding.weight.T

    def _rope_tables(self, length, dtype):
        if (length, dtype) not in self._tables:
            theta = ROPE_BASE ** (-torch.arange(0, self.head_dim, 2, dtype=torch.float64) / self.head_dim)
            angles = torch.arange(length, dtype=torch.float64)[:, None] * theta
            self._tables[length, dtype] = (angles.cos().to(dtype), angles.sin().to(dtype))
        return self._tables[length, dtype]

    def load_from(self, model) -> None:
        """Copy the parameters of a scratch ``TransformerLM`` (same config) by name."""
        ours = dict(model.named_parameters())
        with torch.no_grad():
            for name, p in self.named_parameters():
                p.copy_(torch.from_numpy(ours[name].data.copy()))


def _norm(config, dtype):
    if config.norm == "rms":
        return nn.RMSNorm(config.dim, eps=1e-6, dtype=dtype)
    return nn.LayerNorm(config.dim, eps=1e-5, dtype=dtype)


def _rotate(x, cos, sin):
    """(x_{2t}, x_{2t+1}) → (x_{2t} cos − x_{2t+1} sin, x_{2t} sin + x_{2t+1} cos) at each row's angles."""
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)
