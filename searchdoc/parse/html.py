"""The HTML manifestation of zoek.officielebekendmakingen.nl (OB) pages into Documents.

What this relies on in OB pages (seen in public scrapers of the site, 2016–2024, and in the
class names of KOOP's own rendering that tkconv imitates):

* the publication body sits in ``div#broodtekst`` (class ``stuk broodtekst-container``, inside
  ``article``); older pages have ``div#broodtekst`` inside ``div#main-column``, and some
  renderings only ``div.stuk``;
* the title block: ``h1.dossiertitel`` (with ``span.dossiernummer``), ``h1.stuktitel`` (with
  ``span.stuknummer``), ``p.kamerstukdatum``; Aanhangsels open with
  ``h1.kamervraagomschrijving_kop``;
* headings ``h2.divisiekop1`` (and other ``h1``–``h6``, or classes ending in ``kop``);
  ``div.vraag`` / ``div.antwoord`` each start with a heading such as "Vraag 1" (older pages:
  ``p.nummer``);
* footnote markers ``a.nootnum`` (inside ``sup``) pointing at ``div.voet.noot`` elements
  (``id="supernote-note-…"``) in ``div#noten``, each with ``span.nootnum``, a
  ``h5.note-close`` ("X Noot") to drop, and the note text in ``p``;
* the signature in ``p.ondertekening``; links to other publications are relative or absolute
  links whose last path segment is an OB id (``kst-33694-12.html``);
* ``<meta name="DC.identifier" …>`` and similar Dublin Core tags in the head.

On other HTML it degrades to: main content (``article``/``main``/body) minus navigation,
scripts and styles; paragraphs from ``p``, list items and table rows; ``h1``–``h6`` as sections.
"""

from __future__ import annotations

import re
from typing import Any

from searchdoc import settings
from searchdoc.errorpages import is_soft_404
from searchdoc.errors import ParseError, UnsafeContentError
from searchdoc.model import Document
from searchdoc.parse.officialxml import (
    Assembler,
    TextBuilder,
    clean_text,
    dutch_date,
    kind_of,
    letter_date,
    metadata_from_entries,
    normalize_dossier,
    normalize_vergaderjaar,
    ob_id_from_reference,
)

__all__ = ["parse_html"]

# Never text: code, styling, embedded objects and form controls.
_DROP_TAGS = tuple(
    """
    script style noscript template iframe object embed svg canvas input button select
    textarea link meta head title nav
    """.split()
)
# Site chrome around (and sometimes inside) the publication body, by class or id token.
_CHROME = re.compile(
    r"^(?:sidebar|extrainfo|gerelateerd|pageactions|to-top|modal.*|delenmodal|disclaimer.*|"
    r"row--footer|footer|header|breadcrumbs?|broodkruimels|skiplinks?|skip-link|share|delen|"
    r"cookie.*|.*inhoudsopgave|inhouds-opgave|note-close|visually-hidden|sr-only|tekstueel|"
    r"verberg|titel-balk|zoeken|resultaat-navigatie|servicenavigatie|logo-nummer|actie-lijst|"
    r"menu|navigation|navbar)$",
    re.IGNORECASE,
)
_MAIN_SELECTORS = tuple(
    """
    #broodtekst .broodtekst div.stuk article main [role=main] #main-column #content #Inhoud
    body
    """.split()
)
_BLOCK_TAGS = frozenset(
    """
    p div section article main aside li ul ol dl dt dd table thead tbody tfoot tr td th
    caption blockquote pre h1 h2 h3 h4 h5 h6 hr figure figcaption address center form
    fieldset header footer
    """.split()
)
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_HEADING_CLASS = re.compile(r"^(?:kop|tussenkop|divisiekop\d*|\w+_kop|kop\d*)$", re.IGNORECASE)
_NOTE_CLASS = {"noot", "voetnoot", "footnote"}
_NOTE_CONTAINERS = "#noten, .noten, #voetnoten, .voetnoten, .tabelnoten, .footnotes, #footnotes"
_MARKER_CLASS = re.compile(r"nootnum|noteref|footnote-?ref|nootref", re.IGNORECASE)


