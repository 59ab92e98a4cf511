"""The Whoosh index: schema, build, incremental update, open, query execution.

Together with ``searchdoc.query`` the only module that imports Whoosh. One Whoosh document per paragraph. The index is
derived from the corpus: a state file records, per document, the corpus fingerprint it was built
from, plus fingerprints of the analysis and the theme taxonomy, so a stale index is detected and
updated (only the documents that changed), and a damaged one is rebuilt.

Query construction lives in ``searchdoc.query``, the one other module that knows Whoosh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import shutil
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import fields as wfields
from whoosh import index as windex
from whoosh import query as wq
from whoosh.analysis import IDAnalyzer, Tokenizer
from whoosh.analysis import Token as WhooshToken

from searchdoc import analysis, checksums, segments, settings
from searchdoc.corpus import WRITE_ERRNOS, Corpus, atomic_write, hold_lock, write_error
from searchdoc.errors import IndexDamagedError, SearchdocError, WriteError
from searchdoc.model import Document
from searchdoc.query import build_query, index_synonyms, matched_terms, matching_part, parse, suggest
from searchdoc.validate import check_acronyms, check_dataclass, check_state, load_json, require_mapping

log = logging.getLogger(__name__)

#: Bump when the schema or the meaning of a field changes: a different version forces a rebuild.
SCHEMA_VERSION = 3
STATE_FILE = "searchdoc-state.json"
INDEX_NAME = "paragraphs"



# --------------------------------------------------------------------------- analyzers


class ChainTokenizer(Tokenizer):
    """Adapts searchdoc.analysis to Whoosh; picklable (it stores only the chain's name)."""

    def __init__(self, chain: str = "text"):
        self.chain = chain

    def __eq__(self, other):
        return isinstance(other, ChainTokenizer) and other.chain == self.chain

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        produce = analysis.part_tokens if self.chain == "parts" else analysis.analyze
        for item in produce(value):
            token.text = item.term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[item.start:item.end]
            if positions:
                token.pos = start_pos + item.pos
            if chars:
                token.startchar = start_char + item.start
                token.endchar = start_char + item.end
            yield token


def chain_analyzer(chain: str) -> ChainTokenizer:
    """A Whoosh analyzer running searchdoc's Dutch chain (``text`` or ``parts``)."""
    return ChainTokenizer(chain)


def build_schema():
    text = chain_analyzer("text")
    parts = chain_analyzer("parts")
    return wfields.Schema(
        key=wfields.ID(unique=True, stored=True),
        doc_id=wfields.ID(stored=True, analyzer=IDAnalyzer(lowercase=True)),
        paragraph=wfields.NUMERIC(int, stored=True, sortable=True),
        page=wfields.NUMERIC(int, stored=True),
        page_end=wfields.STORED(),
        section=wfields.TEXT(analyzer=text, stored=True, phrase=True),
        speaker=wfields.TEXT(analyzer=text, stored=True, phrase=True),
        text=wfields.TEXT(analyzer=text, stored=True, phrase=True),
        parts=wfields.TEXT(analyzer=parts, phrase=True),
        notes=wfields.TEXT(analyzer=text, phrase=True),
        title=wfields.TEXT(analyzer=text, phrase=True),
        kind=wfields.ID(stored=True, analyzer=IDAnalyzer(lowercase=True)),
        date=wfields.ID(stored=True),
        dossier=wfields.KEYWORD(stored=True, commas=True, lowercase=True),
        themes=wfields.KEYWORD(stored=True, commas=True, lowercase=True),
        cites=wfields.KEYWORD(stored=True, commas=True, lowercase=True),
    )


# --------------------------------------------------------------------------- fast build

#: Worker processes for a rebuild (None: one per available CPU).
BUILD_PROCS: int | None = None
#: Below this much corpus JSON a rebuild stays in-process: starting workers would cost more.
PARALLEL_MIN_BYTES = 2 * 1024 * 1024
#: An update of at most this many documents analyses through the word store (see _incremental).
WORD_STORE_MAX_DOCUMENTS = 20


def _json_sizes(corpus: Corpus, doc_ids) -> list[int]:
    sizes = []
    for doc_id in doc_ids:
        try:
            sizes.append(corpus.json_path(doc_id).stat().st_size)
        except OSError:
            sizes.append(0)
    return sizes


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _build_segment(index: Index, staging: Path, doc_ids: list[str], advance=None) -> tuple:
    """Index ``doc_ids`` into one new segment of the index being built in ``staging``."""
    ix = windex.open_dir(str(staging), indexname=INDEX_NAME)
    builder = segments.SegmentBuilder(ix, staging / f".runs-{os.getpid()}")
    paragraphs = 0
    forgotten = segments._FORGOTTEN[0]
    for doc_id in doc_ids:
        if segments._FORGOTTEN[0] != forgotten:
            # The tagger caches every word it has seen: it starts afresh with the analysis.
            forgotten = segments._FORGOTTEN[0]
            index.tagger().clear_cache()
        # A fresh Corpus per document: the shared one would keep every document in memory.
        document = Corpus(index.corpus.root).load(doc_id)
        for record in index.paragraph_records(document):
            builder.add(record)
            paragraphs += 1
        if advance:
            advance(1)
    segment = builder.finish()
    ix.close()
    return segment, paragraphs


def _segment_worker(index: Index, staging: Path, k: int, doc_ids: list[str], messages) -> None:
    """Body of a build worker: one segment, progress and the result (or the error) on ``messages``."""
    import pickle

    try:
        result = _build_segment(index, staging, doc_ids, lambda n: messages.put(("progress", k, n)))
        messages.put(("done", k, result))
    except BaseException as exc:  # noqa: BLE001 - the parent re-raises it
        try:
            pickle.dumps(exc)
        except Exception:
            exc = SearchdocError(f"building the index failed: {exc.__class__.__name__}: {exc}")
        messages.put(("error", k, exc))


#: An update merges the segments of one size (a power of ten in documents) once there are this many.
MERGE_FACTOR = 4


def merge_small_segments(writer, segments: list) -> list:
    """Merge policy for updates: small segments are merged once ``MERGE_FACTOR`` of them share a
    size class, with every smaller one; the large segments of a rebuild are left alone.

    Each update writes a segment of its own; Whoosh's MERGE_SMALL (whoosh-reloaded 2.7.5) merges
    only segments smaller than a Fibonacci number, so updates of one document would pile up
    segments and slow every search. Merging by size class keeps their number logarithmic while
    an update rewrites only a few small segments.
    """
    from whoosh.reading import SegmentReader

    def size_class(segment) -> int:
        return len(str(max(1, segment.doc_count_all())))

    counts: dict[int, int] = {}
    for segment in segments:
        counts[size_class(segment)] = counts.get(size_class(segment), 0) + 1
    full = [size for size, count in sorted(counts.items()) if count >= MERGE_FACTOR]
    if not full:
        return segments
    merged = [segment for segment in segments if size_class(segment) <= full[0]]
    for segment in merged:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return [segment for segment in segments if size_class(segment) > full[0]]


def _add_missing_columns(directory: Path) -> bool:
    """Columnar postings for the segments Whoosh's writer made (updates and merges), which
    SegmentBuilder did not write; read back from their Whoosh postings. True when any were written."""
    from whoosh.reading import SegmentReader

    from searchdoc.columns import has_columns, write_from_reader

    ix = windex.open_dir(str(directory), indexname=INDEX_NAME)
    try:
        # Only the segments without columns are opened: opening the large ones of a rebuild
        # would cost an update more than writing the new segment's columns.
        written = False
        for segment in ix._segments():
            if not has_columns(directory, segment.segment_id()):
                reader = SegmentReader(ix.storage, ix.schema, segment)
                try:
                    write_from_reader(directory, reader)
                    written = True
                finally:
                    reader.close()
    finally:
        ix.close()
    return written


def _commit_segments(ix, segments: list) -> None:
    """Make ``segments`` the index's content, in order, as a writer's commit would."""
    from whoosh.index import TOC, clean_files

    generation = ix.latest_generation() + 1
    TOC(ix.schema, segments, generation).write(ix.storage, INDEX_NAME)
    clean_files(ix.storage, INDEX_NAME, generation, segments)


# --------------------------------------------------------------------------- state


def _load_state(path: Path) -> dict:
    """The validated content of a state file; raises OSError or DamagedFile."""
    return check_state(checksums.unseal(require_mapping(load_json(path.read_bytes()))))


def analysis_fingerprint() -> str:
    """Changes whenever the analysis code or its data changes, forcing a rebuild."""
    digest = hashlib.sha256()
    for path in (Path(analysis.__file__), Path(__file__), Path(segments.__file__)):
        digest.update(path.read_bytes())
    data_dir = settings.bundled_data_dir()
    for name in ("synonyms.toml",):
        candidate = data_dir / name
        if candidate.exists():
            digest.update(candidate.read_bytes())
    return digest.hexdigest()[:16]


def taxonomy_fingerprint(config: settings.Settings | None = None) -> str:
    """Changes when the theme taxonomy in use changes, so tags are recomputed."""
    from searchdoc import themes

    taxonomy = themes.load_taxonomy(config.taxonomy_file if config else None)
    source = taxonomy.source or themes.bundled_taxonomy_path()
    return hashlib.sha256(Path(source).read_bytes()).hexdigest()[:16]


@dataclass
class UpdateReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    paragraphs: int = 0
    rebuilt: bool = False
    reason: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rebuilt)


