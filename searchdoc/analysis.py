"""The Dutch analysis chain used for both indexing and querying.

Pure Python, no Whoosh: ``searchdoc.index`` wraps :func:`analyze` and :func:`part_tokens` in a
Whoosh tokenizer, and the theme tagger uses the same functions, so a term means the same thing
everywhere.

The chain, each step a function that can be tested alone:

``tokenize`` -> ``fold`` (Unicode compatibility forms, case, accents, apostrophes) -> hyphenated
compounds (whole and parts) -> ``split_compound`` (closed compounds, from word frequencies) ->
``stem`` (``lemma`` by Dutch plural and inflection rules, then Snowball Dutch).

Synonyms and acronyms are data (``data/synonyms.toml``), matched on analysed terms by
:class:`SynonymTable`; :func:`find_acronym_definitions` harvests "Long Name (ACR)" pairs from a
corpus so the index can add them to the table.

Language data (the ``wordfreq`` Dutch word list, the stemmer) is loaded lazily, once, on first
use; every per-word step is cached, because a corpus repeats a small vocabulary many times.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

__all__ = [
    "SynonymMatch",
    "SynonymTable",
    "Token",
    "analyze",
    "bundled_synonyms_path",
    "clear_caches",
    "find_acronym_definitions",
    "fold",
    "lemma",
    "load_synonyms",
    "part_tokens",
    "phrase_terms",
    "plain_stem",
    "rejoin_line_break",
    "split_compound",
    "stem",
    "terms",
    "tokenize",
    "word_frequency",
]

_HYPHENS = "-\u2010\u2011"
# Characters used as an apostrophe in real text: straight, curly (both), modifier letter,
# grave and acute accents (PDF extraction and typewriter habits).
_APOSTROPHES = "'\u2019\u2018\u02bc`\u00b4"
# Soft hyphens and zero-width characters survive PDF extraction inside words; they are dropped.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
# Combining marks are not ``\w`` for ``re``: decomposed text (e + U+0308) must stay one word.
_INNER = rf"[\w\u0300-\u036f{_INVISIBLE}]*"
_WORD = re.compile(rf"[^\W_]{_INNER}(?:[{_HYPHENS}{_APOSTROPHES}][^\W_]{_INNER})*")
_HYPHEN_SPLIT = re.compile(f"[{_HYPHENS}]")
# Letters that do not decompose under NFKD but have an obvious ASCII reading.
_LETTERS = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ı": "i"})
_VOWELS = frozenset("aeiouy")
_CACHE = 1 << 19


@dataclass(slots=True)
class Token:
    """An index term with its position and the character span it came from.

    ``origin`` says how it arose: ``word`` (a whole word), ``part`` (a part of a compound)
    or ``whole`` (a hyphenated compound written without its hyphens).
    """

    term: str
    pos: int
    start: int
    end: int
    origin: str = "word"


def tokenize(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield (word, start, end) for each word, keeping internal hyphens and apostrophes."""
    for m in _WORD.finditer(text):
        yield m.group(0), m.start(), m.end()


def words(text: str) -> list[str]:
    """The words :func:`tokenize` finds, without their spans (one regex pass, for indexing)."""
    return _WORD.findall(text)


def word_matches(text: str) -> list[re.Match]:
    """The words :func:`tokenize` finds as match objects (``group``, ``span``), in one list."""
    return list(_WORD.finditer(text))


# --------------------------------------------------------------------------- folding


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    """One character folded: compatibility form (ligatures, full width), lower case, no accents."""
    if c in _INVISIBLE or c in _APOSTROPHES:
        return ""
    lowered = unicodedata.normalize("NFKC", c).lower()
    bare = "".join(x for x in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(x))
    return bare.translate(_LETTERS)


def _drop_apostrophe_s(word: str) -> str:
    """Remove a plural or genitive ``'s`` (risico's, UAV's, UAV's-operaties) before folding."""
    if not any(a in word for a in _APOSTROPHES):
        return word
    out = []
    i = 0
    n = len(word)
    while i < n:
        c = word[i]
        if (
            c in _APOSTROPHES
            and i + 1 < n
            and word[i + 1] in "sS"
            and (i + 2 == n or word[i + 2] in _HYPHENS)
            and i > 0
        ):
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _fold_with_map(word: str) -> tuple[str, tuple[int, ...]]:
    """The folded word and, for each folded character, the index of its source character."""
    kept = _drop_apostrophe_s(word)
    # Map positions in ``kept`` back to ``word`` (an apostrophe-s is at most a few characters).
    source = []
    j = 0
    for c in kept:
        while word[j] != c:
            j += 1
        source.append(j)
        j += 1
    chars: list[str] = []
    owners: list[int] = []
    for c, origin in zip(kept, source, strict=True):
        folded = c.lower() if c.isascii() and c not in _APOSTROPHES else _fold_char(c)
        chars.append(folded)
        owners.extend([origin] * len(folded))
    return "".join(chars), tuple(owners)


@lru_cache(maxsize=_CACHE)
def fold(word: str) -> str:
    """Lower-case, strip accents (Geïntegreerde = Geintegreerde), apply compatibility forms
    (ligatures, full width), drop apostrophes and a plural/genitive 's (UAV's -> uav), keep digits.
    """
    if word.isascii() and "'" not in word and "`" not in word:
        return word.lower()
    return _fold_with_map(word)[0]


# --------------------------------------------------------------------------- word frequencies


