"""The optimised rebuild (segment builder, worker processes, spilled runs) writes the index a
straightforward single Whoosh writer would: the same terms, postings, lengths, stored fields and
the same query results."""

from __future__ import annotations

import shutil

import pytest
from whoosh import index as windex

from searchdoc import analysis, segments
from searchdoc import index as index_module
from searchdoc.bench import generate_corpus
from searchdoc.corpus import Corpus
from searchdoc.index import INDEX_NAME, Index, build_schema
from searchdoc.model import Document, Footnote, Paragraph
from searchdoc.pipeline import seed_corpus
from searchdoc.segments import term_positions

# Hyphens, apostrophes, accents, ligatures, digits, footnote markers, soft hyphens, full width.
TRICKY = [
    "Het INF-verdrag en de anti-drone-maatregelen van de VN-ontwapeningsorganen.",
    "UAV's, risico’s en CEO`s: Geïntegreerde Buitenland- en Veiligheidsstrategie (GBVS).",
    "De ﬁnanciële wapen\u00adbeheersing; killerrobots5 en drones12 boven Schiphol.",
    "Ｆｕｌｌ width ＤＲＯＮＥＳ, café, naïef, coöperatie, 2018/19, nr. 264, 33 694.",
    "wapensystemen wapensystemen wapensysteem autonome-wapensystemen autonome wapensystemen",
    "'s-Gravenhage — «Capturing Technology» – e-mail, e.d., i.e. …",
]
QUERIES = [
    ("drones", (), ()),
    ("wapensystemen", (), ()),
    ('"autonome wapensystemen"', (), ()),
    ('"kunstmatige intelligentie"', (), ()),
    ("cyber*", (), ()),
    ("wapen* NOT drones", (), ()),
    ("veiligheid OR ontwapening", (), ()),
    ("controle", (), ("laws",)),
    ("verdrag", ("kst-33694-45",), ()),
    ("title:brief", (), ()),
    ("section:inleiding", (), ()),
    ("notes:kamerstuk", (), ()),
    ("cites:kst-33694-12", (), ()),
]


def tricky_document() -> Document:
    paragraphs = [Paragraph(i, text, "1. Tricky tekst", i, i, [1] if i == 2 else [])
                  for i, text in enumerate(TRICKY, 1)]
    return Document(id="kst-12345-6", kind="kamerstuk", title="Brief over INF-verdrag en UAV's", date="2019-03-01",
                    dossier=["12345"], paragraphs=paragraphs,
                    footnotes=[Footnote(1, "Kamerstuk 33 694, nr. 12; zie ook www.example.nl.", 2)])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    root = tmp_path_factory.mktemp("equivalence") / "corpus"
    generate_corpus(root, 120)
    corpus = Corpus(root)
    seed_corpus(corpus)
    corpus.save(tricky_document())
    return corpus


def reference_build(corpus: Corpus, directory) -> None:
    """The straightforward build: one Whoosh writer, add_document per paragraph, commit."""
    directory.mkdir()
    ix = windex.create_in(str(directory), build_schema(), indexname=INDEX_NAME)
    helper = Index(directory, corpus)
    writer = ix.writer()
    for doc_id in corpus.ids():
        for record in helper.paragraph_records(corpus.load(doc_id)):
            writer.add_document(**record)
    writer.commit()
    ix.close()


def optimised_build(corpus: Corpus, directory, procs: int) -> None:
    index = Index(directory, corpus)
    index.build_procs = procs
    report = index.update(rebuild=True)
    assert report.rebuilt and report.paragraphs == sum(len(corpus.load(d).paragraphs) for d in corpus.ids())
    index.close()


