"""Search over the letter: Dutch matching, query syntax, context, highlighting and filters."""

from __future__ import annotations

import pytest

from searchdoc.analysis import terms
from searchdoc.errors import ThemeError, UnknownDocumentError, UsageError
from searchdoc.search import mark, match_spans, result_to_dict, search


def paragraphs(letter_index, query, **kwargs):
    index, corpus = letter_index
    result = search(index, corpus, query, limit=None, **kwargs)
    return [hit.paragraph for hit in result.hits]


def test_phrase_query(letter_index):
    found = paragraphs(letter_index, '"betekenisvolle menselijke controle"')
    assert found and set(found) <= {13, 14}
    assert {13, 14} <= set(found)
    assert 12 not in found


def test_word_broken_across_lines_is_found(letter_index):
    # First the paragraph with the word; related terms (ontwapening) follow.
    assert paragraphs(letter_index, "wapenbeheersing")[0] == 3


def test_accent_folding_and_apostrophes(letter_index):
    assert paragraphs(letter_index, "Geintegreerde") == paragraphs(letter_index, "Geïntegreerde") == [2]
    uav = paragraphs(letter_index, "UAV’s")
    assert uav == paragraphs(letter_index, "uav") and {17, 18, 19, 22} <= set(uav)


def test_hyphenated_compound_whole_and_parts(letter_index):
    assert paragraphs(letter_index, "INF-verdrag") == [3]
    assert 3 in paragraphs(letter_index, "verdrag")
    assert paragraphs(letter_index, '"INF verdrag"') == [3]


def test_stemming_plural_and_singular(letter_index):
    assert set(paragraphs(letter_index, "wapensysteem")) == set(paragraphs(letter_index, "wapensystemen"))


def test_boolean_operators_and_prefix(letter_index):
    drones = set(paragraphs(letter_index, "drones"))
    cyber = set(paragraphs(letter_index, "cybermiddelen"))
    assert set(paragraphs(letter_index, "drones OR cybermiddelen")) >= drones | cyber
    without = drones - set(paragraphs(letter_index, "luchthavens"))
    assert set(paragraphs(letter_index, "drones NOT luchthavens")) == without
    assert set(paragraphs(letter_index, "drones bestrijding")) <= drones
    assert set(paragraphs(letter_index, "cyber*")) == {2, 23, 25, 27}


def test_field_queries(letter_index):
    assert set(paragraphs(letter_index, 'section:cybermiddelen')) == set(range(23, 31))
    assert paragraphs(letter_index, "cites:kst-33694-12") == [2]


def test_one_result_per_paragraph_and_ranking(letter_index):
    index, corpus = letter_index
    result = search(index, corpus, "autonome wapensystemen", limit=None)
    numbers = [h.paragraph for h in result.hits]
    assert len(numbers) == len(set(numbers)) == result.total
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)


def test_context_and_hit_fields(letter_index):
    index, corpus = letter_index
    hit = search(index, corpus, "wapenbeheersingsconferentie", context=1).hits[0]
    assert hit.paragraph == 3 and (hit.page, hit.page_end) == (1, 2) and hit.section is None
    assert [p["n"] for p in hit.before] == [2] and [p["n"] for p in hit.after] == [4]
    assert hit.label == "Kamerstuk 33 694, nr. 45"
    assert hit.citation == "Kamerstukken II 2018/19, 33 694, nr. 45, p. 1-2"
    assert hit.url == "https://zoek.officielebekendmakingen.nl/kst-33694-45.html"
    assert "**wapenbeheersingsconferentie**" in hit.highlight
    data = result_to_dict(search(index, corpus, "drones", limit=2))
    assert set(data) >= {"query", "total", "hits", "facets"}
    assert set(data["hits"][0]) >= {"doc_id", "paragraph", "section", "page", "score", "text", "highlight",
                                    "before", "after", "label", "url", "citation", "themes"}


def test_doc_and_theme_filters(letter_index):
    index, corpus = letter_index
    assert paragraphs(letter_index, "drones", doc_ids=["kst-33694-45"]) == paragraphs(letter_index, "drones")
    with pytest.raises(UnknownDocumentError):
        search(index, corpus, "drones", doc_ids=["kst-1-1"])
    with pytest.raises(ThemeError):
        search(index, corpus, "drones", themes=["weather"])
    for hit in search(index, corpus, "drones", themes=["drones"], limit=None).hits:
        assert "drones" in hit.themes


def test_bad_limits(letter_index):
    index, corpus = letter_index
    with pytest.raises(UsageError):
        search(index, corpus, "drones", limit=0)


def test_highlight_marks_whole_words():
    text = "De inzet van onderwaterdrones en drones."
    spans = match_spans(text, {"text": set(terms("drones"))})
    assert mark(text, spans) == "De inzet van onderwaterdrones en **drones**."


def test_total_and_facets_count_every_match(letter_index):
    index, corpus = letter_index
    for query, themes in (("drones", []), ("wapensystemen", ["laws"]), ('"betekenisvolle menselijke controle"', [])):
        everything = search(index, corpus, query, limit=None, themes=themes)
        top = search(index, corpus, query, limit=1, themes=themes)
        assert top.total == everything.total == len(everything.hits)
        expected = {}
        for hit in everything.hits:
            for theme in hit.themes:
                expected[theme] = expected.get(theme, 0) + 1
        assert top.facets["themes"] == expected


def test_speaker_field_is_searchable_and_shown(tmp_path):
    """A Handelingen item: ``speaker:`` finds a speaker's paragraphs, and hits carry the speaker."""
    from pathlib import Path

    from searchdoc import pipeline
    from searchdoc.corpus import Corpus
    from searchdoc.index import Index
    from searchdoc.render import Style, render_hit

    corpus = Corpus(tmp_path / "corpus")
    source = Path(__file__).parent / "data" / "real" / "h-tk-20172018-61-10.xml"
    pipeline.ingest_file(corpus, source)
    index = Index(tmp_path / "index", corpus)
    index.update()
    result = search(index, corpus, "speaker:keijzer", limit=None)
    assert result.total == 11
    assert {hit.speaker for hit in result.hits} == {"Staatssecretaris Keijzer"}
    both = search(index, corpus, "speaker:graus krediet", limit=None)
    assert both.hits
    assert all(hit.speaker == "De heer Graus (PVV)" and "krediet" in hit.text.lower() for hit in both.hits)
    chair = search(index, corpus, '"motie is voorgesteld" speaker:voorzitter', limit=None)
    assert chair.total == 6 and all(hit.section == "Motie" for hit in chair.hits)  # six motions
    assert "De heer Graus (PVV): " in render_hit(1, both.hits[0], Style(False))
    assert result_to_dict(result)["hits"][0]["speaker"] == "Staatssecretaris Keijzer"
    # Context paragraphs say who speaks too: the chair's line before Keijzer's first answer.
    first = search(index, corpus, "speaker:keijzer", limit=None, context=1)
    hit = next(h for h in first.hits if h.paragraph == 66)
    assert hit.before[0]["speaker"] == "De voorzitter"
    assert "¶65 De voorzitter: " in render_hit(1, hit, Style(False))
