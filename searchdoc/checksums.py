"""Checksums of the files an index folder keeps, so damage means a rebuild, never a wrong answer.

Whoosh's segment files and the columnar postings carry no checksum of their own: random
document numbers in a ``.cdoc`` or zeroed ``.cpos`` change hit counts while every size still
fits, and flipped bytes in a ``.seg`` fail only in the middle of a query ("Error -3 while
decompressing"). Every write of an index (a rebuild, an update, new columns) ends by recording
the size and CRC-32 of each of its files in the state file, written last; opening the index
checks them all once (CRC-32 reads about 4 GB/s, so a large index costs milliseconds), and so
does ``searchdoc doctor``. Queries never pay for it.

The JSON files an index folder keeps beside them (the state, the acronym cache) carry a
checksum of their own content (:func:`seal` / :func:`unseal`), since searches may rewrite the
acronym cache without the index lock.
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

from searchdoc.validate import DamagedFile

#: Files of an index folder that are not covered: their own checksums, notes, locks.
_UNCOVERED = ("searchdoc-state.json", "searchdoc-acronyms.json", "README.md")
_CHUNK = 1 << 20


def crc32_file(path: Path) -> tuple[int, int]:
    """(size, CRC-32) of a file, read in pieces."""
    crc = size = 0
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                return size, crc
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)


def covered(directory: Path) -> list[Path]:
    """The files of an index folder whose checksums the state records: Whoosh's table of
    contents and segments, and the columns; not temporary files, locks or notes."""
    found = []
    for entry in Path(directory).iterdir():
        name = entry.name
        if name.startswith(".") or name in _UNCOVERED or name.endswith(("LOCK", ".lock", ".tmp")):
            continue
        if entry.is_file():
            found.append(entry)
    return sorted(found)


def record(directory: Path) -> dict[str, list[int]]:
    """Each covered file's [size, CRC-32], by name."""
    return {path.name: list(crc32_file(path)) for path in covered(directory)}


def _newest_toc(directory: Path) -> str | None:
    """The name of the table of contents Whoosh opens: the highest generation."""
    tocs = [(int(m.group(1)), p.name) for p in Path(directory).glob("_*_*.toc")
            if (m := re.search(r"_(\d+)\.toc$", p.name))]
    return max(tocs)[1] if tocs else None


def superseded(directory: Path, files: dict[str, list[int]]) -> bool:
    """True when Whoosh's newest table of contents is not the recorded one: an update was
    interrupted after its commit (its files are complete, and recorded by the next update)."""
    newest = _newest_toc(directory)
    return newest is not None and newest not in files


def verify(directory: Path, files: dict[str, list[int]]) -> list[str]:
    """What does not match the recorded checksums (empty when the folder is intact): a file
    missing, of another size or content. Files of a superseded generation may be gone (the
    interrupted update's commit removed them); the new generation's files are not yet
    recorded, and are written into the record by the next update."""
    problems = []
    replaced = superseded(directory, files)
    for name, (size, crc) in sorted(files.items()):
        path = Path(directory) / name
        try:
            actual = crc32_file(path)
        except FileNotFoundError:
            if not replaced:
                problems.append(f"{name} is missing")
            continue
        except OSError as exc:
            problems.append(f"{name} cannot be read ({exc.strerror or exc.__class__.__name__})")
            continue
        if actual[0] != size:
            problems.append(f"{name} has {actual[0]} bytes, {size} were written")
        elif actual[1] != crc:
            problems.append(f"{name} does not match its checksum")
    return problems


def _digest(data: dict) -> int:
    return zlib.crc32(json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def seal(data: dict) -> dict:
    """``data`` with a ``crc32`` of the rest of its content, for a JSON file that guards itself."""
    body = {k: v for k, v in data.items() if k != "crc32"}
    return {**body, "crc32": _digest(body)}


def unseal(data: dict) -> dict:
    """The content of a sealed mapping; raises DamagedFile when it does not match its crc32."""
    body = {k: v for k, v in data.items() if k != "crc32"}
    if data.get("crc32") != _digest(body):
        raise DamagedFile("its content does not match its checksum")
    return body
