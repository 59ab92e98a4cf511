"""The word store: the analysis looking words up in a SQLite file answers exactly as with the
word lists in memory, and a missing or damaged store only costs time."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
import wordfreq

from searchdoc import analysis, wordstore

SEED = Path(analysis.__file__).resolve().parent / "data" / "kst-33694-45.txt"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("words") / "words.sqlite"
    analysis._write_word_store(path)
    return path


@pytest.fixture
def stored(store_path):
    """The analysis of this process switched to the store (its caches emptied before and after)."""
    store = wordstore.open_store(store_path)
    assert store is not None
    lists = analysis._StoredLists(store)
    saved = list(analysis._STORE_CHOICE)
    analysis.clear_caches()
    analysis._STORE_CHOICE[:] = [True, lists]
    try:
        yield lists
    finally:
        lists.close()
        analysis._STORE_CHOICE[:] = saved
        analysis.clear_caches()


def copy_store(source: Path, target: Path) -> None:
    """A store and its checksum side-car, as write_store leaves them."""
    import shutil

    shutil.copy(source, target)
    shutil.copy(wordstore.checksum_path(source), wordstore.checksum_path(target))


def _sample_words() -> list[str]:
    words = sorted(analysis._word_list())
    return random.Random(8).sample(words, 3000)


def test_store_holds_every_word_of_the_lexicon(store_path):
    lexicon = analysis._word_list()
    db = sqlite3.connect(store_path)
    try:
        dutch = dict(db.execute("SELECT w, nl FROM word WHERE nl IS NOT NULL"))
    finally:
        db.close()
    assert dutch == lexicon


def test_stored_lexicon_and_part_table_answer_as_in_memory(stored):
    lexicon, parts = analysis._word_list(), analysis._memory_part_table()
    words = _sample_words() + ["xqzv", "drones", "geintegreerde", "ab", "onderwaterdrone"]
    for word in words:
        assert stored.lexicon.get(word, 0.0) == lexicon.get(word, 0.0), word
        assert stored.parts.get(word) == parts.get(word), word


def test_stored_english_frequencies_are_wordfreqs(stored):
    english = [w for bucket in wordfreq.get_frequency_list("en", wordlist="best") for w in bucket]
    sample = random.Random(8).sample([w for w in english if w.isascii() and w.isalpha()], 2000)
    for word in sample + ["killer", "capturing", "lethal", "wapensysteem", "zzzqx", "ünïcode"]:
        assert stored.english(word) == wordfreq.zipf_frequency(word, "en"), word


def _analyses(words: list[str]) -> list:
    return [(analysis.analyze(w), analysis.part_tokens(w), analysis.split_compound(analysis.fold(w)),
             analysis.word_frequency(analysis.fold(w))) for w in words]


def test_analysis_through_the_store_is_the_analysis_in_memory(store_path):
    words = sorted({w for w, _, _ in analysis.tokenize(SEED.read_text(encoding="utf-8"))})
    words += ["onderwaterdrones", "killerrobots", "wapenbeheersingsconferentie", "capturing", "technologieën"]
    analysis.clear_caches()
    expected = _analyses(words)
    store = wordstore.open_store(store_path)
    saved = list(analysis._STORE_CHOICE)
    analysis.clear_caches()
    analysis._STORE_CHOICE[:] = [True, analysis._StoredLists(store)]
    try:
        assert _analyses(words) == expected
        assert store.lookups > 0
    finally:
        analysis._STORE_CHOICE[1] and analysis._STORE_CHOICE[1].close()
        analysis._STORE_CHOICE[:] = saved
        analysis.clear_caches()


def test_many_lookups_turn_to_the_lists_in_memory(stored, monkeypatch):
    monkeypatch.setattr(analysis, "STORE_LOOKUP_LIMIT", 10)
    words = ["wapensystemen", "onderwaterdrones", "cyberdreigingen", "killerrobots", "mensenrechten"]
    got = _analyses(words)
    assert stored.store is None and analysis._STORE_CHOICE[1] is None
    analysis._STORE_CHOICE[:] = [False, None]
    analysis.clear_caches()
    assert got == _analyses(words)


def test_missing_or_damaged_store_is_not_used(tmp_path):
    assert wordstore.open_store(tmp_path / "none.sqlite") is None
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"not a database" * 100)
    assert wordstore.open_store(damaged) is None
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    assert wordstore.open_store(empty) is None


def test_a_store_whose_values_changed_is_not_used(tmp_path):
    # SQLite's own checks pass on a store whose numbers changed; its checksum does not.
    path = tmp_path / "words-3333333333333333.sqlite"
    wordstore.write_store(path, {"drone": 3.5, "robot": 2.0}, [("drone", 3.1)])
    store = wordstore.open_store(path)
    assert store.row("drone") == (3.5, 3.1)
    store.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE word SET nl = 7.0 WHERE w = 'drone'")
    db.commit()
    db.close()
    assert wordstore.open_store(path) is None
    wordstore.checksum_path(path).unlink()
    assert wordstore.open_store(path) is None


def test_store_name_changes_with_the_analysis_code(tmp_path):
    code = tmp_path / "analysis.py"
    code.write_text("a = 1\n")
    first = wordstore.store_name([code])
    code.write_text("a = 2\n")
    assert wordstore.store_name([code]) != first
    assert first.startswith("words-") and first.endswith(".sqlite")


def _code() -> list[Path]:
    return [Path(analysis.__file__), Path(wordstore.__file__)]


def test_a_reader_without_a_store_loads_the_lists_and_writes_one(tmp_path, monkeypatch):
    written = []
    real = analysis._word_list

    class NotLoaded:
        """The word lists as a new process sees them: not in memory yet."""

        def __call__(self):
            return real()

        def cache_info(self):
            return real.cache_info()._replace(currsize=0)

    monkeypatch.setattr(analysis, "_word_list", NotLoaded())
    monkeypatch.setattr(analysis, "_write_word_store", written.append)
    monkeypatch.setattr(analysis, "_STORE_DIRECTORY", [None])
    monkeypatch.setattr(analysis, "_STORE_CHOICE", [False, None])
    analysis.use_word_store(tmp_path)
    assert analysis._stored_lists() is None
    assert written == [tmp_path / wordstore.store_name(_code())]
    assert analysis._stored_lists() is None and written == [written[0]]  # decided once


def test_a_reader_with_a_store_never_loads_the_lists(store_path, tmp_path):
    """In a new process, as a cold search: the store answers, the lists stay on disk."""
    import subprocess
    import sys

    copy_store(store_path, tmp_path / wordstore.store_name(_code()))
    script = (
        "import sys\n"
        "from searchdoc import analysis\n"
        "analysis.use_word_store(sys.argv[1])\n"
        "print(analysis.stem('drones'), analysis.split_compound('onderwaterdrones'),"
        " analysis._is_english('capturing', 0.0), analysis._word_list.cache_info().currsize)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True)
    expected = [analysis.stem("drones"), analysis.split_compound("onderwaterdrones"),
                analysis._is_english("capturing", 0.0), 0]
    assert done.stdout.strip() == " ".join(str(x) for x in expected)


def _child_choice(queue) -> None:
    queue.put((list(analysis._STORE_CHOICE), analysis._stored_lists() is None))


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_build_worker_loads_the_lists_rather_than_share_the_store(stored):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_choice, args=(queue,))
    child.start()
    choice, uses_memory = queue.get(timeout=30)
    child.join()
    assert choice == [True, None] and uses_memory
    assert analysis._STORE_CHOICE[1] is stored  # the parent keeps its store


def test_a_reader_reuses_the_saved_analyses_of_synonym_phrases(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis, "_STORE_DIRECTORY", [tmp_path])
    monkeypatch.setattr(analysis, "_STORE_PATHS", {})
    first = analysis.load_synonyms()
    saved = list(tmp_path.glob("phrases-*.json"))
    assert len(saved) == 1 and saved[0].name.endswith(".json")

    def refuse(text):
        raise AssertionError(f"analysed {text!r} again")

    monkeypatch.setattr(analysis, "phrase_terms", refuse)
    second = analysis.load_synonyms()
    assert second.groups == first.groups
    assert (second._members, second._index, second._longest) == (first._members, first._index, first._longest)
    assert second.analysed == first.analysed
    words = ["kunstmatige", "intelligentie", "drone"]
    monkeypatch.undo()
    assert second.matches(analysis.phrase_terms(" ".join(words))) == first.matches(
        analysis.phrase_terms(" ".join(words)))


def test_damaged_saved_phrase_analyses_are_ignored(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis, "_STORE_DIRECTORY", [tmp_path])
    monkeypatch.setattr(analysis, "_STORE_PATHS", {})
    path = analysis._phrase_analyses_path()
    path.write_text("{not json", encoding="utf-8")
    table = analysis.load_synonyms()
    assert table.groups and table.matches(analysis.phrase_terms("kunstmatige intelligentie"))
    assert analysis._read_phrase_analyses(path) == table.analysed  # rewritten whole


def test_writing_a_store_removes_long_unused_ones_of_other_versions(tmp_path):
    import os
    import time

    old, recent = tmp_path / "words-0000000000000000.sqlite", tmp_path / "words-1111111111111111.sqlite"
    old_phrases = tmp_path / "phrases-0000000000000000.json"
    for path in (old, recent, old_phrases):
        path.write_bytes(b"x")
    long_ago = time.time() - (wordstore.OUTDATED_DAYS + 1) * 86400
    os.utime(old, (long_ago, long_ago))
    os.utime(old_phrases, (long_ago, long_ago))
    wordstore.write_store(tmp_path / "words-2222222222222222.sqlite", {"drone": 3.5}, [("drone", 3.1)])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        recent.name, "words-2222222222222222.sqlite", "words-2222222222222222.sqlite.crc32"]
    store = wordstore.open_store(tmp_path / "words-2222222222222222.sqlite")
    assert store.row("drone") == (3.5, 3.1) and store.row("robot") is None
    store.close()


def test_searchdoc_search_looks_words_up_in_the_store_and_finds_the_same(store_path, letter_env):
    """The CLI, once the index is fresh, uses the store; the results are the library's with the
    word lists in memory."""
    import json
    import os
    import subprocess
    import sys

    from searchdoc.corpus import Corpus
    from searchdoc.index import Index
    from searchdoc.search import result_to_dict, search

    cache = Path(os.environ["XDG_CACHE_HOME"]) / "searchdoc"
    cache.mkdir(parents=True)
    copy_store(store_path, cache / wordstore.store_name(_code()))
    script = (
        "import sys\n"
        "from searchdoc import analysis, cli\n"
        "cli.cli.main(args=sys.argv[1:], prog_name='searchdoc', standalone_mode=False)\n"
        "print('lists loaded:', analysis._word_list.cache_info().currsize, file=sys.stderr)\n"
    )
    query = "autonome wapensystemen"
    done = subprocess.run([sys.executable, "-c", script, "search", query, "--format", "json", "--context", "1"],
                          capture_output=True, text=True, check=True)
    assert "lists loaded: 0" in done.stderr
    corpus_dir, index_dir = letter_env
    corpus = Corpus(corpus_dir)
    index = Index(index_dir, corpus)
    try:
        assert json.loads(done.stdout) == result_to_dict(search(index, corpus, query, context=1))
    finally:
        index.close()
