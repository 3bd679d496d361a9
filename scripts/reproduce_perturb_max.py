"""Reproduce spec Part A (perturb-max distributions): reference values, Monte Carlo agreement,
quadrature accuracy, and the classifier-head comparison on the shipped MNIST digits.

    python scripts/reproduce_perturb_max.py                     # all heads, 5 seeds (~15 min on 2 cores)
    python scripts/reproduce_perturb_max.py --seeds 1 --epochs 2 --draws 100000   # a quick look
    python scripts/reproduce_perturb_max.py --resume            # skip runs whose checkpoint exists

Prints Markdown tables on stdout; progress on stderr; per-run checkpoints (with their curves) and
the plots (p_loser vs gap per law, test-accuracy curves) under --out.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from scratch import checkpoint
from scratch.datasets import load_mnist
from scratch.memory import keep_freed_memory
from scratch.models.perturb_max import perturb_max_probs
from scratch.models.perturb_max.experiment import (
    HEADS,
    ExperimentConfig,
    adaptive_probs,
    head_scores,
    loser_probability_curves,
    make_mlp,
    monte_carlo_table,
    train_head,
    uniform_zero_fraction,
)
from scratch.models.perturb_max.laws import LAWS, crude_grid, midpoint_grid

REFERENCE_MU = np.array([1.0, 0.3, -0.4, 0.0, -1.5])
SPEC_REFERENCE = {
    "gumbel": "0.456, 0.226, 0.112, 0.168, 0.037",
    "normal": "0.543, 0.226, 0.077, 0.146, 0.0085",
    "exponential": "0.547, 0.196, 0.089, 0.139, 0.028",
    "uniform": "0.955, 0.045, 0, 0, 0",
    "logistic": "0.403, 0.235, 0.130, 0.184, 0.048",
    "cauchy": "0.365, 0.223, 0.143, 0.182, 0.087",
}


def fmt(values: np.ndarray, digits: int = 4) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values)


def reference_tables(draws: int, seed: int) -> None:
    print(f"## Reference values, μ = ({fmt(REFERENCE_MU, 1)})\n")
    print("| law | p (this code) | spec A.2 | Σp − 1 |\n|---|---|---|---|")
    for law in LAWS:
        p = perturb_max_probs(REFERENCE_MU[None], law).data[0]
        print(f"| {law} | {fmt(p)} | {SPEC_REFERENCE.get(law, '—')} | {p.sum() - 1:.1e} |")
    print(f"\n## Monte Carlo: {draws:,} argmax draws per law (seed {seed}) vs quadrature\n")
    print("| law | quadrature p | Monte Carlo frequency | max abs diff |\n|---|---|---|---|")
    for law, (p, freq) in monte_carlo_table(REFERENCE_MU, draws, seed).items():
        print(f"| {law} | {fmt(p)} | {fmt(freq)} | {np.abs(p - freq).max():.1e} |")


def quadrature_table() -> None:
    print("\n## Quadrature accuracy, normal noise: max |p − p_exact| (exact: QUADPACK adaptive)\n")
    print("| logits | Gauss–Hermite 64 | post's grid K = 64 | grid K = 1024 | midpoint K = 1024 |")
    print("|---|---|---|---|---|")
    for mu in ([0.0, -1.0], [0.0, -5.0], [0.0, -20.0], [1.0, 0.3, -0.4, 0.0, -1.5],
               [3.0, 1.0, -0.5, -9.0, -17.0], [0.0, -5.0, -12.0, -20.0]):
        mu = np.array(mu)
        exact = adaptive_probs(mu, "normal")
        errors = [np.abs(perturb_max_probs(mu[None], "normal", nodes=rule).data[0] - exact).max()
                  for rule in (None, crude_grid("normal", 64), crude_grid("normal", 1024),
                               midpoint_grid("normal", 1024))]
        print(f"| ({fmt(mu, 1)}) | " + " | ".join(f"{e:.1e}" for e in errors) + " |")
    print("\n| law | max |p − p_exact|, 3 random rows (n = 5, spreads 0.3/1.5/4) |\n|---|---|")
    rng = np.random.default_rng(0)
    rows = [rng.normal(size=5) * spread for spread in (0.3, 1.5, 4.0)]
    for law in LAWS:
        err = max(np.abs(perturb_max_probs(mu[None], law).data[0] - adaptive_probs(mu, law)).max() for mu in rows)
        print(f"| {law} | {err:.1e} |")


def run_or_load(head: str, seed: int, data, args, config: ExperimentConfig) -> dict:
    """Train one (head, seed) run, or load it with --resume; the test metrics come from the model."""
    path = args.out / "checkpoints" / f"{head}-seed{seed}.npz"
    x_train, y_train, x_test, y_test = data
    if args.resume and path.is_file():
        model = make_mlp(config.hidden, np.random.default_rng(seed))
        curves = checkpoint.load(path, model)
        print(f"{head} seed {seed}: loaded {path}", file=sys.stderr)
    else:
        print(f"{head} seed {seed}: training", file=sys.stderr)
        model, curves = train_head(HEADS[head], x_train, y_train, x_test, y_test, hidden=config.hidden,
                                   epochs=config.epochs, batch_size=config.batch_size, lr=config.lr, seed=seed)
        curves = {key: np.asarray(value) for key, value in curves.items()}
        checkpoint.save(path, model, None, head=head, seed=seed, **curves)
    scores, probs = head_scores(model, HEADS[head], x_test)
    return {**curves, "uniform_zeros": uniform_zero_fraction(scores),
            "overconfidence": float(probs.max(axis=1).mean() - np.mean(probs.argmax(axis=1) == y_test))}


def classifier_table(args, config: ExperimentConfig) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {head: [] for head in args.heads}
    for seed in range(args.seed, args.seed + config.seeds):
        data = load_mnist(config.dataset, n_train=config.n_train, n_test=config.n_test, seed=seed)
        for head in args.heads:
            results[head].append(run_or_load(head, seed, data, args, config))
    seeds = f"seeds {args.seed}–{args.seed + config.seeds - 1}"
    print(f"\n## Classifier heads: {config.dataset} {config.n_train}/{config.n_test}, tanh MLP {config.hidden}, "
          f"Adam {config.lr}, batch {config.batch_size}, {config.epochs} epochs, {seeds} (mean ± std)\n")
    print("| head | test accuracy % | ECE % | mean confidence − accuracy % | final train loss | "
          "uniform-noise exact zeros % |\n|---|---|---|---|---|---|")
    for head, runs in results.items():
        acc = np.array([100 * r["test_accuracy"][-1] for r in runs])
        ece = np.array([100 * r["test_ece"][-1] for r in runs])
        loss = np.array([r["train_loss"][-1] for r in runs])
        zeros = np.array([100 * r["uniform_zeros"] for r in runs])
        over = np.array([100 * r["overconfidence"] for r in runs])
        print(f"| {head} | {acc.mean():.2f} ± {acc.std():.2f} | {ece.mean():.2f} ± {ece.std():.2f} | "
              f"{over.mean():+.2f} ± {over.std():.2f} | {loss.mean():.4f} | {zeros.mean():.1f} |")
    print("\nTest accuracy % after each epoch (mean over seeds):\n")
    print("| head | " + " | ".join(str(e + 1) for e in range(config.epochs)) + " |")
    print("|---|" + "---|" * config.epochs)
    for head, runs in results.items():
        curve = 100 * np.mean([r["test_accuracy"] for r in runs], axis=0)
        print(f"| {head} | " + " | ".join(f"{v:.1f}" for v in curve) + " |")
    return results


def plots(out: Path, results: dict[str, list[dict]]) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plots", file=sys.stderr)
        return
    gaps = np.linspace(0.0, 20.0, 401)
    fig, ax = plt.subplots(figsize=(6, 4))
    for law, p in loser_probability_curves(gaps).items():
        ax.semilogy(gaps, np.where(p > 0, p, np.nan), label=law)
    ax.set(xlabel="gap d = μ_winner − μ_loser", ylabel="p_loser (n = 2)", ylim=(1e-40, 1),
           title="p_loser mirrors the right tail of the noise")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "p_loser_vs_gap.png", dpi=120)
    fig, ax = plt.subplots(figsize=(6, 4))
    for head, runs in results.items():
        curve = 100 * np.mean([r["test_accuracy"] for r in runs], axis=0)
        ax.plot(np.arange(1, len(curve) + 1), curve, marker="o", label=head)
    ax.set(xlabel="epoch", ylabel="test accuracy % (mean over seeds)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "test_accuracy_curves.png", dpi=120)
    print(f"plots written to {out}", file=sys.stderr)


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, ExperimentConfig]:
    """The script's own flags, and one flag per field of ``ExperimentConfig`` (same name, its default)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heads", default=",".join(HEADS), help=f"comma-separated subset of {', '.join(HEADS)}")
    parser.add_argument("--seed", type=int, default=0,
                        help="first seed (data sample, initialisation, batches, Monte Carlo)")
    for field in dataclasses.fields(ExperimentConfig):
        parser.add_argument("--" + field.name.replace("_", "-"), type=type(field.default), default=field.default,
                            choices=field.metadata.get("choices"),
                            help=f"{field.metadata['help']} (default %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("runs/perturb_max"))
    parser.add_argument("--resume", action="store_true", help="load finished runs from their checkpoints")
    args = parser.parse_args(argv)
    args.heads = [h.strip() for h in args.heads.split(",") if h.strip()]
    unknown = [h for h in args.heads if h not in HEADS]
    if unknown:
        parser.error(f"unknown heads {unknown}; choose from {list(HEADS)}")
    try:
        config = ExperimentConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(ExperimentConfig)})
    except ValueError as error:
        parser.error(str(error))
    return args, config


def main(argv: list[str] | None = None) -> int:
    keep_freed_memory()  # the arrays freed every step are reused, not faulted in again
    args, config = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    reference_tables(config.draws, args.seed)
    quadrature_table()
    results = classifier_table(args, config)
    plots(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
