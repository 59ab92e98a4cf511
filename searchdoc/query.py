"""Query parsing, rewriting and spelling suggestions for the Whoosh index (with ``searchdoc.index``,
the only Whoosh user).

The Whoosh query parser supplies the syntax (AND by default, OR, NOT, quotes, prefix*,
field:value); the parsed tree is then rewritten for Dutch. Each word (or quoted phrase) becomes a
*unit* that matches in one of several ways, and scores by the best of them, in tiers:

1. literally on ``text``: its stem; a closed compound also spelt open (killerrobots = "killer
   robots"); a hyphenated word also joined (INF-verdrag = infverdrag);
2. as compound parts on ``parts`` (drones finds onderwaterdrones), or in the footnotes (``notes``);
3. through a synonym or acronym, from the synonym data and from the "Long Name (ACR)" definitions
   the corpus itself makes.

Within a tier the BM25 score orders the paragraphs, squashed into a fixed band so that a better
tier always wins for a single word: whole words rank above parts, and literal matches above
synonyms. Adjacent words that form a synonym ("kunstmatige intelligentie" = AI) or that the index
holds as one closed compound (killer robots = killerrobots) become one unit. Dutch function words
are not required. Optional boosters, each smaller than a tier, reward the words as an exact phrase
or close together, and in the section heading or the document title.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from whoosh import fields as wfields
from whoosh import matching as wm
from whoosh import qparser
from whoosh import query as wq
from whoosh.analysis import IDAnalyzer

from searchdoc import analysis, checksums, expansion, settings
from searchdoc.errors import QueryError
from searchdoc.validate import check_acronyms, load_json, require_mapping

#: Score bands per query word: a literal match, a compound-part or footnote match, a synonym.
LITERAL_TIER = 3.0
PARTS_TIER = 2.0
SYNONYM_TIER = 1.0
#: Share of a band the (squashed) BM25 score may take: the rest is left to the boosters.
BM25_SHARE = 0.5
#: BM25 score that fills half of BM25_SHARE (score / (score + BM25_HALF)).
BM25_HALF = 4.0
#: Boosters: the words in the query's order and spacing, the words within PROXIMITY_SLOP
#: positions of each other in any order (NEAR_SHARE of the phrase boost, less as they spread),
#: and each word in the section heading or the document title. Their sum for one word stays
#: below one band.
PHRASE_BOOST = 0.5
NEAR_SHARE = 0.5
PROXIMITY_SLOP = 8
SECTION_BOOST = 0.3
TITLE_BOOST = 0.1
#: Suggest a spelling when a query finds fewer paragraphs than this (words the index knows,
#: through any field or synonym, are never respelt).
SUGGEST_BELOW = 3

#: Fields a user may name in a query (``field:value``).
QUERY_FIELDS = (
    "text", "section", "speaker", "title", "notes", "doc_id", "kind", "themes", "cites", "dossier", "date", "page",
    "paragraph",
)
_TEXT_FIELDS = ("text", "section", "speaker", "title", "notes")


@lru_cache(maxsize=1)
def _query_schema():
    """The schema the query parser sees: same fields, but words are only folded, not analysed.

    Keeping the user's words intact lets the rewrite step stem them, split them and look up
    their synonyms itself.
    """
    from whoosh import analysis as wa

    words = wa.RegexTokenizer(r"\w+(?:[-‐‑'’.]\w+)*") | wa.LowercaseFilter()
    return wfields.Schema(
        text=wfields.TEXT(analyzer=words, phrase=True),
        section=wfields.TEXT(analyzer=words, phrase=True),
        speaker=wfields.TEXT(analyzer=words, phrase=True),
        title=wfields.TEXT(analyzer=words, phrase=True),
        notes=wfields.TEXT(analyzer=words, phrase=True),
        doc_id=wfields.ID(analyzer=IDAnalyzer(lowercase=True)),
        kind=wfields.ID(analyzer=IDAnalyzer(lowercase=True)),
        date=wfields.ID(),
        dossier=wfields.KEYWORD(commas=True, lowercase=True),
        themes=wfields.KEYWORD(commas=True, lowercase=True),
        cites=wfields.KEYWORD(commas=True, lowercase=True),
        page=wfields.NUMERIC(int),
        paragraph=wfields.NUMERIC(int),
    )


@lru_cache(maxsize=1)
def _parser():
    return qparser.QueryParser("text", _query_schema(), group=qparser.AndGroup)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    """Dutch (and common English) function words: not required in a query, but still part of its
    phrase."""
    from whoosh.lang import stopwords_for_language

    return frozenset(analysis.fold(w) for w in stopwords_for_language("nl")) | expansion.ENGLISH_FUNCTION_WORDS


_FIELD_PREFIX = re.compile(r'(?:^|(?<=[\s(]))([A-Za-z_][\w.]*):(?=[^\s)])')
_QUOTED = re.compile(r'"[^"]*"')


def check_fields(query_text: str) -> None:
    """Refuse ``unknown:value`` instead of silently searching for the literal text."""
    outside_quotes = _QUOTED.sub(" ", query_text)
    for match in _FIELD_PREFIX.finditer(outside_quotes):
        name = match.group(1)
        if name not in QUERY_FIELDS:
            raise QueryError(
                f"unknown field {name!r} in the query; fields are: {', '.join(QUERY_FIELDS)}"
            )


def parse(query_text: str):
    """The user's query parsed by Whoosh (words folded only); raises QueryError on bad input."""
    if not isinstance(query_text, str) or not query_text.strip():
        raise QueryError("the query is empty; give one or more words, e.g. searchdoc search drones")
    if len(query_text) > 1000:
        raise QueryError("the query is longer than 1,000 characters")
    if "\x00" in query_text:
        raise QueryError("the query contains a NUL character")
    return _parse(query_text)


@lru_cache(maxsize=256)
def _parse(query_text: str):
    """Parsed once per query text: callers validate a query before opening the index, then
    build it (the parsed tree is only read, never changed)."""
    check_fields(query_text)
    if query_text.count('"') % 2:
        raise QueryError('unbalanced quotes in the query: close the phrase with a second "')
    try:
        parsed = _parser().parse(query_text)
    except Exception as exc:
        raise QueryError(f"cannot parse query {query_text!r}: {exc.__class__.__name__}") from None
    if _has_error(parsed):
        raise QueryError(f"cannot parse query {query_text!r}: check parentheses, quotes and operators")
    check_operators(query_text)
    check_patterns(parsed)
    return parsed


# --------------------------------------------------------------------------- syntax that does not close

