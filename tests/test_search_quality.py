"""Search quality measured: searchdoc against plain Whoosh on judged Dutch queries.

The judgments (tests/data/search_judgments.json) grade the paragraphs of the letter and of the
official XML fixtures a reader would want for each query. Run with ``-s`` to see the table; set
SEARCHDOC_WRITE_QUALITY=1 to (re)write tests/data/search_quality.md, which the docs quote.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from searchdoc import evaluate

DATA = Path(__file__).resolve().parent / "data"
JUDGMENTS = DATA / "search_judgments.json"
TABLE = DATA / "search_quality.md"
# Read at import: the autouse fixture clears SEARCHDOC_* variables before each test runs.
WRITE_TABLE = bool(os.environ.get("SEARCHDOC_WRITE_QUALITY"))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return evaluate.run(tmp_path_factory.mktemp("quality"), JUDGMENTS, DATA / "official")


def test_judgments_are_sound(report):
    judgments = evaluate.load_judgments(JUDGMENTS)
    assert len(judgments) >= 40
    assert len({j.query for j in judgments}) == len(judgments)
    assert all(j.relevant and set(j.relevant.values()) <= {1, 2} for j in judgments)
    assert report.documents > 1 and report.paragraphs > 100


def test_every_judged_paragraph_exists(tmp_path):
    corpus = evaluate.build_corpus(tmp_path / "corpus", DATA / "official")
    keys = {f"{d.id}#{p.n}" for d in corpus.documents() for p in d.paragraphs}
    missing = {k for j in evaluate.load_judgments(JUDGMENTS) for k in j.relevant} - keys
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


def test_metrics():
    relevant = {"a": 2, "b": 1, "c": 1}
    assert evaluate.recall_at(["x", "a", "b"], relevant, 2) == pytest.approx(1 / 3)
    assert evaluate.reciprocal_rank(["x", "y", "b"], relevant) == pytest.approx(1 / 3)
    assert evaluate.reciprocal_rank(["x"], relevant) == 0.0
    assert evaluate.ndcg_at(["a", "b", "c"], relevant) == pytest.approx(1.0)
    assert 0 < evaluate.ndcg_at(["c", "b", "a"], relevant) < 1
    assert evaluate.ndcg_at(["x", "y"], relevant) == 0.0
