"""Train a byte-level Transformer-VQ (or one of its quadratic baselines) on the shipped English text.

    python scripts/train_transformer_vq.py                       # VQ, a few minutes on 2 cores
    python scripts/train_transformer_vq.py --attention full      # quadratic GAU, bias at all distances

Progress (loss, bits/byte, tokens/s) and codebook health (usage perplexity, dead codes, relative
quantization error) go to stderr; the summary (validation bits/byte at the training length and at
4× it, codebook health, a sample from the prompt) goes to stdout and to ``--out``/summary.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

from scratch.datasets.lm import load_text_bytes, train_val_split
from scratch.training.lm import TrainConfig, evaluate_lm, evaluation_windows, sample, train_lm
from scratch.models.transformer_vq import ATTENTIONS, TrainingView, TransformerVQ


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=None, help="text file (default: the shipped English corpus)")
    p.add_argument("--attention", choices=ATTENTIONS, default="vq")
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--d-k", type=int, default=32)
    p.add_argument("--layers", type=int, default=2, help="layers of two GAUs each")
    p.add_argument("--codebook-size", type=int, default=64, help="S")
    p.add_argument("--block", type=int, default=64, help="block length L")
    p.add_argument("--window", type=int, default=None, help="bias range W (default L)")
    p.add_argument("--commit-weight", type=float, default=1e-4, help="β")
    p.add_argument("--reseed-dead", action="store_true", help="re-seed dead codes (a deviation from the paper)")
    p.add_argument("--seq-len", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--final-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--clip", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=2e-4)
    p.add_argument("--eval-windows", type=int, default=16, help="validation windows per evaluation length")
    p.add_argument("--prompt", default="The ")
    p.add_argument("--sample-length", type=int, default=200)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/transformer_vq")
    p.add_argument("--resume", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    train, val = train_val_split(load_text_bytes(args.corpus))
    model = TransformerVQ(256, args.d_model, args.d_k, args.layers, attention=args.attention,
                          codebook_size=args.codebook_size, block=args.block, window=args.window,
                          commit_weight=args.commit_weight, reseed_dead=args.reseed_dead,
                          rng=np.random.default_rng(args.seed))
    config = TrainConfig(seq_len=args.seq_len, batch_size=args.batch_size, steps=args.steps, lr=args.lr,
                         final_lr=args.final_lr, warmup=args.warmup, betas=(0.9, 0.98),
                         weight_decay=args.weight_decay, clip=args.clip, seed=args.seed)
    view = TrainingView(model)
    losses = train_lm(view, train, config, checkpoint_path=os.path.join(args.out, "checkpoint.npz"),
                      resume=args.resume)
    view.finish()
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
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    for key, value in summary.items():
        if key != "args":
            print(f"{key}: {value}")
    return summary


if __name__ == "__main__":
    sys.exit(main() and 0)
