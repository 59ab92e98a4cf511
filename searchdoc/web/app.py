"""The web application: one Starlette app whose routes read the corpus through the library.

Pages are server-rendered by auto-escaping Jinja templates and work without JavaScript; the API
returns what :mod:`searchdoc.answers` returns, the same JSON as the command line's ``--format
json``. Errors are one line: a 400 with the command line's message for bad input, a 404 for an
unknown id or path, a 500 without details otherwise; never a traceback.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
from pathlib import Path

from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from searchdoc import __version__, answers
from searchdoc import settings as defaults
from searchdoc.errors import SearchdocError, UnknownDocumentError, UsageError, one_line
from searchdoc.search import id_label
from searchdoc.web import pages
from searchdoc.web.library import Library

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Host names a server bound to the loopback interface answers to (a DNS-rebinding guard).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")

#: No inline script or style, nothing from another origin, no framing.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

EXPORT_TYPES = {
    "md": ("text/markdown; charset=utf-8", "md"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
    "csl-json": ("application/vnd.citationstyles.csl+json; charset=utf-8", "json"),
}


class BadRequest(UsageError):
    """A request parameter out of its bounds (a 400, like every UsageError)."""


class DocumentNotFound(UnknownDocumentError):
    """A document id in a URL that is not (validly) in the corpus: a 404."""


class SecurityHeaders:
    """Adds the Content-Security-Policy and its companions to every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in SECURITY_HEADERS if k not in names)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HostCheck:
    """Answers only requests addressed to one of ``allowed_hosts`` (a guard against DNS rebinding,
    where a web page elsewhere makes the browser send its requests to this server)."""

    def __init__(self, app, allowed_hosts):
        self.app = app
        self.allowed = {host.lower() for host in allowed_hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            from starlette.datastructures import Headers

            host = Headers(scope=scope).get("host", "").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.allowed:
                message = f"searchdoc answers only to {', '.join(sorted(self.allowed))}, not to host {host[:100]!r}"
                if scope["path"].startswith("/api/"):
                    response = JSONResponse({"error": message}, status_code=400)
                else:
                    response = Response(message + "\n", status_code=400, media_type="text/plain")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# --------------------------------------------------------------------------- parameters


def text_param(request: Request, name: str, required: bool = False) -> str:
    value = request.query_params.get(name, "")
    if len(value) > defaults.WEB_MAX_QUERY_CHARS:
        raise BadRequest(f"{name} is longer than {defaults.WEB_MAX_QUERY_CHARS} characters")
    if required and not value.strip():
        raise BadRequest(f"missing {name}: give ?{name}=…")
    return value.strip()


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"\d{1,7}", raw) or not low <= int(raw) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def list_param(request: Request, name: str) -> list[str]:
    values = [v.strip() for v in request.query_params.getlist(name) if v.strip()]
    if len(values) > 50 or any(len(v) > defaults.WEB_MAX_QUERY_CHARS for v in values):
        raise BadRequest(f"too many or too long {name} values")
    return values


