"""The service clients (OB documents, SRU search, TK OData) against a local HTTP server."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug import Response as WResponse

from searchdoc.errors import FetchError, InvalidIdentifierError, NotFoundError, UsageError
from searchdoc.settings import Settings
from searchdoc.sources import officielebekendmakingen as ob
from searchdoc.sources import sru, tweedekamer
from searchdoc.sources.http import HttpClient
from searchdoc.sources.tweedekamer import KamerstukDossier, TkDocument

DATA = Path(__file__).parent / "data" / "services"

OFFICIAL_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<?xpp sp?>
<!-- comment before the root -->
<officiele-publicatie xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:noNamespaceSchemaLocation="http://technische-documentatie.oep.overheid.nl/schema/op-xsd-2012-2">
  <metadata><meta name="OVERHEIDop.externMetadataRecord" scheme=""
    content="https://zoek.officielebekendmakingen.nl/kst-33694-45/metadata.xml"/></metadata>
  <kamerstuk><stuk><algemeen><vrije-tekst><tekst><al>Geachte voorzitter,</al></tekst>
  </vrije-tekst></algemeen></stuk></kamerstuk>
</officiele-publicatie>
"""
METADATA_ONLY_XML = b"""<?xml version="1.0"?>
<officiele-publicatie><metadata><meta name="DC.identifier" content="kst-1-2"/></metadata>
</officiele-publicatie>"""
METADATA_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<metadata_gegevens>
  <metadata name="DC.identifier" scheme="" content="kst-33694-45"/>
