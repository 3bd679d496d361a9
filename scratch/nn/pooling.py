"""2-D pooling over the last two axes: ``MaxPool2d`` and ``AvgPool2d``."""
from __future__ import annotations

import numpy as np

from ..autograd import Tensor, as_tensor
from ..autograd import functional as F
from ..kernels import pool
from .module import Module
from ..validation import int_pair


class _Pool2d(Module):
    """A 2 × 2 kernel with stride 2 on float32 or float64 runs the Numba kernel ``kernel_2x2``
    (``scratch.kernels.pool``: the same results as the engine's function, in one pass each way);
    every other case runs the engine's ``engine(x, kernel_size, stride)``."""

    kernel_2x2 = engine = None  # staticmethods of the subclasses

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None):
        super().__init__()
        self.kernel_size = int_pair("kernel_size", kernel_size, minimum=1)
        self.stride = self.kernel_size if stride is None else int_pair("stride", stride, minimum=1)

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        x = as_tensor(x)
        if self.kernel_size == self.stride == (2, 2) and x.dtype in pool.DTYPES:
            return self.kernel_2x2(x)
        return self.engine(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2d(_Pool2d):
    """y[..., i, j] = max of x over the kh × kw window at (i·sh, j·sw); x (..., H, W) → (..., H', W'),
    H' = ⌊(H − kh) / sh⌋ + 1. ``stride`` defaults to ``kernel_size`` (non-overlapping windows).
    A 2 × 2 kernel with stride 2 runs ``pool.max_pool2x2``, otherwise ``F.max_pool2d``."""

    kernel_2x2, engine = staticmethod(pool.max_pool2x2), staticmethod(F.max_pool2d)


class AvgPool2d(_Pool2d):
    """y[..., i, j] = mean of x over the kh × kw window at (i·sh, j·sw); shapes as ``MaxPool2d``.
    A 2 × 2 kernel with stride 2 runs ``pool.avg_pool2x2``, otherwise ``F.avg_pool2d``."""

    kernel_2x2, engine = staticmethod(pool.avg_pool2x2), staticmethod(F.avg_pool2d)
