"""Query rewriting for Dutch: compounds, synonyms and corpus acronyms, stemming, tiers, boosts and
spelling suggestions, each example of the search-quality issue checked on real searches."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import fields as wfields
from whoosh import query as wq
from whoosh.filedb.filestore import RamStorage

from searchdoc import query as sq
from searchdoc.corpus import Corpus
from searchdoc.errors import QueryError
from searchdoc.index import Index
from searchdoc.model import Document, Paragraph
from searchdoc.render import Style, render_result
from searchdoc.search import result_to_dict, search

#: A small corpus where each example of the issue has its own paragraph.
TEXTS = {
    "killer": "Het kabinet volgt de discussie over killer robots nauwgezet.",
    "killerrobots": "Het Europees Parlement wil een verbod op killerrobots.",
    "architectuur": "De wapenbeheersingsarchitectuur staat onder druk door nieuwe technologieën.",
    "wapenbeheersing": "Wapenbeheersing blijft een prioriteit van het kabinet.",
    "onderwater": "Defensie zet onderwaterdrones in voor mijnenbestrijding.",
    "drones": "Het gebruik van drones rond luchthavens is verboden.",
    "cyberdreigingen": "De cyberdreigingen nemen snel toe.",
    "cyber": "Er is een ambassadeur voor cyber benoemd.",
    "ki": "Kunstmatige intelligentie biedt kansen voor de economie.",
    "ai": "De visie op AI en ethiek volgt na de zomer.",
    "artificieel": "Artificiële intelligentie wordt in Brussel besproken.",
    "eu": "De Europese Unie publiceert binnenkort regelgeving.",
    "uav": "Onbemande luchtvaartuigen worden steeds kleiner.",
    "navo": "De NAVO speelt een belangrijke rol in de verdediging.",
    "vn": "De Verenigde Naties organiseren een conferentie in Genève.",
    "oeso": "Nederland steunt de aanbeveling van de OESO.",
    "laws": "Autonome wapensystemen moeten onder menselijke controle staan.",
    "dis-defined": "De Defensie Industrie Strategie (DIS) beschrijft de sleuteltechnologieën.",
    "dis": "De DIS noemt sensoren en autonome systemen.",
    "attache": "In het postennet worden innovatie-attachés geplaatst.",
}
KEYS = list(TEXTS)


def key_of(hit) -> str:
    return KEYS[hit.paragraph - 1] if hit.doc_id == "kst-1-1" else f"{hit.doc_id}#{hit.paragraph}"


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    root = tmp_path_factory.mktemp("mini")
    corpus = Corpus(root / "corpus")
    corpus.documents_dir.mkdir(parents=True)
    corpus.save(Document(id="kst-1-1", kind="kamerstuk", title="Brief over nieuwe technologieën",
                         paragraphs=[Paragraph(i, text, None, 1, 1) for i, text in enumerate(TEXTS.values(), 1)]))
    index = Index(root / "index", corpus)
    index.update()
    yield index, corpus
    index.close()


def with_all_words(result) -> list:
    """The hits with all the words: those with only some of them come after (``result.partial``)."""
    return result.hits[: result.partial["start"]] if result.partial else result.hits


def found(setup, query: str) -> list[str]:
    index, corpus = setup
    return [key_of(hit) for hit in with_all_words(search(index, corpus, query, limit=None))]


def letter(letter_index, query: str) -> list[int]:
    index, corpus = letter_index
    return [hit.paragraph for hit in with_all_words(search(index, corpus, query, limit=None))]


# --------------------------------------------------------------------------- compounds


@pytest.mark.parametrize("query", ["killer robots", "killerrobots", '"killer robots"'])
def test_killer_robots_in_either_spelling_rank_first(mini, query):
    assert set(found(mini, query)[:2]) == {"killer", "killerrobots"}


@pytest.mark.parametrize(("query", "whole", "compound"), [
    ("wapenbeheersing", "wapenbeheersing", "architectuur"),
    ("drones", "drones", "onderwater"),
    ("cyber", "cyber", "cyberdreigingen"),
])
def test_parts_find_compounds_below_whole_words(mini, query, whole, compound):
    hits = found(mini, query)
    assert whole in hits and compound in hits
    assert hits.index(whole) < hits.index(compound)


def test_compounds_find_their_parts(letter_index):
    assert letter(letter_index, "wapenbeheersingsarchitectuur") == [3]
    assert 23 in letter(letter_index, "cyberdreigingen")
    assert 11 in letter(letter_index, "onderwaterdrones")


def test_only_real_compound_parts_match(mini):
    # Letters inside a word are not a part of it: beheer(sing), staa(t).
    assert found(mini, "staan") == ["laws"]
    assert "wapenbeheersing" not in found(mini, "beheer")


@pytest.mark.parametrize(("query", "whole_word"), [("drones", r"\bdrones?\b"), ("cyber", r"\bcyber\b"),
                                                 ("wapens", r"\bwapens?\b")])
def test_whole_words_rank_above_parts_in_the_letter(letter_index, query, whole_word):
    index, corpus = letter_index
    hits = search(index, corpus, query, limit=None).hits
    whole = [re.search(whole_word, h.text, re.IGNORECASE) is not None for h in hits]
    assert any(whole) and not all(whole)
    # Once the part-only matches (onderwaterdrones, cyberdreigingen) start, no whole word follows.
    assert whole == sorted(whole, reverse=True)


# --------------------------------------------------------------------------- synonyms and acronyms


@pytest.mark.parametrize(("query", "literal", "expanded"), [
    ("AI", {"ai"}, {"ki", "artificieel"}),
    ("kunstmatige intelligentie", {"ki"}, {"ai", "artificieel"}),
    ("artificiële intelligentie", {"artificieel"}, {"ai", "ki"}),
    ("LAWS", set(), {"laws", "killer", "killerrobots"}),
    ("killer robots", {"killer", "killerrobots"}, {"laws"}),
    ("autonome wapensystemen", {"laws"}, {"killer", "killerrobots"}),
    ("UAV", set(), {"drones", "uav"}),
    ("drones", {"drones"}, {"uav"}),
    ("onbemande luchtvaartuigen", {"uav"}, {"drones"}),
    ("NATO", set(), {"navo"}),
    ("NAVO", {"navo"}, set()),
    ("VN", set(), {"vn"}),
    ("UN", set(), {"vn"}),
    ("OECD", set(), {"oeso"}),
    ("EU", set(), {"eu"}),
    ("Europese Unie", {"eu"}, set()),
])
def test_synonyms_and_acronyms_find_each_other_below_literal_matches(mini, query, literal, expanded):
    hits = found(mini, query)
    assert literal | expanded <= set(hits)
    if literal and expanded:
        assert max(hits.index(k) for k in literal) < min(hits.index(k) for k in expanded)


def test_acronyms_the_corpus_defines_are_synonyms(mini):
    assert set(found(mini, "DIS")) == {"dis-defined", "dis"}
    hits = found(mini, "Defensie Industrie Strategie")
    assert hits == ["dis-defined", "dis"]


def test_letter_acronyms_gbvs_nvs_ncsa(letter_index):
    assert 2 in letter(letter_index, "Geïntegreerde Buitenland- en Veiligheidsstrategie")
    assert {2, 23} <= set(letter(letter_index, "GBVS"))
    assert 2 in letter(letter_index, "NVS")
    assert {2, 23} <= set(letter(letter_index, "NCSA"))
    assert {2, 23} <= set(letter(letter_index, "Nationale Cyber Security Agenda"))


def _csbn_index(tmp_path):
    """A corpus of one document that defines an acronym (CSBN), and its (unbuilt) index."""
    corpus = Corpus(tmp_path / "corpus")
    corpus.documents_dir.mkdir(parents=True)
    corpus.save(Document(id="kst-2-1", kind="kamerstuk", paragraphs=[
        Paragraph(1, "Het Cybersecuritybeeld Nederland (CSBN) verschijnt jaarlijks.", None, 1, 1),
        Paragraph(2, "Het CSBN waarschuwt voor statelijke actoren.", None, 1, 1),
    ]))
    return corpus, Index(tmp_path / "index", corpus)


def test_corpus_definitions_are_cached_and_follow_the_corpus(tmp_path):
    corpus, index = _csbn_index(tmp_path)
    index.update()
    assert ("CSBN", "Cybersecuritybeeld Nederland") in [d[:2] for d in index.synonyms().definitions]
    cache = json.loads((tmp_path / "index" / sq.DEFINITIONS_FILE).read_text(encoding="utf-8"))
    assert cache["docs"]["kst-2-1"]["defs"] == [["CSBN", "Cybersecuritybeeld Nederland"]]
    assert [h.paragraph for h in search(index, corpus, "Cybersecuritybeeld Nederland").hits] == [1, 2]
    corpus.save(Document(id="kst-2-1", kind="kamerstuk", paragraphs=[
        Paragraph(1, "De Nationale Veiligheidsstrategie (NVS) verschijnt later.", None, 1, 1),
    ]))
    index.update()
    definitions = [d[:2] for d in index.synonyms().definitions]
    assert ("NVS", "Nationale Veiligheidsstrategie") in definitions
    assert ("CSBN", "Cybersecuritybeeld Nederland") not in definitions
    index.close()


def _no_harvest_at_query_time(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a search read the acronym definitions from the index")

    monkeypatch.setattr(sq, "_harvest", refuse)
    sq._INDEX_SYNONYMS.clear()


def _definition_pairs(index_dir) -> dict[str, list]:
    cache = json.loads((index_dir / sq.DEFINITIONS_FILE).read_text(encoding="utf-8"))
    return {doc_id: entry["defs"] for doc_id, entry in cache["docs"].items()}


def test_index_updates_keep_the_acronym_definitions_and_searches_only_read_them(tmp_path, monkeypatch):
    corpus, index = _csbn_index(tmp_path)
    index.update()
    assert _definition_pairs(tmp_path / "index") == {"kst-2-1": [["CSBN", "Cybersecuritybeeld Nederland"]]}
    _no_harvest_at_query_time(monkeypatch)
    assert [h.paragraph for h in search(index, corpus, "Cybersecuritybeeld Nederland").hits] == [1, 2]

    # A newly ingested document's acronym is found; a removed document's is no longer a synonym.
    corpus.save(Document(id="kst-2-2", kind="kamerstuk", paragraphs=[
        Paragraph(1, "De Nationale Veiligheidsstrategie (NVS) verschijnt later.", None, 1, 1),
        Paragraph(2, "De NVS noemt digitale dreigingen.", None, 1, 1),
    ]))
    report = index.update()
    assert report.added == ["kst-2-2"] and not report.rebuilt
    assert _definition_pairs(tmp_path / "index")["kst-2-2"] == [["NVS", "Nationale Veiligheidsstrategie"]]
    hits = search(index, corpus, "Nationale Veiligheidsstrategie").hits
    assert [(h.doc_id, h.paragraph) for h in hits] == [("kst-2-2", 1), ("kst-2-2", 2)]
    corpus.remove("kst-2-1")
    index.update()
    assert set(_definition_pairs(tmp_path / "index")) == {"kst-2-2"}
    assert ("CSBN", "Cybersecuritybeeld Nederland") not in [d[:2] for d in index.synonyms().definitions]
    assert search(index, corpus, "Cybersecuritybeeld Nederland").hits == []
    index.close()


def test_a_rebuild_writes_the_definitions_with_the_index(tmp_path, monkeypatch):
    corpus = Corpus(tmp_path / "corpus")
    corpus.documents_dir.mkdir(parents=True)
    corpus.save(Document(id="kst-2-1", kind="kamerstuk", paragraphs=[
        Paragraph(1, "De Defensie Industrie Strategie (DIS) is herzien.", "Inleiding", 1, 1),
    ]))
    index = Index(tmp_path / "index", corpus)
    index.update()
    index.update(rebuild=True)
    assert _definition_pairs(tmp_path / "index") == {"kst-2-1": [["DIS", "Defensie Industrie Strategie"]]}
    assert not list(tmp_path.glob(".index.building-*"))
    _no_harvest_at_query_time(monkeypatch)
    assert [d[:2] for d in index.synonyms().definitions] == [("DIS", "Defensie Industrie Strategie")]
    index.close()


def test_a_search_reads_definitions_the_folder_lacks_from_the_index(tmp_path):
    corpus = Corpus(tmp_path / "corpus")
    corpus.documents_dir.mkdir(parents=True)
    corpus.save(Document(id="kst-2-1", kind="kamerstuk", paragraphs=[
        Paragraph(1, "Het Cybersecuritybeeld Nederland (CSBN) verschijnt jaarlijks.", None, 1, 1),
    ]))
    index = Index(tmp_path / "index", corpus)
    index.update()
    (tmp_path / "index" / sq.DEFINITIONS_FILE).unlink()
    sq._INDEX_SYNONYMS.clear()
    assert ("CSBN", "Cybersecuritybeeld Nederland") in [d[:2] for d in index.synonyms().definitions]
    assert _definition_pairs(tmp_path / "index") == {"kst-2-1": [["CSBN", "Cybersecuritybeeld Nederland"]]}
    index.close()


def test_multi_word_synonym_inside_a_longer_query(mini):
    assert set(found(mini, "kunstmatige intelligentie ethiek")) == {"ai"}


# --------------------------------------------------------------------------- stemming


@pytest.mark.parametrize(("a", "b"), [
    ("drone", "drones"), ("wapensysteem", "wapensystemen"), ("technologie", "technologieën"),
    ("autonoom wapensysteem", "autonome wapensystemen"),
])
def test_singular_and_plural_find_the_same(letter_index, a, b):
    assert set(letter(letter_index, a)) == set(letter(letter_index, b)) != set()


def test_loanword_plural(mini):
    assert found(mini, "attaché") == found(mini, "attachés") == ["attache"]


def test_function_words_are_not_required(mini):
    assert found(mini, "drones in luchthavens") == ["drones"]
    assert found(mini, "het") != []  # a query of only function words still searches them


# --------------------------------------------------------------------------- ranking


def ranking_corpus(tmp_path, paragraphs: list[tuple[str, str | None]], titles: tuple[str, ...] = ("Brief",)):
    corpus = Corpus(tmp_path / "corpus")
    corpus.documents_dir.mkdir(parents=True)
    for n, title in enumerate(titles, 1):
        corpus.save(Document(id=f"kst-3-{n}", kind="kamerstuk", title=title,
                             paragraphs=[Paragraph(i, t, s, 1, 1) for i, (t, s) in enumerate(paragraphs, 1)]))
    index = Index(tmp_path / "index", corpus)
    index.update()
    return index, corpus


def test_exact_phrase_then_closer_words_rank_higher(tmp_path):
    # The same words in each paragraph; only where "menselijke" stands differs.
    filler = "het kabinet bespreekt dit onderwerp met de Kamer en de minister vandaag opnieuw".split()
    far = " ".join(["controle"] + filler + ["menselijke"])
    near = " ".join(["controle"] + filler[:3] + ["menselijke"] + filler[3:])
    exact = " ".join(filler + ["menselijke", "controle"])
    index, corpus = ranking_corpus(tmp_path, [(far, None), (near, None), (exact, None)])
    assert [h.paragraph for h in search(index, corpus, "menselijke controle").hits] == [3, 2, 1]
    index.close()


def test_tiers_beat_term_frequency_and_length(tmp_path):
    # Short paragraphs that repeat a compound or a synonym still rank below one long paragraph
    # that has the word itself once.
    long = "Het kabinet " + " ".join(["bespreekt het onderwerp met de Kamer"] * 6) + " en noemt drones."
    index, corpus = ranking_corpus(tmp_path, [
        ("Onderwaterdrones, onderwaterdrones.", None), ("UAV's en UAV's.", None), (long, None)])
    hits = search(index, corpus, "drones").hits
    assert [h.paragraph for h in hits] == [3, 1, 2]
    bands = [(sq.LITERAL_TIER, 3), (sq.PARTS_TIER, 1), (sq.SYNONYM_TIER, 2)]
    assert [(int(h.score), h.paragraph) for h in hits] == [(int(tier), n) for tier, n in bands]
    index.close()


def test_section_and_title_boost(tmp_path):
    text = "Het kabinet investeert in drones en sensoren."
    index, corpus = ranking_corpus(tmp_path, [(text, "Inleiding"), (text, "Drones")],
                                   titles=("Brief over sensoren", "Brief over drones"))
    hits = search(index, corpus, "drones", limit=None).hits
    assert [(h.doc_id, h.paragraph) for h in hits] == [("kst-3-2", 2), ("kst-3-1", 2), ("kst-3-2", 1), ("kst-3-1", 1)]
    index.close()


# --------------------------------------------------------------------------- did you mean


@pytest.mark.parametrize(("typed", "suggested"), [
    ("kunstmatige inteligentie", "kunstmatige intelligentie"),
    ("autonome wapnsystemen", "autonome wapensystemen"),
    ("betekenisvolle menselijke kontrole", "betekenisvolle menselijke controle"),
    ("dronnes", "drones"),
    ("Marechausee", "Marechaussee"),
    ("wapenbeheersingsconferntie", "wapenbeheersingsconferentie"),
])
def test_did_you_mean(letter_index, typed, suggested):
    index, corpus = letter_index
    as_typed = search(index, corpus, typed, correct=False)
    assert as_typed.total == 0 and as_typed.suggestion == suggested and as_typed.corrected is None
    assert result_to_dict(as_typed)["suggestion"] == suggested


@pytest.mark.parametrize(("typed", "respelt"), [
    ("kunstmatige inteligentie", "kunstmatige intelligentie"),
    ("dronnes", "drones"),
    ("Marechausee", "Marechaussee"),
    ("wapenbeheersingsconferntie", "wapenbeheersingsconferentie"),
])
def test_a_query_that_finds_nothing_shows_what_its_respelling_finds(letter_index, typed, respelt):
    index, corpus = letter_index
    result = search(index, corpus, typed)
    expected = search(index, corpus, respelt)
    assert result.corrected == respelt and result.suggestion is None and result.query == typed
    assert result.total == expected.total > 0
    assert [h.paragraph for h in result.hits] == [h.paragraph for h in expected.hits]
    data = result_to_dict(result)
    assert data["corrected"] == respelt and "suggestion" not in data
    text = render_result(result, Style(False))
    assert text.startswith(f"Showing results for {respelt!r}; search instead for {typed!r} with --no-correct")


@pytest.mark.parametrize("query", ["drones", "autonoom wapensysteem", "xqzzv", "NATO", "section:cybermiddelen"])
def test_no_suggestion_when_nothing_is_misspelt(letter_index, query):
    index, corpus = letter_index
    assert search(index, corpus, query).suggestion is None


# --------------------------------------------------------------------------- the pieces


def test_literal_readings():
    assert sq.literal_terms(["killerrobots"]) == [["killerrobot"], ["killer", "robot"]]
    hyphenated = sq.literal_terms(["INF-verdrag"])
    assert ["infverdrag"] in hyphenated and ["inf", "verdrag"] in hyphenated
    assert ["killerrobot"] in sq.literal_terms(["killer", "robots"])


def test_closeness():
    words, offsets = ["menselijk", "controle"], [0, 1]
    assert sq.closeness(words, offsets, {"menselijk": [4], "controle": [5]}, 8) == 1.0
    near = sq.closeness(words, offsets, {"menselijk": [4], "controle": [2]}, 8)
    far = sq.closeness(words, offsets, {"menselijk": [4], "controle": [10]}, 8)
    assert 0 < far < near < 1
    assert sq.closeness(words, offsets, {"menselijk": [4], "controle": [40]}, 8) == 0.0
    # The query's own spacing (a function word between) is the exact phrase.
    assert sq.closeness(["verbod", "wap"], [0, 2], {"verbod": [7], "wap": [9]}, 8) == 1.0


def _ram_index(texts: list[str]):
    schema = wfields.Schema(text=wfields.TEXT(phrase=True))
    ix = RamStorage().create_index(schema)
    writer = ix.writer()
    for text in texts:
        writer.add_document(text=text)
    writer.commit()
    return ix.searcher()


def test_best_of_scores_each_document_by_its_own_best_match():
    # Whoosh's DisjunctionMax scores a document with another document's sub-score.
    # "alpha" is rarer, so its score is higher: a stale sub-score would show on the "beta" documents.
    searcher = _ram_index(["beta", "beta gamma", "beta", "alpha"])
    a, b = wq.Term("text", "alpha"), wq.Term("text", "beta")
    best = {d: s for d, s in searcher.search(sq.BestOf([a, b]), limit=None).items()}
    each = [{d: s for d, s in searcher.search(q, limit=None).items()} for q in (a, b)]
    assert best == {d: max(e.get(d, 0) for e in each) for d in best}


def test_tiers_bound_scores():
    searcher = _ram_index(["alpha " * 30, "alpha", "beta"])
    literal = sq.Tier(wq.Term("text", "alpha"), sq.LITERAL_TIER)
    synonym = sq.Tier(wq.Term("text", "beta"), sq.SYNONYM_TIER)
    scores = dict(searcher.search(wq.Or([literal, synonym]), limit=None).items())
    assert all(sq.LITERAL_TIER < scores[d] < sq.LITERAL_TIER + sq.BM25_SHARE for d in (0, 1))
    assert sq.SYNONYM_TIER < scores[2] < sq.SYNONYM_TIER + sq.BM25_SHARE


def test_prune_drops_what_the_index_cannot_match(letter_index):
    index, _ = letter_index
    reader = index.searcher().reader()
    assert sq.build_query("xqzzv", reader=reader) is wq.NullQuery
    pruned = sq.build_query("drones", index.synonyms(), reader)
    assert all((f, t) in reader for f, t in pruned.iter_all_terms())
    assert sq.build_query("drones NOT xqzzv", reader=reader) is not wq.NullQuery


def test_build_query_without_an_index_uses_the_bundled_synonyms():
    terms = {t for _, t in sq.build_query("NATO").iter_all_terms()}
    assert "navo" in terms


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_query_building_never_crashes(letter_index, text):
    index, _ = letter_index
    try:
        query = sq.build_query(text, index.synonyms(), index.searcher().reader())
    except QueryError:
        return
    index.searcher().search(query, limit=3)
