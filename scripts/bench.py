"""Benchmarks: the engine here, and each model's hot loops and training through its section.

The engine section measures the machine's peak, per-op overhead, and MLP / conv-net / Transformer LM
training steps vs torch. All figures come from one run with pinned threads, each case alternating
scratch and torch, so the ratios compare like with like on a noisy shared machine. torch (CPU, eager) is the peer when installed.

    python scripts/bench.py                      # the engine, 1 thread
    python scripts/bench.py --threads 2
    python scripts/bench.py word2vec --help      # a model's section: the options of its own script

Sections (each runs ``scripts/bench_<name>.py`` with the arguments that follow it): word2vec (vs
gensim), glove (vs the Stanford C tool), capsule (routing kernel and training vs torch), attention
(the window kernel vs dense attention and SDPA), vq_attention, perturb_max.
"""
from __future__ import annotations

import argparse
import os
import sys


DEFAULT_THREADS = 1
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def pin_threads(argv: list[str]) -> int:
    """Pin BLAS and Numba to the ``--threads`` of ``argv`` before NumPy and Numba load (they read the
    environment once); the benchmark scripts call it first. Returns the thread count."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    threads = early.parse_known_args(argv)[0].threads
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    return threads


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="BLAS / torch threads")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


SECTIONS = {"word2vec": "bench_word2vec.py", "glove": "bench_glove.py", "capsule": "bench_capsule.py",
            "attention": "bench_window_attention.py", "vq_attention": "bench_vq_attention.py",
            "perturb_max": "bench_perturb_max.py"}


def run_section(name: str, argv: list[str]) -> int:
    """Run a model's benchmark script as if it were called directly with ``argv``."""
    import runpy
    from pathlib import Path

    script = Path(__file__).with_name(SECTIONS[name])
    sys.argv = [str(script), *argv]
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in SECTIONS:
        return run_section(argv[0], argv[1:])
    if argv and argv[0] == "engine":
        argv = argv[1:]
    pin_threads(argv)
    args = parse_args(argv)
    import numpy as np

    from scratch.bench import engine, machine_summary, optional_torch, sgemm_peak_gflops
    from scratch.memory import keep_freed_memory

    keep_freed_memory()  # for both sides: the arrays freed every step are reused, not faulted in again
    torch = optional_torch(args.threads)
    if torch is None:
        print("torch is not installed: only scratch's own figures are printed", file=sys.stderr)

    peak = sgemm_peak_gflops()
    print(f"# {machine_summary()}; {args.threads} thread(s)")
    print(f"# sgemm 2048²: {peak:.1f} GFLOP/s (the peak used for %)")
    print(f"{'case':<34}{'scratch':>12}{'torch':>12}{'ratio':>8}{'% peak':>8}")
    rng = np.random.default_rng(args.seed)
    for case in engine.cases(args.batch_size, rng, torch):
        ours, theirs = engine.time_case(case)
        pct = f"{100 * case.flops / ours / 1e9 / peak:.1f}" if case.flops else "-"
        print(f"{case.name:<34}{_fmt(ours):>12}{_fmt(theirs):>12}{ours / theirs:>8.2f}{pct:>8}")
    return 0


def _fmt(seconds: float) -> str:
    if seconds != seconds:
        return "-"
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


if __name__ == "__main__":
    sys.exit(main())