def snapshot(directory) -> dict:
    """Everything a search can observe of an index, per field and term, in docnum order."""
    ix = windex.open_dir(str(directory), indexname=INDEX_NAME)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        schema = ix.schema
        out = {"doc_count": reader.doc_count_all(), "stored": list(reader.all_stored_fields()), "fields": {}}
        for name in schema.names():
            if not schema[name].indexed:
                continue
            terms = {}
            for term in reader.lexicon(name):
                info = reader.term_info(name, term)
                postings = reader.postings(name, term)
                items = []
                while postings.is_active():
                    items.append((postings.id(), postings.weight(), postings.value()))
                    postings.next()
                terms[term] = (info.doc_frequency(), info.weight(), info.min_length(), info.max_length(),
                               info.max_weight(), info.min_id(), info.max_id(), items)
            lengths = [reader.doc_field_length(d, name) for d in range(reader.doc_count_all())]
            out["fields"][name] = (terms, lengths, reader.field_length(name))
    ix.close()
    return out


def results(directory, corpus: Corpus) -> list:
    index = Index(directory, corpus)
    found = []
    for query, doc_ids, themes in QUERIES:
        raw = index.run_query(query, doc_ids=doc_ids, themes=themes, limit=None)
        found.append((query, raw.total, [(h.fields["key"], round(h.score, 9)) for h in raw.hits],
                      {f: sorted(t) for f, t in raw.matched_terms.items()}, raw.theme_counts))
    index.close()
    return found


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory):
    """The plain build's snapshot and query results, computed once."""
    directory = tmp_path_factory.mktemp("reference") / "index"
    reference_build(corpus, directory)
    return snapshot(directory), results(directory, corpus)


@pytest.mark.parametrize("procs", [1, 2])
def test_optimised_index_equals_a_plain_whoosh_build(corpus, reference, tmp_path, procs):
    expected, expected_results = reference
    optimised_build(corpus, tmp_path / "index", procs)
    actual = snapshot(tmp_path / "index")
    assert actual["doc_count"] == expected["doc_count"]
    assert actual["stored"] == expected["stored"]
    assert actual["fields"].keys() == expected["fields"].keys()
    for name in expected["fields"]:
        assert actual["fields"][name] == expected["fields"][name], name
    assert results(tmp_path / "index", corpus) == expected_results
    ix = windex.open_dir(str(tmp_path / "index"), indexname=INDEX_NAME)
    with ix.searcher() as searcher:
        # One segment per worker, numbering the paragraphs in document order.
        assert len(searcher.reader().leaf_readers()) == procs
    ix.close()


def test_spilled_runs_give_the_same_index(corpus, reference, tmp_path, monkeypatch):
    # A buffer of a few kilobytes spills a sorted run every few paragraphs; the runs merge back.
    monkeypatch.setattr(segments, "BUILD_BUFFER_MB", 0.005)
    optimised_build(corpus, tmp_path / "index", 2)
    assert snapshot(tmp_path / "index") == reference[0]
    assert not list((tmp_path / "index").glob(".runs-*")), "run files must not survive the build"


def test_small_word_caches_give_the_same_index(corpus, reference, tmp_path, monkeypatch):
    # A builder spills when its vocabulary is full and the analysis caches (and the tagger's)
    # start afresh every few hundred words; neither may change what is indexed.
    monkeypatch.setattr(segments, "WORD_CACHE_LIMIT", 300)
    forgotten = segments._FORGOTTEN[0]
    optimised_build(corpus, tmp_path / "index", 1)
    assert segments._FORGOTTEN[0] > forgotten
    assert snapshot(tmp_path / "index") == reference[0]
    assert results(tmp_path / "index", corpus) == reference[1]


@pytest.mark.parametrize("chain", ["text", "parts"])
def test_term_positions_match_the_analysis_chain(chain, corpus):
    texts = TRICKY + [p.text for d in corpus.ids()[:3] for p in corpus.load(d).paragraphs]
    produce = analysis.part_tokens if chain == "parts" else analysis.analyze
    for text in texts:
        expected: dict[bytes, list[int]] = {}
        for token in produce(text):
            expected.setdefault(token.term.encode("utf-8"), []).append(token.pos)
        assert term_positions(chain, text) == expected, text


