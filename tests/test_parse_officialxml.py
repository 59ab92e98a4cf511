"""Official XML and metadata.xml: structure of real-format fixtures, no text lost, hostile XML."""

from __future__ import annotations

import re
import time
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from searchdoc.errors import ParseError, UnsafeContentError
from searchdoc.parse.officialxml import (
    letter_date,
    normalize_dossier,
    normalize_vergaderjaar,
    ob_id_from_reference,
    parse_metadata_xml,
    parse_official_xml,
)

OFFICIAL = Path(__file__).resolve().parent / "data" / "official"
DOCUMENT_IDS = [
    "kst-33694-23",
    "kst-33694-12",
    "kst-31125-92",
    "kst-26643-536",
    "kst-34300-X-109",
    "kst-22112-2758",
    "kst-34300-X-88",
    "ah-tk-20182019-264",
    "ah-tk-20182019-1678",
    "ah-tk-20182019-2248",
    "ah-tk-20182019-1876",
    "kst-33694-48",
    "kst-33694-50",
]
HOSTILE = ["billion-laughs", "quadratic-blowup", "external-entity", "external-dtd"]
# Elements whose text feeds document fields rather than the body (checked separately).
HEADER_TAGS = {"metadata", "kamerstukkop", "kamervraagkop", "dossier", "stuknr", "datumtekst"}
HEADER_TAGS |= {"kamervraagnummer"}


def xml(doc_id: str) -> bytes:
    return (OFFICIAL / f"{doc_id}.xml").read_bytes()


def meta(doc_id: str) -> dict:
    return parse_metadata_xml((OFFICIAL / f"{doc_id}.metadata.xml").read_bytes())


def parse(doc_id: str, with_metadata: bool = True):
    return parse_official_xml(xml(doc_id), doc_id, meta(doc_id) if with_metadata else None)


def squash(text: str) -> str:
    return " ".join(text.split())


def texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


# --------------------------------------------------------------------------- every fixture


@pytest.mark.parametrize("doc_id", DOCUMENT_IDS)
def test_fixture_invariants(doc_id):
    document = parse(doc_id)
    assert document.id == doc_id
    assert document.source_format == "xml"
    assert document.kind == ("kamerstuk" if doc_id.startswith("kst") else "aanhangsel")
    assert [p.n for p in document.paragraphs] == list(range(1, len(document.paragraphs) + 1))
    assert 5 <= len(document.paragraphs) <= 16
    for paragraph in document.paragraphs:
        assert paragraph.page is None
        assert paragraph.text == squash(paragraph.text) and paragraph.text
        for citation in paragraph.citations:
            assert citation.paragraph == paragraph.n
            source = document.footnote(citation.footnote).text if citation.footnote is not None else paragraph.text
            assert source[citation.start : citation.end] == citation.raw
    for footnote in document.footnotes:
        assert footnote.n in document.paragraph(footnote.paragraph).footnotes
        assert footnote.offset is not None
        marked = document.paragraph(footnote.paragraph).text[: footnote.offset]
        assert marked and not marked.endswith(" ")


@pytest.mark.parametrize("doc_id", DOCUMENT_IDS)
def test_no_text_is_lost(doc_id):
    """Every text node of the body is found in paragraphs, sections, footnotes, signature or title."""
    document = parse(doc_id, with_metadata=False)
    haystack = "\n".join(
        [
            document.title,
            document.signature or "",
            *texts(document),
            *(p.section or "" for p in document.paragraphs),
            *(f.text for f in document.footnotes),
            *(str(f.n) for f in document.footnotes),
        ]
    )
    root = etree.fromstring(xml(doc_id))
    checked = 0
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if any(a.tag in HEADER_TAGS for a in [element, *element.iterancestors()]):
            continue
        for fragment in (element.text, element.tail if element.getparent() is not None else ""):
            fragment = squash(fragment or "")
            if fragment and element.getparent() is not None:
                assert fragment in haystack, fragment
                checked += 1
    assert checked > 10


@pytest.mark.parametrize("doc_id", DOCUMENT_IDS)
def test_header_fields_without_metadata(doc_id):
    document = parse_official_xml(xml(doc_id))  # no id, no metadata: read from the XML alone
    assert document.id == doc_id
    assert document.chamber == "Tweede Kamer der Staten-Generaal"
    assert document.vergaderjaar == meta(doc_id)["vergaderjaar"]
    assert document.dossier == meta(doc_id)["dossier"]
    assert document.number == meta(doc_id)["number"]
    assert document.title


@pytest.mark.parametrize("doc_id", DOCUMENT_IDS)
def test_metadata_wins_over_the_xml(doc_id):
    fields = meta(doc_id)
    document = parse(doc_id)
    for name in ("title", "date", "number", "vergaderjaar", "chamber", "doc_type", "kind"):
        assert getattr(document, name) == fields[name]
    assert document.metadata["raw"]["DC.identifier"] == doc_id


# --------------------------------------------------------------------------- exact structure


