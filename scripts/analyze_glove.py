"""The "interesting results" of simpler GloVe (spec word_vectors.md §2.5) on trained vectors.

    python scripts/train_glove.py --out runs/glove        # writes vectors.txt and vocab.txt
    python scripts/analyze_glove.py --vectors runs/glove

Prints the smallest-norm words and Spearman(||v||, log count); for probe words the related words
(raw inner product = PMI), the cosine neighbours and the similar words (Cholesky-whitened cosine
with the N most frequent words as context); keywords <v_w, sum v> of a few sentences; analogies
from raw vectors (Su, query words kept) and from unit vectors (gensim, query words excluded);
sentence similarities. Saves norm_vs_frequency.png in the vectors directory when matplotlib is
installed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROBES = ["king", "god", "water", "war", "france", "eat", "walk", "good"]
SENTENCES = [
    "The president signed the new tax bill into law after a long debate in the senate.",
    "The fire spread quickly through the dry bush and destroyed dozens of homes near the town.",
    "Alice followed the white rabbit down the hole and found herself in a strange hall with many doors.",
    "And God said, Let there be light: and there was light.",
]
ANALOGIES = [("man", "king", "woman"), ("france", "paris", "england"), ("good", "better", "great"),
             ("walk", "walked", "go"), ("brother", "sister", "son")]


def parse_args(argv):
    from scratch.models.glove.analysis import CONTEXT_WORDS, SMALLEST_NORMS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", type=Path, default=Path("runs/glove"),
                        help="directory with vectors.txt (GloVe format) and vocab.txt from train_glove.py")
    parser.add_argument("--context-words", type=int, default=CONTEXT_WORDS,
                        help="N of the whitened similarity (default %(default)s)")
    parser.add_argument("--topn", type=int, default=8)
    parser.add_argument("--smallest", type=int, default=SMALLEST_NORMS, help="smallest norms listed (default %(default)s)")
    parser.add_argument("--probe", action="append", help="probe words (repeatable)")
    parser.add_argument("--out", type=Path, help="where the plot goes (default: --vectors)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from scratch.datasets.text import Vocab, tokenize
    from scratch.models.glove import analysis
    from scratch.models.word_vectors import WordVectors

    loaded = WordVectors.load(args.vectors / "vectors.txt", format="glove")
    vocab = Vocab.load(args.vectors / "vocab.txt")
    if loaded.words != vocab.words:
        raise SystemExit(f"{args.vectors}: vectors.txt and vocab.txt list different words")
    vectors, words = loaded.vectors, loaded.words

    def show(pairs):
        return ", ".join(f"{w} {s:.2f}" for w, s in pairs)

    rho, smallest = analysis.norm_frequency(vectors, words, vocab.counts, args.smallest)
    print(f"Spearman(||v||, log count) = {rho:.3f}")
    print(f"{args.smallest} smallest norms: " + " ".join(w for w, _ in smallest))
    context = min(args.context_words, len(words) - 1)
    for word in args.probe or PROBES:
        if word not in loaded:
            print(f"\n{word}: not in the vocabulary")
            continue
        print(f"\n{word} (||v|| = {float((vectors[loaded.index(word)] ** 2).sum()) ** 0.5:.2f})")
        print("  related (<v, v_w>):   " + show(analysis.most_correlative(vectors, words, word, args.topn, False)))
        print("  cosine:               " + show(analysis.most_correlative(vectors, words, word, args.topn)))
        for n in (context, min(500, context)):
            print(f"  similar (whitened, N={n}): "
                  + show(analysis.most_similar_whitened(vectors, words, word, args.topn, n)))
    print("\nkeywords <v_w, sum v>:")
    for sentence in SENTENCES:
        print(f"  {sentence}\n    -> " + show(analysis.keywords(vectors, words, tokenize(sentence), 5)))
    print("\nanalogies a : b :: c : ?")
    for a, b, c in ANALOGIES:
        if all(w in loaded for w in (a, b, c)):
            raw = analysis.analogy(vectors, words, a, b, c, topn=6)
            unit = analysis.analogy(vectors, words, a, b, c, topn=6, normalize=True, exclude_query=True)
            print(f"  {a} : {b} :: {c} : ?\n    raw (Su):      {show(raw)}\n    unit (gensim): {show(unit)}")
    print("\nsentence similarity (cosine of summed vectors):")
    for first, second in zip(SENTENCES, SENTENCES[1:] + SENTENCES[:1]):
        similarity = analysis.sentence_similarity(vectors, words, tokenize(first), tokenize(second))
        print(f"  {similarity:+.3f}  {first[:40]}... | {second[:40]}...")
    out = args.out or args.vectors
    if analysis.plot_norm_frequency(vectors, vocab.counts, str(out / "norm_vs_frequency.png")):
        print(f"\nplot: {out / 'norm_vs_frequency.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
