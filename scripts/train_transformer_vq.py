"""Train a byte-level Transformer-VQ (or one of its quadratic baselines) on the shipped English text.

    python scripts/train_transformer_vq.py                       # VQ, a few minutes on 2 cores
    python scripts/train_transformer_vq.py --attention full      # quadratic GAU, bias at all distances

Every field of ``TransformerVQConfig`` (but the byte vocabulary) and of ``TrainConfig`` is a flag, with
the defaults of ``TransformerVQConfig`` and of the §7 run ``scratch.models.transformer_vq.TRAINING``.
Progress (loss, bits/byte, tokens/s) and codebook health (usage perplexity, dead codes, relative
quantization error) go to stderr; the summary (validation bits/byte at the training length and at
4× it, codebook health, a sample from the prompt) goes to stdout and to ``--out``/summary.json.
``--out``/checkpoint.npz is written every ``--checkpoint-every`` steps; ``--resume`` continues it with
the same flags (but for ``--steps`` and those of the reports and the sample), ``--overwrite`` starts
afresh.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from scratch import checkpoint
from scratch.cli import add_config_arguments, add_run_arguments, config_from_arguments, run_config, run_folder
from scratch.datasets.lm import load_text_bytes, train_val_split
from scratch.memory import keep_freed_memory
from scratch.models.transformer_vq import (ATTENTIONS, TRAINING, TransformerVQ, TransformerVQConfig,
                                           codebook_after_step)
from scratch.models.transformer_vq.model import HEALTH_EVERY
from scratch.training.lm import TrainConfig, evaluate_lm, evaluation_windows, sample, train_lm

BYTES = 256
CHOICES = {"attention": ATTENTIONS}
MODEL_HELP = {"d_model": "D_m", "d_k": "D_k (D_v = 2 D_m)", "layers": "layers of two GAUs each", "codebook_size": "S",
              "block": "block length L", "window": "bias range W ≤ L (default L)", "commit_weight": "β",
              "reseed_dead": "re-seed dead codes (a deviation from the paper)"}
TRAIN_HELP = {"seq_len": "training length T"}
# Settings a resumed run may change: how long it trains, how often it saves and reports, the evaluation and sample.
MAY_CHANGE = ("steps", "checkpoint_every", "health_every", "eval_windows", "prompt", "sample_length", "temperature")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=None, help="text file (default: the shipped English corpus)")
    p.add_argument("--encoding", default="utf-8", help="text encoding of --corpus (default utf-8)")
    # the fields' defaults, not an instance's: an instance has resolved window=None (W = L) to its block
    add_config_arguments(p.add_argument_group("model (TransformerVQConfig)"), TransformerVQConfig, skip=("vocab",),
                         choices=CHOICES, help_texts=MODEL_HELP)
    add_config_arguments(p.add_argument_group("training (TrainConfig)"), TrainConfig, defaults=vars(TRAINING),
                         help_texts=TRAIN_HELP)
    p.add_argument("--health-every", type=int, default=HEALTH_EVERY, help="steps between codebook-health lines")
    p.add_argument("--eval-windows", type=int, default=16, help="validation windows per evaluation length")
    p.add_argument("--prompt", default="The ")
    p.add_argument("--sample-length", type=int, default=200)
    p.add_argument("--temperature", type=float, default=0.8)
    add_run_arguments(p, "runs/transformer_vq", MAY_CHANGE)
    return p.parse_args(argv)


def configs(args: argparse.Namespace) -> tuple[TransformerVQConfig, TrainConfig]:
    """The two configs named by the flags."""
    return config_from_arguments(TransformerVQConfig, args, vocab=BYTES), config_from_arguments(TrainConfig, args)


def main(argv=None) -> dict:
    keep_freed_memory()  # the arrays freed every step are reused, not faulted in again
    args = parse_args(argv)
    flags = run_config(args)
    with run_folder(args, flags, MAY_CHANGE, script=__file__, argv=argv) as path:
        return train_evaluate_sample(args, flags, path)


def train_evaluate_sample(args: argparse.Namespace, flags: dict, path: Path) -> dict:
    """Train (or resume) the run with its checkpoint at ``path``, then evaluate, sample and write the summary."""
    train, val = train_val_split(load_text_bytes(args.corpus, args.encoding))
    model_config, train_config = configs(args)
    model = TransformerVQ(model_config, rng=np.random.default_rng(args.seed))
    losses = train_lm(model, train, train_config, checkpoint_path=path, resume=args.resume,
                      extra_loss=model.auxiliary_loss, after_step=codebook_after_step(model, args.health_every),
                      checkpoint_meta={"config": checkpoint.encode_config(flags)})
    model.eval()
    summary = {"args": vars(args), "parameters": int(sum(p.size for p in model.parameters())),
               "final_train_bits": losses[-1] / math.log(2) if losses else None}
    for factor in (1, 4):
        x, y = evaluation_windows(val, factor * args.seq_len, args.eval_windows, seed=1)
        summary[f"val_bits_per_byte@{factor}x"] = evaluate_lm(model, x, y, batch_size=4)["bits"]
    summary["codebook"] = model.codebook_health()
    prompt = np.frombuffer(args.prompt.encode("utf-8"), np.uint8).astype(np.int64)
    # VQ decodes with constant-size states; the quadratic baselines recompute over the last 4T bytes
    forward = model.decoding_forward() if args.attention == "vq" else model
    text = sample(forward, prompt, args.sample_length, temperature=args.temperature,
                  context=None if args.attention == "vq" else 4 * args.seq_len, rng=np.random.default_rng(args.seed))
    summary["sample"] = bytes(np.concatenate([prompt, text]).astype(np.uint8)).decode("utf-8", errors="replace")
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    for key, value in summary.items():
        if key != "args":
            print(f"{key}: {value}")
    return summary


if __name__ == "__main__":
    sys.exit(main() and 0)