def test_kamerstuk_brief_structure():
    document = parse("kst-33694-12")
    assert document.title == "Geïntegreerde Buitenland- en Veiligheidsstrategie 2018-2022"
    assert document.metadata["full_title"].startswith("Internationale Veiligheidsstrategie; Brief regering;")
    assert parse("kst-33694-12", with_metadata=False).title == (
        "BRIEF VAN DE MINISTERS VAN BUITENLANDSE ZAKEN EN VAN DEFENSIE"
    )
    assert (document.date, document.dossier, document.number) == ("2018-03-19", ["33694"], "12")
    assert document.doc_type == "Brief"
    assert document.metadata["dossier_title"] == "Internationale Veiligheidsstrategie"
    assert [(p.section, p.text[:40]) for p in document.paragraphs] == [
        (None, "Aan de Voorzitter van de Tweede Kamer de"),
        (None, "Den Haag, 19 maart 2018"),
        (None, "Hierbij bieden wij u, mede namens de Min"),
        ("1. Het veiligheidsbeeld", "De veiligheidssituatie in en rond Europa"),
        ("1. Het veiligheidsbeeld – Technologische ontwikkelingen", "Nieuwe technologieën zoals kunstmatige i"),
        ("2. Drie pijlers", "De strategie rust op drie pijlers:"),
        ("2. Drie pijlers", "a. Voorkomen: het wegnemen van de grondo"),
        ("2. Drie pijlers", "b. Verdedigen: het beschermen van het gr"),
        ("2. Drie pijlers", "c. Versterken: het versterken van de int"),
        ("2. Drie pijlers", "De onderstaande tabel geeft per dreiging"),
        ("2. Drie pijlers", "Dreiging | Pijler"),
        ("2. Drie pijlers", "Terrorisme | Voorkomen"),
        ("2. Drie pijlers", "Cyberdreigingen en spionage | Verdedigen"),
        ("2. Drie pijlers", "Proliferatie van massavernietigingswapen"),
        (None, "Voor de uitwerking op het terrein van de"),
    ]
    assert texts(document)[13] == "Proliferatie van massavernietigingswapens | Versterken"
    assert "Cyberdreigingen zijn daarmee" in texts(document)[3]
    # The footnote marker is gone from the text; the note hangs on paragraph 3.
    third = document.paragraph(3)
    assert third.text.endswith("in samenhang te bezien.")
    assert third.footnotes == [1]
    (footnote,) = document.footnotes
    assert footnote.text == (
        "Zie ook het verslag van het schriftelijk overleg over de Internationale "
        "Veiligheidsstrategie, Kamerstuk 33 694, nr. 11."
    )
    assert (footnote.paragraph, footnote.offset) == (3, len(third.text))
    (citation,) = third.citations
    assert (citation.id, citation.kind, citation.raw, citation.footnote) == (
        "kst-33694-11",
        "kamerstuk",
        "33 694, nr. 11",
        1,
    )
    assert footnote.text[citation.start : citation.end] == "33 694, nr. 11"
    assert document.signature == (
        "De Minister van Buitenlandse Zaken, S.A. Blok\nDe Minister van Defensie, A.Th.B. Bijleveld-Schouten"
    )
    assert not any("S.A. Blok" in text for text in texts(document))


def test_joint_dossier_kamerstuk():
    document = parse_official_xml(xml("kst-34300-X-88"))
    assert document.id == "kst-34300-X-88"  # from the externMetadataRecord, in canonical case
    assert document.dossier == ["34300-X", "34300-V"]
    assert document.metadata["dossier_titles"][1].endswith("Buitenlandse Zaken (V) voor het jaar 2016")
    assert document.date == "2016-03-04"  # from "Den Haag, 4 maart 2016"
    assert document.vergaderjaar == "2015-2016"
    sections = [p.section for p in document.paragraphs]
    assert sections == [
        None,
        None,
        None,
        "Definitie en afbakening",
        "Betekenisvolle menselijke controle",
        "Betekenisvolle menselijke controle",
        "Moratorium",
    ]
    (citation,) = document.paragraph(6).citations
    assert (citation.id, citation.raw, citation.footnote) == ("kst-34000-V-28", "34 000 V, nr. 28", 1)
    later = parse("kst-34300-X-109")
    assert later.dossier == ["34300-X", "34300-V"]
    (cited,) = later.paragraph(3).citations
    assert (cited.id, cited.raw, cited.footnote) == ("kst-34300-X-88", "34 300 X, nr. 88", None)
    assert later.paragraph(3).text[cited.start : cited.end] == "34 300 X, nr. 88"
    assert "alle wapensystemen en de inzet daarvan moeten voldoen" in later.paragraph(4).text


def test_verslag_with_datumtekst_lists_and_signature_in_the_middle():
    document = parse_official_xml(xml("kst-33694-23"))
    assert document.date == "2018-11-01"
    assert document.metadata["datumtekst"] == "Vastgesteld 1 november 2018"
    assert document.doc_type == "Verslag"
    assert document.signature == (
        "De voorzitter van de commissie, Van der Veen\nDe griffier van de commissie, Van Toor"
    )
    assert texts(document)[1].startswith("– de brief van de Minister van Buitenlandse Zaken d.d. 7")
    assert [c.id for c in document.paragraph(2).citations] == ["kst-33694-21"]
    assert document.paragraph(4).text == ("Van dit overleg brengt de commissie bijgaand geredigeerd woordverslag uit.")
    assert document.paragraph(5).section == "Eerste termijn van de zijde van de Kamer"
    assert document.paragraph(5).text.startswith("De heer Koopmans (VVD): Voorzitter.")
    assert document.paragraph(8).section == "Toezeggingen"
    assert "internationaal normkader" in document.paragraph(8).text


def test_nested_divisions_join_headings_that_follow_each_other():
    document = parse("kst-22112-2758")
    fiche = "Fiche: Mededeling gecoördineerd plan voor artificiële intelligentie"
    assert document.paragraph(4).text == fiche  # lijst item with li.nr "Fiche:"
    assert document.paragraph(5).section == f"{fiche} – 1. Algemene gegevens"
    assert document.paragraph(7).text == "Nr. Commissiedocument | COM(2018) 795"
    # Each sub-division keeps the heading of the division around it (issue 13, item 5).
    assert document.paragraph(9).section == f"{fiche} – 2. Essentie voorstel"
    assert document.paragraph(10).section == f"{fiche} – 3. Nederlandse positie ten aanzien van de mededeling"
    assert len(document.paragraphs) == 10


