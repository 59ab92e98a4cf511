"""A full disk, read-only folders, symlinked and mounted index folders, file modes (issue 14,
items 11, 14 and 16): one clear line naming the path, nothing half-written left behind, no
index swapped for a new one because a write failed, and every later command working again.

The disk is filled deterministically in this process: every write under a folder counts its
bytes and fails with ENOSPC once a budget is spent (as the kernel does, after writing what
fits); a read-only folder refuses to create files with EACCES. Root ignores permission bits,
so chmod could not show it in CI.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchdoc import checksums
from searchdoc.cli import cli
from searchdoc.corpus import Corpus
from searchdoc.index import STATE_FILE, Index
from searchdoc.model import Document, Paragraph


def _under(path, root: Path) -> bool:
    try:
        return Path(os.path.abspath(os.fspath(path))).is_relative_to(root)
    except TypeError:
        return False


class _CountedFile:
    """A file object whose writes spend the disk's budget."""

    def __init__(self, handle, disk: FullDisk, name):
        self._handle, self._disk, self._name = handle, disk, name

    def write(self, data):
        size = len(data.encode()) if isinstance(data, str) else memoryview(data).nbytes
        if size > self._disk.left:
            fits = self._disk.left
            if fits and not isinstance(data, str):
                self._handle.write(memoryview(data).cast("B")[:fits])
            self._disk.left = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as write(2) reports it: no file name
        self._disk.left -= size
        return self._handle.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()

    def __iter__(self):
        return iter(self._handle)

    def __getattr__(self, name):
        return getattr(self._handle, name)


class FullDisk:
    """Writes under ``root`` (files opened for writing, and atomic writes' temporary files)
    fail with ENOSPC once ``budget`` bytes are written."""

    def __init__(self, monkeypatch, root: Path, budget: int):
        self.root, self.left = Path(root).resolve(), budget
        real_open, real_fdopen = builtins.open, os.fdopen

        def limited_open(file, mode="r", *args, **kwargs):
            handle = real_open(file, mode, *args, **kwargs)
            if any(c in mode for c in "wax+") and not isinstance(file, int) and _under(file, self.root):
                return _CountedFile(handle, self, str(file))
            return handle

        def limited_fdopen(fd, mode="r", *args, **kwargs):
            handle = real_fdopen(fd, mode, *args, **kwargs)
            name = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists(f"/proc/self/fd/{fd}") else ""
            if any(c in mode for c in "wax+") and _under(name, self.root):
                return _CountedFile(handle, self, name)
            return handle

        monkeypatch.setattr(builtins, "open", limited_open)
        monkeypatch.setattr(io, "open", limited_open)
        monkeypatch.setattr(os, "fdopen", limited_fdopen)


