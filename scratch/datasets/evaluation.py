"""Word-vector evaluation sets: Google analogies (``questions-words.txt``) and word-pair similarity
(WordSim-353, SimLex-999). Words are lower-cased; blank lines and ``#`` comment lines are skipped.

``questions-words.txt``: ``: section-name`` lines open a section; each other line is a question
``a b c d`` read "a is to b as c is to d". Sections whose name starts with ``gram`` are syntactic,
the others semantic. Word-pair files: ``word1<TAB>word2<TAB>score`` per line.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .paths import data_path
from .text import iter_lines, tokenize

ANALOGIES = "questions-words.txt"
WORD_PAIRS = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}
LABELLED_SENTENCES = {"pang_lee_polarity": ("pang_lee_polarity.txt", "cp1252")}  # file name, encoding

Question = tuple[str, str, str, str]


@dataclass(frozen=True)
class AnalogySection:
    """One section of the analogy set, e.g. ``capital-common-countries`` or ``gram3-comparative``."""

    name: str
    questions: list[Question]

    @property
    def syntactic(self) -> bool:
        """Whether this is a syntactic (``gram*``) section."""
        return self.name.startswith("gram")


@dataclass(frozen=True)
class Analogies:
    """The analogy questions, by section, in file order."""

    sections: list[AnalogySection]

    def __len__(self) -> int:
        return sum(len(section.questions) for section in self.sections)

    @property
    def semantic(self) -> list[AnalogySection]:
        """The semantic sections."""
        return [section for section in self.sections if not section.syntactic]

    @property
    def syntactic(self) -> list[AnalogySection]:
        """The syntactic (``gram*``) sections."""
        return [section for section in self.sections if section.syntactic]

    def questions(self) -> list[Question]:
        """All questions, in file order."""
        return [question for section in self.sections for question in section.questions]


def load_analogies(path: str | os.PathLike | None = None) -> Analogies:
    """Read an analogy file in the ``questions-words.txt`` format (default: the shipped one)."""
    path = data_path(ANALOGIES) if path is None else Path(path)
    sections: list[AnalogySection] = []
    for number, line in _content_lines(path):
        if line.startswith(":"):
            sections.append(AnalogySection(line[1:].strip(), []))
            continue
        words = line.lower().split()
        if len(words) != 4:
            raise ValueError(f"analogy file {path}, line {number}: expected 4 words, got {line!r}")
        if not sections:
            raise ValueError(f"analogy file {path}, line {number}: question before the first ': section' line")
        sections[-1].questions.append((words[0], words[1], words[2], words[3]))
    if not sections:
        raise ValueError(f"analogy file {path} holds no section")
    return Analogies(sections)


def load_word_pairs(name: str | os.PathLike = "wordsim353") -> tuple[list[tuple[str, str]], np.ndarray]:
    """Word pairs and their human scores: ``"wordsim353"``, ``"simlex999"`` or the path of such a file.

    Returns ``pairs`` (a list of ``(word1, word2)``) and ``scores (len(pairs),)`` float64.
    """
    path = data_path(WORD_PAIRS[name]) if name in WORD_PAIRS else Path(name)
    pairs, scores = [], []
    for number, line in _content_lines(path):
        fields = line.split("\t") if "\t" in line else line.split()
        try:
            first, second, score = fields
            scores.append(float(score))
        except ValueError:
            raise ValueError(
                f"word-pair file {path}, line {number}: expected 'word1 word2 score', got {line!r}") from None
        pairs.append((first.strip().lower(), second.strip().lower()))
    if not pairs:
        raise ValueError(f"word-pair file {path} holds no pair")
    return pairs, np.array(scores, dtype=np.float64)


def load_labelled_sentences(name: str | os.PathLike = "pang_lee_polarity",
                            encoding: str = "utf-8") -> tuple[list[list[str]], np.ndarray]:
    """Sentences and their class: ``"pang_lee_polarity"`` (the shipped 200 movie-review sentences, in
    Windows-1252 as released) or the path of a file of lines ``__label__<class> <sentence>`` in ``encoding``.

    Returns ``sentences`` (token lists, by ``scratch.datasets.text.tokenize``, the tokenizer of the
    corpora) and ``labels (len(sentences),)`` int64, the classes numbered in sorted order of their names.
    """
    if name in LABELLED_SENTENCES:
        filename, encoding = LABELLED_SENTENCES[name]
        path = data_path(filename)
    else:
        path = Path(name)
    sentences, names = [], []
    for number, line in _content_lines(path, encoding):
        label, _, text = line.partition(" ")
        if not label.startswith("__label__") or not text.strip():
            raise ValueError(f"labelled-sentence file {path}, line {number}: expected '__label__<class> <sentence>', "
                             f"got {line!r}")
        sentences.append(tokenize(text))
        names.append(label[len("__label__"):])
    if not sentences:
        raise ValueError(f"labelled-sentence file {path} holds no sentence")
    classes = sorted(set(names))
    return sentences, np.array([classes.index(n) for n in names], dtype=np.int64)


def _content_lines(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of the lines that are neither blank nor ``#`` comments."""
    for number, line in enumerate(iter_lines(path, encoding), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped
