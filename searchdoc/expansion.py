"""Query expansions beyond the synonym table: derived word forms, related policy terms and the
head of a compound the index does not hold, each scored in its own tier below literal matches.

* **Derived forms** (``DERIVED_TIER``, between compound parts and synonyms): Dutch derivation
  and inflection by suffix alternation (detectie ~ detecteren, ethiek ~ ethische, terrorisme ~
  terroristen, toetsen ~ toetst ~ toetsing, mens ~ menselijke), each candidate kept only when the
  index holds its term: the rules propose, the corpus's own vocabulary decides.
* **Related terms** (``RELATED_TIER``, below synonyms): the policy thesaurus
  (``data/thesaurus.toml``) links a concept's terms to related ones (kernwapens ~ nucleaire
  ontwapening, INF-verdrag; exportcontrole ~ uitvoer, MTCR), looked up for the words typed, for
  their synonyms (so English words reach Dutch related terms) and for their derived forms. In this
  tier too: a synonym found as a compound part, and the last part of a two-part compound the
  index does not hold (cyberspionage: spionage).

The queries are Term, Phrase, Tier and BestOf nodes only, which the vectorised executor runs.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from whoosh import query as wq

from searchdoc import analysis

#: English function words a query in English need not find (Dutch ones come from Whoosh's list);
#: only those that are not also Dutch words.
ENGLISH_FUNCTION_WORDS = frozenset(
    "a an and are as at be by for from has have how is it its of on or that the their this to was what "
    "when where which who why will with".split()
)

#: Score bands (per word), with query.LITERAL_TIER 3, PARTS_TIER 2 and SYNONYM_TIER 1.
DERIVED_TIER = 1.5
RELATED_TIER = 0.5

#: Suffixes that replace each other in Dutch derivation and inflection, one family per tuple.
#: A word ending in one suffix of a family proposes the same base with each other suffix.
SUFFIX_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("tie", "teren", "teert", "teerde", "teerd", "tor", "toren"),  # detectie, detecteren, detector
    ("atie", "eren", "eert", "eerde", "eerd"),  # organisatie, organiseren
    ("icatie", "ieren", "ieert", "ieerd"),  # verificatie, verifiëren
    ("ering", "eren", "eert", "eerde", "eerd"),  # modernisering, moderniseren
    ("iek", "isch", "ische", "ici"),  # ethiek, ethisch, ethische; techniek, technisch
    ("ie", "isch", "ische"),  # technologie, technologisch; biologie, biologische
    ("isme", "ist", "isten", "istisch", "istische"),  # terrorisme, terrorist, terroristen
    ("age", "eren", "eert", "eerde"),  # spionage, spioneren; sabotage, saboteren
    ("ant", "antie"),  # transparant, transparantie
    ("ent", "entie"),  # efficiënt, efficiëntie
    ("", "heid"),  # veilig, veiligheid
    ("", "elijk", "elijke"),  # mens, menselijk, menselijke
)
#: Verb forms: infinitive, stem + t, past tense, participle and the -ing noun.
_VERB_ENDINGS = ("en", "t", "de", "te", "ing", "ingen")
#: A base shorter than this proposes nothing (too many words share three letters).
MIN_BASE = 3
#: The last part of an unknown compound stands in for it only when both parts are at least this
#: long and the compound has exactly two parts: longer splits are usually misspellings.
MIN_HEAD = 4
#: ... and only when at most this share of the paragraphs has the head.
HEAD_SHARE = 0.05


# --------------------------------------------------------------------------- derived forms


def _verb_stems(word: str) -> set[str]:
    """The verb stem(s) a form may come from: toetsen, toetst, toetste, toetsing -> toets;
    halen, haalt -> haal; kiezen, kiest -> kies."""
    stems: set[str] = set()
    for ending in ("ingen", "ing", "en", "de", "te", "t", "d"):
        if word.endswith(ending) and len(word) - len(ending) >= MIN_BASE:
            base = word[: -len(ending)]
            if ending in ("en", "ing", "ingen"):
                # Spelling of the stem before a vowel: halen -> haal, kiezen -> kies.
                stems.update(analysis._base_candidates(base) or [base])
            else:
                stems.add(base)
    if word.startswith("ge") and len(word) > 6 and word.endswith(("d", "t")):
        stems.add(word[2:-1])  # getoetst -> toets
    return {s for s in stems if len(s) >= MIN_BASE}


def _verb_forms(stem: str) -> set[str]:
    """Forms of a verb from its stem, with Dutch spelling: a long vowel is written single before
    a vowel (haal -> halen), f and s voice (leef -> leven, kies -> kiezen), a short vowel doubles
    the consonant (zet -> zetten)."""
    forms = {stem + "t", stem + "te", stem + "de", "ge" + stem + "t", "ge" + stem + "d"}
    open_ = stem
    if len(stem) >= 3 and stem[-2] == stem[-3] and stem[-2] in "aeou" and stem[-1] not in "aeiou":
        open_ = stem[:-3] + stem[-2] + stem[-1]
    voiced = open_[:-1] + {"f": "v", "s": "z"}.get(open_[-1], open_[-1])
    for base in {open_, voiced}:
        forms.update({base + "en", base + "ing", base + "ingen"})
    if len(stem) >= 3 and stem[-1] not in "aeiou" and stem[-2] in "aeiou" and stem[-3] not in "aeiou":
        forms.update({stem + stem[-1] + "en", stem + stem[-1] + "ing"})
    return forms


@lru_cache(maxsize=4096)
def derived_candidates(folded: str) -> tuple[str, ...]:
    """Words derived from or inflecting ``folded`` (a folded word) by Dutch suffix rules, whether
    or not they exist: the caller keeps those whose term the index holds."""
    if not folded.isalpha() or len(folded) < MIN_BASE + 1:
        return ()
    out: set[str] = set()
    words = {folded, analysis.lemma(folded)}
    for word in words:
        for family in SUFFIX_FAMILIES:
            for suffix in sorted(family, key=len, reverse=True):
                if word.endswith(suffix) and len(word) - len(suffix) >= MIN_BASE:
                    base = word[: len(word) - len(suffix)] if suffix else word
                    out.update(base + other for other in family if other != suffix)
                    break
        for stem in _verb_stems(word):
            out.update(_verb_forms(stem))
            out.add(stem)
    out -= words
    return tuple(sorted(c for c in out if len(c) > MIN_BASE))


def derived_terms(word: str, reader) -> list[str]:
    """The index terms of the derived forms of ``word`` that ``reader`` holds in ``text`` or as a
    compound part, without the word's own term."""
    folded = analysis.fold(word)
    own = analysis.stem(folded)
    found: dict[str, None] = {}
    for candidate in derived_candidates(folded):
        term = analysis.stem(candidate)
        if term == own or len(term) <= MIN_BASE:
            continue
        if ("text", term) in reader or ("parts", term) in reader:
            found.setdefault(term, None)
    return list(found)


