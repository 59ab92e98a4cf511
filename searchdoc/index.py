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
import shutil
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import fields as wfields
from whoosh import index as windex
from whoosh import query as wq
from whoosh.analysis import IDAnalyzer, Tokenizer
from whoosh.analysis import Token as WhooshToken

from searchdoc import analysis, settings
from searchdoc.corpus import Corpus, atomic_write, hold_lock
from searchdoc.errors import IndexDamagedError, QueryError, SearchdocError
from searchdoc.model import Document
from searchdoc.query import build_query, index_synonyms, matched_terms, matching_part, parse, suggest

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
#: Memory (MB) a segment builder lets its buffer grow to, counted as the arrays it takes to sort
#: it, before it spills a sorted run to disk.
BUILD_BUFFER_MB = 64
#: Bytes one buffered token takes while its field is sorted (word, term, document, position
#: arrays and the sort order, some of them 64-bit).
_BYTES_PER_TOKEN = 48
#: Field values (titles, sections, ids) whose word ids or terms a builder remembers.
_MEMO_VALUES = 2_000
#: Distinct words analysed before the analysis caches start afresh; also the most words a
#: builder's buffer holds before it spills.
WORD_CACHE_LIMIT = 60_000
#: An update of at most this many documents analyses through the word store (see _incremental).
WORD_STORE_MAX_DOCUMENTS = 20
#: Postings per pickled chunk of a spilled run: a merge holds one chunk of every run in memory.
_RUN_CHUNK = 1 << 16


def _word_entry(chain: str, word: str) -> tuple[tuple[tuple[bytes, int], ...], int]:
    """(term bytes, position offset) of each token of one word, and the positions it takes.

    Both chains analyse word by word, so a text's tokens are its words' tokens shifted by the
    positions the words before it take; the equivalence test holds the two to that.
    """
    tokens = analysis.part_tokens(word) if chain == "parts" else analysis.analyze(word)
    return tuple((t.term.encode("utf-8"), t.pos) for t in tokens), max((t.pos for t in tokens), default=-1) + 1


def term_positions(chain: str, text: str) -> dict[bytes, list[int]]:
    """Each term of ``text`` (UTF-8) with its positions in token order: what Whoosh's Positions
    format collects from :class:`ChainTokenizer`, composed word by word as the builder does.
    """
    positions: dict[bytes, list[int]] = {}
    pos = 0
    for word in analysis.words(text):
        terms, width = _word_entry(chain, word)
        for term, offset in terms:
            positions.setdefault(term, []).append(pos + offset)
        pos += width
    return positions


# How often a builder started the analysis caches afresh; a build then also empties its theme
# tagger's word cache.
_FORGOTTEN = [0]


def _forget_words() -> None:
    """Start the analysis caches afresh so a huge vocabulary cannot exhaust memory."""
    analysis.clear_caches()
    _FORGOTTEN[0] += 1


class _ChainWords:
    """One chain's tokens for each word of a builder's vocabulary, as flat arrays: word ``w``
    has ``ntok[w]`` tokens from ``start[w]`` in ``term``/``offset`` and takes ``width[w]``
    positions. Terms are numbered in order of appearance (``terms``, ``term_ids``)."""

    __slots__ = ("term_ids", "terms", "ntok", "width", "start", "term", "offset")

    def __init__(self):
        self.term_ids: dict[bytes, int] = {}
        self.terms: list[bytes] = []
        self.ntok = array("I")
        self.width = array("I")
        self.start = array("I")
        self.term = array("I")
        self.offset = array("I")

    def add(self, entry: tuple[tuple[tuple[bytes, int], ...], int]) -> None:
        tokens, width = entry
        term_ids = self.term_ids
        self.start.append(len(self.term))
        self.ntok.append(len(tokens))
        self.width.append(width)
        for term, offset in tokens:
            tid = term_ids.get(term)
            if tid is None:
                tid = term_ids[term] = len(self.terms)
                self.terms.append(term)
            self.term.append(tid)
            self.offset.append(offset)


