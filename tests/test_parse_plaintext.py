"""Tests for searchdoc.parse.plaintext: the seed letter exactly, re-renderings of it, properties."""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchdoc import settings as searchdoc_settings
from searchdoc.model import Document
from searchdoc.parse.plaintext import parse_plaintext

DATA = Path(__file__).resolve().parent / "data" / "plaintext"
LETTER = searchdoc_settings.bundled_data_dir() / "kst-33694-45.txt"
LETTER_META = searchdoc_settings.bundled_data_dir() / "kst-33694-45.meta.json"

SECTIONS = [
    "Kunstmatige intelligentie",
    "Autonome wapensystemen (Lethal Autonomous Weapon Systems – LAWS)",
    "Onbemande luchtvaartuigen (UAV’s)",
    "Cybermiddelen",
]


@pytest.fixture(scope="module")
def letter() -> Document:
    text = LETTER.read_text(encoding="utf-8")
    metadata = json.loads(LETTER_META.read_text(encoding="utf-8"))
    return parse_plaintext(text, "kst-33694-45", metadata)


# --- the seed letter, exactly -------------------------------------------------------------


def test_letter_has_thirty_paragraphs_in_sections(letter):
    counts = Counter(p.section for p in letter.paragraphs)
    assert len(letter.paragraphs) == 30
    assert [p.n for p in letter.paragraphs] == list(range(1, 31))
    assert counts == {None: 6, SECTIONS[0]: 4, SECTIONS[1]: 6, SECTIONS[2]: 6, SECTIONS[3]: 8}
    order = [
        s for i, s in enumerate(p.section for p in letter.paragraphs) if i == 0 or s != letter.paragraphs[i - 1].section
    ]
    assert order == [None, *SECTIONS]


def test_letter_metadata(letter):
    assert letter.id == "kst-33694-45"
    assert letter.kind == "kamerstuk"
    assert letter.source_format == "text"
    assert letter.date == "2019-05-13"
    assert letter.dossier == ["33694"]
    assert letter.number == "45"
    assert letter.title.startswith("Brief van de Minister van Buitenlandse Zaken")
    assert letter.metadata == {
        "dossier_title": "Internationale Veiligheidsstrategie",
        "signed_by": "S.A. Blok, Minister van Buitenlandse Zaken",
    }


def test_letter_rejoins_broken_words_and_keeps_real_hyphens(letter):
    text = {p.n: p.text for p in letter.paragraphs}
    assert "wapenbeheersing vormen" in text[3] and "instandhouding en naleving" in text[3]
    assert "nationale veiligheidsstrategie (NVS)" in text[2]
    assert "Geïntegreerde Buitenland- en Veiligheidsstrategie (GBVS)" in text[2]
    assert "statelijke en niet-statelijke actoren" in text[2]
    assert "in EU-verband behandeld" in text[8]
    assert "Organisatie voor toegepast-natuurwetenschappelijk onderzoek (TNO), Koninklijk" in text[11]
    assert "Koninklijk Nederlands Lucht- en Ruimtevaartcentrum (NLR)" in text[11]
    assert "commandovoering en de interactie" in text[11] and "mijnenbestrijding (Remus)" in text[11]
    assert "Laan-Geselschap (allen VVD)" in text[21]
    assert "de International Standards for Export" in text[22]
    assert "vertrouwenwekkende maatregelen" in text[24] and "internationaal recht, aanvullende" in text[24]
    assert "Toegepast-Natuurwetenschappelijk Onderzoek (TNO)" in text[28]
    for word in (
        "data-analyse",
        "drone-operaties",
        "G20-bijeenkomst",
        "NAVO-partners",
        "VN-ontwapeningsorganen",
        "OESO-aanbeveling",
        "non-discriminatie",
        "niet-vrijblijvend",
        "(mede-)ondertekenaar",
        "antidrone-maatregelen",
        "contra-terrorismebeleid",
        "innovatie-attachés",
    ):
        assert sum(word in t for t in text.values()) == 1, word


