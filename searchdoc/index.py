"""The Whoosh index: schema, build, incremental update, open, query execution.

This is the only module that imports Whoosh. One Whoosh document per paragraph. The index is
derived from the corpus: a state file records, per document, the corpus fingerprint it was built
from, plus fingerprints of the analysis and the theme taxonomy, so a stale index is detected and
updated (only the documents that changed), and a damaged one is rebuilt.

Query handling: the Whoosh query parser supplies the syntax (AND by default, OR, NOT, quotes,
prefix*, field:value); the parsed tree is then rewritten so that every word is searched as its
stem in ``text`` (full weight), as its compound parts in ``parts`` (lower weight) and through its
synonyms (lower still), with section/title matches and exact phrases as optional boosts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from searchdoc import analysis, settings
from searchdoc.corpus import Corpus, atomic_write, hold_lock
from searchdoc.errors import IndexDamagedError, QueryError
from searchdoc.model import Document
from whoosh import fields as wfields
from whoosh import index as windex
from whoosh import qparser
from whoosh import query as wq
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer

log = logging.getLogger(__name__)

#: Bump when the schema or the meaning of a field changes: a different version forces a rebuild.
SCHEMA_VERSION = 1
STATE_FILE = "searchdoc-state.json"
INDEX_NAME = "paragraphs"

#: Field weights in ranking: literal words first, compound parts and notes lower, synonyms lowest.
TEXT_BOOST = 1.0
PARTS_BOOST = 0.45
NOTES_BOOST = 0.4
SYNONYM_BOOST = 0.35
SECTION_BOOST = 0.6
TITLE_BOOST = 0.3
PHRASE_BOOST = 1.5

#: Fields a user may name in a query (``field:value``).
QUERY_FIELDS = ("text", "section", "title", "notes", "doc_id", "kind", "themes", "cites", "dossier", "date", "page", "paragraph")
_TEXT_FIELDS = ("text", "section", "title", "notes")


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
        doc_id=wfields.ID(stored=True, lowercase=True),
        paragraph=wfields.NUMERIC(int, stored=True, sortable=True),
        page=wfields.NUMERIC(int, stored=True),
        page_end=wfields.STORED(),
        section=wfields.TEXT(analyzer=text, stored=True, phrase=True),
        text=wfields.TEXT(analyzer=text, stored=True, phrase=True),
        parts=wfields.TEXT(analyzer=parts, phrase=True),
        notes=wfields.TEXT(analyzer=text, phrase=True),
        title=wfields.TEXT(analyzer=text, phrase=True),
        kind=wfields.ID(stored=True, lowercase=True),
        date=wfields.ID(stored=True),
        dossier=wfields.KEYWORD(stored=True, commas=True, lowercase=True),
        themes=wfields.KEYWORD(stored=True, commas=True, lowercase=True),
        cites=wfields.KEYWORD(stored=True, commas=True, lowercase=True),
    )


def _query_schema():
    """The schema the query parser sees: same fields, but words are only folded, not analysed.

    Keeping the user's words intact lets the rewrite step stem them, split them and look up
    their synonyms itself.
    """
    from whoosh import analysis as wa

    words = wa.RegexTokenizer(r"\w+(?:[-‐‑'’.]\w+)*") | wa.LowercaseFilter()
    return wfields.Schema(
        text=wfields.TEXT(analyzer=words, phrase=True),
        section=wfields.TEXT(analyzer=words, phrase=True),
        title=wfields.TEXT(analyzer=words, phrase=True),
        notes=wfields.TEXT(analyzer=words, phrase=True),
        doc_id=wfields.ID(lowercase=True),
        kind=wfields.ID(lowercase=True),
        date=wfields.ID(),
        dossier=wfields.KEYWORD(commas=True, lowercase=True),
        themes=wfields.KEYWORD(commas=True, lowercase=True),
        cites=wfields.KEYWORD(commas=True, lowercase=True),
        page=wfields.NUMERIC(int),
        paragraph=wfields.NUMERIC(int),
    )


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
    from searchdoc import themes

    return themes.load_taxonomy(config.taxonomy_file if config else None).fingerprint


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
            status, fingerprints = self.staleness()
            if rebuild or status in ("missing", "incompatible"):
                reason = "asked" if rebuild else status
                return self._rebuild(fingerprints, progress, reason)
            if status == "fresh":
                return UpdateReport(unchanged=len(fingerprints))
            try:
                return self._incremental(fingerprints, progress)
            except IndexDamagedError:
                return self._rebuild(fingerprints, progress, "damaged")

    def _rebuild(self, fingerprints, progress, reason) -> UpdateReport:

        report = UpdateReport(rebuilt=True, reason=reason)
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        staging = self.directory.with_name(f".{self.directory.name}.building-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            ix = windex.create_in(str(staging), build_schema(), indexname=INDEX_NAME)
            writer = ix.writer(limitmb=256)
            try:
                for doc_id in sorted(fingerprints):
                    document = self.corpus.load(doc_id)
                    for record in self.paragraph_records(document):
                        writer.add_document(**record)
                        report.paragraphs += 1
                    report.added.append(doc_id)
                    if progress:
                        progress(1)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            ix.close()
            state = {**self._expected_header(), "docs": fingerprints}
            atomic_write(staging / STATE_FILE, json.dumps(state, indent=1).encode())
            self._swap_in(staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return report

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
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        finally:
            ix.close()
        state = {**self._expected_header(), "docs": fingerprints}
        atomic_write(self.state_path, json.dumps(state, indent=1).encode())
        return report

    # ---- reading
    def ensure_fresh(self, on_update: Callable[[str], None] | None = None) -> UpdateReport | None:
        """Build or update the index first when it is missing, stale or damaged."""
        status, _ = self.staleness()
        if status == "fresh":
            return None
        if on_update:
            on_update({
                "missing": "building the index (first run) ...",
                "incompatible": "rebuilding the index (searchdoc's analysis changed) ...",
                "stale": "updating the index with corpus changes ...",
            }[status])
        return self.update(on_wait=on_update)

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

        query = build_query(query_text)
        searcher = self.searcher()
        filters = []
        doc_ids = [d.lower() for d in doc_ids]
        if doc_ids:
            filters.append(wq.Or([wq.Term("doc_id", d) for d in doc_ids]))
        for theme in themes:
            filters.append(wq.Term("themes", theme.lower()))
        filter_query = wq.And(filters) if filters else None
        try:
            results = searcher.search(query, limit=limit, filter=filter_query, terms=False)
        except Exception as exc:
            raise QueryError(f"cannot run query {query_text!r}: {exc}") from None
        hits = [RawHit(dict(hit.fields()), hit.score) for hit in results]
        matched = _matched_terms(query, searcher.reader())
        theme_counts = self._theme_counts(results)
        return RawResults(total=len(results), hits=hits, matched_terms=matched, theme_counts=theme_counts)

    def _theme_counts(self, results) -> dict[str, int]:

        docs = results.docs()
        if not docs:
            return {}
        counts = {}
        searcher = self.searcher()
        for theme in self.tagger().theme_ids:
            theme_docs = set(searcher.docs_for_query(wq.Term("themes", theme)))
            count = len(docs & theme_docs) if isinstance(docs, set) else sum(1 for d in docs if d in theme_docs)
            if count:
                counts[theme] = count
        return counts

    def vocabulary(self, fieldname: str = "text") -> Iterable[tuple[str, int]]:
        """(term, document frequency) pairs, for spelling suggestions."""
        reader = self.searcher().reader()
        for term in reader.lexicon(fieldname):
            word = term.decode("utf-8") if isinstance(term, bytes) else term
            yield word, reader.doc_frequency(fieldname, word)


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


# --------------------------------------------------------------------------- queries

_FIELD_PREFIX = re.compile(r'(?:^|(?<=[\s(]))([A-Za-z_][\w.]*):(?=[^\s)])')
_QUOTED = re.compile(r'"[^"]*"')


def check_fields(query_text: str) -> None:
    """Refuse ``unknown:value`` instead of silently searching for the literal text."""
    outside_quotes = _QUOTED.sub(" ", query_text)
    for match in _FIELD_PREFIX.finditer(outside_quotes):
        name = match.group(1)
        if name not in QUERY_FIELDS:
            raise QueryError(
                f"unknown field {name!r} in the query; fields are: {', '.join(QUERY_FIELDS)}"
            )


def build_query(query_text: str):
    """Parse user syntax and rewrite it into searchdoc's weighted Dutch query."""

    if not isinstance(query_text, str) or not query_text.strip():
        raise QueryError("the query is empty; give one or more words, e.g. searchdoc search drones")
    if len(query_text) > 1000:
        raise QueryError("the query is longer than 1,000 characters")
    if "\x00" in query_text:
        raise QueryError("the query contains a NUL character")
    check_fields(query_text)
    if query_text.count('"') % 2:
        raise QueryError('unbalanced quotes in the query: close the phrase with a second "')
    parser = qparser.QueryParser("text", _query_schema(), group=qparser.AndGroup)
    try:
        parsed = parser.parse(query_text)
    except Exception as exc:
        raise QueryError(f"cannot parse query {query_text!r}: {exc.__class__.__name__}") from None
    if _has_error(parsed):
        raise QueryError(f"cannot parse query {query_text!r}: check parentheses, quotes and operators")
    rewritten = _rewrite(parsed)
    if rewritten is None or rewritten is wq.NullQuery or isinstance(rewritten, type(wq.NullQuery)):
        raise QueryError(f"the query {query_text!r} has no searchable words")
    return rewritten


