"""The crawler against a real local HTTP server playing OB, SRU and the Tweede Kamer OData API."""

from __future__ import annotations

import hashlib
import json
import re
import socket
from pathlib import Path

import pytest
from werkzeug import Response

from searchdoc import crawl as crawling
from searchdoc import settings
from searchdoc.corpus import Corpus, sha256_bytes
from searchdoc.errors import CitationParseError, CorpusError, OfflineError, UsageError
from searchdoc.index import Index

DATA = Path(__file__).parent / "data"
OFFICIAL = DATA / "official"
SERVICES = DATA / "services"

#: What the letter cites, as the official ids the crawler must end up with (zaak 2019Z01633
#: resolves to the answer ah-tk-20182019-1876).
LETTER_CITED = [
    "kst-33694-23",
    "kst-33694-12",
    "kst-31125-92",
    "kst-26643-536",
    "kst-34300-X-109",
    "kst-22112-2758",
    "kst-34300-X-88",
    "ah-tk-20182019-264",
    "ah-tk-20182019-1876",
    "ah-tk-20182019-1678",
    "ah-tk-20182019-2248",
]
CRAWL = DATA / "crawl"
#: The page OB answers with status 200 for an id it does not know.
SOFT_404 = (OFFICIAL / "soft-404.html").read_bytes()
LAST_MODIFIED = "Wed, 15 May 2019 08:00:00 GMT"


def kamerstuk_xml(doc_id: str, paragraphs: list[str]) -> bytes:
    """A minimal op-xsd-2012-2 Kamerstuk (the shape of the real ones, with our own text)."""
    _, dossier, number = doc_id.split("-", 2)
    body = "".join(f"<al>{text}</al>" for text in paragraphs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<officiele-publicatie>'
        f'<metadata><meta name="OVERHEIDop.externMetadataRecord" scheme="" content="/{doc_id}/metadata.xml"/>'
        "</metadata><kamerstuk><kamerstukkop>"
        '<tekstregel inhoud="kameraanduiding">Tweede Kamer der Staten-Generaal</tekstregel>'
        '<tekstregel inhoud="vergaderjaar">Vergaderjaar 2018–2019</tekstregel></kamerstukkop>'
        f"<dossier><dossiernummer><dossiernr>{dossier[:2]} {dossier[2:]}</dossiernr></dossiernummer>"
        "<titel>Proefdossier</titel></dossier>"
        f"<stuk><stuknr>Nr. <ondernummer>{number}</ondernummer></stuknr><titel>BRIEF VAN DE MINISTER</titel>"
        f"<algemeen><vrije-tekst><tekst>{body}</tekst></vrije-tekst></algemeen></stuk></kamerstuk>"
        "</officiele-publicatie>\n"
    ).encode()


def metadata_xml(doc_id: str, title: str) -> bytes:
    _, dossier, number = doc_id.split("-", 2)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<metadata_gegevens>'
        f'<metadata name="DC.identifier" content="{doc_id}"/>'
        f'<metadata name="DC.title" content="{title}"/>'
        '<metadata name="DC.type" scheme="OVERHEIDop.Parlementair" content="Kamerstuk"/>'
        '<metadata name="DCTERMS.issued" content="2019-06-01"/>'
        f'<metadata name="OVERHEIDop.dossiernummer" content="{dossier}"/>'
        f'<metadata name="OVERHEIDop.ondernummer" content="{number}"/>'
        "</metadata_gegevens>\n"
    ).encode()


