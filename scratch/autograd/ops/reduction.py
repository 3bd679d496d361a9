"""Reductions over ``axis`` (None, an int or a tuple) with optional ``keepdims``.

Backward re-inserts the reduced axes (so the gradient broadcasts against the input) and spreads it:
evenly for ``sum``/``mean``, and among the maximal (minimal) entries for ``max`` (``min``), split
equally at ties as in PyTorch's ``amax``.
"""
import numpy as np

from ..function import Function


def normalize_axis(axis, ndim):
    """``axis`` (None, an int or a tuple, negatives allowed) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    return tuple(sorted(a % ndim for a in axes)) if ndim else ()


def keep_reduced_dims(grad, axes, keepdims):
    """``grad`` with the reduced axes present as size-1 axes."""
    return grad if keepdims else np.expand_dims(grad, axes)


class Sum(Function):
    """z = Σ_axis x."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, normalize_axis(axis, x.ndim), keepdims
        return np.asarray(x.sum(axis=ctx.axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(keep_reduced_dims(grad, ctx.axes, ctx.keepdims), ctx.shape)


class Mean(Function):
    """z = (1/n) Σ_axis x, n the number of reduced entries."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, normalize_axis(axis, x.ndim), keepdims
        ctx.count = int(np.prod([x.shape[a] for a in ctx.axes]))
        return np.asarray(x.mean(axis=ctx.axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        grad = keep_reduced_dims(grad, ctx.axes, ctx.keepdims) / ctx.count
        return np.broadcast_to(grad, ctx.shape)


class _Extremum(Function):
    reduce = None

    @classmethod
    def forward(cls, ctx, x, axis=None, keepdims=False):
        if x.size == 0:
            raise ValueError(f"{cls.__name__.lower()} of an empty tensor of shape {x.shape}")
        axes = normalize_axis(axis, x.ndim)
        z = np.asarray(cls.reduce(x, axis=axes, keepdims=True))
        ctx.save_for_backward(x, z)
        ctx.axes, ctx.keepdims = axes, keepdims
        return z if keepdims else np.squeeze(z, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, z = ctx.saved_tensors
        hits = (x == z).astype(grad.dtype)
        hits /= hits.sum(axis=ctx.axes, keepdims=True)
        return keep_reduced_dims(grad, ctx.axes, ctx.keepdims) * hits


class Max(_Extremum):
    """z = max_axis x."""

    reduce = staticmethod(np.max)


class Min(_Extremum):
    """z = min_axis x."""

    reduce = staticmethod(np.min)
