"""Terminal rendering of hits and documents (plain strings; the CLI decides about colour).

Styling is ANSI: bold for matched words, dim for context, OSC 8 hyperlinks for citations on
terminals that support them. With ``color=False`` the output is plain text that pastes cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass

from searchdoc.model import Citation, Document, Hit, Paragraph, SearchResult

BOLD, DIM, RESET, UNDERLINE = "\x1b[1m", "\x1b[2m", "\x1b[0m", "\x1b[4m"


@dataclass
class Style:
    color: bool = False
    links: bool = False

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


def decorate(text: str, spans: list[tuple[int, int]], cites: list[Citation], style: Style) -> str:
    """The paragraph with matched words emphasised and in-text citations marked with their id."""
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
    positions = sorted({p for p, _, _ in events} | set(ends))
    by_pos: dict[int, list[tuple[int, str]]] = {}
    for pos, order, code in events:
        by_pos.setdefault(pos, []).append((order, code))
    for pos in positions:
        out.append(text[last:pos])
        for _, code in sorted(by_pos.get(pos, []), key=lambda e: e[0]):
            out.append(code)
        for c in ends.get(pos, []):
            out.append(" " + style.link(f"[→ {c.id}]", _citation_url(c.id)))
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
    where = _where(hit.label, hit.paragraph, hit.page, hit.page_end, hit.section)
    lines = [style.bold(f"[{rank}] ") + style.link(where, hit.url)]
    meta = [hit.citation]
    if hit.themes:
        meta.append("themes: " + ", ".join(hit.themes))
    lines.append("    " + style.dim(" · ".join(meta)))
    for ctx in hit.before:
        lines.append("    " + style.dim(f"¶{ctx['n']} {_spoken(ctx)}{ctx['text']}"))
    body = decorate(hit.text, hit.spans, _inline_citations(hit, cites), style)
    speaker = style.bold(f"{hit.speaker}:") + " " if hit.speaker else ""
    lines.append(f"    ¶{hit.paragraph} {speaker}{body}")
    for ctx in hit.after:
        lines.append("    " + style.dim(f"¶{ctx['n']} {_spoken(ctx)}{ctx['text']}"))
    return "\n".join(lines)


def _spoken(context: dict) -> str:
    """"Speaker: " before a context paragraph of a debate."""
    return f"{context['speaker']}: " if context.get("speaker") else ""


def _inline_citations(hit: Hit, cites: list[Citation]) -> list[Citation]:
    """Hit citations carry no offsets; find each raw citation text in the paragraph."""
    located = []
    for c in cites:
        if c.footnote is not None or not c.raw:
            continue
        start = hit.text.find(c.raw)
        if start >= 0:
            located.append(Citation(c.id, c.kind, c.raw, hit.paragraph, None, start, start + len(c.raw)))
    return located


def render_result(result: SearchResult, style: Style) -> str:
    if not result.hits:
        message = f"No paragraphs match {result.query!r}."
        if result.suggestion:
            message += f" Did you mean: {result.suggestion}?"
        return message
    shown = len(result.hits)
    header = f"{result.total} paragraph{'s' if result.total != 1 else ''} match {result.query!r}"
    if shown < result.total:
        header += f" (showing {shown})"
    blocks = [header + "."]
    if result.suggestion:
        blocks.append(f"Did you mean: {result.suggestion}?")
    facets = result.facets.get("themes") if result.facets else None
    if facets:
        blocks.append(style.dim("themes: " + ", ".join(f"{k} {v}" for k, v in facets.items())))
    for rank, hit in enumerate(result.hits, 1):
        blocks.append("")
        blocks.append(render_hit(rank, hit, style))
    return "\n".join(blocks)


def render_document(document: Document, label: str, paragraphs: list[Paragraph], themes: dict[int, list[str]],
                    style: Style, url: str | None) -> str:
    lines = [style.bold(label) + (f" ({document.date})" if document.date else "")]
    if document.title:
        lines.append(document.title)
    if url:
        lines.append(style.link(url, url))
    section = object()
    for paragraph in paragraphs:
        if paragraph.section != section:
            section = paragraph.section
            if section:
                lines.append("")
                lines.append(style.bold(section))
        lines.append("")
        page = ""
        if paragraph.page is not None:
            spans_pages = paragraph.page_end and paragraph.page_end != paragraph.page
            page = f" p. {paragraph.page}" + (f"-{paragraph.page_end}" if spans_pages else "")
        tags = f" [{', '.join(themes.get(paragraph.n, []))}]" if themes.get(paragraph.n) else ""
        lines.append(style.dim(f"¶{paragraph.n}{page}{tags}"))
        speaker = style.bold(f"{paragraph.speaker}:") + " " if paragraph.speaker else ""
        lines.append(speaker + decorate(paragraph.text, [], paragraph.citations, style))
        notes = [f for f in document.footnotes if f.n in paragraph.footnotes]
        for note in notes:
            cited = [c.id for c in paragraph.citations if c.footnote == note.n]
            suffix = " " + " ".join(style.link(f"[→ {cid}]", _citation_url(cid)) for cid in cited) if cited else ""
            lines.append(style.dim(f"  {note.n} {note.text}") + suffix)
    if document.signature and len(paragraphs) == len(document.paragraphs):
        lines.append("")
        lines.append(document.signature)
    return "\n".join(lines)