def parse_html(data: bytes, doc_id: str | None = None, metadata: dict | None = None) -> Document:
    """Parse an OB HTML page (or, degrading gracefully, any HTML page) into a Document.

    ``metadata`` (as from ``parse_metadata_xml``) wins over what the page says. Raises
    UnsafeContentError for oversized input and ParseError for error pages, pages without
    content, or when no document id can be found.
    """
    from bs4 import BeautifulSoup

    if len(data) > settings.MAX_RESPONSE_BYTES:
        raise UnsafeContentError(f"HTML of {len(data)} bytes exceeds the limit of {settings.MAX_RESPONSE_BYTES} bytes")
    if not data.strip():
        raise ParseError("HTML page is empty")
    if is_soft_404(data, "text/html", None):
        raise ParseError("the HTML page is a 'page not found' error page, not a publication")
    from searchdoc.parse.htmlprep import compact_html

    markup, depth = compact_html(data)
    if depth > _MAX_DEPTH:
        # No publication nests this deep; refusing is clearer than flattening what was served.
        raise UnsafeContentError(f"the HTML nests elements more than {_MAX_DEPTH} levels deep; refused")
    soup = BeautifulSoup(markup, "lxml")
    head = _head_metadata(soup)
    page_title = clean_text(soup.title.get_text()) if soup.title else ""
    permalink = _permalink_id(soup)
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()

    walker = _HtmlWalker()
    # The page repeats the document's title as a heading: that heading is the title, not a section.
    walker.titles = {_title_key(t) for t in (
        (metadata or {}).get("title"), (metadata or {}).get("full_title"), head.get("title"),
        head.get("full_title"), page_title,
    ) if t}
    walker.collect_notes(soup)
    main = _main_container(soup)
    if main is None:
        raise ParseError("the HTML page has no body")
    for element in list(main.find_all(True)):
        if not _gone(element) and _is_chrome(element):
            element.decompose()
    walker.holds_blocks = _block_holders(main)
    walker.flow(main)
    walker.flush()
    paragraphs, footnotes = walker.out.finish()
    info = walker.info
    meta = dict(metadata or {})

    resolved_id = doc_id or meta.get("id") or head.get("id") or permalink
    if not resolved_id:
        raise ParseError("cannot tell the id of this HTML page; pass doc_id")
    resolved_id = resolved_id.strip()
    for paragraph in paragraphs:
        paragraph.citations = [c for c in paragraph.citations if c.id != resolved_id.lower()]

    dossiers = list(info["dossiers"])
    for value in [*(meta.get("dossier") or []), *(head.get("dossier") or [])]:
        normalized = normalize_dossier(value) or value
        if normalized not in dossiers:
            dossiers.append(normalized)
    title = meta.get("title") or head.get("title") or info["title"] or info["question_title"] or page_title
    extra: dict[str, Any] = {}
    for key in ("dossier_title", "datumtekst", "dagtekening", "uitgifte", "systematic_number"):
        if info.get(key):
            extra[key] = info[key]
    kind = meta.get("kind") or head.get("kind") or kind_of(resolved_id)
    # An act is dated the day it was signed ("Besluit van 14 juli 2014"), not the day of issue.
    signed = None
    if kind not in ("kamerstuk", "aanhangsel", "handelingen"):
        signed = info["signed"] or letter_date(p.text for p in paragraphs[-8:])
    if head.get("raw"):
        extra["html_meta"] = head["raw"]
    for key, value in meta.items():
        if key not in _DOCUMENT_FIELDS and value not in (None, "", [], {}):
            extra[key] = value
    return Document(
        id=resolved_id,
        kind=kind,
        title=clean_text(title),
        date=signed or meta.get("date") or head.get("date") or letter_date(p.text for p in paragraphs[:8]),
        dossier=dossiers,
        number=meta.get("number") or head.get("number") or info["number"],
        chamber=meta.get("chamber") or head.get("chamber") or info["chamber"],
        vergaderjaar=meta.get("vergaderjaar") or head.get("vergaderjaar") or info["vergaderjaar"],
        doc_type=meta.get("doc_type") or head.get("doc_type"),
        url=meta.get("url"),
        source_format="html",
        metadata=extra,
        signature="\n".join(info["signature"]) or None,
        signatories=list(dict.fromkeys(info["signatories"])),
        paragraphs=paragraphs,
        footnotes=footnotes,
    )


_DOCUMENT_FIELDS = frozenset(
    """
    id kind title date dossier number chamber vergaderjaar doc_type url source_format
    provenance metadata signature signatories paragraphs footnotes
    """.split()
)


#: Deepest element nesting accepted; publication pages nest a few dozen levels.
_MAX_DEPTH = 250


def _gone(element) -> bool:
    """Whether ``element`` was decomposed. bs4's own ``decomposed`` looks the flag up through
    ``getattr``, which on a live tag searches its whole subtree for a child named
    ``_decomposed``: quadratic on deep markup."""
    return bool(element.__dict__.get("_decomposed"))


