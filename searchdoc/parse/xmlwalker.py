"""The one walk over official XML that every document family shares.

:class:`Walker` visits the elements of an ``officiele-publicatie`` or a ``kamerwrk`` once:
blocks become paragraphs through the :class:`~searchdoc.parse.officialxml.Assembler`, inline
markup runs on in a :class:`~searchdoc.parse.officialxml.TextBuilder`, header elements fill a
:class:`Header`. The elements of one family have their handlers in a mixin of their own
(:mod:`~searchdoc.parse.handelingen`, :mod:`~searchdoc.parse.kamerwrk`,
:mod:`~searchdoc.parse.publications`); Kamerstukken and Aanhangsels are handled here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from searchdoc.parse.handelingen import HandelingenBlocks
from searchdoc.parse.kamerwrk import KamerwrkBlocks
from searchdoc.parse.officialxml import (
    _SUFFIX,
    Assembler,
    TextBuilder,
    _Note,
    clean_text,
    normalize_dossier,
    normalize_vergaderjaar,
    ob_id_from_reference,
)
from searchdoc.parse.publications import PUBLICATION_BODIES, PublicationBlocks
from searchdoc.parse.safexml import local_name

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
    voorstel-sluiting wetsluiting
    """.split()
)
_ANSWERED_BY = re.compile(r"^(?:Antwoord(?:en)?\s+(?:van\s+)?)(.+?)\s*(?:\((?:ontvangen|ingezonden)\b.*)?\.?$")
_QA_LABEL = re.compile(r"(?:Vraag|Vragen|Antwoord)\s+\d+[a-z]?(?:\s*(?:,|en|&|t/m|-)\s*\d+[a-z]?)*", re.IGNORECASE)
_CLOSING_LABELS = {"Gegeven", "Gegeven te"}
_SIGNATORY_NAMES = {"naam", "deze", "persoon", "achternaam"}
_SECTIONING = {"divisie", "hoofdstuk", "paragraaf", "afdeling", "artikel", "bijlage", "box"}


@dataclass
class Header:
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


class Walker(HandelingenBlocks, KamerwrkBlocks, PublicationBlocks):
    """One pass over the body of an ``officiele-publicatie`` or a ``kamerwrk``."""

    def __init__(self) -> None:
        self.out = Assembler()
        self.header = Header()
        #: A lid number waiting to open the lid's first paragraph.
        self.prefix: str | None = None

    def take_prefix(self) -> str | None:
        prefix, self.prefix = self.prefix, None
        return prefix

    # -- inline ---------------------------------------------------------------------------

    def inline_text(self, element) -> str:
        """The text of ``element``'s content on its own (a title, a caption, a label); its notes
        go to the next paragraph."""
        builder = TextBuilder()
        self.inline(element, builder)
        self.out.pend(builder.notes)
        return builder.text()

    def inline(self, element, builder: TextBuilder) -> None:
        """Append the text of ``element``'s content (not its tail) to ``builder``."""
        builder.add(element.text)
        previous = None
        for child in element:
            tag = local_name(child)
            if not tag:
                builder.add(child.tail)
                continue
            _field_gap(previous, tag, builder)
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
        return self.note_text(element, self.out.new_note(label), skip=("noot.nr", "nr"))

    def note_text(self, element, note: _Note, skip: tuple[str, ...] = ()) -> _Note:
        """Fill ``note`` with the text and citations of ``element``, leaving out the ``skip`` children
        (its printed number)."""
        builder = TextBuilder(footnote=note.footnote.n)
        builder.add(element.text)
        for child in element:
            tag = local_name(child)
            if tag and tag not in skip:
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
                _field_gap(previous, tag, builder)
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
            self.header.title = self.header.title or self.inline_text(element)
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
                # A table's title is its caption: it names the table within the section.
                self.out.caption(self.inline_text(child))
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
                label = self.inline_text(child)
                break
        label_al = None
        if label is None:
            # Some files print the label as the first paragraph: <al>Vraag 1</al>.
            first = next((c for c in element if local_name(c)), None)
            is_al = first is not None and local_name(first) == "al"
            text = clean_text(first.xpath("string()")) if is_al else ""
            if _QA_LABEL.fullmatch(text):
                label, label_al = text, first
        if label and re.fullmatch(r"[\d\s,.en&-]+", label):
            label = f"{kind} {label}"
        state = self.out.save()
        self.out.section = label or kind
        self.out.fresh_heading = False
        builder = TextBuilder()
        builder.add(element.text)
        for child in element:
            tag = local_name(child)
            if tag in ("nr", "nummer") or child is label_al:
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

    def block_voorstel_sluiting(self, element) -> None:
        """The close of a bill: its "Gegeven" label is print furniture, the rest is kept."""
        for child in element:
            tag = local_name(child)
            if tag == "label" and clean_text(child.xpath("string()")).rstrip(",:") in _CLOSING_LABELS:
                continue
            if tag in _BLOCKS:
                self.block(child, tag)
            elif tag:
                self.paragraph_of(child)

    block_wetsluiting = block_voorstel_sluiting

    def block_noot(self, element) -> None:
        self.out.loose_note(element.get("id"), self.note(element))

    def block_plaatje(self, element) -> None:
        if clean_text(element.xpath("string()")):
            self.container(element)

    block_illustratie = block_plaatje


def _field_gap(previous: str | None, tag: str, builder: TextBuilder) -> None:
    """Two fields printed side by side (a name, then a party) are separate words."""
    if previous in _FIELDS and tag in _FIELDS and not builder.ends_with_space:
        builder.space()
