"""Tests for the theme taxonomy and tagger: terms, compounds, context, overrides, and measured
precision/recall against hand labels of the letter plus invented paragraphs of other documents."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchdoc import themes
from searchdoc.errors import ThemeError, UsageError
from searchdoc.parse.plaintext import parse_plaintext
from searchdoc.themes import Evidence, ThemeTagger, explain, load_taxonomy, tag

DATA = Path(__file__).parent / "data"
SEED = Path(__file__).resolve().parents[1] / "searchdoc" / "data" / "kst-33694-45.txt"
IDS = ["ai", "laws", "drones", "cyber", "nucleair", "wapenbeheersing", "internationaal-recht"]


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())[:40]


@pytest.fixture(scope="module")
def letter() -> list[tuple[str | None, str]]:
    """(section, text) of the letter's body paragraphs, as the plain-text parser reads them."""
    document = parse_plaintext(SEED.read_text(encoding="utf-8"), "kst-33694-45")
    return [(p.section, p.text) for p in document.paragraphs]


@pytest.fixture(scope="module")
def labels() -> list[dict]:
    return json.loads((DATA / "theme_labels.json").read_text(encoding="utf-8"))["paragraphs"]


@pytest.fixture(scope="module")
def tagger() -> ThemeTagger:
    return ThemeTagger(load_taxonomy(themes.bundled_taxonomy_path()))


def _micro(predicted: list[list[str]], gold: list[dict]) -> tuple[float, float]:
    correct = total_predicted = found = total_required = 0
    for tags, label in zip(predicted, gold, strict=True):
        ok = set(label["required"]) | set(label["allowed"])
        correct += sum(t in ok for t in tags)
        total_predicted += len(tags)
        found += sum(t in tags for t in label["required"])
        total_required += len(label["required"])
    precision = correct / total_predicted if total_predicted else 1.0
    recall = found / total_required if total_required else 1.0
    return precision, recall


# --- the letter ------------------------------------------------------------------------------


def test_labels_cover_the_letter_paragraphs(letter, labels):
    assert len(letter) == 30 == len(labels)
    assert [label["n"] for label in labels] == list(range(1, 31))
    for (section, text), label in zip(letter, labels, strict=True):
        assert _key(text) == _key(label["start"]), label["n"]
        assert section == label["section"], label["n"]
        assert set(label["required"]) <= set(IDS) and set(label["allowed"]) <= set(IDS)
        assert not set(label["required"]) & set(label["allowed"])
    sections = [label["section"] for label in labels]
    assert sections.count(None) == 6 and sections.count("Cybermiddelen") == 8


