"""2-D convolution (im2col) and pooling over the last two axes (NCHW), each a Function with a fused backward.

All three are written with one helper. For x (..., H, W), a kh × kw kernel and strides (sh, sw),
the window at output position (p, q) covers x[..., sh·p + i, sw·q + j] for the kernel offsets
(i, j); H' = ⌊(H − kh)/sh⌋ + 1 and W' likewise. Fixing the offset (i, j) and letting (p, q) run
gives one strided slice of x,

    x[offset_slices(...)[k]] = x[..., i : i + sh·(H'−1) + 1 : sh, j : j + sw·(W'−1) + 1 : sw],  k = kw·i + j,

so a forward reads x through kh·kw slices (a view each, no copy), and the backward adds into the
same kh·kw slices of a zero array. Within one slice the entries are distinct, so each ``+=`` is
exact; windows that overlap (stride < kernel) meet across offsets, and their contributions sum, as
the chain rule requires (col2im is exactly this scatter-add).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor, as_tensor

IntPair = int | tuple[int, int]


def offset_slices(size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int]) -> list[tuple]:
    """For x (..., H, W) of ``size`` (H, W): per kernel offset (i, j), row-major, the index of
    x[..., sh·p + i, sw·q + j] over all output positions (p, q) — an (..., H', W') strided slice."""
    (h, w), (kh, kw), (sh, sw) = size, kernel, stride
    h_span, w_span = sh * ((h - kh) // sh) + 1, sw * ((w - kw) // sw) + 1
    return [(Ellipsis, slice(i, i + h_span, sh), slice(j, j + w_span, sw)) for i, j in np.ndindex(kh, kw)]


class Conv2d(Function):
    """y[n, o, p, q] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x_pad[n, c, sh·p + i, sw·q + j], as GEMMs.

    im2col: X_n (C·kh·kw, H'·W') holds the windows of image n as columns (row (c, i, j) is the
    offset slice (i, j) of channel c), so Y_n = W X_n + b with W reshaped to (O, C·kh·kw), and
    Y (N, O, H'·W') is already NCHW. Backward, with G_n (O, H'·W') the output gradient of image n:
    dW = Σ_n G_n X_nᵀ, db = Σ_{n,p,q} G, dX_n = Wᵀ G_n, and col2im adds the rows of dX back
    into the offset slices of a zero x_pad, whose padding is then cropped.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        (ph, pw), (o, c, kh, kw) = padding, weight.shape
        x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
        slices = offset_slices(x_pad.shape[2:], (kh, kw), stride)
        n, (h_out, w_out) = x.shape[0], x_pad[slices[0]].shape[2:]
        cols = np.empty((n, c, kh * kw, h_out, w_out), dtype=x.dtype)
        for k, window_offset in enumerate(slices):
            cols[:, :, k] = x_pad[window_offset]
        cols = cols.reshape(n, c * kh * kw, h_out * w_out)
        y = weight.reshape(o, -1) @ cols
        if bias is not None:
            y += bias[:, None]
        ctx.save_for_backward(cols, weight)
        ctx.x_shape, ctx.padded_shape, ctx.slices, ctx.padding = x.shape, x_pad.shape, slices, padding
        return y.reshape(n, o, h_out, w_out)

    @staticmethod
    def backward(ctx, grad):
        cols, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        n, o, h_out, w_out = grad.shape
        g = grad.reshape(n, o, h_out * w_out)
        dx = dw = db = None
        if need_x:
            dcols = (weight.reshape(o, -1).T @ g).reshape(n, weight.shape[1], -1, h_out, w_out)
            dx_pad = np.zeros(ctx.padded_shape, dtype=grad.dtype)
            for k, window_offset in enumerate(ctx.slices):
                dx_pad[window_offset] += dcols[:, :, k]
            (h, w), (ph, pw) = ctx.x_shape[2:], ctx.padding
            dx = dx_pad[:, :, ph:ph + h, pw:pw + w]
        if need_w:
            dw = (g @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(weight.shape)
        if need_b:
            db = g.sum(axis=(0, 2))
        return dx, dw, db


class AvgPool2d(Function):
    """y = (1/(kh·kw)) Σ_offsets x[slice];  dx[slice] += g / (kh·kw) for every offset."""

    @staticmethod
    def forward(ctx, x, kernel, stride):
        slices = offset_slices(x.shape[-2:], kernel, stride)
        ctx.shape, ctx.slices = x.shape, slices
        return sum(x[window_offset] for window_offset in slices) / len(slices)

    @staticmethod
    def backward(ctx, grad):
        dx = np.zeros(ctx.shape, dtype=grad.dtype)
        share = grad / len(ctx.slices)
        for window_offset in ctx.slices:
            dx[window_offset] += share
        return dx


class MaxPool2d(Function):
    """y = max over the offsets of x[slice]; the gradient goes to the entry that attained it.

    Backward walks the offsets in row-major order and hands each window's gradient to the first
    offset whose entry equals the maximum, so at ties that first entry takes all of it (as in
    PyTorch). Overlapping windows that share a maximum both add into it.
    """

    @staticmethod
    def forward(ctx, x, kernel, stride):
        slices = offset_slices(x.shape[-2:], kernel, stride)
        y = x[slices[0]].copy()
        for window_offset in slices[1:]:
            np.maximum(y, x[window_offset], out=y)
        ctx.save_for_backward(x, y)
        ctx.slices = slices
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        dx = np.zeros(x.shape, dtype=grad.dtype)
        unclaimed = np.ones(y.shape, dtype=bool)
        for window_offset in ctx.slices:
            hit = x[window_offset] == y
            hit &= unclaimed
            unclaimed ^= hit
            dx[window_offset] += hit * grad
        return dx


def conv2d(x: Any, weight: Any, bias: Any = None, stride: IntPair = 1, padding: IntPair = 0) -> Tensor:
    """2-D cross-correlation (what every framework calls convolution), NCHW.

    x: (N, C, H, W), weight: (O, C, kh, kw), bias: (O,) or None → y: (N, O, H', W') with
    H' = ⌊(H + 2·ph − kh)/sh⌋ + 1 (likewise W'); ``stride`` ≥ 1 and zero ``padding`` ≥ 0 are an int
    or an (h, w) pair. See ``Conv2d`` for the math.
    """
    x, weight = as_tensor(x), as_tensor(weight)
    if x.ndim != 4:
        raise ValueError(f"x must be (N, C, H, W), got shape {x.shape}")
    if weight.ndim != 4 or weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight must be (out_channels, {x.shape[1]}, kh, kw) for x with {x.shape[1]} "
                         f"channels, got shape {weight.shape}")
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != weight.shape[:1]:
            raise ValueError(f"bias must have shape {weight.shape[:1]} (one per output channel), got {bias.shape}")
    stride, padding = _pair(stride, "stride", 1), _pair(padding, "padding", 0)
    _check_fits(weight.shape[2:], x.shape[2:], padding, "weight")
    return Conv2d.apply(x, weight, bias, stride=stride, padding=padding)


