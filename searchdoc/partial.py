"""Paragraphs with most of the words: the second pass of a search whose words do not all occur in
one paragraph (a minimum-should-match), so a query of several words never ends with nothing
while its words occur in the corpus.

The query's words are the units ``searchdoc.query`` makes of them (one word, or adjacent words
that form a synonym or a closed compound), each matching in all its tiers, and a unit counts as
many words as it has. A paragraph qualifies when it has at least half of the words that occur in
the corpus (at least one); when none does, as many as any paragraph has. Paragraphs with every
word are the first pass's and are left out. The rest are ranked by how many of the words they
have, then by the sum of their units' scores (so literal matches before synonyms).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from whoosh import query as wq

_EXPLICIT_AND = re.compile(r"\bAND\b")

#: Share of the query's words that occur in the corpus a paragraph must have.
MIN_SHARE = 0.5


@dataclass
class PartialHit:
    docnum: int
    fields: dict
    score: float
    #: Per unit of the query, whether this paragraph matches it.
    matched: list[bool]


@dataclass
class PartialResults:
    #: The query's units as typed ("killer robot", "verbod", ...).
    words: list[str]
    #: Paragraphs with at least ``minimum`` of the words (but not all), how many in all.
    total: int
    minimum: int
    hits: list[PartialHit] = field(default_factory=list)
    matched_terms: dict[str, set[str]] = field(default_factory=dict)


def free_words(parsed) -> list[str] | None:
    """The words of a query of plain words only (no operators, fields, phrases or boosts)."""
    if isinstance(parsed, wq.Term):
        children = [parsed]
    elif type(parsed) is wq.And:
        children = list(parsed.subqueries)
    else:
        return None
    if not all(type(c) is wq.Term and c.fieldname == "text" and c.boost == 1.0 for c in children):
        return None
    return [c.text for c in children]


def units(index, query_text: str) -> tuple[list[str], list] | None:
    """(labels, pruned unit queries, None for a unit nothing can match) of a plain-words query,
    or None for any other query."""
    from searchdoc import query as sq

    words = free_words(sq.parse(query_text))
    if not words:
        return None
    reader = index.searcher().reader()
    rewriter = sq._Rewriter(index.synonyms(), reader)
    found = rewriter.run(words, required_stopwords=True)
    return rewriter.labels, [sq.prune(u, reader) for u in found]


def _unit_matches(index, unit, filters: list) -> list[tuple[int, float]]:
    """(document number, score) of every paragraph matching ``unit`` within ``filters``: through
    the vectorised executor, or Whoosh where it cannot run the query."""
    executor = index.executor()
    if executor is not None:
        from searchdoc.executor import Unsupported

        try:
            return executor.search(unit, unit, filters, None)[0]
        except Unsupported:
            pass
    searcher = index.searcher()
    results = searcher.search(unit, limit=None, filter=wq.And(filters) if filters else None, terms=False)
    return [(hit.docnum, hit.score) for hit in results]


def partial_matches(index, query_text: str, doc_ids: Iterable[str] = (), themes: Iterable[str] = (),
                    limit: int | None = 10) -> PartialResults | None:
    """The paragraphs with most but not all of the query's units, best first (at most ``limit``);
    None when the query is not plain words, has fewer than two units or joins them with AND."""
    if _EXPLICIT_AND.search(query_text):
        return None  # the user asked for every word
    found = units(index, query_text)
    if found is None or len(found[1]) < 2:
        return None
    labels, pruned = found
    filters = index._filters(doc_ids, themes)
    count: dict[int, int] = {}
    score: dict[int, float] = {}
    matched: dict[int, list[bool]] = {}
    searcher = index.searcher()
    present = 0
    sizes = [len(label.split()) for label in labels]
    for k, unit in enumerate(pruned):
        if unit is None:
            continue
        ranked = _unit_matches(index, unit, filters)
        if not ranked:
            continue
        present += sizes[k]
        for docnum, s in ranked:
            count[docnum] = count.get(docnum, 0) + sizes[k]
            score[docnum] = score.get(docnum, 0.0) + s
            matched.setdefault(docnum, [False] * len(pruned))[k] = True
    if not present:
        return None
    n = sum(sizes)
    minimum = max(1, math.ceil(present * MIN_SHARE))
    candidates = [d for d, c in count.items() if minimum <= c < n]
    if not candidates:
        below = [c for c in count.values() if c < n]
        if not below:
            return PartialResults(labels, 0, minimum)
        minimum = max(below)
        candidates = [d for d, c in count.items() if c == minimum]
    candidates.sort(key=lambda d: (-count[d], -score[d], d))
    shown = candidates if limit is None else candidates[:limit]
    hits = [PartialHit(d, dict(searcher.stored_fields(d)), score[d], matched[d]) for d in shown]
    terms: dict[str, set[str]] = {}
    from searchdoc.query import matched_terms

    for unit in pruned:
        if unit is not None:
            for fieldname, values in matched_terms(unit, searcher.reader()).items():
                terms.setdefault(fieldname, set()).update(values)
    return PartialResults(labels, len(candidates), minimum, hits, terms)
