"""Dutch parliamentary citations: parse, format and extract them (pure, no I/O).

Three jobs, one grammar:

* :func:`parse` turns one reference ("Kamerstuk 33 694, nr. 12", "kst-33694-12", a
  zoek.officielebekendmakingen.nl link, "2019Z01633", ...) into a :class:`Reference` with the
  canonical official id;
* :func:`label`, :func:`full_citation`, :func:`official_url` and :func:`kind_of` go back from an
  id to text, in the style of the *Leidraad voor juridische auteurs*;
* :func:`extract` finds every citation in running text with character offsets.

Canonical ids follow zoek.officielebekendmakingen.nl (``kst-33694-12``, ``kst-34775-IX-8``,
``ah-tk-20182019-264``, ``h-tk-20182019-45-7``, ``stb-2019-288``). Things that have no such id get
a stable id of their own: a Tweede Kamer zaak is its number (``2019Z01633``), a TK document its
document number (``2019D36743``), an activity its number (``2019A01234``) and a whole dossier
``dossier-33694`` / ``dossier-21501-32``. A "Bijlage bij Kamerstuk ..." reference has no derivable
``blg-`` id, so it carries the main document's id with ``attachment=True``.

Extraction is one pass of one compiled regular expression; each match is then validated and
decoded by the per-form pattern that matched, so ``extract`` stays fast on large corpora.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from urllib.parse import parse_qs, unquote, urlsplit

from searchdoc.errors import CitationParseError, InvalidIdentifierError
from searchdoc.model import Citation
from searchdoc.settings import OB_URL

__all__ = [
    "Found",
    "Reference",
    "extract",
    "full_citation",
    "kind_of",
    "label",
    "normalize_id",
    "official_url",
    "parse",
    "parse_all",
    "try_parse",
]

#: Tweede Kamer website pages for things that have no official publication.
TK_ZAAK_URL = "https://www.tweedekamer.nl/kamerstukken/detail?id={id}"
TK_DOCUMENT_URL = "https://www.tweedekamer.nl/downloads/document?id={id}"
TK_ACTIVITY_URL = "https://www.tweedekamer.nl/debat_en_vergadering/commissievergaderingen/details?id={id}"

#: Dossiers whose two-digit additions are sub-dossiers (``21 501-32``), not stuk numbers.
SUBDOSSIER_PARENTS = frozenset({"21501"})

UNDERSTOOD_FORMS = (
    "Kamerstuk 33 694, nr. 12; Kamerstukken II 2018/19, 34 775 IX, nr. 8; 21501-32-1740; "
    "Kamerstukken I 2017/18, 34 775, A; Aanhangsel Handelingen II 2018/19, nr. 264; "
    "Handelingen II 2018/19, nr. 45, item 7; Stb. 2019, 288; 2019Z01633; 2019D36743; "
    "dossier 33 694; kst-33694-45; a zoek.officielebekendmakingen.nl link"
)

_GAZETTES = {
    # prefix: (kind, abbreviation in the Leidraad style)
    "stb": ("staatsblad", "Stb."),
    "stcrt": ("staatscourant", "Stcrt."),
    "trb": ("tractatenblad", "Trb."),
    "gmb": ("gemeenteblad", "Gmb."),
    "prb": ("provinciaal-blad", "Prb."),
    "wsb": ("waterschapsblad", "Wsb."),
    "bgr": ("blad-gemeenschappelijke-regeling", "Bgr."),
}
_GAZETTE_KINDS = frozenset(kind for kind, _ in _GAZETTES.values())
_GAZETTE_NAMES = {
    "stb": "stb",
    "stbl": "stb",
    "staatsblad": "stb",
    "stcrt": "stcrt",
    "staatscourant": "stcrt",
    "trb": "trb",
    "tractatenblad": "trb",
    "gmb": "gmb",
    "gemeenteblad": "gmb",
    "prb": "prb",
    "provinciaal blad": "prb",
    "wsb": "wsb",
    "waterschapsblad": "wsb",
    "bgr": "bgr",
}
_PREFIX_KINDS = {
    "kst": "kamerstuk",
    "ah": "aanhangsel",
    "h": "handelingen",
    "kv": "kamervragen",
    "blg": "bijlage",
    "nds": "niet-dossierstuk",
    "ag": "agenda",
    **{prefix: kind for prefix, (kind, _) in _GAZETTES.items()},
}
_TK_NUMBER_KINDS = {"Z": "zaak", "D": "tk-document", "A": "activiteit"}
_TK_NUMBER_WORDS = {"Z": "Zaak", "D": "Document", "A": "Activiteit"}


@dataclass(frozen=True)
class Reference:
    """One cited thing, decoded.

    ``id`` is the canonical official id (see the module docstring); ``kind`` says what is cited
    (kamerstuk, bijlage, aanhangsel, handelingen, staatsblad, staatscourant, tractatenblad,
    kamervragen, zaak, tk-document, activiteit, dossier, ...). ``dossier`` is written without
    spaces (``33694``), ``suffix`` is the dossier addition (``IX``, ``32``), ``number`` the stuk,
    aanhangsel, vergadering or gazette number, ``vergaderjaar`` reads ``2018-2019`` and
    ``chamber`` is ``II`` or ``I``. ``alternates`` are other ids the same document may carry
    (the other dossier of a joint stuk, the old vergaderjaar-prefixed form).
    """

    id: str
    kind: str
    raw: str = ""
    dossier: str | None = None
    suffix: str | None = None
    number: str | None = None
    item: str | None = None
    vergaderjaar: str | None = None
    year: str | None = None
    chamber: str | None = None
    pinpoint: str | None = None
    attachment: bool = False
    alternates: tuple[str, ...] = ()

    @property
    def dossier_id(self) -> str | None:
        """The ``dossier-…`` id of the dossier this reference belongs to, if any."""
        if not self.dossier:
            return None
        return f"dossier-{self.dossier}" + (f"-{self.suffix}" if self.suffix else "")

    @property
    def is_document(self) -> bool:
        """False for a dossier, zaak or activity: those are containers, not publications."""
        return self.kind not in ("dossier", "zaak", "activiteit")


@dataclass(frozen=True)
class Found:
    """A citation found in text: ``text[start:end] == raw``.

    A list such as "Kamerstuk 29 911, nrs. 226 en 227" yields one Found per stuk, each spanning
    the whole list.
    """

    start: int
    end: int
    raw: str
    reference: Reference

    @property
    def id(self) -> str:
        return self.reference.id

    @property
    def kind(self) -> str:
        return self.reference.kind

    def to_citation(self, paragraph: int | None = None, footnote: int | None = None) -> Citation:
        """The :class:`searchdoc.model.Citation` stored with a paragraph or footnote."""
        return Citation(
            id=self.reference.id,
            kind=self.reference.kind,
            raw=self.raw,
            paragraph=paragraph,
            footnote=footnote,
            start=self.start,
            end=self.end,
        )


# --------------------------------------------------------------------------------------------
# The grammar. Written with named groups for decoding; the master pattern used for scanning is
# built from the same strings with the inner names removed.

_DASH = r"[-\u2010\u2011\u2012\u2013\u2014]"
_VJ = rf"(?:19|20)\d{{2}}\s*(?:/|{_DASH})\s*(?:\d{{4}}|\d{{2}})(?!\d)"
_CHAMBER = r"(?:(?-i:II|I|TK|EK)(?!\w)|(?:tweede|eerste)\s+kamer\b)"
# Case matters: "34 775 IX" has a suffix, "34 775 in" does not.
_SUFFIX_WORD = r"(?-i:(?=[IVXLC])C?L?X{0,3}(?:IX|IV|V?I{0,3})[A-Z]?(?!\w)|[A-Z](?!\w))"
# Older texts set the addition off by commas: "23 400, XI, nr. 25" (then a number must follow,
# or "33 506, AB" stays an Eerste Kamer stuk).
_COMMA_SUFFIX_END = r"(?=\s*,?\s*(?:nrs?\.?|nummers?)\s*\d)"
_SUFFIX = rf"(?:\s?{_DASH}\s?(?:\d{{2}}(?!\w)|{_SUFFIX_WORD})|\s+{_SUFFIX_WORD}|,\s?{_SUFFIX_WORD}{_COMMA_SUFFIX_END})"
_RIJKSWET = r"(?:\s*\(\s*R\s?\d{3,4}\s*\))"
_DOSSIER_NR = r"[1-9]\d\s{0,2}\d{3}(?!\w)"
_ONE_DOSSIER = rf"{_DOSSIER_NR}{_RIJKSWET}?{_SUFFIX}?{_RIJKSWET}?"
# Bounded repeats keep a scan linear even on pathological text ("33 694 en 33 694 en ...").
_DOSSIERS = rf"{_ONE_DOSSIER}(?:\s*(?:\ben\b|&|/)\s*(?:{_ONE_DOSSIER}|{_SUFFIX_WORD})){{0,4}}"
_NUM = r"\d{1,4}[a-z]?(?!\w)"
# A continued list must not swallow the next dossier ("nr. 12 en 31 125, nr. 92").
_NEXT_OK = r"(?!\s?\d|\s*,?\s*nrs?\b)"
_PLURAL_LIST = rf"{_NUM}(?:\s*(?:,|\ben\b|&|t/m|tot\s+en\s+met|{_DASH})\s*(?:nrs?\.?\s*)?{_NUM}{_NEXT_OK}){{0,50}}"
_SINGULAR_LIST = rf"{_NUM}(?:\s*(?:,|\ben\b|&)\s*nr\.?\s*{_NUM}{_NEXT_OK}){{0,50}}"
_PAREN_LIST = rf"\(\s*{_NUM}(?:\s*(?:,|\ben\b|&)\s*{_NUM}){{0,50}}\s*\)"
_PIN = (
    rf"(?:,?\s*(?:pp?\.|blz\.|pag\.|pagina|bladzijde)\s*\d{{1,5}}"
    rf"(?:\s*(?:{_DASH}|t/m)\s*\d{{1,5}})?(?:\s*(?:e\.v\.|ff?\.))?)"
)
_NUMBERS_KEYWORD = (
    rf"(?:,?\s*(?:nrs\.?|nummers)\s*(?P<plural>{_PLURAL_LIST})"
    rf"|,?\s*(?:nr\.?|nummer|no\.)\s*(?P<singular>{_SINGULAR_LIST})"
    r"|,\s*(?P<letters>(?-i:[A-Z]{1,2}))(?!\w)"
    rf"|\s*(?P<paren>{_PAREN_LIST}))"
)
# "31865-207", "21501-32-1740": one dossier only, so "21501-32 en 31865-20" stays two.
# The dossier is written without a space, as in ids; "33 694-12" is printed like a sub-dossier.
_COMPACT = (
    rf"(?P<cdossier>[1-9]\d{{4}}(?!\w){_RIJKSWET}?(?:{_DASH}(?:\d{{2}}(?!\w)|{_SUFFIX_WORD}))?)"
    rf"{_DASH}(?P<compact>{_NUM})(?![-\u2010-\u2014])"
)

_FORMS: dict[str, str] = {
    "url": r"\bhttps?://[^\s<>\"'()\[\]{}]*[^\s<>\"'()\[\]{}.,;:!?]",
    "oid": (
        r"(?<![\w-])(?:bijlage\s+)?(?P<oid>(?:kst|ah-tk|ah-ek|h-tk|h-ek|h-vv|kv-tk|kv|nds-tk|nds"
        r"|ag-tk|ag-ek|ag-vv|blg|stb|stcrt|trb|gmb|prb|wsb|bgr|dossier)-[0-9a-z](?:[0-9a-z]|-(?=[0-9a-z]))*)"
        r"(?![\w-])"
    ),
    "ah": (
        r"\baanh(?:angsel|\.)\s*(?:(?:van\s+)?de\s+|bij\s+de\s+)?(?:handelingen|hand\.)"
        rf"(?:\s+(?P<chamber>{_CHAMBER}))?,?\s*(?:vergaderjaar\s+)?(?P<vj>{_VJ})"
        rf",?\s*(?:(?:nrs?\.?|nummers?)\s*)?(?P<numbers>{_PLURAL_LIST})(?P<pin>{_PIN})?"
    ),
    "h": (
        r"(?<!aanhangsel\s)(?<!aanh\.\s)\b(?:handelingen|hand\.)"
        rf"(?:\s+(?P<chamber>{_CHAMBER}))?,?\s*(?:vergaderjaar\s+)?(?P<vj>{_VJ}),?\s*"
        r"(?:(?:(?:nr\.?|nummer|vergadering)\s*)?(?P<meeting>\d{1,4}),?\s*item\s*(?P<item>\d{1,4})(?!\w)"
        rf"|(?:pp?\.|blz\.)\s*(?P<p1>\d{{1,5}})\s*(?:{_DASH}|t/m)\s*(?P<p2>\d{{1,5}})(?!\w))"
        rf"(?P<pin>{_PIN})?"
    ),
    "gazette": (
        r"\b(?P<name>stb|stbl|staatsblad|stcrt|staatscourant|trb|tractatenblad|gmb|gemeenteblad"
        r"|prb|provinciaal\s+blad|wsb|waterschapsblad|bgr)\.?\s*(?P<year>(?:1[6-9]|20)\d{2})(?!\d)"
        r"\s*,?\s*(?:nr\.?\s*)?(?P<number>\d{1,7})(?!\w)"
        rf"(?P<pin>{_PIN})?"
    ),
    "kst": (
        r"(?P<bijlage>\bbijlage(?:n)?\s+(?:\d{1,2}\s+)?bij\s+(?:de\s+|het\s+)?)?"
        r"\b(?P<keyword>kamerstuk(?:ken)?|kamerst\.|kst\.|(?:kamerstuk)?dossier(?:nummer|nr\.?)?"
        # Older texts: "TK 2008–2009, 31 700 V, nr. 3" (the chamber stands for "Kamerstukken").
        rf"|(?-i:TK|EK)(?=\s*,?\s*{_VJ}))"
        rf"(?:\s+(?P<chamber>{_CHAMBER}))?(?:\s*,?\s*(?:vergaderjaar\s+)?(?P<vj>{_VJ}))?"
        # A slip of older texts: "Kamerstukken II, 1995/1996, nr. 24 280" names the dossier.
        r"\s*,?\s*(?:nr\.?\s*(?=\d{2}\s\d{3}(?![\d\w])(?!\s*,?\s*nrs?\b)))?"
        rf"(?:{_COMPACT}|(?P<dossiers>{_DOSSIERS})(?:{_NUMBERS_KEYWORD})?)(?P<pin>{_PIN})?"
    ),
    "tknr": (
        r"(?:\b(?P<keyword>zaak(?:nummer|nr\.?)?|kamervragen(?:\s+zonder\s+antwoord)?"
        r"|document(?:nummer|nr\.?)?|activiteit(?:nummer|nr\.?)?)\s*:?\s*)?"
        r"(?<![\w-])(?P<tknr>(?:19|20)\d{2}[ZDA]\d{5})(?!\w)"
    ),
    "bare": (
        rf"(?<![\w.,/-])(?:{_COMPACT}|(?P<dossiers>{_DOSSIERS})"
        rf"(?:,?\s*(?:nrs\.?|nummers)\s*(?P<plural>{_PLURAL_LIST})"
        rf"|,?\s*(?:nr\.?|nummer)\s*(?P<singular>{_SINGULAR_LIST})"
        rf"|\s*(?P<paren>{_PAREN_LIST})))(?P<pin>{_PIN})?"
    ),
    # Handelingen print a bill's dossier number in parentheses: "(35124)". Only 2xxxx and 3xxxx,
    # the dossiers of recent decades, so that "(12345)" stays a number.
    "paren": rf"(?<=\()(?P<dossiers>[23]\d{{4}}(?:{_DASH}(?:\d{{2}}|{_SUFFIX_WORD}))?)(?=\))",
}

# Every form starts at a word boundary with a digit or one of these words. Checking that first
# lets the scanner reject almost every position after one or two character tests (about ten
# times faster than trying each form everywhere).
_STARTS = (
    r"\b(?=[\dkdabhstgpwzne])(?=\d|k(?:amerst|amervragen|st|v-)|d(?:ossier|ocument)|b(?:ijlage|gr|lg-)"
    r"|a(?:anh|ctiviteit|h-|g-)|h(?:and|ttp|-)|s(?:tb|taats|tcrt)|t(?:rb|ractatenblad|k\b)|ek\b"
    r"|g(?:mb|emeenteblad)|p(?:rb|rovinciaal)|w(?:sb|aterschapsblad)|zaak|nds-)"
)
_FLAGS = re.IGNORECASE


# The scanner's grammars are compiled when first used: labelling a search hit needs none of them,
# and compiling them all costs a cold ``searchdoc search`` about 0.1 s.
@cache
def _form_re(name: str) -> re.Pattern:
    return re.compile(_FORMS[name], _FLAGS)


@cache
def _master() -> re.Pattern:
    """One pattern trying every form, each as a named group, after the cheap start check."""
    return re.compile(
        _STARTS
        + "(?:"
        + "|".join(f"(?P<{name}>{re.sub(r'[(][?]P<[a-z0-9_]+>', '(?:', pattern)})" for name, pattern in _FORMS.items())
        + ")",
        _FLAGS,
    )


# Sub-grammars used to decode a matched span.
_ONE_DOSSIER_RE = re.compile(
    rf"(?P<nr>{_DOSSIER_NR}){_RIJKSWET}?"
    rf"(?:\s?{_DASH}\s?(?P<dash_suffix>\d{{2}}(?!\w)|{_SUFFIX_WORD})|\s+(?P<space_suffix>{_SUFFIX_WORD})"
    rf"|,\s?(?P<comma_suffix>{_SUFFIX_WORD}))?"
    rf"{_RIJKSWET}?"
    rf"|(?<=[/n&])\s*(?P<bare_suffix>{_SUFFIX_WORD})",
    _FLAGS,
)
_LIST_ITEM_RE = re.compile(
    rf"(?P<sep>,|\ben\b|&|t/m|tot\s+en\s+met|{_DASH})?\s*(?:nrs?\.?\s*)?(?P<num>\d{{1,4}}[a-z]?)(?!\w)",
    _FLAGS,
)
_PIN_RE = re.compile(rf"(\d{{1,5}})(?:\s*(?:{_DASH}|t/m)\s*(\d{{1,5}}))?")
_VJ_RE = re.compile(rf"((?:19|20)\d{{2}})\s*(?:/|{_DASH})\s*(\d{{4}}|\d{{2}})")
_SPACES = re.compile(r"\s+")

# Official ids. Matched case-insensitively and rewritten in canonical case.
_ROMAN_ID = r"[ivxlc]+[a-z]?"
_ID_RES = {
    "kst": re.compile(
        rf"kst-(?P<d>\d{{5}})(?:-(?P<s>\d{{2}}|{_ROMAN_ID}|[a-z]))?"
        r"-(?P<n>\d{1,5}[a-z]?|[a-z]{1,3})(?:-(?P<r>[hnb]\d{1,2}))?",
        _FLAGS,
    ),
    "kst-legacy": re.compile(
        rf"kst-(?P<vj>\d{{8}})-(?P<d>\d{{5}})(?:-(?P<s>\d{{2}}|{_ROMAN_ID}|[a-z]))?"
        r"-(?P<n>\d{1,5}[a-z]?|[a-z]{1,3})(?:-(?P<r>[hnb]\d{1,2}))?",
        _FLAGS,
    ),
    "ah": re.compile(r"ah-(?P<ch>tk|ek)-(?P<vj>\d{8})-(?P<n>\d{1,5})(?:-(?P<r>[hnb]\d{1,2}))?", _FLAGS),
    "h": re.compile(
        r"h-(?P<ch>tk|ek)-(?P<vj>\d{8})-(?P<a>\d{1,5})-(?P<b>\d{1,5})(?:-(?P<r>[hnb]\d{1,2}))?",
        _FLAGS,
    ),
    "kv": re.compile(r"kv-tk-(?P<z>(?:19|20)\d{2}Z\d{5})", _FLAGS),
    "gazette": re.compile(
        r"(?P<p>stb|stcrt|trb|gmb|prb|wsb|bgr)-(?P<y>\d{4})-(?P<n>\d{1,7})(?:-(?P<r>[hnb]\d{1,2}))?",
        _FLAGS,
    ),
    "blg": re.compile(r"blg-(?P<n>\d{1,9})|blg-(?P<d>\d{5})-(?P<sub>\d{1,4}[a-z]{0,2})", _FLAGS),
    "nds": re.compile(r"nds-tk-(?P<z>(?:19|20)\d{2}D\d{5})(?:-(?P<r>[hnb]\d{1,2}))?", _FLAGS),
    "dossier": re.compile(rf"dossier-(?P<d>\d{{5}})(?:-(?P<s>\d{{2}}|{_ROMAN_ID}|[a-z]))?", _FLAGS),
    "tknr": re.compile(r"(?P<y>(?:19|20)\d{2})(?P<t>[ZDA])(?P<n>\d{5})", _FLAGS),
}
_ID_FALLBACK = re.compile(
    r"(?P<p>kst|ah-tk|ah-ek|ah|h-tk|h-ek|h-vv|kv-tk|kv|nds-tk|nds|ag-tk|ag-ek|ag-vv|blg"
    r"|stb|stcrt|trb|gmb|prb|wsb|bgr)-(?P<rest>[0-9a-z]+(?:-[0-9a-z]+)*)",
    _FLAGS,
)
_BARE_DOSSIER = re.compile(rf"(?P<dossiers>{_ONE_DOSSIER})", _FLAGS)
_LEAD_IN = re.compile(r"^(?:(?:zie(?:\s+ook)?|vgl\.|cf\.|zoals\s+in)\s+)", _FLAGS)
_FOOTNOTE_NUMBER = re.compile(r"^\d{1,3}\s+(?=\S)")
_URL_HOSTS = ("officielebekendmakingen.nl", "overheid.nl", "tweedekamer.nl")


# --------------------------------------------------------------------------------------------
# Small helpers


def _vergaderjaar(text: str | None) -> str | None:
    """'2018/19', '2018-2019', '1999/2000', '20182019' -> '2018-2019'; None when inconsistent."""
    if not text:
        return None
    text = text.strip()
    if re.fullmatch(r"\d{8}", text):
        first, second = int(text[:4]), int(text[4:])
    else:
        m = _VJ_RE.fullmatch(text)
        if not m:
            return None
        first = int(m.group(1))
        tail = m.group(2)
        second = int(tail) if len(tail) == 4 else (first // 100) * 100 + int(tail)
        if len(tail) == 2 and second == first + 1 - 100:
            second += 100
    if second != first + 1:
        return None
    return f"{first}-{second}"


def _vj_compact(vj: str) -> str:
    return vj.replace("-", "")


def _vj_leidraad(vj: str) -> str:
    """'2018-2019' -> '2018/19'; across a century '1999-2000' -> '1999/2000'."""
    first, second = (int(x) for x in vj.split("-"))
    if first // 100 != second // 100:
        return f"{first}/{second}"
    return f"{first}/{second % 100:02d}"


def _chamber(text: str | None) -> str | None:
    if not text:
        return None
    word = _SPACES.sub(" ", text.strip()).lower()
    if word in ("ii", "tk", "tweede kamer"):
        return "II"
    if word in ("i", "ek", "eerste kamer"):
        return "I"
    return None


def _number(text: str) -> str:
    """Canonical stuk number: digits without leading zeros plus a lower-case letter ('188b'),
    or upper-case Eerste Kamer letters ('A', 'AB')."""
    m = re.fullmatch(r"(\d+)([a-z]?)", text, re.IGNORECASE)
    if m:
        return str(int(m.group(1))) + m.group(2).lower()
    return text.upper()


def _dossier_text(dossier: str, suffix: str | None) -> str:
    """'33694' -> '33 694'; with a suffix '34 775 IX'; a sub-dossier '21 501-32'."""
    printed = f"{dossier[:-3]} {dossier[-3:]}"
    if not suffix:
        return printed
    return f"{printed}-{suffix}" if suffix.isdigit() else f"{printed} {suffix}"


def _kst_id(dossier: str, suffix: str | None, number: str) -> str:
    return f"kst-{dossier}" + (f"-{suffix}" if suffix else "") + f"-{number}"


def _pinpoint(text: str | None) -> str | None:
    if not text:
        return None
    m = _PIN_RE.search(text)
    if not m:
        return None
    first, last = m.group(1), m.group(2)
    if last and int(last) != int(first):
        return f"p. {int(first)}-{int(last)}"
    return f"p. {int(first)}"


def _expand(text: str, allow_ranges: bool) -> list[str]:
    """The stuk numbers of '226 en 227', '250, 250a', '12-14' (small ranges are expanded)."""
    numbers: list[str] = []
    for m in _LIST_ITEM_RE.finditer(text):
        sep = (m.group("sep") or "").lower()
        num = _number(m.group("num"))
        is_range = sep == "t/m" or sep.startswith("tot") or bool(re.fullmatch(_DASH, sep))
        if is_range and allow_ranges and numbers and numbers[-1].isdigit() and num.isdigit():
            low, high = int(numbers[-1]), int(num)
            if low < high <= low + 50:
                numbers.extend(str(n) for n in range(low + 1, high + 1))
                continue
        numbers.append(num)
    seen: dict[str, None] = {}
    for num in numbers:
        seen.setdefault(num, None)
    return list(seen)


def _dossiers(text: str) -> list[tuple[str, str | None]]:
    """(dossier, suffix) for each dossier of '34 300 X en 34 300 V' or '34 300 X/ V'; a bare
    suffix after '/' or 'en' borrows the previous dossier number."""
    result: list[tuple[str, str | None]] = []
    for m in _ONE_DOSSIER_RE.finditer(text):
        if m.group("bare_suffix"):
            if result:
                result.append((result[-1][0], m.group("bare_suffix")))
            continue
        nr = re.sub(r"\s", "", m.group("nr"))
        result.append((nr, m.group("dash_suffix") or m.group("space_suffix") or m.group("comma_suffix")))
    return result


def _legacy_alternate(vj: str | None, dossier: str, suffix: str | None, number: str) -> tuple[str, ...]:
    """Before about 2010 some stukken were published under a vergaderjaar-prefixed id."""
    if vj and int(vj[:4]) < 2010:
        return (f"kst-{_vj_compact(vj)}-{dossier}" + (f"-{suffix}" if suffix else "") + f"-{number}",)
    return ()


# --------------------------------------------------------------------------------------------
# Official ids


def _parse_id(text: str) -> Reference | None:
    """Decode an official (or searchdoc pseudo-) id in any case; None when it is not one."""
    s = text.strip()
    m = _ID_RES["kst"].fullmatch(s)
    if m:
        d, suffix, n = m.group("d"), m.group("s"), _number(m.group("n"))
        suffix = suffix.upper() if suffix else None
        r = m.group("r")
        doc_id = _kst_id(d, suffix, n) + (f"-{r.lower()}" if r else "")
        return Reference(doc_id, "kamerstuk", text, dossier=d, suffix=suffix, number=n)
    m = _ID_RES["kst-legacy"].fullmatch(s)
    if m:
        vj = _vergaderjaar(m.group("vj"))
        if vj:
            d, suffix, n = m.group("d"), m.group("s"), _number(m.group("n"))
            suffix = suffix.upper() if suffix else None
            r = m.group("r")
            doc_id = (
                f"kst-{_vj_compact(vj)}-{d}"
                + (f"-{suffix}" if suffix else "")
                + f"-{n}"
                + (f"-{r.lower()}" if r else "")
            )
            return Reference(
                doc_id,
                "kamerstuk",
                text,
                dossier=d,
                suffix=suffix,
                number=n,
                vergaderjaar=vj,
                alternates=(_kst_id(d, suffix, n),),
            )
    m = _ID_RES["ah"].fullmatch(s)
    if m:
        vj = _vergaderjaar(m.group("vj"))
        if vj:
            ch = m.group("ch").lower()
            n = str(int(m.group("n")))
            r = m.group("r")
            doc_id = f"ah-{ch}-{_vj_compact(vj)}-{n}" + (f"-{r.lower()}" if r else "")
            return Reference(
                doc_id,
                "aanhangsel",
                text,
                number=n,
                vergaderjaar=vj,
                chamber="II" if ch == "tk" else "I",
            )
    m = _ID_RES["h"].fullmatch(s)
    if m:
        vj = _vergaderjaar(m.group("vj"))
        if vj:
            ch = m.group("ch").lower()
            a, b = str(int(m.group("a"))), str(int(m.group("b")))
            r = m.group("r")
            doc_id = f"h-{ch}-{_vj_compact(vj)}-{a}-{b}" + (f"-{r.lower()}" if r else "")
            return Reference(
                doc_id,
                "handelingen",
                text,
                number=a,
                item=b,
                vergaderjaar=vj,
                chamber="II" if ch == "tk" else "I",
            )
    m = _ID_RES["kv"].fullmatch(s)
    if m:
        z = m.group("z").upper()
        return Reference(f"kv-tk-{z}", "kamervragen", text, number=z, chamber="II")
    m = _ID_RES["gazette"].fullmatch(s)
    if m:
        p = m.group("p").lower()
        y, n = m.group("y"), str(int(m.group("n")))
        r = m.group("r")
        doc_id = f"{p}-{y}-{n}" + (f"-{r.lower()}" if r else "")
        return Reference(doc_id, _GAZETTES[p][0], text, number=n, year=y)
    m = _ID_RES["blg"].fullmatch(s)
    if m:
        if m.group("n"):
            return Reference(f"blg-{int(m.group('n'))}", "bijlage", text, number=str(int(m.group("n"))))
        return Reference(f"blg-{m.group('d')}-{m.group('sub').upper()}", "bijlage", text, dossier=m.group("d"))
    m = _ID_RES["nds"].fullmatch(s)
    if m:
        r = m.group("r")
        doc_id = f"nds-tk-{m.group('z').upper()}" + (f"-{r.lower()}" if r else "")
        return Reference(doc_id, "niet-dossierstuk", text, number=m.group("z").upper())
    m = _ID_RES["dossier"].fullmatch(s)
    if m:
        d, suffix = m.group("d"), m.group("s")
        suffix = suffix.upper() if suffix else None
        return Reference(
            f"dossier-{d}" + (f"-{suffix}" if suffix else ""),
            "dossier",
            text,
            dossier=d,
            suffix=suffix,
        )
    m = _ID_RES["tknr"].fullmatch(s)
    if m:
        t = m.group("t").upper()
        nr = f"{m.group('y')}{t}{m.group('n')}"
        return Reference(nr, _TK_NUMBER_KINDS[t], text, number=nr)
    # Older and odd ids (kst-26643-144-h1 aside: kst-20052006-30300F-A, stcrt-2006-9-p12-SC73320,
    # ah-187909) are kept as written: there is no rule to rebuild them from their parts.
    m = _ID_FALLBACK.fullmatch(s)
    if m and re.search(r"\d", m.group("rest")):
        prefix = m.group("p").lower()
        if "-" in m.group("rest") or prefix in ("ah", "kv", "nds", "blg"):
            return Reference(f"{prefix}-{m.group('rest')}", _PREFIX_KINDS[prefix.split("-")[0]], text)
    return None


def normalize_id(doc_id: str) -> str:
    """The canonical form of an official id given in any case (``KST-34775-ix-8`` ->
    ``kst-34775-IX-8``); raises :class:`InvalidIdentifierError` for anything else."""
    return _id_reference(doc_id).id


def _id_reference(doc_id: str) -> Reference:
    ref = _parse_id(doc_id) if isinstance(doc_id, str) else None
    if ref is None:
        raise InvalidIdentifierError(
            f"{_shorten(doc_id)} is not an official document id; try one like kst-33694-45, "
            "ah-tk-20182019-264, stb-2019-288 or 2019Z01633"
        )
    return ref


# --------------------------------------------------------------------------------------------
# Decoding a matched span


def _decode(form: str, text: str, start: int, end: int) -> list[Reference]:
    """The references of one master-pattern match; [] when validation rejects it."""
    raw = text[start:end]
    if form == "url":
        ref = _parse_url(raw)
        return [ref] if ref else []
    # match() rather than fullmatch(): an endpos would hide the text a lookahead needs to see.
    m = _form_re(form).match(text, start)
    if m is None or m.end() != end:
        m = _form_re(form).fullmatch(text, start, end)
    if m is None:
        return []
    if form == "oid":
        ref = _parse_id(m.group("oid"))
        return [replace(ref, raw=raw)] if ref else []
    if form == "tknr":
        return _decode_tknr(m, raw)
    if form == "ah":
        return _decode_ah(m, raw)
    if form == "h":
        return _decode_h(m, raw)
    if form == "gazette":
        return _decode_gazette(m, raw)
    if form == "paren":
        return _decode_dossiers_only(_dossiers(m.group("dossiers")), raw, "paren")
    return _decode_kst(m, raw, form)


def _decode_tknr(m: re.Match, raw: str) -> list[Reference]:
    nr = m.group("tknr").upper()
    kind = _TK_NUMBER_KINDS[nr[4]]
    keyword = (m.group("keyword") or "").lower()
    if keyword.startswith("kamervragen") and kind == "zaak":
        return [Reference(f"kv-tk-{nr}", "kamervragen", raw, number=nr, chamber="II")]
    return [Reference(nr, kind, raw, number=nr)]


def _decode_ah(m: re.Match, raw: str) -> list[Reference]:
    vj = _vergaderjaar(m.group("vj"))
    if vj is None:
        return []
    chamber = _chamber(m.group("chamber")) or "II"
    prefix = "ah-tk" if chamber == "II" else "ah-ek"
    pin = _pinpoint(m.group("pin"))
    return [
        Reference(
            f"{prefix}-{_vj_compact(vj)}-{n}",
            "aanhangsel",
            raw,
            number=n,
            vergaderjaar=vj,
            chamber=chamber,
            pinpoint=pin,
        )
        for n in _expand(m.group("numbers"), allow_ranges=True)
        if n.isdigit() and int(n) > 0
    ]


def _decode_h(m: re.Match, raw: str) -> list[Reference]:
    vj = _vergaderjaar(m.group("vj"))
    if vj is None:
        return []
    chamber = _chamber(m.group("chamber")) or "II"
    prefix = "h-tk" if chamber == "II" else "h-ek"
    if m.group("meeting"):
        a, b = str(int(m.group("meeting"))), str(int(m.group("item")))
    else:
        a, b = str(int(m.group("p1"))), str(int(m.group("p2")))
        if int(b) < int(a):
            return []
    return [
        Reference(
            f"{prefix}-{_vj_compact(vj)}-{a}-{b}",
            "handelingen",
            raw,
            number=a,
            item=b,
            vergaderjaar=vj,
            chamber=chamber,
            pinpoint=_pinpoint(m.group("pin")),
        )
    ]


def _decode_gazette(m: re.Match, raw: str) -> list[Reference]:
    prefix = _GAZETTE_NAMES[_SPACES.sub(" ", m.group("name").lower())]
    year, number = m.group("year"), int(m.group("number"))
    if number == 0:
        return []
    return [
        Reference(
            f"{prefix}-{year}-{number}",
            _GAZETTES[prefix][0],
            raw,
            number=str(number),
            year=year,
            pinpoint=_pinpoint(m.group("pin")),
        )
    ]


def _decode_dossiers_only(dossiers: list[tuple[str, str | None]], raw: str, how: str) -> list[Reference]:
    refs = []
    for dossier, suffix in dossiers:
        if suffix and suffix.isdigit() and how != "dossier":
            if dossier not in SUBDOSSIER_PARENTS and not suffix.startswith("0"):
                # "Kamerstuk 31865-20" is stuk 20 of dossier 31865; "21501-32" is a sub-dossier,
                # and so is anything introduced by the word "dossier".
                refs.append(
                    Reference(
                        _kst_id(dossier, None, str(int(suffix))),
                        "kamerstuk",
                        raw,
                        dossier=dossier,
                        number=str(int(suffix)),
                    )
                )
                continue
        suffix = suffix.upper() if suffix else None
        refs.append(
            Reference(
                f"dossier-{dossier}" + (f"-{suffix}" if suffix else ""),
                "dossier",
                raw,
                dossier=dossier,
                suffix=suffix,
            )
        )
    return refs


def _decode_kst(m: re.Match, raw: str, form: str) -> list[Reference]:
    groups = m.groupdict()
    vj = None
    if groups.get("vj"):
        vj = _vergaderjaar(groups["vj"])
        if vj is None:
            return []
    keyword_chamber = groups.get("keyword") if groups.get("keyword") in ("TK", "EK") else None
    chamber = _chamber(groups.get("chamber")) or _chamber(keyword_chamber)
    dossiers = _dossiers(groups.get("dossiers") or groups.get("cdossier") or "")
    if not dossiers:
        return []
    keyword = (groups.get("keyword") or "").lower()
    how = "dossier" if "dossier" in keyword else form
    if groups.get("letters"):
        numbers = [groups["letters"].upper()]
        chamber = chamber or "I"
    elif groups.get("plural"):
        numbers = _expand(groups["plural"], allow_ranges=True)
    elif groups.get("singular"):
        numbers = _expand(groups["singular"], allow_ranges=False)
    elif groups.get("paren"):
        numbers = _expand(groups["paren"].strip("() "), allow_ranges=False)
    elif groups.get("compact"):
        compact = groups["compact"]
        first = dossiers[0][0]
        if len(dossiers) == 1 and len(compact) == 2 and compact.isdigit():
            if first in SUBDOSSIER_PARENTS or compact.startswith("0"):
                # "21501-32" and "21501-08" name sub-dossiers, not stukken.
                return _decode_dossiers_only([(first, compact)], raw, "dossier")
        numbers = [_number(compact)]
    else:
        refs = _decode_dossiers_only(dossiers, raw, how)
        return [replace(r, vergaderjaar=vj, chamber=chamber) for r in refs]
    numbers = [n for n in numbers if not n.isdigit() or int(n) > 0]
    attachment = bool(groups.get("bijlage"))
    kind = "bijlage" if attachment else "kamerstuk"
    pin = _pinpoint(groups.get("pin"))
    first_dossier, first_suffix = dossiers[0]
    first_suffix = first_suffix.upper() if first_suffix else None
    refs = []
    for n in numbers:
        others = tuple(
            _kst_id(d, s.upper() if s else None, n) for d, s in dossiers[1:] if (d, s) != (first_dossier, first_suffix)
        )
        refs.append(
            Reference(
                _kst_id(first_dossier, first_suffix, n),
                kind,
                raw,
                dossier=first_dossier,
                suffix=first_suffix,
                number=n,
                vergaderjaar=vj,
                chamber=chamber,
                pinpoint=pin,
                attachment=attachment,
                alternates=others + _legacy_alternate(vj, first_dossier, first_suffix, n),
            )
        )
    return refs


def _parse_url(url: str) -> Reference | None:
    """A zoek.officielebekendmakingen.nl, repository.overheid.nl or tweedekamer.nl link."""
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if not any(host == h or host.endswith("." + h) for h in _URL_HOSTS):
        return None
    if host.endswith("tweedekamer.nl"):
        query = parse_qs(parts.query)
        for key in ("did", "id"):
            for value in query.get(key, []):
                ref = _parse_id(value)
                if ref and ref.kind in _TK_NUMBER_KINDS.values():
                    return replace(ref, raw=url)
        return None
    segments = [unquote(s) for s in parts.path.split("/") if s]
    for i, segment in enumerate(reversed(segments)):
        stem = re.sub(r"\.(?:html?|xml|pdf|odt|zip|txt)$", "", segment, flags=re.IGNORECASE)
        ref = _parse_id(stem)
        if ref:
            return replace(ref, raw=url)
        if i == 0 and len(segments) >= 2 and segments[-2].lower() == "dossier":
            m = _BARE_DOSSIER.fullmatch(stem)
            if m:
                refs = _decode_dossiers_only(_dossiers(stem), url, "dossier")
                return refs[0] if refs else None
    return None


# --------------------------------------------------------------------------------------------
# Public API


def parse_all(ref: str) -> list[Reference]:
    """Every reference in one citation string ("Kamerstuk 29 911, nrs. 226 en 227" gives two).

    Raises :class:`CitationParseError` when the string is not a citation.
    """
    if not isinstance(ref, str):
        raise CitationParseError(f"{_shorten(ref)} is not a citation; understood forms: {UNDERSTOOD_FORMS}")
    cleaned = _clean(ref)
    candidates = [cleaned]
    without_number = _FOOTNOTE_NUMBER.sub("", cleaned)
    if without_number != cleaned:
        candidates.append(without_number)
    for candidate in candidates:
        refs = _parse_whole(candidate)
        if refs:
            return [replace(r, raw=ref) for r in refs]
    raise CitationParseError(f"{_shorten(ref)} is not a citation; understood forms: {UNDERSTOOD_FORMS}")


def parse(ref: str) -> Reference:
    """Decode one citation or id into a :class:`Reference` (the first stuk of a list).

    Raises :class:`CitationParseError`, whose one-line message lists the understood forms.
    """
    return parse_all(ref)[0]


def try_parse(ref: str) -> Reference | None:
    """Like :func:`parse`, but None instead of an error: for code that probes strings."""
    try:
        return parse(ref)
    except CitationParseError:
        return None


def _clean(ref: str) -> str:
    s = ref.strip()
    for _ in range(3):
        s = s.strip().rstrip(".,;:").strip()
        if len(s) >= 2 and s[0] + s[-1] in ("()", "[]", "“”", '""', "‘’", "''"):
            s = s[1:-1]
        s = _LEAD_IN.sub("", s)
    return s


def _parse_whole(s: str) -> list[Reference]:
    if not s:
        return []
    lowered = s.lower()
    if lowered.startswith(("http://", "https://")) or re.match(
        r"^(?:www\.|zoek\.)?(?:officielebekendmakingen|tweedekamer|repository\.overheid)\.nl/",
        lowered,
    ):
        if re.search(r"\s", s):
            return []
        ref = _parse_url(s)
        return [ref] if ref else []
    ref = _parse_id(s)
    if ref:
        return [ref]
    if _BARE_DOSSIER.fullmatch(s):
        refs = _decode_dossiers_only(_dossiers(s), s, "bare")
        if refs:
            return refs
    m = _master().fullmatch(s)
    if m is None:
        return []
    return _decode(m.lastgroup or "", s, 0, len(s))


def extract(text: str) -> list[Found]:
    """Every citation in ``text`` with its character offsets, in order of appearance.

    Works on raw or reflowed text (line breaks inside a citation are fine). Never raises on
    odd input: anything that is not a citation is skipped.
    """
    if not isinstance(text, str) or not text:
        return []
    found: list[Found] = []
    for m in _master().finditer(text):
        start, end = m.span()
        raw = text[start:end]
        for ref in _decode(m.lastgroup or "", text, start, end):
            found.append(Found(start, end, raw, replace(ref, raw=raw)))
    short = _short_gazettes(text, found)
    if short:
        found = sorted([*found, *short], key=lambda f: (f.start, f.end))
    return found


_MONTHS = "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
# "de wet van 12 juni 1997 (Stb. 310)", "wet van 25 september 2008, Stb. 397": the year of the
# gazette is the year of the act's date, written earlier in the same sentence.
_SHORT_GAZETTE = re.compile(
    r"(?:(?<=\()|(?<=,\s))(?P<name>stb|stbl|stcrt|trb)\.?\s*(?:nr\.?\s*)?(?P<number>\d{1,7})(?=\s*[);,])", _FLAGS
)
_DATED = re.compile(rf"\b\d{{1,2}}\s+(?:{_MONTHS})\s+(?P<year>(?:18|19|20)\d{{2}})\b", _FLAGS)
# The date of an act: "wet van 31 mei 1995", "besluit van …", "Rijkswet van …".
_ACT_DATE = re.compile(r"\b(?:rijks)?(?:wet|besluit|regeling|verdrag)\s+van\s+$", _FLAGS)
_SENTENCE_START = re.compile(r"[.!?]\s+(?=[A-Z])")
_LOOKBACK = 300


def _short_gazettes(text: str, full: list[Found]) -> list[Found]:
    """Gazette references without a year ("(Stb. 310)") whose year the sentence gives before;
    ``full`` are the citations already found, which such a reference must not overlap."""
    import bisect

    starts = [f.start for f in full]
    gazette_ends = [f.end for f in full if f.reference.kind in _GAZETTE_KINDS]
    found = []
    for m in _SHORT_GAZETTE.finditer(text):
        before = bisect.bisect_right(starts, m.start()) - 1
        if before >= 0 and full[before].end > m.start():
            continue
        window_start = max(0, m.start() - _LOOKBACK)
        for boundary in _SENTENCE_START.finditer(text, window_start, m.start()):
            window_start = boundary.end()
        # An act named after the previous gazette reference is the one this reference closes.
        window_start = max([window_start, *(end for end in gazette_ends if end <= m.start())])
        dates = list(_DATED.finditer(text, window_start, m.start()))
        if text[m.start() - 2 : m.start()] == ", ":
            dates = [d for d in dates if d.end() == m.start() - 2]
        if not dates or int(m.group("number")) == 0:
            continue
        acts = [d for d in dates if _ACT_DATE.search(text, max(0, d.start() - 20), d.start())]
        prefix = _GAZETTE_NAMES[m.group("name").lower()]
        year, number = (acts or dates[::-1])[0].group("year"), str(int(m.group("number")))
        gazette_ends.append(m.end())
        raw = m.group()
        ref = Reference(f"{prefix}-{year}-{number}", _GAZETTES[prefix][0], raw, number=number, year=year)
        found.append(Found(m.start(), m.end(), raw, ref))
    return found


#: What may stand between two marked-up pieces of one reference: "199 (31311)" is two links.
_JOINABLE_GAP = re.compile(r"[\s(),;:]{0,3}")


def merge(cited: list[Citation], text: str) -> list[Citation]:
    """One citation per reference occurrence in ``text``, however it was marked up.

    ``cited`` holds citations of one text (a paragraph, or one footnote): those a parser took
    from links (``extref``, ``<a href>``) and those :func:`extract` found in the words. Two of
    the same id that overlap, or that only punctuation separates ("199 (31311)", two links of a
    Handelingen motion), become one spanning both, with the text as written; a dossier that
    overlaps a stuk of that dossier is dropped (the link says which stuk; the words only show
    the dossier number). Different references at one place (a list "nrs. 226 en 227") stay
    apart. Returns the survivors in text order.
    """
    by_id: dict[str, list[Citation]] = {}
    for citation in sorted(cited, key=lambda c: (c.start, c.end)):
        by_id.setdefault(citation.id, []).append(citation)
    merged: list[Citation] = []
    for same in by_id.values():
        current = same[0]
        for citation in same[1:]:
            gap_ok = citation.start <= current.end or _JOINABLE_GAP.fullmatch(text, current.end, citation.start)
            if gap_ok:
                current = _union(current, citation, text)
            else:
                merged.append(current)
                current = citation
        merged.append(current)
    merged.sort(key=lambda c: (c.start, c.end))
    return [c for c in merged if not _covered_dossier(c, merged)]


def _union(a: Citation, b: Citation, text: str) -> Citation:
    start, end = min(a.start, b.start), max(a.end, b.end)
    if 0 <= start <= end <= len(text):
        raw = text[start:end]
        if raw.count("(") > raw.count(")") and text[end : end + 1] == ")":
            end += 1
            raw += ")"
    else:
        raw = a.raw if len(a.raw) >= len(b.raw) else b.raw
    return replace(a, raw=raw, start=start, end=end)


def _covered_dossier(citation: Citation, others: list[Citation]) -> bool:
    """Whether a dossier citation overlaps a citation of a stuk in that dossier."""
    if not citation.id.startswith("dossier-"):
        return False
    for other in others:
        if other.start >= citation.end:
            break
        if other is citation or other.end <= citation.start:
            continue
        ref = _parse_id(other.id)
        if ref is not None and ref.is_document and ref.dossier_id == citation.id:
            return True
    return False


def kind_of(doc_id: str) -> str:
    """The kind of an id: kamerstuk, aanhangsel, handelingen, staatsblad, zaak, dossier, ..."""
    return _id_reference(doc_id).kind


def label(doc_id: str) -> str:
    """A short human label: 'Kamerstuk 33 694, nr. 12', 'Aanhangsel Handelingen II 2018/19,
    nr. 264'. Ids with no such form (old or odd ones) are their own label."""
    ref = _id_reference(doc_id)
    text = _label_text(ref)
    return text if text is not None else ref.id


