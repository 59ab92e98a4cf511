"""PDF manifestations: page furniture stripped, the seed's page conventions, then plain text."""

from __future__ import annotations

import io

import pytest

from searchdoc.errors import ParseError, UnsafeContentError
from searchdoc.parse.pdf import parse_pdf, pdf_to_text

FOOTER = "Tweede Kamer, vergaderjaar 2018–2019, 33 694, nr. 45"
LEADING = 13


def make_pdf(pages: list[list[tuple[float, float, list[tuple[str, float, float]]]]]) -> bytes:
    """A PDF whose pages hold lines at (x, y), each a list of (text, font size, rise) runs.

    Helvetica with WinAnsiEncoding, so Dutch letters, en dashes and curly quotes survive, and
    the fi and fl ligature glyphs at codes 1 and 2.
    """
    from pypdf import PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
    )

    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): DictionaryObject(
                {
                    NameObject("/BaseEncoding"): NameObject("/WinAnsiEncoding"),
                    NameObject("/Differences"): ArrayObject([NumberObject(1), NameObject("/fi"), NameObject("/fl")]),
                }
            ),
        }
    )
    font_ref = writer._add_object(font)
    for lines in pages:
        page = writer.add_blank_page(595, 842)
        ops = []
        for x, y, runs in lines:
            ops.append(f"BT {x} {y} Td".encode())
            for text, size, rise in runs:
                encoded = text.replace("ﬁ", "\x01").replace("ﬂ", "\x02").encode("cp1252")
                for char in (b"\\", b"(", b")"):
                    encoded = encoded.replace(char, b"\\" + char)
                ops.append(f"/F1 {size} Tf {rise} Ts (".encode() + encoded + b") Tj")
            ops.append(b"ET")
        stream = DecodedStreamObject()
        stream.set_data(b"\n".join(ops))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def line(x: float, y: float, text: str, size: float = 10) -> tuple:
    return (x, y, [(text, size, 0)])


def paragraph(y: float, lines: list[str], x: float = 150) -> list[tuple]:
    return [line(x, y - i * LEADING, text) for i, text in enumerate(lines)]


def letter_pdf() -> bytes:
    first = [
        line(70, 790, "Tweede Kamer der Staten-Generaal"),
        line(520, 790, "2", 14),
        line(70, 776, "Vergaderjaar 2018–2019"),
        line(70, 740, "33 694"),
        line(150, 740, "Internationale Veiligheidsstrategie"),
        line(70, 715, "Nr. 45"),
        line(150, 715, "BRIEF VAN DE MINISTER VAN BUITENLANDSE ZAKEN"),
        line(150, 690, "Aan de Voorzitter van de Tweede Kamer der Staten-Generaal"),
        line(150, 665, "Den Haag, 13 mei 2019"),
        *paragraph(
            640,
            [
                "In het AO over de Nederlandse inzet inzake nucleaire ontwapening van",
                "4 oktober jl. heb ik toegezegd uw Kamer te informeren (Kamerstuk 33 694, nr.",
                "23).",
            ],
        ),
        line(150, 590, "Het kabinet stelt zich op het standpunt dat alle wapensystemen moeten"),
        (
            150,
            577,
            [
                ("voldoen aan de eisen die het internationaal recht daaraan stelt", 10, 0),
                ("1", 6, 4),
                (". Dat geldt ook voor drones.", 10, 0),
            ],
        ),
        line(150, 120, "1 Kamerstukken 34 300 X en 34 300 V, nr. 109.", 7),
        line(70, 70, "kst-33694-45", 7),
        line(70, 60, "ISSN 0921 - 7371", 7),
        line(70, 50, "’s-Gravenhage 2019", 7),
        line(250, 50, FOOTER, 7),
        line(520, 50, "1", 7),
    ]
    second = [
        line(150, 790, "Kunstmatige intelligentie"),
        *paragraph(
            765,
            [
                "Op nationaal niveau staat kunstmatige intelligentie in de belangstelling.",
                "Ook cyberdreigingen vragen om betekenisvolle menselijke controle.",
            ],
        ),
        *paragraph(720, ["De Minister van Buitenlandse Zaken,", "S.A. Blok"]),
        line(250, 50, FOOTER, 7),
        line(520, 50, "2", 7),
    ]
    return make_pdf([first, second])


def test_text_follows_the_seed_conventions():
    """Furniture gone, a blank line per paragraph gap, a space opening each page, markers glued."""
    assert pdf_to_text(letter_pdf(), "kst-33694-45") == (
        " Aan de Voorzitter van de Tweede Kamer der Staten-Generaal\n"
        "\n"
        "Den Haag, 13 mei 2019\n"
        "\n"
        "In het AO over de Nederlandse inzet inzake nucleaire ontwapening van\n"
        "4 oktober jl. heb ik toegezegd uw Kamer te informeren (Kamerstuk 33 694, nr.\n"
        "23).\n"
        "\n"
        "Het kabinet stelt zich op het standpunt dat alle wapensystemen moeten\n"
        "voldoen aan de eisen die het internationaal recht daaraan stelt1. Dat geldt ook voor drones.\n"
        "\n"
        "1 Kamerstukken 34 300 X en 34 300 V, nr. 109.\n"
        " Kunstmatige intelligentie\n"
        "\n"
        "Op nationaal niveau staat kunstmatige intelligentie in de belangstelling.\n"
        "Ook cyberdreigingen vragen om betekenisvolle menselijke controle.\n"
        "\n"
        "De Minister van Buitenlandse Zaken,\n"
        "S.A. Blok\n"
    )


