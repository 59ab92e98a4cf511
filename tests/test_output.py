"""What a user sees: the text layout of hits, control characters, failed writes, export
defaults, the CSV guard, dates, shell completion and small wording."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from searchdoc import render
from searchdoc.cli import cli
from searchdoc.model import Hit, SearchResult


def run(*args, input=None, color=False, env=None):
    return CliRunner().invoke(cli, list(args), input=input, color=color, env=env)


# --------------------------------------------------------------------------- the layout of hits


def test_hit_and_context_lines_are_marked_and_footnotes_follow_the_hit(letter_env):
    result = run("search", "gatwick", "--context", "1")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1 paragraph matches 'gatwick'."
    body = lines[lines.index("[1] Kamerstuk 33 694, nr. 45, par. 21, p. 5-6 — Onbemande luchtvaartuigen (UAV’s)") + 2:]
    assert body[0].startswith("  - ¶20 De Europese Unie")
    assert body[1].startswith("  : ¶21 Voor meer achtergrond")
    # The footnote markers stand where they were, and the notes follow with what they cite.
    assert "na «Gatwick»[6], en de beantwoording" in body[1]
    assert body[2:5] == [
        "  :     [5] 2019Z01633 [→ 2019Z01633]",
        "  :     [6] Aanhangsel Handelingen II 2018/19, nr. 1678 [→ ah-tk-20182019-1678]",
        "  :     [7] Aanhangsel Handelingen II 2018/19, nr. 2248 [→ ah-tk-20182019-2248]",
    ]
    assert body[5].startswith("  - ¶22 Nederland maakt")
    assert len(body) == 6


def test_grep_separates_hits_from_context(letter_env):
    lines = run("search", "drones", "--context", "1", "--limit", "3").stdout.splitlines()
    hits = [line for line in lines if line.startswith("  : ¶")]
    context = [line for line in lines if line.startswith("  - ¶")]
    assert len(hits) == 3 and len(context) == 6


def test_search_json_has_the_footnotes(letter_env):
    data = json.loads(run("search", "gatwick", "--format", "json").stdout)
    notes = data["hits"][0]["footnotes"]
    assert [n["n"] for n in notes] == [5, 6, 7]
    assert notes[1]["text"] == "Aanhangsel Handelingen II 2018/19, nr. 1678"
    assert data["hits"][0]["text"][notes[1]["offset"] - 1] == "»"


def _hit(text: str, spans=(), before=(), footnotes=()) -> Hit:
    return Hit(doc_id="kst-1-1", paragraph=2, section=None, page=None, score=1.0, text=text, highlight=text,
               label="Kamerstuk 1, nr. 1", citation="Kamerstukken II 1, nr. 1", url=None,
               before=list(before), spans=list(spans), footnotes=list(footnotes))


def test_wrapping_keeps_every_line_within_the_width_and_marked():
    words = " ".join(f"woord{i}" for i in range(60))
    hit = _hit(words, before=[{"n": 1, "text": words}], footnotes=[{"n": 1, "text": words, "offset": 10}])
    out = render.render_hit(1, hit, render.Style(width=50))
    lines = out.splitlines()
    assert all(len(line) <= 50 for line in lines)
    context = [line for line in lines if line.startswith("  - ")]
    hits = [line for line in lines if line.startswith("  : ")]
    assert len(context) > 3 and len(hits) > 6
    assert len(context) + len(hits) + 2 == len(lines)
    # Continuation lines are indented under the text; the words are all there, in order.
    assert context[1].startswith("  -    woord")
    joined = " ".join(line[4:].strip() for line in context).removeprefix("¶1 ")
    assert joined == words


def test_wrapping_closes_and_reopens_styles_at_line_ends():
    text = "aa bb cc dd ee ff gg hh"
    styled = "aa " + render.BOLD + "bb cc dd ee" + render.RESET + " ff gg hh"
    lines = render.wrap(styled, 12, "> ", "> ")
    assert [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lines] == ["> aa bb cc", "> dd ee ff", "> gg hh"]
    assert lines[0].endswith(render.RESET) and lines[1].startswith("> " + render.BOLD)
    assert render.wrap(text, None, "> ") == ["> " + text]


def test_a_link_is_never_broken_across_lines():
    link = render.Style(links=True).link("[→ kst-1-1]", "https://example.org/x")
    lines = render.wrap("woord " * 3 + link, 20)
    assert sum(link in line for line in lines) == 1


def test_terminal_output_is_coloured_without_marks(letter_env):
    result = run("--color", "always", "search", "drones", "--limit", "1", "--context", "1", color=True)
    assert "\x1b[1m" in result.stdout
    assert not any(line.startswith(("  : ", "  - ")) for line in result.stdout.splitlines())


# --------------------------------------------------------------------------- control characters


HOSTILE = ("De drones \x1b[2J\x1b]0;titel\x07 vliegen \x9b31m hier "
           "\x1b]8;;http://evil\x1b\\klik\x1b]8;;\x1b\\ verder\x7f.")


def test_clean_leaves_no_control_character_and_keeps_offsets():
    cleaned = render.clean(HOSTILE)
    assert len(cleaned) == len(HOSTILE)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in cleaned)
    assert "␛[2J" in cleaned and "␇" in cleaned and "\ufffd31m" in cleaned and "␡" in cleaned


@pytest.mark.parametrize("color", ["never", "always"])
def test_documents_cannot_send_escape_sequences_to_the_terminal(letter_env, tmp_path, color):
    (tmp_path / "kst-99999-1.txt").write_text(f"Kamerstuk\n\n{HOSTILE}\n", encoding="utf-8")
    (tmp_path / "kst-99999-2.html").write_text(
        "<html><body><p>Een alinea over drones &#x1b;[2J met &#x1b;]52;c;aGVsbG8=&#x7; klembord.</p></body></html>",
        encoding="utf-8")
    assert run("ingest", str(tmp_path / "kst-99999-1.txt"), str(tmp_path / "kst-99999-2.html")).exit_code == 0
    outputs = [
        run("--color", color, "search", "drones", "--doc", "kst-99999-1", "--doc", "kst-99999-2", color=True).stdout,
        run("--color", color, "show", "kst-99999-1", color=True).stdout,
        run("--color", color, "show", "kst-99999-2", color=True).stdout,
    ]
    for out in outputs:
        # Only searchdoc's own styling (SGR) and OSC 8 links to official sources remain.
        leftover = re.sub(r"\x1b\[[0-9;]*m|\x1b\]8;;(https://[^\x1b]*)?\x1b\\", "", out)
        assert not any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) < 0xA0 for c in leftover), repr(out)
        assert "http://evil" not in re.findall(r"\x1b\]8;;([^\x1b]*)", out)
    assert "␛[2J" in outputs[0] and "␛]52;c;aGVsbG8=␇" in outputs[2]


def test_json_output_escapes_c1_controls(letter_env, tmp_path):
    (tmp_path / "kst-99999-1.txt").write_text("Kamerstuk\n\nDrones \u009b31m hier.\n", encoding="utf-8")
    assert run("ingest", str(tmp_path / "kst-99999-1.txt")).exit_code == 0
    out = run("show", "kst-99999-1", "--format", "json").stdout
    assert "\u009b" not in out and "\\u009b31m" in out
    assert json.loads(out)["paragraphs"][0]["text"] == "Drones \u009b31m hier."


# --------------------------------------------------------------------------- failed writes


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="/dev/full is Linux-only")
@pytest.mark.parametrize("args", [
    ["list"],
    ["search", "drones"],
    ["search", "drones", "--format", "json"],
    ["show", "kst-33694-45"],
    ["export", "drones"],
    ["export", "drones", "--format", "csv"],
])
def test_a_full_stdout_is_exit_1_with_one_line(letter_env, args):
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "searchdoc", *args], stdout=full, stderr=subprocess.PIPE,
                              text=True, env=os.environ)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == \
        "searchdoc: error: cannot write to standard output: No space left on device"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="/dev/full is Linux-only")
def test_export_to_a_full_device_fails_and_leaves_the_device_alone(letter_env):
    before = os.stat("/dev/full")
    result = run("export", "drones", "--format", "md", "-o", "/dev/full")
    assert result.exit_code == 1
    assert result.stderr == "searchdoc: error: cannot write to /dev/full: No space left on device\n"
    assert "exported" not in result.stderr
    after = os.stat("/dev/full")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert not [p for p in os.listdir("/dev") if p.startswith(".full.")]


def _failing_echo(monkeypatch, fail_after: int = 0):
    """click.echo to stdout that fails like a full disk after ``fail_after`` writes."""
    real = click.echo
    calls = []

    def echo(message=None, file=None, nl=True, err=False, color=None):
        if not err:
            calls.append(message)
            if len(calls) > fail_after:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(message, file=file, nl=nl, err=err, color=color)

    monkeypatch.setattr(click, "echo", echo)


@pytest.mark.parametrize("args", [["list"], ["search", "drones"], ["search", "drones", "--format", "json"],
                                  ["themes"], ["cites", "kst-33694-45"]])
def test_an_injected_write_error_is_exit_1(letter_env, monkeypatch, args):
    _failing_echo(monkeypatch)
    result = run(*args)
    assert result.exit_code == 1
    assert result.stderr == "searchdoc: error: cannot write to standard output: No space left on device\n"


class _FullFile(io.StringIO):
    def __init__(self, room: int):
        super().__init__()
        self.room = room

    def write(self, text):
        if self.tell() + len(text) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(text)


def test_export_to_a_file_that_fills_up_leaves_nothing_behind(letter_env, tmp_path, monkeypatch):
    from searchdoc import export

    target = tmp_path / "hits.csv"
    target.write_text("the older export\n")
    real_fdopen = os.fdopen

    def fdopen(fd, *args, **kwargs):
        handle = real_fdopen(fd, *args, **kwargs)
        full = _FullFile(500)
        full.fileno, full.close = handle.fileno, handle.close
        return full

    monkeypatch.setattr(export.os, "fdopen", fdopen)
    result = run("export", "drones", "-o", str(target))
    assert result.exit_code == 1
    assert result.stderr == f"searchdoc: error: cannot write to {target}: No space left on device\n"
    assert target.read_text() == "the older export\n"
    assert sorted(os.listdir(tmp_path)) == ["corpus", "hits.csv", "index"]


# --------------------------------------------------------------------------- export defaults and the CSV guard


def test_export_without_format_or_output_is_markdown_on_stdout(letter_env):
    result = run("export", "drones")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Search results for drones\n")
    assert "## 1. Kamerstuk 33 694, nr. 45, par. " in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("fmt", ["md", "csv", "jsonl", "ris", "csl-json"])
def test_no_export_names_a_machine_path(letter_env, fmt):
    corpus_dir, index_dir = letter_env
    out = run("export", "drones", "--format", fmt).stdout
    for path in (str(corpus_dir), str(index_dir), os.environ["HOME"], str(Path(corpus_dir).parent)):
        assert path not in out


FORMULAS = ["=HYPERLINK(\"http://evil\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"]


def _csv_hit(text: str) -> Hit:
    return Hit(doc_id="kst-1-1", paragraph=1, section=text, page=None, score=1.0, text=text, highlight=text,
               label="Kamerstuk 1, nr. 1", citation="Kamerstukken II 1, nr. 1", url=None, title=text)


@pytest.mark.parametrize("text", FORMULAS)
def test_excel_csv_guards_formula_cells_and_plain_csv_keeps_the_text(text):
    from searchdoc import export

    def rows(excel: bool):
        stream = io.StringIO()
        exporter = export.make_exporter("csv", stream, export.ExportInfo(query="q"), excel=excel)
        export.export_hits([_csv_hit(text)], exporter)
        return list(csv.DictReader(io.StringIO(stream.getvalue(), newline="")))

    plain, guarded = rows(False)[0], rows(True)[0]
    for column in ("text", "section", "title"):
        assert plain[column] == text
        assert guarded[column] == "'" + text
    assert guarded["rank"] == "1" and guarded["paragraph"] == "1"


def test_excel_cell_keeps_ordinary_text_and_numbers():
    from searchdoc.export import excel_cell

    assert excel_cell("Drones zijn") == "Drones zijn"
    assert excel_cell(-3) == -3
    assert excel_cell("") == ""


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize("date", ["2019-13-45", "9999-99-99", "2019-02-30", "2019-5-13", "13-05-2019", "2019"])
def test_ingest_refuses_an_impossible_date(letter_env, tmp_path, date):
    (tmp_path / "kst-99999-1.txt").write_text("Kamerstuk\n\nDrones hier.\n", encoding="utf-8")
    result = run("ingest", str(tmp_path / "kst-99999-1.txt"), "--date", date)
    assert result.exit_code == 2
    assert "expected YYYY-MM-DD" in result.stderr and len(result.stderr.splitlines()) == 1
    assert run("list", "--format", "json").stdout.count('"id"') == 1


@pytest.mark.parametrize("date, parts", [("2019-05-13", [2019, 5, 13]), ("2019-05", [2019, 5]), ("2019", [2019]),
                                         ("2019-13-45", None), ("9999-99-99", None), ("2019-02-29", None),
                                         ("0000-01-01", None), ("13 mei 2019", None)])
def test_references_never_carry_an_impossible_date(date, parts):
    from searchdoc import export
    from searchdoc.model import Document

    document = Document(id="kst-33694-45", kind="kamerstuk", title="Brief", date=date)
    assert export.document_ref("kst-33694-45", document).date_parts == parts
    ris = export.reference_record("kst-33694-45", document, "ris")
    item = json.loads(export.reference_record("kst-33694-45", document, "csl-json"))[0]
    if parts is None:
        assert "DA  -" not in ris and "PY  -" not in ris and "issued" not in item
    else:
        assert item["issued"] == {"date-parts": [parts]}


# --------------------------------------------------------------------------- shell completion


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o nosort -F"), ("zsh", "#compdef searchdoc"),
                                           ("fish", "complete --no-files --command searchdoc")])
def test_completion_scripts_are_produced(shell, marker):
    result = CliRunner().invoke(cli, [], prog_name="searchdoc", env={"_SEARCHDOC_COMPLETE": f"{shell}_source"})
    assert result.exit_code == 0
    assert marker in result.output


def _complete(words: str, env=None) -> list[str]:
    from click.shell_completion import ShellComplete

    completer = ShellComplete(cli, {}, "searchdoc", "_SEARCHDOC_COMPLETE")
    args = words.split()
    incomplete = "" if words.endswith(" ") else args.pop()
    return [item.value for item in completer.get_completions(args, incomplete)]


def test_completion_of_commands_options_ids_and_themes(letter_env):
    assert "search" in _complete("se") and "show" in _complete("s")
    assert "--theme" in _complete("search drones --th")
    assert _complete("show kst-") == ["kst-33694-45"]
    assert _complete("search drones --doc ") == ["kst-33694-45"]
    assert _complete("themes explain k") == ["kst-33694-45"]
    assert _complete("cite kst-3") == ["kst-33694-45"]
    assert _complete("search drones --theme dr") == ["drones"]
    assert "internationaal-recht" in _complete("export drones --theme ")


def test_completion_of_ids_without_a_corpus_is_quiet(tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCHDOC_CORPUS", str(tmp_path / "nowhere"))
    assert _complete("show ") == []
    assert not (tmp_path / "nowhere").exists()


def test_completion_through_the_environment_variable(letter_env):
    env = {"_SEARCHDOC_COMPLETE": "bash_complete", "COMP_WORDS": "searchdoc show kst", "COMP_CWORD": "2"}
    result = CliRunner().invoke(cli, [], prog_name="searchdoc", env=env)
    assert result.output.splitlines() == ["plain,kst-33694-45"]


# --------------------------------------------------------------------------- the word store


def test_the_word_store_is_written_with_the_index_not_on_a_later_search(letter_dirs, tmp_path):
    """The first search builds the index and writes the word store, saying so; the second
    search finds both ready (issue: the second search was the slow one, silently)."""
    corpus_dir, _ = letter_dirs
    cache = tmp_path / "cache"
    env = {**os.environ, "SEARCHDOC_CORPUS": str(corpus_dir), "SEARCHDOC_INDEX": str(tmp_path / "fresh-index"),
           "XDG_CACHE_HOME": str(cache)}

    def search():
        return subprocess.run([sys.executable, "-m", "searchdoc", "search", "drones", "--limit", "1"],
                              capture_output=True, text=True, env=env, check=True)

    first = search()
    assert "building the index (first run) ..." in first.stderr
    assert "preparing the word lists for fast searches (once per installation) ..." in first.stderr
    stores = sorted(cache.glob("searchdoc/words-*.sqlite"))
    assert len(stores) == 1
    written = stores[0].stat().st_mtime_ns
    second = search()
    assert second.stderr == ""
    assert second.stdout == first.stdout
    assert sorted(cache.glob("searchdoc/words-*.sqlite")) == stores and stores[0].stat().st_mtime_ns == written


# --------------------------------------------------------------------------- wording


def test_counts_agree_in_number(letter_env):
    assert run("index").stdout == "index is up to date (1 document)\n"
    result = render.render_result(SearchResult(query="x", total=1, hits=[_hit("x")]), render.Style())
    assert result.startswith("1 paragraph matches 'x'.")
    result = render.render_result(SearchResult(query="x", total=2, hits=[_hit("x")]), render.Style())
    assert result.startswith("2 paragraphs match 'x' (showing 1).")


def test_themes_explain_counts_a_repeated_term_once(letter_env):
    data = json.loads(run("themes", "explain", "kst-33694-45", "17", "--format", "json").stdout)
    for theme, score in data["scores"].items():
        counted = sum(e["weight"] for e in data["evidence"] if e["theme"] == theme and e["counted"])
        assert counted == score
    drones = [e for e in data["evidence"] if e["theme"] == "drones" and e["term"] == "drone"]
    assert [e["counted"] for e in drones] == [True, False, False]
    text = run("themes", "explain", "kst-33694-45", "17").stdout
    assert "    +2  'drones' matched term 'drone' (chars 85-91)\n" in text
    assert "    +0  'drones' matched term 'drone' (chars 321-327, a repeat: counted once)\n" in text
    shown = {}
    for line in text.splitlines():
        m = re.match(r"  (\S+): score (\d+)", line)
        if m:
            theme, shown[m.group(1)] = m.group(1), [int(m.group(2))]
        m = re.match(r"    \+(\d+)", line)
        if m:
            shown[theme].append(int(m.group(1)))
    assert all(values[0] == sum(values[1:]) for values in shown.values())


def test_evaluate_without_its_judgments_is_one_line_not_a_traceback(tmp_path, capsys):
    from searchdoc import evaluate

    assert evaluate.main(["--judgments", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m searchdoc.evaluate: error: no judgments file at ")
    assert len(err.splitlines()) == 1


def test_evaluate_with_a_broken_judgments_file_is_one_line(tmp_path, capsys):
    from searchdoc import evaluate

    (tmp_path / "j.json").write_text("{not json")
    assert evaluate.main(["--judgments", str(tmp_path / "j.json"), "--official", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("python -m searchdoc.evaluate: error: ") and len(err.splitlines()) == 1


def test_doctor_counts_agree_in_number(letter_env):
    result = run("doctor", "--no-repair")
    assert result.stdout.splitlines()[-1].startswith("1 document, 30 paragraphs; 30 index entries (index ")


def test_error_lines_carry_no_control_characters(letter_env, capsys):
    from searchdoc.cli import report_error
    from searchdoc.errors import UsageError

    assert report_error(UsageError("bad \x1b]0;title\x07 input\nsecond line")) == 2
    assert capsys.readouterr().err == "searchdoc: error: bad ␛]0;title␇ input second line\n"
    result = run("show", "kst-\x1b[2J-1")
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_an_export_to_a_terminal_shows_control_characters_and_a_file_keeps_them(letter_env, tmp_path,
                                                                              monkeypatch):
    from searchdoc import cli as cli_module

    (tmp_path / "kst-99999-1.txt").write_text("Kamerstuk\n\nDrones \x1b[2J hier\x9b.\n", encoding="utf-8")
    assert run("ingest", str(tmp_path / "kst-99999-1.txt")).exit_code == 0
    target = tmp_path / "out.csv"
    assert run("export", "drones", "--doc", "kst-99999-1", "-o", str(target)).exit_code == 0
    assert " \x1b[2J hier\x9b." in target.read_text(encoding="utf-8")
    monkeypatch.setattr(cli_module, "_is_terminal", lambda stream: True)
    for fmt in ("md", "csv", "jsonl", "ris", "csl-json"):
        out = run("export", "drones", "--doc", "kst-99999-1", "--format", fmt).stdout
        assert "\x1b" not in out and "\x9b" not in out, fmt
    assert " ␛[2J hier\ufffd." in run("export", "drones", "--doc", "kst-99999-1", "--format", "csv").stdout
