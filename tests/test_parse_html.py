"""OB HTML pages: main content only, the same structure as the XML, soft 404 pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchdoc.errorpages import is_soft_404
from searchdoc.errors import ParseError, UnsafeContentError
from searchdoc.parse.html import parse_html
from searchdoc.parse.officialxml import parse_metadata_xml, parse_official_xml

OFFICIAL = Path(__file__).resolve().parent / "data" / "official"
CHROME = [
    "Naar boven",
    "Permanente link",
    "Sluit modaal",
    "Gerelateerde documenten",
    "Gepubliceerd op",
    "bij wijze van service",
    "Over deze website",
    "Direct naar content",
    "Uitgebreid zoeken",
    "Home",
    "dataLayer",
    "tracking",
    "font-family",
    "addEventListener",
    "X Noot",
    "Start van deze pagina",
    "Snelzoeken",
    "Inhoudsopgave",
    "Authentieke versie",
    "Technische informatie",
    "E-overheid bouwt mee",
    "GetReferendumLinks",
]


def page(name: str) -> bytes:
    return (OFFICIAL / name).read_bytes()


def everything(document) -> str:
    return "\n".join(
        [
            document.title,
            document.signature or "",
            *(p.text for p in document.paragraphs),
            *(p.section or "" for p in document.paragraphs),
            *(f.text for f in document.footnotes),
        ]
    )


@pytest.mark.parametrize("doc_id", ["kst-33694-48", "ah-tk-20182019-1678"])
def test_html_gives_the_same_document_as_the_xml(doc_id):
    """The fixtures render the same publication twice; both parsers must agree."""
    metadata = parse_metadata_xml(page(f"{doc_id}.metadata.xml"))
    from_html = parse_html(page(f"{doc_id}.html"), doc_id, metadata)
    from_xml = parse_official_xml(page(f"{doc_id}.xml"), doc_id, metadata)
    assert from_html.source_format == "html"
    assert [(p.n, p.section, p.text, p.footnotes) for p in from_html.paragraphs] == [
        (p.n, p.section, p.text, p.footnotes) for p in from_xml.paragraphs
    ]
    assert [(f.n, f.text, f.paragraph, f.offset) for f in from_html.footnotes] == [
        (f.n, f.text, f.paragraph, f.offset) for f in from_xml.footnotes
    ]
    assert [(c.id, c.footnote) for p in from_html.paragraphs for c in p.citations] == [
        (c.id, c.footnote) for p in from_xml.paragraphs for c in p.citations
    ]
    assert from_html.signature == from_xml.signature
    for name in ("id", "kind", "title", "date", "number", "vergaderjaar", "dossier"):
        assert getattr(from_html, name) == getattr(from_xml, name)


def test_modern_page_main_content_only():
    document = parse_html(page("kst-33694-48.html"))
    assert document.id == "kst-33694-48"  # from <meta name="DC.identifier">
    assert document.kind == "kamerstuk"
    assert document.title == (
        "Uitvoering van de motie van het lid Koopmans c.s. over nieuwe potentiële massavernietigingswapens"
    )
    assert (document.number, document.dossier, document.date) == ("48", ["33694"], "2019-09-20")
    assert document.doc_type == "Brief"
    assert document.metadata["dossier_title"] == "Internationale Veiligheidsstrategie"
    text = everything(document)
    for chrome in CHROME:
        assert chrome not in text, chrome
    assert "Vergaderjaar 2019–2020" not in text and "Nr. 48" not in text
    assert "Tweede Kamer der Staten-Generaal" not in [p.text for p in document.paragraphs]
    stripped = page("kst-33694-48.html").replace(b'<meta name="', b'<meta data-x="')
    bare = parse_html(stripped, "kst-33694-48")
    assert (bare.id, bare.date, bare.vergaderjaar) == ("kst-33694-48", "2019-09-20", "2019-2020")
    assert bare.chamber == "Tweede Kamer der Staten-Generaal"
    assert bare.title == "BRIEF VAN DE MINISTER VAN BUITENLANDSE ZAKEN" and bare.number == "48"
    assert [p.section for p in document.paragraphs] == [None] * 4 + [
        "Nieuwe potentiële massavernietigingswapens"
    ] * 5 + ["Tot slot"]
    assert document.paragraph(7).text == "Verdrag | Inzet"
    assert document.paragraph(8).text == "Biologische Wapenverdrag | Versterking van de verificatie"
    assert document.signature == "De Minister van Buitenlandse Zaken, S.A. Blok"
    # Footnote markers are lifted out of the text; the notes keep their links as citations.
    fourth = document.paragraph(4)
    assert "wapensystemen. Deze brief bouwt daarop voort." in fourth.text
    assert fourth.footnotes == [2]
    assert document.footnote(2).offset == fourth.text.index(" Deze brief")
    (cited,) = fourth.citations
    assert (cited.id, cited.raw, cited.footnote) == ("kst-33694-45", "33 694, nr. 45", 2)
    assert document.footnote(2).text[cited.start : cited.end] == "33 694, nr. 45"
    (linked,) = document.paragraph(10).citations
    assert (linked.id, linked.kind, linked.footnote) == ("kst-33694-23", "kamerstuk", None)
    assert document.paragraph(10).text[linked.start : linked.end] == linked.raw
    assert linked.raw == "het verslag van het algemeen overleg van 4 oktober 2018"


def test_old_page_with_questions_and_answers():
    document = parse_html(page("ah-tk-20182019-1678.html"))
    assert document.id == "ah-tk-20182019-1678"
    assert document.date == "2019-02-05"
    assert document.doc_type == "Antwoord"
    assert [p.section for p in document.paragraphs] == [
        None,
        None,
        "Vraag 1",
        "Antwoord 1",
        "Vraag 2",
        "Antwoord 2",
        "Vraag 3",
        "Antwoord 3",
    ]
    assert document.paragraph(3).footnotes == [1]
    assert document.footnote(1).text == "BBC, 21 december 2018, «Gatwick drone disruption»"
    text = everything(document)
    for chrome in CHROME:
        assert chrome not in text, chrome


def test_combined_answer_and_numbers_in_paragraphs():
    html = b"""<html><body><div id="broodtekst">
      <div class="vraag"><p class="nummer">2</p><p>Is dat zo?</p></div>
      <div class="vraag"><h2>Vraag 3</h2><p>En waarom?</p></div>
      <div class="antwoord"><h2>Antwoord 2, 3</h2><p>Omdat het moet.</p>
        <ul><li>Eerste punt</li><li>Tweede <a href="kst-33694-45.html">punt</a></li></ul></div>
      <p>Slot.</p>
    </div></body></html>"""
    document = parse_html(html, "ah-tk-20182019-9999")
    assert [(p.section, p.text) for p in document.paragraphs] == [
        ("Vraag 2", "Is dat zo?"),
        ("Vraag 3", "En waarom?"),
        ("Antwoord 2, 3", "Omdat het moet."),
        ("Antwoord 2, 3", "Eerste punt"),
        ("Antwoord 2, 3", "Tweede punt"),
        (None, "Slot."),
    ]
    assert [c.id for c in document.paragraph(5).citations] == ["kst-33694-45"]


def test_the_page_title_repeated_as_a_heading_is_not_a_section():
    """A real zoek page (tests/data/real, see SOURCES-xml.md) heads its text with the title."""
    real = Path(__file__).resolve().parent / "data" / "real" / "gmb-2017-100007.html"
    document = parse_html(real.read_bytes(), "gmb-2017-100007")
    assert document.title == "Bekendmaking Wet op de kansspelen St. Inloophuis Velp Zuid"
    assert document.paragraphs and all(p.section != document.title for p in document.paragraphs)
    assert document.paragraphs[0].section is None



def test_repository_xhtml_act_signing_block_and_scoped_headings():
    """A Staatsblad as repository.overheid.nl serves its XHTML (tests/data/real, SOURCES-xml.md)."""
    real = Path(__file__).resolve().parent / "data" / "real" / "stb-2014-296.html"
    document = parse_html(real.read_bytes(), "stb-2014-296")
    texts = [p.text for p in document.paragraphs]
    assert document.date == "2014-07-14"  # "Wassenaar, 14 juli 2014": the day it was signed
    assert document.signatories == ["Willem-Alexander", "R.H.A. Plasterk", "F. Teeven"]
    assert "De Staatssecretaris van Veiligheid en Justitie, F. Teeven" in document.signature.split("\n")
    assert document.metadata["uitgifte"] == "Uitgegeven de negenentwintigste juli 2014"
    assert not any(t in ("Wassenaar, 14 juli 2014", "Willem-Alexander") or t.startswith("Uitgegeven") for t in texts)
    sections = {p.text.replace("\u00a0", " ")[:20]: p.section for p in document.paragraphs}
    assert sections["Dit besluit treedt i"] == "ARTIKEL II"
    assert sections["Onze Minister van Bi"] is None  # the act's closing, after its articles
    assert sections["Vanaf 10 oktober 201"] == "NOTA VAN TOELICHTING"
    assert len(document.paragraphs) == 9

def test_other_html_degrades_gracefully():
    html = b"""<!doctype html><html><head><title>Een pagina</title>
      <style>p { color: red }</style><script>alert("geheim")</script></head>
      <body><nav><a href="/">Menu-item</a></nav>
      <main><h1>Drones en killerrobots</h1>
        <p>Eerste <b>alinea</b> over drones.<br>Met een regel.</p>
        <div>Losse tekst in een div</div>
        <h2>Cyber</h2>
        <ul><li>Cyberdreigingen</li><li>Spionage
          <ol><li>Binnen een lijst</li></ol></li></ul>
        <table><tr><th>Jaar</th><th>Aantal</th></tr><tr><td>2019</td><td>12</td></tr></table>
        <noscript>Zet javascript aan</noscript><template><p>sjabloon</p></template>
      </main>
      <footer>Voettekst</footer></body></html>"""
    document = parse_html(html, "kst-99999-1")
    assert document.title == "Een pagina"
    assert [(p.section, p.text) for p in document.paragraphs] == [
        ("Drones en killerrobots", "Eerste alinea over drones. Met een regel."),
        ("Drones en killerrobots", "Losse tekst in een div"),
        ("Cyber", "Cyberdreigingen"),
        ("Cyber", "Spionage"),
        ("Cyber", "Binnen een lijst"),
        ("Cyber", "Jaar | Aantal"),
        ("Cyber", "2019 | 12"),
    ]
    assert "geheim" not in everything(document) and "color" not in everything(document)
    bare = b"""<html><body><header>Kop van de site</header><aside>Zijbalk</aside>
      <p>Alleen dit telt.</p><footer>Voet van de site</footer></body></html>"""
    assert [p.text for p in parse_html(bare, "kst-99999-1").paragraphs] == ["Alleen dit telt."]


def test_generic_footnotes_by_number():
    html = b"""<html><body><article>
      <p>Tekst met noot<sup><a href="#fn1" class="footnote-ref">1</a></sup> en verder.</p>
      <section class="footnotes"><ol><li id="fn1">Zie
        <a href="https://zoek.officielebekendmakingen.nl/stb-2019-288.html">Stb. 2019, 288</a>
      </li></ol></section>
    </article></body></html>"""
    document = parse_html(html, "kst-99999-2")
    assert [p.text for p in document.paragraphs] == ["Tekst met noot en verder."]
    (footnote,) = document.footnotes
    assert (footnote.text, footnote.paragraph, footnote.offset) == ("Zie Stb. 2019, 288", 1, 14)
    (citation,) = document.paragraph(1).citations
    assert (citation.id, citation.kind, citation.footnote) == ("stb-2019-288", "staatsblad", 1)


@pytest.mark.parametrize(
    "marker",
    [
        '<sup class="nootnum"><a href="#n3">3</a></sup>',
        '<a href="#n3">3</a>',
        '<a class="noteref" href="#elders">3</a>',
    ],
)
def test_other_marker_renderings(marker):
    html = f"""<html><body><div class="stuk"><p>Zin met noot{marker}.</p>
      <p>Zie <a href="#boven">boven</a> en <sup>2</sup> keer.</p></div>
      <div class="noten"><p><span>3</span> De noot.</p></div></body></html>"""
    document = parse_html(html.encode(), "kst-99999-4")
    assert [p.text for p in document.paragraphs] == ["Zin met noot.", "Zie boven en 2 keer."]
    assert [(f.n, f.text, f.paragraph, f.offset) for f in document.footnotes] == [(3, "De noot.", 1, 12)]


def test_an_id_is_required():
    with pytest.raises(ParseError, match="doc_id"):
        parse_html(b"<html><body><p>Zonder id</p></body></html>")


def test_self_links_are_not_citations():
    html = b'<html><body><p>Zie <a href="/kst-99999-3.html">dit stuk</a>.</p></body></html>'
    assert parse_html(html, "kst-99999-3").paragraph(1).citations == []


def test_soft_404_detection():
    error_page = page("soft-404.html")
    assert is_soft_404(error_page, "text/html; charset=utf-8", "https://zoek.officielebekendmakingen.nl/kst-1-1.html")
    assert is_soft_404(b"", None, "https://zoek.officielebekendmakingen.nl/Errors/404.htm?aspxerrorpath=/x")
    assert is_soft_404(
        b"<html></html>", "text/html", "https://repository.officiele-overheidspublicaties.nl/fout404.html"
    )
    assert is_soft_404(b"<p>De pagina die u zocht kan niet worden gevonden.</p>", None, None)
    for name in ("kst-33694-48.html", "ah-tk-20182019-1678.html", "kst-33694-12.xml"):
        assert not is_soft_404(page(name), "text/html", f"https://zoek.officielebekendmakingen.nl/{name}")
    assert not is_soft_404(b"%PDF-1.7 404: Pagina niet gevonden", "application/pdf", None)
    with pytest.raises(ParseError, match="not found"):
        parse_html(error_page, "kst-1-1")


def test_oversized_and_empty_pages(monkeypatch):
    from searchdoc import settings

    with pytest.raises(ParseError):
        parse_html(b"   ", "kst-1-1")
    monkeypatch.setattr(settings, "MAX_RESPONSE_BYTES", 100)
    with pytest.raises(UnsafeContentError, match="exceeds the limit"):
        parse_html(page("kst-33694-48.html"), "kst-33694-48")


# --- real pages as repository.overheid.nl and the older zoek.officielebekendmakingen.nl serve them

REAL = Path(__file__).parent / "data" / "real"


@pytest.mark.parametrize(
    ("name", "doc_id", "kind", "title", "date", "first", "count"),
    [
        ("stb-2014-296.html", "stb-2014-296", "staatsblad",
         "Besluit van 14 juli 2014, houdende verlenging van de Samenwerkingsregeling waarborging plannen van "
         "aanpak landstaken Curaçao en Sint Maarten", "2014-07-14",
         "Wij Willem-Alexander, bij de gratie Gods, Koning der Nederlanden, Prins van Oranje-Nassau, enz. enz. enz.",
         9),
        ("stcrt-2013-10981.html", "stcrt-2013-10981", "staatscourant",
         "Omgevingsvergunning ‘uitbreiden van een woning, Jan Arendsland 13’, Staphorst", "2013-04-23", None, 5),
        ("trb-2017-47.html", "trb-2017-47", "tractatenblad", None, "2017-03-30",
         "Voor een overzicht van de verdragsgegevens", 1731),
        ("gmb-2017-100007.html", "gmb-2017-100007", "gemeenteblad",
         "Bekendmaking Wet op de kansspelen St. Inloophuis Velp Zuid", "2017-06-14",
         "De burgemeester c.q. burgemeester en wethouders van de gemeente Rheden maakt/maken bekend de volgende "
         "vergunning te hebben verleend:", 17),
        ("prb-2014-6.html", "prb-2014-6", "provinciaal-blad",
         "Ondermandaatbesluit directeur Concernzaken t.b.v. directeur GZH per 1 januari 2014", "2014-01-09",
         "G E L E T O P :", 24),
    ],
)
def test_real_pages_parse_without_warnings(name, doc_id, kind, title, date, first, count, recwarn):
    document = parse_html((REAL / name).read_bytes())
    assert [str(w.message)[:80] for w in recwarn] == []
    assert (document.id, document.kind, document.date, len(document.paragraphs)) == (doc_id, kind, date, count)
    if title is not None:
        assert document.title == title
    if first is not None:
        assert document.paragraphs[0].text.startswith(first)
    assert all(p.text == p.text.strip() and not p.text.endswith("|") for p in document.paragraphs)


def test_old_zoek_page_keeps_articles_tables_and_closing_lines():
    document = parse_html((REAL / "prb-2014-6.html").read_bytes())
    texts = [(p.section, p.text) for p in document.paragraphs]
    assert ("Artikel 1:", "ACF02 | Besluiten omtrent verzekeringsovereenkomsten op basis van het beschikbare budget") \
        in texts
    assert ("Artikel 4", "Den Haag, 9 januari 2014,") in texts
    assert texts[-1] == ("Artikel 4", "Dossiernummer: DOS-2012- 0006376")
    cited = {c.id for p in document.paragraphs for c in p.citations}
    assert cited == set()  # "Provinciaal Blad 2013, nr. 141" is found by enrich, not by the parser


def test_xhtml_empty_elements_stay_empty():
    data = (
        b'<?xml version="1.0" encoding="utf-8"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html xmlns="http://www.w3.org/1999/xhtml"><head>'
        b'<meta name="DC.identifier" content="stb-2014-296"/></head><body><div class="stuk">'
        b'<p><a name="p1"/>Eerste alinea.</p><p>Tweede alinea.</p></div></body></html>'
    )
    document = parse_html(data)
    assert document.id == "stb-2014-296"
    assert [p.text for p in document.paragraphs] == ["Eerste alinea.", "Tweede alinea."]
    assert all(not p.citations for p in document.paragraphs)


def test_hostile_nesting_is_compacted_and_parsed_in_one_pass():
    from searchdoc.parse.htmlprep import compact_html

    unit = "<div>" * 100 + "tekst {}" + "</div>" * 100
    count = 2_000_000 // len(unit)
    data = ("<html><body>" + "".join(unit.format(i) for i in range(count)) + "</body></html>").encode()
    markup, depth = compact_html(data)
    assert depth == 102
    assert markup.count("<div>") == count  # 99 of every 100 wrappers only repeated a boundary
    document = parse_html(data, "kst-1-1")
    assert [p.text for p in document.paragraphs] == [f"tekst {i}" for i in range(count)]


def test_compacting_keeps_boundaries_between_nested_blocks():
    data = b"<html><body><div><div>een</div>twee<div><div>drie</div></div><span>vier</span> vijf</div></body></html>"
    document = parse_html(data, "kst-1-1")
    assert [p.text for p in document.paragraphs] == ["een", "twee", "drie", "vier vijf"]


def test_a_paragraph_of_many_links_cites_each_link_where_it_stands():
    link = '<a href="https://zoek.officielebekendmakingen.nl/kst-33694-{n}.html"> Kamerstuk {n} </a> en '
    data = ("<html><body><p>" + "".join(link.format(n=n) for n in range(1, 5001)) + "</p></body></html>").encode()
    paragraph = parse_html(data, "kst-1-1").paragraphs[0]
    assert len(paragraph.citations) == 5000
    for citation in paragraph.citations:
        assert paragraph.text[citation.start : citation.end] == citation.raw == f"Kamerstuk {citation.id[10:]}"