def test_letter_precision_and_recall(letter, labels, tagger):
    predicted = [tagger.tag(text, section) for section, text in letter]
    precision, recall = _micro(predicted, labels)
    print(f"\nletter kst-33694-45: micro precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.9
    assert recall >= 0.9


def test_tagging_speed(letter, tagger):
    fresh = ThemeTagger(tagger.taxonomy)
    rounds = 20
    # CPU time of this process, not the wall clock: other work on the machine does not count.
    started = time.process_time()
    for _ in range(rounds):
        for section, text in letter:
            fresh.tag(text, section)
    rate = rounds * len(letter) / max(time.process_time() - started, 1e-6)
    print(f"\ntagging speed: {rate:.0f} paragraphs/second")
    assert rate > 300


# --- other documents: the taxonomy is not fitted to the letter --------------------------------

OTHER_DOCUMENTS = [
    # Answers to Kamervragen about drones at airports.
    (
        "Vraag 2: Hoe vaak zijn in 2019 drones waargenomen in de nabijheid van Schiphol? "
        "Antwoord: In 2019 zijn 37 meldingen gedaan van dronewaarnemingen rond Schiphol; de "
        "Koninklijke Marechaussee onderzoekt elke melding.",
        None,
        ["drones"],
        [],
    ),
    (
        "Het kabinet test samen met de luchtvaartsector detectie- en interceptiesystemen tegen "
        "ongewenste drones. Binnen de controlezone van luchthavens geldt al een vliegverbod.",
        None,
        ["drones"],
        [],
    ),
    (
        "De politie beschikt over een eenheid die kleine UAS met netten en stoorzenders kan "
        "neutraliseren; de dronebestrijding wordt dit jaar uitgebreid naar regionale vliegvelden.",
        None,
        ["drones"],
        [],
    ),
    (
        "Deelt u de mening dat luchthavens beter beschermd moeten worden, zoals bleek na de "
        "incidenten op Gatwick? Welke counter-drone maatregelen neemt u?",
        "Beveiliging van luchthavens",
        ["drones"],
        [],
    ),
    # A cyber security strategy.
    (
        "De Nederlandse Cybersecuritystrategie beschrijft hoe het kabinet de digitale "
        "weerbaarheid van de samenleving vergroot. Statelijke actoren zetten steeds vaker "
        "ransomware en digitale spionage in tegen vitale aanbieders.",
        "Dreigingsbeeld",
        ["cyber"],
        [],
    ),
    (
        "Nederland zet zich in de Verenigde Naties in voor de toepassing van het internationaal "
        "recht en de normen voor verantwoord statelijk gedrag in cyberspace.",
        None,
        ["cyber", "internationaal-recht"],
        [],
    ),
    (
        "Het Nationaal Cyber Security Centrum (NCSC) waarschuwt organisaties voor kwetsbaarheden "
        "in veelgebruikte software en adviseert om updates direct te installeren.",
        None,
        ["cyber"],
        [],
    ),
    # The NPT and nuclear disarmament.
    (
        "De Toetsingsconferentie van het Non-Proliferatieverdrag (NPV) is een belangrijk moment. "
        "Nederland zet in op concrete stappen richting nucleaire ontwapening door de "
        "kernwapenstaten.",
        None,
        ["nucleair", "wapenbeheersing"],
        [],
    ),
    (
        "Het kabinet steunt de inwerkingtreding van het Kernstopverdrag (CTBT) en pleit voor "
        "onderhandelingen over een verdrag dat de productie van splijtstof voor kernwapens "
        "verbiedt.",
        None,
        ["nucleair"],
        ["wapenbeheersing"],
    ),
    (
        "The Netherlands remains committed to the Non-Proliferation Treaty (NPT) as the "
        "cornerstone of the global nuclear disarmament and non-proliferation regime.",
        None,
        ["nucleair", "wapenbeheersing"],
        [],
    ),
    # Other themes, in other words.
    (
        "Overheidsorganisaties die algoritmes gebruiken voor risicoprofilering nemen deze op in "
        "het algoritmeregister. Bij zelflerende systemen is uitlegbaarheid een voorwaarde.",
        None,
        ["ai"],
        [],
    ),
    (
        "The Netherlands holds that all weapon systems, including autonomous weapons, must "
        "remain under meaningful human control, and supports the Group of Governmental Experts.",
        None,
        ["laws"],
        ["wapenbeheersing", "internationaal-recht"],
    ),
    (
        "Nederland pleit binnen het Wassenaar Arrangement voor strengere exportcontrole op "
        "surveillancetechnologie en goederen voor tweeërlei gebruik.",
        None,
        ["wapenbeheersing"],
        ["cyber"],
    ),
    (
        "De inzet van bewapende drones moet altijd in overeenstemming zijn met het humanitair "
        "oorlogsrecht en het VN-Handvest.",
        None,
        ["drones", "internationaal-recht"],
        ["wapenbeheersing"],
    ),
    # No theme at all.
    (
        "De stikstofuitstoot in de landbouw moet de komende jaren fors omlaag. Provincies stellen "
        "hiervoor gebiedsplannen op en de normen worden strenger.",
        None,
        [],
        [],
    ),
    (
        "De kern van het probleem is dat de huurprijzen sneller stijgen dan de lonen; de "
        "uitvoering van het wetsvoorstel vraagt daarom extra aandacht.",
        None,
        [],
        [],
    ),
    (
        "Een dronken bestuurder reed tegen een lantaarnpaal. De AIV en de AIVD publiceerden "
        "hun jaarverslagen; de Joint Nucleus werd opgeheven.",
        None,
        [],
        [],
    ),
    (
        "Internationale samenwerking met bondgenoten en gelijkgezinde landen blijft belangrijk.",
        "Cybermiddelen",
        [],
        [],
    ),
]


@pytest.mark.parametrize(("text", "section", "required", "allowed"), OTHER_DOCUMENTS)
def test_other_documents(text, section, required, allowed, tagger):
    tags = tagger.tag(text, section)
    assert set(required) <= set(tags), tagger.explain(text, section)
    assert set(tags) <= set(required) | set(allowed), tagger.explain(text, section)


def test_other_documents_precision_and_recall(tagger):
    predicted = [tagger.tag(text, section) for text, section, _, _ in OTHER_DOCUMENTS]
    gold = [{"required": r, "allowed": a} for _, _, r, a in OTHER_DOCUMENTS]
    precision, recall = _micro(predicted, gold)
    print(f"\ninvented paragraphs: micro precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.9 and recall >= 0.9


# --- terms, compounds and acronyms ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        ("Artificiële Intelligentie speelt een grote rol.", "ai"),
        ("Het kabinet werkt aan een visie op AI en ethiek.", "ai"),
        ("De inzet van AI-systemen bij de politie.", "ai"),
        ("verantwoord gebruik van kunstmatige intelligentietechnologie", "ai"),
        ("Het debat over killerrobots.", "laws"),
        ("Het rondetafelgesprek over killer robots.", "laws"),
        ("Een autonoom wapensysteem selecteert zelf doelen.", "laws"),
        ("betekenisvolle menselijke controle", "laws"),
        ("De discussie over LAWS in Genève.", "laws"),
        ("de inzet van bewapende UAV’s", "drones"),
        ("de inzet van bewapende UAVs", "drones"),
        ("antidrone-maatregelen bij vliegvelden", "drones"),
        ("onderzoek naar dronedetectie", "drones"),
        ("onderwaterdrones voor mijnenbestrijding", "drones"),
        ("onbemande luchtvaartuigen in het luchtruim", "drones"),
        ("cyberdreigingen zijn snel toegenomen", "cyber"),
        ("kwetsbaarheden in het digitale domein", "cyber"),
        ("Cyber Security Agenda", "cyber"),
        ("het Non-Proliferatieverdrag", "nucleair"),
        ("de NPT Review Conference", "nucleair"),
        ("kernwapenvrije zone", "nucleair"),
        ("een wapenbeheersingsconferentie in Berlijn", "wapenbeheersing"),
        ("uitdagingen voor wapenbe-heersing", "wapenbeheersing"),
        ("het Missile Technology Control Regime (MTCR)", "wapenbeheersing"),
        ("de VN-ontwapeningsorganen", "wapenbeheersing"),
        ("het humanitair oorlogsrecht", "internationaal-recht"),
        ("de toepassing van het internati-onaal recht", "internationaal-recht"),
        ("de internationale rechtsorde", "internationaal-recht"),
        ("volkenrechtelijke vraagstukken", "internationaal-recht"),
    ],
)
def test_key_terms(text, theme, tagger):
    assert theme in tagger.tag(text)


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        ("De Adviesraad Internationale Vraagstukken (AIV) brengt advies uit.", "ai"),
        ("De AIVD publiceert een jaarverslag.", "ai"),
        ("The laws of the country apply.", "laws"),
        ("Een dronken bestuurder.", "drones"),
        ("de Joint Nucleus Unmanned Aerial Vehicles", "nucleair"),
        ("De kern van de zaak.", "nucleair"),
        ("de uitvoering van het beleid", "wapenbeheersing"),
        ("De rechtbank deed uitspraak over het huurrecht.", "internationaal-recht"),
        ("kunstmatige. Intelligentie", "ai"),
    ],
)
def test_look_alikes_are_not_tagged(text, theme, tagger):
    assert theme not in tagger.tag(text)


