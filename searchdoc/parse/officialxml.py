"""Official XML (op-xsd-2012-2 ``officiele-publicatie``) and ``metadata.xml`` into Documents.

Kamerstukken (``kamerstuk``) and Aanhangsels (``kamervragen``, plus the older ``vragen`` /
``reactie`` forms) become numbered body paragraphs with their section, footnotes and the
citations marked up as ``extref`` links. Header elements (kamerstukkop, dossier, stuknr,
datumtekst) feed the document fields instead of the body; ``tekst-sluiting`` /
``ondertekening`` becomes the signature. Unknown elements keep their text.

The text building blocks (:class:`TextBuilder`, :class:`Assembler`, :func:`kind_of`,
:func:`ob_id_from_reference`) are shared with the HTML parser so that both produce the same
paragraph, footnote and citation conventions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from searchdoc.errors import ParseError
from searchdoc.model import Citation, Document, Footnote, Paragraph
from searchdoc.parse.handelingen import HandelingenBlocks
from searchdoc.parse.kamerwrk import KamerwrkBlocks
from searchdoc.parse.publications import PUBLICATION_BODIES, PublicationBlocks
from searchdoc.parse.safexml import load_xml, local_name

__all__ = [
    "Assembler",
    "TextBuilder",
    "canonical_id",
    "kind_of",
    "letter_date",
    "metadata_from_entries",
    "normalize_dossier",
    "normalize_vergaderjaar",
    "ob_id_from_reference",
    "parse_metadata_xml",
    "parse_official_xml",
]

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
_ID_VERGADERJAAR = re.compile(r"^(?:ah|h|kv)-[a-z]{2}-(\d{4})(\d{4})\b")
_DOSSIER = re.compile(r"^(\d(?:[\s\u00a0]?\d)*)(?:[\s\u00a0]*[-–/]?[\s\u00a0]*(.+))?$")
_SUFFIX = re.compile(r"^(?:[IVXLC]+[A-Z]?|\d{1,2}|[A-Z]{1,3})$")
_RIJKSWET = re.compile(r"\(R\d+\)")


# --------------------------------------------------------------------------- small helpers


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
        text = _WS.sub(" ", _INVISIBLE.sub("", text))
        if self._space and text.startswith(" "):
            text = text[1:]
        if not text:
            return
        self._parts.append(text)
        self._length += len(text)
        self._space = text.endswith(" ")

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
        return len(self.text())

    def add_note(self, note: _Note) -> None:
        note.footnote.offset = self.marker_offset()
        self.notes.append(note)

    def cite(self, start: int, doc_id: str) -> Citation | None:
        """Record a citation of ``doc_id`` for the text added since ``start``."""
        full = "".join(self._parts)
        end = self._length
        while start < end and full[start] == " ":
            start += 1
        while end > start and full[end - 1] == " ":
            end -= 1
        if end <= start:
            return None
        citation = Citation(
            id=doc_id,
            kind=kind_of(doc_id),
            raw=full[start:end],
            footnote=self.footnote,
            start=start,
            end=end,
        )
        self.citations.append(citation)
        return citation


_ROMAN_HEADING = re.compile(r"^(?:[IVXLC]+|[A-Z])[.)](?:\s|$)")
_NUMBERED_HEADING = re.compile(r"^(\d+(?:\.\d+)*)\.?(?:\s|$)")
_ARTICLE_HEADING = re.compile(r"^(?:Artikel|Artikelen|Art\.)\s", re.IGNORECASE)
_PART_HEADING = re.compile(r"^Onderdee?l(?:en)?\s", re.IGNORECASE)


def heading_level(text: str) -> int | None:
    """How deep a loose heading sits by its numbering: "I." 1, "1." 2, "1.1." 3, "Artikel 3"
    2, "Onderdeel A" 3; None for an unnumbered heading."""
    if _ROMAN_HEADING.match(text):
        return 1
    match = _NUMBERED_HEADING.match(text)
    if match:
        return match.group(1).count(".") + 2
    if _ARTICLE_HEADING.match(text):
        return 2
    if _PART_HEADING.match(text):
        return 3
    return None


def _rank(level: int | None, before: list[tuple[int | None, str]]) -> int:
    """The depth a path entry stands for: its level, or one below the numbered ones before it."""
    if level is not None:
        return level
    numbered = [lvl for lvl, _ in before if lvl is not None and lvl > 0]
    return max(numbered, default=0) + 1


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
        self._path: list[tuple[int | None, str]] = []
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
            self._path.append((0, text))
            self._bases[-1] = base + 1
            self._awaiting_own[-1] = False
            self._fresh = min(self._fresh, base)
        else:
            level = heading_level(text)
            numbered = [lvl for lvl, _ in self._path[base:] if lvl is not None and lvl > 0]
            rank = level if level is not None else (max(numbered, default=0) + 1)
            keep = len(self._path)
            while keep > base and _rank(self._path[keep - 1][0], self._path[base:keep - 1]) >= rank:
                keep -= 1
            if self.fresh_heading and keep < len(self._path):
                # Dropping a heading no paragraph followed would lose its text: nest instead.
                keep = len(self._path)
            del self._path[keep:]
            self._fresh = min(self._fresh, keep)
            self._path.append((level, text))
        self.section = " – ".join(t for _, t in self._path) or None
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
        for text in [t for _, t in dangling] or [self.section or ""]:
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


# --------------------------------------------------------------------------- the XML walker

# Inline markup: its text runs on within the surrounding paragraph.
_INLINE = frozenset(
    """
    nadruk extref intref dossierref sup inf naam voornaam achternaam tussenvoegsel
    voorvoegsels functie datum kamervraagonderwerp organisatie ondernummer herdruk br noot
    nootref term afkorting citaat-inline politiek fractie aanhef-naam
    """.split()
)
# Elements whose children are separate words although nothing separates them in the XML.
_FIELDS = frozenset(
    """
    voornaam achternaam tussenvoegsel voorvoegsels functie naam nr nummer titel label li.nr
    lidnr tekstregel al entry dossiernr datum politiek organisatie plaats noot.al omschr
    """.split()
)
# Elements that always start a block of their own.
_BLOCKS = frozenset(
    """
    al al-groep tussenkop kop divisie lijst li table tgroup row tekst vrije-tekst algemeen
    stuk kamerstuk kamervragen vragen reactie vraag antwoord kamervraagomschrijving omschr
    toelicht tekst-sluiting ondertekening kamerstukkop kamervraagkop dossier stuknr titel
    datumtekst kamervraagnummer vraagnummer metadata meta plaatje illustratie
    kamervraagopmerking artikel lid definitielijst wat wij aanhef slotformulering
    voorstel-wet amendement amendement-lid wijziging considerans considerans.al citaat box p
    handelingen vergadering opening agendapunt handeling_bijlage stemmingen onderwerp
    item-titel spreekbeurt spreker interrumpant motie motie-info
    body frontm ltrlabel nummer tuskop witreg ondtek gegeven uitgifte intitule
    """.split()
)
_ANSWERED_BY = re.compile(r"^(?:Antwoord(?:en)?\s+(?:van\s+)?)(.+?)\s*(?:\((?:ontvangen|ingezonden)\b.*)?\.?$")
_SIGNATORY_NAMES = {"naam", "deze", "persoon", "achternaam"}
_SECTIONING = {"divisie", "hoofdstuk", "paragraaf", "afdeling", "artikel", "bijlage", "box"}
_SIGNATURE = {"tekst-sluiting", "ondertekening"}


@dataclass
class _Header:
    """What the non-body elements say about the document."""

    chamber: str | None = None
    vergaderjaar: str | None = None
    dossiers: list[str] = field(default_factory=list)
    dossier_titles: list[str] = field(default_factory=list)
    number: str | None = None
    title: str | None = None
    date: str | None = None
    datumtekst: str | None = None
    kamervraagnummer: str | None = None
    question_date: str | None = None
    answer_date: str | None = None
    question_title: str | None = None
    asked_by: list[str] = field(default_factory=list)
    answered_by: list[str] = field(default_factory=list)
    embedded: list[tuple[str, str, str]] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)
    signatories: list[str] = field(default_factory=list)
    # Handelingen: the meeting (number, date as printed, time) and the agenda item number.
    meeting: str | None = None
    meeting_date: str | None = None
    meeting_time: str | None = None
    item: str | None = None
    # Gazettes: the masthead lines, where and when it was signed, when it was issued.
    masthead: list[str] = field(default_factory=list)
    dagtekening: str | None = None
    signed: str | None = None
    issued: str | None = None
    uitgifte: str | None = None


class _Walker(HandelingenBlocks, KamerwrkBlocks, PublicationBlocks):
    """One pass over the body of an ``officiele-publicatie`` or a ``kamerwrk``."""

    def __init__(self) -> None:
        self.out = Assembler()
        self.header = _Header()
        #: A lid number waiting to open the lid's first paragraph.
        self.prefix: str | None = None

    def take_prefix(self) -> str | None:
        prefix, self.prefix = self.prefix, None
        return prefix

    # -- inline ---------------------------------------------------------------------------

    def inline(self, element, builder: TextBuilder) -> None:
        """Append the text of ``element``'s content (not its tail) to ``builder``."""
        builder.add(element.text)
        previous = None
        for child in element:
            tag = local_name(child)
            if not tag:
                builder.add(child.tail)
                continue
            if previous in _FIELDS and tag in _FIELDS and not builder.ends_with_space:
                builder.space()
            if tag in _BLOCKS and tag not in _FIELDS:
                builder.space()
            self.inline_element(child, tag, builder)
            if tag in _BLOCKS and tag not in _FIELDS:
                builder.space()
            previous = tag if not clean_text(child.tail) else None
            builder.add(child.tail)

    def inline_element(self, element, tag: str, builder: TextBuilder) -> None:
        if tag == "noot":
            builder.add_note(self.note(element))
        elif tag in ("nootref", "voetref"):
            ref = element.get("refid") or element.get("ref") or ""
            if ref:
                builder.refs.append((ref, builder.marker_offset()))
        elif tag == "extref":
            start = builder.position
            self.inline(element, builder)
            target = ob_id_from_reference(element.get("doc"))
            soort = (element.get("soort") or "").lower()
            if target and (soort == "document" or soort == "url" or not soort):
                builder.cite(start, target)
        elif tag == "br":
            builder.space()
        elif tag in ("metadata", "meta"):
            return
        else:
            self.inline(element, builder)

    def note(self, element) -> _Note:
        label = None
        for child in element:
            if local_name(child) in ("noot.nr", "nr"):
                label = clean_text(child.xpath("string()"))
                break
        note = self.out.new_note(label)
        builder = TextBuilder(footnote=note.footnote.n)
        builder.add(element.text)
        for child in element:
            tag = local_name(child)
            if tag in ("noot.nr", "nr"):
                builder.add(child.tail)
                continue
            if tag:
                builder.space()
                self.inline_element(child, tag, builder)
                builder.space()
            builder.add(child.tail)
        note.footnote.text = builder.text()
        note.citations = builder.citations
        # A footnote inside a footnote is rare; keep it rather than lose its text.
        self.out.pend(builder.notes)
        return note

    # -- blocks ---------------------------------------------------------------------------

    def container(self, element) -> None:
        """Walk the children of ``element``: inline runs become paragraphs, blocks recurse."""
        builder = TextBuilder()
        builder.add(element.text)
        previous = None
        for child in element:
            tag = local_name(child)
            if not tag:
                builder.add(child.tail)
                continue
            if tag in _BLOCKS or (tag not in _INLINE and self._has_blocks(child)):
                self.out.paragraph(builder)
                builder = TextBuilder()
                self.block(child, tag)
                previous = None
            elif tag == "noot" and self._wrapper_note(child):
                self.out.paragraph(builder)
                builder = TextBuilder()
                self.container(child)
            elif tag == "noot" and not builder.text():
                # A note standing between blocks (older Aanhangsels) is not a marker in a text.
                self.block_noot(child)
            else:
                if previous in _FIELDS and tag in _FIELDS and not builder.ends_with_space:
                    builder.space()
                self.inline_element(child, tag, builder)
                previous = tag if not clean_text(child.tail) else None
            builder.add(child.tail)
        self.out.paragraph(builder)

    def _has_blocks(self, element) -> bool:
        return any(local_name(d) in _BLOCKS for d in element.iterdescendants())

    def block(self, element, tag: str) -> None:
        handler = getattr(self, "block_" + tag.replace("-", "_").replace(".", "_"), None)
        if handler is not None:
            handler(element)
        elif tag in PUBLICATION_BODIES:
            self.publication(element)
        elif tag in _SECTIONING:
            state = self.out.enter_division()
            self.container(element)
            self.out.leave_division(state)
        else:
            self.container(element)

    def paragraph_of(self, element, prefix: str | None = None) -> None:
        builder = TextBuilder()
        prefix = prefix or self.take_prefix()
        if prefix:
            builder.add(prefix)
            builder.space()
        self.inline(element, builder)
        self.out.paragraph(builder)

    def heading_of(self, element) -> None:
        builder = TextBuilder()
        self.inline(element, builder)
        self.out.pend(builder.notes)
        self.out.pend_refs(builder.refs)
        self.out.heading(builder.text())

    def block_metadata(self, element) -> None:
        for meta in element.iter():
            if local_name(meta) == "meta" and meta.get("name"):
                entry = (meta.get("name"), meta.get("scheme") or "", meta.get("content") or "")
                self.header.embedded.append(entry)

    block_meta = block_metadata

    def block_al(self, element) -> None:
        if any(local_name(c) == "noot" and self._wrapper_note(c) for c in element):
            self.container(element)
        else:
            self.paragraph_of(element)

    @staticmethod
    def _wrapper_note(element) -> bool:
        """A ``noot`` without a number that wraps a table is content, not a footnote."""
        if any(local_name(c) in ("noot.nr", "nr") for c in element):
            return False
        return any(local_name(d) in ("table", "tgroup") for d in element.iterdescendants())

    block_p = block_al
    block_wat = block_al
    block_wij = block_al
    block_considerans_al = block_al

    def block_kamervraagomschrijving(self, element) -> None:
        kind = (element.get("type") or "").lower()
        for datum in element.iter():
            if local_name(datum) == "datum" and datum.get("isodatum"):
                if kind == "antwoord":
                    self.header.answer_date = self.header.answer_date or datum.get("isodatum")
                else:
                    self.header.question_date = self.header.question_date or datum.get("isodatum")
        if kind != "antwoord" and self.header.question_title is None:
            self.header.question_title = clean_text(element.xpath("string()"))
        if kind == "antwoord" and not self.header.answered_by:
            answer = _ANSWERED_BY.match(clean_text(element.xpath("string()")))
            if answer:
                self.header.answered_by = [answer.group(1)]
        elif kind != "antwoord" and not self.header.asked_by:
            names = (clean_text(" ".join(n.itertext())) for n in element.iter() if local_name(n) == "naam")
            self.header.asked_by = [name for name in names if name]
        self.paragraph_of(element)

    block_omschr = block_kamervraagomschrijving

    def block_kop(self, element) -> None:
        self.heading_of(element)

    block_tussenkop = block_kop

    def block_titel(self, element) -> None:
        parent = element.getparent()
        if parent is not None and local_name(parent) in ("stuk", "kamerstuk", "vragen", "reactie"):
            builder = TextBuilder()
            self.inline(element, builder)
            self.out.pend(builder.notes)
            self.header.title = self.header.title or builder.text()
        else:
            self.heading_of(element)

    def _header_lines(self, element) -> None:
        for line in element.iter():
            if local_name(line) != "tekstregel":
                continue
            text = clean_text(line.xpath("string()"))
            kind = (line.get("inhoud") or "").lower()
            if kind == "kameraanduiding" or (not kind and "Kamer" in text):
                self.header.chamber = self.header.chamber or text
            elif kind == "vergaderjaar" or (not kind and normalize_vergaderjaar(text)):
                self.header.vergaderjaar = self.header.vergaderjaar or normalize_vergaderjaar(text)

    block_kamerstukkop = _header_lines
    block_kamervraagkop = _header_lines

    def block_dossier(self, element) -> None:
        number = ""
        suffix = ""
        titles = []
        for child in element.iter():
            tag = local_name(child)
            if tag == "dossiernr":
                number = clean_text(child.xpath("string()"))
            elif tag == "begrotingshoofdstuk":
                value = clean_text(child.xpath("string()"))
                if _SUFFIX.match(value.upper()):
                    suffix = value
            elif tag == "titel":
                titles.append(clean_text(child.xpath("string()")))
        if not number:
            number = clean_text(element.xpath("string()"))
        dossier = normalize_dossier(f"{number} {suffix}".strip())
        if dossier and dossier not in self.header.dossiers:
            self.header.dossiers.append(dossier)
        self.header.dossier_titles.extend(t for t in titles if t)

    def block_stuknr(self, element) -> None:
        for child in element.iter():
            if local_name(child) == "ondernummer":
                self.header.number = clean_text(child.xpath("string()")) or None
        if self.header.number is None:
            match = re.search(r"\d+\w*", clean_text(element.xpath("string()")))
            self.header.number = match.group(0) if match else None

    def block_datumtekst(self, element) -> None:
        self.header.datumtekst = clean_text(element.xpath("string()")) or None
        for datum in element.iter():
            if local_name(datum) == "datum" and datum.get("isodatum"):
                self.header.date = self.header.date or datum.get("isodatum")

    def block_kamervraagnummer(self, element) -> None:
        self.header.kamervraagnummer = clean_text(element.xpath("string()")) or None

    block_vraagnummer = block_kamervraagnummer

    def block_tekst_sluiting(self, element) -> None:
        """Each signatory (and any closing line) on a line of its own."""
        builder = TextBuilder()
        builder.add(element.text)
        for child in element:
            tag = local_name(child)
            if tag in _BLOCKS:
                self._signature_line(builder)
                builder = TextBuilder()
                if tag == "ondertekening":
                    self.block_ondertekening(child)
                else:
                    self.inline(child, builder)
                    self._signature_line(builder)
                    builder = TextBuilder()
            elif tag:
                self.inline_element(child, tag, builder)
            builder.add(child.tail)
        self._signature_line(builder)

    def block_ondertekening(self, element) -> None:
        """One line per signatory: a name (``naam``, ``deze``) ends it, after its function."""
        builder = TextBuilder()
        builder.add(element.text)
        for child in element:
            tag = local_name(child)
            if tag in _SIGNATORY_NAMES:
                builder.space()
                name = TextBuilder()
                self.inline(child, name)
                if name.text():
                    self.header.signatories.append(name.text())
                self.inline(child, builder)
                self._signature_line(builder)
                builder = TextBuilder()
            elif tag in ("functie", "al", "p"):
                builder.space()
                self.inline(child, builder)
                builder.space()
            elif tag:
                self.inline_element(child, tag, builder)
            builder.add(child.tail)
        self._signature_line(builder)

    def _signature_line(self, builder: TextBuilder) -> None:
        self.out.pend(builder.notes)
        text = builder.text()
        if text:
            self.header.signature.append(text)

    def block_lijst(self, element) -> None:
        builder = TextBuilder()
        for child in element:
            tag = local_name(child)
            if tag == "li":
                self.out.paragraph(builder)
                builder = TextBuilder()
                self.block_li(child)
            elif tag in _BLOCKS:
                self.out.paragraph(builder)
                builder = TextBuilder()
                self.block(child, tag)
            elif tag:
                self.inline_element(child, tag, builder)
            builder.add(child.tail)
        self.out.paragraph(builder)

    def block_li(self, element) -> None:
        label = None
        for child in element:
            if local_name(child) == "li.nr":
                label = clean_text(child.xpath("string()"))
                break
        builder = TextBuilder()
        prefix = self.take_prefix()
        for part in (prefix, label):
            if part:
                builder.add(part)
                builder.space()
        builder.add(element.text)
        labelled = len(builder.text())
        for child in element:
            tag = local_name(child)
            if tag == "li.nr":
                builder.add(child.tail)
                continue
            if tag in ("lijst", "table", "li"):
                self.out.paragraph(builder)
                builder = TextBuilder()
                self.block(child, tag)
            elif tag in ("al", "p", "al-groep") and len(builder.text()) > labelled:
                # A second paragraph of the same item stands on its own, as printed.
                self.out.paragraph(builder)
                builder = TextBuilder()
                labelled = 0
                self.block(child, tag)
            elif tag:
                builder.space()
                self.inline_element(child, tag, builder)
                builder.space()
            builder.add(child.tail)
        self.out.paragraph(builder)

    def block_table(self, element) -> None:
        state = self.out.save()
        for child in element:
            if local_name(child) == "title":
                self.heading_of(child)
        for row in element.iter():
            if local_name(row) != "row":
                continue
            builder = TextBuilder()
            first = True
            filled = False
            for entry in row:
                if local_name(entry) != "entry":
                    continue
                if not first:
                    builder.add(" | ")
                first = False
                start = builder.position
                self.inline(entry, builder)
                filled = filled or bool(clean_text("".join(builder._parts)[start:]))
            if filled:
                self.out.paragraph(builder)
            else:
                # An empty row is spacing in the printed table, not a paragraph.
                self.out.pend(builder.notes)
        self.out.restore(state)

    def _qa(self, element, kind: str) -> None:
        label = None
        for child in element:
            if local_name(child) in ("nr", "nummer"):
                builder = TextBuilder()
                self.inline(child, builder)
                self.out.pend(builder.notes)
                label = builder.text()
                break
        if label and re.fullmatch(r"[\d\s,.en&-]+", label):
            label = f"{kind} {label}"
        state = self.out.save()
        self.out.section = label or kind
        self.out.fresh_heading = False
        builder = TextBuilder()
        builder.add(element.text)
        for child in element:
            tag = local_name(child)
            if tag in ("nr", "nummer"):
                builder.add(child.tail)
                continue
            if tag == "table" or (tag and any(local_name(d) == "table" for d in child.iterdescendants())):
                # A table keeps a paragraph per row; the rest of a question or answer is one.
                self.out.paragraph(builder)
                builder = TextBuilder()
                self.block(child, tag)
            elif tag in _BLOCKS or (tag and tag not in _INLINE and self._has_blocks(child)):
                builder.space()
                self.inline(child, builder)
                builder.space()
            elif tag:
                self.inline_element(child, tag, builder)
            builder.add(child.tail)
        self.out.paragraph(builder)
        self.out.fresh_heading = False
        self.out.restore(state)

    def block_vraag(self, element) -> None:
        self._qa(element, "Vraag")

    def block_antwoord(self, element) -> None:
        self._qa(element, "Antwoord")

    def block_noot(self, element) -> None:
        self.out.loose_note(element.get("id"), self.note(element))

    def block_plaatje(self, element) -> None:
        if clean_text(element.xpath("string()")):
            self.container(element)

    block_illustratie = block_plaatje


