"""Max and average pooling over 2 × 2 windows with stride 2, the pooling of most CNNs, in one pass each way.

For x (..., H, W), with H' = ⌊H/2⌋ and W' = ⌊W/2⌋ (an odd last row or column is dropped), the window
of output (p, q) is x[..., 2p, 2q], x[..., 2p, 2q+1], x[..., 2p+1, 2q], x[..., 2p+1, 2q+1], in that
(row-major) order, and

* max pooling: y[..., p, q] is the maximum of the window, and its gradient goes to the first entry of
  the window that equals y, all of it at a tie. A window holding a NaN has y = NaN and no entry equal
  to it, so its gradient is dropped;
* average pooling: y[..., p, q] = (((a + b) + c) + d) / 4 for the window's entries a, b, c, d in that
  order, and each entry gets a quarter of the window's gradient.

The entries of the dropped row and column get 0.

The reference twins are the engine's ``max_pool2d`` and ``avg_pool2d``
(``scratch.autograd.functional.conv``), which read each of the four offsets as a strided slice. Max
pooling takes a maximum over the two rows, then over the two columns; its backward hands the
gradient out offset by offset with a running ``left`` (the gradient not yet handed out),
``dx = left · hit`` and ``left ← left · (1 − hit)``. Average pooling adds the slices in the order
above and divides by 4; its backward writes grad / 4 into each slice. The kernels do the same
arithmetic window by window, so they equal their twins to the last bit, NaN, infinities and signed
zeros included (``left · 0`` is NaN for an infinite gradient, −0 for a negative one, as in the twin),
but for the sign of a zero maximum of −0 and +0, which NumPy's vector maximum and ours may pick
differently (the gradient does not depend on it: −0 == +0). Each reads x once and writes dx once,
where the twins make a pass over the output's size per offset and operation: about 17 for max
pooling, 9 for average pooling, forward and backward.
``nn.MaxPool2d`` and ``nn.AvgPool2d`` call them for a 2 × 2 kernel with stride 2 on float32 and
float64 inputs.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from ..autograd import Function, Tensor, as_tensor
from ..autograd import functional as F
from . import IMPLEMENTATIONS, NUMBA
from ..validation import choice

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@njit(cache=True, inline="always")
def _maximum(a, b):
    """``np.maximum(a, b)`` of two scalars: NaN if either is NaN."""
    return a if a >= b or a != a else b


@njit(cache=True)
def _zero_the_dropped_edges(plane):
    """The gradient plane (H, W) ← 0 in its last column if W is odd and its last row if H is odd: the
    entries no window holds."""
    h, w = plane.shape
    if w % 2:
        plane[:, w - 1] = 0.0
    if h % 2:
        plane[h - 1, :] = 0.0


@njit(cache=True, parallel=True)
def max_pool_forward_numba(x):
    """y (M, H', W') of x (M, H, W); one plane per ``prange`` step."""
    planes, h, w = x.shape
    y = np.empty((planes, h // 2, w // 2), x.dtype)
    for k in prange(planes):
        for p in range(h // 2):
            top, bottom, out = x[k, 2 * p], x[k, 2 * p + 1], y[k, p]
            for q in range(w // 2):
                # the twin's order: the maximum over the two rows, then over the two columns
                out[q] = _maximum(_maximum(top[2 * q], bottom[2 * q]), _maximum(top[2 * q + 1], bottom[2 * q + 1]))
    return y


@njit(cache=True, parallel=True)
def max_pool_backward_numba(x, y, grad):
    """dx (M, H, W), of grad's dtype, for x (M, H, W), y and grad (M, H', W')."""
    planes, h, w = x.shape
    dx = np.empty((planes, h, w), grad.dtype)
    zero, one = np.zeros(1, grad.dtype)[0], np.ones(1, grad.dtype)[0]
    for k in prange(planes):
        for p in range(h // 2):
            top, bottom, peaks, g = x[k, 2 * p], x[k, 2 * p + 1], y[k, p], grad[k, p]
            d_top, d_bottom = dx[k, 2 * p], dx[k, 2 * p + 1]
            for q in range(w // 2):
                left, peak = g[q], peaks[q]
                hit = one if top[2 * q] == peak else zero
                d_top[2 * q] = left * hit
                left *= one - hit
                hit = one if top[2 * q + 1] == peak else zero
                d_top[2 * q + 1] = left * hit
                left *= one - hit
                hit = one if bottom[2 * q] == peak else zero
                d_bottom[2 * q] = left * hit
                left *= one - hit
                d_bottom[2 * q + 1] = left * (one if bottom[2 * q + 1] == peak else zero)
        _zero_the_dropped_edges(dx[k])
    return dx


class MaxPool2x2(Function):
    """y = max_pool2x2(x) with the kernel's backward; x is kept as a (M, H, W) view or copy."""

    fresh_gradients = True  # dx is allocated by the backward

    @staticmethod
    def forward(ctx, x):
        planes = x.reshape((-1,) + x.shape[-2:])
        y = max_pool_forward_numba(planes)
        ctx.save_for_backward(planes, y)
        ctx.shape = x.shape
        return y.reshape(x.shape[:-2] + y.shape[1:])

    @staticmethod
    def backward(ctx, grad):
        planes, y = ctx.saved_tensors
        return max_pool_backward_numba(planes, y, grad.reshape(y.shape)).reshape(ctx.shape)


@njit(cache=True, parallel=True)
def avg_pool_forward_numba(x):
    """y (M, H', W') of x (M, H, W), each window summed in the twin's order; one plane per ``prange`` step."""
    planes, h, w = x.shape
    y = np.empty((planes, h // 2, w // 2), x.dtype)
    quarter = np.full(1, 0.25, x.dtype)[0]  # × 1/4 rounds as ÷ 4 does: both are exact before rounding
    for k in prange(planes):
        for p in range(h // 2):
            top, bottom, out = x[k, 2 * p], x[k, 2 * p + 1], y[k, p]
            for q in range(w // 2):
                out[q] = (((top[2 * q] + top[2 * q + 1]) + bottom[2 * q]) + bottom[2 * q + 1]) * quarter
    return y


@njit(cache=True, parallel=True)
def avg_pool_backward_numba(grad, h, w):
    """dx (M, h, w) for grad (M, ⌊h/2⌋, ⌊w/2⌋): a quarter of each window's gradient in each of its entries."""
    planes = len(grad)
    dx = np.empty((planes, h, w), grad.dtype)
    quarter = np.full(1, 0.25, grad.dtype)[0]
    for k in prange(planes):
        for p in range(h // 2):
            d_top, d_bottom, g = dx[k, 2 * p], dx[k, 2 * p + 1], grad[k, p]
            for q in range(w // 2):
                share = g[q] * quarter
                d_top[2 * q] = share
                d_top[2 * q + 1] = share
                d_bottom[2 * q] = share
                d_bottom[2 * q + 1] = share
        _zero_the_dropped_edges(dx[k])
    return dx


class AvgPool2x2(Function):
    """y = avg_pool2x2(x) with the kernel's backward; only x's shape is kept."""

    fresh_gradients = True  # dx is allocated by the backward

    @staticmethod
    def forward(ctx, x):
        y = avg_pool_forward_numba(x.reshape((-1,) + x.shape[-2:]))
        ctx.shape = x.shape
        return y.reshape(x.shape[:-2] + y.shape[1:])

    @staticmethod
    def backward(ctx, grad):
        h, w = ctx.shape[-2:]
        return avg_pool_backward_numba(grad.reshape((-1,) + grad.shape[-2:]), h, w).reshape(ctx.shape)


def _checked(x: Any, implementation: str) -> tuple[Tensor, bool]:
    """x as a Tensor, and whether the kernel (not its twin) runs; refuses by name what the kernels cannot take."""
    x = as_tensor(x)
    if choice("implementation", implementation, IMPLEMENTATIONS) != NUMBA:
        return x, False
    if x.ndim < 2 or min(x.shape[-2:]) < 2:
        raise ValueError(f"x must be (..., H, W) with H, W >= 2 for a 2×2 window, got shape {x.shape}")
    choice("x.dtype", x.dtype, DTYPES)
    return x, True


def max_pool2x2(x: Any, *, implementation: str = NUMBA) -> Tensor:
    """Max pooling over 2 × 2 windows with stride 2: x (..., H, W), float32 or float64, H, W ≥ 2 →
    (..., ⌊H/2⌋, ⌊W/2⌋). ``implementation`` ∈ {"numba", "numpy"}: this kernel, or its twin
    ``F.max_pool2d(x, 2)`` (the same results; see the module docstring)."""
    x, kernel = _checked(x, implementation)
    return MaxPool2x2.apply(x) if kernel else F.max_pool2d(x, 2)


def avg_pool2x2(x: Any, *, implementation: str = NUMBA) -> Tensor:
    """Average pooling over 2 × 2 windows with stride 2, shapes and dtypes as ``max_pool2x2``.
    ``implementation`` ∈ {"numba", "numpy"}: this kernel, or its twin ``F.avg_pool2d(x, 2)`` (the same
    results to the last bit)."""
    x, kernel = _checked(x, implementation)
    return AvgPool2x2.apply(x) if kernel else F.avg_pool2d(x, 2)
