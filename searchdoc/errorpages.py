"""Recognising the "page not found" answers of the publication platform.

zoek.officielebekendmakingen.nl often answers an unknown id with HTTP 200 and a Dutch error
page, or redirects to ``Errors/404.htm`` (``fout404`` on the repository). Both the fetch layer
(so a not-found is never stored) and the HTML parser (so such a page is never ingested) ask
this one detector. Pure: bytes and strings in, a boolean out.
"""

from __future__ import annotations

import re

_ERROR_URL = re.compile(r"errors/404\.htm|fout404", re.IGNORECASE)
_ERROR_TEXT = re.compile(
    r"404\s*[:\-–]\s*pagina\s+niet\s+gevonden"
    r"|pagina\s+die\s+u\s+zocht\s+(?:kon|kan)\s+niet\s+(?:worden\s+)?gevonden"
    r"|<title>[^<]*pagina\s+niet\s+gevonden",
    re.IGNORECASE,
)
_NOT_HTML_TYPES = ("xml", "pdf", "json")
_NOT_HTML_STARTS = (b"<?xml", b"%pdf-", b"{", b"[", b"<officiele-publicatie", b"<kamerwrk",
                    b"<metadata_gegevens", b"<owms-metadata")
_SNIFF_BYTES = 200_000


def is_error_url(url: str | None) -> bool:
    """True for the URL of an error page (the target of a not-found redirect)."""
    return bool(url and _ERROR_URL.search(url))


def is_soft_404(content: bytes, content_type: str | None = None, url: str | None = None) -> bool:
    """True when an answer is really a "page not found" page rather than a publication.

    Recognised by the final URL, or by the Dutch error texts ("404: Pagina niet gevonden",
    "De pagina die u zocht kon niet worden gevonden") near the top of an HTML body. An XML,
    PDF or JSON answer that happens to quote such a phrase is still a publication.
    """
    if is_error_url(url):
        return True
    if not content:
        return False
    if content_type and any(kind in content_type.lower() for kind in _NOT_HTML_TYPES):
        return False
    head = content[:_SNIFF_BYTES]
    if head.lstrip()[:25].lower().startswith(_NOT_HTML_STARTS):
        return False
    return bool(_ERROR_TEXT.search(head.decode("utf-8", errors="replace")))