# --------------------------------------------------------------------------- metadata.xml

_REPEATABLE = {
    "OVERHEIDop.indiener",
    "OVERHEIDop.ontvanger",
    "OVERHEIDop.behandeldDossier",
    "OVERHEIDop.bijlage",
    "OVERHEIDop.dossiernummer",
    "DC.type",
    "DC.subject",
    "DCTERMS.relation",
    "OVERHEID.category",
}
_SUBTYPE_SCHEMES = (
    "OVERHEIDop.KamerstukTypen",
    "OVERHEIDop.AanhangselTypen",
    "OVERHEIDop.KamervraagTypen",
    "OVERHEIDop.HandelingTypen",
    "OVERHEIDop.Rubriek",
)
#: The namespaces of repository.overheid.nl's ``owms-metadata`` and the prefix their names take
#: in metadata.xml (``dcterms:identifier`` is ``DC.identifier`` there).
_OWMS_NAMESPACES = {
    "http://purl.org/dc/terms/": "DCTERMS.",
    "http://standaarden.overheid.nl/owms/terms/": "OVERHEID.",
    "http://standaarden.overheid.nl/oep/meta/": "OVERHEIDop.",
    "http://standaarden.overheid.nl/wetgeving/": "OVERHEIDop.",
}
_DC_CORE = {"identifier", "title", "type", "creator", "language", "subject", "format"}