</metadata_gegevens>
"""
HTML_PAGE = (
    b"<!DOCTYPE html><html><body><div id='broodtekst'>Geachte voorzitter,</div></body></html>"
)
SOFT_404 = b"<html><body><h1>404: Pagina niet gevonden</h1></body></html>"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture
def client(tmp_path, httpserver):
    base = httpserver.url_for("/").rstrip("/")
    settings = Settings(
        corpus_dir=tmp_path / "corpus",
        index_dir=tmp_path / "index",
        ob_url=base,
        sru_url=base + "/sru",
        tk_url=base + "/OData/v4/2.0",
        repository_url=base + "/frbr/officielepublicaties",
        delay=0,
    )
    with HttpClient(settings, tmp_path / "http-cache", trust_env=False, sleep=lambda s: None) as c:
        yield c


def paths(httpserver) -> list[str]:
    return [request.path for request, _ in httpserver.log]


# --- officielebekendmakingen -------------------------------------------------------------


def test_fetch_document_prefers_official_xml(httpserver, client):
    httpserver.expect_request("/kst-33694-45.xml").respond_with_data(
        OFFICIAL_XML, content_type="application/xml", headers={"ETag": '"x1"'}
    )
    httpserver.expect_request("/kst-33694-45/metadata.xml").respond_with_data(
        METADATA_XML, content_type="application/xml"
    )
    doc = ob.fetch_document(client, "kst-33694-45")
    assert (doc.id, doc.format) == ("kst-33694-45", "xml")
    assert doc.content == OFFICIAL_XML and doc.metadata_xml == METADATA_XML
    assert doc.url == httpserver.url_for("/kst-33694-45.xml")
    assert doc.fetched_at and not doc.from_cache
    assert paths(httpserver) == ["/kst-33694-45.xml", "/kst-33694-45/metadata.xml"]


def test_xml_with_only_metadata_falls_back_to_html(httpserver, client):
    httpserver.expect_request("/kst-1-2.xml").respond_with_data(METADATA_ONLY_XML)
    httpserver.expect_request("/kst-1-2.html").respond_with_data(
        HTML_PAGE, content_type="text/html"
    )
    httpserver.expect_request("/kst-1-2/metadata.xml").respond_with_data("", status=404)
    doc = ob.fetch_document(client, "kst-1-2")
    assert doc.format == "html" and doc.content == HTML_PAGE
    assert doc.metadata_xml is None


def test_xml_that_is_not_a_publication_falls_back(httpserver, client):
    httpserver.expect_request("/ah-tk-20182019-264.xml").respond_with_data(
        "<html><body>Zoeken</body></html>", content_type="text/html"
    )
    httpserver.expect_request("/ah-tk-20182019-264.html").respond_with_data(HTML_PAGE)
    httpserver.expect_request("/ah-tk-20182019-264/metadata.xml").respond_with_data(METADATA_XML)
    assert ob.fetch_document(client, "ah-tk-20182019-264").format == "html"


def test_missing_xml_and_soft_404_html_fall_back_to_pdf(httpserver, client):
    httpserver.expect_request("/kst-2-3.xml").respond_with_data(
        "", status=302, headers={"Location": "/Errors/404.htm"}
    )
    httpserver.expect_request("/kst-2-3.html").respond_with_data(SOFT_404, content_type="text/html")
    httpserver.expect_request("/kst-2-3.pdf").respond_with_data(PDF, content_type="application/pdf")
    httpserver.expect_request("/kst-2-3/metadata.xml").respond_with_data(METADATA_XML)
    doc = ob.fetch_document(client, "kst-2-3")
    assert doc.format == "pdf" and doc.content == PDF
    assert "/Errors/404.htm" not in paths(httpserver)


def test_html_saying_not_available_falls_back_to_pdf(httpserver, client):
    httpserver.expect_request("/kst-2-4.xml").respond_with_data("", status=404)
    httpserver.expect_request("/kst-2-4.html").respond_with_data(
        "<html><body>Deze publicatie is niet beschikbaar in HTML-formaat.</body></html>"
    )
    httpserver.expect_request("/kst-2-4.pdf").respond_with_data(PDF)
    httpserver.expect_request("/kst-2-4/metadata.xml").respond_with_data(METADATA_XML)
    assert ob.fetch_document(client, "kst-2-4").format == "pdf"


def test_unknown_document_is_not_found(httpserver, client):
    httpserver.expect_request("/kst-9-9.xml").respond_with_data("", status=404)
    httpserver.expect_request("/kst-9-9.html").respond_with_data(SOFT_404)
    httpserver.expect_request("/kst-9-9.pdf").respond_with_data("", status=404)
    with pytest.raises(NotFoundError, match="kst-9-9"):
        ob.fetch_document(client, "kst-9-9")


def test_server_error_is_not_hidden_by_fallback(httpserver, client):
    httpserver.expect_request("/kst-9-8.xml").respond_with_data("", status=500)
    with pytest.raises(FetchError) as info:
        ob.fetch_document(client, "kst-9-8")
    assert not isinstance(info.value, NotFoundError)
    assert set(paths(httpserver)) == {"/kst-9-8.xml"}


def test_second_fetch_reports_unchanged(httpserver, client):
    def conditional(body: bytes, etag: str):
        def handler(request):
            if request.headers.get("If-None-Match") == etag:
                return WResponse(status=304, headers={"ETag": etag})
            return WResponse(body, headers={"ETag": etag}, content_type="application/xml")

        return handler

    httpserver.expect_request("/kst-33694-45.xml").respond_with_handler(
        conditional(OFFICIAL_XML, '"a"')
    )
    httpserver.expect_request("/kst-33694-45/metadata.xml").respond_with_handler(
        conditional(METADATA_XML, '"b"')
    )
    assert not ob.fetch_document(client, "kst-33694-45").unchanged
    again = ob.fetch_document(client, "kst-33694-45")
    assert again.unchanged and again.content == OFFICIAL_XML
    assert [r.status_code for _, r in httpserver.log] == [200, 200, 304, 304]


@pytest.mark.parametrize("bad", ["../etc/passwd", "kst-1-2.xml", "kst 1 2", "", "KST-1-2", "kst"])
def test_invalid_ids_are_refused_before_any_request(httpserver, client, bad):
    with pytest.raises(InvalidIdentifierError):
        ob.fetch_document(client, bad)
    assert httpserver.log == []


def test_xml_root_sniffing():
    assert ob.xml_root(OFFICIAL_XML) == "officiele-publicatie"
    assert ob.xml_root(METADATA_XML) == "metadata_gegevens"
    assert ob.has_official_content(OFFICIAL_XML)
    assert not ob.has_official_content(METADATA_ONLY_XML)
    assert not ob.has_official_content(b"<officiele-publicatie><metadata/></officiele-publicatie>")
    assert not ob.has_official_content(METADATA_XML)


@pytest.mark.parametrize(
    ("doc_id", "manifestation", "path"),
    [
        ("kst-26100-1", "xml", "kst/26100/kst-26100-1/1/xml/kst-26100-1.xml"),
        (
            "kst-35000-VIII-22",
            "pdf",
            "kst/35000-VIII/kst-35000-VIII-22/1/pdf/kst-35000-VIII-22.pdf",
        ),
        ("kst-21501-08-928", "html", "kst/21501-08/kst-21501-08-928/1/html/kst-21501-08-928.html"),
        ("kst-35261-B", "xml", "kst/35261/kst-35261-B/1/xml/kst-35261-B.xml"),
        (
            "kst-20032004-29210-D",
            "xml",
            "kst/20032004-29210/kst-20032004-29210-D/1/xml/kst-20032004-29210-D.xml",
        ),
        (
            "ah-tk-20182019-264",
            "metadata",
            "ah-tk/20182019/ah-tk-20182019-264/1/metadata/metadata.xml",
        ),
        (
            "h-tk-20182019-86-22",
            "xml",
            "h-tk/20182019/h-tk-20182019-86-22/1/xml/h-tk-20182019-86-22.xml",
        ),
        ("stcrt-2015-47076", "xml", "stcrt/2015/stcrt-2015-47076/1/xml/stcrt-2015-47076.xml"),
        ("kv-tk-2019Z19322", "xml", "kv-tk/2019/kv-tk-2019Z19322/1/xml/kv-tk-2019Z19322.xml"),
        ("blg-929493", "pdf", "blg/onopgemaakt/blg-929493/1/pdf/blg-929493.pdf"),
    ],
)
def test_frbr_url(doc_id, manifestation, path):
    base = "https://repository.overheid.nl/frbr/officielepublicaties"
    assert ob.frbr_url(doc_id, manifestation) == f"{base}/{path}"


def test_id_from_url():
    assert ob.id_from_url("https://zoek.officielebekendmakingen.nl/dossier/kst-29665-385.html") == (
        "kst-29665-385"
    )
    assert (
        ob.id_from_url("https://zoek.officielebekendmakingen.nl/kst-1-2/metadata.xml") == "kst-1-2"
    )
    assert ob.id_from_url("https://zoek.officielebekendmakingen.nl/ah-tk-20182019-264") == (
        "ah-tk-20182019-264"
    )
    assert ob.id_from_url("https://zoek.officielebekendmakingen.nl/") is None


# --- SRU --------------------------------------------------------------------------------


def sru_pages(httpserver, seen: list[dict]):
    pages = {n: (DATA / f"sru-page{n}.xml").read_bytes() for n in (1, 2, 3)}

    def handler(request):
        seen.append(dict(request.args))
        start = int(request.args["startRecord"])
        return WResponse(pages[(start - 1) // 10 + 1], content_type="text/xml")

    httpserver.expect_request("/sru").respond_with_handler(handler)


def test_sru_pages_by_start_record_arithmetic(httpserver, client):
    seen: list[dict] = []
    sru_pages(httpserver, seen)
    records = list(sru.search(client, "w.dossiernummer==33694", page_size=10))
    assert len(records) == 25
    assert [s["startRecord"] for s in seen] == ["1", "11", "21"]
    assert {s["maximumRecords"] for s in seen} == {"10"}
    for params in seen:
        assert params["operation"] == "searchRetrieve" and params["version"] == "2.0"
        assert params["query"] == (
            "c.product-area==officielepublicaties AND (w.dossiernummer==33694)"
        )
    assert records[0].identifier == "kst-33694-1"
    assert records[-1].identifier == "kst-33694-25"
    joint = records[6]
    assert joint.identifier == "kst-34300-X-109"
    assert joint.dossiernummer == "34300-X" and joint.dossiernummers == ["34300-X", "34300-V"]
    first = records[0]
    assert first.title.startswith("Internationale Veiligheidsstrategie")
    assert first.type == "Kamerstuk" and first.publicatienaam == "Kamerstuk"
    assert first.ondernummer == "1" and first.vergaderjaar == "2018-2019"
    assert first.date == "2019-02-12" and first.available == "2019-02-14"
    assert first.preferred_url == "https://zoek.officielebekendmakingen.nl/kst-33694-1.html"
    assert first.item_urls["xml"].endswith("/kst/33694/kst-33694-1/1/xml/kst-33694-1.xml")
    assert set(first.item_urls) == {"xml", "metadata"}


def test_sru_max_records_limits_requests(httpserver, client):
    seen: list[dict] = []
    sru_pages(httpserver, seen)
    records = list(sru.search(client, "w.dossiernummer==33694", page_size=10, max_records=15))
    assert len(records) == 15
    assert [(s["startRecord"], s["maximumRecords"]) for s in seen] == [("1", "10"), ("11", "5")]


def test_sru_query_already_scoped_is_left_alone():
    query = "c.product-area==officielepublicaties AND dt.identifier==kst-1-2"
    assert sru.scoped(query) == query
    assert sru.scoped("dt.type=Kamerstuk OR dt.type=Bijlage") == (
        "c.product-area==officielepublicaties AND (dt.type=Kamerstuk OR dt.type=Bijlage)"
    )


def test_sru_empty_result(httpserver, client):
    httpserver.expect_request("/sru").respond_with_data((DATA / "sru-empty.xml").read_bytes())
    assert list(sru.search(client, "dt.identifier==kst-0-0")) == []
    assert len(httpserver.log) == 1


def test_sru_query_diagnostic_is_usage_error(httpserver, client):
    httpserver.expect_request("/sru").respond_with_data((DATA / "sru-diagnostic.xml").read_bytes())
    with pytest.raises(UsageError, match="Query syntax error: w.dossiernummer=="):
        list(sru.search(client, "w.dossiernummer=="))


def test_sru_system_diagnostic_is_fetch_error(httpserver, client):
    httpserver.expect_request("/sru").respond_with_data(
        (DATA / "sru-diagnostic-system.xml").read_bytes()
    )
    with pytest.raises(FetchError, match="System temporarily unavailable") as info:
        list(sru.search(client, "dt.type=Kamerstuk"))
    assert not isinstance(info.value, UsageError)


def test_sru_diagnostic_with_http_400(httpserver, client):
    httpserver.expect_request("/sru").respond_with_data(
        (DATA / "sru-diagnostic.xml").read_bytes(), status=400
    )
    with pytest.raises(UsageError, match="Query syntax error"):
        list(sru.search(client, "w.dossiernummer=="))


def test_sru_html_error_page_is_fetch_error(httpserver, client):
    httpserver.expect_request("/sru").respond_with_data(
        "<html><body>Oeps", content_type="text/html"
    )
    with pytest.raises(FetchError, match="did not answer with XML|other than search results"):
        list(sru.search(client, "dt.type=Kamerstuk"))


def test_sru_12_response_parses():
    page = sru.parse_response((DATA / "sru-v12.xml").read_bytes())
    assert page.number_of_records == 1
    (record,) = page.records
    assert record.identifier == "ah-tk-20182019-264"
    assert record.publicatienaam == "Kamervragen (Aanhangsel)"
    assert record.item_urls["pdf"].endswith("ah-tk-20182019-264.pdf")
    assert record.dossiernummer is None


def test_sru_parse_refuses_entity_expansion():
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<searchRetrieveResponse xmlns="http://docs.oasis-open.org/ns/search-ws/sruResponse">
<numberOfRecords>1</numberOfRecords><records><record><recordData>
<identifier>kst-1-&b;</identifier></recordData></record></records></searchRetrieveResponse>"""
    with pytest.raises(FetchError, match="declares entities in a DTD; refused"):
        sru.parse_response(bomb)


