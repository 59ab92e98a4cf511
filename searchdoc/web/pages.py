"""What the HTML pages show, as plain data for the templates: marked and linked text, hits,
paragraphs, the citation graph's layout and the timeline.

Text is never turned into HTML here: it is cut into pieces that the (auto-escaping) templates
wrap in ``<mark>`` and ``<a>``, so a document cannot smuggle markup into a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from urllib.parse import quote, urlencode

from searchdoc.model import Citation, Document, Paragraph


@dataclass
class Piece:
    text: str
    mark: bool = False


@dataclass
class Group:
    """Consecutive pieces under one link (``href`` None: plain text)."""

    pieces: list[Piece] = field(default_factory=list)
    href: str | None = None
    title: str | None = None
    external: bool = False


@dataclass
class Link:
    start: int
    end: int
    href: str
    title: str
    external: bool


def doc_href(doc_id: str, paragraph: int | None = None) -> str:
    return f"/doc/{quote(doc_id, safe='')}" + (f"#p{paragraph}" if paragraph else "")


def citation_link(citation_id: str, in_corpus) -> tuple[str | None, str, bool]:
    """(href, title, external) of a cited id: its page here, or the official page with how to fetch it."""
    from searchdoc import citations

    if in_corpus(citation_id):
        return doc_href(citation_id), f"{citation_id} in this corpus", False
    try:
        url = citations.official_url(citation_id)
    except Exception:
        url = None
    return url, f"{citation_id} is not in the corpus: 'searchdoc crawl {citation_id}' fetches it", True


def pieces(text: str, marks: list[tuple[int, int]] = (), links: list[Link] = ()) -> list[Group]:
    """``text`` cut at every mark and link boundary, grouped by link."""
    links = [link for link in links if 0 <= link.start < link.end <= len(text)]
    bounds = sorted({0, len(text), *(b for s, e in marks for b in (s, e) if 0 <= b <= len(text)),
                     *(b for link in links for b in (link.start, link.end))})
    groups: list[Group] = []
    for start, end in pairwise(bounds):
        if start == end:
            continue
        marked = any(s <= start and end <= e for s, e in marks)
        link = next((link for link in links if link.start <= start and end <= link.end), None)
        if not groups or groups[-1].href != (link.href if link else None) or (
                link and groups[-1].title != link.title):
            groups.append(Group(href=link.href if link else None, title=link.title if link else None,
                                external=link.external if link else False))
        groups[-1].pieces.append(Piece(text[start:end], marked))
    return groups


def _links(citations: list[Citation], footnote: int | None, in_corpus) -> list[Link]:
    found = []
    for c in citations:
        if c.footnote == footnote and c.end > c.start:
            href, title, external = citation_link(c.id, in_corpus)
            if href:
                found.append(Link(c.start, c.end, href, title, external))
    return found


def paragraph_view(document: Document, paragraph: Paragraph, in_corpus, marks=(), themes=None) -> dict:
    """A paragraph with its matches marked, its citations linked, and its footnotes."""
    notes = []
    for n in paragraph.footnotes:
        note = document.footnote(n)
        if note is not None:
            notes.append({"n": n, "groups": pieces(note.text, (), _links(paragraph.citations, n, in_corpus))})
    cited = []
    for c in paragraph.citations:
        href, title, external = citation_link(c.id, in_corpus)
        if c.id not in {item["id"] for item in cited}:
            cited.append({"id": c.id, "href": href, "title": title, "external": external})
    return {
        "n": paragraph.n,
        "speaker": paragraph.speaker,
        "section": paragraph.section,
        "pages": page_text(paragraph.page, paragraph.page_end),
        "groups": pieces(paragraph.text, list(marks), _links(paragraph.citations, None, in_corpus)),
        "footnotes": notes,
        "cited": cited,
        "themes": list(themes if themes is not None else paragraph.themes),
    }


def page_text(page: int | None, page_end: int | None) -> str | None:
    if page is None:
        return None
    return f"p. {page}" if not page_end or page_end == page else f"p. {page}–{page_end}"


def hit_view(rank: int, hit, document: Document, in_corpus) -> dict:
    paragraph = document.paragraph(hit.paragraph)
    view = paragraph_view(document, paragraph, in_corpus, hit.spans, hit.themes)
    view.update({
        "rank": rank,
        "doc_id": hit.doc_id,
        "label": hit.label,
        "citation": hit.citation,
        "href": doc_href(hit.doc_id, hit.paragraph),
        "before": hit.before,
        "after": hit.after,
    })
    return view


def query_url(path: str, params: dict, **changes) -> str:
    """``path`` with ``params`` updated by ``changes`` (None removes a key; lists repeat it)."""
    merged = {**params, **changes}
    pairs = []
    for key, value in merged.items():
        if value is None or value == "" or value == []:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, item))
    return path + ("?" + urlencode(pairs) if pairs else "")


# --------------------------------------------------------------------------- citation graph

NODE_WIDTH, NODE_HEIGHT, COLUMN_GAP, ROW_GAP, MARGIN = 260, 40, 70, 14, 10


def graph_layout(graph: dict) -> dict:
    """Columns by level (citing documents left, the document in the middle, cited documents
    right), a row per document, edges from the right side of the citing node to the left of
    the cited one."""
    depth = graph["depth"]
    columns: dict[int, list[dict]] = {}
    for node in graph["nodes"]:
        columns.setdefault(node["level"], []).append(node)
    height = max(len(nodes) for nodes in columns.values()) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP + 2 * MARGIN
    placed = {}
    for level, nodes in columns.items():
        nodes.sort(key=lambda n: (n["date"] or "9999", n["label"]))
        x = MARGIN + (level + depth) * (NODE_WIDTH + COLUMN_GAP)
        top = (height - (len(nodes) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP)) / 2
        for row, node in enumerate(nodes):
            y = top + row * (NODE_HEIGHT + ROW_GAP)
            placed[node["id"]] = {**node, "x": x, "y": round(y, 1), "href": _node_href(node),
                                  "short": _shorten(node["label"], 38),
                                  "sub": " · ".join(p for p in (node["kind"], node["date"]) if p)}
    edges = []
    for edge in graph["edges"]:
        source, target = placed[edge["source"]], placed[edge["target"]]
        y1, y2 = source["y"] + NODE_HEIGHT / 2, target["y"] + NODE_HEIGHT / 2
        if source["x"] == target["x"]:
            # Within one column: a curve out to the right and back, clear of the other nodes.
            x = source["x"] + NODE_WIDTH
            path = f"M {x} {y1} C {x + 45} {y1}, {x + 45} {y2}, {x} {y2}"
        else:
            forward = source["x"] < target["x"]
            x1 = source["x"] + (NODE_WIDTH if forward else 0)
            x2 = target["x"] + (0 if forward else NODE_WIDTH)
            path = f"M {x1} {y1} L {x2} {y2}"
        edges.append({"path": path, "source": source["label"], "target": target["label"]})
    width = (2 * depth + 1) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP + 2 * MARGIN
    return {"width": width, "height": height, "nodes": list(placed.values()), "edges": edges,
            "node_width": NODE_WIDTH, "node_height": NODE_HEIGHT}


def _node_href(node: dict) -> str | None:
    if node["in_corpus"]:
        return doc_href(node["id"])
    from searchdoc import citations

    try:
        return citations.official_url(node["id"])
    except Exception:
        return None


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


TIMELINE_WIDTH, TIMELINE_HEIGHT = 900, 90


def timeline(graph: dict) -> dict:
    """The cited documents with a known date, placed on a time axis (years as ticks)."""
    from datetime import date

    dated = sorted((n for n in graph["nodes"] if n["level"] > 0 and n["date"]), key=lambda n: n["date"])
    undated = sorted((n for n in graph["nodes"] if n["level"] > 0 and not n["date"]), key=lambda n: n["label"])
    points = []
    if dated:
        days = [date.fromisoformat(n["date"][:10]).toordinal() for n in dated]
        first_year = date.fromordinal(min(days)).year
        last_year = date.fromordinal(max(days)).year + 1
        low, high = date(first_year, 1, 1).toordinal(), date(last_year, 1, 1).toordinal()
        span = max(high - low, 1)
        inner = TIMELINE_WIDTH - 40

        def x_of(day: int) -> float:
            return round(20 + inner * (day - low) / span, 1)

        ticks = [{"x": x_of(date(year, 1, 1).toordinal()), "year": year} for year in range(first_year, last_year + 1)]
        for row, (node, day) in enumerate(zip(dated, days, strict=True)):
            points.append({**node, "x": x_of(day), "y": 20 + (row % 3) * 12, "href": _node_href(node)})
    else:
        ticks = []
    return {"width": TIMELINE_WIDTH, "height": TIMELINE_HEIGHT, "points": points, "ticks": ticks,
            "undated": [{**n, "href": _node_href(n)} for n in undated]}
