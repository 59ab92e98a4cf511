"""Metadata records of official publications into Document fields.

``metadata.xml`` (``metadata_gegevens``), repository.overheid.nl's ``owms-metadata`` and the
``<meta>`` elements embedded in repository XML all become the same fields (id, title, date,
dossier, type, …); the dates a document's own text states ("Den Haag, 13 mei 2019",
"Donderdag 8 februari 2018") are read here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from searchdoc.parse.officialxml import (
    canonical_id,
    clean_text,
    kind_of,
    normalize_dossier,
    normalize_vergaderjaar,
)
from searchdoc.parse.safexml import load_xml, local_name

_ID_VERGADERJAAR = re.compile(r"^(?:ah|h|kv)-[a-z]{2}-(\d{4})(\d{4})\b")

_REPEATABLE = {
    "OVERHEIDop.indiener",
    "OVERHEIDop.ontvanger",
    "OVERHEIDop.behandeldDossier",
    "OVERHEIDop.bijlage",
    "OVERHEIDop.dossiernummer",
    "DC.type",
    "DC.subject",
    "DCTERMS.relation",
    "OVERHEID.category",
}
_SUBTYPE_SCHEMES = (
    "OVERHEIDop.KamerstukTypen",
    "OVERHEIDop.AanhangselTypen",
    "OVERHEIDop.KamervraagTypen",
    "OVERHEIDop.HandelingTypen",
    "OVERHEIDop.Rubriek",
)
#: The namespaces of repository.overheid.nl's ``owms-metadata`` and the prefix their names take
#: in metadata.xml (``dcterms:identifier`` is ``DC.identifier`` there).
_OWMS_NAMESPACES = {
    "http://purl.org/dc/terms/": "DCTERMS.",
    "http://standaarden.overheid.nl/owms/terms/": "OVERHEID.",
    "http://standaarden.overheid.nl/oep/meta/": "OVERHEIDop.",
    "http://standaarden.overheid.nl/wetgeving/": "OVERHEIDop.",
}
_DC_CORE = {"identifier", "title", "type", "creator", "language", "subject", "format"}


def parse_metadata_xml(data: bytes) -> dict:
    """``metadata.xml`` (``metadata_gegevens``) or a repository ``owms-metadata`` → the fields
    of a Document plus the raw values.

    Keys: id, title (the stuk's own title), full_title (``DC.title`` as given), date, dossier
    (list), number, vergaderjaar (``2018-2019``), chamber, doc_type, kind, dossier_title, and
    ``raw`` (name → value, or a list for repeatable names such as OVERHEIDop.indiener,
    OVERHEIDop.behandeldDossier and OVERHEIDop.bijlage).
    """
    root = load_xml(data, roots=("metadata_gegevens", "owms-metadata"), what="metadata.xml")
    if local_name(root) == "owms-metadata":
        return metadata_from_entries(_owms_entries(root))
    entries = [
        (element.get("name") or "", element.get("scheme") or "", element.get("content") or "")
        for element in root.iter()
        if element is not root and local_name(element) == "metadata"
    ]
    return metadata_from_entries(entries)


def _owms_entries(root) -> list[tuple[str, str, str]]:
    """(name, scheme, content) of each leaf of an ``owms-metadata`` tree, named as in metadata.xml."""
    entries = []
    for element in root.iter():
        if not isinstance(element.tag, str) or len(element):
            continue
        local = local_name(element)
        namespace = element.tag[1:].split("}", 1)[0] if element.tag.startswith("{") else ""
        if "." in local:  # written with a dot instead of a namespace: dcterms.modified
            prefix, _, local = local.partition(".")
            name = ("DC." if prefix.lower() == "dcterms" and local in _DC_CORE else prefix.upper() + ".") + local
        elif namespace in _OWMS_NAMESPACES:
            prefix = _OWMS_NAMESPACES[namespace]
            name = ("DC." if prefix == "DCTERMS." and local in _DC_CORE else prefix) + local
        else:
            continue
        entries.append((name, element.get("scheme") or "", element.text or ""))
    return entries


def metadata_from_entries(entries: Iterable[tuple[str, str, str]]) -> dict:
    """Map (name, scheme, content) triples of metadata.xml or HTML ``<meta>`` tags to fields.

    Names are matched case-insensitively (HTML pages write ``dcterms.identifier``); ``raw``
    keeps the names as written.
    """
    raw: dict[str, Any] = {}
    by_name: dict[str, list[tuple[str, str]]] = {}
    repeatable = {name.lower() for name in _REPEATABLE}
    for name, scheme, content in entries:
        name = name.strip()
        if not name:
            continue
        value = clean_text(content)
        by_name.setdefault(name.lower(), []).append((scheme.strip(), value))
        if name.lower() in repeatable:
            raw.setdefault(name, []).append(value)
        elif name in raw:
            existing = raw[name]
            raw[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            raw[name] = value

    def first(name: str, scheme: str | None = None) -> str | None:
        for item_scheme, value in by_name.get(name.lower(), []):
            if value and (scheme is None or item_scheme == scheme):
                return value
        return None

    doc_id = canonical_id(first("DC.identifier") or first("dcterms.identifier"))
    kind = kind_of(doc_id)
    if kind == "aanhangsel":
        date = first("OVERHEIDop.datumOntvangst") or first("DCTERMS.issued")
    elif kind == "handelingen":
        date = first("OVERHEIDop.datumVergadering") or first("DCTERMS.issued")
    else:
        date = first("DCTERMS.issued") or first("OVERHEIDop.datumOntvangst")
    date = date or first("DCTERMS.available") or first("OVERHEIDop.datumIndiening")
    dossiers: list[str] = []
    for _, value in by_name.get("overheidop.dossiernummer", []):
        normalized = normalize_dossier(value)
        if normalized and normalized not in dossiers:
            dossiers.append(normalized)
    doc_type = None
    for scheme in _SUBTYPE_SCHEMES:
        doc_type = doc_type or first("DC.type", scheme)
    doc_type = doc_type or first("DC.type", "OVERHEIDop.Parlementair")
    doc_type = doc_type or next(
        (value for scheme, value in by_name.get("dc.type", []) if value and scheme != "OVERHEID.Informatietype"), None
    )
    doc_type = doc_type or first("OVERHEIDop.publicationName")
    number = first("OVERHEIDop.ondernummer")
    if number is None and kind in ("aanhangsel", "handelingen") and doc_id:
        number = _number_from_id(doc_id)
    full_title = first("DC.title") or first("dcterms.title") or first("OVERHEIDop.documenttitel")
    return {
        "id": doc_id,
        "title": _own_title(full_title, first("OVERHEIDop.dossiertitel")) if kind == "kamerstuk" else full_title,
        "full_title": full_title,
        "date": _iso_date(date),
        "dossier": dossiers,
        "number": number,
        "vergaderjaar": normalize_vergaderjaar(first("OVERHEIDop.vergaderjaar")) or _vergaderjaar_from_id(doc_id),
        "chamber": first("DC.creator", "OVERHEID.StatenGeneraal") or first("DC.creator"),
        "doc_type": doc_type,
        "kind": kind or None,
        "dossier_title": first("OVERHEIDop.dossiertitel"),
        "raw": raw,
    }


def _own_title(full: str | None, dossier_title: str | None) -> str | None:
    """The stuk's own title in a Kamerstuk's ``DC.title`` ("dossier; type; own title"): the
    part after the dossier title and the type, or the type when there is nothing more."""
    if not full:
        return full
    if dossier_title and full.startswith(dossier_title + "; "):
        rest = full[len(dossier_title) + 2 :]
    else:
        parts = full.split("; ")
        if len(parts) < 3:
            return full
        rest = "; ".join(parts[1:])
    return rest.split("; ", 1)[1] if "; " in rest else rest


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", value)
    if match:
        return match.group(0)
    match = re.match(r"(\d{2})-(\d{2})-(\d{4})$", value)
    return f"{match.group(3)}-{match.group(2)}-{match.group(1)}" if match else None


_MONTHS = {
    name: number
    for number, name in enumerate(
        "januari februari maart april mei juni juli augustus september oktober november december".split(),
        start=1,
    )
}
_LETTER_DATE = re.compile(
    r"^(?:Den Haag|[’'‘`]s-Gravenhage|Brussel|Luxemburg)\s*,?\s+(\d{1,2})\s+([a-z]+)\s+(\d{4})[.,]?$",
    re.IGNORECASE,
)


_DUTCH_DATE = re.compile(r"\b(\d{1,2})\s+([a-z]+)\s+(\d{4})\b", re.IGNORECASE)


def dutch_date(text: str | None) -> str | None:
    """The ISO date in a Dutch date as printed ("Donderdag 8 februari 2018" → 2018-02-08)."""
    import datetime

    for match in _DUTCH_DATE.finditer(clean_text(text)):
        month = _MONTHS.get(match.group(2).lower())
        if month:
            try:
                return datetime.date(int(match.group(3)), month, int(match.group(1))).isoformat()
            except ValueError:
                continue
    return None


_CLOSING_DATE = re.compile(r"^[A-Z][\w'’. -]{1,40},\s+(\d{1,2}\s+[a-z]+\s+\d{4})\.?$", re.IGNORECASE)


def closing_date(lines: Iterable[str]) -> str | None:
    """The ISO date of a closing "Winschoten, 14 juni 2017" line of a gazette notice."""
    for line in lines:
        match = _CLOSING_DATE.match(clean_text(line))
        if match and dutch_date(match.group(1)):
            return dutch_date(match.group(1))
    return None


def letter_date(lines: Iterable[str]) -> str | None:
    """The ISO date of a letter's "Den Haag, 13 mei 2019" line, if one of ``lines`` is one."""
    import datetime

    for line in lines:
        match = _LETTER_DATE.match(clean_text(line))
        month = _MONTHS.get(match.group(2).lower()) if match else None
        if match and month:
            try:
                return datetime.date(int(match.group(3)), month, int(match.group(1))).isoformat()
            except ValueError:
                continue
    return None


def _number_from_id(doc_id: str) -> str | None:
    parts = doc_id.split("-")
    if parts[0] == "ah" and len(parts) >= 4:
        return parts[3]
    if parts[0] == "h" and len(parts) >= 4:
        return "-".join(parts[3:])
    if parts[0] == "kst" and len(parts) >= 3:
        return parts[-1] if not re.fullmatch(r"[hbn]\d+", parts[-1]) else parts[-2]
    return None


def _vergaderjaar_from_id(doc_id: str | None) -> str | None:
    match = _ID_VERGADERJAAR.match(doc_id or "")
    return normalize_vergaderjaar(match.group(1) + match.group(2)) if match else None
