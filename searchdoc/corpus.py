"""The corpus folder: raw source files plus one normalized JSON file per document.

Layout::

    corpus/
      documents/<id>.json     normalized Document (the commit point: a document exists iff this exists)
      raw/<id>.<ext>          the source bytes as fetched or ingested (txt, xml, html, pdf)
      raw/<id>.metadata.xml   the official metadata record, when there is one
      raw/<id>.meta.json      the document's metadata as stored (title, date, kind, provenance ...),
                              so that a repair from the raw file loses nothing the user gave
      .lock                   write lock shared by ingest, crawl and index

Every write goes to a temporary file in the same folder, is flushed and fsynced, then renamed
over the target, so a crash leaves either the old file or the new one, never half of one. Raw
files are written before the JSON that names their checksum.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from searchdoc import settings
from searchdoc.errors import (
    CorpusError,
    InvalidIdentifierError,
    LockedError,
    UnknownDocumentError,
    WriteError,
)
from searchdoc.model import Document
from searchdoc.validate import load_json

log = logging.getLogger(__name__)

#: Official identifiers: a lower-case prefix, then hyphen-separated parts of letters and digits.
_ID_PATTERN = re.compile(r"^[a-z]{1,8}(?:-[A-Za-z0-9]{1,24}){1,6}$")
RAW_EXTENSIONS = ("txt", "xml", "html", "pdf")
#: Extension of a raw file's side-car: the document's metadata without its text.
SIDECAR = "meta.json"


def validate_id(doc_id: str) -> str:
    """Return ``doc_id`` if it is a safe official identifier, else raise InvalidIdentifierError.

    Ids become file names, so anything that could escape the corpus folder (``..``, slashes,
    absolute paths, odd Unicode) is refused here, once, for every caller.
    """
    if not isinstance(doc_id, str) or not doc_id.isascii() or not _ID_PATTERN.fullmatch(doc_id):
        shown = doc_id if isinstance(doc_id, str) else repr(doc_id)
        raise InvalidIdentifierError(
            f"{shown[:80]!r} is not a valid document id (expected e.g. kst-33694-45 or ah-tk-20182019-264)"
        )
    return doc_id


def is_valid_id(doc_id: str) -> bool:
    try:
        validate_id(doc_id)
    except InvalidIdentifierError:
        return False
    return True


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: errno values that mean "this cannot be written here" rather than damage.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG})


def write_error(exc: OSError, path: Path, needed: int | None = None) -> WriteError:
    """The one-line error for a failed write of ``path``: what failed and, when the disk is
    full, how much space the write needed."""
    reason = exc.strerror or exc.__class__.__name__
    where = exc.filename if getattr(exc, "filename", None) else path
    message = f"cannot write {where}: {reason}"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT) and needed:
        message += f" (about {_megabytes(needed)} needed)"
    return WriteError(message + "; nothing was changed, try again when that is fixed")


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{max(1, size // 1000)} kB"


def file_mode() -> int:
    """The mode a new file gets from ``open()`` under the current umask (0644 under 022)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _write_temp(path: Path, data: bytes) -> str:
    """``data`` in a fsynced temporary file beside ``path`` (removed again on failure)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes 0600; the file gets the mode any new file would get.
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a mix.
    A write that fails (disk full, no permission) leaves nothing behind and raises WriteError."""
    try:
        tmp = _write_temp(path, data)
    except OSError as exc:
        raise write_error(exc, path, len(data)) from None
    try:
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise write_error(exc, path) from None
        raise
    _sync_folder(path.parent)


def atomic_write_all(files: list[tuple[Path, bytes]]) -> None:
    """Write several files all or none: each goes to a temporary file first, and only when
    every one is on disk are they renamed into place, in the order given. A failed write
    (a full disk) removes the temporary files and raises WriteError naming the space needed."""
    staged: list[tuple[str, Path]] = []
    try:
        for k, (path, data) in enumerate(files):
            try:
                staged.append((_write_temp(path, data), path))
            except OSError as exc:
                raise write_error(exc, path, sum(len(d) for _, d in files[k:])) from None
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for k, (tmp, path) in enumerate(staged):
        try:
            os.replace(tmp, path)
        except OSError as exc:
            for rest, _ in staged[k:]:
                with contextlib.suppress(OSError):
                    os.unlink(rest)
            raise write_error(exc, path) from None
    for folder in dict.fromkeys(path.parent for path, _ in files):
        _sync_folder(folder)


