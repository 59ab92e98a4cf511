"""The citation graph of the corpus: what a reference points to, who cites it, what a document cites.

Citations are extracted at ingest (``pipeline.enrich``) and stored on paragraphs and in the
index's ``cites`` field, so "cited by" is an index lookup, not a scan of the corpus.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import TextIO

from searchdoc import citations
from searchdoc.corpus import Corpus
from searchdoc.model import Document, Paragraph

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[«“\"(]?[A-Z0-9À-Ý])")


@dataclass
class CitedBy:
    doc_id: str
    paragraph: int
    context: str
    label: str = ""
    footnote: int | None = None
    raw: str = ""


@dataclass
class CitationInfo:
    input: str
    id: str
    kind: str
    label: str
    citation: str
    url: str | None
    in_corpus: bool
    title: str | None = None
    date: str | None = None
    alternates: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    cited_by: list[CitedBy] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["cited_by"] = [
            {"doc_id": c.doc_id, "paragraph": c.paragraph, "context": c.context, "label": c.label,
             "footnote": c.footnote, "raw": c.raw}
            for c in self.cited_by
        ]
        return data


def sentence_around(text: str, start: int, end: int | None = None) -> str:
    """The sentence(s) of ``text`` containing the span ``start``..``end``."""
    end = start if end is None else end
    bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text) + 1]
    first = max(b for b in bounds if b <= start)
    last = min(b for b in bounds if b > max(end - 1, start))
    return text[first:last].strip()


def citing_context(document: Document, paragraph: Paragraph, citation) -> str:
    """What the citing text says: the sentence around an in-text citation, or around the marker
    of the footnote that holds it (with the footnote appended)."""
    if citation.footnote is None:
        return sentence_around(paragraph.text, citation.start, citation.end)
    note = document.footnote(citation.footnote)
    if note is not None and note.offset is not None:
        sentence = sentence_around(paragraph.text, max(note.offset - 1, 0))
        return f"{sentence} [{note.n}: {note.text}]"
    return f"[{citation.footnote}: {note.text if note else citation.raw}]"


def lookup(ref: str, corpus: Corpus, index=None) -> CitationInfo:
    """Parse ``ref`` and gather what the corpus knows of it: the document and who cites it."""
    reference = citations.parse(ref)
    info = CitationInfo(
        input=ref,
        id=reference.id,
        kind=reference.kind,
        label=citations.label(reference.id),
        citation=citations.full_citation(reference.id, vergaderjaar=reference.vergaderjaar),
        url=citations.official_url(reference.id),
        in_corpus=corpus.has(reference.id),
        alternates=list(reference.alternates),
    )
    if not info.in_corpus and reference.kind in ("zaak", "tk-document"):
        info.resolved = resolved_documents(corpus, reference.id)
    if info.in_corpus or info.resolved:
        document = corpus.load(info.resolved[0] if info.resolved else reference.id)
        info.in_corpus = True
        info.title, info.date = document.title or None, document.date
        if not info.resolved:
            info.citation = citations.full_citation(reference.id, vergaderjaar=document.vergaderjaar)
            info.url = document.url or info.url
    wanted = {reference.id, *reference.alternates}
    if index is not None:
        info.cited_by = cited_by(index, corpus, wanted)
    return info


def resolved_documents(corpus: Corpus, number: str) -> list[str]:
    """Corpus documents the crawler reached by resolving a zaak or TK document number."""
    return [d.id for d in corpus.documents() if d.provenance.get("resolved_from") == number]


def cited_by(index, corpus: Corpus, ids: set[str]) -> list[CitedBy]:
    """Every paragraph in the corpus that cites one of ``ids``, in document and paragraph order."""
    found: list[CitedBy] = []
    seen: set[tuple[str, int, int | None]] = set()
    for doc_id, number in index.citing_paragraphs(ids):
        document = corpus.load(doc_id)
        paragraph = document.paragraph(number)
        if paragraph is None:
            continue
        for citation in paragraph.citations:
            key = (doc_id, number, citation.footnote)
            if citation.id in ids and key not in seen:
                seen.add(key)
                found.append(CitedBy(
                    doc_id=doc_id,
                    paragraph=number,
                    context=citing_context(document, paragraph, citation),
                    label=citations.label(doc_id) if citations.try_parse(doc_id) else doc_id,
                    footnote=citation.footnote,
                    raw=citation.raw,
                ))
    return sorted(found, key=lambda c: (c.doc_id, c.paragraph, c.footnote or 0))


def document_citations(document: Document) -> list[dict]:
    """The citations a corpus document makes, in reading order: one row per (id, paragraph,
    footnote), the first place it is written there standing for the others."""
    rows = []
    seen: set[tuple[str, int, int | None]] = set()
    for paragraph in document.paragraphs:
        for c in paragraph.citations:
            key = (c.id, paragraph.n, c.footnote)
            if key not in seen:
                seen.add(key)
                rows.append({"id": c.id, "raw": c.raw, "paragraph": paragraph.n, "footnote": c.footnote,
                             "kind": c.kind})
    return rows


def text_citations(source: str | TextIO) -> Iterator[dict]:
    """The citations found in free text (e.g. standard input), read paragraph by paragraph.

    Paragraphs are separated by blank lines and numbered from 1; offsets are into the
    paragraph. The text is read in chunks and a paragraph longer than
    ``settings.MAX_PARAGRAPH_CHARS`` is cut at a sentence end like an ingested one, so memory
    stays bounded however much text comes in. One row per (id, paragraph).
    """
    stream = io.StringIO(source) if isinstance(source, str) else source
    for number, block in enumerate(_paragraph_blocks(stream), start=1):
        seen: set[str] = set()
        for f in citations.extract(block):
            if f.reference.id not in seen:
                seen.add(f.reference.id)
                yield {"id": f.reference.id, "raw": f.raw, "paragraph": number, "footnote": None,
                       "kind": f.reference.kind, "start": f.start, "end": f.end}


_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
_CHUNK = 1 << 16


def _paragraph_blocks(stream: TextIO) -> Iterator[str]:
    from searchdoc.pipeline import split_points
    from searchdoc.settings import MAX_PARAGRAPH_CHARS

    pending = ""
    while True:
        chunk = stream.read(_CHUNK)
        pending += chunk
        position = 0
        for blank in _BLANK_LINE.finditer(pending):
            if blank.end() == len(pending) and chunk:
                break  # more blank lines may follow in the next chunk
            if pending[position : blank.start()].strip():
                yield pending[position : blank.start()]
            position = blank.end()
        pending = pending[position:]
        if len(pending) > MAX_PARAGRAPH_CHARS:
            pieces = split_points(pending, MAX_PARAGRAPH_CHARS)
            for start, end in pieces[:-1]:
                yield pending[start:end]
            pending = pending[pieces[-1][0] :] if pieces else ""
        if not chunk:
            break
    if pending.strip():
        yield pending


def _describe(doc_id: str, corpus: Corpus) -> dict:
    """A graph node: what the id is, and its title and date when the corpus holds it."""
    try:
        kind, label = citations.kind_of(doc_id), citations.label(doc_id)
    except Exception:
        kind, label = "document", doc_id
    node = {"id": doc_id, "label": label, "kind": kind, "date": None, "title": None, "in_corpus": corpus.has(doc_id)}
    if node["in_corpus"]:
        document = corpus.load(doc_id)
        node["kind"] = document.kind or kind
        node["date"], node["title"] = document.date, document.title or None
    return node


def neighbourhood(corpus: Corpus, index, doc_id: str, depth: int = 1, per_level: int = 40) -> dict:
    """The citation graph around ``doc_id``: documents up to ``depth`` citations away in both
    directions (what it cites, and what cites it), as nodes with a signed ``level`` (positive:
    cited, negative: citing) and ``source`` → ``target`` citation edges between them.

    Only corpus documents can be followed further (their citations are known); at most
    ``per_level`` documents are kept per level, so a much-cited document stays readable."""
    corpus.load(doc_id)
    levels = {doc_id: 0}
    edges: set[tuple[str, str]] = set()
    outward, inward = [doc_id], [doc_id]
    for step in range(1, depth + 1):
        found: list[str] = []
        for source in outward:
            if not corpus.has(source):
                continue
            for target in dict.fromkeys(row["id"] for row in document_citations(corpus.load(source))):
                edges.add((source, target))
                if target not in levels and len(found) < per_level:
                    levels[target] = step
                    found.append(target)
        outward = found
        found = []
        for target in inward:
            for source in dict.fromkeys(d for d, _ in index.citing_paragraphs({target})):
                edges.add((source, target))
                if source not in levels and len(found) < per_level:
                    levels[source] = -step
                    found.append(source)
        inward = found
    nodes = [{**_describe(node, corpus), "level": level} for node, level in levels.items()]
    return {
        "id": doc_id,
        "depth": depth,
        "nodes": nodes,
        "edges": [{"source": s, "target": t} for s, t in sorted(edges) if s in levels and t in levels],
    }
