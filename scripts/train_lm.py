"""Train one byte-level causal Transformer LM (spec Part B) with any position scheme, then evaluate and sample.

    python scripts/train_lm.py                                     # RoPE, 600 steps of 16×64 bytes, ~1–2 min
    python scripts/train_lm.py --position alibi --steps 1500 --batch-size 32 --out runs/lm_alibi
    python scripts/train_lm.py --hwfa-window 24 --copy-fraction 0.5     # HWFA on the copy-rich mix
    python scripts/train_lm.py --out runs/lm --resume --steps 1200      # continue a run to 1200 steps

Every field of ``TransformerConfig`` and ``TrainConfig`` is a flag of the same name, with the same
default and choices (``--seq-len`` is both the training length N of the data and the model's
``train_len``; steps, batch size and warm-up default to a quick run). Progress (loss, bits/byte,
tokens/s, ETA) goes to stderr; the checkpoint (``--out``/checkpoint.npz, atomic, every
``--checkpoint-every`` steps) allows ``--resume`` with the same flags (but for ``--steps`` and
those of the evaluation and the sample), ``--overwrite`` starts afresh. The summary — held-out accuracy and bits/byte at N and 4N with full
attention and with the window W = N, and a sample continuing ``--prompt`` — goes to stdout and to
``--out``/summary.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from scratch import checkpoint
from scratch.cli import add_config_arguments, add_run_arguments, config_from_arguments, run_config, run_folder
from scratch.datasets.lm import lm_corpus_split
from scratch.memory import keep_freed_memory
from scratch.models.transformer import CONFIG_CHOICES, TransformerConfig, TransformerLM
from scratch.training.lm import TrainConfig, evaluate_lm, evaluation_windows, sample, train_lm

# a run of a minute or two on 2 cores; TrainConfig's own defaults are the longer library setting
QUICK_RUN = {"batch_size": 16, "steps": 600, "warmup": 60}
TRAIN_HELP = {"seq_len": "training length N (also the model's train_len)",
              "copy_fraction": "share of each batch made of copy rows s‖s‖… (the copy-rich mix)"}
BYTES = 256
# Settings a resumed run may change: how long it trains, how often it saves, how it is evaluated and sampled.
MAY_CHANGE = ("steps", "checkpoint_every", "eval_windows", "prompt", "sample_length", "temperature")


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, TransformerConfig, TrainConfig]:
    """The flags, and the model and training configurations they make (a bad value exits with its message)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=None,
                   help="'stdlib' (the spec's pilot corpus) or a text file (default: the shipped English corpus)")
    add_config_arguments(p.add_argument_group("model (TransformerConfig)"), TransformerConfig, skip=["train_len"],
                         choices=CONFIG_CHOICES)
    add_config_arguments(p.add_argument_group("training (TrainConfig)"), TrainConfig, defaults=QUICK_RUN,
                         help_texts=TRAIN_HELP)
    p.add_argument("--eval-windows", type=int, default=32, help="held-out windows per evaluation length")
    p.add_argument("--prompt", default="The ")
    p.add_argument("--sample-length", type=int, default=200)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--encoding", default="utf-8", help="text encoding of a --corpus file")
    add_run_arguments(p, "runs/lm", MAY_CHANGE)
    args = p.parse_args(argv)
    if args.vocab_size < BYTES:
        p.error(f"--vocab-size must be ≥ {BYTES} for byte data, got {args.vocab_size}")
    try:
        config = config_from_arguments(TransformerConfig, args, train_len=args.seq_len)
        train_config = config_from_arguments(TrainConfig, args)
    except ValueError as error:
        p.error(str(error))
    return args, config, train_config


def main(argv: list[str] | None = None) -> int:
    keep_freed_memory()  # the arrays freed every step are reused, not faulted in again
    args, config, train_config = parse_args(argv)
    flags = run_config(args)
    with run_folder(args, flags, MAY_CHANGE, script=__file__, argv=argv) as path:
        return train_evaluate_sample(args, config, train_config, flags, path)


def train_evaluate_sample(args: argparse.Namespace, config: TransformerConfig, train_config: TrainConfig,
                          flags: dict, path: Path) -> int:
    """Train (or resume) the run with its checkpoint at ``path``, then evaluate, sample and write the summary."""
    train, val, corpus = lm_corpus_split(args.corpus, args.encoding)
    model = TransformerLM(config, rng=np.random.default_rng(args.seed))
    print(f"{corpus}\n{config}\n{train_config}\n{model.num_parameters():,} parameters", file=sys.stderr)
    losses = train_lm(model, train, train_config, checkpoint_path=path, resume=args.resume,
                      checkpoint_meta={"config": checkpoint.encode_config(flags)})
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