class FakeServices:
    """One werkzeug handler on the pytest-httpserver: OB pages, SRU and the TK OData Zaak set.

    Every 200 answer carries an ETag and Last-Modified and honours If-None-Match with a 304, as
    the real services do for static files; unknown OB pages get the soft-404 page with 200.
    """

    def __init__(self, httpserver):
        self.server = httpserver
        self.base = httpserver.url_for("/").rstrip("/")
        self.tk_base = self.base + "/OData/v4/2.0"
        self.files: dict[str, bytes] = {}
        self.statuses: dict[str, list[int]] = {}
        self.redirects: dict[str, str] = {}
        self.sru = (SERVICES / "sru-citedby.xml").read_bytes()
        httpserver.expect_request(re.compile(r".*")).respond_with_handler(self.handle)

    def add(self, doc_id: str, xml: bytes, metadata: bytes | None) -> None:
        self.files[f"/{doc_id}.xml"] = xml
        if metadata is not None:
            self.files[f"/{doc_id}/metadata.xml"] = metadata

    def add_official(self, *doc_ids: str) -> None:
        for doc_id in doc_ids:
            self.add(
                doc_id,
                (OFFICIAL / f"{doc_id}.xml").read_bytes(),
                (OFFICIAL / f"{doc_id}.metadata.xml").read_bytes(),
            )

    def env(self, monkeypatch) -> None:
        monkeypatch.setenv("SEARCHDOC_OB_URL", self.base)
        monkeypatch.setenv("SEARCHDOC_SRU_URL", self.base + "/sru")
        monkeypatch.setenv("SEARCHDOC_TK_URL", self.tk_base)
        monkeypatch.setenv("SEARCHDOC_REPOSITORY_URL", self.base + "/frbr/officielepublicaties")
        monkeypatch.setenv("SEARCHDOC_DELAY", "0")

    def body_for(self, request) -> tuple[bytes, str] | None:
        path = request.path
        if path == "/sru":
            return self.sru, "application/xml"
        if path == "/OData/v4/2.0/Document":
            text = (SERVICES / "odata-document.json").read_text(encoding="utf-8").replace("{base}", self.tk_base)
            return text.encode(), "application/json"
        if path == "/OData/v4/2.0/Zaak":
            page = "odata-zaak-page2.json" if "$skiptoken" in request.args else "odata-zaak-page1.json"
            text = (SERVICES / page).read_text(encoding="utf-8").replace("{base}", self.tk_base)
            return text.encode(), "application/json"
        if path in self.files:
            types = {".html": "text/html; charset=utf-8", ".pdf": "application/pdf"}
            return self.files[path], types.get(Path(path).suffix, "application/xml")
        return None

    def handle(self, request):
        pending = self.statuses.get(request.path)
        if pending:
            return Response("busy", status=pending.pop(0), headers={"Retry-After": "0"})
        if request.path in self.redirects:
            return Response("", status=302, headers={"Location": self.redirects[request.path]})
        found = self.body_for(request)
        if found is None:
            return Response(SOFT_404, status=200, content_type="text/html; charset=utf-8")
        body, content_type = found
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers=headers)
        return Response(body, status=200, content_type=content_type, headers=headers)

    @property
    def log(self):
        return list(self.server.log)

    def paths(self) -> list[str]:
        return [request.path for request, _ in self.server.log]


@pytest.fixture
def services(httpserver, monkeypatch):
    fake = FakeServices(httpserver)
    fake.env(monkeypatch)
    return fake


@pytest.fixture
def letter_services(services):
    services.add_official(*LETTER_CITED)
    return services


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and mtime (to prove nothing was rewritten)."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def run(ids=(), **options):
    """Crawl with the environment's settings; indexing only where a test looks at the index."""
    options.setdefault("update_index", False)
    config = settings.resolve()
    corpus = Corpus(config.corpus_dir)
    return crawling.crawl(config, corpus, list(ids), **options), corpus, config


# --- the letter ------------------------------------------------------------------------------


