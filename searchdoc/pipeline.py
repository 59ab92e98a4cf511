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
    """Dispatch raw bytes to the parser for their format."""
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


def _decode_text(data: bytes) -> str:
    if b"\x00" in data[:65536]:
        raise InputFileError("the file is binary, not text (expected text extracted from a PDF)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def metadata_for_id(doc_id: str) -> dict:
    """What an identifier alone tells about a document (kind, dossier, number, url)."""
    from searchdoc import citations

    meta: dict = {"id": doc_id}
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
    """Attach the citations found in each paragraph and footnote (keeping parser-found ones)."""
    from searchdoc import citations

    footnotes_by_paragraph: dict[int, list] = {}
    for footnote in document.footnotes:
        if footnote.paragraph is not None:
            footnotes_by_paragraph.setdefault(footnote.paragraph, []).append(footnote)
    for paragraph in document.paragraphs:
        found: list[Citation] = []
        seen = {(c.id, c.footnote, c.start) for c in paragraph.citations}
        for match in citations.extract(paragraph.text):
            key = (match.reference.id, None, match.start)
            if key not in seen and match.reference.id != document.id:
                found.append(
                    Citation(match.reference.id, match.reference.kind, match.raw, paragraph.n, None,
                             match.start, match.end)
                )
                seen.add(key)
        for footnote in footnotes_by_paragraph.get(paragraph.n, []):
            for match in citations.extract(footnote.text):
                key = (match.reference.id, footnote.n, match.start)
                if key not in seen and match.reference.id != document.id:
                    found.append(
                        Citation(
                            match.reference.id, match.reference.kind, match.raw, paragraph.n, footnote.n,
                            match.start, match.end
                        )
                    )
                    seen.add(key)
        paragraph.citations = sorted(
            [*paragraph.citations, *found], key=lambda c: (c.footnote is not None, c.footnote or 0, c.start)
        )
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
