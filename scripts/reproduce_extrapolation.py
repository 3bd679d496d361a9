"""Length extrapolation (spec Part B, B.5): train byte-level LMs at length N, evaluate at N, 2N, 4N, 8N.

For every training variant (RoPE, RoPE + log-n, NoPE, sinusoidal, ALiBi, KERPLE, Sandwich, XPOS,
HWFA) and seed, trains a small Transformer on the shipped English text, then evaluates each inference
variant that applies (full attention, the window super-baseline, log n†, ReRoPE, Leaky ReRoPE) on
fixed held-out windows: next-byte accuracy, loss in bits per byte, and the accuracy on the second
half of "u ‖ u" windows (the copy test). Runs already finished under --out are reused, so the
script can be re-run (or run in parallel on disjoint --variants) and then once more to tabulate.

    python scripts/reproduce_extrapolation.py                         # all variants, seeds 0 1
    python scripts/reproduce_extrapolation.py --variants rope alibi --seeds 0 --steps 300
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from scratch import checkpoint
from scratch.datasets.lm import load_text_bytes, train_val_split
from scratch.models.extrapolation import TRAINING_VARIANTS, evaluate_extrapolation, training_config
from scratch.models.lm import TrainConfig, train_lm
from scratch.models.transformer import TransformerConfig, TransformerLM

DEFAULT_VARIANTS = ["rope", "rope_log_n", "alibi", "kerple_log", "sandwich", "xpos", "hwfa", "nope", "sinusoidal"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS, choices=list(TRAINING_VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--seed", type=int, default=None, help="shorthand for --seeds SEED")
    parser.add_argument("--corpus", type=Path, default=None, help="text file (default: the shipped English corpus)")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--ffn-dim", type=int, default=256)
    parser.add_argument("--norm", choices=["rms", "layer"], default="rms")
    parser.add_argument("--postnorm", action="store_true", help="post-norm blocks (default pre-norm)")
    parser.add_argument("--activation", choices=["gelu", "silu"], default="gelu")
    parser.add_argument("--seq-len", type=int, default=64, help="training length N")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--final-lr", type=float, default=3e-4)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--multiples", nargs="+", type=int, default=[1, 2, 4, 8], help="test lengths as multiples of N")
    parser.add_argument("--eval-windows", type=int, default=48)
    parser.add_argument("--out", type=Path, default=Path("runs/extrapolation"))
    args = parser.parse_args(argv)
    if args.seed is not None:
        args.seeds = [args.seed]
    return args


def run(args: argparse.Namespace, variant: str, seed: int, train: np.ndarray, val: np.ndarray) -> dict:
    """Train (or reuse) one variant and seed and evaluate it; the result is cached as JSON under --out."""
    result_path = args.out / f"{variant}_seed{seed}.json"
    if result_path.exists():
        return json.loads(result_path.read_text())
    base = TransformerConfig(dim=args.dim, layers=args.layers, heads=args.heads, ffn_dim=args.ffn_dim,
                             norm=args.norm, prenorm=not args.postnorm, activation=args.activation,
                             train_len=args.seq_len)
    config = training_config(base, variant)
    model = TransformerLM(config, rng=np.random.default_rng(seed))
    train_config = TrainConfig(seq_len=args.seq_len, batch_size=args.batch_size, steps=args.steps, lr=args.lr,
                               final_lr=args.final_lr, warmup=args.warmup, clip=args.clip,
                               weight_decay=args.weight_decay, seed=seed)
    path = args.out / f"{variant}_seed{seed}.npz"
    done = path.exists() and checkpoint.load(path)["step"] >= args.steps
    print(f"[{variant} seed {seed}] {config}", file=sys.stderr)
    if done:
        checkpoint.load(path, model)
    else:
        train_lm(model, train, train_config, checkpoint_path=path, resume=path.exists())
    lengths = [m * args.seq_len for m in args.multiples]
    results = evaluate_extrapolation(model, val, lengths, args.eval_windows)
    result = {"variant": variant, "seed": seed, "parameters": model.num_parameters(), "results": results}
    result_path.write_text(json.dumps(result, indent=1))
    return json.loads(result_path.read_text())


def table(runs: list[dict], lengths: list[int]) -> str:
    """Markdown: one row per (training, inference) variant, accuracy % (bits/byte) per length, then copy accuracy."""
    header = ("| training | inference | seeds | " + " | ".join(f"T={t}" for t in lengths) + " | "
              + " | ".join(f"copy T={t}" for t in lengths) + " |")
    lines = [header, "|" + "---|" * (3 + 2 * len(lengths))]
    by_variant: dict[str, list[dict]] = {}
    for r in runs:
        by_variant.setdefault(r["variant"], []).append(r)
    for variant, group in by_variant.items():
        for inference in group[0]["results"]:
            cells = [variant, inference, str(len(group))]
            for key in ("natural", "copy"):
                for t in lengths:
                    rows = [g["results"][inference][str(t)] for g in group]
                    if key == "natural":
                        acc = np.mean([r["accuracy"] for r in rows])
                        cells.append(f"{100 * acc:.1f} ({np.mean([r['bits'] for r in rows]):.2f})")
                    else:
                        cells.append(f"{100 * np.mean([r['copy_accuracy'] for r in rows]):.1f}")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(runs: list[dict], lengths: list[int], path: Path) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    curves: dict[str, list[list[dict]]] = {}
    for r in runs:
        for inference, cells in r["results"].items():
            if inference in ("full", "window") or r["variant"] in ("rope", "rope_log_n"):
                curves.setdefault(f"{r['variant']} / {inference}", []).append(cells)
    for label, group in curves.items():
        for ax, key in zip(axes, ("accuracy", "bits")):
            ax.plot(lengths, [np.mean([g[str(t)][key] for g in group]) for t in lengths], marker="o", label=label)
    for ax, name in zip(axes, ("next-byte accuracy", "loss (bits/byte)")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("test length T")
        ax.set_ylabel(name)
    axes[1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    train, val = train_val_split(load_text_bytes(args.corpus))
    runs = [run(args, variant, seed, train, val) for variant in args.variants for seed in args.seeds]
    lengths = [m * args.seq_len for m in args.multiples]
    text = table(runs, lengths)
    (args.out / "table.md").write_text(text + "\n")
    plot(runs, lengths, args.out / "extrapolation.png")
    print(f"byte-level LM, d={args.dim}, {args.layers} layers, {args.heads} heads, N={args.seq_len}, "
          f"{args.steps} steps of {args.batch_size}×{args.seq_len} bytes, {runs[0]['parameters']:,} parameters; "
          f"accuracy % (bits/byte) on {args.eval_windows} held-out windows per length, copy = second half of u‖u")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