def _block_holders(root) -> set[int]:
    """ids of the elements under ``root`` that contain a block element, in one pass."""
    holders: set[int] = set()
    for element in root.find_all(_BLOCK_TAGS):
        for parent in element.parents:
            if id(parent) in holders:
                break
            holders.add(id(parent))
    return holders


def _tokens(element) -> list[str]:
    classes = element.get("class") or []
    if isinstance(classes, str):
        classes = classes.split()
    ident = element.get("id")
    return [*classes, *([ident] if ident else [])]


def _is_chrome(element) -> bool:
    # Notes are collected before chrome is dropped, so an <aside> holding them is not lost.
    if element.name in ("nav", "header", "footer", "aside"):
        return True
    return any(_CHROME.match(token) for token in _tokens(element))


#: Containers whose headings end with them (an act's body, an article, its explanatory note).
_SCOPES = frozenset({"wettekst", "artikel", "nota-toelichting", "aanhef", "wetsluiting", "lichaam"})


def _title_key(text: str) -> str:
    """A title as compared with a heading: case, white space and end punctuation ignored."""
    return " ".join(text.replace("\u00a0", " ").split()).casefold().rstrip(" .:;")


def _head_metadata(soup) -> dict:
    entries = []
    for tag in soup.find_all("meta"):
        name = tag.get("name") or tag.get("property")
        if name and tag.get("content") is not None:
            scheme = tag.get("scheme") or tag.get("data-scheme") or ""
            entries.append((name, scheme, tag.get("content")))
    if not entries:
        return {}
    return metadata_from_entries(entries)


def _permalink_id(soup) -> str | None:
    for selector in ("a#technischeInfoHyperlink", "a#permaHyperlink", "link[rel=canonical]"):
        for element in soup.select(selector):
            found = ob_id_from_reference(element.get("href"))
            if found:
                return found
    return None


def _main_container(soup):
    for selector in _MAIN_SELECTORS:
        found = soup.select_one(selector)
        if found is not None and clean_text(found.get_text(" ")):
            return found
    return soup.body or soup


