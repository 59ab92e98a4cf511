"""PDF manifestations into Documents, through the same text conventions as the bundled letter.

Text is extracted with pypdf, a pure-Python library installed from PyPI: no system binaries
(pdftotext, poppler) are needed. pypdf's plain mode keeps a footnote marker glued to the word
before it (``stelt1.``), as in the bundled letter; the position of each line, reported through
pypdf's text visitor, turns the vertical gaps between paragraphs into blank lines. The
repeated page furniture of Kamerstuk and Aanhangsel PDFs is removed (the running line
"Tweede Kamer, vergaderjaar 2018–2019, 33 694, nr. 45" with its page number, the first page's
id / ISSN / "’s-Gravenhage 2019" block and its heading block), and each page starts with a line
that begins with a space, the page-break convention that
:func:`searchdoc.parse.plaintext.parse_plaintext` reads.
"""

from __future__ import annotations

import io
import logging
import math
import re
import unicodedata
import warnings
from dataclasses import dataclass

from searchdoc import settings
from searchdoc.errors import ParseError, UnsafeContentError
from searchdoc.model import Document

__all__ = ["parse_pdf", "pdf_to_text"]

log = logging.getLogger(__name__)

# The running line of every page: "Tweede Kamer, vergaderjaar 2018–2019, 33 694, nr. 45 2",
# "..., 34 300 X, nr. 109", "..., 34 775, A", "..., Aanhangsel", then the page number.
_RUNNING = re.compile(
    r"(?:Tweede|Eerste|Verenigde) Kamer(?: der Staten-Generaal)?, vergaderjaar "
    r"\d{4}\s*[–-]\s*\d{2,4}\s*,\s*"
    r"(?:Aanhangsel|\d[\dA-Z \-]*(?:\s+en\s+\d[\dA-Z \-]*)*,\s*(?:nr\.\s*\d+\w*|[A-Z]{1,3}))"
    r"(?:\s*\d{1,4})?$"
)
_OLD_RUNNING = re.compile(r"^(?:Aanhangsel )?Handelingen (?:I|II) \d{4}/\d{2,4},?\s*(?:nr\.\s*\S+)?(?:\s+\d{1,4})?$")
_PAGE_NUMBER = re.compile(r"^\d{1,4}$")
_ISSN = re.compile(r"ISSN\s*\d{4}\s*-\s*\d{3}[\dXx]")
_PLACE_YEAR = re.compile(r"[’'`‘]s-Gravenhage\s+\d{4}")
_OB_ID = re.compile(r"^(?:kst|ah|h|kv|blg|stb|stcrt|trb|ag|nds)-[a-z0-9]+(?:-[a-z0-9]+)*$", re.I)
_CHAMBER_HEAD = re.compile(r"^(?:Tweede|Eerste) Kamer der Staten-Generaal(?:\s+\d)?$")
_YEAR_HEAD = re.compile(r"^Vergaderjaar \d{4}\s*[–-]\s*\d{4}$")
_AANHANGSEL_HEAD = re.compile(r"^Aanhangsel van de Handelingen$")
_QUESTIONS_HEAD = re.compile(r"^Vragen gesteld door de leden der Kamer")
_ANSWERS_TAIL = re.compile(r"^(?:de\s+)?regering gegeven antwoorden$")
_DOSSIER_LINE = re.compile(r"^\d{2}\s?\d{3}(?:[-\s][A-Z0-9]{1,4})?\s+\S")
_STUK_LINE = re.compile(r"^Nr\.\s*\d+\w*\s+(\S.*)$")
# Lines at the top and foot of a page where page furniture can sit.
_HEAD_LINES = 3
_FOOT_LINES = 6
_TITLE_BLOCK_LINES = 14
# Lines are set about 1.3 font sizes apart; a wider gap between two lines ends a paragraph.
_PARAGRAPH_GAP = 1.7


@dataclass
class _Line:
    text: str
    y: float | None = None
    size: float = 0.0


def pdf_to_text(data: bytes, doc_id: str | None = None) -> str:
    """The text of a PDF in the bundled letter's conventions (see the module docstring)."""
    return _extract(data, doc_id)[0]


