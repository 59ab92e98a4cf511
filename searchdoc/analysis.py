"""The Dutch analysis chain used for both indexing and querying.

Pure Python, no Whoosh: ``searchdoc.index`` wraps :func:`analyze` in a Whoosh tokenizer, and
the theme tagger uses the same function, so a term means the same thing everywhere.

The chain: tokenize -> fold (case, accents, apostrophes) -> split hyphenated compounds (whole
and parts) -> stem (Snowball Dutch, cached).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"\w+(?:[-‐‑'’]\w+)*", re.UNICODE)
_APOSTROPHES = "'’"
_HYPHENS = "-‐‑"


@dataclass(slots=True)
class Token:
    """An index term with its position and the character span it came from.

    ``origin`` says how it arose: ``word`` (a whole word), ``part`` (a part of a compound)
    or ``whole`` (a hyphenated compound written without its hyphens).
    """

    term: str
    pos: int
    start: int
    end: int
    origin: str = "word"


def tokenize(text: str):
    """Yield (word, start, end) for each word, keeping internal hyphens and apostrophes."""
    for m in _WORD.finditer(text):
        yield m.group(0), m.start(), m.end()


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Lower-case, strip accents (Geïntegreerde = Geintegreerde) and a possessive/plural 's."""
    word = word.lower()
    for apostrophe in _APOSTROPHES:
        if apostrophe in word:
            head, _, tail = word.partition(apostrophe)
            word = head if tail in ("s", "") else head + tail
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("dutch")


@lru_cache(maxsize=200_000)
def stem(folded: str) -> str:
    """Snowball Dutch stem of a folded word."""
    if folded.isdigit():
        return folded
    return _stemmer().stemWord(folded)


def analyze(text: str) -> list[Token]:
    """All index terms of ``text`` in order, positions counting words and compound parts."""
    tokens: list[Token] = []
    pos = 0
    for word, start, end in tokenize(text):
        folded = fold(word)
        if any(h in folded for h in _HYPHENS):
            parts = [p for p in re.split(f"[{_HYPHENS}]", folded) if p]
            tokens.append(Token(stem("".join(parts)), pos, start, end, "whole"))
            offset = start
            for i, part in enumerate(parts):
                part_start = text.find(part[:1], offset, end) if part else offset
                part_start = offset if part_start < 0 else part_start
                tokens.append(Token(stem(part), pos + i, part_start, part_start + len(part), "part"))
                offset = part_start + len(part)
            pos += len(parts)
        else:
            tokens.append(Token(stem(folded), pos, start, end, "word"))
            pos += 1
    return tokens


def terms(text: str) -> list[str]:
    """Just the terms, for callers that do not need positions."""
    return [t.term for t in analyze(text)]