def test_crawl_from_the_letter_fetches_every_cited_document(letter_env, letter_services):
    report, corpus, config = run(update_index=True)
    assert sorted(report.fetched) == sorted(LETTER_CITED)
    assert report.resolved == {"2019Z01633": ["ah-tk-20182019-1876"]}
    assert (report.cached, report.not_found, report.failed, report.skipped) == ([], [], [], [])
    assert report.ok
    for doc_id in LETTER_CITED:
        document = corpus.load(doc_id)
        raw = (corpus.root / document.provenance["raw_file"]).read_bytes()
        assert raw == (OFFICIAL / f"{doc_id}.xml").read_bytes()
        assert document.provenance["sha256"] == sha256_bytes(raw)
        assert document.provenance["url"] == f"{letter_services.base}/{doc_id}.xml"
        assert document.provenance["source"] == "crawl" and document.provenance["fetched_at"]
        assert document.provenance["from_cache"] is False
        assert document.source_format == "xml" and document.paragraphs
        assert (corpus.raw_dir / f"{doc_id}.metadata.xml").read_bytes() == (
            OFFICIAL / f"{doc_id}.metadata.xml"
        ).read_bytes()
    assert corpus.load("ah-tk-20182019-1876").provenance["resolved_from"] == "2019Z01633"
    # The metadata record wins over what the XML says (its title is the stuk's own, from the DC.title).
    assert corpus.load("kst-33694-12").title == "Geïntegreerde Buitenland- en Veiligheidsstrategie 2018-2022"
    # Indexed at the end, incrementally: the letter itself was not re-indexed.
    assert sorted(report.indexed) == sorted(LETTER_CITED)
    index = Index(config.index_dir, corpus, config)
    assert index.staleness()[0] == "fresh"
    index.close()
    # The HTTP cache lives next to the index, never inside the corpus.
    assert (config.index_dir.parent / "http-cache").is_dir()
    assert not any("cache" in p.name for p in corpus.root.rglob("*"))


def test_second_crawl_counts_stored_documents_as_cached_without_requests(letter_env, letter_services):
    run(update_index=True)
    before = len(letter_services.log)
    report, _, _ = run(update_index=True)
    assert sorted(report.cached) == sorted(LETTER_CITED) and report.fetched == []
    # The zaak resolution is remembered in the stored answer's provenance: no OData request.
    assert len(letter_services.log) == before
    assert report.indexed == []


def test_refresh_makes_conditional_requests_and_rewrites_nothing(letter_env, letter_services):
    corpus_dir, index_dir = letter_env
    run(update_index=True)
    corpus_files, index_files = snapshot(corpus_dir), snapshot(index_dir)
    first = len(letter_services.log)
    report, _, _ = run(refresh=True, update_index=True)
    assert sorted(report.cached) == sorted(LETTER_CITED) == sorted(report.unchanged)
    assert report.fetched == [] and report.indexed == [] and report.ok
    second = letter_services.log[first:]
    assert second, "refresh must ask the server"
    for request, response in second:
        assert request.headers.get("If-None-Match") and request.headers.get("If-Modified-Since"), request.path
        assert response.status_code == 304, request.path
    # Every stored document was revalidated: its XML and its metadata.
    asked = {request.path for request, _ in second}
    assert {f"/{d}.xml" for d in LETTER_CITED} | {f"/{d}/metadata.xml" for d in LETTER_CITED} <= asked
    assert snapshot(corpus_dir) == corpus_files
    assert snapshot(index_dir) == index_files


def test_refresh_parses_again_what_an_older_parser_stored(letter_env, letter_services):
    """Same bytes, older parser: the stored document is parsed again (new fields, new structure)."""
    _, corpus, _ = run()
    stale = corpus.json_path("ah-tk-20182019-1876")
    data = json.loads(stale.read_text(encoding="utf-8"))
    data["provenance"]["parser"] = 1
    data["metadata"].pop("asked_by")
    stale.write_text(json.dumps(data), encoding="utf-8")
    report, corpus, _ = run(refresh=True)
    assert report.fetched == ["ah-tk-20182019-1876"]
    assert sorted(report.unchanged) == sorted(d for d in LETTER_CITED if d != "ah-tk-20182019-1876")
    document = corpus.load("ah-tk-20182019-1876")
    assert document.metadata["asked_by"] == ["Bosman", "Remco Dijkstra", "Koopmans", "Laan-Geselschap"]


