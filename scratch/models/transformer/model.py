"""A small causal Transformer language model with the position and attention variants of spec Part B.

Token ids (B, T) → logits (B, T, V). With x⁰ = √d · E[ids] (+ the sinusoidal table P when
``position="sinusoidal"``) and L blocks,

    pre-norm:   x ← x + Attn(N₁(x)),  x ← x + MLP(N₂(x));  logits = N_f(x) Eᵀ
    post-norm:  x ← N₁(x + Attn(x)),  x ← N₂(x + MLP(x));  logits = x Eᵀ

N an RMSNorm or LayerNorm, MLP(x) = W₂ φ(W₁ x) with φ = GELU or SiLU, the output layer tied to the
embedding E (initialised N(0, 1/d), so both ends start at unit scale).

Attention (``CausalSelfAttention``) is softmax attention over the visible keys of each query; what
varies is how positions enter (``POSITIONS``) and, at inference, which keys are visible:

    training (model options)       nope, sinusoidal, rope, xpos, alibi, kerple_power, kerple_log,
                                   sandwich;  log_n (the log-n factor of spec B.2 with N = train_len);
                                   hwfa_window (HWFA, spec part 9: every layer but the last is window
                                   attention with the model's position encoding, the last one full
                                   attention without position encoding and with log-n)
    inference (forward keywords)   window (the "super-baseline" of part 7: a causal window of that many
                                   keys in every layer), log_n_clip (log n†: q_i · max(1, log_N(i+1))),
                                   rerope / leaky_k (ReRoPE and Leaky ReRoPE of part 12, RoPE models)

Causal windows and full attention go through ``window_attention`` (full attention is the window
w = T); ReRoPE needs two score matrices and uses the dense path of ``attention``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ... import nn
from ...autograd import Tensor
from ...autograd import functional as F
from ...kernels.window_attention import log_n_factors, window_attention
from . import positions as pos
from ...autograd.functional.attention import attention_scores, attend, causal_mask, merge_heads, split_heads

POSITIONS = ("nope", "sinusoidal", "rope", "xpos", "alibi", "kerple_power", "kerple_log", "sandwich")
ROTARY = ("rope", "xpos")
NORMS = ("rms", "layer")
ACTIVATIONS = ("gelu", "silu")


@dataclass(frozen=True)
class TransformerConfig:
    """Sizes and options of ``TransformerLM`` (see the module docstring)."""

    vocab_size: int = 256
    dim: int = 64
    layers: int = 3
    heads: int = 4
    ffn_dim: int = 256
    norm: str = "rms"
    prenorm: bool = True
    activation: str = "gelu"
    position: str = "rope"
    train_len: int = 64
    log_n: bool = False
    hwfa_window: int | None = None
    sandwich_scale: float = 1.0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "dim", "layers", "heads", "ffn_dim", "train_len"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name, allowed in (("norm", NORMS), ("activation", ACTIVATIONS), ("position", POSITIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.dim % self.heads or (self.dim // self.heads) % 2:
            raise ValueError(f"dim={self.dim} must split into heads={self.heads} heads of an even size")
        if self.hwfa_window is not None and not (isinstance(self.hwfa_window, int) and self.hwfa_window >= 1):
            raise ValueError(f"hwfa_window must be a positive integer or None, got {self.hwfa_window!r}")
        if (self.log_n or self.hwfa_window is not None) and self.train_len < 2:
            raise ValueError(f"log-n scaling needs train_len ≥ 2, got {self.train_len}")


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: x (B, T, d) → (B, T, d), one position scheme per layer.

    ``window`` is this layer's own window (HWFA's window layers; None = full), ``log_n`` the N of
    its trained log-n factor (or None).
    """

    def __init__(self, config: TransformerConfig, position: str, *, window: int | None = None,
                 log_n: int | None = None, rng: np.random.Generator, dtype=np.float32):
        super().__init__()
        self.heads, self.head_dim = config.heads, config.dim // config.heads
        self.position, self.window, self.log_n = position, window, log_n
        self.train_len, self.sandwich_scale = config.train_len, config.sandwich_scale
        self.qkv = nn.Linear(config.dim, 3 * config.dim, bias=False, rng=rng, dtype=dtype)
        self.out = nn.Linear(config.dim, config.dim, bias=False, rng=rng, dtype=dtype)
        if position.startswith("kerple"):
            # r1 = softplus(a) = 1 and r2 = 1 at the start (2·sigmoid(0) for the power form, softplus(b) for log)
            self.kerple_a = nn.Parameter(np.full(config.heads, math.log(math.e - 1), dtype))
            self.kerple_b = nn.Parameter(np.full(config.heads, 0.0 if position == "kerple_power"
                                                 else math.log(math.e - 1), dtype))

    def distance_bias(self, window: int, dtype) -> Tensor | np.ndarray | None:
        """β_h(δ) for δ = 0..window−1 (H, window), or None for the schemes without one."""
        if self.position == "alibi":
            return pos.alibi_bias(self.heads, window).astype(dtype)
        if self.position.startswith("kerple"):
            return pos.kerple_bias(self.kerple_a, self.kerple_b, window, self.position.split("_")[1])
        if self.position == "sandwich":
            return pos.sandwich_bias(self.heads, window, self.head_dim, self.sandwich_scale).astype(dtype)
        return None

    def forward(self, x: Tensor, *, window: int | None = None, log_n_clip: bool = False,
                rerope: int | None = None, leaky_k: float | None = None) -> Tensor:
        seq_len = x.shape[1]
        q, k, v = (split_heads(part, self.heads) for part in _thirds(self.qkv(x)))
        if log_n_clip:
            q = q * pos.clipped_log_n(seq_len, self.train_len).astype(q.dtype)[:, None]
        if rerope is not None and self.position in ROTARY:
            return self.out(merge_heads(self._rerope(q, k, v, rerope, leaky_k)))
        if self.position in ROTARY:
            positions = np.arange(seq_len)
            q, k = pos.rope(q, positions), pos.rope(k, positions)
            if self.position == "xpos":
                scales = pos.xpos_scales(seq_len, self.head_dim).astype(q.dtype)
                q, k = q * scales, k / scales
        w = min(size for size in (self.window, window, seq_len) if size is not None)
        o = window_attention(q, k, v, w, bias=self.distance_bias(w, q.dtype), log_n=self.log_n)
        return self.out(merge_heads(o))

    def _rerope(self, q: Tensor, k: Tensor, v: Tensor, rerope: int, leaky_k: float | None) -> Tensor:
        seq_len = q.shape[2]
        scores = pos.rerope_scores(q, k, rerope, leaky_k)
        if self.log_n is not None:
            scores = scores * log_n_factors(seq_len, seq_len, self.log_n).astype(q.dtype)[:, None]
        return attend(scores, v, causal_mask(seq_len, self.window))


