"""A corpus tokenized once: its tokens as ``int32`` ids on disk, streamed in chunks every epoch.

Tokenizing costs more than a training epoch of the word-vector kernels, so a corpus file is read
and tokenized once (``tokenize``'s rules) into a folder:

    words.txt   the distinct tokens, in order of first appearance; token id k is line k + 1 (id 0,
                an empty first line, is the line-break marker, never a word)
    counts.npy  ``(types,)`` int64, how often each token occurs
    ids.bin     ``(n,)`` int32 raw, the ids of all tokens of the lines that have tokens, in order
    lines.bin   ``(lines + 1,)`` int64 raw, where each of those lines starts in ids.bin (and the end)
    key.json    what the folder was made from; written last, so a folder without it is incomplete

The folder is named by a key over the corpus bytes (SHA-256), the encoding and the tokenizer, so a
changed corpus or another encoding finds no folder and is tokenized afresh; a cache is never read
for text it was not made from. The ids are tokenizer ids, not vocabulary ids: the vocabulary
(any ``min_count``) is applied when the chunks are read, one table look-up per token, so one
cache serves every vocabulary. ``chunks`` yields exactly the ``TokenChunk``s of
``iter_token_chunks`` over the text (same lines, same chunk boundaries), reading the memory-mapped
ids a block at a time, so memory stays flat for corpora larger than RAM.
"""
from __future__ import annotations

import collections
import contextlib
import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..validation import boolean, positive_int, text_encoding
from .paths import existing_file
from .prepare.registry import sha256
from .text import _TOKEN, TokenChunk, Vocab, undecodable

# The scripts' cache: a folder of this name beside the run's output.
TOKEN_FOLDER = "tokens"
# Bumped whenever tokenizing changes (the regular expression, lower-casing, the apostrophe rule).
TOKENIZER = "lower, \u2019 -> ', " + _TOKEN.pattern + ", v1"
# A token or a line break: one pass of the expression over a block of lines marks the lines.
_TOKEN_OR_LINE_BREAK = re.compile(_TOKEN.pattern + r"|\n")
_LINE_BREAK = 0
# Characters of text tokenized at a time, and tokens of ids mapped at a time when reading.
_TEXT_BLOCK = 1 << 23
_ID_BLOCK = 1 << 22


