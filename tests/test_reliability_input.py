"""Hostile input: fuzzed queries, XML and HTML bombs, oversized and binary files, escaping ids,
and network faults at the crawl level.

Every refusal is one line on stderr with exit code 2 (bad input) - never a traceback, never an
unbounded amount of memory or time - and nothing is written outside the corpus folder.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from searchdoc import settings
from searchdoc.cli import cli
from searchdoc.corpus import Corpus
from searchdoc.errors import QueryError, UsageError
from searchdoc.query import build_query

SYNTAX = ["AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO", '"', "'", "(", ")", "[", "]", "{", "}", "*", "?", "~",
          "~2", "^", "^3", ":", "-", "+", "\\", "/", "text:", "title:", "doc_id:", "themes:", "paragraph:", "page:",
          "date:", "nope:", "1:", "drones", "wapens", "autonome", "kst-33694-45", "‘", "’", "–", "\u200b", "\u00ad",
          "é", "ĳ", "\x00", "\t", "\n", "ﬁ", "𝔡𝔯𝔬𝔫𝔢𝔰", "*drones", "dro*", "a" * 300, "<", ">", "&", "%", "$", "#"]
queries = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(SYNTAX), min_size=1, max_size=12).map(" ".join),
    st.lists(st.one_of(st.sampled_from(SYNTAX), st.text(max_size=6)), min_size=1, max_size=10).map("".join),
)


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("searchdoc: error: ") and "Traceback" not in stderr
    return lines[0]


# --------------------------------------------------------------------------- queries


@hsettings(max_examples=3000, deadline=None, derandomize=True)
@given(queries)
def test_build_query_returns_a_query_or_raises_query_error(text):
    try:
        build_query(text)
    except QueryError as exc:
        assert "\n" not in str(exc)


@pytest.fixture(scope="module")
def letter_copy(built_letter, tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(built_letter / "corpus", root / "corpus")
    shutil.copytree(built_letter / "index", root / "index")
    return root / "corpus", root / "index"


@pytest.fixture(scope="module")
def letter_search(letter_copy):
    from searchdoc.index import Index

    corpus = Corpus(letter_copy[0])
    index = Index(letter_copy[1], corpus)
    index.ensure_fresh()
    yield index, corpus
    index.close()


@hsettings(max_examples=800, deadline=None, derandomize=True,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=queries)
def test_search_answers_or_raises_a_usage_error(letter_search, text):
    from searchdoc import search as searching

    index, corpus = letter_search
    try:
        result = searching.search(index, corpus, text, limit=5, context=1)
    except UsageError as exc:
        assert "\n" not in str(exc)
    else:
        # The hits with all the words, then (result.partial) those with most of them.
        full = result.partial["start"] if result.partial else len(result.hits)
        assert result.total >= full
        if result.partial:
            assert result.partial["total"] >= len(result.hits) - full > 0


@hsettings(max_examples=200, deadline=None, derandomize=True,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=queries, fmt=st.sampled_from(["text", "json"]))
def test_cli_search_exits_0_or_2_with_one_line(letter_copy, text, fmt):
    corpus_dir, index_dir = letter_copy
    env = {"SEARCHDOC_CORPUS": str(corpus_dir), "SEARCHDOC_INDEX": str(index_dir)}
    result = CliRunner().invoke(cli, ["search", "--format", fmt, "--", text], env=env)
    assert result.exit_code in (0, 2), (text, result.output, result.exception)
    if result.exit_code == 2:
        one_error_line(result.stderr)
    else:
        assert result.stderr == ""
        if fmt == "json":
            json.loads(result.stdout)


@pytest.mark.parametrize("args", [
    ["search"], ["search", ""], ["search", "   "], ["search", '"open'], ["search", "onbekend:x"],
    ["search", "drones", "--limit", "0"], ["search", "drones", "--context", "-1"],
    ["search", "drones", "--doc", "../x"],
    ["search", "drones", "--theme", "geen-thema"], ["search", "x" * 2000], ["search", "a\x00b"], ["show", "../../etc"],
    ["show", "kst-1-1/../../x"], ["search", "--bogus"], ["nocommand"],
])
def test_malformed_command_lines_give_exit_2_and_one_line(letter_env, args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, (result.output, result.exception)
    one_error_line(result.stderr)


# --------------------------------------------------------------------------- hostile files


def billion_laughs() -> bytes:
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "ha">{entities}]><d>&l9;</d>'.encode()


def quadratic_blowup() -> bytes:
    return ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "' + "A" * 50_000 + '">]><d>' + "&a;" * 50_000
            + "</d>").encode()


def parameter_entities(url: str) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % remote SYSTEM "{url}/evil.dtd">%remote;]>'
            "<officiele-publicatie><kamerstuk><al>tekst</al></kamerstuk></officiele-publicatie>").encode()


def external_entity(target: str) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "{target}">]>'
            "<officiele-publicatie><kamerstuk><al>&x;</al></kamerstuk></officiele-publicatie>").encode()


def external_dtd(url: str) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE officiele-publicatie SYSTEM "{url}/op.dtd">'
            "<officiele-publicatie><kamerstuk><al>tekst</al></kamerstuk></officiele-publicatie>").encode()


def xinclude() -> bytes:
    return (b'<?xml version="1.0"?><officiele-publicatie xmlns:xi="http://www.w3.org/2001/XInclude">'
            b'<kamerstuk><al><xi:include href="file:///etc/passwd" parse="text"/></al></kamerstuk>'
            b"</officiele-publicatie>")


def utf16_laughs() -> bytes:
    return billion_laughs().decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")


def deep_html(depth: int) -> bytes:
    return ("<html><body>" + "<div>" * depth + "<p>diep</p>" + "</div>" * depth + "</body></html>").encode()


def html_entity_bomb() -> bytes:
    return ('<!DOCTYPE html [<!ENTITY a "' + "A" * 100_000 + '">]><html><body><p>' + "&a;" * 20_000
            + "</p></body></html>").encode()


HOSTILE_XML = {
    "billion-laughs": lambda url: billion_laughs(),
    "utf16-billion-laughs": lambda url: utf16_laughs(),
    "quadratic-blowup": lambda url: quadratic_blowup(),
    "external-entity-file": lambda url: external_entity("file:///etc/passwd"),
    "external-entity-http": lambda url: external_entity(f"{url}/secret"),
    "parameter-entity-dtd": parameter_entities,
    "external-dtd": external_dtd,
}


#: CPU seconds an ingest of hostile input may use: the kernel stops it beyond that (SIGXCPU),
#: a bound on work that other processes on the machine cannot make it miss.
INGEST_CPU_SECONDS = 30


def ingest_bounded(path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run ``searchdoc ingest`` with its address space capped at 1.5 GiB and its CPU time at
    INGEST_CPU_SECONDS; the wall-clock timeout only guards against a hang."""

    def cap() -> None:
        limit = 1536 * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (INGEST_CPU_SECONDS, INGEST_CPU_SECONDS))

    return subprocess.run([sys.executable, "-m", "searchdoc", "ingest", str(path), *args], env=env,
                          capture_output=True, text=True, timeout=600, preexec_fn=cap)


