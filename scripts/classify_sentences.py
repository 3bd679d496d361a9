"""Sentence classification with word vectors: the mean unit vector of a sentence, a logistic regression.

Reads vector files (word2vec text format, as ``train_glove.py`` and ``train_word2vec.py`` write
``vectors.w2v.txt``) and scores each on the shipped 200 labelled movie-review sentences
(``data/pang_lee_polarity.txt``, positive / negative) by stratified 10-fold cross-validation,
repeated over ``--seeds`` fold assignments (``scratch.evaluate.sentence_classification``).

    python scripts/classify_sentences.py runs/glove/vectors.w2v.txt runs/word2vec/vectors.w2v.txt
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("vectors", nargs="+", type=Path, help="vector files (word2vec text format)")
    p.add_argument("--format", default="word2vec", choices=("word2vec", "word2vec-binary", "glove"))
    p.add_argument("--sentences", default="pang_lee_polarity",
                   help="labelled sentences: the shipped set's name or a file of '__label__<class> <sentence>' lines")
    p.add_argument("--folds", type=int, default=10)
    p.add_argument("--l2", type=float, default=1.0, help="L2 penalty of the logistic regression")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="fold assignments to average over")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import numpy as np

    from scratch.datasets.evaluation import load_labelled_sentences
    from scratch.evaluate import sentence_classification
    from scratch.models.word_vectors import WordVectors

    sentences, labels = load_labelled_sentences(args.sentences)
    print(f"{len(sentences)} sentences, {labels.max() + 1} classes (majority {np.bincount(labels).max() / labels.size:.1%}); "
          f"{args.folds}-fold cross-validation, fold seeds {args.seeds}")
    print("| vectors | accuracy % (mean over fold seeds) | fold spread % | token coverage % |")
    print("|---|---|---|---|")
    for path in args.vectors:
        vectors = WordVectors.load(path, args.format)
        runs = [sentence_classification(vectors.vectors, vectors.words, sentences, labels, folds=args.folds,
                                        l2=args.l2, seed=seed) for seed in args.seeds]
        accuracy = np.mean([r["accuracy"] for r in runs])
        spread = np.mean([r["fold_spread"] for r in runs])
        print(f"| {path} | {100 * accuracy:.1f} | {100 * spread:.1f} | {100 * runs[0]['coverage']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