class _FieldRun:
    """One field's postings of one buffer, sorted by term then document: ``terms`` in byte
    order, ``ng[i]`` postings (documents) and ``npos[i]`` positions of the i-th term; per
    posting its document and, for positional fields, its position count, else its weight and
    value id; positional fields' raw positions back to back."""

    __slots__ = ("terms", "ng", "npos", "docs", "counts", "positions", "weights", "vids")

    def __init__(self, terms, ng, npos, docs, counts, positions, weights, vids):
        self.terms, self.ng, self.npos = terms, ng, npos
        self.docs, self.counts, self.positions, self.weights, self.vids = docs, counts, positions, weights, vids

    def chunks(self, size: int) -> Iterator[_FieldRun]:
        """Consecutive pieces of about ``size`` postings (whole terms), for spilling."""
        import numpy as np

        ends = np.cumsum(self.ng)
        gstart = pstart = first = 0
        total = len(self.terms)
        while first < total:
            last = max(first + 1, int(np.searchsorted(ends, gstart + size, side="right")))
            last = min(last, total)
            gend = int(ends[last - 1])
            pend = pstart + (int(self.npos[first:last].sum()) if self.npos is not None else 0)
            yield _FieldRun(
                self.terms[first:last], self.ng[first:last],
                None if self.npos is None else self.npos[first:last],
                self.docs[gstart:gend],
                None if self.counts is None else self.counts[gstart:gend],
                None if self.positions is None else self.positions[pstart:pend],
                None if self.weights is None else self.weights[gstart:gend],
                None if self.vids is None else self.vids[gstart:gend],
            )
            first, gstart, pstart = last, gend, pend

    def items(self) -> Iterator[tuple[bytes, _FieldRun, int, int, int, int]]:
        """(term, self, first posting, end, first position, end) per term."""
        g = p = 0
        ng = self.ng.tolist()
        npos = self.npos.tolist() if self.npos is not None else None
        for i, term in enumerate(self.terms):
            g2 = g + ng[i]
            if npos is not None:
                p2 = p + npos[i]
                yield term, self, g, g2, p, p2
                p = p2
            else:
                yield term, self, g, g2, 0, 0
            g = g2


class _Postings:
    """One term's postings in a segment, in docnum order: documents, weights, encoded values
    (Whoosh's bytes) and, for positional fields, each posting's raw positions (``counts[i]``
    of them, back to back in ``positions``)."""

    __slots__ = ("docs", "weights", "values", "positions", "counts")

    def __init__(self, docs: list[int], weights: list[float], values: list[bytes], positions=None, counts=None):
        self.docs = docs
        self.weights = weights
        self.values = values
        self.positions = positions
        self.counts = counts


def _pack_positions(counts: list[int], positions: list[int]) -> list[bytes]:
    """Whoosh's Positions encoding of each posting (its position count, then the pickled list of
    position deltas); one-position values come from a table."""
    import pickle

    from whoosh.system import pack_uint

    single = _SINGLE
    if len(counts) == len(positions):
        top = max(positions)
        if top >= len(single):
            single.extend(pack_uint(1) + pickle.dumps([p], 2) for p in range(len(single), top + 1))
        return list(map(single.__getitem__, positions))
    out = []
    p = 0
    for n in counts:
        if n == 1:
            first = positions[p]
            if first >= len(single):
                single.extend(pack_uint(1) + pickle.dumps([x], 2) for x in range(len(single), first + 1))
            value = single[first]
        else:
            run = positions[p:p + n]
            value = pack_uint(n) + pickle.dumps([run[0], *[b - a for a, b in zip(run, run[1:], strict=False)]], 2)
        out.append(value)
        p += n
    return out


_SINGLE: list[bytes] = []


def _compress_small(value: bytes, level: int) -> bytes:
    """zlib with a small window and hash table: the same size on values of a few kilobytes, and
    much less zlib state to set up per value (a zlib stream per document or block)."""
    import zlib

    packer = zlib.compressobj(level, zlib.DEFLATED, 13, 5)
    return packer.compress(value) + packer.flush()


def _cheap_stored_compression(perdoc) -> None:
    """Give the stored-fields column of ``perdoc`` (Whoosh's own: one pickled, zlib-compressed
    dict per document, read back with zlib.decompress) :func:`_compress_small`."""
    from whoosh.codec.whoosh3 import STORED_COLUMN

    if not perdoc._has_column("_stored"):
        perdoc._create_column("_stored", STORED_COLUMN)
    writer = getattr(perdoc._colwriters["_stored"], "_child", None)
    if writer is not None and hasattr(writer, "_compress"):
        writer._compress = _compress_small


