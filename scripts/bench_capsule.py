"""Capsule benchmark, side by side in one run: the routing kernel and a whole training step.

1. Routing forward+backward at Su's shapes (B 128, K 10, N 64 and 176, D 16, r 3, float32): the
   Numba kernel vs its NumPy reference vs the same routing written in torch (eager autograd).
   FLOPs counted: per iteration 2·B·K·N·D for s and again for the agreements (none in the last),
   backward as twice the forward.
2. One training step (forward, margin loss, backward, Adam) of Su's capsule net and of the CNN
   baseline, ours vs the same model in torch CPU eager, as images/s.
3. The conv stack's four 3 × 3 convolutions, forward + backward (no input gradient for the first, as
   in training): the three kernels (per-offset products, per-image patches, Winograd's), the engine's
   im2col (their twin) and torch.
   FLOPs counted as the direct sum's, 2·B·O·C·9·H'·W' per pass, three passes (two for the first).

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
    p.add_argument("--skip", nargs="*", default=[], choices=["routing", "steps", "layers"], help="sections to leave out")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> None:
    pin_threads(argv)
    args = parse_args(argv)
    import numpy as np

    from scratch.bench import machine_summary, optional_torch, sgemm_peak_gflops
    from scratch.memory import keep_freed_memory
    keep_freed_memory()  # for both sides: the arrays freed every call are reused, not faulted in again
    torch = optional_torch(args.threads)

    peak = sgemm_peak_gflops()
    print(machine_summary() + (f", torch {torch.__version__}" if torch else ", torch not installed"))
    print(f"threads {args.threads}; sgemm 2048² peak {peak:.1f} GFLOP/s\n")
    rng = np.random.default_rng(args.seed)
    if "routing" not in args.skip:
        bench_routing(args, rng, peak, torch)
    if "steps" not in args.skip:
        bench_steps(args, rng, torch)
    if "layers" not in args.skip:
        bench_layers(args, rng, torch)


def bench_routing(args, rng, peak, torch) -> None:
    import numpy as np

    from scratch import tensor
    from scratch.bench import best_time
    from scratch.kernels.routing import route
    if torch is not None:
        from scratch.crosscheck.torch_reference.capsule import torch_route
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



def bench_steps(args, rng, torch) -> None:
    import numpy as np

    from scratch.bench import best_time
    from scratch.models.capsule import build_model
    from scratch.optim import Adam
    if torch is not None:
        from scratch.crosscheck.torch_reference.capsule import margin_loss as torch_margin_loss, torch_model
    b, r = args.batch_size, args.iterations
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


def bench_layers(args, rng, torch) -> None:
    import numpy as np

    from scratch import tensor
    from scratch.autograd import functional as F
    from scratch.bench import best_time
    from scratch.kernels import conv
    b = args.batch_size
    print(f"\n3. the conv stack's 3×3 convolutions, forward + backward, B {b}, float32, "
          "ms (GFLOP/s of the direct sum)")
    print("| C → O | input | offsets | patches | Winograd | engine (im2col) | torch | torch / best of ours |")
    print("|---|---|---|---|---|---|---|---|")
    for spec in args.widths:
        widths = (1,) + tuple(int(w) for w in spec.split("-"))
        for c, o, size in zip(widths, widths[1:], (28, 26, 12, 10)):
            x = rng.normal(size=(b, c, size, size)).astype(np.float32)
            w = (rng.normal(size=(o, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
            bias = np.zeros(o, np.float32)
            g = rng.normal(size=(b, o, size - 2, size - 2)).astype(np.float32)
            passes = 2 if c == 1 else 3
            flops = passes * 2 * b * o * c * 9 * (size - 2) ** 2

            def ours(function):
                leaves = tensor(x, requires_grad=c > 1), tensor(w, requires_grad=True), tensor(bias, requires_grad=True)
                function(*leaves).backward(g)

            runs = {"offsets": lambda *t: conv.conv2d(*t, algorithm="offsets"),
                    "patches": lambda *t: conv.conv2d(*t, algorithm="patches"),
                    "winograd": lambda *t: conv.conv2d(*t, algorithm="winograd"),
                    "engine": lambda *t: F.conv2d(*t)}
            times = {name: best_time(lambda f=f: ours(f), repeat=args.repeat) for name, f in runs.items()}
            cells = [f"{1e3 * t:.1f} ({flops / t / 1e9:.0f})" for t in times.values()]
            if torch is not None:
                x_t, w_t, b_t, g_t = (torch.from_numpy(a) for a in (x, w, bias, g))

                def theirs():
                    leaves = [x_t.clone().requires_grad_(c > 1), w_t.clone().requires_grad_(),
                              b_t.clone().requires_grad_()]
                    torch.nn.functional.conv2d(*leaves).backward(g_t)

                t_torch = best_time(theirs, repeat=args.repeat)
                cells += [f"{1e3 * t_torch:.1f} ({flops / t_torch / 1e9:.0f})",
                          f"{t_torch / min(times[name] for name in ('offsets', 'patches', 'winograd')):.2f}×"]
            else:
                cells += ["-", "-"]
            print(f"| {c} → {o} | {size}×{size} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
