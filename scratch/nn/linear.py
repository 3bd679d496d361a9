"""``Linear``: the affine map y = x Wᵀ + b."""
from __future__ import annotations

import math

import numpy as np

from ..autograd import Tensor, as_tensor
from . import init
from .module import Module, Parameter
from ..validation import boolean, floating_dtype, generator, positive_int


class Linear(Module):
    """y = x Wᵀ + b, applied to the last axis.

    x: (..., in_features) → y: (..., out_features);  W: (out_features, in_features), b: (out_features,).
    Initialised as ``torch.nn.Linear``: W by ``kaiming_uniform_(a=√5)`` and b alike, i.e. both
    ~ U(−1/√in_features, 1/√in_features).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 rng: np.random.Generator | None = None, dtype: np.dtype | type = np.float32):
        super().__init__()
        self.in_features = positive_int("in_features", in_features)
        self.out_features = positive_int("out_features", out_features)
        dtype = floating_dtype("dtype", dtype)
        rng = generator("rng", rng)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)
        self.bias = None
        if boolean("bias", bias):
            bound = 1 / math.sqrt(self.in_features)
            self.bias = Parameter(init.uniform_(np.empty(self.out_features, dtype), -bound, bound, rng))

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        x = as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear: x must have in_features={self.in_features} entries on its last "
                             f"axis, got shape {x.shape}")
        y = x @ self.weight.T
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
