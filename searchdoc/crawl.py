"""The crawler: fetch the documents the corpus cites (and, on request, those that cite it).

A crawl starts from citations: ids given by the user in any form :mod:`searchdoc.citations`
parses, or else the citations stored with the corpus documents that were not crawled
themselves (the bundled letter, ingested files). It walks them breadth first
up to ``depth`` levels, resolves Tweede Kamer zaak numbers to the official id of the answer,
fetches each document from the official publications (XML, else HTML, else PDF, plus its
metadata.xml), parses and enriches it, and stores it atomically. At the end the index is
brought up to date (incrementally: only new and changed documents).

It is resumable: a document exists in the corpus only once its JSON is written (after its raw
files), so an interrupted crawl leaves whole documents only, and the next crawl counts the
stored ones as cached and fetches the rest. It is polite: one sequential
:class:`~searchdoc.sources.http.HttpClient` with its delays, retries and an HTTP cache that turns
``--refresh`` into conditional requests.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from searchdoc import citations, pipeline
from searchdoc import settings as defaults
from searchdoc.corpus import Corpus, is_valid_id, sha256_bytes
from searchdoc.errors import (
    FetchError,
    NotFoundError,
    OfflineError,
    ParseError,
    SearchdocError,
    UsageError,
    one_line,
)
from searchdoc.model import Document

if TYPE_CHECKING:
    from searchdoc.sources.http import HttpClient

log = logging.getLogger(__name__)

#: Citation kinds that name one official publication the crawler can fetch from OB.
FETCHABLE_KINDS = frozenset(
    {"kamerstuk", "aanhangsel", "handelingen", "kamervragen", "niet-dossierstuk", "bijlage", "agenda"}
)
#: Deepest ``depth`` accepted: every level multiplies the number of requests.
MAX_DEPTH = defaults.CRAWL_MAX_DEPTH
#: Search results examined per citation form in a cited-by search (candidates, each fetched).
CITED_BY_LIMIT = defaults.CITED_BY_LIMIT
#: ``provenance["source"]`` of crawled documents; only these are re-fetched by ``refresh``.
SOURCE = "crawl"

#: Tweede Kamer numbers that the open data service maps to official publication ids.
RESOLVABLE_KINDS = frozenset({"zaak", "tk-document"})

_SKIP_REASONS = {
    "dossier": "a whole dossier, not one document; crawl its documents by id",
    "activiteit": "a Tweede Kamer activity, not a document",
}


class _Abort(Exception):
    """Carries the OfflineError that ends a crawl before anything was fetched."""

    def __init__(self, error: OfflineError):
        super().__init__(str(error))
        self.error = error


@dataclass
class CrawlReport:
    """What a crawl did, per id. ``ok`` is False when a document failed or indexing did.

    ``cached`` holds documents already in the corpus (not fetched, or with ``refresh``
    re-checked and found ``unchanged``); ``skipped`` holds ids that are not fetchable
    documents, cited-by candidates that turned out not to cite, and ids over ``max_docs``.
    """

    fetched: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    resolved: dict[str, list[str]] = field(default_factory=dict)
    indexed: list[str] = field(default_factory=list)
    index_error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and self.index_error is None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "fetched": list(self.fetched),
            "cached": list(self.cached),
            "not_found": list(self.not_found),
            "failed": [dict(item) for item in self.failed],
            "skipped": [dict(item) for item in self.skipped],
            "unchanged": list(self.unchanged),
            "resolved": {k: list(v) for k, v in self.resolved.items()},
            "indexed": list(self.indexed),
        }
        if self.index_error is not None:
            data["index_error"] = self.index_error
        return data


@dataclass
class _Target:
    """One id waiting to be crawled; ``cites`` is set for cited-by candidates (to verify)."""

    id: str
    kind: str
    depth: int
    alternates: tuple[str, ...] = ()
    cited_as: str | None = None
    resolved_from: str | None = None
    cites: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """What makes two targets the same: a "Bijlage bij" reference carries its main
        document's id, yet must not stand in for (or be blocked by) that document."""
        return f"bijlage-bij:{self.id}" if self.is_attachment else self.id

    @property
    def is_attachment(self) -> bool:
        return self.kind == "bijlage" and not self.id.startswith("blg-")


