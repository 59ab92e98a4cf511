"""`searchdoc crawl` end to end: a local server plays the official services, the CLI crawls,
indexes, searches and refreshes; exit codes and output are exact."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner
from test_crawl import LETTER_CITED, FakeServices, closed_port, snapshot

from searchdoc.cli import cli, main
from searchdoc.corpus import Corpus
from searchdoc.settings import bundled_data_dir


@pytest.fixture
def services(httpserver, monkeypatch):
    fake = FakeServices(httpserver)
    fake.env(monkeypatch)
    fake.add_official(*LETTER_CITED)
    return fake


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def distinctive_word(corpus: Corpus, doc_id: str) -> str:
    """The longest plain word of ``doc_id`` that the letter does not contain."""
    letter = (bundled_data_dir() / "kst-33694-45.txt").read_text(encoding="utf-8").lower()
    words = {
        word
        for paragraph in corpus.load(doc_id).paragraphs
        for word in re.findall(r"[a-z]{9,}", paragraph.text.lower())
        if word not in letter
    }
    return max(sorted(words), key=len)


def test_crawl_search_show_and_refresh(letter_env, services):
    corpus_dir, index_dir = letter_env
    result = invoke("crawl", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data)[:4] == ["fetched", "cached", "not_found", "failed"]
    assert sorted(data["fetched"]) == sorted(LETTER_CITED)
    assert (data["cached"], data["not_found"], data["failed"], data["skipped"]) == ([], [], [], [])
    assert data["resolved"] == {"2019Z01633": ["ah-tk-20182019-1876"]}
    assert sorted(data["indexed"]) == sorted(LETTER_CITED)

    # Search finds text that only crawled documents contain; the stored documents load.
    corpus = Corpus(corpus_dir)
    for doc_id in ("kst-33694-12", "ah-tk-20182019-1876"):
        word = distinctive_word(corpus, doc_id)
        found = invoke("search", word, "--format", "json", "--limit", "50")
        assert found.exit_code == 0, found.output
        assert doc_id in {hit["doc_id"] for hit in json.loads(found.stdout)["hits"]}, word
        shown = invoke("show", doc_id, "--format", "json")
        assert shown.exit_code == 0 and doc_id in shown.stdout

    # cite shows the crawled documents as in the corpus, and a zaak number as the answer it resolved to.
    cited = json.loads(invoke("cite", "Kamerstuk 33 694, nr. 12", "--format", "json").stdout)
    assert cited["in_corpus"] is True and cited["title"]
    assert [(c["doc_id"], c["paragraph"]) for c in cited["cited_by"]][:1] == [("kst-33694-45", 2)]
    zaak = json.loads(invoke("cite", "2019Z01633", "--format", "json").stdout)
    assert zaak["in_corpus"] is True and zaak["resolved"] == ["ah-tk-20182019-1876"]

    # What the crawl stored is whole and indexed exactly once.
    checked = invoke("doctor", "--no-repair")
    assert checked.exit_code == 0, checked.output

    # A refresh asks the server conditionally, gets 304s and stores nothing new.
    corpus_files, index_files = snapshot(corpus_dir), snapshot(index_dir)
    first = len(services.log)
    refreshed = invoke("crawl", "--refresh", "--format", "json")
    assert refreshed.exit_code == 0, refreshed.output
    data = json.loads(refreshed.stdout)
    assert data["fetched"] == [] and data["indexed"] == []
    assert sorted(data["cached"]) == sorted(data["unchanged"]) == sorted(LETTER_CITED)
    later = services.log[first:]
    assert later and all(response.status_code == 304 for _, response in later)
    assert all(request.headers.get("If-None-Match") for request, _ in later)
    assert snapshot(corpus_dir) == corpus_files and snapshot(index_dir) == index_files


def test_text_output(letter_env, services):
    result = invoke("crawl", "kst-33694-12", "Kamerstuk 33 694, nr. 99", "dossier 33 694", "kst-33694-45")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "fetched    kst-33694-12\n"
        "not found  kst-33694-99\n"
        "skipped    dossier-33694: a whole dossier, not one document; crawl its documents by id\n"
        "1 fetched, 1 cached, 1 not found, 0 failed, 1 skipped; 1 indexed\n"
    )
    # Not on a terminal: no progress bar on stderr.
    assert result.stderr == ""


def test_failed_document_exits_1_with_a_summary(letter_env, services):
    services.statuses["/kst-31125-92.xml"] = [500] * 10
    result = invoke("crawl", "kst-33694-12", "kst-31125-92", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["fetched"] == ["kst-33694-12"]
    assert [item["id"] for item in data["failed"]] == ["kst-31125-92"]
    assert "HTTP 500" in data["failed"][0]["reason"]


def test_max_docs_option(letter_env, services):
    result = invoke("crawl", "--max-docs", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["fetched"] == LETTER_CITED[:2]
    assert len(data["skipped"]) == len(LETTER_CITED) - 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["crawl", "not a citation"], "is not a citation"),
        (["crawl", "--depth", "0"], "--depth"),
        (["crawl", "--max-docs", "0"], "--max-docs"),
        (["crawl", "--format", "xml"], "--format"),
    ],
)
def test_usage_errors_exit_2_with_one_line(letter_env, services, capsys, args, message):
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert services.log == []


def test_offline_says_so_in_one_line_and_changes_nothing(letter_env, tmp_path):
    corpus_dir, index_dir = letter_env
    base = f"http://127.0.0.1:{closed_port()}"
    env = {
        **os.environ,
        "SEARCHDOC_OB_URL": base,
        "SEARCHDOC_SRU_URL": base + "/sru",
        "SEARCHDOC_TK_URL": base + "/odata",
        "SEARCHDOC_REPOSITORY_URL": base + "/frbr",
    }
    before = snapshot(corpus_dir), snapshot(index_dir)
    done = subprocess.run(
        [sys.executable, "-m", "searchdoc", "crawl"], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "offline" in done.stderr and "nothing was changed" in done.stderr
    assert (snapshot(corpus_dir), snapshot(index_dir)) == before


def test_help_has_examples():
    result = invoke("crawl", "--help")
    assert result.exit_code == 0
    for option in ("--depth", "--cited-by", "--refresh", "--max-docs", "--format"):
        assert option in result.stdout
    assert "searchdoc crawl --cited-by" in result.stdout