def _thirds(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    width = x.shape[-1] // 3
    return x[..., :width], x[..., width:2 * width], x[..., 2 * width:]


class Block(nn.Module):
    """One Transformer layer: attention and MLP, each with a residual and a norm (pre or post)."""

    def __init__(self, config: TransformerConfig, attention: CausalSelfAttention, *, rng, dtype):
        super().__init__()
        norm = nn.RMSNorm if config.norm == "rms" else nn.LayerNorm
        self.prenorm, self.activation = config.prenorm, config.activation
        self.attention = attention
        self.norm1, self.norm2 = norm(config.dim, dtype=dtype), norm(config.dim, dtype=dtype)
        self.up = nn.Linear(config.dim, config.ffn_dim, bias=False, rng=rng, dtype=dtype)
        self.down = nn.Linear(config.ffn_dim, config.dim, bias=False, rng=rng, dtype=dtype)

    def mlp(self, x: Tensor) -> Tensor:
        h = self.up(x)
        return self.down(F.gelu(h) if self.activation == "gelu" else F.silu(h))

    def forward(self, x: Tensor, **inference) -> Tensor:
        if self.prenorm:
            x = x + self.attention(self.norm1(x), **inference)
            return x + self.mlp(self.norm2(x))
        x = self.norm1(x + self.attention(x, **inference))
        return self.norm2(x + self.mlp(x))


class TransformerLM(nn.Module):
    """Causal LM: ids (B, T) int → logits (B, T, vocab_size). See the module docstring for the options."""

    def __init__(self, config: TransformerConfig, *, rng: np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        rng = np.random.default_rng(0) if rng is None else rng
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.dim, rng=rng, dtype=dtype)
        self.embedding.weight.data *= 1 / math.sqrt(config.dim)
        blocks = []
        for layer in range(config.layers):
            last = layer == config.layers - 1
            if config.hwfa_window is None:
                attention = CausalSelfAttention(config, config.position, log_n=_log_n(config, config.log_n),
                                                rng=rng, dtype=dtype)
            elif last:
                attention = CausalSelfAttention(config, "nope", log_n=config.train_len, rng=rng, dtype=dtype)
            else:
                attention = CausalSelfAttention(config, config.position, window=config.hwfa_window,
                                                log_n=_log_n(config, config.log_n), rng=rng, dtype=dtype)
            blocks.append(Block(config, attention, rng=rng, dtype=dtype))
        self.blocks = nn.ModuleList(blocks)
        norm = nn.RMSNorm if config.norm == "rms" else nn.LayerNorm
        self.final_norm = norm(config.dim, dtype=dtype) if config.prenorm else None

    def forward(self, ids: Tensor | np.ndarray, *, window: int | None = None, log_n_clip: bool = False,
                rerope: int | None = None, leaky_k: float | None = None) -> Tensor:
        """Logits (B, T, V) for ids (B, T); the keywords select the inference variants."""
        ids = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"ids must have shape (B, T), got {ids.shape}")
        for name, value in (("window", window), ("rerope", rerope)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                      or value < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        if leaky_k is not None and (rerope is None or not leaky_k >= 1):
            raise ValueError(f"leaky_k needs rerope and must be ≥ 1, got {leaky_k!r}")
        if rerope is not None and not any(b.attention.position in ROTARY for b in self.blocks):
            raise ValueError(f"rerope applies to RoPE models, this one uses position={self.config.position!r}")
        x = self.embedding(ids) * math.sqrt(self.config.dim)
        if self.config.position == "sinusoidal":
            x = x + pos.sinusoidal_table(ids.shape[1], self.config.dim).astype(x.dtype)
        for block in self.blocks:
            x = block(x, window=window, log_n_clip=log_n_clip, rerope=rerope, leaky_k=leaky_k)
        if self.final_norm is not None:
            x = self.final_norm(x)
        return x @ self.embedding.weight.T


def _log_n(config: TransformerConfig, enabled: bool) -> int | None:
    return config.train_len if enabled else None
