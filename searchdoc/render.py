"""Terminal rendering of hits and documents (plain strings; the CLI decides about colour).

Styling is ANSI: bold for matched words, dim for context, OSC 8 hyperlinks for citations on
terminals that support them. With ``color=False`` the output is plain text that pastes cleanly,
and every line of a hit starts with ``  : `` and every line of its context with ``  - `` (as
grep marks matches and context). With a ``width`` (a terminal) paragraphs are wrapped to it.

Document text never reaches the terminal raw: :func:`clean` shows control characters (ESC and
the other C0 and C1 controls) as visible stand-ins, so only searchdoc's own styling and links
are escape sequences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from searchdoc.model import Citation, Document, Footnote, Hit, Paragraph, SearchResult

BOLD, DIM, RESET, UNDERLINE = "\x1b[1m", "\x1b[2m", "\x1b[0m", "\x1b[4m"
#: Line marks without colour: a line of the hit (with its footnotes), a line of its context.
HIT_MARK, CONTEXT_MARK = ":", "-"

# One character for one, so offsets into the text stay valid: C0 controls as the Unicode
# control pictures (ESC as ␛), DEL as ␡, C1 controls as U+FFFD; tab and line breaks as spaces.
_CONTROLS = {c: 0x2400 + c for c in range(0x20)}
_CONTROLS.update({0x09: 0x20, 0x0A: 0x20, 0x0D: 0x20, 0x7F: 0x2421})
_CONTROLS.update({c: 0xFFFD for c in range(0x80, 0xA0)})


# For streams whose layout is their own (an export): line breaks and tabs stay.
_STREAM_CONTROLS = {c: r for c, r in _CONTROLS.items() if c not in (0x09, 0x0A, 0x0D)}


class TerminalSafe:
    """A text stream wrapper that shows control characters as :func:`clean` does, keeping line
    breaks and tabs: for an export written straight to a terminal."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(text.translate(_STREAM_CONTROLS))

    def flush(self) -> None:
        self.stream.flush()


def clean(text: str | None) -> str:
    """``text`` safe for a terminal: no control character survives (same length)."""
    return (text or "").translate(_CONTROLS)


def clean_lines(text: str | None) -> str:
    """Like :func:`clean`, for text of several lines: the line breaks stay."""
    return "\n".join(clean(line) for line in (text or "").split("\n"))


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 paragraph', '2 paragraphs'."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


@dataclass
class Style:
    color: bool = False
    links: bool = False
    #: Wrap paragraphs to this many columns (a terminal's width); None keeps one line each.
    width: int | None = None

    def bold(self, text: str) -> str:
        return f"{BOLD}{text}{RESET}" if self.color else text

    def dim(self, text: str) -> str:
        return f"{DIM}{text}{RESET}" if self.color else text

    def link(self, text: str, url: str | None) -> str:
        if self.links and url:
            return f"\x1b]8;;{url}\x1b\\{text}\x1b]8;;\x1b\\"
        return text


def _citation_url(citation_id: str) -> str | None:
    from searchdoc import citations

    try:
        return citations.official_url(citation_id)
    except Exception:
        return None


def decorate(text: str, spans: list[tuple[int, int]], cites: list[Citation], style: Style,
             notes: list[Footnote] = ()) -> str:
    """The paragraph with matched words emphasised, in-text citations marked with their id and
    footnote markers ("[1]") back where they stood (at the end when their place is unknown)."""
    inline = sorted((c for c in cites if c.footnote is None and 0 <= c.start < c.end <= len(text)),
                    key=lambda c: c.start)
    events: list[tuple[int, int, str]] = []
    for start, end in spans:
        events.append((start, 1, BOLD if style.color else ""))
        events.append((end, 0, RESET if style.color else ""))
    out: list[str] = []
    last = 0
    ends: dict[int, list[Citation]] = {}
    for c in inline:
        ends.setdefault(c.end, []).append(c)
    markers: dict[int, list[int]] = {}
    for note in notes:
        at = note.offset if note.offset is not None and 0 <= note.offset <= len(text) else len(text)
        markers.setdefault(at, []).append(note.n)
    positions = sorted({p for p, _, _ in events} | set(ends) | set(markers))
    by_pos: dict[int, list[tuple[int, str]]] = {}
    for pos, order, code in events:
        by_pos.setdefault(pos, []).append((order, code))
    for pos in positions:
        out.append(text[last:pos])
        for _, code in sorted(by_pos.get(pos, []), key=lambda e: e[0]):
            out.append(code)
        for c in ends.get(pos, []):
            out.append(" " + style.link(f"[→ {c.id}]", _citation_url(c.id)))
        out.extend(f"[{n}]" for n in markers.get(pos, []))
        last = pos
    out.append(text[last:])
    return "".join(out)