def test_refresh_stores_a_changed_document(letter_env, letter_services):
    run(update_index=True)
    doc_id = "kst-33694-23"
    original = (OFFICIAL / f"{doc_id}.xml").read_bytes()
    changed = original.replace(b"</tekst>", b"<al>Rectificatie: zoetwaterkwal.</al></tekst>", 1)
    assert changed != original
    letter_services.files[f"/{doc_id}.xml"] = changed
    report, corpus, _ = run(refresh=True, update_index=True)
    assert report.fetched == [doc_id]
    assert report.indexed == [doc_id]
    assert any("zoetwaterkwal" in p.text for p in corpus.load(doc_id).paragraphs)


def test_refresh_replaces_an_html_document_by_its_new_xml(letter_env, services):
    services.files["/kst-33694-48.html"] = (OFFICIAL / "kst-33694-48.html").read_bytes()
    run(["kst-33694-48"])
    corpus = Corpus(letter_env[0])
    assert (corpus.raw_dir / "kst-33694-48.html").is_file()
    services.add_official("kst-33694-48")
    report, corpus, _ = run(["kst-33694-48"], refresh=True)
    assert report.fetched == ["kst-33694-48"]
    assert corpus.load("kst-33694-48").source_format == "xml"
    assert sorted(p.name for p in corpus.raw_dir.glob("kst-33694-48*")) == [
        "kst-33694-48.meta.json",
        "kst-33694-48.metadata.xml",
        "kst-33694-48.xml",
    ]


def test_refresh_never_replaces_the_bundled_letter(letter_env, letter_services):
    corpus_dir, _ = letter_env
    before = (corpus_dir / "documents" / "kst-33694-45.json").stat().st_mtime_ns
    report, _, _ = run(["kst-33694-45"], refresh=True)
    assert report.cached == ["kst-33694-45"] and report.fetched == []
    assert "/kst-33694-45.xml" not in letter_services.paths()
    assert (corpus_dir / "documents" / "kst-33694-45.json").stat().st_mtime_ns == before


# --- ids, resolution, skipping ------------------------------------------------------------------


def test_ids_in_any_citation_form(tmp_path, monkeypatch, letter_services):
    monkeypatch.setenv("SEARCHDOC_CORPUS", str(tmp_path / "new-corpus"))
    monkeypatch.setenv("SEARCHDOC_INDEX", str(tmp_path / "new-index"))
    report, corpus, _ = run(
        ["Kamerstuk 33 694, nr. 12", "Aanhangsel Handelingen II 2018/19, nr. 264", "2019Z01633", "kst-31125-92"]
    )
    assert report.fetched == ["kst-33694-12", "ah-tk-20182019-264", "ah-tk-20182019-1876", "kst-31125-92"]
    assert corpus.ids() == sorted(report.fetched)


def test_missing_documents_are_not_found_and_do_not_fail(letter_env, letter_services):
    report, corpus, _ = run(["kst-33694-12", "Kamerstuk 33 694, nr. 99"])
    assert report.fetched == ["kst-33694-12"]
    assert report.not_found == ["kst-33694-99"]
    assert report.ok and not corpus.has("kst-33694-99")
    # The soft 404 was recognised for every format before giving up.
    assert {"/kst-33694-99.xml", "/kst-33694-99.html", "/kst-33694-99.pdf"} <= set(letter_services.paths())


def test_dossiers_and_gazettes_are_skipped_with_a_reason(letter_env, letter_services):
    report, _, _ = run(["dossier 33 694", "Stb. 2019, 288", "kst-33694-12"])
    assert report.fetched == ["kst-33694-12"]
    reasons = {item["id"]: item["reason"] for item in report.skipped}
    assert set(reasons) == {"dossier-33694", "stb-2019-288"}
    assert "dossier" in reasons["dossier-33694"] and "staatsblad" in reasons["stb-2019-288"]
    assert report.ok
    assert not any("33694.xml" in p or "stb-" in p for p in letter_services.paths())