def test_incremental_update_after_a_parallel_build(corpus, tmp_path):
    shutil.copytree(corpus.root, tmp_path / "corpus")
    corpus = Corpus(tmp_path / "corpus")
    index = Index(tmp_path / "index", corpus)
    index.build_procs = 2
    index.update(rebuild=True)
    document = corpus.load("kst-12345-6")
    document.paragraphs[0].text = "Een geheel nieuwe alinea over zwermdrones."
    corpus.save(document)
    report = index.update()
    assert not report.rebuilt and report.updated == ["kst-12345-6"]
    assert report.paragraphs == len(document.paragraphs)
    hits = index.run_query("zwermdrones").hits
    assert [h.fields["key"] for h in hits] == ["kst-12345-6#1"]
    assert not index.run_query('"INF-verdrag en de anti-drone-maatregelen"').hits
    index.close()


def test_updates_merge_small_segments_instead_of_piling_them_up(corpus, tmp_path):
    shutil.copytree(corpus.root, tmp_path / "corpus")
    corpus = Corpus(tmp_path / "corpus")
    index = Index(tmp_path / "index", corpus)
    index.build_procs = 2
    index.update(rebuild=True)
    rebuilt = segment_sizes(tmp_path / "index")
    updates = 2 * index_module.MERGE_FACTOR
    for n in range(1, updates + 1):
        paragraphs = [Paragraph(1, f"Alinea {n}: zwermdrones.")]
        corpus.save(Document(id=f"kst-777-{n}", kind="kamerstuk", paragraphs=paragraphs))
        assert index.update().added == [f"kst-777-{n}"]
        index.close()
        sizes = segment_sizes(tmp_path / "index")
        assert sizes[:len(rebuilt)] == rebuilt, "the rebuild's segments are left alone"
        small = sizes[len(rebuilt):]
        assert sum(small) == n
        # At most MERGE_FACTOR segments of a size class (here 1-9 documents): the next update merges them.
        assert len(small) <= index_module.MERGE_FACTOR, sizes
    keys = sorted(h.fields["key"] for h in index.run_query("zwermdrones", limit=None).hits)
    assert keys == sorted(f"kst-777-{n}#1" for n in range(1, updates + 1))
    index.close()


def segment_sizes(directory) -> list[int]:
    """Documents per segment, the order the segments are read in."""
    ix = windex.open_dir(str(directory), indexname=INDEX_NAME)
    sizes = [s.doc_count_all() for s in ix._segments()]
    ix.close()
    return sizes


def test_position_values_are_whoosh_encoding():
    # Both encoders (plain and numpy) against Whoosh's own Positions.encode, with deltas of
    # every pickle width and lists longer than one pickle batch.
    import random

    import numpy as np
    from whoosh.formats import Positions

    rng = random.Random(8)
    postings = [[rng.randrange(300)], [0], [5, 6], [1, 300, 70_000, 70_001],
                sorted(rng.sample(range(5000), 1500)), [3], sorted(rng.sample(range(100_000), 40))]
    counts = [len(p) for p in postings]
    flat = [x for p in postings for x in p]
    expected = [Positions().encode(p) for p in postings]
    assert segments._pack_positions(counts, flat) == expected
    arrays = np.array(counts, dtype=np.uint32), np.array(flat, dtype=np.uint32)
    assert segments._pack_positions_np(*arrays) == expected
    singles = [[p] for p in (0, 7, 255, 256, 65_536)]
    assert segments._pack_positions([1] * 5, [p[0] for p in singles]) == [Positions().encode(p) for p in singles]


def test_long_posting_lists_span_several_blocks(corpus, reference):
    # The numpy writer (long lists) and the plain one (short lists) both ran in the equivalence
    # builds; this checks the corpus really has lists of several blocks and of a few postings.
    sizes = [len(term[7]) for term in reference[0]["fields"]["text"][0].values()]
    assert max(sizes) > 128 and min(sizes) <= segments._SMALL_TERM