def http_cache_dir(config: defaults.Settings) -> Path:
    """The HTTP cache folder: SEARCHDOC_CACHE, else next to the index; never inside the corpus.

    The cache holds response bodies and validators (ETag, Last-Modified) so that a refresh is a
    series of conditional requests; it is disposable and must not look like corpus content.
    """
    from searchdoc.sources.http import default_cache_dir

    folder = Path(default_cache_dir(config)).expanduser()
    corpus = Path(config.corpus_dir).expanduser().resolve()
    resolved = folder.resolve()
    if resolved == corpus or corpus in resolved.parents:
        return defaults.user_cache_dir() / "http-cache"
    return folder


def references_for(texts: Iterable[str]) -> list[Any]:
    """Every reference in the given citation strings or ids, checked before any request.

    Raises CitationParseError (a usage error) naming the first string that is not a citation.
    """
    found = []
    for text in texts:
        found.extend(citations.parse_all(text))
    return found


def citation_forms(doc_id: str) -> list[str]:
    """Ways other documents write a citation of ``doc_id``, as phrases for a full-text search.

    A Kamerstuk is searched as "33 694, nr. 45", which also matches "Kamerstuk 33 694, nr. 45"
    and "Kamerstukken II 2018/19, 33 694, nr. 45"; an Aanhangsel both as "Aanhangsel Handelingen
    II 2018/19, nr. 264" and with the vergaderjaar written out.
    """
    reference = citations.try_parse(doc_id)
    if reference is None:
        return []
    try:
        label = citations.label(doc_id)
    except UsageError:
        return []
    forms: list[str] = []
    if reference.kind == "kamerstuk" and label.startswith("Kamerstuk "):
        forms.append(label[len("Kamerstuk ") :])
    elif label != doc_id:
        forms.append(label)
    if reference.kind == "aanhangsel" and reference.vergaderjaar and reference.number:
        years = reference.vergaderjaar.replace("-", "\u2013")
        forms.append(f"Aanhangsel Handelingen, vergaderjaar {years}, nr. {reference.number}")
    return forms


def canonical_id(doc_id: str) -> str:
    """``doc_id`` in the canonical case of the official services (``kst-34300-X-88``).

    Ids taken from links may arrive in another case; the services and the corpus know one.
    """
    try:
        return citations.normalize_id(doc_id)
    except UsageError:
        return doc_id


def cites_any(document: Document, targets: Iterable[str]) -> bool:
    """True when a paragraph or footnote of ``document`` carries a citation of one of ``targets``."""
    wanted = {canonical_id(t) for t in targets}
    return any(canonical_id(c.id) in wanted for p in document.paragraphs for c in p.citations)