def test_an_attachment_reference_neither_fetches_nor_blocks_its_main_document(letter_env, letter_services):
    report, _, _ = run(["Bijlage bij Kamerstuk 33 694, nr. 12", "Kamerstuk 33 694, nr. 12"])
    assert report.fetched == ["kst-33694-12"]
    assert [item["id"] for item in report.skipped] == ["kst-33694-12"]
    assert "Bijlage" in report.skipped[0]["reason"]


def test_a_joint_stuk_is_tried_under_its_other_dossier(letter_env, services):
    xml = (OFFICIAL / "kst-34300-X-109.xml").read_bytes()
    services.add("kst-34300-V-109", xml, None)
    report, corpus, _ = run(["Kamerstukken 34 300 X en 34 300 V, nr. 109"])
    assert report.fetched == ["kst-34300-V-109"] and report.not_found == []
    assert report.resolved == {"kst-34300-X-109": ["kst-34300-V-109"]}
    assert corpus.has("kst-34300-V-109") and not corpus.has("kst-34300-X-109")


def test_a_tk_document_number_is_resolved(letter_env, services):
    services.add("kst-35099-3", kamerstuk_xml("kst-35099-3", ["Een voorstel van rijkswet."]), None)
    report, _, _ = run(["2019D30303"])
    assert report.resolved == {"2019D30303": ["kst-35099-3"]}
    assert report.fetched == ["kst-35099-3"]
    odata = [request for request, _ in services.log if request.path.startswith("/OData")]
    assert [r.path for r in odata] == ["/OData/v4/2.0/Document"]
    assert "DocumentNummer eq '2019D30303'" in odata[0].args["$filter"]


def test_bad_id_is_a_usage_error_before_any_request(letter_env, letter_services):
    with pytest.raises(CitationParseError):
        run(["kst-33694-12", "not a citation at all"])
    assert letter_services.log == []


@pytest.mark.parametrize("options", [{"depth": 0}, {"depth": 9}, {"max_docs": 0}])
def test_bad_options_are_usage_errors(letter_env, letter_services, options):
    with pytest.raises(UsageError):
        run(**options)
    assert letter_services.log == []


def test_without_ids_a_corpus_is_required(tmp_path, monkeypatch, services):
    monkeypatch.setenv("SEARCHDOC_CORPUS", str(tmp_path / "nothing-here"))
    with pytest.raises(CorpusError):
        run()
    assert services.log == []


# --- depth, max-docs, cited-by -------------------------------------------------------------------


@pytest.fixture
def chain(services, tmp_path, monkeypatch):
    """kst-30100-1 cites nr. 2, which cites nr. 3 (and a dossier, which is skipped)."""
    monkeypatch.setenv("SEARCHDOC_CORPUS", str(tmp_path / "corpus"))
    monkeypatch.setenv("SEARCHDOC_INDEX", str(tmp_path / "index"))
    texts = {
        "kst-30100-1": ["Zoals gemeld in Kamerstuk 30 100, nr. 2 gaat het om de kwartiermakers."],
        "kst-30100-2": ["De evaluatie (Kamerstuk 30 100, nr. 3) staat in dossier 30 100 over de kwartiermakers."],
        "kst-30100-3": ["Het eindrapport over de waterschappen."],
    }
    for doc_id, paragraphs in texts.items():
        services.add(doc_id, kamerstuk_xml(doc_id, paragraphs), metadata_xml(doc_id, f"Stuk {doc_id}"))
    return services


@pytest.mark.parametrize(
    ("depth", "expected"),
    [(1, ["kst-30100-1"]), (2, ["kst-30100-1", "kst-30100-2"]), (3, ["kst-30100-1", "kst-30100-2", "kst-30100-3"])],
)
def test_depth(chain, depth, expected):
    report, _, _ = run(["kst-30100-1"], depth=depth)
    assert report.fetched == expected
    fetched_paths = {p for p in chain.paths() if p.endswith(".xml") and "metadata" not in p}
    assert fetched_paths == {f"/{d}.xml" for d in expected}
    assert [item["id"] for item in report.skipped] == (["dossier-30100"] if depth == 3 else [])


