"""Parse text extracted from a published PDF (pdftotext style) into a :class:`Document`.

Such text keeps the PDF's layout: lines wrapped at the page width, words broken at a line end
with a hyphen, a new page where a line starts with a space or after a form feed, and a block
of footnotes at the foot of the page that refers to them. This module undoes that layout: it
reflows paragraphs, rejoins broken words, recognises headings and the signature, and lifts the
footnotes out of the running text. It is pure: no I/O besides the wordfreq lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from searchdoc.model import Document, Footnote, Paragraph

# Break kinds between runs of lines: a blank line, a page break, a lifted footnote block.
_BLANK, _PAGE, _NOTES = "blank", "page", "notes"

_HYPHENS = "-\u2010"
_SOFT_HYPHEN = "\xad"
_LEFT_WORD = re.compile(r"[^\W_]+(?:['’\-\u2010][^\W_]+)*$")
_RIGHT_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_WORD = re.compile(r"[^\W_]+(?:['’\-\u2010][^\W_]+)*")
_HYPHEN_SPLIT = re.compile(f"[{_HYPHENS}]")
_NOTE_LINE = re.compile(r"(\d{1,3})\s+(\S.*)$")
_DIGITS = re.compile(r"\d+")
_LETTERS_AT_END = re.compile(r"[^\W\d_]+$")
_SENTENCE_END = re.compile(r"[.!?…][)\]»”’\"']*$")
_CLOSERS = ")]»”’\"'"
_BULLET = re.compile(r"(?:[-–—•*·▪◦]|\(?\w\))\s")
# Letter furniture that looks like a heading but is not one: the addressee and the dateline.
_NOT_HEADING = re.compile(
    r"Aan de (?:Voorzitter|leden)\b|.+, \d{1,2} (?:januari|februari|maart|april|mei|juni|juli|augustus|"
    r"september|oktober|november|december) \d{4}$"
)

# A footnote marker is glued to the word or punctuation before it and followed by a boundary.
_BEFORE_MARKER = set(")]»”’\"'.,;:!?…")
_AFTER_MARKER = set(".,;:!?)]»”’\"'…")

# Lines ending in a spaced hyphen (and none in a bare one) that show every line ends in a space.
_SPACED_HYPHENS_NEEDED = 3
# Conjunctions that follow an elliptic compound: "Buitenland- en Veiligheidsstrategie".
_ELLIPSIS_CONJUNCTIONS = {"en", "of", "tot", "noch", "and", "or"}
# Prefixes Dutch writes with a hyphen (niet-statelijk, ex-minister, oud-minister, ...); contra- is
# not required by the spelling rules, but government texts hyphenate it before compounds.
_HYPHEN_PREFIXES = {"niet", "non", "ex", "oud", "adjunct", "kandidaat", "aspirant", "interim", "contra"}
# Vowels that clash across a compound boundary (klinkerbotsing: data-analyse, drone-operaties);
# a diaeresis (ë, ï) already separates the vowels, so those letters are left out on purpose.
_VOWELS = set("aeiouyáéíóúàèìòùâêîôû")

_SIGNATURE_FUNCTION = re.compile(
    r"(?:De|Het)\s+(?:\S+\s+){0,2}?(?i:minister|staatssecretaris|minister-president|premier|"
    r"voorzitter|griffier|secretaris|secretaris-generaal|commissaris|directeur|"
    r"directeur-generaal)(?:\s|,|$)"
)
_NAME_PARTICLES = {
    "van",
    "de",
    "der",
    "den",
    "het",
    "ten",
    "ter",
    "te",
    "'t",
    "’t",
    "la",
    "le",
    "du",
    "von",
    "op",
    "in",
    "mr.",
    "dr.",
    "drs.",
    "ir.",
    "ing.",
    "prof.",
    "bc.",
}

# Document fields that metadata may set; the parser owns the others.
_METADATA_FIELDS = {
    "title",
    "date",
    "dossier",
    "number",
    "chamber",
    "vergaderjaar",
    "doc_type",
    "url",
    "provenance",
}
_PARSER_FIELDS = {"id", "kind", "source_format", "paragraphs", "footnotes", "signature", "metadata"}


#: No-break spaces (U+00A0, narrow U+202F, figure U+2007) are kept as served: "25\u00a0maart".
NO_BREAK_SPACES = frozenset("\u00a0\u202f\u2007")
_SPACES = re.compile(r"\s+")


def squeeze(text: str) -> str:
    """Collapse runs of whitespace to one space and trim, keeping a lone no-break space as it
    is (search, phrases and citations treat it as a space; the stored text keeps what was served)."""
    return _SPACES.sub(lambda m: m.group() if m.group() in NO_BREAK_SPACES else " ", text).strip()


@dataclass(slots=True)
class _Line:
    text: str
    page: int
    spaced_end: bool
    width: int
    index: int = -1


@dataclass(slots=True)
class _Note:
    n: int
    page: int
    lines: list[_Line]
    line: int | None = None
    column: int = 0


@dataclass(slots=True)
class _Run:
    """Lines with no break between them, and the kinds of break that came before."""

    lines: list[_Line]
    before: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Lexicon:
    """Words the document itself writes whole on a line: the evidence for rejoining breaks."""

    plain: set[str] = field(default_factory=set)
    hyphenated: set[str] = field(default_factory=set)
    acronyms: set[str] = field(default_factory=set)
    heads: set[str] = field(default_factory=set)
    partial: dict[str, set[str]] = field(default_factory=dict)


def parse_plaintext(text: str, doc_id: str, metadata: dict | None = None) -> Document:
    """Parse PDF-extracted text into a Document with paragraphs, sections, pages and footnotes.

    ``metadata`` keys that name Document fields fill them; all other keys go into
    ``Document.metadata``. The text itself carries no title block.
    """
    document = _new_document(doc_id, metadata or {})
    pages = _paginate(text)
    _weigh_trailing_spaces(pages)
    items, notes = _lift_footnotes(pages)
    body = [item for item in items if isinstance(item, _Line)]
    for index, line in enumerate(body):
        line.index = index
    _place_markers(body, notes)
    lexicon = _lexicon([body, *(note.lines for note in notes)])
    runs = _runs(items)
    width = _typical_width(runs)
    blocks = _blocks(runs, width)

    signatures: list[str] = []
    block_of_line: dict[int, int] = {}
    line_offset: dict[int, int] = {}
    section: str | None = None
    kinds = _classify(blocks)
    for block, kind in zip(blocks, kinds, strict=True):
        if kind == "signature":
            signatures.extend(_signatures(block, lexicon) or [])
        elif kind == "signature-name":
            name = _reflow(block, lexicon)
            signatures[-1] = f"{signatures[-1]} {name}" if signatures else name
        elif kind == "heading":
            section = _reflow(block, lexicon)
        else:
            starts: list[int] = []
            paragraph = Paragraph(
                n=len(document.paragraphs) + 1,
                text=_reflow(block, lexicon, starts),
                section=section,
                page=block[0].page,
                page_end=block[-1].page,
            )
            document.paragraphs.append(paragraph)
            for line, start in zip(block, starts, strict=True):
                block_of_line[line.index] = paragraph.n
                line_offset[line.index] = start

    for note in notes:
        owner = block_of_line.get(note.line) if note.line is not None else None
        offset = line_offset[note.line] + note.column if owner is not None and note.line is not None else None
        if owner is not None:
            document.paragraphs[owner - 1].footnotes.append(note.n)
        document.footnotes.append(Footnote(n=note.n, text=_reflow(note.lines, lexicon), paragraph=owner, offset=offset))
    if signatures:
        document.signature = "\n".join(signatures)
    return document


def _new_document(doc_id: str, metadata: dict[str, Any]) -> Document:
    """A Document carrying the given metadata; keys it has no field for go into ``metadata``."""
    document = Document(id=doc_id, kind=str(metadata.get("kind") or "kamerstuk"), source_format="text")
    extra = dict(metadata.get("metadata") or {})
    for key, value in metadata.items():
        if key in _METADATA_FIELDS:
            setattr(document, key, value)
        elif key not in _PARSER_FIELDS:
            extra[key] = value
    if isinstance(document.dossier, (str, int)):
        document.dossier = [str(document.dossier)]
    else:
        document.dossier = [str(d) for d in document.dossier or []]
    if document.number is not None:
        document.number = str(document.number)
    document.provenance = dict(document.provenance or {})
    document.metadata = extra
    return document


def _paginate(text: str) -> list[list[_Line | None]]:
    """Split the text into pages of lines (None for a blank line).

    A page starts at a form feed, or at a line that begins with whitespace unless the page
    has just begun (pdftotext may write both for one break). Breaks before the first text do
    not count, so the first text is on page 1; trailing empty pages hold no lines.
    """
    pages: list[list[_Line | None]] = [[]]
    seen = False
    fresh = True

    def new_page(form_feed: bool) -> None:
        nonlocal fresh
        if seen and (form_feed or not fresh):
            pages.append([])
            fresh = True

    def add(raw: str) -> None:
        nonlocal seen, fresh
        if raw[:1].isspace():
            new_page(False)
        normal = squeeze(raw)
        if not normal:
            pages[-1].append(None)
            return
        pages[-1].append(_Line(normal, len(pages), raw[-1].isspace(), len(normal)))
        seen = True
        fresh = False

    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if "\f" not in raw:
            add(raw)
            continue
        head, *tails = raw.split("\f")
        if head.strip():
            add(head)
        for tail in tails:
            new_page(True)
            if tail:
                add(tail)
    return pages


def _weigh_trailing_spaces(pages: list[list[_Line | None]]) -> None:
    """Decide whether a space after a line-end hyphen means anything.

    Most PDF text keeps the space that ends a line but not after a hyphen the typesetter
    added, so "Buitenland- " (an elliptic compound) differs from "wapenbe-" (a broken word).
    Some extractions end every line with a space: when no line ends in a bare hyphen although
    several end in a spaced one, the space says nothing, and the words decide.
    """
    spaced = bare = 0
    hyphenated = []
    for page in pages:
        for line in page:
            if line is not None and len(line.text) > 1 and line.text[-1] in _HYPHENS and line.text[-2].isalnum():
                hyphenated.append(line)
                if line.spaced_end:
                    spaced += 1
                else:
                    bare += 1
    if bare == 0 and spaced >= _SPACED_HYPHENS_NEEDED:
        for line in hyphenated:
            line.spaced_end = False


def _lift_footnotes(pages: list[list[_Line | None]]) -> tuple[list[_Line | str], list[_Note]]:
    """The body as a stream of lines and break kinds, and the footnotes lifted out of it.

    A footnote block is the last run of lines on a page, after a blank line, starting with the
    next footnote number; a line that does not start with the number after that continues the
    footnote before it.
    """
    items: list[_Line | str] = []
    notes: list[_Note] = []
    for number, page in enumerate(pages, 1):
        if number > 1:
            items.append(_PAGE)
        start, found = _footnote_block(page, number, len(notes) + 1)
        body = page[: start - 1] if found else page
        items.extend(_BLANK if line is None else line for line in body)
        if found:
            notes.extend(found)
            items.append(_NOTES)
    return items, notes


def _footnote_block(page: list[_Line | None], number: int, expected: int) -> tuple[int, list[_Note]]:
    end = len(page)
    while end and page[end - 1] is None:
        end -= 1
    start = end
    while start and page[start - 1] is not None:
        start -= 1
    if start == 0 or start == end:
        return 0, []
    found: list[_Note] = []
    for line in page[start:end]:
        match = _NOTE_LINE.match(line.text)
        if match and int(match.group(1)) == expected:
            first = _Line(match.group(2), line.page, line.spaced_end, line.width)
            found.append(_Note(n=expected, page=number, lines=[first]))
            expected += 1
        elif found:
            found[-1].lines.append(line)
        else:
            return 0, []
    return start, found


def _place_markers(body: list[_Line], notes: list[_Note]) -> None:
    """Find each footnote's marker in the running text, remove it and remember its line.

    Markers come in order, and a footnote stands on the page that holds its marker; when the
    marker is not on that page (a footnote pushed to the next page) the search widens back to
    the previous marker.
    """
    line_at, offset = 0, 0
    for note in notes:
        hit = _search_marker(body, note.n, line_at, offset, (note.page, note.page))
        if hit is None:
            hit = _search_marker(body, note.n, line_at, offset, (0, note.page))
        if hit is None:
            continue
        index, start, end = hit
        line = body[index]
        line.text = squeeze(line.text[:start] + line.text[end:])
        note.line = index
        note.column = start
        line_at, offset = index, start


def _search_marker(
    body: list[_Line], n: int, line_at: int, offset: int, pages: tuple[int, int]
) -> tuple[int, int, int] | None:
    first_page, last_page = pages
    for index in range(line_at, len(body)):
        line = body[index]
        if line.page > last_page:
            break
        if line.page < first_page:
            continue
        span = _marker_span(line.text, n, offset if index == line_at else 0)
        if span is not None:
            return index, span[0], span[1]
    return None


def _marker_span(text: str, n: int, start: int) -> tuple[int, int] | None:
    """Where footnote marker ``n`` sits in ``text`` (from ``start``), if anywhere."""
    want = str(n)
    for match in _DIGITS.finditer(text, start):
        begin, end = match.span()
        if end < len(text) and not (text[end].isspace() or text[end] in _AFTER_MARKER):
            continue
        digits = match.group()
        before = text[begin - 1] if begin else ""
        if before.isalpha():
            letters = _LETTERS_AT_END.search(text, 0, begin)
            # G20, F16, A4: a single capital with a number is a name, not a word with a marker.
            if digits == want and not (letters and len(letters.group()) == 1 and before.isupper()):
                return begin, end
        elif before in _BEFORE_MARKER:
            # 2.1 and 3,5 are numbers; only punctuation after a word carries a marker.
            decimal = before in ".," and begin >= 2 and text[begin - 2].isdigit()
            if digits == want and not decimal:
                return begin, end
        elif len(digits) == 4 + len(want) and digits.endswith(want) and 1800 <= int(digits[:4]) <= 2100:
            # "4 maart 20163." is the year 2016 followed by marker 3.
            return begin + 4, end
    return None


def _lexicon(sequences: list[list[_Line]]) -> _Lexicon:
    """Collect the words the document writes, as evidence for rejoining broken words.

    First the words written whole on a line (of a broken word only its whole parts); then the
    broken words whose rejoining that evidence settles firmly, so that a word broken in one
    place and whole, or firmly rejoined, in another is rejoined the same way everywhere.
    """
    lexicon = _Lexicon()
    breaks: list[tuple[str, str, bool, bool]] = []
    for lines in sequences:
        broken = [_ends_broken(line) for line in lines]
        for i, line in enumerate(lines):
            cut = i > 0 and broken[i - 1]
            words = list(_WORD.finditer(line.text))
            for position, word in enumerate(words):
                _learn(lexicon, word.group(), cut and position == 0, broken[i] and position == len(words) - 1)
            if not broken[i] or i + 1 == len(lines) or line.text[-1] not in _HYPHENS or not words:
                continue
            following = list(_WORD.finditer(lines[i + 1].text))
            if following and following[0].start() == 0 and words[-1].end() == len(line.text) - 1:
                breaks.append(
                    (
                        words[-1].group(),
                        following[0].group(),
                        cut and len(words) == 1,
                        broken[i + 1] and len(following) == 1,
                    )
                )
    weak_heads: set[str] = set()
    for left, right, cut_start, cut_end in breaks:
        head = _RIGHT_WORD.match(right)
        if head is None or head.group().lower() in _ELLIPSIS_CONJUNCTIONS:
            continue
        keep, firm = _weigh_hyphen(left, head.group(), lexicon)
        if firm:
            _learn(lexicon, f"{left}-{right}" if keep else left + right, cut_start, cut_end)
        elif keep and not cut_start:
            weak_heads.add(_HYPHEN_SPLIT.split(left)[-1].lower())
    lexicon.heads |= weak_heads
    return lexicon


def _learn(lexicon: _Lexicon, word: str, cut_start: bool, cut_end: bool) -> None:
    """Add a word; ``cut_start``/``cut_end`` say that its first/last part is only a fragment."""
    whole_word = not cut_start and not cut_end
    if whole_word and word.isupper():
        lexicon.acronyms.update(_HYPHEN_SPLIT.split(word))
    word = word.lower()
    if whole_word:
        lexicon.plain.add(word)
    if "-" not in word and "\u2010" not in word:
        return
    parts = _HYPHEN_SPLIT.split(word)
    first = 1 if cut_start else 0
    last = len(parts) - 1 if cut_end else len(parts)
    whole = parts[first:last]
    if whole_word:
        lexicon.hyphenated.add("-".join(parts))
    lexicon.heads.update(parts[first : len(parts) - 1])
    lexicon.hyphenated.update(f"{a}-{b}" for a, b in zip(whole, whole[1:], strict=False))
    if cut_end and len(parts) - first >= 2:
        # "Toegepast-Natuurwetenschap-" at a line end still shows "toegepast-natuurwetenschap...".
        if len(parts[-1]) >= 2:
            lexicon.partial.setdefault(parts[-2], set()).add(parts[-1])


def _ends_broken(line: _Line) -> bool:
    """Whether the line ends in a hyphen glued to a word (a break, or a real hyphen at the end)."""
    text = line.text
    return (
        len(text) > 1
        and (text[-1] == _SOFT_HYPHEN or (text[-1] in _HYPHENS and not line.spaced_end))
        and text[-2].isalnum()
    )


def _runs(items: list[_Line | str]) -> list[_Run]:
    runs: list[_Run] = []
    kinds: set[str] = set()
    for item in items:
        if isinstance(item, str):
            kinds.add(item)
        elif kinds or not runs:
            runs.append(_Run([item], kinds))
            kinds = set()
        else:
            runs[-1].lines.append(item)
    if runs and not runs[0].before:
        runs[0].before = {_BLANK}
    return runs


def _typical_width(runs: list[_Run]) -> int:
    """The width lines were wrapped at: the longest inner line, ignoring a few outliers.

    A line holding a single word may stick out (a word too long to fit), so it does not count.
    """
    widths = sorted(line.width for run in runs for line in run.lines[:-1] if " " in line.text)
    if not widths:
        widths = sorted(line.width for run in runs for line in run.lines)
    if not widths:
        return 0
    p90 = widths[int(0.9 * (len(widths) - 1))]
    return max(w for w in widths if w <= p90 + 1)


def _blocks(runs: list[_Run], width: int) -> list[list[_Line]]:
    """Join runs into blocks: paragraphs, headings or signatures, as laid out in the source."""
    blocks: list[list[_Line]] = []
    for position, run in enumerate(runs):
        after = runs[position + 1].before if position + 1 < len(runs) else None
        previous = runs[position - 1] if position else None
        if blocks and previous is not None and _continues(blocks[-1], previous, run, after, width):
            blocks[-1].extend(run.lines)
        else:
            blocks.append(list(run.lines))
    return blocks


def _continues(block: list[_Line], previous: _Run, run: _Run, after: set[str] | None, width: int) -> bool:
    """Whether ``run`` continues the paragraph of ``block`` across a page break or footnotes.

    A blank line always ends a paragraph. Otherwise the paragraph ends only on evidence: the
    text before ends a sentence and what follows is a heading or a signature, or (across a
    footnote block) the last line was not full, because the next word would have fitted on it.
    """
    last, first = block[-1], run.lines[0]
    if _BLANK in run.before:
        # A blank line at a page end (padding before the next page or its footnotes) does not
        # end a paragraph whose last word is broken and goes on, in lower case, overleaf.
        return _PAGE in run.before and _ends_broken(last) and first.text[:1].islower()
    if _ends_broken(last) or first.text[:1].islower():
        return True
    next_word = len(first.text.split()[0])
    fits = last.width + 1 + next_word <= width
    if _BLANK in previous.before and len(block) == len(previous.lines) and fits and _heading_like(block):
        return False
    if not _SENTENCE_END.search(last.text):
        return True
    if (after is None or _BLANK in after) and (_heading_like(run.lines) or _signatures(run.lines, None)):
        return False
    if _NOTES in run.before:
        return not fits
    return True


def _heading_like(lines: list[_Line]) -> bool:
    """A short block of one to three lines (more when narrow) that does not end like a sentence
    (nor in a broken word)."""
    if _ends_broken(lines[-1]):
        return False
    text = " ".join(line.text for line in lines)
    if len(text) > 160 or len(text.split()) > 20 or (len(lines) > 3 and len(text) > 100):
        return False
    core = text.rstrip(_CLOSERS)
    if not core or core[-1] in ".!?:;,…" or _BULLET.match(text) or _NOT_HEADING.match(text):
        return False
    return text[0].isupper() or text[0].isdigit()


def _classify(blocks: list[list[_Line]]) -> list[str]:
    """Label each block: paragraph, heading, signature or the name under a signature.

    A heading-like block is a heading only when a paragraph follows it, so that no text is
    lost under a heading with nothing beneath it.
    """
    kinds: list[str] = []
    for block in blocks:
        signatures = _signatures(block, None)
        if signatures is not None:
            kinds.append("signature")
        elif (
            kinds
            and kinds[-1] == "signature"
            and _dangling_function(blocks[len(kinds) - 1])
            and (len(block) <= 2 and all(_name_like(line.text) for line in block))
        ):
            kinds.append("signature-name")
        else:
            kinds.append("heading" if _heading_like(block) else "paragraph")
    for position, kind in enumerate(kinds):
        if kind == "heading":
            following = kinds[position + 1] if position + 1 < len(kinds) else None
            if following != "paragraph":
                kinds[position] = "paragraph"
    return kinds


def _dangling_function(block: list[_Line]) -> bool:
    """Whether a signature block ends in a function line whose name follows in the next block."""
    return block[-1].text.endswith(",")


def _signatures(lines: list[_Line], lexicon: _Lexicon | None) -> list[str] | None:
    """The signatures in ``lines`` ("De Minister van ..., Name"), or None if the lines are not one.

    A signature is a function ending in a comma (a few lines at most) followed by at most two
    lines with a name; several may follow each other.
    """
    found: list[str] = []
    start = 0
    while start < len(lines):
        if not _SIGNATURE_FUNCTION.match(lines[start].text):
            return None
        end = start
        while not lines[end].text.endswith(","):
            end += 1
            if end >= len(lines) or end - start >= 6:
                return None
        names_end = end + 1
        while names_end < len(lines) and not _SIGNATURE_FUNCTION.match(lines[names_end].text):
            names_end += 1
        names = lines[end + 1 : names_end]
        if len(names) > 2 or not all(_name_like(line.text) for line in names):
            return None
        function = lines[start : end + 1]
        if len(" ".join(line.text for line in function).split()) > 16:
            return None
        parts = lines[start:names_end]
        found.append(_reflow(parts, lexicon) if lexicon is not None else " ".join(p.text for p in parts))
        start = names_end
    return found or None


def _name_like(text: str) -> bool:
    """A line holding a person's name: initials, capitalised words and name particles."""
    tokens = text.split()
    if not 1 <= len(tokens) <= 6 or text[-1] in ",:;":
        return False
    capitals = 0
    for token in tokens:
        if token.lower() in _NAME_PARTICLES:
            continue
        if not token[0].isupper():
            return False
        capitals += 1
    return capitals > 0


