"""A hardened XML loader for everything searchdoc reads from the network or from disk.

Official XML never carries a DTD, so any entity declaration or external DTD is treated as hostile
and refused before a single entity is expanded: this stops billion-laughs and quadratic blow-up
documents, external entities (``file://``, ``http://``) and DTD fetches. lxml is additionally
configured never to resolve entities, never to touch the network, never to load a DTD, and to
keep libxml2's limits on text size, nesting depth and entity amplification (``huge_tree=False``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from searchdoc import settings
from searchdoc.errors import ParseError, UnsafeContentError

if TYPE_CHECKING:
    from lxml import etree

# "<!ENTITY" can only occur in a DTD (in content a "<" must be escaped), so finding it anywhere
# means a DTD that declares entities. Checked in the encodings an XML file can start in.
_ENTITY_MARKERS = tuple("<!ENTITY".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))
_DOCTYPE_MARKERS = tuple("<!DOCTYPE".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))
_HOSTILE_MESSAGE = re.compile(r"amplification|entity reference loop|entities|entity", re.IGNORECASE)


def load_xml(
    data: bytes,
    roots: tuple[str, ...] | None = None,
    max_bytes: int | None = None,
    what: str = "XML",
) -> etree._Element:
    """Parse ``data`` safely and return its root element.

    Raises UnsafeContentError for oversized input, entity declarations, external DTDs and
    entity expansion attacks, and ParseError for malformed XML or, when ``roots`` is given, a
    root element whose local name is not one of ``roots``.
    """
    from lxml import etree

    limit = settings.MAX_RESPONSE_BYTES if max_bytes is None else max_bytes
    if not isinstance(data, (bytes, bytearray)):
        raise ParseError(f"{what} must be bytes, not {type(data).__name__}")
    if len(data) > limit:
        raise UnsafeContentError(f"{what} of {len(data)} bytes exceeds the limit of {limit} bytes")
    if not data.strip():
        raise ParseError(f"{what} is empty")
    if any(marker in data for marker in _ENTITY_MARKERS):
        raise UnsafeContentError(f"{what} declares entities in a DTD; refused")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    try:
        root = etree.fromstring(bytes(data), parser)
    except etree.XMLSyntaxError as exc:
        message = _one_line(str(exc))
        if _HOSTILE_MESSAGE.search(message) and any(m in data for m in _DOCTYPE_MARKERS):
            raise UnsafeContentError(f"{what} uses entity expansion; refused ({message})") from None
        raise ParseError(f"{what} is not well-formed: {message}") from None
    except ValueError as exc:
        raise ParseError(f"{what} cannot be parsed: {_one_line(str(exc))}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.system_url or docinfo.public_id:
        raise UnsafeContentError(f"{what} refers to an external DTD; refused")
    dtd = docinfo.internalDTD
    if dtd is not None and (any(True for _ in dtd.iterentities()) or dtd.system_url):
        raise UnsafeContentError(f"{what} declares entities in a DTD; refused")
    if any(True for _ in root.iter(etree.Entity)):
        raise UnsafeContentError(f"{what} contains unresolved entity references; refused")
    if roots is not None and local_name(root) not in roots:
        expected = " or ".join(f"<{r}>" for r in roots)
        raise ParseError(f"{what} has root element <{local_name(root)}>, expected {expected}")
    return root


def local_name(element) -> str:
    """The tag of ``element`` without its namespace ('' for comments and the like)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _one_line(message: str) -> str:
    return " ".join(message.split())[:300]
