"""``Flatten``: merge a range of axes into one."""
from __future__ import annotations

import math

import numpy as np

from ..autograd import Tensor, as_tensor
from ..validation import integer
from .module import Module


class Flatten(Module):
    """Merge axes ``start_dim`` … ``end_dim`` (inclusive) into one: (N, C, H, W) → (N, C·H·W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = integer("start_dim", start_dim)
        self.end_dim = integer("end_dim", end_dim)

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        x = as_tensor(x)
        if not (-x.ndim <= self.start_dim < x.ndim and -x.ndim <= self.end_dim < x.ndim) \
                or self.start_dim % x.ndim > self.end_dim % x.ndim:
            raise ValueError(f"Flatten: cannot merge axes {self.start_dim}..{self.end_dim} of an input "
                             f"of shape {x.shape}")
        start, end = self.start_dim % x.ndim, self.end_dim % x.ndim
        shape = x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:]
        return x.reshape(shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
