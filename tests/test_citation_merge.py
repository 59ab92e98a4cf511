"""Linked (extref) and written references unified into one citation per occurrence, end to end."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from searchdoc.citegraph import document_citations
from searchdoc.pipeline import enrich, parse_source

REAL = Path(__file__).parent / "data" / "real"


def _xml(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><officiele-publicatie><kamerstuk><stuk>'
            + body + "</stuk></kamerstuk></officiele-publicatie>").encode()


def _keys(rows):
    return [(r["id"], r["paragraph"], r["footnote"]) for r in rows]


def test_real_letter_with_extrefs_in_footnotes_cites_each_reference_once():
    data = (REAL / "kst-28844-269.xml").read_bytes()
    rows = document_citations(enrich(parse_source(data, "xml", "kst-28844-269")))
    keys = _keys(rows)
    assert not [k for k, n in Counter(keys).items() if n > 1]
    assert ("kst-28844-266", 3, 1) in keys
    by_key = {(r["id"], r["paragraph"], r["footnote"]): r["raw"] for r in rows}
    assert by_key[("kst-28844-266", 3, 1)] == "Kamerstuk 28 844, nr. 266"
    assert by_key[("h-tk-20222023-84-12", 5, None)] == "Handelingen II 2022/23, nr. 84, item 12"
    assert len(rows) == 5


def test_handelingen_motion_reference_is_one_citation():
    data = _xml(
        '<al>Aan de orde is de stemming over de motie van het lid Van der Staaij '
        '(<extref doc="kst-31311-199">199</extref> (<extref doc="kst-31311-199">31311</extref>)).</al>'
    )
    document = enrich(parse_source(data, "xml", "h-tk-20182019-45-7"))
    rows = document_citations(document)
    assert [(r["id"], r["raw"]) for r in rows] == [("kst-31311-199", "199 (31311)")]


def test_a_paragraph_citing_one_stuk_twice_gives_one_row():
    data = _xml(
        '<al>Zie Kamerstuk 33 694, nr. 12. Verder is in <extref doc="kst-33694-12">Kamerstuk 33 694, nr. 12</extref>'
        ' uiteengezet wat Kamerstuk 33 694, nr. 12 inhoudt.</al>'
    )
    document = enrich(parse_source(data, "xml", "kst-33694-99"))
    assert len(document.paragraphs[0].citations) == 3  # every occurrence is kept for highlighting
    assert _keys(document_citations(document)) == [("kst-33694-12", 1, None)]


def test_enrich_twice_changes_nothing():
    data = (REAL / "kst-28844-269.xml").read_bytes()
    once = enrich(parse_source(data, "xml", "kst-28844-269"))
    before = [list(p.citations) for p in once.paragraphs]
    assert [p.citations for p in enrich(once).paragraphs] == before


def test_cites_on_a_stream_reads_it_piece_by_piece():
    import io

    from searchdoc.citegraph import text_citations
    from searchdoc.settings import MAX_PARAGRAPH_CHARS

    sentence = "Zie Kamerstuk 33 694, nr. 12 voor de achtergrond van dit punt. "
    text = sentence * (4 * MAX_PARAGRAPH_CHARS // len(sentence)) + "\n\nEn 2019Z01633.\n" + "x " * 2_000_000
    stream = io.StringIO(text)
    rows = text_citations(stream)
    first = next(rows)
    assert first["id"] == "kst-33694-12" and first["paragraph"] == 1
    assert stream.tell() < len(text) // 10  # only a chunk or two read so far
    rest = list(rows)
    # The long paragraph is cut into pieces of at most the cap, each citing the stuk once.
    numbers = [r["paragraph"] for r in rest if r["id"] == "kst-33694-12"]
    assert numbers == list(range(2, 2 + len(numbers))) and len(numbers) >= 3
    assert rest[-1] == {**rest[-1], "id": "2019Z01633", "paragraph": numbers[-1] + 1}
    assert stream.tell() == len(text)


def test_cap_paragraphs_moves_footnotes_and_citations_with_their_piece():
    from searchdoc.model import Citation, Document, Footnote, Paragraph
    from searchdoc.pipeline import cap_paragraphs

    text = "Eerste zin hier. Tweede zin met kst-1-2 erin. Derde zin met een noot."
    start = text.index("kst-1-2")
    document = Document(
        id="kst-1-1", kind="kamerstuk",
        paragraphs=[Paragraph(1, "Ervoor."), Paragraph(2, text, footnotes=[1], citations=[
            Citation("kst-1-2", "kamerstuk", "kst-1-2", 2, None, start, start + 7),
            Citation("kst-1-3", "kamerstuk", "kst-1-3", 2, 1, 0, 7)]), Paragraph(3, "Erna.")],
        footnotes=[Footnote(1, "kst-1-3", paragraph=2, offset=len(text) - 1)],
    )
    cap_paragraphs(document, 30)
    assert [p.text for p in document.paragraphs] == [
        "Ervoor.", "Eerste zin hier.", "Tweede zin met kst-1-2 erin.", "Derde zin met een noot.", "Erna."]
    assert [p.n for p in document.paragraphs] == [1, 2, 3, 4, 5]
    third = document.paragraphs[2]
    assert [(c.id, c.paragraph, third.text[c.start : c.end]) for c in third.citations] == [("kst-1-2", 3, "kst-1-2")]
    assert document.footnotes[0].paragraph == 4 and document.paragraphs[3].footnotes == [1]
    assert document.footnotes[0].offset == len("Derde zin met een noot")
    assert document.paragraphs[3].citations[0].id == "kst-1-3"


def test_cap_paragraphs_keeps_who_speaks_on_every_piece():
    from searchdoc.model import Document, Paragraph
    from searchdoc.pipeline import cap_paragraphs

    speech = Paragraph(1, "Eerste zin hier. Tweede zin daarna. Derde zin ook.", section="Motie",
                       speaker="De heer Wörsdörfer (VVD)")
    document = cap_paragraphs(Document(id="h-tk-20172018-61-10", kind="handelingen", paragraphs=[speech]), 20)
    assert len(document.paragraphs) == 3
    assert {(p.speaker, p.section) for p in document.paragraphs} == {("De heer Wörsdörfer (VVD)", "Motie")}
