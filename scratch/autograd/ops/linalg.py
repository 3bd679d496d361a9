"""Matrix product with NumPy's ``@`` semantics: batched, broadcasting, 1-D operands promoted."""
import numpy as np

from ..broadcast import unbroadcast
from ..function import Function


class MatMul(Function):
    """z = a @ b;  da = g @ bᵀ, db = aᵀ @ g (batch axes reduced by ``unbroadcast``).

    A 1-D ``a`` acts as a row (1, k) and a 1-D ``b`` as a column (k, 1), as in NumPy.
    """

    @staticmethod
    def forward(ctx, a, b):
        if np.ndim(a) == 0 or np.ndim(b) == 0:
            raise ValueError("matmul: operands must have at least one dimension")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align (inner dimensions differ)")
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        da, db = ctx.needs_input_grad
        ga = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape) if da else None
        gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape) if db else None
        return ga, gb
