"""Train simpler GloVe (Su) or classic GloVe (Stanford) on a corpus and evaluate the vectors.

    python scripts/train_glove.py                       # simpler GloVe on the shipped English corpus
    python scripts/train_glove.py --model glove         # classic GloVe (glove.c defaults)
    python scripts/train_glove.py --no-truncate --epochs 10 --out runs/untruncated

Progress (iteration, cost, records/s) goes to stderr; the summary (analogy accuracy on unit and
raw vectors, WordSim-353 / SimLex-999 Spearman, Spearman(||v||, log count), the smallest-norm
words) to stdout. ``--out`` receives vectors.txt (GloVe format), vectors.w2v.txt (word2vec
format), vocab.txt, checkpoint.npz (after every iteration; ``--resume`` continues from it with the
same flags, ``--overwrite`` starts afresh), tokens/ (the corpus tokenized once, as int32 ids, reused by
later runs on the same corpus bytes) and norm_vs_frequency.png when matplotlib is installed.
One thread (the default) is deterministic: a seed reproduces the run bit for bit; ``--threads 2``
runs Hogwild, faster on an idle machine, but two runs with one seed then differ.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


# One thread by default, the deterministic mode: a seed reproduces the run (Hogwild threads do not).
DEFAULT_THREADS = 1
# Settings a resumed run may change: how long it trains, how fast, which files it writes.
MAY_CHANGE = ("epochs", "threads", "format")
# Constructor keywords whose flag has another name (``--model`` picks the model class).
FLAG_OF_KEYWORD = {"model": "simpler_model"}
VECTOR_FILES = {"glove": "vectors.txt", "word2vec": "vectors.w2v.txt", "word2vec-binary": "vectors.bin"}


def set_numba_threads(argv) -> None:
    """Size Numba's thread pool from ``--threads`` before Numba loads (it reads the environment once)."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    threads = early.parse_known_args(argv)[0].threads
    if threads > 1:
        os.environ.setdefault("NUMBA_NUM_THREADS", str(threads))


def parse_args(argv):
    """Flags named as the models' keywords; an absent flag leaves the model's own default."""
    from scratch.cli import add_run_arguments
    from scratch.datasets.text import CORPORA, DEFAULT_CORPUS
    from scratch.kernels.glove import ADAGRAD_ORDERS
    from scratch.models.glove import GloVe, SimplerGloVe
    from scratch.models.glove.model import DTYPES
    from scratch.models.word_vectors import FORMATS

    simpler, glove = SimplerGloVe.defaults(), GloVe.defaults()

    def default(name):
        if name not in glove:
            return f"default {simpler[name]}"
        if name not in simpler:
            return f"default {glove[name]}"
        same = simpler[name] == glove[name]
        return f"default {simpler[name]}" if same else f"default: simpler {simpler[name]}, glove {glove[name]}"

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["simpler", "glove"], default="simpler")
    parser.add_argument("--corpus", default=None,
                        help=f"shipped corpus name ({', '.join(CORPORA)}; default {DEFAULT_CORPUS}) or a text file")
    parser.add_argument("--encoding", default="utf-8", help="text encoding of --corpus (default utf-8)")
    parser.add_argument("--dim", type=int, help=f"vector size ({default('dim')})")
    parser.add_argument("--window", type=int, help=f"symmetric window ({default('window')})")
    parser.add_argument("--min-count", type=int, help=f"rarest word kept ({default('min_count')})")
    parser.add_argument("--epochs", type=int, help=f"iterations over the records ({default('epochs')})")
    parser.add_argument("--x-max", type=float, help=f"count where the weight f reaches 1 ({default('x_max')})")
    parser.add_argument("--alpha", type=float, help=f"exponent of the weight f ({default('alpha')})")
    parser.add_argument("--eta", type=float, help=f"AdaGrad rate ({default('eta')})")
    parser.add_argument("--adagrad", choices=ADAGRAD_ORDERS,
                        help=f"accumulate then divide (su) or divide then accumulate (stanford); {default('adagrad')}")
    parser.add_argument("--truncate", action=argparse.BooleanOptionalAction,
                        help=f"simpler GloVe: cap the weight f at 1 ({default('truncate')})")
    parser.add_argument("--simpler-model", choices=SimplerGloVe.MODELS,
                        help="simpler GloVe: one vector per word, or centre/context output side by side or summed "
                             f"({default('model')})")
    parser.add_argument("--output", choices=GloVe.OUTPUTS, help=f"glove: output W + C or W ({default('output')})")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="Hogwild threads (default 1: deterministic, a seed reproduces the run; with 2 or more "
                             "two runs with one seed differ)")
    parser.add_argument("--memory", type=float, help=f"GB for co-occurrence counting ({default('memory')})")
    parser.add_argument("--dtype", choices=DTYPES, help=f"parameter dtype ({default('dtype')})")
    parser.add_argument("--seed", type=int, help=f"initialisation and shuffling seed ({default('seed')})")
    parser.add_argument("--format", choices=FORMATS, action="append",
                        help="vector file formats to write (repeatable; default glove and word2vec)")
    add_run_arguments(parser, "runs/glove", MAY_CHANGE)
    return parser.parse_args(argv)


