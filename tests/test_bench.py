"""The benchmark runs end to end on a tiny corpus and reports every figure; start-up stays lean."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from searchdoc import bench
from searchdoc.corpus import Corpus

HEAVY = ("whoosh", "requests", "lxml", "bs4", "wordfreq", "starlette", "uvicorn", "jinja2", "anyio")


def test_generated_corpus_is_deterministic_and_realistic(tmp_path):
    first = bench.generate_corpus(tmp_path / "a", 70)
    second = bench.generate_corpus(tmp_path / "b", 70)
    assert first.document_ids == second.document_ids == ["kst-90000-2", "kst-90000-3", "kst-90000-4"]
    for doc_id in first.document_ids:
        assert Corpus(tmp_path / "a").load(doc_id) == Corpus(tmp_path / "b").load(doc_id)
    corpus = Corpus(tmp_path / "a")
    documents = [corpus.load(d) for d in corpus.ids()]
    assert [len(d.paragraphs) for d in documents] == [30, 30, 10]
    assert first.paragraphs == 70 and first.words > 70 * 15 and first.distinct_words > 300
    paragraphs = [p for d in documents for p in d.paragraphs]
    assert all(p.section for p in paragraphs)
    cited = [p for p in paragraphs if p.citations and p.citations[0].footnote is None]
    assert cited and all(p.text[p.citations[0].start:p.citations[0].end] == p.citations[0].raw for p in cited)
    notes = [n for p in paragraphs for n in p.footnotes]
    assert notes and sorted(notes) == sorted(f.n for d in documents for f in d.footnotes)


def test_percentiles():
    figures = bench.percentiles([i / 1000 for i in range(1, 101)])
    assert figures == {"n": 100, "p50_ms": 51.0, "p95_ms": 96.0, "p99_ms": 100.0, "max_ms": 100.0}


@pytest.mark.slow
def test_smoke_run_reports_every_figure(tmp_path):
    out = tmp_path / "out"
    report = bench.run_benchmark(300, out, work=tmp_path / "work", query_repeats=1, process_repeats=1)
    saved = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(report))
    assert saved["corpus"]["paragraphs"] == 300 and saved["corpus"]["documents"] == 10
    for step in ("searchdoc_build", "whoosh_baseline_build"):
        assert saved[step]["seconds"] > 0 and saved[step]["cpu_seconds"] > 0 and saved[step]["index_mb"] > 0
    assert saved["searchdoc_build"]["peak_tree_pss_mb"] > 0
    assert set(saved["queries"]["by_type"]) == {"word", "phrase", "prefix", "theme", "context"}
    assert saved["queries"]["hits"]["drones"] > 0
    assert saved["queries"]["overall"]["n"] == len(bench.QUERY_MIX)
    incremental = saved["incremental"]
    assert incremental["change"]["updated"] == [incremental["changed_document"]]
    assert incremental["add"]["added"] == [incremental["added_document"]]
    assert incremental["change"]["paragraphs"] == incremental["add"]["paragraphs"] == 30
    assert saved["cold_search"]["ratio"] > 0 and saved["help"]["median_s"] > 0
    assert saved["sqlite_fts5"]["build_seconds"] >= 0 and saved["sqlite_fts5"]["queries"]["n"] > 0
    web = saved["web"]
    assert web["clients"] == 16 and web["errors"] == 0 and web["single_client_errors"] == 0
    assert web["concurrent"]["n"] == 16 * 2 * len(bench.QUERY_MIX) and web["concurrent"]["p95_ms"] > 0
    names = [t["target"] for t in saved["targets"]]
    assert len(names) == 7 and all(t["met"] in (True, False, None) for t in saved["targets"])
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "## Targets" in markdown and saved["machine"]["cpu"] in markdown
    for name in names:
        assert name in markdown


def test_memory_only_mode_builds_and_measures_memory(tmp_path):
    report = bench.run_benchmark(60, tmp_path / "out", memory_only=True, work=tmp_path / "work")
    assert "whoosh_baseline_build" not in report and "queries" not in report
    assert report["searchdoc_build"]["peak_tree_pss_mb"] > 0
    assert [t["met"] for t in report["targets"]] == [None]


@pytest.mark.parametrize("module", ["searchdoc", "searchdoc.cli"])
def test_importing_the_cli_loads_no_heavy_library(module):
    code = (f"import sys, {module}; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_help_loads_no_heavy_library():
    code = (
        "import sys, runpy\n"
        "sys.argv = ['searchdoc', '--help']\n"
        "try:\n    runpy.run_module('searchdoc', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "Usage:" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "[]"