def test_letter_paragraph_texts(letter):
    first = letter.paragraphs[0].text
    assert first == (
        "In het AO over de Nederlandse inzet inzake nucleaire ontwapening van 4 oktober jl. heb ik "
        "toegezegd uw Kamer te informeren of controle middels een internationaal normkader over het "
        "gebruik van nieuwe technologieën als (onderdeel van) wapensystemen mogelijk is "
        "(Kamerstuk 33 694, nr. 23)."
    )
    assert letter.paragraphs[2].text.startswith("Ook heeft het kabinet met grote belangstelling")
    assert (
        "«drones en killer robots» d.d. 21 januari jl. Internationaal staat het onderwerp" in letter.paragraphs[2].text
    )
    assert letter.paragraphs[12].text.endswith("nader uit te werken.")
    assert "Vraagstukken (CAVV), van 4 maart 2016. Gelet op" in letter.paragraphs[12].text
    assert letter.paragraphs[26].text.startswith("Bovenstaand overzicht geeft aan")
    assert letter.paragraphs[25].text.endswith("Samenwerking in Europa (OVSE).")
    uav = [p.text for p in letter.paragraphs if p.section == SECTIONS[2]]
    assert uav[0].startswith("De toename van") and uav[1].startswith("De toename van") and uav[0] != uav[1]
    assert letter.paragraphs[-1].text.endswith("uw Kamer op de hoogte houden van de ontwikkelingen.")
    for paragraph in letter.paragraphs:
        assert paragraph.text == " ".join(paragraph.text.split())
        assert "Minister van Buitenlandse Zaken, S.A. Blok" not in paragraph.text


def test_letter_footnotes(letter):
    assert [(f.n, f.paragraph) for f in letter.footnotes] == [
        (1, 6),
        (2, 8),
        (3, 13),
        (4, 16),
        (5, 21),
        (6, 21),
        (7, 21),
    ]
    assert letter.footnote(1).text == "Kamerstukken 34 300 X en 34 300 V, nr. 109."
    assert letter.footnote(2).text == "Kamerstuk 22 112, nr. 2758"
    assert letter.footnote(5).text == "2019Z01633"
    assert letter.footnote(7).text == "Aanhangsel Handelingen II 2018/19, nr. 2248"
    assert [p.n for p in letter.paragraphs if p.footnotes] == [6, 8, 13, 16, 21]
    assert letter.paragraph(21).footnotes == [5, 6, 7]
    assert "internationaal recht daaraan stelt. De ontwikkelingen" in letter.paragraph(6).text
    assert "(BNC fiche) is aangegeven" in letter.paragraph(8).text
    assert "killerrobots wil verbieden." in letter.paragraph(16).text
    assert "na «Gatwick», en de" in letter.paragraph(21).text and "bij vliegvelden." in letter.paragraph(21).text
    assert "sinds 2013 op de agenda" in letter.paragraph(12).text
    body = " ".join(p.text for p in letter.paragraphs)
    assert "Kamerstukken 34 300 X" not in body and "2019Z01633" not in body
    assert set(re.findall(r"[^\W\d_]+»?\d+", body)) == {"G20", "D66"}


def test_letter_footnote_offsets_point_behind_the_marked_word(letter):
    behind = {}
    for note in letter.footnotes:
        text = letter.paragraph(note.paragraph).text
        behind[note.n] = text[: note.offset].split()[-1]
    assert behind == {1: "stelt", 2: "fiche", 3: "2016", 4: "verbieden", 5: "drones", 6: "«Gatwick»", 7: "vliegvelden"}


def test_letter_pages(letter):
    pages = {p.n: (p.page, p.page_end) for p in letter.paragraphs}
    assert pages[1] == (1, 1)
    assert pages[3] == (1, 2)
    assert pages[8] == (2, 3)
    assert pages[12] == (3, 4)
    assert pages[16] == (4, 5)
    assert pages[21] == (5, 6)
    assert pages[26] == (6, 6) and pages[27] == (7, 7)
    assert pages[30] == (7, 7)


def test_letter_signature(letter):
    assert letter.signature == "De Minister van Buitenlandse Zaken, S.A. Blok"