@lru_cache(maxsize=1)
def _word_list() -> dict[str, float]:
    """Folded Dutch words and their Zipf frequency (wordfreq 'large'), loaded into memory once."""
    import wordfreq

    lexicon: dict[str, float] = {}
    accented: list[tuple[str, float]] = []
    # The list comes in buckets of one centibel, commonest first: bucket i has Zipf 9 - i/100.
    for i, bucket in enumerate(wordfreq.get_frequency_list("nl", wordlist="large")):
        zipf = 9.0 - i / 100
        for word in bucket:
            if not word.isalpha():
                continue
            if word.isascii():
                lexicon.setdefault(word, zipf)
            else:
                accented.append((word, zipf))
    for word, zipf in accented:
        key = fold(word)
        if key in lexicon:
            # geïntegreerde and geintegreerde are one folded word: add their frequencies.
            zipf = math.log10(10 ** lexicon[key] + 10**zipf)
        lexicon[key] = zipf
    return lexicon


def _lexicon():
    """The Dutch lexicon (``get(folded, default)``): in memory, or the word store's view of it."""
    lists = _stored_lists()
    return _word_list() if lists is None else lists.lexicon


def preload() -> None:
    """Load the language data analysis needs (Dutch and English word lists, the compound part
    table, the stemmer) now: a build loads it once before forking its workers."""
    _part_table()
    _is_english("preload", 0.0)
    _stemmer()


def word_frequency(folded: str) -> float:
    """Zipf frequency of a folded word in Dutch (0 for an unknown word; 7 is very common)."""
    return _lexicon().get(folded, 0.0)


# --------------------------------------------------------------------------- the word store

#: Words a process looks up in the word store before it loads the word lists after all: a cold
#: search needs a few thousand, an export of many hits or an index build far more.
STORE_LOOKUP_LIMIT = 50_000

# The directory of the word store (a callable giving it), once a command that reads the index
# asks for it; and whether the choice between store and memory is made, and the store chosen.
_STORE_DIRECTORY: list = [None]
_STORE_CHOICE: list = [False, None]


def use_word_store(directory) -> None:
    """Look words up in the word store in ``directory`` (a callable returning the folder, called
    only when a word is first needed) instead of loading the word lists, unless they are already
    in memory; see :mod:`searchdoc.wordstore`. None returns to loading them.

    For processes that analyse few words (a search): the answers are the same either way.
    """
    if directory is _STORE_DIRECTORY[0]:
        return
    _STORE_DIRECTORY[0] = directory
    lists = _STORE_CHOICE[1]
    if lists is not None:
        lists.close()
    _STORE_CHOICE[:] = [False, None]


def prepare_word_store(on_write: Callable[[str], None] | None = None, built: bool = False) -> bool:
    """Write the word store now when it is missing, telling ``on_write`` first: it takes a few
    seconds once per machine and analysis version. Done right after this process ``built`` the
    index (the lists are in memory then) or when this process would load the lists anyway, no
    later search pays for it by surprise. True when it was written."""
    path = _word_store_path()
    if path is None or path.exists():
        return False
    if not built and _word_list.cache_info().currsize:
        # A process that already holds the lists (a library user, a test run) reads no store.
        return False
    if on_write is not None:
        on_write("preparing the word lists for fast searches (once per installation) ...")
    _write_word_store(path)
    return path.exists()


def _after_fork_in_child() -> None:
    """A forked process (an index build worker) analyses many words: it loads the word lists,
    and never shares its parent's SQLite connection."""
    _STORE_CHOICE[:] = [True, None]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _stored_lists() -> _StoredLists | None:
    """The word store's lists when this process uses them; None while it uses (or will load)
    the lists in memory. Decided on the first word that needs them."""
    if _STORE_CHOICE[0]:
        return _STORE_CHOICE[1]
    directory = _STORE_DIRECTORY[0]
    if directory is None or _word_list.cache_info().currsize:
        return None
    _STORE_CHOICE[0] = True
    from searchdoc import wordstore

    path = _word_store_path()
    if path is None:
        return None
    store = wordstore.open_store(path)
    if store is None:
        _write_word_store(path)
        return None
    _STORE_CHOICE[1] = _StoredLists(store)
    return _STORE_CHOICE[1]


_STORE_PATHS: dict = {}


def _word_store_path() -> Path | None:
    """The word store's file for this analysis code and word lists, once a reader asked for one."""
    directory = _STORE_DIRECTORY[0]
    if directory is None:
        return None
    if directory not in _STORE_PATHS:
        from searchdoc import wordstore

        try:
            folder = Path(directory() if callable(directory) else directory)
            _STORE_PATHS[directory] = folder / wordstore.store_name([Path(__file__), Path(wordstore.__file__)])
        except OSError:
            _STORE_PATHS[directory] = None
    return _STORE_PATHS[directory]


def _write_word_store(path: Path) -> None:
    """Load the word lists and save them as the store, for the next process that reads the index.
    The store only saves time: when it cannot be written, this process goes on without it."""
    import sqlite3

    import wordfreq

    from searchdoc import wordstore

    lexicon = _word_list()
    english = wordstore.english_rows(wordfreq.get_frequency_list("en", wordlist="best"),
                                     lambda word: wordfreq.zipf_frequency(word, "en"))
    from searchdoc.errors import WriteError

    try:
        wordstore.write_store(path, lexicon, english)
    except (OSError, sqlite3.Error, WriteError):
        pass


class _StoredLists:
    """The word lists as looked up in a word store, until the process has looked up so many
    words that the lists in memory serve it better: then every view turns to them."""

    def __init__(self, store):
        self.store = store
        self.lexicon = _StoredLexicon(self)
        self.parts = _StoredParts(self)

    def row(self, word: str) -> tuple[float | None, float | None] | None:
        store = self.store
        if store is None:
            return None
        found = store.row(word)
        if store.broken or store.lookups > STORE_LOOKUP_LIMIT:
            self.close()
            _STORE_CHOICE[1] = None
            return None
        return found

    def zipf(self, word: str) -> float | None:
        """Dutch Zipf frequency, None for a word not in the lexicon."""
        if self.store is not None:
            found = self.row(word)
            if self.store is not None:
                return found[0] if found is not None else None
        return _word_list().get(word)

    def english(self, folded: str) -> float:
        """English Zipf frequency, as wordfreq.zipf_frequency(folded, "en") gives it."""
        if self.store is not None and folded.isascii() and folded.isalpha():
            found = self.row(folded)
            if self.store is not None:
                return found[1] if found is not None and found[1] is not None else 0.0
        return _english_zipf(folded)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


