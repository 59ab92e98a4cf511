"""Concurrency: two writers never corrupt anything, and searches keep answering during writes.

A second writer waits for the lock with a message (and finishes), or after the lock timeout
exits 1 saying another process holds it. Overlaps are made, not hoped for: the first writer
stops itself (SIGSTOP) at a chosen call in the middle of its build, the test does the
overlapping work, then lets it go on (SIGCONT), whatever the speed or load of the machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner
from test_reliability_crash import (
    INDEX_POINTS,
    assert_search_correct,
    build_corpus,
    doctor_findings,
    searchdoc_env,
    start_paused,
    write_sources,
)

from searchdoc import settings
from searchdoc.cli import cli
from searchdoc.corpus import Corpus
from searchdoc.index import Index

WAITING = "waiting for another searchdoc process that is writing"


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "searchdoc", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=180)
    return process.returncode, stdout, stderr


#: Calls at which a rebuild is paused: its first index file renamed into its building folder
#: (mid-build), and its state file synced (the build complete, the old index still in place).
MID_BUILD = [("os.replace", 1), ("os.fsync", 1)]


def rebuild_paused(env: dict[str, str], index_dir, pause: tuple[str, int]) -> subprocess.Popen:
    process = start_paused(["index", "--rebuild"], env, INDEX_POINTS, pause)
    assert (index_dir.parent / f".{index_dir.name}.building-{process.pid}").is_dir()
    return process


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_second_index_waits_for_the_first_and_both_finish(tmp_path):
    corpus_dir, index_dir, _ = build_corpus(tmp_path, 60)
    env = searchdoc_env(corpus_dir, index_dir)
    # The first writer stops itself mid-build, so the second surely meets the lock.
    first = rebuild_paused(env, index_dir, MID_BUILD[0])
    try:
        second = start(["index", "--rebuild"], env)
        waited = second.stderr.readline()
    finally:
        first.send_signal(signal.SIGCONT)
    code2, out2, err2 = finish(second)
    code1, out1, err1 = finish(first)
    assert (code1, code2) == (0, 0), err1 + err2
    assert waited.startswith(f"{WAITING} the index"), waited
    assert out1.startswith("index rebuilt: 60 added") and out2.startswith("index rebuilt: 60 added")
    assert doctor_findings(corpus_dir, index_dir) == set()
    assert_search_correct(corpus_dir, index_dir)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_ingest_while_a_rebuild_runs(tmp_path):
    corpus_dir, index_dir, ids = build_corpus(tmp_path, 60)
    env = searchdoc_env(corpus_dir, index_dir)
    changed = write_sources(tmp_path / "changes", ids[:10] + ["kst-94000-1", "kst-94000-2"], version=7, seed=5)
    rebuild = rebuild_paused(env, index_dir, MID_BUILD[0])  # the ingest runs entirely inside the rebuild
    try:
        ingest = start(["ingest", *map(str, sorted((tmp_path / "changes").glob("*.txt")))], env)
        code, out, err = finish(ingest)
    finally:
        rebuild.send_signal(signal.SIGCONT)
    assert code == 0 and f"{WAITING}" not in err, err
    assert finish(rebuild)[0] == 0
    corpus = Corpus(corpus_dir)
    for doc_id in changed:
        assert corpus.load(doc_id).provenance["sha256"] == hashlib.sha256(changed[doc_id]).hexdigest()
    # The rebuild indexed what it saw; the documents ingested meanwhile make it stale, never wrong.
    assert Index(index_dir, corpus).staleness()[0] == "stale"
    assert doctor_findings(corpus_dir, index_dir) == set()
    assert_search_correct(corpus_dir, index_dir)
    assert doctor_findings(corpus_dir, index_dir) == set()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_second_ingest_waits_for_the_corpus_lock(tmp_path):
    corpus_dir, index_dir, _ = build_corpus(tmp_path, 5)
    env = searchdoc_env(corpus_dir, index_dir)
    write_sources(tmp_path / "new", ["kst-94001-1"], version=1, seed=6)
    with Corpus(corpus_dir).write_lock():
        waiting = start(["ingest", str(tmp_path / "new" / "kst-94001-1.txt")], env)
        first_line = waiting.stderr.readline()
        assert first_line.startswith(f"{WAITING} the corpus"), first_line
        assert not Corpus(corpus_dir).has("kst-94001-1")
    code, out, err = finish(waiting)
    assert code == 0, err
    assert out.startswith("ingested kst-94001-1: ")
    assert Corpus(corpus_dir).has("kst-94001-1")


@pytest.mark.parametrize("command", [["ingest", "{file}"], ["index", "--rebuild"]])
def test_writer_gives_up_with_exit_1_when_the_lock_stays_taken(letter_env, tmp_path, monkeypatch, command):
    from searchdoc.corpus import hold_lock

    corpus_dir, index_dir = letter_env
    monkeypatch.setattr(settings, "LOCK_TIMEOUT", 0.3)
    source = tmp_path / "kst-94002-1.txt"
    source.write_text("Een alinea over drones.\n", encoding="utf-8")
    args = [a.replace("{file}", str(source)) for a in command]
    lock = corpus_dir / ".lock" if command[0] == "ingest" else index_dir.parent / f".{index_dir.name}.lock"
    with hold_lock(lock, 1.0):
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    waited, error = result.stderr.splitlines()
    assert waited.startswith(WAITING)
    assert error.startswith("searchdoc: error: another searchdoc process holds the lock on the ")
    assert error.endswith("try again when it has finished")
    assert not Corpus(corpus_dir).has("kst-94002-1")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_searches_keep_answering_during_rebuilds(tmp_path):
    from test_reliability_crash import MARKER, expected_hits

    from searchdoc import search as searching

    corpus_dir, index_dir, _ = build_corpus(tmp_path, 40)
    env = searchdoc_env(corpus_dir, index_dir)
    expected = expected_hits(corpus_dir)
    corpus = Corpus(corpus_dir)
    searches = failures = 0
    for pause in MID_BUILD:
        rebuild = rebuild_paused(env, index_dir, pause)
        try:
            # While the rebuild is stopped in the middle: three searches here, one on the command line.
            for _ in range(3):
                index = Index(index_dir, corpus)
                try:
                    index.ensure_fresh()
                    result = searching.search(index, corpus, MARKER, limit=None)
                    found = {(hit.doc_id, hit.paragraph) for hit in result.hits}
                    failures += found != expected
                finally:
                    index.close()
                searches += 1
            code, out, err = finish(start(["search", MARKER, "--limit", "1000", "--format", "json"], env))
            assert code == 0, err
            assert {(h["doc_id"], h["paragraph"]) for h in json.loads(out)["hits"]} == expected
        finally:
            os.kill(rebuild.pid, signal.SIGCONT)
        assert finish(rebuild)[0] == 0
    assert searches == 6 and failures == 0
    assert doctor_findings(corpus_dir, index_dir) == set()
