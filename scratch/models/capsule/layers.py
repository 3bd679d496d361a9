"""Capsules (spec capsule.md §1–3): squash, capsule lengths, margin loss, the capsule layer, PrimaryCaps.

A capsule is a vector whose length is the probability that its entity is present. A capsule layer
maps N input capsules u_i ∈ R^d to K output capsules v_j ∈ R^D in two steps:

    predictions  Û_ji = W_j u_i        (shared: W ∈ R^{K×D×d}, one matrix per output; Su's default)
                 Û_ji = W_ji u_i       (full: W ∈ R^{N×K×D×d}, one matrix per pair; Sabour et al.)
    routing      v = route(Û)          (``scratch.kernels.routing``: modes "sabour", "su1", "su2")

Shared weights make the parameter count independent of N, so a layer trained on the 64 capsules
of a 28×28 image runs unchanged on the 176 of a 56×28 one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...autograd import Function, Tensor, as_tensor
from ...kernels.routing import DEFAULT_ITERATIONS, IMPLEMENTATIONS, MODES, route, squash_backward, squash_forward
from ...nn import Conv2d, Module, Parameter, init
from ...validation import (boolean, choice, floating_dtype, generator, integer, positive_int, positive_real,
                           probability, real, shape)

SCALAR_REDUCTIONS = ("mean", "sum")
REDUCTIONS = SCALAR_REDUCTIONS + ("none",)


class Squash(Function):
    """v = g·s, g = √n/(ε + n), n = ‖s‖² + 1e-7 (spec §3); backward in ``kernels.routing.squash_backward``."""

    @staticmethod
    def forward(ctx, s, *, eps, axis):
        ctx.save_for_backward(s)
        ctx.eps, ctx.axis = eps, axis
        return squash_forward(s, eps, axis)

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        return squash_backward(s, grad, ctx.eps, ctx.axis)


def squash(s: Any, eps: float = 0.5, axis: int = -1) -> Tensor:
    """squash_ε(s) along ``axis``: same direction, length ‖v‖ = n/(ε + n) ∈ (0, 1).

    ε = 1 is Sabour's squash ‖s‖²/(1 + ‖s‖²)·s/‖s‖; Su prefers ε = 0.5, which lengthens short vectors.
    """
    s = as_tensor(s)
    integer("s.ndim", s.ndim, minimum=1)
    return Squash.apply(s, eps=positive_real("eps", eps), axis=integer("axis", axis, -s.ndim, s.ndim - 1))


class CapsuleLength(Function):
    """p = ‖v‖ over the last axis; ∂L/∂v = ḡ·v/p, and 0 at v = 0 (the subgradient of a norm at its kink).

    A squashed capsule is zero only when its s is, e.g. when every ReLU feature below it is off.
    """

    @staticmethod
    def forward(ctx, v):
        p = np.sqrt(np.sum(v * v, axis=-1))
        ctx.save_for_backward(v, p)
        return p

    @staticmethod
    def backward(ctx, grad):
        v, p = ctx.saved_tensors
        return v * (grad / np.where(p > 0, p, 1.0))[..., None]


def capsule_lengths(v: Any) -> Tensor:
    """Scores p_j = ‖v_j‖: capsules v (..., K, D) → (..., K)."""
    v = as_tensor(v)
    integer("v.ndim", v.ndim, minimum=1)
    return CapsuleLength.apply(v)


@dataclass(frozen=True)
class Margin:
    """Settings of the margin loss: Su's are the defaults (λ = 0.25, mean over classes and batch, as his
    Keras code); Sabour's are λ = 0.5 and the sum over classes and batch (``SABOUR_MARGIN``)."""

    m_pos: float = field(default=0.9, metadata={"help": "m⁺: a present class is penalised below it"})
    m_neg: float = field(default=0.1, metadata={"help": "m⁻: an absent class is penalised above it"})
    lam: float = field(default=0.25, metadata={"help": "λ, the weight of the absent classes (Sabour 0.5)"})
    reduction: str = field(default="mean", metadata={"help": "over classes and batch (Sabour: sum)"})

    def __post_init__(self) -> None:
        probability("m_pos", self.m_pos)
        probability("m_neg", self.m_neg)
        real("lam", self.lam, minimum=0.0)
        choice("reduction", self.reduction, REDUCTIONS)
        if not self.m_neg < self.m_pos:
            raise ValueError(f"m_neg must be below m_pos, got m_neg={self.m_neg}, m_pos={self.m_pos}")


SABOUR_MARGIN = Margin(lam=0.5, reduction="sum")


def _target_matrix(targets: Any, shape: tuple[int, int]) -> np.ndarray:
    """Class ids (B,) or a 0/1 matrix (B, K) → a 0/1 matrix (B, K) as float."""
    t = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    batch, classes = shape
    if t.shape == (batch,) and np.issubdtype(t.dtype, np.integer):
        if t.size and (t.min() < 0 or t.max() >= classes):
            raise ValueError(f"targets must be class ids in [0, {classes}), got values in [{t.min()}, {t.max()}]")
        return np.eye(classes)[t]
    if t.shape == shape and np.all((t == 0) | (t == 1)):
        return t
    raise ValueError(f"targets must be integer class ids of shape ({batch},) or a 0/1 matrix of shape {shape}, "
                     f"got {t.dtype} of shape {t.shape}")