class _StoredLexicon:
    """``get`` of the Dutch lexicon, as on the dict :func:`_word_list` returns."""

    def __init__(self, lists: _StoredLists):
        self.lists = lists

    def get(self, word: str, default=None):
        z = self.lists.zipf(word)
        return default if z is None else z


class _StoredParts:
    """``get`` of the compound-part table, as on the dict :func:`_memory_part_table` returns."""

    def __init__(self, lists: _StoredLists):
        self.lists = lists

    def get(self, word: str, default=None):
        if len(word) < MIN_PART:
            return default
        z = self.lists.zipf(word)
        if z is None or z < _MIN_PART_ZIPF.get(len(word), _MIN_LONG_PART_ZIPF):
            return default
        return min(z, _PART_ZIPF_CAP)


# --------------------------------------------------------------------------- compounds

#: Shortest compound part we accept; shorter pieces are mostly affixes or noise.
MIN_PART = 3
#: Longest part looked up, and longest word split (longer strings are codes, not words).
_MAX_PART = 24
_MAX_WORD = 60
#: Least Zipf frequency of a compound part by its length: short pieces of a word are often
#: accidental words (ver, ring), long ones rarely are.
_MIN_PART_ZIPF = {3: 3.3, 4: 3.3, 5: 2.5, 6: 2.5}
_MIN_LONG_PART_ZIPF = 1.8
#: A word this frequent is never split: it is a word in its own right (belangrijk, regering).
_NEVER_SPLIT_ZIPF = 4.8
#: What a known whole word is worth over the mean of its parts' frequencies.
_WHOLE_BONUS = 0.3
#: Cost of each extra part and each linking morpheme: prefer few parts, plain joins.
_PART_COST = 0.35
_LINK_COST = 0.15
#: Extra cost of a 3- or 4-letter part: short words turn up inside long ones by accident.
_SHORT_COST = {3: 0.5, 4: 0.25}
#: A part counts at most this frequent, so function words (voor, vol) do not drive splits.
_PART_ZIPF_CAP = 5.0
#: An English word (capturing, lethal) is not split when English uses it this much more.
_ENGLISH_MARGIN = 1.0
# Dutch linking morphemes between compound parts (tussen-s, -e-, -en-).
_LINKS = ("s", "e", "en")
# Bound prefixes, separable-verb particles, derivational suffixes and inflectional endings look
# like words in a frequency list but make derivations or inflections, not compounds
# (ver+zilveren, uit+voering, ambte+lijk, struct+ureel, bouw+den, diploma+ten, verte+gen).
_NOT_HEAD = frozenset("ver ont her mis wan aan uit toe inge".split())
_NOT_TAIL = frozenset(
    """heid heden lijk lijke lijks baar bare schap schappen isch ische achtig achtige matig
    matige loos loze zaam zame ling lingen nis nissen dom aar aars ier iers eur eurs ist isten
    isme iteit teit ster sters tje tjes pje pjes ing ingen tie ties waardig waardige sel sels
    aal ale eel ele ief ieve ant ante ent ente erd ig ige iger igen
    de den te ten end ende ene eren ers gen ken len men nen pen ren sen ven zen""".split()
)


@lru_cache(maxsize=1)
def _memory_part_table() -> dict[str, float]:
    """Every word that may be a compound part, with its (capped) Zipf frequency."""
    table = {}
    for word, z in _word_list().items():
        if len(word) >= MIN_PART and z >= _MIN_PART_ZIPF.get(len(word), _MIN_LONG_PART_ZIPF):
            table[word] = min(z, _PART_ZIPF_CAP)
    return table


def _part_table():
    """The compound-part table (``get(word)``): in memory, or the word store's view of it."""
    lists = _stored_lists()
    return _memory_part_table() if lists is None else lists.parts


def _is_english(folded: str, dutch_zipf: float) -> bool:
    """Whether a word is English rather than Dutch; English words are not Dutch compounds."""
    lists = _stored_lists()
    english = _english_zipf(folded) if lists is None else lists.english(folded)
    return english > dutch_zipf + _ENGLISH_MARGIN


@lru_cache(maxsize=1)
def _english() -> dict[str, float]:
    import wordfreq

    return wordfreq.get_frequency_dict("en", "best")


def _english_zipf(folded: str) -> float:
    """``wordfreq.zipf_frequency(folded, "en")``. A word of lower-case ASCII letters is one token
    to wordfreq, so its figure is a dictionary lookup done as wordfreq does it (its tokenizer
    costs more than the rest of splitting a compound); other words go through wordfreq."""
    import wordfreq

    if not (folded.isascii() and folded.isalpha() and folded.islower()):
        return wordfreq.zipf_frequency(folded, "en")
    minimum = wordfreq.zipf_to_freq(0.0)
    freq = _english().get(folded)
    if freq is None:
        unrounded = minimum
    else:
        unrounded = max(1.0 / (1.0 / freq), minimum)
    if unrounded == 0.0:
        return round(wordfreq.freq_to_zipf(0.0), 2)
    leading_zeroes = math.floor(-math.log(unrounded, 10))
    return round(wordfreq.freq_to_zipf(round(unrounded, leading_zeroes + 3)), 2)


