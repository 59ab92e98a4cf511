"""The segment builder: one Whoosh segment written from paragraph records, several times faster
than Whoosh's own writer, byte for byte what that writer would write.

It owns the build's buffer (each distinct word analysed once, documents kept as word numbers),
the sorted runs it spills to disk when the buffer is full, the merge of those runs, and the
posting-block encoding (Whoosh's W3 layout, written with numpy for long lists). What to index,
when to rebuild and how segments become an index is ``searchdoc.index``'s business; this module
knows nothing of the corpus.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path

from searchdoc import analysis

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

    def __init__(self, ix, run_dir: Path, buffer_mb: float | None = None, columns: bool = True):
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
        if buffer_mb is None:
            buffer_mb = BUILD_BUFFER_MB
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
            # searchdoc.index's ChainTokenizer names its chain; Whoosh's analyzers have no ``chain``.
            chain = getattr(fieldobj.analyzer, "chain", None)
            if chain in ("text", "parts") and type(fieldobj.format).__name__ == "Positions":
                self._fast[name] = chain
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
                # A run that ended before this field (it held none of the fields after its last
                # one) is closed: later fields find nothing in it rather than reading it again.
                while not handle.closed or pending:
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
