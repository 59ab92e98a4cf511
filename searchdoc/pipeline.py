"""Turn sources into stored documents: parse, enrich with citations, store.

This is the glue between the parsers and the corpus store. It reads local files (``ingest``)
and the bundled letter; the crawler (``searchdoc.crawl``) uses the same ``enrich`` and
``Corpus.save`` so every document reaches the corpus the same way.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone
from pathlib import Path

from searchdoc import settings
from searchdoc.corpus import Corpus, is_valid_id, validate_id
from searchdoc.errors import InputFileError, InvalidIdentifierError, ParseError, UsageError
from searchdoc.model import Citation, Document

log = logging.getLogger(__name__)

_FORMAT_BY_SUFFIX = {".txt": "text", ".text": "text", ".xml": "xml", ".html": "html", ".htm": "html", ".pdf": "pdf"}
_RAW_EXT = {"text": "txt", "xml": "xml", "html": "html", "pdf": "pdf"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# UTF-16/32 text legitimately holds NUL bytes; it announces itself with a byte order mark.
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def bundled_letter() -> tuple[Document, bytes]:
    """The letter shipped with the package, parsed and enriched, with its raw text."""
    data_dir = settings.bundled_data_dir()
    raw = (data_dir / f"{settings.LETTER_ID}.txt").read_bytes()
    metadata = json.loads((data_dir / f"{settings.LETTER_ID}.meta.json").read_text(encoding="utf-8"))
    document = parse_source(raw, "text", settings.LETTER_ID, metadata)
    document.provenance = {
        "source": f"bundled:{settings.LETTER_ID}.txt",
        "derived_from": f"https://zoek.officielebekendmakingen.nl/{settings.LETTER_ID}.pdf",
        "ingested": now_iso(),
    }
    return enrich(document), raw


def seed_corpus(corpus: Corpus) -> bool:
    """Put the bundled letter into a corpus that lacks it; True if it did."""
    if corpus.has(settings.LETTER_ID):
        return False
    document, raw = bundled_letter()
    with corpus.write_lock():
        if not corpus.has(settings.LETTER_ID):
            corpus.save(document, raw=raw, raw_ext="txt")
    return True


def open_corpus(config: settings.Settings, create: bool = False) -> Corpus:
    """The configured corpus; the per-user default corpus is seeded with the bundled letter.

    An explicitly configured folder that does not exist is an error unless ``create`` is set
    (ingest and crawl create it), so a typo in --corpus is reported instead of silently
    searching an empty corpus.
    """
    corpus = Corpus(config.corpus_dir)
    is_default_user_corpus = config.corpus_dir == settings.user_data_dir() / "corpus"
    if is_default_user_corpus and not corpus.has(settings.LETTER_ID):
        corpus.documents_dir.mkdir(parents=True, exist_ok=True)
        seed_corpus(corpus)
    elif create:
        corpus.documents_dir.mkdir(parents=True, exist_ok=True)
    return corpus


def parse_source(data: bytes, source_format: str, doc_id: str, metadata: dict | None = None) -> Document:
    """Dispatch raw bytes to the parser for their format; paragraphs longer than
    ``settings.MAX_PARAGRAPH_CHARS`` are split at sentence boundaries."""
    return cap_paragraphs(_parse(data, source_format, doc_id, metadata), settings.MAX_PARAGRAPH_CHARS)


_SENTENCE_BREAK = re.compile(r"[.!?…][)\]»”’\"']*\s+")
_SPACE = re.compile(r"\s+")


def split_points(text: str, limit: int) -> list[tuple[int, int]]:
    """(start, end) of pieces of ``text`` no longer than ``limit``, cut after the last sentence
    end that fits (else at the last space, else hard); linear in the length of ``text``."""
    pieces: list[tuple[int, int]] = []
    start, length = 0, len(text)
    while length - start > limit:
        stop = start + limit
        end = after = stop
        sentence = _last(_SENTENCE_BREAK, text, start + limit // 4, stop)
        space = _last(_SPACE, text, start + limit // 4, stop) if sentence is None else None
        if sentence is not None:
            end, after = sentence.start() + len(sentence.group().rstrip()), sentence.end()
        elif space is not None:
            end, after = space.span()
        pieces.append((start, end))
        start = after
    pieces.append((start, length))
    return [(a, b) for a, b in pieces if b > a]


def _last(pattern: re.Pattern, text: str, start: int, stop: int) -> re.Match | None:
    last = None
    for last in pattern.finditer(text, start, stop):  # noqa: B007 - the last match is wanted
        continue
    return last


def _piece_at(spans: list[tuple[int, int]], offset: int | None) -> int:
    """The index of the piece holding character ``offset``; the last piece when unknown."""
    if offset is None:
        return len(spans) - 1
    return next((i for i, (_, end) in enumerate(spans) if offset <= end), len(spans) - 1)


def cap_paragraphs(document: Document, limit: int) -> Document:
    """Split every paragraph longer than ``limit`` characters into consecutive paragraphs.

    Footnotes go with the piece holding their marker (the last piece when the marker is not
    known), parser-found citations with the piece holding them; paragraphs are renumbered.
    """
    if all(len(p.text) <= limit for p in document.paragraphs):
        return document
    from dataclasses import replace

    from searchdoc.model import Paragraph

    notes_of: dict[int, list] = {}
    for footnote in document.footnotes:
        if footnote.paragraph is not None:
            notes_of.setdefault(footnote.paragraph, []).append(footnote)
    paragraphs: list[Paragraph] = []
    for paragraph in document.paragraphs:
        spans = split_points(paragraph.text, limit) if len(paragraph.text) > limit else [(0, len(paragraph.text))]
        first = len(paragraphs) + 1
        pieces = []
        for start, end in spans:
            pieces.append(replace(paragraph, n=len(paragraphs) + 1, text=paragraph.text[start:end], footnotes=[],
                                  citations=[], themes=list(paragraph.themes)))
            paragraphs.append(pieces[-1])

        moved: dict[int, int] = {}
        for footnote in notes_of.get(paragraph.n, []):
            index = _piece_at(spans, footnote.offset)
            moved[footnote.n] = index
            footnote.paragraph = first + index
            if footnote.offset is not None:
                footnote.offset = max(0, footnote.offset - spans[index][0])
        for number in paragraph.footnotes:
            pieces[moved.get(number, _piece_at(spans, None))].footnotes.append(number)
        for citation in paragraph.citations:
            if citation.footnote is not None:
                index = moved.get(citation.footnote, 0)
            else:
                index = _piece_at(spans, citation.start)
                citation.start -= spans[index][0]
                citation.end -= spans[index][0]
            citation.paragraph = first + index
            pieces[index].citations.append(citation)
    document.paragraphs = paragraphs
    return document


def _parse(data: bytes, source_format: str, doc_id: str, metadata: dict | None = None) -> Document:
    if source_format == "text":
        from searchdoc.parse.plaintext import parse_plaintext

        text = _decode_text(data)
        return parse_plaintext(text, doc_id, metadata)
    if source_format == "xml":
        from searchdoc.parse.officialxml import parse_official_xml

        return parse_official_xml(data, doc_id, metadata)
    if source_format == "html":
        from searchdoc.parse.html import parse_html

        return parse_html(data, doc_id, metadata)
    if source_format == "pdf":
        from searchdoc.parse.pdf import parse_pdf

        return parse_pdf(data, doc_id, metadata)
    raise UsageError(f"unknown source format {source_format!r} (expected text, xml, html or pdf)")


_METADATA_SUFFIXES = (".metadata.xml", ".metadata_owms.xml")


def _sibling_metadata(path: Path) -> dict:
    """The fields of the ``<name>.metadata.xml`` (or ``.metadata_owms.xml``) beside an official
    XML file, as the crawler keeps them; {} when there is none."""
    from searchdoc.parse.officialxml import parse_metadata_xml

    stem = path.name[: -len(path.suffix)]
    for suffix in _METADATA_SUFFIXES:
        candidate = path.with_name(stem + suffix)
        if candidate.is_file():
            try:
                parsed = parse_metadata_xml(candidate.read_bytes())
            except (OSError, ParseError) as exc:
                log.warning("%s: ignoring it (%s)", candidate, exc)
                return {}
            return {k: v for k, v in parsed.items() if k != "id" and v not in (None, "", [], {})}
    return {}


def _decode_text(data: bytes) -> str:
    if b"\x00" in data[:65536]:
        raise InputFileError("the file is binary, not text (expected text extracted from a PDF)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


#: The kind of a document stored under an id of the user's own choosing (``nota-2020-1``, a
#: memo, notes): it has no official page, is cited by its title, and is searched, shown and
#: exported like any other document.
LOCAL_KIND = "local"


def is_official_id(doc_id: str) -> bool:
    """True when ``doc_id`` is an official publication id (not a local document's own id)."""
    from searchdoc import citations

    try:
        citations.normalize_id(doc_id)
    except UsageError:
        return False
    return True


def metadata_for_id(doc_id: str) -> dict:
    """What an identifier alone tells about a document (kind, dossier, number, url)."""
    from searchdoc import citations

    meta: dict = {"id": doc_id}
    if not is_official_id(doc_id):
        meta["kind"] = LOCAL_KIND
        return meta
    reference = citations.try_parse(doc_id)
    if reference is not None:
        meta["kind"] = reference.kind
        if getattr(reference, "dossier", None):
            suffix = getattr(reference, "suffix", None)
            meta["dossier"] = [reference.dossier + (f"-{suffix}" if suffix else "")]
        if getattr(reference, "number", None):
            meta["number"] = str(reference.number)
        if getattr(reference, "vergaderjaar", None):
            meta["vergaderjaar"] = reference.vergaderjaar
        url = citations.official_url(doc_id)
        if url:
            meta["url"] = url
    return meta


def enrich(document: Document) -> Document:
    """Attach the citations found in each paragraph and footnote, unified with parser-found ones.

    A reference both linked (``extref``) and written gives one citation, not two: see
    :func:`searchdoc.citations.merge`.
    """
    from searchdoc import citations

    footnotes_by_paragraph: dict[int, list] = {}
    for footnote in document.footnotes:
        if footnote.paragraph is not None:
            footnotes_by_paragraph.setdefault(footnote.paragraph, []).append(footnote)
    for paragraph in document.paragraphs:
        texts = {None: paragraph.text, **{f.n: f.text for f in footnotes_by_paragraph.get(paragraph.n, [])}}
        groups: dict[int | None, list[Citation]] = {key: [] for key in texts}
        for citation in paragraph.citations:
            groups.setdefault(citation.footnote, []).append(citation)
        for key, text in texts.items():
            for match in citations.extract(text):
                groups[key].append(match.to_citation(paragraph.n, key))
        found: list[Citation] = []
        for key, group in groups.items():
            kept = citations.merge(group, texts.get(key, ""))
            found.extend(c for c in kept if c.id != document.id)
        paragraph.citations = sorted(found, key=lambda c: (c.footnote is not None, c.footnote or 0, c.start))
    return document


def ingest_files(corpus: Corpus, paths, doc_id: str | None = None, overrides: dict | None = None,
                 source_format: str | None = None) -> list[Document]:
    """Parse every file first, then store them all: a bad file leaves the corpus unchanged."""
    prepared = [prepare_file(Path(p), doc_id, overrides, source_format) for p in paths]
    corpus.save_all([(document, data, ext, None) for document, data, ext in prepared])
    return [document for document, _, _ in prepared]


def ingest_file(corpus: Corpus, path: Path, doc_id: str | None = None, overrides: dict | None = None,
                source_format: str | None = None) -> Document:
    """Parse one local file and store it; the id comes from ``doc_id`` or the file name."""
    return ingest_files(corpus, [path], doc_id, overrides, source_format)[0]


def prepare_file(
    path: Path,
    doc_id: str | None = None,
    overrides: dict | None = None,
    source_format: str | None = None,
) -> tuple[Document, bytes, str]:
    """Read, check and parse one local file into an enriched document (nothing stored yet)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    size = path.stat().st_size
    if size > settings.MAX_INGEST_BYTES:
        raise InputFileError(
            f"{path}: {size:,} bytes is larger than the {settings.MAX_INGEST_BYTES:,}-byte limit for ingest"
        )
    if size == 0:
        raise InputFileError(f"{path}: the file is empty")
    fmt = source_format or _FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise InputFileError(f"{path}: unknown file type {path.suffix!r} (expected .txt, .xml, .html or .pdf)")
    if fmt == "xml" and path.name.lower().endswith(_METADATA_SUFFIXES):
        raise InputFileError(
            f"{path}: a metadata record, not a document; it is read beside the document it describes "
            f"(ingest {path.name.split('.')[0]}.xml)"
        )
    if doc_id is None:
        stem = path.name[: -len(path.suffix)] if path.suffix else path.name
        if not is_valid_id(stem):
            raise InvalidIdentifierError(
                f"{path.name}: the file name is not a document id; give one with --id (e.g. --id kst-33694-45)"
            )
        doc_id = stem
    validate_id(doc_id)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if fmt in ("xml", "html") and b"\x00" in data[:65536] and not data.startswith(_WIDE_BOMS):
        raise InputFileError(f"{path}: the file is binary, not {fmt.upper()}")
    metadata = metadata_for_id(doc_id)
    if fmt == "xml":
        metadata.update(_sibling_metadata(path))
    if doc_id == settings.LETTER_ID:
        bundled = json.loads((settings.bundled_data_dir() / f"{settings.LETTER_ID}.meta.json").read_text("utf-8"))
        metadata.update(bundled)
    metadata.update({k: v for k, v in (overrides or {}).items() if v is not None})
    if metadata.get("date") and not _ISO_DATE.match(str(metadata["date"])):
        raise UsageError(f"--date {metadata['date']!r} is not a date in the form YYYY-MM-DD")
    try:
        document = parse_source(data, fmt, doc_id, metadata)
    except UsageError:
        raise
    except ParseError as exc:  # a file the user gave us: bad input (exit 2), named in the message
        raise InputFileError(f"{path}: {exc}") from None
    except Exception as exc:  # a parser bug or hostile input must not leave a traceback
        raise InputFileError(f"{path}: could not be parsed as {fmt} ({exc.__class__.__name__}: {exc})") from exc
    if not document.paragraphs:
        raise InputFileError(f"{path}: no text paragraphs found in it")
    document.provenance = {"source": str(path.resolve()), "ingested": now_iso()}
    enrich(document)
    return document, data, _RAW_EXT[fmt]
