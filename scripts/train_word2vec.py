"""Train word2vec with the random softmax loss (spec word_vectors.md §1) and evaluate the vectors.

    python scripts/train_word2vec.py                      # CBOW, shared softmax, K=16 uniform (the post)
    python scripts/train_word2vec.py --sg --separate --negative 5 --sampler unigram \\
        --subsample both --shrink-window                  # word2vec.c-like skip-gram
    python scripts/train_word2vec.py --loss sampled-softmax --negative 1000   # Su's comparison losses
    python scripts/train_word2vec.py --corpus my.txt --format word2vec-binary --out runs/w2v

Streams ``--corpus`` (a whitespace-separated text file, one sentence or document per line, any size;
default: the shipped English corpus) chunk by chunk, prints progress on stderr, then the analogy
accuracy (restrict 30k), WS353 / SimLex Spearman and the neighbours of a few probe words; writes the
vectors (``--format``) and a checkpoint per epoch under ``--out`` (``--resume`` continues from it).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from scratch import checkpoint
from scratch.datasets import Vocab
from scratch.models.word2vec import PRESETS, Word2Vec, resolve_corpus
from scratch.models.word_vectors import FORMATS

PROBES = ("king", "water", "city", "good", "god", "france", "three", "war")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    arch = p.add_mutually_exclusive_group()
    arch.add_argument("--sg", dest="sg", action="store_true", help="skip-gram (input = one context word)")
    arch.add_argument("--cbow", dest="sg", action="store_false", help="CBOW, the default (context summed)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--shared", dest="shared", action="store_true", default=True,
                     help="output layer W ≡ E, b ≡ 0 (the default, as the post)")
    out.add_argument("--separate", dest="shared", action="store_false", help="separate output W and bias b")
    p.add_argument("--no-bias", dest="bias", action="store_false",
                   help="with --separate: no output bias b (word2vec.c and gensim have none)")
    p.add_argument("--cbow-mean", action="store_true", help="average the context instead of summing it")
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=16, help="K sampled ids per example")
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--loss", choices=sorted(PRESETS), default="random-softmax")
    p.add_argument("--sampler", choices=["uniform", "unigram", "log-uniform"], default=None,
                   help="default: the loss preset's (uniform for random-softmax); unigram = counts^0.75")
    p.add_argument("--log-q", action=argparse.BooleanOptionalAction, default=None,
                   help="subtract log(K q) from the logits (default: the loss preset's)")
    p.add_argument("--remove-accidental-hits", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--shared-negatives", type=int, default=None,
                   help="reuse one negative set for this many consecutive examples (1 = fresh per example)")
    p.add_argument("--exclude-padding", action="store_true", help="never draw the padding id 0 as a negative")
    p.add_argument("--no-pad-context", dest="pad_context", action="store_false",
                   help="CBOW: leave missing context slots out instead of adding the padding row E[0]")
    p.add_argument("--right-off-by-one", action="store_true", help="the TF class's window−1 right context words")
    p.add_argument("--shrink-window", action="store_true", help="uniform random reach 1..window (word2vec.c)")
    p.add_argument("--subsample", choices=["off", "centre", "both"], default="off")
    p.add_argument("--sample", type=float, default=1e-3, help="subsampling threshold t")
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--optimizer", choices=["sgd", "lazy-adam", "lazy-adagrad", "adam"], default="sgd",
                   help="sgd / lazy-adam / lazy-adagrad: the Numba kernel (lazy: per-row state, rate --lr); "
                        "adam: dense Adam on the autograd path (slow; small corpora)")
    p.add_argument("--alpha", type=float, default=0.025, help="SGD learning rate at the start")
    p.add_argument("--min-alpha", type=float, default=0.0001, help="SGD learning rate at the end")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate of the Adam / Adagrad optimizers")
    p.add_argument("--batch-size", type=int, default=8000, help="Adam batch; shared-negative batch")
    p.add_argument("--threads", type=int, default=1, help="Hogwild parts (1 = deterministic)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--corpus", default=None, help="text file, or a shipped corpus name (english, lee, gcide)")
    p.add_argument("--format", choices=FORMATS, default="word2vec", help="format of the written vectors")
    p.add_argument("--out", type=Path, default=Path("runs/word2vec"))
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--probes", nargs="*", default=list(PROBES), help="words whose neighbours are printed")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = {name: getattr(args, name) for name in (
        "sg", "shared", "bias", "cbow_mean", "window", "negative", "dim", "epochs", "loss", "sampler", "log_q",
        "remove_accidental_hits", "shared_negatives", "exclude_padding", "pad_context", "right_off_by_one",
        "shrink_window", "subsample", "sample", "min_count", "optimizer", "alpha", "min_alpha", "lr",
        "batch_size", "threads", "seed")}
    model = Word2Vec(**options)
    path = resolve_corpus(args.corpus)
    args.out.mkdir(parents=True, exist_ok=True)
    ckpt = args.out / "checkpoint.npz"
    start = time.perf_counter()
    model.build(Vocab.from_corpus(path, args.min_count))
    start_epoch = checkpoint.load(ckpt, model, model.optimizer)["epoch"] if args.resume else 0
    resuming = f"; resuming after epoch {start_epoch}" if start_epoch else ""
    print(f"corpus {path}: {len(model.vocab) - 1} words, {int(model.vocab.counts.sum())} tokens{resuming}",
          file=sys.stderr)

    def save_checkpoint(model: Word2Vec, epoch: int) -> None:
        checkpoint.save(ckpt, model, model.optimizer, epoch=epoch, loss=model.history[-1]["loss"])

    model.fit(path, start_epoch=start_epoch, on_epoch_end=save_checkpoint)
    seconds = time.perf_counter() - start
    vectors_path = args.out / ("vectors.bin" if args.format == "word2vec-binary" else "vectors.txt")
    model.save(vectors_path, args.format)

    scores = model.word_vectors.scores()
    print(f"trained {args.epochs - start_epoch} epochs in {seconds:.1f}s; final loss "
          f"{model.history[-1]['loss']:.4f}" if model.history else "nothing left to train")
    print(f"analogies (restrict 30k): {100 * scores['analogy']:.2f}% of {int(scores['analogy_seen'])} seen "
          f"(semantic {100 * scores['analogy_semantic']:.2f}%, syntactic {100 * scores['analogy_syntactic']:.2f}%)")
    print(f"WS353 Spearman {scores['wordsim353_spearman']:.3f} (OOV {scores['wordsim353_oov_percent']:.1f}%), "
          f"SimLex-999 Spearman {scores['simlex999_spearman']:.3f} (OOV {scores['simlex999_oov_percent']:.1f}%)")
    for word in args.probes:
        if word in model.vocab:
            neighbours = ", ".join(f"{w} {s:.3f}" for w, s in model.most_similar(word, topn=8))
            print(f"  {word}: {neighbours}")
    summary = {"options": options, "corpus": str(path), "seconds": seconds, "history": model.history, **scores}
    (args.out / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"vectors: {vectors_path}; summary: {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