@pytest.fixture
def cli_env(letter_dirs, tmp_path):
    corpus_dir, index_dir = letter_dirs
    env = dict(os.environ)
    env.update(SEARCHDOC_CORPUS=str(corpus_dir), SEARCHDOC_INDEX=str(index_dir))
    env.pop("SEARCHDOC_DEBUG", None)
    return env


def corpus_files(corpus_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(corpus_dir)): p.read_bytes() for p in corpus_dir.rglob("*") if p.is_file()}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HOSTILE_XML))
def test_hostile_xml_is_refused_in_bounded_memory_and_time(name, cli_env, tmp_path, httpserver):
    corpus_dir = Path(cli_env["SEARCHDOC_CORPUS"])
    before = corpus_files(corpus_dir)
    path = tmp_path / "kst-33694-99.xml"
    path.write_bytes(HOSTILE_XML[name](httpserver.url_for("").rstrip("/")))
    result = ingest_bounded(path, cli_env)
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert str(path) in line and "refused" in line
    assert httpserver.log == [], "a DTD or entity was fetched"
    assert corpus_files(corpus_dir) == before


def test_xinclude_is_not_followed(letter_env, tmp_path):
    path = tmp_path / "kst-33694-99.xml"
    path.write_bytes(xinclude())
    result = CliRunner().invoke(cli, ["ingest", str(path)])
    if result.exit_code == 0:
        document = Corpus(letter_env[0]).load("kst-33694-99")
        assert "root:" not in json.dumps(document.to_dict())
    else:
        assert result.exit_code == 2
        one_error_line(result.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("name, data", [
    ("deep-nesting", deep_html(100_000)),
    ("moderately-deep-nesting", deep_html(2_000)),
])
def test_deeply_nested_html_is_refused_in_bounded_time(name, data, cli_env, tmp_path):
    path = tmp_path / "kst-33694-99.html"
    path.write_bytes(data)
    result = ingest_bounded(path, cli_env)
    assert result.returncode == 2, result.stderr
    assert "levels deep; refused" in one_error_line(result.stderr)


@pytest.mark.slow
def test_html_entity_declarations_are_not_expanded(cli_env, tmp_path):
    path = tmp_path / "kst-33694-99.html"
    path.write_bytes(html_entity_bomb())
    result = ingest_bounded(path, cli_env)
    if result.returncode == 0:
        stored = (Path(cli_env["SEARCHDOC_CORPUS"]) / "documents" / "kst-33694-99.json").read_bytes()
        assert len(stored) < 2 * len(html_entity_bomb())
    else:
        assert result.returncode == 2
        one_error_line(result.stderr)


def test_legitimately_nested_html_is_still_ingested(letter_env, tmp_path):
    path = tmp_path / "kst-33694-99.html"
    path.write_bytes(deep_html(200).replace(b"diep", b"Een diep geneste alinea over drones."))
    result = CliRunner().invoke(cli, ["ingest", str(path)])
    assert result.exit_code == 0, result.stderr
    assert Corpus(letter_env[0]).load("kst-33694-99").paragraphs[0].text == "Een diep geneste alinea over drones."


def test_oversized_file_is_refused_before_it_is_read(letter_env, tmp_path):
    path = tmp_path / "kst-33694-99.txt"
    with open(path, "wb") as handle:  # sparse: the size is real, the disk use is not
        handle.truncate(settings.MAX_INGEST_BYTES + 1)
    result = CliRunner().invoke(cli, ["ingest", str(path)])
    assert result.exit_code == 2
    line = one_error_line(result.stderr)
    limit = settings.MAX_INGEST_BYTES
    assert f"{limit + 1:,} bytes is larger than the {limit:,}-byte limit" in line
    assert not Corpus(letter_env[0]).has("kst-33694-99")


@pytest.mark.parametrize("suffix, data, message", [
    (".txt", b"Tekst\x00\x01\x02 met nullen" * 100, "binary"),
    (".txt", b"", "empty"),
    (".xml", os.urandom(4096).replace(b"<", b"(").replace(b"\x00", b"."), "xml"),
    (".xml", b"<officiele-publicatie><kamerstuk>", "not well-formed"),
    (".pdf", b"geen pdf maar tekst", "pdf"),
    (".html", b"<html><body><p>" + b"\x00\x01\x02\x03" * 100, "binary"),
    (".xml", b"<?xml version='1.0'?>\x00\x00\x00" * 10, "binary"),
    (".docx", b"PK\x03\x04", "unknown file type"),
])
def test_binary_and_malformed_files_are_refused(letter_env, tmp_path, suffix, data, message):
    path = tmp_path / f"kst-33694-99{suffix}"
    path.write_bytes(data)
    before = corpus_files(letter_env[0])
    result = CliRunner().invoke(cli, ["ingest", str(path)])
    assert result.exit_code == 2, (result.output, result.exception)
    line = one_error_line(result.stderr)
    assert message.lower() in line.lower()
    assert corpus_files(letter_env[0]) == before


# --------------------------------------------------------------------------- ids and paths

ESCAPES = ["../evil", "../../etc/passwd", "/etc/passwd", "kst-1-1/../../x", "kst-1-1/..", "..", ".", "",
           "kst\u20101\u20101", "ｋｓｔ-1-1", "kst-1-1\x00", "kst-1-1\n", "KST-1-1", "kst-1-1.json", "kst-1-1 ",
           "c:\\windows\\x", "kst-1-1%2f..%2f", "kst-" + "9" * 200 + "-1", "kst-1-1\u0338", "~/kst-1-1"]


def outside_snapshot(root: Path, corpus_dir: Path) -> set[str]:
    return {str(p) for p in root.rglob("*") if corpus_dir not in p.parents and p != corpus_dir}


@pytest.mark.parametrize("bad", ESCAPES)
def test_ids_cannot_escape_the_corpus_via_id_option(letter_env, tmp_path, bad):
    corpus_dir, _ = letter_env
    source = tmp_path / "bron.txt"
    source.write_text("Een alinea over drones.\n", encoding="utf-8")
    before = outside_snapshot(tmp_path, corpus_dir)
    documents = sorted(os.listdir(corpus_dir / "documents"))
    result = CliRunner().invoke(cli, ["ingest", str(source), "--id", bad])
    assert result.exit_code == 2, (bad, result.output)
    one_error_line(result.stderr)
    assert outside_snapshot(tmp_path, corpus_dir) == before
    assert sorted(os.listdir(corpus_dir / "documents")) == documents
    shown = CliRunner().invoke(cli, ["show", bad])
    assert shown.exit_code == 2
    one_error_line(shown.stderr)


@pytest.mark.parametrize("name", ["..kst-1-1.txt", "kst-1-1..txt", ".kst-1-1.txt", "kst 1 1.txt", "kst-1-1‮.txt",
                                  "ｋｓｔ-1-1.txt", "kst-1-1.json.txt"])
def test_file_names_that_are_not_ids_are_refused(letter_env, tmp_path, name):
    path = tmp_path / name
    path.write_text("Een alinea over drones.\n", encoding="utf-8")
    documents = sorted(os.listdir(letter_env[0] / "documents"))
    result = CliRunner().invoke(cli, ["ingest", str(path)])
    assert result.exit_code == 2
    one_error_line(result.stderr)
    assert sorted(os.listdir(letter_env[0] / "documents")) == documents


@hsettings(max_examples=500, deadline=None, derandomize=True)
@given(st.text(max_size=40))
def test_any_id_the_corpus_accepts_stays_inside_it(text):
    from searchdoc.corpus import is_valid_id

    root = Path("/srv/corpus")
    if is_valid_id(text):
        corpus = Corpus(root)
        for path in (corpus.json_path(text), corpus.raw_path(text, "xml"), corpus.raw_path(text, "metadata.xml")):
            assert os.path.normpath(path) == str(path)
            assert path.parent in (root / "documents", root / "raw") and "/" not in path.name


# --------------------------------------------------------------------------- the network, at the crawl level


class Faulty:
    """A local OB whose answers for the generated documents can be made to fail in one way."""

    def __init__(self, httpserver, foreign):
        from werkzeug import Response

        self.Response = Response
        self.server, self.foreign = httpserver, foreign
        self.mode = None
        self.version = 1
        self.base = httpserver.url_for("/").rstrip("/")
        httpserver.expect_request(re.compile(r".*")).respond_with_handler(self.handle)
        foreign.expect_request(re.compile(r".*")).respond_with_data("stolen")

    def body(self, path: str) -> bytes | None:
        from test_reliability_crash import kamerstuk_xml

        match = re.fullmatch(r"/(kst-95\d{3}-1)(\.xml|/metadata\.xml)", path)
        if not match:
            return None
        if match.group(2) == "/metadata.xml":
            meta = (Path(__file__).parent / "data" / "official" / "kst-33694-12.metadata.xml").read_text("utf-8")
            return meta.replace("kst-33694-12", match.group(1)).encode()
        return kamerstuk_xml(match.group(1), [f"Versie {self.version} van de tekst over drones.", "Tweede alinea."])

    def handle(self, request):
        body = self.body(request.path)
        if body is None:
            return self.Response("", status=404)
        mode = self.mode
        if mode == "truncated":
            return self.Response(body[: len(body) // 2], status=200, headers={"Content-Length": str(len(body))})
        if mode == "corrupted":
            return self.Response(body[: len(body) // 2] + b"\xff\xfe<<garbage", status=200,
                                 content_type="application/xml")
        if mode == "wrong-type":
            return self.Response(b"\x89PNG\r\n\x1a\n" + os.urandom(512), status=200, content_type="image/png")
        if mode == "redirect-loop":
            return self.Response("", status=302, headers={"Location": request.path})
        if mode == "foreign-redirect":
            return self.Response("", status=302, headers={"Location": self.foreign.url_for(request.path)})
        if mode in ("400", "403", "500", "502", "503", "429"):
            return self.Response("nee", status=int(mode), headers={"Retry-After": "0"})
        return self.Response(body, status=200, content_type="application/xml")

    def env(self, corpus_dir: Path, index_dir: Path, cache: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(SEARCHDOC_CORPUS=str(corpus_dir), SEARCHDOC_INDEX=str(index_dir), SEARCHDOC_CACHE=str(cache),
                   SEARCHDOC_OB_URL=self.base, SEARCHDOC_SRU_URL=self.base + "/sru",
                   SEARCHDOC_TK_URL=self.base + "/OData/v4/2.0",
                   SEARCHDOC_REPOSITORY_URL=self.base + "/frbr/officielepublicaties", SEARCHDOC_DELAY="0")
        return env


@pytest.fixture
def foreign_server():
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


FAULTS = ["truncated", "corrupted", "wrong-type", "redirect-loop", "foreign-redirect", "400", "403", "500", "502",
          "503", "429"]


def crawl(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(cli, ["crawl", *args], env=env)


@pytest.mark.slow
def test_crawl_refresh_under_network_faults_keeps_stored_documents(tmp_path, httpserver, foreign_server):
    service = Faulty(httpserver, foreign_server)
    corpus_dir, index_dir = tmp_path / "corpus", tmp_path / "index"
    env = service.env(corpus_dir, index_dir, tmp_path / "cache")
    ids = [f"kst-95{i:03d}-1" for i in range(3)]
    first = crawl(ids, env)
    assert first.exit_code == 0, first.output
    before = corpus_files(corpus_dir)
    service.version = 2
    for mode in FAULTS:
        service.mode = mode
        httpserver.clear_log()
        result = crawl(["--refresh", *ids], env)
        assert result.exception is None or isinstance(result.exception, SystemExit), (mode, result.exception)
        assert "Traceback" not in result.stderr, (mode, result.stderr)
        # An answer that is no publication at all (a PNG for every format) is reported as not found.
        outcome = "not found " if mode == "wrong-type" else "failed "
        assert result.exit_code == (0 if mode == "wrong-type" else 1), (mode, result.output)
        reported = [line for line in result.stdout.splitlines() if line.startswith(outcome)]
        assert [line[len(outcome):].split()[0].rstrip(":") for line in reported] == ids, (mode, result.stdout)
        assert corpus_files(corpus_dir) == before, mode
        assert foreign_server.log == [], mode
        # Retries stay within the limit: at most REQUEST_RETRIES attempts per URL.
        per_path: dict[str, int] = {}
        for request, _ in httpserver.log:
            per_path[request.path] = per_path.get(request.path, 0) + 1
        assert max(per_path.values()) <= settings.REQUEST_RETRIES * (2 if mode == "redirect-loop" else 1), mode
    service.mode = None
    healed = crawl(["--refresh", *ids], env)
    assert healed.exit_code == 0, healed.output
    assert all("Versie 2 van de tekst" in Corpus(corpus_dir).load(i).paragraphs[0].text for i in ids)


# --------------------------------------------------------------------------- supply chain


def locked_packages() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from requirements/ci.lock (pip-compile --generate-hashes output)."""
    text = (Path(__file__).resolve().parent.parent / "requirements" / "ci.lock").read_text(encoding="utf-8")
    packages: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", block)
        if match:
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            packages[name] = (match.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return packages


def test_every_dependency_is_pinned_with_hashes_in_the_ci_lock():
    import tomllib
    from packaging.requirements import Requirement

    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text("utf-8"))
    declared = [*pyproject["project"]["dependencies"], *pyproject["project"]["optional-dependencies"]["test"]]
    locked = locked_packages()
    assert locked and all(hashes for _, hashes in locked.values()), "every locked package needs a hash"
    for line in declared:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate({"python_version": "3.11"}):
            continue
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in locked, f"{requirement.name} is in pyproject.toml but not pinned in requirements/ci.lock"
        version, _ = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements/ci.lock pins {name}=={version}, outside pyproject.toml's {requirement.specifier}"
        )


CRAWL_ESCAPES = ["../../etc/passwd", "/etc/passwd", "kst-1-1/../../x", "ｋｓｔ-1-1", "kst-1-1%2f..%2f", "file:///etc/passwd",
                 "http://evil.example/kst-1-1.xml", "kst-33694-12/../../../x", "..", "kst-1-1\x00"]


@pytest.mark.parametrize("bad", CRAWL_ESCAPES)
def test_crawl_ids_that_could_escape_are_refused_before_any_request(bad, tmp_path, httpserver):
    env = {"SEARCHDOC_CORPUS": str(tmp_path / "corpus"), "SEARCHDOC_INDEX": str(tmp_path / "index"),
           "SEARCHDOC_OB_URL": httpserver.url_for("").rstrip("/"), "SEARCHDOC_DELAY": "0"}
    result = CliRunner().invoke(cli, ["crawl", bad], env=env)
    assert result.exit_code == 2, result.output
    one_error_line(result.stderr)
    assert httpserver.log == []
    assert not (tmp_path / "corpus" / "documents").exists() or not os.listdir(tmp_path / "corpus" / "documents")


@pytest.mark.slow
def test_citations_in_fetched_documents_cannot_lead_outside(tmp_path, httpserver):
    """A fetched document citing hostile ids: followed only as valid ids, stored only inside the corpus."""
    from test_reliability_crash import kamerstuk_xml

    hostile = kamerstuk_xml("kst-96000-1", [
        'Zie <extref soort="document" doc="../../../etc/passwd" status="actief">hier</extref>.',
        'En <extref soort="document" doc="/etc/passwd" status="actief">daar</extref> of kst-1-1/../../x.',
        'Ook <extref soort="document" doc="kst-96000-2" status="actief">33 694, nr. 2</extref>.',
    ])
    httpserver.expect_request("/kst-96000-1.xml").respond_with_data(hostile, content_type="application/xml")
    httpserver.expect_request(re.compile(r".*")).respond_with_data("", status=404)
    env = {"SEARCHDOC_CORPUS": str(tmp_path / "corpus"), "SEARCHDOC_INDEX": str(tmp_path / "index"),
           "SEARCHDOC_OB_URL": httpserver.url_for("").rstrip("/"), "SEARCHDOC_DELAY": "0",
           "SEARCHDOC_CACHE": str(tmp_path / "cache")}
    result = CliRunner().invoke(cli, ["crawl", "kst-96000-1", "--depth", "2"], env=env)
    assert result.exit_code in (0, 1) and "Traceback" not in result.stderr, result.output
    assert Corpus(tmp_path / "corpus").ids() == ["kst-96000-1"]
    assert any(request.path.startswith("/kst-96000-2") for request, _ in httpserver.log), "citations were followed"
    for request, _ in httpserver.log:
        assert ".." not in request.path and "passwd" not in request.path, request.path
    for path in tmp_path.rglob("*"):
        assert ".." not in path.name and "passwd" not in path.name


def test_a_server_that_never_answers_in_time_is_retried_then_reported(tmp_path, httpserver):
    """Bounded by attempts, not by the clock: the handler holds every answer until the test ends."""
    import threading

    from searchdoc.errors import FetchError, OfflineError
    from searchdoc.sources.http import UNANSWERED_ATTEMPTS, HttpClient

    release = threading.Event()
    answered: list[bool] = []

    def slow(request):
        from werkzeug import Response

        if answered:
            release.wait(60)
        answered.append(True)
        return Response("te laat", status=200)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    base = httpserver.url_for("").rstrip("/")
    config = settings.Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", ob_url=base, delay=0)
    waits: list[float] = []
    answering = HttpClient(config, use_cache=False, trust_env=False, timeout=(30.0, 30.0), sleep=waits.append)
    silent = HttpClient(config, use_cache=False, trust_env=False, timeout=(1.0, 0.1), sleep=waits.append)
    try:
        # The first request is answered (with time to spare): that host has been reached, so it
        # gets every retry once it stops answering.
        assert answering.get(base + "/slow").content == b"te laat"
        answering.timeout = (1.0, 0.1)
        retried = rf"sent no answer within 0.1 s .* after {settings.REQUEST_RETRIES} attempts"
        with pytest.raises(FetchError, match=retried):
            answering.get(base + "/slow")
        assert len(waits) == settings.REQUEST_RETRIES - 1
        # A host that has never answered in this run is given up sooner, as unreachable.
        waits.clear()
        with pytest.raises(OfflineError, match=rf"sent no answer within 0.1 s .* after {UNANSWERED_ATTEMPTS} attempts"):
            silent.get(base + "/slow")
        assert len(waits) == UNANSWERED_ATTEMPTS - 1
    finally:
        answering.close()
        silent.close()
        release.set()
    # Let the held handlers finish (an observable state, not a fixed time), or they would log
    # their requests into the next test's server.
    expected = 1 + settings.REQUEST_RETRIES + UNANSWERED_ATTEMPTS
    for _ in range(1200):
        if len(httpserver.log) >= expected:
            break
        time.sleep(0.05)
    assert len(httpserver.log) == expected