def test_aanhangsel_questions_and_answers():
    document = parse_official_xml(xml("ah-tk-20182019-264"))
    assert document.id == "ah-tk-20182019-264"
    assert document.kind == "aanhangsel"
    assert document.number == "264"
    assert document.date == "2018-10-16"  # the date the answer was received
    assert document.title.startswith("Vragen van het lid Belhaj (D66) aan de Ministers")
    assert [p.section for p in document.paragraphs] == [
        None,
        None,
        "Vraag 1",
        "Antwoord 1",
        "Vraag 2",
        "Vraag 3",
        "Antwoord 2 en 3",  # one answer, one paragraph, however many <al> it has
    ]
    assert texts(document)[0].endswith("killerrobots wil (ingezonden 14 september 2018).")
    assert texts(document)[3] == "Ja."
    assert document.paragraph(3).text.endswith("«Europees Parlement wil verbod op killerrobots»?")
    (footnote,) = document.footnotes
    assert footnote.text == "NOS, 12 september 2018, https://nos.nl/artikel/2250091"
    assert (footnote.paragraph, document.paragraph(3).footnotes) == (3, [1])
    assert document.paragraph(3).citations == []  # a news URL is not an official document
    (citation,) = document.paragraph(7).citations
    assert (citation.id, citation.kind, citation.raw) == ("kst-34300-X-88", "kamerstuk", "34 300 X, nr. 88")
    assert document.paragraph(7).text[citation.start : citation.end] == "34 300 X, nr. 88"
    assert document.signature is None
    assert document.metadata["kamervraagnummer"] == "264"
    assert document.metadata["asked_by"] == ["Belhaj"]
    assert document.metadata["answered_by"] == [
        "Minister Blok (Buitenlandse Zaken), mede namens de Minister van Defensie"
    ]


def test_aanhangsel_footnote_cites_an_earlier_aanhangsel():
    document = parse("ah-tk-20182019-2248")
    (citation,) = document.paragraph(3).citations
    assert (citation.id, citation.kind, citation.raw, citation.footnote) == (
        "ah-tk-20182019-1678",
        "aanhangsel",
        "1678",
        1,
    )
    footnote = document.footnote(1)
    assert footnote.text == "Aanhangsel Handelingen II, vergaderjaar 2018–2019, nr. 1678"
    assert footnote.text[citation.start : citation.end] == "1678"


def test_several_askers_keep_their_names_apart():
    document = parse("ah-tk-20182019-1876")
    assert document.paragraph(1).text.startswith(
        "Vragen van de leden Bosman, Remco Dijkstra, Koopmans en Laan-Geselschap (allen VVD)"
    )
    assert document.metadata["raw"]["OVERHEIDop.vraagnummer"] == "2019Z01633"
    assert document.metadata["raw"]["OVERHEIDop.indiener"] == [
        "Bosman",
        "Remco Dijkstra",
        "Koopmans",
        "Laan-Geselschap",
    ]


@pytest.mark.parametrize("doc_id", ["kst-33694-48", "kst-33694-50"])
def test_later_documents_cite_the_letter(doc_id):
    document = parse(doc_id)
    cited = [c for p in document.paragraphs for c in p.citations if c.id == "kst-33694-45"]
    assert len(cited) == 1 and cited[0].raw == "33 694, nr. 45"
    assert any("Kamerstuk 33 694, nr. 45" in text for text in texts(document)) or any(
        "Kamerstuk 33 694, nr. 45" in f.text for f in document.footnotes
    )


# --------------------------------------------------------------------------- other shapes


