"""Docs that cannot drift: the README and docs/ document every command and option, and holds the two commands
that CI runs; every command's help carries an example."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from searchdoc.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = "\n".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").glob("*.md")))
REFERENCE = README + "\n" + DOCS


def all_commands(group: click.Group = cli, prefix: str = "searchdoc"):
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from all_commands(command, path)


COMMANDS = list(all_commands())


@pytest.mark.parametrize("path, command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_readme_documents_command_and_options(path, command):
    assert f"`{path}" in REFERENCE, f"README and docs/ have no reference entry for {path}"
    for param in command.params:
        if isinstance(param, click.Option):
            names = [o for o in param.opts if o.startswith("--")]
            assert any(name in REFERENCE for name in names), f"README and docs/ do not document {path} {names}"


@pytest.mark.parametrize("path, command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_help_has_an_example(path, command):
    assert "Example" in (command.help or ""), f"{path} --help shows no example"


def test_group_options_documented():
    for param in cli.params:
        if isinstance(param, click.Option):
            assert any(o in REFERENCE for o in param.opts if o.startswith("--"))


def test_readme_holds_the_commands_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    main = re.search(r"```sh\n(pip install \. && searchdoc search [^\n]+)\n```", README)
    tests = re.search(r"```sh\n(pip install \"\.\[test\]\" && python -m pytest)\n```", README)
    assert main and tests, "README must show the install+main command and the install+test command"
    assert main.group(1).split("&& ", 1)[1] in ci
    assert "python -m pytest" in ci
