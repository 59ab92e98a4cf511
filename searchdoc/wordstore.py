"""The word lists of the analysis (wordfreq's Dutch lexicon, English frequencies) as a SQLite file.

Loading the lists into memory takes about a second: right for an index build, which looks up
millions of words, but most of a cold ``searchdoc search``, which looks up a few thousand. So a
command that only reads the index (the CLI, once the index is up to date) looks words up in this
file instead (see :func:`searchdoc.analysis.use_word_store`). The file holds exactly what the in-memory lists
hold, one row per word, and is written once per machine by the first such process that had to
load the lists; its name carries a digest of the analysis code and the wordfreq data, so a new
version is written beside an outdated one rather than read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

#: Bump when the file's layout or the meaning of a column changes.
FORMAT = 1


def wordfreq_files() -> list[Path]:
    """The wordfreq data files the analysis reads, found without importing wordfreq (slow)."""
    import importlib.util

    spec = importlib.util.find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        return []
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    return [data / "large_nl.msgpack.gz", data / "large_en.msgpack.gz"]


def store_name(code: Iterable[Path]) -> str:
    """The file name for the current analysis code and word lists (changes when either does)."""
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    for path in code:
        digest.update(path.read_bytes())
    for path in wordfreq_files():
        st = path.stat()
        digest.update(f"{path.name} {st.st_size} {st.st_mtime_ns}\n".encode())
    return f"words-{digest.hexdigest()[:16]}.sqlite"


class WordStore:
    """Read-only lookups of (Dutch Zipf, English Zipf) per word; None for an unlisted word.

    Answers are remembered, so a word costs one SQLite query per process. A store that fails
    to answer (damaged on disk) sets ``broken``: the caller then turns to the lists in memory.
    """

    def __init__(self, path: Path):
        self.path = path
        self.lookups = 0
        self.broken = False
        self._rows: dict[str, tuple[float | None, float | None] | None] = {}
        self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        try:
            fmt = self._db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            complete = self._db.execute("SELECT value FROM meta WHERE key = 'complete'").fetchone()
        except sqlite3.Error:
            self._db.close()
            raise
        if fmt != (str(FORMAT),) or complete != ("yes",):
            self._db.close()
            raise ValueError(f"{path} is not a complete word store of format {FORMAT}")

    def row(self, word: str) -> tuple[float | None, float | None] | None:
        try:
            return self._rows[word]
        except KeyError:
            pass
        self.lookups += 1
        try:
            found = self._db.execute("SELECT nl, en FROM word WHERE w = ?", (word,)).fetchone()
        except sqlite3.Error:
            self.broken = True
            return None
        self._rows[word] = found
        return found

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._db.close()


def checksum_path(path: Path) -> Path:
    """The side-car holding the store's size and CRC-32, written before the store is moved in."""
    return path.with_name(path.name + ".crc32")


def open_store(path: Path) -> WordStore | None:
    """The store at ``path``, or None when it is missing, incomplete, unreadable or does not
    match its checksum (a damaged store would give wrong analyses: the caller writes it again)."""
    from searchdoc.checksums import crc32_file

    if not path.is_file():
        return None
    try:
        if checksum_path(path).read_text(encoding="ascii").split() != [str(n) for n in crc32_file(path)]:
            return None
        return WordStore(path)
    except (sqlite3.Error, ValueError, OSError):
        return None


def english_rows(buckets: list[list[str]], zipf_of) -> Iterator[tuple[str, float]]:
    """(word, English Zipf) for every lower-case ASCII word of wordfreq's English list.

    Every word of a bucket (one centibel) has the same frequency, so ``zipf_of`` (wordfreq's own
    ``zipf_frequency``) is asked once per bucket, for a word whose frequency is that bucket's: a
    word listed twice counts with its last bucket, as in wordfreq's frequency dictionary.
    """
    last: dict[str, int] = {}
    for i, bucket in enumerate(buckets):
        for word in bucket:
            if word.isascii() and word.isalpha():
                last[word] = i
    by_bucket: dict[int, list[str]] = {}
    for word, i in last.items():
        by_bucket.setdefault(i, []).append(word)
    for words in by_bucket.values():
        zipf = zipf_of(words[0])
        for word in words:
            yield word, zipf


def write_store(path: Path, lexicon: dict[str, float], english: Iterable[tuple[str, float]]) -> None:
    """Write the store next to ``path`` and move it into place, so readers never see half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    english = dict(english)
    rows = [(word, lexicon.get(word), english.get(word)) for word in sorted(lexicon.keys() | english.keys())]
    try:
        db = sqlite3.connect(tmp)
        try:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            # Large pages and cache: the rows go in sorted, about twice as fast as with the defaults.
            db.execute("PRAGMA page_size=16384")
            db.execute("PRAGMA cache_size=-65536")
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("CREATE TABLE word (w TEXT PRIMARY KEY, nl REAL, en REAL) WITHOUT ROWID")
            db.executemany("INSERT INTO word VALUES (?, ?, ?)", rows)
            db.executemany("INSERT INTO meta VALUES (?, ?)", (("format", str(FORMAT)), ("complete", "yes")))
            db.commit()
        finally:
            db.close()
        from searchdoc.checksums import crc32_file
        from searchdoc.corpus import atomic_write

        size, crc = crc32_file(tmp)
        atomic_write(checksum_path(path), f"{size} {crc}\n".encode("ascii"))
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _remove_outdated(path)


#: Stores of other versions untouched this long are removed when a new one is written (another
#: installed version may still use a younger one).
OUTDATED_DAYS = 30


def _remove_outdated(current: Path) -> None:
    import time

    cutoff = time.time() - OUTDATED_DAYS * 86400
    for pattern in ("words-*.sqlite", "words-*.sqlite.crc32", "phrases-*.json"):
        for other in current.parent.glob(pattern):
            with contextlib.suppress(OSError):
                if other.name not in (current.name, checksum_path(current).name) and other.stat().st_mtime < cutoff:
                    other.unlink()
