"""Elementwise binary ops with NumPy broadcasting; each gradient is reduced by ``unbroadcast``.

Inputs may be arrays or Python scalars (constants, which get no gradient).
"""
import numpy as np

from ..broadcast import unbroadcast
from ..function import Function


def _to(grad, x):
    """Gradient for input ``x``: undo broadcasting to ``x``'s shape."""
    return unbroadcast(grad, np.shape(x))


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (_to(grad, a) if da else None), (_to(grad, b) if db else None)


class Sub(Function):
    """z = a − b;  dz/da = 1, dz/db = −1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (_to(grad, a) if da else None), (_to(-grad, b) if db else None)


class Mul(Function):
    """z = a · b;  dz/da = b, dz/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (_to(grad * b, a) if da else None), (_to(grad * a, b) if db else None)


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = −a/b² = −z/b."""

    @staticmethod
    def forward(ctx, a, b):
        z = np.divide(a, b)
        ctx.save_for_backward(a, b, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        a, b, z = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (_to(grad / b, a) if da else None), (_to(-grad * z / b, b) if db else None)


class Pow(Function):
    """z = a ** b;  dz/da = b · a^(b−1), dz/db = z · log a (defined for a > 0)."""

    @staticmethod
    def forward(ctx, a, b):
        z = np.power(a, b)
        ctx.save_for_backward(a, b, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        a, b, z = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        ga = _to(grad * b * np.power(a, b - 1), a) if da else None
        gb = _to(grad * z * np.log(a, dtype=z.dtype), b) if db else None
        return ga, gb


class Maximum(Function):
    """z = max(a, b) elementwise; at ties the gradient is split in half (as in PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a > b) + 0.5 * (a == b)
        da, db = ctx.needs_input_grad
        ga = _to(grad * share_a.astype(grad.dtype), a) if da else None
        gb = _to(grad * (1 - share_a).astype(grad.dtype), b) if db else None
        return ga, gb


class Minimum(Function):
    """z = min(a, b) elementwise; at ties the gradient is split in half."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a < b) + 0.5 * (a == b)
        da, db = ctx.needs_input_grad
        ga = _to(grad * share_a.astype(grad.dtype), a) if da else None
        gb = _to(grad * (1 - share_a).astype(grad.dtype), b) if db else None
        return ga, gb


class Where(Function):
    """z = a where ``condition`` else b; the condition is a constant boolean array."""

    @staticmethod
    def forward(ctx, condition, a, b):
        condition = np.asarray(condition, dtype=bool)
        ctx.save_for_backward(condition, a, b)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        condition, a, b = ctx.saved_tensors
        _, da, db = ctx.needs_input_grad
        zero = np.zeros((), grad.dtype)
        ga = _to(np.where(condition, grad, zero), a) if da else None
        gb = _to(np.where(condition, zero, grad), b) if db else None
        return None, ga, gb