def test_depth_continues_past_stored_documents(chain):
    run(["kst-30100-1"])
    report, _, _ = run(["kst-30100-1"], depth=2)
    assert report.cached == ["kst-30100-1"] and report.fetched == ["kst-30100-2"]


def test_max_docs_caps_fetches_and_the_next_run_continues(letter_env, letter_services):
    report, corpus, _ = run(max_docs=3)
    assert report.fetched == LETTER_CITED[:3]
    capped = [item["id"] for item in report.skipped]
    assert sorted(capped) == sorted(LETTER_CITED[3:])
    assert all("--max-docs 3" in item["reason"] for item in report.skipped)
    assert report.ok
    fetched_xml = [p for p in letter_services.paths() if p.endswith(".xml") and "metadata" not in p]
    assert len(fetched_xml) == 3
    again, _, _ = run()
    assert again.cached == LETTER_CITED[:3]
    assert sorted(again.fetched) == sorted(LETTER_CITED[3:])


def sru_with_extra_record(doc_id: str) -> bytes:
    """The cited-by SRU answer with one more record (a copy of the last one for ``doc_id``)."""
    text = (SERVICES / "sru-citedby.xml").read_text(encoding="utf-8")
    records = re.findall(r"<sru:record>.*?</sru:record>", text, re.DOTALL)
    last = records[-1]
    old_id = re.search(r"<dcterms:identifier>([^<]+)<", last).group(1)
    extra = last.replace(old_id, doc_id).replace(
        f">{old_id.rsplit('-', 1)[1]}</overheidwetgeving:ondernummer>",
        f">{doc_id.rsplit('-', 1)[1]}</overheidwetgeving:ondernummer>",
    )
    text = text.replace("</sru:records>", extra + "</sru:records>")
    return re.sub(r"<sru:numberOfRecords>\d+", f"<sru:numberOfRecords>{len(records) + 1}", text).encode()


def test_cited_by_finds_and_verifies_citing_documents(letter_env, services):
    services.add_official("kst-33694-48", "kst-33694-50")
    # A candidate that the full-text search matched but that does not cite the letter.
    services.sru = sru_with_extra_record("kst-33694-47")
    services.add("kst-33694-47", kamerstuk_xml("kst-33694-47", ["Een brief over de begroting van 2020."]), None)
    report, corpus, _ = run(["kst-33694-45"], cited_by=True)
    assert report.cached == ["kst-33694-45"]
    assert sorted(report.fetched) == ["kst-33694-48", "kst-33694-50"]
    assert [item["id"] for item in report.skipped] == ["kst-33694-47"]
    assert "cites none of kst-33694-45" in report.skipped[0]["reason"]
    assert not corpus.has("kst-33694-47")
    assert corpus.load("kst-33694-48").provenance["cites"] == ["kst-33694-45"]
    queries = [request.args["query"] for request, _ in services.log if request.path == "/sru"]
    assert queries and all("33 694, nr. 45" in q for q in queries)
    assert all("c.product-area==officielepublicaties" in q for q in queries)


def test_cited_by_without_ids_searches_for_each_corpus_document(letter_env, services):
    services.add_official(*LETTER_CITED, "kst-33694-48", "kst-33694-50")
    report, _, _ = run(cited_by=True)
    queries = [request.args["query"] for request, _ in services.log if request.path == "/sru"]
    assert len(queries) == 1 and "33 694, nr. 45" in queries[0]
    assert set(report.fetched) == {*LETTER_CITED, "kst-33694-48", "kst-33694-50"}


def test_the_http_cache_is_never_inside_the_corpus(tmp_path):
    inside = settings.Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "corpus" / "index")
    assert not crawling.http_cache_dir(inside).resolve().is_relative_to((tmp_path / "corpus").resolve())
    beside = settings.Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    assert crawling.http_cache_dir(beside) == tmp_path / "http-cache"
    chosen = settings.Settings(corpus_dir=tmp_path / "c", index_dir=tmp_path / "i", http_cache_dir=tmp_path / "h")
    assert crawling.http_cache_dir(chosen) == tmp_path / "h"