def op(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><officiele-publicatie>' + body + "</officiele-publicatie>").encode()


def test_older_vragen_form_with_separate_notes():
    data = op(
        "<vragen><vraagnummer>2007Z01234</vraagnummer>"
        "<omschr>Vragen van het lid Jansen over drones boven Schiphol.</omschr>"
        "<vraag><nummer>1</nummer><al>Kent u het bericht?<nootref refid='n1'/></al></vraag>"
        "<vraag><nummer>2</nummer><al>Wat gaat u doen?</al></vraag>"
        "<toelicht><al>Toelichting: de vragen volgen op eerdere vragen.</al></toelicht>"
        "<noot id='n1'><noot.nr>1</noot.nr><noot.al>Zie "
        "<extref soort='document' doc='ah-tk-20062007-1234'>nr. 1234</extref></noot.al></noot>"
        "</vragen>"
    )
    document = parse_official_xml(data, "kv-tk-2007Z01234")
    assert document.kind == "kamervragen"
    assert [(p.section, p.text) for p in document.paragraphs] == [
        (None, "Vragen van het lid Jansen over drones boven Schiphol."),
        ("Vraag 1", "Kent u het bericht?"),
        ("Vraag 2", "Wat gaat u doen?"),
        (None, "Toelichting: de vragen volgen op eerdere vragen."),
    ]
    footnote = document.footnote(1)
    assert (footnote.text, footnote.paragraph, footnote.offset) == ("Zie nr. 1234", 2, 19)
    assert [c.id for c in document.paragraph(2).citations] == ["ah-tk-20062007-1234"]


def test_unknown_elements_keep_their_text_and_processing_instructions_vanish():
    data = op(
        "<kamerstuk><stuk><algemeen><vrije-tekst><tekst>"
        "<al>Een <onbekend>nieuw</onbekend> element<?xpp pb?> blijft staan.</al>"
        "<nieuw-blok><al>Eerste</al><al>Tweede</al></nieuw-blok>"
        "<los-element>Losse tekst met <nadruk type='vet'>nadruk</nadruk>.</los-element>"
        "<!-- commentaar --><al>Laatste<br/>regel</al>"
        "</tekst></vrije-tekst></algemeen></stuk></kamerstuk>"
    )
    document = parse_official_xml(data, "kst-99999-1")
    assert texts(document) == [
        "Een nieuw element blijft staan.",
        "Eerste",
        "Tweede",
        "Losse tekst met nadruk.",
        "Laatste regel",
    ]


def test_a_heading_nothing_follows_is_kept_as_a_paragraph():
    data = op(
        "<kamerstuk><stuk><algemeen><vrije-tekst><tekst>"
        "<divisie><kop><nr>1.</nr><titel>Inleiding</titel></kop><al>Tekst.</al></divisie>"
        "<divisie><kop><nr>2.</nr><titel>Slot</titel></kop></divisie>"
        "</tekst></vrije-tekst></algemeen></stuk></kamerstuk>"
    )
    document = parse_official_xml(data, "kst-99999-2")
    assert [(p.section, p.text) for p in document.paragraphs] == [
        ("1. Inleiding", "Tekst."),
        ("2. Slot", "2. Slot"),
    ]


def test_table_notes_and_non_numeric_markers_get_free_numbers():
    data = op(
        "<kamerstuk><stuk><algemeen><vrije-tekst><tekst>"
        "<al>Tekst<noot id='a' type='voet'><noot.nr>1</noot.nr><noot.al>Eerste noot</noot.al></noot>.</al>"
        "<table><tgroup cols='2'><tbody><row><entry>Drones</entry>"
        "<entry>12<noot id='t' type='tabel'><noot.nr>*</noot.nr><noot.al>Schatting</noot.al></noot></entry>"
        "</row></tbody></tgroup></table>"
        "</tekst></vrije-tekst></algemeen></stuk></kamerstuk>"
    )
    document = parse_official_xml(data, "kst-99999-3")
    assert texts(document) == ["Tekst.", "Drones | 12"]
    assert [(f.n, f.text, f.paragraph) for f in document.footnotes] == [
        (1, "Eerste noot", 1),
        (2, "Schatting", 2),
    ]


# --------------------------------------------------------------------------- metadata.xml


def test_metadata_xml_fields_and_raw_values():
    fields = meta("kst-34300-X-88")
    assert {k: fields[k] for k in fields if k != "raw"} == {
        "id": "kst-34300-X-88",
        # The stuk's own title, not the dossier title before it (issue 13, item 9).
        "title": "Kabinetsreactie op het AIV/CAVV-advies Autonome wapensystemen",
        "full_title": (
            "Vaststelling van de begrotingsstaten van het Ministerie van Defensie (X) voor het jaar "
            "2016; Brief regering; Kabinetsreactie op het AIV/CAVV-advies Autonome wapensystemen"
        ),
        "date": "2016-03-04",
        "dossier": ["34300-X", "34300-V"],
        "number": "88",
        "vergaderjaar": "2015-2016",
        "chamber": "Tweede Kamer der Staten-Generaal",
        "doc_type": "Brief",
        "kind": "kamerstuk",
        "dossier_title": (
            "Vaststelling van de begrotingsstaten van het Ministerie van Defensie (X) voor het jaar 2016"
        ),
    }
    raw = fields["raw"]
    assert raw["DC.type"] == ["Kamerstuk", "Brief"]
    assert raw["OVERHEIDop.dossiernummer"] == ["34300-X", "34300-V"]
    assert raw["OVERHEIDop.ondernummer"] == "88"


def test_metadata_xml_of_an_aanhangsel():
    fields = meta("ah-tk-20182019-264")
    assert fields["kind"] == "aanhangsel"
    assert fields["number"] == "264"
    assert fields["date"] == "2018-10-16"
    assert fields["doc_type"] == "Antwoord"
    assert fields["dossier"] == []
    assert fields["raw"]["OVERHEIDop.ontvanger"] == [
        "Minister van Buitenlandse Zaken",
        "Minister van Defensie",
    ]
    assert meta("kst-33694-50")["raw"]["OVERHEIDop.behandeldDossier"] == ["33694;45", "33694;48"]
    assert meta("kst-33694-12")["raw"]["OVERHEIDop.bijlage"] == ["blg-839512"]


def test_metadata_xml_with_a_repeated_unlisted_name_becomes_a_list():
    data = (
        b'<metadata_gegevens><metadata name="DC.identifier" content="kst-33694-45"/>'
        b'<metadata name="OVERHEIDop.nieuw" content="a"/><metadata name="OVERHEIDop.nieuw" content="b"/>'
        b"</metadata_gegevens>"
    )
    fields = parse_metadata_xml(data)
    assert fields["raw"]["OVERHEIDop.nieuw"] == ["a", "b"]
    assert (fields["id"], fields["title"], fields["dossier"]) == ("kst-33694-45", None, [])


def test_wrong_roots_are_parse_errors():
    with pytest.raises(ParseError, match="metadata_gegevens"):
        parse_metadata_xml(xml("kst-33694-12"))
    with pytest.raises(ParseError, match="officiele-publicatie"):
        parse_official_xml((OFFICIAL / "kst-33694-12.metadata.xml").read_bytes(), "kst-33694-12")
    with pytest.raises(ParseError):
        parse_official_xml((OFFICIAL / "soft-404.html").read_bytes(), "kst-33694-12")


@pytest.mark.parametrize("data", [b"", b"   ", b"<officiele-publicatie><al>open", b"not xml at all"])
def test_malformed_xml_is_a_parse_error_not_an_unsafe_one(data):
    with pytest.raises(ParseError) as caught:
        parse_official_xml(data, "kst-1-1")
    assert not isinstance(caught.value, UnsafeContentError)
    assert "\n" not in str(caught.value)


def test_older_files_embed_their_metadata():
    data = op(
        '<metadata><meta name="DC.identifier" scheme="" content="kst-26643-144"/>'
        '<meta name="DC.title" scheme="" content="Informatie- en communicatietechnologie; Brief"/>'
        '<meta name="OVERHEIDop.dossiernummer" scheme="" content="26643"/>'
        '<meta name="DCTERMS.issued" scheme="" content="2008-11-20"/></metadata>'
        "<kamerstuk><stuk><algemeen><al>Tekst.</al></algemeen></stuk></kamerstuk>"
    )
    document = parse_official_xml(data)
    assert (document.id, document.title, document.date, document.dossier) == (
        "kst-26643-144",
        "Informatie- en communicatietechnologie; Brief",
        "2008-11-20",
        ["26643"],
    )
    assert document.metadata["embedded"]["DC.identifier"] == "kst-26643-144"
    override = parse_official_xml(data, metadata={"title": "Gegeven titel"})
    assert override.title == "Gegeven titel"


@pytest.mark.parametrize(
    "lines, expected",
    [
        (["Aan de Voorzitter", "Den Haag, 13 mei 2019"], "2019-05-13"),
        (["’s-Gravenhage, 1 oktober 2018"], "2018-10-01"),
        (["Den Haag, 31 februari 2019", "Den Haag, 3 februari 2019"], "2019-02-03"),
        (["Op 13 mei 2019 schreef ik"], None),
    ],
)
def test_letter_date(lines, expected):
    assert letter_date(lines) == expected


def test_an_id_is_required_when_the_xml_does_not_name_one():
    with pytest.raises(ParseError, match="doc_id"):
        parse_official_xml(op("<kamervragen><vraag><al>Waarom?</al></vraag></kamervragen>"))


# --------------------------------------------------------------------------- hostile XML


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("parser", [parse_official_xml, parse_metadata_xml])
def test_hostile_xml_is_refused_fast(name, parser):
    data = (OFFICIAL / f"{name}.xml").read_bytes()
    started = time.process_time()  # CPU time: other work on the machine does not count
    with pytest.raises(UnsafeContentError) as caught:
        parser(data)
    assert time.process_time() - started < 1.0
    assert "\n" not in str(caught.value)
    assert "root:" not in str(caught.value)


def test_hostile_xml_in_utf16_is_refused_too():
    data = (OFFICIAL / "billion-laughs.xml").read_text(encoding="utf-8")
    encoded = data.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    with pytest.raises(UnsafeContentError):
        parse_official_xml(encoded, "kst-1-1")


def test_oversized_input_is_refused(monkeypatch):
    from searchdoc import settings as searchdoc_settings

    monkeypatch.setattr(searchdoc_settings, "MAX_RESPONSE_BYTES", 1000)
    with pytest.raises(UnsafeContentError, match="exceeds the limit"):
        parse_official_xml(xml("kst-33694-12"), "kst-33694-12")
    with pytest.raises(UnsafeContentError, match="exceeds the limit"):
        parse_metadata_xml((OFFICIAL / "kst-33694-12.metadata.xml").read_bytes() * 2)


def test_a_bare_doctype_without_entities_is_harmless():
    data = b"<!DOCTYPE officiele-publicatie>" + op("<kamerstuk><al>Tekst.</al></kamerstuk>")[38:]
    assert texts(parse_official_xml(data, "kst-1-1")) == ["Tekst."]


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("33 694", "33694"),
        ("34 300 X", "34300-X"),
        ("34300-x", "34300-X"),
        ("21 501-32", "21501-32"),
        ("35 000 VIII", "35000-VIII"),
        ("34 775 IXB", "34775-IXB"),
        ("36 200 (R2097)", "36200"),
        ("33\u00a0694", "33694"),
        ("geen dossier", None),
    ],
)
def test_normalize_dossier(raw, expected):
    assert normalize_dossier(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Vergaderjaar 2018–2019", "2018-2019"),
        ("2018/19", "2018-2019"),
        ("1999/2000", "1999-2000"),
        ("20182019", "2018-2019"),
        ("2018-2020", None),
        ("", None),
    ],
)
def test_normalize_vergaderjaar(raw, expected):
    assert normalize_vergaderjaar(raw) == expected