class Index:
    """One index folder derived from one corpus."""

    def __init__(self, directory: Path, corpus: Corpus, config: settings.Settings | None = None):
        self.directory = Path(directory)
        self.corpus = corpus
        self.config = config
        self._ix = None
        self._searcher = None
        self._tagger = None
        self._theme_docs = None
        self._executor = None
        self._theme_ids: tuple | None = None
        #: The state file (inode, size, mtime) of the last full check of the open searcher's files.
        self._verified: tuple | None = None
        #: Worker processes for a rebuild; None picks by corpus size and CPUs.
        self.build_procs: int | None = None

    # ---- state
    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    def read_state(self) -> dict | None:
        """The state file, or None when there is none or it is damaged (see :meth:`state_problem`)."""
        return self._state_or_problem()[0]

    def state_problem(self) -> str | None:
        """Why the state file cannot be used, when it is there but unreadable or damaged."""
        return self._state_or_problem()[1]

    def _state_or_problem(self) -> tuple[dict | None, str | None]:
        """The state file read once: its content, or why it cannot be used (none when absent)."""
        try:
            return _load_state(self.state_path), None
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            return None, f"{STATE_FILE} cannot be read ({exc.strerror or exc.__class__.__name__})"
        except ValueError as exc:
            return None, f"{STATE_FILE} is damaged ({exc})"

    def write_state(self, directory: Path, docs: dict[str, str], files: dict[str, list[int]] | None = None) -> None:
        """The state of the index in ``directory`` (this index's folder or its staging folder):
        the fingerprints, and the checksums of its files (``files``, else recorded now). Written
        last, after every file it vouches for."""
        state = {**self._expected_header(), "docs": docs,
                 "files": checksums.record(directory) if files is None else files}
        atomic_write(directory / STATE_FILE, json.dumps(checksums.seal(state), indent=1).encode())

    def integrity_problems(self) -> list[str]:
        """What is damaged in the index folder: a state file that cannot be used, a file that
        does not match the checksum the state records, a damaged acronym file. Reads every
        file once (CRC-32); called when the index is opened, by updates and by doctor."""
        from searchdoc.query import DEFINITIONS_FILE

        state, problem = self._state_or_problem()
        if problem:
            return [problem]
        if state is None:
            return []
        # A segment whose columns lack their header (written last) gets all of them written
        # again by the next update (see columns_missing): its column files are not checked.
        from searchdoc.columns import COLUMN_KINDS

        files = {name: entry for name, entry in state["files"].items()
                 if name.rpartition(".")[2] not in COLUMN_KINDS
                 or (self.directory / f"{name.rpartition('.')[0]}.cols").exists()}
        problems = checksums.verify(self.directory, files)
        definitions = self.directory / DEFINITIONS_FILE
        try:
            check_acronyms(checksums.unseal(require_mapping(load_json(definitions.read_bytes()))))
        except FileNotFoundError:
            pass
        except OSError as exc:
            problems.append(f"{DEFINITIONS_FILE} cannot be read ({exc.strerror or exc.__class__.__name__})")
        except ValueError as exc:
            problems.append(f"{DEFINITIONS_FILE} is damaged ({exc})")
        return problems

    def _expected_header(self) -> dict:
        return {
            "schema": SCHEMA_VERSION,
            "analysis": analysis_fingerprint(),
            "taxonomy": taxonomy_fingerprint(self.config),
        }

    def staleness(self) -> tuple[str, dict[str, str]]:
        """('missing'|'damaged'|'incompatible'|'stale'|'fresh', corpus fingerprints)."""
        fingerprints = self.corpus.fingerprints()
        state = self.read_state()
        if state is None and self.state_problem():
            return "damaged", fingerprints
        if state is None or not self._index_exists():
            return "missing", fingerprints
        header = self._expected_header()
        if any(state.get(k) != v for k, v in header.items()):
            return "incompatible", fingerprints
        if state.get("docs") != fingerprints:
            return "stale", fingerprints
        return "fresh", fingerprints

    def _index_exists(self) -> bool:

        try:
            return windex.exists_in(str(self.directory), indexname=INDEX_NAME)
        except Exception:
            return False

    # ---- writing
    def tagger(self):
        if self._tagger is None:
            from searchdoc import themes

            self._tagger = themes.ThemeTagger(themes.load_taxonomy(self.config.taxonomy_file if self.config else None))
        return self._tagger

    def theme_ids(self) -> list[str]:
        # Reading the taxonomy is enough: compiling a tagger stems every term, which a search
        # starting cold would pay for nothing.
        if self._tagger is not None:
            return list(self._tagger.taxonomy.ids)
        from searchdoc import themes

        path = themes._taxonomy_path(self.config.taxonomy_file if self.config else None)
        try:
            st = path.stat()
            stamp = (str(path), st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None  # load_taxonomy reports the unreadable file
        # Parsing the TOML costs milliseconds, and every search asks twice: once per file version.
        if stamp is None or self._theme_ids is None or self._theme_ids[0] != stamp:
            ids = list(themes.load_taxonomy(self.config.taxonomy_file if self.config else None).ids)
            self._theme_ids = (stamp, ids)
        return list(self._theme_ids[1])

    def paragraph_records(self, document: Document) -> Iterable[dict]:
        """The Whoosh documents for one corpus document."""
        tagger = self.tagger()
        footnote_text = {f.n: f.text for f in document.footnotes}
        dossier = ",".join(document.dossier)
        for paragraph in document.paragraphs:
            notes = " ".join(footnote_text.get(n, "") for n in paragraph.footnotes)
            record = {
                "key": f"{document.id}#{paragraph.n}",
                "doc_id": document.id,
                "paragraph": paragraph.n,
                "text": paragraph.text,
                "parts": paragraph.text,
                "themes": ",".join(tagger.tag(paragraph.text, paragraph.section)),
                "cites": ",".join(sorted({c.id for c in paragraph.citations})),
                "kind": document.kind or "",
                "date": document.date or "",
                "dossier": dossier,
                "title": document.title or "",
                "page_end": paragraph.page_end,
            }
            if paragraph.section:
                record["section"] = paragraph.section
            if paragraph.speaker:
                record["speaker"] = paragraph.speaker
            if paragraph.page is not None:
                record["page"] = paragraph.page
            if notes.strip():
                record["notes"] = notes
            yield record

    def update(self, rebuild: bool = False, progress: Callable[[int], None] | None = None,
               on_wait: Callable[[str], None] | None = None) -> UpdateReport:
        """Bring the index in line with the corpus; rebuild from scratch when asked or needed."""
        with hold_lock(self.directory.parent / f".{self.directory.name}.lock", settings.LOCK_TIMEOUT, on_wait,
                       what="the index"):
            self.close()
            self._remove_leftovers()
            self._check_writable()
            status, fingerprints = self.staleness()
            if status in ("fresh", "stale") and not rebuild:
                # Checked again under the lock: what a reader took for damage may have been a
                # writer half-way through an update.
                intact = self.readable()
                self.close()
                if not intact:
                    status = "damaged"
            if rebuild or status in ("missing", "incompatible", "damaged"):
                reason = "asked" if rebuild else status
                return self._rebuild(fingerprints, progress, reason)
            if status == "fresh":
                state = self.read_state()
                if _add_missing_columns(self.directory) or checksums.superseded(self.directory, state["files"]):
                    # Files of another writer, or of an update killed after its commit: recorded now.
                    self.write_state(self.directory, state["docs"])
                return UpdateReport(unchanged=len(fingerprints))
            try:
                return self._incremental(fingerprints, progress)
            except IndexDamagedError:
                return self._rebuild(fingerprints, progress, "damaged")

    def _remove_leftovers(self) -> None:
        """Staging folders and temporary files of killed or failed runs (beside the index folder,
        beside a symlink's target, inside a mount point); only called under the index lock."""
        for folder in dict.fromkeys((self.directory, self._target())):
            parent, name = folder.parent, folder.name
            if parent.is_dir():
                for entry in parent.iterdir():
                    if entry.name.startswith((f".{name}.building-", f".{name}.old-")) and entry.is_dir():
                        shutil.rmtree(entry, ignore_errors=True)
        self._discard_unfinished(recorded_only=False)

    def _discard_unfinished(self, recorded_only: bool = True) -> None:
        """Remove what an interrupted or failed write left in the index folder: Whoosh's
        temporary folder, staging folders of a mount point, temporary files, and (with
        ``recorded_only``, after a failed update) every index file the state does not record."""
        target = self._target()
        if not target.is_dir():
            return
        state = self.read_state() if recorded_only else None
        keep = set(state["files"]) if state else None
        covered = set(checksums.covered(target)) if keep is not None else set()
        for entry in target.iterdir():
            name = entry.name
            if entry.is_dir() and not entry.is_symlink():
                if name.endswith(".tmp") or name.startswith((".building-", ".old-")):
                    shutil.rmtree(entry, ignore_errors=True)
                continue
            unfinished = name.startswith(".") and name.endswith(".tmp")
            unrecorded = keep is not None and entry in covered and name not in keep
            if unfinished or unrecorded:
                with contextlib.suppress(OSError):
                    entry.unlink()

    def _target(self) -> Path:
        """The folder the index lives in: the index folder, or the folder a symlink points at
        (a rebuild replaces the target and keeps the link)."""
        return Path(os.path.realpath(self.directory)) if self.directory.is_symlink() else self.directory

    def _check_writable(self) -> None:
        """A clear error when the index folder cannot be written (read-only, no permission):
        such a folder must not be taken for damage and replaced by a new one."""
        import tempfile

        target = self._target()
        if not target.is_dir():
            return
        try:
            fd, probe = tempfile.mkstemp(prefix=".searchdoc-write-check.", suffix=".tmp", dir=target)
        except OSError as exc:
            raise WriteError(f"the index folder {target} cannot be written ({exc.strerror or exc}); "
                             "make it writable or point --index at another folder") from None
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(probe)

    def _index_size(self) -> int:
        """Bytes of the current index: about what a rebuild needs beside it."""
        target = self._target()
        try:
            return sum(p.stat().st_size for p in checksums.covered(target))
        except OSError:
            return 0

    def _rebuild(self, fingerprints, progress, reason) -> UpdateReport:
        target = self._target()
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and os.path.ismount(target):
            # A mount point cannot be renamed: build inside it, then swap the contents.
            staging = target / f".building-{os.getpid()}"
        else:
            staging = target.with_name(f".{target.name}.building-{os.getpid()}")
        needed = self._index_size() or sum(_json_sizes(self.corpus, fingerprints))
        try:
            return self._build_into(staging, target, fingerprints, progress, reason)
        except OSError as exc:
            if exc.errno in WRITE_ERRNOS:
                raise write_error(exc, staging, needed) from None
            raise

    def _build_into(self, staging: Path, target: Path, fingerprints, progress, reason) -> UpdateReport:
        report = UpdateReport(rebuilt=True, reason=reason)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            ix = windex.create_in(str(staging), build_schema(), indexname=INDEX_NAME)
            doc_ids = sorted(fingerprints)
            chunks = self._plan_chunks(doc_ids)
            if len(chunks) > 1:
                segments, report.paragraphs = self._build_parallel(staging, chunks, progress)
            else:
                segments, report.paragraphs = [], 0
                for chunk in chunks:
                    segment, count = _build_segment(self, staging, chunk, progress)
                    segments.append(segment)
                    report.paragraphs += count
            if segments:
                _commit_segments(ix, segments)
            ix.close()
            shutil.rmtree(staging / f"{INDEX_NAME}.tmp", ignore_errors=True)
            report.added = doc_ids
            self._store_definitions(staging, fingerprints, self._expected_header()["analysis"])
            self.write_state(staging, fingerprints)
            self._swap_in(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return report

    def _plan_chunks(self, doc_ids: list[str]) -> list[list[str]]:
        """Consecutive runs of documents of about equal size, one per worker.

        Consecutive, so the segments in order number the paragraphs exactly as one writer
        adding the documents in id order would: ties in ranking break the same way.
        """
        if not doc_ids:
            return []
        sizes = []
        for doc_id in doc_ids:
            try:
                sizes.append(self.corpus.json_path(doc_id).stat().st_size)
            except OSError:
                sizes.append(1)
        total = sum(sizes)
        procs = self.build_procs
        if procs is None:
            procs = 1 if total < PARALLEL_MIN_BYTES else (BUILD_PROCS or _available_cpus())
        procs = max(1, min(procs, len(doc_ids)))
        chunks: list[list[str]] = [[] for _ in range(procs)]
        done = 0
        for doc_id, size in zip(doc_ids, sizes, strict=True):
            chunks[min(procs - 1, done * procs // total)].append(doc_id)
            done += size
        return [chunk for chunk in chunks if chunk]

    def _build_parallel(self, staging: Path, chunks: list[list[str]], progress) -> tuple[list, int]:
        """Build one segment per chunk, this process building the first one and worker processes
        the others; the segments in chunk order."""
        import gc
        import multiprocessing
        import queue

        forking = "fork" in multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if forking else "spawn")
        if forking:
            # Load the language data and compile the theme tagger once, before forking: the
            # workers inherit them instead of each paying for them again. Frozen, the
            # collector of a worker leaves those objects (and their pages) alone.
            analysis.preload()
            self.tagger()
            gc.freeze()
            worker_index = self
        else:
            worker_index = Index(self.directory, Corpus(self.corpus.root), self.config)
        messages = context.Queue()
        workers = {
            k: context.Process(target=_segment_worker, args=(worker_index, staging, k, chunk, messages), daemon=True)
            for k, chunk in enumerate(chunks) if k or not forking
        }
        results: dict[int, tuple] = {}

        def receive(timeout: float | None) -> None:
            """Handle one message from a worker (or none within ``timeout``)."""
            try:
                kind, k, payload = messages.get(timeout=timeout) if timeout else messages.get_nowait()
            except queue.Empty:
                for worker in workers.values():
                    if worker.exitcode not in (None, 0):
                        raise SearchdocError(
                            f"a process building the index stopped (exit code {worker.exitcode}, perhaps out of "
                            "memory); run 'searchdoc index --rebuild' again"
                        ) from None
                return
            if kind == "progress":
                if progress:
                    progress(payload)
            elif kind == "done":
                results[k] = payload
            else:
                raise payload

        def advance(n: int) -> None:
            if progress:
                progress(n)
            receive(None)

        try:
            for worker in workers.values():
                worker.start()
            if forking:
                gc.unfreeze()
                results[0] = _build_segment(self, staging, chunks[0], advance)
            while len(results) < len(chunks):
                receive(0.5)
        finally:
            for worker in workers.values():
                if worker.is_alive() and len(results) < len(chunks):
                    worker.terminate()
                worker.join()
            messages.close()
        return [results[k][0] for k in range(len(chunks))], sum(count for _, count in results.values())

    def _swap_in(self, staging: Path, target: Path) -> None:
        """Replace the index folder (``target``: a symlink's target, not the link) by the freshly
        built one with two renames; a folder that cannot be renamed (a mount point) gets the new
        contents instead."""
        import errno

        retired = target.with_name(f".{target.name}.old-{os.getpid()}")
        keep = [p for p in target.iterdir() if p.name == "README.md"] if target.exists() else []
        for item in keep:
            shutil.copy2(item, staging / item.name)
        if staging.parent == target:
            self._swap_contents(staging, target)
            return
        if target.exists():
            try:
                os.replace(target, retired)
            except OSError as exc:
                if exc.errno not in (errno.EBUSY, errno.EXDEV, errno.EPERM, errno.EACCES):
                    raise
                self._swap_contents(staging, target)
                return
        os.replace(staging, target)
        shutil.rmtree(retired, ignore_errors=True)

    @staticmethod
    def _swap_contents(staging: Path, target: Path) -> None:
        """Move the old index files out of ``target`` and the new ones in. The state goes first
        and comes last, so a reader in between sees no index (and waits for the lock), never a
        mix of the two."""
        retired = target / f".old-{os.getpid()}"
        retired.mkdir(exist_ok=True)
        old = sorted(target.iterdir(), key=lambda p: p.name != STATE_FILE)
        for entry in old:
            if entry in (retired, staging) or entry.name.startswith((".building-", ".old-", "README.md")):
                continue
            os.replace(entry, retired / entry.name)
        new = sorted(staging.iterdir(), key=lambda p: p.name == STATE_FILE)
        for entry in new:
            if entry.name == "README.md" and (target / "README.md").exists():
                continue
            shutil.move(str(entry), str(target / entry.name))
        shutil.rmtree(retired, ignore_errors=True)

    def _incremental(self, fingerprints, progress) -> UpdateReport:

        report = UpdateReport()
        state = self.read_state() or {}
        previous: dict = state.get("docs", {})
        changed = [d for d, fp in fingerprints.items() if previous.get(d) != fp]
        removed = [d for d in previous if d not in fingerprints]
        report.unchanged = len(fingerprints) - len(changed)
        if len(changed) <= WORD_STORE_MAX_DOCUMENTS:
            # A few documents need a few thousand words analysed: looking them up in the word
            # store costs less than loading the word lists (same answers; past its lookup limit
            # the analysis loads the lists after all).
            analysis.use_word_store(settings.word_store_dir)
        try:
            ix = windex.open_dir(str(self.directory), indexname=INDEX_NAME)
            writer = ix.writer(limitmb=128)
        except Exception as exc:
            raise IndexDamagedError(f"index at {self.directory} cannot be opened: {exc}") from exc
        committed = False
        try:
            for doc_id in removed:
                writer.delete_by_term("doc_id", doc_id.lower())
                report.removed.append(doc_id)
            for doc_id in sorted(changed):
                document = self.corpus.load(doc_id)
                writer.delete_by_term("doc_id", doc_id.lower())
                for record in self.paragraph_records(document):
                    writer.add_document(**record)
                    report.paragraphs += 1
                (report.updated if doc_id in previous else report.added).append(doc_id)
                if progress:
                    progress(1)
            writer.commit(mergetype=merge_small_segments)
            committed = True
            _add_missing_columns(self.directory)
        except (SearchdocError, KeyboardInterrupt, SystemExit):
            with contextlib.suppress(Exception):
                writer.cancel()
            ix.close()
            self._discard_unfinished(recorded_only=not committed)
            raise
        except Exception as exc:
            with contextlib.suppress(Exception):
                writer.cancel()
            if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
                # A full disk or a read-only folder is no damage: nothing is rebuilt. What this
                # update half wrote is removed, so the index stays as it was; after the commit
                # its new generation is complete, and the next update records it.
                ix.close()
                self._discard_unfinished(recorded_only=not committed)
                raise write_error(exc, self.directory, report.paragraphs * 4096 or None) from None
            raise IndexDamagedError(f"index at {self.directory} is damaged: {exc.__class__.__name__}") from exc
        finally:
            ix.close()
        # A state that cannot be written leaves the committed generation unrecorded: complete,
        # and recorded by the next update.
        self._store_definitions(self.directory, fingerprints, self._expected_header()["analysis"])
        self.write_state(self.directory, fingerprints)
        return report

    # ---- acronym definitions
    def _store_definitions(self, directory: Path, fingerprints: dict[str, str], version: str) -> None:
        """Keep the acronym definitions the documents make ("Nationale Cyber Security Agenda
        (NCSA)") in the index folder ``directory``, in step with what was just indexed, so that no
        search has to read them (:func:`searchdoc.query.refresh_definitions`). Called by a rebuild
        on its staging folder before the swap, and by an update after its commit and before its
        state: a search checks each document's entry against the state's fingerprint.
        """
        from searchdoc.query import DEFINITIONS_FILE, refresh_definitions

        current = self.directory / DEFINITIONS_FILE
        if directory != self.directory and current.is_file():
            # A rebuild keeps the entries of documents that did not change.
            with contextlib.suppress(OSError):
                shutil.copy2(current, directory / DEFINITIONS_FILE)
        refresh_definitions(directory, fingerprints, version, self._harvest_definitions)

    def _harvest_definitions(self, doc_ids: set[str]) -> dict[str, list[tuple[str, str]]]:
        """The definitions each document makes in its paragraphs and headings, read from its
        JSON as indexed (not through the corpus's cache of loaded documents: a rebuild reads all)."""
        from searchdoc.query import document_definitions

        found = {}
        for doc_id in sorted(doc_ids):
            try:
                data = load_json(self.corpus.json_path(doc_id).read_bytes())
                check_dataclass(Document, data)
            except (OSError, ValueError):
                continue  # gone or damaged since it was indexed: a search reads its paragraphs
            texts = [t for p in data.get("paragraphs", []) for t in (p.get("section") or "", p.get("text") or "")]
            found[doc_id] = document_definitions(dict.fromkeys(texts))
        return found

    # ---- reading
    def ensure_fresh(self, on_update: Callable[[str], None] | None = None) -> UpdateReport | None:
        """Build or update the index first when it is missing, stale or damaged."""
        status, _ = self.staleness()
        if status == "fresh":
            if self.readable():
                if not self.columns_missing():
                    return None
                # A segment some other writer added: its columns are written, nothing re-indexed.
                self.update(on_wait=on_update)
                return None
            status = "damaged"
        if on_update:
            on_update({
                "missing": "building the index (first run) ...",
                "incompatible": "rebuilding the index (searchdoc's analysis changed) ...",
                "stale": "updating the index with corpus changes ...",
                "damaged": "the index is damaged; rebuilding it from the corpus ...",
            }[status])
        # update() checks the index again under its lock and rebuilds it when it is damaged.
        return self.update(on_wait=on_update)

    def readable(self) -> bool:
        """True when the index opens, its files match their checksums and its segments can be
        read: the damage check of every command that opens the index. A long-lived reader (the
        web server) checks again only after a write, which always rewrites the state file."""
        stamp = self._state_stamp()
        if stamp is not None and stamp == self._verified and self._searcher is not None:
            return True
        if self.integrity_problems():
            self.close()
            return False
        try:
            searcher = self.searcher()
            reader = searcher.reader()
            for fieldname in ("doc_id", "text"):
                next(iter(reader.lexicon(fieldname)), None)
            next(iter(reader.all_stored_fields()), None)
            from searchdoc.columns import check_index

            # Damaged columns count as damage: the rebuild writes them again. Missing ones are
            # written by the next update (see columns_missing).
            check_index(self.directory, reader, missing_ok=True)
            self._verified = stamp
            return True
        except Exception:
            self.close()
            return False

    def _state_stamp(self) -> tuple | None:
        try:
            found = self.state_path.stat()
        except OSError:
            return None
        return found.st_ino, found.st_size, found.st_mtime_ns

    def columns_missing(self) -> bool:
        """True when a segment has no columnar postings (one written by another Whoosh writer)."""
        from searchdoc.columns import has_columns

        reader = self.searcher().reader()
        return any(not has_columns(self.directory, leaf.segment().segment_id()) for leaf, _ in reader.leaf_readers())

    def searcher(self):
        if self._searcher is None:

            try:
                self._ix = windex.open_dir(str(self.directory), indexname=INDEX_NAME)
                self._searcher = self._ix.searcher()
            except Exception as exc:
                raise IndexDamagedError(
                    f"the index at {self.directory} is damaged ({exc.__class__.__name__}); "
                    "run 'searchdoc index --rebuild'"
                ) from None
        return self._searcher

    def close(self) -> None:
        self._theme_docs = None
        self._executor = None
        self._verified = None
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        if self._ix is not None:
            self._ix.close()
            self._ix = None

    def doc_count(self) -> int:
        return self.searcher().doc_count()

    def stored_keys(self) -> list[str]:
        return [fields["key"] for fields in self.searcher().all_stored_fields()]

    def run_query(self, query_text: str, doc_ids: Iterable[str] = (), themes: Iterable[str] = (),
                  limit: int | None = 10) -> RawResults:
        """Parse, rewrite and run a query; return scored paragraphs and what matched."""

        parse(query_text)  # a malformed query is a QueryError even when the index cannot be opened
        searcher = self.searcher()
        try:
            query = build_query(query_text, self.synonyms(), searcher.reader())
            filters = self._filters(doc_ids, themes)
            fast = self._run_columnar(query, filters, limit)
            if fast is not None:
                return fast
            return self._run_whoosh(query, query_text, filters, limit)
        except _DECODE_ERRORS as exc:
            raise self._query_failure(query_text, exc) from None

    @staticmethod
    def _filters(doc_ids: Iterable[str], themes: Iterable[str]) -> list:
        """Queries every hit must also match: any of ``doc_ids``, and each of ``themes``."""
        filters = []
        doc_ids = [d.lower() for d in doc_ids]
        if doc_ids:
            filters.append(wq.Or([wq.Term("doc_id", d) for d in doc_ids]))
        for theme in themes:
            filters.append(wq.Term("themes", theme.lower()))
        return filters

    def executor(self):
        """The vectorised executor over this index's columns, or None when a segment's columns
        are missing or damaged (queries then run through Whoosh)."""
        if self._executor is None:
            from searchdoc.columns import ColumnsError
            from searchdoc.executor import Executor, Unsupported

            try:
                self._executor = Executor(self.searcher(), self.directory)
            except (ColumnsError, Unsupported) as exc:
                log.warning("searching without the columnar postings: %s", exc)
                self._executor = False
        return self._executor or None

    def _run_columnar(self, query, filters: list, limit: int | None) -> RawResults | None:
        """run_query through the vectorised executor; None when it cannot reproduce the query."""
        executor = self.executor()
        if executor is None:
            return None
        from searchdoc.executor import Unsupported

        try:
            ranked, docs = executor.search(query, matching_part(query), filters, limit)
            theme_counts = executor.theme_counts(docs, self.theme_ids())
        except Unsupported:
            return None
        except Exception as exc:  # damaged columns: Whoosh still answers correctly
            log.warning("columnar query failed (%s); searching through Whoosh", exc.__class__.__name__)
            return None
        searcher = self.searcher()
        try:
            matched = executor.matched_terms(query)
        except Unsupported:
            matched = matched_terms(query, searcher.reader())
        hits = [RawHit(dict(searcher.stored_fields(docnum)), score) for docnum, score in ranked]
        return RawResults(total=len(docs), hits=hits, matched_terms=matched, theme_counts=theme_counts)

    def _run_whoosh(self, query, query_text: str, filters: list, limit: int | None) -> RawResults:
        """run_query through Whoosh's matchers: the reference the executor reproduces."""
        searcher = self.searcher()
        filter_query = wq.And(filters) if filters else None
        try:
            results = searcher.search(query, limit=limit, filter=filter_query, terms=False)
        except Exception as exc:
            raise self._query_failure(query_text, exc) from None
        hits = [RawHit(dict(hit.fields()), hit.score) for hit in results]
        matched = matched_terms(query, searcher.reader())
        # One unscored pass over the query without its score-only boosters gives every match:
        # the total and the theme facets both come from it (len(results) would run the whole
        # query again).
        docs = set(searcher.docs_for_query(matching_part(query)))
        if filter_query is not None:
            docs.intersection_update(searcher.docs_for_query(filter_query))
        return RawResults(total=len(docs), hits=hits, matched_terms=matched, theme_counts=self._theme_counts(docs))

    def ranked_stream(self, query_text: str, doc_ids: Iterable[str] = (), themes: Iterable[str] = (),
                      limit: int | None = None) -> RankedStream:
        """Every match of a query, best first, without holding them all in memory (for export).

        The (score, document number) pairs go to a private temporary SQLite file that sorts
        them on disk; stored fields are read only as the consumer reaches each row.
        """
        parse(query_text)  # a malformed query is a QueryError even when the index cannot be opened
        searcher = self.searcher()
        parsed = build_query(query_text, self.synonyms(), searcher.reader())
        filters = [wq.Or([wq.Term("doc_id", d.lower()) for d in doc_ids])] if doc_ids else []
        filters += [wq.Term("themes", theme.lower()) for theme in themes]
        # Require keeps the scores of the query alone: the ranking of run_query, without the set of
        # every allowed document that Whoosh's filter= builds.
        whole = wq.Require(parsed, wq.And(filters)) if filters else parsed
        collector = _spooling_collector()
        try:
            searcher.search_with_collector(whole, collector)
        except Exception as exc:
            collector.close()
            raise self._query_failure(query_text, exc) from None
        total, ranked = collector.ranked(limit)
        rows = ((searcher.stored_fields(docnum), score) for docnum, score in ranked)
        return RankedStream(total, rows, matched_terms(parsed, searcher.reader()))

    def _query_failure(self, query_text: str, exc: Exception) -> SearchdocError:
        """A parsed query that failed inside Whoosh: its segment data could not be read (what
        the checksums did not see, such as a generation not yet recorded). searchdoc's own
        errors (a query budget, say) pass unchanged."""
        if isinstance(exc, SearchdocError):
            return exc
        return IndexDamagedError(f"the index at {self.directory} cannot be read for {query_text!r} "
                                 f"({exc.__class__.__name__}: {' '.join(str(exc).split())[:120]}); "
                                 "run 'searchdoc index --rebuild'")

    def _theme_counts(self, docs) -> dict[str, int]:
        """How many of the matched paragraphs ``docs`` carry each theme."""
        if not docs:
            return {}
        counts = {}
        for theme, theme_docs in self._theme_docsets().items():
            count = len(theme_docs.intersection(docs))
            if count:
                counts[theme] = count
        return counts

    def _theme_docsets(self) -> dict[str, frozenset[int]]:
        """Each theme's paragraphs, read once per open searcher (they change only with the index)."""
        if self._theme_docs is None:
            searcher = self.searcher()
            self._theme_docs = {
                theme: frozenset(searcher.docs_for_query(wq.Term("themes", theme))) for theme in self.theme_ids()
            }
        return self._theme_docs

    def citing_paragraphs(self, ids: Iterable[str]) -> list[tuple[str, int]]:
        """(doc_id, paragraph) of every indexed paragraph whose ``cites`` field holds one of ``ids``."""
        searcher = self.searcher()
        query = wq.Or([wq.Term("cites", i.lower()) for i in ids])
        return sorted(
            {(searcher.stored_fields(d)["doc_id"], searcher.stored_fields(d)["paragraph"])
             for d in searcher.docs_for_query(query)}
        )

    def theme_paragraph_counts(self, doc_id: str | None = None) -> dict[str, int]:
        """Paragraphs per theme, over the whole index or one document."""
        searcher = self.searcher()
        restrict = set(searcher.docs_for_query(wq.Term("doc_id", doc_id.lower()))) if doc_id else None
        counts = {}
        for theme in self.theme_ids():
            docs = searcher.docs_for_query(wq.Term("themes", theme))
            counts[theme] = sum(1 for d in docs if restrict is None or d in restrict)
        return counts

    def synonyms(self):
        """The synonyms queries use: the bundled groups, the configured synonyms file and the
        acronyms the indexed documents define ("Nationale Cyber Security Agenda (NCSA)")."""
        return index_synonyms(self)

    def suggest(self, query_text: str, total: int | None = None) -> str | None:
        """A respelling of a query that finds few or no paragraphs, from the index's vocabulary."""
        return suggest(query_text, self.searcher(), self.synonyms(), total)

    def vocabulary(self, fieldname: str = "text") -> Iterable[tuple[str, int]]:
        """(term, document frequency) pairs, for spelling suggestions."""
        reader = self.searcher().reader()
        for term in reader.lexicon(fieldname):
            word = term.decode("utf-8") if isinstance(term, bytes) else term
            yield word, reader.doc_frequency(fieldname, word)


#: What reading a damaged Whoosh segment raises (zlib's "Error -3 while decompressing", a broken pickle).
_DECODE_ERRORS = (zlib.error, pickle.UnpicklingError, struct.error, EOFError)


@dataclass
class RankedStream:
    total: int
    rows: Iterator[tuple[dict, float]]
    matched_terms: dict[str, set[str]]


def _spooling_collector():
    """A Whoosh collector that spools (score, docnum) to SQLite instead of keeping a list of
    every match and a set of their numbers, as Whoosh's own collectors do."""
    import sqlite3

    from whoosh.collectors import ScoredCollector

    class SpoolingCollector(ScoredCollector):
        batch_size = 1000

        def prepare(self, top_searcher, q, context):
            super().prepare(top_searcher, q, context)
            # An empty name is SQLite's private on-disk temporary database, deleted on close.
            self.db = sqlite3.connect("", isolation_level=None)
            self.db.execute("PRAGMA journal_mode=OFF")
            self.db.execute("PRAGMA synchronous=OFF")
            self.db.execute("CREATE TABLE hit (score REAL, docnum INTEGER)")
            self.db.execute("BEGIN")
            self.batch: list[tuple[float, int]] = []
            self.matched = 0

        def _collect(self, global_docnum, score):
            self.batch.append((score, global_docnum))
            self.matched += 1
            if len(self.batch) >= self.batch_size:
                self._flush()
            return 0 - score

        def _flush(self) -> None:
            self.db.executemany("INSERT INTO hit VALUES (?, ?)", self.batch)
            self.batch.clear()

        def ranked(self, limit: int | None) -> tuple[int, Iterator[tuple[int, float]]]:
            """How many hits there will be, and (docnum, score) pairs best first."""
            self._flush()
            self.db.execute("COMMIT")
            total = self.matched if limit is None else min(limit, self.matched)
            return total, self._rows(total)

        def _rows(self, total: int) -> Iterator[tuple[int, float]]:
            try:
                yield from self.db.execute(
                    "SELECT docnum, score FROM hit ORDER BY score DESC, docnum LIMIT ?", (total,))
            finally:
                self.close()

        def close(self) -> None:
            if getattr(self, "db", None) is not None:
                self.db.close()
                self.db = None

    return SpoolingCollector()


@dataclass
class RawHit:
    fields: dict
    score: float


@dataclass
class RawResults:
    total: int
    hits: list[RawHit]
    matched_terms: dict[str, set[str]]
    theme_counts: dict[str, int]


@contextlib.contextmanager
def opened(directory: Path, corpus: Corpus, config=None):
    index = Index(directory, corpus, config)
    try:
        yield index
    finally:
        index.close()
