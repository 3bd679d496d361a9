"""Transformer-VQ language model: a pre-norm stack of single-head gated attention units (spec §3.1, §4.1).

One GAU on the residual stream x (B, T, D_m), with s = D_k^{-1/4}:

    x̃ = RMSNorm(x)
    q = s·RMSn(x̃ W_q),  k = s·RMSn(x̃ W_k)        (D_k; RMSn without gain, §2.3)
    v = silu(x̃ W_v),    g = silu(x̃ W_g)          (D_v = 2 D_m)
    r_d = s·W_r φ(d),   φ(d) = [sin(d ω_i), cos(d ω_i)],  ω_i = λ^{−2i/D_m},  λ = 1e5
    o = attention(q, k, v; u·s, w·s, r)          (score (q+u)·k_j + [t−j ≤ W](q+w)·r_{t−j})
    x ← x + (o ⊙ g) W_o

``attention`` picks the key path:
    "vq"     keys quantized (STE, commitment loss, EMA codebook) and the blockwise linear-time kernel;
    "local"  keys quantized, attention only to distances ≤ W (the cache ablation: VQ without the cache);
    "window" unquantized keys, dense causal attention with the same bias up to W (isolates quantization);
    "full"   unquantized keys, bias at all distances (the official quadratic baseline).
A "layer" of the paper is two GAUs; there is no MLP. Loss = CE + β Σ_GAU l_commit (β = 1e-4); after each
optimizer step ``update_codebooks`` applies the EMA. With ``scratch.training.lm.train_lm`` both are hooks:
``train_lm(model, ..., extra_loss=model.auxiliary_loss, after_step=codebook_after_step(model))``.
``decoding_forward`` decodes VQ models token by token with the constant-size state of ``VQDecoder``
(per-token cost independent of the context length).
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ... import functional as F
from ...autograd import Tensor, no_grad
from ...kernels.vq_attention import VQDecoder, vq_attention, windowed_bias_attention
from ...nn import Embedding, Linear, Module, Parameter, RMSNorm, init
from ...training.lm import TrainConfig
from ...validation import boolean, choice, floating_dtype, generator, integer, positive_int, real
from .quantizer import VectorQuantizer

ATTENTIONS = ("vq", "local", "window", "full")
QUANTIZED = ("vq", "local")
WAVELENGTH_BASE = 1e5
RMS_EPS = 1e-6
HEALTH_EVERY = 50


@dataclass(frozen=True)
class TransformerVQConfig:
    """Hyper-parameters of ``TransformerVQ`` (spec §4, scaled down as in §7).

    vocab: output classes (256 for bytes); d_model D_m; d_k D_k (D_v = 2 D_m); layers: pairs of GAUs;
    attention ∈ ATTENTIONS (module docstring); codebook_size S; block L; window W ≤ L, the bias range
    (None: W = L, the paper's choice); commit_weight β; reseed_dead: restart dead codes (spec §8, a
    deviation from the paper).
    """

    vocab: int = 256
    d_model: int = 128
    d_k: int = 32
    layers: int = 2
    attention: str = "vq"
    codebook_size: int = 64
    block: int = 64
    window: int | None = None
    commit_weight: float = 1e-4
    reseed_dead: bool = False

    def __post_init__(self) -> None:
        for name in ("vocab", "d_model", "d_k", "layers", "codebook_size", "block"):
            positive_int(name, getattr(self, name))
        if self.d_model % 2:
            raise ValueError(f"d_model must be even (sin and cos halves of φ), got {self.d_model}")
        choice("attention", self.attention, ATTENTIONS)
        if self.window is None:
            object.__setattr__(self, "window", self.block)
        integer("window", self.window, 0, self.block)
        real("commit_weight", self.commit_weight, minimum=0.0)
        boolean("reseed_dead", self.reseed_dead)


# The small-scale training run of spec §7 (AdamW betas 0.9/0.98 and clip 0.1 as the official configs,
# a peak lr for a small model), the defaults of scripts/train_transformer_vq.py.
TRAINING = TrainConfig(seq_len=256, batch_size=8, steps=300, lr=1e-3, final_lr=1e-4, warmup=30, betas=(0.9, 0.98),
                       weight_decay=2e-4, clip=0.1)


def sinusoids(distances: np.ndarray, dim: int) -> np.ndarray:
    """φ(d) = [sin(d ω_i), cos(d ω_i)], ω_i = λ^{−2i/D_m}, i < D_m/2: (n,) → (n, D_m) (§3.1)."""
    omega = WAVELENGTH_BASE ** (-2 * np.arange(dim // 2) / dim)
    angles = np.asarray(distances, np.float64)[:, None] * omega
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def _dense(fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype) -> Linear:
    """Linear without bias, W ~ N(0, 1/fan_in) as the official code."""
    layer = Linear(fan_in, fan_out, bias=False, rng=rng, dtype=dtype)
    init.normal_(layer.weight, 0.0, 1 / math.sqrt(fan_in), rng)
    return layer


class GatedAttentionUnit(Module):
    """One pre-norm GAU residual branch (module docstring): x (B, T, D_m) → x + branch(x)."""

    def __init__(self, config: TransformerVQConfig, *, rng: np.random.Generator, dtype: np.dtype):
        super().__init__()
        d_model, d_k = config.d_model, config.d_k
        self.d_model, self.d_k, self.attention = d_model, d_k, config.attention
        self.block, self.window = config.block, config.window
        self.scale = d_k ** -0.25
        self.norm = RMSNorm(d_model, dtype=dtype)
        self.w_q, self.w_k = _dense(d_model, d_k, rng, dtype), _dense(d_model, d_k, rng, dtype)
        self.w_v, self.w_g = _dense(d_model, 2 * d_model, rng, dtype), _dense(d_model, 2 * d_model, rng, dtype)
        self.w_o = _dense(2 * d_model, d_model, rng, dtype)
        self.w_r = _dense(d_model, d_k, rng, dtype)
        self.u = Parameter(np.zeros(d_k, dtype))
        self.w = Parameter(np.zeros(d_k, dtype))
        self.quantizer = None
        if config.attention in QUANTIZED:
            self.quantizer = VectorQuantizer(config.codebook_size, d_k, reseed_dead=config.reseed_dead, rng=rng,
                                             dtype=dtype)
        self.commit_loss: Tensor | None = None
        self.last_keys = self.last_codes = None

    def _projections(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        h = self.norm(x)
        q = F.rms_norm(self.w_q(h), None, RMS_EPS) * self.scale
        k = F.rms_norm(self.w_k(h), None, RMS_EPS) * self.scale
        return q, k, F.silu(self.w_v(h)), F.silu(self.w_g(h))

    def _bias(self, max_distance: int) -> tuple[Tensor, Tensor, Tensor]:
        """(u·s, w·s, r): r_d = s·W_r φ(d) for d = 0 … max_distance."""
        phi = sinusoids(np.arange(max_distance + 1), self.d_model).astype(self.u.dtype)
        return self.u * self.scale, self.w * self.scale, self.w_r(phi) * self.scale

    def forward(self, x: Tensor) -> Tensor:
        q, k, v, g = self._projections(x)
        T = x.shape[1]
        if self.quantizer is not None:
            k_hat, codes, self.commit_loss = self.quantizer(k)
            self.last_keys, self.last_codes = k.data, codes
        if self.attention == "vq":
            o = vq_attention(q, k_hat, v, codes, self.quantizer.codebook.astype(q.dtype), block=self.block,
                             window_bias=self._bias(self.window))
        elif self.attention == "local":
            o = windowed_bias_attention(q, k_hat, v, self._bias(self.window), visible=self.window)
        elif self.attention == "window":
            o = windowed_bias_attention(q, k, v, self._bias(self.window))
        else:
            o = windowed_bias_attention(q, k, v, self._bias(T - 1))
        return x + self.w_o(o * g)

    def decoder(self, batch: int) -> VQDecoder:
        """A fresh constant-size decoding state for this unit ("vq" only)."""
        positive_int("batch", batch)
        with no_grad():
            bias = tuple(t.data for t in self._bias(self.window))
        return VQDecoder(self.quantizer.codebook.astype(bias[0].dtype), bias, batch, 2 * self.d_model)

    def step(self, x: np.ndarray, state: VQDecoder) -> np.ndarray:
        """One token per sample through the unit with the decoding state: x (B, D_m) → (B, D_m)."""
        q, k, v, g = (t.data[:, 0] for t in self._projections(Tensor(x[:, None])))
        codes = self.quantizer.assign(k)
        o = state.step(q, state.codebook[codes], v, codes)
        return x + self.w_o(Tensor(o * g)).data


class TransformerVQ(Module):
    """Byte-level LM: embedding → 2·``layers`` GAUs → RMSNorm → logits (untied output with bias).

    ids: (B, T) int in [0, vocab) → logits (B, T, vocab). Hyper-parameters in ``config``
    (``TransformerVQConfig``); ``attention`` ∈ {"vq", "local", "window", "full"} (module docstring).
    """

    def __init__(self, config: TransformerVQConfig = TransformerVQConfig(), *, rng: np.random.Generator | None = None,
                 dtype: np.dtype | type = np.float32):
        super().__init__()
        if not isinstance(config, TransformerVQConfig):
            raise TypeError(f"config must be a TransformerVQConfig, got {type(config).__name__}")
        self.config = config
        self.vocab, self.d_model, self.block, self.window = config.vocab, config.d_model, config.block, config.window
        self.attention, self.commit_weight = config.attention, float(config.commit_weight)
        rng, dtype = generator("rng", rng), floating_dtype("dtype", dtype)
        self.embedding = Embedding(config.vocab, config.d_model, rng=rng, dtype=dtype)
        self.units = [GatedAttentionUnit(config, rng=rng, dtype=dtype) for _ in range(2 * config.layers)]
        self.final_norm = RMSNorm(config.d_model, dtype=dtype)
        self.head = Linear(config.d_model, config.vocab, rng=rng, dtype=dtype)
        init.normal_(self.head.weight, 0.0, 1 / math.sqrt(config.d_model), rng)
        init.zeros_(self.head.bias)

    def forward(self, ids: np.ndarray) -> Tensor:
        ids = np.asarray(ids)
        if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= self.vocab:
            raise ValueError(f"ids must be a (B, T) integer array in [0, {self.vocab}), got {ids.dtype} {ids.shape}")
        x = self.embedding(ids)
        for unit in self.units:
            x = unit(x)
        return self.head(self.final_norm(x))

    def loss(self, ids: np.ndarray, targets: np.ndarray) -> tuple[Tensor, Tensor]:
        """(CE + β Σ l_commit, CE): the training objective and the mean cross-entropy in nats (§2.4)."""
        logits = self.forward(ids)
        ce = F.cross_entropy(logits.reshape(-1, self.vocab), np.asarray(targets).reshape(-1))
        return ce + self.auxiliary_loss(), ce

    def auxiliary_loss(self) -> Tensor:
        """β Σ_GAU l_commit of the last forward (scalar; 0 without quantizer): ``train_lm``'s ``extra_loss``."""
        commits = [u.commit_loss for u in self.units if u.quantizer is not None]
        if not commits:
            return Tensor(np.zeros((), self.head.weight.dtype))
        return self.commit_weight * sum(commits[1:], commits[0])

    def update_codebooks(self) -> None:
        """The EMA step of every codebook from the keys of the last training forward, after the optimizer step."""
        for unit in self.units:
            if unit.quantizer is not None:
                unit.quantizer.update()

    def codebook_health(self) -> dict[str, float]:
        """Codebook metrics of the last forward, averaged over the GAUs (empty for unquantized models)."""
        reports = [u.quantizer.health(u.last_keys, u.last_codes) for u in self.units if u.quantizer is not None]
        return {key: float(np.mean([r[key] for r in reports])) for key in reports[0]} if reports else {}

    def decoding_forward(self, batch: int = 1):
        """A forward for ``scratch.training.lm.sample`` that decodes with constant-size states ("vq" only).

        Each call feeds only the ids it has not seen (ids (B, t) extend the previous call's) through
        ``VQDecoder`` states, one token at a time, and returns the logits of the last position as a
        (B, 1, vocab) Tensor: the per-token cost does not grow with the context.
        """
        if self.attention != "vq":
            raise ValueError(f"constant-state decoding needs attention='vq', got {self.attention!r}")
        states = [unit.decoder(batch) for unit in self.units]
        seen, logits = 0, None

        def forward(ids: np.ndarray) -> Tensor:
            nonlocal seen, logits
            ids = np.asarray(ids)
            with no_grad():
                for t in range(seen, ids.shape[1]):
                    logits = self._step(ids[:, t], states)
            seen = ids.shape[1]
            return Tensor(logits[:, None])
        return forward

    def _step(self, ids: np.ndarray, states: list[VQDecoder]) -> np.ndarray:
        x = self.embedding.weight.data[ids]
        for unit, state in zip(self.units, states):
            x = unit.step(x, state)
        return self.head(self.final_norm(Tensor(x))).data


def codebook_after_step(model: TransformerVQ, health_every: int = HEALTH_EVERY) -> Callable[[int], None]:
    """``train_lm``'s ``after_step`` hook for ``model``: the EMA step of every codebook after optimizer step
    ``step``, so the checkpoint of that step holds it, and a codebook-health line on stderr every
    ``health_every`` steps."""
    positive_int("health_every", health_every)

    def after_step(step: int) -> None:
        if step % health_every == 0 and model.units[0].quantizer is not None:
            health = model.codebook_health()
            print(f"codebook @ step {step} | " + " | ".join(f"{k} {v:.4g}" for k, v in health.items()),
                  file=sys.stderr, flush=True)
        model.update_codebooks()
    return after_step
