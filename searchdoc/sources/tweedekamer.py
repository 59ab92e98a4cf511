"""The Tweede Kamer open data service (OData v4): a zaak's documents and their OB ids.

A citation such as ``2019Z01633`` names a zaak (case), not a document; the zaak's documents map
to official publication ids: Kamerstukken via their dossier and volgnummer, answers to written
questions via their Aanhangselnummer, unanswered questions via the zaak number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from searchdoc.errors import FetchError, InvalidIdentifierError, NotFoundError
from searchdoc.sources.http import HttpClient

_ZAAK_RE = re.compile(r"\d{4}Z\d{5}")
_DOCUMENT_RE = re.compile(r"\d{4}D\d{5}")
_VERGADERJAAR_RE = re.compile(r"(\d{4})\s*[-/–]\s*(\d{4})")
# A Rijkswet marker such as "(R2097)" is part of the TK toevoeging but not of the OB id.
_RIJKSWET = re.compile(r"\(\s*R\s*\d+\s*\)")
_JSON = "application/json"


@dataclass
class KamerstukDossier:
    nummer: int
    toevoeging: str | None = None


@dataclass
class TkDocument:
    """The fields of a TK Document that searchdoc uses."""

    id: str
    soort: str | None = None
    document_nummer: str | None = None
    volgnummer: int | None = None
    vergaderjaar: str | None = None
    aanhangselnummer: str | None = None
    titel: str | None = None
    onderwerp: str | None = None
    datum: str | None = None
    verwijderd: bool = False
    dossiers: list[KamerstukDossier] = field(default_factory=list)

    @property
    def is_answer(self) -> bool:
        return (self.soort or "").strip().lower().startswith("antwoord")


def _check(value: str, pattern: re.Pattern[str], what: str, example: str) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    if not pattern.fullmatch(value):
        raise InvalidIdentifierError(f"{value!r} is not a Tweede Kamer {what} (e.g. {example})")
    return value


def _document_from_json(item: Mapping[str, Any]) -> TkDocument:
    raw_dossiers = item.get("Kamerstukdossier") or []
    if isinstance(raw_dossiers, Mapping):
        raw_dossiers = [raw_dossiers]
    dossiers = []
    for d in raw_dossiers:
        try:
            nummer = int(d.get("Nummer"))
        except (TypeError, ValueError):
            continue
        toevoeging = d.get("Toevoeging")
        dossiers.append(KamerstukDossier(nummer, str(toevoeging) if toevoeging else None))
    volgnummer = item.get("Volgnummer")
    aanhangsel = item.get("Aanhangselnummer")
    return TkDocument(
        id=str(item.get("Id", "")),
        soort=item.get("Soort"),
        document_nummer=item.get("DocumentNummer"),
        volgnummer=int(volgnummer) if isinstance(volgnummer, (int, float)) else None,
        vergaderjaar=item.get("Vergaderjaar"),
        aanhangselnummer=str(aanhangsel).strip() if aanhangsel not in (None, "") else None,
        titel=item.get("Titel"),
        onderwerp=item.get("Onderwerp"),
        datum=item.get("Datum"),
        verwijderd=bool(item.get("Verwijderd", False)),
        dossiers=dossiers,
    )


def _get_json(client: HttpClient, url: str, params: Mapping[str, Any] | None = None) -> dict:
    data = client.get(url, params, accept=_JSON).json()
    if not isinstance(data, dict):
        raise FetchError(f"{url}: unexpected answer from the Tweede Kamer service")
    return data


def _values(
    client: HttpClient, url: str, params: Mapping[str, Any] | None = None, key: str = "value"
) -> Iterator[dict]:
    """Every item of an OData collection, following ``@odata.nextLink``.

    Never combined with ``$top``: the service drops nextLink when ``$top`` is present.
    """
    seen: set[str] = set()
    data = _get_json(client, url, params)
    while True:
        items = data.get(key)
        if not isinstance(items, list):
            raise FetchError(f"{url}: the Tweede Kamer service sent no '{key}' list")
        yield from (item for item in items if isinstance(item, dict))
        next_link = data.get("@odata.nextLink")
        if not next_link or next_link in seen:
            return
        seen.add(next_link)
        data = _get_json(client, next_link)


def _base(client: HttpClient) -> str:
    return client.settings.tk_url.rstrip("/")


def zaak_documents(client: HttpClient, zaak_nummer: str) -> list[TkDocument]:
    """The documents of zaak ``zaak_nummer`` (e.g. 2019Z01633), without deleted ones.

    Raises NotFoundError when the service knows no such zaak.
    """
    zaak_nummer = _check(zaak_nummer, _ZAAK_RE, "zaak number", "2019Z01633")
    params = {
        "$filter": f"Nummer eq '{zaak_nummer}' and Verwijderd eq false",
        "$expand": "Document($filter=Verwijderd eq false;$expand=Kamerstukdossier)",
    }
    documents: list[TkDocument] = []
    seen: set[str] = set()
    zaken = 0
    for zaak in _values(client, f"{_base(client)}/Zaak", params):
        zaken += 1
        items = list(zaak.get("Document") or [])
        next_link = zaak.get("Document@odata.nextLink")
        if next_link:
            items.extend(_values(client, next_link))
        for item in items:
            doc = _document_from_json(item)
            if doc.verwijderd or doc.id in seen:
                continue
            seen.add(doc.id)
            documents.append(doc)
    if zaken == 0:
        raise NotFoundError(f"the Tweede Kamer service knows no zaak {zaak_nummer}")
    return documents


def document_by_number(client: HttpClient, document_nummer: str) -> TkDocument | None:
    """The document with DocumentNummer ``document_nummer`` (e.g. 2019D12345), or None."""
    document_nummer = _check(document_nummer, _DOCUMENT_RE, "document number", "2019D12345")
    params = {
        "$filter": f"DocumentNummer eq '{document_nummer}' and Verwijderd eq false",
        "$expand": "Kamerstukdossier",
    }
    for item in _values(client, f"{_base(client)}/Document", params):
        doc = _document_from_json(item)
        if not doc.verwijderd:
            return doc
    return None


def _vergaderjaar_digits(doc: TkDocument, aanhangsel: str) -> str | None:
    match = _VERGADERJAAR_RE.search(doc.vergaderjaar or "")
    if match:
        return match.group(1) + match.group(2)
    # Without a Vergaderjaar the number's first two digit pairs give the two years.
    if len(aanhangsel) >= 5 and aanhangsel[:2].isdigit():
        yy = int(aanhangsel[:2])
        start = 2000 + yy if yy < 90 else 1900 + yy
        return f"{start}{start + 1}"
    return None


def ob_id_for(doc: TkDocument, zaak_nummer: str | None = None) -> str | None:
    """The official publication id of a TK document, or None when it has none.

    Kamerstuk: ``kst-{Nummer}[-{Toevoeging}]-{Volgnummer}`` (a Rijkswet ``(R…)`` dropped).
    Answer or notice with an Aanhangselnummer such as ``181901876``: ``ah-tk-20182019-1876``.
    Written questions: ``kv-tk-{zaak}``.
    """
    if doc.volgnummer is not None and doc.volgnummer > 0 and doc.dossiers:
        dossier = doc.dossiers[0]
        toevoeging = _RIJKSWET.sub("", dossier.toevoeging or "").strip().replace(" ", "")
        middle = f"-{toevoeging}" if toevoeging else ""
        return f"kst-{dossier.nummer}{middle}-{doc.volgnummer}"
    aanhangsel = doc.aanhangselnummer or ""
    if aanhangsel.isdigit() and len(aanhangsel) >= 5 and int(aanhangsel[4:]) > 0:
        jaar = _vergaderjaar_digits(doc, aanhangsel)
        if jaar:
            return f"ah-tk-{jaar}-{int(aanhangsel[4:])}"
    soort = (doc.soort or "").strip().lower()
    if soort == "schriftelijke vragen" and zaak_nummer and _ZAAK_RE.fullmatch(zaak_nummer):
        return f"kv-tk-{zaak_nummer}"
    return None


def resolve_zaak(client: HttpClient, zaak: str) -> list[str]:
    """The OB ids of the documents of ``zaak``, the answer(s) first, without duplicates."""
    zaak = _check(zaak, _ZAAK_RE, "zaak number", "2019Z01633")
    documents = zaak_documents(client, zaak)
    ordered = sorted(documents, key=lambda d: not d.is_answer)
    ids: list[str] = []
    for doc in ordered:
        ob_id = ob_id_for(doc, zaak)
        if ob_id and ob_id not in ids:
            ids.append(ob_id)
    return ids