def _summary(document: Document):
    paragraphs = [(p.text, p.section, p.page, p.page_end, p.footnotes) for p in document.paragraphs]
    return paragraphs, [(f.n, f.text, f.paragraph, f.offset) for f in document.footnotes], document.signature


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda t: t.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda t: re.sub(r"\n (?=\S)", "\n\f", t), id="formfeed-at-line-start"),
        pytest.param(lambda t: re.sub(r"\n (?=\S)", "\n\f\n", t), id="formfeed-on-own-line"),
        pytest.param(lambda t: "\n".join(line.rstrip() for line in t.split("\n")), id="no-trailing-spaces"),
    ],
)
def test_letter_in_other_conventions_parses_the_same(letter, variant):
    text = LETTER.read_text(encoding="utf-8")
    assert _summary(parse_plaintext(variant(text), "kst-33694-45")) == _summary(letter)


def test_letter_is_fast():
    text = LETTER.read_text(encoding="utf-8")
    parse_plaintext(text, "kst-33694-45")
    timings = []
    for _ in range(5):
        # CPU time of this process, not the wall clock: other work on the machine does not count.
        start = time.process_time()
        parse_plaintext(text, "kst-33694-45")
        timings.append(time.process_time() - start)
    assert min(timings) < 0.1


# --- a hand-made pdftotext file: form feeds, wrapped footnote, two signatures ---------------


def test_formfeed_document():
    document = parse_plaintext((DATA / "formfeed.txt").read_text(encoding="utf-8"), "kst-1-2", {"kind": "aanhangsel"})
    assert document.kind == "aanhangsel"
    first, second = document.paragraphs
    assert first.section is None and (first.page, first.page_end) == (1, 1)
    assert (
        "Nederlandse Lucht- en Ruimtevaartschool en het kabinetsstandpunt van 12 april 2018. De niet-statelijke"
        in first.text
    )
    assert first.footnotes == [1, 2]
    assert second.section == "Internationale samenwerking op het gebied van lucht- en ruimtevaart"
    # The footnote block follows a full line, so the paragraph runs on to the next page.
    assert (second.page, second.page_end) == (1, 2)
    assert "sinds 2013 toeneemt. Over de uitvoering is de Kamer eerder geïnformeerd. Het aantal" in second.text
    assert second.text.endswith(
        "zo blijft. Daarom blijft het kabinet zich inzetten voor de ontwikkeling van "
        "nieuwe data-analysetechnieken en de verdere ontwikkeling van gezamenlijke standaarden."
    )
    assert [(f.n, f.paragraph) for f in document.footnotes] == [(1, 1), (2, 1), (3, 2)]
    assert document.footnote(2).text == (
        "Aanhangsel Handelingen II 2017/18, nr. 1234, met een lange toelichting die over twee regels doorloopt."
    )
    assert document.signature == (
        "De Minister van Infrastructuur en Waterstaat, C. van Nieuwenhuizen Wijbenga\n"
        "De Staatssecretaris van Defensie, B. Visser"
    )


def test_metadata_mapping_and_defaults():
    document = parse_plaintext("Tekst.", "kst-1-2", {"dossier": "36 000", "number": 7, "extra": [1], "id": "other"})
    assert document.id == "kst-1-2" and document.kind == "kamerstuk" and document.source_format == "text"
    assert document.dossier == ["36 000"] and document.number == "7"
    assert document.metadata == {"extra": [1]}
    assert parse_plaintext("", "x").paragraphs == []


@pytest.mark.parametrize(
    ("left", "right", "joined"),
    [
        ("de wapenbe-", "heersing vormen", "de wapenbeheersing vormen"),
        ("in Buitenland-", "en Veiligheid", "in Buitenland- en Veiligheid"),
        ("voor in-", "en uitvoer", "voor in- en uitvoer"),
        ("de niet-", "statelijke actoren", "de niet-statelijke actoren"),
        ("de oud-", "burgemeester zei", "de oud-burgemeester zei"),
        ("het EU-", "verband.", "het EU-verband."),
        ("de G20-", "top.", "de G20-top."),
        ("mevrouw Laan-", "Geselschap zei", "mevrouw Laan-Geselschap zei"),
        ("de data-", "analyse is", "de data-analyse is"),
        ("de Interna-", "tional Standards", "de International Standards"),
        ("de NA-", "VO zei", "de NAVO zei"),
        ("de on-", "derzoekers", "de onderzoekers"),
        ("de veilig-", "heidsstrategie", "de veiligheidsstrategie"),
        ("een losse -", "streep", "een losse - streep"),
        ("de (mede-", ")ondertekenaar", "de (mede-)ondertekenaar"),
        ("het tweede deel\xad", "tje", "het tweede deeltje"),
    ],
)
def test_line_end_hyphens(left, right, joined):
    (paragraph,) = parse_plaintext(f"{left}\n{right}\n", "x").paragraphs
    assert paragraph.text == joined


