"""Raw documents from zoek.officielebekendmakingen.nl (OB) and their repository (FRBR) URLs.

The official XML is the best source; it is missing for some documents, or holds nothing but its
metadata, so we fall back to the HTML page and then the PDF. Only the bytes and their provenance
leave this module; ``searchdoc.parse`` reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from searchdoc import settings as defaults
from searchdoc.errors import InvalidIdentifierError, NotFoundError
from searchdoc.sources.http import HttpClient, Response

#: An OB id: a lower-case prefix and dash-separated parts of letters and digits (no dots or
#: slashes, so an id can never change the path of a URL).
_ID_RE = re.compile(r"[a-z]{1,8}(?:-[A-Za-z0-9]{1,40}){1,8}")
_XML_ROOT = re.compile(rb"<(?![?!])([A-Za-z_][\w.:-]*)")
_METADATA_BLOCK = re.compile(rb"<metadata\b[^>]*/>|<metadata\b.*?</metadata\s*>", re.DOTALL)
_NO_HTML_TEXT = re.compile(rb"niet\s+beschikbaar\s+in\s+html-formaat", re.IGNORECASE)
# A trailing reprint marker (kst-26643-144-h1) is not part of the FRBR group.
_REPRINT = re.compile(r"-[hbn]\d+$")

FORMATS = ("xml", "html", "pdf")
_FRBR_FILES = {
    "xml": "xml/{id}.xml",
    "html": "html/{id}.html",
    "pdf": "pdf/{id}.pdf",
    "odt": "odt/{id}.odt",
    "metadata": "metadata/metadata.xml",
    "metadataowms": "metadataowms/metadata_owms.xml",
}


@dataclass
class FetchedDocument:
    """The raw bytes of one document in the best format available, with provenance."""

    id: str
    format: str
    content: bytes
    metadata_xml: bytes | None
    url: str
    fetched_at: str
    from_cache: bool = False
    metadata_from_cache: bool = False

    @property
    def unchanged(self) -> bool:
        """True when neither the document nor its metadata changed since the last crawl."""
        return self.from_cache and (self.metadata_xml is None or self.metadata_from_cache)


def check_id(doc_id: str) -> str:
    """``doc_id`` if it is a well-formed OB id, else InvalidIdentifierError."""
    if not isinstance(doc_id, str) or not _ID_RE.fullmatch(doc_id):
        raise InvalidIdentifierError(
            f"{doc_id!r} is not an official publication id (expected e.g. kst-33694-45)"
        )
    return doc_id


def id_from_url(url: str) -> str | None:
    """The OB id in an OB page URL (``/dossier/kst-29665-385.html``, ``/kst-1-2/metadata.xml``)."""
    segments = [unquote(s) for s in urlsplit(url).path.split("/") if s]
    for segment in reversed(segments):
        stem = re.sub(r"\.(html?|xml|pdf|odt)$", "", segment, flags=re.IGNORECASE)
        if _ID_RE.fullmatch(stem):
            return stem
    return None


def ob_url(doc_id: str, fmt: str, base: str = defaults.OB_URL) -> str:
    """The OB URL of a manifestation: ``xml``, ``html``, ``pdf`` or ``metadata``."""
    check_id(doc_id)
    if fmt == "metadata":
        return f"{base.rstrip('/')}/{doc_id}/metadata.xml"
    return f"{base.rstrip('/')}/{doc_id}.{fmt}"


def frbr_url(
    doc_id: str,
    manifestation: str = "xml",
    base: str = defaults.REPOSITORY_URL,
    expression: str = "1",
) -> str:
    """The repository.overheid.nl FRBR URL of one manifestation of ``doc_id``.

    ``…/{type}/{group}/{id}/{expression}/{manifestation}/{file}``; the group is the dossier
    (with suffix) for Kamerstukken, the vergaderjaar for Handelingen and Aanhangsels, the year
    for Staatsblad/Staatscourant/Kamervragen, and ``onopgemaakt`` for bijlagen.
    """
    check_id(doc_id)
    if manifestation not in _FRBR_FILES:
        raise InvalidIdentifierError(
            f"unknown manifestation {manifestation!r}; expected one of {', '.join(_FRBR_FILES)}"
        )
    doc_type, group = _frbr_type_and_group(doc_id)
    file = _FRBR_FILES[manifestation].format(id=doc_id)
    return f"{base.rstrip('/')}/{doc_type}/{group}/{doc_id}/{expression}/{file}"


def _frbr_type_and_group(doc_id: str) -> tuple[str, str]:
    parts = doc_id.split("-")
    if len(parts) >= 3 and parts[1] in ("tk", "ek"):
        doc_type, rest = f"{parts[0]}-{parts[1]}", parts[2:]
    else:
        doc_type, rest = parts[0], parts[1:]
    if doc_type == "kst":
        core = _REPRINT.sub("", "-".join(rest)).split("-")
        group = "-".join(core[:-1]) if len(core) > 1 else core[0]
    elif doc_type == "blg":
        group = "onopgemaakt"
    else:
        # Vergaderjaar (h-tk, ah-tk) or year (stb, stcrt, trb, kv-tk's zaak 2019Z…).
        group = rest[0][:8] if rest[0][:8].isdigit() else rest[0][:4]
    return doc_type, group


def xml_root(content: bytes) -> str | None:
    """The name of the root element, read cheaply from the first 2 KB."""
    head = content[:2048]
    # Skip the XML declaration, processing instructions, comments and a doctype.
    head = re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", b"", head, flags=re.DOTALL)
    match = _XML_ROOT.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


#: Root elements of official XML: the current form and the older Kamerstuk dialect (1995–2009).
OFFICIAL_ROOTS = ("officiele-publicatie", "kamerwrk")


def has_official_content(content: bytes) -> bool:
    """True for official XML (``officiele-publicatie`` or ``kamerwrk``) with more in it than its
    ``<metadata>`` block."""
    root = xml_root(content)
    if root not in OFFICIAL_ROOTS:
        return False
    body = _METADATA_BLOCK.sub(b"", content, count=1)
    start = body.find(b"<" + root.encode())
    inner_start = body.find(b">", start) + 1
    inner_end = body.rfind(b"</" + root.encode())
    inner = body[inner_start : inner_end if inner_end >= inner_start else len(body)]
    return re.search(rb"<[A-Za-z_]", inner) is not None


def fetch_document(client: HttpClient, doc_id: str) -> FetchedDocument:
    """Fetch ``doc_id`` from OB: the XML if it is a real publication, else HTML, else PDF.

    Also fetches ``{id}/metadata.xml`` (None when it is missing). Raises NotFoundError when no
    format exists; other fetch errors propagate rather than silently picking a worse format.
    """
    check_id(doc_id)
    base = client.settings.ob_url
    chosen: tuple[str, Response] | None = None
    try:
        xml = client.get(ob_url(doc_id, "xml", base), accept="application/xml")
        if has_official_content(xml.content):
            chosen = ("xml", xml)
    except NotFoundError:
        pass
    if chosen is None:
        try:
            html = client.get(ob_url(doc_id, "html", base), accept="text/html")
            if not _NO_HTML_TEXT.search(html.content[:200_000]):
                chosen = ("html", html)
        except NotFoundError:
            pass
    if chosen is None:
        try:
            pdf = client.get(ob_url(doc_id, "pdf", base), accept="application/pdf")
            if pdf.content.lstrip()[:5] == b"%PDF-":
                chosen = ("pdf", pdf)
        except NotFoundError:
            pass
    if chosen is None:
        raise NotFoundError(f"{doc_id} was not found at {base} (no XML, HTML or PDF)")
    metadata, metadata_from_cache = fetch_metadata(client, doc_id)
    fmt, response = chosen
    return FetchedDocument(
        id=doc_id,
        format=fmt,
        content=response.content,
        metadata_xml=metadata,
        url=response.url,
        fetched_at=response.fetched_at,
        from_cache=response.from_cache,
        metadata_from_cache=metadata_from_cache,
    )


def fetch_metadata(client: HttpClient, doc_id: str) -> tuple[bytes | None, bool]:
    """The ``metadata.xml`` of ``doc_id`` and whether it came from the cache; None if absent."""
    try:
        response = client.get(
            ob_url(doc_id, "metadata", client.settings.ob_url), accept="application/xml"
        )
    except NotFoundError:
        return None, False
    if xml_root(response.content) not in ("metadata_gegevens", "owms-metadata"):
        return None, False
    return response.content, response.from_cache