class _HtmlWalker:
    """One pass over the main container, in document order."""

    def __init__(self) -> None:
        self.out = Assembler()
        self.builder = TextBuilder()
        self.note_by_label: dict[str, int] = {}
        #: The document's title in the forms the page gives it (see _title_key).
        self.titles: set[str] = set()
        self.note_by_anchor: dict[str, int] = {}
        self.holds_blocks: set[int] = set()
        self.info: dict[str, Any] = {
            "title": None,
            "question_title": None,
            "number": None,
            "dossiers": [],
            "dossier_title": None,
            "datumtekst": None,
            "vergaderjaar": None,
            "chamber": None,
            "signature": [],
            "signatories": [],
            "dagtekening": None,
            "signed": None,
            "uitgifte": None,
            "systematic_number": None,
        }

    # -- footnotes ------------------------------------------------------------------------

    def collect_notes(self, soup) -> None:
        """Take the footnote texts out of the page, remembering how markers refer to them."""
        items = []
        taken: set[int] = set()
        for element in soup.find_all(True):
            if element.name in ("a", "sup", "span", "html", "body"):
                continue
            tokens = {t.lower() for t in _tokens(element)}
            is_note = bool(tokens & _NOTE_CLASS) or any(t.startswith("supernote-note") for t in tokens)
            if is_note and not any(id(parent) in taken for parent in element.parents):
                items.append(element)
                taken.add(id(element))
        if not items:
            for container in soup.select(_NOTE_CONTAINERS):
                for child in container.find_all(("li", "div", "p", "ol", "ul"), recursive=False):
                    entries = child.find_all("li", recursive=False) if child.name in ("ol", "ul") else [child]
                    items.extend(e for e in entries if clean_text(e.get_text(" ")))
        for item in items:
            self._note(item)
        for item in items:
            item.decompose()
        for container in soup.select(_NOTE_CONTAINERS):
            if not clean_text(container.get_text(" ")):
                container.decompose()

    def _note(self, element) -> None:
        for close in element.select(".note-close"):
            close.decompose()
        anchors = [e.get("id") for e in [element, *element.find_all(True)] if e.get("id")]
        anchors += [e.get("name") for e in element.find_all("a") if e.get("name")]
        label = None
        number_element = element.find(class_=_MARKER_CLASS) or element.find("sup")
        if number_element is not None:
            label = clean_text(number_element.get_text())
            number_element.decompose()
        builder = TextBuilder()
        self.inline(element, builder)
        text = builder.text()
        if label is None:
            match = re.match(r"(\d+)[.)]?\s+", text)
            if match:
                label = match.group(1)
                text = text[match.end() :]
                shift = match.end()
                for citation in builder.citations:
                    citation.start -= shift
                    citation.end -= shift
        note = self.out.new_note(label)
        note.footnote.text = text
        for citation in builder.citations:
            citation.footnote = note.footnote.n
        note.citations = builder.citations
        if label:
            self.note_by_label.setdefault(label, note.footnote.n)
        for anchor in anchors:
            self.note_by_anchor.setdefault(anchor, note.footnote.n)
        # Unmatched notes attach to the paragraph whose marker names them, else the last one.
        self.out.loose_note(f"html-note-{note.footnote.n}", note, fallback=False)

    def _marker(self, element) -> int | None:
        """The footnote number a marker element refers to, or None if it is not a marker.

        A marker is a link (possibly inside ``sup``) classed as a note reference
        (``a.nootnum``, ``sup.nootnum > a``), or an in-page link to a collected note, or a
        short in-page link whose text is the number of a collected note.
        """
        classes = list(_tokens(element))
        if element.name == "sup":
            links = element.find_all("a")
            if len(links) != 1 or clean_text(element.get_text()) != clean_text(links[0].get_text()):
                return None
            element = links[0]
            classes += _tokens(element)
        if element.name != "a":
            return None
        href = element.get("href") or ""
        label = clean_text(element.get_text())
        target = self.note_by_anchor.get(href[1:]) if href.startswith("#") else None
        if target is None and href.startswith("#") and re.fullmatch(r"\d{1,3}", label):
            target = self.note_by_label.get(label)
        if target is None and not any(_MARKER_CLASS.search(t) for t in classes):
            return None
        if target is None:
            target = self.note_by_label.get(label)
        return target if target is not None else -1

    # -- text -----------------------------------------------------------------------------

    def inline(self, node, builder: TextBuilder) -> None:
        """All text under ``node`` into ``builder``; blocks only add a space."""
        from bs4 import NavigableString
        from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

        for child in node.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, (Comment, Declaration, Doctype, ProcessingInstruction)):
                    builder.add(str(child))
                continue
            marker = self._marker(child)
            if marker is not None:
                if marker > 0:
                    builder.markers.append((marker, builder.marker_offset()))
                    builder.refs.append((f"html-note-{marker}", builder.marker_offset()))
                continue
            if child.name == "br":
                builder.space()
                continue
            block = child.name in _BLOCK_TAGS
            if block:
                builder.space()
            if child.name == "a" and child.get("href"):
                start = builder.position
                self.inline(child, builder)
                target = ob_id_from_reference(child.get("href"))
                if target:
                    builder.cite(start, target)
            elif child.name in ("td", "th") and builder.position and not builder.ends_with_space:
                builder.add(" | ")
                self.inline(child, builder)
            else:
                self.inline(child, builder)
            if block or (child.name == "span" and "ol" in _tokens(child)):
                # A list item's label ("-", "a.") is printed apart from its text.
                builder.space()

    def text_of(self, element) -> str:
        builder = TextBuilder()
        self.inline(element, builder)
        self.out.pend(builder.notes)
        return builder.text()

    def flush(self) -> None:
        self.out.paragraph(self.builder)
        self.builder = TextBuilder()

    def flow(self, node) -> None:
        """Walk ``node`` in document order: inline runs become paragraphs, blocks recurse."""
        from bs4 import NavigableString
        from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

        for child in list(node.children):
            if isinstance(child, NavigableString):
                if not isinstance(child, (Comment, Declaration, Doctype, ProcessingInstruction)):
                    self.builder.add(str(child))
                continue
            if _gone(child):
                continue
            tokens = [t.lower() for t in _tokens(child)]
            marker = self._marker(child)
            if marker is not None:
                if marker > 0:
                    offset = self.builder.marker_offset()
                    self.builder.markers.append((marker, offset))
                    self.builder.refs.append((f"html-note-{marker}", offset))
                continue
            if self._special(child, tokens):
                continue
            if child.name in _HEADING_TAGS or any(_HEADING_CLASS.match(t) for t in tokens):
                self.flush()
                text = self.text_of(child)
                if _title_key(text) not in self.titles:
                    self.out.heading(text)
                continue
            if child.name == "tr":
                self.flush()
                self.row(child)
                continue
            if "vraag" in tokens or "antwoord" in tokens:
                self.flush()
                self.question_or_answer(child, "Vraag" if "vraag" in tokens else "Antwoord")
                continue
            if child.name == "br":
                self.builder.space()
                continue
            if child.name in _BLOCK_TAGS:
                self.flush()
                scoped = _SCOPES.intersection(tokens)
                state = self.out.save() if scoped else None
                self.flow(child)
                self.flush()
                if state is not None:
                    # The headings of an act's body, an article or an explanatory note end with it.
                    self.out.restore(state)
                continue
            if child.name == "a" and child.get("href"):
                start = self.builder.position
                self.inline(child, self.builder)
                target = ob_id_from_reference(child.get("href"))
                if target:
                    self.builder.cite(start, target)
                continue
            if id(child) in self.holds_blocks:
                self.flow(child)
            else:
                self.inline(child, self.builder)
                if child.name == "span" and "ol" in tokens:
                    self.builder.space()

    def _special(self, element, tokens: list[str]) -> bool:
        """Title-block and signature elements, which feed fields instead of the body."""
        if "stuktitel" in tokens and element.name == "h1" and self.info["title"] is None:
            self.flush()
            for number in element.select(".stuknummer"):
                digits = re.search(r"\d+\w*", number.get_text())
                self.info["number"] = digits.group(0) if digits else None
                number.decompose()
            self.info["title"] = self.text_of(element)
            return True
        if "dossiertitel" in tokens:
            self.flush()
            for number in element.select(".dossiernummer"):
                dossier = normalize_dossier(number.get_text())
                if dossier and dossier not in self.info["dossiers"]:
                    self.info["dossiers"].append(dossier)
                number.decompose()
            self.info["dossier_title"] = self.info["dossier_title"] or self.text_of(element)
            return True
        if "kamerstukdatum" in tokens or "kamerstukkop" in tokens or "kamervraagkop" in tokens:
            self.flush()
            text = self.text_of(element)
            if "kamerstukdatum" in tokens:
                self.info["datumtekst"] = text
            else:
                self.info["vergaderjaar"] = normalize_vergaderjaar(text)
                chamber = re.search(r"(?:Tweede|Eerste) Kamer der Staten-Generaal", text)
                self.info["chamber"] = chamber.group(0) if chamber else None
            return True
        if any("kamervraagomschrijving" in t for t in tokens):
            self.flush()
            builder = TextBuilder()
            self.inline(element, builder)
            if self.info["question_title"] is None:
                self.info["question_title"] = builder.text()
            self.out.paragraph(builder)
            return True
        if any(t in ("ondertekening", "tekst-sluiting", "sluiting") for t in tokens):
            self.flush()
            self._signature(element)
            return True
        if "gegeven" in tokens or "uitgifte" in tokens:
            # The signing block of an act: where and when it was signed (or issued), the king,
            # and the ministers' signatures.
            self.flush()
            for part in element.find_all(("p", "div"), recursive=False):
                kinds = {t.lower() for t in _tokens(part)}
                text = self.text_of(part)
                if "ondertekening" in kinds:
                    self._signature(part)
                elif "koning" in kinds:
                    self.info["signature"].append(text)
                    self.info["signatories"].append(text)
                elif "dagtekening" in kinds and "gegeven" in tokens:
                    self.info["dagtekening"] = text
                    self.info["signed"] = self.info["signed"] or dutch_date(text)
                elif text:
                    self.info["uitgifte"] = text
            return True
        if "systematisch_nummer" in tokens:
            self.flush()
            self.info["systematic_number"] = self.text_of(element)
            return True
        return False

    def _signature(self, element) -> None:
        """A signature line as printed; its ``naam`` is a signatory."""
        text = self.text_of(element)
        if text:
            self.info["signature"].append(text)
        for name in element.find_all(class_="naam"):
            if not name.find_parent(class_="naam"):
                self.info["signatories"].append(clean_text(name.get_text(" ")))

    def row(self, row) -> None:
        builder = TextBuilder()
        first = True
        cells = row.find_all(("td", "th"), recursive=False)
        while cells and not clean_text(cells[-1].get_text()):
            cells.pop()  # empty trailing cells would leave a dangling " |"
        for cell in cells:
            if not first:
                builder.add(" | ")
            first = False
            self.inline(cell, builder)
        self.out.paragraph(builder)

    def question_or_answer(self, element, kind: str) -> None:
        state = self.out.save()
        self.out.section = kind
        self.out.fresh_heading = False
        label = element.find(_HEADING_TAGS) or element.find(class_="nummer")
        if label is not None:
            text = self.text_of(label)
            if re.fullmatch(r"[\d\s,.en&-]+", text):
                text = f"{kind} {text}"
            label.decompose()
            if text:
                self.out.section = text
        self.flow(element)
        self.flush()
        self.out.fresh_heading = False
        self.out.restore(state)
