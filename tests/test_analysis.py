"""Tests of the Dutch analysis chain: folding, compounds, stemming, synonyms, acronyms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchdoc import analysis
from searchdoc.analysis import (
    analyze,
    find_acronym_definitions,
    fold,
    lemma,
    load_synonyms,
    part_tokens,
    phrase_terms,
    plain_stem,
    rejoin_line_break,
    split_compound,
    stem,
    terms,
    tokenize,
)
from searchdoc.errors import InputFileError

# The bundled copy of the seed letter (identical to shared/seed/kst-33694-45.txt).
SEED = Path(analysis.__file__).resolve().parent / "data" / "kst-33694-45.txt"


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def synonyms():
    return load_synonyms()


def word_stem(word: str) -> str:
    return stem(fold(word))


def part_terms(text: str) -> list[str]:
    return [t.term for t in part_tokens(text)]


def contains_run(haystack: list[str], needle: list[str]) -> bool:
    """Whether ``needle`` occurs in ``haystack`` as consecutive items (a phrase match)."""
    return any(haystack[i : i + len(needle)] == needle for i in range(len(haystack)))


# --------------------------------------------------------------------------- folding


@pytest.mark.parametrize(
    "word, folded",
    [
        ("Geïntegreerde", "geintegreerde"),
        ("Geintegreerde", "geintegreerde"),
        ("Gei\u0308ntegreerde", "geintegreerde"),  # decomposed ï
        ("UAV’s", "uav"),
        ("UAV's", "uav"),
        ("UAV‘s", "uav"),
        ("risico’s", "risico"),
        ("agenda's", "agenda"),
        ("ﬁnanciën", "financien"),  # ligature and diaeresis
        ("ＮＡＶＯ", "navo"),  # full width
        ("attachés", "attaches"),
        ("G20", "g20"),
        ("2018", "2018"),
        ("wapen\u00adbeheersing", "wapenbeheersing"),  # soft hyphen from a PDF
        ("UAV’s-operaties", "uav-operaties"),
        ("zo’n", "zon"),
    ],
)
def test_fold(word, folded):
    assert fold(word) == folded


@pytest.mark.parametrize(
    "text, words",
    [
        ("Gei\u0308ntegreerde Buitenland-", ["Gei\u0308ntegreerde", "Buitenland"]),
        ("het INF-verdrag.", ["het", "INF-verdrag"]),
        ("(UAV’s, ook wel drones)", ["UAV’s", "ook", "wel", "drones"]),
        ("wapen\u00adbeheersing", ["wapen\u00adbeheersing"]),
        ("«drones en killer robots»", ["drones", "en", "killer", "robots"]),
        ("snake_case", ["snake_case"]),
    ],
)
def test_tokenize_keeps_words_whole(text, words):
    assert [w for w, _, _ in tokenize(text)] == words


# --------------------------------------------------------------------------- stemming


@pytest.mark.parametrize(
    "singular, plural",
    [
        ("drone", "drones"),
        ("robot", "robots"),
        ("UAV", "UAV’s"),
        ("UAV", "UAVs"),
        ("technologie", "technologieën"),
        ("strategie", "strategieën"),
        ("idee", "ideeën"),
        ("middel", "middelen"),
        ("systeem", "systemen"),
        ("wapensysteem", "wapensystemen"),
        ("autonoom", "autonome"),
        ("wapen", "wapens"),
        ("actie", "acties"),
        ("man", "mannen"),
        ("huis", "huizen"),
        ("bedrijf", "bedrijven"),
        ("brief", "brieven"),
        ("advies", "adviezen"),
        ("gebeurtenis", "gebeurtenissen"),
        ("proces", "processen"),
        ("attaché", "attachés"),
        ("cadeau", "cadeaus"),
        ("effectief", "effectieve"),
        ("snel", "snelle"),
        ("maatregel", "maatregelen"),
        ("killerrobot", "killerrobots"),
        ("onderwaterdrone", "onderwaterdrones"),
        ("risico", "risico’s"),
    ],
)
def test_singular_and_plural_meet(singular, plural):
    assert word_stem(singular) == word_stem(plural)


@pytest.mark.parametrize(
    "a, b",
    [
        ("drone", "drones"),
        ("technologie", "technologieën"),
        ("wapen", "wapens"),
        ("man", "mannen"),
        ("bedrijf", "bedrijven"),
    ],
)
def test_plain_snowball_needs_the_lemma_step(a, b):
    # These are the pairs the lemma rules exist for: pure Snowball keeps them apart.
    assert plain_stem(a) != plain_stem(b)
    assert word_stem(a) == word_stem(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("tijdens", "tijd"),  # an adverb, not a plural
        ("volgens", "volgen"),
        ("namens", "naam"),
        ("alleen", "alle"),
        ("open", "op"),
        ("toen", "toe"),
        ("lees", "lee"),
        ("chaos", "chao"),
        ("gebied", "bieden"),  # the new Snowball Dutch strips ge-; the classic one must be used
    ],
)
def test_unrelated_words_stay_apart(a, b):
    assert word_stem(a) != word_stem(b)


def test_lemma_only_replaces_known_words():
    assert lemma("drones") == "drone"
    assert lemma("technologieen") == "technologie"
    assert lemma("xyzzyen") == "xyzzyen"
    assert lemma("2018") == "2018"


def test_digits_are_kept():
    assert terms("G20 in 2018 en 20163") == ["g20", "in", "2018", "en", "20163"]


def test_plain_stem_is_classic_snowball():
    assert plain_stem("wapensystemen") == "wapensystem"
    assert plain_stem("Gebieden") == "gebied"
    assert plain_stem("drones") == "drones"


# --------------------------------------------------------------------------- compounds

COMPOUNDS = {
    "wapenbeheersingsconferentie": ["wapen", "beheersing", "conferentie"],
    "wapenbeheersingsarchitectuur": ["wapen", "beheersing", "architectuur"],
    "wapenbeheersing": ["wapen", "beheersing"],
    "killerrobots": ["killer", "robots"],
    "onderwaterdrones": ["onder", "water", "drones"],
    "cyberdreigingen": ["cyber", "dreigingen"],
    "cybermiddelen": ["cyber", "middelen"],
    "kamercommissie": ["kamer", "commissie"],
    "veiligheidsrisico": ["veiligheid", "risico"],
    "veiligheidsbeleid": ["veiligheid", "beleid"],
    "veiligheidsstrategie": ["veiligheid", "strategie"],
    "ontwapeningsagenda": ["ontwapening", "agenda"],
    "beeldherkenning": ["beeld", "herkenning"],
    "risicoanalyse": ["risico", "analyse"],
    "kenniscentra": ["kennis", "centra"],
    "afweersysteem": ["afweer", "systeem"],
    "wapensystemen": ["wapen", "systemen"],
    "kabinetsreactie": ["kabinet", "reactie"],
    "meningsverschillen": ["mening", "verschillen"],
    "luchtvaartuigen": ["lucht", "vaartuigen"],
    "onderzoeksinstellingen": ["onderzoek", "instellingen"],
    "intelligentietechnologie": ["intelligentie", "technologie"],
    "ziekenhuisopname": ["ziekenhuis", "opname"],
    "verkeersveiligheid": ["verkeer", "veiligheid"],
    "belastingdienst": ["belasting", "dienst"],
    "woningmarkt": ["woning", "markt"],
    "energietransitie": ["energie", "transitie"],
    "zorgverzekering": ["zorg", "verzekering"],
    "regeringsbeleid": ["regering", "beleid"],
    "stikstofuitstoot": ["stikstof", "uitstoot"],
    "vluchtelingenopvang": ["vluchtelingen", "opvang"],
    "defensiebegroting": ["defensie", "begroting"],
    "kernwapenverdrag": ["kern", "wapen", "verdrag"],
    "oorlogsmisdaden": ["oorlog", "misdaden"],
    "exportvergunning": ["export", "vergunning"],
    "ontwikkelingshulp": ["ontwikkeling", "hulp"],
    "studiefinanciering": ["studie", "financiering"],
}

NON_COMPOUNDS = [
    "regering",
    "nederland",
    "ontwikkeling",
    "internationaal",
    "gebeurtenis",
    "veiligheid",
    "belangrijk",
    "samenwerking",
    "onderzoek",
    "overheden",
    "verantwoordelijkheid",
    "vertegenwoordiger",
    "mogelijkheden",
    "beschikbaar",
    "aanbeveling",
    "transparantie",
    "interpretatie",
    "digitalisering",
    "voorstander",
    "onderhandelingen",
    "bestrijding",
    "uitvoering",
    "wetenschappelijk",
    "noodzakelijk",
    "democratie",
    "kunstmatige",
    "organisatie",
    "vooruitgang",
    "voldoen",
    "ministerie",
    "verschillende",
    "gezamenlijke",
    "capturing",
    "lethal",
    "committeren",
]


@pytest.mark.parametrize("word, parts", sorted(COMPOUNDS.items()))
def test_split_compound(word, parts):
    assert split_compound(word) == parts


@pytest.mark.parametrize("word", NON_COMPOUNDS)
def test_non_compounds_stay_whole(word):
    assert split_compound(word) == [word]


@pytest.mark.parametrize("word", ["", "ai", "g20", "2018", "abc", "x" * 80])
def test_split_compound_degenerate_input(word):
    assert split_compound(word) == [word]


# --------------------------------------------------------------------------- the two fields


def test_hyphenated_compound_whole_and_parts():
    tokens = analyze("het INF-verdrag")
    assert [(t.term, t.pos, t.origin) for t in tokens] == [
        ("het", 0, "word"),
        ("infverdrag", 1, "whole"),
        ("inf", 1, "part"),
        ("verdrag", 2, "part"),
    ]
    assert phrase_terms("het INF-verdrag") == ["het", "inf", "verdrag"]


@pytest.mark.parametrize(
    "query, text",
    [
        ("killer robots", "het Europees Parlement wil killerrobots verbieden"),
        ("killerrobots", "over «drones en killer robots» d.d. 21 januari"),
        ("wapenbeheersing", "de bestaande wapenbeheersingsarchitectuur"),
        ("wapenbeheersing", "een wapenbeheersingsconferentie in Berlijn"),
        ("drones", "onderwaterdrones voor mijnenbestrijding"),
        ("cyber", "zijn cyberdreigingen snel toegenomen"),
        ("drone", "over antidrone-maatregelen bij vliegvelden"),
        ("maatregel", "over antidrone-maatregelen bij vliegvelden"),
        ("wapen beheersing", "de wapenbeheersingsconferentie"),
        ("onderwater drones", "onderwaterdrones"),
        ("veiligheidsrisico", "veiligheidsrisico’s en dreigingen"),
    ],
)
def test_parts_field_matches_as_phrase(query, text):
    assert contains_run(part_terms(text), part_terms(query))


def test_parts_positions_are_consecutive():
    tokens = part_tokens("De wapenbeheersingsconferentie en antidrone-maatregelen, killer robots.")
    assert [t.pos for t in tokens] == list(range(len(tokens)))
    assert [t.term for t in tokens] == [
        "de",
        "wap",
        "beheers",
        "conferentie",
        "en",
        "anti",
        "dron",
        "maatregel",
        "killer",
        "robot",
    ]


def test_part_offsets_point_at_the_parts():
    text = "Die Geïntegreerde wapenbeheersingsconferentie!"
    spans = [text[t.start : t.end] for t in part_tokens(text)]
    assert spans == ["Die", "Geïntegreerde", "wapen", "beheersing", "conferentie"]


def test_seed_uses_compound_parts(seed_text):
    parts = set(part_terms(seed_text))
    for word in ("drones", "cyber", "beheersing", "robots", "architectuur"):
        assert word_stem(word) in parts


def _reference_tokens(text: str) -> tuple[list[tuple], list[tuple]]:
    """The same chain written plainly: every word computed afresh, no word-level cache."""
    raw_fold = analysis.fold.__wrapped__
    raw_stem = analysis.stem.__wrapped__
    raw_split = analysis.split_compound.__wrapped__
    text_tokens, parts_tokens = [], []
    pos = part_pos = 0
    for m in re.finditer(analysis._WORD.pattern, text):
        word, start = m.group(0), m.start()
        pieces, offset = [], 0
        for raw in re.split("[-\u2010\u2011]", word):
            if raw_fold(raw):
                pieces.append((raw_fold(raw), start + offset, start + offset + len(raw), raw))
            offset += len(raw) + 1
        if len(pieces) == 1:
            text_tokens.append((raw_stem(pieces[0][0]), pos, start, m.end(), "word"))
            pos += 1
        elif pieces:
            joined = "".join(p[0] for p in pieces)
            text_tokens.append((raw_stem(joined), pos, start, m.end(), "whole"))
            for i, (folded, s, e, _) in enumerate(pieces):
                text_tokens.append((raw_stem(folded), pos + i, s, e, "part"))
            pos += len(pieces)
        for folded, s, e, raw in pieces:
            split = raw_split(folded)
            if len(split) == 1:
                origin = "part" if len(pieces) > 1 else "word"
                parts_tokens.append((raw_stem(folded), part_pos, s, e, origin))
                part_pos += 1
                continue
            _, owners = analysis._fold_with_map(raw)
            at = 0
            for part in split:
                a = folded.index(part, at)
                at = a + len(part)
                span = (s + owners[a], s + owners[at - 1] + 1)
                parts_tokens.append((raw_stem(part), part_pos, *span, "part"))
                part_pos += 1
    return text_tokens, parts_tokens


def test_cached_chain_equals_plain_chain_on_seed(seed_text):
    def as_tuples(tokens):
        return [(t.term, t.pos, t.start, t.end, t.origin) for t in tokens]

    analyze(seed_text)  # warm every cache, then run the cached path
    cached = (as_tuples(analyze(seed_text)), as_tuples(part_tokens(seed_text)))
    analysis.clear_caches()
    reference = _reference_tokens(seed_text)
    assert cached[0] == reference[0]
    assert cached[1] == reference[1]
    assert len(cached[0]) > 2500


# --------------------------------------------------------------------------- property tests

_DUTCH_BITS = st.sampled_from(
    [
        "wapenbeheersingsconferentie",
        "UAV’s",
        "risico's",
        "INF-verdrag",
        "antidrone-maatregelen",
        "Geïntegreerde",
        "Gei\u0308ntegreerde",
        "ﬁ",
        "\u00ad",
        "\u200b",
        "-",
        "‐",
        "’",
        "'",
        "´",
        " ",
        "\n",
        "(",
        ")",
        "«",
        "»",
        "2018",
        "G20",
        "ß",
        "İ",
        "ǅ",
        "\u0301",
        "killerrobots",
    ]
)
_TEXT = st.lists(st.one_of(_DUTCH_BITS, st.text(max_size=12)), max_size=25).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_analysis_never_crashes_and_offsets_lie_in_text(text):
    for tokens in (analyze(text), part_tokens(text)):
        last_pos = -1
        for t in tokens:
            assert t.term
            assert 0 <= t.start < t.end <= len(text)
            assert t.pos >= last_pos
            last_pos = t.pos
    parts = part_tokens(text)
    assert [t.pos for t in parts] == list(range(len(parts)))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_fold_split_stem_never_crash(word):
    folded = fold(word)
    assert fold(folded) == folded
    for part in split_compound(folded):
        stem(part)
    find_acronym_definitions(word)


# --------------------------------------------------------------------------- synonyms


def _alternatives(table, query: str) -> list[list[str]]:
    return table.expansions(terms(query))


@pytest.mark.parametrize(
    "query, expected",
    [
        ("AI", "kunstmatige intelligentie"),
        ("kunstmatige intelligentie", "AI"),
        ("artificiële intelligentie", "kunstmatige intelligentie"),
        ("LAWS", "autonome wapensystemen"),
        ("autonoom wapensysteem", "LAWS"),  # inflected differently from the listed form
        ("killerrobot", "autonome wapensystemen"),  # closed compound of "killer robots"
        ("killer robots", "dodelijke autonome wapensystemen"),
        ("UAV’s", "drones"),
        ("drone", "onbemande luchtvaartuigen"),
        ("RPAS", "UAV"),
        ("NATO", "NAVO"),
        ("VN", "Verenigde Naties"),
        ("UN", "VN"),
        ("OECD", "OESO"),
        ("EU", "Europese Unie"),
        ("GBVS", "Geïntegreerde Buitenland- en Veiligheidsstrategie"),
        ("NVS", "Nationale Veiligheidsstrategie"),
        ("NCSA", "Nationale Cyber Security Agenda"),
        ("ICS", "Internationale Cyber Strategie"),
        ("NPV", "non-proliferatieverdrag"),
        ("non-proliferatieverdrag", "NPT"),
        ("secretaris-generaal van de Verenigde Naties", "SGVN"),
        ("CCW", "Convention on Certain Conventional Weapons"),
        ("AIV", "Adviesraad Internationale Vraagstukken"),
        ("MTCR", "Missile Technology Control Regime"),
    ],
)
def test_synonym_expansions(synonyms, query, expected):
    assert phrase_terms(expected) in _alternatives(synonyms, query)


def test_expansion_replaces_only_the_matched_span(synonyms):
    alternatives = _alternatives(synonyms, "plannen voor AI")
    assert terms("plannen voor kunstmatige intelligentie") in alternatives
    assert all(alt[:2] == terms("plannen voor") for alt in alternatives)


def test_matches_report_span_and_written_phrases(synonyms):
    [match] = synonyms.matches(terms("het VN-secretariaat"))
    assert (match.start, match.end) == (1, 2)  # the joined whole "vnsecretariat" is dropped
    assert "Verenigde Naties" in match.phrases
    assert len(match.phrases) == len(match.alternatives)


def test_repeated_words_are_kept(synonyms):
    alternatives = _alternatives(synonyms, "drones drones")
    assert ["uav", "dron"] in alternatives
    assert ["dron", "uav"] in alternatives


def test_no_expansion_for_ordinary_words(synonyms):
    assert _alternatives(synonyms, "het bericht") == []
    # A synonym inside a longer word is not a match: "robot" alone is not "killer robots".
    assert all("law" not in alt for alt in _alternatives(synonyms, "robot"))


def test_user_file_extends_bundled(tmp_path):
    user = tmp_path / "syn.toml"
    user.write_text('[[group]]\nterms = ["drones", "quadcopters"]\n', encoding="utf-8")
    table = load_synonyms(user)
    alternatives = _alternatives(table, "quadcopters")
    assert ["uav"] in alternatives  # merged with the bundled UAV group through "drones"
    assert phrase_terms("kunstmatige intelligentie") in _alternatives(table, "AI")


def test_user_file_can_replace_bundled(tmp_path):
    user = tmp_path / "syn.toml"
    user.write_text('replace = true\n[[group]]\nterms = ["fiets", "rijwiel"]\n', encoding="utf-8")
    table = load_synonyms(str(user))
    assert _alternatives(table, "AI") == []
    assert _alternatives(table, "rijwiel") == [terms("fiets")]


@pytest.mark.parametrize(
    "content",
    ["[[group]\nterms = 1", '[[group]]\nterms = "AI"\n', "replace = 3\n", "\udcff"],
)
def test_bad_user_file_raises(tmp_path, content):
    user = tmp_path / "syn.toml"
    user.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(InputFileError):
        load_synonyms(user)


def test_missing_user_file_raises(tmp_path):
    with pytest.raises(InputFileError):
        load_synonyms(tmp_path / "absent.toml")


def test_corpus_definitions_join_the_table(synonyms, seed_text):
    table = load_synonyms()
    table.add_definitions([("KMar", "Koninklijke Marechaussee"), ("Wiv", "Wet op de inlichtingen")])
    assert phrase_terms("Koninklijke Marechaussee") in _alternatives(table, "KMar")
    assert ["wiv"] in _alternatives(table, "wet op de inlichtingen")
    # Defining an acronym that is already known merges with its group.
    table.add_definitions([("OESO", "Organisatie voor Economische Samenwerking en Ontwikkeling")])
    assert ["oecd"] in _alternatives(table, "OESO")
    assert len(table.groups) == len(synonyms.groups) + 1


# --------------------------------------------------------------------------- acronyms

SEED_DEFINITIONS = [
    ("GBVS", "Geïntegreerde Buitenland- en Veiligheidsstrategie"),
    ("NVS", "nationale veiligheidsstrategie"),
    ("SGVN", "Secretaris-Generaal van de Verenigde Naties"),
    ("UNIDIR", "United Nations Institute for Disarmament Research"),
    ("AI", "Artificiële Intelligentie"),
    ("OESO", "Organisatie voor Economische Samenwerking en Ontwikkeling"),
    ("LAWS", "Lethal Autonomous Weapon Systems"),
    ("TNO", "toegepast-natuurwetenschappelijk onderzoek"),
    ("NLR", "Nederlands Lucht- en Ruimtevaartcentrum"),
    ("MARIN", "Maritime Research Institute Netherlands"),
    ("AIV", "Adviesraad Internationale Vraagstukken"),
    ("CAVV", "Commissie van Advies inzake Volkenrechtelijke Vraagstukken"),
    ("GGE", "Group of Governmental Experts"),
    ("KMar", "Koninklijke Marechaussee"),
    ("MTCR", "Missile Technology Control Regime"),
    ("ICS", "Internationale Cyber Strategie"),
    ("NCSA", "Nationale Cyber Security Agenda"),
    ("GCSC", "Global Commission on the Stability of Cyberspace"),
    ("OVSE", "Organisatie voor Veiligheid en Samenwerking in Europa"),
    ("SIPRI", "Stockholm International Peace Research Institute"),
]


def test_acronyms_in_seed(seed_text):
    found = find_acronym_definitions(seed_text)
    for pair in SEED_DEFINITIONS:
        assert pair in found
    acronyms = {a for a, _ in found}
    # "(UAV’s)" follows "onbemande luchtvaartuigen", whose initials do not spell it;
    # "(Remus)", "(BNC fiche2)" and "(2018)" are no definitions.
    assert acronyms.isdisjoint({"UAV", "Remus", "BNC"})
    assert [a for a, _ in found].index("GBVS") < [a for a, _ in found].index("SIPRI")


@pytest.mark.parametrize(
    "text, pair",
    [
        (
            "de Wet op de inlichtingen- en veiligheidsdiensten (Wiv) is",
            ("Wiv", "Wet op de inlichtingen- en veiligheidsdiensten"),
        ),
        ("De Nederlandse Cyber Security Agenda (NCSA) geeft", ("NCSA", "Nederlandse Cyber Security Agenda")),
        ("het Europees Parlement (hierna: EP) stelt", ("EP", "Europees Parlement")),
        ("(Lethal Autonomous Weapon Systems - LAWS)", ("LAWS", "Lethal Autonomous Weapon Systems")),
        ("Unmanned Aerial Vehicles (UAV’s) zijn", ("UAV", "Unmanned Aerial Vehicles")),
        (
            "Organisatie voor Veiligheid en Samen-\nwerking in Europa (OVSE)",
            ("OVSE", "Organisatie voor Veiligheid en Samenwerking in Europa"),
        ),
        ("de Noord-Atlantische Verdragsorganisatie (NAVO)", ("NAVO", "Noord-Atlantische Verdragsorganisatie")),
    ],
)
def test_acronym_patterns(text, pair):
    assert find_acronym_definitions(text) == [pair]


@pytest.mark.parametrize(
    "text",
    [
        "het Internationaal Strafhof (ICC)",
        "in Nederland (Remus) en",
        "de brief (Kamerstuk 33 694, nr. 23).",
        "onbemande luchtvaartuigen (UAV’s)",
        "(NCSA)",
        "Het is zo (NB) dat",
    ],
)
def test_no_false_acronyms(text):
    assert find_acronym_definitions(text) == []


@pytest.mark.parametrize(
    "head, tail, word",
    [
        ("veilig", "heidsstrategie", "veiligheidsstrategie"),
        ("wapenbe", "heersing", "wapenbeheersing"),
        ("Samen", "werking", "Samenwerking"),
        ("veiligheids", "implicaties", "veiligheidsimplicaties"),
        ("toegepast", "natuurwetenschappelijk", "toegepast-natuurwetenschappelijk"),
        ("contra", "terrorismebeleid", "contra-terrorismebeleid"),
        ("Toegepast", "Natuurwetenschappelijk", "Toegepast-Natuurwetenschappelijk"),
    ],
)
def test_rejoin_line_break(head, tail, word):
    assert rejoin_line_break(head, tail) == word


def test_english_frequency_lookup_equals_wordfreq():
    # The build looks English frequencies up directly; it must give wordfreq's own figures.
    import wordfreq

    words = [w for w in list(analysis._lexicon())[:400] + wordfreq.top_n_list("en", 400) if w.isalpha()]
    words += ["killerrobots", "zzzqxv", "drones", "café", "wapen-systemen", "UAV", "e"]
    for word in words:
        assert analysis._english_zipf(word) == wordfreq.zipf_frequency(word, "en"), word
