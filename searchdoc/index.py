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
from collections.abc import Callable, Iterable
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
from searchdoc.query import build_query, matched_terms

log = logging.getLogger(__name__)

#: Bump when the schema or the meaning of a field changes: a different version forces a rebuild.
SCHEMA_VERSION = 1
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
        return [theme.id for theme in self.tagger().taxonomy]

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
            self._remove_leftovers()
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
        except (SearchdocError, KeyboardInterrupt, SystemExit):
            writer.cancel()
            raise
        except Exception as exc:
            with contextlib.suppress(Exception):
                writer.cancel()
            raise IndexDamagedError(f"index at {self.directory} is damaged: {exc.__class__.__name__}") from exc
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
            if self.readable():
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
                for _ in zip(range(1), reader.lexicon(fieldname)):
                    pass
            for _ in zip(range(1), reader.all_stored_fields()):
                pass
            return True
        except Exception:
            self.close()
            return False

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
        matched = matched_terms(query, searcher.reader())
        theme_counts = self._theme_counts(results)
        return RawResults(total=len(results), hits=hits, matched_terms=matched, theme_counts=theme_counts)

    def _theme_counts(self, results) -> dict[str, int]:

        docs = results.docs()
        if not docs:
            return {}
        counts = {}
        searcher = self.searcher()
        for theme in self.theme_ids():
            theme_docs = set(searcher.docs_for_query(wq.Term("themes", theme)))
            count = len(docs & theme_docs) if isinstance(docs, set) else sum(1 for d in docs if d in theme_docs)
            if count:
                counts[theme] = count
        return counts

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


@contextlib.contextmanager
def opened(directory: Path, corpus: Corpus, config=None):
    index = Index(directory, corpus, config)
    try:
        yield index
    finally:
        index.close()