def field_variety_corpus(root) -> Corpus:
    """Paragraphs that each leave out other fields (no title, section, page, notes, themes,
    citations; an empty text): spilled after every paragraph, the runs end at different fields."""
    corpus = Corpus(root)
    plain = "Een alinea over drones en wapenbeheersing."
    corpus.save(Document(id="kst-100-1", kind="kamerstuk", paragraphs=[Paragraph(1, "zwermdrones boven zee")]))
    corpus.save(Document(id="kst-100-2", kind="kamerstuk", title="Brief over autonome wapens", date="2019-01-02",
                         dossier=["100"], paragraphs=[Paragraph(1, plain, "1. Inleiding", 3, 4, [1])],
                         footnotes=[Footnote(1, "Kamerstuk 33 694, nr. 12.", 1)]))
    corpus.save(Document(id="kst-100-3", kind="", title="Alleen een titel", paragraphs=[Paragraph(1, "")]))
    corpus.save(Document(id="kst-100-4", kind="kamerstuk", paragraphs=[
        Paragraph(1, "Kunstmatige intelligentie en killerrobots.", "2. Wapens"),
        Paragraph(2, "qqqq", page=7)]))
    seed_corpus(corpus)
    return corpus


@pytest.mark.parametrize("buffer_mb", [1e-9, 0.0005])
def test_a_spill_after_every_paragraph_gives_the_same_index(tmp_path, monkeypatch, buffer_mb):
    # With a buffer of one token every paragraph is a run of its own, holding only the fields
    # that paragraph has: a run that ended early must not be read again for a later field.
    corpus = field_variety_corpus(tmp_path / "corpus")
    reference_build(corpus, tmp_path / "reference")
    spills = count_spills(monkeypatch)
    monkeypatch.setattr(segments, "BUILD_BUFFER_MB", buffer_mb)
    optimised_build(corpus, tmp_path / "index", 1)
    assert spills[0] >= 3
    assert snapshot(tmp_path / "index") == snapshot(tmp_path / "reference")
    assert results(tmp_path / "index", corpus) == results(tmp_path / "reference", corpus)


def count_spills(monkeypatch) -> list[int]:
    """Count the runs segment builders spill from now on."""
    spilled = [0]
    spill = segments.SegmentBuilder._spill

    def counting(self):
        spilled[0] += 1
        spill(self)

    monkeypatch.setattr(segments.SegmentBuilder, "_spill", counting)
    return spilled


def random_words_corpus(root, documents: int = 400, words: int = 400, seed: int = 14) -> tuple[Corpus, list[str]]:
    """The large-vocabulary corpus of issue 14: documents of random 7-11-letter words."""
    import random
    import string

    rng = random.Random(seed)
    corpus = Corpus(root)
    vocabulary = []
    for d in range(1, documents + 1):
        text = [''.join(rng.choices(string.ascii_lowercase, k=rng.randint(7, 11))) for _ in range(words)]
        vocabulary.extend(text[:2])
        corpus.save(Document(id=f"kst-{30000 + d}-1", kind="kamerstuk", paragraphs=[Paragraph(1, " ".join(text))]))
    return corpus, vocabulary


@pytest.mark.slow
def test_a_large_vocabulary_spills_and_builds_the_same_index(tmp_path, monkeypatch):
    # Issue 14's recipe: 400 x 400 random words, more than WORD_CACHE_LIMIT distinct words, so
    # the default build spills (and used to fail with "peek of closed file").
    corpus, vocabulary = random_words_corpus(tmp_path / "corpus")
    spills = count_spills(monkeypatch)
    optimised_build(corpus, tmp_path / "spilled", 1)
    assert spills[0] >= 1
    monkeypatch.setattr(segments, "BUILD_BUFFER_MB", 1024)
    monkeypatch.setattr(segments, "WORD_CACHE_LIMIT", 10**7)
    before = spills[0]
    optimised_build(corpus, tmp_path / "whole", 1)
    assert spills[0] == before, "the reference build must not spill"
    assert snapshot(tmp_path / "spilled") == snapshot(tmp_path / "whole")
    queries = vocabulary[::97] + [f'"{vocabulary[0]} {vocabulary[1]}"', vocabulary[5][:4] + "*"]
    found = {}
    for name in ("spilled", "whole"):
        index = Index(tmp_path / name, corpus)
        found[name] = [[h.fields["key"] for h in index.run_query(q, limit=None).hits] for q in queries]
        index.close()
    assert found["spilled"] == found["whole"]
    assert all(found["whole"])