def test_page_break_without_blank_line_continues_unless_a_heading_follows():
    text = "Eerste zin.\n Tweede zin op de volgende pagina.\n\nSlot.\n"
    assert [p.text for p in parse_plaintext(text, "x").paragraphs] == [
        "Eerste zin. Tweede zin op de volgende pagina.",
        "Slot.",
    ]
    text = "Eerste zin.\n Een kop\n\nTekst onder de kop.\n"
    document = parse_plaintext(text, "x")
    assert [(p.text, p.section, p.page) for p in document.paragraphs] == [
        ("Eerste zin.", None, 1),
        ("Tekst onder de kop.", "Een kop", 2),
    ]


def test_addressee_and_dateline_are_not_headings():
    text = "Aan de Voorzitter van de Tweede Kamer der Staten-Generaal\n\nDen Haag, 13 mei 2019\n\nTekst.\n"
    document = parse_plaintext(text, "x")
    assert [(p.text, p.section) for p in document.paragraphs] == [
        ("Aan de Voorzitter van de Tweede Kamer der Staten-Generaal", None),
        ("Den Haag, 13 mei 2019", None),
        ("Tekst.", None),
    ]


def test_heading_without_paragraph_stays_text():
    document = parse_plaintext("Alleen een kop\n\nNog een kop\n", "x")
    assert [(p.text, p.section) for p in document.paragraphs] == [("Alleen een kop", None), ("Nog een kop", None)]


def test_footnote_needs_the_expected_number_and_a_blank_line():
    text = "Tekst met een noot1.\n\n2 Niet de verwachte noot\n"
    document = parse_plaintext(text, "x")
    assert document.footnotes == [] and len(document.paragraphs) == 2
    document = parse_plaintext("Tekst met een noot1.\n1 Geen witregel ervoor\n", "x")
    assert document.footnotes == []


def test_hyphenated_form_elsewhere_in_the_document_wins():
    text = "Het toegepast-\nnatuurwetenschappelijk onderzoek. Het Toegepast-Natuurwetenschappelijk Instituut.\n"
    assert "toegepast-natuurwetenschappelijk onderzoek" in parse_plaintext(text, "x").paragraphs[0].text
    text = "De zorg-\nverzekering is duur. De zorgverzekering is nodig.\n"
    assert parse_plaintext(text, "x").paragraphs[0].text.startswith("De zorgverzekering is duur.")


# --- re-renderings of the letter -------------------------------------------------------------

VOWELS = set("aeiouyáéíóúàèëïöüâêîôû")
MARK = "\x00"  # flags a footnote marker while laying out, so the page holding it is known


def syllable_points(word: str, rng: random.Random | None = None) -> list[int]:
    """Positions where a Dutch-ish typesetter may break ``word``: V-CV, VC-CV, after a real hyphen.

    Only lower-case letters are broken, so acronyms stay whole; with ``rng`` any interior
    position between two lower-case letters is a candidate and half of them are drawn.
    """
    points = []
    for i in range(2, len(word) - 1):
        before, at = word[i - 1], word[i]
        if before == "-" and word[i - 2].isalnum() and at.isalnum():
            points.append(i)
            continue
        if not (word[i - 2 : i + 2].isalpha() and word[i - 2 : i + 2].islower()):
            continue
        if rng is not None:
            if rng.random() < 0.5:
                points.append(i)
            continue
        nxt = word[i + 1]
        if before in VOWELS and at not in VOWELS and nxt in VOWELS:
            points.append(i)
        elif (
            word[i - 2] in VOWELS
            and before not in VOWELS
            and at not in VOWELS
            and nxt in VOWELS
            and before + at not in ("ch", "sch")
        ):
            points.append(i)
    return points