@lru_cache(maxsize=_CACHE)
def split_compound(folded: str) -> list[str]:
    """The parts of a Dutch closed compound (wapenbeheersingsconferentie -> wapen, beheersing,
    conferentie), or ``[folded]`` for a word that is not (clearly) one.

    Dynamic programming over split points chooses the parts whose mean Zipf frequency, less a
    cost per extra part, per linking morpheme and per short part, is highest; a split must beat
    the word's own frequency plus a bonus, and a frequent word is never split. Linking morphemes
    (tussen-s, -e-, -en-) are dropped from the parts. The result is the finest such
    segmentation, so nested compounds come out fully split.
    """
    n = len(folded)
    if n < 2 * MIN_PART or n > _MAX_WORD or not folded.isalpha():
        return [folded]
    whole = _lexicon().get(folded, 0.0)
    if whole >= _NEVER_SPLIT_ZIPF:
        return [folded]
    table = _part_table()
    # best[node][count] = (score sum, path): ways to cover folded[:node] with ``count`` parts;
    # the score sum is frequencies less costs, and the mean is taken once the count is known.
    best: list[dict[int, tuple[float, float, tuple[str, ...]]]] = [{} for _ in range(n + 1)]
    best[0][0] = (0.0, 0.0, ())
    for i in range(n - MIN_PART + 1):
        states = best[i]
        if not states:
            continue
        for j in range(i + MIN_PART, min(n, i + _MAX_PART) + 1):
            part = folded[i:j]
            z = table.get(part)
            if z is None or (j == n and part in _NOT_TAIL) or (i == 0 and part in _NOT_HEAD):
                continue
            if j == n:
                ends = ((n, 0.0),)
            elif j > n - MIN_PART:
                continue
            else:
                ends = ((j, 0.0),) + tuple(
                    (j + len(link), _LINK_COST)
                    for link in _LINKS
                    if j + len(link) <= n - MIN_PART and folded.startswith(link, j)
                )
            extra = _SHORT_COST.get(len(part), 0.0)
            for end, link_cost in ends:
                target = best[end]
                for count, (total, cost, path) in states.items():
                    if i == 0 and end == n:
                        continue
                    candidate = (total + z, cost + extra + link_cost, path + (part,))
                    previous = target.get(count + 1)
                    if previous is None or candidate[0] - candidate[1] > previous[0] - previous[1]:
                        target[count + 1] = candidate
    chosen: tuple[str, ...] = ()
    chosen_score = whole + _WHOLE_BONUS if whole > 0 else 0.0
    for count, (total, cost, path) in best[n].items():
        score = total / count - _PART_COST * (count - 1) - cost
        if score > chosen_score:
            chosen, chosen_score = path, score
    if not chosen or _is_english(folded, whole):
        return [folded]
    return list(chosen)


def _compound_spans(folded: str, parts: list[str]) -> list[tuple[int, int]]:
    """Where each part lies in the folded word (linking morphemes fall between the spans)."""
    spans = []
    offset = 0
    for part in parts:
        start = folded.find(part, offset)
        if start < 0:
            start = offset
        spans.append((start, start + len(part)))
        offset = start + len(part)
    return spans


# --------------------------------------------------------------------------- stemming


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    # PyStemmer 3 renamed the classic Snowball Dutch stemmer to ``dutch_porter`` and gave the
    # name ``dutch`` to a new one (which strips ge- from nouns: gebied -> bied); PyStemmer 2
    # calls the classic one ``dutch``. Pin the classic algorithm so stems do not drift.
    name = "dutch_porter" if "dutch_porter" in Stemmer.algorithms() else "dutch"
    return Stemmer.Stemmer(name)


@lru_cache(maxsize=_CACHE)
def plain_stem(word: str) -> str:
    """Pure Snowball Dutch (classic algorithm) of the folded word, without lemma rules."""
    folded = fold(word)
    if any(c.isdigit() for c in folded):
        return folded
    return _stemmer().stemWord(folded)


#: A singular or base form must be at least this common to be believed.
_MIN_LEMMA_ZIPF = 2.5
#: ... and at most this much rarer than the form it replaces.
_MAX_LEMMA_DROP = 1.2
_MAX_ENS_DROP = 0.3
#: Below this frequency a word's inflection is read off its last compound part.
_COMPOUND_LEMMA_ZIPF = 3.0


def _base_candidates(base: str) -> list[str]:
    """Spellings of the word once an -en or -e ending is removed, by Dutch spelling rules:
    a doubled consonant is undoubled (mannen -> man), v and z devoice (brieven -> brief), and a
    single a/o/u before one consonant is long, so written double (dozen -> doos, gave -> gaaf);
    a single e may be long or a schwa (systemen -> systeem, tekenen -> teken).
    """
    if len(base) < 3 or base[-1] in _VOWELS:
        return []
    last = base[-1]
    if last == base[-2]:
        return [base[:-1]] if len(base) > 3 else []
    devoiced = base[:-1] + {"v": "f", "z": "s"}.get(last, last)
    vowel = base[-2]
    if vowel in _VOWELS and base[-3] not in _VOWELS:
        long = base[:-2] + vowel + devoiced[-2:]
        if vowel in "aou":
            return [long]
        if vowel == "e":
            return list(dict.fromkeys([base, devoiced, long]))
    return list(dict.fromkeys([base, devoiced]))


def _lemma_candidates(w: str) -> list[tuple[str, float]]:
    """(singular or base form, how much rarer than ``w`` it may be) by Dutch inflection rules."""
    out: list[tuple[str, float]] = []
    if w.endswith("s"):
        base = w[:-1]
        if len(base) >= 4 and (w.endswith("eaus") or (w.endswith("es") and w[-3] not in "aeou")):
            out.append((base, _MAX_LEMMA_DROP))  # drones, acties, attachés, cadeaus
        elif len(base) >= 4 and w.endswith("ens"):
            # wapens -> wapen; but volgens, tijdens, namens are adverbs, usually commoner
            # than the word they resemble, so this needs a much closer frequency.
            out.append((base, _MAX_ENS_DROP))
    if w.endswith("en") and w[-3] not in _VOWELS:
        out.extend((c, _MAX_LEMMA_DROP) for c in _base_candidates(w[:-2]))
    elif w.endswith("e") and len(w) > 2 and w[-2] not in _VOWELS:
        out.extend((c, _MAX_LEMMA_DROP) for c in _base_candidates(w[:-1]) if c != w[:-1])
    return out