def avg_pool2d(x: Any, kernel_size: IntPair, stride: IntPair | None = None) -> Tensor:
    """Mean over kh × kw windows of x (..., H, W) (e.g. NCHW) → (..., H', W'), H' = ⌊(H − kh)/sh⌋ + 1;
    ``stride`` defaults to ``kernel_size`` (non-overlapping windows; a remainder is dropped)."""
    x, kernel, stride = _pool_arguments(x, kernel_size, stride)
    return AvgPool2d.apply(x, kernel=kernel, stride=stride)


def max_pool2d(x: Any, kernel_size: IntPair, stride: IntPair | None = None) -> Tensor:
    """Maximum over kh × kw windows of x (..., H, W) (e.g. NCHW) → (..., H', W'), H' = ⌊(H − kh)/sh⌋ + 1;
    ``stride`` defaults to ``kernel_size``. At ties the first maximal entry (row-major) gets the gradient."""
    x, kernel, stride = _pool_arguments(x, kernel_size, stride)
    return MaxPool2d.apply(x, kernel=kernel, stride=stride)


def _pool_arguments(x: Any, kernel_size: IntPair, stride: IntPair | None):
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least the two axes (H, W), got shape {x.shape}")
    kernel = _pair(kernel_size, "kernel_size", 1)
    stride = kernel if stride is None else _pair(stride, "stride", 1)
    _check_fits(kernel, x.shape[-2:], (0, 0), "kernel_size")
    return x, kernel, stride


def _pair(value: IntPair, name: str, minimum: int) -> tuple[int, int]:
    """An int or an (h, w) pair of ints, each ≥ ``minimum``, as a pair."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum
                                 for v in pair):
        raise ValueError(f"{name} must be an integer >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _check_fits(kernel: tuple[int, int], size: tuple[int, int], padding: tuple[int, int], name: str) -> None:
    if any(k > s + 2 * p for k, s, p in zip(kernel, size, padding)):
        raise ValueError(f"{name}: a {kernel[0]}×{kernel[1]} kernel does not fit the (padded) input "
                         f"{size[0] + 2 * padding[0]}×{size[1] + 2 * padding[1]}")