def _label_text(ref: Reference) -> str | None:
    if ref.kind == "kamerstuk":
        if ref.vergaderjaar or ref.number is None or re.search(r"-[hnb]\d+$", ref.id):
            return None
        dossier = _dossier_text(ref.dossier or "", ref.suffix)
        if ref.number and ref.number.isalpha():
            return f"Kamerstuk {dossier}, {ref.number}"
        return f"Kamerstuk {dossier}, nr. {ref.number}"
    if ref.kind in ("aanhangsel", "handelingen"):
        return _handelingen_text(ref)
    if ref.kind in {kind for kind, _ in _GAZETTES.values()}:
        if not re.fullmatch(r"[a-z]+-\d{4}-\d+", ref.id):
            return None
        abbreviation = _GAZETTES[ref.id.split("-")[0]][1]
        return f"{abbreviation} {ref.year}, {ref.number}"
    if ref.kind == "kamervragen" and ref.number:
        return f"Kamervragen {ref.number}"
    if ref.kind in _TK_NUMBER_KINDS.values():
        return f"{_TK_NUMBER_WORDS[ref.id[4]]} {ref.id}"
    if ref.kind == "dossier":
        return f"Dossier {_dossier_text(ref.dossier or '', ref.suffix)}"
    return None


def _handelingen_text(ref: Reference, page: str | None = None) -> str | None:
    if not ref.vergaderjaar or re.search(r"-[hnb]\d+$", ref.id):
        return None
    chamber = ref.chamber or "II"
    vj = _vj_leidraad(ref.vergaderjaar)
    if ref.kind == "aanhangsel":
        return f"Aanhangsel Handelingen {chamber} {vj}, nr. {ref.number}" + (f", {page}" if page else "")
    a, b = int(ref.number or 0), int(ref.item or 0)
    if _handelingen_pages(ref.vergaderjaar, a, b):
        # Old Handelingen ids are page ranges; the pages are the document itself.
        return f"Handelingen {chamber} {vj}, p. {a}-{b}"
    return f"Handelingen {chamber} {vj}, nr. {a}, item {b}" + (f", {page}" if page else "")