class SegmentBuilder:
    """Writes one Whoosh segment, the same files ``SegmentWriter`` writes, several times faster.

    Whoosh's writer pays per posting: a Token per word, a tuple through a sorting pool, a
    column lookup of the field length and a method call with type checks while writing. Here
    a text field's value is kept as the numbers of its words (each distinct word analysed
    once per buffer, :class:`_ChainWords`); numpy expands them into (term, document, position)
    arrays and sorts them when the buffer is full (a sorted run spilled to disk) or at the end,
    and each posting list is written block by block through Whoosh's own postings writer, so
    the bytes on disk, the block statistics and the term infos are Whoosh's.
    """

    def __init__(self, ix, run_dir: Path, buffer_mb: float = BUILD_BUFFER_MB, columns: bool = True):
        from whoosh.codec.whoosh3 import W3Codec
        from whoosh.util.numeric import byte_to_length, length_to_byte

        self.schema = ix.schema
        for name, fieldobj in self.schema.items():
            if fieldobj.vector or fieldobj.separate_spelling():
                raise ValueError(f"field {name!r}: term vectors and spelling fields are not supported here")
        self.storage = ix.storage
        # zlib level 1 instead of Whoosh's 3: as small on this data, faster to write.
        self.codec = W3Codec(compression=1)
        self.segment = self.codec.new_segment(self.storage, ix.indexname)
        self.perdoc = self.codec.per_document_writer(self.storage, self.segment)
        _cheap_stored_compression(self.perdoc)
        self.docnum = 0
        self._limit = max(1, int(buffer_mb * 1024 * 1024 / _BYTES_PER_TOKEN))
        self._lengths: dict[str, bytearray] = {}
        self._runs: list[Path] = []
        self._run_fields: set[str] = set()
        self._run_dir = Path(run_dir)
        self._columns = columns
        self._column_writer = None
        self._length_byte = length_to_byte
        self._byte_length = [0] + [byte_to_length(b) for b in range(1, 256)]
        self._fast: dict[str, str] = {}
        for name, fieldobj in self.schema.items():
            analyzer = fieldobj.analyzer
            if isinstance(analyzer, ChainTokenizer) and type(fieldobj.format).__name__ == "Positions":
                self._fast[name] = analyzer.chain
        self._values: dict[bytes, int] = {}
        self._value_list: list[bytes] = []
        # Words analysed since the analysis caches last started afresh.
        self._analysed = 0
        self._start_buffer()

    def _start_buffer(self) -> None:
        self._word_ids: dict[str, int] = {}
        self._chains = {chain: _ChainWords() for chain in set(self._fast.values())}
        self._stream = array("I")
        # Per text field: each document's span of word ids in the stream.
        self._spans: dict[str, tuple[array, array, array]] = {}
        self._tokens: dict[str, int] = {}
        self._span_memo: dict[str, tuple[int, int, dict[str, int]]] = {}
        # Per other field: term ids and each posting's document, weight and value id.
        self._term_ids: dict[str, dict[bytes, int]] = {}
        self._postings: dict[str, tuple[array, array, array, array]] = {}
        self._item_memo: dict[tuple[str, str], tuple[list[tuple[int, float, int]], int]] = {}

    def _new_words(self, words: list[str]) -> list[int]:
        ids = self._word_ids
        chains = self._chains
        out = []
        for word in words:
            wid = ids.get(word)
            if wid is None:
                wid = ids[word] = len(ids)
                for chain, table in chains.items():
                    table.add(_word_entry(chain, word))
                self._analysed += 1
                if self._analysed >= WORD_CACHE_LIMIT:
                    _forget_words()
                    self._analysed = 0
            out.append(wid)
        return out

    def _text_span(self, value: str) -> tuple[int, int, dict[str, int]]:
        """Where ``value``'s word ids lie in the stream and its length per chain."""
        span = self._span_memo.get(value)
        if span is not None:
            return span
        words = analysis.words(value)
        ids = self._word_ids
        wids = [ids.get(w) for w in words]
        if None in wids:
            wids = self._new_words(words)
        start = len(self._stream)
        self._stream.extend(wids)
        lengths = {}
        for chain, table in self._chains.items():
            ntok = table.ntok
            lengths[chain] = sum([ntok[w] for w in wids])
        span = (start, len(self._stream), lengths)
        if len(self._span_memo) >= _MEMO_VALUES:
            self._span_memo.clear()
        self._span_memo[value] = span
        return span

    def _field_items(self, name: str, fieldobj, value) -> tuple[list[tuple[int, float, int]], int]:
        """(term id, weight, value id) of each term of a field value and its field length."""
        term_ids = self._term_ids.setdefault(name, {})
        values = self._values
        items = []
        length = 0
        for tbytes, freq, weight, vbytes in fieldobj.index(value):
            length += freq
            tid = term_ids.get(tbytes)
            if tid is None:
                tid = term_ids[tbytes] = len(term_ids)
            vid = values.get(vbytes or b"")
            if vid is None:
                vid = values[vbytes or b""] = len(self._value_list)
                self._value_list.append(vbytes or b"")
            items.append((tid, weight, vid))
        return items, (length if fieldobj.scorable else 0)

    def add(self, fields: dict) -> None:
        """Add one document, as ``SegmentWriter.add_document(**fields)`` would."""
        docnum = self.docnum
        perdoc = self.perdoc
        schema = self.schema
        fast = self._fast
        perdoc.start_doc(docnum)
        try:
            for name in sorted(fields):
                if name.startswith("_"):
                    continue
                value = fields[name]
                if value is None:
                    continue
                fieldobj = schema[name]
                length = 0
                if fieldobj.indexed:
                    chain = fast.get(name)
                    if chain is not None:
                        start, end, lengths = self._text_span(value)
                        length = lengths[chain]
                        spans = self._spans.get(name)
                        if spans is None:
                            spans = self._spans[name] = (array("I"), array("I"), array("I"))
                        spans[0].append(docnum)
                        spans[1].append(start)
                        spans[2].append(end)
                        self._tokens[name] = self._tokens.get(name, 0) + length
                    else:
                        key = (name, value)
                        cached = self._item_memo.get(key) if not fieldobj.unique else None
                        if cached is None:
                            cached = self._field_items(name, fieldobj, value)
                            if not fieldobj.unique:
                                if len(self._item_memo) >= _MEMO_VALUES:
                                    self._item_memo.clear()
                                self._item_memo[key] = cached
                        items, length = cached
                        columns = self._postings.get(name)
                        if columns is None:
                            columns = self._postings[name] = (array("I"), array("I"), array("d"), array("I"))
                        tids, docs, weights, vids = columns
                        for tid, weight, vid in items:
                            tids.append(tid)
                            docs.append(docnum)
                            weights.append(weight)
                            vids.append(vid)
                        self._tokens[name] = self._tokens.get(name, 0) + len(items)
                    if length:
                        lengths = self._lengths.get(name)
                        if lengths is None:
                            lengths = self._lengths[name] = bytearray()
                        if len(lengths) < docnum:
                            lengths.extend(bytes(docnum - len(lengths)))
                        lengths.append(self._length_byte(length))
                perdoc.add_field(name, fieldobj, value if fieldobj.stored else None, length)
                column = fieldobj.column_type
                if column:
                    perdoc.add_column_value(name, column, fieldobj.to_column_value(value))
        except BaseException:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self.docnum += 1
        if max(self._tokens.values(), default=0) > self._limit or len(self._word_ids) > WORD_CACHE_LIMIT:
            self._spill()
            self._start_buffer()

    # ---- sorting a buffer

    def _sorted_text_field(self, name: str) -> _FieldRun:
        """Expand a text field's word ids into its tokens and sort them by term, then document."""
        import numpy as np

        table = self._chains[self._fast[name]]
        span_docs, span_starts, span_ends = (np.frombuffer(a, dtype=np.uint32) for a in self._spans[name])
        nwords = (span_ends - span_starts).astype(np.int64)
        firsts = np.cumsum(nwords) - nwords
        total = int(nwords.sum())
        stream = np.frombuffer(self._stream, dtype=np.uint32)
        wids = stream[np.repeat(span_starts.astype(np.int64) - firsts, nwords) + np.arange(total)]
        wdocs = np.repeat(span_docs, nwords)
        widths = np.frombuffer(table.width, dtype=np.uint32)[wids].astype(np.int64)
        ends = np.concatenate(([0], np.cumsum(widths)))
        # Each word's first position in its document: positions restart at every value.
        wpos = ends[:-1] - np.repeat(ends[firsts], nwords)
        ntok = np.frombuffer(table.ntok, dtype=np.uint32)[wids].astype(np.int64)
        tfirsts = np.cumsum(ntok) - ntok
        word_of = np.repeat(np.arange(total), ntok)
        flat = (np.frombuffer(table.start, dtype=np.uint32)[wids].astype(np.int64) - tfirsts)[word_of]
        flat += np.arange(len(word_of))
        tids = np.frombuffer(table.term, dtype=np.uint32)[flat]
        positions = (wpos[word_of] + np.frombuffer(table.offset, dtype=np.uint32)[flat]).astype(np.uint32)
        docs = wdocs[word_of]
        del wids, wdocs, widths, ends, wpos, ntok, tfirsts, word_of, flat
        present = np.unique(tids)
        ordered = sorted(present.tolist(), key=table.terms.__getitem__)
        rank = np.zeros(len(table.terms), dtype=np.uint32)
        rank[ordered] = np.arange(len(ordered), dtype=np.uint32)
        ranks = rank[tids]
        del tids
        order = np.argsort(ranks, kind="stable")
        ranks, docs, positions = ranks[order], docs[order], positions[order]
        del order
        new = np.empty(len(ranks), dtype=bool)
        new[:1] = True
        np.not_equal(ranks[1:], ranks[:-1], out=new[1:])
        new[1:] |= docs[1:] != docs[:-1]
        firsts = np.flatnonzero(new)
        counts = np.diff(np.append(firsts, len(ranks))).astype(np.uint32)
        ng = np.bincount(ranks[firsts], minlength=len(ordered))
        npos = np.bincount(ranks, minlength=len(ordered))
        return _FieldRun([table.terms[t] for t in ordered], ng, npos, docs[firsts], counts, positions, None, None)

    def _sorted_field(self, name: str) -> _FieldRun:
        """A non-text field's postings sorted by term, then document."""
        import numpy as np

        tids, docs, weights, vids = (np.frombuffer(a, dtype=a.typecode == "d" and np.float64 or np.uint32)
                                     for a in self._postings[name])
        terms = list(self._term_ids[name])
        ordered = sorted(range(len(terms)), key=terms.__getitem__)
        rank = np.zeros(len(terms), dtype=np.uint32)
        rank[ordered] = np.arange(len(ordered), dtype=np.uint32)
        ranks = rank[tids]
        order = np.argsort(ranks, kind="stable")
        ng = np.bincount(ranks, minlength=len(ordered))
        return _FieldRun([terms[t] for t in ordered], ng, None, docs[order], None, None, weights[order], vids[order])

    def _sorted_fields(self) -> Iterator[tuple[str, _FieldRun]]:
        for name in sorted(set(self._spans) | set(self._postings)):
            if name in self._spans:
                yield name, self._sorted_text_field(name)
            else:
                yield name, self._sorted_field(name)

    def _spill(self) -> None:
        """Write the buffer as a sorted run, in chunks of whole terms, field by field."""
        import pickle

        self._run_dir.mkdir(parents=True, exist_ok=True)
        path = self._run_dir / f"run-{os.getpid()}-{len(self._runs)}"
        with open(path, "wb") as handle:
            for name, run in self._sorted_fields():
                self._run_fields.add(name)
                for chunk in run.chunks(_RUN_CHUNK):
                    pickle.dump((name, chunk.terms, chunk.ng, chunk.npos, chunk.docs, chunk.counts, chunk.positions,
                                 chunk.weights, chunk.vids), handle, protocol=pickle.HIGHEST_PROTOCOL)
        self._runs.append(path)

    # ---- writing

    def _sources(self) -> list[Callable[[str], Iterator[_FieldRun]]]:
        """For each spilled run, then the buffer: a function giving a field's chunks; each run's
        fields are read in name order, once."""
        import pickle

        def run_reader(path: Path):
            handle = open(path, "rb")  # noqa: SIM115 - closed when the run is exhausted
            pending: list = []

            def chunks(name: str) -> Iterator[_FieldRun]:
                while True:
                    if not pending:
                        try:
                            pending.append(pickle.load(handle))
                        except EOFError:
                            handle.close()
                            return
                    if pending[0][0] != name:
                        return
                    yield _FieldRun(*pending.pop()[1:])

            return chunks

        buffered = dict(self._sorted_fields())
        readers = [run_reader(path) for path in self._runs]
        readers.append(lambda name: iter([buffered.pop(name)] if name in buffered else []))
        self._run_fields.update(buffered)
        return readers

    def finish(self):
        """Write the postings, assemble the compound segment file and return the segment."""
        import heapq

        import numpy as np

        self.perdoc.close()
        sources = self._sources()
        self._start_buffer()
        fieldwriter = self.codec.field_writer(self.storage, self.segment)
        if self._columns:
            from searchdoc.columns import ColumnWriter

            self._column_writer = ColumnWriter(Path(self.storage.folder), self.segment.segment_id())
        byte_length = self._byte_length
        for name in sorted(self._run_fields):
            fieldobj = self.schema[name]
            fieldwriter.start_field(name, fieldobj)
            stored_lengths = self._lengths.get(name) if fieldobj.scorable else None
            # Each document's field length as Whoosh reads it back (byte_to_length of its byte),
            # as a list for short posting lists and an array for long ones.
            lengths = None
            if stored_lengths is not None:
                lenvals = [byte_length[b] for b in stored_lengths]
                lenvals.extend([0] * (self.docnum - len(lenvals)))
                lengths = (lenvals, np.array(lenvals, dtype=np.int64))
            fixed_size = fieldobj.format.fixed_value_size()
            field = (fixed_size != 0, fixed_size, self.codec._compression, name in self._fast)
            positional = name in self._fast
            boost = fieldobj.format.field_boost
            streams = [(item for chunk in source(name) for item in chunk.items()) for source in sources]
            merged = heapq.merge(*streams, key=lambda item: item[0]) if len(streams) > 1 else streams[0]
            current: list = []
            for item in merged:
                if current and item[0] != current[0][0]:
                    self._write_term(fieldwriter, name, current, positional, boost, lengths, field)
                    current = []
                current.append(item)
            if current:
                self._write_term(fieldwriter, name, current, positional, boost, lengths, field)
            fieldwriter.finish_field()
        fieldwriter.close()
        for path in self._runs:
            path.unlink()
        if self._runs:
            self._run_dir.rmdir()
        self.segment.set_doc_count(self.docnum)
        if self.segment.should_assemble():
            self.segment.create_compound_file(self.storage)
            self.segment.compound = True
        if self._column_writer is not None:
            # After the compound file: columns written earlier would be packed into it.
            self._column_writer.finish(self.docnum, self._lengths)
            self._column_writer = None
        return self.segment

    def _write_term(self, fieldwriter, name: str, pieces: list, positional: bool, boost: float, lengths,
                    field) -> None:
        """One term's postings from its pieces (one per run holding it, in docnum order), to the
        Whoosh segment and to the columnar postings."""
        import numpy as np

        def joined(column: str, which: int):
            parts = [getattr(item[1], column)[item[which]:item[which + 1]] for item in pieces]
            return parts[0] if len(parts) == 1 else np.concatenate(parts)

        docs = joined("docs", 2)
        large = len(docs) > _SMALL_TERM
        if positional:
            counts = joined("counts", 2)
            positions = joined("positions", 4)
            values = _pack_positions_np(counts, positions) if large else _pack_positions(counts.tolist(),
                                                                                        positions.tolist())
            weights = counts * boost
        else:
            weights = joined("weights", 2)
            value_list = self._value_list
            values = list(map(value_list.__getitem__, joined("vids", 2).tolist()))
            counts = positions = None
        postings = _Postings(docs, weights, values, positions, counts)
        if self._column_writer is not None:
            self._column_writer.add(name, pieces[0][0], docs, weights, counts, positions)
        fieldwriter.start_term(pieces[0][0])
        if large:
            _write_large_term(fieldwriter._postwriter, postings, lengths[1] if lengths else None, field)
        else:
            small = _Postings(docs.tolist(), weights.tolist(), values)
            _write_blocks(fieldwriter._postwriter, small, lengths[0] if lengths else None, field)
        fieldwriter.finish_term()


