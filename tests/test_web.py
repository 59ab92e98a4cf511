"""The web interface in process (Starlette's test client): every route, the API equal to the
command line's JSON, one-line errors, escaping of hostile text, path tricks, security headers."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from searchdoc import settings
from searchdoc.cli import cli
from searchdoc.web.app import CONTENT_SECURITY_POLICY, create_app

LETTER = settings.LETTER_ID


def make_client(corpus_dir, index_dir, **kwargs) -> TestClient:
    config = settings.resolve(corpus_dir, index_dir)
    return TestClient(create_app(config), base_url="http://127.0.0.1", **kwargs)


@pytest.fixture(scope="module")
def client(web_corpus):
    with make_client(*web_corpus) as test_client:
        yield test_client


def cli_json(web_corpus, *args):
    corpus_dir, index_dir = web_corpus
    result = CliRunner().invoke(cli, ["--corpus", str(corpus_dir), "--index", str(index_dir), *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")


def cli_error(web_corpus, *args) -> str:
    corpus_dir, index_dir = web_corpus
    result = CliRunner().invoke(cli, ["--corpus", str(corpus_dir), "--index", str(index_dir), *args])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith("searchdoc: error: ")
    return line.removeprefix("searchdoc: error: ")


# --------------------------------------------------------------------------- every route


@pytest.mark.parametrize("path, needle", [
    ("/", "Query syntax"),
    ("/search?q=autonome+wapensystemen", "paragraphs match"),
    (f"/doc/{LETTER}", 'id="p13"'),
    (f"/doc/{LETTER}/graph?depth=2", "Timeline of the cited documents"),
    ("/cite?ref=Kamerstuk+33+694%2C+nr.+12", "Cited by"),
    ("/cite", "Citation lookup"),
])
def test_pages_render(client, path, needle):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert needle in response.text


def test_static_assets_and_icon_are_served(client):
    for name, kind in (("style.css", "text/css"), ("app.js", "javascript"), ("favicon.svg", "image/svg+xml")):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
    assert client.get("/favicon.ico", follow_redirects=False).headers["location"] == "/static/favicon.svg"


def test_search_page_shows_hits_citations_facets_and_exports(client):
    page = client.get("/search", params={"q": "autonome wapensystemen"}).text
    assert f'href="/doc/{LETTER}#p13"' in page
    assert "<mark>wapensystemen</mark>" in page
    assert "Kamerstukken II 2018/19, 33 694, nr. 45, p. 4" in page
    assert 'data-copy="Kamerstukken II 2018/19, 33 694, nr. 45, p. 4"' in page
    assert "<details class=\"context\">" in page
    for heading in ("Themes", "Documents", "Years"):
        assert f"<h3>{heading}</h3>" in page
    for fmt in ("md", "csv", "jsonl", "ris", "csl-json"):
        assert f"format={fmt}" in page
    assert "excel=1" in page


def test_document_page_links_citations_both_ways(client):
    page = client.get(f"/doc/{LETTER}").text
    assert 'href="/doc/kst-33694-12"' in page  # cited, in the corpus
    assert "https://zoek.officielebekendmakingen.nl/kst-31125-92.html" in page  # cited, not in the corpus
    assert "searchdoc crawl kst-31125-92" in page
    assert re.search(r'href="/doc/kst-33694-48#p\d+"', page)  # cited by
    cited = client.get("/doc/kst-33694-12").text
    assert re.search(rf'href="/doc/{LETTER}#p\d+"', cited)


def test_graph_has_both_directions_and_a_timeline(client):
    page = client.get(f"/doc/{LETTER}/graph", params={"depth": 1}).text
    assert 'href="/doc/kst-33694-48"' in page and 'href="/doc/kst-33694-12"' in page
    assert '<time datetime="2018-03-19">' in page
    assert client.get(f"/doc/{LETTER}/graph", params={"depth": 9}).status_code == 400


def test_facet_links_filter(client):
    page = client.get("/search", params={"q": "autonome wapensystemen"}).text
    link = re.search(r'<a href="(/search\?q=autonome\+wapensystemen&amp;theme=ai)"', page)
    assert link, "no theme facet link for ai"
    filtered = client.get(link.group(1).replace("&amp;", "&"))
    api = client.get("/api/search", params={"q": "autonome wapensystemen", "theme": "ai"}).json()
    assert f"{api['total']} paragraph" in filtered.text
    assert "theme Kunstmatige intelligentie <span aria-hidden" in filtered.text


def test_dossier_and_year_filters(client):
    in_2018 = client.get("/search", params={"q": "veiligheid", "year": "2018"}).text
    assert "kst-33694-12#p" in in_2018 and f"{LETTER}#p" not in in_2018
    nothing = client.get("/search", params={"q": "veiligheid", "dossier": "99999"}).text
    assert "0 paragraphs match" in nothing


def test_export_keeps_the_dossier_and_year_filters(client):
    page = client.get("/search", params={"q": "veiligheid", "year": "2018"}).text
    link = re.search(r'<a download href="([^"]*format=jsonl[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "year=2018" in link
    rows = [json.loads(line) for line in client.get(link).text.splitlines()]
    total = int(re.search(r"<h1>(\d+) paragraph", page).group(1))
    assert len(rows) == total and {row["doc_id"] for row in rows} <= {"kst-33694-12", "ah-tk-20182019-264"}
    assert client.get("/api/export", params={"q": "veiligheid", "dossier": "99999"}).status_code == 400


def test_pagination(client):
    first = client.get("/search", params={"q": "de"}).text
    assert "Page 1 of" in first and 'rel="next"' in first
    second = client.get("/search", params={"q": "de", "page": 2}).text
    assert 'id="hit-11"' in second and 'id="hit-1"' not in second
    assert client.get("/search", params={"q": "de", "page": 100000}).status_code == 400


def test_a_query_that_finds_nothing_shows_its_respelling_with_a_way_back(client):
    corrected = client.get("/api/search", params={"q": "wapensystemn"}).json()["corrected"]
    page = client.get("/search", params={"q": "wapensystemn"}).text
    assert f"Showing results for <q>{corrected}</q>" in page and 'id="hit-1"' in page
    assert 'href="/search?q=wapensystemn&amp;correct=0"' in page
    as_typed = client.get("/search", params={"q": "wapensystemn", "correct": "0"}).text
    assert 'id="hit-1"' not in as_typed and "Did you mean" in as_typed


def test_paragraphs_with_some_of_the_words_follow_under_their_own_heading(client):
    data = client.get("/api/search", params={"q": "drones zzzqwerty"}).json()
    assert data["total"] == 0 and data["partial"]["total"] > 0
    page = client.get("/search", params={"q": "drones zzzqwerty"}).text
    assert "Also: paragraphs with some of the words" in page and "Has 1 of the 2 words: drones" in page


def test_empty_search_goes_home(client):
    assert client.get("/search", params={"q": " "}, follow_redirects=False).headers["location"] == "/"


# --------------------------------------------------------------------------- API == CLI


@pytest.mark.parametrize("params, args", [
    ({"q": "autonome wapensystemen"}, ["autonome wapensystemen"]),
    ({"q": "drones", "limit": 3, "context": 1}, ["drones", "--limit", "3", "--context", "1"]),
    ({"q": "veiligheid", "doc": "kst-33694-12"}, ["veiligheid", "--doc", "kst-33694-12"]),
    ({"q": "wapen*", "theme": "laws"}, ["wapen*", "--theme", "laws"]),
    ({"q": "wapensystemn"}, ["wapensystemn"]),
])
def test_api_search_equals_cli(client, web_corpus, params, args):
    api = client.get("/api/search", params=params)
    assert api.status_code == 200
    assert api.json() == json.loads(cli_json(web_corpus, "search", *args, "--format", "json"))


@pytest.mark.parametrize("path, args", [
    (f"/api/documents/{LETTER}", ["show", LETTER]),
    (f"/api/documents/{LETTER}?paragraph=13", ["show", LETTER, "--paragraph", "13"]),
    ("/api/documents/kst-33694-48", ["show", "kst-33694-48"]),
    ("/api/cite?ref=Kamerstuk+33+694%2C+nr.+45", ["cite", "Kamerstuk 33 694, nr. 45"]),
    ("/api/cite?ref=2019Z01633", ["cite", "2019Z01633"]),
    ("/api/themes", ["themes"]),
    (f"/api/themes?doc={LETTER}", ["themes", "--doc", LETTER]),
])
def test_api_equals_cli(client, web_corpus, path, args):
    api = client.get(path)
    assert api.status_code == 200 and api.headers["content-type"] == "application/json"
    assert api.json() == json.loads(cli_json(web_corpus, *args, "--format", "json"))


@pytest.mark.parametrize("fmt", ["md", "csv", "jsonl", "ris", "csl-json"])
def test_api_export_equals_cli(client, web_corpus, fmt):
    api = client.get("/api/export", params={"q": "autonome wapensystemen", "format": fmt, "context": 1})
    assert api.status_code == 200
    assert "attachment" in api.headers["content-disposition"]
    expected = cli_json(web_corpus, "export", "autonome wapensystemen", "--format", fmt, "--context", "1")
    assert api.content.decode("utf-8") == expected


def test_api_export_excel_csv_has_a_bom_and_every_hit(client):
    api = client.get("/api/export", params={"q": "autonome wapensystemen", "format": "csv", "excel": "1"})
    assert api.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(api.content.decode("utf-8-sig"))))
    total = client.get("/api/search", params={"q": "autonome wapensystemen"}).json()["total"]
    assert len(rows) == total and rows[0]["doc_id"] == LETTER


def test_openapi_describes_every_api_route(client):
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/api/search", "/api/documents/{id}", "/api/cite", "/api/themes", "/api/export"}


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("query", ['"unbalanced', "foo:bar"])
def test_malformed_query_is_a_400_with_the_cli_message(client, web_corpus, query):
    message = cli_error(web_corpus, "search", query)
    api = client.get("/api/search", params={"q": query})
    assert api.status_code == 400 and api.json() == {"error": message}
    page = client.get("/search", params={"q": query})
    assert page.status_code == 400 and "Traceback" not in page.text


def test_not_a_citation_is_a_400_with_the_cli_message(client, web_corpus):
    message = cli_error(web_corpus, "cite", "no citation here")
    api = client.get("/api/cite", params={"ref": "no citation here"})
    assert api.status_code == 400 and api.json() == {"error": message}
    page = client.get("/cite", params={"ref": "no citation here"})
    assert page.status_code == 400 and 'role="alert"' in page.text


@pytest.mark.parametrize("path", [
    "/api/documents/kst-1-1", "/api/documents/not%20an%20id", "/doc/kst-1-1", "/doc/kst-1-1/graph",
    "/api/themes?doc=kst-1-1", "/no/such/page", "/api/nothing",
])
def test_unknown_ids_and_pages_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert set(response.json()) == {"error"}


@pytest.mark.parametrize("path, message", [
    ("/api/search", "missing q"),
    ("/api/search?q=x&limit=0", "limit must be"),
    ("/api/search?q=x&limit=101", "limit must be"),
    ("/api/search?q=x&limit=abc", "limit must be"),
    ("/api/search?q=x&context=11", "context must be"),
    ("/api/search?q=drones&doc=kst-1-1", "not in the corpus"),
    ("/api/search?q=drones&theme=nope", "unknown theme"),
    ("/api/export?q=x&format=exe", "unknown export format"),
    ("/api/export?q=x&format=md&excel=1", "--excel only applies"),
    ("/api/export?q=x&limit=10001", "limit must be"),
    ("/api/cite", "missing ref"),
    (f"/api/documents/{LETTER}?paragraph=999", "--paragraph 999 is out of range"),
])
def test_bad_parameters_are_400(client, path, message):
    response = client.get(path)
    assert response.status_code == 400 and message in response.json()["error"]


def test_query_length_is_bounded(client):
    long = "wapen " * 100
    assert client.get("/api/search", params={"q": long}).status_code == 400
    assert "longer than 500 characters" in client.get("/search", params={"q": long}).text


def test_an_internal_error_is_one_line_without_a_traceback(web_corpus, monkeypatch):
    from searchdoc import answers

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail /etc/passwd")

    monkeypatch.setattr(answers, "search_answer", broken)
    with make_client(*web_corpus, raise_server_exceptions=False) as test_client:
        response = test_client.get("/api/search", params={"q": "drones"})
    assert response.status_code == 500
    assert response.json() == {"error": "internal error: RuntimeError (see the server's log)"}


def test_documents_added_while_serving_are_found(web_corpus, tmp_path):
    from searchdoc import pipeline
    from searchdoc.corpus import Corpus
    from searchdoc.web.library import Library

    shutil.copytree(web_corpus[0], tmp_path / "corpus")
    shutil.copytree(web_corpus[1], tmp_path / "index")
    config = settings.resolve(tmp_path / "corpus", tmp_path / "index")
    app = create_app(config, Library(config, freshness_interval=0))
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        assert test_client.get("/api/search", params={"q": "zwermrobots"}).json()["total"] == 0
        source = tmp_path / "kst-99999-2.txt"
        source.write_text("Een nieuwe brief over zwermrobots.\n", encoding="utf-8")
        pipeline.ingest_files(Corpus(tmp_path / "corpus"), [source])
        assert test_client.get("/api/search", params={"q": "zwermrobots"}).json()["total"] == 1
        assert test_client.get("/doc/kst-99999-2").status_code == 200


def test_writes_are_refused(client):
    assert client.post("/api/search", data={"q": "drones"}).status_code == 405


# --------------------------------------------------------------------------- security


@pytest.mark.parametrize("path", [
    "/doc/..%2f..%2fetc%2fpasswd",
    "/doc/..%2F..%2F..%2Fetc%2Fpasswd",
    "/doc/%2Fetc%2Fpasswd",
    "/doc/%2e%2e",
    "/doc/kst-33694-45%00",
    "/doc/KST-33694-45",
    "/doc/..%5c..%5cwindows%5cwin.ini",
    "/api/documents/..%2f..%2fetc%2fpasswd",
    "/api/documents/%2Fetc%2Fpasswd",
    "/static/..%2fapp.py",
    "/static/..%2f..%2f__init__.py",
    "/static/%2Fetc%2Fpasswd",
    "//etc/passwd",
])
def test_path_tricks_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "root:" not in response.text and "import " not in response.text


def test_security_headers_on_every_response(client):
    for path in ("/", f"/doc/{LETTER}", "/api/themes", "/static/style.css", "/nothing"):
        headers = client.get(path).headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert headers["x-content-type-options"] == "nosniff"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/", "/search?q=drones", f"/doc/{LETTER}", f"/doc/{LETTER}/graph?depth=2",
                                  "/cite?ref=kst-33694-12", "/nothing"])
def test_pages_have_no_inline_script_style_or_remote_asset(client, path):
    page = client.get(path).text
    assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", page)
    assert not re.search(r"\sstyle=|<style|\son[a-z]+=", page)
    assert not re.search(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//', page)


def test_other_host_names_are_refused(client):
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400
    refused = client.get("/api/themes", headers={"host": "attacker.example:8000"})
    assert refused.status_code == 400 and "not to host 'attacker.example:8000'" in refused.json()["error"]
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert client.get("/", headers={"host": host}).status_code == 200


HOSTILE = ('<script>alert("x")</script> Kwaadaardige tekst over drones met "><img src=x onerror=alert(1)> '
           "en javascript:alert(2) en {{ 7*7 }} en &lt;b&gt;.")


@pytest.fixture(scope="module")
def hostile_client(web_corpus, tmp_path_factory):
    from searchdoc import pipeline
    from searchdoc.corpus import Corpus

    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(web_corpus[0], root / "corpus")
    source = root / "kst-99999-1.txt"
    source.write_text(HOSTILE + "\n\nTweede alinea over drones.\n", encoding="utf-8")
    pipeline.ingest_files(Corpus(root / "corpus"), [source],
                          overrides={"title": '<b onmouseover="alert(3)">Titel</b>', "date": "2020-01-01"})
    with make_client(root / "corpus", root / "index") as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/doc/kst-99999-1", "/search?q=kwaadaardige", "/search?q=drones&year=2020",
                                  "/", "/doc/kst-99999-1/graph"])
def test_hostile_document_text_is_escaped(hostile_client, path):
    page = hostile_client.get(path).text
    assert "<script>alert" not in page and "<img src=x" not in page and "<b onmouseover" not in page
    if path.startswith(("/doc/kst-99999-1", "/search")) and not path.endswith("graph"):
        assert "&lt;script&gt;alert" in page and "{{ 7*7 }}" in page


@pytest.mark.parametrize("query", ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>',
                                   "drones <svg onload=alert(1)>"])
def test_hostile_queries_are_escaped(client, query):
    page = client.get("/search", params={"q": query})
    assert "<script>alert" not in page.text and "<img src=x" not in page.text and "<svg onload" not in page.text
    if page.status_code == 200:
        assert "&lt;" in page.text.split("<h1>", 1)[1].split("</h1>", 1)[0]
    api = client.get("/api/search", params={"q": query})
    assert api.headers["content-type"] == "application/json" and api.headers["x-content-type-options"] == "nosniff"
    if api.status_code == 200:
        assert api.json()["query"] == query


def test_hostile_reference_is_escaped(client):
    page = client.get("/cite", params={"ref": "<script>alert(1)</script>"}).text
    assert "<script>alert" not in page and "&lt;script&gt;" in page


# --------------------------------------------------------------------------- the serve command


def test_serve_help_has_an_example():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "searchdoc serve --port 8080 --open" in result.output


def test_serve_warns_when_reachable_from_the_network(web_corpus, monkeypatch):
    import uvicorn

    from searchdoc.web import server

    started = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: started.append(self.config.app))
    real_bind = server.bind
    monkeypatch.setattr(server, "bind", lambda host, port: real_bind("127.0.0.1", 0))
    config = settings.resolve(*web_corpus)
    lines: list[str] = []
    server.serve(config, "0.0.0.0", 0, status=lines.append)
    assert lines[0].startswith("warning: --host 0.0.0.0 makes searchdoc reachable from the network")
    lines.clear()
    server.serve(config, "127.0.0.1", 0, status=lines.append)
    assert lines[0].startswith("searchdoc: serving") and "http://127.0.0.1:" in lines[0]
    assert lines[1:] == ["searchdoc: stopped"]
    assert len(started) == 2


@pytest.mark.parametrize("workers", [1, 2])
def test_serves_then_ctrl_c_stops_the_server_cleanly(web_corpus, tmp_path, workers):
    import http.client
    import os
    import signal
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SEARCHDOC_")}, "HOME": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "searchdoc", "--corpus", str(web_corpus[0]), "--index",
                                str(web_corpus[1]), "serve", "--port", str(port), "--workers", str(workers)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)
        answers = []
        for host in ["127.0.0.1"] * 4 + ["attacker.example"]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/api/search?q=drones&limit=1", headers={"Host": host})
            response = connection.getresponse()
            answers.append((response.status, json.loads(response.read()).get("total")))
            connection.close()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert answers[:4] == [(200, answers[0][1])] * 4 and answers[0][1] > 0 and answers[4][0] == 400
    shown = ", 2 worker processes" if workers == 2 else ""
    assert stderr.splitlines()[0] == (f"searchdoc: serving {web_corpus[0]} at http://127.0.0.1:{port}/ (read-only"
                                      f"{shown}; Ctrl-C to stop)")
    assert stderr.splitlines()[-1] == "searchdoc: stopped" and "Traceback" not in stderr


def test_every_template_and_asset_is_package_data():
    """A non-editable install must carry what the pages use (pyproject's package-data globs)."""
    from fnmatch import fnmatch
    from pathlib import Path

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    root = Path(__file__).resolve().parent.parent
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "searchdoc.web"]
    web = root / "searchdoc" / "web"
    files = [p.relative_to(web).as_posix() for folder in ("templates", "static") for p in (web / folder).iterdir()]
    assert files and all(any(fnmatch(name, pattern) for pattern in patterns) for name in files)


