"""Columnar postings next to each Whoosh segment, for the vectorised query executor.

Whoosh reads postings one at a time in Python, microseconds each; a query matching tens of
thousands of paragraphs then takes seconds. Next to every segment this module keeps the same
postings as flat arrays that numpy memory-maps: per term the document numbers, the weights as
Whoosh stores them (float32), the positions, and per field the length bytes Whoosh scores with.

Files of segment ``paragraphs_<id>`` (the name Whoosh's own clean-up keeps with the segment and
deletes with it), all flat little-endian arrays except the JSON header ``.cols``, written last
so that its presence means the set is complete:

``.ckey``  S16   each term's first 16 bytes, sorted per field: binary search without a dict
``.cterm`` u1    the terms' bytes back to back; ``.ctoff`` i8 their offsets (terms + 1)
``.cpoff`` i8    each term's first posting (terms + 1); ``.cqoff`` i8 its first position
``.cdoc``  u4    document numbers; ``.cwt`` f4 weights; ``.ccnt`` positions per posting
``.cpos``        positions; ``.clen`` u1 one length byte per document, per scored field

``.ccnt`` and ``.cpos`` are u2 when every value fits (paragraphs are rarely 65,536 words
long), else u4: the header's ``wide`` says which. They are most of the bytes.
"""

from __future__ import annotations

import json
import os
from array import array
from dataclasses import dataclass
from pathlib import Path

#: Bump when the files change meaning; a segment with another version counts as damaged.
COLUMNS_VERSION = 2
#: The fields the executor can read: the text fields and the ids and keywords filters use.
COLUMN_FIELDS = frozenset(
    {"cites", "date", "doc_id", "dossier", "kind", "notes", "parts", "section", "speaker", "text", "themes", "title"})
KEY_WIDTH = 16
_ARRAYS = {
    "ckey": f"S{KEY_WIDTH}", "cterm": "u1", "ctoff": "<i8", "cpoff": "<i8", "cqoff": "<i8",
    "cdoc": "<u4", "cwt": "<f4", "ccnt": "<u4", "cpos": "<u4", "clen": "u1",
}

#: The suffixes of a segment's column files, the header included.
COLUMN_KINDS = frozenset({*_ARRAYS, "cols"})


class ColumnsError(Exception):
    """The columns of a segment are missing, incomplete or inconsistent."""


def _path(directory: Path, segment_id: str, kind: str) -> Path:
    return Path(directory) / f"{segment_id}.{kind}"


