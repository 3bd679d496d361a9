"""Elementwise activations: thin wrappers over the engine's unary ops (their backward lives there)."""
from __future__ import annotations

from typing import Any

from .. import ops
from ..tensor import Tensor, as_tensor
from ...validation import choice

# the exact x Φ(x), and PyTorch's tanh approximation of it
GELU_APPROXIMATIONS = ("none", "tanh")


def relu(x: Any) -> Tensor:
    """y = max(x, 0), any shape."""
    return as_tensor(x).relu()


def sigmoid(x: Any) -> Tensor:
    """y = σ(x) = 1 / (1 + e⁻ˣ), any shape."""
    return as_tensor(x).sigmoid()


def tanh(x: Any) -> Tensor:
    """y = tanh x, any shape."""
    return as_tensor(x).tanh()


def silu(x: Any) -> Tensor:
    """y = x σ(x) (the swish), any shape."""
    return ops.Silu.apply(as_tensor(x))


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """GELU, any shape: y = x Φ(x) with Φ the standard normal CDF (``approximate="none"``), or
    y = x/2 · (1 + tanh(√(2/π) (x + 0.044715 x³))) (``approximate="tanh"``), as in PyTorch."""
    return ops.Gelu.apply(as_tensor(x), approximate=choice("approximate", approximate, GELU_APPROXIMATIONS))