_BINARY = frozenset({"AND", "OR", "ANDNOT", "ANDMAYBE"})
_SYNTAX_TOKEN = re.compile(r"[()]|[^\s()]+")


def check_operators(query_text: str) -> None:
    """Refuse an operator with nothing to join and unbalanced parentheses.

    Whoosh reads a dangling ``AND``/``OR``/``NOT`` as the word "and"/"or"/"not", which Dutch
    text rarely holds, so ``drones NOT`` silently found nothing. The one rule: an operator
    (upper case) needs a word on each side (``NOT`` only after it), and parentheses must
    close; anything else is an error. Lower-case and, or, not are ordinary words.
    """
    tokens = _SYNTAX_TOKEN.findall(_QUOTED.sub(" w ", query_text))
    depth = 0
    for token in tokens:
        depth += (token == "(") - (token == ")")
        if depth < 0:
            raise QueryError("a ')' in the query has no '(' before it; remove it or add the '('")
    if depth:
        raise QueryError("a '(' in the query is not closed; add the ')'")
    for i, token in enumerate(tokens):
        if token not in _BINARY and token != "NOT":
            continue
        before = tokens[i - 1] if i else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if token in _BINARY and (before is None or before == "(" or before in _BINARY or before == "NOT"):
            raise QueryError(f"the operator {token} in the query has no word before it; "
                             f"write it in lower case to search for the word")
        if after is None or after == ")" or after in _BINARY:
            raise QueryError(f"the operator {token} in the query has no word after it; "
                             f"write it in lower case to search for the word")


# --------------------------------------------------------------------------- the expansion budget

#: Letters (besides * and ?) a pattern that starts with a wildcard must hold: such a pattern is
#: matched against every word of the index.
MIN_LEADING_WILDCARD_LETTERS = 3
#: Most index words the wildcards, prefixes and ranges of one query may stand for together.
MAX_EXPANSIONS = 1000


def _patterns(q) -> list:
    """The leaves of ``q`` that stand for many index words (prefix*, wild*cards, [a TO b])."""
    if isinstance(q, wq.MultiTerm):
        return [q]
    if q.is_leaf():
        return []
    return [leaf for child in q.children() for leaf in _patterns(child)]


def check_patterns(parsed) -> None:
    """Refuse a pattern that must be matched against every word and holds too few letters."""
    for q in _patterns(parsed):
        if isinstance(q, wq.Wildcard) and q.text[:1] in "*?":
            letters = sum(ch.isalnum() for ch in q.text)
            if letters < MIN_LEADING_WILDCARD_LETTERS:
                raise QueryError(
                    f"the pattern {q.text!r} starts with a wildcard and has fewer than "
                    f"{MIN_LEADING_WILDCARD_LETTERS} letters; give more letters"
                )


def expansion_count(rewritten, reader, limit: int | None = None) -> int:
    """How many index words the patterns of the rewritten query stand for (counting stops just
    past ``limit``); raises QueryError past ``limit``. Counts, not time, keep it deterministic."""
    import itertools

    limit = MAX_EXPANSIONS if limit is None else limit
    seen: set[tuple[str, bytes]] = set()
    for q in _patterns(rewritten):
        if q.fieldname not in reader.schema:
            continue
        for term in itertools.islice(q.expanded_terms(reader), limit + 1 - len(seen)):
            seen.add(term)
        if len(seen) > limit:
            shown = getattr(q, "text", None) or f"[{q.start} TO {q.end}]"
            raise QueryError(
                f"the query's patterns (such as {shown!r}) stand for more than {limit:,} words of the index; "
                "give more letters or fewer patterns"
            )
    return len(seen)


def _has_error(q) -> bool:
    if type(q).__name__ == "ErrorQuery":
        return True
    return any(_has_error(child) for child in q.children()) if q.is_leaf() is False else False


def build_query(query_text: str, synonyms: Synonyms | None = None, reader=None):
    """Parse user syntax and rewrite it into searchdoc's weighted Dutch query.

    ``synonyms`` is the table to expand with (see :func:`index_synonyms`); by default the
    bundled groups plus the file named by SEARCHDOC_SYNONYMS. With an index ``reader``, adjacent
    words the index holds as one closed compound become one unit, and the alternatives whose
    terms the index does not hold are dropped, so the query costs only what can match; a query
    that nothing can match becomes ``NullQuery``.
    """
    parsed = parse(query_text)
    rewriter = _Rewriter(synonyms if synonyms is not None else default_synonyms(), reader)
    rewritten = rewriter.rewrite(parsed)
    if rewritten is None:
        raise QueryError(f"the query {query_text!r} has no searchable words")
    boosters = [b for b in rewriter.boosters if b is not None]
    if boosters:
        rewritten = wq.AndMaybe(rewritten, boosters[0] if len(boosters) == 1 else wq.Or(boosters))
    if reader is not None:
        expansion_count(rewritten, reader)
        rewritten = prune(rewritten, reader)
        if rewritten is None:
            return wq.NullQuery
    return rewritten


# --------------------------------------------------------------------------- scoring pieces


def _squash(score: float) -> float:
    return score / (score + BM25_HALF) if score > 0 else 0.0


def _unsquash(share: float) -> float:
    """The BM25 score whose squashed value is ``share`` (the inverse of :func:`_squash`)."""
    if share <= 0:
        return 0.0
    if share >= 1:
        return float("inf")
    return BM25_HALF * share / (1 - share)


class _MaxMatcher(wm.UnionMatcher):
    """The union of two matchers scored by the better of the two on the current document.

    Whoosh's DisjunctionMaxMatcher takes the maximum even when the two sub-matchers sit on
    different documents, and its ``replace`` drops a live sub-matcher; this one does not.
    """

    def score(self):
        a, b = self.a, self.b
        if not a.is_active():
            return b.score()
        if not b.is_active():
            return a.score()
        id_a, id_b = a.id(), b.id()
        if id_a == id_b:
            return max(a.score(), b.score())
        return a.score() if id_a < id_b else b.score()

    def max_quality(self):
        return max(self.a.max_quality(), self.b.max_quality())

    def block_quality(self):
        return max(self.a.block_quality(), self.b.block_quality())

    def replace(self, minquality=0):
        # A document scores the better of the two, so a side that cannot reach ``minquality``
        # on its own can go.
        a = self.a.replace(minquality) if self.a.is_active() else self.a
        b = self.b.replace(minquality) if self.b.is_active() else self.b
        if not a.is_active():
            return b if b.is_active() else wm.NullMatcher()
        if not b.is_active():
            return a
        if a is not self.a or b is not self.b:
            return self.__class__(a, b)
        return self

    def skip_to_quality(self, minquality):
        a, b = self.a, self.b
        if not a.is_active():
            return b.skip_to_quality(minquality)
        if not b.is_active():
            return a.skip_to_quality(minquality)
        skipped = 0
        while a.is_active() and b.is_active() and max(a.block_quality(), b.block_quality()) <= minquality:
            if a.block_quality() <= minquality:
                skipped += a.skip_to_quality(minquality)
            if b.is_active() and b.block_quality() <= minquality:
                skipped += b.skip_to_quality(minquality)
        return skipped


