"""Official XML (``officiele-publicatie``, and ``kamerwrk`` before 2010) into Documents.

This module owns the text conventions every parser of official publications shares (the
:class:`TextBuilder` that collects inline text, footnote markers and citations; the
:class:`Assembler` that numbers paragraphs, tracks the heading path and attaches footnotes;
the id and dossier helpers) and :func:`parse_official_xml`, which runs the element walker
(:mod:`searchdoc.parse.xmlwalker`) and turns what it found into a Document, with the fields of
the metadata records (:mod:`searchdoc.parse.officialmeta`) winning over the XML's own. The HTML
parser uses the same building blocks so that both produce the same paragraphs, footnotes and
citations.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from searchdoc.errors import ParseError
from searchdoc.model import Citation, Document, Footnote, Paragraph
from searchdoc.parse.safexml import load_xml, local_name

if TYPE_CHECKING:
    from searchdoc.parse.xmlwalker import Header

__all__ = [
    "Assembler",
    "TextBuilder",
    "canonical_id",
    "kind_of",
    "normalize_dossier",
    "normalize_vergaderjaar",
    "ob_id_from_reference",
    "parse_official_xml",
]

#: Names that live in :mod:`searchdoc.parse.officialmeta` and are still imported from here.
_FROM_METADATA = frozenset({"parse_metadata_xml", "metadata_from_entries", "letter_date", "dutch_date", "closing_date"})


def __getattr__(name: str):
    """The metadata readers, loaded on first use (they import this module's helpers)."""
    if name in _FROM_METADATA:
        from searchdoc.parse import officialmeta

        return getattr(officialmeta, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: Citation kind of an OB id, by its first dash-separated part.
KINDS = {
    "kst": "kamerstuk",
    "ah": "aanhangsel",
    "h": "handelingen",
    "kv": "kamervragen",
    "stb": "staatsblad",
    "stcrt": "staatscourant",
    "trb": "tractatenblad",
    "blg": "bijlage",
    "ag": "agenda",
    "nds": "niet-dossierstuk",
}

CHAMBERS = {"tk": "Tweede Kamer der Staten-Generaal", "ek": "Eerste Kamer der Staten-Generaal"}

_WS = re.compile(r"\s+")
# Soft hyphens and zero-width characters are invisible in print and only split words.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_OB_ID = re.compile(r"[a-z]{1,8}(?:-[a-z0-9]{1,40}){1,8}")
_OB_HOSTS = ("officielebekendmakingen.nl", "overheid.nl", "officiele-overheidspublicaties.nl")
_VERGADERJAAR = re.compile(r"(\d{4})\s*[-–—/]\s*(\d{2,4})")
_DOSSIER = re.compile(r"^(\d(?:[\s\u00a0]?\d)*)(?:[\s\u00a0]*[-–/]?[\s\u00a0]*(.+))?$")
_SUFFIX = re.compile(r"^(?:[IVXLC]+[A-Z]?|\d{1,2}|[A-Z]{1,3})$")
_RIJKSWET = re.compile(r"\(R\d+\)")


# --------------------------------------------------------------------------- small helpers


def _space_run(match: re.Match) -> str:
    run = match.group()
    return run if run in ("\u00a0", "\u202f", "\u2007") else " "


def clean_text(text: str | None) -> str:
    """Collapse whitespace (including non-breaking spaces) and drop invisible characters."""
    if not text:
        return ""
    return _WS.sub(" ", _INVISIBLE.sub("", text)).strip()


def kind_of(doc_id: str | None) -> str:
    """The citation kind of an OB id (``kst-33694-45`` → ``kamerstuk``); '' when unknown."""
    if not doc_id:
        return ""
    from searchdoc import citations
    from searchdoc.errors import InvalidIdentifierError

    try:
        return citations.kind_of(doc_id)
    except InvalidIdentifierError:
        prefix = doc_id.lower().split("-", 1)[0]
        return KINDS.get(prefix, prefix)


def canonical_id(candidate: str | None) -> str | None:
    """``candidate`` in the canonical case of OB ids (``KST-34300-x-88`` → ``kst-34300-X-88``),
    or None when it is not an official document id."""
    if not candidate:
        return None
    from searchdoc import citations
    from searchdoc.errors import InvalidIdentifierError

    try:
        return citations.normalize_id(candidate.strip())
    except InvalidIdentifierError:
        return None


def normalize_dossier(value: str | None) -> str | None:
    """``33 694`` → ``33694``; ``34 300 X`` / ``34300-X`` → ``34300-X``; ``21 501-32`` → ``21501-32``.

    A Rijkswet suffix such as ``(R2097)`` is not part of the dossier and is dropped.
    """
    text = clean_text(_RIJKSWET.sub("", value or ""))
    match = _DOSSIER.match(text)
    if not match:
        return None
    number = re.sub(r"\D", "", match.group(1))
    suffix = (match.group(2) or "").strip(" -–")
    if suffix and not _SUFFIX.match(suffix.upper()):
        return number
    return f"{number}-{suffix.upper()}" if suffix else number


def normalize_vergaderjaar(value: str | None) -> str | None:
    """``Vergaderjaar 2018–2019`` / ``2018/19`` / ``20182019`` → ``2018-2019``."""
    text = clean_text(value)
    match = _VERGADERJAAR.search(text)
    if match:
        first, second = match.group(1), match.group(2)
    else:
        digits = re.search(r"\b(\d{4})(\d{4})\b", text)
        if not digits:
            return None
        first, second = digits.groups()
    if len(second) == 2:
        second = first[:2] + second
    if int(second) != int(first) + 1:
        return None
    return f"{first}-{second}"


def ob_id_from_reference(reference: str | None) -> str | None:
    """The OB id an ``extref/@doc`` or a link points at (canonical case); None otherwise.

    Accepts a bare id (``kst-33694-12``), a file name (``kst-33694-12.html``) and OB or
    repository URLs (``https://zoek.officielebekendmakingen.nl/kst-33694-12.html``).
    """
    if not reference:
        return None
    text = reference.strip()
    parts = urlsplit(text)
    if parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        if not any(host == h or host.endswith("." + h) for h in _OB_HOSTS):
            return None
        path = parts.path
    elif parts.scheme:
        return None
    else:
        path = parts.path
    segments = [s for s in unquote(path).split("/") if s]
    if not segments:
        return None
    candidate = segments[-1]
    if candidate.lower() in ("metadata.xml",) and len(segments) > 1:
        candidate = segments[-2]
    candidate = re.sub(r"\.(html?|xml|pdf|odt)$", "", candidate, flags=re.IGNORECASE)
    if not _OB_ID.fullmatch(candidate.lower()):
        return None
    return canonical_id(candidate)


# --------------------------------------------------------------------------- text assembly


@dataclass
class _Note:
    """A footnote under construction, with the citations found in its text."""

    footnote: Footnote
    citations: list[Citation] = field(default_factory=list)


class TextBuilder:
    """Accumulates inline text with collapsed whitespace.

    Keeps offsets stable while text is appended, so citation spans recorded along the way
    point into the final text; also collects the footnotes whose markers sit in the text.
    """

    def __init__(self, footnote: int | None = None) -> None:
        self._parts: list[str] = []
        self._starts: list[int] = []  # where each part begins, so a citation joins only its own parts
        self._length = 0
        self._space = True
        self.footnote = footnote
        self.citations: list[Citation] = []
        self.notes: list[_Note] = []
        # Footnote numbers (HTML) and note ids (older XML) referred to here, with the offset
        # of their marker.
        self.markers: list[tuple[int, int]] = []
        self.refs: list[tuple[str, int]] = []

    def add(self, text: str | None) -> None:
        if not text:
            return
        # A lone no-break space stays as served ("25\u00a0maart"); other whitespace collapses.
        text = _WS.sub(_space_run, _INVISIBLE.sub("", text))
        if self._space and text[:1].isspace():
            text = text[1:]
        if not text:
            return
        self._parts.append(text)
        self._starts.append(self._length)
        self._length += len(text)
        self._space = text[-1].isspace()

    def space(self) -> None:
        self.add(" ")

    @property
    def position(self) -> int:
        return self._length

    @property
    def ends_with_space(self) -> bool:
        return self._space

    def text(self) -> str:
        return "".join(self._parts).rstrip()

    def marker_offset(self) -> int:
        """Where a footnote marker placed now stands: right after the preceding text."""
        length = self._length
        for part in reversed(self._parts):
            kept = part.rstrip()
            length -= len(part) - len(kept)
            if kept:
                break
        return length

    def add_note(self, note: _Note) -> None:
        note.footnote.offset = self.marker_offset()
        self.notes.append(note)

    def cite(self, start: int, doc_id: str) -> Citation | None:
        """Record a citation of ``doc_id`` for the text added since ``start``."""
        # Only the parts since ``start`` are joined: a paragraph of many links stays linear.
        first = max(0, bisect.bisect_right(self._starts, start) - 1)
        base = self._starts[first] if self._starts else 0
        tail = "".join(self._parts[first:])
        end = self._length
        while start < end and tail[start - base] == " ":
            start += 1
        while end > start and tail[end - 1 - base] == " ":
            end -= 1
        if end <= start:
            return None
        citation = Citation(
            id=doc_id,
            kind=kind_of(doc_id),
            raw=tail[start - base : end - base],
            footnote=self.footnote,
            start=start,
            end=end,
        )
        self.citations.append(citation)
        return citation


_ROMAN_HEADING = re.compile(r"^(?:[IVXLC]+|[A-Z])[.)](?:\s|$)")
_NUMBERED_HEADING = re.compile(r"^(\d+(?:\.\d+)*)\.?(?:\s|$)")
_ARTICLE_HEADING = re.compile(r"^(?:Artikel|Artikelen|Art\.)\s", re.IGNORECASE)
_BILL_ARTICLE_HEADING = re.compile(r"^Artikel(?:en)?\s+[IVXLC]+[A-Z]?\b(?!\.\d|:)", re.IGNORECASE)
_PART_HEADING = re.compile(r"^Onderdee?l(?:en)?\s", re.IGNORECASE)


def heading_kind(text: str) -> tuple[str, int]:
    """What a loose heading's numbering says about its depth, as (kind, depth).

    ``part`` ("I. ALGEMEEN", "A. Algemeen", or a heading in capitals: "ARTIKELSGEWIJZE
    TOELICHTING"), ``num`` with its depth ("1." 1, "1.1." 2), ``bill-article`` ("Artikel IV",
    an article of the bill), ``article`` ("Artikel 4:33a", an article it amends), ``onderdeel``
    ("Onderdeel A"), or ``plain`` for an unnumbered heading.
    """
    if _ROMAN_HEADING.match(text):
        return "part", 1
    match = _NUMBERED_HEADING.match(text)
    if match:
        return "num", match.group(1).count(".") + 1
    if _BILL_ARTICLE_HEADING.match(text):
        return "bill-article", 0
    if _ARTICLE_HEADING.match(text):
        return "article", 0
    if _PART_HEADING.match(text):
        return "onderdeel", 0
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        return "part", 1
    return "plain", 0


def _rank(kind: str, depth: int, above: list[tuple[int, str, str]]) -> int:
    """How deep a heading of ``kind`` sits under the loose headings ``above`` it (rank, kind,
    text): parts at 1, numbered sections below them, a bill's articles below those, the
    articles it amends below a bill article, onderdelen below articles, and an unnumbered
    heading below the last numbered one."""
    def deepest(*kinds: str) -> int:
        return max((rank for rank, k, _ in above if k in kinds), default=0)

    if kind == "part":
        return 1
    if kind == "num":
        return 1 + depth
    if kind == "bill-article":
        return deepest("part", "num") + 1
    if kind == "article":
        return (deepest("bill-article") or deepest("part", "num")) + 1
    if kind == "onderdeel":
        return (deepest("article", "bill-article") or deepest("part", "num")) + 1
    return max((rank for rank, k, _ in above if k != "plain"), default=0) + 1


class Assembler:
    """Numbers paragraphs, tracks the current section and attaches footnotes to paragraphs.

    A paragraph's section is its full heading path ("I. ALGEMEEN – 2. Hoofdlijnen"): the
    headings of the divisions it sits in, then the loose headings (tussenkop) before it, which
    nest by their numbering ("1." under "I.", "1.1." under "1.", an unnumbered heading under
    the last numbered one). Footnotes whose marker sits outside any paragraph (in a heading, a
    title, an empty block) attach to the next paragraph; a heading nothing followed is kept as
    a paragraph so that no heading text is lost.
    """

    def __init__(self) -> None:
        self.paragraphs: list[Paragraph] = []
        self.footnotes: list[Footnote] = []
        self.section: str | None = None
        self.speaker: str | None = None
        self.fresh_heading = False
        # The heading path as (level, text); _bases[-1] entries of it belong to the divisions
        # around the current position; _fresh is where the headings no paragraph followed start.
        self._path: list[tuple[int, str, str]] = []
        self._bases: list[int] = [0]
        self._awaiting_own: list[bool] = [False]
        self._fresh = 0
        self._pending: list[_Note] = []
        self._pending_refs: list[str] = []
        self._numbers: set[int] = set()
        self._ref_paragraph: dict[str, tuple[int, int]] = {}
        self._marker_offset: dict[int, tuple[int, int]] = {}
        self._loose: list[tuple[str | None, _Note, int | None, bool]] = []

    # Footnote numbers must be unique for Document.footnote(n); a repeated or non-numeric
    # marker (table notes "a", "*") gets the next free number.
    def new_note(self, label: str | None) -> _Note:
        digits = clean_text(label).rstrip(").")
        number = int(digits) if digits.isdigit() else None
        if number is None or number in self._numbers:
            number = max(self._numbers, default=0) + 1
        self._numbers.add(number)
        note = _Note(Footnote(n=number, text=""))
        self.footnotes.append(note.footnote)
        return note

    def heading(self, text: str | None) -> None:
        text = clean_text(text)
        if not text:
            return
        if not self.fresh_heading:
            self._fresh = len(self._path)
        base = self._bases[-1]
        if self._awaiting_own[-1]:
            # The division's own heading: it replaces whatever loose headings came before.
            del self._path[base:]
            self._path.append((0, "division", text))
            self._bases[-1] = base + 1
            self._awaiting_own[-1] = False
            self._fresh = min(self._fresh, base)
        else:
            kind, depth = heading_kind(text)
            loose = self._path[base:]
            rank = _rank(kind, depth, loose)
            keep = len(self._path)
            while keep > base and self._path[keep - 1][0] >= rank:
                keep -= 1
            if kind in ("part", "num") and all(k == "plain" for _, k, _ in loose):
                # The first numbered heading starts the numbering: unnumbered ones before it
                # (an opening "Inleiding", a repeated title) were its siblings, not its parents.
                keep = base
            if self.fresh_heading and keep < len(self._path):
                # Dropping a heading no paragraph followed would lose its text: nest instead.
                keep = len(self._path)
            del self._path[keep:]
            self._fresh = min(self._fresh, keep)
            self._path.append((rank, kind, text))
        self.section = " – ".join(t for _, _, t in self._path) or None
        self.fresh_heading = True

    def caption(self, text: str | None) -> None:
        """A heading that always sits under the current path (a table's title)."""
        text = clean_text(text)
        if not text:
            return
        if not self.fresh_heading:
            self._fresh = len(self._path)
        rank = max((r for r, _, _ in self._path), default=0) + 1
        self._path.append((rank, "caption", text))
        self.section = " – ".join(t for _, _, t in self._path)
        self.fresh_heading = True

    def enter_division(self) -> tuple:
        """Enter a division (divisie, hoofdstuk, artikel): its first heading is its own."""
        state = self.save()
        self._bases.append(self._bases[-1])
        self._awaiting_own.append(True)
        return state

    def leave_division(self, state: tuple) -> None:
        self._bases.pop()
        self._awaiting_own.pop()
        self.restore(state)

    def save(self) -> tuple:
        """The section state on entering a structure (divisie, table, vraag)."""
        return self.section, self.fresh_heading, len(self.paragraphs), list(self._path), self._fresh

    def restore(self, state: tuple) -> None:
        """Leave a structure: its headings stop applying."""
        section, fresh, count, path, fresh_from = state
        # A heading that no paragraph followed would be lost: keep it as a paragraph.
        if self.fresh_heading and self.section and self.section != section:
            self._emit_dangling()
        self.section = section
        self._path = path
        self._fresh = fresh_from
        self.fresh_heading = fresh and len(self.paragraphs) == count

    def _emit_dangling(self) -> None:
        dangling = self._path[self._fresh :]
        for text in [t for _, _, t in dangling] or [self.section or ""]:
            self._emit_text(text)

    def pend_refs(self, refs: Iterable[tuple[str, int]]) -> None:
        """Note references outside a paragraph (in a heading) count for the next paragraph."""
        self._pending_refs.extend(ref for ref, _ in refs)

    def pend(self, notes: Iterable[_Note]) -> None:
        """Notes whose marker is not in a paragraph: they go with the next paragraph."""
        for note in notes:
            note.footnote.offset = None
            self._pending.append(note)

    def loose_note(self, note_id: str | None, note: _Note, fallback: bool = True) -> None:
        """A footnote given apart from its marker (``noot`` beside ``nootref``, HTML notes).

        It attaches to the paragraph holding a reference to ``note_id``; failing that, with
        ``fallback``, to the paragraph before it (or the first one).
        """
        last = self.paragraphs[-1].n if self.paragraphs else None
        self._loose.append((note_id, note, last, fallback))

    def paragraph(self, builder: TextBuilder) -> Paragraph | None:
        text = builder.text()
        if not text:
            self.pend(builder.notes)
            return None
        n = len(self.paragraphs) + 1
        paragraph = Paragraph(n=n, text=text, section=self.section, speaker=self.speaker)
        notes = [*self._pending, *builder.notes]
        self._pending = []
        citations = list(builder.citations)
        for note in notes:
            note.footnote.paragraph = n
            paragraph.footnotes.append(note.footnote.n)
            citations.extend(note.citations)
        for number, offset in builder.markers:
            self._marker_offset.setdefault(number, (n, offset))
            if number not in paragraph.footnotes:
                paragraph.footnotes.append(number)
        for citation in citations:
            citation.paragraph = n
        paragraph.citations = citations
        for ref, offset in builder.refs:
            self._ref_paragraph.setdefault(ref, (n, offset))
        for ref in self._pending_refs:
            self._ref_paragraph.setdefault(ref, (n, None))
        self._pending_refs = []
        self.paragraphs.append(paragraph)
        self.fresh_heading = False
        return paragraph

    def _emit_text(self, text: str) -> None:
        builder = TextBuilder()
        builder.add(text)
        self.paragraph(builder)

    def finish(self) -> tuple[list[Paragraph], list[Footnote]]:
        """Attach what is still pending and return (paragraphs, footnotes)."""
        if self.fresh_heading and self.section:
            self._emit_dangling()
            self.fresh_heading = False
        if self._pending and self.paragraphs:
            self._attach(self._pending, self.paragraphs[-1])
        self._pending = []
        for note_id, note, previous, fallback in self._loose:
            target, offset = self._ref_paragraph.get(note_id or "", (None, None))
            if target is None and fallback:
                target = previous or (self.paragraphs[0].n if self.paragraphs else None)
            if target is not None:
                self._attach([note], self.paragraphs[target - 1])
                note.footnote.offset = offset
        for footnote in self.footnotes:
            place = self._marker_offset.get(footnote.n)
            if place is not None and footnote.paragraph in (None, place[0]):
                footnote.paragraph, footnote.offset = place
        return self.paragraphs, self.footnotes

    @staticmethod
    def _attach(notes: Iterable[_Note], paragraph: Paragraph) -> None:
        for note in notes:
            note.footnote.paragraph = paragraph.n
            note.footnote.offset = None
            if note.footnote.n not in paragraph.footnotes:
                paragraph.footnotes.append(note.footnote.n)
            for citation in note.citations:
                citation.paragraph = paragraph.n
                paragraph.citations.append(citation)


# --------------------------------------------------------------------------- the document


def parse_official_xml(data: bytes, doc_id: str | None = None, metadata: dict | None = None) -> Document:
    """Parse official XML (an ``officiele-publicatie``: Kamerstuk, Aanhangsel, Handelingen,
    Staatsblad and the other gazettes; or an older ``kamerwrk`` Kamerstuk) into a Document.

    ``metadata`` (as returned by :func:`parse_metadata_xml`, or any dict with Document field
    names) wins over what the XML itself says. Raises UnsafeContentError for hostile XML and
    ParseError for malformed XML, a foreign root element or a document without an id.
    """
    from searchdoc.parse.officialmeta import (
        _iso_date,
        _number_from_id,
        _vergaderjaar_from_id,
        closing_date,
        letter_date,
        metadata_from_entries,
    )
    from searchdoc.parse.xmlwalker import Walker

    root = load_xml(data, roots=ROOTS, what="official XML")
    walker = Walker()
    for child in root:
        tag = local_name(child)
        if tag == "kop":
            walker.masthead(child)
        elif tag:
            walker.block(child, tag)
    paragraphs, footnotes = walker.out.finish()
    header = walker.header
    meta = dict(metadata or {})

    # Older files embed their metadata; it ranks below metadata.xml and above the text.
    inner = metadata_from_entries(header.embedded) if header.embedded else {}
    for key, value in inner.items():
        if key != "raw" and value not in (None, "", []):
            meta.setdefault(key, value)

    resolved_id = doc_id or meta.get("id") or _record_id(header) or _derived_id(header, root)
    if not resolved_id:
        raise ParseError("cannot tell the id of this official XML; pass doc_id")
    resolved_id = resolved_id.strip()
    kind = meta.get("kind") or kind_of(resolved_id)

    dossiers = list(header.dossiers)
    for value in meta.get("dossier") or []:
        normalized = normalize_dossier(value) or value
        if normalized not in dossiers:
            dossiers.append(normalized)
    title = meta.get("title") or header.title or header.question_title or ""
    date = meta.get("date") or header.date or header.answer_date or header.question_date
    date = date or header.signed or header.issued or letter_date(p.text for p in paragraphs[:8])
    if not date and kind not in ("kamerstuk", "aanhangsel", "handelingen"):
        date = closing_date(p.text for p in reversed(paragraphs[-6:]))
    if not header.signature and kind == "kamerstuk":
        paragraphs = _trailing_signatories(paragraphs, header)
    number = meta.get("number") or header.number or _number_from_id(resolved_id)
    chamber = meta.get("chamber") or header.chamber or _chamber_from_id(resolved_id)

    extra: dict[str, Any] = {}
    if header.dossier_titles:
        extra["dossier_title"] = header.dossier_titles[0]
        if len(header.dossier_titles) > 1:
            extra["dossier_titles"] = header.dossier_titles
    if header.datumtekst:
        extra["datumtekst"] = header.datumtekst
    if header.kamervraagnummer:
        extra["kamervraagnummer"] = header.kamervraagnummer
    for key in ("meeting", "meeting_date", "meeting_time", "item", "masthead", "dagtekening", "uitgifte"):
        if getattr(header, key):
            extra[key] = getattr(header, key)
    if kind == "aanhangsel":
        extra.update(_askers_and_answerers(header, meta, inner.get("raw") or {}))
    if inner.get("raw"):
        extra["embedded"] = inner["raw"]
    for key, value in meta.items():
        if key not in _DOCUMENT_FIELDS and value not in (None, "", [], {}):
            extra[key] = value

    return Document(
        id=resolved_id,
        kind=kind,
        title=_SPACES.sub(" ", title).strip(),
        date=_iso_date(date) or date,
        dossier=dossiers,
        number=str(number) if number is not None else None,
        chamber=chamber,
        vergaderjaar=meta.get("vergaderjaar") or header.vergaderjaar or _vergaderjaar_from_id(resolved_id),
        doc_type=_best_doc_type(meta.get("doc_type"), _doc_type(header, kind)),
        url=meta.get("url"),
        source_format="xml",
        metadata=extra,
        signature="\n".join(header.signature) or None,
        # Each signatory once, in order of first appearance (a minister signs act and note).
        signatories=list(dict.fromkeys(header.signatories)),
        paragraphs=paragraphs,
        footnotes=footnotes,
    )


ROOTS = ("officiele-publicatie", "kamerwrk")
# Runs of ordinary white space; a no-break space in a title is kept as served.
_SPACES = re.compile(r"[ \t\r\n]+")

_DOCUMENT_FIELDS = frozenset(
    """
    id kind title date dossier number chamber vergaderjaar doc_type url source_format
    provenance metadata signature signatories paragraphs footnotes
    """.split()
)


def _record_id(header: Header) -> str | None:
    """The id in the URL of the ``OVERHEIDop.externMetadataRecord`` the XML points to."""
    for name, _, content in header.embedded:
        if name == "OVERHEIDop.externMetadataRecord":
            return ob_id_from_reference(content)
    return None


def _derived_id(header: Header, root) -> str | None:
    body = next((local_name(c) for c in root if local_name(c) not in ("metadata", "")), "")
    if body == "kamerstuk" and header.dossiers and header.number:
        return canonical_id(f"kst-{header.dossiers[0]}-{header.number}")
    return None


def _chamber_from_id(doc_id: str) -> str | None:
    parts = doc_id.lower().split("-")
    if len(parts) > 1 and parts[0] in ("ah", "h", "kv", "ag", "nds"):
        return CHAMBERS.get(parts[1])
    return None


#: What a stuk's printed title says it is (longest first), for the doc type.
_TITLE_TYPES = (
    ("nota naar aanleiding van het verslag", "Nota naar aanleiding van het verslag"),
    ("memorie van toelichting", "Memorie van toelichting"),
    ("memorie van antwoord", "Memorie van antwoord"),
    ("nota van wijziging", "Nota van wijziging"),
    ("voorstel van wet", "Voorstel van wet"),
    ("nader gewijzigde motie", "Motie"),
    ("gewijzigde motie", "Motie"),
    ("gewijzigd amendement", "Amendement"),
    ("koninklijke boodschap", "Koninklijke boodschap"),
    ("advies raad van state", "Advies Raad van State"),
    ("voorlopig verslag", "Voorlopig verslag"),
    ("eindverslag", "Eindverslag"),
    ("verslag", "Verslag"),
    ("motie", "Motie"),
    ("amendement", "Amendement"),
    ("brief", "Brief"),
)
#: Types too generic to stand for what a document is.
_GENERIC_TYPES = {"overig", "kamerstuk", "officiële publicatie", ""}


def _doc_type(header: Header, kind: str) -> str | None:
    if kind == "aanhangsel":
        return "Antwoord" if header.answer_date else "Kamervragen"
    if kind == "handelingen":
        return "Handelingen"
    title = clean_text(header.title)
    lowered = title.lower()
    for start, doc_type in _TITLE_TYPES:
        if lowered.startswith(start):
            return doc_type
    if kind == "kamerstuk" and title:
        return title.split()[0].capitalize()
    return header.masthead[0].title() if header.masthead else None


def _best_doc_type(given: str | None, derived: str | None) -> str | None:
    """The metadata's type unless it is generic ("Overig") and the text says more."""
    if given and (given.strip().lower() not in _GENERIC_TYPES or not derived):
        return given
    return derived or given


_CLOSING = re.compile(r"en gaat over tot de orde van de dag\.?$", re.IGNORECASE)
_NAME_LINE = re.compile(r"^[A-ZÀ-Ý][\w'’.-]*(?:[ -][\w'’.-]+){0,4}(?<![.:;,])$")
_NAME_PARTICLES = {
    "van", "der", "den", "de", "ten", "ter", "te", "het", "'t", "in", "op", "la", "le", "du", "von", "zu",
}


def _is_name(text: str) -> bool:
    """A person's name as printed under a document: capitalised words and name particles."""
    if not _NAME_LINE.match(text) or any(c.isdigit() for c in text):
        return False
    words = text.split()
    return words[-1][:1].isupper() and all(w[:1].isupper() or w in _NAME_PARTICLES for w in words)


def _trailing_signatories(paragraphs: list[Paragraph], header: Header) -> list[Paragraph]:
    """Names printed under a Kamerstuk's last paragraph (a motion's movers under "en gaat over
    tot de orde van de dag.", the members who sign an initiative's memorie van toelichting)
    are its signatories, not paragraphs."""
    start = len(paragraphs)
    while start > 0 and len(paragraphs) - start < 20:
        candidate = paragraphs[start - 1]
        if not _is_name(candidate.text) or candidate.footnotes or candidate.citations:
            break
        start -= 1
    if start == len(paragraphs) or start == 0:
        return paragraphs
    last = paragraphs[start - 1].text
    if not (_CLOSING.search(last) or last.endswith((".", ".)", "»."))):
        return paragraphs
    names = [p.text for p in paragraphs[start:]]
    header.signature.extend(names)
    header.signatories.extend(names)
    return paragraphs[:start]


def _askers_and_answerers(header: Header, meta: dict, embedded: dict) -> dict[str, list[str]]:
    """Who asked and who answered an Aanhangsel, from its metadata or its description."""
    raw = meta.get("raw") or embedded
    out: dict[str, list[str]] = {}
    for key, name in (("asked_by", "OVERHEIDop.indiener"), ("answered_by", "OVERHEIDop.ontvanger")):
        values = raw.get(name) if isinstance(raw, dict) else None
        if isinstance(values, str):
            values = [values]
        # The answer's own words name who answered; the metadata only whom it was addressed to.
        values = getattr(header, key) or [clean_text(v) for v in values or [] if clean_text(v)]
        if values:
            out[key] = values
    return out
