"""Query syntax that never silently empties a result, and the expansion budget of patterns."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from searchdoc import query as sq
from searchdoc.cli import cli
from searchdoc.errors import QueryError

DANGLING = ["drones NOT", "drones OR", "drones AND", "AND drones", "OR drones", "(drones", "drones)", '"drones',
            "drones OR OR wapens", "drones AND OR wapens", "drones NOT AND wapens", "(drones OR) wapens",
            "( AND drones)", "drones ANDNOT", "drones ANDMAYBE", "drones NOT NOT"]


@pytest.mark.parametrize("text", DANGLING)
def test_a_dangling_operator_or_an_open_group_is_an_error(text):
    with pytest.raises(QueryError):
        sq.parse(text)


@pytest.mark.parametrize("text", DANGLING[:6])
def test_the_cli_says_so_in_one_line_with_exit_2(letter_env, text):
    result = CliRunner().invoke(cli, ["search", text])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("searchdoc: error: ")


@pytest.mark.parametrize("text", ["NOT drones", "drones NOT wapens", "drones OR wapens",
                                  "(drones OR wapens) AND NOT cyber", "drones and wapens", "drones or",
                                  "not drones", '"drones OR"', "text:(drones OR uav)"])
def test_operators_with_words_on_both_sides_and_lower_case_words_are_fine(text):
    sq.parse(text)


def test_lower_case_operators_are_words(letter_index):
    index, corpus = letter_index
    assert index.run_query("drones", limit=None).total == 9
    assert index.run_query("drones OR wapens", limit=None).total > 9


WORDS = ["drones", "wapens", "cyber", "kabinet"]
TOKENS = WORDS + ["AND", "OR", "NOT", "(", ")"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=8))
def test_a_query_is_an_error_or_searches_only_its_words(tokens):
    """Never an operator silently read as the word "and", "or" or "not", never a word dropped."""
    text = " ".join(tokens)
    try:
        parsed = sq.parse(text)
    except QueryError:
        return
    typed = [t for t in tokens if t in WORDS]
    found = []
    for leaf in parsed.leaves():
        if isinstance(leaf, wq.Phrase):
            found += list(leaf.words)
        elif isinstance(leaf, wq.Term):
            found.append(leaf.text)
    assert set(found) == set(typed), (text, parsed)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["drones", "wapens", "AND", "OR", "(", ")"]), min_size=1, max_size=7))
def test_a_query_without_not_that_runs_finds_at_least_its_best_word(letter_index, tokens):
    """A query of only AND/OR and words finds everything all its words together find."""
    index, _ = letter_index
    text = " ".join(tokens)
    try:
        sq.parse(text)
    except QueryError:
        return
    words = [t for t in tokens if t in ("drones", "wapens")]
    if not words:
        return
    both = index.run_query(" ".join(words), limit=None).total
    assert index.run_query(text, limit=None).total >= both > 0


# --------------------------------------------------------------------------- the expansion budget


@pytest.mark.parametrize("text", ["*d*", "*a* OR *e* OR *i* OR *o* OR *u*", "?r*", "*ab", "??"])
def test_a_leading_wildcard_needs_letters(text):
    with pytest.raises(QueryError, match="starts with a wildcard"):
        sq.parse(text)


def test_a_leading_wildcard_with_enough_letters_runs(letter_index):
    index, _ = letter_index
    assert index.run_query("*wapen*", limit=None).total > 0


def _count(index, text: str, limit: int | None = None) -> int:
    reader = index.searcher().reader()
    rewritten = sq._Rewriter(sq.default_synonyms(), reader).rewrite(sq.parse(text))
    return sq.expansion_count(rewritten, reader, limit)


def test_expansions_are_counted_over_the_whole_query(letter_index):
    index, _ = letter_index
    reader = index.searcher().reader()
    text_terms = {t.decode() for t in reader.lexicon("text") if t.decode().startswith("wap")}
    part_terms = {t.decode() for t in reader.lexicon("parts") if t.decode().startswith("wap")}
    assert _count(index, "wap*") == len(text_terms) + len(part_terms) > 2
    assert _count(index, "wap* OR wap*") == _count(index, "wap*")
    assert _count(index, "wap* OR dr*") > _count(index, "wap*")


def test_a_query_over_its_budget_is_a_clear_error(letter_index, monkeypatch):
    index, _ = letter_index
    n = _count(index, "wap*")
    assert _count(index, "wap*", limit=n) == n
    with pytest.raises(QueryError, match=f"more than {n - 1:,} words"):
        _count(index, "wap*", limit=n - 1)
    monkeypatch.setattr(sq, "MAX_EXPANSIONS", 3)
    with pytest.raises(QueryError, match="give more letters or fewer patterns"):
        index.run_query("a* OR e*")
    with pytest.raises(QueryError, match="give more letters or fewer patterns"):
        index.ranked_stream("[a TO z]")
    assert index.run_query("drones", limit=None).total == 9


def test_the_cli_reports_the_budget_in_one_line(letter_env, monkeypatch):
    monkeypatch.setattr(sq, "MAX_EXPANSIONS", 3)
    result = CliRunner().invoke(cli, ["search", "a*"])
    assert result.exit_code == 2
    assert result.stderr.startswith("searchdoc: error: the query's patterns (such as 'a') stand for more than 3 words")