class BestOf(wq.DisjunctionMax):
    """Matches what any subquery matches and scores a document by its best subquery."""

    def _matcher(self, subs, searcher, context):
        reader = searcher.reader()
        return self._tree_matcher(subs, _MaxMatcher, searcher, context, lambda q: q.estimate_size(reader))


class _TierMatcher(wm.WrappingMatcher):
    """Scores ``base + scale * squash(child score)``; qualities map through the same function."""

    def __init__(self, child, base: float, scale: float):
        super().__init__(child)
        self.base = base
        self.scale = scale

    def copy(self):
        return self.__class__(self.child.copy(), self.base, self.scale)

    def _replacement(self, newchild):
        return self.__class__(newchild, self.base, self.scale)

    def _child_quality(self, minquality: float) -> float:
        return _unsquash((minquality - self.base) / self.scale) if self.scale > 0 else (
            0.0 if minquality <= self.base else float("inf"))

    def _map(self, quality: float) -> float:
        return self.base + self.scale * _squash(quality)

    def score(self):
        return self._map(self.child.score())

    def max_quality(self):
        return self._map(self.child.max_quality())

    def block_quality(self):
        return self._map(self.child.block_quality())

    def replace(self, minquality=0):
        needed = self._child_quality(minquality) if minquality else 0
        if needed == float("inf"):
            return wm.NullMatcher()
        replaced = self.child.replace(needed)
        if not replaced.is_active():
            return wm.NullMatcher()
        return self if replaced is self.child else self._replacement(replaced)

    def skip_to_quality(self, minquality):
        return self.child.skip_to_quality(self._child_quality(minquality))


class Tier(wq.WrappingQuery):
    """A query scored in a band: ``base`` plus up to ``scale`` for its (squashed) BM25 score."""

    def __init__(self, child, base: float, scale: float = BM25_SHARE):
        super().__init__(child)
        self.base = base
        self.scale = scale

    def __eq__(self, other):
        return (type(other) is type(self) and other.child == self.child and other.base == self.base
                and other.scale == self.scale)

    def __hash__(self):
        return hash((self.child, self.base, self.scale))

    def __repr__(self):
        return f"Tier({self.child!r}, {self.base}, {self.scale})"

    def __str__(self):
        return f"<{self.child}>{self.base:g}"

    def _rewrap(self, child):
        return self.__class__(child, self.base, self.scale)

    def matcher(self, searcher, context=None):
        m = self.child.matcher(searcher, context)
        if not m.is_active():
            return m
        return _TierMatcher(m, self.base, self.scale)


def closeness(words: list[str], offsets: list[int], positions: dict[str, list[int]], slop: int) -> float:
    """1 when ``words`` occur at their ``offsets`` relative to each other (the exact phrase);
    otherwise NEAR_SHARE scaled by how tightly all distinct words fit in a window no wider than
    the phrase plus ``slop`` (in any order); 0 when they are further apart."""
    sets = {w: set(positions.get(w, ())) for w in words}
    if any(not s for s in sets.values()):
        return 0.0
    for p in sets[words[0]]:
        start = p - offsets[0]
        if all(start + o in sets[w] for w, o in zip(words, offsets, strict=True)):
            return 1.0
    unique = list(sets)
    if len(unique) < 2:
        return 0.0
    events = sorted((p, i) for i, w in enumerate(unique) for p in sets[w])
    counts = [0] * len(unique)
    covered = 0
    best = None
    left = 0
    for p, i in events:
        counts[i] += 1
        if counts[i] == 1:
            covered += 1
        while covered == len(unique):
            width = p - events[left][0] + 1
            best = width if best is None or width < best else best
            j = events[left][1]
            counts[j] -= 1
            if counts[j] == 0:
                covered -= 1
            left += 1
    span = offsets[-1] - offsets[0] + 1
    if best is None or best > span + slop:
        return 0.0
    return NEAR_SHARE * min(1.0, span / best)


class _ProximityMatcher(wm.WrappingMatcher):
    """Scores each document matching all words by :func:`closeness`, times the boost."""

    def __init__(self, child, query: Proximity):
        super().__init__(child)
        self.query = query
        self._keys = {w.encode("utf-8"): w for w in query.words}

    def copy(self):
        return self.__class__(self.child.copy(), self.query)

    def _replacement(self, newchild):
        return self.__class__(newchild, self.query)

    def score(self):
        doc = self.child.id()
        positions: dict[str, list[int]] = {}
        for leaf in self.child.term_matchers():
            if leaf.is_active() and leaf.id() == doc:
                term = leaf.term()[1]
                word = self._keys.get(term) if isinstance(term, bytes) else term
                if word is not None:
                    positions[word] = leaf.value_as("positions")
        q = self.query
        return q.boost * closeness(list(q.words), list(q.offsets), positions, q.slop)

    def max_quality(self):
        return self.query.boost

    def block_quality(self):
        return self.query.boost

    def replace(self, minquality=0):
        if minquality and minquality > self.query.boost:
            return wm.NullMatcher()
        replaced = self.child.replace(0)
        if not replaced.is_active():
            return wm.NullMatcher()
        return self if replaced is self.child else self._replacement(replaced)

    def skip_to_quality(self, minquality):
        # Every block has the same quality: either none can be skipped or all can.
        return 0 if self.query.boost > minquality else self.child.skip_to_quality(float("inf"))