def test_footnote_marker_does_not_hide_a_word(tagger):
    assert tagger.tag("over steeds kleinere drones5, de beantwoording") == ["drones"]


def test_weak_evidence_alone_does_not_tag(tagger):
    assert tagger.scores("Het gaat om data-analyse.") == {"ai": 1.0}
    assert tagger.tag("Het gaat om data-analyse.") == []
    assert tagger.tag("Data-analyse en tekstanalyse.") == ["ai"]


def test_repeated_weak_term_counts_once(tagger):
    assert tagger.tag("data-analyse, data-analyse en nog eens data-analyse") == []


def test_contained_weaker_term_is_not_counted_twice(tagger):
    evidence = tagger.explain("betekenisvolle menselijke controle")
    assert [(e.term, e.weight) for e in evidence] == [("betekenisvolle menselijke controle", 2.0)]


# --- the section heading ----------------------------------------------------------------------


def test_heading_never_tags_on_its_own(tagger):
    text = "Internationale samenwerking met de NAVO en de OVSE speelt een belangrijke rol."
    assert tagger.tag(text, "Cybermiddelen") == []
    assert tagger.explain(text, "Cybermiddelen") == []


def test_heading_adds_context_to_weak_evidence(tagger):
    text = "De publieke kern van het internet moet beschermd worden."
    assert tagger.tag(text) == []
    assert tagger.tag(text, "Cybermiddelen") == ["cyber"]
    heading = [e for e in tagger.explain(text, "Cybermiddelen") if e.heading]
    assert heading == [Evidence("cyber", "cyber", "Cybermiddelen", 0, 13, 1.0, True)]