@pytest.mark.parametrize(
    "reference, expected",
    [
        ("kst-33694-12", "kst-33694-12"),
        ("KST-34300-x-88", "kst-34300-X-88"),
        ("kst-33694-12.html", "kst-33694-12"),
        ("/kst-33694-45.html", "kst-33694-45"),
        ("https://zoek.officielebekendmakingen.nl/ah-tk-20182019-264.html", "ah-tk-20182019-264"),
        ("https://zoek.officielebekendmakingen.nl/kst-33694-45/metadata.xml", "kst-33694-45"),
        (
            "https://repository.overheid.nl/frbr/officielepublicaties/kst/33694/kst-33694-45/1/pdf/kst-33694-45.pdf",
            "kst-33694-45",
        ),
        ("https://example.org/kst-33694-12.html", None),
        ("https://nos.nl/artikel/2250091", None),
        ("mailto:kst-33694-12", None),
        ("dossier/33694", None),
        ("", None),
    ],
)
def test_ob_id_from_reference(reference, expected):
    assert ob_id_from_reference(reference) == expected


# --------------------------------------------------------------------------- property


_WORDS = st.text(
    alphabet=st.sampled_from(list("abcdeëfghijklmnopqrstuvwxyzABCDE0123456789 .,;:()«»–&<>'\"\n\t")),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_WORDS, _WORDS, _WORDS, st.booleans()), min_size=1, max_size=6))
def test_property_paragraph_text_and_citations_survive(rows):
    body = []
    for before, linked, after, with_note in rows:
        note = "<noot><noot.nr>9</noot.nr><noot.al>Noot</noot.al></noot>" if with_note else ""
        body.append(
            f"<al>{escape(before)}<extref soort='document' doc='kst-33694-12'>{escape(linked)}</extref>"
            f"{note}{escape(after)}</al>"
        )
    data = op(f"<kamerstuk><stuk><algemeen><tekst>{''.join(body)}</tekst></algemeen></stuk></kamerstuk>")
    document = parse_official_xml(data, "kst-1-1")
    assert texts(document) == [squash(b + link + a) for b, link, a, _ in rows]
    for paragraph, (_, linked, _, _) in zip(document.paragraphs, rows, strict=True):
        (citation,) = paragraph.citations
        assert citation.raw == squash(linked)
        assert paragraph.text[citation.start : citation.end] == citation.raw
    assert len(document.footnotes) == sum(1 for row in rows if row[3])
    assert re.fullmatch(r"[\d ]*", " ".join(str(f.n) for f in document.footnotes))


