"""2-D pooling over the last two axes: ``MaxPool2d`` and ``AvgPool2d``."""
from __future__ import annotations

import numpy as np

from ..autograd import Tensor, as_tensor
from ..autograd import functional as F
from ..kernels import max_pool
from .module import Module
from ..validation import int_pair


class _Pool2d(Module):
    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None):
        super().__init__()
        self.kernel_size = int_pair("kernel_size", kernel_size, minimum=1)
        self.stride = self.kernel_size if stride is None else int_pair("stride", stride, minimum=1)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2d(_Pool2d):
    """y[..., i, j] = max of x over the kh × kw window at (i·sh, j·sw); x (..., H, W) → (..., H', W'),
    H' = ⌊(H − kh) / sh⌋ + 1. ``stride`` defaults to ``kernel_size`` (non-overlapping windows).
    A 2 × 2 kernel with stride 2 on float32 or float64 runs the Numba kernel ``max_pool2x2`` (the same
    results as ``F.max_pool2d``, in one pass each way)."""

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        x = as_tensor(x)
        if self.kernel_size == self.stride == (2, 2) and x.dtype in max_pool.DTYPES:
            return max_pool.max_pool2x2(x)
        return F.max_pool2d(x, self.kernel_size, self.stride)


class AvgPool2d(_Pool2d):
    """y[..., i, j] = mean of x over the kh × kw window at (i·sh, j·sw); shapes as ``MaxPool2d``."""

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride)
