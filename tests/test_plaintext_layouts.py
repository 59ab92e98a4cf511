"""The letter re-typeset as other PDFs of its kind are, then parsed back: same paragraphs.

The generator lays the parsed letter out again in the conventions of its PDF text (see
../shared/docs/letter-facts.md): lines wrapped at a width, words hyphenated at line ends, a
page break as a line starting with a space (or a form feed), the footnotes of a page in a block
at its foot after a blank line, markers glued to the word before them. Page ends are chosen so
that, across the layouts, a page break falls mid-word (with and without a footnote block before
the next page), mid-paragraph on a whole word, and between paragraphs.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field

import pytest

from searchdoc import settings as searchdoc_settings
from searchdoc.model import Document
from searchdoc.parse.plaintext import parse_plaintext

LETTER = searchdoc_settings.bundled_data_dir() / "kst-33694-45.txt"
LETTER_META = searchdoc_settings.bundled_data_dir() / "kst-33694-45.meta.json"
VOWELS = set("aeiouyáéíóúàèëïöüâêîôû")


@pytest.fixture(scope="module")
def letter() -> Document:
    metadata = json.loads(LETTER_META.read_text(encoding="utf-8"))
    return parse_plaintext(LETTER.read_text(encoding="utf-8"), "kst-33694-45", metadata)


def break_points(word: str) -> list[int]:
    """Where a Dutch typesetter may hyphenate ``word``: between two lower-case letters before a
    vowel (V-CV, VC-CV), and after a hyphen the word already has (it stays at the line end)."""
    points = []
    for i in range(2, len(word) - 2):
        before, at, after = word[i - 1], word[i], word[i + 1]
        if before == "-" and word[i - 2].isalpha() and at.isalpha():
            points.append(i)
            continue
        if not (word[i - 2 : i + 2].isalpha() and word[i - 2 : i + 2].islower()):
            continue
        if at not in VOWELS and after in VOWELS and (before in VOWELS or word[i - 2] in VOWELS) \
                and before + at not in ("ch", "sc"):
            points.append(i)
    return points


@dataclass
class Line:
    text: str
    broken: bool = False  # ends in a hyphen the typesetter added (or a real one at the line end)
    paragraph: int | None = None
    notes: list[int] = field(default_factory=list)


def wrap(text: str, width: int, rng: random.Random, hyphenate: float, paragraph: int | None = None) -> list[Line]:
    """Greedy wrapping; a word that does not fit is hyphenated with probability ``hyphenate``.

    ``text`` carries footnote markers as ``\x00n\x00``; they count for no width.
    """

    def visible(s: str) -> int:
        return len(re.sub("\x00\\d+\x00", "", s))

    lines: list[Line] = []
    current = ""
    for word in text.split(" "):
        while True:
            candidate = f"{current} {word}" if current else word
            if visible(candidate) <= width:
                current = candidate
                break
            room = width - visible(current) - (1 if current else 0)
            plain = "\x00" not in word
            cuts = [i for i in break_points(word) if plain and i + (word[i - 1] != "-") <= room]
            if cuts and rng.random() < hyphenate:
                cut = max(cuts)
                head = word[:cut] + ("" if word[cut - 1] == "-" else "-")
                lines.append(Line(f"{current} {head}" if current else head, True, paragraph))
                current, word = "", word[cut:]
            elif current:
                lines.append(Line(current, False, paragraph))
                current = ""
            else:
                current = word
                break
    if current:
        lines.append(Line(current, False, paragraph))
    for line in lines:
        line.notes = [int(n) for n in re.findall("\x00(\\d+)\x00", line.text)]
        line.text = re.sub("\x00(\\d+)\x00", r"\1", line.text)
    return lines


def body_lines(document: Document, width: int, rng: random.Random, hyphenate: float) -> list[Line | None]:
    """The letter's body as lines, None for a blank line: headings, paragraphs with their
    markers put back where they stood, the signature."""
    out: list[Line | None] = []
    section = None
    for paragraph in document.paragraphs:
        if paragraph.section != section:
            section = paragraph.section
            out += wrap(section, width, rng, 0.0)
            out.append(None)
        text = paragraph.text
        for note in sorted((f for f in document.footnotes if f.paragraph == paragraph.n),
                           key=lambda f: -(f.offset or 0)):
            text = text[: note.offset] + f"\x00{note.n}\x00" + text[note.offset :]
        out += wrap(text, width, rng, hyphenate, paragraph.n)
        out.append(None)
    function, _, name = (document.signature or "").partition(", ")
    out += wrap(function + ",", width, rng, 0.0) + wrap(name, width, rng, 0.0)
    return out


@dataclass
class Rendering:
    text: str
    kinds: set[str]


def paginate(document: Document, lines: list[Line | None], length: int, style: str, trailing: str,
             rng: random.Random) -> Rendering:
    """Cut ``lines`` into pages of about ``length`` lines, choosing each page end in turn after a
    hyphenated line, inside a paragraph and between paragraphs; footnotes at the page foot.

    The blank line between two paragraphs stays where it falls, at the foot of one page or the
    head of the next: without it a paragraph ending at the foot of a page cannot be told from
    one running on (the bundled letter has such a page break, and reads it as running on).
    """
    notes = {f.n: f.text for f in document.footnotes}
    wanted = ["mid-word", "mid-paragraph", "between"]
    kinds: set[str] = set()
    pages: list[list[str]] = []
    start = 0
    turn = 0
    while start < len(lines):
        end = min(start + length, len(lines))
        if end < len(lines):
            options = range(max(start + 3, end - 4), min(len(lines), end + 5))
            kind_at = {i: page_break_kind(lines, i) for i in options}
            want = wanted[turn % 3]
            turn += 1
            chosen = [i for i in options if kind_at[i] == want]
            end = rng.choice(chosen) if chosen else end
            kind = page_break_kind(lines, end)
        page = lines[start:end]
        held = [n for line in page if line is not None for n in line.notes]
        if end < len(lines):
            kinds.add(kind + (" over footnotes" if held else ""))
        texts = []
        for line in page:
            if line is None:
                texts.append("")
            elif trailing == "all" or (trailing == "body" and not line.broken):
                texts.append(line.text + " ")
            else:
                texts.append(line.text)
        if held:
            texts.append("")
            for n in held:
                texts += [line.text for line in wrap(f"{n} {notes[n]}", 36, rng, 0.0)]
        pages.append(texts)
        start = end
    out: list[str] = []
    for number, texts in enumerate(pages):
        if number and style == "space":
            texts[0] = " " + texts[0]
        elif number and style == "formfeed":
            # A form feed before an empty first line stands on a line of its own.
            texts[0:0] = ["\f"] if texts[0] == "" else []
            texts[0] = texts[0] if texts[0] == "\f" else "\f" + texts[0]
        out += texts
    return Rendering("\n".join(out) + "\n", kinds)


def page_break_kind(lines: list[Line | None], end: int) -> str:
    """What a page break before ``lines[end]`` cuts: a word, a paragraph, or nothing."""
    before, after = lines[end - 1], lines[end] if end < len(lines) else None
    if before is None or after is None:
        return "between"
    if before.paragraph is None or before.paragraph != after.paragraph:
        return "other"
    return "mid-word" if before.broken else "mid-paragraph"


def render(document: Document, width: int, length: int, style: str, trailing: str, seed: int) -> Rendering:
    rng = random.Random(seed)
    return paginate(document, body_lines(document, width, rng, 0.8), length, style, trailing, rng)


LAYOUTS = [
    # width, lines per page, page-break style, trailing spaces, seed
    (50, 30, "space", "body", 1),
    (62, 24, "space", "all", 2),
    (72, 36, "formfeed", "none", 3),
    (44, 20, "space", "body", 4),
    (58, 27, "formfeed", "all", 5),
    (66, 33, "space", "all", 6),
    (40, 18, "space", "none", 7),
    (80, 45, "space", "body", 8),
    (54, 22, "formfeed", "body", 9),
    (47, 26, "space", "all", 10),
    (69, 19, "space", "none", 11),
    (36, 31, "formfeed", "all", 12),
]


def normal(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(("width", "length", "style", "trailing", "seed"), LAYOUTS)
def test_retypeset_letter_gives_the_same_paragraphs(letter, width, length, style, trailing, seed):
    rendering = render(letter, width, length, style, trailing, seed)
    again = parse_plaintext(rendering.text, letter.id)
    assert [normal(p.text) for p in again.paragraphs] == [normal(p.text) for p in letter.paragraphs]
    assert [p.section for p in again.paragraphs] == [p.section for p in letter.paragraphs]
    assert [(f.n, f.text, f.paragraph) for f in again.footnotes] == [
        (f.n, f.text, f.paragraph) for f in letter.footnotes
    ]
    assert again.signature == letter.signature


def test_layouts_break_pages_mid_word_mid_paragraph_and_between_paragraphs(letter):
    kinds = set().union(*(render(letter, *layout).kinds for layout in LAYOUTS))
    assert {"mid-word", "mid-word over footnotes", "mid-paragraph", "between"} <= kinds
    text = render(letter, *LAYOUTS[0]).text
    assert sum(bool(re.search(r"[^\W\d_]-$", line)) for line in text.split("\n")) > 30


@pytest.mark.parametrize("trailing", ["none", "body", "all"])
def test_a_word_broken_over_a_page_with_footnotes_is_joined(trailing):
    end = " " if trailing != "none" else ""
    broken_end = " " if trailing == "all" else ""
    text = (
        f"Het kabinet heeft de Kamer geïnformeerd over de stand van zaken1{end}\n"
        f"rond het overleg, zoals toegezegd in het laatste Ka-{broken_end}\n"
        "\n"
        "1 Kamerstuk 33 694, nr. 12\n"
        f" merstuk over de auto-{broken_end}\n"
        f"nome wapens en de reke-{broken_end}\n"
        "\f"
        f"ning die daarvoor gemaakt is. Het Noord-{broken_end}\n"
        f"Atlantische verdrag en niet-{broken_end}\n"
        f"statelijke actoren in de VN-{broken_end}\n"
        "Veiligheidsraad blijven.\n"
    )
    document = parse_plaintext(text, "kst-1-1")
    assert [p.text for p in document.paragraphs] == [
        "Het kabinet heeft de Kamer geïnformeerd over de stand van zaken rond het overleg, zoals toegezegd in het "
        "laatste Kamerstuk over de autonome wapens en de rekening die daarvoor gemaakt is. Het Noord-Atlantische "
        "verdrag en niet-statelijke actoren in de VN-Veiligheidsraad blijven."
    ]
    assert [(f.n, f.text, f.paragraph) for f in document.footnotes] == [(1, "Kamerstuk 33 694, nr. 12", 1)]


def test_an_elliptic_compound_keeps_its_space_when_every_line_has_one():
    text = "De Geïntegreerde Buitenland- \nen Veiligheidsstrategie is er. Een zin die lang \ngenoeg is. \n"
    assert parse_plaintext(text, "x").paragraphs[0].text.startswith("De Geïntegreerde Buitenland- en Veiligheids")


@pytest.mark.parametrize(
    "text",
    [
        "Dit is een lange regel over het1 Ka-\n\n\n1 Noot een.\n merstuk dat wij bespreken.\n",
        "Dit is een lange regel over het Ka-\n\n merstuk dat wij bespreken.\n",
        "Dit is een lange regel over het Ka-\n\f\n\nmerstuk dat wij bespreken.\n",
    ],
)
def test_blank_lines_padding_a_page_do_not_split_a_broken_word(text):
    document = parse_plaintext(text, "kst-1-1")
    assert [p.text for p in document.paragraphs] == ["Dit is een lange regel over het Kamerstuk dat wij bespreken."]
    assert [p.section for p in document.paragraphs] == [None]
