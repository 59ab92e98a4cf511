"""Query parsing and rewriting for the Whoosh index (with ``searchdoc.index``, the only Whoosh user).

The Whoosh query parser supplies the syntax (AND by default, OR, NOT, quotes, prefix*,
field:value); the parsed tree is then rewritten so that every word is searched as its stem in
``text`` (full weight), as its compound parts in ``parts`` (lower weight) and through its
synonyms (lower still).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from whoosh import fields as wfields
from whoosh import qparser
from whoosh import query as wq
from whoosh.analysis import IDAnalyzer

from searchdoc import analysis, settings
from searchdoc.errors import QueryError

#: Field weights in ranking: literal words first, compound parts and notes lower, synonyms lowest.
TEXT_BOOST = 1.0
PARTS_BOOST = 0.45
NOTES_BOOST = 0.4
SYNONYM_BOOST = 0.35

#: Fields a user may name in a query (``field:value``).
QUERY_FIELDS = ("text", "section", "title", "notes", "doc_id", "kind", "themes", "cites", "dossier", "date", "page", "paragraph")
_TEXT_FIELDS = ("text", "section", "title", "notes")


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


def build_query(query_text: str):
    """Parse user syntax and rewrite it into searchdoc's weighted Dutch query."""

    if not isinstance(query_text, str) or not query_text.strip():
        raise QueryError("the query is empty; give one or more words, e.g. searchdoc search drones")
    if len(query_text) > 1000:
        raise QueryError("the query is longer than 1,000 characters")
    if "\x00" in query_text:
        raise QueryError("the query contains a NUL character")
    check_fields(query_text)
    if query_text.count('"') % 2:
        raise QueryError('unbalanced quotes in the query: close the phrase with a second "')
    parser = qparser.QueryParser("text", _query_schema(), group=qparser.AndGroup)
    try:
        parsed = parser.parse(query_text)
    except Exception as exc:
        raise QueryError(f"cannot parse query {query_text!r}: {exc.__class__.__name__}") from None
    if _has_error(parsed):
        raise QueryError(f"cannot parse query {query_text!r}: check parentheses, quotes and operators")
    rewritten = _rewrite(parsed)
    if rewritten is None or rewritten is wq.NullQuery or isinstance(rewritten, type(wq.NullQuery)):
        raise QueryError(f"the query {query_text!r} has no searchable words")
    return rewritten


def _has_error(q) -> bool:

    if isinstance(q, wq.error.ErrorQuery) if hasattr(wq, "error") else type(q).__name__ == "ErrorQuery":
        return True
    return any(_has_error(child) for child in q.children()) if q.is_leaf() is False else False


def _analysed_terms(text: str) -> list[str]:
    return [t.term for t in analysis.analyze(text)]


def _part_terms(text: str) -> list[str]:
    return [t.term for t in analysis.part_tokens(text)]


def _sequence_query(fieldname: str, terms: list[str], boost: float = 1.0, slop: int = 1):

    terms = [t for t in terms if t]
    if not terms:
        return None
    if len(terms) == 1:
        return wq.Term(fieldname, terms[0], boost=boost)
    return wq.Phrase(fieldname, terms, slop=slop, boost=boost)


def _word_query(fieldname: str, words: list[str], boost: float = 1.0, phrase: bool = False):
    """One word (or a quoted phrase) on a text field, expanded over text, parts and synonyms."""

    joined = " ".join(words)
    text_terms = _analysed_terms(joined)
    if not text_terms:
        return None
    target = fieldname if fieldname in _TEXT_FIELDS else "text"
    alternatives = []
    literal = _literal_query(target, joined, text_terms, boost)
    if literal is not None:
        alternatives.append(literal)
    if target == "text":
        part_terms = _part_terms(joined)
        if part_terms and part_terms != text_terms:
            alternatives.append(_sequence_query("parts", part_terms, boost * PARTS_BOOST))
        elif part_terms and len(part_terms) > 1:
            alternatives.append(_sequence_query("parts", part_terms, boost * PARTS_BOOST))
        elif part_terms:
            alternatives.append(wq.Term("parts", part_terms[0], boost=boost * PARTS_BOOST))
        notes = _sequence_query("notes", text_terms, boost * NOTES_BOOST)
        if notes is not None:
            alternatives.append(notes)
        for synonym_terms in _synonyms(text_terms):
            alt = _sequence_query("text", synonym_terms, boost * SYNONYM_BOOST)
            if alt is not None:
                alternatives.append(alt)
    alternatives = [a for a in alternatives if a is not None]
    if not alternatives:
        return None
    return alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives)


