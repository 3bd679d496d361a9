"""A matrix product written into a given array, c ← a @ b + β c, through BLAS gemm from Numba code.

``np.dot`` in Numba allocates its result, cannot accumulate, and copies any operand that is not
contiguous as a whole, such as a column block ``x[:, :n]``. BLAS gemm does none of that: it takes a
leading dimension (the row stride) and a transpose flag per operand, and β. ``gemm`` passes them,
so a kernel can multiply column blocks and transposed views (``x[:, :n].T``) of buffers it allocated
once and add into its gradients in place (β = 1). Every operand must have unit stride along its rows
or its columns, and c along its rows.

Called from plain Python (and under ``NUMBA_DISABLE_JIT=1``) ``gemm`` is the NumPy expression below;
jitted callers get the BLAS version (``_gemm_blas``), which calls the gemm Numba's own ``np.dot``
uses (SciPy's BLAS, through Numba's ``numba_xxgemm``), so the BLAS thread setting applies as usual.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload
from numba.np.linalg import ensure_blas


def gemm(a: np.ndarray, b: np.ndarray, c: np.ndarray, beta: float) -> None:
    """c ← a @ b + beta · c in place: a (m, k), b (k, n), c (m, n); beta = 0 ignores what c held."""
    product = a @ b
    c[...] = product if beta == 0 else product + beta * c


@intrinsic
def _xxgemm(typingctx, trans_x, trans_y, m, n, k, x, ldx, y, ldy, beta, c, ldc):
    """The column-major BLAS call c ← op(x) op(y) + beta c with c (m, n); returns its status (0: done)."""
    sig = types.int32(trans_x, trans_y, m, n, k, x, ldx, y, ldy, beta, c, ldc)

    def codegen(context, builder, signature, args):
        trans_x, trans_y, m, n, k, x, ldx, y, ldy, beta, c, ldc = args
        dtype = signature.args[10].dtype
        char, void_p, intp = ir.IntType(8), ir.IntType(8).as_pointer(), cgutils.intp_t
        function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(
            ir.IntType(32), [char, char, char, intp, intp, intp, void_p, void_p, intp, void_p, intp, void_p, void_p,
                             intp]), "numba_xxgemm")

        def data(index, value):
            return builder.bitcast(context.make_array(signature.args[index])(context, builder, value).data, void_p)

        def slot(value, from_type):
            return builder.bitcast(cgutils.alloca_once_value(
                builder, context.cast(builder, value, from_type, dtype)), void_p)

        kind = ir.Constant(char, ord("s" if dtype == types.float32 else "d"))
        return builder.call(function, (kind, builder.trunc(trans_x, char), builder.trunc(trans_y, char), m, n, k,
                                       slot(ir.Constant(ir.DoubleType(), 1.0), types.float64), data(5, x), ldx,
                                       data(7, y), ldy, slot(beta, signature.args[9]), data(10, c), ldc))
    return sig, codegen


@njit(cache=True)
def _column_major(x):
    """How BLAS reads the 2-D array x (r, s) as op(z) of a column-major z: (transpose flag, leading dimension)."""
    rows, columns = x.shape
    row_stride, column_stride = x.strides[0] // x.itemsize, x.strides[1] // x.itemsize
    if column_stride == 1 or columns == 1:  # rows contiguous: column-major z = xᵀ, op = none
        return ord("n"), max(row_stride if rows > 1 else columns, columns, 1)
    if row_stride == 1 or rows == 1:  # columns contiguous: z = x, op = transpose
        return ord("t"), max(column_stride if columns > 1 else rows, rows, 1)
    raise ValueError("gemm: an operand has neither contiguous rows nor contiguous columns")


@overload(gemm, jit_options={"cache": True})
def _gemm_blas(a, b, c, beta):
    ensure_blas()
    if not all(isinstance(x, types.Array) and x.ndim == 2 and x.dtype in (types.float32, types.float64)
               and x.dtype == c.dtype for x in (a, b, c)):
        return None

    def impl(a, b, c, beta):
        m, k = a.shape
        n = c.shape[1]
        if b.shape[0] != k or b.shape[1] != n or c.shape[0] != m:
            raise ValueError("gemm: shapes of a (m, k), b (k, n), c (m, n) do not match")
        if m == 0 or n == 0:
            return
        if k == 0:
            if beta == 0:
                c[:, :] = 0.0
            else:
                c *= beta
            return
        trans_a, lda = _column_major(a)
        trans_b, ldb = _column_major(b)
        if c.strides[1] != c.itemsize and n > 1:
            raise ValueError("gemm: c must have contiguous rows")
        ldc = max(c.strides[0] // c.itemsize if m > 1 else n, n, 1)
        # row-major c (m, n) is the column-major cᵀ (n, m) = bᵀ aᵀ, so b comes first
        if _xxgemm(trans_b, trans_a, n, m, k, b, ldb, a, lda, beta, c, ldc) != 0:
            raise RuntimeError("gemm: the BLAS call failed")
    return impl
