"""Views of stored documents for ``show`` and ``list``: labels, URLs and themes added."""

from __future__ import annotations

from dataclasses import dataclass

from searchdoc.corpus import Corpus
from searchdoc.model import Document


@dataclass
class DocumentView:
    document: Document
    label: str
    citation: str
    url: str | None
    themes: dict[int, list[str]]


def document_view(corpus: Corpus, doc_id: str, config=None) -> DocumentView:
    from searchdoc import themes
    from searchdoc.search import document_label, paragraph_url, pinpoint_citation

    document = corpus.load(doc_id)
    tagger = themes.ThemeTagger(themes.load_taxonomy(config.taxonomy_file if config else None))
    tags = {p.n: tagger.tag(p.text, p.section) for p in document.paragraphs}
    return DocumentView(document, document_label(document), pinpoint_citation(document, None),
                        paragraph_url(document), tags)


def view_to_dict(view: DocumentView, only_paragraph: int | None = None) -> dict:
    from searchdoc.search import pinpoint_citation

    document = view.document
    paragraphs = [p for p in document.paragraphs if only_paragraph is None or p.n == only_paragraph]
    numbers = {p.n for p in paragraphs}
    return {
        "id": document.id,
        "label": view.label,
        "citation": view.citation,
        "title": document.title,
        "date": document.date,
        "kind": document.kind,
        "doc_type": document.doc_type,
        "dossier": document.dossier,
        "url": view.url,
        "source_format": document.source_format,
        "paragraphs": [
            {
                "n": p.n,
                "section": p.section,
                "speaker": p.speaker,
                "page": p.page,
                "page_end": p.page_end,
                "text": p.text,
                "footnotes": list(p.footnotes),
                "themes": view.themes.get(p.n, []),
                "citation": pinpoint_citation(document, p),
                "citations": [
                    {"id": c.id, "raw": c.raw, "footnote": c.footnote, "start": c.start, "end": c.end}
                    for c in p.citations
                ],
            }
            for p in paragraphs
        ],
        "footnotes": [
            {"n": f.n, "text": f.text, "paragraph": f.paragraph}
            for f in document.footnotes
            if only_paragraph is None or f.paragraph in numbers
        ],
        "signature": document.signature,
        "signatories": document.signatories,
        "metadata": {k: v for k, v in document.metadata.items() if k in _SHOWN_METADATA},
    }


#: Document metadata worth showing beside the fields (who asked and answered, the meeting).
_SHOWN_METADATA = (
    "asked_by", "answered_by", "meeting", "meeting_date", "item", "dossier_title", "full_title", "masthead",
)


def list_documents(corpus: Corpus) -> list[dict]:
    from searchdoc.search import document_label

    rows = []
    for document in corpus.documents():
        rows.append({
            "id": document.id,
            "label": document_label(document),
            "title": document.title,
            "date": document.date,
            "kind": document.kind,
            "paragraphs": len(document.paragraphs),
            "source_format": document.source_format,
        })
    return rows


def theme_summary(index, corpus: Corpus, doc_id: str | None = None) -> list[dict]:
    """The themes with their paragraph counts (in one document when ``doc_id`` is given)."""
    if doc_id is not None:
        corpus.load(doc_id)
    counts = index.theme_paragraph_counts(doc_id)
    taxonomy = index.tagger().taxonomy
    return [
        {"id": theme.id, "label": theme.label_nl, "label_en": theme.label_en, "count": counts.get(theme.id, 0)}
        for theme in taxonomy
    ]


def theme_evidence(corpus: Corpus, doc_id: str, paragraph_number: int, config=None) -> dict:
    """Which terms of a paragraph (and its heading) gave which theme, with their weights."""
    from searchdoc import themes
    from searchdoc.errors import UsageError

    document = corpus.load(doc_id)
    paragraph = document.paragraph(paragraph_number)
    if paragraph is None:
        raise UsageError(
            f"{doc_id} has {len(document.paragraphs)} paragraphs; paragraph {paragraph_number} does not exist"
        )
    tagger = themes.ThemeTagger(themes.load_taxonomy(config.taxonomy_file if config else None))
    evidence = tagger.explain(paragraph.text, paragraph.section)
    scores = tagger.scores(paragraph.text, paragraph.section)
    tagged = tagger.tag(paragraph.text, paragraph.section)
    return {
        "doc_id": doc_id,
        "paragraph": paragraph_number,
        "section": paragraph.section,
        "text": paragraph.text,
        "threshold": tagger.taxonomy.threshold,
        "themes": tagged,
        "scores": {k: v for k, v in scores.items() if v},
        "evidence": _mark_counted(evidence),
    }


def _mark_counted(evidence) -> list[dict]:
    """The evidence as dicts, each with ``counted``: a term adds its weight to a theme once
    however often it occurs (its strongest, first match counts; repeats add nothing)."""
    best: dict[tuple[str, str], object] = {}
    for e in evidence:
        if e.heading:
            continue
        key = (e.theme, e.term)
        if key not in best or e.weight > best[key].weight:
            best[key] = e
    counted = {id(e) for e in best.values()}
    return [
        {"theme": e.theme, "term": e.term, "text": e.text, "start": e.start, "end": e.end, "weight": e.weight,
         "heading": e.heading, "counted": e.heading or id(e) in counted}
        for e in evidence
    ]


def catalogue(corpus: Corpus) -> list[dict]:
    """Every document's metadata (id, label, title, date, kind, dossiers), read straight from its
    JSON so that listing a large corpus does not keep its paragraphs in memory."""
    import json

    from searchdoc.search import _label

    rows: list[dict] = []
    for doc_id in corpus.ids():
        try:
            data = json.loads(corpus.json_path(doc_id).read_bytes())
        except (OSError, ValueError):
            continue
        rows.append({
            "id": doc_id,
            "label": _label(doc_id, data.get("title")),
            "title": data.get("title") or "",
            "date": data.get("date"),
            "kind": data.get("kind") or "",
            "dossier": list(data.get("dossier") or []),
        })
    return rows