class Proximity(wq.Phrase):
    """Optional booster: the words as an exact phrase (full ``boost``) or near each other."""

    def __init__(self, fieldname: str, words: list[str], offsets: list[int], slop: int = PROXIMITY_SLOP,
                 boost: float = 1.0):
        super().__init__(fieldname, words, slop=slop, boost=boost)
        self.offsets = tuple(offsets)

    def __eq__(self, other):
        return super().__eq__(other) and getattr(other, "offsets", None) == self.offsets

    def __hash__(self):
        return hash((super().__hash__(), self.offsets))

    def __str__(self):
        return f"near({self.fieldname}:{' '.join(self.words)}~{self.slop})^{self.boost:g}"

    def matcher(self, searcher, context=None):
        reader = searcher.reader()
        unique = list(dict.fromkeys(self.words))
        if self.fieldname not in searcher.schema or any((self.fieldname, w) not in reader for w in unique):
            return wm.NullMatcher()
        matchers = [wq.Term(self.fieldname, w).matcher(searcher, context) for w in unique]
        child = matchers[0]
        for other in matchers[1:]:
            child = wm.IntersectionMatcher(child, other)
        return _ProximityMatcher(child, self)


# --------------------------------------------------------------------------- query pieces


def _sequence(fieldname: str, terms: list[str], slop: int = 1):
    """One term, or the terms as a phrase."""
    terms = [t for t in terms if t]
    if not terms:
        return None
    if len(terms) == 1:
        return wq.Term(fieldname, terms[0])
    return wq.Phrase(fieldname, terms, slop=slop)


def _best_of(queries: Iterable):
    """The best-scoring of several readings of the same words (a match is not counted twice)."""
    unique = list(dict.fromkeys(q for q in queries if q is not None))
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else BestOf(unique)


def _tier(query, base: float, scale: float = BM25_SHARE):
    return Tier(query, base, scale) if query is not None else None


def closed_compound(words: list[str]) -> str | None:
    """The ``text`` term of two or three words written as one closed compound (killer robots:
    killerrobot), or None when they are not plain words."""
    if not 2 <= len(words) <= 3 or not all(w.isalpha() for w in words):
        return None
    return analysis.stem(analysis.fold("".join(words)))


def literal_terms(words: list[str]) -> list[list[str]]:
    """The ``text``-field term sequences that spell ``words`` literally: the words themselves
    (hyphenated words by their parts), hyphenated words joined (INF-verdrag: infverdrag), a closed
    compound spelt open (killerrobots: killer robot) and a few words spelt closed.
    """
    readings = [analysis.phrase_terms(" ".join(words))]
    joined: list[str] = []
    for word in words:
        tokens = analysis.analyze(word)
        wholes = [t.term for t in tokens if t.origin == "whole"]
        joined.extend(wholes[:1] or [t.term for t in tokens])
    readings.append(joined)
    if len(words) == 1 and words[0].isalpha():
        parts = analysis.split_compound(analysis.fold(words[0]))
        if len(parts) > 1:
            readings.append([analysis.stem(p) for p in parts])
    closed = closed_compound(words)
    if closed:
        readings.append([closed])
    unique: list[list[str]] = []
    for reading in readings:
        if reading and reading not in unique:
            unique.append(reading)
    return unique


def _literal(fieldname: str, words: list[str]):
    return _best_of(_sequence(fieldname, reading) for reading in literal_terms(words))


# --------------------------------------------------------------------------- synonyms


def _flat_key(terms: Iterable[str]) -> tuple[tuple[str, ...], list[int]]:
    """Terms broken into their compound parts (stemmed), with the term each part came from:
    the form in which the synonym table compares phrases, so killerrobot meets killer robot."""
    flat: list[str] = []
    owner: list[int] = []
    for i, term in enumerate(terms):
        for part in analysis.split_compound(term):
            flat.append(analysis.stem(part) if part != term else term)
            owner.append(i)
    return tuple(flat), owner


@dataclass
class Synonyms:
    """The synonym table (bundled groups and the user's file) plus the acronym definitions a corpus
    makes ("Nederlandse Cyber Security Agenda (NCSA)"), looked up together.

    Corpus definitions are kept apart from the table and indexed by comparison key, so thousands
    of them cost a dictionary, not a table rebuild; a definition whose acronym or name is also in
    a table group brings that group's members along.
    """

    table: analysis.SynonymTable
    #: (acronym, long name, acronym key, long name key) per corpus definition.
    definitions: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        parent: dict[tuple[str, ...], tuple[str, ...]] = {}

        def root(key):
            while parent.setdefault(key, key) != key:
                parent[key] = parent[parent[key]]
                key = parent[key]
            return key

        phrases: dict[tuple[str, ...], str] = {}
        for acronym, long_name, acronym_key, name_key in self.definitions:
            if acronym_key and name_key and acronym_key != name_key:
                parent[root(tuple(acronym_key))] = root(tuple(name_key))
                phrases.setdefault(tuple(acronym_key), acronym)
                phrases.setdefault(tuple(name_key), long_name)
        # Groups of (phrase as written, comparison key); phrases are analysed only when matched.
        members: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]] = {}
        for key, phrase in phrases.items():
            members.setdefault(root(key), []).append((phrase, key))
        self._groups = list(members.values())
        numbers = {r: g for g, r in enumerate(members)}
        self._index = {key: numbers[root(key)] for key in phrases}
        self._longest = max((len(k) for k in phrases), default=0)

    def matches(self, terms: list[str]) -> list[analysis.SynonymMatch]:
        """Spans of ``terms`` (one ``text`` term per position, as :func:`analysis.phrase_terms`
        gives) that name a synonym group member, with the other members as alternatives."""
        found = list(self.table.matches(terms))
        if self._index:
            found.extend(self._corpus_matches(terms))
        return found

    def _corpus_matches(self, terms: list[str]) -> list[analysis.SynonymMatch]:
        flat, owner = _flat_key(terms)
        found = []
        for i, j in analysis.word_aligned_spans(owner, self._longest):
            key = flat[i:j]
            group = self._index.get(key)
            if group is None:
                continue
            phrases: dict[tuple[str, ...], str] = {}
            for phrase, member_key in self._groups[group]:
                if member_key == key:
                    continue
                sequence = tuple(analysis.phrase_terms(phrase))
                phrases.setdefault(sequence, phrase)
                # A member that is also in a table group brings that group along.
                for match in self.table.matches(list(sequence)):
                    if match.start == 0 and match.end == len(sequence):
                        for alternative, written in zip(match.alternatives, match.phrases, strict=False):
                            if _flat_key(alternative)[0] != key:
                                phrases.setdefault(tuple(alternative), written)
            if phrases:
                found.append(
                    analysis.SynonymMatch(owner[i], owner[j - 1] + 1, tuple(phrases), tuple(phrases.values()))
                )
        return found

    def expansions(self, terms: list[str]) -> list[list[str]]:
        """Alternative term sequences for ``terms``: each replaces one matched span by another
        member of its group."""
        return analysis.substitute(terms, self.matches(terms))


