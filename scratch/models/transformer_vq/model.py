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
optimizer step ``update_codebooks`` applies the EMA. ``decoding_forward`` decodes VQ models token by token
with the constant-size state of ``VQDecoder`` (per-token cost independent of the context length).
"""
from __future__ import annotations

import math
import sys

import numpy as np

from ... import functional as F
from ...autograd import Function, Tensor, no_grad
from ...kernels.vq_attention import VQDecoder, vq_attention, windowed_bias_attention
from ...nn import Embedding, Linear, Module, Parameter, RMSNorm, init
from ...validation import floating_dtype, generator, positive_int
from .quantizer import VectorQuantizer

ATTENTIONS = ("vq", "local", "window", "full")
WAVELENGTH_BASE = 1e5


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

    def __init__(self, d_model: int, d_k: int, *, attention: str, codebook_size: int, block: int, window: int,
                 reseed_dead: bool, rng: np.random.Generator, dtype: np.dtype):
        super().__init__()
        self.d_model, self.d_k, self.attention = d_model, d_k, attention
        self.block, self.window = block, window
        self.scale = d_k ** -0.25
        self.norm = RMSNorm(d_model, dtype=dtype)
        self.w_q, self.w_k = _dense(d_model, d_k, rng, dtype), _dense(d_model, d_k, rng, dtype)
        self.w_v, self.w_g = _dense(d_model, 2 * d_model, rng, dtype), _dense(d_model, 2 * d_model, rng, dtype)
        self.w_o = _dense(2 * d_model, d_model, rng, dtype)
        self.w_r = _dense(d_model, d_k, rng, dtype)
        self.u = Parameter(np.zeros(d_k, dtype))
        self.w = Parameter(np.zeros(d_k, dtype))
        self.quantizer = None
        if attention in ("vq", "local"):
            self.quantizer = VectorQuantizer(codebook_size, d_k, reseed_dead=reseed_dead, rng=rng, dtype=dtype)
        self.commit_loss: Tensor | None = None
        self.last_keys = self.last_codes = None

    def _projections(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        h = self.norm(x)
        q = F.rms_norm(self.w_q(h), None, 1e-6) * self.scale
        k = F.rms_norm(self.w_k(h), None, 1e-6) * self.scale
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

    ids: (B, T) int in [0, vocab) → logits (B, T, vocab). ``window`` W defaults to ``block`` (the paper's
    W = L); ``attention`` ∈ {"vq", "local", "window", "full"} (module docstring).
    """

    def __init__(self, vocab: int = 256, d_model: int = 128, d_k: int = 32, layers: int = 2, *,
                 attention: str = "vq", codebook_size: int = 64, block: int = 64, window: int | None = None,
                 commit_weight: float = 1e-4, reseed_dead: bool = False, rng: np.random.Generator | None = None,
                 dtype: np.dtype | type = np.float32):
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {attention!r}")
        self.vocab, self.d_model = positive_int("vocab", vocab), positive_int("d_model", d_model)
        if d_model % 2:
            raise ValueError(f"d_model must be even (sin and cos halves of φ), got {d_model}")
        self.block = positive_int("block", block)
        self.window = self.block if window is None else int(window)
        if not 0 <= self.window <= self.block:
            raise ValueError(f"window must be in [0, block={self.block}], got {window!r}")
        if commit_weight < 0:
            raise ValueError(f"commit_weight must be >= 0, got {commit_weight!r}")
        self.attention, self.commit_weight = attention, float(commit_weight)
        rng, dtype = generator("rng", rng), floating_dtype("dtype", dtype)
        self.embedding = Embedding(vocab, d_model, rng=rng, dtype=dtype)
        self.units = [GatedAttentionUnit(d_model, positive_int("d_k", d_k), attention=attention,
                                         codebook_size=positive_int("codebook_size", codebook_size),
                                         block=self.block, window=self.window, reseed_dead=reseed_dead, rng=rng,
                                         dtype=dtype)
                      for _ in range(2 * positive_int("layers", layers))]
        self.final_norm = RMSNorm(d_model, dtype=dtype)
        self.head = Linear(d_model, vocab, rng=rng, dtype=dtype)
        init.normal_(self.head.weight, 0.0, 1 / math.sqrt(d_model), rng)
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
        commits = [u.commit_loss for u in self.units if u.quantizer is not None]
        return (ce + self.commit_weight * sum(commits[1:], commits[0]) if commits else ce), ce

    def update_codebooks(self) -> None:
        """The EMA step of every codebook, after the optimizer step."""
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


class AuxiliaryLoss(Function):
    """y = logits in the forward; backward passes the gradient through and gives 1 to ``extra``.

    Any scalar loss ℓ(y) then back-propagates ℓ(logits) + extra: how the commitment term joins a
    training loop that only sees the logits.
    """

    @staticmethod
    def forward(ctx, logits, extra):
        ctx.extra_shape = np.shape(extra)
        return logits

    @staticmethod
    def backward(ctx, grad):
        return grad, np.ones(ctx.extra_shape, grad.dtype)


class TrainingView(Module):
    """``model`` seen by ``scratch.training.lm.train_lm``: ids → logits carrying β Σ l_commit, with the EMA.

    train_lm calls forward, backward and the optimizer step in turn, so the EMA step of a batch is
    applied at the start of the next training forward (call ``finish`` after the last step). Every
    ``health_every`` training forwards a codebook-health line goes to stderr.
    """

    def __init__(self, model: TransformerVQ, health_every: int = 50):
        super().__init__()
        self.model = model
        self.health_every = positive_int("health_every", health_every)
        self.calls = 0

    def forward(self, ids: np.ndarray) -> Tensor:
        if not self.model.training:
            return self.model(ids)
        self.model.update_codebooks()
        logits = self.model(ids)
        self.calls += 1
        commits = [u.commit_loss for u in self.model.units if u.quantizer is not None]
        if not commits:
            return logits
        if self.calls % self.health_every == 0:
            health = self.model.codebook_health()
            print(f"codebook @ step {self.calls} | " + " | ".join(f"{k} {v:.4g}" for k, v in health.items()),
                  file=sys.stderr, flush=True)
        return AuxiliaryLoss.apply(logits, self.model.commit_weight * sum(commits[1:], commits[0]))

    def finish(self) -> None:
        """The EMA step of the last training batch."""
        self.model.update_codebooks()
