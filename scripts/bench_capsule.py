"""Capsule benchmark, side by side in one run: the routing kernel and a whole training step.

1. Routing forward+backward at Su's shapes (B 128, K 10, N 64 and 176, D 16, r 3, float32): the
   Numba kernel vs its NumPy reference vs the same routing written in torch (eager autograd).
   FLOPs counted: per iteration 2·B·K·N·D for s and again for the agreements (none in the last),
   backward as twice the forward.
2. One training step (forward, margin loss, backward, Adam) of Su's capsule net and of the CNN
   baseline, ours vs the same model in torch CPU eager, as images/s.

Threads are pinned to ``--threads`` before NumPy, Numba and torch start; the machine's sgemm peak
(2048², float32) is measured first and every rate is also given as % of it.

    python scripts/bench_capsule.py                        # 1 thread, widths 16-16-32-32 and 64-64-128-128
"""
from __future__ import annotations

import argparse
import os


THREADS = argparse.ArgumentParser(add_help=False)
THREADS.add_argument("--threads", type=int, default=1, help="BLAS, Numba and torch threads")


def pin_threads(argv=None) -> None:
    """Set the thread counts from ``--threads`` before NumPy, Numba and torch are imported."""
    threads = THREADS.parse_known_args(argv)[0].threads
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(threads)


def parse_args(argv=None) -> argparse.Namespace:
    from scratch.kernels.routing import DEFAULT_ITERATIONS, MODES
    from scratch.models.capsule import SMALL_WIDTHS, SU_WIDTHS

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[THREADS],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS, help="routing iterations r")
    p.add_argument("--mode", default="su2", choices=list(MODES))
    p.add_argument("--inputs", nargs="+", type=int, default=[64, 176],
                   help="input capsule counts N (64 on 28×28 images, 176 on 56×28)")
    p.add_argument("--widths", nargs="+", default=["-".join(map(str, w)) for w in (SMALL_WIDTHS, SU_WIDTHS)],
                   help="conv widths of step 2")
    p.add_argument("--repeat", type=int, default=5, help="timing rounds (best is kept)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> None:
    pin_threads(argv)
    args = parse_args(argv)
    import numpy as np

    from scratch import tensor
    from scratch.bench import best_time, machine_summary, optional_torch, sgemm_peak_gflops
    from scratch.kernels.routing import route
    from scratch.memory import keep_freed_memory
    from scratch.models.capsule import build_model
    from scratch.optim import Adam
    keep_freed_memory()  # for both sides: the arrays freed every call are reused, not faulted in again
    torch = optional_torch(args.threads)
    if torch is not None:
        from scratch.crosscheck.torch_reference.capsule import margin_loss as torch_margin_loss, torch_model, torch_route

    peak = sgemm_peak_gflops()
    print(machine_summary() + (f", torch {torch.__version__}" if torch else ", torch not installed"))
    print(f"threads {args.threads}; sgemm 2048² peak {peak:.1f} GFLOP/s\n")
    rng = np.random.default_rng(args.seed)
    b, k, d, r = args.batch_size, 10, 16, args.iterations

    print(f"1. routing forward+backward, mode {args.mode}, r {r}, B {b}, K {k}, D {d}, float32")
    print("| N | ours (Numba) ms | NumPy reference ms | torch eager ms | reference / ours | torch / ours | ours GFLOP/s (% peak) |")
    print("|---|---|---|---|---|---|---|")
    for n in args.inputs:
        u_np = rng.normal(size=(b, k, n, d)).astype(np.float32)
        grad = rng.normal(size=(b, k, d)).astype(np.float32)

        def ours(implementation):
            u = tensor(u_np, requires_grad=True)
            route(u, r, mode=args.mode, implementation=implementation).backward(grad)

        times = {impl: best_time(lambda impl=impl: ours(impl), repeat=args.repeat) for impl in ("numba", "numpy")}
        if torch is not None:
            u_t, g_t = torch.from_numpy(u_np), torch.from_numpy(grad)

            def theirs():
                u = u_t.clone().requires_grad_(True)
                torch_route(u, r, args.mode, 0.5).backward(g_t)

            times["torch"] = best_time(theirs, repeat=args.repeat)
        flops = 3 * 2 * b * k * n * d * (2 * r - 1)
        torch_cells = (f"{1e3 * times['torch']:.2f}", f"{times['torch'] / times['numba']:.2f}×") if torch else ("-", "-")
        gflops = flops / times["numba"] / 1e9
        print(f"| {n} | {1e3 * times['numba']:.2f} | {1e3 * times['numpy']:.2f} | {torch_cells[0]} | "
              f"{times['numpy'] / times['numba']:.2f}× | {torch_cells[1]} | {gflops:.2f} ({100 * gflops / peak:.1f}%) |")

    print(f"\n2. training step (forward, margin loss, backward, Adam), B {b}, 28×28 images, float32")
    print("| model | widths | ours img/s | torch eager img/s | ours / torch time |")
    print("|---|---|---|---|---|")
    x = rng.uniform(size=(b, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, size=b)
    for spec in args.widths:
        widths = tuple(int(w) for w in spec.split("-"))
        for name in ("capsule", "cnn"):
            model = build_model(args.mode if name == "capsule" else "cnn", widths, iterations=r, rng=rng)
            optimizer = Adam(model.parameters())

            def ours_step():
                loss = model.loss(x, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

            t_ours = best_time(ours_step, repeat=args.repeat, min_seconds=0.5)
            cells = ("-", "-")
            if torch is not None:
                net = torch_model(name, widths, r, args.mode)
                opt = torch.optim.Adam(net.parameters())
                x_t, t_t = torch.from_numpy(x[:, None]), torch.from_numpy(np.eye(10, dtype=np.float32)[y])

                def torch_step():
                    loss = torch_margin_loss(net(x_t), t_t)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()

                t_torch = best_time(torch_step, repeat=args.repeat, min_seconds=0.5)
                cells = (f"{b / t_torch:.0f}", f"{t_ours / t_torch:.2f}×")
            print(f"| {name} | {spec} | {b / t_ours:.0f} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
