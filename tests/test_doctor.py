"""searchdoc doctor: every kind of damage is found, repaired when it can be, and reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchdoc import settings
from searchdoc.cli import cli
from searchdoc.corpus import Corpus, sha256_bytes
from searchdoc.doctor import doctor
from searchdoc.index import INDEX_NAME, Index
from searchdoc.pipeline import ingest_file

LETTER = settings.LETTER_ID


def run(*args):
    return CliRunner().invoke(cli, ["doctor", *args])


def report_of(*args) -> tuple[int, dict]:
    result = run(*args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def codes(report: dict, repaired: bool | None = None) -> set[str]:
    return {f["code"] for f in report["findings"] if repaired is None or f["repaired"] == repaired}


def keys_of(index_dir: Path, corpus_dir: Path) -> list[str]:
    index = Index(index_dir, Corpus(corpus_dir))
    try:
        return index.stored_keys()
    finally:
        index.close()


def test_healthy_corpus_and_index(letter_env):
    result = run("--no-repair")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].endswith(": healthy")
    code, report = report_of("--no-repair")
    assert code == 0 and report["healthy"] and report["findings"] == []
    assert report["documents"] == 1 and report["paragraphs"] == report["indexed"] == 30


def test_corpus_damage_is_found_without_repair_then_repaired(letter_env, tmp_path):
    corpus_dir, _ = letter_env
    documents, raw = corpus_dir / "documents", corpus_dir / "raw"
    original = json.loads((documents / f"{LETTER}.json").read_bytes())
    text = (raw / f"{LETTER}.txt").read_bytes()
    # A second document whose raw file is one version ahead of its JSON (a save killed in between).
    source = tmp_path / "kst-33694-99.txt"
    source.write_text("Eerste alinea over drones.\n\nTweede alinea over cyberveiligheid.\n", encoding="utf-8")
    ingest_file(Corpus(corpus_dir), source)
    (raw / "kst-33694-99.txt").write_text(
        "Eerste alinea over drones.\n\nTweede alinea over cyberveiligheid.\n\nDerde alinea over pelikanen.\n",
        encoding="utf-8",
    )
    (documents / f"{LETTER}.json").write_bytes(b'{"id": "kst-33694-45", "paragr')
    (documents / f".{LETTER}.json.abc123.tmp").write_bytes(b"half")
    (raw / "kst-33694-77.txt").write_bytes(b"an interrupted first save")

    code, report = report_of("--no-repair")
    assert code == 1 and not report["healthy"]
    assert codes(report, repaired=False) >= {"damaged-json", "raw-mismatch", "temp-file", "orphan-raw"}
    assert (documents / f".{LETTER}.json.abc123.tmp").exists() and (raw / "kst-33694-77.txt").exists()

    result = run()
    assert result.exit_code == 0, result.output
    assert "repaired (re-parsed from raw/kst-33694-45.txt) damaged-json" in result.stdout
    assert "repaired (removed) temp-file" in result.stdout
    repaired = Corpus(corpus_dir).load(LETTER)
    assert [p.text for p in repaired.paragraphs] == [p["text"] for p in original["paragraphs"]]
    assert repaired.title == original["title"] and repaired.date == original["date"]
    assert repaired.provenance["sha256"] == sha256_bytes(text)
    rolled = Corpus(corpus_dir).load("kst-33694-99")
    assert [p.text for p in rolled.paragraphs][-1] == "Derde alinea over pelikanen."
    assert rolled.provenance["sha256"] == sha256_bytes((raw / "kst-33694-99.txt").read_bytes())
    assert not (documents / f".{LETTER}.json.abc123.tmp").exists() and not (raw / "kst-33694-77.txt").exists()

    code, report = report_of("--no-repair")
    assert code == 0 and report["findings"] == [], report
    hits = CliRunner().invoke(cli, ["search", "pelikanen", "--format", "json"])
    assert hits.exit_code == 0 and [h["doc_id"] for h in json.loads(hits.stdout)["hits"]] == ["kst-33694-99"]


def test_damaged_json_without_raw_file_remains_a_problem(letter_env):
    corpus_dir, _ = letter_env
    (corpus_dir / "raw" / f"{LETTER}.txt").unlink()
    (corpus_dir / "documents" / f"{LETTER}.json").write_text("{not json", encoding="utf-8")
    result = run()
    assert result.exit_code == 1
    assert "PROBLEM    damaged-json" in result.stdout and "ingest or crawl it again" in result.stdout
    assert "PROBLEM    index-not-updated" in result.stdout
    assert "2 problems remain" in result.stdout.splitlines()[-1]


def test_damaged_json_with_a_raw_file_that_does_not_match_it_is_not_guessed(letter_env):
    corpus_dir, _ = letter_env
    path = corpus_dir / "documents" / f"{LETTER}.json"
    path.write_bytes(path.read_bytes()[:-400])
    (corpus_dir / "raw" / f"{LETTER}.txt").write_bytes(b"Een ander bestand.\n")
    code, report = report_of()
    assert code == 1 and codes(report, repaired=False) == {"damaged-json", "index-not-updated"}


def test_missing_raw_file_is_reported(letter_env):
    corpus_dir, _ = letter_env
    (corpus_dir / "raw" / f"{LETTER}.txt").unlink()
    code, report = report_of()
    assert code == 1 and codes(report, repaired=False) == {"raw-missing"}


def _tamper_index(index_dir: Path) -> None:
    from whoosh import index as windex

    ix = windex.open_dir(str(index_dir), indexname=INDEX_NAME)
    with ix.searcher() as searcher:
        stored = {f["key"]: f for f in searcher.all_stored_fields()}
    writer = ix.writer()
    writer.delete_by_term("key", f"{LETTER}#5")
    writer.add_document(key=f"{LETTER}#7", doc_id=LETTER, paragraph=7, text=stored[f"{LETTER}#7"]["text"])
    writer.add_document(key=f"{LETTER}#31", doc_id=LETTER, paragraph=31, text="bestaat niet")
    writer.add_document(key="kst-1-1#1", doc_id="kst-1-1", paragraph=1, text="wees")
    writer.commit()
    ix.close()
    # Checksums recorded afresh, as a searchdoc writer would: the entries are wrong, the files
    # intact (a foreign writer's files alone would be reported as damage, see test_checksums.py).
    index = Index(index_dir, Corpus(index_dir.parent / "corpus"))
    index.write_state(index_dir, index.read_state()["docs"])


def test_index_entries_missing_doubled_and_orphaned_are_reindexed(letter_env):
    corpus_dir, index_dir = letter_env
    _tamper_index(index_dir)
    code, report = report_of("--no-repair")
    assert code == 1
    assert codes(report) == {"index-missing-paragraphs", "index-duplicates", "index-orphans"}
    assert {f["subject"] for f in report["findings"]} == {LETTER, "kst-1-1"}

    code, report = report_of()
    assert code == 0, report
    assert codes(report, repaired=True) == {"index-missing-paragraphs", "index-duplicates", "index-orphans"}
    assert any(n.startswith("index updated: ") for n in report["notes"]), report["notes"]
    keys = keys_of(index_dir, corpus_dir)
    assert sorted(keys) == sorted(f"{LETTER}#{n}" for n in range(1, 31))


@pytest.mark.parametrize("damaged", ["*.seg", "*.cdoc"], ids=["whoosh-segment", "columns"])
def test_damaged_index_is_found_and_rebuilt(letter_env, damaged):
    corpus_dir, index_dir = letter_env
    for path in index_dir.glob(damaged):
        path.write_bytes(b"garbage")
    code, report = report_of("--no-repair")
    assert code == 1 and codes(report) == {"index-damaged"}
    code, report = report_of()
    assert code == 0 and codes(report, repaired=True) == {"index-damaged"}
    assert len(keys_of(index_dir, corpus_dir)) == 30
    code, report = report_of("--no-repair")
    assert code == 0 and not codes(report)


def test_missing_index_is_a_note_and_is_built(letter_env):
    import shutil

    corpus_dir, index_dir = letter_env
    shutil.rmtree(index_dir)
    code, report = report_of("--no-repair")
    assert code == 0 and report["findings"] == [] and report["index_status"] == "missing"
    assert report["notes"] == ["there is no index (yet, or its build was interrupted); the next search builds it"]
    code, report = report_of()
    assert code == 0 and report["index_status"] == "fresh" and report["indexed"] == 30
    assert report["notes"] == ["index rebuilt: 1 added, 0 re-indexed, 0 removed"]


def test_stale_index_is_a_note_not_a_problem(letter_env, tmp_path):
    corpus_dir, index_dir = letter_env
    source = tmp_path / "kst-33694-98.txt"
    source.write_text("Een nieuwe alinea over pelikanen.\n", encoding="utf-8")
    ingest_file(Corpus(corpus_dir), source)
    code, report = report_of("--no-repair")
    assert code == 0 and report["index_status"] == "stale"
    assert report["notes"] == ["the index is stale; it updates itself on the next search"]
    code, report = report_of()
    assert code == 0 and report["index_status"] == "fresh" and report["indexed"] == 31


def test_staging_folders_of_dead_processes_are_removed(letter_env):
    corpus_dir, index_dir = letter_env
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(finished.stdout)
    staging = index_dir.with_name(f".{index_dir.name}.building-{dead}")
    staging.mkdir()
    (staging / "_paragraphs_1.toc").write_bytes(b"partial")
    (index_dir / ".searchdoc-state.json.x1y2.tmp").write_bytes(b"{")
    code, report = report_of("--no-repair")
    assert code == 1 and codes(report) == {"index-leftover"} and len(report["findings"]) == 2
    code, report = report_of()
    assert code == 0 and not staging.exists()
    assert not list(index_dir.glob(".searchdoc-state.json.*.tmp"))


def test_library_report_and_missing_corpus(tmp_path):
    from searchdoc.errors import CorpusError

    config = settings.Settings(corpus_dir=tmp_path / "nothing", index_dir=tmp_path / "index")
    with pytest.raises(CorpusError):
        doctor(config)
    result = CliRunner().invoke(cli, ["--corpus", str(tmp_path / "nothing"), "doctor"])
    assert result.exit_code == 1 and result.stderr.startswith("searchdoc: error: no corpus at ")
    assert len(result.stderr.splitlines()) == 1