def _is_inflected(word: str) -> bool:
    """Whether a word is itself a plural or inflected form of a known word."""
    lexicon = _lexicon()
    own = lexicon.get(word, 0.0)
    return any(lexicon.get(c, 0.0) >= max(_MIN_LEMMA_ZIPF, own - drop) for c, drop in _lemma_candidates(word))


def _lemma_from_lexicon(folded: str) -> str | None:
    """The commonest rule-derived base form that Snowball stems differently, ``folded`` when a
    base form already shares its stem, or None when no rule gives a known word.
    """
    lexicon = _lexicon()
    own = lexicon.get(folded, 0.0)
    stemmer = _stemmer()
    own_stem = stemmer.stemWord(folded)
    chosen, chosen_zipf = None, 0.0
    for candidate, drop in _lemma_candidates(folded):
        z = lexicon.get(candidate, 0.0)
        if z < _MIN_LEMMA_ZIPF or z < own - drop:
            continue
        if stemmer.stemWord(candidate) == own_stem:
            return folded
        if drop == _MAX_ENS_DROP and _is_inflected(candidate):
            continue  # namens is not the plural of namen, itself a plural of naam
        if z > chosen_zipf:
            chosen, chosen_zipf = candidate, z
    return chosen


@lru_cache(maxsize=_CACHE)
def lemma(folded: str) -> str:
    """The form whose stem stands for ``folded``: a singular or base form where Snowball would
    otherwise give singular and plural different stems (drones/drone, technologieën/technologie,
    wapens/wapen, mannen/man, bedrijven/bedrijf, negatieve/negatief); else ``folded`` itself.

    Candidates come from Dutch plural and inflection rules and must be words (wordfreq) that
    are common enough relative to the form they replace. A rare or unknown compound is handled
    through its last part (onderwaterdrones -> onderwaterdrone).
    """
    if len(folded) < 4 or not folded.isalpha():
        return folded
    if folded.endswith(("ieen", "eeen")):
        return folded[:-2]  # technologieën -> technologie, ideeën -> idee
    found = _lemma_from_lexicon(folded)
    if found is not None:
        return found
    if word_frequency(folded) < _COMPOUND_LEMMA_ZIPF:
        parts = split_compound(folded)
        last = parts[-1]
        if len(parts) > 1 and folded.endswith(last):
            last_lemma = lemma(last)
            if last_lemma != last:
                return folded[: len(folded) - len(last)] + last_lemma
    return folded


@lru_cache(maxsize=_CACHE)
def stem(folded: str) -> str:
    """The index term of a folded word: Snowball Dutch of its :func:`lemma`; digits kept as is."""
    if any(c.isdigit() for c in folded):
        return folded
    return _stemmer().stemWord(lemma(folded))


# --------------------------------------------------------------------------- the chain


def _pieces(word: str) -> list[tuple[str, int, int]]:
    """The hyphen-separated pieces of a word, folded, with their spans relative to the word."""
    out = []
    offset = 0
    for raw in _HYPHEN_SPLIT.split(word):
        folded = fold(raw)
        if folded:
            out.append((folded, offset, offset + len(raw)))
        offset += len(raw) + 1
    return out


@lru_cache(maxsize=_CACHE)
def _word_terms(word: str) -> tuple[tuple[str, int, int, int, str], ...]:
    """The ``text`` tokens of one word as (term, position offset, start, end, origin)."""
    pieces = _pieces(word)
    if not pieces:
        return ()
    if len(pieces) == 1:
        return ((stem(pieces[0][0]), 0, 0, len(word), "word"),)
    whole = stem("".join(p for p, _, _ in pieces))
    out = [(whole, 0, 0, len(word), "whole")]
    for i, (piece, start, end) in enumerate(pieces):
        out.append((stem(piece), i, start, end, "part"))
    return tuple(out)


def analyze(text: str) -> list[Token]:
    """All ``text``-field terms in order: one per word; a hyphenated compound gives its joined
    whole and its parts at consecutive positions (INF-verdrag: infverdrag, inf, verdrag).
    """
    tokens: list[Token] = []
    append = tokens.append
    word_terms = _word_terms
    pos = 0
    for m in _WORD.finditer(text):
        start = m.start()
        found = word_terms(m.group())
        for term, offset, s, e, origin in found:
            append(Token(term, pos + offset, start + s, start + e, origin))
        if found:
            pos += found[-1][1] + 1
    return tokens


def terms(text: str) -> list[str]:
    """Just the terms, for callers that do not need positions."""
    return [t.term for t in analyze(text)]


def phrase_terms(text: str) -> list[str]:
    """One ``text`` term per position (parts, not the joined whole, of a hyphenated word):
    the sequence to use for a phrase query on the ``text`` field.
    """
    out: dict[int, str] = {}
    for t in analyze(text):
        if t.origin != "whole":
            out.setdefault(t.pos, t.term)
    return [out[p] for p in sorted(out)]


@lru_cache(maxsize=_CACHE)
def _word_parts(word: str) -> tuple[tuple[str, int, int, str], ...]:
    """The ``parts`` tokens of one word as (term, start, end, origin)."""
    pieces = _pieces(word)
    out = []
    several = len(pieces) > 1
    for folded, start, end in pieces:
        parts = split_compound(folded)
        if len(parts) == 1:
            out.append((stem(folded), start, end, "part" if several else "word"))
            continue
        mapped, owners = _fold_with_map(word[start:end])
        for a, b in _compound_spans(folded, parts):
            if mapped == folded and b > a:
                s, e = start + owners[a], start + owners[b - 1] + 1
            else:
                s, e = start, end
            out.append((stem(folded[a:b]), s, e, "part"))
    return tuple(out)