def test_lookup(httpserver, client):
    httpserver.expect_request("/sru").respond_with_data((DATA / "sru-citedby.xml").read_bytes())
    record = sru.lookup(client, "kst-33694-48")
    assert record is not None and record.identifier == "kst-33694-48"
    query = httpserver.log[0][0].args["query"]
    assert query == 'c.product-area==officielepublicaties AND (dt.identifier=="kst-33694-48")'
    assert sru.lookup(client, "kst-1-1") is None


def test_cited_by_searches_each_form_and_excludes_itself(httpserver, client):
    httpserver.expect_request("/sru").respond_with_data((DATA / "sru-citedby.xml").read_bytes())
    found = sru.cited_by(client, "kst-33694-45", ["33694, nr. 45", '33 694, nr.  45 "x"'])
    assert found == ["kst-33694-48", "kst-33694-50"]
    queries = [request.args["query"] for request, _ in httpserver.log]
    assert queries == [
        'c.product-area==officielepublicaties AND (cql.textAndIndexes="33694, nr. 45")',
        'c.product-area==officielepublicaties AND (cql.textAndIndexes="33 694, nr. 45 \\"x\\"")',
    ]


# --- Tweede Kamer OData -----------------------------------------------------------------


def odata_fixture(name: str, base: str) -> bytes:
    return (DATA / name).read_text(encoding="utf-8").replace("{base}", base).encode()


