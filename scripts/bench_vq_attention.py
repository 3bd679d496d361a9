"""Benchmark VQ attention against the quadratic reference (and torch SDPA when installed), single thread.

Per-token time of attention forward and forward+backward for T = 1k … 32k (B = 1, D_k = 64, D_v = 128,
L = S = 128, W = L, float32; the VQ timing includes nothing but the attention: codes are given), the
speedup over the quadratic reference at 16k (measured up to ``--max-quadratic`` and extrapolated
linearly in T per token beyond: its per-token cost is O(T)), and the per-token decoding time of the
constant-state path at contexts 1k and 16k. Efficiency is stated against a 2048² sgemm, measured before
every length (the best of these is the peak: on a shared machine a single measurement can be low).

    OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python scripts/bench_vq_attention.py
"""
from __future__ import annotations

import argparse
import copy
import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from scratch import Tensor  # noqa: E402
from scratch.bench import best_time, machine_summary, optional_torch, sgemm_peak_gflops  # noqa: E402
from scratch.kernels.vq_attention import (DEFAULT_IMPLEMENTATION, IMPLEMENTATIONS, VQDecoder, WindowBias,  # noqa: E402
                                          quadratic_vq_attention, vq_attention)
from scratch.memory import keep_freed_memory  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lengths", type=int, nargs="+", default=[1024, 2048, 4096, 8192, 16384, 32768])
    p.add_argument("--max-quadratic", type=int, default=4096, help="longest T for the quadratic reference")
    p.add_argument("--max-torch", type=int, default=8192, help="longest T for torch SDPA (when installed)")
    p.add_argument("--d-k", type=int, default=64)
    p.add_argument("--d-v", type=int, default=128)
    p.add_argument("--block", type=int, default=128)
    p.add_argument("--codebook-size", type=int, default=128)
    p.add_argument("--implementation", choices=IMPLEMENTATIONS, default=DEFAULT_IMPLEMENTATION,
                   help="the Numba kernel or its NumPy reference")
    p.add_argument("--decode-contexts", type=int, nargs="+", default=[1024, 16384])
    p.add_argument("--repeat", type=int, default=5, help="rounds per timing; the best one counts")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="optional file for the table")
    return p.parse_args(argv)


def problem(T, args, rng):
    codebook = rng.standard_normal((args.codebook_size, args.d_k), dtype=np.float32) / args.d_k ** 0.25
    codes = rng.integers(0, args.codebook_size, (1, T))
    q = rng.standard_normal((1, T, args.d_k), dtype=np.float32) / args.d_k ** 0.25
    v = rng.standard_normal((1, T, args.d_v), dtype=np.float32)
    bias = WindowBias(*(rng.standard_normal(shape, dtype=np.float32) * 0.1
                        for shape in ((args.d_k,), (args.d_k,), (args.block + 1, args.d_k))))
    return q, codebook[codes], v, codes, codebook, bias


def timings(attention, T, args, rng, **kw):
    """(forward, forward+backward) seconds per call."""
    q, k, v, codes, codebook, bias = problem(T, args, rng)
    grad = rng.standard_normal(v.shape, dtype=np.float32)
    forward = best_time(lambda: attention(q, k, v, codes, codebook, block=args.block, window_bias=bias, **kw),
                        repeat=args.repeat, min_seconds=0.1)
    inputs = [Tensor(x, requires_grad=True) for x in (q, k, v)]

    def both():
        out = attention(*inputs, codes, codebook, block=args.block, window_bias=bias, **kw)
        out.backward(grad)
    return forward, best_time(both, repeat=args.repeat, min_seconds=0.1)


def torch_timings(torch, T, args, rng):
    q = torch.randn(1, 1, T, args.d_k)
    k = torch.randn(1, 1, T, args.d_k)
    v = torch.randn(1, 1, T, args.d_v)
    sdpa = torch.nn.functional.scaled_dot_product_attention
    with torch.no_grad():
        forward = best_time(lambda: sdpa(q, k, v, is_causal=True), repeat=3, min_seconds=0.1)
    qs, ks, vs = (x.clone().requires_grad_() for x in (q, k, v))
    return forward, best_time(lambda: sdpa(qs, ks, vs, is_causal=True).sum().backward(), repeat=3, min_seconds=0.1)


def vq_flops_per_token(args) -> float:
    """Forward: scores over 2L window + S cache slots and the W+1 bias columns, then mixing 2L + S values."""
    L, S = args.block, args.codebook_size
    return 2 * ((2 * L + S) * args.d_k + (L + 1) * args.d_k + (2 * L + S) * args.d_v)