def _file_stamp(path: str | os.PathLike | None) -> tuple | None:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None  # load_synonyms reports the unreadable file
    return (st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=8)
def _table(path: str | None, stamp: tuple | None) -> analysis.SynonymTable:
    return analysis.load_synonyms(Path(path) if path else None)


def synonym_table(path: str | os.PathLike | None = None) -> analysis.SynonymTable:
    """The bundled synonym groups plus a user file, loaded once per file version."""
    return _table(str(path) if path is not None else None, _file_stamp(path))


@lru_cache(maxsize=16)
def _synonyms(path: str | None, stamp: tuple | None, definitions: tuple) -> Synonyms:
    return Synonyms(_table(path, stamp), list(definitions))


def synonyms_for(path: str | os.PathLike | None = None, definitions: Iterable[tuple] = ()) -> Synonyms:
    """Synonyms from the bundled groups, a user file and corpus definitions (as
    :func:`corpus_definitions` gives them), built once per combination."""
    return _synonyms(str(path) if path is not None else None, _file_stamp(path), tuple(definitions))


def default_synonyms() -> Synonyms:
    """Synonyms without a corpus: the bundled groups and the file SEARCHDOC_SYNONYMS names."""
    path = os.environ.get(settings.ENV_SYNONYMS)
    return synonyms_for(Path(path).expanduser() if path else None)


# --------------------------------------------------------------------------- corpus acronyms

#: File in the index folder caching the acronym definitions of each indexed document.
DEFINITIONS_FILE = "searchdoc-acronyms.json"
_DEFINITIONS_VERSION = 1
# Cheap test for text that may define an acronym: a capitalised word just before ")".
_DEFINITION_HINT = re.compile(r"[A-Z][A-Za-z&]{0,12}(?:['’ʼ`´]s)?\s*\)")


def document_definitions(texts: Iterable[str]) -> list[tuple[str, str]]:
    """The "Long Name (ACR)" definitions made in a document's texts (paragraphs, headings)."""
    found: dict[tuple[str, str], None] = {}
    for text in texts:
        if text and ")" in text and _DEFINITION_HINT.search(text):
            for pair in analysis.find_acronym_definitions(text):
                found.setdefault(pair, None)
    return list(found)


def _definition_key(phrase: str) -> list[str]:
    return list(_flat_key(analysis.phrase_terms(phrase))[0])


def _harvest(searcher, doc_ids: set[str], total: int) -> dict[str, list[tuple[str, str]]]:
    """Definitions per document, read from the index's stored paragraphs: one pass over all of
    them when many of the ``total`` documents are wanted, else document by document."""
    texts: dict[str, list[str]] = {d: [] for d in doc_ids}
    lowered = {d.lower(): d for d in doc_ids}
    if len(doc_ids) * 10 > total:
        for stored in searcher.all_stored_fields():
            doc_id = lowered.get(str(stored.get("doc_id", "")).lower())
            if doc_id is not None:
                texts[doc_id].extend((stored.get("section") or "", stored.get("text") or ""))
    else:
        for lower, doc_id in lowered.items():
            for docnum in searcher.docs_for_query(wq.Term("doc_id", lower)):
                stored = searcher.stored_fields(docnum)
                texts[doc_id].extend((stored.get("section") or "", stored.get("text") or ""))
    return {doc_id: document_definitions(dict.fromkeys(t)) for doc_id, t in texts.items()}


