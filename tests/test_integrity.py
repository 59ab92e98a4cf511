"""Damaged index files and invalid JSON (issue 14, items 4 and 8): every kind of damage is
found when the index is opened and by ``doctor``, and a search answers right (after a rebuild)
or says "damaged" in one line, never with a wrong answer or an internal error."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from searchdoc import checksums, settings
from searchdoc.cli import cli
from searchdoc.corpus import Corpus
from searchdoc.index import STATE_FILE, Index
from searchdoc.model import Document
from searchdoc.query import DEFINITIONS_FILE
from searchdoc.validate import DamagedFile, check_dataclass, load_json

LETTER = settings.LETTER_ID
QUERIES = ["drones", '"autonome wapensystemen"', "cyber*", "wapen* NOT drones"]


def answers(corpus_dir, index_dir) -> list:
    index = Index(index_dir, Corpus(corpus_dir))
    try:
        index.ensure_fresh()
        return [(q, [(h.fields["key"], round(h.score, 6)) for h in index.run_query(q, limit=None).hits])
                for q in QUERIES]
    finally:
        index.close()


def doctor_json(*args) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["doctor", *args, "--format", "json"])
    return result.exit_code, json.loads(result.stdout)


def random_docnums(path, rng):
    docs = np.fromfile(path, dtype="<u4")
    docs[:] = rng.integers(0, 30, size=len(docs))
    docs.tofile(path)


def zeroed(path, rng):
    path.write_bytes(bytes(path.stat().st_size))


def flipped_bytes(path, rng):
    data = bytearray(path.read_bytes())
    for offset in rng.choice(len(data), size=256, replace=False):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = [("*.cdoc", random_docnums), ("*.cpos", zeroed), ("*.seg", flipped_bytes), ("*.cwt", flipped_bytes),
          ("*.toc", flipped_bytes)]


@pytest.mark.parametrize(("pattern", "damage"), DAMAGE, ids=[f"{p}-{d.__name__}" for p, d in DAMAGE])
def test_damaged_index_files_are_found_and_never_give_a_wrong_answer(letter_env, pattern, damage):
    corpus_dir, index_dir = letter_env
    expected = answers(corpus_dir, index_dir)
    rng = np.random.default_rng(14)
    for path in index_dir.glob(pattern):
        damage(path, rng)
    index = Index(index_dir, Corpus(corpus_dir))
    problems = index.integrity_problems()
    index.close()
    assert problems and all("checksum" in p or "bytes" in p for p in problems), problems

    code, report = doctor_json("--no-repair")
    assert code == 1 and {f["code"] for f in report["findings"]} == {"index-damaged"}
    # A search (through the CLI, as a user runs it) rebuilds and answers as before.
    result = CliRunner().invoke(cli, ["search", "drones", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert answers(corpus_dir, index_dir) == expected
    code, report = doctor_json("--no-repair")
    assert code == 0 and report["healthy"]


def test_doctor_repairs_a_damaged_segment(letter_env):
    corpus_dir, index_dir = letter_env
    expected = answers(corpus_dir, index_dir)
    for path in index_dir.glob("*.seg"):
        flipped_bytes(path, np.random.default_rng(3))
    code, report = doctor_json()
    assert code == 0 and {f["code"] for f in report["findings"] if f["repaired"]} == {"index-damaged"}
    assert answers(corpus_dir, index_dir) == expected


def test_an_update_killed_after_its_commit_is_recorded_by_the_next_one(letter_env):
    # Whoosh's commit wrote a new table of contents and removed the old one, then the process
    # died before the state: the new files are complete, so they are not damage; the next
    # update records them.
    from whoosh import index as windex

    corpus_dir, index_dir = letter_env
    ix = windex.open_dir(str(index_dir), indexname="paragraphs")
    writer = ix.writer()
    writer.delete_by_term("doc_id", "kst-1-1")
    writer.commit(merge=False)
    ix.close()
    assert not (index_dir / "_paragraphs_1.toc").exists()
    index = Index(index_dir, Corpus(corpus_dir))
    assert index.integrity_problems() == [] and index.readable()
    assert checksums.superseded(index_dir, index.read_state()["files"])
    index.update()
    assert not checksums.superseded(index_dir, index.read_state()["files"])
    index.close()


def test_a_recorded_file_that_is_gone_is_damage(letter_env):
    corpus_dir, index_dir = letter_env
    next(index_dir.glob("*.cdoc")).unlink()
    index = Index(index_dir, Corpus(corpus_dir))
    assert any("is missing" in p for p in index.integrity_problems())
    index.close()


@pytest.mark.parametrize("content", [b"[]", b"[1,2,3]", b"{}", b"{", b"[" * 100_000, b'{"schema": 2, "docs": []}'])
def test_a_damaged_state_file_means_a_rebuild(letter_env, content):
    corpus_dir, index_dir = letter_env
    expected = answers(corpus_dir, index_dir)
    (index_dir / STATE_FILE).write_bytes(content)
    index = Index(index_dir, Corpus(corpus_dir))
    assert index.staleness()[0] == "damaged"
    assert any("damaged" in p for p in index.integrity_problems())
    index.close()
    code, report = doctor_json("--no-repair")
    assert code == 1 and "index-damaged" in {f["code"] for f in report["findings"]}
    assert answers(corpus_dir, index_dir) == expected
    assert Index(index_dir, Corpus(corpus_dir)).staleness()[0] == "fresh"


def test_a_state_edited_by_hand_does_not_match_its_checksum(letter_env):
    corpus_dir, index_dir = letter_env
    state = json.loads((index_dir / STATE_FILE).read_text())
    state["docs"][LETTER] = "1-1"
    (index_dir / STATE_FILE).write_text(json.dumps(state))
    assert Index(index_dir, Corpus(corpus_dir)).staleness()[0] == "damaged"


@pytest.mark.parametrize("content", [b"[1,2,3]", b"null", b'{"version": 1}', b"[" * 100_000])
def test_a_damaged_acronym_file_is_found_and_written_again(letter_env, content):
    corpus_dir, index_dir = letter_env
    expected = answers(corpus_dir, index_dir)
    (index_dir / DEFINITIONS_FILE).write_bytes(content)
    code, report = doctor_json("--no-repair")
    assert code == 1 and any(DEFINITIONS_FILE in f["message"] for f in report["findings"])
    result = CliRunner().invoke(cli, ["search", "NCSA"])
    assert result.exit_code == 0, result.output
    assert answers(corpus_dir, index_dir) == expected
    checksums.unseal(load_json((index_dir / DEFINITIONS_FILE).read_bytes()))
    code, report = doctor_json("--no-repair")
    assert code == 0, report


def test_an_acronym_file_edited_by_hand_is_damage(letter_env):
    corpus_dir, index_dir = letter_env
    data = json.loads((index_dir / DEFINITIONS_FILE).read_text())
    data["keys"] = {phrase: ["x"] for phrase in data["keys"]}
    (index_dir / DEFINITIONS_FILE).write_text(json.dumps(data))
    index = Index(index_dir, Corpus(corpus_dir))
    assert any("checksum" in p for p in index.integrity_problems())
    index.close()


# --------------------------------------------------------------------------- document JSON

def _letter_json(corpus_dir) -> dict:
    return json.loads((corpus_dir / "documents" / f"{LETTER}.json").read_bytes())


def _paragraph_edit(key, value):
    def edit(data):
        data["paragraphs"][0][key] = value
        return json.dumps(data).encode()
    return edit


INVALID_DOCUMENTS = {
    "n-is-een": _paragraph_edit("n", "een"),
    "n-is-huge": _paragraph_edit("n", 10**30),
    "n-is-negative": _paragraph_edit("n", -1),
    "n-is-true": _paragraph_edit("n", True),
    "text-is-null": _paragraph_edit("text", None),
    "footnotes-not-a-list": _paragraph_edit("footnotes", "1"),
    "list": lambda data: b"[]",
    "deep": lambda data: b"[" * 100_000,
    "string": lambda data: b'"kst"',
    "no-id": lambda data: json.dumps({k: v for k, v in data.items() if k != "id"}).encode(),
    "title-is-a-number": lambda data: json.dumps({**data, "title": 12}).encode(),
    "provenance-is-a-list": lambda data: json.dumps({**data, "provenance": []}).encode(),
    "citation-start-a-string": lambda data: json.dumps({**data, "paragraphs": [
        {**data["paragraphs"][0], "citations": [{"id": "kst-1-1", "kind": "k", "raw": "r", "start": "0"}]}]}).encode(),
}


@pytest.mark.parametrize("name", sorted(INVALID_DOCUMENTS))
def test_an_invalid_document_json_is_damaged_everywhere(letter_env, name):
    corpus_dir, index_dir = letter_env
    path = corpus_dir / "documents" / f"{LETTER}.json"
    path.write_bytes(INVALID_DOCUMENTS[name](_letter_json(corpus_dir)))
    with pytest.raises(ValueError):
        check_dataclass(Document, load_json(path.read_bytes()))
    code, report = doctor_json("--no-repair")
    assert code == 1 and "damaged-json" in {f["code"] for f in report["findings"]}, report
    for args in (["search", "drones"], ["show", LETTER], ["index"], ["list"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert "internal error" not in result.output and "Traceback" not in result.output, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    # doctor re-derives it from the raw file, and every command works again.
    code, report = doctor_json()
    assert code == 0, report
    assert CliRunner().invoke(cli, ["search", "drones"]).exit_code == 0


def test_the_validator_accepts_what_searchdoc_writes(letter_env):
    corpus_dir, _ = letter_env
    data = _letter_json(corpus_dir)
    check_dataclass(Document, data)
    assert Document.from_dict(data).to_dict() == data
    with pytest.raises(DamagedFile, match="paragraphs\\[0\\].n"):
        Document.from_dict({**data, "paragraphs": [{**data["paragraphs"][0], "n": "een"}]})



# --------------------------------------------------------------------------- repairs keep metadata


def test_a_repair_from_the_raw_file_keeps_what_ingest_was_told(letter_env, tmp_path):
    corpus_dir, _ = letter_env
    source = tmp_path / "notitie.txt"
    source.write_text("Eerste alinea over drones.\n\nTweede alinea over cyberveiligheid.\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(source), "--id", "kst-33694-99", "--title",
                                      "Brief over drones", "--date", "2019-09-20"])
    assert result.exit_code == 0, result.output
    path = corpus_dir / "documents" / "kst-33694-99.json"
    stored = json.loads(path.read_bytes())
    assert (corpus_dir / "raw" / "kst-33694-99.meta.json").is_file()
    path.write_bytes(path.read_bytes()[:40])  # truncated
    code, report = doctor_json()
    assert code == 0, report
    repaired = json.loads(path.read_bytes())
    for key in ("title", "date", "kind", "dossier"):
        assert repaired[key] == stored[key], key
    assert repaired["provenance"]["source"] == str(source.resolve())
    assert repaired["provenance"]["ingested"] == stored["provenance"]["ingested"]
    assert repaired["provenance"]["repaired_by"] == "searchdoc doctor"
    assert [p["text"] for p in repaired["paragraphs"]] == [p["text"] for p in stored["paragraphs"]]
    # The side-car is the document's, not an orphan raw file.
    assert (corpus_dir / "raw" / "kst-33694-99.meta.json").is_file()
    code, report = doctor_json("--no-repair")
    assert code == 0, report


def _unreadable(monkeypatch, target):
    from pathlib import Path

    real = Path.read_bytes

    def read_bytes(self):
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)


@pytest.mark.parametrize("which", ["documents/{id}.json", "raw/{id}.txt"])
def test_a_file_that_is_only_unreadable_is_reported_never_overwritten(letter_env, monkeypatch, which):
    corpus_dir, _ = letter_env
    target = corpus_dir / which.format(id=LETTER)
    before = target.read_bytes()
    _unreadable(monkeypatch, target)
    for args in (["--no-repair"], []):
        code, report = doctor_json(*args)
        assert code == 1, report
        found = {f["code"]: f for f in report["findings"]}
        code_name = "unreadable-json" if which.startswith("documents") else "raw-unreadable"
        assert set(found) == {code_name} and not found[code_name]["repaired"], report
        assert "Permission denied" in found[code_name]["message"]
    monkeypatch.undo()
    assert target.read_bytes() == before


def test_segment_damage_the_checksums_cannot_see_is_a_damaged_error(letter_env):
    # Damage written together with matching checksums (as a not yet recorded generation could
    # hold): a command that reads it says "cannot be read" in one line, exit 1, instead of an
    # internal error or a query error; a rebuild restores it.
    corpus_dir, index_dir = letter_env
    expected = answers(corpus_dir, index_dir)
    segment = next(index_dir.glob("*.seg"))
    data = bytearray(segment.read_bytes())
    for offset in range(len(data) // 3, len(data) * 2 // 3, 97):
        data[offset] ^= 0xFF
    segment.write_bytes(bytes(data))
    index = Index(index_dir, Corpus(corpus_dir))
    index.write_state(index_dir, index.read_state()["docs"])
    index.close()
    for args in (["search", "drones"], ["search", "wapen*", "--format", "json"], ["export", "drones", "--format",
                                                                                     "csv"]):
        result = CliRunner().invoke(cli, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        # The right answer (after a rebuild, when opening the index already failed), or one line.
        if result.exit_code:
            assert result.exit_code == 1, (args, result.output)
            errors = [line for line in result.stderr.splitlines() if line.startswith("searchdoc:")]
            assert len(errors) == 1 and "the index at " in errors[0] and "cannot be read" in errors[0], errors
    assert CliRunner().invoke(cli, ["index", "--rebuild"]).exit_code == 0
    assert answers(corpus_dir, index_dir) == expected


def test_a_long_lived_reader_checks_the_files_again_only_after_a_write(letter_dirs, monkeypatch):
    """The web server asks for freshness every few seconds: that must not re-read every index
    file each time, but a write (which rewrites the state file) is checked again."""
    corpus_dir, index_dir = letter_dirs
    index = Index(index_dir, Corpus(corpus_dir))
    checks = []
    original = index.integrity_problems
    monkeypatch.setattr(index, "integrity_problems", lambda: checks.append(1) or original())
    assert index.ensure_fresh() is None and index.ensure_fresh() is None
    assert len(checks) == 1
    state = json.loads((index_dir / STATE_FILE).read_text())
    index.write_state(index_dir, state["docs"])
    assert index.ensure_fresh() is None
    assert len(checks) == 2
    index.close()