def _reflow(lines: list[_Line], lexicon: _Lexicon | None, starts: list[int] | None = None) -> str:
    """Join wrapped lines into one line of text, rejoining words broken at a line end.

    Lines are already whitespace-normalised and a junction adds at most one space, so the
    result is too; ``starts`` receives where each line begins in it (to place footnote markers).
    """
    lexicon = lexicon or _Lexicon()
    pieces = [lines[0].text]
    length = len(pieces[0])
    if starts is not None:
        starts.append(0)
    for previous, line in zip(lines, lines[1:], strict=False):
        junction = _junction(previous, line, lexicon)
        if junction == "join":
            pieces[-1] = pieces[-1][:-1]
            length -= 1
        elif junction == "space":
            pieces.append(" ")
            length += 1
        if starts is not None:
            starts.append(length)
        pieces.append(line.text)
        length += len(line.text)
    return "".join(pieces)


def _junction(previous: _Line, line: _Line, lexicon: _Lexicon) -> str:
    """How two lines meet: "space", "keep" (a real hyphen, no space) or "join" (drop the hyphen)."""
    text = previous.text
    if text[-1] == _SOFT_HYPHEN:
        return "join" if len(text) > 1 and not text[-2].isspace() else "space"
    if text[-1] not in _HYPHENS or previous.spaced_end:
        return "space"
    left = _LEFT_WORD.search(text, 0, len(text) - 1)
    if left is None:
        return "space"
    right = _RIGHT_WORD.match(line.text)
    if right is None:
        return "keep"
    rest = line.text[right.end() :]
    if right.group().lower() in _ELLIPSIS_CONJUNCTIONS and (not rest or rest[0] in " /,"):
        if _elliptic(left.group(), right.group(), rest, lexicon):
            return "space"
    return "keep" if _keeps_hyphen(left.group(), right.group(), lexicon) else "join"