def _literal_query(fieldname, joined, text_terms, boost):
    """The literal match: hyphenated compounds match whole or as their consecutive parts."""

    tokens = analysis.analyze(joined)
    if len(tokens) == 1 or all(t.pos == tokens[0].pos for t in tokens):
        terms = sorted({t.term for t in tokens})
        if len(terms) == 1:
            return wq.Term(fieldname, terms[0], boost=boost)
        return wq.Or([wq.Term(fieldname, t, boost=boost) for t in terms])
    # Several positions: take the main reading (words and compound parts, not the joined whole).
    sequence: dict[int, str] = {}
    for t in tokens:
        if t.origin == "whole":
            continue
        sequence.setdefault(t.pos, t.term)
    terms = [sequence[p] for p in sorted(sequence)]
    return _sequence_query(fieldname, terms, boost, slop=1)


_SYNONYM_TABLE = None


def _synonyms(text_terms: list[str]) -> list[list[str]]:
    global _SYNONYM_TABLE
    if not hasattr(analysis, "load_synonyms"):
        return []
    if _SYNONYM_TABLE is None:
        path = os.environ.get(settings.ENV_SYNONYMS)
        _SYNONYM_TABLE = analysis.load_synonyms(Path(path) if path else None)
    return [alt for alt in _SYNONYM_TABLE.expansions(text_terms) if alt != text_terms]


def _rewrite(q):
    """Map the parsed tree onto searchdoc's fields and weights."""

    if isinstance(q, wq.Term):
        if q.fieldname in _TEXT_FIELDS:
            return _word_query(q.fieldname, [q.text], q.boost)
        return q
    if isinstance(q, wq.Phrase):
        if q.fieldname in _TEXT_FIELDS:
            return _word_query(q.fieldname, list(q.words), q.boost, phrase=True)
        return q
    if isinstance(q, (wq.Prefix, wq.Wildcard)):
        if q.fieldname in _TEXT_FIELDS:
            folded = analysis.fold(q.text.rstrip("*?")) if isinstance(q, wq.Prefix) else analysis.fold(q.text)
            cls = type(q)
            alternatives = [cls("text" if q.fieldname == "text" else q.fieldname, folded, boost=q.boost)]
            if q.fieldname == "text":
                alternatives.append(cls("parts", folded, boost=q.boost * PARTS_BOOST))
            return wq.Or(alternatives)
        return q
    if isinstance(q, wq.And):
        children = [c for c in (_rewrite(c) for c in q.subqueries) if c is not None]
        if not children:
            return None
        return children[0] if len(children) == 1 else wq.And(children, boost=q.boost)
    if isinstance(q, wq.Or):
        children = [c for c in (_rewrite(c) for c in q.subqueries) if c is not None]
        if not children:
            return None
        return children[0] if len(children) == 1 else wq.Or(children, boost=q.boost)
    if isinstance(q, wq.Not):
        inner = _rewrite(q.query)
        return wq.Not(inner) if inner is not None else None
    if isinstance(q, wq.AndNot):
        positive = _rewrite(q.a)
        negative = _rewrite(q.b)
        if positive is None:
            return None
        return wq.AndNot(positive, negative) if negative is not None else positive
    if isinstance(q, wq.AndMaybe):
        required = _rewrite(q.a)
        optional = _rewrite(q.b)
        if required is None:
            return None
        return wq.AndMaybe(required, optional) if optional is not None else required
    if type(q).__name__ == "NullQuery" or q is wq.NullQuery:
        return None
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