def part_tokens(text: str) -> list[Token]:
    """The ``parts``-field terms: every word decomposed into its stemmed compound parts
    (killerrobots: killer, robot; antidrone-maatregelen: anti, drone, maatregel), positions
    consecutive across the text; a word that is not a compound is its own single part.
    """
    tokens: list[Token] = []
    append = tokens.append
    word_parts = _word_parts
    pos = 0
    for m in _WORD.finditer(text):
        start = m.start()
        for term, s, e, origin in word_parts(m.group()):
            append(Token(term, pos, start + s, start + e, origin))
            pos += 1
    return tokens


def clear_caches() -> None:
    """Forget every cached result (the language data stays loaded)."""
    for cached in (_fold_char, fold, split_compound, plain_stem, lemma, stem, _word_terms, _word_parts):
        cached.cache_clear()


# --------------------------------------------------------------------------- synonyms


@dataclass(frozen=True)
class SynonymMatch:
    """Words ``start:end`` of the analysed query match a synonym group; ``alternatives`` are the
    other members of the group as ``text``-field term sequences and ``phrases`` the same
    members as written in the synonym data (to analyse them for another field).
    """

    start: int
    end: int
    alternatives: tuple[tuple[str, ...], ...]
    phrases: tuple[str, ...]


def _flat_parts(term_list: Iterable[str]) -> tuple[list[str], list[int]]:
    """Each term replaced by the stems of its compound parts, and the word each part came from.

    Both a query and a synonym are compared in this form, so killerrobot meets killer robots.
    """
    flat: list[str] = []
    owner: list[int] = []
    for i, term in enumerate(term_list):
        for part in split_compound(term):
            flat.append(stem(part) if part != term else term)
            owner.append(i)
    return flat, owner


def _drop_joined_wholes(words: list[str]) -> list[str]:
    """Drop the joined whole of a hyphenated word when its parts follow it (as :func:`analyze`
    gives them: infverdrag, inf, verdrag), so a term list is one term per position.
    """
    out = []
    i = 0
    while i < len(words):
        term = words[i]
        joined = ""
        count = 0
        for following in words[i + 1 :]:
            joined += following
            count += 1
            if len(joined) >= len(term):
                break
        if joined == term and count >= 2:
            i += 1
            continue
        out.append(term)
        i += 1
    return out


def _key(sequence: Iterable[str]) -> tuple[str, ...]:
    return tuple(_flat_parts(sequence)[0])