def refresh_definitions(directory: Path, indexed: dict[str, str], version: str,
                        harvest: Callable[[set[str]], dict[str, list[tuple[str, str]]]]) -> list[tuple]:
    """(acronym, long name, acronym key, name key) for every definition in the indexed documents.

    The index folder keeps them per document, keyed by the fingerprint the index holds for it
    (``indexed``: id to fingerprint), with the comparison key of every phrase; ``version`` (the
    analysis fingerprint) invalidates the keys. Documents the file lacks or holds at another
    fingerprint are read with ``harvest`` (ids to their definitions), removed ones dropped, and
    the file is rewritten atomically when anything changed; when it cannot be written, the
    definitions are still returned.
    """
    path = Path(directory) / DEFINITIONS_FILE
    cache: dict = {}
    with contextlib.suppress(OSError, ValueError):
        # A damaged file is as good as none: every entry is read again and the file rewritten.
        cache = check_acronyms(checksums.unseal(require_mapping(load_json(path.read_bytes()))))
    if cache.get("version") != _DEFINITIONS_VERSION or cache.get("analysis") != version:
        cache = {}
    docs: dict = cache.get("docs", {})
    keys: dict = cache.get("keys", {})
    stale = {d for d, fp in indexed.items() if docs.get(d, {}).get("fp") != fp}
    changed = bool(stale) or any(d not in indexed for d in docs)
    if stale:
        harvested = harvest(stale)
        for doc_id in stale:
            if doc_id in harvested:
                docs[doc_id] = {"fp": indexed[doc_id], "defs": [list(p) for p in harvested[doc_id]]}
            else:
                # ``harvest`` could not read it: no entry, so the next reader tries again.
                docs.pop(doc_id, None)
    # In id order, as the file (sorted keys) gives them back on the next read.
    docs = {d: docs[d] for d in sorted(docs) if d in indexed}
    pairs = list(dict.fromkeys((a, n) for v in docs.values() for a, n in v["defs"]))
    for phrase in {p for pair in pairs for p in pair}:
        if phrase not in keys:
            keys[phrase] = _definition_key(phrase)
            changed = True
    keys = {p: keys[p] for p in {p for pair in pairs for p in pair}}
    if changed:
        data = {"version": _DEFINITIONS_VERSION, "analysis": version, "docs": docs, "keys": keys}
        from searchdoc.corpus import atomic_write
        from searchdoc.errors import WriteError

        with contextlib.suppress(OSError, WriteError):
            atomic_write(path, json.dumps(checksums.seal(data), ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return [(a, n, tuple(keys[a]), tuple(keys[n])) for a, n in pairs]


def corpus_definitions(directory: Path, searcher, indexed: dict[str, str], version: str = "") -> list[tuple]:
    """The definitions of the indexed documents for a query, as :func:`refresh_definitions` gives them.

    Updating the index keeps the file in step (``Index._store_definitions``), so normally nothing is
    read here; documents the file lacks (an index folder from an interrupted update, or a lost file)
    are read from the index's stored paragraphs.
    """
    return refresh_definitions(directory, indexed, version, lambda doc_ids: _harvest(searcher, doc_ids, len(indexed)))


_INDEX_SYNONYMS: dict[str, tuple[tuple, Synonyms]] = {}


def index_synonyms(index) -> Synonyms:
    """The synonyms an :class:`~searchdoc.index.Index`'s queries use: the bundled groups, the
    configured synonyms file and the acronyms its documents define. Kept per index folder until
    the index or the synonyms file changes.
    """
    config = getattr(index, "config", None)
    path = getattr(config, "synonyms_file", None) if config is not None else None
    if path is None and os.environ.get(settings.ENV_SYNONYMS):
        path = Path(os.environ[settings.ENV_SYNONYMS]).expanduser()
    directory = Path(index.directory)
    try:
        st = os.stat(index.state_path)
        stamp: tuple = (st.st_size, st.st_mtime_ns, str(path), _file_stamp(path))
    except OSError:
        stamp = (None, None, str(path), _file_stamp(path))
    cached = _INDEX_SYNONYMS.get(str(directory))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    state = index.read_state() or {}
    definitions: list = []
    if state.get("docs"):
        definitions = corpus_definitions(directory, index.searcher(), state["docs"], str(state.get("analysis", "")))
    synonyms = synonyms_for(path, definitions)
    _INDEX_SYNONYMS[str(directory)] = (stamp, synonyms)
    return synonyms


# --------------------------------------------------------------------------- rewriting


class _Rewriter:
    """Rewrites one parsed query; collects the optional boosters along the way."""

    def __init__(self, synonyms: Synonyms, reader=None):
        self.synonyms = synonyms
        self.reader = reader
        self.boosters: list = []
        self.labels: list[str] = []
        self._negated = 0

    def boost(self, query) -> None:
        if query is not None and not self._negated:
            self.boosters.append(query)

    # ---- the tree
    def rewrite(self, q):
        if isinstance(q, wq.Term) and q.fieldname == "text":
            return self._and([q], 1.0)
        if isinstance(q, wq.Term):
            if q.fieldname in _TEXT_FIELDS:
                return self._boosted(self.unit(q.fieldname, [q.text]), q.boost)
            return q
        if isinstance(q, wq.Phrase):
            if q.fieldname in _TEXT_FIELDS:
                return self._boosted(self.unit(q.fieldname, list(q.words), quoted=True), q.boost)
            return q
        if isinstance(q, (wq.Prefix, wq.Wildcard)):
            return self._prefix(q)
        if isinstance(q, wq.And):
            return self._and(list(q.subqueries), q.boost)
        if isinstance(q, wq.Or):
            children = [c for c in (self.rewrite(c) for c in q.subqueries) if c is not None]
            if not children:
                return None
            return children[0] if len(children) == 1 else wq.Or(children, boost=q.boost)
        if isinstance(q, wq.Not):
            self._negated += 1
            inner = self.rewrite(q.query)
            self._negated -= 1
            return wq.Not(inner) if inner is not None else None
        if isinstance(q, wq.AndNot):
            positive = self.rewrite(q.a)
            self._negated += 1
            negative = self.rewrite(q.b)
            self._negated -= 1
            if positive is None:
                return None
            return wq.AndNot(positive, negative) if negative is not None else positive
        if isinstance(q, wq.AndMaybe):
            required = self.rewrite(q.a)
            optional = self.rewrite(q.b)
            if required is None:
                return None
            return wq.AndMaybe(required, optional) if optional is not None else required
        if type(q).__name__ == "NullQuery" or q is wq.NullQuery:
            return None
        return q

    @staticmethod
    def _boosted(query, boost: float):
        if query is None or boost == 1.0:
            return query
        return query.with_boost(query.boost * boost)

    def _prefix(self, q):
        if q.fieldname not in _TEXT_FIELDS:
            return q
        folded = analysis.fold(q.text.rstrip("*?")) if isinstance(q, wq.Prefix) else analysis.fold(q.text)
        cls = type(q)
        alternatives = [_tier(cls(q.fieldname, folded), LITERAL_TIER)]
        if q.fieldname == "text":
            alternatives.append(_tier(cls("parts", folded), PARTS_TIER))
        return self._boosted(_best_of(alternatives), q.boost)

    def _and(self, children: list, boost: float):
        """An AND group: runs of free words become units (adjacent words that form a synonym
        or a closed compound become one unit); everything else is rewritten as it stands."""
        out = []
        runs: list[tuple[list[str], float]] = []
        run: list[str] = []
        for child in children + [None]:
            free = isinstance(child, wq.Term) and child.fieldname == "text"
            if free and child.boost == 1.0:
                run.append(child.text)
                continue
            if run:
                runs.append((run, 1.0))
                run = []
            if free:
                runs.append(([child.text], child.boost))
            elif child is not None:
                rewritten = self.rewrite(child)
                if rewritten is not None:
                    out.append(rewritten)
        # Function words are required only when nothing else is (a query of only "de" or "niet").
        alone = not out and len(runs) == 1
        for words, word_boost in runs:
            out.extend(self._boosted(unit, word_boost) for unit in self.run(words, required_stopwords=alone))
        out = [q for q in out if q is not None]
        if not out:
            return None
        if len(out) == 1:
            return self._boosted(out[0], boost)
        return wq.And(out, boost=boost)

    def run(self, words: list[str], required_stopwords: bool = True) -> list:
        """The required units of a run of free words; the run's boosters go to ``boosters``."""
        words = [w for w in words if analysis.phrase_terms(w)]
        if not words:
            return []
        stop = _stopwords()
        content = [i for i, w in enumerate(words) if analysis.fold(w) not in stop]
        if not content and required_stopwords:
            content = list(range(len(words)))
        units: dict[int, object] = {}
        spans: dict[int, list[str]] = {}
        covered: set[int] = set()
        for start, end, match in self._synonym_spans(words, set(content)):
            units[start] = self._span(words, start, end, content, match.alternatives)
            spans[start] = words[start:end]
            covered.update(range(start, end))
        for a, b in zip(content, content[1:], strict=False):
            if b == a + 1 and a not in covered and b not in covered:
                closed = closed_compound([words[a], words[b]])
                if closed and self.reader is not None and ("text", closed) in self.reader:
                    units[a] = self._span(words, a, b + 1, content, ())
                    spans[a] = words[a:b + 1]
                    covered.update((a, b))
        for i in content:
            if i not in covered:
                units[i] = self.unit("text", [words[i]])
                spans[i] = [words[i]]
        self._run_boosters(words, content)
        #: The words each returned unit stands for, for partial matches and --explain.
        self.labels = [" ".join(spans[i]) for i in sorted(units) if units[i] is not None]
        return [units[i] for i in sorted(units) if units[i] is not None]

    def _span(self, words: list[str], start: int, end: int, content: list[int], alternatives):
        """Adjacent words as one unit: each word in its own way, or the words written as one
        closed compound (killer robots: killerrobots) at their literal tier, or a synonym of them.
        (Their being a phrase is the proximity booster's business.)"""
        inside = [i for i in range(start, end) if i in content] or list(range(start, end))
        weight = len(inside)
        # Each word only as written: the span's synonyms stand for it, and a word's own synonyms
        # would read it out of context (law -> LAWS in "international law").
        each = [u for u in (self.unit("text", [words[i]], plain=True) for i in inside) if u is not None]
        closed = closed_compound(words[start:end])
        terms = [t for i in range(start, end) for t in analysis.phrase_terms(words[i])]
        return _best_of([
            wq.And(each) if len(each) > 1 else (each[0] if each else None),
            _tier(wq.Term("text", closed) if closed else None, LITERAL_TIER * weight, BM25_SHARE * weight),
            _tier(self._synonym_readings(alternatives), SYNONYM_TIER * weight, BM25_SHARE * weight),
            _tier(_best_of(expansion.span_related(terms, self.synonyms)), expansion.RELATED_TIER * weight,
                  BM25_SHARE * weight),
        ])

    def _synonym_spans(self, words: list[str], content: set[int]):
        """Non-overlapping spans of two or more words that match a synonym, longest first."""
        if len(words) < 2:
            return []
        terms: list[str] = []
        owner: list[int] = []
        for i, word in enumerate(words):
            for term in analysis.phrase_terms(word):
                terms.append(term)
                owner.append(i)
        spans = []
        for match in self.synonyms.matches(terms):
            start, end = owner[match.start], owner[match.end - 1] + 1
            aligned = (match.start == 0 or owner[match.start - 1] != start) and (
                match.end == len(terms) or owner[match.end] != end - 1
            )
            if aligned and end - start >= 2 and any(i in content for i in range(start, end)):
                spans.append((start, end, match))
        chosen = []
        taken: set[int] = set()
        for start, end, match in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
            if taken.isdisjoint(range(start, end)):
                chosen.append((start, end, match))
                taken.update(range(start, end))
        return sorted(chosen, key=lambda s: s[0])

    @staticmethod
    def _synonym_readings(alternatives: Iterable[Iterable[str]]):
        """Any alternative term sequence, spelt as written, closed (cyber security:
        cybersecurity) or, for a closed compound, open (killerrobots: killer robots)."""
        queries = []
        for sequence in alternatives:
            sequence = list(sequence)
            queries.append(_sequence("text", sequence))
            if len(sequence) == 1:
                parts = analysis.split_compound(sequence[0])
                if len(parts) > 1:
                    queries.append(_sequence("text", [analysis.stem(p) for p in parts]))
            elif len(sequence) in (2, 3):
                queries.append(wq.Term("text", analysis.stem("".join(sequence))))
        return _best_of(queries)

    def _run_boosters(self, words: list[str], content: list[int]) -> None:
        """The words as a phrase or near each other; each word in the section or title."""
        offsets: list[int] = []
        terms: list[str] = []
        position = 0
        for i, word in enumerate(words):
            word_terms = analysis.phrase_terms(word)
            if i in content:
                terms.extend(word_terms)
                offsets.extend(range(position, position + len(word_terms)))
            position += len(word_terms)
        if len(terms) >= 2 and PHRASE_BOOST > 0:
            self.boost(Proximity("text", terms, offsets, PROXIMITY_SLOP, PHRASE_BOOST))
        for i in content:
            self._field_boosters([words[i]])

    def _field_boosters(self, words: list[str]) -> None:
        for fieldname, share in (("section", SECTION_BOOST), ("title", TITLE_BOOST)):
            if share > 0:
                self.boost(_tier(_literal(fieldname, words), 0.0, share))

    def unit(self, fieldname: str, words: list[str], quoted: bool = False, plain: bool = False):
        """One word or quoted phrase: the best of its literal, compound-part, footnote and
        synonym matches, each in its tier; a single word also by its derived forms and related
        terms (see :mod:`searchdoc.expansion`). ``plain``: literal and compound-part matches only."""
        terms = analysis.phrase_terms(" ".join(words))
        if not terms:
            return None
        weight = max(1, len(words))
        scale = BM25_SHARE * weight
        if fieldname != "text":
            return _tier(_literal(fieldname, words), LITERAL_TIER * weight, scale)
        parts = [t.term for t in analysis.part_tokens(" ".join(words))]
        alternatives = [
            _tier(_literal("text", words), LITERAL_TIER * weight, scale),
            _tier(_sequence("parts", parts), PARTS_TIER * weight, scale),
            _tier(_sequence("notes", terms), PARTS_TIER * weight, scale),
            None if plain else _tier(self._synonym_readings(self.synonyms.expansions(terms)), SYNONYM_TIER * weight,
                                     scale),
        ]
        if quoted:
            self._field_boosters(words)
        elif len(words) == 1 and not plain:
            derived, related = expansion.word_expansions(words[0], terms, self.synonyms, self.reader)
            alternatives += [
                _tier(_best_of(derived), expansion.DERIVED_TIER * weight, scale),
                _tier(_best_of(related), expansion.RELATED_TIER * weight, scale),
            ]
        return _best_of(alternatives)


# --------------------------------------------------------------------------- pruning


def prune(q, reader):
    """``q`` without the parts that cannot match in ``reader`` (None when nothing can)."""
    if isinstance(q, wq.Term):
        return q if (q.fieldname, q.text) in reader else None
    if isinstance(q, wq.Phrase):
        return q if all((q.fieldname, w) in reader for w in q.words) else None
    if isinstance(q, Tier):
        child = prune(q.child, reader)
        return q._rewrap(child) if child is not None else None
    if isinstance(q, wq.And):
        kept = []
        for child in q.subqueries:
            pruned = prune(child, reader)
            if pruned is None and not isinstance(child, wq.Not):
                return None
            if pruned is not None:
                kept.append(pruned)
        return _compound(type(q), kept, q.boost) if kept else None
    if isinstance(q, (wq.Or, wq.DisjunctionMax)):
        kept = [c for c in (prune(c, reader) for c in q.subqueries) if c is not None]
        return _compound(type(q), kept, q.boost) if kept else None
    if isinstance(q, wq.AndMaybe):
        required, optional = prune(q.a, reader), prune(q.b, reader)
        if required is None:
            return None
        return wq.AndMaybe(required, optional) if optional is not None else required
    if isinstance(q, wq.AndNot):
        positive, negative = prune(q.a, reader), prune(q.b, reader)
        if positive is None:
            return None
        return wq.AndNot(positive, negative) if negative is not None else positive
    if isinstance(q, wq.Not):
        inner = prune(q.query, reader)
        return wq.Not(inner) if inner is not None else None
    return q


def _compound(cls, children: list, boost: float):
    """A compound query of the surviving children; one child stands alone, keeping the boost."""
    if len(children) == 1:
        child = children[0]
        return child if boost == 1.0 else child.with_boost(child.boost * boost)
    return cls(children, boost=boost)


# --------------------------------------------------------------------------- did you mean

# A word of the query that is not an operator, a field name or a field's value.
_QUERY_WORD = re.compile(r"(?<![\w:*?])([^\W\d_][\w'’\-]*)(?![\w:*?])")
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"})


def _known(word: str, reader, synonyms: Synonyms) -> bool:
    terms = analysis.phrase_terms(word)
    if all(("text", t) in reader for t in terms):
        return True
    parts = [t.term for t in analysis.part_tokens(word)]
    if parts and all(("parts", t) in reader for t in parts):
        return True
    return bool(synonyms.matches(terms))


def _surface(reader, searcher, term: str, typed: str) -> str | None:
    """The corpus's own spelling of a word indexed as ``term``, the one closest to ``typed``."""
    from whoosh.support.levenshtein import damerau_levenshtein

    seen: dict[str, int] = {}
    for n, docnum in enumerate(searcher.docs_for_query(wq.Term("text", term))):
        if n >= 5:
            break
        text = searcher.stored_fields(docnum).get("text") or ""
        for word, _, _ in analysis.tokenize(text):
            if term in (t.term for t in analysis.analyze(word)):
                seen[word] = seen.get(word, 0) + 1
    if not seen:
        return None
    folded = analysis.fold(typed)
    best = min(seen, key=lambda w: (damerau_levenshtein(analysis.fold(w), folded), -seen[w], w))
    if typed.islower() and not best.isupper():
        best = best.lower()
    return best


#: Words up to this long are also respelt letter by letter (one edit giving a Dutch word whose
#: term the index holds); longer words only through the index's terms near their stem.
_EDIT_WORD = 12
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _edits(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return (
        {a + b[1:] for a, b in splits if b}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
        | {a + c + b for a, b in splits for c in _LETTERS}
    )


def _correction(word: str, reader, searcher) -> str | None:
    """The likeliest corpus word near an unknown word: fewest edits, then most paragraphs."""
    from whoosh.support.levenshtein import damerau_levenshtein

    terms = analysis.phrase_terms(word)
    if len(terms) != 1 or not word.replace("-", "").isalpha():
        return None
    term = terms[0]
    folded = analysis.fold(word)
    candidates: dict[str, int] = {}
    if len(folded) <= _EDIT_WORD:
        for edited in _edits(folded):
            # Only real words (the Dutch word list) are worth analysing: most edits are not.
            if analysis.word_frequency(edited) == 0.0:
                continue
            edited_terms = analysis.phrase_terms(edited)
            if len(edited_terms) == 1 and ("text", edited_terms[0]) in reader:
                candidates[edited_terms[0]] = 1
    limit = 1 if len(term) <= 5 else 2
    for found in reader.terms_within("text", term, limit, prefix=1):
        if found != term and not found.isdigit():
            candidates.setdefault(found, damerau_levenshtein(found, term))
    candidates.pop(term, None)
    if not candidates:
        return None
    best = min(candidates, key=lambda c: (candidates[c], -reader.doc_frequency("text", c), c))
    return _surface(reader, searcher, best, word)


def suggest(query_text: str, searcher, synonyms: Synonyms | None = None, total: int | None = None) -> str | None:
    """A respelling of ``query_text`` whose unknown words are replaced by the nearest words of the
    index's vocabulary ("kunstmatige inteligentie" -> "kunstmatige intelligentie"), or None when no
    respelling finds more paragraphs than the query itself (``total``, counted when not given).

    Meant for queries with few or no hits: it reads the lexicon near each unknown word.
    """
    synonyms = synonyms if synonyms is not None else default_synonyms()
    reader = searcher.reader()
    try:
        query = build_query(query_text, synonyms, reader)
    except QueryError:
        return None
    if total is None:
        total = len(searcher.search(query, limit=1, terms=False))
    if total >= SUGGEST_BELOW:
        return None
    # Field values (section:x) and prefixes (cyber*) are left as typed.
    outside = re.sub(r'\b[A-Za-z_]+:("[^"]*"|\S+)', lambda m: " " * len(m.group(0)), query_text)
    replacements = []
    for match in _QUERY_WORD.finditer(outside):
        word = match.group(1)
        if word in _OPERATORS:
            continue
        if _known(word, reader, synonyms):
            continue
        corrected = _correction(word, reader, searcher)
        if corrected and analysis.fold(corrected) != analysis.fold(word):
            replacements.append((match.start(1), match.end(1), corrected))
    if not replacements:
        return None
    suggestion = query_text
    for start, end, corrected in reversed(replacements):
        suggestion = suggestion[:start] + corrected + suggestion[end:]
    try:
        better = build_query(suggestion, synonyms, reader)
    except QueryError:
        return None
    if len(searcher.search(better, limit=1, terms=False)) <= total:
        return None
    return suggestion


def matching_part(q):
    """The part of a rewritten query that decides *whether* a paragraph matches.

    The optional boosters (exact phrase, proximity, section and title) only change scores, so
    counting every match (the total, the theme facets) can skip them.
    """
    if isinstance(q, wq.AndMaybe):
        return matching_part(q.a)
    if isinstance(q, (wq.And, wq.Or)) and not isinstance(q, wq.DisjunctionMax):
        return type(q)([matching_part(c) for c in q.subqueries], boost=q.boost)
    if isinstance(q, wq.AndNot):
        return wq.AndNot(matching_part(q.a), q.b)
    return q


def matched_terms(q, reader) -> dict[str, set[str]]:
    """Index terms the query can match, per field, for highlighting."""
    found: dict[str, set[str]] = {}
    try:
        pairs = q.existing_terms(reader, expand=True)
    except Exception:
        pairs = set(q.iter_all_terms())
    for fieldname, term in pairs:
        if isinstance(term, bytes):
            term = term.decode("utf-8", errors="replace")
        found.setdefault(fieldname, set()).add(term)
    return found
