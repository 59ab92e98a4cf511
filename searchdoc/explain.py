"""What each word of a query matches (``searchdoc search --explain``): read off the query that
actually runs, so the explanation cannot drift from the search.

Every word (or group of words that form a synonym) becomes a unit of alternatives, each in a
score tier; the explanation lists, per unit, the index terms of each tier that the index holds,
best tier first. Terms are the analysed forms the index stores (stems, compound parts).
"""

from __future__ import annotations

from searchdoc import expansion
from searchdoc import query as sq

#: Tier base per word -> what it stands for (compound parts and footnotes share a tier).
TIERS = (
    (sq.LITERAL_TIER, "literal"),
    (sq.PARTS_TIER, "compound part"),
    (expansion.DERIVED_TIER, "derived form"),
    (sq.SYNONYM_TIER, "synonym"),
    (expansion.RELATED_TIER, "related term"),
)


def _kind(tier, leaf_field: str) -> str | None:
    if tier.scale <= 0 or tier.base <= 0:
        return None  # a score-only booster (section, title)
    per_word = tier.base / (tier.scale / sq.BM25_SHARE)
    for base, name in TIERS:
        if abs(per_word - base) < 1e-6:
            if name == "compound part" and leaf_field == "notes":
                return "footnote"
            if name == "literal" and leaf_field != "text":
                return f"{leaf_field} field"
            return name
    return None


def _leaves(q):
    if isinstance(q, (sq.wq.Term, sq.wq.Phrase, sq.wq.Prefix, sq.wq.Wildcard)):
        yield q
        return
    if isinstance(q, sq.Tier):
        yield from _leaves(q.child)
        return
    for child in q.children() if not q.is_leaf() else ():
        yield from _leaves(child)


def _describe(leaf) -> str:
    if isinstance(leaf, sq.wq.Phrase):
        text = " ".join(str(w) for w in leaf.words)
    else:
        text = str(leaf.text) + ("*" if isinstance(leaf, sq.wq.Prefix) else "")
    return text


def _tiers(q, found: dict[str, list[str]]) -> None:
    """Collect, per kind, the terms of the Tier nodes in ``q`` (nested tiers included)."""
    if isinstance(q, sq.Tier):
        leaves = list(_leaves(q.child))
        if leaves:
            kind = _kind(q, leaves[0].fieldname)
            if kind is not None:
                bucket = found.setdefault(kind, [])
                for leaf in leaves:
                    term = _describe(leaf)
                    if term not in bucket:
                        bucket.append(term)
        # Tiers inside (a span's words) are listed too.
        _tiers(q.child, found)
        return
    if q.is_leaf():
        return
    for child in q.children():
        _tiers(child, found)


def _ordered(found: dict[str, list[str]]) -> list[dict]:
    """Tiers best first; a term an expansion tier shares with a better one is listed only there
    (the better tier decides its score)."""
    order = [name for _, name in TIERS] + ["footnote"]
    keys = sorted(found, key=lambda k: order.index(k) if k in order else len(order))
    out, shown = [], set()
    for k in keys:
        terms = [t for t in found[k] if t not in shown] if k in _EXPANSIONS else found[k]
        if k == "literal" or k in _EXPANSIONS:
            shown.update(terms)
        if terms:
            out.append({"tier": k, "terms": terms})
    return out


_EXPANSIONS = frozenset({"derived form", "synonym", "related term"})


def explain_query(index, query_text: str) -> list[dict]:
    """Per unit of the query: its words and, per tier, the index terms it matches there."""
    from searchdoc.partial import units

    found = units(index, query_text)
    if found is not None:
        out = []
        for label, unit in zip(*found, strict=True):
            tiers: dict[str, list[str]] = {}
            if unit is not None:
                _tiers(unit, tiers)
            out.append({"words": label, "matches": _ordered(tiers)})
        return out
    searcher = index.searcher()
    built = sq.build_query(query_text, index.synonyms(), searcher.reader())
    tiers = {}
    if built is not sq.wq.NullQuery:
        _tiers(sq.matching_part(built), tiers)
    return [{"words": query_text, "matches": _ordered(tiers)}]


def render_explain(entries: list[dict]) -> list[str]:
    """The explanation as text lines (index terms per tier, best tier first)."""
    lines = ["What the query matches (index terms, best tier first):"]
    for entry in entries:
        lines.append(f"  {entry['words']}")
        if not entry["matches"]:
            lines.append("    nothing in the index")
        for match in entry["matches"]:
            lines.append(f"    {match['tier']}: {' · '.join(match['terms'])}")
    return lines