def test_heading_of_another_theme_adds_nothing(tagger):
    text = "De publieke kern van het internet moet beschermd worden."
    assert tagger.tag(text, "Onbemande luchtvaartuigen (UAV’s)") == []


# --- evidence and API -------------------------------------------------------------------------


def test_explain_offsets_point_at_the_matched_text(letter, tagger):
    for section, text in letter:
        for ev in tagger.explain(text, section):
            source = section if ev.heading else text
            assert source[ev.start : ev.end] == ev.text
            assert ev.theme in IDS and ev.weight > 0


def test_explain_reports_theme_term_text_and_offsets(tagger):
    text = "Er is aandacht voor antidrone-maatregelen."
    [ev] = tagger.explain(text)
    assert (ev.theme, ev.term, ev.text, ev.heading) == ("drones", "antidrone", "antidrone-maatregelen", False)
    assert text[ev.start : ev.end] == "antidrone-maatregelen"


def test_tags_follow_taxonomy_order_and_are_deterministic(letter, tagger):
    for section, text in letter:
        tags = tagger.tag(text, section)
        assert tags == sorted(tags, key=IDS.index)
        assert tags == ThemeTagger(tagger.taxonomy).tag(text, section)


def test_module_functions_use_the_bundled_taxonomy(monkeypatch):
    monkeypatch.delenv("SEARCHDOC_TAXONOMY", raising=False)
    assert tag("Cyberaanvallen en killerrobots", section=None) == ["laws", "cyber"]
    assert {e.theme for e in explain("Cyberaanvallen")} == {"cyber"}


def test_empty_and_odd_text(tagger):
    assert tagger.tag("") == []
    assert tagger.tag("   \n\n ", "Cybermiddelen") == []
    assert tagger.explain("") == []


@settings(max_examples=200, deadline=None)
@given(st.text(), st.one_of(st.none(), st.text(max_size=60)))
def test_never_crashes(tagger, text, section):
    tags = tagger.tag(text, section)
    assert set(tags) <= set(IDS)
    for ev in tagger.explain(text, section):
        assert (section if ev.heading else text)[ev.start : ev.end] == ev.text


