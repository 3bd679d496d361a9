"""Engine benchmark: the machine's peak, per-op overhead, and MLP / conv-net training steps vs torch.

All figures come from one run with pinned threads, so the ratios compare like with like on a noisy
shared machine. torch (CPU, eager) is the peer when installed.

    python scripts/bench.py              # 1 thread
    python scripts/bench.py --threads 2
"""
from __future__ import annotations

import argparse
import os
import sys


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    # Thread pools read these when NumPy / Numba first load, so they are set before importing them.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    import numpy as np

    from scratch.bench import best_time, engine, machine_summary, optional_torch, sgemm_peak_gflops

    torch = optional_torch(args.threads)
    if torch is None:
        print("torch is not installed: only scratch's own figures are printed", file=sys.stderr)

    peak = sgemm_peak_gflops()
    print(f"# {machine_summary()}; {args.threads} thread(s)")
    print(f"# sgemm 2048²: {peak:.1f} GFLOP/s (the peak used for %)")
    print(f"{'case':<34}{'scratch':>12}{'torch':>12}{'ratio':>8}{'% peak':>8}")
    rng = np.random.default_rng(args.seed)
    for case in engine.cases(args.batch_size, rng, torch):
        ours = best_time(case.scratch)
        theirs = best_time(case.torch) if case.torch is not None else float("nan")
        pct = f"{100 * case.flops / ours / 1e9 / peak:.1f}" if case.flops else "-"
        print(f"{case.name:<34}{_fmt(ours):>12}{_fmt(theirs):>12}{ours / theirs:>8.2f}{pct:>8}")
    return 0


def _fmt(seconds: float) -> str:
    if seconds != seconds:
        return "-"
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


if __name__ == "__main__":
    sys.exit(main())
