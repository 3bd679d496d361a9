"""Train word2vec with the random softmax loss (spec word_vectors.md §1) and evaluate the vectors.

    python scripts/train_word2vec.py                      # CBOW, shared softmax, K=16 uniform (the post)
    python scripts/train_word2vec.py --sg --separate --negative 5 --sampler unigram \\
        --subsample both --shrink-window                  # word2vec.c-like skip-gram
    python scripts/train_word2vec.py --loss sampled-softmax --negative 1000   # Su's comparison losses
    python scripts/train_word2vec.py --corpus my.txt --format word2vec-binary --out runs/w2v

Streams ``--corpus`` (a whitespace-separated text file, one sentence or document per line, any size;
default: the shipped English corpus) chunk by chunk, prints progress on stderr, then the analogy
accuracy (restrict 30k), WS353 / SimLex Spearman and the neighbours of a few probe words; writes the
vectors (``--format``) and a checkpoint per epoch under ``--out`` (``--resume`` continues from it with
the same flags, ``--overwrite`` starts afresh). The corpus is tokenized once into ``--out``/tokens
(int32 ids, reused by later runs on the same corpus bytes); every epoch streams the ids.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import fields
from typing import get_type_hints

from scratch import checkpoint
from scratch.cli import add_run_arguments, run_config, run_folder
from scratch.datasets.tokens import TOKEN_FOLDER, TokenCache
from scratch.memory import keep_freed_memory
from scratch.models.word2vec import CHOICES, Word2Vec, Word2VecConfig, resolve_corpus
from scratch.models.word_vectors import FORMATS

PROBES = ("king", "water", "city", "good", "god", "france", "three", "war")
# Settings a resumed run may change: how long it trains, how fast, what it writes and prints.
MAY_CHANGE = ("epochs", "threads", "format", "probes")
# The flags of the on/off settings that are not spelled --name / --no-name.
PAIRS = {"sg": ("--sg", "--cbow"), "shared": ("--shared", "--separate")}
HELP = {
    "dim": "vector dimension d",
    "window": "context words on each side of the centre",
    "loss": "preset of objective, sampler, log-Q, hits and shared negatives (scratch.models.word2vec)",
    "subsample": "drop frequent words: off, as centres only, or from the line before windowing (both)",
    "min_count": "words seen fewer times are left out of the vocabulary",
    "epochs": "passes over the corpus",
    "seed": "seed of the initialisation and of the kernel's random numbers",
    "sg": ("skip-gram (input = one context word)", "CBOW, the default (context summed)"),
    "shared": ("output layer W ≡ E, b ≡ 0 (the default, as in Su's code)", "separate output W and bias b"),
    "bias": "with --separate: no output bias b (word2vec.c and gensim have none)",
    "cbow_mean": "average the context instead of summing it",
    "negative": "K sampled ids per example",
    "sampler": "default: the loss preset's (uniform for random-softmax); unigram = counts^0.75",
    "log_q": "subtract log(K q) from the logits (default: the loss preset's)",
    "remove_accidental_hits": "leave out the samples that drew the target (default: the loss preset's)",
    "shared_negatives": "reuse one negative set for this many consecutive examples (1 = fresh per example; "
                        "default: the loss preset's)",
    "exclude_padding": "never draw the padding id 0 as a negative",
    "pad_context": "CBOW: leave missing context slots out instead of adding the padding row E[0]",
    "right_off_by_one": "the TF class's window−1 right context words",
    "shrink_window": "uniform random reach 1..window (word2vec.c)",
    "sample": "subsampling threshold t",
    "optimizer": "sgd / lazy-adam / lazy-adagrad: the Numba kernel (lazy: per-row state, rate --lr); "
                 "adam: dense Adam on the autograd path (slow; small corpora)",
    "alpha": "SGD learning rate at the start",
    "min_alpha": "SGD learning rate at the end",
    "lr": "learning rate of the Adam / Adagrad optimizers",
    "batch_size": "Adam batch; shared-negative batch",
    "init_scale": "E, W drawn from U(±init_scale)",
    "threads": "Hogwild parts (1 = deterministic)",
    "chunk_tokens": "tokens per streamed corpus chunk",
}


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The module docstring as written, and the default of each flag that takes a value."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, argparse.SUPPRESS) or isinstance(action.default, bool) \
                or "%(default)" in action.help:
            return action.help
        return f"{action.help} (default: %(default)s)"


def add_config_arguments(parser: argparse.ArgumentParser) -> list[str]:
    """One flag per field of ``Word2VecConfig``, its default and choices taken from there; returns the names."""
    hints = get_type_hints(Word2VecConfig)
    names = []
    for f in fields(Word2VecConfig):
        if not f.init or f.name == "resolved":
            continue
        name, kind, help = f.name, hints[f.name], HELP.get(f.name)
        flag = "--" + name.replace("_", "-")
        if name in PAIRS:
            group = parser.add_mutually_exclusive_group()
            group.add_argument(PAIRS[name][0], dest=name, action="store_true", help=help[0])
            group.add_argument(PAIRS[name][1], dest=name, action="store_false", help=help[1])
            parser.set_defaults(**{name: f.default})
        elif kind is bool and f.default:
            parser.add_argument("--no-" + flag[2:], dest=name, action="store_false", help=help)
        elif kind is bool:
            parser.add_argument(flag, action="store_true", help=help)
        elif kind == bool | None:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help)
        elif name in CHOICES:
            parser.add_argument(flag, choices=CHOICES[name], default=f.default, help=help)
        else:
            number = next(t for t in (int, float) if kind in (t, t | None))
            parser.add_argument(flag, type=number, default=f.default, help=help)
        names.append(name)
    return names


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, dict]:
    """The script's arguments and the keyword arguments of ``Word2Vec`` among them."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    names = add_config_arguments(p)
    p.add_argument("--corpus", default=None, help="text file, or a shipped corpus name (english, lee, gcide)")
    p.add_argument("--encoding", default="utf-8", help="text encoding of --corpus")
    p.add_argument("--format", choices=FORMATS, default=FORMATS[0], help="format of the written vectors")
    add_run_arguments(p, "runs/word2vec", MAY_CHANGE)
    p.add_argument("--probes", nargs="*", default=list(PROBES), help="words whose neighbours are printed")
    args = p.parse_args(argv)
    return args, {name: getattr(args, name) for name in names}


def main(argv: list[str] | None = None) -> int:
    keep_freed_memory()  # the arrays freed every step are reused, not faulted in again
    args, options = parse_args(argv)
    model = Word2Vec(**options)
    path = resolve_corpus(args.corpus)
    config = run_config(args)
    with run_folder(args, config, MAY_CHANGE, script=__file__, argv=argv) as ckpt:
        start = time.perf_counter()
        tokens = TokenCache.open(path, args.encoding, args.out / TOKEN_FOLDER)
        model.build(tokens.vocab(args.min_count))
        start_epoch = checkpoint.load(ckpt, model, model.optimizer)["epoch"] if args.resume else 0
        resuming = f"; resuming after epoch {start_epoch}" if start_epoch else ""
        print(f"corpus {path}: {len(model.vocab) - 1} words, {int(model.vocab.counts.sum())} tokens{resuming}",
              file=sys.stderr)

        def save_checkpoint(model: Word2Vec, epoch: int) -> None:
            checkpoint.save(ckpt, model, model.optimizer, epoch=epoch, loss=model.history[-1]["loss"],
                            config=checkpoint.encode_config(config))

        model.fit(path, start_epoch=start_epoch, on_epoch_end=save_checkpoint, encoding=args.encoding,
                  token_cache=args.out / TOKEN_FOLDER)
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