def test_zaak_documents_expands_and_follows_next_link(httpserver, client):
    base = client.settings.tk_url
    pages = {
        False: odata_fixture("odata-zaak-page1.json", base),
        True: odata_fixture("odata-zaak-page2.json", base),
    }

    def handler(request):
        return WResponse(pages["$skiptoken" in request.args], content_type="application/json")

    httpserver.expect_request("/OData/v4/2.0/Zaak").respond_with_handler(handler)
    documents = tweedekamer.zaak_documents(client, "2019Z01633")
    assert [d.document_nummer for d in documents] == [
        "2019D04567",
        "2019D08001",
        "2019D12345",
        "2019D20202",
    ]
    first, second = (request.args for request, _ in httpserver.log)
    assert first["$filter"] == "Nummer eq '2019Z01633' and Verwijderd eq false"
    assert first["$expand"].startswith("Document(") and "Kamerstukdossier" in first["$expand"]
    assert "$skiptoken" in second
    assert not any("$top" in request.args for request, _ in httpserver.log)
    kamerstuk = documents[-1]
    assert kamerstuk.volgnummer == 109
    assert kamerstuk.dossiers == [KamerstukDossier(34300, "X"), KamerstukDossier(34300, "V")]


def test_resolve_zaak_puts_the_answer_first(httpserver, client):
    base = client.settings.tk_url

    def handler(request):
        name = "odata-zaak-page2.json" if "$skiptoken" in request.args else "odata-zaak-page1.json"
        return WResponse(odata_fixture(name, base), content_type="application/json")

    httpserver.expect_request("/OData/v4/2.0/Zaak").respond_with_handler(handler)
    assert tweedekamer.resolve_zaak(client, "2019Z01633") == [
        "ah-tk-20182019-1876",
        "kv-tk-2019Z01633",
        "ah-tk-20182019-1599",
        "kst-34300-X-109",
    ]


