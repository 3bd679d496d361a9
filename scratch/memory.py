"""Keeping freed memory for reuse: glibc's malloc told to hold large freed blocks for the next step.

A training step allocates and frees the same large arrays every time: activations, gradients, a
kernel's outputs. glibc's malloc hands the operating system such memory back in two ways. A block
above its mmap threshold (128 KiB at start, raised as large blocks are freed, to 32 MiB at most) gets
a mapping of its own, unmapped when freed; and free memory at the top of its heap is released once
it exceeds the trim threshold (twice the mmap threshold). Either way the next step's arrays are
mapped anew, and the operating system zero-fills each 4 KiB page on first touch: thousands of page
faults a step. With two threads in the process each unmapping also interrupts the other core, to
flush its address cache, and this cost does not shrink with threads. Measured here (AMD EPYC, 2 cores,
Linux, glibc 2.36), per call: window attention fwd+bwd at T = 4k, 2,028 page faults and 7 ms of
system time on one thread but 25–52 ms on two; routing (B 64, 1152 → 10 capsules) 279 faults, its
47 MiB gradient above the 32 MiB cap; the conv-net step of ``bench.py`` 2,500–5,900 faults.

``keep_freed_memory()`` fixes both thresholds (``mallopt``: ``M_MMAP_THRESHOLD`` 1 GiB,
``M_TRIM_THRESHOLD`` 2 GiB − 1): freed blocks stay in the heap and the next allocation of their size
reuses them, with no page fault. The cost is that the process keeps its peak memory until it exits,
which suits a training run. The training, reproduction and benchmark scripts call it at the start of
``main``; nothing in the package calls it, and a program of your own may call it once at its start.
Where malloc is not glibc's (macOS, Windows, musl) it does nothing and returns False.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Callable

from .validation import integer

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 30  # blocks up to 1 GiB come from the heap
TRIM_THRESHOLD = (1 << 31) - 1  # the largest value of mallopt's int: release nothing below 2 GiB of free top


def keep_freed_memory(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Make glibc's malloc keep freed memory for reuse (see the module docstring); True if it was set.

    ``mmap_threshold``: blocks up to this many bytes come from the heap (glibc's own limit may be
    lower; then its 32 MiB cap is used); ``trim_threshold``: free bytes at the top of the heap kept
    rather than returned. Both at most 2³¹ − 1 (``mallopt`` takes an int).
    """
    integer("mmap_threshold", mmap_threshold, minimum=1, maximum=TRIM_THRESHOLD)
    integer("trim_threshold", trim_threshold, minimum=1, maximum=TRIM_THRESHOLD)
    mallopt = _mallopt()
    if mallopt is None:
        return False
    mapped = mallopt(M_MMAP_THRESHOLD, mmap_threshold) or mallopt(M_MMAP_THRESHOLD, min(mmap_threshold, 1 << 25))
    return bool(mapped) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))


@functools.lru_cache(maxsize=1)
def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``int mallopt(int, int)``, or None where the C library has no such function."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else ctypes.CDLL(None)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # glibc's own: musl also has a mallopt, which ignores its arguments
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt
