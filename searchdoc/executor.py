"""A vectorised executor for the query trees ``searchdoc.query.build_query`` makes.

Whoosh walks postings one document at a time in Python; with tens of thousands of matching
paragraphs a query takes seconds. This executor evaluates the same tree with numpy over the
columnar postings (:mod:`searchdoc.columns`), node by node as whole arrays of (document, score),
and reproduces Whoosh's results exactly: BM25F as the searcher computes it (idf and average field
lengths of the whole index, byte-encoded lengths, float32 weights), Phrase as Whoosh's SpanNear2,
Prefix and Wildcard as Whoosh expands and scores them per segment, Tier, BestOf, Proximity, And, Or, AndMaybe,
AndNot, Require and boosts; deleted documents never match. A node it does not know raises
:class:`Unsupported`, and the caller runs the whole query through Whoosh instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import query as wq

from searchdoc import query as sq
from searchdoc.columns import COLUMN_FIELDS, SegmentColumns

# Whoosh's MultiTerm ORs its expansions; Or picks a matcher by these (whoosh.query.compound.Or).
_OR_TOO_MANY_CLAUSES = 1024
_OR_SMALL_SEGMENT = 5000
# (document, position) pairs as one sortable integer.
_POS_SPAN = np.int64(1 << 32)


class Unsupported(Exception):
    """The query holds a node the executor does not reproduce."""


@dataclass
class _Segment:
    columns: SegmentColumns
    offset: int
    doc_count: int
    #: False for documents that cannot match: deleted ones, and outside a restriction (see
    #: ``restricted``); None when every document can.
    alive: np.ndarray | None
    #: One query's decoded postings and positions per term, when the view belongs to one query.
    cache: dict | None = None
    #: What every view of one query shares: decoded columns that do not depend on ``alive``.
    shared: dict | None = None

    def for_query(self) -> _Segment:
        return _Segment(self.columns, self.offset, self.doc_count, self.alive, {}, {})

    def restricted(self, docs: np.ndarray) -> _Segment:
        """This segment seen through ``docs`` only: every node evaluates to its result within
        ``docs``, since a document's match and score never depend on other documents. Filters
        and the documents an optional booster can still add to are so evaluated on less."""
        alive = np.zeros(self.doc_count, bool)
        alive[docs] = True
        if self.alive is not None:
            alive &= self.alive
        return _Segment(self.columns, self.offset, self.doc_count, alive,
                        {} if self.cache is not None else None, self.shared)

    def excluding(self, covered: np.ndarray) -> _Segment:
        """This segment without the documents marked in the boolean ``covered``: where a higher
        scoring band already decided a document, a lower band need not look at it again."""
        alive = ~covered
        if self.alive is not None:
            alive &= self.alive
        return _Segment(self.columns, self.offset, self.doc_count, alive,
                        {} if self.cache is not None else None, self.shared)


def _empty():
    return np.empty(0, np.int64), np.empty(0, np.float64)


def _tree_sum(parts: list[np.ndarray]) -> np.ndarray:
    """Sum in the order of Whoosh's binary matcher tree (make_binary_tree), so floats agree."""
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    return _tree_sum(parts[:half]) + _tree_sum(parts[half:])


