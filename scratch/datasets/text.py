"""Text corpora: tokenizer, vocabulary, streaming a corpus as integer ids, subsampling.

A corpus is a plain-text file (``.gz`` allowed), UTF-8 unless an ``encoding`` says otherwise, one
sentence (or verse, or document) per line; a byte that does not decode raises ``UnicodeDecodeError``
naming the file and the line. Windows of the word-vector models never cross a line, so the
streaming reader keeps the line boundaries: it yields chunks of whole lines as one flat ``int32`` id
array plus the ``int64`` offsets of the line starts, the layout a Numba kernel can walk without
Python objects.
"""
from __future__ import annotations

import gzip
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..validation import boolean, positive_int, positive_real, text_encoding
from .paths import data_path, existing_file

CORPORA = {
    "english": "english.txt.gz",
    "lee": "lee_background.txt.gz",
    "gcide": "gcide.txt.gz",
}
DEFAULT_CORPUS = "english"
ENCODING_HINT = "the file is not {}: pass its encoding (encoding=... or a script's --encoding, e.g. latin-1)"

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def tokenize(line: str) -> list[str]:
    """Lower-case word tokens of ``line``.

    A token is a maximal run of Unicode letters and digits, possibly joined by single inner
    apostrophes (``don't``, ``o'clock``); the typographic apostrophe ``’`` counts as ``'``. Every
    other character separates tokens, so ``anti-war`` gives ``anti``, ``war`` and ``3.5`` gives
    ``3``, ``5``; leading and trailing apostrophes are dropped (``workers'`` gives ``workers``).
    """
    return _TOKEN.findall(line.lower().replace("\u2019", "'"))


def iter_lines(path: str | os.PathLike, encoding: str = "utf-8") -> Iterator[str]:
    """The lines of a text file (gzip-compressed when its name ends in ``.gz``), without ``\\n``."""
    path = existing_file(path, "text file")
    encoding = text_encoding("encoding", encoding)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding=encoding) as lines:
            for line in lines:
                yield line.rstrip("\n")
    except UnicodeDecodeError as error:
        raise undecodable(path, error) from None


def undecodable(path: Path, error: UnicodeDecodeError) -> UnicodeDecodeError:
    """``error`` restated for the first line of the file ``path`` that does not decode: the byte's
    position in that line, the file, the line number and how to give another encoding."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                line.decode(error.encoding)
            except UnicodeDecodeError as in_line:
                reason = f"{in_line.reason} (file {path}, line {number}); {ENCODING_HINT.format(error.encoding)}"
                return UnicodeDecodeError(in_line.encoding, in_line.object, in_line.start, in_line.end, reason)
    return UnicodeDecodeError(error.encoding, error.object, error.start, error.end,
                              f"{error.reason} (file {path}); {ENCODING_HINT.format(error.encoding)}")


def load_corpus(name: str | None = None) -> Path:
    """Path of a shipped corpus: ``"english"`` (the default), ``"lee"`` or ``"gcide"`` (``--optional``)."""
    name = DEFAULT_CORPUS if name is None else name
    if name not in CORPORA:
        raise ValueError(f"unknown corpus name {name!r}; expected one of {sorted(CORPORA)}")
    return data_path(CORPORA[name])


class Vocab:
    """Words and their counts, in frequency order; id 0 is reserved for padding and unknown words.

    ``words[i]`` and ``counts[i]`` describe id ``i``; ``words[0]`` is the placeholder ``"<unk>"``
    with ``counts[0] == 0``, so ``len(vocab)`` is the number of words + 1, the number of rows of an
    embedding matrix. ``vocab[word]`` raises ``KeyError`` for an unknown word; ``vocab.index(word)``
    and ``vocab.encode(tokens)`` map unknown words to 0.
    """

    UNKNOWN = "<unk>"

    def __init__(self, words: Sequence[str], counts: Sequence[int] | np.ndarray):
        """``words`` (ids 1..V, in this order) and their ``counts``."""
        counts = np.asarray(counts, dtype=np.int64)
        if counts.shape != (len(words),):
            raise ValueError(f"counts has shape {counts.shape}, expected ({len(words)},) to match words")
        if counts.size and counts.min() < 0:
            raise ValueError("counts must be non-negative")
        bad = next((w for w in words if w.split() != [w]), None)
        if bad is not None:
            raise ValueError(f"word {bad!r} is empty or contains whitespace")
        self.words: list[str] = [self.UNKNOWN, *words]
        self.counts: np.ndarray = np.concatenate([[0], counts])
        self._ids = {word: i for i, word in enumerate(words, start=1)}
        if len(self._ids) != len(words):
            raise ValueError("words contains duplicates")

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], min_count: int = 5) -> Vocab:
        """Keep the words counted at least ``min_count`` times, by decreasing count, ties alphabetical."""
        min_count = positive_int("min_count", min_count)
        kept = sorted(((-c, w) for w, c in counts.items() if c >= min_count))
        if not kept:
            top = max(counts.values(), default=0)
            raise ValueError(
                f"no word occurs min_count={min_count} times or more (the most frequent occurs {top} times)")
        return cls([w for _, w in kept], [-c for c, _ in kept])

    @classmethod
    def from_corpus(cls, path: str | os.PathLike, min_count: int = 5, encoding: str = "utf-8") -> Vocab:
        """Count the tokens of the corpus file ``path`` and keep those with ``min_count`` or more."""
        counts: Counter[str] = Counter()
        for line in iter_lines(path, encoding):
            counts.update(tokenize(line))
        if not counts:
            raise ValueError(f"corpus {path} is empty (no tokens)")
        return cls.from_counts(counts, min_count)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._ids

    def __getitem__(self, word: str) -> int:
        try:
            return self._ids[word]
        except KeyError:
            raise KeyError(f"word {word!r} is not in the vocabulary") from None

    def __repr__(self) -> str:
        return f"Vocab({len(self) - 1} words, {int(self.counts.sum())} tokens)"

    def index(self, word: str) -> int:
        """Id of ``word``, 0 when it is unknown."""
        return self._ids.get(word, 0)

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Ids of ``tokens`` as an ``int32`` array of the same length, unknown words as 0."""
        return np.fromiter((self._ids.get(t, 0) for t in tokens), dtype=np.int32)

    def save(self, path: str | os.PathLike) -> None:
        """Write one ``word count`` line per word in id order (ids 1..V), the word2vec/GloVe vocab format."""
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(f"{w} {c}\n" for w, c in zip(self.words[1:], self.counts[1:].tolist()))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        """Read a file written by ``save``, keeping its order."""
        words, counts = [], []
        for number, line in enumerate(iter_lines(existing_file(path, "vocabulary file")), start=1):
            fields = line.split(" ")
            if len(fields) != 2 or not fields[1].isdigit():
                raise ValueError(f"vocabulary file {path}, line {number}: expected 'word count', got {line!r}")
            words.append(fields[0])
            counts.append(int(fields[1]))
        return cls(words, counts)