def parse_pdf(data: bytes, doc_id: str, metadata: dict | None = None) -> Document:
    """Parse a PDF into a Document (source_format ``pdf``) via the plain-text parser.

    Raises UnsafeContentError for oversized input and ParseError for files that are not
    PDFs, cannot be read (damaged or encrypted) or hold no extractable text (scans).
    """
    from searchdoc.parse.plaintext import parse_plaintext

    text, title = _extract(data, doc_id)
    meta = dict(metadata or {})
    if title and not meta.get("title"):
        meta["title"] = title
    document = parse_plaintext(text, doc_id, meta)
    document.source_format = "pdf"
    if title and not document.title:
        document.title = title
    return document


def _extract(data: bytes, doc_id: str | None) -> tuple[str, str | None]:
    if len(data) > settings.MAX_RESPONSE_BYTES:
        raise UnsafeContentError(f"PDF of {len(data)} bytes exceeds the limit of {settings.MAX_RESPONSE_BYTES} bytes")
    if b"%PDF-" not in data[:1024]:
        raise ParseError("not a PDF file (no %PDF- header)")
    cleaned: list[list[str]] = []
    title = None
    for number, page in enumerate(_pages(data), start=1):
        lines = _with_blank_lines(_strip_furniture(page, doc_id))
        if number == 1:
            lines, title = _strip_title_block(lines)
        lines = _squeeze_blanks(lines)
        if lines:
            cleaned.append(lines)
    if not cleaned:
        raise ParseError("the PDF has no extractable text (a scanned image?)")
    out = []
    for lines in cleaned:
        out.append(" " + lines[0])
        out.extend(lines[1:])
    return "\n".join(out) + "\n", title


def _pages(data: bytes) -> list[list[_Line]]:
    """The lines of each page, with the height of each line's baseline on the page."""
    from pypdf import PdfReader

    _quiet_pypdf()
    # pypdf raises many exception types on damaged files; all of them mean "cannot read".
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise ParseError("the PDF is encrypted")
            seen: dict[tuple, list[_Line]] = {}
            pages = []
            for page in reader.pages:
                key = _layout_key(page)
                lines = seen.get(key) if key is not None else None
                if lines is None:
                    lines = _page_lines(page)
                    if key is not None:
                        seen[key] = lines
                pages.append(lines)
            return pages
    except ParseError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ParseError(f"cannot read the PDF: {' '.join(str(exc).split())[:200]}") from None


def _layout_key(page) -> tuple | None:
    """What makes two pages print the same text: the same content stream object, resources and
    box. A PDF that repeats one page 50 000 times then costs one extraction, not 50 000."""
    from pypdf.generic import IndirectObject

    try:
        contents = page.raw_get("/Contents")
    except KeyError:
        return None
    if not isinstance(contents, IndirectObject):
        return None
    try:
        resources = page.raw_get("/Resources")
    except KeyError:
        return None  # inherited from the page tree, which may differ between pages
    if isinstance(resources, IndirectObject):
        resources_key = ("ref", resources.idnum, resources.generation)
    else:
        resources_key = ("direct", repr(resources))
    return (contents.idnum, contents.generation, resources_key, repr(page.get("/Rotate")),
            tuple(float(v) for v in page.mediabox))


class _ToDebug(logging.Handler):
    """Passes pypdf's complaints about damaged files on as debug messages of this module."""

    def emit(self, record: logging.LogRecord) -> None:
        log.debug("pypdf: %s", record.getMessage())


def _quiet_pypdf() -> None:
    """pypdf logs "EOF marker not found" and the like as warnings, which Python's last-resort
    handler prints above our one-line error; they go to the debug log instead."""
    pypdf_log = logging.getLogger("pypdf")
    if not any(isinstance(h, _ToDebug) for h in pypdf_log.handlers):
        pypdf_log.addHandler(_ToDebug())
        pypdf_log.propagate = False