def _has_error(q) -> bool:

    if isinstance(q, wq.error.ErrorQuery) if hasattr(wq, "error") else type(q).__name__ == "ErrorQuery":
        return True
    return any(_has_error(child) for child in q.children()) if q.is_leaf() is False else False


def _analysed_terms(text: str) -> list[str]:
    return [t.term for t in analysis.analyze(text)]


def _part_terms(text: str) -> list[str]:
    return [t.term for t in analysis.part_tokens(text)]


def _sequence_query(fieldname: str, terms: list[str], boost: float = 1.0, slop: int = 1):

    terms = [t for t in terms if t]
    if not terms:
        return None
    if len(terms) == 1:
        return wq.Term(fieldname, terms[0], boost=boost)
    return wq.Phrase(fieldname, terms, slop=slop, boost=boost)


def _word_query(fieldname: str, words: list[str], boost: float = 1.0, phrase: bool = False):
    """One word (or a quoted phrase) on a text field, expanded over text, parts and synonyms."""

    joined = " ".join(words)
    text_terms = _analysed_terms(joined)
    if not text_terms:
        return None
    target = fieldname if fieldname in _TEXT_FIELDS else "text"
    alternatives = []
    literal = _literal_query(target, joined, text_terms, boost)
    if literal is not None:
        alternatives.append(literal)
    if target == "text":
        part_terms = _part_terms(joined)
        if part_terms and part_terms != text_terms:
            alternatives.append(_sequence_query("parts", part_terms, boost * PARTS_BOOST))
        elif part_terms and len(part_terms) > 1:
            alternatives.append(_sequence_query("parts", part_terms, boost * PARTS_BOOST))
        elif part_terms:
            alternatives.append(wq.Term("parts", part_terms[0], boost=boost * PARTS_BOOST))
        notes = _sequence_query("notes", text_terms, boost * NOTES_BOOST)
        if notes is not None:
            alternatives.append(notes)
        for synonym_terms in _synonyms(text_terms):
            alt = _sequence_query("text", synonym_terms, boost * SYNONYM_BOOST)
            if alt is not None:
                alternatives.append(alt)
    alternatives = [a for a in alternatives if a is not None]
    if not alternatives:
        return None
    return alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives)


def _literal_query(fieldname, joined, text_terms, boost):
    """The literal match: hyphenated compounds match whole or as their consecutive parts."""

    tokens = analysis.analyze(joined)
    if len(tokens) == 1 or all(t.pos == tokens[0].pos for t in tokens):
        terms = sorted({t.term for t in tokens})
        if len(terms) == 1:
            return wq.Term(fieldname, terms[0], boost=boost)
        return wq.Or([wq.Term(fieldname, t, boost=boost) for t in terms])
    # Several positions: take the main reading (words and compound parts, not the joined whole).
    sequence: dict[int, str] = {}
    for t in tokens:
        if t.origin == "whole":
            continue
        sequence.setdefault(t.pos, t.term)
    terms = [sequence[p] for p in sorted(sequence)]
    return _sequence_query(fieldname, terms, boost, slop=1)


_SYNONYM_TABLE = None


def _synonyms(text_terms: list[str]) -> list[list[str]]:
    global _SYNONYM_TABLE
    if not hasattr(analysis, "load_synonyms"):
        return []
    if _SYNONYM_TABLE is None:
        path = os.environ.get(settings.ENV_SYNONYMS)
        _SYNONYM_TABLE = analysis.load_synonyms(Path(path) if path else None)
    return [alt for alt in _SYNONYM_TABLE.expansions(text_terms) if alt != text_terms]


