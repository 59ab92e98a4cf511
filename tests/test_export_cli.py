"""`searchdoc export`: output, files written atomically, exact exit codes and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest
import rispy
from click.testing import CliRunner

from searchdoc import export as exporting
from searchdoc.cli import cli

LETTER = "kst-33694-45"


@pytest.fixture
def outdir(tmp_path):
    """An empty folder for output files (tmp_path itself holds the letter's corpus and index)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def run(*args):
    return CliRunner().invoke(cli, list(args))


def search_hits(query, *options):
    result = run("search", query, "--format", "json", "--limit", "1000", *options)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["hits"]


def one_error_line(result, code, *fragments):
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("searchdoc: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_format_choices_match_the_library():
    option = next(p for p in cli.commands["export"].params if p.name == "fmt")
    assert tuple(option.type.choices) == exporting.FORMATS


def test_markdown_to_stdout_has_every_hit(letter_env):
    expected = search_hits("drones", "--context", "1")
    result = run("export", "drones", "--format", "md", "--context", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    text = result.stdout
    assert text.startswith("# Search results for drones\n")
    assert f"- Hits: {len(expected)}\n" in text
    for rank, hit in enumerate(expected, 1):
        heading = f"\n## {rank}. Kamerstuk 33 694, nr. 45, par. {hit['paragraph']}\n"
        assert heading in text
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        assert f"- Citation: {hit['citation']}" in section
        assert section.count("*par. ") == len(hit["before"]) + len(hit["after"])


def test_jsonl_matches_search_json_and_respects_filters(letter_env):
    expected = search_hits("wapen*", "--theme", "laws")
    result = run("export", "wapen*", "--theme", "laws", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["paragraph"], r["score"], r["citation"]) for r in records] == \
        [(h["paragraph"], h["score"], h["citation"]) for h in expected]
    assert all("laws" in r["themes"] for r in records)


def test_limit_and_max_chars(letter_env):
    result = run("export", "drones", "--format", "jsonl", "--limit", "2", "--max-chars", "60")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2 and all(r["trimmed"] for r in records)
    assert all(len(r["text"].replace("[…]", "").strip()) <= 60 for r in records)


def test_csv_file_with_excel_bom(letter_env, outdir):
    target = outdir / "drones.csv"
    result = run("export", "drones", "--format", "csv", "--excel", "--output", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    expected = search_hits("drones")
    assert result.stderr == f"exported {len(expected)} hits to {target}\n"
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfrank,doc_id,")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r["text"] for r in rows] == [h["text"] for h in expected]
    assert os.listdir(outdir) == ["drones.csv"]


def test_csv_without_excel_has_no_bom(letter_env):
    result = run("export", "drones", "--format", "csv", "--limit", "1")
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"rank,doc_id,label,citation,")
    assert result.stdout_bytes.count(b"\r\n") >= 2


def test_format_from_the_file_name_and_ris_reads_back(letter_env, outdir):
    target = outdir / "drones.ris"
    result = run("export", "drones", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    (record,) = rispy.load(target, encoding="utf-8")
    assert record["id"] == LETTER and len(record["notes"]) == len(search_hits("drones"))


def test_csl_json_to_stdout(letter_env):
    result = run("export", "drones", "--format", "csl-json")
    assert result.exit_code == 0, result.stderr
    (item,) = json.loads(result.stdout)
    assert (item["id"], item["type"]) == (LETTER, "report")


def test_no_hits_is_not_an_error(letter_env):
    result = run("export", "zeppelinhangar", "--format", "jsonl")
    assert (result.exit_code, result.stdout) == (0, "")


def test_unknown_format_exits_2(letter_env):
    result = run("export", "drones", "--format", "xml")
    one_error_line(result, 2, "'xml' is not one of", "searchdoc export --help")


def test_format_needed_when_the_name_does_not_tell(letter_env, outdir):
    one_error_line(run("export", "drones", "-o", str(outdir / "x.txt")), 2, "give --format")
    assert os.listdir(outdir) == []


def test_excel_only_with_csv(letter_env):
    one_error_line(run("export", "drones", "--format", "md", "--excel"), 2, "--excel only applies to --format csv")


def test_bad_query_and_filters_exit_2(letter_env, outdir):
    target = outdir / "out.md"
    one_error_line(run("export", "foo:bar", "--format", "md", "-o", str(target)), 2, "unknown field 'foo'")
    one_error_line(run("export", "drones", "--format", "md", "--doc", "kst-11111-1", "-o", str(target)), 2,
                   "kst-11111-1")
    one_error_line(run("export", "drones", "--format", "md", "--theme", "nope", "-o", str(target)), 2, "nope")
    one_error_line(run("export", "drones", "--format", "md", "--max-chars", "5"), 2, "--max-chars")
    assert os.listdir(outdir) == []


def test_unwritable_output_exits_2_and_writes_nothing(letter_env, outdir):
    missing = outdir / "no" / "such" / "folder" / "out.md"
    one_error_line(run("export", "drones", "--format", "md", "-o", str(missing)), 2, "cannot write --output")
    one_error_line(run("export", "drones", "--format", "md", "-o", str(outdir)), 2, "is a folder")
    assert os.listdir(outdir) == []


def test_failure_during_export_exits_1_and_keeps_the_old_file(letter_env, outdir, monkeypatch):
    from searchdoc.errors import CorpusError

    target = outdir / "drones.jsonl"
    target.write_text("previous export\n", encoding="utf-8")
    calls = []

    def fail_on_third(self, hit):
        calls.append(hit)
        if len(calls) == 3:
            raise CorpusError("document kst-33694-45 is damaged")
        self.stream.write("x\n")

    monkeypatch.setattr(exporting.JsonLinesExporter, "_add", fail_on_third)
    result = run("export", "drones", "--format", "jsonl", "-o", str(target))
    one_error_line(result, 1, "damaged")
    assert target.read_text(encoding="utf-8") == "previous export\n"
    assert os.listdir(outdir) == ["drones.jsonl"]
