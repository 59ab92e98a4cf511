"""Exporters: search hits as Markdown, CSV, JSON Lines, RIS and CSL-JSON, written as they stream.

Each format is one class with ``start`` / ``add(hit)`` / ``finish``. The per-hit formats (md,
csv, jsonl) write each record as it arrives. RIS and CSL-JSON give one record per document, so
they keep a small summary per document and spool the snippets to a private temporary SQLite
file until ``finish``: memory grows with the documents, never with the hits.

Snippets are the exact corpus text. With ``max_chars`` a long paragraph is cut at word
boundaries around its first match; every cut is shown as ``[…]`` and the record says
``trimmed: true``. Context paragraphs are cut the same way, keeping the side nearest the hit.
"""

from __future__ import annotations

import abc
import contextlib
import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from searchdoc.errors import SearchdocError, UsageError, output_errors
from searchdoc.model import Document, Hit

#: Export formats, in the order the CLI lists them.
FORMATS = ("md", "csv", "jsonl", "ris", "csl-json")
#: File name endings from which ``--format`` can be inferred.
EXTENSIONS = {".md": "md", ".markdown": "md", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".ris": "ris"}
#: Shown wherever corpus text was cut.
TRIM_MARK = "[…]"
#: Smallest useful ``max_chars``: below this a snippet is mostly marks.
MIN_MAX_CHARS = 20

CSV_COLUMNS = (
    "rank", "doc_id", "label", "citation", "section", "page", "page_end", "paragraph", "themes", "score",
    "text", "trimmed", "url", "title", "date", "context_before", "context_after",
)

#: Where the States General and the government publish (RIS CY, CSL publisher-place).
PLACE = "Den Haag"
TWEEDE_KAMER = "Tweede Kamer der Staten-Generaal"
EERSTE_KAMER = "Eerste Kamer der Staten-Generaal"

#: Official gazettes: published acts and regulations, cited as legislation in their gazette.
_GAZETTE_TITLES = {
    "staatsblad": "Staatsblad",
    "staatscourant": "Staatscourant",
    "tractatenblad": "Tractatenblad",
    "gemeenteblad": "Gemeenteblad",
    "provinciaal-blad": "Provinciaal blad",
    "waterschapsblad": "Waterschapsblad",
    "blad-gemeenschappelijke-regeling": "Blad gemeenschappelijke regeling",
}
#: Parliamentary papers: cited as reports (RIS GOVDOC, which Zotero imports as a report).
_PARLIAMENTARY = {
    "kamerstuk": "Kamerstuk",
    "aanhangsel": "Aanhangsel Handelingen",
    "handelingen": "Handelingen",
    "kamervragen": "Kamervragen",
    "bijlage": "Bijlage",
    "niet-dossierstuk": "Niet-dossierstuk",
    "agenda": "Agenda",
    "tk-document": "Document",
}
_RIS_TYPES = {"report": "GOVDOC", "legislation": "STAT", "document": "GEN"}


# --------------------------------------------------------------------------- snippets


@dataclass
class Snippet:
    """The part of a paragraph that is exported: ``kept`` is ``paragraph[start:end]`` exactly."""

    kept: str
    spans: list[tuple[int, int]]
    start: int
    end: int
    cut_start: bool = False
    cut_end: bool = False

    @property
    def trimmed(self) -> bool:
        return self.cut_start or self.cut_end

    def decorate(self, body: str) -> str:
        return (f"{TRIM_MARK} " if self.cut_start else "") + body + (f" {TRIM_MARK}" if self.cut_end else "")

    @property
    def text(self) -> str:
        return self.decorate(self.kept)

    @property
    def highlight(self) -> str:
        from searchdoc.search import mark

        return self.decorate(mark(self.kept, self.spans))


def check_max_chars(max_chars: int | None) -> None:
    if max_chars is not None and max_chars < MIN_MAX_CHARS:
        raise UsageError(f"--max-chars must be at least {MIN_MAX_CHARS}")


