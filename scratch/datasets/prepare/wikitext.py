"""Wikipedia XML dumps to plain article text, one paragraph per line.

Only articles are kept (namespace 0, not redirects). Their markup is removed in this order:

1. comments; elements whose content is not prose (``<ref>``, ``<math>``, ``<gallery>`` ...) with
   their content; every other tag, keeping its content;
2. templates ``{{...}}`` and tables ``{|...|}``, nested ones included;
3. links, innermost first: file, image, category and interlanguage links (with their captions)
   are dropped, ``[[target|label]]`` becomes ``label`` and ``[[target]]`` becomes ``target``;
   external ``[url label]`` becomes ``label`` and bare URLs are dropped;
4. bold and italic quotes; HTML entities are decoded;
5. line by line: headings, table remnants and magic words are dropped, list markers removed.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import IO
from xml.etree import ElementTree

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_NON_PROSE_ELEMENT = re.compile(
    r"<(ref|math|gallery|timeline|score|syntaxhighlight|source|code|chem|hiero|imagemap)\b[^>]*(?<!/)>.*?</\1\s*>",
    re.S | re.I,
)
_TAG = re.compile(r"<[^<>]*>")
_NON_PROSE_LINK = re.compile(
    r"\[\[:?(?:(?i:file|image|category|media)|[a-z]{2,3}(?:-[a-z]+)*):(?:[^\[\]]|\[[^\[\]]*\])*\]\]"
)
_LINK = re.compile(r"\[\[(?:[^\[\]]*\|)?([^\[\]|]*)\]\]")
_EXTERNAL_LINK = re.compile(r"\[(?:https?:)?//[^\s\]]*\s*([^\]]*)\]")
_URL = re.compile(r"https?://\S+")
_EMPHASIS = re.compile(r"'{2,}")


def iter_articles(xml: IO[bytes]) -> Iterator[tuple[str, str]]:
    """``(title, wikitext)`` of every article in a MediaWiki XML export, in file order."""
    for _, element in ElementTree.iterparse(xml):
        if _local_name(element.tag) != "page":
            continue
        fields = {_local_name(child.tag): child for child in element}
        if fields["ns"].text == "0" and "redirect" not in fields:
            yield fields["title"].text or "", element.findtext("{*}revision/{*}text") or ""
        element.clear()


def article_paragraphs(markup: str) -> list[str]:
    """The prose of one article's wikitext as paragraphs (see the module docstring)."""
    text = _TAG.sub("", _NON_PROSE_ELEMENT.sub("", _COMMENT.sub("", markup)))
    text = _drop_nested(_drop_nested(text, "{{", "}}"), "{|", "|}")
    while True:
        reduced = _LINK.sub(r"\1", _NON_PROSE_LINK.sub("", text))
        if reduced == text:
            break
        text = reduced
    text = _EMPHASIS.sub("", _URL.sub("", _EXTERNAL_LINK.sub(r"\1", text)))
    paragraphs = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "=|!{}" or line.startswith("__"):
            continue
        line = " ".join(html.unescape(line.lstrip("*#:;")).split())
        if line:
            paragraphs.append(line)
    return paragraphs


def _drop_nested(text: str, opening: str, closing: str) -> str:
    """``text`` without its balanced ``opening ... closing`` spans; an unclosed span is kept."""
    pieces, depth, start, outer = [], 0, 0, 0
    for match in re.finditer(f"{re.escape(opening)}|{re.escape(closing)}", text):
        if match.group() == opening:
            if depth == 0:
                pieces.append(text[start:match.start()])
                outer = match.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                start = match.end()
    pieces.append(text[outer:] if depth else text[start:])
    return "".join(pieces)


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]