def flag_param(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes", "on")


# --------------------------------------------------------------------------- the app


def create_app(config, library: Library | None = None, allowed_hosts=LOOPBACK_HOSTS) -> Starlette:
    """The application over ``config``'s corpus and index; ``allowed_hosts=None`` answers any Host."""
    library = library or Library(config)
    env = Environment(loader=PackageLoader("searchdoc.web", "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    env.globals.update(version=__version__, query_url=pages.query_url, doc_href=pages.doc_href,
                       max_query=defaults.WEB_MAX_QUERY_CHARS)

    def render(name: str, status_code: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status_code)

    def theme_labels(index) -> dict[str, str]:
        return {theme.id: theme.label_nl for theme in index.tagger().taxonomy}

    # ---- pages

    def home(request: Request) -> Response:
        catalogue = library.catalogue()
        with library.reading() as (corpus, index):
            themes = answers.themes_answer(index, corpus)
        return render("index.html", title="Search", catalogue=catalogue, themes=themes,
                      dossiers=sorted({d for row in catalogue for d in row["dossier"]}),
                      years=sorted({row["date"][:4] for row in catalogue if row["date"]}, reverse=True),
                      params={}, many_documents=len(catalogue) > 300)

    def search_page(request: Request) -> Response:
        query = text_param(request, "q")
        if not query:
            return RedirectResponse("/", status_code=303)
        page = int_param(request, "page", 1, 1, defaults.WEB_MAX_DEPTH // defaults.WEB_PAGE_SIZE)
        doc_ids, themes = list_param(request, "doc"), list_param(request, "theme")
        dossier, year = text_param(request, "dossier"), text_param(request, "year")
        correct = request.query_params.get("correct") != "0"
        params = {"q": query, "doc": doc_ids, "theme": themes, "dossier": dossier or None, "year": year or None,
                  "correct": None if correct else "0"}
        catalogue = library.catalogue() if dossier or year else None
        wanted = restrict_documents(catalogue, doc_ids, dossier, year)
        size = defaults.WEB_PAGE_SIZE
        with library.reading() as (corpus, index):
            all_themes = theme_labels(index)
            if wanted == []:
                result, facets = None, {"documents": {}, "years": {}, "scanned": 0, "total": 0}
                total, hits = 0, []
            else:
                from searchdoc import search as searching

                result = answers.search(index, corpus, query, limit=page * size, context=2, doc_ids=wanted or (),
                                        themes=themes, correct=correct)
                searched = result.corrected or query
                facets = searching.facet_counts(index, searched, wanted or (), themes, defaults.WEB_FACET_SCAN)
                total = result.total + (result.partial["total"] if result.partial else 0)
                first = (page - 1) * size
                hits = [pages.hit_view(rank, hit, corpus.load(hit.doc_id), corpus.has)
                        for rank, hit in enumerate(result.hits[first:], first + 1)]
            labels = {d: id_label(d) for d in facets["documents"]}
        last_page = max(1, min(-(-total // size), defaults.WEB_MAX_DEPTH // size))
        return render("search.html", title=f"{query} – search", query=query, params=params, hits=hits, total=total,
                      page=page, last_page=last_page, suggestion=result.suggestion if result else None,
                      corrected=result.corrected if result else None, full_total=result.total if result else 0,
                      partial=result.partial if result else None,
                      theme_facets=(result.facets.get("themes", {}) if result else {}), theme_labels=all_themes,
                      facets=facets, doc_labels=labels, formats=list(EXPORT_TYPES))

    def document_page(request: Request) -> Response:
        doc_id = request.path_params["doc_id"]
        from searchdoc import citegraph

        with library.reading() as (corpus, index):
            require_document(corpus, doc_id)
            view = answers.document(corpus, doc_id, config)
            document = view.document
            paragraphs = [pages.paragraph_view(document, p, corpus.has, themes=view.themes.get(p.n, []))
                          for p in document.paragraphs]
            cites = []
            for row in citegraph.document_citations(document):
                if row["id"] not in {c["id"] for c in cites}:
                    href, title, external = pages.citation_link(row["id"], corpus.has)
                    cites.append({"id": row["id"], "label": id_label(row["id"]), "href": href, "title": title,
                                  "external": external, "paragraph": row["paragraph"]})
            cited_by = citegraph.lookup(doc_id, corpus, index).cited_by
            labels = theme_labels(index)
        return render("document.html", title=view.label, view=view, document=document, paragraphs=paragraphs,
                      cites=cites, cited_by=cited_by, theme_labels=labels)

    def graph_page(request: Request) -> Response:
        doc_id = request.path_params["doc_id"]
        depth = int_param(request, "depth", 1, 1, defaults.WEB_MAX_GRAPH_DEPTH)
        from searchdoc import citegraph

        with library.reading() as (corpus, index):
            require_document(corpus, doc_id)
            graph = citegraph.neighbourhood(corpus, index, doc_id, depth, defaults.WEB_GRAPH_LEVEL_NODES)
        return render("graph.html", title=f"Citation graph of {id_label(doc_id)}", doc_id=doc_id,
                      label=id_label(doc_id), depth=depth, max_depth=defaults.WEB_MAX_GRAPH_DEPTH,
                      layout=pages.graph_layout(graph), timeline=pages.timeline(graph), graph=graph)

    def cite_page(request: Request) -> Response:
        ref = text_param(request, "ref")
        info, error = None, None
        if ref:
            from searchdoc import citegraph

            try:
                with library.reading() as (corpus, index):
                    info = citegraph.lookup(ref, corpus, index)
            except UsageError as exc:
                error = one_line(exc)
        return render("cite.html", 400 if error else 200, title="Citation lookup", ref=ref, info=info, error=error)

    # ---- API

    def api_search(request: Request) -> Response:
        query = text_param(request, "q", required=True)
        limit = int_param(request, "limit", defaults.DEFAULT_LIMIT, 1, defaults.WEB_MAX_LIMIT)
        context = int_param(request, "context", 0, 0, defaults.WEB_MAX_CONTEXT)
        doc_ids, themes = list_param(request, "doc"), list_param(request, "theme")
        with library.reading() as (corpus, index):
            return JSONResponse(answers.search_answer(index, corpus, query, limit, context, doc_ids, themes))

    def api_document(request: Request) -> Response:
        doc_id = request.path_params["doc_id"]
        raw = request.query_params.get("paragraph")
        paragraph = int_param(request, "paragraph", 1, 1, 10**6) if raw else None
        with library.reading() as (corpus, _):
            require_document(corpus, doc_id)
            return JSONResponse(answers.document_answer(corpus, doc_id, config, paragraph))

    def api_cite(request: Request) -> Response:
        ref = text_param(request, "ref", required=True)
        with library.reading() as (corpus, index):
            return JSONResponse(answers.cite_answer(ref, corpus, index))

    def api_themes(request: Request) -> Response:
        doc_id = text_param(request, "doc") or None
        with library.reading() as (corpus, index):
            if doc_id is not None:
                require_document(corpus, doc_id)
            return JSONResponse(answers.themes_answer(index, corpus, doc_id))

    def api_export(request: Request) -> Response:
        query = text_param(request, "q", required=True)
        fmt = request.query_params.get("format", "md")
        if fmt not in EXPORT_TYPES:
            raise BadRequest(f"unknown export format {fmt[:40]!r}; choose one of: {', '.join(EXPORT_TYPES)}")
        limit = int_param(request, "limit", defaults.WEB_MAX_EXPORT, 1, defaults.WEB_MAX_EXPORT)
        context = int_param(request, "context", 0, 0, defaults.WEB_MAX_CONTEXT)
        raw_chars = request.query_params.get("max_chars")
        max_chars = int_param(request, "max_chars", 0, 20, 10**6) if raw_chars else None
        excel = flag_param(request, "excel")
        dossier, year = text_param(request, "dossier"), text_param(request, "year")
        wanted = restrict_documents(library.catalogue() if dossier or year else None, list_param(request, "doc"),
                                    dossier, year)
        if wanted == []:
            raise BadRequest(f"no document matches dossier {dossier!r} and year {year!r}")
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+b")
        try:
            with library.reading() as (corpus, index):
                prepared = answers.export(index, corpus, query, fmt, limit=limit, context=context,
                                          doc_ids=wanted or (), themes=list_param(request, "theme"),
                                          max_chars=max_chars, excel=excel)
                text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
                if prepared.bom:
                    text.write("\ufeff")
                prepared.write(text)
                text.flush()
                text.detach()
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        media_type, extension = EXPORT_TYPES[fmt]
        name = "searchdoc-" + (re.sub(r"[^a-z0-9]+", "-", query.lower()).strip("-")[:40] or "export")
        headers = {"content-disposition": f'attachment; filename="{name}.{extension}"'}
        return StreamingResponse(_chunks(spool), media_type=media_type, headers=headers)

    def api_openapi(request: Request) -> Response:
        from searchdoc.web.openapi import openapi

        return JSONResponse(openapi(__version__))

    def favicon(request: Request) -> Response:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    # ---- errors

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"

    def error_response(request: Request, status: int, message: str) -> Response:
        if wants_json(request):
            return JSONResponse({"error": message}, status_code=status)
        return render("error.html", status, title={400: "Bad request", 404: "Not found"}.get(status, "Error"),
                      status=status, message=message)

    def on_searchdoc_error(request: Request, exc: SearchdocError) -> Response:
        if isinstance(exc, DocumentNotFound):
            return error_response(request, 404, one_line(exc))
        return error_response(request, 400 if isinstance(exc, UsageError) else 500, one_line(exc))

    def on_http_error(request: Request, exc: HTTPException) -> Response:
        messages = {404: f"no page at {request.url.path[:200]}", 405: "method not allowed: searchdoc is read-only"}
        return error_response(request, exc.status_code, messages.get(exc.status_code, exc.detail))

    def on_error(request: Request, exc: Exception) -> Response:
        log.error("internal error on %s: %s: %s", request.url.path, exc.__class__.__name__, exc)
        return error_response(request, 500, f"internal error: {exc.__class__.__name__} (see the server's log)")

    routes = [
        Route("/", home),
        Route("/search", search_page),
        Route("/doc/{doc_id}", document_page),
        Route("/doc/{doc_id}/graph", graph_page),
        Route("/cite", cite_page),
        Route("/api/search", api_search),
        Route("/api/documents/{doc_id}", api_document),
        Route("/api/cite", api_cite),
        Route("/api/themes", api_themes),
        Route("/api/export", api_export),
        Route("/openapi.json", api_openapi),
        Route("/favicon.ico", favicon),
        Mount("/static", StaticFiles(directory=STATIC_DIR, follow_symlink=False), name="static"),
    ]
    middleware = [Middleware(SecurityHeaders)]
    if allowed_hosts is not None:
        middleware.append(Middleware(HostCheck, allowed_hosts=allowed_hosts))
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={SearchdocError: on_searchdoc_error, HTTPException: on_http_error,
                                        Exception: on_error})
    app.state.library = library
    return app


def _chunks(spool, size: int = 64 * 1024):
    try:
        while chunk := spool.read(size):
            yield chunk
    finally:
        spool.close()


def require_document(corpus, doc_id: str) -> None:
    """A 404 unless ``doc_id`` is a valid id of a document in the corpus: the only way a URL
    reaches a file."""
    if not corpus.has(doc_id):
        raise DocumentNotFound(f"{doc_id[:80]!r} is not in the corpus (list documents with 'searchdoc list')")


def restrict_documents(catalogue, doc_ids: list[str], dossier: str, year: str) -> list[str] | None:
    """The documents a search may return: ``doc_ids``, narrowed to a dossier and a year when given;
    None means every document."""
    if catalogue is None:
        return doc_ids or None
    rows = [r for r in catalogue if (not dossier or dossier in r["dossier"])
            and (not year or (r["date"] or "").startswith(year))]
    chosen = [r["id"] for r in rows]
    if doc_ids:
        chosen = [d for d in doc_ids if d in set(chosen)]
    return chosen
