"""The index: built from the corpus, updated incrementally, rebuilt when damaged."""

from __future__ import annotations

import json

import pytest

from searchdoc import checksums
from searchdoc.corpus import Corpus
from searchdoc.errors import QueryError
from searchdoc.index import SCHEMA_VERSION, STATE_FILE, Index, build_schema
from searchdoc.model import Document, Paragraph
from searchdoc.query import build_query


def small_document(doc_id: str, texts: list[str], section: str | None = None) -> Document:
    return Document(
        id=doc_id,
        kind="kamerstuk",
        title=f"Document {doc_id}",
        paragraphs=[Paragraph(i, text, section, 1, 1) for i, text in enumerate(texts, 1)],
    )


def keys(index: Index) -> list[str]:
    return sorted(index.stored_keys())


def test_round_trip_of_the_letter(letter_index):
    index, corpus = letter_index
    document = corpus.load("kst-33694-45")
    assert index.doc_count() == len(document.paragraphs) == 30
    stored = {f["paragraph"]: f for f in index.searcher().all_stored_fields()}
    for paragraph in document.paragraphs:
        fields = stored[paragraph.n]
        assert fields["text"] == paragraph.text
        assert fields["section"] if paragraph.section else "section" not in fields
        assert fields["page"] == paragraph.page
        assert fields["doc_id"] == "kst-33694-45"
    assert "kst-33694-12" in stored[2]["cites"].split(",")


def test_incremental_update_touches_only_changed_documents(tmp_path):
    corpus = Corpus(tmp_path / "corpus")
    corpus.save(small_document("kst-1-1", ["Drones boven vliegvelden.", "Cyberdreigingen nemen toe."]))
    corpus.save(small_document("kst-1-2", ["Kunstmatige intelligentie en ethiek."]))
    index = Index(tmp_path / "index", corpus)
    first = index.update()
    assert first.rebuilt and sorted(first.added) == ["kst-1-1", "kst-1-2"] and first.paragraphs == 3
    assert index.update().changed is False

    corpus.save(small_document("kst-1-2", ["Kunstmatige intelligentie.", "Nieuwe alinea over killerrobots."]))
    corpus.save(small_document("kst-1-3", ["Nucleaire ontwapening."]))
    report = index.update()
    assert not report.rebuilt
    assert report.updated == ["kst-1-2"] and report.added == ["kst-1-3"] and report.paragraphs == 3
    assert keys(index) == ["kst-1-1#1", "kst-1-1#2", "kst-1-2#1", "kst-1-2#2", "kst-1-3#1"]

    corpus.remove("kst-1-1")
    report = index.update()
    assert report.removed == ["kst-1-1"]
    assert keys(index) == ["kst-1-2#1", "kst-1-2#2", "kst-1-3#1"]
    index.close()


def test_staleness_and_automatic_update(tmp_path):
    corpus = Corpus(tmp_path / "corpus")
    corpus.save(small_document("kst-1-1", ["Drones boven vliegvelden."]))
    index = Index(tmp_path / "index", corpus)
    assert index.staleness()[0] == "missing"
    index.ensure_fresh()
    assert index.staleness()[0] == "fresh"
    corpus.save(small_document("kst-1-1", ["Drones boven vliegvelden.", "En een tweede alinea."]))
    assert index.staleness()[0] == "stale"
    notes = []
    index.ensure_fresh(on_update=notes.append)
    assert notes == ["updating the index with corpus changes ..."]
    assert index.doc_count() == 2
    index.close()


def test_incompatible_state_forces_rebuild(tmp_path):
    corpus = Corpus(tmp_path / "corpus")
    corpus.save(small_document("kst-1-1", ["Drones."]))
    index = Index(tmp_path / "index", corpus)
    index.update()
    state = json.loads((tmp_path / "index" / STATE_FILE).read_text())
    # A well-formed state of another schema version (sealed as searchdoc seals it) is
    # incompatible, not damaged.
    state["schema"] = SCHEMA_VERSION + 1
    (tmp_path / "index" / STATE_FILE).write_text(json.dumps(checksums.seal(state)))
    assert index.staleness()[0] == "incompatible"
    report = index.update()
    assert report.rebuilt and report.reason == "incompatible"


def test_damaged_index_is_rebuilt(tmp_path):
    corpus = Corpus(tmp_path / "corpus")
    corpus.save(small_document("kst-1-1", ["Drones boven vliegvelden."]))
    index = Index(tmp_path / "index", corpus)
    index.update()
    index.close()
    for segment in (tmp_path / "index").glob("*.seg"):
        segment.write_bytes(b"garbage")
    corpus.save(small_document("kst-1-1", ["Drones boven vliegvelden.", "Tweede alinea."]))
    report = Index(tmp_path / "index", corpus).update()
    assert report.rebuilt and report.reason == "damaged"


def test_schema_has_fields_for_themes_and_citations():
    schema = build_schema()
    for name in ("doc_id", "paragraph", "section", "page", "text", "kind", "date", "title", "themes", "cites"):
        assert name in schema.names()


@pytest.mark.parametrize("bad", ["", "   ", '"open phrase', "unknownfield:x", "a" * 1001, "foo\x00bar"])
def test_bad_queries_raise_query_error(bad):
    with pytest.raises(QueryError):
        build_query(bad)