def test_citation_forms():
    assert crawling.citation_forms("kst-33694-45") == ["33 694, nr. 45"]
    assert crawling.citation_forms("kst-34300-X-88") == ["34 300 X, nr. 88"]
    assert crawling.citation_forms("ah-tk-20182019-264") == [
        "Aanhangsel Handelingen II 2018/19, nr. 264",
        "Aanhangsel Handelingen, vergaderjaar 2018\u20132019, nr. 264",
    ]


def test_html_when_there_is_no_xml(letter_env, services):
    services.files["/kst-33694-48.html"] = (OFFICIAL / "kst-33694-48.html").read_bytes()
    services.files["/kst-33694-48/metadata.xml"] = (OFFICIAL / "kst-33694-48.metadata.xml").read_bytes()
    report, corpus, _ = run(["kst-33694-45"], cited_by=True)
    assert report.fetched == ["kst-33694-48"] and report.not_found == ["kst-33694-50"]
    document = corpus.load("kst-33694-48")
    assert document.source_format == "html"
    assert document.provenance["raw_file"] == "raw/kst-33694-48.html"
    assert document.provenance["url"] == f"{services.base}/kst-33694-48.html"
    assert crawling.cites_any(document, ["kst-33694-45"])
    # The metadata record still supplies the fields.
    assert document.date == "2019-09-20" and "Koopmans" in document.title


def test_pdf_when_there_is_neither_xml_nor_html(letter_env, services):
    services.files["/kst-30200-5.pdf"] = (CRAWL / "kst-30200-5.pdf").read_bytes()
    report, corpus, _ = run(["kst-30200-5"])
    assert report.fetched == ["kst-30200-5"] and report.ok
    document = corpus.load("kst-30200-5")
    assert document.source_format == "pdf" and document.provenance["raw_file"] == "raw/kst-30200-5.pdf"
    assert "metadata_file" not in document.provenance
    assert any("dijkversterking langs de Lek" in p.text for p in document.paragraphs)
    assert "kst-30200-4" in {c.id for p in document.paragraphs for c in p.citations}
    assert (document.dossier, document.number) == (["30200"], "5")


def test_unparseable_document_fails_alone(letter_env, services):
    services.add_official("kst-33694-12")
    services.add("kst-30200-6", b"<officiele-publicatie><kamerstuk><stuk><al>kapot", None)
    report, corpus, _ = run(["kst-30200-6", "kst-33694-12"])
    assert report.fetched == ["kst-33694-12"]
    assert [item["id"] for item in report.failed] == ["kst-30200-6"]
    assert not corpus.has("kst-30200-6") and not report.ok


# --- network behaviour ------------------------------------------------------------------------------


def test_a_503_is_retried(letter_env, services):
    services.add_official("kst-33694-12")
    services.statuses["/kst-33694-12.xml"] = [503]
    report, _, _ = run(["kst-33694-12"])
    assert report.fetched == ["kst-33694-12"] and report.ok
    answers = [(r.path, s.status_code) for r, s in services.log if r.path == "/kst-33694-12.xml"]
    assert answers == [("/kst-33694-12.xml", 503), ("/kst-33694-12.xml", 200)]


def test_persistent_server_errors_fail_that_document_only(letter_env, services):
    services.add_official("kst-33694-12", "kst-31125-92")
    services.statuses["/kst-31125-92.xml"] = [503] * 10
    report, corpus, _ = run(["kst-31125-92", "kst-33694-12"])
    assert report.fetched == ["kst-33694-12"]
    assert [item["id"] for item in report.failed] == ["kst-31125-92"]
    assert "503" in report.failed[0]["reason"]
    assert not report.ok and not corpus.has("kst-31125-92")