class ColumnWriter:
    """Streams one segment's postings to the column files, term by term in Whoosh's order
    (field name, then term bytes), so memory stays bounded by the largest posting list."""

    def __init__(self, directory: Path, segment_id: str):
        self.directory = Path(directory)
        self.segment_id = segment_id
        self._files = {kind: open(self._tmp(kind), "wb") for kind in _ARRAYS if kind != "clen"}
        self._fields: dict[str, list[int]] = {}
        self._terms = self._postings = self._positions = self._term_bytes = 0
        self._new_buffers()
        for kind in ("ctoff", "cpoff", "cqoff"):
            self._buffers[kind].append(0)

    def _new_buffers(self) -> None:
        # Terms are mostly rare: buffered, a term costs a few appends instead of ten writes.
        self._buffers = {
            "ckey": bytearray(), "cterm": bytearray(), "ctoff": array("q"), "cpoff": array("q"),
            "cqoff": array("q"), "cdoc": array("I"), "cwt": array("d"), "ccnt": array("I"), "cpos": array("I"),
        }

    def _flush(self) -> None:
        import numpy as np

        for kind, buffer in self._buffers.items():
            if kind == "cwt":
                # float64 to float32 rounds as array("f") does when Whoosh writes its weights.
                buffer = np.frombuffer(buffer, np.float64).astype("<f4")
            self._files[kind].write(buffer.tobytes() if kind == "cwt" else buffer)
        self._new_buffers()

    def _tmp(self, kind: str) -> Path:
        # A dot name: Whoosh neither packs it into the compound file nor deletes it meanwhile.
        return self.directory / f".{self.segment_id}.{kind}.tmp"

    def add(self, fieldname: str, term: bytes, docs, weights, counts, positions) -> None:
        """One term's postings as numpy arrays: docnums, weights (stored as float32, as Whoosh
        stores them), and for positional fields the number of positions per posting and the
        positions (None or empty otherwise)."""
        import numpy as np

        if fieldname not in COLUMN_FIELDS:
            return
        docs = np.asarray(docs, dtype=np.uint32)
        weights = np.asarray(weights, dtype=np.float64)
        counts = np.asarray(counts if counts is not None else (), dtype=np.uint32)
        positions = np.asarray(positions if positions is not None else (), dtype=np.uint32)
        span = self._fields.setdefault(fieldname, [self._terms, self._terms])
        span[1] += 1
        buffers = self._buffers
        buffers["ckey"] += term[:KEY_WIDTH].ljust(KEY_WIDTH, b"\0")
        buffers["cterm"] += term
        self._term_bytes += len(term)
        buffers["ctoff"].append(self._term_bytes)
        buffers["cdoc"].frombytes(docs.tobytes())
        buffers["cwt"].frombytes(weights.tobytes())
        if len(counts) == len(docs):
            buffers["ccnt"].frombytes(counts.tobytes())
        else:
            buffers["ccnt"].frombytes(bytes(4 * len(docs)))
        buffers["cpos"].frombytes(positions.tobytes())
        self._postings += len(docs)
        self._positions += len(positions)
        buffers["cpoff"].append(self._postings)
        buffers["cqoff"].append(self._positions)
        self._terms += 1
        if len(buffers["cdoc"]) + len(buffers["cpos"]) > 1 << 20:
            self._flush()

    def finish(self, doc_count: int, lengths: dict[str, bytes | bytearray]) -> None:
        """Write the length bytes and the header, and give the files their final names."""
        self._flush()
        names = sorted(n for n in lengths if n in COLUMN_FIELDS)
        with open(self._tmp("clen"), "wb") as handle:
            for name in names:
                column = bytes(lengths[name][:doc_count])
                handle.write(column + bytes(doc_count - len(column)))
        for handle in self._files.values():
            handle.close()
        wide = any(int(chunk.max()) > 0xFFFF for kind in ("ccnt", "cpos") for chunk in self._chunks(kind))
        if not wide:
            for kind in ("ccnt", "cpos"):
                narrow = self.directory / f".{self.segment_id}.{kind}.narrow.tmp"
                with open(narrow, "wb") as handle:
                    for chunk in self._chunks(kind):
                        handle.write(chunk.astype("<u2").tobytes())
                os.replace(narrow, self._tmp(kind))
        header = {
            "wide": wide,
            "version": COLUMNS_VERSION, "doc_count": doc_count, "terms": self._terms,
            "postings": self._postings, "positions": self._positions, "term_bytes": self._term_bytes,
            "fields": self._fields, "lengths": names,
        }
        for kind in _ARRAYS:
            os.replace(self._tmp(kind), _path(self.directory, self.segment_id, kind))
        tmp = self._tmp("cols")
        tmp.write_text(json.dumps(header), encoding="utf-8")
        os.replace(tmp, _path(self.directory, self.segment_id, "cols"))

    def _chunks(self, kind: str, size: int = 1 << 22):
        """A u4 column file in pieces, so a large segment's positions never sit in memory whole."""
        import numpy as np

        with open(self._tmp(kind), "rb") as handle:
            while True:
                chunk = np.fromfile(handle, "<u4", count=size)
                if not chunk.size:
                    return
                yield chunk

    def cancel(self) -> None:
        for handle in self._files.values():
            handle.close()
        for kind in (*_ARRAYS, "cols", "ccnt.narrow", "cpos.narrow"):
            self._tmp(kind).unlink(missing_ok=True)


