"""Queries to ranked hits with context: the library behind ``searchdoc search`` and ``export``.

The index finds and scores paragraphs; this module adds what a reader needs around each one:
the neighbouring paragraphs, the document label and pinpoint citation, the matched words, the
themes and the citations the paragraph makes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict
from functools import lru_cache

from searchdoc import analysis
from searchdoc.corpus import Corpus
from searchdoc.errors import ThemeError, UnknownDocumentError, UsageError
from searchdoc.model import Document, Hit, Paragraph, SearchResult

HIGHLIGHT_OPEN = "**"
HIGHLIGHT_CLOSE = "**"


def document_label(document: Document) -> str:
    return _label(document.id, document.title)


# Labels, citations and links are pure functions of a few strings, parsed from the id each time:
# a search asks for them for every hit, and hits keep coming from the same documents.
@lru_cache(maxsize=4096)
def _label(doc_id: str, title: str | None) -> str:
    from searchdoc import citations

    try:
        return citations.label(doc_id)
    except Exception:
        return title or doc_id


def id_label(doc_id: str) -> str:
    """The label of a document known only by its id (for links to cited documents)."""
    return _label(doc_id, None)


def pinpoint_citation(document: Document, paragraph: Paragraph | None) -> str:
    """Leidraad-style citation of a paragraph, with its page(s) when known."""
    page = paragraph.page if paragraph else None
    page_end = paragraph.page_end if paragraph else None
    return _citation(document.id, document.vergaderjaar, page, page_end, document.title)


@lru_cache(maxsize=16384)
def _citation(doc_id: str, vergaderjaar: str | None, page, page_end, title: str | None) -> str:
    from searchdoc import citations

    try:
        return citations.full_citation(doc_id, vergaderjaar=vergaderjaar, page=page, page_end=page_end)
    except Exception:
        return _label(doc_id, title)


def paragraph_url(document: Document) -> str | None:
    return document.url or _official_url(document.id)


@lru_cache(maxsize=4096)
def _official_url(doc_id: str) -> str | None:
    """The official page of ``doc_id``; None for a local document (a user's own notes, ingested
    under an id of their choosing), which has no page anywhere."""
    from searchdoc import citations
    from searchdoc.errors import InvalidIdentifierError

    try:
        return citations.official_url(doc_id)
    except InvalidIdentifierError:
        return None


def match_spans(text: str, matched: dict[str, set[str]]) -> list[tuple[int, int]]:
    """Character spans of the words in ``text`` whose index terms the query matched."""
    text_terms = matched.get("text", set())
    part_terms = matched.get("parts", set())
    spans: set[tuple[int, int]] = set()
    if text_terms:
        for token in analysis.analyze(text):
            if token.term in text_terms:
                spans.add(_word_span(text, token.start, token.end))
    if part_terms:
        for token in analysis.part_tokens(text):
            if token.term in part_terms:
                spans.add(_word_span(text, token.start, token.end))
    return _merge(sorted(spans))


def _word_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a (part) span to the whole word, so compounds are highlighted whole."""
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "-’'") and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] in "-’'"):
        end += 1
    while end > start and text[end - 1] in "-’'":
        end -= 1
    return start, end


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark(text: str, spans: list[tuple[int, int]], open_: str = HIGHLIGHT_OPEN, close: str = HIGHLIGHT_CLOSE) -> str:
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(f"{open_}{text[start:end]}{close}")
        last = end
    out.append(text[last:])
    return "".join(out)


def paragraph_dict(paragraph: Paragraph) -> dict:
    data = {"n": paragraph.n, "section": paragraph.section, "page": paragraph.page, "text": paragraph.text}
    if paragraph.speaker:
        data["speaker"] = paragraph.speaker
    return data


def context_paragraphs(document: Document, n: int, context: int) -> tuple[list[dict], list[dict]]:
    if context <= 0:
        return [], []
    before = [paragraph_dict(p) for p in document.paragraphs if n - context <= p.n < n]
    after = [paragraph_dict(p) for p in document.paragraphs if n < p.n <= n + context]
    return before, after


def validate_filters(corpus: Corpus, doc_ids: Iterable[str], themes: Iterable[str], theme_ids: Iterable[str]) -> None:
    for doc_id in doc_ids:
        if not corpus.has(doc_id):
            raise UnknownDocumentError(f"--doc {doc_id}: not in the corpus (list documents with 'searchdoc list')")
    known = list(theme_ids)
    for theme in themes:
        if theme.lower() not in known:
            raise ThemeError(f"--theme {theme}: unknown theme; themes are: {', '.join(known)}")


