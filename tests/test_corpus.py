"""The corpus store: ids are safe file names, writes are atomic, documents round-trip."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchdoc.corpus import Corpus, atomic_write, hold_lock, is_valid_id, validate_id
from searchdoc.errors import CorpusError, InvalidIdentifierError, LockedError, UnknownDocumentError, WriteError
from searchdoc.model import Citation, Document, Footnote, Paragraph


def make_document(doc_id="kst-33694-12", n=3):
    return Document(
        id=doc_id,
        kind="kamerstuk",
        title="Geïntegreerde Buitenland- en Veiligheidsstrategie",
        date="2018-03-19",
        dossier=["33694"],
        number="12",
        paragraphs=[
            Paragraph(i, f"Alinea {i} over drones en cyber.", "Inleiding", 1, 1, [1] if i == 1 else [],
                      citations=[Citation("kst-33694-45", "kamerstuk", "33 694, nr. 45", i, None, 0, 5)]
                      if i == 2 else [])
            for i in range(1, n + 1)
        ],
        footnotes=[Footnote(1, "Kamerstuk 33 694, nr. 23", 1)],
    )


@pytest.mark.parametrize("good", ["kst-33694-45", "ah-tk-20182019-264", "kst-34300-X-109", "h-tk-20182019-45-7",
                                  "kst-21501-32-1703", "blg-929493", "stb-2019-288"])
def test_valid_ids(good):
    assert validate_id(good) == good


@pytest.mark.parametrize("bad", ["../etc/passwd", "/abs/kst-1-2", "kst-33694-45/../../x", "kst..1", "", "kst",
                                 "KST-33694-45", "kst-33694-45.json", "kst-٣٣٦٩٤-45", "kst-33694-45\x00",
                                 "kst 33694 45",
                                 "a-" + "1" * 200])
def test_unsafe_ids_are_refused(bad):
    with pytest.raises(InvalidIdentifierError):
        validate_id(bad)


@given(st.text(max_size=60))
def test_no_accepted_id_can_escape_the_corpus(text):
    if is_valid_id(text):
        assert "/" not in text and "\\" not in text and ".." not in text and text.isascii()


def test_save_load_roundtrip(tmp_path):
    corpus = Corpus(tmp_path / "corpus")
    document = make_document()
    corpus.save(document, raw=b"<xml/>", raw_ext="xml", metadata_xml=b"<metadata_gegevens/>")
    loaded = Corpus(tmp_path / "corpus").load("kst-33694-12")
    assert loaded.paragraphs == document.paragraphs
    assert loaded.footnotes == document.footnotes
    assert loaded.provenance["raw_file"] == "raw/kst-33694-12.xml"
    assert (tmp_path / "corpus" / "raw" / "kst-33694-12.xml").read_bytes() == b"<xml/>"
    assert (tmp_path / "corpus" / "raw" / "kst-33694-12.metadata.xml").exists()
    assert corpus.ids() == ["kst-33694-12"]


def test_unknown_and_damaged_documents(tmp_path):
    corpus = Corpus(tmp_path)
    with pytest.raises(UnknownDocumentError):
        corpus.load("kst-1-2")
    corpus.save(make_document())
    corpus.json_path("kst-33694-12").write_text("{not json", encoding="utf-8")
    with pytest.raises(CorpusError, match="damaged"):
        Corpus(tmp_path).load("kst-33694-12")


def test_missing_corpus_is_reported(tmp_path):
    with pytest.raises(CorpusError, match="no corpus"):
        Corpus(tmp_path / "nowhere").require()


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "doc.json"
    atomic_write(target, b"old")

    def explode(*_args):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", explode)
    with pytest.raises(WriteError, match="cannot write .*doc.json"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["doc.json"]


def test_fingerprint_changes_when_document_changes(tmp_path):
    corpus = Corpus(tmp_path)
    corpus.save(make_document())
    before = corpus.fingerprints()
    document = make_document(n=4)
    corpus.save(document)
    assert corpus.fingerprints() != before
    assert json.loads(corpus.json_path("kst-33694-12").read_text("utf-8"))["id"] == "kst-33694-12"


def test_lock_is_exclusive(tmp_path):
    waited = []
    with hold_lock(tmp_path / ".lock", 1):
        with pytest.raises(LockedError, match="another searchdoc process"):
            with hold_lock(tmp_path / ".lock", 0.2, on_wait=waited.append):
                pass
    assert waited and "waiting" in waited[0]


def test_checkout_corpus_matches_the_parser():
    """The letter committed in corpus/ is what the current parser and citation extractor make of the seed."""
    from pathlib import Path

    from searchdoc.pipeline import bundled_letter

    committed = Corpus(Path(__file__).resolve().parent.parent / "corpus").load("kst-33694-45")
    fresh, raw = bundled_letter()
    assert committed.paragraphs == fresh.paragraphs
    assert committed.footnotes == fresh.footnotes
    assert (committed.title, committed.date, committed.dossier) == (fresh.title, fresh.date, fresh.dossier)
    assert committed.provenance["sha256"] == __import__("hashlib").sha256(raw).hexdigest()