class Corpus:
    """Read and write documents in one corpus folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.documents_dir = self.root / "documents"
        self.raw_dir = self.root / "raw"
        self._cache: dict[str, tuple[tuple[int, int], Document]] = {}
        self._swept = False

    def exists(self) -> bool:
        return self.documents_dir.is_dir()

    def require(self) -> Corpus:
        """Raise a helpful CorpusError when the folder holds no corpus."""
        if not self.exists():
            raise CorpusError(
                f"no corpus at {self.root}: run 'searchdoc ingest FILE' or point --corpus at a corpus folder"
            )
        return self

    def json_path(self, doc_id: str) -> Path:
        return self.documents_dir / f"{validate_id(doc_id)}.json"

    def raw_path(self, doc_id: str, ext: str) -> Path:
        if ext not in (*RAW_EXTENSIONS, "metadata.xml", SIDECAR):
            raise CorpusError(f"unsupported raw file type {ext!r}")
        return self.raw_dir / f"{validate_id(doc_id)}.{ext}"

    def ids(self) -> list[str]:
        if not self.documents_dir.is_dir():
            return []
        found = []
        for entry in os.scandir(self.documents_dir):
            name = entry.name
            if name.endswith(".json") and not name.startswith("."):
                doc_id = name[:-5]
                if is_valid_id(doc_id):
                    found.append(doc_id)
        return sorted(found)

    def has(self, doc_id: str) -> bool:
        return is_valid_id(doc_id) and self.json_path(doc_id).is_file()

    def fingerprints(self) -> dict[str, str]:
        """A cheap per-document fingerprint (size and mtime of its JSON) for staleness checks."""
        result = {}
        if not self.documents_dir.is_dir():
            return result
        for entry in os.scandir(self.documents_dir):
            name = entry.name
            if name.endswith(".json") and not name.startswith(".") and is_valid_id(name[:-5]):
                st = entry.stat()
                result[name[:-5]] = f"{st.st_size}-{st.st_mtime_ns}"
        return result

    def load(self, doc_id: str) -> Document:
        path = self.json_path(doc_id)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise UnknownDocumentError(
                f"{doc_id} is not in the corpus at {self.root} "
                f"(list them with 'searchdoc list', fetch it with 'searchdoc crawl {doc_id}')"
            ) from None
        key = (st.st_size, st.st_mtime_ns)
        cached = self._cache.get(doc_id)
        if cached and cached[0] == key:
            return cached[1]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CorpusError(f"{path} cannot be read ({exc.strerror or exc.__class__.__name__})") from None
        try:
            document = Document.from_dict(load_json(data))
        except (ValueError, TypeError, KeyError) as exc:
            raise CorpusError(f"{path} is damaged ({exc}); run 'searchdoc doctor' to repair it") from None
        self._cache[doc_id] = (key, document)
        return document

    def sidecar(self, doc_id: str) -> dict | None:
        """The metadata kept beside a document's raw file (see ``save_all``), or None when there
        is none or it is damaged."""
        try:
            data = load_json(self.raw_path(doc_id, SIDECAR).read_bytes())
            Document.from_dict(data)
        except (OSError, ValueError):
            return None
        return data if data.get("id") == doc_id else None

    def documents(self) -> Iterator[Document]:
        for doc_id in self.ids():
            yield self.load(doc_id)

    def save(
        self,
        document: Document,
        raw: bytes | None = None,
        raw_ext: str | None = None,
        metadata_xml: bytes | None = None,
    ) -> Path:
        """Store a document: raw files first, then the JSON that makes it visible."""
        self.save_all([(document, raw, raw_ext, metadata_xml)])
        return self.json_path(document.id)

    def save_all(self, entries: list[tuple[Document, bytes | None, str | None, bytes | None]]) -> None:
        """Store several documents (each with its raw bytes, raw extension and metadata XML) all
        or none: every file is written to a temporary file first, then all are renamed into
        place, each document's raw files before the JSON that names their checksums. A full
        disk leaves the corpus as it was."""
        files: list[tuple[Path, bytes]] = []
        for document, raw, raw_ext, metadata_xml in entries:
            doc_id = validate_id(document.id)
            provenance = dict(document.provenance)
            if raw is not None:
                ext = raw_ext or document.source_format
                files.append((self.raw_path(doc_id, ext), raw))
                provenance["raw_file"] = f"raw/{doc_id}.{ext}"
                provenance["sha256"] = sha256_bytes(raw)
            if metadata_xml is not None:
                files.append((self.raw_path(doc_id, "metadata.xml"), metadata_xml))
                provenance["metadata_file"] = f"raw/{doc_id}.metadata.xml"
                provenance["metadata_sha256"] = sha256_bytes(metadata_xml)
            document.provenance = provenance
            data = document.to_dict()
            if raw is not None:
                sidecar = {k: v for k, v in data.items() if k not in ("paragraphs", "footnotes")}
                files.append((self.raw_path(doc_id, SIDECAR),
                              json.dumps(sidecar, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"))
            payload = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False)
            files.append((self.json_path(doc_id), payload.encode("utf-8") + b"\n"))
        atomic_write_all(files)
        for document, *_ in entries:
            self._cache.pop(document.id, None)

    def remove(self, doc_id: str) -> None:
        path = self.json_path(doc_id)
        if not path.exists():
            raise UnknownDocumentError(f"{doc_id} is not in the corpus at {self.root}")
        path.unlink()
        for ext in (*RAW_EXTENSIONS, "metadata.xml", SIDECAR):
            with contextlib.suppress(FileNotFoundError):
                self.raw_path(doc_id, ext).unlink()
        self._cache.pop(doc_id, None)

    @contextlib.contextmanager
    def write_lock(self, timeout: float | None = None, on_wait=None):
        """Hold the corpus write lock; ``on_wait`` is called once if another process has it.

        The first holder in a process removes temporary files that killed writers left behind
        (under the lock no other writer can own one).
        """
        wait = settings.LOCK_TIMEOUT if timeout is None else timeout
        with hold_lock(self.root / ".lock", wait, on_wait, what="the corpus"):
            if not self._swept:
                self._swept = True
                self.remove_temp_files()
            yield self

    def remove_temp_files(self) -> list[Path]:
        """Delete what ``atomic_write`` leaves when killed (``.<name>.<random>.tmp``); call under the lock."""
        removed = []
        for folder in (self.documents_dir, self.raw_dir):
            if folder.is_dir():
                for entry in folder.glob(".*.tmp"):
                    with contextlib.suppress(OSError):
                        entry.unlink()
                        removed.append(entry)
        return removed


@contextlib.contextmanager
def hold_lock(path: Path, timeout: float, on_wait=None, what: str = "the corpus"):
    """An inter-process file lock; waits up to ``timeout`` seconds, then raises LockedError."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait is not None:
            on_wait(f"waiting for another searchdoc process that is writing {what} ...")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise LockedError(
                f"another searchdoc process holds the lock on {what} ({path}); try again when it has finished"
            ) from None
    try:
        yield
    finally:
        lock.release()