# --------------------------------------------------------------------------- the thesaurus


def bundled_thesaurus_path() -> Path:
    return Path(__file__).resolve().parent / "data" / "thesaurus.toml"


@dataclass(frozen=True)
class Concept:
    """Terms of one policy concept, related to each other and to the ``related`` terms (one way:
    a specific term such as INF-verdrag does not broaden into the concept)."""

    name: str
    terms: tuple[str, ...]
    related: tuple[str, ...]


def read_thesaurus(path: Path) -> list[Concept]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        Concept(entry.get("name", ""), tuple(entry.get("terms", ())), tuple(entry.get("related", ())))
        for entry in data.get("concept", [])
    ]


class Thesaurus:
    """Related-term lookups on analysed terms, compared as the synonym table compares them
    (compound parts stemmed, so kernwapens meets kernwapen and "nucleaire wapens")."""

    def __init__(self, concepts: list[Concept]):
        self.concepts = concepts
        self._index: dict[tuple[str, ...], dict[tuple[str, ...], str]] = {}
        self._longest = 0
        for concept in concepts:
            for a in concept.terms:
                for b in concept.related + tuple(t for t in concept.terms if t != a):
                    self._link(a, b)

    def _link(self, phrase: str, other: str) -> None:
        sequence = tuple(analysis.phrase_terms(phrase))
        target = tuple(analysis.phrase_terms(other))
        if not sequence or not target:
            return
        # The synonym table's comparison key: compound parts, stemmed.
        key = analysis._key(sequence)
        self._index.setdefault(key, {}).setdefault(target, other)
        self._longest = max(self._longest, len(key))

    def matches(self, terms: list[str]) -> list[analysis.SynonymMatch]:
        """Spans of ``terms`` naming a concept term, with its related terms."""
        flat, owner = analysis._flat_parts(terms)
        found = []
        for i, j in analysis.word_aligned_spans(owner, self._longest):
            related = self._index.get(tuple(flat[i:j]))
            if related:
                found.append(analysis.SynonymMatch(owner[i], owner[j - 1] + 1, tuple(related), tuple(related.values())))
        return found

    def expansions(self, terms: list[str]) -> list[list[str]]:
        """The related term sequences of ``terms`` as a whole (a related term for one word of
        several would change what the others mean: "nucleaire wapens" is not "INF-verdrag wapens")."""
        whole = [m for m in self.matches(terms) if m.start == 0 and m.end == len(terms)]
        return analysis.substitute(terms, whole)


