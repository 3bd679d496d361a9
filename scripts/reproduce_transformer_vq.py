"""Transformer-VQ's cache on a task that needs it: copying beyond the attention window (spec §7).

Trains byte-level models on the copy-rich mix (``--copy-fraction`` of every batch made of periodic
copies of text spans, ``scratch.datasets.lm.copy_mix_batches``) and evaluates, at the training length
T and at 2T and 4T, the natural bits per byte and the accuracy on the second half of "u ‖ u" windows:
each of those bytes is a copy of the byte T'/2 back, a distance far beyond the window W = L, so only
a model that reaches past the window can copy it. Variants (``VARIANTS``):

    vq         VQ attention with the per-code cache (the paper's model)
    vq_reseed  the same with dead codes re-seeded (``reseed_dead``, a deviation from the paper)
    local      quantized keys, window only (the cache removed)
    full       unquantized keys, bias at every distance (the quadratic baseline)

Runs already finished under --out are reused (one --out holds one setting), so the script can be run
again on more variants or seeds; it prints and writes table.md (mean ± half-range over seeds).

    python scripts/reproduce_transformer_vq.py                          # vq, local, full × seeds 0 1
    python scripts/reproduce_transformer_vq.py --variants vq vq_reseed --seeds 0 1 2 --steps 1000
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from scratch.cli import add_config_arguments, config_from_arguments
from scratch.datasets.lm import load_text_bytes, train_val_split
from scratch.memory import keep_freed_memory
from scratch.models.transformer.extrapolation import seed_summary
from scratch.models.transformer_vq import TransformerVQ, TransformerVQConfig, codebook_after_step
from scratch.training.lm import TrainConfig, evaluate_lm, evaluation_windows, repeated_windows, train_lm

VARIANTS = {"vq": {"attention": "vq"}, "vq_reseed": {"attention": "vq", "reseed_dead": True},
            "local": {"attention": "local"}, "full": {"attention": "full"}}
MODEL_SKIP = ("vocab", "attention", "reseed_dead")
TRAIN_SKIP = ("seed", "checkpoint_every")
# a smaller model than the §7 run, trained longer, half of every batch copy rows
EXPERIMENT_MODEL = {"d_model": 64, "d_k": 32, "layers": 2, "codebook_size": 64, "block": 32}
EXPERIMENT_RUN = {"seq_len": 256, "batch_size": 8, "steps": 600, "lr": 1e-3, "final_lr": 1e-4, "warmup": 60,
                  "betas": (0.9, 0.98), "weight_decay": 2e-4, "clip": 0.1, "copy_fraction": 0.5}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=["vq", "local", "full"], choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--corpus", default=None, help="text file (default: the shipped English corpus)")
    model = add_config_arguments(parser.add_argument_group("model (TransformerVQConfig)"), TransformerVQConfig,
                                 skip=MODEL_SKIP, defaults=EXPERIMENT_MODEL)
    training = add_config_arguments(parser.add_argument_group("training (TrainConfig)"), TrainConfig, skip=TRAIN_SKIP,
                                    defaults=EXPERIMENT_RUN)
    parser.add_argument("--multiples", nargs="+", type=int, default=[1, 2, 4], help="test lengths as multiples of T")
    parser.add_argument("--eval-windows", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path("runs/transformer_vq_copy"))
    args = parser.parse_args(argv)
    args.settings = ["corpus", *model, *training, "eval_windows", "multiples"]
    try:
        args.base = config_from_arguments(TransformerVQConfig, args, vocab=256)
        config_from_arguments(TrainConfig, args, seed=0)
    except ValueError as error:
        parser.error(str(error))
    return args


def evaluate(model: TransformerVQ, val: np.ndarray, lengths: list[int], windows: int) -> dict:
    """results[T] = natural accuracy / bits and copy accuracy on the second half of u ‖ u."""
    model.eval()
    results = {}
    for t in lengths:
        row = evaluate_lm(model, *evaluation_windows(val, t, windows, seed=1), batch_size=4)
        copy = evaluate_lm(model, *repeated_windows(val, t, windows, seed=1), batch_size=4, score_from=t // 2)
        results[t] = {**row, "copy_accuracy": copy["accuracy"]}
    return results


def run(args: argparse.Namespace, variant: str, seed: int, train: np.ndarray, val: np.ndarray) -> dict:
    """Train (or reuse) one variant and seed and evaluate it; the result is cached as JSON under --out."""
    settings = {name: getattr(args, name) for name in args.settings}
    path = args.out / f"{variant}_seed{seed}.json"
    if path.exists():
        result = json.loads(path.read_text())
        if result["settings"] != json.loads(json.dumps(settings)):
            raise ValueError(f"{path} was made with other settings ({result['settings']}); use another --out")
        return result
    config = replace(args.base, **VARIANTS[variant])
    model = TransformerVQ(config, rng=np.random.default_rng(seed))
    print(f"[{variant} seed {seed}] {config}", file=sys.stderr)
    start = time.perf_counter()
    train_lm(model, train, config_from_arguments(TrainConfig, args, seed=seed), extra_loss=model.auxiliary_loss,
             after_step=codebook_after_step(model))
    seconds = time.perf_counter() - start
    lengths = [m * args.seq_len for m in args.multiples]
    result = {"variant": variant, "seed": seed, "settings": settings, "train_seconds": seconds,
              "results": {"trained": evaluate(model, val, lengths, args.eval_windows)},
              "codebook": model.codebook_health() if config.attention in ("vq", "local") else None}
    path.write_text(json.dumps(result, indent=1))
    return json.loads(path.read_text())


def table(runs: list[dict], lengths: list[int]) -> str:
    """Markdown: one row per variant; bits/byte and copy accuracy % (mean ± half-range over seeds) per
    length, and the codebook's dead codes (mean; EMA count < 1, measured on the last evaluation batch,
    the copy windows at the longest length) where there is one."""
    bits, copy = seed_summary(runs, "bits"), seed_summary(runs, "copy_accuracy")
    lines = ["| variant | seeds | " + " | ".join(f"bits T={t}" for t in lengths) + " | "
             + " | ".join(f"copy T={t}" for t in lengths) + " | dead codes |", "|" + "---|" * (3 + 2 * len(lengths))]
    for (variant, _), per_length in bits.items():
        mine = [r for r in runs if r["variant"] == variant]
        dead = [r["codebook"]["dead"] for r in mine if r.get("codebook")]
        cells = [variant, str(len(mine))]
        cells += [f"{per_length[t][0]:.3f}±{per_length[t][1]:.3f}" for t in lengths]
        cells += [f"{100 * copy[(variant, 'trained')][t][0]:.1f}±{100 * copy[(variant, 'trained')][t][1]:.1f}"
                  for t in lengths]
        cells.append(f"{np.mean(dead):.1f}" if dead else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    keep_freed_memory()  # the arrays freed every step are reused, not faulted in again
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    train, val = train_val_split(load_text_bytes(args.corpus))
    runs = [run(args, variant, seed, train, val) for variant in args.variants for seed in args.seeds]
    text = table(runs, [m * args.seq_len for m in args.multiples])
    (args.out / "table.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
