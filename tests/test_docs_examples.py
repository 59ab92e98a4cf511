"""Every `searchdoc` command shown in README.md and docs/*.md runs, so no example can drift.

Each page's commands run in order, in one scratch folder, with the installed `searchdoc` script, against a private
copy of the bundled letter's corpus and index and a local server playing the official services (so `crawl`
examples fetch the letter's cited documents). A command must exit 0 unless its line ends with `# exit N`.
Commands come from shell blocks and from the last column of a table headed `example` (the README's table of
commands); in `pip install … && searchdoc …` the part after the install runs. `searchdoc serve` runs until
stopped; the web tests start it instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_crawl import LETTER_CITED, FakeServices

ROOT = Path(__file__).resolve().parent.parent
OFFICIAL = Path(__file__).resolve().parent / "data" / "official"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(sh|bash|shell|console)\s*\n(.*?)^```", re.MULTILINE | re.DOTALL)
RUNS_SEARCHDOC = re.compile(r"^(?:[A-Z_][A-Z0-9_]*=\S*\s+)*searchdoc\b|\|\s*searchdoc\b|\$\(.*searchdoc\b")
EXPECTED_EXIT = re.compile(r"#\s*exit\s+(\d+)\s*$")
TABLE_EXAMPLE = re.compile(r"^\|.*\| `(searchdoc [^`]+)` \|\s*$", re.MULTILINE)
INSTALL_FIRST = re.compile(r"^pip install [^&]+&& ")
NOT_RUN_HERE = ("searchdoc serve",)


def page_commands(page: Path) -> list[tuple[int, str]]:
    """(line number, command) for every searchdoc command in the page's shell blocks."""
    text = page.read_text(encoding="utf-8")
    commands = []
    header = ""
    for number, line in enumerate(text.splitlines(), 1):
        header = (header or line) if line.startswith("|") else ""
        row = TABLE_EXAMPLE.match(line)
        if row and "| example |" in header:
            commands.append((number, row.group(1).replace("\\|", "|")))
    for block in FENCE.finditer(text):
        first_line = text.count("\n", 0, block.start(2)) + 1
        for offset, line in enumerate(block.group(2).splitlines()):
            command = line.strip()
            if block.group(1) == "console":
                if not command.startswith("$ "):
                    continue
                command = command[2:]
            command = INSTALL_FIRST.sub("", command)
            if command.startswith(("pip ", "python", "#")) or not RUNS_SEARCHDOC.search(command):
                continue
            if command.startswith(NOT_RUN_HERE):
                continue
            commands.append((first_line + offset, command))
    return [(line, command) for line, command in sorted(commands) if not command.startswith(NOT_RUN_HERE)]


def test_the_readme_examples_are_collected():
    commands = [command for _, command in page_commands(ROOT / "README.md")]
    assert 'searchdoc search "autonome wapensystemen" --context 1' in commands
    assert len(commands) >= 10, commands


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(page, letter_dirs, httpserver, tmp_path):
    commands = page_commands(page)
    if not commands:
        return
    services = FakeServices(httpserver)
    services.add_official(*LETTER_CITED)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ROOT / "searchdoc" / "data" / "kst-33694-45.txt", work / "kst-33694-45.txt")
    for source in OFFICIAL.glob("*.xml"):
        shutil.copy(source, work / source.name)
    (work / "brief.txt").write_text(
        "Brief van de minister over de motie-Koopmans.\n\nDe regering onderzoekt autonome wapensystemen.\n",
        encoding="utf-8")
    corpus_dir, index_dir = letter_dirs
    env = {
        **os.environ,
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "SEARCHDOC_CORPUS": str(corpus_dir),
        "SEARCHDOC_INDEX": str(index_dir),
        "SEARCHDOC_OB_URL": services.base,
        "SEARCHDOC_SRU_URL": services.base + "/sru",
        "SEARCHDOC_TK_URL": services.tk_base,
        "SEARCHDOC_REPOSITORY_URL": services.base + "/frbr/officielepublicaties",
        "SEARCHDOC_DELAY": "0",
        "NO_COLOR": "1",
    }
    for line, command in commands:
        expected = EXPECTED_EXIT.search(command)
        done = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300)
        want = int(expected.group(1)) if expected else 0
        assert done.returncode == want, (
            f"{page.name}:{line}: `{command}` exited {done.returncode}, expected {want}\n"
            f"stdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-2000:]}")