@dataclass
class SynonymTable:
    """Groups of interchangeable words, phrases and acronyms, matched on analysed terms."""

    groups: list[list[str]] = field(default_factory=list)
    #: Each phrase's (phrase terms, comparison key), filled as phrases are analysed: every add
    #: re-indexes all groups, which must not mean analysing every phrase again. A reader of the
    #: index starts from the analyses saved beside the word store (see :func:`load_synonyms`).
    analysed: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Per group: (phrase as written, its phrase terms, its comparison key), one per key.
        self._members: list[list[tuple[str, tuple[str, ...], tuple[str, ...]]]] = []
        self._index: dict[tuple[str, ...], set[int]] = {}
        self._longest = 0
        groups, self.groups = self.groups, []
        for group in groups:
            self.add(group)

    def add(self, phrases: Iterable[str]) -> None:
        """Add a group; it merges with every existing group that shares one of its members
        (compared as analysed terms, so "autonome wapensystemen" = "autonoom wapensysteem").
        """
        incoming = [p.strip() for p in phrases if p and p.strip()]
        incoming = [p for p in incoming if self._analyse(p)[0]]
        if not incoming:
            return
        overlapping = set()
        for phrase in incoming:
            overlapping |= self._index.get(self._analyse(phrase)[1], set())
        merged = [p for g in sorted(overlapping) for p in self.groups[g]] + incoming
        self.groups = [g for i, g in enumerate(self.groups) if i not in overlapping]
        self.groups.append(list(dict.fromkeys(merged)))
        self._reindex()

    def _reindex(self) -> None:
        self._members = []
        self._index = {}
        self._longest = 0
        for g, group in enumerate(self.groups):
            members: dict[tuple[str, ...], tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
            for phrase in group:
                sequence, key = self._analyse(phrase)
                if sequence:
                    members.setdefault(key, (phrase, sequence, key))
                    self._index.setdefault(key, set()).add(g)
                    self._longest = max(self._longest, len(key))
            self._members.append(list(members.values()))

    def _analyse(self, phrase: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        found = self.analysed.get(phrase)
        if found is None:
            sequence = tuple(phrase_terms(phrase))
            found = self.analysed[phrase] = (sequence, _key(sequence) if sequence else ())
        return found

    def add_definitions(self, definitions: Iterable[tuple[str, str]]) -> None:
        """Add acronym definitions found in a corpus (see :func:`find_acronym_definitions`)."""
        for acronym, long_name in definitions:
            self.add([acronym, long_name])

    def matches(self, words: list[str]) -> list[SynonymMatch]:
        """Every span of whole words that is a member of a group. ``words`` are analysed terms;
        the joined whole of a hyphenated word followed by its parts (as :func:`analyze` gives
        them) is dropped first, and ``start``/``end`` count the remaining terms.
        """
        return self._matches(_drop_joined_wholes(words))

    def _matches(self, words: list[str]) -> list[SynonymMatch]:
        flat, owner = _flat_parts(words)
        found = []
        for i, j in word_aligned_spans(owner, self._longest):
            key = tuple(flat[i:j])
            others = [
                (phrase, sequence)
                for g in sorted(self._index.get(key, ()))
                for phrase, sequence, member_key in self._members[g]
                if member_key != key
            ]
            if others:
                found.append(
                    SynonymMatch(
                        owner[i],
                        owner[j - 1] + 1,
                        tuple(sequence for _, sequence in others),
                        tuple(phrase for phrase, _ in others),
                    )
                )
        return found

    def expansions(self, words: list[str]) -> list[list[str]]:
        """Alternative term sequences for ``words`` (the analysed terms of a query or phrase):
        each replaces one matched span by another member of its group. Multi-word members
        come out as several terms, to be searched as a phrase on the ``text`` field.
        """
        words = _drop_joined_wholes(words)
        return substitute(words, self._matches(words))


def word_aligned_spans(owner: list[int], longest: int) -> Iterator[tuple[int, int]]:
    """(i, j) slices of a flat part list that start and end at word boundaries (``owner[k]`` is
    the word part ``k`` belongs to), at most ``longest`` parts long."""
    n = len(owner)
    for i in range(n):
        if i > 0 and owner[i] == owner[i - 1]:
            continue
        for j in range(i + 1, min(n, i + longest) + 1):
            if j < n and owner[j] == owner[j - 1]:
                continue
            yield i, j


def substitute(words: list[str], matches: Iterable[SynonymMatch]) -> list[list[str]]:
    """Each alternative of each match put in place of its span, without repeats or ``words`` itself."""
    out: list[list[str]] = []
    seen = {tuple(words)}
    for match in matches:
        for alternative in match.alternatives:
            candidate = list(words[: match.start]) + list(alternative) + list(words[match.end :])
            if tuple(candidate) not in seen:
                seen.add(tuple(candidate))
                out.append(candidate)
    return out


def bundled_synonyms_path() -> Path:
    """The synonym and acronym groups shipped with searchdoc."""
    return Path(__file__).resolve().parent / "data" / "synonyms.toml"


def _read_groups(path: Path) -> tuple[list[list[str]], bool]:
    """Groups from a synonyms TOML file, and whether it replaces the bundled groups."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    from searchdoc.errors import InputFileError

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputFileError(f"cannot read synonyms file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputFileError(f"synonyms file {path} is not valid UTF-8 TOML: {exc}") from None
    raw_groups = data.get("group", [])
    replace = data.get("replace", False)
    if not isinstance(raw_groups, list) or not isinstance(replace, bool):
        raise InputFileError(f"synonyms file {path}: expected [[group]] tables and an optional 'replace = true'")
    groups = []
    for number, entry in enumerate(raw_groups, 1):
        members = entry.get("terms") if isinstance(entry, dict) else None
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise InputFileError(f"synonyms file {path}: group {number} needs 'terms = [\"...\", ...]' (strings)")
        groups.append(members)
    return groups, replace


def load_synonyms(path: str | Path | None = None) -> SynonymTable:
    """The synonym table: the bundled groups plus those of ``path`` (a user file, e.g.
    ``settings.synonyms_file`` from SEARCHDOC_SYNONYMS); a user file with ``replace = true``
    replaces the bundled groups instead. Groups sharing a member are merged.
    """
    groups, _ = _read_groups(bundled_synonyms_path())
    if path is not None:
        user_groups, replace = _read_groups(Path(path).expanduser())
        groups = user_groups if replace else groups + user_groups
    saved = _phrase_analyses_path()
    analysed = _read_phrase_analyses(saved) if saved is not None else {}
    known = len(analysed)
    table = SynonymTable(groups, analysed)
    if saved is not None and len(table.analysed) > known:
        _write_phrase_analyses(saved, table.analysed)
    return table


def _phrase_analyses_path() -> Path | None:
    """Where a reader of the index keeps the analyses of synonym phrases: beside the word store,
    named like it, so they belong to one version of the analysis (None for other processes)."""
    store = _word_store_path()
    return store.with_name(store.name.replace("words-", "phrases-").replace(".sqlite", ".json")) if store else None


def _read_phrase_analyses(path: Path) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    from searchdoc.validate import load_json

    try:
        data = load_json(path.read_bytes())
        found = {phrase: (tuple(terms), tuple(key)) for phrase, (terms, key) in data.items()}
        if all(isinstance(s, str) for terms, key in found.values() for s in (*terms, *key)):
            return found
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    return {}


def _write_phrase_analyses(path: Path, analysed: dict) -> None:
    """Saved atomically; only saves time, so a folder that cannot be written is no error."""
    import json
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(analysed, handle, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        pass


# --------------------------------------------------------------------------- acronyms


# Two capitals or more (NCSA, KMar), or a capital and up to three small letters (Wiv, Awb);
# the letters must then spell the name before it, which rules out ordinary words.
_ACRONYM = r"(?:[A-Z][A-Za-z&]{0,3}[A-Z][A-Za-z&]{0,8}|[A-Z][a-z]{1,3})"
# "Long Name (ACR)", "Long Name (hierna: ACR)", "(Long Name – ACR)".
_PAREN_ACRONYM = re.compile(
    rf"\(\s*(?:(?:hierna te noemen|hierna|verder|afgekort)\s*:?\s*)?(?P<acr>{_ACRONYM})"
    rf"(?:[{_APOSTROPHES}]s)?\s*\)"
)
_INNER_ACRONYM = re.compile(rf"\((?P<long>[^()]{{3,200}}?)\s+[\u2013\u2014-]\s+(?P<acr>{_ACRONYM})\s*\)")
# A word of a long name, hyphenated parts included ("Secretaris-Generaal", "Buitenland-").
_NAME_WORD = re.compile(rf"[^\W\d_][\w{_APOSTROPHES}]*(?:[{_HYPHENS}]\w*)*")
_NAME_BREAK = re.compile(r"[.;:!?()\[\]«»\"“”,]|\s[\u2013\u2014]\s")
_FUNCTION_WORDS = frozenset(
    """van de het der den des voor en of in inzake op over met tot te ter aan bij the for on and
    to a an at du la le les et pour & 't""".split()
)


_LINE_BREAK = re.compile(r"(\w+)-[ \t]*\n\s*(\w+)")
#: How far before "(ACR)" a long name may start, in characters.
_LOOKBACK = 400


def rejoin_line_break(head: str, tail: str) -> str:
    """One word from a word broken at a line end (``head-`` / ``tail``): ``veilig`` +
    ``heidsstrategie`` -> ``veiligheidsstrategie``, but ``toegepast`` + ``natuurwetenschappelijk``
    -> ``toegepast-natuurwetenschappelijk`` (a real hyphen that fell at the line end: both
    halves are words and the joined form is not, or both halves are capitalised).
    """
    joined = head + tail
    if tail[:1].isupper() and head[:1].isupper():
        return f"{head}-{tail}"
    folded_head = fold(head)
    if folded_head.endswith("s") and _is_word(folded_head[:-1]):
        return joined  # a linking s: veiligheids- / implicaties is one closed compound
    if word_frequency(fold(joined)) == 0.0 and _is_word(folded_head) and _is_word(fold(tail)):
        return f"{head}-{tail}"
    return joined


def _is_word(folded: str) -> bool:
    """A known word or a compound of known words (not a fragment such as ``heidsstrategie``)."""
    return word_frequency(folded) >= _MIN_LONG_PART_ZIPF or len(split_compound(folded)) > 1


def _rejoin_text(text: str) -> str:
    return _LINE_BREAK.sub(lambda m: rejoin_line_break(m.group(1), m.group(2)), text)


def _name_words(text: str) -> list[str]:
    """The words of a candidate long name."""
    return [m.group(0) for m in _NAME_WORD.finditer(text)]


def _initials(word: str) -> list[int]:
    """Positions in the folded word where a letter may stand for a name part: the start,
    after a hyphen, and the start of each compound part (Veiligheidsstrategie: V and S).
    """
    folded = fold(word)
    starts = {0}
    offset = 0
    for piece in _HYPHEN_SPLIT.split(folded):
        if piece:
            starts.add(offset)
            for a, _ in _compound_spans(piece, split_compound(piece)):
                starts.add(offset + a)
        offset += len(piece) + 1
    return sorted(s for s in starts if s < len(folded))


def _match_letters(letters: str, words: list[str]) -> float | None:
    """Score how well the acronym's letters spell the words' initials; None if they cannot.

    Every content word gives at least its first letter, function words may give none, the
    letters of one word come in order (KMar: Koninklijke Marechaussee; GBVS: the S from
    -strategie inside Veiligheidsstrategie).
    """
    folded_words = [fold(w) for w in words]

    @cache
    def best(i: int, w: int) -> float | None:
        if w == len(folded_words):
            return 0.0 if i == len(letters) else None
        word = folded_words[w]
        options: list[float] = []
        if word in _FUNCTION_WORDS:
            rest = best(i, w + 1)
            if rest is not None:
                options.append(rest)
        if i < len(letters) and word and word[0] == letters[i]:
            initials = set(_initials(words[w]))
            # Take letters[i:k] from this word, the first at its start, the rest in order.
            score = 2.0
            pos = 0
            k = i + 1
            rest = best(k, w + 1)
            if rest is not None:
                options.append(score + rest)
            while k < len(letters):
                found = word.find(letters[k], pos + 1)
                if found < 0:
                    break
                if found in initials:
                    score += 1.5
                elif found == pos + 1:
                    score += 0.5
                else:
                    score -= 0.5
                pos = found
                k += 1
                rest = best(k, w + 1)
                if rest is not None:
                    options.append(score + rest)
        return max(options) if options else None

    return best(0, 0)


def _long_name(before: str, acronym: str) -> str | None:
    """The words just before an acronym that it abbreviates, as written (None if none do)."""
    letters = fold(acronym)
    if not letters.isalpha() or len(letters) < 2:
        return None
    breaks = list(_NAME_BREAK.finditer(before))
    window = before[breaks[-1].end() :] if breaks else before
    spans = list(_NAME_WORD.finditer(window))
    limit = min(len(letters) + 5, 2 * len(letters) + 1)
    spans = spans[-limit:]
    best_score, best_start = None, None
    for start in range(len(spans)):
        words = _name_words(window[spans[start].start() : spans[-1].end()])
        if not words or fold(words[0])[:1] != letters[0] or fold(words[0]) in _FUNCTION_WORDS:
            continue
        score = _match_letters(letters, words)
        if score is None:
            continue
        # Per letter, and a little against long names, so the tightest fit wins.
        score = score / len(letters) - 0.05 * len(words)
        if best_score is None or score > best_score:
            best_score, best_start = score, start
    if best_start is None:
        return None
    return " ".join(window[spans[best_start].start() : spans[-1].end()].split())


def find_acronym_definitions(text: str) -> list[tuple[str, str]]:
    """(acronym, long name) pairs defined in ``text`` as "Long Name (ACR)", "Long Name
    (hierna: ACR)" or "(Long Name – ACR)", each checked by matching the acronym's letters to the
    initials of the name's words and compound parts. In order of first definition, no repeats.
    """
    text = _rejoin_text(text)
    found: list[tuple[int, str, str]] = []
    for m in _PAREN_ACRONYM.finditer(text):
        acronym = m.group("acr")
        long_name = _long_name(text[max(0, m.start() - _LOOKBACK) : m.start()], acronym)
        if long_name:
            found.append((m.start(), acronym, long_name))
    for m in _INNER_ACRONYM.finditer(text):
        acronym = m.group("acr")
        long_name = _long_name(m.group("long"), acronym)
        if long_name:
            found.append((m.start(), acronym, long_name))
    return list(dict.fromkeys((acronym, name) for _, acronym, name in sorted(found)))