def _where(label: str, paragraph: int, page: int | None, page_end: int | None, section: str | None) -> str:
    parts = [label, f"par. {paragraph}"]
    if page is not None:
        parts.append(f"p. {page}" if not page_end or page_end == page else f"p. {page}-{page_end}")
    where = ", ".join(parts)
    return f"{where} — {section}" if section else where


def render_hit(rank: int, hit: Hit, style: Style) -> str:
    cites = [Citation(**{k: c.get(k) for k in ("id", "raw", "footnote")}, kind="") for c in hit.citations]
    where = clean(_where(hit.label, hit.paragraph, hit.page, hit.page_end, hit.section))
    lines = [style.bold(f"[{rank}] ") + style.link(where, hit.url)]
    meta = [hit.citation]
    if hit.themes:
        meta.append("themes: " + ", ".join(hit.themes))
    lines.append("    " + style.dim(clean(" · ".join(meta))))
    for ctx in hit.before:
        lines += _context(ctx, style)
    text = clean(hit.text)
    notes = [Footnote(**{k: f.get(k) for k in ("n", "text", "offset")}) for f in hit.footnotes]
    body = decorate(text, hit.spans, _inline_citations(hit, cites, text), style, notes)
    lead = f"¶{hit.paragraph} "
    speaker = style.bold(clean(f"{hit.speaker}:")) + " " if hit.speaker else ""
    lines += _block(HIT_MARK, lead + speaker + body, style, indent=len(lead))
    for note in notes:
        lines += _block(HIT_MARK, _note_line(note, hit.citations, style), style, first=len(lead),
                        indent=len(lead) + len(f"[{note.n}] "))
    for ctx in hit.after:
        lines += _context(ctx, style)
    return "\n".join(lines)


def _context(ctx: dict, style: Style) -> list[str]:
    lead = f"¶{ctx['n']} "
    return _block(CONTEXT_MARK, style.dim(lead + clean(_spoken(ctx) + ctx["text"])), style, indent=len(lead))


def _spoken(context: dict) -> str:
    """"Speaker: " before a context paragraph of a debate."""
    return f"{context['speaker']}: " if context.get("speaker") else ""


def _note_line(note: Footnote, citations: list[dict], style: Style) -> str:
    """'[1] text [→ id]': a footnote of a hit with the documents it cites."""
    cited = [c["id"] for c in citations if c.get("footnote") == note.n]
    suffix = "".join(" " + style.link(f"[→ {cid}]", _citation_url(cid)) for cid in cited)
    return style.dim(f"[{note.n}] {clean(note.text)}") + suffix


def _block(mark: str, text: str, style: Style, first: int = 0, indent: int = 0) -> list[str]:
    """One paragraph's lines: each starts with the gutter (four spaces, or ``  {mark} `` without
    colour), wrapped to the style's width; ``first``/``indent`` pad the first and later lines."""
    gutter = "    " if style.color else f"  {mark} "
    return wrap(text, style.width, gutter + " " * first, gutter + " " * indent)


_SGR = re.compile(r"\x1b\[[0-9;]*m")
_ESCAPE = re.compile(r"\x1b\[[0-9;]*m|\x1b\]8;;[^\x1b]*\x1b\\")
# A word: non-space characters, where a whole OSC 8 link (whose text may hold spaces) counts as one.
_WORD = re.compile(r"(?:\x1b\]8;;[^\x1b]*\x1b\\.*?\x1b\]8;;\x1b\\|\S)+")


def visible_width(text: str) -> int:
    return len(_ESCAPE.sub("", text))


def wrap(text: str, width: int | None, first: str = "", rest: str = "") -> list[str]:
    """``text`` as lines of at most ``width`` visible columns (a longer word stands alone), the
    first starting with ``first`` and the others with ``rest``. A style open at a line's end is
    closed there and reopened on the next line, so gutters are never styled. No width: one line."""
    if not width:
        return [first + text]
    rows: list[list[str]] = [[]]
    used = visible_width(first)
    for word in _WORD.findall(text):
        size = visible_width(word)
        if rows[-1] and used + 1 + size > width:
            rows.append([])
            used = visible_width(rest)
        used += size + (1 if rows[-1] else 0)
        rows[-1].append(word)
    lines, active = [], ""
    for i, row in enumerate(rows):
        body = " ".join(row)
        opened = active
        for code in _SGR.findall(body):
            active = "" if code == RESET else active + code
        lines.append((first if i == 0 else rest) + opened + body + (RESET if active else ""))
    return lines