class TokenCache:
    """The tokens of one corpus file, as a folder written by ``TokenCache.build`` (module docstring)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.key = json.loads((self.folder / "key.json").read_text(encoding="utf-8"))
        self.words = (self.folder / "words.txt").read_text(encoding="utf-8").split("\n")[:-1]
        self.counts = np.load(self.folder / "counts.npy")
        self.ids = _memmap(self.folder / "ids.bin", np.int32)
        self.lines = _memmap(self.folder / "lines.bin", np.int64)
        if (len(self.words) != self.counts.size or self.lines.size < 1 or self.lines[-1] != self.ids.size
                or self.ids.size != self.key["tokens"]):
            raise ValueError(f"token cache {self.folder} is damaged (sizes disagree); remove the folder")

    @classmethod
    def open(cls, path: str | os.PathLike, encoding: str = "utf-8", folder: str | os.PathLike | None = None
             ) -> TokenCache:
        """The cache of the corpus file ``path`` (text in ``encoding``) under ``folder``, tokenizing the
        corpus first when ``folder`` holds no cache of these bytes with this encoding and tokenizer."""
        path = existing_file(path, "corpus")
        encoding = text_encoding("encoding", encoding)
        key = {"sha256": sha256(path), "encoding": encoding, "tokenizer": TOKENIZER}
        name = "tokens-" + hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        target = Path(folder) / name
        if not (target / "key.json").exists():
            cls.build(path, encoding, target, key)
        return cls(target)

    @staticmethod
    def build(path: Path, encoding: str, target: Path, key: dict) -> None:
        """Tokenize ``path`` into the folder ``target`` (made in a sibling temporary folder, then renamed)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=target.name + ".part-", dir=target.parent))
        try:
            # A new token gets the next id, len(index), as it is looked up: one pass in C, no Python per token.
            index = collections.defaultdict(None, {"\n": _LINE_BREAK})
            index.default_factory = index.__len__
            counts = np.zeros(1, np.int64)
            tokens, lines = 0, 1
            with open(work / "ids.bin", "wb") as ids_file, open(work / "lines.bin", "wb") as lines_file:
                lines_file.write(np.zeros(1, np.int64).tobytes())
                for ids, lengths in _tokenized_blocks(path, encoding, index):
                    counts = np.bincount(ids, minlength=len(index)) + np.pad(counts, (0, len(index) - counts.size))
                    ids_file.write(ids.tobytes())
                    lines_file.write((tokens + np.cumsum(lengths)).tobytes())
                    tokens, lines = tokens + ids.size, lines + lengths.size
            counts[_LINE_BREAK] = 0
            (work / "words.txt").write_text("".join(w.strip() + "\n" for w in index), encoding="utf-8")
            np.save(work / "counts.npy", counts)
            (work / "key.json").write_text(json.dumps({**key, "corpus": str(path), "bytes": path.stat().st_size,
                                                       "tokens": tokens, "lines": lines - 1}, indent=1),
                                           encoding="utf-8")
            if target.exists():  # a folder left incomplete by an interrupted build
                shutil.rmtree(target)
            os.replace(work, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    @property
    def corpus(self) -> str:
        """The path of the corpus the cache was made from."""
        return self.key["corpus"]

    def vocab(self, min_count: int = 5) -> Vocab:
        """``Vocab.from_corpus(corpus, min_count)``, from the stored counts."""
        if self.ids.size == 0:
            raise ValueError(f"corpus {self.corpus} is empty (no tokens)")
        return Vocab.from_counts(dict(zip(self.words[1:], self.counts[1:].tolist())), min_count)

    def vocab_ids(self, vocab: Vocab) -> np.ndarray:
        """``(types,)`` int32: the id in ``vocab`` of each token id (0 for unknown words and the line break)."""
        table = np.fromiter(map(vocab.index, self.words), np.int32, len(self.words))
        table[_LINE_BREAK] = 0
        return table

    def chunks(self, vocab: Vocab, chunk_tokens: int = 1 << 20, *, drop_unknown: bool = False
               ) -> Iterator[TokenChunk]:
        """The ``TokenChunk``s of ``iter_token_chunks(corpus, vocab, chunk_tokens, drop_unknown=...)``."""
        chunk_tokens = positive_int("chunk_tokens", chunk_tokens)
        drop_unknown = boolean("drop_unknown", drop_unknown)
        table = self.vocab_ids(vocab)
        held: list[np.ndarray] = []
        held_lengths: list[np.ndarray] = []
        size = 0
        for ids, lengths in self._blocks(table, drop_unknown):
            # Greedy as iter_token_chunks: a line joins the chunk unless it would take it past
            # chunk_tokens; ends[k] is where line k of the block ends in ids.
            ends = np.cumsum(lengths)
            line, start = 0, 0
            while line < lengths.size:
                last = max(line, int(np.searchsorted(ends, start + chunk_tokens - size, side="right")))
                if last == line and size == 0:
                    last = line + 1  # a line longer than chunk_tokens is a chunk of its own
                if last > line:
                    held.append(ids[start:ends[last - 1]])
                    held_lengths.append(lengths[line:last])
                    size += int(ends[last - 1]) - start
                    line, start = last, int(ends[last - 1])
                if line < lengths.size:
                    yield _pack(held, held_lengths)
                    held, held_lengths, size = [], [], 0
        if held:
            yield _pack(held, held_lengths)

    def _blocks(self, table: np.ndarray, drop_unknown: bool) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Vocabulary ids of about ``_ID_BLOCK`` tokens of whole lines at a time, and the lengths of
        their lines, lines left without a token removed."""
        first = 0
        while first < self.lines.size - 1:
            last = int(np.searchsorted(self.lines, self.lines[first] + _ID_BLOCK, side="right")) - 1
            last = min(max(last, first + 1), self.lines.size - 1)
            starts = np.asarray(self.lines[first:last + 1])
            ids = table[self.ids[starts[0]:starts[-1]]]
            starts = starts - starts[0]
            if drop_unknown:
                known = ids != 0
                before = np.zeros(ids.size + 1, np.int64)
                np.cumsum(known, out=before[1:])
                starts, ids = before[starts], ids[known]
            lengths = np.diff(starts)
            yield ids, lengths[lengths > 0]
            first = last


@contextlib.contextmanager
def corpus_tokens(path: str | os.PathLike, encoding: str = "utf-8",
                  folder: str | os.PathLike | None = None) -> Iterator[TokenCache]:
    """``TokenCache.open(path, encoding, folder)``; with no ``folder``, a temporary cache removed on exit."""
    if folder is not None:
        yield TokenCache.open(path, encoding, folder)
        return
    with tempfile.TemporaryDirectory(prefix="tokens-") as temporary:
        yield TokenCache.open(path, encoding, temporary)


def _tokenized_blocks(path: Path, encoding: str, index: collections.defaultdict
                      ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Token ids (new tokens added to ``index``) of blocks of whole lines of ``path``, and the token
    count of each line that has tokens. ``str.lower`` and the expression see whole lines joined by
    ``\\n``, which no token contains, so the tokens are those of ``tokenize`` line by line."""
    opener = gzip.open if path.suffix == ".gz" else open
    rest = ""
    try:
        with opener(path, "rt", encoding=encoding) as text:
            while True:
                block = text.read(_TEXT_BLOCK)
                if not block:
                    break
                cut = block.rfind("\n") + 1
                if cut == 0:  # no line ends in this block
                    rest += block
                    continue
                lines, rest = rest + block[:cut], block[cut:]
                yield _block_ids(lines, index)
    except UnicodeDecodeError as error:
        raise undecodable(path, error) from None
    if rest:
        yield _block_ids(rest + "\n", index)


def _block_ids(block: str, index: collections.defaultdict) -> tuple[np.ndarray, np.ndarray]:
    tokens = _TOKEN_OR_LINE_BREAK.findall(block.lower().replace("\u2019", "'"))
    ids = np.fromiter(map(index.__getitem__, tokens), np.int32, len(tokens))
    breaks = np.flatnonzero(ids == _LINE_BREAK)
    lengths = np.diff(breaks, prepend=-1) - 1
    return ids[ids != _LINE_BREAK], lengths[lengths > 0]


def _pack(held: list[np.ndarray], held_lengths: list[np.ndarray]) -> TokenChunk:
    lengths = np.concatenate(held_lengths)
    offsets = np.zeros(lengths.size + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return TokenChunk(np.concatenate(held), offsets)


def _memmap(path: Path, dtype: type) -> np.ndarray:
    if path.stat().st_size == 0:
        return np.zeros(0, dtype)
    return np.memmap(path, dtype=dtype, mode="r")