def crawl(
    config: defaults.Settings,
    corpus: Corpus,
    ids: Sequence[str] = (),
    *,
    depth: int = 1,
    cited_by: bool = False,
    refresh: bool = False,
    max_docs: int | None = None,
    update_index: bool = True,
    client: HttpClient | None = None,
    progress: Callable[[int], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
    on_attempt: Callable[[str, int, int], None] | None = None,
) -> CrawlReport:
    """Fetch the cited documents into ``corpus`` and index the new ones; see the module docstring.

    ``ids`` are citation strings or ids (``kst-33694-12``, "Kamerstuk 33 694, nr. 12",
    ``2019Z01633``); without them the crawl starts from the citations stored with the corpus
    documents that were not crawled themselves (ingested files, the bundled letter; all
    documents when every one was crawled), so a second run with the same options fetches
    nothing new. ``depth`` 1 fetches those; 2 also what they cite, and so on, going on past
    documents already stored. ``cited_by`` adds documents found by a full-text search (SRU)
    for the citation forms of each starting document (the given ids, or else those root
    documents); a candidate is stored only when, once fetched and parsed, one of its
    paragraphs or footnotes carries a citation whose id is that document (found by the
    citation extractor or an XML ``extref`` link). ``refresh`` re-fetches
    documents the crawler stored before, with conditional requests; a document whose raw bytes
    and metadata are byte-identical is not rewritten. Documents stored by ``ingest`` or the
    bundled letter are never replaced. ``max_docs`` caps the document fetches; ``progress(1)``
    is called after each fetch, ``on_attempt(host, attempt, attempts)`` before each request and
    ``on_wait(message)`` before each wait (for a retry, or for another process's lock).

    Raises UsageError for a bad id or option before any request, and OfflineError (changing
    nothing) when no host has answered yet and one cannot be reached, rejects its certificate,
    fails through a proxy, or does not answer in time. Every other per-document
    problem is recorded in the report.
    """
    if depth < 1 or depth > MAX_DEPTH:
        raise UsageError(f"--depth must be between 1 and {MAX_DEPTH}")
    if max_docs is not None and max_docs < 1:
        raise UsageError("--max-docs must be at least 1")
    references = references_for(ids)
    if not ids:
        corpus.require()
    own_client = client is None
    if own_client:
        from searchdoc.sources.http import HttpClient

        client = HttpClient(config, http_cache_dir(config), on_attempt=on_attempt, on_retry=on_wait)
    crawler = _Crawler(corpus, client, depth, refresh, max_docs, progress, on_wait)
    try:
        report = crawler.run(references, cited_by)
    except _Abort as stop:
        raise stop.error from None
    finally:
        if own_client:
            client.close()
    if update_index and corpus.exists():
        # Also when nothing was fetched: documents stored by an interrupted crawl get indexed.
        _index(config, corpus, report, on_wait)
    return report


def _index(config: defaults.Settings, corpus: Corpus, report: CrawlReport, on_wait) -> None:
    from searchdoc.index import Index

    index = Index(config.index_dir, corpus, config)
    try:
        result = index.update(on_wait=on_wait)
        report.indexed = [*result.added, *result.updated]
    except SearchdocError as exc:
        report.index_error = f"{exc}; the index updates itself on the next search"
    finally:
        index.close()


class _Crawler:
    """One crawl's state: the breadth-first queue, the ids seen, the fetch count, the report."""

    def __init__(self, corpus: Corpus, client, depth: int, refresh: bool, max_docs, progress, on_wait):
        self.corpus = corpus
        self.client = client
        self.depth = depth
        self.refresh = refresh
        self.max_docs = max_docs
        self.progress = progress or (lambda n=1: None)
        self.on_wait = on_wait
        self.report = CrawlReport()
        self.fetches = 0
        self.online = False
        self.seen: set[str] = set()
        self.queue: deque[_Target] = deque()
        self._resolutions: dict[str, list[str]] | None = None

    # ---- seeding

    def run(self, references: list, cited_by: bool) -> CrawlReport:
        if references:
            for reference in references:
                self._enqueue(self._target(reference, 1, reference.raw))
            starts = [r.id for r in references if is_valid_id(r.id)]
        else:
            roots = self._roots()
            for document in roots:
                self._enqueue_citations(document, 1)
            starts = [document.id for document in roots]
        if cited_by:
            for doc_id in starts:
                self._find_citing(doc_id)
        while self.queue:
            self._visit(self.queue.popleft())
        return self.report

    def _roots(self) -> list[Document]:
        """The documents a crawl without ids starts from: those not fetched by a crawl.

        Crawled documents are what the roots cite (at some depth), so starting from them too
        would go one level deeper on every run; when every document was crawled, all are roots.
        """
        documents = list(self.corpus.documents())
        roots = [d for d in documents if d.provenance.get("source") != SOURCE]
        return roots or documents

    def _target(self, reference, depth: int, cited_as: str | None) -> _Target:
        alternates = tuple(a for a in reference.alternates if a != reference.id)
        return _Target(reference.id, reference.kind, depth, alternates, cited_as)

    def _enqueue(self, target: _Target) -> None:
        if target.key in self.seen:
            return
        self.seen.add(target.key)
        self.queue.append(target)

    def _enqueue_citations(self, document: Document, depth: int) -> None:
        for paragraph in document.paragraphs:
            for citation in paragraph.citations:
                doc_id = canonical_id(citation.id)
                if doc_id == document.id:
                    continue
                # The stored citation keeps only the first id of a joint stuk; its raw text
                # gives the other dossier's id back, to try when the first is not found.
                alternates: tuple[str, ...] = ()
                try:
                    for reference in citations.parse_all(citation.raw):
                        if reference.id == doc_id:
                            alternates = tuple(a for a in reference.alternates if a != doc_id)
                            break
                except UsageError:
                    pass
                self._enqueue(_Target(doc_id, citation.kind, depth, alternates, citation.raw))

    def _find_citing(self, doc_id: str) -> None:
        from searchdoc.sources import sru

        forms = citation_forms(doc_id)
        if not forms:
            return
        try:
            candidates = self._network(lambda: sru.cited_by(self.client, doc_id, forms, CITED_BY_LIMIT))
        except (FetchError, UsageError) as exc:
            self.report.failed.append({"id": doc_id, "reason": f"cited-by search failed: {one_line(exc)}"})
            return
        for candidate in map(canonical_id, candidates):
            queued = next((t for t in self.queue if t.id == candidate), None)
            if queued is not None:
                if queued.cites:
                    queued.cites = (*queued.cites, doc_id)
                continue
            if candidate in self.seen:
                continue
            reference = citations.try_parse(candidate)
            kind = reference.kind if reference else "unknown"
            self._enqueue(_Target(candidate, kind, 1, cited_as=f"cites {doc_id}", cites=(doc_id,)))

    # ---- one target

    def _network(self, call: Callable[[], Any]) -> Any:
        """Run one network operation; an unreachable host before any answer ends the crawl."""
        try:
            result = call()
        except OfflineError as exc:
            if not self.online:
                raise _Abort(OfflineError(f"{one_line(exc)}; nothing was changed")) from None
            raise
        except FetchError:
            self.online = True
            raise
        self.online = True
        return result

    def _visit(self, target: _Target) -> None:
        if target.kind in RESOLVABLE_KINDS:
            self._visit_tk_number(target)
            return
        reason = self._unfetchable(target)
        if reason:
            self.report.skipped.append({"id": target.id, "reason": reason})
            return
        if self.corpus.has(target.id) and not self._refetch(target.id):
            self.report.cached.append(target.id)
            self._follow_stored(target, target.id)
            return
        if self.max_docs is not None and self.fetches >= self.max_docs:
            self.report.skipped.append({"id": target.id, "reason": f"not fetched: --max-docs {self.max_docs} reached"})
            return
        self.fetches += 1
        try:
            self._fetch(target)
        finally:
            self.progress(1)

    def _unfetchable(self, target: _Target) -> str | None:
        if target.kind in _SKIP_REASONS:
            return _SKIP_REASONS[target.kind]
        if target.is_attachment:
            return "a Bijlage bij this document, which has no id of its own; crawl the main document"
        if target.kind not in FETCHABLE_KINDS:
            return f"a {target.kind} publication; the crawler fetches parliamentary papers only"
        if not is_valid_id(target.id):
            return "not an official publication id"
        return None

    def _refetch(self, doc_id: str) -> bool:
        """Only documents the crawler stored are re-fetched: never replace an ingested text."""
        if not self.refresh:
            return False
        try:
            return self.corpus.load(doc_id).provenance.get("source") == SOURCE
        except SearchdocError:
            return True

    def _visit_tk_number(self, target: _Target) -> None:
        """A zaak (its answers) or TK document number, via the Tweede Kamer open data service."""
        from searchdoc.sources import tweedekamer

        known = self._stored_resolutions().get(target.id)
        if known and not self.refresh and all(self.corpus.has(i) for i in known):
            ids = known
        else:
            try:
                if target.kind == "zaak":
                    documents = self._network(lambda: tweedekamer.zaak_documents(self.client, target.id))
                    ids = _zaak_publications(documents, target.id)
                else:
                    document = self._network(lambda: tweedekamer.document_by_number(self.client, target.id))
                    if document is None:
                        raise NotFoundError(f"the Tweede Kamer service knows no document {target.id}")
                    ids = [i for i in [tweedekamer.ob_id_for(document)] if i]
            except NotFoundError:
                self.report.not_found.append(target.id)
                return
            except (FetchError, UsageError) as exc:
                self.report.failed.append({"id": target.id, "reason": one_line(exc)})
                return
        if not ids:
            self.report.skipped.append({"id": target.id, "reason": f"the {target.kind} has no official publication"})
            return
        self.report.resolved[target.id] = list(ids)
        for doc_id in ids:
            if doc_id in self.seen:
                continue
            self.seen.add(doc_id)
            kind = citations.kind_of(doc_id)
            self._visit(_Target(doc_id, kind, target.depth, cited_as=target.id, resolved_from=target.id))

    def _stored_resolutions(self) -> dict[str, list[str]]:
        """TK number → ids stored for it by earlier crawls, so a re-run needs no OData request."""
        if self._resolutions is None:
            self._resolutions = {}
            for document in self.corpus.documents():
                number = document.provenance.get("resolved_from")
                if number:
                    self._resolutions.setdefault(number, []).append(document.id)
        return self._resolutions

    def _fetch(self, target: _Target) -> None:
        from searchdoc.sources import officielebekendmakingen as ob

        fetched = None
        for doc_id in (target.id, *target.alternates):
            if doc_id != target.id:
                if doc_id in self.seen:
                    continue
                if self.corpus.has(doc_id) and not self._refetch(doc_id):
                    self.seen.add(doc_id)
                    self.report.cached.append(doc_id)
                    self._follow_stored(target, doc_id)
                    return
            try:
                fetched = self._network(lambda doc_id=doc_id: ob.fetch_document(self.client, doc_id))
                break
            except NotFoundError:
                continue
            except (FetchError, UsageError) as exc:
                self.report.failed.append({"id": target.id, "reason": one_line(exc)})
                return
        if fetched is None:
            self.report.not_found.append(target.id)
            return
        doc_id = fetched.id
        self.seen.add(doc_id)
        if doc_id != target.id:
            self.report.resolved[target.id] = [doc_id]
        previous = self._stored(doc_id)
        if previous is not None and _same_bytes(previous, fetched):
            self.report.cached.append(doc_id)
            self.report.unchanged.append(doc_id)
            self._follow_stored(target, doc_id)
            return
        try:
            document = self._parse(fetched)
        except (ParseError, UsageError) as exc:
            self.report.failed.append({"id": doc_id, "reason": one_line(exc)})
            return
        if target.cites and not cites_any(document, target.cites):
            self.report.skipped.append(
                {"id": doc_id, "reason": f"found by the cited-by search but cites none of {', '.join(target.cites)}"}
            )
            return
        document.provenance = _provenance(fetched, target, previous)
        with self.corpus.write_lock(on_wait=self.on_wait):
            self.corpus.save(document, raw=fetched.content, raw_ext=fetched.format, metadata_xml=fetched.metadata_xml)
            if previous is not None:
                self._remove_stale_raw(previous, fetched)
        self.report.fetched.append(doc_id)
        if target.depth < self.depth:
            self._enqueue_citations(document, target.depth + 1)

    def _stored(self, doc_id: str) -> Document | None:
        if not self.corpus.has(doc_id):
            return None
        try:
            return self.corpus.load(doc_id)
        except SearchdocError:
            return None

    def _remove_stale_raw(self, previous: Document, fetched) -> None:
        """A refreshed document now in another format (or without metadata) leaves no old files."""
        stale = []
        if previous.source_format != fetched.format and previous.source_format in ("xml", "html", "pdf"):
            stale.append(self.corpus.raw_path(previous.id, previous.source_format))
        if fetched.metadata_xml is None and previous.provenance.get("metadata_file"):
            stale.append(self.corpus.raw_path(previous.id, "metadata.xml"))
        for path in stale:
            path.unlink(missing_ok=True)

    def _parse(self, fetched) -> Document:
        metadata = pipeline.metadata_for_id(fetched.id)
        if fetched.metadata_xml is not None:
            from searchdoc.parse.officialxml import parse_metadata_xml

            try:
                parsed = parse_metadata_xml(fetched.metadata_xml)
            except ParseError as exc:
                log.warning("%s: ignoring the content of its metadata.xml (%s)", fetched.id, exc)
            else:
                metadata.update({k: v for k, v in parsed.items() if k != "id" and v not in (None, "", [], {})})
        try:
            document = pipeline.parse_source(fetched.content, fetched.format, fetched.id, metadata)
        except (ParseError, UsageError):
            raise
        except Exception as exc:  # a parser bug on one document must not end the crawl
            raise ParseError(
                f"{fetched.url}: could not be parsed as {fetched.format} ({exc.__class__.__name__}: {exc})"
            ) from exc
        if not document.paragraphs:
            raise ParseError(f"{fetched.url}: no text paragraphs found in the {fetched.format}")
        return pipeline.enrich(document)

    def _follow_stored(self, target: _Target, doc_id: str) -> None:
        """Queue what a stored document cites, so a resumed deep crawl goes on past it."""
        if target.depth >= self.depth:
            return
        try:
            document = self.corpus.load(doc_id)
        except SearchdocError as exc:
            self.report.failed.append({"id": doc_id, "reason": one_line(exc)})
            return
        self._enqueue_citations(document, target.depth + 1)


def _zaak_publications(documents: list, zaak: str) -> list[str]:
    """The official ids to fetch for a zaak: its answers, or else every document it has."""
    from searchdoc.sources.tweedekamer import ob_id_for

    answers = [ob_id_for(d, zaak) for d in documents if d.is_answer]
    ids = [i for i in answers if i] or [i for i in (ob_id_for(d, zaak) for d in documents) if i]
    return list(dict.fromkeys(ids))


def _same_bytes(stored: Document, fetched) -> bool:
    """True when the corpus already holds exactly these bytes (so nothing is rewritten)."""
    provenance = stored.provenance
    metadata_sha = sha256_bytes(fetched.metadata_xml) if fetched.metadata_xml is not None else None
    from searchdoc.parse import PARSER_VERSION

    return (
        stored.source_format == fetched.format
        and provenance.get("sha256") == sha256_bytes(fetched.content)
        and provenance.get("metadata_sha256") == metadata_sha
        and provenance.get("parser") == PARSER_VERSION
    )


def _provenance(fetched, target: _Target, previous: Document | None = None) -> dict[str, Any]:
    from searchdoc import __version__
    from searchdoc.parse import PARSER_VERSION

    provenance: dict[str, Any] = {
        "source": SOURCE,
        "url": fetched.url,
        "format": fetched.format,
        "fetched_at": fetched.fetched_at,
        "from_cache": fetched.from_cache,
        "crawler": f"searchdoc/{__version__}",
        "parser": PARSER_VERSION,
    }
    # How a document was first reached stays known when a refresh reaches it another way.
    earlier = previous.provenance if previous is not None else {}
    for key, value in (("cited_as", target.cited_as), ("resolved_from", target.resolved_from)):
        if value or earlier.get(key):
            provenance[key] = value or earlier[key]
    cites = list(dict.fromkeys([*earlier.get("cites", []), *target.cites]))
    if cites:
        provenance["cites"] = cites
    return provenance


def render_text(report: CrawlReport) -> str:
    """The plain-text summary: one line per document that needs attention, then the totals."""
    lines = [f"fetched    {doc_id}" for doc_id in report.fetched]
    lines += [f"not found  {doc_id}" for doc_id in report.not_found]
    lines += [f"failed     {item['id']}: {item['reason']}" for item in report.failed]
    lines += [f"skipped    {item['id']}: {item['reason']}" for item in report.skipped]
    for zaak, ids in report.resolved.items():
        lines.append(f"resolved   {zaak} -> {', '.join(ids)}")
    if report.index_error:
        lines.append(f"index      {report.index_error}")
    unchanged = f" ({len(report.unchanged)} checked, unchanged)" if report.unchanged else ""
    lines.append(
        f"{len(report.fetched)} fetched, {len(report.cached)} cached{unchanged}, "
        f"{len(report.not_found)} not found, {len(report.failed)} failed, {len(report.skipped)} skipped; "
        f"{len(report.indexed)} indexed"
    )
    return "\n".join(lines)