#: Terms with more postings than this are written with numpy, fewer in plain Python.
_SMALL_TERM = 24


def _pack_positions_np(counts, positions) -> list[bytes]:
    """:func:`_pack_positions` for numpy arrays: one-position values by table lookup, the others
    one by one."""
    import pickle

    import numpy as np
    from whoosh.system import pack_uint

    starts = np.cumsum(counts, dtype=np.int64) - counts
    firsts = positions[starts]
    top = int(firsts.max())
    single = _SINGLE
    if top >= len(single):
        single.extend(pack_uint(1) + pickle.dumps([p], 2) for p in range(len(single), top + 1))
    values = list(map(single.__getitem__, firsts.tolist()))
    several = np.flatnonzero(counts > 1)
    if len(several):
        deltas = np.diff(positions.astype(np.int64), prepend=0)
        deltas[starts] = firsts
        listed = deltas.tolist()
        for i, start, n in zip(several.tolist(), starts[several].tolist(), counts[several].tolist(), strict=True):
            values[i] = pack_uint(n) + pickle.dumps(listed[start:start + n], 2)
    return values


def _write_large_term(writer, postings: _Postings, lengths, field: tuple) -> None:
    """:func:`_write_blocks` for a long posting list: the per-posting steps (id deltas, block
    statistics) done by numpy over the whole list, the rest per block."""
    import numpy as np
    from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC

    docs = postings.docs.astype(np.int64)
    weights = np.asarray(postings.weights, dtype=np.float64)
    values = postings.values
    total = len(docs)
    limit = writer._blocklimit
    starts = np.arange(0, total, limit)
    sizes = np.diff(np.append(starts, total))
    deltas = np.diff(docs, prepend=0)
    deltas[starts] = docs[starts]
    stored = weights.astype(np.float32)
    maxweights = np.maximum.reduceat(weights, starts).tolist()
    if np.array_equal(stored, np.floor(stored)):
        # Whole-number weights: any order of summing them is exact, as Whoosh's sum() is.
        weight_sums = np.add.reduceat(stored.astype(np.float64), starts).tolist()
    else:
        weight_sums = [sum(array("f", stored[s:s + limit].tolist())) for s in starts.tolist()]
    ones = (np.add.reduceat((stored == 1.0).astype(np.int64), starts) == sizes).tolist()
    same = (np.add.reduceat((stored == np.repeat(stored[starts], sizes)).astype(np.int64), starts) == sizes).tolist()
    if lengths is not None:
        found = lengths[docs]
        maxlengths = np.maximum.reduceat(found, starts).tolist()
        minlengths = np.minimum.reduceat(np.where(found > 0, found, 1 << 30), starts).tolist()
        minlengths = [None if m == 1 << 30 else m for m in minlengths]
    else:
        maxlengths = [0] * len(starts)
        minlengths = [None] * len(starts)
    terminfo = writer._terminfo
    terminfo._weight += sum(weight_sums)
    terminfo._df += total
    known = [m for m in minlengths if m is not None]
    if known:
        low = min(known)
        terminfo._minlength = low if terminfo._minlength is None else min(terminfo._minlength, low)
    terminfo._maxlength = max(terminfo._maxlength, max(maxlengths))
    terminfo._maxweight = max(terminfo._maxweight, max(0, max(maxweights)))
    if terminfo._minid is None:
        terminfo._minid = int(docs[0])
    terminfo._maxid = int(docs[-1])
    deltas = deltas.tolist()
    last_ids = docs[np.minimum(starts + limit, total) - 1].tolist()
    write = writer._postfile.write
    write(WHOOSH3_HEADER_MAGIC)
    for b, start in enumerate(starts.tolist()):
        end = min(start + limit, total)
        if ones[b]:
            mini_weights = None
        elif same[b]:
            mini_weights = float(stored[start])
        else:
            mini_weights = tuple(stored[start:end].tolist())
        write(_block_record(tuple(deltas[start:end]), mini_weights, values[start:end], field, last_ids[b],
                            max(0, maxweights[b]), minlengths[b], maxlengths[b], end == total))
        writer._blockcount += 1
    writer._new_block()