def make_hit(document: Document, paragraph: Paragraph, score: float, matched: dict[str, set[str]],
             context: int, themes: list[str]) -> Hit:
    spans = match_spans(paragraph.text, matched)
    before, after = context_paragraphs(document, paragraph.n, context)
    return Hit(
        doc_id=document.id,
        paragraph=paragraph.n,
        section=paragraph.section,
        page=paragraph.page,
        page_end=paragraph.page_end,
        score=round(float(score), 4),
        text=paragraph.text,
        highlight=mark(paragraph.text, spans),
        label=document_label(document),
        citation=pinpoint_citation(document, paragraph),
        url=paragraph_url(document),
        title=document.title,
        date=document.date,
        kind=document.kind,
        speaker=paragraph.speaker,
        themes=themes,
        before=before,
        after=after,
        citations=[{"id": c.id, "raw": c.raw, "footnote": c.footnote} for c in paragraph.citations],
        footnotes=[{"n": f.n, "text": f.text, "offset": f.offset} for f in document.footnotes
                   if f.n in paragraph.footnotes],
        spans=spans,
    )


def search(index, corpus: Corpus, query: str, limit: int | None = 10, context: int = 0,
           doc_ids: Iterable[str] = (), themes: Iterable[str] = (), explain: bool = False,
           correct: bool = True) -> SearchResult:
    """Run ``query`` and return hits with context, facets and a spelling suggestion when useful.

    The hits with all the words come first, then (while there is room under ``limit``) those
    with most of them; a query that finds nothing as typed shows what its respelling finds.
    ``explain`` adds what each word matched; ``correct=False`` keeps the query as typed."""
    doc_ids, themes = list(doc_ids), [t.lower() for t in themes]
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    if context < 0:
        raise UsageError("--context must not be negative")
    validate_filters(corpus, doc_ids, themes, index.theme_ids())
    raw = index.run_query(query, doc_ids=doc_ids, themes=themes, limit=limit)
    from searchdoc.query import SUGGEST_BELOW

    suggestion = index.suggest(query, raw.total) if raw.total < SUGGEST_BELOW else None
    searched, corrected = query, None
    if raw.total == 0 and suggestion and correct:
        # As web search engines do: show what the respelt query finds, and say so.
        respelt = index.run_query(suggestion, doc_ids=doc_ids, themes=themes, limit=limit)
        if respelt.total:
            raw, searched, corrected, suggestion = respelt, suggestion, suggestion, None
    hits = list(_hits(corpus, raw, context))
    result = SearchResult(query=query, total=raw.total, hits=hits, facets={"themes": raw.theme_counts},
                          suggestion=suggestion, corrected=corrected)
    if limit is None or len(hits) < limit:
        _add_partial(result, index, corpus, searched, doc_ids, themes, limit, context)
    if explain:
        from searchdoc.explain import explain_query

        result.explain = explain_query(index, searched)
    return result


def _add_partial(result: SearchResult, index, corpus: Corpus, query: str, doc_ids, themes, limit, context) -> None:
    """Append the paragraphs with most of the words (see :mod:`searchdoc.partial`)."""
    from searchdoc.partial import partial_matches

    room = None if limit is None else limit - len(result.hits)
    found = partial_matches(index, query, doc_ids, themes, room)
    if found is None or not found.total:
        return
    start = len(result.hits)
    matched = []
    for item in found.hits:
        hit = _hit_of(corpus.load(item.fields["doc_id"]), item.fields, item.score, found.matched_terms, context)
        if hit is not None:
            result.hits.append(hit)
            matched.append([w for w, m in zip(found.words, item.matched, strict=True) if m])
    result.partial = {"words": found.words, "total": found.total, "minimum": found.minimum, "start": start,
                      "matched": matched}