def deny_writes(monkeypatch, root: Path) -> None:
    """``root`` behaves as a read-only folder: creating or writing a file in it fails (EACCES)."""
    root = Path(root).resolve()
    real_open, real_os_open = builtins.open, os.open

    def refuse(path):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    def guarded_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+") and not isinstance(file, int) and _under(file, root):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR) and _under(path, root):
            refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def one_line_error(result) -> str:
    """The error line (after any status lines such as "updating the index ...")."""
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("searchdoc:")]
    assert errors == [lines[-1]] and lines[-1].startswith("searchdoc: error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[-1]


def listing(folder: Path) -> dict[str, int]:
    """Files and sizes, but for lock files (they stay, empty, by design)."""
    return {p.name: p.stat().st_size for p in folder.iterdir() if not p.name.endswith(("LOCK", ".lock"))}


def add_document(corpus_dir: Path, doc_id: str = "kst-97001-1") -> None:
    Corpus(corpus_dir).save(Document(id=doc_id, kind="kamerstuk", paragraphs=[
        Paragraph(1, "Een alinea over zwermdrones boven de Noordzee."),
        Paragraph(2, "Nog een alinea over zwermdrones en autonome wapens."),
    ]))


def search_keys(corpus_dir, index_dir, query: str) -> list[str]:
    index = Index(index_dir, Corpus(corpus_dir))
    try:
        index.ensure_fresh()
        return sorted(h.fields["key"] for h in index.run_query(query, limit=None).hits)
    finally:
        index.close()


# --------------------------------------------------------------------------- disk full


def test_ingest_of_many_files_on_a_full_disk_stores_none_and_says_why(letter_env, tmp_path, monkeypatch):
    corpus_dir, _ = letter_env
    sources = tmp_path / "sources"
    sources.mkdir()
    for n in range(1, 31):
        text = "\n\n".join(f"Alinea {k} van document {n} over drones en veiligheid." * 8 for k in range(1, 9))
        (sources / f"kst-96{n:03d}-1.txt").write_text(text, encoding="utf-8")
    files = sorted(str(p) for p in sources.iterdir())
    before = {p: listing(corpus_dir / p) for p in ("documents", "raw")}
    with monkeypatch.context() as patch:
        FullDisk(patch, corpus_dir, budget=60_000)
        result = invoke("ingest", *files)
    assert result.exit_code == 1
    line = one_line_error(result)
    assert "No space left on device" in line and str(corpus_dir) in line and "needed" in line, line
    assert "nothing was changed" in line
    # All or nothing: not one of the 30 documents, and no temporary file.
    assert {p: listing(corpus_dir / p) for p in ("documents", "raw")} == before
    # Space is back: the same command works.
    result = invoke("ingest", *files)
    assert result.exit_code == 0, result.output
    assert len(Corpus(corpus_dir).ids()) == 31


def test_a_rebuild_on_a_full_disk_leaves_the_old_index_and_nothing_else(letter_env, monkeypatch):
    corpus_dir, index_dir = letter_env
    expected = search_keys(corpus_dir, index_dir, "drones")
    before = listing(index_dir)
    parent = listing(index_dir.parent)
    with monkeypatch.context() as patch:
        FullDisk(patch, index_dir.parent, budget=40_000)
        result = invoke("index", "--rebuild")
    assert result.exit_code == 1
    line = one_line_error(result)
    assert "No space left on device" in line and str(index_dir.parent) in line, line
    assert "MB needed" in line or "kB needed" in line, line
    assert listing(index_dir) == before
    assert listing(index_dir.parent) == parent, "no staging folder is left behind"
    assert Index(index_dir, Corpus(corpus_dir)).integrity_problems() == []
    assert search_keys(corpus_dir, index_dir, "drones") == expected
    assert invoke("index", "--rebuild").exit_code == 0


def test_an_update_on_a_full_disk_leaves_no_half_written_files(letter_env, monkeypatch):
    corpus_dir, index_dir = letter_env
    add_document(corpus_dir)
    before = listing(index_dir)
    with monkeypatch.context() as patch:
        FullDisk(patch, index_dir, budget=2_000)
        result = invoke("search", "zwermdrones")
    assert result.exit_code == 1
    line = one_line_error(result)
    assert "No space left on device" in line and str(index_dir) in line, line
    after = listing(index_dir)
    assert after == before, set(after) ^ set(before)
    assert not list(index_dir.glob("*.tmp")) and not list(index_dir.glob(".*"))
    # Not damage: the index is intact (only stale), and the next search updates it.
    index = Index(index_dir, Corpus(corpus_dir))
    assert index.staleness()[0] == "stale" and index.integrity_problems() == []
    index.close()
    assert search_keys(corpus_dir, index_dir, "zwermdrones") == ["kst-97001-1#1", "kst-97001-1#2"]


# --------------------------------------------------------------------------- index folders


def test_a_read_only_index_folder_is_an_error_not_replaced(letter_env, monkeypatch):
    corpus_dir, index_dir = letter_env
    inode = index_dir.stat().st_ino
    before = listing(index_dir)
    with monkeypatch.context() as patch:
        deny_writes(patch, index_dir)
        # Fresh: a read-only index still answers.
        result = invoke("search", "drones")
        assert result.exit_code == 0, result.output
        add_document(corpus_dir)
        result = invoke("search", "zwermdrones")
    assert result.exit_code == 1
    line = one_line_error(result)
    assert f"the index folder {index_dir} cannot be written (Permission denied)" in line, line
    assert index_dir.stat().st_ino == inode and listing(index_dir) == before
    assert not list(index_dir.parent.glob(".index.*-*"))
    assert search_keys(corpus_dir, index_dir, "zwermdrones") == ["kst-97001-1#1", "kst-97001-1#2"]


def test_a_symlinked_index_folder_stays_a_symlink(letter_env, tmp_path):
    corpus_dir, index_dir = letter_env
    real = tmp_path / "elsewhere" / "real-index"
    real.parent.mkdir()
    shutil.move(index_dir, real)
    index_dir.symlink_to(real)
    expected = search_keys(corpus_dir, index_dir, "drones")
    for _ in range(2):
        result = invoke("index", "--rebuild")
        assert result.exit_code == 0, result.output
    assert index_dir.is_symlink() and os.readlink(index_dir) == str(real)
    assert (real / STATE_FILE).is_file()
    leftovers = [p.name for folder in (index_dir.parent, real.parent) for p in folder.iterdir() if ".old-" in p.name
                 or ".building-" in p.name]
    assert leftovers == []
    assert search_keys(corpus_dir, index_dir, "drones") == expected


@pytest.mark.parametrize("detected", [True, False], ids=["mount-point", "rename-refused"])
def test_an_index_folder_that_cannot_be_renamed_gets_new_contents(letter_env, monkeypatch, detected):
    corpus_dir, index_dir = letter_env
    expected = search_keys(corpus_dir, index_dir, "drones")
    inode = index_dir.stat().st_ino
    real_replace, real_ismount = os.replace, os.path.ismount

    def replace(src, dst, *args, **kwargs):
        if os.path.abspath(src) == str(index_dir):
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(src))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    if detected:
        monkeypatch.setattr(os.path, "ismount", lambda p: os.path.abspath(p) == str(index_dir) or real_ismount(p))
    result = invoke("index", "--rebuild")
    assert result.exit_code == 0, result.output
    assert index_dir.stat().st_ino == inode
    assert not [p for p in index_dir.iterdir() if p.is_dir()]
    assert not list(index_dir.parent.glob(".index.*-*"))
    index = Index(index_dir, Corpus(corpus_dir))
    assert index.integrity_problems() == [] and index.staleness()[0] == "fresh"
    index.close()
    assert search_keys(corpus_dir, index_dir, "drones") == expected