#: Block data shorter than this is stored without zlib (the block info says so, as Whoosh's
#: reader expects): compressing a few dozen bytes saves nothing and costs a zlib stream each.
_COMPRESS_MIN_BYTES = 128
#: Pickle protocol of the block data. Whoosh writes protocol 2, which pickles every value (bytes)
#: as a call to codecs.encode; protocol 4 stores bytes as they are, and Whoosh's reader
#: (pickle.loads) gives the same tuples back, about 8 times faster to write and 5 times faster
#: to read, in 40% less space.
BLOCK_PICKLE_PROTOCOL = 4


def _block_record(mini_ids: tuple, mini_weights, block_values, field: tuple, last_id: int, maxweight: float,
                  minlength: int | None, maxlength: int, last: bool) -> bytes:
    """One posting block as Whoosh's W3 postings writer lays it out (length, block info, data),
    with the values minimised as its ``_mini_values`` does."""
    import pickle

    from whoosh.system import pack_int
    from whoosh.util.numeric import length_to_byte

    has_values, fixed_size, level, all_values = field
    if not has_values:
        kept = []
    elif all_values:
        kept = block_values
    else:
        kept = [v for v in block_values if v]
    if fixed_size is None or fixed_size < 0:
        mini_values = tuple(kept)
    elif fixed_size == 0:
        mini_values = None
    else:
        mini_values = b"".join(kept)
    data = pickle.dumps((mini_ids, mini_weights, mini_values), BLOCK_PICKLE_PROTOCOL)
    comp = level if len(data) >= _COMPRESS_MIN_BYTES else 0
    if comp:
        data = _compress_small(data, comp)
    info = pickle.dumps((len(mini_ids), last_id, maxweight, comp, length_to_byte(minlength),
                         length_to_byte(maxlength)), 2)
    length = len(info) + len(data)
    return pack_int(-length if last else length) + info + data