def build_model(args):
    """The chosen model with the flags that were given; the others keep the constructor's defaults."""
    from scratch.models.glove import GloVe, SimplerGloVe

    model_class = GloVe if args.model == "glove" else SimplerGloVe
    given = {name: getattr(args, FLAG_OF_KEYWORD.get(name, name)) for name in model_class.defaults()}
    return model_class(**{name: value for name, value in given.items() if value is not None})


def main(argv=None) -> int:
    set_numba_threads(argv)
    args = parse_args(argv)
    import numpy as np

    from scratch import checkpoint
    from scratch.cli import run_config, run_folder
    from scratch.datasets.cooccurrence import count_corpus
    from scratch.datasets.text import CORPORA, load_corpus
    from scratch.datasets.tokens import TOKEN_FOLDER
    from scratch.memory import keep_freed_memory
    from scratch.models.glove import analysis as glove_analysis
    from scratch.progress import Progress, check_finite

    keep_freed_memory()  # the arrays freed every step are reused, not faulted in again
    model = build_model(args)
    config = run_config(args)
    with run_folder(args, config, MAY_CHANGE, script=__file__, argv=argv) as saved:
        if args.resume:
            model.load_state(checkpoint.load(saved))
            print(f"resuming after iteration {len(model.costs)} from {saved}", file=sys.stderr)

        corpus = load_corpus(args.corpus) if args.corpus is None or args.corpus in CORPORA else Path(args.corpus)
        start = time.perf_counter()
        vocab, cooccurrence = count_corpus(corpus, model.min_count, model.window, model.weighting, model.memory,
                                           encoding=args.encoding, token_cache=args.out / TOKEN_FOLDER)
        counted = time.perf_counter() - start
        print(f"{corpus.name}: {vocab.counts.sum():,} tokens, {len(vocab) - 1:,} words, "
              f"{2 * len(cooccurrence):,} records (window {model.window}) in {counted:.1f}s", file=sys.stderr)

        progress = Progress(total=model.epochs, unit="records", label="iter", every=0.0)
        progress.update(len(model.costs))

        def after_epoch(epoch: int, cost: float) -> None:
            check_finite(cost, epoch, "cost")
            progress.update(epoch, items=2 * len(cooccurrence), cost=cost)
            checkpoint.save(saved, epoch=epoch, config=checkpoint.encode_config(config), **model.state())

        model.fit_cooccurrence(cooccurrence, vocab, after_epoch)
        progress.close(cost=model.costs[-1])
        trained = progress.elapsed

        for fmt in args.format or ["glove", "word2vec"]:
            model.save(args.out / VECTOR_FILES[fmt], format=fmt)
        vocab.save(args.out / "vocab.txt")
        summary = glove_analysis.evaluation_summary(model.vectors, vocab.words, vocab.counts)
        plotted = glove_analysis.plot_norm_frequency(model.vectors, vocab.counts,
                                                     str(args.out / "norm_vs_frequency.png"),
                                                     f"{args.model} GloVe, d={model.dim}")
        print(f"model {args.model}, d={model.dim}, window {model.window}, {model.epochs} iterations, "
              f"adagrad {model.adagrad}, seed {model.seed}, threads {model.threads}")
        print(f"counting {counted:.1f}s, training {trained:.1f}s, final cost {model.costs[-1]:.6f}")
        for key, label in (("analogy", "analogy (unit vectors, gensim)"), ("analogy_raw", "analogy (raw vectors, Su)")):
            r = summary[key]
            print(f"{label}: {100 * r['accuracy']:.2f}% (semantic {100 * r['semantic']:.2f}%, "
                  f"syntactic {100 * r['syntactic']:.2f}%) on {r['seen']}/{r['total']} questions")
        for key in ("wordsim353", "simlex999"):
            r = summary[key]
            print(f"{key} Spearman {r['spearman']:.3f} (OOV {r['oov_percent']:.1f}%)")
        print(f"Spearman(||v||, log count) {summary['norm_log_count_spearman']:.3f}")
        print("smallest norms: " + " ".join(w for w, _ in summary["smallest_norms"]))
        print(f"vectors in {args.out}" + (" (with norm_vs_frequency.png)" if plotted else ""))
        return 0 if np.isfinite(model.costs[-1]) else 1


if __name__ == "__main__":
    sys.exit(main())
