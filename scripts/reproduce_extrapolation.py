"""Length extrapolation (spec Part B, B.5): train byte-level LMs at length N, evaluate at N, 2N, 4N, 8N.

For every training variant (RoPE, RoPE + log-n, NoPE, sinusoidal, ALiBi, KERPLE log/power, Sandwich,
XPOS, HWFA) and seed, trains a small Transformer on the shipped English text (or ``--corpus stdlib``,
the spec's pilot corpus, or a text file), then evaluates each inference variant that applies (full
attention, the window super-baseline, log n†, ReRoPE, Leaky ReRoPE) on fixed held-out windows:
next-byte accuracy, loss in bits per byte, and the accuracy on the second half of "u ‖ u" windows
(the copy test). ``--copy-fraction f`` trains on the copy-rich mix (a share f of every batch made of
periodic copies of text spans, ``scratch.datasets.lm.copy_mix_batches``).

Runs already finished under --out are reused (one --out holds one setting: a cached run whose
settings differ is an error), so the script can be re-run on more variants or seeds and then once
more to tabulate. Prints a markdown table (mean ± half-range over seeds) and a text chart, and
writes table.md, chart.txt and extrapolation.png (with matplotlib) under --out.

    python scripts/reproduce_extrapolation.py                         # all variants, seeds 0 1
    python scripts/reproduce_extrapolation.py --variants rope alibi --seeds 0 --steps 300
    python scripts/reproduce_extrapolation.py --variants rope hwfa --copy-fraction 0.5 --out runs/copy
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from scratch import checkpoint
from scratch.cli import add_config_arguments, config_from_arguments
from scratch.datasets.lm import lm_corpus_split
from scratch.memory import keep_freed_memory
from scratch.models.transformer import CONFIG_CHOICES, TransformerConfig, TransformerLM
from scratch.models.transformer.extrapolation import (INFERENCE_VARIANTS, TRAINING_VARIANTS, evaluate_extrapolation,
                                                      inference_variants, seed_summary, text_chart, training_config)
from scratch.training.lm import TrainConfig, train_lm

# the training variant sets these; the data is bytes; train_len is --seq-len; seeds are --seeds
VARIANT_FIELDS = ("position", "log_n", "hwfa_window")
MODEL_SKIP = (*VARIANT_FIELDS, "vocab_size", "train_len")
TRAIN_SKIP = ("seed", "checkpoint_every")
# 10 variants × 2 seeds in about an hour on 2 cores; TrainConfig's own defaults are the longer library setting
EXPERIMENT_RUN = {"batch_size": 16, "steps": 800}
TRAIN_HELP = {"seq_len": "training length N (also the model's train_len)",
              "copy_fraction": "share of each training batch made of copy rows (the copy-rich mix)"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=list(TRAINING_VARIANTS), choices=list(TRAINING_VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--seed", type=int, default=None, help="shorthand for --seeds SEED")
    parser.add_argument("--corpus", default=None,
                        help="'stdlib' (the spec's pilot corpus) or a text file (default: the shipped English corpus)")
    model = add_config_arguments(parser.add_argument_group("model (TransformerConfig)"), TransformerConfig,
                                 skip=MODEL_SKIP, choices=CONFIG_CHOICES)
    training = add_config_arguments(parser.add_argument_group("training (TrainConfig)"), TrainConfig, skip=TRAIN_SKIP,
                                    defaults=EXPERIMENT_RUN, help_texts=TRAIN_HELP)
    parser.add_argument("--multiples", nargs="+", type=int, default=[1, 2, 4, 8], help="test lengths as multiples of N")
    parser.add_argument("--eval-windows", type=int, default=48)
    parser.add_argument("--out", type=Path, default=Path("runs/extrapolation"))
    args = parser.parse_args(argv)
    if args.seed is not None:
        args.seeds = [args.seed]
    # what makes a cached run reusable: a run made with other values is refused
    args.settings = ["corpus", *model, *training, "eval_windows", "multiples"]
    try:
        args.base = config_from_arguments(TransformerConfig, args, train_len=args.seq_len)
        for seed in args.seeds:
            config_from_arguments(TrainConfig, args, seed=seed)
    except ValueError as error:
        parser.error(str(error))
    return args


def run(args: argparse.Namespace, variant: str, seed: int, train: np.ndarray, val: np.ndarray) -> dict:
    """Train (or reuse) one variant and seed and evaluate it; the result is cached as JSON under --out."""
    settings = {name: getattr(args, name) for name in args.settings}
    config = training_config(args.base, variant)
    result_path = args.out / f"{variant}_seed{seed}.json"
    if result_path.exists():
        result = json.loads(result_path.read_text())
        if result.get("settings", settings) != settings:
            raise ValueError(f"{result_path} was made with other settings ({result['settings']}); use another --out")
        applicable = inference_variants(config)
        result["results"] = {name: cells for name, cells in result["results"].items() if name in applicable}
        return result
    model = TransformerLM(config, rng=np.random.default_rng(seed))
    train_config = config_from_arguments(TrainConfig, args, seed=seed)
    path = args.out / f"{variant}_seed{seed}.npz"
    done = path.exists() and checkpoint.load(path)["step"] >= args.steps
    print(f"[{variant} seed {seed}] {config}", file=sys.stderr)
    start = time.perf_counter()
    if done:
        checkpoint.load(path, model)
    else:
        train_lm(model, train, train_config, checkpoint_path=path, resume=path.exists())
    train_seconds = time.perf_counter() - start
    lengths = [m * args.seq_len for m in args.multiples]
    results = evaluate_extrapolation(model, val, lengths, args.eval_windows)
    result = {"variant": variant, "seed": seed, "parameters": model.num_parameters(), "settings": settings,
              "train_seconds": None if done else train_seconds, "results": results}
    result_path.write_text(json.dumps(result, indent=1))
    return json.loads(result_path.read_text())


def table(runs: list[dict], lengths: list[int]) -> str:
    """Markdown: one row per (training, inference) variant; accuracy % mean ± half-range over seeds
    (bits/byte mean) per length, then copy accuracy % (mean ± half-range) per length."""
    accuracy, bits = seed_summary(runs, "accuracy"), seed_summary(runs, "bits")
    copy = seed_summary(runs, "copy_accuracy")
    seeds = {key: sum(r["variant"] == key[0] for r in runs) for key in accuracy}
    lines = ["| training | inference | seeds | " + " | ".join(f"T={t}" for t in lengths) + " | "
             + " | ".join(f"copy T={t}" for t in lengths) + " |", "|" + "---|" * (3 + 2 * len(lengths))]
    for key, per_length in accuracy.items():
        cells = [*key, str(seeds[key])]
        cells += [f"{100 * per_length[t][0]:.1f}±{100 * per_length[t][1]:.1f} ({bits[key][t][0]:.2f})" for t in lengths]
        cells += [f"{100 * copy[key][t][0]:.1f}±{100 * copy[key][t][1]:.1f}" for t in lengths]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def chart(runs: list[dict], lengths: list[int]) -> str:
    """Text charts of mean accuracy %, bits/byte and copy accuracy % against the test length."""
    columns = [f"T={t}" for t in lengths]
    parts = []
    for metric, name, scale, fmt in (("accuracy", "accuracy %", 100, ".1f"), ("bits", "loss, bits/byte", 1, ".2f"),
                                     ("copy_accuracy", "copy accuracy % (second half of u‖u)", 100, ".1f")):
        summary = seed_summary(runs, metric)
        rows = {f"{v} / {i}": [scale * per_length[t][0] for t in lengths] for (v, i), per_length in summary.items()}
        values = [x for row in rows.values() for x in row]
        lo, hi = np.floor(min(values)), np.ceil(max(values))
        hi = hi if hi > lo else lo + 1
        parts.append(f"{name}, bars from {lo:g} to {hi:g}\n" + text_chart(rows, columns, lo, hi, fmt=fmt))
    return "\n\n".join(parts)


def plot(runs: list[dict], lengths: list[int], path: Path) -> bool:
    """Accuracy, bits/byte and copy accuracy against T per (training, inference) variant; False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    # one colour per training variant, one line style and marker per inference variant
    colours = {v: plt.cm.tab10(i % 10) for i, v in enumerate(dict.fromkeys(r["variant"] for r in runs))}
    lines = ("-", "--", ":", "-.", (0, (3, 1, 1, 1)), (0, (1, 1)))
    styles = {name: (lines[i % len(lines)], "osv^Dx+*PhX<"[i % 12]) for i, name in enumerate(INFERENCE_VARIANTS)}
    for ax, (metric, name) in zip(axes, (("accuracy", "next-byte accuracy"), ("bits", "loss (bits/byte)"),
                                         ("copy_accuracy", "copy accuracy (second half of u‖u)"))):
        for (variant, inference), per_length in seed_summary(runs, metric).items():
            line, marker = styles[inference]
            ax.plot(lengths, [per_length[t][0] for t in lengths], linestyle=line, marker=marker,
                    color=colours[variant], label=f"{variant} / {inference}")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("test length T")
        ax.set_ylabel(name)
    axes[2].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


