"""C ← α op(A) op(B) + β C from Numba code: BLAS ``sgemm`` / ``dgemm`` with an output it may accumulate into.

``np.dot`` in Numba returns a new array, so a kernel that adds a product into a slice of a larger
array (``dk[lo:t1] += dsᵀ q``) pays an allocation, a temporary and a second pass over it; ``gemm``
lets BLAS do the sum in place (β = 1) and write into any slice with unit stride along its rows. It
calls the Fortran BLAS that SciPy exports (``scipy.linalg.cython_blas``, the library NumPy's and
Numba's products use too). Arrays are row-major: BLAS, column-major, sees each as its transpose,
so C = op(A) op(B) is computed as Cᵀ = op(B)ᵀ op(A)ᵀ with the operands swapped.
"""
from __future__ import annotations

import numpy as np
from llvmlite import binding
from numba import njit, types
from numba.extending import get_cython_function_address

# registered under names of their own, so compiled kernels refer to them by name and can be cached
for _name in ("sgemm", "dgemm"):
    binding.add_symbol(f"scratch_cython_blas_{_name}", get_cython_function_address("scipy.linalg.cython_blas", _name))
_sgemm = types.ExternalFunction("scratch_cython_blas_sgemm", types.void(*([types.voidptr] * 13)))
_dgemm = types.ExternalFunction("scratch_cython_blas_dgemm", types.void(*([types.voidptr] * 13)))
_NO, _YES = ord("N"), ord("T")


@njit(cache=True)
def _rows_are_contiguous(x):
    return x.size == 0 or x.shape[1] == 1 or x.strides[1] == x.itemsize


@njit(cache=True)
def _leading(x):
    """The leading dimension BLAS wants: the row stride in elements, at least the row length and 1."""
    return max(x.strides[0] // x.itemsize, x.shape[1], 1)


@njit(cache=True)
def gemm(a, b, c, alpha=1.0, beta=0.0, transpose_a=False, transpose_b=False):
    """c ← alpha · op(a) op(b) + beta · c, op(x) = xᵀ when ``transpose_x``; returns c.

    a, b, c: 2-D arrays of one dtype (float32 or float64), each with unit stride along its rows (any
    slice of rows and columns of a C-contiguous array); c must not overlap a or b. With beta = 0
    the old content of c is never read (BLAS's rule), so c may hold anything, NaN included."""
    rows_a, inner = (a.shape[1], a.shape[0]) if transpose_a else (a.shape[0], a.shape[1])
    inner_b, cols_b = (b.shape[1], b.shape[0]) if transpose_b else (b.shape[0], b.shape[1])
    if inner != inner_b or c.shape[0] != rows_a or c.shape[1] != cols_b:
        raise ValueError("gemm: shapes do not match")
    if not (_rows_are_contiguous(a) and _rows_are_contiguous(b) and _rows_are_contiguous(c)):
        raise ValueError("gemm: every array needs unit stride along its rows")
    if c.shape[0] == 0 or c.shape[1] == 0:
        return c
    flags = np.array([_YES if transpose_b else _NO, _YES if transpose_a else _NO], np.uint8)
    sizes = np.array([cols_b, rows_a, inner, _leading(b), _leading(a), _leading(c)], np.int32)
    scalars = np.array([alpha, beta], c.dtype)
    # column-major view: cᵀ (cols × rows) = op(b)ᵀ (cols × inner) · op(a)ᵀ (inner × rows)
    if c.itemsize == 4:
        _sgemm(flags[0:].ctypes, flags[1:].ctypes, sizes[0:].ctypes, sizes[1:].ctypes, sizes[2:].ctypes,
               scalars[0:].ctypes, b.ctypes, sizes[3:].ctypes, a.ctypes, sizes[4:].ctypes,
               scalars[1:].ctypes, c.ctypes, sizes[5:].ctypes)
    else:
        _dgemm(flags[0:].ctypes, flags[1:].ctypes, sizes[0:].ctypes, sizes[1:].ctypes, sizes[2:].ctypes,
               scalars[0:].ctypes, b.ctypes, sizes[3:].ctypes, a.ctypes, sizes[4:].ctypes,
               scalars[1:].ctypes, c.ctypes, sizes[5:].ctypes)
    return c
