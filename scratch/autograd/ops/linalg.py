"""Matrix product with NumPy's ``@`` semantics: batched, broadcasting, 1-D operands promoted."""
import math

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
            raise ValueError("matmul: operands must have at least one dimension, got shapes "
                             f"{np.shape(a)} and {np.shape(b)}")
        inner = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if a.shape[-1] != inner:
            raise ValueError(f"matmul: the last axis of the left operand {a.shape} must match the "
                             f"{'second-to-last' if b.ndim > 1 else 'only'} axis of the right operand "
                             f"{b.shape} ({a.shape[-1]} != {inner})")
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(f"matmul: the batch axes of the operands {a.shape} and {b.shape} "
                             "do not broadcast") from None
        ctx.save_for_backward(a, b)
        if a.ndim > 2 and b.ndim == 2:  # stacked rows times one matrix: one GEMM, not one per leading index
            return (matrix_rows(a) @ b).reshape(*a.shape[:-1], b.shape[-1])
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        if a.ndim > 2 and b.ndim == 2:
            return _stacked_rows_backward(ctx, grad, a, b)
        # Promote 1-D operands to matrices and put their removed axes back into grad.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad[..., None] if b.ndim == 1 else grad
        g = g[..., None, :] if a.ndim == 1 else g
        da, db = ctx.needs_input_grad
        ga = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape) if da else None
        gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape) if db else None
        return ga, gb


def _stacked_rows_backward(ctx, grad, a, b):
    """z = a @ b for a (..., k), b (k, n) as rows A (m, k):  dA = G bᵀ,  db = Aᵀ G  (G the rows (m, n) of grad)."""
    da, db = ctx.needs_input_grad
    g = matrix_rows(grad)
    ga = (g @ b.T).reshape(a.shape) if da else None
    gb = matrix_rows(a).T @ g if db else None
    return ga, gb


def matrix_rows(x: np.ndarray) -> np.ndarray:
    """x (..., k) as the matrix (m, k) of its rows, m the product of the leading axes (m = 0 and k = 0
    allowed); a view when x's layout permits, else a copy."""
    return x.reshape(math.prod(x.shape[:-1]), x.shape[-1])