def test_taxonomy_contents():
    taxonomy = load_taxonomy(themes.bundled_taxonomy_path())
    assert taxonomy.ids == IDS
    for theme in taxonomy:
        assert theme.label_nl and theme.label_en and theme.description
        assert {t.strength for t in theme.terms} == {"strong", "weak"}
    assert taxonomy.find("drones").label("en") == "Drones and unmanned systems"
    assert taxonomy.find("Kunstmatige Intelligentie").id == "ai"
    assert taxonomy.find("International law").id == "internationaal-recht"
    with pytest.raises(ThemeError, match="unknown theme 'robots'.*known themes: ai, laws"):
        taxonomy.find("robots")


# --- taxonomy override ------------------------------------------------------------------------

WATER = """
threshold = 1.5

[weights]
strong = 2
weak = 1

[[themes]]
id = "water"
labels = { nl = "Waterbeheer", en = "Water management" }
description = "Dijken en waterschappen."

[themes.strong]
terms = ["dijkversterking"]
prefixes = ["waterschap"]

[themes.weak]
terms = ["dijk"]
"""


def test_taxonomy_file_replaces_the_bundled_one(tmp_path):
    path = tmp_path / "water.toml"
    path.write_text(WATER, encoding="utf-8")
    taxonomy = load_taxonomy(path)
    assert taxonomy.ids == ["water"] and taxonomy.threshold == 1.5 and taxonomy.source == path
    assert tag("De waterschappen versterken de dijken.", taxonomy=taxonomy) == ["water"]
    assert tag("De dijken.", taxonomy=taxonomy) == []
    assert tag("Drones en cyberaanvallen.", taxonomy=taxonomy) == []


def test_environment_variable_selects_the_taxonomy(tmp_path, monkeypatch):
    path = tmp_path / "water.toml"
    path.write_text(WATER, encoding="utf-8")
    monkeypatch.setenv("SEARCHDOC_TAXONOMY", str(path))
    assert load_taxonomy().ids == ["water"]
    assert tag("Het waterschap en de drones.") == ["water"]
    monkeypatch.delenv("SEARCHDOC_TAXONOMY")
    assert tag("Het waterschap en de drones.") == ["drones"]


THEME = '[[themes]]\nid = "x"\nlabels = { nl = "X", en = "X" }\n'


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("threshold = ", "invalid TOML"),
        ("", "no [[themes]] defined"),
        ('[[themes]]\nlabels = { nl = "X", en = "X" }\n[themes.strong]\nterms = ["x"]', "needs an id"),
        ('[[themes]]\nid = "Cyber Theme"\n', "needs an id"),
        (
            THEME + '[themes.strong]\nterms = ["a"]\n' + THEME + '[themes.strong]\nterms = ["b"]',
            "duplicate theme id 'x'",
        ),
        (THEME + '[themes.strong]\nprefix = ["cyber"]', "unknown key 'prefix'"),
        (THEME + '[themes.strong]\nterms = "cyber"', "strong.terms must be a list of strings"),
        (THEME + "[themes.weak]\nterms = [1]", "weak.terms must be a list of strings"),
        (THEME + '[themes.strong]\nacronyms = ["New START"]', "must be a single word"),
        (THEME + '[themes.strong]\nprefixes = ["ai"]', "at least 3 letters"),
        (THEME + '[themes.strong]\nterms = ["--"]', "has no words"),
        (THEME, "theme 'x' has no terms"),
        ('[[themes]]\nid = "x"\nlabels = { nl = "X" }\n[themes.strong]\nterms = ["a"]', "non-empty en label"),
        ("threshold = 0\n" + THEME + '[themes.strong]\nterms = ["a"]', "threshold must be positive"),
        ('[weights]\nstrong = "high"\n' + THEME + '[themes.strong]\nterms = ["a"]', "weights.strong must be a number"),
        ("[weights]\nweak = -1\n" + THEME + '[themes.strong]\nterms = ["a"]', "weights.weak must be zero or more"),
        ('colour = "red"\n' + THEME + '[themes.strong]\nterms = ["a"]', "unknown key 'colour'"),
    ],
)
def test_bad_taxonomy_file(tmp_path, content, problem):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ThemeError) as info:
        load_taxonomy(path)
    message = str(info.value)
    assert problem in message
    assert str(path) in message and "\n" not in message
    assert isinstance(info.value, UsageError)