def write_from_reader(directory: Path, reader) -> None:
    """Columns for a segment Whoosh wrote itself (a merge, an incremental update), read back
    through its postings. Slow per posting, but such segments are the small ones."""
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

    segment = reader.segment()
    writer = ColumnWriter(Path(directory), segment.segment_id())
    try:
        schema = reader.schema
        lengths: dict[str, bytes] = {}
        doc_count = reader.doc_count_all()
        for name in sorted(COLUMN_FIELDS & set(schema.names())):
            fieldobj = schema[name]
            positional = fieldobj.format.supports("positions")
            for term in reader.lexicon(name):
                matcher = reader._terms.matcher(name, term, fieldobj.format)
                docs, weights, counts, positions = array("I"), array("d"), array("I"), array("I")
                while matcher.is_active():
                    docs.append(matcher.id())
                    weights.append(matcher.weight())
                    if positional:
                        found = matcher.value_as("positions")
                        counts.append(len(found))
                        positions.extend(found)
                    matcher.next()
                writer.add(name, term, docs, weights, counts, positions)
            if fieldobj.scorable and reader._perdoc.has_column(_lenfield(name)):
                column = reader._perdoc.column_reader(_lenfield(name), LENGTHS_COLUMN)
                lengths[name] = bytes(column[d] for d in range(doc_count))
        writer.finish(doc_count, lengths)
    except BaseException:
        writer.cancel()
        raise


def has_columns(directory: Path, segment_id: str) -> bool:
    return _path(directory, segment_id, "cols").exists()


def check(directory: Path, segment_id: str, doc_count: int) -> tuple[dict, dict[str, int]]:
    """The header of a segment's columns and each file's item count, after checking that every
    file is there with the size the header gives (cheap: no numpy, no file read but the header);
    raises ColumnsError."""
    try:
        header = json.loads(_path(directory, segment_id, "cols").read_text(encoding="utf-8"))
        if header.get("version") != COLUMNS_VERSION or header["doc_count"] != doc_count:
            raise ColumnsError(f"columns of {segment_id} are of another version or segment")
        terms = header["terms"]
        counts = {
            "ckey": terms, "cterm": header["term_bytes"], "ctoff": terms + 1, "cpoff": terms + 1,
            "cqoff": terms + 1, "cdoc": header["postings"], "cwt": header["postings"],
            "ccnt": header["postings"], "cpos": header["positions"], "clen": doc_count * len(header["lengths"]),
        }
        narrow = 4 if header["wide"] else 2
        sizes = {"ckey": KEY_WIDTH, "cterm": 1, "clen": 1, "cdoc": 4, "cwt": 4, "ccnt": narrow, "cpos": narrow}
        for kind, count in counts.items():
            path = _path(directory, segment_id, kind)
            if path.stat().st_size != count * sizes.get(kind, 8):
                raise ColumnsError(f"{path.name} has the wrong size")
        for lo, hi in header["fields"].values():
            if not 0 <= lo <= hi <= terms:
                raise ColumnsError(f"columns of {segment_id}: bad term range")
    except ColumnsError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ColumnsError(f"columns of {segment_id} cannot be read: {exc.__class__.__name__}") from None
    return header, counts


def check_index(directory: Path, reader, missing_ok: bool = False) -> None:
    """Check the columns of every segment of an open Whoosh reader; raises ColumnsError.
    ``missing_ok`` passes segments without columns (only damaged ones raise)."""
    for leaf, _ in reader.leaf_readers():
        segment_id = leaf.segment().segment_id()
        if missing_ok and not has_columns(directory, segment_id):
            continue
        check(directory, segment_id, leaf.doc_count_all())