def _write_blocks(writer, postings: _Postings, lenvals: list[int] | None, field: tuple) -> None:
    """Write a term's postings as Whoosh's ``W3PostingsWriter`` would, block by block (the same
    block info and data tuples, the same term statistics), leaving only the term's extent for
    ``finish_term``: what ``add_posting`` per posting and ``_write_block`` per block do, in
    fewer Python steps."""
    from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC

    docs, weights, values = postings.docs, postings.weights, postings.values
    limit = writer._blocklimit
    total = len(docs)
    write = writer._postfile.write
    terminfo = writer._terminfo
    write(WHOOSH3_HEADER_MAGIC)
    for start in range(0, total, limit):
        end = min(start + limit, total)
        if start == 0 and end == total:
            ids, block_weights, block_values = docs, weights, values
        else:
            ids, block_weights, block_values = docs[start:end], weights[start:end], values[start:end]
        stored_weights = array("f", block_weights)
        maxweight = max(0, max(block_weights))
        if lenvals is not None:
            found = [n for n in map(lenvals.__getitem__, ids) if n]
            minlength = min(found) if found else None
            maxlength = max(found) if found else 0
        else:
            minlength, maxlength = None, 0
        # TermInfo.add_block
        terminfo._weight += sum(stored_weights)
        terminfo._df += len(ids)
        terminfo._minlength = minlength if terminfo._minlength is None else min(terminfo._minlength, minlength)
        terminfo._maxlength = max(terminfo._maxlength, maxlength)
        terminfo._maxweight = max(terminfo._maxweight, maxweight)
        if terminfo._minid is None:
            terminfo._minid = ids[0]
        terminfo._maxid = ids[-1]
        # _mini_ids, _mini_weights, _mini_values
        mini_ids = (ids[0], *[b - a for a, b in zip(ids, ids[1:], strict=False)]) if len(ids) > 1 else (ids[0],)
        first = stored_weights[0]
        if first == 1.0 and stored_weights.count(1.0) == len(stored_weights):
            mini_weights = None
        elif stored_weights.count(first) == len(stored_weights):
            mini_weights = first
        else:
            mini_weights = tuple(stored_weights)
        write(_block_record(mini_ids, mini_weights, block_values, field, ids[-1], maxweight, minlength, maxlength,
                            end == total))
        writer._blockcount += 1
    writer._new_block()


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _build_segment(index: Index, staging: Path, doc_ids: list[str], advance=None) -> tuple:
    """Index ``doc_ids`` into one new segment of the index being built in ``staging``."""
    ix = windex.open_dir(str(staging), indexname=INDEX_NAME)
    builder = SegmentBuilder(ix, staging / f".runs-{os.getpid()}", BUILD_BUFFER_MB)
    paragraphs = 0
    forgotten = _FORGOTTEN[0]
    for doc_id in doc_ids:
        if _FORGOTTEN[0] != forgotten:
            # The tagger caches every word it has seen: it starts afresh with the analysis.
            forgotten = _FORGOTTEN[0]
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


