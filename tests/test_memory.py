"""keep_freed_memory: freed arrays are reused without page faults (glibc), and a no-op elsewhere.

The allocator setting is process-wide, so the fault counts are taken in a fresh interpreter.
"""
import subprocess
import sys
import textwrap

import pytest

from scratch import memory

GLIBC = memory._mallopt() is not None

# Three rounds of allocating, filling and freeing a 64 MiB array (above glibc's 32 MiB cap on the
# mmap threshold) and then a 12 MiB one beside a 4 MiB one freed first (memory at the top of the heap):
# the page faults of the last round, after keep_freed_memory() or without it.
PROBE = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from scratch.memory import keep_freed_memory
    kept = keep_freed_memory() if sys.argv[1] == "keep" else None

    def step():
        big = np.ones(1 << 24, dtype=np.float32)
        small = np.ones(1 << 20, dtype=np.float32)
        del big, small
        top = np.ones(3 << 20, dtype=np.float32)
        del top

    for _ in range(2):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    step()
    print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def _probe(mode):
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True).stdout
    kept, faults = out.split()
    return kept, int(faults)


@pytest.mark.skipif(not GLIBC, reason="malloc is not glibc's")
def test_freed_arrays_are_reused_without_page_faults():
    kept, faults = _probe("keep")
    assert kept == "True"
    assert faults < 16
    _, default_faults = _probe("default")
    # the default returns them, and each round faults them in again: at least the 64 MiB block's 32 huge
    # pages of 2 MiB (16,384 pages of 4 KiB without transparent huge pages; 544 faults in all on ours)
    assert default_faults >= 32


def test_without_glibc_it_does_nothing(monkeypatch):
    monkeypatch.setattr(memory, "_mallopt", lambda: None)
    assert memory.keep_freed_memory() is False


@pytest.mark.parametrize("name, value", [("mmap_threshold", 0), ("mmap_threshold", 1 << 31),
                                         ("trim_threshold", -5), ("trim_threshold", 2.5)])
def test_thresholds_out_of_range_are_refused_by_name(name, value):
    with pytest.raises(ValueError, match=name):
        memory.keep_freed_memory(**{name: value})