def _page_lines(page) -> list[_Line]:
    lines = [_Line("")]

    def visit(text, cm, tm, font, size) -> None:
        pieces = str(text).replace("\r", "\n").replace("\f", "\n").split("\n")
        for index, piece in enumerate(pieces):
            if index:
                lines.append(_Line(""))
            if piece.strip():
                if lines[-1].y is None:
                    lines[-1].y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                # The height of a glyph: the font size through the text and page matrices.
                height = math.hypot(tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3])
                lines[-1].size = max(lines[-1].size, abs(float(size or 0)) * height)
            lines[-1].text += piece

    page.extract_text(visitor_text=visit)
    return [_Line(" ".join(_LIGATURES.sub(_unligature, line.text).split()), line.y, line.size) for line in lines]


# Typographic ligatures would split words for search ("deﬁnitie").
_LIGATURES = re.compile("[\ufb00-\ufb06]")


def _unligature(match: re.Match) -> str:
    return unicodedata.normalize("NFKC", match.group(0))


def _strip_furniture(lines: list[_Line], doc_id: str | None) -> list[_Line]:
    """Drop running headers/footers, page numbers and the id/ISSN block at the page edges."""
    filled = [i for i, line in enumerate(lines) if line.text]
    edge = set(filled[:_HEAD_LINES]) | set(filled[-_FOOT_LINES:])
    own_id = (doc_id or "").lower()
    out: list[_Line] = []
    for index, line in enumerate(lines):
        if not line.text:
            continue
        if index not in edge:
            out.append(line)
            continue
        rest = _PLACE_YEAR.sub(" ", _ISSN.sub(" ", line.text))
        dropped = rest != line.text
        match = _RUNNING.search(rest) or _OLD_RUNNING.match(rest)
        if match:
            dropped = True
            rest = rest[: match.start()]
        rest = " ".join(rest.split())
        if rest.lower() == own_id or _OB_ID.match(rest):
            continue
        if _PAGE_NUMBER.match(rest) and (dropped or index in (filled[0], filled[-1])):
            continue
        if rest:
            out.append(_Line(rest, line.y, line.size))
    return out


def _with_blank_lines(lines: list[_Line]) -> list[str]:
    """The line texts, with a blank line where the vertical gap says a paragraph ended."""
    out: list[str] = []
    for previous, line in zip([None, *lines], lines, strict=False):
        if previous is not None and previous.y is not None and line.y is not None:
            size = max(previous.size, line.size)
            if size and abs(previous.y - line.y) > _PARAGRAPH_GAP * size:
                out.append("")
        out.append(line.text)
    return out


def _strip_title_block(lines: list[str]) -> tuple[list[str], str | None]:
    """Remove the first page's heading block; return the stuk title it names, if any."""
    filled = [i for i, line in enumerate(lines) if line][:_TITLE_BLOCK_LINES]
    drop: set[int] = set()
    heading_seen = False
    for position, index in enumerate(filled):
        line = lines[index]
        if _CHAMBER_HEAD.match(line) or _YEAR_HEAD.match(line) or _AANHANGSEL_HEAD.match(line):
            drop.add(index)
            heading_seen = True
        elif _QUESTIONS_HEAD.match(line):
            drop.add(index)
            heading_seen = True
            following = filled[position + 1] if position + 1 < len(filled) else None
            if following is not None and _ANSWERS_TAIL.match(lines[following]):
                drop.add(following)
        elif heading_seen and index not in drop:
            break
    if not heading_seen:
        return lines, None
    title = None
    remaining = [i for i in filled if i not in drop]
    if remaining and _DOSSIER_LINE.match(lines[remaining[0]]):
        for position, index in enumerate(remaining):
            match = _STUK_LINE.match(lines[index])
            if match is None:
                continue
            parts = [match.group(1)]
            end = position
            for follower in remaining[position + 1 :]:
                text = lines[follower]
                if text.upper() != text or not re.search(r"[A-Z]", text):
                    break
                parts.append(text)
                end += 1
            drop.update(remaining[: end + 1])
            title = " ".join(parts)
            break
    return [line for i, line in enumerate(lines) if i not in drop], title


def _squeeze_blanks(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return out
