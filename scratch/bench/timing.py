"""Timing helpers shared by the benchmark scripts: best-of-N timing and the machine's sgemm peak.

Thread counts must be pinned before NumPy, Numba or torch start their pools: benchmark scripts set
OPENBLAS_NUM_THREADS / NUMBA_NUM_THREADS before importing them (``import scratch`` imports NumPy).
"""
from __future__ import annotations

import os
import platform
import time
from typing import Callable


def best_time(fn: Callable[[], object], *, repeat: int = 5, min_seconds: float = 0.2, warmup: int = 1) -> float:
    """Best over ``repeat`` rounds of the mean time per call, each round lasting ≥ ``min_seconds``.

    The minimum is the figure least disturbed by other processes on a shared machine.
    """
    for _ in range(warmup):
        fn()
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds or number >= 1 << 20:
            break
        number *= 2
    best = elapsed / number
    for _ in range(repeat - 1):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def sgemm_peak_gflops(n: int = 2048) -> float:
    """Achieved GFLOP/s of an n×n float32 matrix product (2n³ flops): the practical FP32 peak."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    return 2 * n**3 / best_time(lambda: a @ b, repeat=3, min_seconds=0.5) / 1e9


def blas_kernel() -> str:
    """The OpenBLAS core type NumPy's matrix products run ("Haswell", "SkylakeX", …).

    OpenBLAS picks it from the CPU unless ``OPENBLAS_CORETYPE`` names one; on an AVX-512 machine the AVX2
    "Haswell" kernel reaches about half the sgemm rate of "SkylakeX", so every "% of peak" and every ratio
    to a peer with its own BLAS (torch) depends on it. Read through threadpoolctl (the ``bench`` extra)
    when it is installed, else from the variable when it is set.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        forced = os.environ.get("OPENBLAS_CORETYPE")
        return f"{forced} (OPENBLAS_CORETYPE)" if forced else "not known (threadpoolctl not installed)"
    import numpy  # noqa: F401  (loads NumPy's OpenBLAS, so threadpoolctl sees it)

    cores = [pool.get("architecture") or "?" for pool in threadpool_info()
             if pool.get("internal_api") == "openblas" and "numpy" in pool.get("filepath", "")]
    return cores[0] if cores else "not known"


def machine_summary() -> str:
    """One line naming the CPU, Python, the library versions and the BLAS kernel that matter for the figures."""
    import numba
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, NumPy {np.__version__}, "
            f"Numba {numba.__version__}; OpenBLAS kernel {blas_kernel()}")


def optional_torch(threads: int):
    """The torch module with ``threads`` intra-op threads, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch
