"""Normalisation over the last axis: ``LayerNorm`` and ``RMSNorm``."""
from __future__ import annotations

import numpy as np

from ..autograd import functional as F
from ..autograd import Tensor
from .module import Module, Parameter
from ..validation import boolean, floating_dtype, positive_int, positive_real


class LayerNorm(Module):
    """y = (x − μ) / √(σ² + eps) · γ + β, with μ, σ² the mean and (biased) variance of the last axis.

    x: (..., dim) → y: (..., dim);  γ = ``weight`` (ones) and β = ``bias`` (zeros), both (dim,),
    present when ``elementwise_affine``.
    """

    def __init__(self, dim: int, eps: float = 1e-5, elementwise_affine: bool = True, *,
                 dtype: np.dtype | type = np.float32):
        super().__init__()
        self.dim = positive_int("dim", dim)
        self.eps = positive_real("eps", eps)
        dtype = floating_dtype("dtype", dtype)
        affine = boolean("elementwise_affine", elementwise_affine)
        self.weight = Parameter(np.ones(self.dim, dtype)) if affine else None
        self.bias = Parameter(np.zeros(self.dim, dtype)) if affine else None

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        return F.layer_norm(x, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.dim}, eps={self.eps}, elementwise_affine={self.weight is not None}"


class RMSNorm(Module):
    """y = x / √(mean(x²) + eps) · γ, the mean over the last axis (Zhang & Sennrich, 2019).

    x: (..., dim) → y: (..., dim);  γ = ``weight`` (ones, (dim,)), present when ``weight=True``.
    """

    def __init__(self, dim: int, eps: float = 1e-6, weight: bool = True, *,
                 dtype: np.dtype | type = np.float32):
        super().__init__()
        self.dim = positive_int("dim", dim)
        self.eps = positive_real("eps", eps)
        dtype = floating_dtype("dtype", dtype)
        self.weight = Parameter(np.ones(self.dim, dtype)) if boolean("weight", weight) else None

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        return F.rms_norm(x, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.dim}, eps={self.eps}, weight={self.weight is not None}"