def _add_missing_columns(directory: Path) -> None:
    """Columnar postings for the segments Whoosh's writer made (updates and merges), which
    SegmentBuilder did not write; read back from their Whoosh postings."""
    from whoosh.reading import SegmentReader

    from searchdoc.columns import has_columns, write_from_reader

    ix = windex.open_dir(str(directory), indexname=INDEX_NAME)
    try:
        # Only the segments without columns are opened: opening the large ones of a rebuild
        # would cost an update more than writing the new segment's columns.
        for segment in ix._segments():
            if not has_columns(directory, segment.segment_id()):
                reader = SegmentReader(ix.storage, ix.schema, segment)
                try:
                    write_from_reader(directory, reader)
                finally:
                    reader.close()
    finally:
        ix.close()


def _commit_segments(ix, segments: list) -> None:
    """Make ``segments`` the index's content, in order, as a writer's commit would."""
    from whoosh.index import TOC, clean_files

    generation = ix.latest_generation() + 1
    TOC(ix.schema, segments, generation).write(ix.storage, INDEX_NAME)
    clean_files(ix.storage, INDEX_NAME, generation, segments)


# --------------------------------------------------------------------------- state


def analysis_fingerprint() -> str:
    """Changes whenever the analysis code or its data changes, forcing a rebuild."""
    digest = hashlib.sha256()
    for path in (Path(analysis.__file__), Path(__file__)):
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
        #: Worker processes for a rebuild; None picks by corpus size and CPUs.
        self.build_procs: int | None = None

    # ---- state
    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    def read_state(self) -> dict | None:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _expected_header(self) -> dict:
        return {
            "schema": SCHEMA_VERSION,
            "analysis": analysis_fingerprint(),
            "taxonomy": taxonomy_fingerprint(self.config),
        }

    def staleness(self) -> tuple[str, dict[str, str]]:
        """('missing'|'incompatible'|'stale'|'fresh', corpus fingerprints)."""
        fingerprints = self.corpus.fingerprints()
        state = self.read_state()
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
            status, fingerprints = self.staleness()
            if rebuild or status in ("missing", "incompatible"):
                reason = "asked" if rebuild else status
                return self._rebuild(fingerprints, progress, reason)
            if status == "fresh":
                _add_missing_columns(self.directory)
                return UpdateReport(unchanged=len(fingerprints))
            try:
                return self._incremental(fingerprints, progress)
            except IndexDamagedError:
                return self._rebuild(fingerprints, progress, "damaged")

    def _remove_leftovers(self) -> None:
        """Staging folders and temporary state files of killed runs; only called under the index lock."""
        parent, name = self.directory.parent, self.directory.name
        if parent.is_dir():
            for entry in parent.iterdir():
                if entry.name.startswith((f".{name}.building-", f".{name}.old-")) and entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
        if self.directory.is_dir():
            for entry in self.directory.glob(f".{STATE_FILE}.*.tmp"):
                with contextlib.suppress(OSError):
                    entry.unlink()

    def _rebuild(self, fingerprints, progress, reason) -> UpdateReport:
        report = UpdateReport(rebuilt=True, reason=reason)
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        staging = self.directory.with_name(f".{self.directory.name}.building-{os.getpid()}")
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
            header = self._expected_header()
            self._store_definitions(staging, fingerprints, header["analysis"])
            state = {**header, "docs": fingerprints}
            atomic_write(staging / STATE_FILE, json.dumps(state, indent=1).encode())
            self._swap_in(staging)
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

    def _swap_in(self, staging: Path) -> None:
        """Replace the index folder by the freshly built one with two renames."""
        retired = self.directory.with_name(f".{self.directory.name}.old-{os.getpid()}")
        keep = [p for p in self.directory.iterdir() if p.name == "README.md"] if self.directory.exists() else []
        for item in keep:
            shutil.copy2(item, staging / item.name)
        if self.directory.exists():
            os.replace(self.directory, retired)
        os.replace(staging, self.directory)
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
            _add_missing_columns(self.directory)
        except (SearchdocError, KeyboardInterrupt, SystemExit):
            writer.cancel()
            raise
        except Exception as exc:
            with contextlib.suppress(Exception):
                writer.cancel()
            raise IndexDamagedError(f"index at {self.directory} is damaged: {exc.__class__.__name__}") from exc
        finally:
            ix.close()
        header = self._expected_header()
        self._store_definitions(self.directory, fingerprints, header["analysis"])
        state = {**header, "docs": fingerprints}
        atomic_write(self.state_path, json.dumps(state, indent=1).encode())
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
                data = json.loads(self.corpus.json_path(doc_id).read_bytes())
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
        return self.update(rebuild=status == "damaged", on_wait=on_update)

    def readable(self) -> bool:
        """True when the index opens and its segments can be read (a cheap damage check)."""
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
            return True
        except Exception:
            self.close()
            return False

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
        query = build_query(query_text, self.synonyms(), searcher.reader())
        filters = self._filters(doc_ids, themes)
        fast = self._run_columnar(query, filters, limit)
        if fast is not None:
            return fast
        return self._run_whoosh(query, query_text, filters, limit)

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
            raise QueryError(f"cannot run query {query_text!r}: {exc}") from None
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
            raise QueryError(f"cannot run query {query_text!r}: {exc}") from None
        total, ranked = collector.ranked(limit)
        rows = ((searcher.stored_fields(docnum), score) for docnum, score in ranked)
        return RankedStream(total, rows, matched_terms(parsed, searcher.reader()))

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