def decode_time(context, args, rng) -> float:
    """Seconds per token of ``VQDecoder.step`` after ``context`` tokens."""
    q, k, v, codes, codebook, bias = problem(context + 64, args, rng)
    decoder = VQDecoder(codebook, bias, batch=1, dim_v=args.d_v)
    for t in range(context):
        decoder.step(q[:, t], k[:, t], v[:, t], codes[:, t])

    def next_64():
        state = copy.deepcopy(decoder)
        for t in range(context, context + 64):
            state.step(q[:, t], k[:, t], v[:, t], codes[:, t])
    return best_time(next_64, repeat=3, min_seconds=0.2) / 64


def quadratic_cells(T: int, measured: dict) -> tuple[tuple[float, float] | None, list[str]]:
    """The quadratic reference's (fwd, fwd+bwd) seconds per token at length T and their table cells: measured
    at T, else extrapolated from the longest measured length (time ∝ T²), else none ("–")."""
    if T in measured:
        quad = tuple(x / T for x in measured[T])
        return quad, [f"{1e6 * x:.1f}" for x in quad]
    if not measured:  # --max-quadratic below every length: nothing to extrapolate from
        return None, ["–", "–"]
    longest = max(measured)
    quad = tuple(x / longest * (T / longest) for x in measured[longest])
    return quad, [f"~{1e6 * x:.0f} (extrapolated)" for x in quad]


def main(argv=None) -> None:
    args = parse_args(argv)
    keep_freed_memory()  # for every side: the arrays freed every call are reused, not faulted in again
    rng = np.random.default_rng(args.seed)
    torch = optional_torch(1)
    vq_attention(*problem(256, args, rng)[:5], block=args.block, implementation=args.implementation)  # compile
    peaks, measured, measured_quadratic, peer = [], {}, {}, {}
    for T in args.lengths:
        peaks.append(sgemm_peak_gflops())  # before every length: the best of them is the peak on a shared machine
        measured[T] = timings(vq_attention, T, args, rng, implementation=args.implementation)
        if T <= args.max_quadratic:
            measured_quadratic[T] = timings(quadratic_vq_attention, T, args, rng)
        if torch is not None and T <= args.max_torch:
            peer[T] = [f"{1e6 * x / T:.1f}" for x in torch_timings(torch, T, args, rng)]
        print(f"T={T}: VQ fwd+bwd {1e6 * measured[T][1] / T:.2f} µs per token", file=sys.stderr, flush=True)
    peak = max(peaks)
    lines = [machine_summary(), f"sgemm 2048² peak, 1 thread: {peak:.1f} GFLOP/s (best of {len(peaks)} measurements "
             f"between the lengths; lowest {min(peaks):.1f})",
             f"B=1, D_k={args.d_k}, D_v={args.d_v}, L=W={args.block}, S={args.codebook_size}, float32; µs per token",
             "", "| T | VQ fwd | VQ fwd+bwd | VQ % peak (fwd+bwd) | quadratic fwd | quadratic fwd+bwd "
             "| torch SDPA fwd | torch SDPA fwd+bwd | quadratic / VQ (fwd+bwd) |", "|---" * 9 + "|"]
    for T, (vq_f, vq_fb) in measured.items():
        percent = 100 * 3 * vq_flops_per_token(args) / (vq_fb / T) / 1e9 / peak
        quad, quad_text = quadratic_cells(T, measured_quadratic)
        ratio = "–" if quad is None else f"{quad[1] / (vq_fb / T):.1f}×"
        torch_text = peer.get(T, ["–", "–"])
        lines.append(f"| {T} | {1e6 * vq_f / T:.2f} | {1e6 * vq_fb / T:.2f} | {percent:.1f}% | {quad_text[0]} | "
                     f"{quad_text[1]} | {torch_text[0]} | {torch_text[1]} | {ratio} |")
    shortest, longest = min(measured), max(measured)
    lines.append(f"\nVQ fwd+bwd per token, T={longest} / T={shortest}: "
                 f"{measured[longest][1] / longest / (measured[shortest][1] / shortest):.2f}")
    decode = {c: decode_time(c, args, rng) for c in args.decode_contexts}
    lines.append("decoding (VQDecoder.step, B=1), µs per token: " +
                 ", ".join(f"context {c}: {1e6 * t:.1f}" for c, t in decode.items()) +
                 f"; ratio {decode[max(decode)] / decode[min(decode)]:.2f}")
    print("\n".join(lines))
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
