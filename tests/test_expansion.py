"""Search quality II (issue 15): derived forms, the policy thesaurus, paragraphs with most of the
words, respelt results and ``--explain``, on the bundled letter."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from searchdoc import analysis, expansion
from searchdoc.cli import cli
from searchdoc.search import result_to_dict, search


def run(*args):
    return CliRunner().invoke(cli, list(args))


def keys(result) -> list[int]:
    return [hit.paragraph for hit in result.hits]


# --------------------------------------------------------------------------- derived forms


@pytest.mark.parametrize(("word", "derived"), [
    ("detectie", "detecteren"), ("detecteren", "detectie"), ("ethiek", "ethische"), ("ethisch", "ethiek"),
    ("terrorisme", "terroristen"), ("toetsen", "toetsing"), ("toetsen", "toetst"), ("spionage", "spioneren"),
    ("transparant", "transparantie"), ("mens", "menselijke"), ("haalt", "halen"), ("kiest", "kiezen"),
    ("verificatie", "verifieren"), ("technologie", "technologisch"),
])
def test_suffix_rules_propose_derived_forms(word, derived):
    assert derived in expansion.derived_candidates(analysis.fold(word))


def test_derived_forms_are_only_those_the_index_holds(letter_index):
    index, _ = letter_index
    reader = index.searcher().reader()
    found = expansion.derived_terms("detectie", reader)
    assert analysis.stem("detecteren") in found
    assert all(("text", t) in reader or ("parts", t) in reader for t in found)
    assert expansion.derived_terms("xqzzvatie", reader) == []


def test_a_derived_form_ranks_below_the_word_itself(letter_index):
    index, corpus = letter_index
    # The letter says "ethiek" once (par. 7) and "ethische richtlijnen" twice (par. 8 and 11).
    found = keys(search(index, corpus, "ethiek"))
    assert found[0] == 7 and {8, 11} <= set(found[1:])
    assert keys(search(index, corpus, "ethisch"))[:2] in ([8, 11], [11, 8])


# --------------------------------------------------------------------------- the thesaurus


def test_every_thesaurus_term_is_analysable():
    concepts = expansion.read_thesaurus(expansion.bundled_thesaurus_path())
    assert len(concepts) >= 15
    for concept in concepts:
        assert concept.terms and concept.related, concept.name
        for phrase in concept.terms + concept.related:
            assert analysis.phrase_terms(phrase), phrase


def test_related_terms_are_one_way_and_not_transitive():
    thesaurus = expansion.Thesaurus([expansion.Concept("x", ("kernwapens",), ("INF-verdrag",))])
    assert thesaurus.expansions(analysis.phrase_terms("kernwapens")) == [["inf", "verdrag"]]
    assert thesaurus.expansions(analysis.phrase_terms("INF-verdrag")) == []


@pytest.mark.parametrize(("query", "paragraph"), [
    ("kernwapens", 1),  # nucleaire ontwapening
    ("nuclear disarmament", 1),
    ("exportcontrole", 22),  # MTCR, uitvoer
    ("export control", 22),
    ("arms control", 3),
    ("cyber attacks", 24),  # digitale domein
    ("onderzoeksinstituten", 28),  # onderzoeksinstellingen
])
def test_english_and_related_words_find_the_letter(letter_index, query, paragraph):
    index, corpus = letter_index
    assert paragraph in keys(search(index, corpus, query))


def test_related_matches_rank_below_literal_ones(letter_index):
    index, corpus = letter_index
    result = search(index, corpus, "ontwapening", limit=None)
    literal = [h for h in result.hits if "ontwapening" in h.text.lower()]
    related = [h for h in result.hits if "ontwapening" not in h.text.lower()]
    assert literal and related
    assert min(h.score for h in literal) > max(h.score for h in related)


# --------------------------------------------------------------------------- partial matches


def test_missing_word_falls_back_to_most_of_the_words(letter_index):
    index, corpus = letter_index
    result = search(index, corpus, "Rusland spionage xqzzv")
    assert result.total == 0 and result.hits
    assert result.partial["words"] == ["rusland", "spionage", "xqzzv"] and result.partial["start"] == 0
    assert keys(result)[0] == 24  # "spionage door Rusland"
    assert result.partial["matched"][0] == ["rusland", "spionage"]
    data = result_to_dict(result)
    assert data["partial"] == {"words": ["rusland", "spionage", "xqzzv"], "total": result.partial["total"],
                               "minimum": 1}
    assert data["hits"][0]["partial"] == {"matched": ["rusland", "spionage"], "of": 3}


def test_all_the_words_come_before_most_of_them(letter_index):
    index, corpus = letter_index
    result = search(index, corpus, "drones Gatwick", limit=None)
    full = result.hits[: result.partial["start"]]
    assert [h.paragraph for h in full] == [21]
    rest = result.partial["matched"]
    assert rest and all(len(words) == 1 for words in rest)
    assert len(result.hits) == len(full) + len(rest)


def test_a_query_of_plain_words_only_is_relaxed(letter_index):
    index, corpus = letter_index
    assert search(index, corpus, "drones AND xqzzv").partial is None
    assert search(index, corpus, "drones xqzzv").partial is not None


def test_no_partial_matches_when_the_page_is_full(letter_index):
    index, corpus = letter_index
    assert search(index, corpus, "drones", limit=3).partial is None


def test_partial_text_output(letter_env):
    result = run("search", "Rusland", "spionage", "cyber")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1 paragraph matches 'Rusland spionage cyber'."
    assert "also: paragraphs with 2 of the 3 words (rusland · spionage · cyber):" in lines
    assert "  : has 2 of the 3 words: spionage, cyber" in lines


def test_nothing_with_all_words_text_output(letter_env):
    result = run("search", "Rusland", "spionage", "xqzzv")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "No paragraph has all the words of 'Rusland spionage xqzzv'."
    assert lines[2].startswith("also: paragraphs with 1–2 of the 3 words (rusland · spionage · xqzzv")


# --------------------------------------------------------------------------- explain


def test_explain_shows_each_expansion(letter_env):
    result = run("search", "kernwapens", "--explain", "--limit", "1")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "What the query matches (index terms, best tier first):"
    assert lines[1] == "  kernwapens"
    related = next(line for line in lines if line.startswith("    related term: "))
    assert "nucleair ontwapen" in related and "inf verdrag" in related
    data = json.loads(run("search", "detectie", "--explain", "--format", "json").stdout)
    tiers = {m["tier"]: m["terms"] for m in data["explain"][0]["matches"]}
    assert analysis.stem("detecteren") in tiers["derived form"]
    assert data["explain"][0]["words"] == "detectie"


def test_explain_of_an_operator_query(letter_index):
    from searchdoc.explain import explain_query

    index, _ = letter_index
    entries = explain_query(index, "drones OR kernwapens")
    assert len(entries) == 1 and entries[0]["words"] == "drones OR kernwapens"
    assert {m["tier"] for m in entries[0]["matches"]} >= {"literal", "related term"}
