"""Perturb-max benchmark, side by side in one run: forward+backward of log p per law vs softmax.

For rows of n = 10, 100, 1000 logits, times log p = perturb_max_log_probs(μ, law) plus its VJP
(upstream gradient random), next to log_softmax (ours, and torch's when installed), and for the
smaller runs next to the vectorised NumPy reference of the same loops. The cost model
is O(B·K·n²): one log F and one hazard per (row, class i, class j, node k), so the time per such
element should stay flat across n; the table prints it. K is the node count of the law's rule per
(row, class): 64 Gauss–Hermite nodes (normal), ⌊n/2⌋ + 1 (exponential), n(⌊n/2⌋ + 1) (uniform),
12 per panel of the tail-split rule (logistic, Laplace, Cauchy, Gumbel quadrature). Runs whose
element count exceeds --budget are skipped and reported as such. Rows per run: 128, except 2 at
n = 1000 (--rows); the time per row is what scales.

The sgemm peak (2048², float32, 1 thread) is measured first. A pair-node element costs one log F
and one hazard (special functions, ~25 floating-point operations each by a nominal count) plus
~10 for the sums; "% peak" uses that nominal 60 FLOPs per element and is only a rough guide: the
loop is bound by special-function evaluation and memory traffic of the (B, c, n, K) temporaries.

    python scripts/bench_perturb_max.py              # 1 thread, a few minutes
"""
from __future__ import annotations

import argparse

from bench import DEFAULT_THREADS, pin_threads  # the sibling script: scripts/ is on sys.path

NOMINAL_FLOPS_PER_ELEMENT = 60
# The Gumbel law by quadrature (its tail-split rule) rather than by its closed form, the softmax.
GUMBEL_QUADRATURE = "gumbel-quadrature"


def parse_args(argv=None) -> argparse.Namespace:
    from scratch.models.perturb_max import LAWS

    laws = [*LAWS, GUMBEL_QUADRATURE]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    p.add_argument("--classes", nargs="+", type=int, default=[10, 100, 1000])
    p.add_argument("--rows", nargs="+", type=int, default=[128, 128, 2], help="rows B for each --classes entry")
    p.add_argument("--laws", nargs="+", default=laws, choices=laws,
                   help="laws to time (gumbel itself is the softmax row; default all)")
    p.add_argument("--budget", type=float, default=3e8, help="skip runs with more B·K·n² elements than this")
    p.add_argument("--repeat", type=int, default=3, help="timing rounds (best is kept)")
    p.add_argument("--reference-budget", type=float, default=2e7,
                   help="also time the NumPy reference (same math, vectorised) up to this many elements")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> int:
    pin_threads(argv)
    args = parse_args(argv)
    if len(args.rows) != len(args.classes):
        raise SystemExit("--rows needs one entry per --classes entry")

    import numpy as np

    from scratch import Tensor
    from scratch.autograd import functional as F
    from scratch.bench import best_time, machine_summary, optional_torch, sgemm_peak_gflops
    from scratch.memory import keep_freed_memory
    from scratch.models.perturb_max import distribution as pm
    from scratch.models.perturb_max import perturb_max_log_probs, quadrature_size

    keep_freed_memory()  # for both sides: the arrays freed every call are reused, not faulted in again
    torch = optional_torch(args.threads)

    peak = sgemm_peak_gflops()
    print(f"{machine_summary()}; {args.threads} thread(s); sgemm peak {peak:.1f} GFLOP/s\n")
    print("| n | B | law | K | fwd+bwd ms | ms per row | × our softmax | ns per B·K·n² element | "
          "% peak (nominal) | NumPy reference ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(args.seed)
    for n, batch in zip(args.classes, args.rows):
        mu_np = rng.normal(size=(batch, n)) * 2.0
        g = rng.normal(size=(batch, n))

        def step(law, nodes=None):
            mu = Tensor(mu_np, requires_grad=True)
            perturb_max_log_probs(mu, law, nodes=nodes).backward(g)  # log p = −∞ where uniform p = 0

        def reference_step(law, nodes=None):
            e, log_w = pm.quadrature_rule(law, mu_np, nodes)
            terms = pm.log_terms(law, mu_np, e, log_w, backend="numpy")
            pm.log_probs_vjp(law, mu_np, e, terms, pm._logsumexp(terms, axis=2), g, backend="numpy")

        def softmax_step():
            mu = Tensor(mu_np, requires_grad=True)
            F.log_softmax(mu).backward(g)

        soft = best_time(softmax_step, repeat=args.repeat, min_seconds=0.05)
        print(f"| {n} | {batch} | softmax (ours) | — | {1e3 * soft:.3f} | {1e3 * soft / batch:.4f} | 1 | "
              "— | — | — |")
        if torch is not None:
            mu_t, g_t = torch.tensor(mu_np, requires_grad=True), torch.tensor(g)

            def torch_step():
                mu_t.grad = None
                torch.log_softmax(mu_t, dim=1).backward(g_t)

            t = best_time(torch_step, repeat=args.repeat, min_seconds=0.05)
            print(f"| {n} | {batch} | softmax (torch) | — | {1e3 * t:.3f} | {1e3 * t / batch:.4f} | "
                  f"{t / soft:.2f} | — | — | — |")
        for name in args.laws:
            law, nodes = ("gumbel", pm.TAIL_SPLIT_SIZE) if name == GUMBEL_QUADRATURE else (name, None)
            if law == "gumbel" and nodes is None:
                continue  # the closed form is the softmax row above
            k = quadrature_size(law, n, nodes)
            elements = batch * k * n * n
            if elements > args.budget:
                print(f"| {n} | {batch} | {name} | {k} | skipped: {elements:.1e} elements > budget | | | | | |")
                continue
            t = best_time(lambda: step(law, nodes), repeat=args.repeat, min_seconds=0.05, warmup=1)
            ns = 1e9 * t / elements
            pct = 100 * NOMINAL_FLOPS_PER_ELEMENT * elements / t / 1e9 / peak
            ref = "—"
            if elements <= args.reference_budget:
                ref_time = best_time(lambda: reference_step(law, nodes), repeat=args.repeat, min_seconds=0.05)
                ref = f"{1e3 * ref_time:.1f}"
            print(f"| {n} | {batch} | {name} | {k} | {1e3 * t:.1f} | {1e3 * t / batch:.3f} | {t / soft:.0f} | "
                  f"{ns:.1f} | {pct:.1f} | {ref} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