def test_redirect_to_a_foreign_host_fails_and_the_host_gets_no_request(letter_env, services):
    from pytest_httpserver import HTTPServer

    foreign = HTTPServer(host="127.0.0.1", port=0)
    foreign.start()
    try:
        foreign.expect_request(re.compile(".*")).respond_with_data(b"<officiele-publicatie/>")
        services.add_official("kst-33694-12")
        services.redirects["/kst-31125-92.xml"] = foreign.url_for("/kst-31125-92.xml")
        report, corpus, _ = run(["kst-31125-92", "kst-33694-12"])
        assert report.fetched == ["kst-33694-12"]
        assert [item["id"] for item in report.failed] == ["kst-31125-92"]
        assert "not one of the configured services" in report.failed[0]["reason"]
        assert foreign.log == []
        assert not report.ok and not corpus.has("kst-31125-92")
    finally:
        foreign.clear()
        foreign.stop()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_offline_changes_nothing(letter_env, monkeypatch):
    corpus_dir, index_dir = letter_env
    base = f"http://127.0.0.1:{closed_port()}"
    for name in ("SEARCHDOC_OB_URL", "SEARCHDOC_SRU_URL", "SEARCHDOC_TK_URL", "SEARCHDOC_REPOSITORY_URL"):
        monkeypatch.setenv(name, base)
    before = snapshot(corpus_dir), snapshot(index_dir)
    with pytest.raises(OfflineError, match="offline.*nothing was changed"):
        run()
    assert (snapshot(corpus_dir), snapshot(index_dir)) == before


# --- interruption ------------------------------------------------------------------------------------


def test_interrupted_crawl_leaves_whole_documents_and_resumes(letter_env, letter_services, monkeypatch):
    from searchdoc import corpus as corpus_module

    # Every corpus file is first written to a temporary file (corpus._write_temp).
    real_write = corpus_module._write_temp
    written: list[str] = []

    def interrupting_write(path: Path, data: bytes) -> str:
        if path.parent.name == "documents":
            if len(written) == 3:
                raise KeyboardInterrupt
            written.append(path.stem)
        return real_write(path, data)

    monkeypatch.setattr(corpus_module, "_write_temp", interrupting_write)
    with pytest.raises(KeyboardInterrupt):
        run()
    monkeypatch.setattr(corpus_module, "_write_temp", real_write)

    corpus = Corpus(letter_env[0])
    assert corpus.ids() == sorted([*written, "kst-33694-45"])
    assert not [p for p in corpus.root.rglob("*.tmp")]
    for doc_id in written:
        document = corpus.load(doc_id)
        raw = (corpus.root / document.provenance["raw_file"]).read_bytes()
        assert sha256_bytes(raw) == document.provenance["sha256"]
        json.loads(corpus.json_path(doc_id).read_text(encoding="utf-8"))

    report, corpus, config = run(update_index=True)
    assert sorted(report.cached) == sorted(written)
    assert sorted(report.fetched) == sorted(set(LETTER_CITED) - set(written))
    assert set(corpus.ids()) == {*LETTER_CITED, "kst-33694-45"}
    assert sorted(report.indexed) == sorted(LETTER_CITED)
    index = Index(config.index_dir, corpus, config)
    assert index.staleness()[0] == "fresh"
    index.close()


def test_progress_is_called_once_per_fetch(letter_env, letter_services):
    calls: list[int] = []
    report, _, _ = run(["kst-33694-12", "kst-33694-99", "kst-33694-45"], progress=calls.append)
    assert report.fetched == ["kst-33694-12"] and report.not_found == ["kst-33694-99"]
    assert calls == [1, 1]


def test_report_json_shape(letter_env, letter_services):
    report, _, _ = run(["kst-33694-12", "kst-33694-99", "kst-33694-45", "dossier 33 694"])
    data = report.to_dict()
    assert list(data)[:4] == ["fetched", "cached", "not_found", "failed"]
    assert data["fetched"] == ["kst-33694-12"]
    assert data["cached"] == ["kst-33694-45"]
    assert data["not_found"] == ["kst-33694-99"]
    assert data["failed"] == []
    assert data["skipped"] == [{"id": "dossier-33694", "reason": crawling._SKIP_REASONS["dossier"]}]
    json.dumps(data)
