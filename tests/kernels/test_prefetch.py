"""``prefetch_row`` is a hint: jitted or not, over any row of any 2-D table, it changes nothing."""
import platform

import numpy as np
import pytest
from numba import config, njit
from numba.core.errors import TypingError

from scratch.kernels.prefetch import prefetch_row


@njit(cache=True)
def _prefetch_every_row(table):
    for row in range(table.shape[0]):
        prefetch_row(table, row)
    return table.shape[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("columns", [1, 15, 16, 17, 100])
def test_prefetching_every_row_changes_nothing(rng, dtype, columns):
    """Rows shorter and longer than a cache line, with and without a partial last line."""
    table = (rng.standard_normal((37, columns)) * 100).astype(dtype)
    before = table.copy()
    assert _prefetch_every_row(table) == 37
    assert _prefetch_every_row(table[5:9]) == 4
    np.testing.assert_array_equal(table, before)


def test_from_python_it_is_a_no_op(rng):
    table = rng.standard_normal((3, 4))
    before = table.copy()
    assert prefetch_row(table, 2) is None
    np.testing.assert_array_equal(table, before)


@pytest.mark.skipif(config.DISABLE_JIT, reason="types are checked when a caller is compiled")
def test_a_table_that_is_not_two_dimensional_is_refused():
    with pytest.raises(TypingError):
        _prefetch_every_row(np.zeros(4))


@pytest.mark.skipif(config.DISABLE_JIT or platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="reads the x86 machine code of a compiled caller")
def test_a_jitted_caller_issues_read_prefetches_into_every_cache_level():
    """x86 has one prefetch instruction per hint: ``prefetcht0`` is a read kept in every cache level; a
    write prefetch (``prefetchw``) or one that bypasses the caches (``prefetchnta``) is another hint."""
    compiled = njit(_prefetch_every_row.py_func)  # not from the on-disk cache, which keeps no machine code
    compiled(np.zeros((2, 16), np.float32))
    code = "\n".join(compiled.inspect_asm().values())
    assert "prefetcht0" in code
    assert "prefetchw" not in code and "prefetchnta" not in code
