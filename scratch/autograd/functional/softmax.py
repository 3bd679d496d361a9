"""Softmax, log-softmax and log-sum-exp along an axis, each a Function with a fused backward.

All three subtract the maximum m = max_j x_j first, so exp never overflows:

    logsumexp(x)     = m + log Σ_j exp(x_j − m)
    softmax(x)_i     = exp(x_i − m) / Σ_j exp(x_j − m)
    log_softmax(x)_i = x_i − logsumexp(x)

Entries of −inf (masked positions) are fine as long as the maximum is finite; they get probability 0.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..ops.reduction import keep_reduced_dims, normalize_axis
from ..tensor import Tensor, as_tensor
from ...validation import integer


class Softmax(Function):
    """y = softmax(x) along ``axis``;  dx = y ⊙ (g − Σ_axis g ⊙ y)."""

    @staticmethod
    def forward(ctx, x, axis):
        y = np.exp(x - x.max(axis=axis, keepdims=True))
        y /= y.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """z = x − logsumexp(x) along ``axis``;  dx = g − softmax(x) Σ_axis g,  softmax(x) = eᶻ."""

    @staticmethod
    def forward(ctx, x, axis):
        z = x - x.max(axis=axis, keepdims=True)
        z -= np.log(np.exp(z).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(z)
        ctx.axis = axis
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad - np.exp(z) * grad.sum(axis=ctx.axis, keepdims=True)


class LogSumExp(Function):
    """z = log Σ_axis exp x;  dx = g · softmax(x) (g broadcast over the reduced axes)."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = normalize_axis(axis, x.ndim)
        m = x.max(axis=axes, keepdims=True)
        p = np.exp(x - m)
        total = p.sum(axis=axes, keepdims=True)
        p /= total
        ctx.save_for_backward(p)
        ctx.axes, ctx.keepdims = axes, keepdims
        z = m + np.log(total)
        return z if keepdims else np.squeeze(z, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        (p,) = ctx.saved_tensors
        return keep_reduced_dims(grad, ctx.axes, ctx.keepdims) * p


def softmax(x: Any, axis: int = -1) -> Tensor:
    """Probabilities along ``axis``: y_i = exp(x_i − m) / Σ_j exp(x_j − m); y has x's shape."""
    return Softmax.apply(as_tensor(x), axis=integer("axis", axis))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """Log-probabilities along ``axis``: z_i = x_i − logsumexp(x); z has x's shape."""
    return LogSoftmax.apply(as_tensor(x), axis=integer("axis", axis))


def logsumexp(x: Any, axis: int | tuple[int, ...] | None = -1, keepdims: bool = False) -> Tensor:
    """log Σ exp x over ``axis`` (an int, a tuple, or None for all), computed as m + log Σ exp(x − m)."""
    return LogSumExp.apply(as_tensor(x), axis=axis, keepdims=keepdims)
