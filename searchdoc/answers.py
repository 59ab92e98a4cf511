"""The answers of searchdoc's two front doors, built once: the command line's ``--format json``
and the web API give the very same JSON because both call these functions.

Each takes an open corpus and index (the callers own their life cycle) and raises the errors of
:mod:`searchdoc.errors`, which each front door turns into an exit code or an HTTP status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from searchdoc.errors import UsageError


def search(index, corpus, query: str, limit: int | None = 10, context: int = 0, doc_ids: Iterable[str] = (),
           themes: Iterable[str] = (), explain: bool = False, correct: bool = True):
    """The ranked hits of ``query`` (a :class:`SearchResult`, for renderers that need the spans)."""
    from searchdoc import search as searching

    return searching.search(index, corpus, query, limit=limit, context=context, doc_ids=doc_ids, themes=themes,
                            explain=explain, correct=correct)


def search_answer(index, corpus, query: str, limit: int | None = 10, context: int = 0, doc_ids: Iterable[str] = (),
                  themes: Iterable[str] = (), explain: bool = False, correct: bool = True) -> dict:
    """``searchdoc search --format json`` and ``GET /api/search``."""
    from searchdoc import search as searching

    return searching.result_to_dict(search(index, corpus, query, limit, context, doc_ids, themes, explain, correct))


def document(corpus, doc_id: str, config=None, paragraph: int | None = None):
    """The view of a corpus document (label, URL, themes); ``paragraph`` must exist when given."""
    from searchdoc import documents

    view = documents.document_view(corpus, doc_id, config)
    if paragraph is not None and paragraph > len(view.document.paragraphs):
        raise UsageError(
            f"{doc_id} has {len(view.document.paragraphs)} paragraphs; --paragraph {paragraph} is out of range"
        )
    return view


def document_answer(corpus, doc_id: str, config=None, paragraph: int | None = None) -> dict:
    """``searchdoc show ID --format json`` and ``GET /api/documents/{id}``."""
    from searchdoc import documents

    return documents.view_to_dict(document(corpus, doc_id, config, paragraph), paragraph)


def cite_answer(ref: str, corpus, index) -> dict:
    """``searchdoc cite REF --format json`` and ``GET /api/cite``."""
    from searchdoc import citegraph

    return citegraph.lookup(ref, corpus, index).to_dict()


def themes_answer(index, corpus, doc_id: str | None = None) -> list[dict]:
    """``searchdoc themes --format json`` and ``GET /api/themes``."""
    from searchdoc import documents

    return [{"id": r["id"], "label": r["label"], "count": r["count"]}
            for r in documents.theme_summary(index, corpus, doc_id)]


@dataclass
class Export:
    """A checked export, ready to stream: ``total`` hits in ``fmt`` (``bom`` for Excel's CSV)."""

    fmt: str
    bom: bool
    total: int
    _hits: object
    _info: object
    _max_chars: int | None
    _corpus: object

    def write(self, stream: TextIO, progress: Callable[[int], None] | None = None) -> int:
        """Write the whole export to ``stream``; return the number of hits written."""
        from searchdoc import export as exporting

        exporter = exporting.make_exporter(self.fmt, stream, self._info, max_chars=self._max_chars,
                                           corpus=self._corpus, excel=self.bom)
        return exporting.export_hits(self._hits, exporter, progress=progress)


def export(index, corpus, query: str, fmt: str, limit: int | None = None, context: int = 0,
           doc_ids: Iterable[str] = (), themes: Iterable[str] = (), max_chars: int | None = None,
           excel: bool = False) -> Export:
    """``searchdoc export`` and ``GET /api/export``: every error is raised here, before a byte is written."""
    from searchdoc import export as exporting
    from searchdoc import search as searching

    if fmt not in exporting.FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; choose one of: {', '.join(exporting.FORMATS)}")
    if excel and fmt != "csv":
        raise UsageError("--excel only applies to --format csv")
    exporting.check_max_chars(max_chars)
    doc_ids, themes = list(doc_ids), list(themes)
    hits = searching.stream_hits(index, corpus, query, limit=limit, context=context, doc_ids=doc_ids, themes=themes)
    info = exporting.ExportInfo(query=query, total=hits.total, doc_ids=doc_ids, themes=themes)
    return Export(fmt, excel, hits.total, hits, info, max_chars, corpus)
