"""Integrity check and repair of a corpus and its index: the library behind ``searchdoc doctor``.

What is checked, and why it can go wrong at all:

* every ``documents/<id>.json`` loads (a disk fault or a hand edit can break one);
* every raw file's sha256 matches the provenance of its document. ``Corpus.save`` writes raw
  files before the JSON that names their checksum, so a save killed in between leaves the raw
  file one version ahead of its JSON; the repair rolls forward by re-deriving the document from
  the raw file. Raw files without a document (a killed first save) are removed;
* every document can be presented the way search, show and export present it (label,
  citation, link, reference record): a document they cannot handle is a problem, not "healthy";
* leftover temporary files of interrupted atomic writes, and staging folders of interrupted
  index rebuilds;
* the index: it opens, and every paragraph of every up-to-date document is indexed exactly
  once, with no entry for a paragraph or document the corpus does not have.

Repairs re-parse a damaged JSON from its intact raw file, remove leftovers, re-index the
documents whose index entries are wrong (or rebuild a damaged index), then check again: the
report says what was found, what was done, and what is left.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from searchdoc import settings as defaults
from searchdoc.corpus import RAW_EXTENSIONS, SIDECAR, Corpus, hold_lock, is_valid_id, sha256_bytes
from searchdoc.errors import SearchdocError, one_line
from searchdoc.model import Document
from searchdoc.validate import load_json

log = logging.getLogger(__name__)

_FORMAT_BY_EXT = {"txt": "text", "xml": "xml", "html": "html", "pdf": "pdf"}
#: Document metadata a repair keeps from the side-car and from the damaged document.
_KEPT_METADATA = ("title", "date", "kind", "dossier", "number", "chamber", "vergaderjaar", "doc_type", "url",
                  "signature", "metadata")
# atomic_write names its temporary files ".<target name>.<random>.tmp".
_TEMP_FILE = re.compile(r"^\..+\.tmp$")
_SHA256 = re.compile(r'"sha256"\s*:\s*"([0-9a-f]{64})"')
#: Fingerprint written into the index state to make ``Index.update`` re-index a document.
_REINDEX = "doctor-reindex"


@dataclass
class Finding:
    """One problem: ``code`` is stable (for scripts), ``message`` is for people."""

    code: str
    subject: str
    message: str
    repaired: bool = False
    action: str = ""


@dataclass
class DoctorReport:
    corpus_dir: str
    index_dir: str
    repair: bool
    documents: int = 0
    paragraphs: int = 0
    indexed: int = 0
    index_status: str = ""
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        """Findings that are still there after the run."""
        return [f for f in self.findings if not f.repaired]

    @property
    def healthy(self) -> bool:
        return not self.problems

    def add(self, code: str, subject: str, message: str) -> Finding:
        finding = Finding(code, subject, message)
        self.findings.append(finding)
        return finding

    def to_dict(self) -> dict:
        return {
            "corpus": self.corpus_dir,
            "index": self.index_dir,
            "repair": self.repair,
            "healthy": self.healthy,
            "documents": self.documents,
            "paragraphs": self.paragraphs,
            "indexed": self.indexed,
            "index_status": self.index_status,
            "findings": [asdict(f) for f in self.findings],
            "problems": len(self.problems),
            "notes": list(self.notes),
        }


def doctor(config: defaults.Settings, repair: bool = True,
           on_wait: Callable[[str], None] | None = None) -> DoctorReport:
    """Check the corpus and index of ``config``; with ``repair``, fix what can be fixed.

    Holds the corpus write lock throughout, so no ingest or crawl changes the corpus while it
    is being checked; index repairs go through ``Index.update``, which takes the index lock.
    """
    corpus = Corpus(config.corpus_dir).require()
    report = DoctorReport(str(corpus.root), str(config.index_dir), repair)
    # The lock itself, not Corpus.write_lock: that one sweeps temporary files, which --no-repair must only report.
    # A check that repairs nothing takes no lock, so it also runs on a corpus it cannot write.
    lock = (hold_lock(corpus.root / ".lock", defaults.LOCK_TIMEOUT, on_wait, what="the corpus") if repair
            else contextlib.nullcontext())
    with lock:
        _check_temp_files(corpus, report, repair)
        documents = _check_documents(corpus, report, repair)
        report.documents = len(documents)
        report.paragraphs = sum(len(d.paragraphs) for d in documents.values())
        _check_index(config, corpus, documents, report, repair, on_wait)
    return report


# --------------------------------------------------------------------------- corpus


def _check_temp_files(corpus: Corpus, report: DoctorReport, repair: bool) -> None:
    for folder in (corpus.documents_dir, corpus.raw_dir):
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if not (entry.is_file() and _TEMP_FILE.match(entry.name)):
                continue
            finding = report.add("temp-file", _relative(corpus, entry),
                                 f"{_relative(corpus, entry)} is a temporary file left by an interrupted write")
            if repair:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
                finding.repaired, finding.action = True, "removed"


def _check_documents(corpus: Corpus, report: DoctorReport, repair: bool) -> dict[str, Document]:
    """Load every document and check its raw files; returns the documents that are sound."""
    documents: dict[str, Document] = {}
    referenced: set[str] = set()
    unverifiable: set[str] = set()
    for doc_id in corpus.ids():
        path = corpus.json_path(doc_id)
        try:
            data = path.read_bytes()
        except OSError as exc:
            # Unreadable is not damaged: the file may be perfectly good, so it is never overwritten.
            report.add("unreadable-json", doc_id, f"documents/{doc_id}.json cannot be read "
                       f"({exc.strerror or exc.__class__.__name__}); check its permissions")
            unverifiable.add(doc_id)
            continue
        try:
            document = Document.from_dict(load_json(data))
            if document.id != doc_id:
                raise ValueError(f"it holds document {document.id!r}")
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            finding = report.add("damaged-json", doc_id,
                                 f"documents/{doc_id}.json cannot be loaded ({_one_line(exc)})")
            raw = _raw_for_damaged(corpus, doc_id, path)
            if raw is None:
                finding.message += "; no intact raw file to rebuild it from: ingest or crawl it again"
                unverifiable.add(doc_id)
                continue
            if repair:
                repaired = _rederive(corpus, doc_id, raw, None, finding)
                if repaired is not None:
                    documents[doc_id] = repaired
                    referenced.update(_raw_names(repaired))
                    continue
            unverifiable.add(doc_id)
            continue
        _check_presentable(document, report)
        documents[doc_id] = _check_raw(corpus, document, report, repair)
        referenced.update(_raw_names(documents[doc_id]))
    _check_orphan_raw(corpus, documents, referenced, unverifiable, report, repair)
    return documents


def _check_presentable(document: Document, report: DoctorReport) -> None:
    """Run the functions search, show and export use to present a document; their error is a finding."""
    from searchdoc.export import document_ref
    from searchdoc.search import document_label, paragraph_url, pinpoint_citation

    try:
        document_label(document)
        paragraph_url(document)
        for paragraph in document.paragraphs[:1] or [None]:
            pinpoint_citation(document, paragraph)
        document_ref(document.id, document)
    except SearchdocError as exc:
        report.add("unpresentable", document.id,
                   f"{document.id}: search, show and export cannot present it ({_one_line(exc)}); "
                   "ingest it again, or delete its documents/*.json")


def _raw_names(document: Document) -> set[str]:
    provenance = document.provenance
    names = {Path(provenance[k]).name for k in ("raw_file", "metadata_file") if provenance.get(k)}
    if provenance.get("raw_file"):
        names.add(f"{document.id}.{SIDECAR}")
    return names


def _check_raw(corpus: Corpus, document: Document, report: DoctorReport, repair: bool) -> Document:
    provenance = document.provenance
    problems = []
    for file_key, sha_key in (("raw_file", "sha256"), ("metadata_file", "metadata_sha256")):
        name, expected = provenance.get(file_key), provenance.get(sha_key)
        if not name or not expected:
            continue
        path = corpus.root / name
        if not _inside(corpus.raw_dir, path):
            problems.append(("raw-missing", f"its provenance names {name!r}, outside the raw folder"))
            continue
        try:
            actual = sha256_bytes(path.read_bytes())
        except FileNotFoundError:
            problems.append(("raw-missing", f"{name} is missing"))
            continue
        except OSError as exc:
            problems.append(("raw-unreadable", f"{name} cannot be read ({exc.strerror or exc.__class__.__name__})"))
            continue
        if actual != expected:
            problems.append(("raw-mismatch", f"{name} does not match the sha256 in its provenance"))
    if not problems:
        return document
    codes = {code for code, _ in problems}
    code = next(c for c in ("raw-unreadable", "raw-missing", "raw-mismatch") if c in codes)
    finding = report.add(code, document.id, f"{document.id}: " + "; ".join(message for _, message in problems))
    if code == "raw-unreadable":
        # Unreadable is not damaged: nothing is re-derived or overwritten.
        finding.message += ": check its permissions"
        return document
    if code == "raw-missing":
        finding.message += ": ingest or crawl it again"
        return document
    # The raw file is written before the JSON, so a newer raw file is an interrupted save: roll forward.
    raw = _raw_file(corpus, document.id, provenance.get("raw_file"))
    if repair and raw is not None:
        repaired = _rederive(corpus, document.id, raw, document, finding)
        if repaired is not None:
            return repaired
    return document


def _check_orphan_raw(corpus: Corpus, documents: dict[str, Document], referenced: set[str],
                      unverifiable: set[str], report: DoctorReport, repair: bool) -> None:
    if not corpus.raw_dir.is_dir():
        return
    for entry in sorted(corpus.raw_dir.iterdir(), key=lambda p: p.name):
        if not entry.is_file() or entry.name.startswith("."):
            continue
        doc_id = _id_of_raw(entry.name)
        if doc_id is None or doc_id in unverifiable:
            continue
        if doc_id in documents:
            # A raw file of another format than the stored one is only stale when provenance says which is current.
            if not documents[doc_id].provenance.get("raw_file") or entry.name in referenced:
                continue
            finding = report.add("orphan-raw", f"raw/{entry.name}",
                                 f"raw/{entry.name} is not the raw file of {doc_id}")
        else:
            finding = report.add("orphan-raw", f"raw/{entry.name}",
                                 f"raw/{entry.name} belongs to no document (an interrupted first save)")
        if repair:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
            finding.repaired, finding.action = True, "removed"


def _id_of_raw(name: str) -> str | None:
    for ext in ("metadata.xml", SIDECAR, *RAW_EXTENSIONS):
        if name.endswith("." + ext) and is_valid_id(name[: -len(ext) - 1]):
            return name[: -len(ext) - 1]
    return None


def _raw_file(corpus: Corpus, doc_id: str, name: str | None) -> tuple[Path, str] | None:
    if name:
        path = corpus.root / name
        ext = path.name[len(doc_id) + 1:]
        if _inside(corpus.raw_dir, path) and ext in _FORMAT_BY_EXT and path.is_file():
            return path, ext
    return None


def _raw_for_damaged(corpus: Corpus, doc_id: str, json_path: Path) -> tuple[Path, str] | None:
    """The raw file of a document whose JSON is unreadable, if one is there and intact.

    When the damaged JSON still shows a sha256, the raw file must match it.
    """
    try:
        text = json_path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        text = ""
    sidecar = corpus.sidecar(doc_id)
    if sidecar is not None and sidecar.get("provenance", {}).get("sha256"):
        # The side-car is written with the raw file: it names the raw file's checksum too.
        text += f'"sha256": "{sidecar["provenance"]["sha256"]}"'
    named = set(_SHA256.findall(text))
    candidates = []
    for ext in RAW_EXTENSIONS:
        path = corpus.raw_path(doc_id, ext)
        if path.is_file():
            candidates.append((path.stat().st_mtime_ns, path, ext))
    for _, path, ext in sorted(candidates, reverse=True):
        if not named or sha256_bytes(path.read_bytes()) in named:
            return path, ext
    return None


def _rederive(corpus: Corpus, doc_id: str, raw: tuple[Path, str], previous: Document | None,
              finding: Finding) -> Document | None:
    """Parse the document again from its raw file (and metadata.xml) and store it."""
    from searchdoc import pipeline

    path, ext = raw
    data = path.read_bytes()
    metadata = pipeline.metadata_for_id(doc_id)
    if doc_id == defaults.LETTER_ID:
        bundled = defaults.bundled_data_dir() / f"{defaults.LETTER_ID}.meta.json"
        metadata.update(json.loads(bundled.read_text(encoding="utf-8")))
    metadata_path = corpus.raw_path(doc_id, "metadata.xml")
    metadata_xml = metadata_path.read_bytes() if metadata_path.is_file() else None
    if metadata_xml is not None:
        from searchdoc.parse.officialxml import parse_metadata_xml

        try:
            parsed = parse_metadata_xml(metadata_xml)
            metadata.update({k: v for k, v in parsed.items() if k != "id" and v not in (None, "", [], {})})
        except SearchdocError:
            metadata_xml = None
    # What the document said at its last save (the user's --title, --date, ...): the document
    # itself when it could still be read, then the side-car written with the raw file (so it
    # belongs to the raw file being parsed, also when that is newer than the document).
    sidecar = corpus.sidecar(doc_id)
    kept: dict = {}
    for source in (previous.to_dict() if previous is not None else {}, sidecar or {}):
        kept.update({key: source[key] for key in _KEPT_METADATA if source.get(key) not in (None, "", [], {})})
    metadata.update(kept)
    try:
        document = pipeline.parse_source(data, _FORMAT_BY_EXT[ext], doc_id, metadata)
    except Exception as exc:  # noqa: BLE001 - any parser failure means: cannot repair from this file
        finding.message += f"; raw/{path.name} cannot be parsed either ({_one_line(exc)})"
        return None
    if not document.paragraphs:
        finding.message += f"; raw/{path.name} has no paragraphs"
        return None
    document.id = doc_id
    for key, value in kept.items():
        setattr(document, key, value)
    pipeline.enrich(document)
    if sidecar is not None and sidecar.get("provenance"):
        provenance = sidecar["provenance"]
    elif previous is not None:
        provenance = previous.provenance
    else:
        provenance = {"source": f"raw/{path.name}"}
    document.provenance = {
        **provenance,
        "repaired": pipeline.now_iso(),
        "repaired_by": "searchdoc doctor",
    }
    corpus.save(document, raw=data, raw_ext=ext, metadata_xml=metadata_xml)
    finding.repaired, finding.action = True, f"re-parsed from raw/{path.name}"
    return document


# --------------------------------------------------------------------------- index


def _check_index(config, corpus: Corpus, documents: dict[str, Document], report: DoctorReport,
                 repair: bool, on_wait) -> None:
    from searchdoc.index import Index

    index = Index(config.index_dir, corpus, config)
    try:
        leftovers = _check_index_leftovers(index, report)
        status, _ = index.staleness()
        report.index_status = status
        damage = index.integrity_problems()
        for problem in damage:
            report.add("index-damaged", str(index.directory), f"the index is damaged: {problem}")
        wrong = None if damage else _verify_index(index, documents, report, record=True)
        if not repair:
            if status in ("stale", "incompatible"):
                report.notes.append(f"the index is {status}; it updates itself on the next search")
            elif status == "missing":
                report.notes.append("there is no index (yet, or its build was interrupted); the next search builds it")
            return
        rebuild = status in ("missing", "incompatible", "damaged") or wrong is None
        if wrong and not rebuild:
            _mark_for_reindex(index, wrong)
        if rebuild or wrong or status == "stale" or leftovers:
            index.close()
            try:
                result = index.update(rebuild=rebuild, on_wait=on_wait)
            except SearchdocError as exc:
                report.add("index-not-updated", str(index.directory), f"the index cannot be updated: {_one_line(exc)}")
                return
            finally:
                index.close()
            what = "rebuilt" if result.rebuilt else "updated"
            report.notes.append(f"index {what}: {len(result.added)} added, {len(result.updated)} re-indexed, "
                                f"{len(result.removed)} removed")
            still = _verify_index(index, documents, report, record=False)
            if still is None or still:
                index.close()
                index.update(rebuild=True, on_wait=on_wait)
                index.close()
                report.notes.append("index rebuilt from scratch after a targeted repair did not suffice")
                still = _verify_index(index, documents, report, record=False)
            if still is not None and not still:
                for finding in report.findings:
                    if finding.code.startswith("index-") and not finding.repaired:
                        finding.repaired, finding.action = True, f"index {what}"
        report.index_status = index.staleness()[0]
    finally:
        index.close()


def _check_index_leftovers(index, report: DoctorReport) -> bool:
    """Staging folders of killed rebuilds and temporary state files; ``Index.update`` removes them."""
    found = False
    parent, name = index.directory.parent, index.directory.name
    pattern = re.compile(rf"^\.{re.escape(name)}\.(?:building|old)-(\d+)$")
    if parent.is_dir():
        for entry in sorted(parent.iterdir(), key=lambda p: p.name):
            match = pattern.match(entry.name)
            if match and entry.is_dir() and not _pid_alive(int(match.group(1))):
                report.add("index-leftover", str(entry),
                           f"{entry} is a staging folder left by an interrupted index rebuild")
                found = True
    if index.directory.is_dir():
        inside = re.compile(r"^\.(?:building|old)-(\d+)$")
        for entry in sorted(index.directory.iterdir(), key=lambda p: p.name):
            match = inside.match(entry.name)
            if match and entry.is_dir() and not _pid_alive(int(match.group(1))):
                # A rebuild of an index folder that is a mount point stages inside it.
                report.add("index-leftover", str(entry),
                           f"{entry} is a staging folder left by an interrupted index rebuild")
                found = True
        for entry in index.directory.iterdir():
            if entry.is_file() and _TEMP_FILE.match(entry.name) and entry.name.startswith(".searchdoc-state"):
                report.add("index-leftover", str(entry),
                           f"{entry} is a temporary file left by an interrupted index update")
                found = True
    return found


def _verify_index(index, documents: dict[str, Document], report: DoctorReport, record: bool) -> set[str] | None:
    """Doc ids whose index entries are wrong; None when the index cannot be read at all."""
    status, fingerprints = index.staleness()
    if status == "missing":
        return set()
    index.close()
    try:
        keys = index.stored_keys()
    except Exception as exc:  # noqa: BLE001 - whatever Whoosh raises, the index is unusable
        if record:
            report.add("index-damaged", str(index.directory), f"the index cannot be read ({_one_line(exc)})")
        index.close()
        return None
    if status != "incompatible":  # an index of another schema version is rebuilt anyway
        from searchdoc.columns import ColumnsError, check_index

        try:
            # Missing columns (a segment another writer added) are written by any update.
            check_index(index.directory, index.searcher().reader(), missing_ok=True)
        except ColumnsError as exc:
            if record:
                report.add("index-damaged", str(index.directory),
                           f"the index's columnar postings are missing or damaged ({_one_line(exc)})")
            index.close()
            return None
    report.indexed = len(keys)
    counts = Counter(keys)
    state_docs = (index.read_state() or {}).get("docs", {}) if status != "incompatible" else {}
    indexed_ids = {key.rsplit("#", 1)[0] for key in counts}
    wrong: set[str] = set()
    messages: list[tuple[str, str, str]] = []
    for doc_id, document in documents.items():
        if state_docs.get(doc_id) != fingerprints.get(doc_id):
            continue  # changed since it was indexed: the next update re-indexes it anyway
        expected = {f"{doc_id}#{p.n}" for p in document.paragraphs}
        present = {k for k in counts if k.rsplit("#", 1)[0] == doc_id} if doc_id in indexed_ids else set()
        missing = expected - present
        extra = present - expected
        doubled = [k for k in present & expected if counts[k] > 1]
        if missing:
            messages.append(("index-missing-paragraphs", doc_id,
                             f"{len(missing)} paragraph(s) of {doc_id} are not indexed"))
        if extra:
            messages.append(("index-orphans", doc_id,
                             f"{len(extra)} index entries for paragraphs {doc_id} does not have"))
        if doubled:
            messages.append(("index-duplicates", doc_id,
                             f"{len(doubled)} paragraph(s) of {doc_id} are indexed more than once"))
        if missing or extra or doubled:
            wrong.add(doc_id)
    for doc_id in sorted(indexed_ids - set(index.corpus.ids()) - set(state_docs)):
        messages.append(("index-orphans", doc_id, f"the index holds {doc_id}, which is not in the corpus"))
        wrong.add(doc_id)
    if record:
        for code, subject, message in messages:
            report.add(code, subject, message)
    return wrong


def _mark_for_reindex(index, doc_ids: set[str]) -> None:
    """Make the next ``Index.update`` re-index (or remove) exactly these documents."""
    lock = index.directory.parent / f".{index.directory.name}.lock"
    with hold_lock(lock, defaults.LOCK_TIMEOUT, what="the index"):
        state = index.read_state()
        if state is None:
            return
        docs = dict(state["docs"])
        for doc_id in doc_ids:
            docs[doc_id] = _REINDEX
        index.write_state(index.directory, docs, state["files"])


# --------------------------------------------------------------------------- helpers


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _inside(folder: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _relative(corpus: Corpus, path: Path) -> str:
    try:
        return str(path.relative_to(corpus.root))
    except ValueError:
        return str(path)


def _one_line(exc: BaseException) -> str:
    return one_line(exc)[:200] or exc.__class__.__name__


def render_text(report: DoctorReport) -> str:
    """One line per finding (with what was done), the notes, then a verdict."""
    lines = []
    for finding in report.findings:
        state = f"repaired ({finding.action})" if finding.repaired else "PROBLEM"
        lines.append(f"{state:<10} {finding.code}: {finding.message}")
    lines.extend(f"note       {note}" for note in report.notes)
    from searchdoc.render import plural

    summary = (f"{plural(report.documents, 'document')}, {plural(report.paragraphs, 'paragraph')}; "
               f"{plural(report.indexed, 'index entry', 'index entries')} (index {report.index_status})")
    if report.healthy:
        verdict = "healthy" if not report.findings else f"repaired {plural(len(report.findings), 'problem')}"
    else:
        hint = "" if report.repair else "; run 'searchdoc doctor --repair' to fix what can be fixed"
        remain = "remains" if len(report.problems) == 1 else "remain"
        verdict = f"{plural(len(report.problems), 'problem')} {remain}{hint}"
    lines.append(f"{summary}: {verdict}")
    return "\n".join(lines)
