"""No-break spaces in served text: searchable and citable as spaces, stored as served."""

from __future__ import annotations

import pytest

from searchdoc.corpus import Corpus
from searchdoc.index import Index
from searchdoc.pipeline import ingest_file
from searchdoc.search import search

TEXT = "Op 25\u00a0maart is Kamerstuk 28\u00a0844, nr.\u00a0266 besproken in de commissie.\n"
XML = (
    '<?xml version="1.0" encoding="UTF-8"?><officiele-publicatie><kamerstuk><stuk><al>Op 25\u00a0maart is '
    '<extref doc="kst-28844-266">Kamerstuk 28\u00a0844, nr.\u00a0266</extref> besproken in de commissie.</al>'
    "</stuk></kamerstuk></officiele-publicatie>"
)


@pytest.mark.parametrize(("name", "content"), [("kst-40001-1.txt", TEXT), ("kst-40001-1.xml", XML),
                                               ("kst-40001-1.txt", TEXT.replace("\u00a0", "\u202f"))])
def test_no_break_spaces_are_spaces_to_search_and_citations_but_kept_in_the_text(tmp_path, name, content):
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")
    corpus = Corpus(tmp_path / "corpus")
    corpus.documents_dir.mkdir(parents=True)
    ingest_file(corpus, source)
    stored = corpus.load("kst-40001-1").paragraphs[0]
    space = "\u202f" if "\u202f" in content else "\u00a0"
    assert f"25{space}maart" in stored.text and f"nr.{space}266" in stored.text
    assert [(c.id, c.raw) for c in stored.citations] == [("kst-28844-266", f"Kamerstuk 28{space}844, nr.{space}266")]
    index = Index(tmp_path / "index", corpus)
    try:
        index.update()
        for query in ('"25 maart"', '"25\u00a0maart"', '"Kamerstuk 28 844"', "cites:kst-28844-266"):
            hits = search(index, corpus, query).hits
            assert [(h.doc_id, h.paragraph) for h in hits] == [("kst-40001-1", 1)], query
    finally:
        index.close()