@dataclass
class SegmentColumns:
    """The memory-mapped columns of one segment."""

    doc_count: int
    fields: dict[str, tuple[int, int]]
    keys: object
    term_bytes: object
    term_offsets: object
    posting_offsets: object
    position_offsets: object
    docs: object
    weights: object
    counts: object
    positions: object
    lengths: dict[str, object]

    @classmethod
    def open(cls, directory: Path, segment_id: str, doc_count: int) -> SegmentColumns:
        """Map the files; raises ColumnsError when they are missing or do not fit together."""
        import numpy as np

        header, counts = check(directory, segment_id, doc_count)
        arrays = {}
        try:
            for kind, dtype in _ARRAYS.items():
                path = _path(directory, segment_id, kind)
                dt = np.dtype("<u2" if kind in ("ccnt", "cpos") and not header["wide"] else dtype)
                # A plain ndarray view of the map: slicing a np.memmap costs a subclass per slice.
                arrays[kind] = np.memmap(path, dtype=dt, mode="r").view(np.ndarray) if counts[kind] else np.empty(0, dt)
        except (OSError, ValueError) as exc:
            raise ColumnsError(f"columns of {segment_id} cannot be read: {exc.__class__.__name__}") from None
        totals = {"ctoff": header["term_bytes"], "cpoff": header["postings"], "cqoff": header["positions"]}
        for kind, total in totals.items():
            if arrays[kind][0] != 0 or arrays[kind][-1] != total:
                raise ColumnsError(f"columns of {segment_id}: inconsistent offsets")
        fields = {name: (int(lo), int(hi)) for name, (lo, hi) in header["fields"].items()}
        lengths = {name: arrays["clen"][k * doc_count:(k + 1) * doc_count] for k, name in enumerate(header["lengths"])}
        return cls(doc_count, fields, arrays["ckey"], arrays["cterm"], arrays["ctoff"], arrays["cpoff"],
                   arrays["cqoff"], arrays["cdoc"], arrays["cwt"], arrays["ccnt"], arrays["cpos"], lengths)

    def _term(self, i: int) -> bytes:
        return bytes(self.term_bytes[self.term_offsets[i]:self.term_offsets[i + 1]])

    def term_index(self, fieldname: str, term: bytes) -> int:
        """The number of ``term`` in ``fieldname``, or -1."""
        span = self.fields.get(fieldname)
        if span is None:
            return -1
        lo, hi = span
        keys = self.keys[lo:hi]
        key = term[:KEY_WIDTH]
        first = int(keys.searchsorted(key, "left"))
        last = int(keys.searchsorted(key, "right"))
        for i in range(lo + first, lo + last):
            if self._term(i) == term:
                return i
        return -1

    def prefix_range(self, fieldname: str, prefix: bytes) -> list[int]:
        """The numbers of the terms of ``fieldname`` that start with ``prefix``, in term order."""
        span = self.fields.get(fieldname)
        if span is None:
            return []
        lo, hi = span
        keys = self.keys[lo:hi]
        key = prefix[:KEY_WIDTH]
        first = int(keys.searchsorted(key, "left"))
        # UTF-8 never holds byte 0xff: every key with this prefix sorts below the padded one.
        last = int(keys.searchsorted(key.ljust(KEY_WIDTH, b"\xff"), "right"))
        if len(prefix) <= KEY_WIDTH:
            return list(range(lo + first, lo + last))
        return [i for i in range(lo + first, lo + last) if self._term(i).startswith(prefix)]

    def term(self, i: int) -> bytes:
        return self._term(i)

    def terms(self, first: int, last: int) -> list[bytes]:
        """Terms ``first`` to ``last`` (exclusive) at once: one read of their bytes."""
        if first >= last:
            return []
        offsets = self.term_offsets[first:last + 1].tolist()
        blob = bytes(self.term_bytes[offsets[0]:offsets[-1]])
        base = offsets[0]
        return [blob[a - base:b - base] for a, b in zip(offsets, offsets[1:], strict=False)]