def test_unreadable_taxonomy_files(tmp_path):
    with pytest.raises(ThemeError, match="file not found"):
        load_taxonomy(tmp_path / "missing.toml")
    with pytest.raises(ThemeError, match="cannot read"):
        load_taxonomy(tmp_path)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00threshold = 1")
    with pytest.raises(ThemeError, match="not UTF-8"):
        load_taxonomy(binary)


def test_bad_environment_taxonomy_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / "broken.toml"
    path.write_text("[[themes]\n", encoding="utf-8")
    monkeypatch.setenv("SEARCHDOC_TAXONOMY", str(path))
    with pytest.raises(ThemeError, match="broken.toml: invalid TOML"):
        tag("drones")


@pytest.mark.parametrize(("text", "expected"), [
    ("Betekenisvolle menselijke controle over wapens.",
     [("laws", "betekenisvolle menselijke controle", "Betekenisvolle menselijke controle")]),
    ("menselijke - controle", [("laws", "menselijke controle", "menselijke - controle")]),
    ("menselijke; controle", []),
    ("kunstmatige intelligentietechnologie",
     [("ai", "kunstmatige intelligentie", "kunstmatige intelligentietechnologie")]),
    ("kunstmatige; intelligentie", []),
    ("kunstmatige", []),
])
def test_phrases_match_across_gaps_and_into_compounds_only(text, expected):
    # The tagger checks a phrase's next words by their analysis before their spans; a gap of
    # punctuation other than hyphens and quotes still breaks a phrase.
    evidence = ThemeTagger().explain(text)
    assert [(e.theme, e.term, e.text) for e in evidence] == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40), st.integers(1, 10), st.sampled_from([1.0, 0.5])),
                max_size=60))
def test_dedupe_keeps_what_the_pairwise_rule_keeps(spans):
    from searchdoc.themes import _Rule

    raw = [(_Rule(theme, f"t{theme}", weight), start, start + length) for theme, start, length, weight in spans]
    expected_order = sorted(raw, key=lambda r: (r[1], -(r[2] - r[1]), -r[0].weight, r[0].theme))
    expected: list = []
    for rule, start, end in expected_order:
        if not any(r.theme == rule.theme and s <= start and end <= e for r, s, e in expected):
            expected.append((rule, start, end))
    assert ThemeTagger._dedupe(list(raw)) == expected


def test_a_very_long_paragraph_is_split_and_still_tagged():
    from searchdoc import settings as searchdoc_settings
    from searchdoc.pipeline import enrich, parse_source

    sentence = ("Autonome wapensystemen en drones vragen om betekenisvolle menselijke controle "
                "(Kamerstuk 33 694, nr. 12). ")
    text = sentence * (1_000_000 // len(sentence))
    document = enrich(parse_source(text.encode(), "text", "kst-1-1"))
    cap = searchdoc_settings.MAX_PARAGRAPH_CHARS
    assert len(document.paragraphs) >= len(text) // cap
    assert all(len(p.text) <= cap and p.text.endswith(").") for p in document.paragraphs)
    assert " ".join(p.text for p in document.paragraphs) == text.strip()
    assert [p.n for p in document.paragraphs] == list(range(1, len(document.paragraphs) + 1))
    assert all(p.citations[0].id == "kst-33694-12" for p in document.paragraphs)
    assert {"laws", "drones"} <= set(tag(document.paragraphs[-1].text))
