"""Elementwise activations as Modules, for ``Sequential``: ReLU, GELU, SiLU, Sigmoid, Tanh."""
from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from ..autograd import functional as F
from ..validation import choice
from .module import Module


class ReLU(Module):
    """y = max(x, 0)."""

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        return F.relu(x)


class GELU(Module):
    """y = x Φ(x), Φ the standard normal CDF; ``approximate="tanh"`` uses
    x/2 (1 + tanh(√(2/π)(x + 0.044715 x³)))."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = choice("approximate", approximate, F.GELU_APPROXIMATIONS)

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """y = x σ(x) (also called swish)."""

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        return F.silu(x)


class Sigmoid(Module):
    """y = σ(x) = 1 / (1 + e⁻ˣ)."""

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """y = tanh x."""

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        return F.tanh(x)
