"""The plain data that flows between stages: documents, paragraphs, footnotes, citations, hits.

No I/O here. ``to_dict``/``from_dict`` give the normalized JSON form stored in the corpus.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Citation:
    """One place where a document cites another.

    ``start``/``end`` are character offsets into the paragraph text, or into the footnote text
    when ``footnote`` is set.
    """

    id: str
    kind: str
    raw: str
    paragraph: int | None = None
    footnote: int | None = None
    start: int = 0
    end: int = 0


@dataclass
class Footnote:
    """A footnote; ``offset`` is where its marker stood in the paragraph text, when known."""

    n: int
    text: str
    paragraph: int | None = None
    offset: int | None = None


@dataclass
class Paragraph:
    """A body paragraph; ``n`` counts from 1 within the document body (headings excluded).

    ``speaker`` is who says it in a debate (Handelingen): the speaker line as printed, without
    its colon, e.g. "De heer Wörsdörfer (VVD)", "Minister De Jonge", "De voorzitter".
    """

    n: int
    text: str
    section: str | None = None
    page: int | None = None
    page_end: int | None = None
    footnotes: list[int] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    speaker: str | None = None


@dataclass
class Document:
    """A parliamentary document with its metadata and body.

    ``kind`` is the citation kind of its id (kamerstuk, aanhangsel, handelingen, ...);
    ``source_format`` is what it was parsed from (text, xml, html, pdf); ``provenance`` says
    where the raw bytes came from (url or path, fetch time, sha256, raw file name).
    """

    id: str
    kind: str
    title: str = ""
    date: str | None = None
    dossier: list[str] = field(default_factory=list)
    number: str | None = None
    chamber: str | None = None
    vergaderjaar: str | None = None
    doc_type: str | None = None
    url: str | None = None
    source_format: str = "text"
    provenance: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    signature: str | None = None
    paragraphs: list[Paragraph] = field(default_factory=list)
    footnotes: list[Footnote] = field(default_factory=list)
    #: The names of those who signed, one each ("S. Dekker"); ``signature`` has the lines as
    #: printed, function and name ("De Minister voor Rechtsbescherming, S. Dekker").
    signatories: list[str] = field(default_factory=list)

    def paragraph(self, n: int) -> Paragraph | None:
        if 1 <= n <= len(self.paragraphs) and self.paragraphs[n - 1].n == n:
            return self.paragraphs[n - 1]
        return next((p for p in self.paragraphs if p.n == n), None)

    def footnote(self, n: int) -> Footnote | None:
        return next((f for f in self.footnotes if f.n == n), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        """The document of a stored JSON form; raises ``validate.DamagedFile`` (a ValueError)
        when ``data`` is not what :meth:`to_dict` gives."""
        from searchdoc.validate import check_dataclass

        check_dataclass(cls, data)
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["paragraphs"] = [
            Paragraph(
                **{
                    **{k: v for k, v in p.items() if k in _PARAGRAPH_FIELDS},
                    "citations": [Citation(**c) for c in p.get("citations", [])],
                }
            )
            for p in data.get("paragraphs", [])
        ]
        values["footnotes"] = [Footnote(**f) for f in data.get("footnotes", [])]
        return cls(**values)


_PARAGRAPH_FIELDS = {f.name for f in fields(Paragraph)}


@dataclass
class Hit:
    """One search result: a paragraph with its context and where it sits."""

    doc_id: str
    paragraph: int
    section: str | None
    page: int | None
    score: float
    text: str
    highlight: str
    label: str
    citation: str
    url: str | None
    title: str = ""
    date: str | None = None
    kind: str = ""
    #: Who speaks the paragraph, in a debate (Paragraph.speaker).
    speaker: str | None = None
    themes: list[str] = field(default_factory=list)
    before: list[dict[str, Any]] = field(default_factory=list)
    after: list[dict[str, Any]] = field(default_factory=list)
    matched_terms: list[str] = field(default_factory=list)
    page_end: int | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)
    #: The paragraph's footnotes: n, text, and offset (where the marker stood in ``text``).
    footnotes: list[dict[str, Any]] = field(default_factory=list)
    #: Character spans of the matched words in ``text`` (for renderers; not part of the JSON).
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class SearchResult:
    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestion: str | None = None
    #: The respelt query whose hits are shown because the query as typed found nothing.
    corrected: str | None = None
    #: Paragraphs with most but not all of the words, shown after those with all of them:
    #: {"words": the query's words (units), "total": how many such paragraphs, "minimum": the
    #: fewest words each has, "start": index of the first of them in ``hits``, "matched": per
    #: such hit, the words it has}.
    partial: dict[str, Any] | None = None
    #: What each word of the query matches, per tier (``--explain``).
    explain: list[dict[str, Any]] | None = None