def parse_metadata_xml(data: bytes) -> dict:
    """``metadata.xml`` (``metadata_gegevens``) or a repository ``owms-metadata`` → the fields
    of a Document plus the raw values.

    Keys: id, title (the stuk's own title), full_title (``DC.title`` as given), date, dossier
    (list), number, vergaderjaar (``2018-2019``), chamber, doc_type, kind, dossier_title, and
    ``raw`` (name → value, or a list for repeatable names such as OVERHEIDop.indiener,
    OVERHEIDop.behandeldDossier and OVERHEIDop.bijlage).
    """
    root = load_xml(data, roots=("metadata_gegevens", "owms-metadata"), what="metadata.xml")
    if local_name(root) == "owms-metadata":
        return metadata_from_entries(_owms_entries(root))
    entries = [
        (element.get("name") or "", element.get("scheme") or "", element.get("content") or "")
        for element in root.iter()
        if element is not root and local_name(element) == "metadata"
    ]
    return metadata_from_entries(entries)


def _owms_entries(root) -> list[tuple[str, str, str]]:
    """(name, scheme, content) of each leaf of an ``owms-metadata`` tree, named as in metadata.xml."""
    entries = []
    for element in root.iter():
        if not isinstance(element.tag, str) or len(element):
            continue
        local = local_name(element)
        namespace = element.tag[1:].split("}", 1)[0] if element.tag.startswith("{") else ""
        if "." in local:  # written with a dot instead of a namespace: dcterms.modified
            prefix, _, local = local.partition(".")
            name = ("DC." if prefix.lower() == "dcterms" and local in _DC_CORE else prefix.upper() + ".") + local
        elif namespace in _OWMS_NAMESPACES:
            prefix = _OWMS_NAMESPACES[namespace]
            name = ("DC." if prefix == "DCTERMS." and local in _DC_CORE else prefix) + local
        else:
            continue
        entries.append((name, element.get("scheme") or "", element.text or ""))
    return entries