def test_open_starts_the_browser_at_the_address_once_serving(web_corpus, monkeypatch):
    import threading
    import webbrowser

    import uvicorn

    from searchdoc.web import server

    opened: list[str] = []
    done = threading.Event()

    def fake_open(url):
        opened.append(url)
        done.set()

    def fake_run(self, sockets=None):
        self.started = True
        assert done.wait(30), "the browser was not opened"

    monkeypatch.setattr(webbrowser, "open", fake_open)
    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    lines: list[str] = []
    server.serve(settings.resolve(*web_corpus), "127.0.0.1", 0, open_browser=True, status=lines.append)
    assert len(opened) == 1 and opened[0] in lines[0]


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                            ("[::1]", True), ("127.0.0.2", True), ("0.0.0.0", False),
                                            ("192.168.1.5", False), ("::", False), ("example.org", False)])
def test_is_loopback(host, loopback):
    from searchdoc.web.server import is_loopback

    assert is_loopback(host) is loopback


def test_port_in_use_is_a_one_line_error(web_corpus):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        message = cli_error(web_corpus, "serve", "--port", str(port))
    assert message.startswith(f"cannot listen on 127.0.0.1:{port}:")


def test_a_debate_shows_who_speaks(web_corpus, tmp_path):
    from searchdoc import pipeline
    from searchdoc.corpus import Corpus

    shutil.copytree(web_corpus[0], tmp_path / "corpus")
    source = tmp_path / "h-tk-20172018-61-10.xml"
    shutil.copy(Path(__file__).parent / "data" / "real" / source.name, source)
    document = pipeline.ingest_files(Corpus(tmp_path / "corpus"), [source])[0]
    spoken = next(p for p in document.paragraphs if p.speaker)
    with make_client(tmp_path / "corpus", tmp_path / "index") as test_client:
        page = test_client.get(f"/doc/{document.id}").text
        assert f'<strong class="speaker">{html.escape(spoken.speaker)}:</strong>' in page
        api = test_client.get(f"/api/documents/{document.id}").json()
        assert any(p.get("speaker") == spoken.speaker for p in api["paragraphs"])
