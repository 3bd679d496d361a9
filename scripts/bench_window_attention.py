"""Window-attention benchmark: the Numba kernel vs masked dense attention (NumPy) and torch SDPA.

Forward + backward of causal sliding-window attention, q, k, v (B, H, T, D), window w, in one run
with pinned threads. The dense peers compute the full T × T scores and mask them (their cost grows
as T² while the kernel's grows as T·w): up to ``--max-dense`` on all heads at once, and up to
``--max-dense-per-head`` on one (batch, head) slice whose time is multiplied by B·H (marked †; the
heads are independent, so this is the same work with one score matrix in memory). Efficiency is
given on the windowed work, 3 × 4·B·H·T·w·D flops (forward 4·B·H·T·w·D, backward about twice that),
against a 2048² sgemm measured first.

    python scripts/bench_window_attention.py                      # T = 1k, 4k and 16k (dense: per head)
    python scripts/bench_window_attention.py --lengths 16384 --max-dense 16384   # all heads: ~10 GB
"""
from __future__ import annotations

import argparse
import os
import sys


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lengths", type=int, nargs="+", default=[1024, 4096, 16384], help="sequence lengths T")
    p.add_argument("--window", type=int, default=256, help="window w (keys t-w+1 .. t)")
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--dim", type=int, default=64, help="head dimension D")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--max-dense", type=int, default=4096, help="largest T for the dense peers on all heads at once")
    p.add_argument("--max-dense-per-head", type=int, default=16384,
                   help="up to this T the dense peers run on one (batch, head) slice, timed × B·H (†): "
                        "a T × T float32 score matrix per head instead of B·H of them")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3, help="timing rounds (best is kept)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    import numpy as np

    from scratch import Tensor
    from scratch.bench import best_time, machine_summary, optional_torch, sgemm_peak_gflops
    from scratch.kernels.window_attention import window_attention
    from scratch.autograd.functional.attention import causal_mask, dense_attention
    from scratch.memory import keep_freed_memory

    keep_freed_memory()  # for every side: the arrays freed every call are reused, not faulted in again
    torch = optional_torch(args.threads)
    peak = sgemm_peak_gflops()
    print(f"# {machine_summary()}; {args.threads} thread(s); sgemm 2048² {peak:.1f} GFLOP/s")
    print(f"# forward+backward, B {args.batch_size}, H {args.heads}, D {args.dim}, w {args.window}, float32")
    print("| T | window kernel ms | % peak | masked dense NumPy ms | torch SDPA (dense mask) ms "
          "| dense / kernel | SDPA / kernel |")
    print("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(args.seed)
    for T in args.lengths:
        shape = (args.batch_size, args.heads, T, args.dim)
        q, k, v, g = (rng.standard_normal(shape, dtype=np.float32) for _ in range(4))

        def kernel():
            window_attention(*(Tensor(x, requires_grad=True) for x in (q, k, v)), args.window).backward(g)

        times = {"kernel": best_time(kernel, repeat=args.repeat, min_seconds=0)}
        slices = 1
        if args.max_dense < T <= args.max_dense_per_head:  # heads are independent: one, B·H times
            slices = args.batch_size * args.heads
            q, k, v, g = (x[:1, :1] for x in (q, k, v, g))
        if T <= max(args.max_dense, args.max_dense_per_head):
            mask = causal_mask(T, args.window)

            def dense():
                dense_attention(*(Tensor(x, requires_grad=True) for x in (q, k, v)), mask=mask).backward(g)

            times["dense"] = slices * best_time(dense, repeat=args.repeat, min_seconds=0)
            if torch is not None:
                torch_mask = torch.from_numpy(mask)

                def sdpa():
                    ts = [torch.tensor(x, requires_grad=True) for x in (q, k, v)]
                    out = torch.nn.functional.scaled_dot_product_attention(*ts, attn_mask=torch_mask)
                    out.backward(torch.from_numpy(g))

                times["sdpa"] = slices * best_time(sdpa, repeat=args.repeat, min_seconds=0)
        flops = 3 * 4 * args.batch_size * args.heads * T * args.window * args.dim
        pct = 100 * flops / times["kernel"] / 1e9 / peak
        mark = "†" if slices > 1 else ""
        cells = [f"{1e3 * times[n]:.1f}{mark if n != 'kernel' else ''}" if n in times else "-"
                 for n in ("kernel", "dense", "sdpa")]
        ratios = [f"{times[n] / times['kernel']:.1f}×" if n in times else "-" for n in ("dense", "sdpa")]
        print(f"| {T} | {cells[0]} | {pct:.1f}% | {cells[1]} | {cells[2]} | {ratios[0]} | {ratios[1]} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