def _elliptic(left: str, conjunction: str, rest: str, lexicon: _Lexicon) -> bool:
    """Whether ``left-`` + ``en ...`` is an elliptic compound (Lucht- en Ruimtevaart).

    Lines that keep their trailing space tell this by ``- `` at the end; without it, a word
    broken before a last syllable "en" looks the same, so the joined word must be unknown,
    unless capitals on both sides show a pair of names.
    """
    joined = (left + conjunction).lower()
    if joined in lexicon.plain:
        return False
    after = rest.split()
    if left[0].isupper() and after and after[0][0].isupper():
        return True
    joined = _HYPHEN_SPLIT.split(joined)[-1]
    return _zipf(joined) <= 0 and not any(_zipf(joined[i:]) >= 3 for i in range(1, len(joined) - 4))


def _keeps_hyphen(left: str, right: str, lexicon: _Lexicon) -> bool:
    """Whether ``left-`` + ``right`` at a line end is a real hyphen rather than a broken word."""
    return _weigh_hyphen(left, right, lexicon)[0]


def _weigh_hyphen(left: str, right: str, lexicon: _Lexicon) -> tuple[bool, bool]:
    """(keep the hyphen, on firm evidence) for ``left-`` + ``right`` at a line end.

    Evidence, strongest first: the document writes the hyphenated form elsewhere (keep) or the
    joined form (join); a capital or digit next to the hyphen or an acronym before it (keep);
    the joined form is a known Dutch word (join). Weaker: the document hyphenates a word that
    ends ``left`` elsewhere (antidrone-maatregelen after drone-operaties), a prefix that takes a
    hyphen, or two vowels that would clash (keep); otherwise it was a break (join).
    """
    lower_left, lower_right = left.lower(), right.lower()
    head = _HYPHEN_SPLIT.split(left)[-1]
    lower_head = head.lower()
    if f"{lower_left}-{lower_right}" in lexicon.hyphenated or f"{lower_head}-{lower_right}" in lexicon.hyphenated:
        return True, True
    for seen in lexicon.partial.get(lower_head, ()):
        # Either side may be a fragment: "toegepast-natuurwetens-" against "Toegepast-Natuurweten-".
        if lower_right.startswith(seen) or (len(lower_right) >= 3 and seen.startswith(lower_right)):
            return True, True
    if lower_left + lower_right in lexicon.plain:
        return False, True
    if head.isupper() and right.isupper():
        # Inside an acronym (NA-VO, SI-PRI) unless both halves stand alone in the text (EU-VS).
        return len(head) > 1 and len(right) > 1 and {head, right} <= lexicon.acronyms, True
    if len(head) == 1 and head.isupper():
        # A-status against R-ijksbreed: a single capital keeps its hyphen before a real word.
        return _zipf(lower_right) > 0 and _zipf(lower_head + lower_right) <= 0, False
    if right[0].isupper() or right[0].isdigit() or head[-1].isdigit() or _is_acronym(head):
        return True, True
    if _zipf(lower_head + lower_right) > 0:
        return False, True
    if lower_right in lexicon.plain and any(lower_head[i:] in lexicon.heads for i in range(0, len(lower_head) - 3)):
        return True, False
    return lower_head in _HYPHEN_PREFIXES or _vowels_clash(lower_head, lower_right), False


def _is_acronym(word: str) -> bool:
    return sum(c.isupper() for c in word) >= 2


def _vowels_clash(head: str, right: str) -> bool:
    """Two known words meeting vowel to vowel: Dutch writes the hyphen (data-analyse)."""
    if head[-1] not in _VOWELS or right[0] not in _VOWELS or _zipf(right) <= 0:
        return False
    return any(_zipf(head[i:]) >= 3 for i in range(0, max(1, len(head) - 3)))


@lru_cache(maxsize=100_000)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "nl", wordlist="large")