def metadata_from_entries(entries: Iterable[tuple[str, str, str]]) -> dict:
    """Map (name, scheme, content) triples of metadata.xml or HTML ``<meta>`` tags to fields.

    Names are matched case-insensitively (HTML pages write ``dcterms.identifier``); ``raw``
    keeps the names as written.
    """
    raw: dict[str, Any] = {}
    by_name: dict[str, list[tuple[str, str]]] = {}
    repeatable = {name.lower() for name in _REPEATABLE}
    for name, scheme, content in entries:
        name = name.strip()
        if not name:
            continue
        value = clean_text(content)
        by_name.setdefault(name.lower(), []).append((scheme.strip(), value))
        if name.lower() in repeatable:
            raw.setdefault(name, []).append(value)
        elif name in raw:
            existing = raw[name]
            raw[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            raw[name] = value

    def first(name: str, scheme: str | None = None) -> str | None:
        for item_scheme, value in by_name.get(name.lower(), []):
            if value and (scheme is None or item_scheme == scheme):
                return value
        return None

    doc_id = canonical_id(first("DC.identifier") or first("dcterms.identifier"))
    kind = kind_of(doc_id)
    if kind == "aanhangsel":
        date = first("OVERHEIDop.datumOntvangst") or first("DCTERMS.issued")
    elif kind == "handelingen":
        date = first("OVERHEIDop.datumVergadering") or first("DCTERMS.issued")
    else:
        date = first("DCTERMS.issued") or first("OVERHEIDop.datumOntvangst")
    date = date or first("DCTERMS.available") or first("OVERHEIDop.datumIndiening")
    dossiers: list[str] = []
    for _, value in by_name.get("overheidop.dossiernummer", []):
        normalized = normalize_dossier(value)
        if normalized and normalized not in dossiers:
            dossiers.append(normalized)
    doc_type = None
    for scheme in _SUBTYPE_SCHEMES:
        doc_type = doc_type or first("DC.type", scheme)
    doc_type = doc_type or first("DC.type", "OVERHEIDop.Parlementair")
    doc_type = doc_type or next(
        (value for scheme, value in by_name.get("dc.type", []) if value and scheme != "OVERHEID.Informatietype"), None
    )
    doc_type = doc_type or first("OVERHEIDop.publicationName")
    number = first("OVERHEIDop.ondernummer")
    if number is None and kind in ("aanhangsel", "handelingen") and doc_id:
        number = _number_from_id(doc_id)
    full_title = first("DC.title") or first("dcterms.title") or first("OVERHEIDop.documenttitel")
    return {
        "id": doc_id,
        "title": _own_title(full_title, first("OVERHEIDop.dossiertitel")) if kind == "kamerstuk" else full_title,
        "full_title": full_title,
        "date": _iso_date(date),
        "dossier": dossiers,
        "number": number,
        "vergaderjaar": normalize_vergaderjaar(first("OVERHEIDop.vergaderjaar")) or _vergaderjaar_from_id(doc_id),
        "chamber": first("DC.creator", "OVERHEID.StatenGeneraal") or first("DC.creator"),
        "doc_type": doc_type,
        "kind": kind or None,
        "dossier_title": first("OVERHEIDop.dossiertitel"),
        "raw": raw,
    }


def _own_title(full: str | None, dossier_title: str | None) -> str | None:
    """The stuk's own title in a Kamerstuk's ``DC.title`` ("dossier; type; own title"): the
    part after the dossier title and the type, or the type when there is nothing more."""
    if not full:
        return full
    if dossier_title and full.startswith(dossier_title + "; "):
        rest = full[len(dossier_title) + 2 :]
    else:
        parts = full.split("; ")
        if len(parts) < 3:
            return full
        rest = "; ".join(parts[1:])
    return rest.split("; ", 1)[1] if "; " in rest else rest


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", value)
    if match:
        return match.group(0)
    match = re.match(r"(\d{2})-(\d{2})-(\d{4})$", value)
    return f"{match.group(3)}-{match.group(2)}-{match.group(1)}" if match else None


_MONTHS = {
    name: number
    for number, name in enumerate(
        "januari februari maart april mei juni juli augustus september oktober november december".split(),
        start=1,
    )
}
_LETTER_DATE = re.compile(
    r"^(?:Den Haag|[’'‘`]s-Gravenhage|Brussel|Luxemburg)\s*,?\s+(\d{1,2})\s+([a-z]+)\s+(\d{4})\.?$",
    re.IGNORECASE,
)


_DUTCH_DATE = re.compile(r"\b(\d{1,2})\s+([a-z]+)\s+(\d{4})\b", re.IGNORECASE)


def dutch_date(text: str | None) -> str | None:
    """The ISO date in a Dutch date as printed ("Donderdag 8 februari 2018" → 2018-02-08)."""
    import datetime

    for match in _DUTCH_DATE.finditer(clean_text(text)):
        month = _MONTHS.get(match.group(2).lower())
        if month:
            try:
                return datetime.date(int(match.group(3)), month, int(match.group(1))).isoformat()
            except ValueError:
                continue
    return None


_CLOSING_DATE = re.compile(r"^[A-Z][\w'’. -]{1,40},\s+(\d{1,2}\s+[a-z]+\s+\d{4})\.?$", re.IGNORECASE)


def closing_date(lines: Iterable[str]) -> str | None:
    """The ISO date of a closing "Winschoten, 14 juni 2017" line of a gazette notice."""
    for line in lines:
        match = _CLOSING_DATE.match(clean_text(line))
        if match and dutch_date(match.group(1)):
            return dutch_date(match.group(1))
    return None


def letter_date(lines: Iterable[str]) -> str | None:
    """The ISO date of a letter's "Den Haag, 13 mei 2019" line, if one of ``lines`` is one."""
    import datetime

    for line in lines:
        match = _LETTER_DATE.match(clean_text(line))
        month = _MONTHS.get(match.group(2).lower()) if match else None
        if match and month:
            try:
                return datetime.date(int(match.group(3)), month, int(match.group(1))).isoformat()
            except ValueError:
                continue
    return None


def _number_from_id(doc_id: str) -> str | None:
    parts = doc_id.split("-")
    if parts[0] == "ah" and len(parts) >= 4:
        return parts[3]
    if parts[0] == "h" and len(parts) >= 4:
        return "-".join(parts[3:])
    if parts[0] == "kst" and len(parts) >= 3:
        return parts[-1] if not re.fullmatch(r"[hbn]\d+", parts[-1]) else parts[-2]
    return None


def _vergaderjaar_from_id(doc_id: str | None) -> str | None:
    match = _ID_VERGADERJAAR.match(doc_id or "")
    return normalize_vergaderjaar(match.group(1) + match.group(2)) if match else None


# --------------------------------------------------------------------------- the document


def parse_official_xml(data: bytes, doc_id: str | None = None, metadata: dict | None = None) -> Document:
    """Parse an ``officiele-publicatie`` (Kamerstuk, Aanhangsel, ...) into a Document.

    ``metadata`` (as returned by :func:`parse_metadata_xml`, or any dict with Document field
    names) wins over what the XML itself says. Raises UnsafeContentError for hostile XML and
    ParseError for malformed XML, a foreign root element or a document without an id.
    """
    root = load_xml(data, roots=ROOTS, what="official XML")
    walker = _Walker()
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
        paragraphs = _motion_signatories(paragraphs, header)
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
        title=clean_text(title),
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
        signatories=header.signatories,
        paragraphs=paragraphs,
        footnotes=footnotes,
    )