class TokenChunk(NamedTuple):
    """Whole lines of a corpus as ids: line ``j`` is ``ids[offsets[j]:offsets[j + 1]]``.

    ``ids``: ``(n,)`` int32; ``offsets``: ``(lines + 1,)`` int64, ``offsets[0] == 0``, ``offsets[-1] == n``.
    """

    ids: np.ndarray
    offsets: np.ndarray


def iter_token_chunks(path: str | os.PathLike, vocab: Vocab, chunk_tokens: int = 1 << 20, *,
                      drop_unknown: bool = False, encoding: str = "utf-8") -> Iterator[TokenChunk]:
    """Stream the corpus ``path`` as ``TokenChunk``s of whole lines, about ``chunk_tokens`` ids each.

    A chunk is closed before the line that would take it past ``chunk_tokens``, so memory does not
    grow with the corpus; a single longer line makes a chunk of its own. Unknown words are id 0,
    or removed when ``drop_unknown`` (as word2vec.c does, so they take no window position). Lines
    without tokens are skipped.
    """
    chunk_tokens = positive_int("chunk_tokens", chunk_tokens)
    drop_unknown = boolean("drop_unknown", drop_unknown)
    lines: list[np.ndarray] = []
    size = 0
    for line in iter_lines(path, encoding):
        ids = vocab.encode(tokenize(line))
        if drop_unknown:
            ids = ids[ids != 0]
        if ids.size == 0:
            continue
        if lines and size + ids.size > chunk_tokens:
            yield _pack(lines)
            lines, size = [], 0
        lines.append(ids)
        size += ids.size
    if lines:
        yield _pack(lines)


def _pack(lines: list[np.ndarray]) -> TokenChunk:
    offsets = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum([line.size for line in lines], out=offsets[1:])
    return TokenChunk(np.concatenate(lines), offsets)


def subsample_keep_probs(counts: np.ndarray, threshold: float = 1e-3, total: int | None = None) -> np.ndarray:
    """Probability of keeping each occurrence of a word when subsampling frequent words.

    word2vec.c (``TrainModelThread``) keeps a word of count ``c`` with probability

        p = (sqrt(f / t) + 1) * t / f,    f = c / total,  t = threshold,

    i.e. ``sqrt(t/f) + t/f``, clipped here to 1 (gensim uses the same formula). ``total`` defaults
    to ``counts.sum()``, the number of in-vocabulary tokens, as in word2vec.c. Words with count 0
    (such as the reserved id 0) get 1.

    counts: ``(V,)`` non-negative integers  ->  ``(V,)`` float64 in (0, 1].
    """
    counts = np.asarray(counts)
    if counts.ndim != 1 or not np.issubdtype(counts.dtype, np.integer) or (counts.size and counts.min() < 0):
        raise ValueError(f"counts must be a 1-D array of non-negative integers, got {counts.dtype} {counts.shape}")
    threshold = positive_real("threshold", threshold)
    total = int(counts.sum()) if total is None else positive_int("total", total)
    if total < 1:
        raise ValueError(f"total must be a positive token count, got {total!r}")
    ratio = np.divide(threshold * total, counts, out=np.full(counts.shape, np.inf), where=counts > 0)
    return np.minimum(np.sqrt(ratio) + ratio, 1.0)