# --------------------------------------------------------------------------- real served documents
# Files under tests/data/real, byte for byte as served (provenance in tests/data/real/SOURCES-xml.md).

REAL = Path(__file__).resolve().parent / "data" / "real"


def real(name: str, doc_id: str | None = None, metadata: dict | None = None):
    return parse_official_xml((REAL / name).read_bytes(), doc_id, metadata)


def test_kamerwrk_dialect_kamerstuk():
    document = real("kst-24138-3.xml")  # <kamerwrk>, 1994-95: refused before (issue 13, item 1)
    assert (document.id, document.kind, document.number) == ("kst-24138-3", "kamerstuk", "3")
    assert document.dossier == ["24138"]
    assert (document.vergaderjaar, document.chamber) == ("1994-1995", "Tweede Kamer der Staten-Generaal")
    assert document.title == "MEMORIE VAN TOELICHTING"
    assert document.doc_type == "Memorie van toelichting"
    assert document.metadata["dossier_title"].startswith("Wijziging van de Wet op het basisonderwijs")
    assert "Nr. 3" not in texts(document)
    # The table of contents: one paragraph per row, its empty spacing rows dropped.
    assert texts(document)[:2] == ["I. | ALGEMEEN | 1", "1. | De bestuursvorm openbaar onderwijs | 1"]
    assert not any(set(t) <= set("| ") for t in texts(document))
    # Flat <tuskop> headings nest by their numbering: every subsection keeps its parents.
    sections = {p.section for p in document.paragraphs}
    assert "I. ALGEMEEN – 1. De bestuursvorm openbaar onderwijs – 1.1. Achtergrond" in sections
    assert "I. ALGEMEEN – 1. De bestuursvorm openbaar onderwijs – 1.2. De taak van de gemeente" in sections
    assert "I. ALGEMEEN – 2. Financiële gelijkstelling" in sections
    assert "II. ARTIKELSGEWIJZE TOELICHTING – Artikel I – Onderdeel A (artikel 1)" in sections
    assert "II. ARTIKELSGEWIJZE TOELICHTING – Artikel I – Onderdeel B (artikelen 29a en 29b) – Leden" in sections
    assert "II. ARTIKELSGEWIJZE TOELICHTING – Artikelen II en III" in sections
    # The <voetnoot> at the end hangs on the first paragraph under the heading with its <voetref>.
    (note,) = document.footnotes
    assert note.text == "Ter inzage gelegd bij de afdeling Parlementaire Documentatie."
    first = document.paragraph(note.paragraph)
    assert first.section == "I. ALGEMEEN – 6. Advies Onderwijsraad en overige adviezen"
    assert first.text.startswith("De Onderwijsraad heeft op 11 februari 1994 advies uitgebracht")
    assert document.signatories == ["T. Netelenbos", "J. J. van Aartsen"]
    assert document.signature.split("\n") == [
        "De Staatssecretaris van Onderwijs, Cultuur en Wetenschappen, T. Netelenbos",
        "De Minister van Landbouw, Natuurbeheer en Visserij, J. J. van Aartsen",
    ]


def test_kamerwrk_passes_the_crawlers_content_check():
    from searchdoc.sources.officielebekendmakingen import has_official_content

    assert has_official_content((REAL / "kst-24138-3.xml").read_bytes())
    assert not has_official_content(b'<?xml version="1.0"?><kamerwrk><metadata><meta name="x"/></metadata></kamerwrk>')


def test_handelingen_item_with_speeches_and_motions():
    document = real("h-tk-20172018-61-10.xml")
    assert (document.id, document.kind, document.doc_type) == ("h-tk-20172018-61-10", "handelingen", "Handelingen")
    assert document.title == "Ondernemen en Bedrijfsfinanciering"
    assert document.metadata["item"] == "10"
    assert len(document.paragraphs) == 99  # 147 before: speaker lines, the item number and motions' tails
    assert "10" not in texts(document) and not any(t.rstrip(":").strip() == "De voorzitter" for t in texts(document))
    first = document.paragraph(1)
    assert (first.text, first.speaker, first.section) == (
        "Aan de orde is het VAO Ondernemen en Bedrijfsfinanciering (AO d.d. 22/02).", None, None
    )
    assert document.paragraph(2).speaker == "De voorzitter"  # "De voorzitter :" in the markup
    assert document.paragraph(3).speaker == "De heer Wörsdörfer (VVD)"
    # The motion is a section of its own, moved by the speaker; the chair's note under it is the chair's.
    motion = [p for p in document.paragraphs if 5 <= p.n <= 13]
    assert {p.section for p in motion} == {"Motie"}
    assert motion[0].text == "De Kamer," and motion[0].speaker == "De heer Wörsdörfer (VVD)"
    assert [p.speaker for p in motion[-2:]] == ["De voorzitter", "De voorzitter"]
    assert motion[-1].text == "Zij krijgt nr. 199 (31311)."
    assert {c.id for c in motion[-1].citations} == {"kst-31311-199"}
    # The section ends with the motion: later speeches have none (it leaked into all of them).
    assert (document.paragraph(14).text, document.paragraph(14).section) == ("Gaat u verder.", None)
    assert document.paragraph(15).speaker == "De heer Wörsdörfer (VVD)" and document.paragraph(15).section is None
    keijzer = [p for p in document.paragraphs if p.speaker == "Staatssecretaris Keijzer"]
    assert len(keijzer) == 11 and all(p.section is None for p in keijzer)
    # The meeting date comes from metadata.xml for items after the opening.
    dated = real("h-tk-20172018-61-10.xml", metadata={"date": "2018-03-06"})
    assert dated.date == "2018-03-06"


