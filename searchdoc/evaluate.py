"""Search quality: searchdoc's ranking against a plain Whoosh baseline on judged queries.

The judgments (``tests/data/search_judgments.json``) list, per query, the paragraphs a reader
would want, graded 2 (what they are looking for) or 1 (related). Both systems search the same
paragraphs; the baseline is what a first attempt with Whoosh gives: the paragraph text under
``LanguageAnalyzer("nl")`` (Snowball Dutch and stop words), the default ``QueryParser`` and BM25F.

Run ``python -m searchdoc.evaluate --official tests/data/official --out tests/data/search_quality.md``
to build a corpus of the bundled letter and the official XML fixtures in a temporary folder,
evaluate both systems and write the table. ``--judgments tests/data/search_judgments_reader.json``
evaluates the queries as new users type them (English, synonyms, derived forms, missing words,
paraphrases, misspellings; issue 15), ``search_judgments_heldout.json`` the held-out ones; the
tables report every kind of query separately (see docs/search-quality.md).
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

#: Ranks that count: recall and nDCG are measured over the first CUTOFF results.
CUTOFF = 10


@dataclass
class Judgment:
    """One query and the paragraphs (``doc_id#n``) judged relevant, with their grades."""

    query: str
    relevant: dict[str, int]
    need: str = ""
    kind: str = ""


@dataclass
class Scores:
    """Recall@k, reciprocal rank and nDCG@k of one ranking."""

    recall: float
    rr: float
    ndcg: float


@dataclass
class QueryResult:
    judgment: Judgment
    searchdoc: Scores
    baseline: Scores
    searchdoc_ranking: list[str] = field(default_factory=list)
    baseline_ranking: list[str] = field(default_factory=list)


@dataclass
class Report:
    results: list[QueryResult]
    paragraphs: int = 0
    documents: int = 0
    searchdoc_ms: float = 0.0
    baseline_ms: float = 0.0

    def mean(self, system: str, metric: str) -> float:
        values = [getattr(getattr(r, system), metric) for r in self.results]
        return sum(values) / len(values) if values else 0.0

    def worse(self) -> list[QueryResult]:
        """Queries where searchdoc's recall or reciprocal rank is below the baseline's."""
        return [
            r for r in self.results
            if r.searchdoc.recall < r.baseline.recall - 1e-9 or r.searchdoc.rr < r.baseline.rr - 1e-9
        ]


def load_judgments(path: str | Path) -> list[Judgment]:
    """The judged queries of a judgments file (``{"queries": [{"query", "relevant", ...}]}``)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [
        Judgment(q["query"], {k: int(v) for k, v in q["relevant"].items()}, q.get("need", ""), q.get("kind", ""))
        for q in data["queries"]
    ]


# --------------------------------------------------------------------------- metrics


def recall_at(ranking: list[str], relevant: dict[str, int], k: int = CUTOFF) -> float:
    """Share of the relevant paragraphs found in the first ``k``."""
    if not relevant:
        return 0.0
    return len(set(ranking[:k]) & set(relevant)) / len(relevant)


def reciprocal_rank(ranking: list[str], relevant: dict[str, int]) -> float:
    """1 / rank of the first relevant paragraph (0 when none is found)."""
    for rank, key in enumerate(ranking, 1):
        if key in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranking: list[str], relevant: dict[str, int], k: int = CUTOFF) -> float:
    """Normalised discounted cumulative gain over the first ``k`` (gain 2^grade - 1)."""

    def dcg(grades: Iterable[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades))

    ideal = dcg(sorted(relevant.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg(relevant.get(key, 0) for key in ranking[:k]) / ideal


def score(ranking: list[str], relevant: dict[str, int], k: int = CUTOFF) -> Scores:
    return Scores(recall_at(ranking, relevant, k), reciprocal_rank(ranking, relevant), ndcg_at(ranking, relevant, k))


# --------------------------------------------------------------------------- the two systems


def build_corpus(root: Path, official_dir: Path | None = None):
    """A corpus of the bundled letter and every ``<id>.xml`` with a ``<id>.metadata.xml`` in
    ``official_dir``, parsed, enriched and saved as the crawler would."""
    from searchdoc.corpus import Corpus
    from searchdoc.parse.officialxml import parse_metadata_xml
    from searchdoc.pipeline import enrich, parse_source, seed_corpus

    corpus = Corpus(Path(root))
    corpus.documents_dir.mkdir(parents=True, exist_ok=True)
    seed_corpus(corpus)
    if official_dir is not None:
        for meta_path in sorted(Path(official_dir).glob("*.metadata.xml")):
            doc_id = meta_path.name[: -len(".metadata.xml")]
            xml_path = meta_path.with_name(f"{doc_id}.xml")
            if not xml_path.is_file() or corpus.has(doc_id):
                continue
            raw = xml_path.read_bytes()
            document = enrich(parse_source(raw, "xml", doc_id, parse_metadata_xml(meta_path.read_bytes())))
            corpus.save(document, raw=raw, raw_ext="xml")
    return corpus


class Baseline:
    """Plain Whoosh over the same paragraphs: LanguageAnalyzer("nl"), QueryParser, BM25F."""

    def __init__(self, directory: Path, corpus):
        from whoosh import fields, index
        from whoosh.analysis import LanguageAnalyzer

        schema = fields.Schema(
            key=fields.ID(stored=True, unique=True), text=fields.TEXT(analyzer=LanguageAnalyzer("nl"))
        )
        Path(directory).mkdir(parents=True, exist_ok=True)
        self._ix = index.create_in(str(directory), schema)
        writer = self._ix.writer()
        for document in corpus.documents():
            for paragraph in document.paragraphs:
                writer.add_document(key=f"{document.id}#{paragraph.n}", text=paragraph.text)
        writer.commit()
        self._searcher = self._ix.searcher()

    def ranking(self, query: str, limit: int = CUTOFF) -> list[str]:
        from whoosh.qparser import QueryParser

        parsed = QueryParser("text", self._ix.schema).parse(query)
        return [hit["key"] for hit in self._searcher.search(parsed, limit=limit)]

    def close(self) -> None:
        self._searcher.close()
        self._ix.close()


def searchdoc_ranking(index, corpus, query: str, limit: int = CUTOFF) -> list[str]:
    """searchdoc's ranking: the paragraphs :func:`searchdoc.search.search` returns, as keys (those
    with all the words, then those with most of them; a respelt query's when the query as typed
    finds nothing), as a reader sees them."""
    from searchdoc.search import search

    return [f"{hit.doc_id}#{hit.paragraph}" for hit in search(index, corpus, query, limit=limit).hits]


def _timed(rank: Callable[[str], list[str]], query: str) -> tuple[list[str], float]:
    started = time.perf_counter()
    ranking = rank(query)
    return ranking, (time.perf_counter() - started) * 1000


def evaluate(judgments: list[Judgment], index, corpus, baseline: Baseline, k: int = CUTOFF) -> Report:
    """Run every judged query on both systems (each once to warm up, then timed) and score them."""
    results = []
    ours_ms, theirs_ms = [], []
    for judgment in judgments:
        searchdoc_ranking(index, corpus, judgment.query, k)
        baseline.ranking(judgment.query, k)
        ours, ms = _timed(lambda q: searchdoc_ranking(index, corpus, q, k), judgment.query)
        ours_ms.append(ms)
        theirs, ms = _timed(lambda q: baseline.ranking(q, k), judgment.query)
        theirs_ms.append(ms)
        results.append(
            QueryResult(judgment, score(ours, judgment.relevant, k), score(theirs, judgment.relevant, k), ours, theirs)
        )
    documents = list(corpus.ids())
    paragraphs = sum(len(corpus.load(d).paragraphs) for d in documents)
    return Report(results, paragraphs, len(documents), statistics.median(ours_ms), statistics.median(theirs_ms))


def run(root: Path, judgments_path: Path, official_dir: Path | None = None, k: int = CUTOFF) -> Report:
    """Build the evaluation corpus, searchdoc's index and the baseline under ``root``; evaluate."""
    from searchdoc.index import Index

    corpus = build_corpus(Path(root) / "corpus", official_dir)
    index = Index(Path(root) / "index", corpus)
    index.update()
    baseline = Baseline(Path(root) / "baseline", corpus)
    try:
        return evaluate(load_judgments(judgments_path), index, corpus, baseline, k)
    finally:
        baseline.close()
        index.close()