def _rewrite(q):
    """Map the parsed tree onto searchdoc's fields and weights."""

    if isinstance(q, wq.Term):
        if q.fieldname in _TEXT_FIELDS:
            return _word_query(q.fieldname, [q.text], q.boost)
        return q
    if isinstance(q, wq.Phrase):
        if q.fieldname in _TEXT_FIELDS:
            return _word_query(q.fieldname, list(q.words), q.boost, phrase=True)
        return q
    if isinstance(q, (wq.Prefix, wq.Wildcard)):
        if q.fieldname in _TEXT_FIELDS:
            folded = analysis.fold(q.text.rstrip("*?")) if isinstance(q, wq.Prefix) else analysis.fold(q.text)
            cls = type(q)
            alternatives = [cls("text" if q.fieldname == "text" else q.fieldname, folded, boost=q.boost)]
            if q.fieldname == "text":
                alternatives.append(cls("parts", folded, boost=q.boost * PARTS_BOOST))
            return wq.Or(alternatives)
        return q
    if isinstance(q, wq.And):
        children = [c for c in (_rewrite(c) for c in q.subqueries) if c is not None]
        if not children:
            return None
        return children[0] if len(children) == 1 else wq.And(children, boost=q.boost)
    if isinstance(q, wq.Or):
        children = [c for c in (_rewrite(c) for c in q.subqueries) if c is not None]
        if not children:
            return None
        return children[0] if len(children) == 1 else wq.Or(children, boost=q.boost)
    if isinstance(q, wq.Not):
        inner = _rewrite(q.query)
        return wq.Not(inner) if inner is not None else None
    if isinstance(q, wq.AndNot):
        positive = _rewrite(q.a)
        negative = _rewrite(q.b)
        if positive is None:
            return None
        return wq.AndNot(positive, negative) if negative is not None else positive
    if isinstance(q, wq.AndMaybe):
        required = _rewrite(q.a)
        optional = _rewrite(q.b)
        if required is None:
            return None
        return wq.AndMaybe(required, optional) if optional is not None else required
    if type(q).__name__ == "NullQuery" or q is wq.NullQuery:
        return None
    return q


def _matched_terms(q, reader) -> dict[str, set[str]]:
    """Index terms the query can match, per field, for highlighting."""
    found: dict[str, set[str]] = {}
    try:
        pairs = q.existing_terms(reader, expand=True)
    except Exception:
        pairs = set(q.iter_all_terms())
    for fieldname, term in pairs:
        if isinstance(term, bytes):
            term = term.decode("utf-8", errors="replace")
        found.setdefault(fieldname, set()).add(term)
    return found


@contextlib.contextmanager
def opened(directory: Path, corpus: Corpus, config=None):
    index = Index(directory, corpus, config)
    try:
        yield index
    finally:
        index.close()
