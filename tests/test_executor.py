"""The vectorised executor over the columnar postings answers every query exactly as Whoosh's
matchers do: the same paragraphs in the same order, the same scores, total and theme counts,
over several segments, after incremental updates, merges and deletions. Queries it does not
know fall back to Whoosh."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from searchdoc import explain, partial
from searchdoc import index as index_module
from searchdoc.bench import QUERY_MIX, generate_corpus
from searchdoc.columns import _ARRAYS, ColumnsError, check_index, write_from_reader
from searchdoc.corpus import Corpus
from searchdoc.evaluate import build_corpus
from searchdoc.index import Index
from searchdoc.model import Document, Paragraph
from searchdoc.query import build_query

DATA = Path(__file__).resolve().parent / "data"

JUDGED = [q["query"] for q in json.loads((DATA / "search_judgments.json").read_text(encoding="utf-8"))["queries"]]
#: Queries as new users type them: expanded with derived forms, related terms and partial matches.
READER = [q["query"] for q in
          json.loads((DATA / "search_judgments_reader.json").read_text(encoding="utf-8"))["queries"]]
EXTRA = [
    "drones NOT cyber", "drones OR ontwapening", "NOT drones", "(cyber OR drones) AND verdrag",
    "wapen* NOT drones", "ontwikkel*", "a*", "cyber* drones", '"de drones"', '"van de"', '"in het kader van"',
    '"kunstmatige intelligentie" drones', "AI", "LAWS", "killer robots", "kunstmatige intelligentie",
    "title:brief", "section:inleiding", "notes:kamerstuk", "cites:kst-33694-12", "doc_id:kst-33694-45",
    "kind:kamerstuk", "dossier:33694", "text:drones", "themes:cyber", "drones ANDMAYBE cyber",
    "onbestaandwoord", "drones onbestaandwoord", "dron~", '"autonome wapensystemen"~3', "drones^2", "text:dron*",
    "drone?", "*wapen*", "*ing", "on?emande", "w*en* NOT drones", "*drone* cyber*", "notes:*kamer*", "*zzzq*",
]
FILTERS = [
    ((), ("laws",)), ((), ("cyber", "drones")), (("kst-33694-45",), ()), (("kst-33694-45", "kst-90000-3"), ("ai",)),
]
# Whoosh-only nodes: the executor must hand these to Whoosh.
FALLBACK = ["page:2", "paragraph:3", "[a TO c]"]


def _changed(document: Document, marker: str) -> Document:
    paragraphs = list(document.paragraphs)
    first = paragraphs[0]
    paragraphs[0] = Paragraph(first.n, f"{first.text} {marker} drones en kunstmatige intelligentie", first.section,
                              first.page, first.page_end, first.footnotes, first.citations)
    return Document(**{**document.__dict__, "paragraphs": paragraphs})


@pytest.fixture(scope="module")
def updated(tmp_path_factory):
    """An index of three built segments, then updated (documents changed, removed, added) until
    Whoosh has written and merged segments of its own and holds deletions."""
    root = tmp_path_factory.mktemp("executor")
    corpus = build_corpus(root / "corpus", DATA / "official")
    generate_corpus(root / "corpus", 300)
    index = Index(root / "index", corpus)
    index.build_procs = 3
    index.update(rebuild=True)
    ids = corpus.ids()
    generated = [d for d in ids if d.startswith("kst-90000-")]
    corpus.save(_changed(corpus.load(generated[0]), "gewijzigd"))
    shutil.rmtree(corpus.documents_dir / generated[1], ignore_errors=True)
    for path in corpus.documents_dir.glob(f"{generated[1]}.*"):
        path.unlink()
    index.update()
    for k in range(index_module.MERGE_FACTOR):
        document = corpus.load(generated[2 + k])
        corpus.save(_changed(document, f"ronde{k}"))
        index.update()
    index.close()
    yield root / "index", corpus
    index.close()


def _compare(index: Index, text: str, doc_ids=(), themes=()) -> bool:
    """True when the executor answered (else Whoosh did); asserts it answered as Whoosh does."""
    searcher = index.searcher()
    query = build_query(text, index.synonyms(), searcher.reader())
    filters = index._filters(doc_ids, themes)
    fast = index._run_columnar(query, filters, None)
    if fast is None:
        return False
    # Whoosh ranked exhaustively: its top-N collector can drop a hit when an optional booster
    # lets AndMaybeMatcher.replace prune it, which the executor (exhaustive) never does.
    slow = index._run_whoosh(query, text, filters, None)
    where = f"{text!r} {doc_ids} {themes}"
    assert [h.fields for h in fast.hits] == [h.fields for h in slow.hits], where
    for a, b in zip(fast.hits, slow.hits, strict=True):
        assert a.score == pytest.approx(b.score, rel=1e-9), where
    assert fast.total == slow.total, where
    assert fast.theme_counts == slow.theme_counts, where
    assert fast.matched_terms == slow.matched_terms, where
    top = index._run_columnar(query, filters, 10)
    assert [h.fields["key"] for h in top.hits] == [h.fields["key"] for h in fast.hits[:10]], where
    assert top.total == fast.total
    return True


def _random_queries(corpus: Corpus, count: int) -> list[str]:
    rng = random.Random(8)
    words = sorted({w.strip(".,;:()«»") for d in corpus.ids()[:40] for p in corpus.load(d).paragraphs
                    for w in p.text.split() if w.isalpha() and len(w) > 3})
    queries = []
    for _ in range(count):
        picked = rng.sample(words, rng.choice((1, 2, 2, 3)))
        form = rng.random()
        if form < 0.2:
            queries.append(f'"{" ".join(picked)}"')
        elif form < 0.3:
            queries.append(f"{picked[0][:4]}*")
        elif form < 0.4:
            queries.append(" OR ".join(picked))
        else:
            queries.append(" ".join(picked))
    return queries


def test_segments_updates_and_merges_have_columns(updated):
    directory, corpus = updated
    index = Index(directory, corpus)
    reader = index.searcher().reader()
    leaves = list(reader.leaf_readers())
    assert len(leaves) >= 4
    assert any(leaf.has_deletions() for leaf, _ in leaves)
    check_index(directory, reader)
    assert index.executor() is not None
    index.close()


def test_executor_equals_whoosh(updated):
    directory, corpus = updated
    index = Index(directory, corpus)
    queries = [q for _, q, _, _ in QUERY_MIX] + JUDGED + EXTRA + _random_queries(corpus, 40)
    answered = [q for q in dict.fromkeys(queries) if _compare(index, q)]
    assert len(answered) >= len(set(queries)) - 2
    for (_, text, theme, _) in QUERY_MIX:
        if theme:
            assert _compare(index, text, (), (theme,))
    for doc_ids, themes in FILTERS:
        for text in ("drones", '"kunstmatige intelligentie"', "wapen*", "verdrag NOT drones"):
            assert _compare(index, text, doc_ids, themes)
    index.close()


def test_expansions_and_partial_matches_run_in_the_executor(updated):
    """Derived forms, related terms and the units of a partial match are nodes the executor
    knows: none of these queries falls back to Whoosh, and each answers as Whoosh does."""
    directory, corpus = updated
    index = Index(directory, corpus)
    executor = index.executor()
    assert executor is not None
    tiers = set()
    for text in READER:
        assert _compare(index, text), text
        found = partial.units(index, text)
        for unit in (found[1] if found else []):
            if unit is not None:
                executor.search(unit, unit, [], None)  # raises Unsupported for an unknown node
        tiers.update(m["tier"] for entry in explain.explain_query(index, text) for m in entry["matches"])
    assert {"derived form", "related term", "synonym"} <= tiers
    index.close()


@pytest.mark.parametrize("text", ["drone?", "*wapen*", "*ing", "on?emande", "w*en* NOT drones", "*drone* cyber*",
                                  "notes:*kamer*", "*zzzq*"])
def test_wildcards_run_in_the_executor(updated, text):
    """Wildcards (which Whoosh expands again at every step, seconds on a large corpus) are
    answered by the executor, exactly as Whoosh answers them."""
    directory, corpus = updated
    index = Index(directory, corpus)
    assert _compare(index, text)
    index.close()


@pytest.mark.parametrize("text", FALLBACK)
def test_unknown_nodes_fall_back_to_whoosh(updated, text):
    directory, corpus = updated
    index = Index(directory, corpus)
    assert not _compare(index, text)
    raw = index.run_query(text, limit=None)
    assert raw.total == len(raw.hits)
    index.close()


def test_damaged_columns_are_rebuilt(letter_dirs):
    corpus_dir, index_dir = letter_dirs
    index = Index(index_dir, Corpus(corpus_dir))
    expected = [h.fields["key"] for h in index.run_query("drones").hits]
    columns = sorted(index_dir.glob("*.cdoc"))
    assert columns
    index.close()
    with open(columns[0], "ab") as handle:
        handle.write(b"\0\0\0\0")
    index = Index(index_dir, Corpus(corpus_dir))
    # Still right before the repair: the damaged columns are not used.
    assert [h.fields["key"] for h in index.run_query("drones").hits] == expected
    assert index._executor is False
    assert not index.readable()
    report = index.ensure_fresh()
    assert report is not None and report.rebuilt
    check_index(index_dir, index.searcher().reader())
    assert [h.fields["key"] for h in index.run_query("drones").hits] == expected
    index.close()


def test_missing_columns_are_written_without_reindexing(letter_dirs):
    corpus_dir, index_dir = letter_dirs
    index = Index(index_dir, Corpus(corpus_dir))
    expected = [(h.fields["key"], h.score) for h in index.run_query("drones").hits]
    index.close()
    for path in index_dir.glob("*.cols"):
        path.unlink()
    index = Index(index_dir, Corpus(corpus_dir))
    with pytest.raises(ColumnsError):
        check_index(index_dir, index.searcher().reader())
    assert index.readable() and index.columns_missing()
    assert [(h.fields["key"], h.score) for h in index.run_query("drones").hits] == expected  # through Whoosh
    assert index.ensure_fresh() is None
    assert not index.columns_missing()
    check_index(index_dir, index.searcher().reader())
    assert index.executor() is not None
    assert [(h.fields["key"], h.score) for h in index.run_query("drones").hits] == expected
    index.close()


def test_executor_answers_speaker_queries_as_whoosh_does(tmp_path):
    """The speaker field of a real Handelingen item runs through the columns, as Whoosh runs it."""
    from searchdoc import pipeline

    corpus = Corpus(tmp_path / "corpus")
    pipeline.ingest_file(corpus, Path(__file__).parent / "data" / "real" / "h-tk-20172018-61-10.xml")
    index = Index(tmp_path / "index", corpus)
    index.update()
    for text in ("speaker:keijzer", 'speaker:"de heer graus"', "speaker:voorzitter motie",
                 "speaker:pvv OR speaker:vvd", "krediet NOT speaker:graus"):
        assert _compare(index, text), text
    index.close()


def test_builder_columns_equal_whoosh_postings(letter_index, tmp_path):
    """The columns SegmentBuilder writes hold what Whoosh's postings hold (read back term by
    term, as the columns of Whoosh-written segments are made)."""
    index, _ = letter_index
    reader = index.searcher().reader()
    for leaf, _ in reader.leaf_readers():
        segment_id = leaf.segment().segment_id()
        write_from_reader(tmp_path, leaf)
        for kind in (*_ARRAYS, "cols"):
            built = (index.directory / f"{segment_id}.{kind}").read_bytes()
            assert built == (tmp_path / f"{segment_id}.{kind}").read_bytes(), kind


def _compare_tree(index: Index, query) -> None:
    """The executor answers a hand-built query tree as Whoosh does (scores, order, totals)."""
    fast = index._run_columnar(query, [], None)
    assert fast is not None, repr(query)
    slow = index._run_whoosh(query, repr(query), [], None)
    assert [h.fields["key"] for h in fast.hits] == [h.fields["key"] for h in slow.hits], repr(query)
    for a, b in zip(fast.hits, slow.hits, strict=True):
        assert a.score == pytest.approx(b.score, rel=1e-9), repr(query)
    assert fast.total == slow.total, repr(query)
    assert fast.theme_counts == slow.theme_counts, repr(query)


def test_best_of_bands(updated):
    """BestOf evaluates a lower band only where no band wholly above it matched: trees whose
    text and parts matches overlap partly, phrases matched only through parts, touching,
    overlapping and inverted bands, children without a band, and a boosted BestOf."""
    from whoosh import query as wq

    from searchdoc.query import BestOf, Tier

    directory, corpus = updated
    index = Index(directory, corpus)
    text = wq.Phrase("text", ["kunstmat", "intelligentie"])
    parts = wq.Phrase("parts", ["autonom", "wap", "system"])
    drones = wq.Term("text", "dron")
    cyber = wq.Term("text", "cyber")
    trees = [
        BestOf([Tier(text, 6.0, 1.0), Tier(parts, 4.0, 1.0), Tier(drones, 2.0, 1.0)]),
        BestOf([Tier(drones, 2.0, 1.0), Tier(parts, 4.0, 1.0), Tier(text, 6.0, 1.0)]),
        BestOf([Tier(parts, 6.0, 1.0), Tier(wq.Phrase("text", ["autonom", "wapensystem"]), 4.0, 1.0)]),
        BestOf([Tier(drones, 5.0, 1.0), Tier(cyber, 4.0, 1.0)]),
        BestOf([Tier(drones, 4.5, 1.0), Tier(cyber, 4.0, 1.0), Tier(text, 3.0, 0.0)]),
        BestOf([Tier(drones, 4.0, 1.0), Tier(cyber, 4.0, 2.0), Tier(text, 5.0, -1.0)]),
        BestOf([Tier(drones, 6.0, 1.0), cyber, Tier(text, 2.0, 1.0)]),
        BestOf([Tier(drones, 6.0, 1.0), Tier(BestOf([Tier(cyber, 3.0, 1.0), Tier(text, 1.0, 1.0)]), 2.0, 1.0)],
               boost=2.0),
        wq.AndMaybe(BestOf([Tier(text, 6.0, 1.0), Tier(drones, 4.0, 1.0)]),
                    wq.Or([Tier(wq.Term("section", "inleiding"), 0.0, 0.3)])),
    ]
    for tree in trees:
        _compare_tree(index, tree)
    index.close()
