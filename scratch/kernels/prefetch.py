"""Software prefetch: ask the CPU to start loading a table row that a kernel will read soon.

A word2vec example or a GloVe record reads a few rows of large tables (for word2vec the input rows of
its context words and the output rows of its target and negative samples), chosen at random from a
vocabulary whose tables need not fit in the caches. Each row that misses waits on main memory, and the
arithmetic on a row is too short for the processor to look far enough ahead by itself. When the rows
of a later example are known before this one is computed, a prefetch of each of them lets those loads
run while this example's arithmetic does.

``prefetch_row(table, row)`` issues LLVM's ``llvm.prefetch`` (a read, kept in all cache levels) for
every 64-byte line of ``table[row, :]`` of a 2-D array whose rows are contiguous;
``prefetch_row_start(table, row)`` for its first line only, and the processor's own prefetcher, which
follows a row read from its start, brings the rest. The word2vec walk prefetches whole rows (first
lines only was not tried there); the GloVe epoch (four rows of 400–800 bytes per record) prefetches
first lines, since whole rows were slower at d = 100 (``docs/glove.md``). Both are hints: they read
and write nothing a program can see, so results do not change. Called from plain Python (and under
``NUMBA_DISABLE_JIT=1``) they do nothing; jitted callers get the instruction (``_prefetch_impl``,
``_prefetch_start_impl``).
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

CACHE_LINE = 64


def prefetch_row(table: np.ndarray, row: int) -> None:
    """A hint that ``table[row, :]`` will be read soon; no effect on any value."""


def prefetch_row_start(table: np.ndarray, row: int) -> None:
    """A hint that ``table[row, :]`` will be read soon, from its start; no effect on any value."""


@intrinsic
def _prefetch_line(typingctx, table, row, column):
    """One ``llvm.prefetch`` (read, high locality, data) of the address of table[row, column]."""
    sig = types.void(table, row, column)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        index = [context.cast(builder, value, kind, types.intp) for value, kind in zip(args[1:], signature.args[1:])]
        address = cgutils.get_item_pointer(context, builder, array_type, array, index, wraparound=False)
        i8_pointer, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(
            ir.VoidType(), [i8_pointer, i32, i32, i32]), "llvm.prefetch.p0i8")
        builder.call(function, [builder.bitcast(address, i8_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@overload(prefetch_row, jit_options={"cache": True})
def _prefetch_impl(table, row):
    if not (isinstance(table, types.Array) and table.ndim == 2 and isinstance(row, types.Integer)):
        return None
    step = max(1, CACHE_LINE * 8 // table.dtype.bitwidth)  # elements per cache line

    def impl(table, row):
        for column in range(0, table.shape[1], step):
            _prefetch_line(table, row, column)
    return impl


@overload(prefetch_row_start, jit_options={"cache": True})
def _prefetch_start_impl(table, row):
    if not (isinstance(table, types.Array) and table.ndim == 2 and isinstance(row, types.Integer)):
        return None

    def impl(table, row):
        if table.shape[1] > 0:
            _prefetch_line(table, row, 0)
    return impl
