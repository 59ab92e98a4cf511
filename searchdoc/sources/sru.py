"""Searching the official publications through the KOOP SRU service (repository.overheid.nl/sru).

Records are read by element local names, so SRU 1.2 and 2.0 answers both parse. Paging uses
startRecord arithmetic; every query is confined to ``c.product-area==officielepublicaties``
because other collections have a different record layout.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from searchdoc import settings as defaults
from searchdoc.errors import FetchError, ParseError, UsageError
from searchdoc.sources.http import HttpClient
from searchdoc.sources.officielebekendmakingen import check_id

PRODUCT_AREA = "c.product-area==officielepublicaties"
_SCOPED = re.compile(r"c\.product-area\s*==?", re.IGNORECASE)
# SRU diagnostics 10-49 are about the query itself; 61 is a start position past the end.
_QUERY_DIAGNOSTICS = range(10, 50)
_PAST_THE_END = 61


@dataclass
class SruRecord:
    """One search result: the publication's id, its main metadata and its file URLs."""

    identifier: str
    title: str | None = None
    type: str | None = None
    date: str | None = None
    available: str | None = None
    dossiernummer: str | None = None
    ondernummer: str | None = None
    vergaderjaar: str | None = None
    publicatienaam: str | None = None
    preferred_url: str | None = None
    url: str | None = None
    item_urls: dict[str, str] = field(default_factory=dict)
    #: Every dossier a joint stuk belongs to, in record order (``dossiernummer`` is the first).
    dossiernummers: list[str] = field(default_factory=list)


@dataclass
class SruPage:
    number_of_records: int
    records: list[SruRecord]


def scoped(cql: str) -> str:
    """``cql`` restricted to the official publications, unless it already names a product area."""
    cql = cql.strip()
    if _SCOPED.search(cql):
        return cql
    if not cql:
        return PRODUCT_AREA
    return f"{PRODUCT_AREA} AND ({cql})"


def quote_term(value: str) -> str:
    """A CQL quoted string: backslash and double quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _parse_xml(content: bytes):
    """The response's root element, through the same hardened loader as the document parsers."""
    from searchdoc.parse.safexml import load_xml

    try:
        return load_xml(content, what="the SRU answer")
    except ParseError as exc:
        raise FetchError(f"the SRU service did not answer with XML that can be used: {exc}") from None


def _children(element, name: str) -> list:
    return element.xpath(f"./*[local-name()='{name}']")


def _first_text(element, name: str) -> str | None:
    found = element.xpath(f".//*[local-name()='{name}']")
    for node in found:
        text = "".join(node.itertext()).strip()
        if text:
            return text
    return None


def _all_texts(element, name: str) -> list[str]:
    values = []
    for node in element.xpath(f".//*[local-name()='{name}']"):
        text = "".join(node.itertext()).strip()
        if text and text not in values:
            values.append(text)
    return values


def parse_response(content: bytes) -> SruPage:
    """Parse one searchRetrieve answer; diagnostics become errors (UsageError for bad queries)."""
    root = _parse_xml(content)
    if not isinstance(root.tag, str) or not root.tag.endswith("searchRetrieveResponse"):
        raise FetchError("the SRU service answered with something other than search results")
    for diagnostics in _children(root, "diagnostics"):
        for diagnostic in _children(diagnostics, "diagnostic"):
            _raise_diagnostic(diagnostic)
    totals = _children(root, "numberOfRecords")
    total_text = "".join(totals[0].itertext()).strip() if totals else None
    try:
        total = int(total_text) if total_text else 0
    except ValueError:
        raise FetchError(f"the SRU service gave a bad numberOfRecords {total_text!r}") from None
    records = []
    for container in _children(root, "records"):
        for record in _children(container, "record"):
            parsed = _parse_record(record)
            if parsed is not None:
                records.append(parsed)
    return SruPage(number_of_records=total, records=records)