def _handelingen_pages(vj: str, a: int, b: int) -> bool:
    """Ids before the 'nr. X, item Y' numbering (about 2010) are page ranges (7140-7144)."""
    if b < a:
        return False
    return int(vj[:4]) < 2010 or a > 150


def full_citation(
    doc_id: str,
    vergaderjaar: str | None = None,
    page: int | str | None = None,
    page_end: int | str | None = None,
) -> str:
    """The Leidraad-style citation: 'Kamerstukken II 2018/19, 33 694, nr. 45, p. 3'.

    ``vergaderjaar`` may be '2018-2019', '2018/19' or '20182019'; when it is unknown it is left
    out ('Kamerstukken II 33 694, nr. 45'). Stukken numbered with letters are Eerste Kamer
    stukken ('Kamerstukken I 2017/18, 34 775, A'); numbered ones are cited as Tweede Kamer.
    """
    ref = _id_reference(doc_id)
    pin = None
    if page not in (None, ""):
        pin = f"p. {int(page)}"
        if page_end not in (None, "") and int(page_end) != int(page):
            pin = f"p. {int(page)}-{int(page_end)}"
    vj = _vergaderjaar(vergaderjaar) if vergaderjaar else None
    if vergaderjaar and vj is None:
        raise CitationParseError(f"{_shorten(vergaderjaar)} is not a vergaderjaar; write it like 2018-2019 or 2018/19")
    text = _full_text(ref, vj, pin)
    if text is None:
        return ref.id + (f", {pin}" if pin else "")
    return text