def facet_counts(index, query: str, doc_ids: Iterable[str] = (), themes: Iterable[str] = (),
                 scan: int = 1000) -> dict:
    """Matching paragraphs per document and per year among the best ``scan`` hits.

    The theme facets of :func:`search` count every match; these come from the stored fields of
    the top hits only, so they stay cheap on any corpus. ``scanned`` says how many were counted.
    """
    raw = index.run_query(query, doc_ids=list(doc_ids), themes=[t.lower() for t in themes], limit=scan)
    documents: dict[str, int] = {}
    years: dict[str, int] = {}
    for item in raw.hits:
        documents[item.fields["doc_id"]] = documents.get(item.fields["doc_id"], 0) + 1
        year = (item.fields.get("date") or "")[:4]
        if year.isdigit():
            years[year] = years.get(year, 0) + 1
    return {
        "documents": dict(sorted(documents.items(), key=lambda kv: (-kv[1], kv[0]))),
        "years": dict(sorted(years.items(), reverse=True)),
        "scanned": len(raw.hits),
        "total": raw.total,
    }


def _hits(corpus: Corpus, raw, context: int) -> Iterator[Hit]:
    for item in raw.hits:
        hit = _hit_of(corpus.load(item.fields["doc_id"]), item.fields, item.score, raw.matched_terms, context)
        if hit is not None:
            yield hit


def _hit_of(document, stored: dict, score: float, matched, context: int) -> Hit | None:
    """The hit of one ranked paragraph (by its stored fields); None when the document no longer has it."""
    paragraph = document.paragraph(stored["paragraph"])
    if paragraph is None:
        return None
    themes = [t for t in (stored.get("themes") or "").split(",") if t]
    return make_hit(document, paragraph, score, matched, context, themes)


def hit_to_dict(hit: Hit) -> dict:
    data = asdict(hit)
    data.pop("spans", None)
    return data


def result_to_dict(result: SearchResult) -> dict:
    data = {
        "query": result.query,
        "total": result.total,
        "hits": [hit_to_dict(h) for h in result.hits],
        "facets": result.facets,
    }
    if result.suggestion:
        data["suggestion"] = result.suggestion
    if result.corrected:
        data["corrected"] = result.corrected
    if result.partial:
        partial = result.partial
        data["partial"] = {"words": partial["words"], "total": partial["total"], "minimum": partial["minimum"]}
        for hit, words in zip(data["hits"][partial["start"]:], partial["matched"], strict=False):
            hit["partial"] = {"matched": words, "of": len(partial["words"])}
    if result.explain is not None:
        data["explain"] = result.explain
    return data


class HitStream:
    """The hits of one query, built one at a time as they are consumed (``searchdoc export``).

    ``total`` is the number of hits the stream will yield (at most ``limit``).
    """

    def __init__(self, query: str, total: int, hits: Iterator[Hit]):
        self.query = query
        self.total = total
        self._hits = hits

    def __iter__(self) -> Iterator[Hit]:
        return self._hits


def stream_hits(index, corpus: Corpus, query: str, limit: int | None = None, context: int = 0,
                doc_ids: Iterable[str] = (), themes: Iterable[str] = ()) -> HitStream:
    """Like :func:`search`, but lazily and in constant memory, for exports of any size.

    ``Index.run_query`` keeps the stored fields of every hit; ``Index.ranked_stream`` spools the
    ranking to disk instead, and each paragraph is read only when the consumer reaches it. The
    order is that of :func:`search`: score, then index order.
    """
    doc_ids, themes = list(doc_ids), [t.lower() for t in themes]
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    if context < 0:
        raise UsageError("--context must not be negative")
    validate_filters(corpus, doc_ids, themes, index.theme_ids())
    ranked = index.ranked_stream(query, doc_ids=doc_ids, themes=themes, limit=limit)
    return HitStream(query, ranked.total, _stream(corpus, ranked.rows, ranked.matched_terms, context))


def _stream(corpus: Corpus, ranked: Iterator[tuple[dict, float]], matched, context: int) -> Iterator[Hit]:
    documents = _RecentDocuments(corpus)
    for stored, score in ranked:
        hit = _hit_of(documents.get(stored["doc_id"]), stored, score, matched, context)
        if hit is not None:
            yield hit


class _RecentDocuments:
    """The few documents used last: ranked hits hop between documents, but a stream must not
    end up holding the whole corpus, as the shared ``Corpus`` cache would."""

    size = 8

    def __init__(self, corpus: Corpus):
        self.root = corpus.root
        self._documents: dict[str, Document] = {}

    def get(self, doc_id: str) -> Document:
        document = self._documents.pop(doc_id, None)
        if document is None:
            # A private Corpus view, so the loaded document is not kept in the shared cache.
            document = Corpus(self.root).load(doc_id)
            if len(self._documents) >= self.size:
                self._documents.pop(next(iter(self._documents)))
        self._documents[doc_id] = document
        return document