def test_unknown_zaak_is_not_found(httpserver, client):
    httpserver.expect_request("/OData/v4/2.0/Zaak").respond_with_json({"value": []})
    with pytest.raises(NotFoundError, match="2019Z99999"):
        tweedekamer.zaak_documents(client, "2019Z99999")


@pytest.mark.parametrize("bad", ["2019Z1633", "2019Z01633' or 1 eq 1", "kst-1-2", ""])
def test_bad_zaak_numbers_are_refused(httpserver, client, bad):
    with pytest.raises(InvalidIdentifierError):
        tweedekamer.resolve_zaak(client, bad)
    assert httpserver.log == []


def test_document_by_number(httpserver, client):
    httpserver.expect_request("/OData/v4/2.0/Document").respond_with_data(
        odata_fixture("odata-document.json", client.settings.tk_url),
        content_type="application/json",
    )
    doc = tweedekamer.document_by_number(client, "2019D30303")
    assert doc is not None and doc.soort == "Voorstel van wet"
    assert tweedekamer.ob_id_for(doc) == "kst-35099-3"
    args = httpserver.log[0][0].args
    assert args["$filter"] == "DocumentNummer eq '2019D30303' and Verwijderd eq false"


@pytest.mark.parametrize(
    ("aanhangsel", "vergaderjaar", "expected"),
    [
        ("181901876", "2018-2019", "ah-tk-20182019-1876"),
        ("171800824", "2017-2018", "ah-tk-20172018-824"),
        ("202112345", "2020-2021", "ah-tk-20202021-12345"),
        ("181901876", None, "ah-tk-20182019-1876"),
        ("990000042", None, "ah-tk-19992000-42"),
    ],
)
def test_aanhangselnummer_mapping(aanhangsel, vergaderjaar, expected):
    doc = TkDocument(
        id="x",
        soort="Antwoord schriftelijke vragen",
        volgnummer=-1,
        vergaderjaar=vergaderjaar,
        aanhangselnummer=aanhangsel,
    )
    assert tweedekamer.ob_id_for(doc, "2019Z01633") == expected


@pytest.mark.parametrize(
    ("dossier", "volgnummer", "expected"),
    [
        (KamerstukDossier(33694, None), 45, "kst-33694-45"),
        (KamerstukDossier(35000, "VIII"), 22, "kst-35000-VIII-22"),
        (KamerstukDossier(21501, "08"), 928, "kst-21501-08-928"),
        (KamerstukDossier(36200, "IXB"), 7, "kst-36200-IXB-7"),
        (KamerstukDossier(35099, "(R2119)"), 3, "kst-35099-3"),
    ],
)
def test_kamerstuk_mapping(dossier, volgnummer, expected):
    doc = TkDocument(id="x", soort="Brief regering", volgnummer=volgnummer, dossiers=[dossier])
    assert tweedekamer.ob_id_for(doc) == expected


def test_documents_without_an_ob_id():
    vragen = TkDocument(id="x", soort="Schriftelijke vragen", volgnummer=-1)
    assert tweedekamer.ob_id_for(vragen, "2019Z01633") == "kv-tk-2019Z01633"
    assert tweedekamer.ob_id_for(vragen) is None
    motie_zonder_nummer = TkDocument(id="y", soort="Motie", volgnummer=-1)
    assert tweedekamer.ob_id_for(motie_zonder_nummer, "2019Z01633") is None
