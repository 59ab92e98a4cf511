"""Local documents: a user's own notes ingested under an id that is not an official one
(``nota-2020-1.txt``, ``--id con-1-1``) work in every command, and never break the others."""

from __future__ import annotations

import csv
import io
import json

import pytest
import rispy
from click.testing import CliRunner

from searchdoc.cli import cli

NOTE = "Mijn nota over pelikaanvluchten, zie Kamerstuk 33 694, nr. 12.\n\nTweede alinea over pelikaanvluchten.\n"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def notes(letter_env, tmp_path):
    path = tmp_path / "nota-2020-1.txt"
    path.write_text(NOTE, encoding="utf-8")
    result = invoke("ingest", str(path), "--title", "Mijn nota", "--date", "2020-01-02")
    assert result.exit_code == 0, result.output
    result = invoke("ingest", "--id", "con-1-1", str(path))
    assert result.exit_code == 0, result.output
    return letter_env


def test_search_finds_local_documents_with_their_title_as_label(notes):
    result = invoke("search", "pelikaanvluchten", "--format", "json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)["hits"]
    by_doc = {hit["doc_id"]: hit for hit in hits}
    assert set(by_doc) == {"nota-2020-1", "con-1-1"}
    assert by_doc["nota-2020-1"]["label"] == "Mijn nota" and by_doc["con-1-1"]["label"] == "con-1-1"
    assert all(hit["url"] is None for hit in hits)
    text = invoke("search", "pelikaanvluchten")
    assert text.exit_code == 0 and "Mijn nota, par. 1" in text.stdout and "con-1-1, par. 1" in text.stdout
    # Searches whose hits mix official and local documents work too.
    assert invoke("search", "pelikaanvluchten OR drones").exit_code == 0


def test_show_a_local_document(notes):
    result = invoke("show", "nota-2020-1", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["id"], data["label"], data["url"], data["kind"]) == ("nota-2020-1", "Mijn nota", None, "local")
    assert [c["id"] for p in data["paragraphs"] for c in p["citations"]] == ["kst-33694-12"]
    text = invoke("show", "con-1-1")
    assert text.exit_code == 0 and "Tweede alinea over pelikaanvluchten." in text.stdout


@pytest.mark.parametrize("fmt", ["md", "csv", "jsonl", "ris", "csl-json"])
def test_export_in_every_format(notes, fmt):
    result = invoke("export", "pelikaanvluchten OR drones", "--format", fmt)
    assert result.exit_code == 0, result.output
    out = result.stdout
    if fmt == "csv":
        rows = {row["doc_id"]: row for row in csv.DictReader(io.StringIO(out))}
        assert rows["nota-2020-1"]["label"] == "Mijn nota" and rows["nota-2020-1"]["url"] == ""
        assert "kst-33694-45" in rows
    elif fmt == "jsonl":
        assert {json.loads(line)["doc_id"] for line in out.splitlines()} >= {"nota-2020-1", "con-1-1", "kst-33694-45"}
    elif fmt == "ris":
        records = {r["id"]: r for r in rispy.loads(out)}
        note = records["nota-2020-1"]
        assert note["type_of_reference"] == "GEN" and note["title"] == "Mijn nota"
        assert "publisher" not in note and "place_published" not in note and "issn" not in note
        assert records["kst-33694-45"]["type_of_reference"] == "GOVDOC"
    elif fmt == "csl-json":
        items = {item["id"]: item for item in json.loads(out)}
        note = items["nota-2020-1"]
        assert note["type"] == "document" and note["title"] == "Mijn nota"
        assert note["issued"]["date-parts"] == [[2020, 1, 2]]
        assert not {"number", "publisher", "publisher-place", "URL"} & set(note)
        assert items["kst-33694-45"]["type"] == "report"
    else:
        assert "Mijn nota, par. 1" in out and "Kamerstuk 33 694, nr. 45" in out


def test_cites_list_and_doctor(notes):
    cites = invoke("cites", "nota-2020-1")
    assert cites.exit_code == 0 and "kst-33694-12" in cites.stdout
    listing = invoke("list")
    assert listing.exit_code == 0 and "nota-2020-1" in listing.stdout and "con-1-1" in listing.stdout
    doctor = invoke("doctor", "--no-repair", "--format", "json")
    assert doctor.exit_code == 0 and json.loads(doctor.stdout)["healthy"], doctor.stdout


def test_a_failing_export_prints_nothing(letter_env, monkeypatch):
    from searchdoc import export as exporting
    from searchdoc.errors import CorpusError

    real = exporting.export_hits

    def fail_half_way(hits, exporter, progress=None):
        def counting(n=1):
            raise CorpusError("the corpus changed during the export")

        return real(hits, exporter, progress=counting)

    monkeypatch.setattr(exporting, "export_hits", fail_half_way)
    result = CliRunner().invoke(cli, ["export", "drones", "--format", "md"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "the corpus changed during the export" in result.stderr


def test_doctor_is_not_healthy_when_search_cannot_present_a_document(notes, monkeypatch):
    """doctor presents each document with the functions search, show and export use."""
    from searchdoc import search
    from searchdoc.errors import InvalidIdentifierError

    real = search.document_label

    def refuse_notes(document):
        if document.id == "nota-2020-1":
            raise InvalidIdentifierError("'nota-2020-1' is not an official document id")
        return real(document)

    monkeypatch.setattr(search, "document_label", refuse_notes)
    result = invoke("doctor", "--no-repair", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert not report["healthy"]
    assert [(f["code"], f["subject"]) for f in report["findings"]] == [("unpresentable", "nota-2020-1")]
