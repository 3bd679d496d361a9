"""Train simpler GloVe (Su) or classic GloVe (Stanford) on a corpus and evaluate the vectors.

    python scripts/train_glove.py                       # simpler GloVe on the shipped English corpus
    python scripts/train_glove.py --model glove         # classic GloVe (glove.c defaults)
    python scripts/train_glove.py --no-truncate --epochs 10 --out runs/untruncated

Progress (iteration, cost, records/s) goes to stderr; the summary (analogy accuracy on unit and
raw vectors, WordSim-353 / SimLex-999 Spearman, Spearman(||v||, log count), the smallest-norm
words) to stdout. ``--out`` receives vectors.txt (GloVe format), vectors.w2v.txt (word2vec
format), vocab.txt, checkpoint.npz (after every iteration; ``--resume`` continues from it) and
norm_vs_frequency.png when matplotlib is installed.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["simpler", "glove"], default="simpler")
    parser.add_argument("--corpus", default=None, help="shipped corpus name (english, lee, gcide) or a text file")
    parser.add_argument("--dim", type=int, help="vector size (default: simpler 128, glove 50)")
    parser.add_argument("--window", type=int, help="symmetric window (default: simpler 10, glove 15)")
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--epochs", type=int, help="iterations over the records (default: simpler 30, glove 25)")
    parser.add_argument("--x-max", type=float, default=100.0)
    parser.add_argument("--alpha", type=float, default=0.75)
    parser.add_argument("--eta", type=float, help="AdaGrad rate (default: su 0.1, stanford 0.05)")
    parser.add_argument("--adagrad", choices=["su", "stanford"],
                        help="accumulate then divide (su) or divide then accumulate (stanford); default per model")
    parser.add_argument("--truncate", action=argparse.BooleanOptionalAction, default=True,
                        help="simpler GloVe: cap the weight f at 1")
    parser.add_argument("--simpler-model", choices=["shared", "concat", "sum"], default="shared",
                        help="simpler GloVe: one vector per word, or centre/context output side by side or summed")
    parser.add_argument("--output", choices=["sum", "word"], default="sum", help="glove: output W + C or W")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1),
                        help="Hogwild threads (1 = deterministic)")
    parser.add_argument("--memory", type=float, default=1.0, help="GB for co-occurrence counting")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=["glove", "word2vec", "word2vec-binary"], action="append",
                        help="vector file formats to write (repeatable; default glove and word2vec)")
    parser.add_argument("--out", type=Path, default=Path("runs/glove"))
    parser.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.npz")
    return parser.parse_args(argv)


def build_model(args):
    from scratch.models.glove import GloVe, SimplerGloVe

    common = {"min_count": args.min_count, "x_max": args.x_max, "alpha": args.alpha, "threads": args.threads,
              "seed": args.seed, "memory": args.memory, "dtype": args.dtype}
    optional = {k: v for k, v in (("dim", args.dim), ("window", args.window), ("epochs", args.epochs),
                                  ("eta", args.eta), ("adagrad", args.adagrad)) if v is not None}
    if args.model == "glove":
        return GloVe(**common, **optional, output=args.output)
    return SimplerGloVe(**common, **optional, truncate=args.truncate, model=args.simpler_model)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads > 1:
        os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    import numpy as np

    from scratch import checkpoint
    from scratch.datasets.cooccurrence import count_corpus
    from scratch.datasets.text import CORPORA, load_corpus
    from scratch.models.glove import analysis as glove_analysis
    from scratch.progress import Progress, check_finite

    model = build_model(args)
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / "checkpoint.npz"
    if args.resume:
        meta = checkpoint.load(saved)
        if meta["model"] != args.model:
            raise SystemExit(f"{saved} holds a {meta['model']} run, not --model {args.model}")
        model.load_state(meta)
        print(f"resuming after iteration {len(model.costs)} from {saved}", file=sys.stderr)

    corpus = load_corpus(args.corpus) if args.corpus is None or args.corpus in CORPORA else Path(args.corpus)
    start = time.perf_counter()
    vocab, cooccurrence = count_corpus(corpus, model.min_count, model.window, model.weighting, model.memory)
    counted = time.perf_counter() - start
    print(f"{corpus.name}: {vocab.counts.sum():,} tokens, {len(vocab) - 1:,} words, "
          f"{2 * len(cooccurrence):,} records (window {model.window}) in {counted:.1f}s", file=sys.stderr)

    progress = Progress(total=model.epochs, unit="records", label="iter", every=0.0)
    progress.update(len(model.costs))

    def after_epoch(epoch: int, cost: float) -> None:
        check_finite(cost, epoch, "cost")
        progress.update(epoch, items=2 * len(cooccurrence), cost=cost)
        checkpoint.save(saved, model=args.model, **model.state())

    model.fit_cooccurrence(cooccurrence, vocab, after_epoch)
    progress.close(cost=model.costs[-1])
    trained = progress.elapsed

    for fmt in args.format or ["glove", "word2vec"]:
        name = {"glove": "vectors.txt", "word2vec": "vectors.w2v.txt", "word2vec-binary": "vectors.bin"}[fmt]
        model.save(args.out / name, format=fmt)
    vocab.save(args.out / "vocab.txt")
    summary = glove_analysis.evaluation_summary(model.vectors, vocab.words, vocab.counts)
    plotted = glove_analysis.plot_norm_frequency(model.vectors, vocab.counts, str(args.out / "norm_vs_frequency.png"),
                                                 f"{args.model} GloVe, d={model.dim}")
    print(f"model {args.model}, d={model.dim}, window {model.window}, {model.epochs} iterations, "
          f"adagrad {model.adagrad}, seed {args.seed}, threads {args.threads}")
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
