"""The benchmarks name the OpenBLAS kernel NumPy runs: with threadpoolctl, and from the variable without it."""
import os
import subprocess
import sys

import pytest

CORE = "from scratch.bench.timing import blas_kernel; print(blas_kernel())"
BLOCK_THREADPOOLCTL = "import sys; sys.modules['threadpoolctl'] = None; "


def kernel_name(code: str, **env: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_blas_kernel_follows_openblas_coretype():
    pytest.importorskip("threadpoolctl")
    # OpenBLAS runs the core type the variable names (Haswell: any x86-64 CPU with AVX2)
    assert kernel_name(CORE, OPENBLAS_CORETYPE="Haswell") == "Haswell"


def test_blas_kernel_without_threadpoolctl_reads_the_variable():
    assert kernel_name(BLOCK_THREADPOOLCTL + CORE, OPENBLAS_CORETYPE="Haswell") == "Haswell (OPENBLAS_CORETYPE)"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    result = subprocess.run([sys.executable, "-c", BLOCK_THREADPOOLCTL + CORE], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.stdout.strip() == "not known (threadpoolctl not installed)"