def wrap(text: str, width: int, points) -> list[tuple[str, bool]]:
    """Greedy wrap with hyphenation: (line, ends in a break) pairs."""

    def visible(s: str) -> int:
        return len(s) - s.count(MARK)

    lines: list[tuple[str, bool]] = []
    current = ""
    for word in text.split(" "):
        while True:
            candidate = f"{current} {word}" if current else word
            if visible(candidate) <= width:
                current = candidate
                break
            room = width - visible(current) - (1 if current else 0)
            cuts = [i for i in points(word) if visible(word[:i]) + (word[i - 1] != "-") <= room]
            if cuts:
                cut = max(cuts)
                head = word[:cut] + ("" if word[cut - 1] == "-" else "-")
                lines.append((f"{current} {head}" if current else head, True))
                current, word = "", word[cut:]
            elif current:
                lines.append((current, False))
                current = ""
            else:
                current = word
                break
    if current:
        lines.append((current, False))
    return lines


@dataclass
class Rendering:
    text: str
    pages: list[tuple[int, int]] = field(default_factory=list)
    offsets: dict[int, int] = field(default_factory=dict)


def glue_markers(text: str, numbers: list[int], rng: random.Random, offsets: dict[int, int]) -> str:
    """Put footnote markers back, glued to words that end in a letter, in order.

    Each marker is flagged with MARK so the renderer knows which line holds it; ``offsets``
    receives where each marker stands in ``text``.
    """
    words = text.split(" ")
    candidates = [
        i
        for i, w in enumerate(words)
        if re.search(r"[^\W\d_][)»’]*[.,;:]*$", w) and not re.fullmatch(r"\(?[A-Z][.,;:)]*", w)
    ]
    for i, n in zip(sorted(rng.sample(candidates, len(numbers))), numbers, strict=True):
        core = words[i].rstrip(".,;:")
        offsets[n] = sum(len(w) + 1 for w in text.split(" ")[:i]) + len(core)
        words[i] = f"{core}{MARK}{n}{words[i][len(core) :]}"
    return " ".join(words)