def test_handelingen_opening_takes_the_meeting_header_as_fields():
    document = real("h-tk-20172018-50-1.xml")
    assert document.date == "2018-02-08"  # <vergaderdatum>Donderdag 8 februari 2018</vergaderdatum>
    assert document.title == "Opening"
    assert document.metadata["meeting"] == "50e vergadering"
    assert document.metadata["meeting_time"] == "Aanvang 10:15 uur"
    assert texts(document)[0] == "Voorzitter: Arib"
    assert not any(t in ("1", "50e vergadering") or t.startswith("Donderdag") for t in texts(document))


def test_speaker_lines_lose_their_stray_spaces():
    from searchdoc.parse.handelingen import speaker_line

    assert speaker_line("De voorzitter :") == "De voorzitter"
    assert speaker_line("De heer\n  Graus\n ( PVV ):") == "De heer Graus (PVV)"
    assert speaker_line("Minister De Jonge:") == "Minister De Jonge"


def test_staatsblad_title_date_articles_and_leden():
    document = real("stb-2018-84.xml")
    assert document.kind == "staatsblad"
    assert document.title.replace("\u00a0", " ").startswith("Besluit van 9 maart 2018, houdende vaststelling van")
    assert document.date == "2018-03-09"  # the day it was signed ("Besluit van 9 maart 2018")
    assert document.metadata["uitgifte"] == "Uitgegeven de zevenentwintigste maart 2018"
    assert document.metadata["masthead"] == ["Staatsblad", "van het Koninkrijk der Nederlanden"]
    assert not any(t in ("1.", "2.", "3.") for t in texts(document))
    lid = [p for p in document.paragraphs if p.section == "Artikel 1"]
    assert [p.text[:5] for p in lid] == ["1. De", "a. op", "b. op", "2. De", "3. De"]
    assert [p.section for p in document.paragraphs if p.text.startswith("Dit besluit treedt")] == ["Artikel 3"]
    assert document.signatories == ["Willem-Alexander", "M. Snel", "F.B.J. Grapperhaus"]
    assert "De Staatssecretaris van Financiën, M. Snel" in document.signature.split("\n")


def test_gemeenteblad_masthead_is_not_the_title():
    document = real("gmb-2017-100002.xml")
    assert document.title == "Ingediende aanvraag omgevingsvergunning, Zuiderweg 21 Midwolda"
    assert document.metadata["masthead"] == ["GEMEENTEBLAD", "Officiële uitgave van de gemeente Oldambt"]
    assert not any("GEMEENTEBLADOfficiële" in (p.section or "") + p.text for p in document.paragraphs)
    assert document.date == "2017-06-14"  # "Winschoten, 14 juni 2017"


def test_a_note_without_a_number_around_a_table_is_content():
    document = real("bgr-2024-715.xml")
    assert document.footnotes == []
    assert "Naam regeling/bevoegdheden | Mandaatverlening | Ondergemandateerde | Kader" in texts(document)
    assert "I. Algemeen | | | | Gemeentewet, Wet gemeenschappelijke regelingen, Wet Open Overheid" in texts(document)
    assert not any(set(t) <= set("| ") for t in texts(document))


def test_a_budget_memorandum_keeps_its_divisions_in_every_section():
    document = real("kst-35470-XIV-4.xml")
    sections = [p.section or "" for p in document.paragraphs]
    nested = [s for s in sections if s.startswith("B ARTIKELGEWIJZE TOELICHTING BIJ DE BEGROTINGSARTIKELEN")]
    assert len({s.split(" – ")[1] for s in nested if " – " in s}) >= 2  # not only the first subsection
    assert document.signatories == ["C.J. Schouten"]
    assert document.signature == "De Minister van Landbouw, Natuur en Voedselkwaliteit, C.J. Schouten"


def test_repository_motion_with_embedded_metadata():
    document = real("kst-33529-1329.xml")
    assert document.doc_type == "Motie"
    assert document.title == "Motie van de leden Beckerman en Bushoff over de uitvoering van aangenomen moties"
    assert document.metadata["full_title"].startswith("Gaswinning; Motie; ")
    assert document.signatories == ["Beckerman", "Bushoff"]  # the names under the motion
    assert texts(document)[-1].endswith("en gaat over tot de orde van de dag.")


def test_owms_metadata_and_metadata_xml_give_the_same_fields():
    owms = parse_metadata_xml((REAL / "gmb-2024-216934.metadata_owms.xml").read_bytes())
    record = parse_metadata_xml((REAL / "gmb-2024-216934.metadata.xml").read_bytes())
    for fields in (owms, record):
        assert fields["id"] == "gmb-2024-216934"
        assert fields["title"].startswith("Kennisgeving melding incidentele festiviteit")
        assert fields["date"] == "2024-05-17"
        assert fields["doc_type"] == "evenementenvergunning"
        assert fields["kind"] == "gemeenteblad"
    assert owms["raw"]["OVERHEIDop.publicationName"] == "Gemeenteblad"


def test_signatories_one_per_name_and_function_keeps_its_space():
    data = op(
        "<kamerstuk><stuk><algemeen><vrije-tekst><tekst><al>Tekst.</al></tekst></vrije-tekst>"
        "<tekst-sluiting><ondertekening><functie>De Minister voor Rechtsbescherming,</functie>"
        "<deze>S. Dekker</deze></ondertekening>"
        "<ondertekening><naam>Vedder</naam><naam>Grinwis</naam><naam>Bromet</naam></ondertekening>"
        "</tekst-sluiting></algemeen></stuk></kamerstuk>"
    )
    document = parse_official_xml(data, "kst-99999-3")
    assert document.signatories == ["S. Dekker", "Vedder", "Grinwis", "Bromet"]
    assert document.signature.split("\n") == [
        "De Minister voor Rechtsbescherming, S. Dekker", "Vedder", "Grinwis", "Bromet"
    ]