def main(argv: list[str] | None = None) -> int:
    keep_freed_memory()  # the arrays freed every step are reused, not faulted in again
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    train, val, corpus = lm_corpus_split(args.corpus)
    runs = [run(args, variant, seed, train, val) for variant in args.variants for seed in args.seeds]
    lengths = [m * args.seq_len for m in args.multiples]
    text, drawing = table(runs, lengths), chart(runs, lengths)
    (args.out / "table.md").write_text(text + "\n")
    (args.out / "chart.txt").write_text(drawing + "\n")
    plotted = plot(runs, lengths, args.out / "extrapolation.png")
    seconds = [r["train_seconds"] for r in runs if r.get("train_seconds")]
    print(f"byte-level LM on {corpus}; d={args.dim}, {args.layers} layers, {args.heads} heads, N={args.seq_len}, "
          f"{args.steps} steps of {args.batch_size}×{args.seq_len} bytes, copy fraction {args.copy_fraction}, "
          f"{runs[0]['parameters']:,} parameters"
          + (f", {np.mean(seconds):.0f} s of training per model" if seconds else "")
          + f"; accuracy % (bits/byte) on {args.eval_windows} held-out windows per length, "
          f"copy = second half of u‖u")
    print(text)
    print()
    print(drawing)
    if plotted:
        print(f"plot: {args.out / 'extrapolation.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
