"""``Conv2d``: 2-D cross-correlation over NCHW images."""
from __future__ import annotations

import math

import numpy as np

from ..autograd import Tensor, as_tensor
from ..autograd import functional as F
from ..kernels import conv
from . import init
from .module import Module, Parameter
from ..validation import boolean, floating_dtype, generator, int_pair, positive_int


class Conv2d(Module):
    """y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c] (cross-correlation, as in every framework).

    x: (N, in_channels, H, W) → y: (N, out_channels, H', W') with H' = ⌊(H + 2·padding − kh) / stride⌋ + 1
    (likewise W'); W: (out_channels, in_channels, kh, kw), b: (out_channels,). ``kernel_size``,
    ``stride`` and ``padding`` are an int or an (h, w) pair. Initialised as ``torch.nn.Conv2d``: W and b
    ~ U(−1/√fan_in, 1/√fan_in), fan_in = in_channels · kh · kw. With stride 1 and x of the weight's
    dtype (float32 or float64) it runs the Numba kernels of ``scratch.kernels.conv`` (the same sums as
    ``F.conv2d`` in another order), otherwise ``F.conv2d``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0, bias: bool = True, *,
                 rng: np.random.Generator | None = None, dtype: np.dtype | type = np.float32):
        super().__init__()
        self.in_channels = positive_int("in_channels", in_channels)
        self.out_channels = positive_int("out_channels", out_channels)
        self.kernel_size = int_pair("kernel_size", kernel_size, minimum=1)
        self.stride = int_pair("stride", stride, minimum=1)
        self.padding = int_pair("padding", padding, minimum=0)
        dtype = floating_dtype("dtype", dtype)
        rng = generator("rng", rng)
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels, *self.kernel_size), dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)
        self.bias = None
        if boolean("bias", bias):
            bound = 1 / math.sqrt(init.fan_in_and_fan_out(self.weight.shape)[0])
            self.bias = Parameter(init.uniform_(np.empty(self.out_channels, dtype), -bound, bound, rng))

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        x = as_tensor(x)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d: x must be (N, in_channels={self.in_channels}, H, W), got shape {x.shape}")
        if self.stride == (1, 1) and x.dtype == self.weight.dtype and x.dtype in conv.DTYPES:
            return conv.conv2d(x, self.weight, self.bias, padding=self.padding)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}")
