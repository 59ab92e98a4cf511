"""Search quality measured: searchdoc against plain Whoosh on judged Dutch queries.

The judgments (tests/data/search_judgments.json) grade the paragraphs of the letter and of the
official XML fixtures a reader would want for each query; tests/data/search_judgments_reader.json
does the same for queries as new users type them (issue 15). Run with ``-s`` to see the tables; set
SEARCHDOC_WRITE_QUALITY=1 to (re)write tests/data/search_quality.md and search_quality_reader.md,
which the docs quote.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from searchdoc import evaluate

DATA = Path(__file__).resolve().parent / "data"
JUDGMENTS = DATA / "search_judgments.json"
TABLE = DATA / "search_quality.md"
#: Queries as new users type them (issue 15), and their table.
READER_JUDGMENTS = DATA / "search_judgments_reader.json"
READER_TABLE = DATA / "search_quality_reader.md"
READER_KINDS = {"english", "synonym", "derivation", "partial", "paraphrase", "misspelling"}
#: searchdoc's figures per query of the first set before issue 15: no query may fall below them.
BEFORE = DATA / "search_quality_before.json"
# Read at import: the autouse fixture clears SEARCHDOC_* variables before each test runs.
WRITE_TABLE = bool(os.environ.get("SEARCHDOC_WRITE_QUALITY"))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return evaluate.run(tmp_path_factory.mktemp("quality"), JUDGMENTS, DATA / "official")


@pytest.fixture(scope="module")
def reader_report(tmp_path_factory):
    return evaluate.run(tmp_path_factory.mktemp("quality-reader"), READER_JUDGMENTS, DATA / "official")


def test_judgments_are_sound(report):
    judgments = evaluate.load_judgments(JUDGMENTS)
    assert len(judgments) >= 40
    assert len({j.query for j in judgments}) == len(judgments)
    assert all(j.relevant and set(j.relevant.values()) <= {1, 2} for j in judgments)
    assert report.documents > 1 and report.paragraphs > 100


def test_reader_judgments_are_sound():
    judgments = evaluate.load_judgments(READER_JUDGMENTS)
    assert len(judgments) >= 60
    assert {j.kind for j in judgments} == READER_KINDS
    assert all(sum(j.kind == kind for j in judgments) >= 10 for kind in READER_KINDS)
    queries = [j.query for j in judgments] + [j.query for j in evaluate.load_judgments(JUDGMENTS)]
    assert len(set(queries)) == len(queries)
    assert all(j.relevant and set(j.relevant.values()) <= {1, 2} for j in judgments)


def test_every_judged_paragraph_exists(tmp_path):
    corpus = evaluate.build_corpus(tmp_path / "corpus", DATA / "official")
    keys = {f"{d.id}#{p.n}" for d in corpus.documents() for p in d.paragraphs}
    judged = evaluate.load_judgments(JUDGMENTS) + evaluate.load_judgments(READER_JUDGMENTS)
    missing = {k for j in judged for k in j.relevant} - keys
    assert not missing


def test_searchdoc_is_clearly_ahead_and_never_worse(report):
    table = evaluate.to_markdown(report)
    print("\n" + table)
    if WRITE_TABLE:
        TABLE.write_text(table, encoding="utf-8")
    assert report.mean("searchdoc", "recall") >= report.mean("baseline", "recall") + 0.15
    assert report.mean("searchdoc", "rr") >= report.mean("baseline", "rr") + 0.04
    assert report.mean("searchdoc", "ndcg") >= report.mean("baseline", "ndcg") + 0.15
    worse = [(r.judgment.query, r.baseline, r.searchdoc) for r in report.worse()]
    assert not worse


def test_no_query_of_the_first_set_is_worse_than_before_issue_15(report):
    before = json.loads(BEFORE.read_text(encoding="utf-8"))
    assert set(before) == {r.judgment.query for r in report.results}
    worse = []
    for r in report.results:
        old = before[r.judgment.query]
        # The figures are stored to four decimals.
        if any(getattr(r.searchdoc, m) < old[m] - 1e-4 for m in ("recall", "rr", "ndcg")):
            worse.append((r.judgment.query, old, r.searchdoc))
    assert not worse


def test_queries_as_new_users_type_them(reader_report):
    """Recall@10 and MRR of at least 0.90 over the six new kinds, each kind well ahead of plain
    Whoosh."""
    table = evaluate.to_markdown(reader_report)
    print("\n" + table)
    if WRITE_TABLE:
        READER_TABLE.write_text(table, encoding="utf-8")
    assert reader_report.mean("searchdoc", "recall") >= 0.90
    assert reader_report.mean("searchdoc", "rr") >= 0.90
    for kind in READER_KINDS:
        part = evaluate.Report([r for r in reader_report.results if r.judgment.kind == kind])
        assert part.mean("searchdoc", "recall") >= 0.75, kind
        assert part.mean("searchdoc", "rr") >= 0.75, kind
        assert part.mean("searchdoc", "recall") >= part.mean("baseline", "recall") + 0.3, kind
    assert not reader_report.worse()


def test_metrics():
    relevant = {"a": 2, "b": 1, "c": 1}
    assert evaluate.recall_at(["x", "a", "b"], relevant, 2) == pytest.approx(1 / 3)
    assert evaluate.reciprocal_rank(["x", "y", "b"], relevant) == pytest.approx(1 / 3)
    assert evaluate.reciprocal_rank(["x"], relevant) == 0.0
    assert evaluate.ndcg_at(["a", "b", "c"], relevant) == pytest.approx(1.0)
    assert 0 < evaluate.ndcg_at(["c", "b", "a"], relevant) < 1
    assert evaluate.ndcg_at(["x", "y"], relevant) == 0.0