# --------------------------------------------------------------------------- the table


def to_markdown(report: Report, k: int = CUTOFF) -> str:
    """The summary table, the per-kind means and the per-query figures, as Markdown."""
    rows = [
        f"Judged queries: {len(report.results)}; corpus: {report.documents} documents, {report.paragraphs} "
        f"paragraphs (the letter and the official XML fixtures).",
        "",
        f"| system | recall@{k} | MRR | nDCG@{k} | median query ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, system, ms in (("plain Whoosh (nl analyzer, BM25F)", "baseline", report.baseline_ms),
                             ("searchdoc", "searchdoc", report.searchdoc_ms)):
        rows.append(
            f"| {name} | {report.mean(system, 'recall'):.3f} | {report.mean(system, 'rr'):.3f} "
            f"| {report.mean(system, 'ndcg'):.3f} | {ms:.1f} |"
        )
    rows += ["", "Query times are medians over the judged queries on one machine: for searchdoc the whole "
             "`search()` (ranking, hits with context and highlights, theme facets), for the baseline "
             "`searcher.search` alone."]
    kinds = list(dict.fromkeys(r.judgment.kind or "other" for r in report.results))
    rows += ["", f"| kind of query | queries | recall@{k} baseline → searchdoc | MRR baseline → searchdoc |",
             "|---|---:|---|---|"]
    for kind in kinds:
        subset = [r for r in report.results if (r.judgment.kind or "other") == kind]
        part = Report(subset)
        recall = f"{part.mean('baseline', 'recall'):.2f} → {part.mean('searchdoc', 'recall'):.2f}"
        rr = f"{part.mean('baseline', 'rr'):.2f} → {part.mean('searchdoc', 'rr'):.2f}"
        rows.append(f"| {kind} | {len(subset)} | {recall} | {rr} |")
    rows += ["", f"| query | relevant | recall@{k} base / sd | RR base / sd | nDCG@{k} base / sd |",
             "|---|---:|---|---|---|"]
    for r in report.results:
        b, s = r.baseline, r.searchdoc
        query = r.judgment.query.replace("|", "\\|")
        rows.append(
            f"| `{query}` | {len(r.judgment.relevant)} | {b.recall:.2f} / {s.recall:.2f} | {b.rr:.2f} / {s.rr:.2f} "
            f"| {b.ndcg:.2f} / {s.ndcg:.2f} |"
        )
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    default_tests = Path(__file__).resolve().parent.parent / "tests" / "data"
    parser = argparse.ArgumentParser(prog="python -m searchdoc.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--judgments", type=Path, default=default_tests / "search_judgments.json")
    parser.add_argument("--official", type=Path, default=default_tests / "official",
                        help="folder of <id>.xml and <id>.metadata.xml files to add to the corpus")
    parser.add_argument("--out", type=Path, help="write the Markdown table here as well")
    args = parser.parse_args(argv)
    if not args.judgments.is_file():
        # The judgments live in a checkout's tests/data, which an installed package lacks.
        print(f"python -m searchdoc.evaluate: error: no judgments file at {args.judgments}; run it in a searchdoc "
              "checkout or give --judgments FILE (and --official FOLDER)", file=sys.stderr)
        return 2
    from searchdoc.errors import SearchdocError

    try:
        with tempfile.TemporaryDirectory(prefix="searchdoc-eval-") as tmp:
            report = run(Path(tmp), args.judgments, args.official if args.official.is_dir() else None)
    except (SearchdocError, OSError, ValueError, KeyError, TypeError) as exc:
        print(f"python -m searchdoc.evaluate: error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)
    table = to_markdown(report)
    if args.out:
        args.out.write_text(table, encoding="utf-8")
    print(table, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
