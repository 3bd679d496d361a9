"""Running text to one sentence per line.

Hard-wrapped text is cut into paragraphs at blank lines, each paragraph is joined into one line,
and split into sentences after ``.``, ``!`` or ``?`` (optionally followed by a closing quote or
bracket) when whitespace and a capital letter, a digit or an opening quote follow. Abbreviations
such as ``Mr. Smith`` are split too, which for word windows only shortens a context.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ..text import tokenize

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9])")


def paragraphs(text: str) -> list[str]:
    """The blank-line separated blocks of ``text``, each with its whitespace collapsed to single spaces."""
    return [" ".join(block.split()) for block in _BLANK_LINE.split(text) if block.strip()]


def split_sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph (see the module docstring for the rule)."""
    return _SENTENCE_BREAK.split(paragraph)


def sentences(paragraphs: Iterable[str], min_tokens: int = 3) -> Iterator[str]:
    """The sentences of ``paragraphs`` that have at least ``min_tokens`` tokens (``text.tokenize``)."""
    for paragraph in paragraphs:
        for sentence in split_sentences(paragraph):
            if len(tokenize(sentence)) >= min_tokens:
                yield sentence