def make_snippet(text: str, spans: list[tuple[int, int]] | None = None, max_chars: int | None = None) -> Snippet:
    """Keep ``text`` whole, or at most ``max_chars`` characters of it around the first match.

    Cuts fall between words, unless that would lose more than half the room (a long unbroken
    token such as a URL); the first matched word is always kept, even when it alone is longer
    than ``max_chars``. Without matches the head of the paragraph is kept.
    """
    spans = list(spans or [])
    check_max_chars(max_chars)
    if max_chars is None or len(text) <= max_chars:
        return Snippet(text, spans, 0, len(text))
    first_start, first_end = spans[0] if spans else (0, 0)
    room = max_chars - (first_end - first_start)
    if room <= 0:
        start, end = first_start, first_end
    else:
        start = max(0, first_start - room // 2)
        end = min(len(text), start + max_chars)
        start = max(0, end - max_chars)
        word_start, word_end = _cut_forward(text, start, first_start), _cut_backward(text, end, first_end)
        if word_end - word_start >= max_chars // 2:
            start, end = word_start, word_end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    kept_spans = [(max(s, start) - start, min(e, end) - start) for s, e in spans if s < end and e > start]
    return Snippet(text[start:end], kept_spans, start, end, cut_start=start > 0, cut_end=end < len(text))


def _cut_forward(text: str, i: int, limit: int) -> int:
    """The first word start at or after ``i`` (not past ``limit``)."""
    if i == 0 or text[i - 1].isspace() or text[i].isspace():
        return i
    while i < limit and not text[i].isspace():
        i += 1
    return i


def _cut_backward(text: str, i: int, limit: int) -> int:
    """The last word end at or before ``i`` (not before ``limit``)."""
    if i >= len(text) or text[i].isspace() or text[i - 1].isspace():
        return i
    while i > limit and not text[i - 1].isspace():
        i -= 1
    return i


def trim_context(entry: dict, max_chars: int | None, keep: str) -> dict:
    """A context paragraph, cut to ``max_chars`` keeping its ``'head'`` or ``'tail'``."""
    text = entry.get("text") or ""
    anchor = [(len(text), len(text))] if keep == "tail" else []
    snippet = make_snippet(text, anchor, max_chars)
    return {**entry, "text": snippet.text, "trimmed": snippet.trimmed}


def hit_record(hit: Hit, max_chars: int | None = None) -> dict[str, Any]:
    """The fields of ``search --format json`` for one hit, with the snippet and its trim flag.

    ``text``/``highlight`` are the (possibly trimmed) snippet, ``text_span`` its offsets in the
    paragraph, ``trimmed`` whether anything was cut.
    """
    snippet = make_snippet(hit.text, hit.spans, max_chars)
    data = {name: getattr(hit, name) for name in _HIT_FIELDS}
    data["text"] = snippet.text
    data["highlight"] = snippet.highlight
    data["trimmed"] = snippet.trimmed
    data["text_span"] = [snippet.start, snippet.end]
    data["before"] = [trim_context(c, max_chars, "tail") for c in hit.before]
    data["after"] = [trim_context(c, max_chars, "head") for c in hit.after]
    return data


#: hit_to_dict's keys: records are built shallowly, as dataclasses.asdict deep-copies and costs
#: more than the rest of an export per hit.
_HIT_FIELDS = tuple(f.name for f in fields(Hit) if f.name != "spans")


def one_line(text: str) -> str:
    """Line breaks as spaces, for line-based formats (RIS)."""
    return re.sub(r"\s*[\r\n]+\s*", " ", text)


def note_text(hit: Hit, max_chars: int | None = None) -> str:
    """A pinpoint citation with its snippet, as RIS and CSL-JSON notes carry them."""
    snippet = make_snippet(hit.text, hit.spans, max_chars)
    return f"{hit.citation} (par. {hit.paragraph}): {snippet.text}"


# --------------------------------------------------------------------------- document references


@dataclass
class DocumentRef:
    """What a reference manager needs about one document (the per-document export summary)."""

    id: str
    kind: str
    csl_type: str
    title: str
    label: str
    citation: str
    date: str | None = None
    url: str | None = None
    publisher: str | None = None
    genre: str | None = None
    container: str | None = None
    dossier: str | None = None
    dossier_title: str | None = None
    themes: set[str] = field(default_factory=set)
    hits: int = 0
    #: False for a local document (an id of the user's own): no number, publisher or place.
    official: bool = True

    @property
    def date_parts(self) -> list[int] | None:
        """[year, month, day] (or fewer) of a real calendar date; None for anything else, so a
        reference never carries an impossible date (2019-13-45)."""
        m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", self.date or "")
        if not m:
            return None
        parts = [int(p) for p in m.groups() if p]
        try:
            date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
        except ValueError:
            return None
        return parts


def document_ref(doc_id: str, document: Document | None = None) -> DocumentRef:
    """Bibliographic facts of a document, from the corpus copy when given, else from its id.

    Raises :class:`~searchdoc.errors.InvalidIdentifierError` for a string that is no id.
    """
    from searchdoc import citations

    if document is None:
        doc_id = citations.normalize_id(doc_id)
    try:
        ref = citations.parse(doc_id)
    except SearchdocError:
        ref = None
    kind = (document.kind if document and document.kind else None) or (ref.kind if ref else "") or ""
    vergaderjaar = (document.vergaderjaar if document else None) or (ref.vergaderjaar if ref else None)
    # A local document (notes under an id of the user's own) is cited by its title.
    label = _safe(citations.label, doc_id) or (document.title if document else None) or doc_id
    citation = _safe(lambda: citations.full_citation(doc_id, vergaderjaar=vergaderjaar)) or label
    url = (document.url if document else None) or _safe(citations.official_url, doc_id)
    if ref is None and document is not None:
        csl_type, genre, container = "document", None, None
    elif kind in _GAZETTE_TITLES:
        csl_type, genre, container = "legislation", None, _GAZETTE_TITLES[kind]
    elif kind in _PARLIAMENTARY:
        csl_type, genre, container = "report", _PARLIAMENTARY[kind], None
    else:
        csl_type, genre, container = "document", None, None
    if document is not None and document.doc_type and csl_type == "report":
        genre = document.doc_type
    dossiers = list(document.dossier) if document and document.dossier else []
    if not dossiers and ref is not None and ref.dossier:
        dossiers = [ref.dossier + (f"-{ref.suffix}" if ref.suffix else "")]
    return DocumentRef(
        id=doc_id,
        kind=kind,
        csl_type=csl_type,
        title=(document.title if document else "") or label,
        label=label,
        citation=citation,
        date=document.date if document else None,
        url=url,
        publisher=_publisher(kind, ref, document, citation),
        genre=genre,
        container=container,
        dossier=" en ".join(_print_dossier(d) for d in dossiers) or None,
        dossier_title=(document.metadata.get("dossier_title") if document else None) or None,
        official=ref is not None,
    )


def _safe(function: Callable, *args) -> Any:
    """Formatting helpers may refuse odd ids; an export then falls back to the bare id."""
    try:
        return function(*args)
    except SearchdocError:
        return None


def _publisher(kind: str, ref, document: Document | None, citation: str) -> str | None:
    if document is not None and document.chamber:
        return document.chamber
    if kind in _GAZETTE_TITLES or ref is None:
        return None
    chamber = getattr(ref, "chamber", None)
    if chamber == "I" or citation.startswith("Kamerstukken I ") or re.search(r"-ek-", ref.id if ref else ""):
        return EERSTE_KAMER
    return TWEEDE_KAMER


def _print_dossier(dossier: str) -> str:
    """'33694' -> '33 694', '34775-IX' -> '34 775 IX', '21501-32' -> '21 501-32'."""
    number, _, suffix = dossier.replace(" ", "").partition("-")
    printed = f"{number[:-3]} {number[-3:]}" if number.isdigit() and len(number) > 3 else number
    if not suffix:
        return printed
    return f"{printed}-{suffix}" if suffix.isdigit() else f"{printed} {suffix}"


def ris_lines(ref: DocumentRef, notes: Iterable[str] = ()) -> Iterator[str]:
    """One RIS record, line by line (TY first, ER last), per the RIS spec's tag layout."""

    def tag(name: str, value: object) -> Iterator[str]:
        if value not in (None, ""):
            yield f"{name}  - {one_line(str(value))}"

    ris_type = _RIS_TYPES[ref.csl_type]
    yield from tag("TY", ris_type)
    yield from tag("ID", ref.id)
    yield from tag("TI", ref.title)
    if ris_type == "STAT":
        yield from tag("T2", ref.container)
        yield from tag("M1", ref.label)
    else:
        yield from tag("T2", ref.dossier_title)
        yield from tag("M3", ref.genre)
        # Zotero reads SN of a report as its report number: the Leidraad citation.
        yield from tag("SN", ref.citation if ref.official else None)
    parts = ref.date_parts
    if parts:
        yield from tag("DA", "/".join(f"{p:02d}" for p in parts) + "/")
        yield from tag("PY", parts[0])
    yield from tag("PB", ref.publisher)
    yield from tag("CY", PLACE if ref.official else None)
    yield from tag("LA", "nl")
    yield from tag("UR", ref.url)
    for label in theme_labels(ref.themes):
        yield from tag("KW", label)
    for note in notes:
        yield from tag("N1", note)
    yield "ER  - "


def csl_item(ref: DocumentRef) -> dict[str, Any]:
    """A CSL-JSON item (without its note): ``report`` for parliamentary papers (their styles
    print publisher, genre and number, as Kamerstukken are cited), ``legislation`` for gazettes,
    ``document`` for things that are not publications (a zaak, a dossier)."""
    item: dict[str, Any] = {"id": ref.id, "type": ref.csl_type, "title": ref.title}
    parts = ref.date_parts
    if parts:
        item["issued"] = {"date-parts": [parts]}
    if ref.csl_type == "legislation":
        item["container-title"] = ref.container
        item["number"] = ref.label
    else:
        if ref.genre:
            item["genre"] = ref.genre
        if ref.official:
            item["number"] = ref.citation
        if ref.dossier_title:
            item["collection-title"] = ref.dossier_title
        if ref.dossier:
            item["collection-number"] = ref.dossier
    if ref.publisher:
        item["publisher"] = ref.publisher
    if ref.official:
        item["publisher-place"] = PLACE
    if ref.url:
        item["URL"] = ref.url
    item["language"] = "nl"
    if ref.themes:
        item["keyword"] = ", ".join(theme_labels(ref.themes))
    return item


def theme_labels(theme_ids: Iterable[str]) -> list[str]:
    """The Dutch labels of theme ids (the taxonomy in use), sorted; an unknown id stays itself."""
    from searchdoc import themes

    try:
        labels = {t.id: t.label_nl for t in themes.default_tagger().taxonomy}
    except SearchdocError:
        labels = {}
    return sorted(labels.get(t, t) for t in theme_ids)


def reference_record(doc_id: str, document: Document | None = None, fmt: str = "ris") -> str:
    """A single document's reference as RIS or CSL-JSON text (for ``searchdoc cite``).

    ``document`` is the corpus copy when there is one (title, date, dossier title); without it
    the record is built from the id alone.
    """
    if fmt not in ("ris", "csl-json"):
        raise UsageError(f"unknown reference format {fmt!r}; choose ris or csl-json")
    ref = document_ref(document.id if document is not None else doc_id, document)
    if fmt == "ris":
        return "\r\n".join(ris_lines(ref)) + "\r\n"
    return csl_json([csl_item(ref)]) + "\n"


_NUMBERS = re.compile(r"\[\n\s*(-?\d+(?:,\n\s*-?\d+)*)\n\s*\]")
_NESTED = re.compile(r"\[\n\s*(\[[-\d, ]*\])\n\s*\]")


def csl_json(data: Any) -> str:
    """Indented JSON with date-parts on one line (``[[2019, 5, 13]]``). Only arrays that span
    lines are joined, and JSON strings never hold a raw line break, so no text is touched."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    text = _NUMBERS.sub(lambda m: "[" + ", ".join(n.strip() for n in m.group(1).split(",")) + "]", text)
    return _NESTED.sub(r"[\1]", text)


# --------------------------------------------------------------------------- exporters


@dataclass
class ExportInfo:
    """What the export is of: shown in the Markdown heading."""

    query: str
    created: str = field(default_factory=lambda: date.today().isoformat())
    total: int | None = None
    doc_ids: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)


class Exporter(abc.ABC):
    """Writes hits to a text stream: ``start()``, ``add(hit)`` per hit, ``finish()``; ``close()``
    releases what a failed export held."""

    name = ""

    def __init__(self, stream: TextIO, info: ExportInfo, max_chars: int | None = None, corpus=None,
                 excel: bool = False):
        check_max_chars(max_chars)
        self.stream = stream
        self.info = info
        self.max_chars = max_chars
        self.corpus = corpus
        self.excel = excel
        self.count = 0

    def start(self) -> None:  # noqa: B027 - an optional hook
        """Write what comes before the first hit."""

    def add(self, hit: Hit) -> None:
        self.count += 1
        self._add(hit)

    @abc.abstractmethod
    def _add(self, hit: Hit) -> None:
        """Write (or spool) one hit; ``self.count`` is its rank."""

    def finish(self) -> None:  # noqa: B027 - an optional hook
        """Write what comes after the last hit."""

    def close(self) -> None:  # noqa: B027 - an optional hook
        """Release temporary resources; safe to call twice."""


class MarkdownExporter(Exporter):
    name = "md"

    def start(self) -> None:
        info = self.info
        lines = [f"# Search results for {_md_escape(info.query)}", "", f"- Query: {_md_code(info.query)}",
                 f"- Exported: {info.created}"]
        if info.doc_ids:
            lines.append("- Documents: " + ", ".join(_md_escape(d) for d in info.doc_ids))
        if info.themes:
            lines.append("- Themes: " + ", ".join(_md_escape(t) for t in info.themes))
        if info.total is not None:
            lines.append(f"- Hits: {info.total}")
        if self.max_chars:
            lines.append(f"- Snippets: at most {self.max_chars} characters of corpus text; cuts are marked {TRIM_MARK}")
        self.stream.write("\n".join(lines) + "\n")

    def _add(self, hit: Hit) -> None:
        out = ["", f"## {self.count}. {_md_escape(hit.label)}, par. {hit.paragraph}", ""]
        for entry in hit.before:
            out += [_md_context(entry, self.max_chars, "tail"), ""]
        snippet = make_snippet(hit.text, hit.spans, self.max_chars)
        body = snippet.decorate(_md_highlight(snippet.kept, snippet.spans))
        out += [_md_quote(body), ""]
        for entry in hit.after:
            out += [_md_context(entry, self.max_chars, "head"), ""]
        out.append(f"- Citation: {_md_escape(hit.citation)}")
        if hit.section:
            out.append(f"- Section: {_md_escape(hit.section)}")
        if hit.speaker:
            out.append(f"- Speaker: {_md_escape(hit.speaker)}")
        if hit.themes:
            out.append("- Themes: " + ", ".join(_md_escape(t) for t in hit.themes))
        if hit.url:
            out.append(f"- URL: <{hit.url}>")
        self.stream.write("\n".join(out) + "\n")

    def finish(self) -> None:
        if self.count == 0:
            self.stream.write("\nNo paragraphs match.\n")


class CsvExporter(Exporter):
    """RFC 4180 CSV (CRLF line ends, quoted where needed), one row per hit.

    Cells are the exact text; with ``excel`` a cell a spreadsheet would run as a formula gets
    a leading quote (see :func:`excel_cell`).
    """

    name = "csv"

    def start(self) -> None:
        self._writer = csv.writer(self.stream, lineterminator="\r\n")
        self._writer.writerow(CSV_COLUMNS)

    def _add(self, hit: Hit) -> None:
        record = hit_record(hit, self.max_chars)
        row = {
            **record,
            "rank": self.count,
            "themes": "; ".join(hit.themes),
            "trimmed": "true" if record["trimmed"] else "false",
            "context_before": "\n\n".join(c["text"] for c in record["before"]),
            "context_after": "\n\n".join(c["text"] for c in record["after"]),
        }
        cells = ["" if row.get(c) is None else row[c] for c in CSV_COLUMNS]
        self._writer.writerow([excel_cell(c) for c in cells] if self.excel else cells)


#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_cell(value: object) -> object:
    """A text cell that starts like a formula, with a single quote before it (OWASP's advice):
    Excel and LibreOffice then show the text instead of running it. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class JsonLinesExporter(Exporter):
    """One JSON object per line: the hit fields of ``search --format json`` plus ``rank``."""

    name = "jsonl"

    def _add(self, hit: Hit) -> None:
        record = {"rank": self.count, **hit_record(hit, self.max_chars)}
        self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")


class _ByDocument(Exporter):
    """One record per document, in order of each document's best hit."""

    def start(self) -> None:
        import sqlite3

        # An empty name is SQLite's private on-disk temporary database, deleted on close.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE note (doc INTEGER, rank INTEGER, text TEXT)")
        self._db.execute("BEGIN")
        self._positions: dict[str, int] = {}
        self._refs: list[DocumentRef] = []

    def _add(self, hit: Hit) -> None:
        position = self._positions.get(hit.doc_id)
        if position is None:
            position = self._positions[hit.doc_id] = len(self._refs)
            self._refs.append(self._reference(hit))
        ref = self._refs[position]
        ref.hits += 1
        ref.themes.update(hit.themes)
        self._db.execute("INSERT INTO note VALUES (?, ?, ?)", (position, self.count, note_text(hit, self.max_chars)))

    def _reference(self, hit: Hit) -> DocumentRef:
        document = None
        if self.corpus is not None:
            from searchdoc.corpus import Corpus

            # A private Corpus view: the shared one would keep every exported document in memory.
            document = Corpus(self.corpus.root).load(hit.doc_id)
        ref = document_ref(hit.doc_id, document)
        if document is None:
            ref.title = hit.title or ref.title
            ref.date = hit.date
            ref.url = hit.url or ref.url
        return ref

    def _grouped_notes(self) -> Iterator[tuple[DocumentRef, Iterator[str]]]:
        import itertools

        self._db.execute("COMMIT")
        rows = self._db.execute("SELECT doc, text FROM note ORDER BY doc, rank")
        for position, group in itertools.groupby(rows, key=lambda row: row[0]):
            yield self._refs[position], (text for _, text in group)

    def close(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
            self._db = None


class RisExporter(_ByDocument):
    """RIS: one record per document, each hit's pinpoint citation and snippet as an N1 note."""

    name = "ris"

    def finish(self) -> None:
        for ref, notes in self._grouped_notes():
            for line in ris_lines(ref, notes):
                self.stream.write(line + "\r\n")
            self.stream.write("\r\n")


class CslJsonExporter(_ByDocument):
    """CSL-JSON: a list with one item per document; the snippets go in its ``note``."""

    name = "csl-json"

    def finish(self) -> None:
        self.stream.write("[")
        first = True
        for ref, notes in self._grouped_notes():
            self.stream.write("\n" if first else ",\n")
            first = False
            self._write_item(ref, notes)
        self.stream.write("\n]\n" if not first else "]\n")

    def _write_item(self, ref: DocumentRef, notes: Iterator[str]) -> None:
        # The note is written piece by piece, so a document with many hits is never one string.
        head = csl_json(csl_item(ref))
        head = "\n".join("  " + line for line in head.splitlines())
        self.stream.write(head[: -len("\n  }")] + ',\n    "note": "')
        for i, note in enumerate(notes):
            self.stream.write(("\\n" if i else "") + json.dumps(note, ensure_ascii=False)[1:-1])
        self.stream.write('"\n  }')


_EXPORTERS: dict[str, type[Exporter]] = {
    cls.name: cls for cls in (MarkdownExporter, CsvExporter, JsonLinesExporter, RisExporter, CslJsonExporter)
}


def make_exporter(fmt: str, stream: TextIO, info: ExportInfo, max_chars: int | None = None, corpus=None,
                  excel: bool = False) -> Exporter:
    """The exporter for ``fmt``; ``corpus`` lets RIS/CSL-JSON read each document's metadata;
    ``excel`` guards CSV cells against formula injection."""
    try:
        cls = _EXPORTERS[fmt]
    except KeyError:
        raise UsageError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}") from None
    return cls(stream, info, max_chars=max_chars, corpus=corpus, excel=excel)


def format_for_path(path: str | None) -> str:
    """The format a file name asks for (``hits.csv`` -> csv), for when ``--format`` is left out."""
    suffix = Path(path).suffix.lower() if path and path != "-" else ""
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    raise UsageError(f"give --format ({', '.join(FORMATS)}); it cannot be told from the output name")


def export_hits(hits: Iterable[Hit], exporter: Exporter, progress: Callable[[int], None] | None = None) -> int:
    """Run ``hits`` through ``exporter``; return how many were written."""
    try:
        exporter.start()
        for hit in hits:
            exporter.add(hit)
            if progress is not None:
                progress(1)
        exporter.finish()
    finally:
        exporter.close()
    return exporter.count


# --------------------------------------------------------------------------- output streams


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, bom: bool = False) -> Iterator[TextIO]:
    """A UTF-8 text stream to a temporary file beside ``path``, renamed over it only when the
    block completes: a failed export leaves no half file (and an older file untouched).

    A path that exists and is no regular file (a device such as /dev/stdout, a named pipe) is
    written in place: renaming over it would replace the device. A failed write raises
    :class:`OutputError` naming the path.
    """
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--output {path} is a folder; give a file name")
    if target.exists() and not target.is_file():
        with output_errors(path), open(target, "w", encoding="utf-8", newline="") as handle:
            if bom:
                handle.write("\ufeff")
            yield handle
            handle.flush()
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise UsageError(f"cannot write --output {path}: {exc.strerror or exc}") from None
    try:
        with output_errors(path):
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                if bom:
                    handle.write("\ufeff")
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def stream_output(stdout: TextIO, bom: bool = False) -> Iterator[TextIO]:
    """UTF-8 text to a text stream such as stdout, whatever the locale's encoding: written to
    its binary buffer when it has one. The stream is left open.

    The export goes to a temporary file first and reaches ``stdout`` only once it is complete,
    so an export that fails half-way prints nothing rather than half a file; a failed write to
    ``stdout`` is an :class:`OutputError`.
    """
    import shutil
    import tempfile

    with tempfile.TemporaryFile() as spool:
        wrapper = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        try:
            if bom:
                wrapper.write("\ufeff")
            yield wrapper
            wrapper.flush()
        finally:
            with contextlib.suppress(ValueError):
                wrapper.detach()
        spool.seek(0)
        with output_errors("standard output"):
            binary = getattr(stdout, "buffer", None)
            if binary is None:
                stdout.write(spool.read().decode("utf-8"))
                stdout.flush()
                return
            stdout.flush()
            shutil.copyfileobj(spool, binary)
            binary.flush()


# --------------------------------------------------------------------------- markdown


_MD_INLINE = re.compile(r"([\\`*_\[\]<>~|])")
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
_MD_BLOCK_START = re.compile(r"(\s*)([#+=-]|\d+[.)])")


def _md_escape(text: str, line_start: bool = True) -> str:
    """Backslash-escape what Markdown would read as markup, so the rendered text is exact.

    ``line_start`` says whether ``text`` begins a line (where '#', '-', '1.' start blocks).
    """
    text = _MD_ENTITY.sub(r"\\&", _MD_INLINE.sub(r"\\\1", text))
    lines = text.split("\n")
    return "\n".join(_escape_block_start(line) if i or line_start else line for i, line in enumerate(lines))


def _escape_block_start(line: str) -> str:
    m = _MD_BLOCK_START.match(line)
    if not m:
        return line
    marker = m.group(2)
    escaped = marker[:-1] + "\\" + marker[-1] if marker[0].isdigit() else "\\" + marker
    return m.group(1) + escaped + line[m.end():]


def _md_highlight(text: str, spans: list[tuple[int, int]]) -> str:
    """Escaped text with matched words in bold; neighbouring matches share one bold run."""
    joined: list[tuple[int, int]] = []
    for start, end in spans:
        if joined and text[joined[-1][1]:start].strip(" ") == "":
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    out, last = [], 0
    for start, end in joined:
        out.append(_md_escape(text[last:start], _starts_line(text, last)))
        out.append(f"**{_md_escape(text[start:end], _starts_line(text, start))}**")
        last = end
    out.append(_md_escape(text[last:], _starts_line(text, last)))
    return "".join(out)


def _starts_line(text: str, i: int) -> bool:
    return i == 0 or text[i - 1] == "\n"


def _md_quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.split("\n"))


def _md_context(entry: dict, max_chars: int | None, keep: str) -> str:
    text = entry.get("text") or ""
    snippet = make_snippet(text, [(len(text), len(text))] if keep == "tail" else [], max_chars)
    return f"*par. {entry['n']} (context):* {snippet.decorate(_md_escape(snippet.kept, False))}"


def _md_code(text: str) -> str:
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"