def _full_text(ref: Reference, vj: str | None, pin: str | None) -> str | None:
    tail = f", {pin}" if pin else ""
    if ref.kind == "kamerstuk":
        if _label_text(ref) is None:
            return None
        dossier = _dossier_text(ref.dossier or "", ref.suffix)
        letters = bool(ref.number and ref.number.isalpha())
        chamber = "I" if letters else "II"
        head = f"Kamerstukken {chamber} {_vj_leidraad(vj)}, " if vj else f"Kamerstukken {chamber} "
        number = ref.number if letters else f"nr. {ref.number}"
        return f"{head}{dossier}, {number}{tail}"
    if ref.kind == "dossier":
        dossier = _dossier_text(ref.dossier or "", ref.suffix)
        head = f"Kamerstukken II {_vj_leidraad(vj)}, " if vj else "Kamerstukken II "
        return f"{head}{dossier}{tail}" if not (ref.suffix or "").isdigit() else f"Dossier {dossier}"
    if ref.kind in ("aanhangsel", "handelingen"):
        if ref.kind == "handelingen" and _handelingen_pages(
            ref.vergaderjaar or "0000-0001", int(ref.number or 0), int(ref.item or 0)
        ):
            return _handelingen_text(ref)
        return _handelingen_text(ref, pin)
    text = _label_text(ref)
    return None if text is None else text + tail


def official_url(doc_id: str) -> str | None:
    """Where a person reads the cited thing.

    Official publications: ``https://zoek.officielebekendmakingen.nl/{id}.html``; a dossier: its
    overview page ``…/dossier/33694``. A zaak, TK document or activity has no official
    publication, so it links to the Tweede Kamer website (zaak page, document download,
    activity page). Never None for a valid id today; the return type leaves room for kinds
    without a public page.
    """
    ref = _id_reference(doc_id)
    if ref.kind == "dossier":
        return f"{OB_URL}/dossier/{ref.dossier}" + (f"-{ref.suffix}" if ref.suffix else "")
    if ref.kind == "zaak":
        return TK_ZAAK_URL.format(id=ref.id)
    if ref.kind == "tk-document":
        return TK_DOCUMENT_URL.format(id=ref.id)
    if ref.kind == "activiteit":
        return TK_ACTIVITY_URL.format(id=ref.id)
    return f"{OB_URL}/{ref.id}.html"


def _shorten(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"
