"""The older ``<kamerwrk>`` dialect of Kamerstukken (1995–2009) in official XML.

Its header lives in ``kop`` (chamber, vergaderjaar) and ``frontm`` (dossier number and title);
the stuk in ``body/stuk`` (``ltrlabel``/``nummer``, ``titel``, ``tuskop`` headings, ``al``,
``witreg`` blank lines, ``ondtek`` signatures); footnotes (``voetnoot``) stand apart at the end
and are tied to their marker (``voetref``) by id. Mixed into the official XML walker
(:mod:`searchdoc.parse.officialxml`), which handles ``al``, ``table`` and inline markup as in the
newer dialect.
"""

from __future__ import annotations

from searchdoc.parse.officialxml import clean_text, normalize_dossier, normalize_vergaderjaar
from searchdoc.parse.safexml import local_name


class KamerwrkBlocks:
    """``block_*`` handlers for the ``kamerwrk`` elements (mixed into the XML walker)."""

    def block_frontm(self, element) -> None:
        for child in element.iter():
            tag = local_name(child)
            if tag == "vergjaar":
                self.header.vergaderjaar = self.header.vergaderjaar or normalize_vergaderjaar(child.xpath("string()"))
            elif tag == "onderw":
                number = title = ""
                for part in child:
                    if local_name(part) == "nummer":
                        number = clean_text(part.xpath("string()"))
                    elif local_name(part) == "naam":
                        title = clean_text(part.xpath("string()"))
                dossier = normalize_dossier(number)
                if dossier and dossier not in self.header.dossiers:
                    self.header.dossiers.append(dossier)
                if title:
                    self.header.dossier_titles.append(title)

    def block_ltrlabel(self, element) -> None:
        """"Nr. " before the stuk's number: a label, not text."""

    def block_nummer(self, element) -> None:
        parent = element.getparent()
        if parent is not None and local_name(parent) == "stuk":
            self.header.number = self.header.number or clean_text(element.xpath("string()")) or None
        else:
            self.paragraph_of(element)

    def block_tuskop(self, element) -> None:
        self.heading_of(element)

    def block_witreg(self, element) -> None:
        """A blank line between paragraphs: nothing to keep."""

    def block_ondtek(self, element) -> None:
        self.block_ondertekening(element)

    def block_voetnoot(self, element) -> None:
        """A footnote given apart from its marker; ``voetref/@refid`` names it."""
        note = self.note_text(element, self.out.new_note(element.get("nr")))
        self.out.loose_note(element.get("id"), note)