def _inline_citations(hit: Hit, cites: list[Citation], text: str) -> list[Citation]:
    """Hit citations carry no offsets; find each raw citation text in the paragraph."""
    located = []
    for c in cites:
        if c.footnote is not None or not c.raw:
            continue
        start = text.find(clean(c.raw))
        if start >= 0:
            located.append(Citation(c.id, c.kind, c.raw, hit.paragraph, None, start, start + len(c.raw)))
    return located


def render_result(result: SearchResult, style: Style) -> str:
    blocks = []
    if result.explain is not None:
        from searchdoc.explain import render_explain

        blocks += render_explain(result.explain) + [""]
    if result.corrected:
        blocks.append(f"Showing results for {clean(result.corrected)!r}; search instead for {clean(result.query)!r} "
                      "with --no-correct (as typed it finds nothing).")
    searched = result.corrected or result.query
    partial = result.partial
    full = partial["start"] if partial else len(result.hits)
    if not result.hits:
        message = f"No paragraphs match {clean(result.query)!r}."
        if result.suggestion:
            message += f" Did you mean: {clean(result.suggestion)}?"
        return "\n".join(blocks + [message])
    if result.total:
        verb = "matches" if result.total == 1 else "match"
        header = f"{plural(result.total, 'paragraph')} {verb} {clean(searched)!r}"
        if full < result.total:
            header += f" (showing {full})"
        blocks.append(header + ".")
    else:
        blocks.append(f"No paragraph has all the words of {clean(searched)!r}.")
    if result.suggestion:
        blocks.append(f"Did you mean: {clean(result.suggestion)}?")
    facets = result.facets.get("themes") if result.facets else None
    if facets:
        blocks.append(style.dim("themes: " + ", ".join(f"{k} {v}" for k, v in facets.items())))
    for rank, hit in enumerate(result.hits, 1):
        if partial and rank - 1 == full:
            blocks.append("")
            blocks.append(clean(_partial_header(partial)))
        blocks.append("")
        text = render_hit(rank, hit, style)
        if partial and rank - 1 >= full:
            words = partial["matched"][rank - 1 - full]
            has = f"has {len(words)} of the {len(partial['words'])} words: {', '.join(words)}"
            text += "\n" + "\n".join(_block(HIT_MARK, style.dim(clean(has)), style))
        blocks.append(text)
    return "\n".join(blocks)


def _partial_header(partial: dict) -> str:
    """"also: paragraphs with 2 of the 3 words (…)", or "1–2 of the 4 words" when they vary."""
    n = len(partial["words"])
    counts = sorted({len(m) for m in partial["matched"]})
    few = str(counts[0]) if counts[0] == counts[-1] else f"{counts[0]}–{counts[-1]}"
    shown = len(partial["matched"])
    more = f", showing {shown} of {partial['total']}" if shown < partial["total"] else ""
    return f"also: paragraphs with {few} of the {n} words ({' · '.join(partial['words'])}{more}):"


def render_document(document: Document, label: str, paragraphs: list[Paragraph], themes: dict[int, list[str]],
                    style: Style, url: str | None) -> str:
    lines = [style.bold(clean(label)) + (f" ({clean(document.date)})" if document.date else "")]
    if document.title:
        lines += wrap(clean(document.title), style.width)
    if url:
        lines.append(style.link(clean(url), url))
    section = object()
    for paragraph in paragraphs:
        if paragraph.section != section:
            section = paragraph.section
            if section:
                lines.append("")
                lines.append(style.bold(clean(section)))
        lines.append("")
        page = ""
        if paragraph.page is not None:
            spans_pages = paragraph.page_end and paragraph.page_end != paragraph.page
            page = f" p. {paragraph.page}" + (f"-{paragraph.page_end}" if spans_pages else "")
        tags = f" [{', '.join(themes.get(paragraph.n, []))}]" if themes.get(paragraph.n) else ""
        lines.append(style.dim(f"¶{paragraph.n}{page}{tags}"))
        speaker = style.bold(clean(f"{paragraph.speaker}:")) + " " if paragraph.speaker else ""
        notes = [f for f in document.footnotes if f.n in paragraph.footnotes]
        lines += wrap(speaker + decorate(clean(paragraph.text), [], paragraph.citations, style, notes), style.width)
        for note in notes:
            cited = [c.id for c in paragraph.citations if c.footnote == note.n]
            suffix = " " + " ".join(style.link(f"[→ {cid}]", _citation_url(cid)) for cid in cited) if cited else ""
            hang = "  " + " " * (len(str(note.n)) + 1)
            lines += wrap(style.dim(f"{note.n} {clean(note.text)}") + suffix, style.width, "  ", hang)
    if document.signature and len(paragraphs) == len(document.paragraphs):
        lines.append("")
        lines += [clean(line) for line in document.signature.splitlines()]
    return "\n".join(lines)
