"""Theme taxonomy (a TOML data file) and the paragraph tagger built on it.

The taxonomy lives in ``searchdoc/data/themes.toml``; a user's file given through
``SEARCHDOC_TAXONOMY`` (``settings.taxonomy_file``) replaces it. Terms are matched through the
same folding and stemming as search (:mod:`searchdoc.analysis`), so a theme term means what a
query for it means. Compound parts are matched here on folded words (``cyber`` as the first part
of ``cyberdreigingen``), so tagging does not depend on the analyzer's compound splitter.

Scoring: every distinct term found in a paragraph adds its weight to its theme; a theme is
tagged when its sum reaches the threshold. A section heading that speaks of a theme adds a
context weight, but only to themes the paragraph itself gives evidence for, so a heading never
tags a paragraph on its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from searchdoc.analysis import fold, stem, tokenize, word_matches
from searchdoc.analysis import words as words_of
from searchdoc.errors import ThemeError

__all__ = [
    "Evidence",
    "Taxonomy",
    "Term",
    "Theme",
    "ThemeTagger",
    "bundled_taxonomy_path",
    "default_tagger",
    "explain",
    "load_taxonomy",
    "parse_taxonomy",
    "tag",
]

STRENGTHS = ("strong", "weak")
KINDS = ("terms", "prefixes", "suffixes", "acronyms")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HYPHENS = re.compile("[-‐‑–—]")
# A footnote marker glued to a word ("drones5", "recht1") must not hide the word.
_FOOTNOTE_TAIL = re.compile(r"^(.*[^\W\d_]{3})\d{1,2}$")
# Characters that may stand between the words of a phrase; anything else breaks it.
_PHRASE_GAP = " \t\r\n\u00a0\u2009\u202f-‐‑–—«»\"'’‘“”"
_MAX_TAXONOMY_BYTES = 5 * 1024 * 1024
_MIN_AFFIX = 3
_CACHE_LIMIT = 500_000


@dataclass(frozen=True)
class Term:
    """One piece of evidence for a theme as written in the taxonomy.

    ``kind`` is ``terms`` (word or phrase), ``prefixes`` (first part of a compound),
    ``suffixes`` (last part of a compound) or ``acronyms`` (case-sensitive word).
    """

    text: str
    kind: str
    strength: str
    weight: float


@dataclass(frozen=True)
class Theme:
    """A theme with a stable id, Dutch and English labels, a description and its terms."""

    id: str
    label_nl: str
    label_en: str
    description: str
    terms: tuple[Term, ...]

    def label(self, language: str = "nl") -> str:
        return self.label_en if language == "en" else self.label_nl


@dataclass(frozen=True)
class Taxonomy:
    """The ordered themes plus the scoring parameters; ``source`` is the file it came from."""

    themes: tuple[Theme, ...]
    threshold: float = 2.0
    section_weight: float = 1.0
    source: Path | None = None

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    def __iter__(self) -> Iterator[Theme]:
        return iter(self.themes)

    def __len__(self) -> int:
        return len(self.themes)

    def __contains__(self, theme_id: object) -> bool:
        return any(t.id == theme_id for t in self.themes)

    def find(self, name: str) -> Theme:
        """The theme with this id or label (case and accents ignored); ThemeError if none."""
        key = _fold_phrase(name)
        for theme in self.themes:
            if key in (theme.id, _fold_phrase(theme.label_nl), _fold_phrase(theme.label_en)):
                return theme
        raise ThemeError(f"unknown theme {name!r}; known themes: {', '.join(self.ids)}")


@dataclass(frozen=True)
class Evidence:
    """Why a theme was considered: which term matched which text, where, and with what weight.

    ``start``/``end`` are character offsets into the paragraph text, or into the section heading
    when ``heading`` is true (heading evidence carries the section context weight).
    """

    theme: str
    term: str
    text: str
    start: int
    end: int
    weight: float
    heading: bool = False


def _fold_phrase(text: str) -> str:
    return " ".join(fold(w) for w in text.split())


def _join(folded: str) -> str:
    return _HYPHENS.sub("", folded)


def bundled_taxonomy_path() -> Path:
    from searchdoc.settings import bundled_data_dir

    return bundled_data_dir() / "themes.toml"


def _taxonomy_path(path: Path | str | None) -> Path:
    if path is not None:
        return Path(path).expanduser()
    from searchdoc.settings import ENV_TAXONOMY

    env = os.environ.get(ENV_TAXONOMY)
    if env and env.strip():
        return Path(env.strip()).expanduser()
    return bundled_taxonomy_path()


def load_taxonomy(path: Path | str | None = None) -> Taxonomy:
    """Read a taxonomy file: ``path``, else ``$SEARCHDOC_TAXONOMY``, else the bundled one.

    A user's file replaces the bundled taxonomy entirely. Any problem raises ThemeError with
    a one-line message naming the file.
    """
    source = _taxonomy_path(path)
    try:
        tomllib = _toml()
        raw = source.read_bytes()
        if len(raw) > _MAX_TAXONOMY_BYTES:
            raise ThemeError(f"taxonomy {source}: file is larger than 5 MB")
        data = tomllib.loads(raw.decode("utf-8"))
    except ThemeError:
        raise
    except FileNotFoundError:
        raise ThemeError(f"taxonomy {source}: file not found") from None
    except OSError as exc:
        raise ThemeError(f"taxonomy {source}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ThemeError(f"taxonomy {source}: not UTF-8 text") from None
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        first = (str(exc).splitlines() or ["invalid TOML"])[0]
        raise ThemeError(f"taxonomy {source}: invalid TOML: {first}") from None
    return parse_taxonomy(data, source)


def _toml():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib


def parse_taxonomy(data: dict, source: Path | str | None = None) -> Taxonomy:
    """Validate already-parsed TOML data into a Taxonomy (ThemeError on any problem)."""
    where = f"taxonomy {source}" if source is not None else "taxonomy"

    def fail(problem: str) -> ThemeError:
        return ThemeError(f"{where}: {problem}")

    def check_keys(table: dict, allowed: set[str], context: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise fail(f"unknown key {unknown[0]!r} in {context}")

    def number(value: object, context: str, positive: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail(f"{context} must be a number")
        if value < 0 or (positive and value == 0):
            raise fail(f"{context} must be {'positive' if positive else 'zero or more'}")
        return float(value)

    if not isinstance(data, dict):
        raise fail("not a TOML table")
    check_keys(data, {"threshold", "weights", "themes"}, "the top level")
    threshold = number(data.get("threshold", 2.0), "threshold", positive=True)
    weights = data.get("weights", {})
    if not isinstance(weights, dict):
        raise fail("[weights] must be a table")
    check_keys(weights, {"strong", "weak", "section"}, "[weights]")
    weight_of = {
        "strong": number(weights.get("strong", 2.0), "weights.strong"),
        "weak": number(weights.get("weak", 1.0), "weights.weak"),
    }
    section_weight = number(weights.get("section", 1.0), "weights.section")

    entries = data.get("themes")
    if not isinstance(entries, list) or not entries:
        raise fail("no [[themes]] defined")
    themes: list[Theme] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise fail(f"theme #{i} is not a table")
        theme_id = entry.get("id")
        if not isinstance(theme_id, str) or not _ID.match(theme_id):
            raise fail(f"theme #{i} needs an id of lower-case letters, digits and hyphens")
        context = f"theme {theme_id!r}"
        if theme_id in seen:
            raise fail(f"duplicate theme id {theme_id!r}")
        seen.add(theme_id)
        check_keys(entry, {"id", "labels", "description", *STRENGTHS}, context)
        labels = entry.get("labels")
        if not isinstance(labels, dict):
            raise fail(f"{context} needs labels = {{ nl = ..., en = ... }}")
        check_keys(labels, {"nl", "en"}, f"{context} labels")
        for language in ("nl", "en"):
            if not isinstance(labels.get(language), str) or not labels[language].strip():
                raise fail(f"{context} needs a non-empty {language} label")
        description = entry.get("description", "")
        if not isinstance(description, str):
            raise fail(f"{context} description must be a string")
        terms: list[Term] = []
        for strength in STRENGTHS:
            table = entry.get(strength, {})
            if not isinstance(table, dict):
                raise fail(f"{context} {strength} must be a table")
            check_keys(table, set(KINDS), f"{context} {strength}")
            for kind in KINDS:
                values = table.get(kind, [])
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    raise fail(f"{context} {strength}.{kind} must be a list of strings")
                for value in values:
                    problem = _term_problem(value, kind)
                    if problem:
                        raise fail(f"{context} {strength}.{kind} {value!r}: {problem}")
                    terms.append(Term(value, kind, strength, weight_of[strength]))
        if not terms:
            raise fail(f"{context} has no terms")
        themes.append(
            Theme(
                theme_id,
                labels["nl"].strip(),
                labels["en"].strip(),
                description.strip(),
                tuple(terms),
            )
        )
    return Taxonomy(tuple(themes), threshold, section_weight, Path(source) if source else None)


def _term_problem(value: str, kind: str) -> str | None:
    words = [w for w, _, _ in tokenize(value)]
    if not words:
        return "has no words"
    if kind == "terms":
        return None
    if len(words) != 1 or words[0] != value.strip():
        return "must be a single word"
    if kind in ("prefixes", "suffixes") and len(_join(fold(value))) < _MIN_AFFIX:
        return f"must be at least {_MIN_AFFIX} letters"
    return None


@dataclass(frozen=True)
class _Rule:
    """A compiled term: its theme index, label, weight and (for phrases) the word stems."""

    theme: int
    term: str
    weight: float
    stems: tuple[str, ...] = ()
    last: str = ""


_WordEntry = tuple[str, str, tuple[_Rule, ...], tuple[_Rule, ...]]


def _split_word(surface: str) -> tuple[str, str, list[str], list[str]]:
    """(core, joined folded form, folded hyphen parts, surface hyphen parts) of one token."""
    m = _FOOTNOTE_TAIL.match(surface)
    core = m.group(1) if m else surface
    folded = fold(core)
    joined = _join(folded)
    parts = [p for p in _HYPHENS.split(folded) if p] if joined != folded else []
    surface_parts = [p for p in _HYPHENS.split(core) if p] if parts else []
    return core, joined, parts, surface_parts


def _acronym_forms(surface: str) -> set[str]:
    forms = {surface}
    for apostrophe in "'’":
        head, sep, tail = surface.partition(apostrophe)
        if sep and tail in ("s", ""):
            forms.add(head)
    if len(surface) > 2 and surface.endswith("s") and surface[:-1].isupper():
        forms.add(surface[:-1])
    return forms


class ThemeTagger:
    """A taxonomy compiled once for fast tagging of many paragraphs.

    Word-level matches are cached per distinct surface word, so tagging a large corpus costs
    little more than tokenizing it.
    """

    def __init__(self, taxonomy: Taxonomy | None = None) -> None:
        self.taxonomy = taxonomy if taxonomy is not None else load_taxonomy()
        self._ids = self.taxonomy.ids
        self._stem_rules: dict[str, list[_Rule]] = {}
        self._phrase_rules: dict[str, list[_Rule]] = {}
        self._prefix_rules: dict[str, list[_Rule]] = {}
        self._suffix_rules: dict[str, list[_Rule]] = {}
        self._acronym_rules: dict[str, list[_Rule]] = {}
        for index, theme in enumerate(self.taxonomy.themes):
            for term in theme.terms:
                self._compile(index, term)
        self._prefix_lengths = sorted({len(k) for k in self._prefix_rules}, reverse=True)
        self._suffix_lengths = sorted({len(k) for k in self._suffix_rules}, reverse=True)
        self._word_cache: dict[str, _WordEntry] = {}
        self._heading_cache: dict[str, dict[int, tuple[_Rule, int, int]]] = {}

    def _compile(self, index: int, term: Term) -> None:
        if term.kind == "acronyms":
            rule = _Rule(index, term.text, term.weight)
            self._acronym_rules.setdefault(term.text.strip(), []).append(rule)
            return
        words = [_join(fold(w)) for w, _, _ in tokenize(term.text)]
        words = [w for w in words if w]
        if term.kind == "prefixes":
            self._prefix_rules.setdefault(words[0], []).append(_Rule(index, term.text, term.weight))
        elif term.kind == "suffixes":
            self._suffix_rules.setdefault(words[0], []).append(_Rule(index, term.text, term.weight))
        elif len(words) == 1:
            self._stem_rules.setdefault(stem(words[0]), []).append(_Rule(index, term.text, term.weight))
        else:
            stems = tuple(stem(w) for w in words)
            rule = _Rule(index, term.text, term.weight, stems, words[-1])
            self._phrase_rules.setdefault(stems[0], []).append(rule)

    def clear_cache(self) -> None:
        """Forget the analysed words and headings (a long build bounds its memory with this)."""
        self._word_cache.clear()
        self._heading_cache.clear()

    def _analyse_word(self, surface: str) -> _WordEntry:
        """(joined folded form, stem, single-word rules, phrases starting here) of a token."""
        cached = self._word_cache.get(surface)
        if cached is not None:
            return cached
        core, joined, parts, surface_parts = _split_word(surface)
        word_stem = stem(joined) if joined else ""
        found: list[_Rule] = []
        for piece in (joined, *parts):
            if not piece:
                continue
            found.extend(self._stem_rules.get(stem(piece) if piece != joined else word_stem, ()))
            for length in self._prefix_lengths:
                if length <= len(piece):
                    found.extend(self._prefix_rules.get(piece[:length], ()))
            for length in self._suffix_lengths:
                if length <= len(piece):
                    found.extend(self._suffix_rules.get(piece[-length:], ()))
        for piece in (core, *surface_parts):
            for form in _acronym_forms(piece):
                found.extend(self._acronym_rules.get(form, ()))
        phrases = tuple(self._phrase_rules.get(word_stem, ()))
        result = (joined, word_stem, tuple(dict.fromkeys(found)), phrases)
        if len(self._word_cache) >= _CACHE_LIMIT:
            self._word_cache.clear()
        self._word_cache[surface] = result
        return result

    def _matches(self, text: str) -> list[tuple[_Rule, int, int]]:
        """All term matches in ``text`` as (rule, start, end), at most one per theme per span."""
        cache = self._word_cache
        analyse = self._analyse_word
        # Most words are evidence of nothing: look them up by their surface form first, and
        # find their spans only when some word is (entries are non-empty tuples).
        entries = [cache.get(surface) or analyse(surface) for surface in words_of(text)]
        found = [i for i, entry in enumerate(entries) if entry[2] or entry[3]]
        if not found:
            return []
        words = word_matches(text)
        raw: list[tuple[_Rule, int, int]] = []
        candidates: list[tuple[int, tuple[_Rule, ...]]] = []
        for i in found:
            entry = entries[i]
            if entry[2]:
                start, end = words[i].span()
                raw.extend((rule, start, end) for rule in entry[2])
            if entry[3]:
                candidates.append((i, entry[3]))
        for i, phrases in candidates:
            for rule in phrases:
                last = self._phrase_last(text, words, entries, i, rule)
                if last is not None:
                    raw.append((rule, words[i].start(), words[last].end()))
        return self._dedupe(raw) if len(raw) > 1 else raw

    @staticmethod
    def _phrase_last(text: str, words: list, entries: list[_WordEntry], i: int, rule: _Rule) -> int | None:
        """Index of the last word of ``rule``'s phrase starting at word ``i``, if it matches
        (``words`` the text's word matches, ``entries`` their analyses)."""
        n = len(rule.stems)
        if i + n > len(words):
            return None
        for k in range(1, n):
            j = i + k
            joined, word_stem = entries[j][:2]
            # The last word may open a compound: "intelligentietechnologie", "rechtsorde".
            if word_stem != rule.stems[k] and not (
                k == n - 1 and len(rule.last) >= _MIN_AFFIX and joined.startswith(rule.last)
            ):
                return None
            if text[words[j - 1].end() : words[j].start()].strip(_PHRASE_GAP):
                return None
        return i + n - 1

    @staticmethod
    def _dedupe(raw: list[tuple[_Rule, int, int]]) -> list[tuple[_Rule, int, int]]:
        # Longest span first, then strongest, so "betekenisvolle menselijke controle" hides the
        # weaker "menselijke controle" inside it; spans inside a kept span of the same theme go.
        raw.sort(key=lambda r: (r[1], -(r[2] - r[1]), -r[0].weight, r[0].theme))
        # Every kept span starts at or before the current one, so it lies inside one of them
        # exactly when it ends before the furthest end kept for its theme: one pass, no rescans.
        kept: list[tuple[_Rule, int, int]] = []
        furthest: dict[int, int] = {}
        for rule, start, end in raw:
            if end <= furthest.get(rule.theme, -1):
                continue
            furthest[rule.theme] = end
            kept.append((rule, start, end))
        return kept

    def _heading_context(self, section: str) -> dict[int, tuple[_Rule, int, int]]:
        """The first match per theme in a section heading (headings repeat, so cached)."""
        context = self._heading_cache.get(section)
        if context is None:
            context = {}
            for match in sorted(self._matches(section), key=lambda r: r[1]):
                context.setdefault(match[0].theme, match)
            if len(self._heading_cache) >= 10_000:
                self._heading_cache.clear()
            self._heading_cache[section] = context
        return context

    def _score(
        self, text: str, section: str | None
    ) -> tuple[list[float], list[tuple[_Rule, int, int]], list[tuple[_Rule, int, int]]]:
        """Scores per theme index, the body matches and the heading matches that counted."""
        matches = self._matches(text)
        scores = [0.0] * len(self._ids)
        counted: set[tuple[int, str]] = set()
        # Strongest first, so a term listed in both classes counts with its larger weight.
        for rule, _, _ in sorted(matches, key=lambda r: -r[0].weight):
            key = (rule.theme, rule.term)
            if key not in counted:
                counted.add(key)
                scores[rule.theme] += rule.weight
        heading: list[tuple[_Rule, int, int]] = []
        if section and self.taxonomy.section_weight > 0 and matches:
            for theme, match in self._heading_context(section).items():
                if scores[theme] > 0:
                    scores[theme] += self.taxonomy.section_weight
                    heading.append(match)
        return scores, matches, heading

    def scores(self, text: str, section: str | None = None) -> dict[str, float]:
        """The score of every theme with any evidence, in taxonomy order."""
        scores, _, _ = self._score(text, section)
        return {t: s for t, s in zip(self._ids, scores, strict=True) if s > 0}

    def tag(self, text: str, section: str | None = None) -> list[str]:
        """The ids of the themes whose score reaches the threshold, in taxonomy order."""
        scores, _, _ = self._score(text, section)
        limit = self.taxonomy.threshold - 1e-9
        return [t for t, s in zip(self._ids, scores, strict=True) if s >= limit]

    def explain(self, text: str, section: str | None = None) -> list[Evidence]:
        """Every match found, tagged or not, grouped by theme in taxonomy order.

        Heading evidence (``heading=True``, offsets into ``section``) carries the section
        weight and appears only for themes the text itself speaks of.
        """
        _, matches, heading = self._score(text, section)
        ids = self._ids
        evidence = [Evidence(ids[r.theme], r.term, text[s:e], s, e, r.weight) for r, s, e in matches]
        weight = self.taxonomy.section_weight
        evidence += [Evidence(ids[r.theme], r.term, section[s:e], s, e, weight, True) for r, s, e in heading if section]
        order = {theme_id: i for i, theme_id in enumerate(ids)}
        evidence.sort(key=lambda e: (order[e.theme], e.heading, e.start, -e.end))
        return evidence


@lru_cache(maxsize=4)
def _tagger_for(path: Path, mtime_ns: int) -> ThemeTagger:
    return ThemeTagger(load_taxonomy(path))


def default_tagger() -> ThemeTagger:
    """The tagger for ``$SEARCHDOC_TAXONOMY`` or the bundled taxonomy, rebuilt when the file changes."""
    path = _taxonomy_path(None)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = -1
    return _tagger_for(path, mtime)


_taggers: dict[int, tuple[Taxonomy, ThemeTagger]] = {}


def _tagger(taxonomy: Taxonomy | ThemeTagger | None) -> ThemeTagger:
    if taxonomy is None:
        return default_tagger()
    if isinstance(taxonomy, ThemeTagger):
        return taxonomy
    entry = _taggers.get(id(taxonomy))
    if entry is None or entry[0] is not taxonomy:
        if len(_taggers) >= 8:
            _taggers.clear()
        entry = (taxonomy, ThemeTagger(taxonomy))
        _taggers[id(taxonomy)] = entry
    return entry[1]


def tag(text: str, section: str | None = None, taxonomy: Taxonomy | ThemeTagger | None = None) -> list[str]:
    """Theme ids of one paragraph, in taxonomy order (possibly none)."""
    return _tagger(taxonomy).tag(text, section)


def explain(text: str, section: str | None = None, taxonomy: Taxonomy | ThemeTagger | None = None) -> list[Evidence]:
    """The evidence behind :func:`tag` for one paragraph."""
    return _tagger(taxonomy).explain(text, section)