def _raise_diagnostic(diagnostic) -> None:
    uri = _first_text(diagnostic, "uri") or ""
    message = _first_text(diagnostic, "message") or "unknown error"
    details = _first_text(diagnostic, "details")
    text = f"{message}: {details}" if details else message
    match = re.search(r"(\d+)\s*$", uri)
    code = int(match.group(1)) if match else None
    if code == _PAST_THE_END:
        return
    if code in _QUERY_DIAGNOSTICS:
        raise UsageError(f"the SRU service rejected the query: {text}")
    raise FetchError(f"the SRU service reported an error: {text}")


def _parse_record(record) -> SruRecord | None:
    data = _children(record, "recordData")
    scope = data[0] if data else record
    identifier = _first_text(scope, "identifier")
    if not identifier:
        return None
    item_urls: dict[str, str] = {}
    for node in scope.xpath(".//*[local-name()='itemUrl']"):
        manifestation = node.get("manifestation")
        text = "".join(node.itertext()).strip()
        if manifestation and text:
            item_urls.setdefault(manifestation, text)
    dossiers = _all_texts(scope, "dossiernummer")
    return SruRecord(
        identifier=identifier,
        title=_first_text(scope, "title"),
        type=_first_text(scope, "type"),
        date=_first_text(scope, "date"),
        available=_first_text(scope, "available"),
        dossiernummer=dossiers[0] if dossiers else None,
        ondernummer=_first_text(scope, "ondernummer"),
        vergaderjaar=_first_text(scope, "vergaderjaar"),
        publicatienaam=_first_text(scope, "publicatienaam"),
        preferred_url=_first_text(scope, "preferredUrl"),
        url=_first_text(scope, "url"),
        item_urls=item_urls,
        dossiernummers=dossiers,
    )


def search(
    client: HttpClient,
    cql: str,
    page_size: int = defaults.SRU_PAGE_SIZE,
    max_records: int | None = None,
) -> Iterator[SruRecord]:
    """Yield every record matching ``cql`` (at most ``max_records``), page by page."""
    if page_size < 1:
        raise UsageError("the SRU page size must be at least 1")
    query = scoped(cql)
    start = 1
    yielded = 0
    while max_records is None or yielded < max_records:
        size = page_size if max_records is None else min(page_size, max_records - yielded)
        response = client.get(
            client.settings.sru_url,
            {
                "operation": "searchRetrieve",
                "version": "2.0",
                "query": query,
                "startRecord": start,
                "maximumRecords": size,
                "recordSchema": "gzd",
            },
            accept="application/xml",
            allow_status=(400,),
        )
        page = parse_response(response.content)
        if response.status == 400 and not page.records:
            raise UsageError(f"the SRU service rejected the query {query!r}")
        for record in page.records:
            yield record
            yielded += 1
            if max_records is not None and yielded >= max_records:
                return
        start += size
        if not page.records or start > page.number_of_records:
            return


def lookup(client: HttpClient, doc_id: str) -> SruRecord | None:
    """The record of exactly ``doc_id``, or None when the service does not know it."""
    check_id(doc_id)
    for record in search(client, f"dt.identifier=={quote_term(doc_id)}", page_size=10):
        if record.identifier == doc_id:
            return record
    return None


def cited_by(
    client: HttpClient,
    doc_id: str,
    label_forms: list[str],
    max_records: int | None = 1000,
) -> list[str]:
    """Ids of publications whose text contains any of ``label_forms`` (ways to cite ``doc_id``).

    A full-text search, so it finds what the service indexes as text: a candidate list, not a
    proof of citation. The document itself is left out; order is first found, first listed.
    """
    check_id(doc_id)
    found: list[str] = []
    for form in label_forms:
        form = " ".join(form.split())
        if not form:
            continue
        cql = f"cql.textAndIndexes={quote_term(form)}"
        for record in search(client, cql, max_records=max_records):
            if record.identifier != doc_id and record.identifier not in found:
                found.append(record.identifier)
    return found