def margin_loss(lengths: Any, targets: Any, m_pos: float = Margin.m_pos, m_neg: float = Margin.m_neg,
                lam: float = Margin.lam, reduction: str = Margin.reduction) -> Tensor:
    """L_k = T_k·max(0, m⁺ − p_k)² + λ(1 − T_k)·max(0, p_k − m⁻)² (spec §1, §3).

    lengths: (B, K) scores p in [0, 1]; targets: class ids (B,) or a 0/1 matrix (B, K) (several
    present classes per row allowed). ``reduction``: "mean" over classes and batch (Su's Keras code,
    with λ = 0.25), "sum" over both (Sabour's sum over classes, with λ = 0.5), or "none" → (B, K).
    """
    p = as_tensor(lengths)
    shape("lengths", p, (None, None))
    Margin(m_pos, m_neg, lam, reduction)  # the settings are checked where they are defined
    t = _target_matrix(targets, p.shape).astype(p.dtype)
    loss = t * (m_pos - p).relu() ** 2 + lam * (1.0 - t) * (p - m_neg).relu() ** 2
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


class CapsuleLayer(Module):
    """u (B, N, d) → v (B, K, D): predictions Û (B, K, N, D) by W, then dynamic routing.

    ``shared=True``: W (K, D, d), Û_ji = W_j u_i, any N. ``shared=False``: W (N, K, D, d) for a fixed
    ``num_inputs`` N, Û_ji = W_ji u_i. Routing options are those of ``kernels.routing.route``.
    W is Glorot-uniform with fan_in = d and fan_out = K·D, as Keras initialises Su's (1, d, K·D) kernel.
    """

    def __init__(self, in_dim: int, num_capsules: int = 10, dim: int = 16, *, shared: bool = True,
                 num_inputs: int | None = None, iterations: int = DEFAULT_ITERATIONS, mode: str = "su2",
                 eps: float = 0.5, stop_gradient: bool = False, implementation: str = "numba",
                 rng: np.random.Generator | None = None, dtype: np.dtype | type = np.float32):
        super().__init__()
        self.in_dim = positive_int("in_dim", in_dim)
        self.num_capsules = positive_int("num_capsules", num_capsules)
        self.dim = positive_int("dim", dim)
        self.shared = boolean("shared", shared)
        self.num_inputs = None if self.shared else positive_int("num_inputs", num_inputs)
        self.iterations = positive_int("iterations", iterations)
        self.mode = choice("mode", mode, MODES)
        self.eps = positive_real("eps", eps)
        self.stop_gradient = boolean("stop_gradient", stop_gradient)
        self.implementation = choice("implementation", implementation, IMPLEMENTATIONS)
        weight_shape = (self.num_capsules, self.dim, self.in_dim)
        if not self.shared:
            weight_shape = (self.num_inputs,) + weight_shape
        weight = np.empty(weight_shape, floating_dtype("dtype", dtype))
        bound = np.sqrt(6.0 / (self.in_dim + self.num_capsules * self.dim))
        self.weight = Parameter(init.uniform_(weight, -bound, bound, generator("rng", rng)))

    def predictions(self, u: Tensor) -> Tensor:
        """Û (B, K, N, D) from u (B, N, d), as one GEMM (shared) or N batched ones (full)."""
        batch, n, d = u.shape
        k, dim = self.num_capsules, self.dim
        if self.shared:
            u_hat = u @ self.weight.reshape(k * dim, d).T
            return u_hat.reshape(batch, n, k, dim).transpose(0, 2, 1, 3)
        w = self.weight.reshape(n, k * dim, d).transpose(0, 2, 1)
        u_hat = u.transpose(1, 0, 2) @ w
        return u_hat.reshape(n, batch, k, dim).transpose(1, 2, 0, 3)

    def forward(self, u: Any) -> Tensor:
        """Input capsules u (B, N, in_dim), N = num_inputs for full weights → output capsules v (B, K, D)."""
        u = as_tensor(u)
        shape("u", u, (None, self.num_inputs, self.in_dim))
        return route(self.predictions(u), self.iterations, mode=self.mode, eps=self.eps,
                     stop_gradient=self.stop_gradient, implementation=self.implementation)

    def extra_repr(self) -> str:
        return (f"in_dim={self.in_dim}, num_capsules={self.num_capsules}, dim={self.dim}, shared={self.shared}, "
                f"iterations={self.iterations}, mode={self.mode!r}, eps={self.eps}")


class PrimaryCaps(Module):
    """Sabour's PrimaryCaps: a convolution whose C·d output channels are C maps of d-D capsules.

    x (B, in_channels, H, W) → conv (B, C·d, H', W') → capsules (B, C·H'·W', d), each squashed (ε = ``eps``).
    Channel c·d + e holds component e of the capsule type c, so the grid shares its weights.
    """

    def __init__(self, in_channels: int, capsule_channels: int = 32, capsule_dim: int = 8, kernel_size: int = 9,
                 stride: int = 2, eps: float = 1.0, *, rng: np.random.Generator | None = None,
                 dtype: np.dtype | type = np.float32):
        super().__init__()
        self.capsule_channels = positive_int("capsule_channels", capsule_channels)
        self.capsule_dim = positive_int("capsule_dim", capsule_dim)
        self.eps = positive_real("eps", eps)
        self.conv = Conv2d(in_channels, self.capsule_channels * self.capsule_dim, kernel_size, stride,
                           rng=rng, dtype=dtype)

    def forward(self, x: Any) -> Tensor:
        y = self.conv(x)
        batch, _, h, w = y.shape
        y = y.reshape(batch, self.capsule_channels, self.capsule_dim, h, w).transpose(0, 1, 3, 4, 2)
        return squash(y.reshape(batch, self.capsule_channels * h * w, self.capsule_dim), self.eps)
