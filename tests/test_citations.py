"""Tests for searchdoc.citations: parsing, formatting and extracting Dutch citations."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchdoc import citations
from searchdoc.citations import (
    Found,
    Reference,
    extract,
    full_citation,
    kind_of,
    label,
    normalize_id,
    official_url,
    parse,
    parse_all,
    try_parse,
)
from searchdoc.errors import CitationParseError, InvalidIdentifierError, UsageError
from searchdoc.model import Citation

DATA = Path(__file__).parent / "data" / "citations"
SEED = Path(citations.__file__).parent / "data" / "kst-33694-45.txt"


def _forms() -> list[tuple[str, list[str], str]]:
    rows = []
    for line in (DATA / "forms.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            raw, ids, kind = line.split("\t")
            rows.append((raw, ids.split("|"), kind))
    return rows


def _non_citations() -> list[str]:
    lines = (DATA / "non_citations.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


FORMS = _forms()
NON_CITATIONS = _non_citations()


# ---------------------------------------------------------------------------- parse


@pytest.mark.parametrize(("raw", "ids", "kind"), FORMS, ids=[f[0][:50] for f in FORMS])
def test_parse_understands_every_form(raw, ids, kind):
    refs = parse_all(raw)
    assert [r.id for r in refs] == ids
    assert refs[0].kind == kind
    assert parse(raw).id == ids[0]
    assert try_parse(raw) == refs[0]
    assert refs[0].raw == raw
    if kind != "dossier":
        text = f"Zie {raw} voor meer."
        found = extract(text)
        assert [f.id for f in found] == ids
        assert all(text[f.start : f.end] == f.raw for f in found)


def test_form_list_is_large():
    assert len(FORMS) >= 80
    assert len(NON_CITATIONS) >= 30


@pytest.mark.parametrize("text", NON_CITATIONS)
def test_non_citations_are_refused(text):
    assert try_parse(text) is None
    with pytest.raises(CitationParseError):
        parse(text)
    assert extract(text) == []


def test_parse_error_is_one_line_listing_the_forms():
    with pytest.raises(CitationParseError) as info:
        parse("4 maart 2016")
    message = str(info.value)
    assert "\n" not in message
    assert "'4 maart 2016'" in message
    for form in ("Kamerstuk 33 694, nr. 12", "Aanhangsel Handelingen", "Stb. 2019, 288", "kst-33694-45"):
        assert form in message
    assert isinstance(info.value, UsageError)


def test_parse_keeps_the_parts():
    ref = parse("Kamerstukken II 2018/19, 33 694, nr. 45, p. 3")
    assert ref == Reference(
        id="kst-33694-45",
        kind="kamerstuk",
        raw="Kamerstukken II 2018/19, 33 694, nr. 45, p. 3",
        dossier="33694",
        number="45",
        vergaderjaar="2018-2019",
        chamber="II",
        pinpoint="p. 3",
    )
    assert ref.dossier_id == "dossier-33694"
    assert ref.is_document


def test_parse_suffixes_and_chambers():
    ref = parse("Kamerstuk 34 775 IX, nr. 8")
    assert (ref.dossier, ref.suffix, ref.number, ref.dossier_id) == (
        "34775",
        "IX",
        "8",
        "dossier-34775-IX",
    )
    ref = parse("Kamerstukken I 2017/18, 34 775, A")
    assert (ref.chamber, ref.number, ref.vergaderjaar) == ("I", "A", "2017-2018")
    ref = parse("Kamerstukken I 1995/96, 23700, nr. 188b, p. 3")
    assert (ref.number, ref.pinpoint, ref.vergaderjaar) == ("188b", "p. 3", "1995-1996")
    assert parse("Kamerstukken II 1999/2000, 26 800, nr. 5").vergaderjaar == "1999-2000"
    ref = parse("Aanhangsel Handelingen I 2018/19, nr. 5")
    assert (ref.chamber, ref.number) == ("I", "5")
    ref = parse("Handelingen II 2018/19, nr. 45, item 7, p. 12-14")
    assert (ref.number, ref.item, ref.pinpoint) == ("45", "7", "p. 12-14")
    ref = parse("Stb. 2019, 288")
    assert (ref.year, ref.number) == ("2019", "288")


def test_joint_dossier_lists_the_other_id():
    ref = parse("Kamerstukken 34 300 X en 34 300 V, nr. 109")
    assert ref.id == "kst-34300-X-109"
    assert ref.alternates == ("kst-34300-V-109",)
    assert parse("34 300 X/ V, nr. 88").alternates == ("kst-34300-V-88",)


def test_old_vergaderjaar_gives_the_prefixed_id_as_alternate():
    ref = parse("Kamerstukken I 2003/04, 29 210, D")
    assert ref.id == "kst-29210-D"
    assert "kst-20032004-29210-D" in ref.alternates
    assert parse("Kamerstukken II 2018/19, 33 694, nr. 45").alternates == ()


def test_bijlage_points_at_the_main_document():
    ref = parse("Bijlage bij Kamerstuk 34 700, nr. 34")
    assert (ref.id, ref.kind, ref.attachment) == ("kst-34700-34", "bijlage", True)
    assert parse("Kamerstuk 34 700, nr. 34").attachment is False
    assert kind_of("blg-929493") == "bijlage"


def test_bare_dossier_is_not_a_document():
    for raw, expected in [("33694", "dossier-33694"), ("34 775 IX", "dossier-34775-IX")]:
        ref = parse(raw)
        assert (ref.id, ref.kind, ref.is_document, ref.number) == (expected, "dossier", False, None)
    # Compact "dossier-nr" is a stuk, except for a sub-dossier.
    assert parse("31865-20").id == "kst-31865-20"
    assert parse("21501-32").id == "dossier-21501-32"
    assert parse("21501-08").id == "dossier-21501-08"


def test_parse_tolerates_wrapping_and_lead_ins():
    for raw in (
        "  (Kamerstuk 33 694, nr. 12).  ",
        "zie Kamerstuk 33 694, nr. 12",
        "Vgl. Kamerstuk 33 694, nr. 12;",
        "Kamerstuk\n33 694,\nnr. 12",
        "1 Kamerstuk 33 694, nr. 12",
    ):
        assert parse(raw).id == "kst-33694-12", raw
    assert parse("5 2019Z01633").id == "2019Z01633"


def test_vergaderjaar_must_be_consecutive_years():
    assert try_parse("Kamerstukken II 2018/20, 33 694, nr. 45") is None
    assert try_parse("Aanhangsel Handelingen II 2018/18, nr. 264") is None


def test_parse_rejects_non_strings():
    with pytest.raises(CitationParseError):
        parse(None)  # type: ignore[arg-type]
    assert try_parse(12345) is None  # type: ignore[arg-type]


def test_rijkswet_suffix_is_dropped():
    ref = parse("Kamerstuk 36 100 (R2097), nr. 3")
    assert (ref.id, ref.suffix) == ("kst-36100-3", None)


def test_tweedekamer_links():
    assert parse("https://www.tweedekamer.nl/kamerstukken/detail?id=2019Z01633").kind == "zaak"
    assert try_parse("https://www.tweedekamer.nl/downloads/document?id=2019D36743").id == ("2019D36743")
    assert try_parse("https://www.tweedekamer.nl/kamerleden") is None
    assert try_parse("https://example.org/kst-33694-45.html") is None


# ---------------------------------------------------------------------------- ids


def test_normalize_id_in_any_case():
    assert normalize_id("KST-34775-ix-8") == "kst-34775-IX-8"
    assert normalize_id("Kst-23700-188B") == "kst-23700-188b"
    assert normalize_id("kst-34775-a") == "kst-34775-A"
    assert normalize_id("KV-TK-2019z19322") == "kv-tk-2019Z19322"
    assert normalize_id("2019z01633") == "2019Z01633"
    assert normalize_id("DOSSIER-21501-32") == "dossier-21501-32"
    with pytest.raises(InvalidIdentifierError):
        normalize_id("Kamerstuk 33 694, nr. 12")
    with pytest.raises(InvalidIdentifierError):
        normalize_id("kst-")


@pytest.mark.parametrize(
    ("doc_id", "kind"),
    [
        ("kst-33694-12", "kamerstuk"),
        ("ah-tk-20182019-264", "aanhangsel"),
        ("h-ek-20152016-31-6", "handelingen"),
        ("stb-2019-288", "staatsblad"),
        ("stcrt-2019-12345", "staatscourant"),
        ("trb-1966-91", "tractatenblad"),
        ("kv-tk-2019Z19322", "kamervragen"),
        ("2019Z01633", "zaak"),
        ("2019D36743", "tk-document"),
        ("2019A01234", "activiteit"),
        ("dossier-33694", "dossier"),
        ("nds-tk-2013D38756", "niet-dossierstuk"),
    ],
)
def test_kind_of(doc_id, kind):
    assert kind_of(doc_id) == kind


def test_kind_of_refuses_non_ids():
    with pytest.raises(InvalidIdentifierError):
        kind_of("hallo")


# ---------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("doc_id", "text"),
    [
        ("kst-33694-12", "Kamerstuk 33 694, nr. 12"),
        ("kst-34775-IX-8", "Kamerstuk 34 775 IX, nr. 8"),
        ("kst-21501-32-1703", "Kamerstuk 21 501-32, nr. 1703"),
        ("kst-34775-A", "Kamerstuk 34 775, A"),
        ("kst-23700-188b", "Kamerstuk 23 700, nr. 188b"),
        ("ah-tk-20182019-264", "Aanhangsel Handelingen II 2018/19, nr. 264"),
        ("ah-ek-19992000-5", "Aanhangsel Handelingen I 1999/2000, nr. 5"),
        ("h-tk-20182019-45-7", "Handelingen II 2018/19, nr. 45, item 7"),
        ("h-tk-20082009-7140-7144", "Handelingen II 2008/09, p. 7140-7144"),
        ("stb-2019-288", "Stb. 2019, 288"),
        ("stcrt-2019-12345", "Stcrt. 2019, 12345"),
        ("trb-1966-91", "Trb. 1966, 91"),
        ("2019Z01633", "Zaak 2019Z01633"),
        ("kv-tk-2019Z19322", "Kamervragen 2019Z19322"),
        ("dossier-33694", "Dossier 33 694"),
        ("blg-929493", "blg-929493"),
        ("kst-26643-144-h1", "kst-26643-144-h1"),
    ],
)
def test_label(doc_id, text):
    assert label(doc_id) == text
    assert label(doc_id.upper()) == text


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("kst-33694-45", "2018-2019"), "Kamerstukken II 2018/19, 33 694, nr. 45"),
        (("kst-33694-45", "2018/19", 3), "Kamerstukken II 2018/19, 33 694, nr. 45, p. 3"),
        (("kst-33694-45", "20182019", 3, 4), "Kamerstukken II 2018/19, 33 694, nr. 45, p. 3-4"),
        (("kst-33694-45", None, 3, 3), "Kamerstukken II 33 694, nr. 45, p. 3"),
        (("kst-33694-45",), "Kamerstukken II 33 694, nr. 45"),
        (("kst-26800-5", "1999-2000"), "Kamerstukken II 1999/2000, 26 800, nr. 5"),
        (("kst-34775-A", "2017-2018"), "Kamerstukken I 2017/18, 34 775, A"),
        (("kst-34775-IX-8", "2017-2018"), "Kamerstukken II 2017/18, 34 775 IX, nr. 8"),
        (("ah-tk-20182019-264",), "Aanhangsel Handelingen II 2018/19, nr. 264"),
        (("h-tk-20182019-45-7", None, 12), "Handelingen II 2018/19, nr. 45, item 7, p. 12"),
        (("stb-2019-288",), "Stb. 2019, 288"),
    ],
)
def test_full_citation(args, text):
    assert full_citation(*args) == text


def test_full_citation_refuses_a_bad_vergaderjaar():
    with pytest.raises(CitationParseError):
        full_citation("kst-33694-45", "2018-2020")


def test_official_url():
    assert official_url("kst-33694-45") == ("https://zoek.officielebekendmakingen.nl/kst-33694-45.html")
    assert official_url("AH-TK-20182019-264") == ("https://zoek.officielebekendmakingen.nl/ah-tk-20182019-264.html")
    assert official_url("dossier-33694") == "https://zoek.officielebekendmakingen.nl/dossier/33694"
    assert official_url("2019Z01633") == "https://www.tweedekamer.nl/kamerstukken/detail?id=2019Z01633"
    assert official_url("2019D36743") == "https://www.tweedekamer.nl/downloads/document?id=2019D36743"
    with pytest.raises(InvalidIdentifierError):
        official_url("Kamerstuk 33 694")


def test_official_url_round_trips_through_parse():
    for doc_id in ("kst-33694-45", "ah-tk-20182019-264", "stb-2019-288", "2019Z01633", "2019D36743"):
        assert parse(official_url(doc_id)).id == doc_id


# ---------------------------------------------------------------------------- extraction


def test_extract_finds_citation_across_a_line_break():
    text = "mogelijk is (Kamerstuk 33 694, nr. \n23). "
    (found,) = extract(text)
    assert (found.id, found.raw) == ("kst-33694-23", "Kamerstuk 33 694, nr. \n23")
    assert text[found.start : found.end] == found.raw
    (found,) = extract("mogelijk is (Kamerstuk 33 694, nr. 23).")
    assert found.raw == "Kamerstuk 33 694, nr. 23"


def test_extract_joint_dossier_footnote():
    (found,) = extract("Kamerstukken 34 300 X en 34 300 V, nr. 109.")
    assert found.raw == "Kamerstukken 34 300 X en 34 300 V, nr. 109"
    assert found.reference.alternates == ("kst-34300-V-109",)


def test_extract_lists_give_one_found_per_stuk():
    text = "Zie Kamerstuk 29 911, nrs. 226 en 227 en ook 26 855 (250, 250a)."
    found = extract(text)
    assert [f.id for f in found] == [
        "kst-29911-226",
        "kst-29911-227",
        "kst-26855-250",
        "kst-26855-250a",
    ]
    assert found[0].raw == found[1].raw == "Kamerstuk 29 911, nrs. 226 en 227"
    assert found[2].raw == "26 855 (250, 250a)"


def test_extract_does_not_swallow_the_next_dossier():
    found = extract("(Kamerstukken 33 694, nr. 12 en 31 125, nr. 92)")
    assert [(f.id, f.raw) for f in found] == [
        ("kst-33694-12", "Kamerstukken 33 694, nr. 12"),
        ("kst-31125-92", "31 125, nr. 92"),
    ]


def test_extract_ids_links_and_numbers_in_text():
    text = (
        "Eerder (kst-33694-45; zie https://zoek.officielebekendmakingen.nl/ah-tk-20182019-264.html) "
        "en zaak 2019Z01633, moties 29911-226; 21501-08-765 en Stb. 2019, 288."
    )
    found = extract(text)
    assert [f.id for f in found] == [
        "kst-33694-45",
        "ah-tk-20182019-264",
        "2019Z01633",
        "kst-29911-226",
        "kst-21501-08-765",
        "stb-2019-288",
    ]
    assert found[1].raw.endswith(".html")


def test_extract_bare_dossier_in_parentheses():
    found = extract("het wetsvoorstel (35124) en de 1200 (12345) drones")
    assert [(f.id, f.raw) for f in found] == [("dossier-35124", "35124")]


def test_extract_ignores_footnote_markers_and_dates():
    text = "de kabinetsreactie van 4 maart 20163. In 2019 en op 13 mei 2019 (BNC fiche2) stelt1."
    assert extract(text) == []


def test_found_to_citation():
    (found,) = extract("zie Kamerstuk 33 694, nr. 12.")
    citation = found.to_citation(paragraph=3)
    assert citation == Citation(
        id="kst-33694-12",
        kind="kamerstuk",
        raw="Kamerstuk 33 694, nr. 12",
        paragraph=3,
        start=4,
        end=28,
    )
    assert isinstance(found, Found)


def _seed_paragraphs_and_footnotes() -> tuple[list[str], dict[int, str]]:
    """Split the PDF text the simple way: a line starting with a space starts a page, a block of
    numbered lines after a blank line is a footnote block, other blocks are paragraphs."""
    paragraphs: list[list[str]] = [[]]
    footnotes: dict[int, str] = {}
    in_notes = False
    previous_blank = True
    for line in SEED.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            previous_blank, in_notes = True, False
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        note = re.match(r"(\d{1,2}) (\S.*)$", line)
        if note and (previous_blank or in_notes):
            footnotes[int(note.group(1))] = note.group(2).strip()
            in_notes = True
        else:
            in_notes = False
            paragraphs[-1].append(line.strip())
        previous_blank = False
    texts = []
    for lines in paragraphs:
        text = ""
        for line in lines:
            if text.endswith("-") and line[:1].islower():
                text = text[:-1] + line
            else:
                text = f"{text} {line}".strip()
        if text:
            texts.append(text)
    return texts, footnotes


LETTER_CITATIONS_IN_TEXT = ["kst-33694-23", "kst-33694-12", "kst-31125-92", "kst-26643-536"]
LETTER_FOOTNOTES = {
    1: "kst-34300-X-109",
    2: "kst-22112-2758",
    3: "kst-34300-X-88",
    4: "ah-tk-20182019-264",
    5: "2019Z01633",
    6: "ah-tk-20182019-1678",
    7: "ah-tk-20182019-2248",
}


def test_the_letters_eleven_citations():
    paragraphs, footnotes = _seed_paragraphs_and_footnotes()
    assert sorted(footnotes) == list(range(1, 8))
    in_text = [f for p in paragraphs for f in extract(p)]
    assert [f.id for f in in_text] == LETTER_CITATIONS_IN_TEXT
    assert [f.raw for f in in_text] == [
        "Kamerstuk 33 694, nr. 23",
        "Kamerstuk 33 694, nr. 12",
        "Kamerstuk 31 125, nr. 92",
        "Kamerstuk 26 643, nr. 536",
    ]
    for n, text in footnotes.items():
        assert [f.id for f in extract(text)] == [LETTER_FOOTNOTES[n]], text
        assert parse(text).id == LETTER_FOOTNOTES[n]
    assert parse(footnotes[5]).kind == "zaak"
    assert parse(footnotes[1]).alternates == ("kst-34300-V-109",)


def test_the_raw_seed_text_has_exactly_the_eleven_citations():
    text = SEED.read_text(encoding="utf-8")
    ids = [f.id for f in extract(text)]
    assert sorted(ids) == sorted(LETTER_CITATIONS_IN_TEXT + list(LETTER_FOOTNOTES.values()))


def test_extract_is_fast():
    text = "\n\n".join([SEED.read_text(encoding="utf-8")] * 100)
    # CPU time of this process, not the wall clock: other work on the machine does not count.
    began = time.process_time()
    found = extract(text)
    used = time.process_time() - began
    assert len(found) == 1100
    # About 0.1 s of CPU; a pattern that tries every form at every position takes ten times longer.
    assert used < 3.0


# ---------------------------------------------------------------------------- properties

_ROMAN = [
    "I",
    "II",
    "IIA",
    "III",
    "IV",
    "V",
    "VI",
    "VII",
    "VIII",
    "IX",
    "IXA",
    "IXB",
    "X",
    "XI",
    "XII",
    "XIII",
    "XIV",
    "XV",
    "XVI",
    "XVII",
    "XVIII",
    "A",
    "B",
    "C",
    "J",
    "K",
]
_dossier_nr = st.integers(10000, 39999).map(str)
_suffix = st.one_of(
    st.none(),
    st.sampled_from(_ROMAN),
    st.integers(1, 40).map(lambda n: f"{n:02d}"),
)
_ek_letters = st.one_of(
    st.sampled_from([chr(c) for c in range(ord("A"), ord("Z") + 1)]),
    st.sampled_from([f"A{chr(c)}" for c in range(ord("A"), ord("Z") + 1)]),
)
_stuk_nr = st.one_of(
    st.integers(1, 3000).map(str),
    st.tuples(st.integers(1, 999), st.sampled_from("abcdh")).map(lambda t: f"{t[0]}{t[1]}"),
    _ek_letters,
)
_vj8 = st.integers(1990, 2030).map(lambda y: f"{y}{y + 1}")
_kst_ids = st.builds(lambda d, s, n: f"kst-{d}" + (f"-{s}" if s else "") + f"-{n}", _dossier_nr, _suffix, _stuk_nr)
_ah_ids = st.builds(lambda ch, vj, n: f"ah-{ch}-{vj}-{n}", st.sampled_from(["tk", "ek"]), _vj8, st.integers(1, 4000))
_h_ids = st.builds(
    lambda ch, vj, a, b: f"h-{ch}-{vj}-{a}-{b}",
    st.sampled_from(["tk", "ek"]),
    _vj8,
    st.integers(1, 9999),
    st.integers(1, 9999),
)
_gazette_ids = st.builds(
    lambda p, y, n: f"{p}-{y}-{n}",
    st.sampled_from(["stb", "stcrt", "trb", "gmb", "prb", "wsb", "bgr"]),
    st.integers(1950, 2030),
    st.integers(1, 999999),
)
_tk_numbers = st.builds(
    lambda y, t, n: f"{y}{t}{n:05d}",
    st.integers(2008, 2030),
    st.sampled_from("ZDA"),
    st.integers(0, 99999),
)
_kv_ids = st.builds(lambda y, n: f"kv-tk-{y}Z{n:05d}", st.integers(2008, 2030), st.integers(0, 99999))
_dossier_ids = st.builds(lambda d, s: f"dossier-{d}" + (f"-{s}" if s else ""), _dossier_nr, _suffix)
_other_ids = st.one_of(
    st.integers(1, 9_999_999).map(lambda n: f"blg-{n}"),
    st.builds(lambda y, n: f"nds-tk-{y}D{n:05d}", st.integers(2008, 2030), st.integers(0, 99999)),
    st.builds(lambda d, n: f"kst-{d}-{n}-h1", _dossier_nr, st.integers(1, 999)),
    st.builds(lambda vj, d, n: f"kst-{vj}-{d}-{n}", _vj8, _dossier_nr, _ek_letters),
)
CANONICAL_IDS = st.one_of(_kst_ids, _ah_ids, _h_ids, _gazette_ids, _tk_numbers, _kv_ids, _dossier_ids, _other_ids)


@settings(max_examples=250, deadline=None)
@given(CANONICAL_IDS)
def test_canonical_ids_round_trip(doc_id):
    assert normalize_id(doc_id) == doc_id
    assert parse(doc_id).id == doc_id
    assert parse(doc_id.upper()).id == doc_id
    assert parse(label(doc_id)).id == doc_id
    assert parse(full_citation(doc_id)).id == doc_id
    assert [f.id for f in extract(f"Zie {label(doc_id)}; verder niets.")][:1] == [doc_id]


@settings(max_examples=100, deadline=None)
@given(_kst_ids, _vj8, st.integers(1, 400), st.integers(0, 5))
def test_full_citation_with_vergaderjaar_and_pages_round_trips(doc_id, vj, page, extra):
    text = full_citation(doc_id, f"{vj[:4]}-{vj[4:]}", page, page + extra)
    ref = parse(text)
    assert ref.id == doc_id
    assert ref.vergaderjaar == f"{vj[:4]}-{vj[4:]}"
    assert ref.pinpoint == (f"p. {page}-{page + extra}" if extra else f"p. {page}")


_citation_alphabet = st.sampled_from(
    list("0123456789 ,.;:-–/()[]\n\u00a0abcdefghijklmnopqrstuvwxyzIVXZDAR")
    + [
        "Kamerstuk",
        "Kamerstukken",
        " nr. ",
        " nrs. ",
        " en ",
        "Handelingen",
        "Aanhangsel",
        " II ",
        " I ",
        "2018/19",
        "33 694",
        "21 501-32",
        "item",
        "p.",
        "Stb.",
        "kst-",
        "ah-tk-",
        "https://zoek.officielebekendmakingen.nl/",
        "dossier",
        "bijlage bij ",
        "(R2097)",
    ]
)
_citationish = st.lists(_citation_alphabet, max_size=40).map("".join)


@settings(max_examples=250, deadline=None)
@given(st.one_of(st.text(max_size=200), _citationish))
def test_try_parse_and_extract_never_crash(text):
    ref = try_parse(text)
    assert ref is None or isinstance(ref, Reference)
    for found in extract(text):
        assert text[found.start : found.end] == found.raw
        assert found.reference.raw == found.raw
        assert normalize_id(found.id) == found.id


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60), CANONICAL_IDS, st.text(max_size=60))
def test_extract_offsets_around_an_embedded_label(before, doc_id, after):
    text = f"{before} ({label(doc_id)}) {after}"
    found = extract(text)
    for f in found:
        assert text[f.start : f.end] == f.raw
    assert doc_id in [f.id for f in found]


# ---------------------------------------------------------------------------- merge


def _cite(doc_id: str, text: str, piece: str, occurrence: int = 0) -> Citation:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(piece, start + 1)
    return Citation(doc_id, citations.kind_of(doc_id), piece, start=start, end=start + len(piece))


def _written(text: str) -> list[Citation]:
    return [f.to_citation() for f in extract(text)]


def test_merge_unifies_a_link_inside_the_written_reference():
    text = "Zie Kamerstuk 28 844, nr. 266 voor de brief."
    merged = citations.merge([_cite("kst-28844-266", text, "28 844, nr. 266"), *_written(text)], text)
    assert [(c.id, c.raw) for c in merged] == [("kst-28844-266", "Kamerstuk 28 844, nr. 266")]


def test_merge_makes_one_citation_of_a_handelingen_motion_reference():
    text = "De motie-Van der Staaij (199 (31311)) is aangenomen."
    linked = [_cite("kst-31311-199", text, "199"), _cite("kst-31311-199", text, "31311")]
    merged = citations.merge([*linked, *_written(text)], text)
    assert [(c.id, c.raw) for c in merged] == [("kst-31311-199", "199 (31311)")]


def test_merge_keeps_separate_references_and_lists_apart():
    text = "Kamerstuk 29 911, nrs. 226 en 227; later Kamerstuk 33 694, nr. 12."
    linked = [_cite("kst-29911-226", text, "226"), _cite("kst-29911-227", text, "227")]
    merged = citations.merge([*linked, *_written(text)], text)
    assert [c.id for c in merged] == ["kst-29911-226", "kst-29911-227", "kst-33694-12"]
    assert merged[0].raw == merged[1].raw == "Kamerstuk 29 911, nrs. 226 en 227"
    # A dossier the words name is kept when no link says which stuk it is.
    assert [c.id for c in citations.merge(_written("dossier 33 694"), "dossier 33 694")] == ["dossier-33694"]


def test_merge_is_idempotent():
    text = "Zie Kamerstuk 28 844, nr. 266."
    once = citations.merge([_cite("kst-28844-266", text, "28 844, nr. 266"), *_written(text)], text)
    assert citations.merge([*once, *_written(text)], text) == once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bij de wet van 12 juni 1997 (Stb. 310) is dit geregeld.", [("stb-1997-310", "Stb. 310")]),
        ("De wet van 5 juli 2006 (Stb. 300; Kamerstuk 30 000, nr. 3).", [("stb-2006-300", "Stb. 300"),
                                                                          ("kst-30000-3", "Kamerstuk 30 000, nr. 3")]),
        ("de wet van 12 juni 1997 (Stb. 1997, 310)", [("stb-1997-310", "Stb. 1997, 310")]),
        # The year must come from the same sentence.
        ("Op 3 mei 2001 gebeurde het. De wet (Stb. 310) is oud.", []),
    ],
)
def test_gazette_number_takes_the_year_of_the_date_before_it(text, expected):
    assert [(f.id, f.raw) for f in extract(text)] == expected


@pytest.mark.parametrize("text, expected", [
    # The year is the act's, also when the act's title names an older act before "(Stb. 310)".
    ("getroffen bij de wet van 31 mei 1995, houdende wijziging van de Wet individuele huursubsidie en wijziging "
     "van de wet van 21 juni 1989 tot aanpassing van de Wet individuele huursubsidie (Stb. 310).", ["stb-1995-310"]),
    ("Op 3 maart 2001 is de wet van 12 juni 1997 (Stb. 310) gewijzigd.", ["stb-1997-310"]),
    ("de wet van 1 mei 1990 (Stb. 200) en de wet van 2 juni 1995 (Stb. 300)", ["stb-1990-200", "stb-1995-300"]),
    ("verboden (wet van 25 september 2008, Stb. 397, tot aanpassing van de Boeken 3 en 6)", ["stb-2008-397"]),
    ("Plan van aanpak duurzaam bouwen (kamerstukken II, 1995/1996, nr. 24 280), zou", ["dossier-24280"]),
    ("Kamerstukken II 2018/19, 33 694, nr. 45", ["kst-33694-45"]),
    ("zie de brief van 12 maart 2019, Stb-achtig, nr. 5", []),
])
def test_older_written_forms_take_their_year_and_dossier_from_the_sentence(text, expected):
    assert [f.reference.id for f in citations.extract(text)] == expected