def test_flat_headings_nest_by_numbering_capitals_and_articles():
    data = (
        b"<kamerwrk><body><stuk><titel>MEMORIE VAN TOELICHTING</titel>"
        b"<tuskop>ALGEMEEN</tuskop><tuskop>1. Inleiding</tuskop><al>Een.</al>"
        b"<tuskop>8. Uitvoering</tuskop><al>Twee.</al>"
        b"<tuskop>ARTIKELSGEWIJZE TOELICHTING</tuskop><tuskop>ARTIKEL I</tuskop>"
        b"<tuskop>Artikel 4:33a, onderdeel a</tuskop><al>Drie.</al>"
        b"<tuskop>Artikel 4:74a</tuskop><al>Vier.</al>"
        b"<tuskop>ARTIKEL II</tuskop><al>Vijf.</al><witreg/>"
        b"<al>Blanksma-van den Heuvel</al><al>Spekman</al></stuk></body></kamerwrk>"
    )
    document = parse_official_xml(data, "kst-31911-3")
    assert [(p.section, p.text) for p in document.paragraphs] == [
        ("ALGEMEEN – 1. Inleiding", "Een."),
        ("ALGEMEEN – 8. Uitvoering", "Twee."),
        ("ARTIKELSGEWIJZE TOELICHTING – ARTIKEL I – Artikel 4:33a, onderdeel a", "Drie."),
        ("ARTIKELSGEWIJZE TOELICHTING – ARTIKEL I – Artikel 4:74a", "Vier."),
        ("ARTIKELSGEWIJZE TOELICHTING – ARTIKEL II", "Vijf."),
    ]
    # The members who sign an initiative bill's memorie van toelichting, under its last paragraph.
    assert document.signatories == ["Blanksma-van den Heuvel", "Spekman"]


def test_a_table_title_sits_under_the_heading_before_the_table():
    table = (
        "<table><title>{}</title><tgroup><tbody><row><entry>1</entry><entry>{}</entry></row></tbody></tgroup></table>"
    )
    data = op(
        "<kamerstuk><stuk><algemeen><vrije-tekst><tekst><tussenkop>Begrotingsstaat</tussenkop>"
        + table.format("Departementale begrotingsstaat", "Inzet")
        + table.format("Begrotingsstaat Paresto", "Baten")
        + "</tekst></vrije-tekst></algemeen></stuk></kamerstuk>"
    )
    document = parse_official_xml(data, "kst-99999-4")
    assert [(p.section, p.text) for p in document.paragraphs] == [
        ("Begrotingsstaat – Departementale begrotingsstaat", "1 | Inzet"),
        ("Begrotingsstaat – Begrotingsstaat Paresto", "1 | Baten"),
    ]


def test_a_lone_gegeven_is_not_a_paragraph_and_generic_types_give_way():
    data = op(
        "<kamerstuk><stuk><titel>MEMORIE VAN TOELICHTING</titel><algemeen><vrije-tekst><tekst>"
        "<al>Tekst.</al></tekst></vrije-tekst></algemeen>"
        "<voorstel-sluiting><slotformulering><al>Lasten en bevelen.</al></slotformulering>"
        "<label>Gegeven</label><ondertekening><functie>De Minister van Defensie, </functie>"
        "<naam><achternaam>D. Yeşilgöz-Zegerius</achternaam></naam></ondertekening></voorstel-sluiting>"
        "<wetsluiting><gegeven>Gegeven</gegeven></wetsluiting></stuk></kamerstuk>"
    )
    document = parse_official_xml(data, "kst-99999-3", {"doc_type": "Overig"})
    assert texts(document) == ["Tekst.", "Lasten en bevelen."]
    assert document.signature == "De Minister van Defensie, D. Yeşilgöz-Zegerius"
    assert document.doc_type == "Memorie van toelichting"


def test_the_stuks_own_title_from_a_dc_title():
    from searchdoc.parse.officialmeta import _own_title

    dossier = "Vaststelling van de begrotingsstaten van het Ministerie van Defensie (X) voor het jaar 2016"
    assert _own_title(f"{dossier}; Brief regering; Toetsing", dossier) == "Toetsing"
    assert _own_title("Wijziging van de Wet; Memorie van toelichting", "Wijziging van de Wet") == (
        "Memorie van toelichting"
    )
    assert _own_title("Gaswinning; Motie; Motie van de leden A en B", None) == "Motie van de leden A en B"
    assert _own_title("Vragen van het lid X", None) == "Vragen van het lid X"


def test_a_question_labelled_in_its_first_paragraph_is_one_paragraph():
    data = op(
        "<kamervragen><kamervraagomschrijving type='vraag'>Vragen van het lid "
        "<naam><achternaam>Belhaj</achternaam></naam></kamervraagomschrijving>"
        "<vraag><al>Vraag 1</al><al>Kent u het bericht?</al><al>Zo ja, wat vindt u ervan?</al></vraag>"
        "<antwoord><al>Antwoord 1</al><al>Ja.</al>"
        "<lijst><li><li.nr>a.</li.nr><al>Eerst dit.</al></li></lijst></antwoord>"
        "</kamervragen>"
    )
    document = parse_official_xml(data, "ah-tk-20182019-9")
    assert [(p.section, p.text) for p in document.paragraphs][1:] == [
        ("Vraag 1", "Kent u het bericht? Zo ja, wat vindt u ervan?"),
        ("Antwoord 1", "Ja. a. Eerst dit."),
    ]
    assert document.metadata["asked_by"] == ["Belhaj"]