@lru_cache(maxsize=1)
def thesaurus() -> Thesaurus:
    """The bundled policy thesaurus, read once per process."""
    return Thesaurus(read_thesaurus(bundled_thesaurus_path()))


# --------------------------------------------------------------------------- query pieces


def _reading(fieldname: str, sequence) -> wq.Query | None:
    sequence = [t for t in sequence if t]
    if not sequence:
        return None
    if len(sequence) == 1:
        return wq.Term(fieldname, sequence[0])
    return wq.Phrase(fieldname, list(sequence))


def _readings(sequences) -> list:
    """Each sequence on ``text``; a single term also as a compound part."""
    out = []
    for sequence in sequences:
        out.append(_reading("text", sequence))
        if len(sequence) == 1:
            out.append(_reading("parts", sequence))
    return [q for q in out if q is not None]


def _unique(queries) -> list:
    return list(dict.fromkeys(q for q in queries if q is not None))


#: Per open index reader, the expansions of the words searched: a warm search looks them up
#: instead of checking dozens of candidate forms against the index again.
_READER_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CACHE_WORDS = 4096


def word_expansions(word: str, terms: list[str], synonyms, reader) -> tuple[list, list]:
    """(derived readings, related readings) of one typed word whose ``text`` terms are ``terms``,
    kept per reader (queries are never changed once built, so they can be shared).

    Without a ``reader`` there is no vocabulary to check derived forms against, so none."""
    if reader is None:
        return _word_expansions(word, terms, synonyms, reader)
    try:
        cache = _READER_CACHE.setdefault(reader, {})
    except TypeError:  # a reader that cannot be weakly referenced
        return _word_expansions(word, terms, synonyms, reader)
    key = (word, tuple(terms))
    found = cache.get(key)
    if found is None or found[0] is not synonyms:
        if len(cache) >= _CACHE_WORDS:
            cache.clear()
        found = cache[key] = (synonyms, _word_expansions(word, terms, synonyms, reader))
    return found[1]


def _word_expansions(word: str, terms: list[str], synonyms, reader) -> tuple[list, list]:
    derived: list = []
    related_sequences: list[list[str]] = []
    forms: list[list[str]] = [terms]
    if reader is not None and len(terms) == 1 and word.isalpha():
        found = derived_terms(word, reader)
        derived = _readings([[t] for t in found])
        forms += [[t] for t in found]
        own = analysis.fold(word)
        parts = analysis.split_compound(own)
        head = analysis.stem(parts[-1])
        if (("text", terms[0]) not in reader and len(parts) == 2 and all(len(p) >= MIN_HEAD for p in parts)
                and reader.doc_frequency("parts", head) <= HEAD_SHARE * reader.doc_count()):
            # An unknown two-part compound stands for its head, if that says something:
            # cyberspionage for spionage, but not kernwapens for any wapens.
            related_sequences.append([head])
    if reader is not None and len(terms) == 1:
        # Derived forms of a one-word synonym (detection: detectie, then detecteren).
        for match in synonyms.matches(terms):
            for phrase in match.phrases:
                if phrase.isalpha():
                    related_sequences += [[t] for t in derived_terms(phrase, reader)]
    if len(terms) == 1 and word.isalpha():
        # Synonyms of every derived form, whether or not the index holds the form itself
        # (adviseerde: adviseren, whose synonym advies it does hold).
        stems = {analysis.stem(c) for c in derived_candidates(analysis.fold(word))} - {terms[0]}
        for stem in sorted(stems):
            related_sequences += synonyms.expansions([stem])
    for form in forms:
        expanded = synonyms.expansions(form)
        if form is not terms:
            related_sequences += expanded
        # Synonyms as compound parts (kennisinstituten for instituut's synonyms).
        related_sequences += [s for s in expanded if len(s) == 1]
        for sequence in [form] + expanded:
            related_sequences += thesaurus().expansions(sequence)
    seen = {tuple(terms)}
    unique = []
    for sequence in related_sequences:
        if tuple(sequence) not in seen:
            seen.add(tuple(sequence))
            unique.append(sequence)
    return _unique(derived), _unique(_readings(unique))


def span_related(terms: list[str], synonyms) -> list:
    """Related readings of several words that together name a synonym (nuclear disarmament)."""
    sequences: list[list[str]] = []
    for sequence in [terms] + synonyms.expansions(terms):
        sequences += thesaurus().expansions(sequence)
    return _unique(_readings(sequences))