# --------------------------------------------------------------------------- corpus files


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_corpus_and_index_files_get_the_mode_the_umask_gives(letter_env, tmp_path, umask, mode):
    corpus_dir, index_dir = letter_env
    source = tmp_path / "kst-96001-1.txt"
    source.write_text("Een alinea over drones.\n\nNog een alinea.\n", encoding="utf-8")
    old = os.umask(umask)
    try:
        assert invoke("ingest", str(source)).exit_code == 0
        assert invoke("index").exit_code == 0
    finally:
        os.umask(old)
    for path in (corpus_dir / "documents" / "kst-96001-1.json", corpus_dir / "raw" / "kst-96001-1.txt",
                 index_dir / STATE_FILE):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_doctor_no_repair_reads_a_read_only_corpus(letter_env, monkeypatch):
    corpus_dir, index_dir = letter_env
    (corpus_dir / ".lock").unlink(missing_ok=True)
    deny_writes(monkeypatch, corpus_dir)
    deny_writes(monkeypatch, index_dir.parent)
    result = invoke("doctor", "--no-repair")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("healthy")
    assert not (corpus_dir / ".lock").exists()


def test_checksums_cover_the_files_a_rebuild_writes(letter_env):
    corpus_dir, index_dir = letter_env
    state = Index(index_dir, Corpus(corpus_dir)).read_state()
    assert set(state["files"]) == {p.name for p in checksums.covered(index_dir)}
    assert any(name.endswith(".seg") for name in state["files"])
    assert any(name.endswith(".cdoc") for name in state["files"])


def test_a_full_disk_at_the_state_write_leaves_a_usable_index(letter_env, monkeypatch):
    # The update's Whoosh commit went through, then the disk filled: the new generation is
    # complete, so it is neither damage nor removed, and the next update records it.
    from searchdoc import corpus as corpus_module

    corpus_dir, index_dir = letter_env
    add_document(corpus_dir)
    real = corpus_module._write_temp

    def full_at_state(path, data):
        if path.name == STATE_FILE:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, data)

    with monkeypatch.context() as patch:
        patch.setattr(corpus_module, "_write_temp", full_at_state)
        result = invoke("search", "zwermdrones")
    assert result.exit_code == 1
    assert f"cannot write {index_dir / STATE_FILE}: No space left on device" in one_line_error(result)
    index = Index(index_dir, Corpus(corpus_dir))
    assert index.integrity_problems() == [] and index.readable()
    index.close()
    assert search_keys(corpus_dir, index_dir, "zwermdrones") == ["kst-97001-1#1", "kst-97001-1#2"]
    index = Index(index_dir, Corpus(corpus_dir))
    assert not checksums.superseded(index_dir, index.read_state()["files"])
    index.close()
