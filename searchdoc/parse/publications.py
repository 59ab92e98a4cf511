"""Official publications other than parliamentary papers, in official XML.

Staatsblad, Staatscourant, Tractatenblad, Gemeenteblad, Provinciaal blad, Waterschapsblad and
Blad gemeenschappelijke regeling: the title comes from the ``intitule`` (or the publication's
own ``kop``), the date from the ``uitgifte`` or the ``dagtekening``; an ``artikel`` is a section
("Artikel 1") and each ``lid`` a paragraph that starts with its number ("1. …"); the king and
the ministers who sign are the signatories. Mixed into the official XML walker
(:mod:`searchdoc.parse.officialxml`).
"""

from __future__ import annotations

from searchdoc.parse.officialxml import TextBuilder, clean_text, normalize_vergaderjaar
from searchdoc.parse.safexml import local_name

#: The element that holds the body of each kind of publication.
PUBLICATION_BODIES = frozenset(
    """
    staatsblad staatscourant tractatenblad gemeenteblad provinciaalblad waterschapsblad
    bladgemeenschappelijkeregeling
    """.split()
)


class PublicationBlocks:
    """``block_*`` handlers for Stb., Stcrt., Trb., Gmb., Prb., Wsb. and Bgr. publications."""

    def masthead(self, element) -> None:
        """The ``kop`` above the body: the name of the gazette and who publishes it."""
        for child in element:
            text = clean_text(child.xpath("string()"))
            if not text:
                continue
            self.header.masthead.append(text)
            if "Kamer" in text or text == "Staten-Generaal":
                self.header.chamber = self.header.chamber or text
            elif normalize_vergaderjaar(text):
                self.header.vergaderjaar = self.header.vergaderjaar or normalize_vergaderjaar(text)

    def publication(self, element) -> None:
        """The body of a gazette: its ``kop`` or ``intitule`` is the title, not a heading."""
        for child in element:
            tag = local_name(child)
            if tag == "kop" and not self.header.title:
                self._title_from(child)
            elif tag == "intitule":
                self._title_from(child, prefer=True)
            elif tag:
                self.block(child, tag)

    def _title_from(self, element, prefer: bool = False) -> None:
        builder = TextBuilder()
        for child in element.iter():
            if local_name(child) in ("titel", "intitule") and child is not element:
                self.inline(child, builder)
                break
        else:
            self.inline(element, builder)
        self.out.pend(builder.notes)
        if builder.text() and (prefer or not self.header.title):
            self.header.title = builder.text()

    block_intitule = _title_from

    def block_lid(self, element) -> None:
        """A lid's number opens its first paragraph ("1. De bestanddelen …")."""
        number = None
        for child in element:
            if local_name(child) == "lidnr":
                number = clean_text(child.xpath("string()"))
                break
        self.prefix = number or None
        for child in element:
            tag = local_name(child)
            if tag and tag != "lidnr":
                self.block(child, tag)
        self.prefix = None

    def block_gegeven(self, element) -> None:
        """Where and when the king signed; the king is a signatory."""
        for child in element.iter():
            tag = local_name(child)
            if tag == "dagtekening":
                self.header.dagtekening = clean_text(child.xpath("string()")) or None
                for datum in child.iter():
                    if local_name(datum) == "datum" and datum.get("isodatum"):
                        self.header.signed = datum.get("isodatum")
            elif tag == "koning":
                name = clean_text(child.xpath("string()"))
                if name:
                    self.header.signature.append(name)
                    self.header.signatories.append(name)

    def block_uitgifte(self, element) -> None:
        """The date of issue ("Uitgegeven de zevenentwintigste maart 2018") and who issued it."""
        for child in element:
            tag = local_name(child)
            if tag == "datum":
                self.header.issued = child.get("isodatum") or self.header.issued
                self.header.uitgifte = clean_text(child.xpath("string()")) or None
            elif tag == "ondertekening":
                self.block_ondertekening(child)
            elif tag:
                self.block(child, tag)