def render(
    document: Document,
    *,
    width: int,
    page_size: int,
    style: str,
    trailing: bool,
    seed: int,
    random_breaks: bool = False,
    merge_blank: bool = False,
) -> Rendering:
    """Lay the parsed letter out again as pdftotext would write it, with footnotes at the foot
    of the page that holds their marker; also say on which pages each paragraph lands."""
    rng = random.Random(seed)
    word_rng = random.Random(seed + 1)

    def points(word):
        return syllable_points(word, word_rng if random_breaks else None)

    notes = {f.n: f.text for f in document.footnotes}
    offsets: dict[int, int] = {}
    body: list[tuple[str, bool, int | None, list[int]]] = []
    section = None
    for paragraph in document.paragraphs:
        if paragraph.section != section:
            section = paragraph.section
            body += [(line, broken, None, []) for line, broken in wrap(section, width, points)]
            body.append(("", False, None, []))
        text = glue_markers(paragraph.text, paragraph.footnotes, rng, offsets)
        for line, broken in wrap(text, width, points):
            held = [int(n) for n in re.findall(MARK + r"(\d+)", line)]
            body.append((line.replace(MARK, ""), broken, paragraph.n, held))
        body.append(("", False, None, []))
    function, _, name = (document.signature or "").partition(", ")
    for part in (function + ",", name):
        body += [(line, False, None, []) for line, _ in wrap(part, width, lambda w: [])]

    pages_out: list[list[str]] = []
    where: dict[int, list[int]] = {}
    for start in range(0, len(body), page_size):
        number = len(pages_out) + 1
        lines = []
        held = []
        for line, broken, owner, markers in body[start : start + page_size]:
            lines.append(line + (" " if trailing and line and not broken else ""))
            held += markers
            if owner is not None:
                where.setdefault(owner, []).append(number)
        if held and not (merge_blank and lines[-1] == ""):
            lines.append("")
        if held:
            for n in held:
                lines += [line for line, _ in wrap(f"{n} {notes[n]}", max(24, width // 2), lambda w: [])]
        pages_out.append(lines)

    out: list[str] = []
    for number, lines in enumerate(pages_out):
        if number and style == "space":
            lines[0] = " " + lines[0]
        elif number and style == "formfeed":
            if lines[0]:
                lines[0] = "\f" + lines[0]
            else:
                out.append("\f")
        elif number and style == "formfeed-line":
            out.append("\f")
        elif number and style == "both":
            lines[0] = "\f " + lines[0]
        out += lines
    text = "\n".join(out) + ("\f" if style.startswith("formfeed") else "\n")
    return Rendering(text, [(min(where[p.n]), max(where[p.n])) for p in document.paragraphs], offsets)


LAYOUTS = [
    # width, page size, page-break style, trailing spaces, seed, random breaks
    (50, 30, "space", True, 1, False),
    (60, 25, "formfeed", False, 2, False),
    (90, 40, "formfeed-line", True, 3, False),
    (45, 21, "both", False, 4, False),
    (72, 33, "space", False, 5, True),
    (55, 17, "formfeed", True, 6, True),
    (66, 50, "space", True, 7, True),
    (38, 28, "formfeed-line", False, 8, False),
]


@pytest.mark.parametrize(("width", "page_size", "style", "trailing", "seed", "random_breaks"), LAYOUTS)
def test_rerendered_letter_parses_the_same(letter, width, page_size, style, trailing, seed, random_breaks):
    rendering = render(
        letter, width=width, page_size=page_size, style=style, trailing=trailing, seed=seed, random_breaks=random_breaks
    )
    again = parse_plaintext(rendering.text, letter.id)
    assert [p.text for p in again.paragraphs] == [p.text for p in letter.paragraphs]
    assert [p.section for p in again.paragraphs] == [p.section for p in letter.paragraphs]
    assert [(p.page, p.page_end) for p in again.paragraphs] == rendering.pages
    assert [(f.n, f.text, f.paragraph) for f in again.footnotes] == [
        (f.n, f.text, f.paragraph) for f in letter.footnotes
    ]
    assert [p.footnotes for p in again.paragraphs] == [p.footnotes for p in letter.paragraphs]
    assert {f.n: f.offset for f in again.footnotes} == rendering.offsets
    assert again.signature == letter.signature


def test_renderer_really_breaks_words_and_pages(letter):
    rendering = render(letter, width=50, page_size=30, style="space", trailing=True, seed=1)
    lines = rendering.text.split("\n")
    assert sum(bool(re.search(r"[^\W\d_]-$", line)) for line in lines) > 40
    assert sum(line.startswith(" ") for line in lines) == max(end for _, end in rendering.pages) - 1
    assert sum(bool(re.match(r"\d \S", line)) for line in lines) == 7


# --- properties --------------------------------------------------------------------------------

ALPHABET = st.sampled_from(
    list("abcdeEINOSTVZ019 -.,;:()»«’\n\n\n\f\t\xad") + ["De Minister van Zaken,", "S.A. Blok", "1 ", "\n1 "]
)


def letters(text: str) -> str:
    return "".join(c for c in text if c.isalpha())


@settings(max_examples=200, deadline=None)
@given(st.lists(ALPHABET, max_size=120).map("".join))
def test_parsing_never_crashes_and_loses_no_words(text):
    document = parse_plaintext(text, "x")
    headings = [
        p.section
        for i, p in enumerate(document.paragraphs)
        if p.section and (i == 0 or p.section != document.paragraphs[i - 1].section)
    ]
    parts = [p.text for p in document.paragraphs] + headings + [f.text for f in document.footnotes]
    parts.append(document.signature or "")
    output = letters(" ".join(parts))
    for word in text.split():
        assert letters(word) in output
    assert not Counter(output) - Counter(letters(text))
    for paragraph in document.paragraphs:
        assert paragraph.text and paragraph.text == " ".join(paragraph.text.split())
        assert 1 <= paragraph.page <= paragraph.page_end