def test_parse_pdf_goes_through_the_plaintext_parser():
    pytest.importorskip("searchdoc.parse.plaintext")
    document = parse_pdf(letter_pdf(), "kst-33694-45")
    assert document.source_format == "pdf"
    assert document.id == "kst-33694-45"
    assert document.title == "BRIEF VAN DE MINISTER VAN BUITENLANDSE ZAKEN"
    body = " ".join(p.text for p in document.paragraphs)
    assert "(Kamerstuk 33 694, nr. 23)" in body
    assert "ISSN" not in body and "vergaderjaar" not in body
    assert "Ook cyberdreigingen vragen om betekenisvolle menselijke controle." in body
    assert document.footnote(1).text == "Kamerstukken 34 300 X en 34 300 V, nr. 109."
    assert {p.page for p in document.paragraphs} == {1, 2}
    with_metadata = parse_pdf(letter_pdf(), "kst-33694-45", {"title": "Brief over nieuwe technologieën"})
    assert with_metadata.title == "Brief over nieuwe technologieën"


def test_an_aanhangsel_heading_block_and_running_footer_are_removed():
    pdf = make_pdf(
        [
            [
                line(70, 790, "Tweede Kamer der Staten-Generaal"),
                line(70, 776, "Vergaderjaar 2018–2019"),
                line(70, 750, "Aanhangsel van de Handelingen"),
                line(70, 736, "Vragen gesteld door de leden der Kamer, met de daarop door de"),
                line(70, 723, "regering gegeven antwoorden"),
                line(70, 690, "Vragen van het lid Belhaj (D66) over killerrobots."),
                line(70, 660, "Vraag 1"),
                line(70, 647, "Kent u het bericht?"),
                line(70, 60, "ah-tk-20182019-264", 7),
                line(70, 50, "ISSN 0921 - 7398’s-Gravenhage 2018", 7),
                line(300, 50, "Tweede Kamer, vergaderjaar 2018–2019, Aanhangsel", 7),
                line(520, 50, "1", 7),
            ]
        ]
    )
    lines = [candidate for candidate in pdf_to_text(pdf, "ah-tk-20182019-264").split("\n") if candidate]
    assert lines == [
        " Vragen van het lid Belhaj (D66) over killerrobots.",
        "Vraag 1",
        "Kent u het bericht?",
    ]


def test_ligatures_are_undone():
    lines = pdf_to_text(make_pdf([[line(70, 700, "De deﬁnitie van ﬂexibele inzet")]]))
    assert lines == " De definitie van flexibele inzet\n"


def test_text_elsewhere_on_a_page_is_never_mistaken_for_furniture():
    pdf = make_pdf(
        [
            [
                line(70, 790, "Tabel 1"),
                line(70, 776, "Drones"),
                line(300, 776, "12"),
                line(70, 400, "Tweede Kamer, vergaderjaar 2018–2019, 33 694, nr. 45 is een brief."),
                line(70, 380, "Gewone tekst."),
                line(70, 100, "Slotregel."),
            ]
        ]
    )
    lines = [candidate for candidate in pdf_to_text(pdf).split("\n") if candidate]
    assert lines == [
        " Tabel 1",
        "Drones 12",
        "Tweede Kamer, vergaderjaar 2018–2019, 33 694, nr. 45 is een brief.",
        "Gewone tekst.",
        "Slotregel.",
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "not a PDF"),
        (b"<html>not a pdf</html>", "not a PDF"),
        (b"%PDF-1.7\n garbage without any objects", "cannot read"),
    ],
)
def test_unreadable_input_is_a_parse_error(data, message):
    with pytest.raises(ParseError, match=message):
        pdf_to_text(data, "kst-1-1")


def test_a_pdf_without_text_is_a_parse_error():
    with pytest.raises(ParseError, match="no extractable text"):
        pdf_to_text(make_pdf([[]]), "kst-1-1")


def test_oversized_pdf_is_refused(monkeypatch):
    from searchdoc import settings

    monkeypatch.setattr(settings, "MAX_RESPONSE_BYTES", 100)
    with pytest.raises(UnsafeContentError, match="exceeds the limit"):
        pdf_to_text(letter_pdf(), "kst-33694-45")


def test_a_truncated_pdf_gives_only_the_one_line_error(tmp_path):
    import os
    import subprocess
    import sys

    data = letter_pdf()
    target = tmp_path / "kst-1-1.pdf"
    target.write_bytes(data[: len(data) // 2])
    env = {**os.environ, "SEARCHDOC_CORPUS": str(tmp_path / "corpus"), "SEARCHDOC_INDEX": str(tmp_path / "index")}
    done = subprocess.run([sys.executable, "-m", "searchdoc", "ingest", str(target)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 2
    message = f"searchdoc: error: {target}: cannot read the PDF: Stream has ended unexpectedly"
    assert done.stderr.splitlines() == [message]


def test_a_pdf_repeating_one_page_is_read_once_per_distinct_page(monkeypatch):
    """50 000 copies of one page (a 300 KB PDF) must not mean 50 000 text extractions."""
    from pypdf import PdfReader, PdfWriter

    from searchdoc.parse import pdf

    one = PdfReader(io.BytesIO(make_pdf([paragraph(700, ["Autonome wapensystemen zonder menselijke controle"])])))
    writer = PdfWriter()
    for _ in range(300):
        writer.add_page(one.pages[0])
    buffer = io.BytesIO()
    writer.write(buffer)
    calls = []
    real = pdf._page_lines
    monkeypatch.setattr(pdf, "_page_lines", lambda page: calls.append(1) or real(page))
    text = pdf_to_text(buffer.getvalue(), "kst-1-1")
    assert len(calls) == 1
    assert text.count("Autonome wapensystemen zonder menselijke controle") == 300
