"""The CLI: exact output, exit codes, one-line errors, and one run of the installed script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchdoc.cli import cli

SEED = Path(__file__).resolve().parent.parent / "searchdoc" / "data" / "kst-33694-45.txt"


def run(*args, input=None, color=False):
    return CliRunner().invoke(cli, list(args), input=input, color=color)


def test_help_lists_every_command():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("search", "show", "list", "ingest", "index", "cite", "cites", "themes"):
        assert f"  {command} " in result.output


def test_search_text_output(letter_env):
    result = run("search", "wapenbeheersingsconferentie", "--context", "1")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1 paragraph matches 'wapenbeheersingsconferentie'."
    assert lines[1].startswith("themes: ")
    assert lines[3] == "[1] Kamerstuk 33 694, nr. 45, par. 3, p. 1-2"
    assert lines[4].startswith("    Kamerstukken II 2018/19, 33 694, nr. 45, p. 1-2 · themes: ")
    assert lines[5].startswith("  - ¶2 Technologische ontwikkelingen geven een nieuwe dimensie")
    assert lines[6].startswith("  : ¶3 Ook heeft het kabinet met grote belangstelling")
    assert "Op 15 maart jl. heb ik deelgenomen aan een wapenbeheersingsconferentie in Berlijn" in lines[6]
    assert lines[7].startswith("  - ¶4 De Secretaris-Generaal")
    assert len(lines) == 8
    assert "\x1b[" not in result.stdout


def test_search_json_output(letter_env):
    result = run("search", '"betekenisvolle menselijke controle"', "--format", "json", "--limit", "1")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["query"] == '"betekenisvolle menselijke controle"'
    assert data["total"] >= 2 and len(data["hits"]) == 1
    hit = data["hits"][0]
    assert hit["doc_id"] == "kst-33694-45" and hit["label"] == "Kamerstuk 33 694, nr. 45"
    assert hit["section"] == "Autonome wapensystemen (Lethal Autonomous Weapon Systems – LAWS)"
    assert "**betekenisvolle** **menselijke** **controle**" in hit["highlight"]
    assert hit["citation"].startswith("Kamerstukken II 2018/19, 33 694, nr. 45, p. ")


def test_color_only_when_asked(letter_env):
    result = run("--color", "always", "search", "drones", "--limit", "1", color=True)
    assert "\x1b[1m" in result.stdout


def test_show_json_gives_the_letter(letter_env):
    result = run("show", "kst-33694-45", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["id"] == "kst-33694-45" and data["date"] == "2019-05-13" and data["kind"] == "kamerstuk"
    assert data["url"] == "https://zoek.officielebekendmakingen.nl/kst-33694-45.html"
    assert [p["n"] for p in data["paragraphs"]] == list(range(1, 31))
    assert len(data["footnotes"]) == 7
    assert {f["n"]: f["paragraph"] for f in data["footnotes"]} == {1: 6, 2: 8, 3: 13, 4: 16, 5: 21, 6: 21, 7: 21}
    assert "wapenbeheersing vormen" in data["paragraphs"][2]["text"]
    assert all("themes" in p for p in data["paragraphs"])


def test_show_one_paragraph_text(letter_env):
    result = run("show", "kst-33694-45", "--paragraph", "6")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Kamerstuk 33 694, nr. 45 (2019-05-13)"
    assert lines[4] == "¶6 p. 2 [internationaal-recht]"
    assert lines[5].endswith("op het gebied van nieuwe technologieën gegeven.")
    assert lines[6] == "  1 Kamerstukken 34 300 X en 34 300 V, nr. 109. [→ kst-34300-X-109]"


def test_list(letter_env):
    result = run("list", "--format", "json")
    assert [row["id"] for row in json.loads(result.stdout)] == ["kst-33694-45"]


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["search"], 2, "Missing argument"),
        (["search", "drones", "--limit", "0"], 2, "--limit"),
        (["search", "foo:bar"], 2, "unknown field 'foo'"),
        (["search", '"open'], 2, "unbalanced quotes"),
        (["search", "drones", "--doc", "kst-1-1"], 2, "not in the corpus"),
        (["search", "drones", "--theme", "weer"], 2, "unknown theme"),
        (["show", "kst-1-1"], 2, "not in the corpus"),
        (["show", "../../etc/passwd"], 2, "not a valid document id"),
        (["show", "kst-33694-45", "--paragraph", "99"], 2, "out of range"),
        (["cite", "4 maart 2016"], 2, "not"),
        (["frobnicate"], 2, "No such command"),
    ],
)
def test_errors_are_one_line_with_exit_code(letter_env, args, code, message):
    result = run(*args)
    assert result.exit_code == code
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("searchdoc: error: ") and message in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_corpus_is_a_runtime_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCHDOC_CORPUS", str(tmp_path / "nowhere"))
    result = run("search", "drones")
    assert result.exit_code == 1
    assert result.stderr.startswith("searchdoc: error: no corpus at ")


def test_ingest_and_search_new_document(letter_env, tmp_path):
    source = tmp_path / "kst-33694-48.txt"
    source.write_text(
        " De regering heeft de motie Koopmans over nieuwe massavernietigingswapens uitgevoerd.\n\n"
        "Zie ook Kamerstuk 33 694, nr. 45 over killerrobots.\n",
        encoding="utf-8",
    )
    result = run("ingest", str(source), "--title", "Brief over de motie Koopmans", "--date", "2019-09-20")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "ingested kst-33694-48: 2 paragraphs, 0 footnotes\n"
    # The new document first; the thesaurus's related terms (proliferatie) find the letter after it.
    found = json.loads(run("search", "massavernietigingswapens", "--format", "json").stdout)
    assert found["hits"][0]["doc_id"] == "kst-33694-48" and found["hits"][0]["score"] > found["hits"][1]["score"]
    cited = json.loads(run("cite", "kst-33694-45", "--format", "json").stdout)
    assert {"doc_id": "kst-33694-48", "paragraph": 2} in [
        {"doc_id": c["doc_id"], "paragraph": c["paragraph"]} for c in cited["cited_by"]
    ]


def test_ingest_refuses_bad_files_and_changes_nothing(letter_env, tmp_path):
    corpus_dir, _ = letter_env
    before = sorted(p.name for p in (corpus_dir / "documents").iterdir())
    good = tmp_path / "kst-1-1.txt"
    good.write_text("Een alinea.\n", encoding="utf-8")
    binary = tmp_path / "kst-1-2.txt"
    binary.write_bytes(b"\x00\x01\x02binary")
    result = run("ingest", str(good), str(binary))
    assert result.exit_code == 2 and "binary" in result.stderr
    bad_name = tmp_path / "notes.txt"
    bad_name.write_text("tekst", encoding="utf-8")
    assert run("ingest", str(bad_name)).exit_code == 2
    assert run("ingest", str(tmp_path / "missing.txt")).exit_code == 2
    assert run("ingest", str(good), "--id", "../../evil").exit_code == 2
    assert run("ingest", str(good), "--date", "13 mei").exit_code == 2
    assert sorted(p.name for p in (corpus_dir / "documents").iterdir()) == before


def test_index_command(letter_env):
    first = run("index")
    assert first.exit_code == 0 and first.stdout == "index is up to date (1 document)\n"
    rebuilt = run("index", "--rebuild")
    assert rebuilt.exit_code == 0
    assert rebuilt.stdout.startswith("index rebuilt: 1 added, 0 updated, 0 removed, 30 paragraphs")


def test_cites_and_cite(letter_env):
    result = run("cites", "kst-33694-45", "--format", "json")
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == [
        "kst-33694-23", "kst-33694-12", "kst-31125-92", "kst-26643-536", "kst-34300-X-109", "kst-22112-2758",
        "kst-34300-X-88", "ah-tk-20182019-264", "2019Z01633", "ah-tk-20182019-1678", "ah-tk-20182019-2248",
    ]
    text = run("cite", "Kamerstuk 33 694, nr. 12").stdout
    assert "Kamerstuk 33 694, nr. 45, par. 2 (kst-33694-45)" in text
    assert "(Kamerstuk 33 694, nr. 12)." in text
    piped = json.loads(
        run("cites", "-", "--format", "json", input="Zie Kamerstuk 26 643, nr. 536 en 2019Z01633.").stdout
    )
    assert [r["id"] for r in piped] == ["kst-26643-536", "2019Z01633"]


def test_themes_commands(letter_env):
    rows = json.loads(run("themes", "--format", "json").stdout)
    assert [r["id"] for r in rows] == ["ai", "laws", "drones", "cyber", "nucleair", "wapenbeheersing",
                                       "internationaal-recht"]
    assert all(r["count"] > 0 for r in rows)
    explained = run("themes", "explain", "kst-33694-45", "13").stdout
    assert "laws: score" in explained and "'betekenisvolle menselijke controle'" in explained


def test_installed_script_runs_from_anywhere(tmp_path):
    script = shutil.which("searchdoc", path=os.path.dirname(sys.executable)) or shutil.which("searchdoc")
    assert script, "the searchdoc console script is not installed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEARCHDOC_")}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               NO_COLOR="1")
    done = subprocess.run([script, "search", "wapenbeheersing", "--limit", "1"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "[1] Kamerstuk 33 694, nr. 45, par. 3, p. 1-2" in done.stdout
    failed = subprocess.run([script, "show", "kst-0-0"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60)
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr


def test_ingest_official_xml_reads_its_metadata_xml_and_shows_speakers(letter_env, tmp_path):
    real = Path(__file__).parent / "data" / "real"
    item = tmp_path / "h-tk-20172018-61-10.xml"
    shutil.copy(real / "h-tk-20172018-61-10.xml", item)
    (tmp_path / "h-tk-20172018-61-10.metadata.xml").write_text(
        '<metadata_gegevens><metadata name="DC.identifier" content="h-tk-20172018-61-10"/>'
        '<metadata name="OVERHEIDop.datumVergadering" content="2018-03-06"/></metadata_gegevens>',
        encoding="utf-8",
    )
    result = run("ingest", str(item))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "ingested h-tk-20172018-61-10: 99 paragraphs, 0 footnotes\n"
    shown = json.loads(run("show", "h-tk-20172018-61-10", "--format", "json").stdout)
    assert shown["date"] == "2018-03-06"  # the meeting date, from the metadata.xml beside the file
    assert [p["speaker"] for p in shown["paragraphs"][:3]] == [None, "De voorzitter", "De heer Wörsdörfer (VVD)"]
    refused = run("ingest", str(tmp_path / "h-tk-20172018-61-10.metadata.xml"))
    assert refused.exit_code == 2
    assert "a metadata record, not a document" in refused.stderr