def _union(results: list[tuple[np.ndarray, np.ndarray]], reduce, doc_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Documents in any result; each scored by ``reduce`` (np.maximum or np.add) over the
    results holding it, in the results' order. Many matches go through a dense array of the
    segment's documents (no sort); a few through a sort."""
    results = [r for r in results if len(r[0])]
    if not results:
        return _empty()
    if len(results) == 1:
        return results[0]
    size = sum(len(r[0]) for r in results)
    if size * 16 < doc_count:
        docs = np.concatenate([r[0] for r in results])
        scores = np.concatenate([r[1] for r in results])
        order = np.argsort(docs, kind="stable")
        docs, scores = docs[order], scores[order]
        starts = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
        return docs[starts], reduce.reduceat(scores, starts)
    # Each result's documents are unique, so one gather and one scatter per result suffice.
    # Starting from -inf (max) or 0.0 (sum) leaves a document's first score exactly as it is.
    if reduce is np.maximum:
        dense = np.full(doc_count, -np.inf)
        for docs, scores in results:
            dense[docs] = np.maximum(dense[docs], scores)
        docs = np.flatnonzero(dense != -np.inf)
        return docs, dense[docs]
    present = np.zeros(doc_count, bool)
    dense = np.zeros(doc_count)
    for docs, scores in results:
        dense[docs] += scores
        present[docs] = True
    docs = np.flatnonzero(present)
    return docs, dense[docs]


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """np.unique of an already sorted array, without its sort."""
    if len(x) < 2:
        return x
    return x[np.concatenate(([True], x[1:] != x[:-1]))]


def _member(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """np.isin for a sorted ``haystack``: a binary search instead of sorting both."""
    if not len(haystack):
        return np.zeros(len(needles), bool)
    at = np.searchsorted(haystack, needles)
    at[at == len(haystack)] = 0
    return haystack[at] == needles


def _common(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values in both of two sorted arrays of unique values, ascending. A stable sort of the
    two runs back to back is timsort's single merge: linear, where a binary search per value of
    one in the other is not, and several times faster on the long lists phrases meet."""
    if not len(a) or not len(b):
        return a[:0]
    merged = np.concatenate([a, b])
    merged.sort(kind="stable")
    return merged[1:][merged[1:] == merged[:-1]]


class Executor:
    """Runs queries over the columns of every segment of one open Whoosh searcher."""

    def __init__(self, searcher, directory: Path):
        from whoosh.scoring import BM25F
        from whoosh.util.numeric import byte_to_length

        weighting = searcher.weighting
        if type(weighting) is not BM25F or weighting._field_B:
            raise Unsupported("the searcher does not score by plain BM25F")
        self.searcher = searcher
        self.schema = searcher.schema
        self.B, self.K1 = weighting.B, weighting.K1
        self.segments: list[_Segment] = []
        for reader, offset in searcher.reader().leaf_readers():
            segment = reader.segment()
            count = reader.doc_count_all()
            columns = SegmentColumns.open(Path(directory), segment.segment_id(), count)
            deleted = reader.deleted_docs_set if reader.has_deletions() else None
            alive = None
            if deleted:
                alive = np.ones(count, bool)
                alive[np.fromiter(deleted, np.int64, len(deleted))] = False
            self.segments.append(_Segment(columns, offset, count, alive))
        self.doc_count = sum(s.doc_count for s in self.segments)
        self._length_table = np.array([byte_to_length(b) if b else 0 for b in range(256)], np.float64)
        self._idf: dict[tuple[str, bytes], float] = {}
        self._avgfl: dict[str, float] = {}
        self._themes: tuple[list[str], np.ndarray] | None = None

    # ---- statistics, as Whoosh's BM25FScorer takes them from the top-level searcher
    def idf(self, fieldname: str, term: bytes) -> float:
        key = (fieldname, term)
        found = self._idf.get(key)
        if found is None:
            if len(self._idf) > 100_000:
                self._idf.clear()
            found = self._idf[key] = self.searcher.idf(fieldname, term)
        return found

    def avgfl(self, fieldname: str) -> float:
        found = self._avgfl.get(fieldname)
        if found is None:
            found = self._avgfl[fieldname] = self.searcher.avg_field_length(fieldname) or 1
        return found

    # ---- leaves
    @staticmethod
    def _cached(seg: _Segment, kind: str, i: int, read):
        """``read(seg, i)``, once per query when the segment view belongs to one query."""
        if seg.cache is None:
            return read(seg, i)
        found = seg.cache.get((kind, i))
        if found is None:
            found = seg.cache[(kind, i)] = read(seg, i)
        return found

    def _postings(self, seg: _Segment, i: int) -> tuple[np.ndarray, np.ndarray]:
        return self._cached(seg, "postings", i, self._read_postings)

    def _positions(self, seg: _Segment, i: int) -> np.ndarray:
        return self._cached(seg, "positions", i, self._read_positions)

    def _common_docs(self, seg: _Segment, indexes: list[int]) -> np.ndarray:
        """The (live) documents holding every one of these terms: the raw lists intersected
        shortest first, through a dense mask of the segment where lists are long, and only the
        few documents left checked against ``alive``."""
        lists = sorted((self._raw_docs(seg, i) for i in dict.fromkeys(indexes)), key=len)
        docs = lists[0]
        for other in lists[1:]:
            if not len(docs):
                break
            if len(docs) * 16 < len(other):
                docs = docs[_member(other, docs)]
            else:
                mask = np.zeros(seg.doc_count, bool)
                mask[other] = True
                docs = docs[mask[docs]]
        if seg.alive is not None:
            docs = docs[seg.alive[docs]]
        return docs

    @staticmethod
    def _term_index(seg: _Segment, fieldname: str, term: bytes) -> int:
        """``term_index`` looked up once per query: a query's phrases and its matching pass ask
        for the same words again, and each lookup is two binary searches of the term keys."""
        if seg.shared is None:
            return seg.columns.term_index(fieldname, term)
        key = ("term", fieldname, term)
        found = seg.shared.get(key)
        if found is None:
            found = seg.shared[key] = seg.columns.term_index(fieldname, term)
        return found

    def _raw_docs(self, seg: _Segment, i: int) -> np.ndarray:
        """Term ``i``'s document numbers, deleted ones included, shared by the query's views."""
        key = ("docs", i)
        found = seg.shared.get(key) if seg.shared is not None else None
        if found is None:
            cols = seg.columns
            found = cols.docs[int(cols.posting_offsets[i]):int(cols.posting_offsets[i + 1])].astype(np.int64)
            if seg.shared is not None:
                seg.shared[key] = found
        return found

    def _raw_positions(self, seg: _Segment, i: int) -> np.ndarray:
        """Every (document, position) key of term ``i``, deleted documents included, sorted;
        shared by the query's views."""
        key = ("positions", i)
        found = seg.shared.get(key) if seg.shared is not None else None
        if found is None:
            cols = seg.columns
            lo, hi = int(cols.posting_offsets[i]), int(cols.posting_offsets[i + 1])
            qlo, qhi = int(cols.position_offsets[i]), int(cols.position_offsets[i + 1])
            docs = self._raw_docs(seg, i)
            found = _sorted_unique(np.repeat(docs * _POS_SPAN, cols.counts[lo:hi].astype(np.int64))
                                   + cols.positions[qlo:qhi])
            if seg.shared is not None:
                seg.shared[key] = found
        return found

    def _positions_in(self, seg: _Segment, i: int, docs: np.ndarray, any_doc: bool = False) -> np.ndarray:
        """(document, position) keys of term ``i``, sorted, at least those in ``docs`` (all of
        which hold it): when ``docs`` are few, only their positions are read. ``any_doc`` lets
        the many-documents case return every document's keys, deleted ones too, for callers
        that intersect them with keys already limited to ``docs``."""
        cols = seg.columns
        lo, hi = int(cols.posting_offsets[i]), int(cols.posting_offsets[i + 1])
        if len(docs) * 4 > hi - lo:
            return self._raw_positions(seg, i) if any_doc else self._positions(seg, i)
        counts = cols.counts[lo:hi].astype(np.int64)
        firsts = np.cumsum(counts) - counts
        at = np.searchsorted(cols.docs[lo:hi], docs.astype(np.uint32))
        n = counts[at]
        # Index of every position of the chosen postings: each run starts at its posting's first.
        runs = np.repeat(firsts[at] - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
        return _sorted_unique(np.repeat(docs, n) * _POS_SPAN + cols.positions[int(cols.position_offsets[i]) + runs])

    def _read_postings(self, seg: _Segment, i: int) -> tuple[np.ndarray, np.ndarray]:
        cols = seg.columns
        lo, hi = int(cols.posting_offsets[i]), int(cols.posting_offsets[i + 1])
        docs = cols.docs[lo:hi].astype(np.int64)
        weights = cols.weights[lo:hi].astype(np.float64)
        if seg.alive is not None:
            keep = seg.alive[docs]
            docs, weights = docs[keep], weights[keep]
        return docs, weights

    def _read_positions(self, seg: _Segment, i: int) -> np.ndarray:
        """(document, position) keys of a term, sorted; deleted documents left out."""
        cols = seg.columns
        lo, hi = int(cols.posting_offsets[i]), int(cols.posting_offsets[i + 1])
        qlo, qhi = int(cols.position_offsets[i]), int(cols.position_offsets[i + 1])
        docs = cols.docs[lo:hi].astype(np.int64)
        keys = np.repeat(docs, cols.counts[lo:hi].astype(np.int64)) * _POS_SPAN + cols.positions[qlo:qhi]
        if seg.alive is not None:
            keys = keys[seg.alive[keys // _POS_SPAN]]
        # A term twice at one position (two readings of a word) is one span for Whoosh.
        return _sorted_unique(keys)

    def _score(self, seg: _Segment, fieldname: str, term: bytes, docs: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Whoosh's BM25F for these postings (``whoosh.scoring.bm25``, same operations in the
        same order, so the floats are the same); unscorable fields score their weight."""
        if not self.schema[fieldname].scorable:
            return weights
        lengths = seg.columns.lengths.get(fieldname)
        fl = self._length_table[lengths[docs]] if lengths is not None else np.ones(len(docs))
        idf, avgfl, B, K1 = self.idf(fieldname, term), self.avgfl(fieldname), self.B, self.K1
        return idf * ((weights * (K1 + 1)) / (weights + K1 * ((1 - B) + B * fl / avgfl)))

    def _term(self, seg: _Segment, fieldname: str, term: bytes):
        i = self._term_index(seg, fieldname, term)
        if i < 0:
            return _empty()
        docs, weights = self._postings(seg, i)
        return docs, self._score(seg, fieldname, term, docs, weights)

    # ---- the tree
    def evaluate(self, q, seg: _Segment, memo: dict) -> tuple[np.ndarray, np.ndarray]:
        """Matching documents (segment numbers, ascending) and their scores."""
        key = (id(q), id(seg))
        found = memo.get(key)
        if found is None:
            found = memo[key] = self._evaluate(q, seg, memo)
            # Keep node and view alive while the memo is: ids of collected objects are reused.
            memo.setdefault("_keep", []).append((q, seg))
        return found

    def _evaluate(self, q, seg: _Segment, memo: dict):
        kind = type(q)
        if q is wq.NullQuery or kind.__name__ == "_NullQuery":
            return _empty()
        if kind is sq.Tier:
            docs, scores = self.evaluate(q.child, seg, memo)
            squashed = np.where(scores > 0, scores / (scores + sq.BM25_HALF), 0.0)
            return docs, q.base + q.scale * squashed
        if kind is sq.Proximity:
            return self._proximity(q, seg)
        if kind is sq.BestOf:
            return self._best_of(q, seg, memo)
        if kind is wq.Term:
            self._check_field(q.fieldname)
            docs, scores = self._term(seg, q.fieldname, self._bytes(q.fieldname, q.text))
            return docs, scores * q.boost if q.boost != 1.0 else scores
        if kind is wq.Phrase:
            return self._phrase(q, seg)
        if kind is wq.Prefix:
            return self._prefix(q, seg)
        if kind is wq.Wildcard and q.text != "*":
            self._check_field(q.fieldname)
            return self._expansions(q, seg, self._wildcard_terms(seg, q))
        if kind is wq.Or:
            if q.scale or q.minmatch:
                raise Unsupported("Or with scale or minmatch")
            return self._compound(q, seg, memo, lambda rs: _union(rs, np.add, seg.doc_count))
        if kind is wq.And:
            return self._conjunction(q, seg, memo)
        if kind is wq.Not:
            # Whoosh's InverseMatcher: every live document the child misses, scored 1.
            docs = np.setdiff1d(np.arange(seg.doc_count, dtype=np.int64), self.evaluate(q.query, seg, memo)[0],
                                assume_unique=True)
            if seg.alive is not None:
                docs = docs[seg.alive[docs]]
            return docs, np.ones(len(docs))
        if kind is wq.AndMaybe:
            docs, scores = self.evaluate(q.a, seg, memo)
            if not len(docs):
                return _empty()
            bdocs, bscores = self.evaluate(q.b, seg.restricted(docs), memo)
            # Evaluated within the required part's documents, the optional one is a subset.
            at = np.searchsorted(docs, bdocs)
            scores = scores.copy()
            scores[at] = scores[at] + bscores
            return docs, scores
        if kind is wq.AndNot:
            docs, scores = self.evaluate(q.a, seg, memo)
            if not len(docs):
                return _empty()
            keep = ~_member(self.evaluate(q.b, seg.restricted(docs), memo)[0], docs)
            return docs[keep], scores[keep]
        if kind is wq.Require:
            docs, scores = self.evaluate(q.a, seg, memo)
            if not len(docs):
                return _empty()
            keep = _member(self.evaluate(q.b, seg.restricted(docs), memo)[0], docs)
            return docs[keep], scores[keep]
        raise Unsupported(kind.__name__)

    def _check_field(self, fieldname: str) -> None:
        if fieldname not in COLUMN_FIELDS or fieldname not in self.schema:
            raise Unsupported(f"field {fieldname}")

    def _bytes(self, fieldname: str, text) -> bytes:
        return text if isinstance(text, bytes) else self.schema[fieldname].to_bytes(text)

    def _compound(self, q, seg: _Segment, memo: dict, combine):
        subs = q.subqueries
        if not subs:
            return _empty()
        if len(subs) == 1:
            # Whoosh's CompoundQuery.matcher: a single subquery stands alone, without the boost.
            return self.evaluate(subs[0], seg, memo)
        docs, scores = combine([self.evaluate(s, seg, memo) for s in subs])
        return docs, scores * q.boost if q.boost != 1.0 else scores

    @staticmethod
    def _band(q) -> tuple[float, float]:
        """The scores a BestOf child can give: a Tier's ``[base, base + scale]`` (squash is in
        [0, 1), and rounding is monotonic, so no score leaves it); anything else any score."""
        if type(q) is sq.Tier:
            base, scale = q.base, q.scale
            if isinstance(base, (int, float)) and isinstance(scale, (int, float)) and scale >= 0:
                return float(base), float(base) + float(scale)
        return -np.inf, np.inf

    def _best_of(self, q, seg: _Segment, memo: dict):
        """BestOf: each document scored by its best child. The children are evaluated from the
        highest band down, and a child only on the documents no child whose band lies wholly
        above its own has matched: there its score could not change the maximum. The match set
        stays the union of every child's, as the totals need."""
        subs = q.subqueries
        if len(subs) < 2 or getattr(q, "tiebreak", 0.0):
            return self._compound(q, seg, memo, lambda rs: _union(rs, np.maximum, seg.doc_count))
        bands = [self._band(s) for s in subs]
        order = sorted(range(len(subs)), key=lambda k: -bands[k][0])
        results, done = [], []
        for k in order:
            top = bands[k][1]
            above = [docs for low, docs in done if low >= top and len(docs)]
            view = seg
            if above:
                covered = np.zeros(seg.doc_count, bool)
                for docs in above:
                    covered[docs] = True
                view = seg.excluding(covered)
            found = self.evaluate(subs[k], view, memo)
            results.append(found)
            done.append((bands[k][0], found[0]))
        docs, scores = _union(results, np.maximum, seg.doc_count)
        return docs, scores * q.boost if q.boost != 1.0 else scores

    def _conjunction(self, q, seg: _Segment, memo: dict):
        """And: each subquery evaluated within the documents the ones before it left."""
        subs = q.subqueries
        if not subs:
            return _empty()
        if len(subs) == 1:
            return self.evaluate(subs[0], seg, memo)
        results = []
        view = seg
        for sub in subs:
            found = self.evaluate(sub, view, memo)
            if not len(found[0]):
                return _empty()
            results.append(found)
            if sub is not subs[-1]:
                view = seg.restricted(found[0])
        docs, scores = self._and(results)
        return docs, scores * q.boost if q.boost != 1.0 else scores

    @staticmethod
    def _and(results):
        docs = results[0][0]
        for other, _ in results[1:]:
            docs = np.intersect1d(docs, other, assume_unique=True)
        parts = [scores[np.searchsorted(d, docs)] for d, scores in results]
        return docs, _tree_sum(parts)

    def _phrase(self, q, seg: _Segment):
        """Whoosh's Phrase: SpanNear2(ordered, slop=1, mindist=1) over the words, i.e. each word
        at the position after the previous one; scored as the sum of the words' BM25."""
        self._check_field(q.fieldname)
        if q.slop != 1 or not q.words:
            raise Unsupported("Phrase with slop")
        terms = [self._bytes(q.fieldname, w) for w in q.words]
        indexes = [self._term_index(seg, q.fieldname, t) for t in terms]
        if any(i < 0 for i in indexes):
            return _empty()
        docs = self._common_docs(seg, indexes)
        if not len(docs):
            return _empty()
        # Words joined rarest first: a document leaves the candidates at the first word that
        # does not follow, and later words read positions of the survivors only. ``keys`` are
        # the positions of word ``at`` of the documents still in; word k must sit at key + k - at.
        cols = seg.columns
        order = sorted(range(len(indexes)), key=lambda k: int(cols.posting_offsets[indexes[k] + 1]
                                                             - cols.posting_offsets[indexes[k]]))
        at = order[0]
        keys = self._positions_in(seg, indexes[at], docs, any_doc=True)
        candidate = np.zeros(seg.doc_count, bool)
        candidate[docs] = True
        keys = keys[candidate[keys >> 32]]
        for k in order[1:]:
            keys = _common(keys + (k - at), self._positions_in(seg, indexes[k], docs, any_doc=True))
            at = k
            if not len(keys):
                return _empty()
            docs = _sorted_unique(keys >> 32)
        parts = []
        matched = None
        for term, i in zip(terms, indexes, strict=True):
            raw = self._raw_docs(seg, i)
            if len(docs) * 8 < len(raw):
                where = np.searchsorted(raw, docs)
            else:
                # Many matches: one pass over the term's postings beats a binary search each.
                if matched is None:
                    matched = np.zeros(seg.doc_count, bool)
                    matched[docs] = True
                where = np.flatnonzero(matched[raw])
            weights = cols.weights[int(cols.posting_offsets[i]) + where].astype(np.float64)
            parts.append(self._score(seg, q.fieldname, term, docs, weights))
        scores = _tree_sum(parts)
        return docs, scores * q.boost if q.boost != 1.0 else scores

    def _prefix(self, q, seg: _Segment):
        """Whoosh's Prefix, a MultiTerm: its expansions in this segment ORed; one expansion is
        that Term; several are summed BM25 scores (times the boost), except where Whoosh's Or
        preloads them without scores (constant-score multi-terms), which scores each match 1."""
        self._check_field(q.fieldname)
        found = seg.columns.prefix_range(q.fieldname, self._bytes(q.fieldname, q.text))
        first, last = (found[0], found[-1]) if found else (0, -1)
        if last - first + 1 != len(found):
            raise Unsupported("long prefix")
        return self._expansions(q, seg, found)

    def _wildcard_terms(self, seg: _Segment, q) -> list[int]:
        """The term numbers Whoosh's Wildcard expands to in this segment (``PatternQuery._btexts``
        on the segment's reader): the terms under the pattern's literal prefix that match its
        glob, in term order."""
        import re

        cols = seg.columns
        candidates = cols.prefix_range(q.fieldname, self._bytes(q.fieldname, q._find_prefix(q.text)))
        if not candidates:
            return []
        pattern = re.compile(q._get_pattern())
        texts = cols.terms(candidates[0], candidates[-1] + 1)
        if len(texts) != len(candidates):
            texts = [cols.term(i) for i in candidates]
        return [i for i, text in zip(candidates, texts, strict=True) if pattern.match(text.decode("utf-8"))]

    def _expansions(self, q, seg: _Segment, found: list[int]):
        """A multi-term query (Prefix, Wildcard) over its expansions ``found`` in this segment."""
        cols = seg.columns
        if not found:
            return _empty()
        if len(found) == 1:
            return self._term(seg, q.fieldname, cols.term(found[0]))
        preloaded = not (len(found) < _OR_TOO_MANY_CLAUSES and (len(found) == 2 or seg.doc_count > _OR_SMALL_SEGMENT))
        starts = cols.posting_offsets[found].astype(np.int64)
        counts = cols.posting_offsets[np.asarray(found) + 1].astype(np.int64) - starts
        # The postings of the expansions one after the other, in term order.
        where = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        docs = cols.docs[where].astype(np.int64)
        if preloaded:
            if seg.alive is not None:
                docs = docs[seg.alive[docs]]
            docs = np.unique(docs)
            return docs, np.ones(len(docs))
        weights = cols.weights[where].astype(np.float64)
        contiguous = found[-1] - found[0] + 1 == len(found)
        terms = cols.terms(found[0], found[-1] + 1) if contiguous else [cols.term(i) for i in found]
        idf = np.repeat([self.idf(q.fieldname, t) for t in terms], counts)
        if seg.alive is not None:
            keep = seg.alive[docs]
            docs, weights, idf = docs[keep], weights[keep], idf[keep]
        scores = self._bm25_with_idf(seg, q.fieldname, docs, weights, idf)
        docs, scores = self._sum_by_doc(docs, scores, seg.doc_count)
        return docs, scores * q.boost if q.boost != 1.0 else scores

    @staticmethod
    def _sum_by_doc(docs: np.ndarray, scores: np.ndarray, doc_count: int):
        """Per document, the sum of its scores in the order given (bincount adds in input order)."""
        sums = np.bincount(docs, weights=scores, minlength=doc_count)
        present = np.zeros(doc_count, bool)
        present[docs] = True
        found = np.flatnonzero(present)
        return found, sums[found]

    def _bm25_with_idf(self, seg: _Segment, fieldname: str, docs, weights, idf):
        if not self.schema[fieldname].scorable:
            return weights
        lengths = seg.columns.lengths.get(fieldname)
        fl = self._length_table[lengths[docs]] if lengths is not None else np.ones(len(docs))
        avgfl, B, K1 = self.avgfl(fieldname), self.B, self.K1
        return idf * ((weights * (K1 + 1)) / (weights + K1 * ((1 - B) + B * fl / avgfl)))

    def _proximity(self, q, seg: _Segment):
        """searchdoc's Proximity booster: documents holding every word, scored by
        :func:`searchdoc.query.closeness` times the boost."""
        self._check_field(q.fieldname)
        unique = list(dict.fromkeys(q.words))
        indexes = {w: self._term_index(seg, q.fieldname, self._bytes(q.fieldname, w)) for w in unique}
        if any(i < 0 for i in indexes.values()):
            return _empty()
        docs = self._common_docs(seg, list(indexes.values()))
        if not len(docs):
            return _empty()
        keys = {w: self._positions_in(seg, i, docs) for w, i in indexes.items()}
        words, offsets = list(q.words), list(q.offsets)
        # The exact phrase: every word at its offset from the first.
        starts = keys[words[0]] - offsets[0]
        for w, o in zip(words[1:], offsets[1:], strict=True):
            starts = _common(starts + o, keys[w]) - o
        scores = np.zeros(len(docs))
        exact = _member(np.unique(starts // _POS_SPAN), docs)
        scores[exact] = 1.0
        if len(unique) >= 2:
            span = offsets[-1] - offsets[0] + 1
            best = self._narrowest_windows(keys, unique, docs)
            near = ~exact & (best <= span + q.slop)
            scores[near] = sq.NEAR_SHARE * np.minimum(1.0, span / best[near])
        return docs, q.boost * scores

    @staticmethod
    def _narrowest_windows(keys: dict, unique: list[str], docs: np.ndarray) -> np.ndarray:
        """Per document of ``docs``, the narrowest window of positions holding every word."""
        if len(unique) == 2:
            a, b = keys[unique[0]], keys[unique[1]]
            a = a[_member(docs, a // _POS_SPAN)]
            b = b[_member(docs, b // _POS_SPAN)]
            events = np.concatenate([a, b])
            which = np.concatenate([np.zeros(len(a), np.int8), np.ones(len(b), np.int8)])
            order = np.argsort(events, kind="stable")
            events, which = events[order], which[order]
            edocs = events // _POS_SPAN
            pairs = (edocs[1:] == edocs[:-1]) & (which[1:] != which[:-1])
            widths = (events[1:] - events[:-1])[pairs] + 1
            best = np.full(len(docs), np.iinfo(np.int64).max, np.int64)
            np.minimum.at(best, np.searchsorted(docs, edocs[:-1][pairs]), widths)
            return best.astype(np.float64)
        best = np.empty(len(docs))
        per_word = {w: (k // _POS_SPAN, k % _POS_SPAN) for w, k in keys.items()}
        for n, doc in enumerate(docs.tolist()):
            positions = {}
            for w, (kd, kp) in per_word.items():
                lo, hi = np.searchsorted(kd, [doc, doc + 1])
                positions[w] = kp[lo:hi].tolist()
            best[n] = _window(unique, positions)
        return best

    # ---- a whole search
    def search(self, q, matching, filters: list, limit: int | None):
        """(global docnum, score) of the best ``limit`` matches of ``q`` within ``filters``
        (queries every match must also match), best first and ties in index order as Whoosh's
        collector orders them; and the global numbers of every match of ``matching``."""
        all_docs, all_scores, matched = [], [], []
        for seg in self.segments:
            memo: dict = {}
            view = seg.for_query()
            for f in filters:
                view = view.restricted(self.evaluate(f, view, memo)[0])
            docs, scores = self.evaluate(q, view, memo)
            mdocs = self.evaluate(matching, view, memo)[0]
            all_docs.append(docs + seg.offset)
            all_scores.append(scores)
            matched.append(mdocs + seg.offset)
        docs = np.concatenate(all_docs) if all_docs else np.empty(0, np.int64)
        scores = np.concatenate(all_scores) if all_scores else np.empty(0)
        if limit is not None and limit < len(docs):
            threshold = np.partition(-scores, limit - 1)[limit - 1]
            keep = -scores <= threshold
            docs, scores = docs[keep], scores[keep]
        order = np.lexsort((docs, -scores))
        if limit is not None:
            order = order[:limit]
        ranked = list(zip(docs[order].tolist(), scores[order].tolist(), strict=True))
        return ranked, (np.concatenate(matched) if matched else np.empty(0, np.int64))

    def theme_counts(self, docs: np.ndarray, theme_ids: list[str]) -> dict[str, int]:
        """How many of ``docs`` carry each theme, in ``theme_ids`` order, themes with none left out.

        Each document's themes are bits of one integer per document (per 64 themes), built once:
        a count is then one AND over the matches' integers per theme."""
        if not len(docs):
            return {}
        if self._themes is None or self._themes[0] != theme_ids:
            words = np.zeros(((len(theme_ids) + 63) // 64, self.doc_count), np.uint64)
            for seg in self.segments:
                for k, theme in enumerate(theme_ids):
                    found, _ = self._term(seg, "themes", self._bytes("themes", theme))
                    words[k // 64, found + seg.offset] |= np.uint64(1 << (k % 64))
            self._themes = (list(theme_ids), words)
        words = self._themes[1][:, docs]
        counts = {}
        for k, theme in enumerate(theme_ids):
            n = int(np.count_nonzero(words[k // 64] & np.uint64(1 << (k % 64))))
            if n:
                counts[theme] = n
        return counts

    def matched_terms(self, q) -> dict[str, set[str]]:
        """What :func:`searchdoc.query.matched_terms` returns (Whoosh's ``existing_terms`` with
        expansion), looked up in the columns instead of Whoosh's term tables."""
        schema = self.schema
        termset: set[tuple[str, bytes]] = set()
        fieldname = None
        for leaf in q.leaves():
            # Whoosh's loop reuses the name ``fieldname`` for the terms it walks, so after the
            # first term only leaves of that term's field count: reproduced as it is.
            if fieldname and fieldname != leaf.field():
                continue
            kind = type(leaf)
            if kind is wq.Prefix or (kind is wq.Wildcard and leaf.text != "*"):
                self._check_field(leaf.fieldname)
                # Expansions come from the term tables: they exist.
                if kind is wq.Prefix:
                    expanded = self._expand(leaf.fieldname, self._bytes(leaf.fieldname, leaf.text))
                else:
                    expanded = sorted({seg.columns.term(i) for seg in self.segments
                                       for i in self._wildcard_terms(seg, leaf)})
                if expanded:
                    fieldname = leaf.fieldname
                    termset.update((fieldname, t) for t in expanded)
                continue
            if kind in (wq.Term, wq.Phrase, sq.Proximity) or kind.__name__ == "_NullQuery":
                terms = list(leaf.terms(phrases=True))
            else:
                raise Unsupported(kind.__name__)
            for fieldname, text in terms:
                if fieldname in schema:
                    self._check_field(fieldname)
                    try:
                        btext = schema[fieldname].to_bytes(text)
                    except ValueError:
                        continue
                    if any(seg.columns.term_index(fieldname, btext) >= 0 for seg in self.segments):
                        termset.add((fieldname, btext))
        found: dict[str, set[str]] = {}
        for fieldname, term in termset:
            found.setdefault(fieldname, set()).add(term.decode("utf-8", errors="replace"))
        return found

    def _expand(self, fieldname: str, prefix: bytes) -> list[bytes]:
        terms = set()
        for seg in self.segments:
            found = seg.columns.prefix_range(fieldname, prefix)
            if found and found[-1] - found[0] + 1 == len(found):
                terms.update(seg.columns.terms(found[0], found[-1] + 1))
            else:
                terms.update(seg.columns.term(i) for i in found)
        return sorted(terms)


def _window(unique: list[str], positions: dict[str, list[int]]) -> float:
    """The narrowest window holding every word, as :func:`searchdoc.query.closeness` finds it."""
    events = sorted((p, i) for i, w in enumerate(unique) for p in set(positions[w]))
    counts = [0] * len(unique)
    covered, best, left = 0, float("inf"), 0
    for p, i in events:
        counts[i] += 1
        if counts[i] == 1:
            covered += 1
        while covered == len(unique):
            best = min(best, p - events[left][0] + 1)
            j = events[left][1]
            counts[j] -= 1
            if counts[j] == 0:
                covered -= 1
            left += 1
    return best
