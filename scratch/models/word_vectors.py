"""Trained word vectors: nearest neighbours, evaluation, and the word2vec / GloVe file formats.

``WordVectors`` holds ``vectors (V + 1, d)`` float32 and ``words`` (``V + 1`` strings) aligned with
the rows of a model's embedding matrix: row 0 is the padding/unknown row (``words[0] == "<unk>"``),
rows 1..V the vocabulary in decreasing frequency. Row 0 is never a neighbour and is never written
to a file; loading a file puts a zero row 0 back, so ``load(save(x))`` has the same layout.

File formats (all UTF-8, readable by ``gensim.models.KeyedVectors.load_word2vec_format``):

- ``"word2vec"``: a header line ``V d``, then ``word x_1 ... x_d`` per line;
- ``"word2vec-binary"``: the header line, then per word ``word`` + space + d little-endian float32
  + ``\\n`` (word2vec.c's layout);
- ``"glove"``: ``word x_1 ... x_d`` per line, no header (gensim: ``no_header=True``).

Models expose their vectors through ``WordVectorsMixin``, which only needs ``.vectors`` and ``.vocab``.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import evaluate, validation
from ..datasets.text import Vocab

FORMATS = ("word2vec", "word2vec-binary", "glove")


class WordVectors:
    """Word vectors with the padding row 0: ``vectors (V + 1, d)`` float32, ``words`` of length V + 1."""

    def __init__(self, vectors: Any, words: Sequence[str]):
        vectors = np.asarray(vectors)
        validation.shape("vectors", vectors, (None, None))
        validation.floating_dtype("vectors", vectors.dtype)
        if len(words) != vectors.shape[0]:
            raise ValueError(f"words has {len(words)} entries but vectors has {vectors.shape[0]} rows")
        if len(words) < 2:
            raise ValueError("words must hold the padding row 0 and at least one word")
        bad = next((w for w in words[1:] if not w or w.split() != [w]), None)
        if bad is not None:
            raise ValueError(f"word {bad!r} is empty or contains whitespace")
        self.vectors: np.ndarray = vectors.astype(np.float32, copy=False)
        self.words: list[str] = list(words)
        self._ids = {w: i for i, w in enumerate(self.words) if i > 0}

    def __len__(self) -> int:
        """Number of words, V (the padding row not counted)."""
        return len(self.words) - 1

    def __contains__(self, word: object) -> bool:
        return word in self._ids

    def __getitem__(self, word: str) -> np.ndarray:
        """The vector ``(d,)`` of ``word``."""
        return self.vectors[self.index(word)]

    def index(self, word: str) -> int:
        """Row of ``word``; ``KeyError`` when it is unknown."""
        try:
            return self._ids[word]
        except KeyError:
            raise KeyError(f"word {word!r} is not in the vocabulary") from None

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def most_similar(self, word: str, topn: int = 10) -> list[tuple[str, float]]:
        """The ``topn`` nearest words by cosine similarity, ``word`` itself excluded."""
        return evaluate.most_similar(self.vectors[1:], self.words[1:], word, validation.positive_int("topn", topn))

    def analogy_accuracy(self, **kwargs: Any) -> dict[str, Any]:
        """``scratch.evaluate.analogy_accuracy`` on these vectors (keyword arguments passed on)."""
        return evaluate.analogy_accuracy(self.vectors[1:], self.words[1:], **kwargs)

    def scores(self, **kwargs: Any) -> dict[str, float]:
        """``scratch.evaluate.word_vector_scores`` on these vectors: analogies, WS353, SimLex."""
        return evaluate.word_vector_scores(self.vectors[1:], self.words[1:], **kwargs)

    def word_pair_similarity(self, pairs: str | os.PathLike = "wordsim353") -> dict[str, float]:
        """``scratch.evaluate.word_pair_similarity`` on these vectors."""
        return evaluate.word_pair_similarity(self.vectors[1:], self.words[1:], pairs)

    def save(self, path: str | os.PathLike, format: str = "word2vec") -> None:
        """Write rows 1..V to ``path`` in ``format`` (``"word2vec"``, ``"word2vec-binary"`` or ``"glove"``)."""
        validation.choice("format", format, FORMATS)
        rows, words = self.vectors[1:], self.words[1:]
        if format == "word2vec-binary":
            with open(path, "wb") as f:
                f.write(f"{len(words)} {self.dim}\n".encode())
                for word, row in zip(words, rows):
                    f.write(word.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")
            return
        with open(path, "w", encoding="utf-8") as f:
            if format == "word2vec":
                f.write(f"{len(words)} {self.dim}\n")
            for word, row in zip(words, rows):
                f.write(word + " " + " ".join(f"{x:.9g}" for x in row.tolist()) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike, format: str = "word2vec") -> WordVectors:
        """Read a file written by ``save`` (or by word2vec.c, GloVe, gensim) in ``format``."""
        validation.choice("format", format, FORMATS)
        if format == "word2vec-binary":
            words, rows = _read_binary(path)
        else:
            words, rows = _read_text(path, header=format == "word2vec")
        vectors = np.concatenate([np.zeros((1, rows.shape[1]), np.float32), rows])
        return cls(vectors, [Vocab.UNKNOWN, *words])


def _read_text(path: str | os.PathLike, header: bool) -> tuple[list[str], np.ndarray]:
    words, rows = [], []
    with open(path, encoding="utf-8") as f:
        expected = tuple(int(n) for n in f.readline().split()) if header else None
        for number, line in enumerate(f, start=2 if header else 1):
            fields = line.rstrip("\n").rstrip(" ").split(" ")
            if len(fields) < 2 or (rows and len(fields) - 1 != rows[0].size):
                raise ValueError(f"vector file {path}, line {number}: expected 'word x_1 ... x_d'")
            words.append(fields[0])
            rows.append(np.array(fields[1:], dtype=np.float32))
    if not rows:
        raise ValueError(f"vector file {path} holds no vector")
    if expected is not None and expected != (len(rows), rows[0].size):
        raise ValueError(f"vector file {path}: header says {expected}, found {(len(rows), rows[0].size)}")
    return words, np.stack(rows)


def _read_binary(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    with open(path, "rb") as f:
        count, dim = (int(n) for n in f.readline().split())
        words, rows = [], np.empty((count, dim), np.float32)
        for i in range(count):
            word = bytearray()
            while (byte := f.read(1)) != b" ":
                if not byte:
                    raise ValueError(f"vector file {path}: ends inside word {i + 1} of {count}")
                word += byte
            words.append(word.decode("utf-8").lstrip("\n"))
            data = f.read(4 * dim)
            if len(data) != 4 * dim:
                raise ValueError(f"vector file {path}: ends inside vector {i + 1} of {count}")
            rows[i] = np.frombuffer(data, dtype="<f4")
    return words, rows


class WordVectorsMixin:
    """``most_similar`` and ``save`` for a model with ``vectors (V + 1, d)`` and ``vocab`` (a ``Vocab``)."""

    vectors: np.ndarray
    vocab: Vocab

    @property
    def word_vectors(self) -> WordVectors:
        """The trained vectors with their words."""
        return WordVectors(self.vectors, self.vocab.words)

    def most_similar(self, word: str, topn: int = 10) -> list[tuple[str, float]]:
        """The ``topn`` nearest words by cosine similarity, ``word`` itself excluded."""
        return self.word_vectors.most_similar(word, topn)

    def save(self, path: str | os.PathLike, format: str = "word2vec") -> None:
        """Write the vectors in ``format`` (``"word2vec"``, ``"word2vec-binary"`` or ``"glove"``)."""
        self.word_vectors.save(path, format)