ROOTS = ("officiele-publicatie", "kamerwrk")

_DOCUMENT_FIELDS = frozenset(
    """
    id kind title date dossier number chamber vergaderjaar doc_type url source_format
    provenance metadata signature paragraphs footnotes
    """.split()
)


def _record_id(header: _Header) -> str | None:
    """The id in the URL of the ``OVERHEIDop.externMetadataRecord`` the XML points to."""
    for name, _, content in header.embedded:
        if name == "OVERHEIDop.externMetadataRecord":
            return ob_id_from_reference(content)
    return None


def _derived_id(header: _Header, root) -> str | None:
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


def _doc_type(header: _Header, kind: str) -> str | None:
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
_NAME_LINE = re.compile(r"^[A-ZÀ-Ý][\w'’.-]*(?:[ -][\w'’.-]+){0,4}$")


def _motion_signatories(paragraphs: list[Paragraph], header: _Header) -> list[Paragraph]:
    """A motion's names under "en gaat over tot de orde van de dag." are its signatories."""
    for index, paragraph in enumerate(paragraphs):
        if _CLOSING.search(paragraph.text):
            tail = paragraphs[index + 1 :]
            if tail and len(tail) <= 20 and all(_NAME_LINE.match(p.text) and not p.footnotes for p in tail):
                header.signature.extend(p.text for p in tail)
                header.signatories.extend(p.text for p in tail)
                return paragraphs[: index + 1]
            return paragraphs
    return paragraphs


def _askers_and_answerers(header: _Header, meta: dict, embedded: dict) -> dict[str, list[str]]:
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
