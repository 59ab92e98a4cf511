"""The regression corpus of real served documents (``tests/data/real``).

Every document there was served by zoek.officielebekendmakingen.nl, repository.overheid.nl or the
Tweede Kamer's open data, and is kept as it came (see ``SOURCES.md``). Next to it lies
``<file>.expected.json``: what a reader sees in it, written by reading the document, not by running
the parser. Each document is parsed the way ``searchdoc ingest`` parses it and compared field by
field; a failure lists every difference at once. The rules a reader's view follows where the
markup leaves room are in ``tests/data/real/README.md``.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from pathlib import Path

import pytest

from searchdoc import pipeline

REAL = Path(__file__).parent / "data" / "real"
EXPECTED = sorted(REAL.glob("*.expected.json"))

#: Every kind of served document the corpus must keep covering (README.md says what each is). No served
#: Aanhangsel Handelingen or nota could be found in public material reachable from here (SOURCES.md lists
#: where we looked); Aanhangsel parsing is tested on real-format fixtures in tests/data/official instead.
CATEGORIES = {
    "kamerstuk-brief": "Kamerstuk letter, officiele-publicatie XML (2010 on)",
    "kamerstuk-motie": "Kamerstuk motion, officiele-publicatie XML",
    "kamerstuk-memorie-van-toelichting": "memorie van toelichting, officiele-publicatie XML",
    "kamerstuk-begroting": "budget law or budget memorandum with tables, officiele-publicatie XML",
    "kamerstuk-kamerwrk": "Kamerstuk in the older <kamerwrk> dialect (1995-2009)",
    "handelingen": "Handelingen item with speeches and motions (<vergaderdatum>)",
    "staatsblad": "Staatsblad",
    "staatscourant": "Staatscourant",
    "gemeenteblad": "Gemeenteblad",
    "tractatenblad": "Tractatenblad",
    "provinciaal-blad": "Provinciaal blad",
    "blad-gemeenschappelijke-regeling": "Blad gemeenschappelijke regeling",
    "zoek-html": "a page of the older zoek.officielebekendmakingen.nl site",
    "repository-xhtml": "an XHTML manifestation from repository.overheid.nl",
    "metadata-xml": "a served metadata.xml",
    "owms-metadata": "a repository.overheid.nl owms-metadata manifestation",
}
METADATA_CATEGORIES = {"metadata-xml", "owms-metadata"}
MIN_DOCUMENTS = 30

_SPACES = re.compile(r"[ \t\r\n]+")


def _norm(text: object) -> str:
    """Runs of ordinary white space as one space; a no-break space is text and stays."""
    return _SPACES.sub(" ", str(text)).strip() if text is not None else ""


def _title(text: object) -> str:
    """Titles are metadata: compared ignoring case, and a no-break space counts as a space."""
    return _norm(str(text or "").replace("\u00a0", " ")).casefold()


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _short(text: object, limit: int = 160) -> str:
    text = repr(text)
    return text if len(text) <= limit else text[: limit - 5] + "…'"


def _signatories(document) -> list[str] | None:
    names = getattr(document, "signatories", None)
    return [_norm(n) for n in names] if names is not None else None


def _speaker_matches(expected: dict | None, got: object) -> bool:
    """A speaker matches when each expected part (name, party, role) is what the paragraph carries.

    The paragraph may carry a structured speaker (object or mapping with name/party/role) or one
    string such as "Wörsdörfer (VVD)"; either way every expected part must be found in it.
    """
    if expected is None:
        return got in (None, "", {})
    if got in (None, "", {}):
        return False
    for key, value in expected.items():
        if value is None:
            continue
        if isinstance(got, str):
            if _norm(value).casefold() not in _norm(got).casefold():
                return False
            continue
        part = got.get(key) if isinstance(got, dict) else getattr(got, key, None)
        if _norm(part).casefold() != _norm(value).casefold():
            return False
    return True


def _parse(path: Path, expected: dict):
    """The parsed document (or metadata), the warnings raised meanwhile, and the error if it was refused."""
    result, error = None, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if expected["category"] in METADATA_CATEGORIES:
                from searchdoc.parse.officialxml import parse_metadata_xml

                result = parse_metadata_xml(path.read_bytes())
            else:
                result, _, _ = pipeline.prepare_file(path)
        except Exception as exc:  # a refused real document is the finding to report, not a crash
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return result, [f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught], error


def _compare_metadata(expected: dict, got: dict) -> list[str]:
    problems = []
    for key, value in expected["fields"].items():
        same = _norm(got.get(key)) == _norm(value) if isinstance(value, str) else got.get(key) == value
        if not same:
            problems.append(f"metadata {key}: expected {_short(value)}, got {_short(got.get(key))}")
    return problems


def _find_paragraph(want: dict, paragraphs: dict):
    """The paragraph an expectation speaks of: by number, or (for documents too long to number
    by hand) the first whose text is, or starts with, the expected text."""
    if "n" in want:
        return want["n"], paragraphs.get(want["n"])
    text, starts = _norm(want.get("text", "")), _norm(want.get("starts", ""))
    for n, paragraph in paragraphs.items():
        got = _norm(paragraph.text)
        if (text and got == text) or (not text and starts and got.startswith(starts)):
            return n, paragraph
    return None, None


def _compare_paragraph(want: dict, paragraphs: dict) -> list[str]:
    n, paragraph = _find_paragraph(want, paragraphs)
    where = f"paragraph {n}"
    if paragraph is None:
        if "n" in want:
            return [f"{where}: missing (the document has {len(paragraphs)} paragraphs)"]
        return [f"no paragraph reads {_short(want.get('text') or want.get('starts'), 400)}"]
    problems = []
    text = _norm(paragraph.text)
    if "text" in want and text != _norm(want["text"]):
        expected = _short(_norm(want["text"]), 400)
        problems.append(f"{where} text:\n    expected {expected}\n    got      {_short(text, 400)}")
    if "starts" in want and not text.startswith(_norm(want["starts"])):
        problems.append(f"{where} should start {_short(want['starts'])}, got {_short(text)}")
    if "contains" in want and _norm(want["contains"]) not in text:
        problems.append(f"{where} should contain {_short(want['contains'])}, got {_short(text)}")
    if "ends" in want and not text.endswith(_norm(want["ends"])):
        problems.append(f"{where} should end {_short(want['ends'])}, got {_short(text[-160:])}")
    if "section" in want and _norm(paragraph.section) != _norm(want["section"]):
        problems.append(f"{where} section: expected {_short(want['section'])}, got {_short(paragraph.section)}")
    if "section_ends" in want and not _norm(paragraph.section).endswith(_norm(want["section_ends"])):
        problems.append(f"{where} section should end {_short(want['section_ends'])}, got {_short(paragraph.section)}")
    if "speaker" in want:
        got = getattr(paragraph, "speaker", None)
        if not _speaker_matches(want["speaker"], got):
            problems.append(f"{where} speaker: expected {want['speaker']!r}, got {got!r}")
    if "footnotes" in want and list(paragraph.footnotes) != want["footnotes"]:
        problems.append(f"{where} footnotes: expected {want['footnotes']}, got {list(paragraph.footnotes)}")
    return problems


def _compare_document(expected: dict, document) -> list[str]:
    problems = []
    for key in ("id", "kind", "date"):
        if key in expected and getattr(document, key) != expected[key]:
            problems.append(f"{key}: expected {expected[key]!r}, got {getattr(document, key)!r}")
    if "doc_type" in expected and _norm(document.doc_type).casefold() != _norm(expected["doc_type"]).casefold():
        problems.append(f"doc_type: expected {expected['doc_type']!r}, got {document.doc_type!r}")
    if "title" in expected and _title(document.title) != _title(expected["title"]):
        problems.append(f"title: expected {_short(expected['title'])}, got {_short(document.title)}")

    paragraphs = {p.n: p for p in document.paragraphs}
    if "paragraph_count" in expected and len(document.paragraphs) != expected["paragraph_count"]:
        problems.append(f"paragraph count: expected {expected['paragraph_count']}, got {len(document.paragraphs)}")
    for want in expected.get("paragraphs", []):
        problems += _compare_paragraph(want, paragraphs)
    texts = Counter(_norm(p.text) for p in document.paragraphs)
    for text in expected.get("not_paragraphs", []):
        if texts[_norm(text)]:
            problems.append(f"{_short(text)} should not be a paragraph of its own (found {texts[_norm(text)]}x)")
    for section in expected.get("not_sections", []):
        hits = [p.n for p in document.paragraphs if _norm(p.section) == _norm(section)]
        if hits:
            problems.append(f"no paragraph should have section {section!r}; paragraphs {hits[:10]} do")

    if "footnote_count" in expected and len(document.footnotes) != expected["footnote_count"]:
        problems.append(f"footnote count: expected {expected['footnote_count']}, got {len(document.footnotes)}")
    footnotes = {f.n: f for f in document.footnotes}
    for want in expected.get("footnotes", []):
        note = footnotes.get(want["n"])
        if note is None:
            problems.append(f"footnote {want['n']}: missing")
            continue
        if not _norm(note.text).startswith(_norm(want["starts"])):
            got = _short(_norm(note.text))
            problems.append(f"footnote {want['n']} should start {_short(want['starts'])}, got {got}")
        if "paragraph" in want and note.paragraph != want["paragraph"]:
            problems.append(f"footnote {want['n']} paragraph: expected {want['paragraph']}, got {note.paragraph}")

    if "signatories" in expected:
        got = _signatories(document)
        if got is None:
            problems.append(
                f"signatories: expected {expected['signatories']}, but the document has no list of signatories "
                f"(signature text: {_short(document.signature)})"
            )
        elif got != [_norm(n) for n in expected["signatories"]]:
            problems.append(f"signatories: expected {expected['signatories']}, got {got}")

    if "citations" in expected:
        want = Counter((c[0], c[1], c[2]) for c in expected["citations"])
        got = Counter((c.id, p.n, c.footnote) for p in document.paragraphs for c in p.citations)
        for key in sorted(set(want) | set(got), key=lambda k: (k[1] or 0, k[2] or 0, k[0])):
            if want[key] != got[key]:
                cid, n, fn = key
                raws = [
                    c.raw
                    for p in document.paragraphs
                    if p.n == n
                    for c in p.citations
                    if c.id == cid and c.footnote == fn
                ]
                problems.append(
                    f"citation {cid} (paragraph {n}, footnote {fn}): expected {want[key]}x, got {got[key]}x"
                    + (f" from {raws}" if raws else "")
                )
    return problems


@pytest.mark.parametrize("expected_path", EXPECTED, ids=lambda p: p.name.removesuffix(".expected.json"))
def test_real_document_parses_as_a_reader_sees_it(expected_path: Path) -> None:
    expected = _load(expected_path)
    path = REAL / expected["file"]
    result, caught, error = _parse(path, expected)
    if error is not None:
        problems = [f"not parsed: {error}"]
    elif expected["category"] in METADATA_CATEGORIES:
        problems = _compare_metadata(expected, result)
    else:
        problems = _compare_document(expected, result)
    problems += [f"warning while parsing: {w}" for w in caught]
    if problems:
        pytest.fail(f"{expected['file']}: {len(problems)} difference(s)\n  " + "\n  ".join(problems), pytrace=False)


def test_corpus_covers_every_kind_of_served_document() -> None:
    categories = Counter(_load(p)["category"] for p in EXPECTED)
    unknown = set(categories) - set(CATEGORIES)
    assert not unknown, f"expectation files name unknown categories: {sorted(unknown)}"
    missing = [f"{name} ({what})" for name, what in CATEGORIES.items() if not categories[name]]
    assert not missing, "the corpus has no real document of these kinds:\n  " + "\n  ".join(missing)
    documents = sum(n for name, n in categories.items() if name not in METADATA_CATEGORIES)
    assert documents >= MIN_DOCUMENTS, f"{documents} documents in the corpus; it must keep at least {MIN_DOCUMENTS}"


def test_every_file_in_the_corpus_has_expectations_and_provenance() -> None:
    """Each corpus document has its expectations and a row in SOURCES.md; any other data file in the
    folder (fixtures of other tests) must at least have its provenance in one of the SOURCES*.md files."""
    sources = (REAL / "SOURCES.md").read_text(encoding="utf-8")
    other_sources = "".join(p.read_text(encoding="utf-8") for p in REAL.glob("SOURCES*.md"))
    described = {_load(p)["file"] for p in EXPECTED}
    data_files = {p.name for p in REAL.iterdir() if p.suffix in (".xml", ".html")}
    assert described <= data_files, f"expectations without files: {sorted(described - data_files)}"
    unsourced = sorted(name for name in described if f"`{name}`" not in sources)
    assert not unsourced, f"corpus files without a row in SOURCES.md: {unsourced}"
    orphans = sorted(name for name in data_files - described if name not in other_sources)
    assert not orphans, f"files with neither expectations nor provenance in a SOURCES*.md: {orphans}"
