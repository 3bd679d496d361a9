"""``prefetch_row`` and ``prefetch_row_start`` are hints: jitted or not, over any row of any 2-D table, they
change nothing."""
import platform

import numpy as np
import pytest
from numba import config, njit
from numba.core.errors import TypingError

from scratch.kernels.prefetch import prefetch_row, prefetch_row_start


@njit(cache=True)
def _prefetch_every_row(table):
    for row in range(table.shape[0]):
        prefetch_row(table, row)
    return table.shape[0]


@njit(cache=True)
def _prefetch_every_row_start(table):
    for row in range(table.shape[0]):
        prefetch_row_start(table, row)
    return table.shape[0]


CALLERS = [_prefetch_every_row, _prefetch_every_row_start]


@pytest.mark.parametrize("caller", CALLERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("columns", [0, 1, 15, 16, 17, 100])
def test_prefetching_every_row_changes_nothing(rng, caller, dtype, columns):
    """Empty rows, and rows shorter and longer than a cache line, with and without a partial last line."""
    table = (rng.standard_normal((37, columns)) * 100).astype(dtype)
    before = table.copy()
    assert caller(table) == 37
    assert caller(table[5:9]) == 4
    np.testing.assert_array_equal(table, before)


@pytest.mark.parametrize("hint", [prefetch_row, prefetch_row_start])
def test_from_python_it_is_a_no_op(rng, hint):
    table = rng.standard_normal((3, 4))
    before = table.copy()
    assert hint(table, 2) is None
    np.testing.assert_array_equal(table, before)


@pytest.mark.skipif(config.DISABLE_JIT, reason="types are checked when a caller is compiled")
@pytest.mark.parametrize("caller", CALLERS, ids=lambda f: f.__name__)
def test_a_table_that_is_not_two_dimensional_is_refused(caller):
    with pytest.raises(TypingError):
        caller(np.zeros(4))


@pytest.mark.skipif(config.DISABLE_JIT or platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="reads the x86 machine code of a compiled caller")
@pytest.mark.parametrize("caller", CALLERS, ids=lambda f: f.__name__)
def test_a_jitted_caller_issues_read_prefetches_into_every_cache_level(caller):
    """x86 has one prefetch instruction per hint: ``prefetcht0`` is a read kept in every cache level; a
    write prefetch (``prefetchw``) or one that bypasses the caches (``prefetchnta``) is another hint."""
    compiled = njit(caller.py_func)  # not from the on-disk cache, which keeps no machine code
    compiled(np.zeros((2, 16), np.float32))
    code = "\n".join(compiled.inspect_asm().values())
    assert "prefetcht0" in code
    assert "prefetchw" not in code and "prefetchnta" not in code
