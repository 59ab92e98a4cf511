"""The Handelingen elements of official XML: meetings, agenda items, speeches and motions.

A Handelingen item (``h-tk-20172018-61-10``) is one agenda item of one meeting. Its number
and title, and the meeting header of the opening item (number, date, time), feed the document
fields rather than the body; each paragraph carries who speaks it (``Paragraph.speaker``); a
motion is a section of its own, and the chair's note under it (``motie-info``) is spoken by the
chair. Mixed into the official XML walker (:mod:`searchdoc.parse.officialxml`).
"""

from __future__ import annotations

import re

from searchdoc.parse.officialmeta import dutch_date
from searchdoc.parse.officialxml import clean_text
from searchdoc.parse.safexml import local_name

#: Item kinds without an ``item-titel`` and the title a reader sees for them.
_UNTITLED_ITEMS = {"opening": "Opening", "sluiting": "Sluiting"}
_SPEAKER_SPACES = re.compile(r"\s+([):,])|([(])\s+")


def speaker_line(text: str) -> str | None:
    """``De voorzitter :`` → ``De voorzitter``; ``De heer Graus ( PVV ):`` → ``De heer Graus (PVV)``."""
    line = _SPEAKER_SPACES.sub(lambda m: m.group(1) or m.group(2), clean_text(text))
    return line.rstrip(": ").strip() or None


class HandelingenBlocks:
    """``block_*`` handlers for the Handelingen elements (mixed into the XML walker)."""

    # -- the meeting and the item -------------------------------------------------------------

    def block_vergadering(self, element) -> None:
        for child in element:
            tag = local_name(child)
            value = clean_text(child.xpath("string()"))
            if not value:
                continue
            if tag == "vergaderdatum":
                self.header.meeting_date = value
                self.header.date = self.header.date or dutch_date(value)
            elif tag == "vergadering-nummer":
                self.header.meeting = value
            elif tag == "vergadertijd":
                self.header.meeting_time = value

    def _item(self, element) -> None:
        """An agenda item: its number and title are fields, the rest is the body."""
        for child in element:
            tag = local_name(child)
            if tag == "nr" and self.header.item is None:
                self.header.item = clean_text(child.xpath("string()")) or None
            elif tag == "item-titel":
                self.header.title = self.header.title or self.inline_text(child) or None
            elif tag:
                self.block(child, tag)
        if not self.header.title:
            self.header.title = _UNTITLED_ITEMS.get(local_name(element))

    block_agendapunt = _item
    block_opening = _item
    block_handeling_bijlage = _item
    block_stemmingen = _item

    # -- who speaks ---------------------------------------------------------------------------

    def _blocks(self, element, skip: tuple[str, ...] = ()) -> None:
        """Walk ``element``'s children (but ``skip``); a speaker named inside ends with it."""
        outer = self.out.speaker
        for child in element:
            tag = local_name(child)
            if tag and tag not in skip:
                self.block(child, tag)
        self.out.speaker = outer

    def block_spreekbeurt(self, element) -> None:
        """A speech: every paragraph in it carries the speaker named in its ``spreker``."""
        self._blocks(element)

    def block_spreker(self, element) -> None:
        self.out.speaker = speaker_line(element.xpath("string()"))

    block_interrumpant = block_spreekbeurt

    # -- motions ------------------------------------------------------------------------------

    def block_motie(self, element) -> None:
        """A motion is a section of its own, named by its printed heading ("Motie", "Gewijzigde
        motie"); it ends with the motion, so the speeches after it have their own section."""
        label = "Motie"
        for child in element:
            if local_name(child) == "kop":
                label = clean_text(child.xpath("string()")) or label
                break
        state = self.out.save()
        self.out.section = label
        self.out.fresh_heading = False
        self._blocks(element, skip=("kop",))
        self.out.fresh_heading = False
        self.out.restore(state)

    def block_motie_info(self, element) -> None:
        """The chair's note under a motion: who proposed it and the number it gets."""
        self._blocks(element)
