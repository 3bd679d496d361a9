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
                                   rerope / leaky_k (ReRoPE and Leaky ReRoPE of part 12: the relative
                                   position clipped at w, for the rotary and the distance-bias schemes),
                                   rope_scaling (position interpolation, NTK-aware scaling or YaRN's
                                   frequency ramp for T > N, RoPE and XPOS models)

Causal windows go through ``window_attention``, and so does full attention (the window w = T) with a
distance bias, under ReRoPE too (evaluated at the clipped distances); full attention without a bias
is one fused dense node, ``causal_attention``. ReRoPE on RoPE and XPOS needs two score matrices and
uses the dense path of ``attention``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ... import nn, validation
from ...autograd import Tensor
from ...autograd import functional as F
from ...autograd.functional.attention import attend, causal_mask, merge_heads, split_heads
from ...kernels.window_attention import log_n_factors, window_attention
from . import positions as pos

POSITIONS = ("nope", "sinusoidal", "rope", "xpos", "alibi", "kerple_power", "kerple_log", "sandwich")
ROTARY = ("rope", "xpos")
KERPLE_FORMS = {"kerple_power": pos.KERPLE_POWER, "kerple_log": pos.KERPLE_LOG}
NORM_LAYERS = {"rms": nn.RMSNorm, "layer": nn.LayerNorm}
NORMS = tuple(NORM_LAYERS)
ACTIVATION_FUNCTIONS = {"gelu": F.gelu, "silu": F.silu}
ACTIVATIONS = tuple(ACTIVATION_FUNCTIONS)
CONFIG_CHOICES = {"norm": NORMS, "activation": ACTIVATIONS, "position": POSITIONS}


