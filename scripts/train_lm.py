"""Train one byte-level causal Transformer LM (spec Part B) with any position scheme, then evaluate and sample.

    python scripts/train_lm.py                                     # RoPE, 600 steps of 16×64 bytes, ~1–2 min
    python scripts/train_lm.py --position alibi --steps 1500 --batch-size 32 --out runs/lm_alibi
    python scripts/train_lm.py --hwfa-window 24 --copy-fraction 0.5     # HWFA on the copy-rich mix
    python scripts/train_lm.py --out runs/lm --resume --steps 1200      # continue a run to 1200 steps

Every option of ``TransformerConfig`` and ``TrainConfig`` is a flag (``--seq-len`` is both the
training length N of the data and the model's ``train_len``). Progress (loss, bits/byte, tokens/s,
ETA) goes to stderr; the checkpoint (``--out``/checkpoint.npz, atomic, every ``--checkpoint-every``
steps) allows ``--resume``. The summary — held-out accuracy and bits/byte at N and 4N with full
attention and with the window W = N, and a sample continuing ``--prompt`` — goes to stdout and to
``--out``/summary.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from scratch.datasets.lm import lm_corpus_split
from scratch.training.lm import TrainConfig, evaluate_lm, evaluation_windows, sample, train_lm
from scratch.models.transformer import ACTIVATIONS, NORMS, POSITIONS, TransformerConfig, TransformerLM


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=None,
                   help="'stdlib' (the spec's pilot corpus) or a text file (default: the shipped English corpus)")
    model = p.add_argument_group("model (TransformerConfig)")
    model.add_argument("--vocab-size", type=int, default=256, help="≥ 256 for byte data")
    model.add_argument("--dim", type=int, default=64)
    model.add_argument("--layers", type=int, default=3)
    model.add_argument("--heads", type=int, default=4)
    model.add_argument("--ffn-dim", type=int, default=256)
    model.add_argument("--norm", choices=NORMS, default="rms")
    model.add_argument("--postnorm", action="store_true", help="post-norm blocks (default pre-norm)")
    model.add_argument("--activation", choices=ACTIVATIONS, default="gelu")
    model.add_argument("--position", choices=POSITIONS, default="rope")
    model.add_argument("--log-n", action="store_true", help="train with the log-n factor log(visible keys)/log N")
    model.add_argument("--hwfa-window", type=int, default=None,
                       help="HWFA: window of every layer but the last (which is full, NoPE, log-n)")
    model.add_argument("--sandwich-scale", type=float, default=1.0, help="λ of the Sandwich bias")
    train = p.add_argument_group("training (TrainConfig)")
    train.add_argument("--seq-len", type=int, default=64, help="training length N")
    train.add_argument("--batch-size", type=int, default=16)
    train.add_argument("--steps", type=int, default=600)
    train.add_argument("--lr", type=float, default=3e-3)
    train.add_argument("--final-lr", type=float, default=3e-4)
    train.add_argument("--warmup", type=int, default=60)
    train.add_argument("--betas", type=float, nargs=2, default=(0.9, 0.99))
    train.add_argument("--weight-decay", type=float, default=0.0)
    train.add_argument("--clip", type=float, default=1.0)
    train.add_argument("--copy-fraction", type=float, default=0.0,
                       help="share of each batch made of copy rows s‖s‖… (the copy-rich mix)")
    train.add_argument("--checkpoint-every", type=int, default=200)
    train.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-windows", type=int, default=32, help="held-out windows per evaluation length")
    p.add_argument("--prompt", default="The ")
    p.add_argument("--sample-length", type=int, default=200)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--out", type=Path, default=Path("runs/lm"))
    p.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.npz")
    args = p.parse_args(argv)
    if args.vocab_size < 256:
        p.error(f"--vocab-size must be ≥ 256 for byte data, got {args.vocab_size}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    train, val, corpus = lm_corpus_split(args.corpus)
    config = TransformerConfig(vocab_size=args.vocab_size, dim=args.dim, layers=args.layers, heads=args.heads,
                               ffn_dim=args.ffn_dim, norm=args.norm, prenorm=not args.postnorm,
                               activation=args.activation, position=args.position, train_len=args.seq_len,
                               log_n=args.log_n, hwfa_window=args.hwfa_window, sandwich_scale=args.sandwich_scale)
    train_config = TrainConfig(seq_len=args.seq_len, batch_size=args.batch_size, steps=args.steps, lr=args.lr,
                               final_lr=args.final_lr, warmup=args.warmup, betas=tuple(args.betas),
                               weight_decay=args.weight_decay, clip=args.clip, seed=args.seed,
                               checkpoint_every=args.checkpoint_every, copy_fraction=args.copy_fraction)
    model = TransformerLM(config, rng=np.random.default_rng(args.seed))
    print(f"{corpus}\n{config}\n{train_config}\n{model.num_parameters():,} parameters", file=sys.stderr)
    losses = train_lm(model, train, train_config, checkpoint_path=args.out / "checkpoint.npz", resume=args.resume)
    model.eval()
    summary: dict = {"corpus": corpus, "config": vars(config), "train": vars(train_config),
                     "parameters": model.num_parameters(), "final_train_loss": losses[-1] if losses else None}
    for factor in (1, 4):
        t = factor * args.seq_len
        x, y = evaluation_windows(val, t, args.eval_windows)
        for name, window in (("full", None), ("window", args.seq_len)):
            row = evaluate_lm(lambda ids, window=window: model(ids, window=window), x, y, tail=args.seq_len)
            summary[f"T={t} {name}"] = {"accuracy": row["accuracy"], "bits_per_byte": row["bits"]}
    prompt = np.frombuffer(args.prompt.encode("utf-8"), np.uint8).astype(np.int64)
    text = sample(model, prompt, args.sample_length, temperature=args.temperature, context=args.seq_len,
                  rng=np.random.default_rng(args.seed))
    summary["sample"] = bytes(np.concatenate([prompt, text]).astype(np.uint8)).decode("utf-8", errors="replace")
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    for key, value in summary.items():
        if key.startswith("T="):
            print(f"{key:>16}: accuracy {100 * value['accuracy']:.1f}%, {value['bits_per_byte']:.3f} bits/byte")
    print(f"parameters: {summary['parameters']:,}; final training loss {summary['final_train_loss']}")
    print(f"sample (temperature {args.temperature}, context N = {args.seq_len}):\n{summary['sample']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