@dataclass(frozen=True)
class TransformerConfig:
    """Sizes and options of ``TransformerLM`` (see the module docstring).

    vocab_size, dim (d), layers (L), heads (H), ffn_dim, train_len (N): positive integers, d = H·D with
    an even head size D;  norm, activation, position: one of ``CONFIG_CHOICES[name]``;  prenorm,
    log_n: booleans;  hwfa_window: a positive integer or None;  sandwich_scale: λ, a finite real.
    A field's ``metadata["help"]`` is the help of its command-line flag (``scratch.cli``).
    """

    vocab_size: int = field(default=256, metadata={"help": "V, token ids 0..V−1 (≥ 256 for bytes)"})
    dim: int = 64
    layers: int = 3
    heads: int = 4
    ffn_dim: int = 256
    norm: str = "rms"
    prenorm: bool = field(default=True, metadata={"help": "pre-norm blocks (otherwise post-norm)"})
    activation: str = "gelu"
    position: str = "rope"
    train_len: int = field(default=64, metadata={"help": "N, the training length (log-n factor, HWFA)"})
    log_n: bool = field(default=False, metadata={"help": "train with the log-n factor log(visible keys)/log N"})
    hwfa_window: int | None = field(default=None, metadata={
        "help": "HWFA: window of every layer but the last (which is full, NoPE, log-n)"})
    sandwich_scale: float = field(default=1.0, metadata={"help": "λ of the Sandwich bias"})

    def __post_init__(self) -> None:
        for name in ("vocab_size", "dim", "layers", "heads", "ffn_dim", "train_len"):
            validation.positive_int(name, getattr(self, name))
        for name, allowed in CONFIG_CHOICES.items():
            validation.choice(name, getattr(self, name), allowed)
        validation.boolean("prenorm", self.prenorm)
        validation.boolean("log_n", self.log_n)
        validation.optional_positive_int("hwfa_window", self.hwfa_window)
        validation.real("sandwich_scale", self.sandwich_scale)
        if self.dim % self.heads or (self.dim // self.heads) % 2:
            raise ValueError(f"dim={self.dim} must split into heads={self.heads} heads of an even size")
        if (self.log_n or self.hwfa_window is not None) and self.train_len < 2:
            raise ValueError(f"log-n scaling needs train_len ≥ 2, got {self.train_len}")


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: x (B, T, d) → (B, T, d), one position scheme per layer.

    ``position`` is one of ``POSITIONS``, ``window`` this layer's own window (HWFA's window layers;
    None = full), ``log_n`` the N > 1 of its trained log-n factor (or None).
    """

    def __init__(self, config: TransformerConfig, position: str, *, window: int | None = None,
                 log_n: float | None = None, rng: np.random.Generator, dtype=np.float32):
        super().__init__()
        check_config("config", config)
        self.heads, self.head_dim = config.heads, config.dim // config.heads
        self.position = validation.choice("position", position, POSITIONS)
        self.window = validation.optional_positive_int("window", window)
        self.log_n = None if log_n is None else validation.real("log_n", log_n, minimum=1.0, open_below=True)
        self.train_len, self.sandwich_scale = config.train_len, config.sandwich_scale
        self.qkv = nn.Linear(config.dim, 3 * config.dim, bias=False, rng=rng, dtype=dtype)
        self.out = nn.Linear(config.dim, config.dim, bias=False, rng=rng, dtype=dtype)
        if position in KERPLE_FORMS:
            # r1 = softplus(a) = 1 and r2 = 1 at the start (2·sigmoid(0) for the power form, softplus(b) for log)
            self.kerple_a = nn.Parameter(np.full(config.heads, math.log(math.e - 1), dtype))
            self.kerple_b = nn.Parameter(np.full(config.heads, 0.0 if KERPLE_FORMS[position] == pos.KERPLE_POWER
                                                 else math.log(math.e - 1), dtype))

    def distance_bias(self, window: int, dtype, distances: np.ndarray | None = None) -> Tensor | np.ndarray | None:
        """β_h(δ) for δ = 0..window−1 (or at ``distances`` (window,)) (H, window), or None for the schemes
        without one."""
        if self.position == "alibi":
            return pos.alibi_bias(self.heads, window, distances=distances).astype(dtype)
        if self.position in KERPLE_FORMS:
            return pos.kerple_bias(self.kerple_a, self.kerple_b, window, KERPLE_FORMS[self.position],
                                   distances=distances)
        if self.position == "sandwich":
            return pos.sandwich_bias(self.heads, window, self.head_dim, self.sandwich_scale,
                                     distances=distances).astype(dtype)
        return None

    def forward(self, x: Tensor, *, window: int | None = None, log_n_clip: bool = False,
                rerope: int | None = None, leaky_k: float | None = None, rope_scaling: str | None = None) -> Tensor:
        """x (B, T, d) → (B, T, d); the keywords are the inference variants of ``TransformerLM.forward``
        (checked there)."""
        seq_len = x.shape[1]
        q, k, v = (split_heads(part, self.heads) for part in _thirds(self.qkv(x)))
        if log_n_clip:
            q = q * pos.clipped_log_n(seq_len, self.train_len).astype(q.dtype)[:, None]
        if rerope is not None and self.position in ROTARY:
            return self.out(merge_heads(self._rerope(q, k, v, rerope, leaky_k)))
        if self.position in ROTARY:
            q, k = self._rotate(q, k, rope_scaling)
        w = min(size for size in (self.window, window, seq_len) if size is not None)
        distances = None if rerope is None else pos.clipped_distances(w, rerope, leaky_k)
        bias = self.distance_bias(w, q.dtype, distances)
        if w == seq_len and bias is None:
            o = F.causal_attention(q, k, v, row_scale=None if self.log_n is None
                                   else log_n_factors(seq_len, seq_len, self.log_n))
        else:
            o = window_attention(q, k, v, w, bias=bias, log_n=self.log_n)
        return self.out(merge_heads(o))

    def _rotate(self, q: Tensor, k: Tensor, rope_scaling: str | None) -> tuple[Tensor, Tensor]:
        """RoPE (and XPOS's ζ scaling) on q and k (B, H, T, D), with the frequencies of ``rope_scaling``
        when the length T exceeds the training length N (s = T/N)."""
        seq_len = q.shape[2]
        positions = np.arange(seq_len)
        factor = max(1.0, seq_len / self.train_len)
        theta = None
        if rope_scaling is not None:
            theta = pos.scaled_frequencies(self.head_dim, rope_scaling, factor, self.train_len)
            if rope_scaling == "yarn":
                sharpen = math.sqrt(pos.yarn_logit_factor(factor))
                q, k = q * sharpen, k * sharpen
        q, k = pos.rope(q, positions, theta=theta), pos.rope(k, positions, theta=theta)
        if self.position == "xpos":
            scales = pos.xpos_scales(seq_len, self.head_dim).astype(q.dtype)
            q, k = q * scales, k / scales
        return q, k

    def _rerope(self, q: Tensor, k: Tensor, v: Tensor, rerope: int, leaky_k: float | None) -> Tensor:
        seq_len = q.shape[2]
        xpos_scale_base = pos.XPOS_SCALE_BASE if self.position == "xpos" else None
        scores = pos.rerope_scores(q, k, rerope, leaky_k, xpos_scale_base=xpos_scale_base)
        if self.log_n is not None:
            scores = scores * log_n_factors(seq_len, seq_len, self.log_n).astype(q.dtype)[:, None]
        return attend(scores, v, causal_mask(seq_len, self.window))


def _thirds(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    width = x.shape[-1] // 3
    return x[..., :width], x[..., width:2 * width], x[..., 2 * width:]


class Block(nn.Module):
    """One Transformer layer: attention and MLP, each with a residual and a norm (pre or post)."""

    def __init__(self, config: TransformerConfig, attention: CausalSelfAttention, *, rng: np.random.Generator,
                 dtype=np.float32):
        super().__init__()
        check_config("config", config)
        if not isinstance(attention, CausalSelfAttention):
            raise TypeError(f"attention must be a CausalSelfAttention, got {type(attention).__name__}")
        norm = NORM_LAYERS[config.norm]
        self.prenorm, self.activation = config.prenorm, config.activation
        self.attention = attention
        self.norm1, self.norm2 = norm(config.dim, dtype=dtype), norm(config.dim, dtype=dtype)
        self.up = nn.Linear(config.dim, config.ffn_dim, bias=False, rng=rng, dtype=dtype)
        self.down = nn.Linear(config.ffn_dim, config.dim, bias=False, rng=rng, dtype=dtype)

    def mlp(self, x: Tensor) -> Tensor:
        """W₂ φ(W₁ x): (B, T, d) → (B, T, d)."""
        return self.down(ACTIVATION_FUNCTIONS[self.activation](self.up(x)))

    def forward(self, x: Tensor, **inference) -> Tensor:
        """x (B, T, d) → (B, T, d); ``inference`` goes to the attention layer."""
        if self.prenorm:
            x = x + self.attention(self.norm1(x), **inference)
            return x + self.mlp(self.norm2(x))
        x = self.norm1(x + self.attention(x, **inference))
        return self.norm2(x + self.mlp(x))


class TransformerLM(nn.Module):
    """Causal LM: ids (B, T) int → logits (B, T, vocab_size). See the module docstring for the options."""

    def __init__(self, config: TransformerConfig, *, rng: np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        check_config("config", config)
        rng = np.random.default_rng(0) if rng is None else validation.generator("rng", rng)
        dtype = validation.floating_dtype("dtype", dtype)
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
        self.final_norm = NORM_LAYERS[config.norm](config.dim, dtype=dtype) if config.prenorm else None

    def forward(self, ids: Tensor | np.ndarray, *, window: int | None = None, log_n_clip: bool = False,
                rerope: int | None = None, leaky_k: float | None = None, rope_scaling: str | None = None) -> Tensor:
        """Logits (B, T, V) for integer ids (B, T) in [0, V), T ≥ 1; the keywords select the inference
        variants: window (a positive integer or None), log_n_clip (a boolean), rerope (ReRoPE's w, a
        positive integer or None: RoPE and XPOS logits at the clipped relative position, the distance
        biases of ALiBi, KERPLE and Sandwich at the clipped distance; not for the absolute sinusoidal
        encoding), leaky_k (Leaky ReRoPE's k ≥ 1, with rerope) and rope_scaling ("pi", "ntk" or "yarn":
        RoPE's frequencies rescaled for s = T/N when T > N, RoPE and XPOS models, not with rerope)."""
        ids = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        validation.shape("ids", ids, (None, None))
        validation.positive_int("ids.shape[1], the length T,", ids.shape[1])
        window = validation.optional_positive_int("window", window)
        log_n_clip = validation.boolean("log_n_clip", log_n_clip)
        rerope = validation.optional_positive_int("rerope", rerope)
        if leaky_k is not None:
            if rerope is None:
                raise ValueError(f"leaky_k needs rerope, got leaky_k={leaky_k!r} and rerope=None")
            leaky_k = validation.real("leaky_k", leaky_k, minimum=1.0)
        if rerope is not None and self.config.position == "sinusoidal":
            raise ValueError("rerope clips relative positions; the sinusoidal encoding is absolute")
        if rope_scaling is not None:
            validation.choice("rope_scaling", rope_scaling, pos.ROPE_SCALINGS)
            if self.config.position not in ROTARY:
                raise ValueError(f"rope_scaling applies to RoPE and XPOS models, this one uses "
                                 f"position={self.config.position!r}")
            if rerope is not None:
                raise ValueError("rope_scaling and rerope are alternatives, got both")
        x = self.embedding(ids) * math.sqrt(self.config.dim)
        if self.config.position == "sinusoidal":
            x = x + pos.sinusoidal_table(ids.shape[1], self.config.dim).astype(x.dtype)
        for block in self.blocks:
            x = block(x, window=window, log_n_clip=log_n_clip, rerope=rerope, leaky_k=leaky_k,
                      rope_scaling=rope_scaling)
        if self.final_norm is not None:
            x = self.final_norm(x)
        return x @ self.embedding.weight.T


def _log_n(config: TransformerConfig, enabled: bool) -> int | None:
    return config.train_len if enabled else None


def check_config(name: str, config: TransformerConfig) -> None:
    """TypeError naming ``name`` unless ``config`` is a TransformerConfig (which checked its fields)."""
    if not isinstance(config, TransformerConfig):
        raise TypeError(f"{name} must be a TransformerConfig, got {type(config).__name__}")
