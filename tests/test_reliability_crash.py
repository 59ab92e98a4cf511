"""Crash safety: ``kill -9`` at random moments of ingest, index (rebuild and incremental) and crawl.

After every kill the corpus must hold whole documents only (every JSON loads, every raw file
matches the sha256 in its provenance, or - when the kill fell between the raw file and its
JSON - is exactly the new version, which ``doctor`` rolls forward), and the index must be the
previous good one or be detected and rebuilt by the next command, after which a search gives
the right paragraphs and ``doctor`` finds nothing but leftovers of the killed process.

Each kill lands at a chosen call in the killed process itself, not at a moment: the command
runs with a hook that sends SIGKILL to its own process on the n-th call of a function (parsing a
document, syncing a written file before its rename, renaming it into place, creating or removing
a folder). The calls are counted in an uninterrupted run and n is drawn from a seeded generator,
so kills land mid-parse, mid-write and mid-commit on every run, however fast or loaded the
machine is.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from searchdoc import settings
from searchdoc.corpus import Corpus
from searchdoc.doctor import doctor
from searchdoc.index import Index
from searchdoc.model import Document

DATA = Path(__file__).parent / "data"
OFFICIAL = DATA / "official"
MARKER = "pelikaan"
KILLS = 20
#: Findings a kill may leave behind: leftovers of the killed process, which doctor removes.
LEFTOVERS = {"temp-file", "orphan-raw", "index-leftover"}
WORDS = sorted(set(re.findall(r"[a-zé]{5,}", (settings.bundled_data_dir() / f"{settings.LETTER_ID}.txt")
                                .read_text(encoding="utf-8").lower())) - {MARKER})


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_text(rng: random.Random, paragraphs: int, marked: bool) -> str:
    """Plain text of a few paragraphs of the letter's words; the first carries MARKER if ``marked``."""
    out = []
    for n in range(paragraphs):
        words = [rng.choice(WORDS) for _ in range(rng.randint(25, 45))]
        if marked and n == 0:
            words.insert(rng.randrange(len(words)), MARKER)
        sentence = " ".join(words)
        out.append(sentence[0].upper() + sentence[1:] + ".")
    return "\n\n".join(out) + "\n"


def write_sources(folder: Path, ids: list[str], version: int, seed: int, paragraphs: int = 4) -> dict[str, bytes]:
    """One text file per id (the file name is the id); returns the bytes written per id."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for i, doc_id in enumerate(ids):
        rng = random.Random(f"{seed}-{doc_id}-{version}")
        data = document_text(rng, paragraphs, marked=(i + version) % 3 == 0).encode("utf-8")
        (folder / f"{doc_id}.txt").write_bytes(data)
        written[doc_id] = data
    return written


def searchdoc_env(corpus_dir: Path, index_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(SEARCHDOC_CORPUS=str(corpus_dir), SEARCHDOC_INDEX=str(index_dir), SEARCHDOC_DELAY="0", **extra)
    env.pop("SEARCHDOC_DEBUG", None)
    return env


#: Runs ``searchdoc ARGS`` with every function in TARGETS counted (in the main process, not in
#: forked workers) and the N-th call of KILL_TARGET turned into kill -9 of that process (or
#: into another signal, as ``os.fsync@3:SIGSTOP``); the counts of a run that finishes are
#: written to COUNT_FILE as JSON.
#: Usage: python -c KILL_HOOK TARGETS KILL_TARGET@N[:SIGNAL] COUNT_FILE ARGS...
KILL_HOOK = r"""
import importlib, json, os, signal, sys

targets, spec, count_file, *args = sys.argv[1:]
kill_target, _, kill_at = spec.partition("@")
kill_nth, _, kill_signal = kill_at.partition(":")
kill_signal = getattr(signal, kill_signal or "SIGKILL")
main_pid = os.getpid()
calls = {}


def install(target):
    module_name, _, name = target.rpartition(".")
    module = importlib.import_module(module_name)
    original = getattr(module, name)

    def hooked(*a, **k):
        if os.getpid() == main_pid:
            calls[target] = calls.get(target, 0) + 1
            if target == kill_target and calls[target] == int(kill_nth):
                os.kill(main_pid, kill_signal)
        return original(*a, **k)

    setattr(module, name, hooked)


for target in targets.split(","):
    install(target)
from searchdoc.cli import main

try:
    main(args)
finally:
    with open(count_file, "w") as handle:
        json.dump(calls, handle)
"""
#: Where kills land: parsing a source, syncing a written file (before its rename), the rename.
STORE_POINTS = ("searchdoc.pipeline.parse_source", "os.fsync", "os.replace")
#: Where kills land in an index build: its folders, its files, its renames.
INDEX_POINTS = ("os.mkdir", "os.fsync", "os.replace", "os.unlink")


def hooked_run(args: list[str], env: dict[str, str], points: tuple[str, ...], kill: str,
               count_file: str = os.devnull) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", KILL_HOOK, ",".join(points), kill, count_file, *args], env=env,
                          capture_output=True, text=True, timeout=180)


def count_calls(args: list[str], env: dict[str, str], points: tuple[str, ...], folder: Path) -> dict[str, int]:
    """Run the command to completion; how often it called each of ``points``."""
    count_file = folder / "calls.json"
    result = hooked_run(args, env, points, "none@0", str(count_file))
    assert result.returncode == 0, result.stderr
    counts = json.loads(count_file.read_text())
    count_file.unlink()
    return {point: counts.get(point, 0) for point in points}


def run_and_kill(args: list[str], env: dict[str, str], points: tuple[str, ...], kill: tuple[str, int]) -> bool:
    """Run a searchdoc command that SIGKILLs itself at the ``kill[1]``-th call of ``kill[0]``;
    True if it was killed, False if it finished before that call."""
    result = hooked_run(args, env, points, f"{kill[0]}@{kill[1]}")
    if result.returncode == -signal.SIGKILL:
        return True
    assert result.returncode == 0, result.stderr
    return False


def start_paused(args: list[str], env: dict[str, str], points: tuple[str, ...],
                 pause: tuple[str, int]) -> subprocess.Popen:
    """Start a searchdoc command that stops itself (SIGSTOP) at the ``pause[1]``-th call of
    ``pause[0]``; return once it has stopped there. Continue it with SIGCONT."""
    process = subprocess.Popen(
        [sys.executable, "-c", KILL_HOOK, ",".join(points), f"{pause[0]}@{pause[1]}:SIGSTOP", os.devnull, *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status = os.waitpid(process.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), f"{args} ended before its call {pause[1]} of {pause[0]}"
    return process


def kill_plan(rng: random.Random, counts: dict[str, int], count: int) -> list[tuple[str, int]]:
    """(function, n) pairs: each point in turn, at a call drawn from those of a full run."""
    points = [point for point in sorted(counts) if counts[point]]
    plan = []
    for n in range(count):
        point = points[n % len(points)]
        plan.append((point, rng.randint(1, counts[point])))
    return plan


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "searchdoc", *args], env=env, capture_output=True, text=True,
                          timeout=180)


def check_corpus(corpus_dir: Path, in_flight: dict[str, set[str]] | None = None) -> set[str]:
    """Assert that the corpus holds whole documents; return the ids whose save was cut in between.

    ``in_flight`` maps ids to the sha256 of the versions the killed command was writing: a raw
    file that is ahead of its JSON must be exactly one of those (raw files are written first).
    """
    in_flight = in_flight or {}
    cut: set[str] = set()
    for path in sorted((corpus_dir / "documents").glob("*.json")):
        if path.name.startswith("."):
            continue
        document = Document.from_dict(json.loads(path.read_bytes()))
        assert document.id == path.stem and document.paragraphs
        for file_key, sha_key in (("raw_file", "sha256"), ("metadata_file", "metadata_sha256")):
            name = document.provenance.get(file_key)
            if not name:
                continue
            actual = sha((corpus_dir / name).read_bytes())
            if actual != document.provenance[sha_key]:
                assert actual in in_flight.get(document.id, set()), f"{name} matches neither its JSON nor a new version"
                cut.add(document.id)
    return cut


def expected_hits(corpus_dir: Path) -> set[tuple[str, int]]:
    """Ground truth from the corpus itself: every paragraph containing MARKER."""
    found = set()
    for path in (corpus_dir / "documents").glob("*.json"):
        if path.name.startswith("."):
            continue
        document = Document.from_dict(json.loads(path.read_bytes()))
        for paragraph in document.paragraphs:
            if re.search(rf"\b{MARKER}\b", paragraph.text, re.IGNORECASE):
                found.add((document.id, paragraph.n))
    return found


def assert_search_correct(corpus_dir: Path, index_dir: Path) -> None:
    """What the next command sees: the index brought up to date (or rebuilt), then searched."""
    from searchdoc import search as searching

    corpus = Corpus(corpus_dir)
    index = Index(index_dir, corpus)
    try:
        index.ensure_fresh()
        result = searching.search(index, corpus, MARKER, limit=None)
        found = {(hit.doc_id, hit.paragraph) for hit in result.hits}
        expected = expected_hits(corpus_dir)
        if found != expected:
            stored = {f["key"]: f.get("text", "") for f in index.searcher().all_stored_fields()}
            state = (index.read_state() or {}).get("docs", {})
            fingerprints = corpus.fingerprints()
            details = [
                f"{d}#{n}: {'extra' if (d, n) in found else 'missing'}; state {state.get(d)} corpus "
                f"{fingerprints.get(d)}; json {corpus.load(d).paragraph(n).text[:120]!r}; "
                f"index {stored.get(f'{d}#{n}', '')[:120]!r}"
                for d, n in sorted(found ^ expected)
            ]
            raise AssertionError("search disagrees with the corpus:\n" + "\n".join(details))
        assert expected
    finally:
        index.close()


def doctor_findings(corpus_dir: Path, index_dir: Path) -> set[str]:
    report = doctor(settings.Settings(corpus_dir=corpus_dir, index_dir=index_dir), repair=False)
    return {f.code for f in report.findings}


def finish(corpus_dir: Path, index_dir: Path, env: dict[str, str]) -> None:
    """After the kills: the installed command line searches correctly and doctor ends healthy."""
    result = cli(["search", MARKER, "--limit", "100000", "--format", "json"], env)
    assert result.returncode == 0, result.stderr
    hits = {(h["doc_id"], h["paragraph"]) for h in json.loads(result.stdout)["hits"]}
    assert hits == expected_hits(corpus_dir) and hits
    result = cli(["doctor", "--format", "json"], env)
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["healthy"], report
    assert {f["code"] for f in report["findings"]} <= LEFTOVERS | {"raw-mismatch"}, report
    result = cli(["doctor", "--no-repair", "--format", "json"], env)
    assert result.returncode == 0 and json.loads(result.stdout)["findings"] == [], result.stdout
    assert not list(corpus_dir.rglob(".*.tmp"))
    assert not [p for p in index_dir.parent.iterdir() if ".building-" in p.name or ".old-" in p.name]


def build_corpus(tmp_path: Path, documents: int, paragraphs: int = 4) -> tuple[Path, Path, list[str]]:
    from searchdoc.pipeline import ingest_files

    corpus_dir, index_dir = tmp_path / "corpus", tmp_path / "index"
    ids = [f"kst-91{i:03d}-1" for i in range(documents)]
    write_sources(tmp_path / "base", ids, 0, seed=1, paragraphs=paragraphs)
    corpus = Corpus(corpus_dir)
    corpus.documents_dir.mkdir(parents=True)
    ingest_files(corpus, sorted((tmp_path / "base").glob("*.txt")))
    index = Index(index_dir, corpus)
    index.update()
    index.close()
    return corpus_dir, index_dir, ids


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_kill_during_ingest(tmp_path):
    corpus_dir, index_dir, ids = build_corpus(tmp_path, 40)
    env = searchdoc_env(corpus_dir, index_dir)
    rng = random.Random(9001)

    def batch(round_no: int) -> tuple[Path, dict[str, str]]:
        """20 changed documents and 5 new ones, as files for one ingest command."""
        wanted = rng.sample(ids, 20) + [f"kst-92{round_no:03d}-{j}" for j in range(1, 6)]
        folder = tmp_path / f"batch-{round_no}"
        written = write_sources(folder, wanted, version=round_no + 1, seed=2)
        return folder, {doc_id: sha(data) for doc_id, data in written.items()}

    folder, _ = batch(0)
    counts = count_calls(["ingest", *map(str, sorted(folder.glob("*.txt")))], env, STORE_POINTS, tmp_path)
    ids.extend(f"kst-92000-{j}" for j in range(1, 6))
    kills = mid_write = cut_total = 0
    attempted: dict[str, set[str]] = {}
    for round_no, kill in enumerate(kill_plan(rng, counts, 2 * KILLS), start=1):
        if kills >= KILLS:
            break
        folder, new = batch(round_no)
        for doc_id, digest in new.items():
            attempted.setdefault(doc_id, set()).add(digest)
        killed = run_and_kill(["ingest", *map(str, sorted(folder.glob("*.txt")))], env, STORE_POINTS, kill)
        kills += killed
        cut = check_corpus(corpus_dir, attempted)
        cut_total += len(cut)
        corpus = Corpus(corpus_dir)
        stored = [d for d in new if corpus.has(d) and corpus.load(d).provenance["sha256"] == new[d]]
        mid_write += killed and 0 < len(stored) < len(new)
        findings = doctor_findings(corpus_dir, index_dir)
        assert findings <= LEFTOVERS | ({"raw-mismatch"} if cut else set()), findings
        ids.extend(d for d in new if d not in ids and corpus.has(d))
    print(f"ingest: calls {counts}, {kills} kills, {mid_write} mid-write, {cut_total} cut saves")
    assert kills >= KILLS
    assert mid_write >= 2, f"only {mid_write} of {kills} kills landed while documents were being stored"
    assert_search_correct(corpus_dir, index_dir)
    finish(corpus_dir, index_dir, env)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_kill_during_index_rebuild(tmp_path):
    corpus_dir, index_dir, _ = build_corpus(tmp_path, 60)
    env = searchdoc_env(corpus_dir, index_dir)
    rng = random.Random(9002)
    counts = count_calls(["index", "--rebuild"], env, INDEX_POINTS, tmp_path)
    kills = mid_build = 0
    for kill in kill_plan(rng, counts, 2 * KILLS):
        if kills >= KILLS:
            break
        before = {p.name for p in index_dir.parent.iterdir()}
        killed = run_and_kill(["index", "--rebuild"], env, INDEX_POINTS, kill)
        kills += killed
        # A kill during the build leaves the killed process's building folder behind.
        mid_build += killed and any(".building-" in p.name and p.name not in before
                                    for p in index_dir.parent.iterdir())
        status, _ = Index(index_dir, Corpus(corpus_dir)).staleness()
        # The previous index stays whole, or (killed between the two renames) is missing and rebuilt.
        assert status in ("fresh", "missing")
        findings = doctor_findings(corpus_dir, index_dir)
        assert findings <= LEFTOVERS, findings
        assert_search_correct(corpus_dir, index_dir)
    assert kills >= KILLS
    assert mid_build >= 3, f"only {mid_build} of {kills} kills landed during the build"
    finish(corpus_dir, index_dir, env)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_kill_during_incremental_index(tmp_path):
    corpus_dir, index_dir, ids = build_corpus(tmp_path, 30)
    env = searchdoc_env(corpus_dir, index_dir)
    corpus = Corpus(corpus_dir)
    rng = random.Random(9003)
    state = {"version": 1}

    def change_corpus() -> None:
        from searchdoc.pipeline import ingest_files

        state["version"] += 1
        added = f"kst-97{state['version']:03d}-1"
        chosen = [*rng.sample(ids, 9), added]
        folder = tmp_path / f"changes-{state['version']}"
        write_sources(folder, chosen, state["version"], seed=3, paragraphs=rng.randint(3, 6))
        ingest_files(corpus, sorted(folder.glob("*.txt")))
        ids.append(added)
        gone = rng.choice([i for i in ids if i not in chosen])
        corpus.remove(gone)
        ids.remove(gone)

    change_corpus()
    counts = count_calls(["index"], env, INDEX_POINTS, tmp_path)
    kills = 0
    for kill in kill_plan(rng, counts, 2 * KILLS):
        if kills >= KILLS:
            break
        change_corpus()
        kills += run_and_kill(["index"], env, INDEX_POINTS, kill)
        index = Index(index_dir, corpus)
        assert index.staleness()[0] in ("fresh", "stale")
        assert index.readable()
        index.close()
        assert doctor_findings(corpus_dir, index_dir) <= LEFTOVERS
        assert_search_correct(corpus_dir, index_dir)
    assert kills >= KILLS
    finish(corpus_dir, index_dir, env)


# --------------------------------------------------------------------------- crawl


def kamerstuk_xml(doc_id: str, paragraphs: list[str]) -> bytes:
    """A Kamerstuk in the shape of tests/data/official/kst-33694-12.xml, with other text."""
    template = (OFFICIAL / "kst-33694-12.xml").read_text(encoding="utf-8")
    body = "".join(f"<al>{text}</al>" for text in paragraphs)
    head, _, rest = template.partition("<algemeen>")
    _, _, tail = rest.partition("</algemeen>")
    return (head.replace("kst-33694-12", doc_id) + f"<algemeen><vrije-tekst><tekst>{body}</tekst></vrije-tekst>"
            + "</algemeen>" + tail).encode("utf-8")


class Publications:
    """Plays zoek.officielebekendmakingen.nl: the official fixtures plus generated Kamerstukken."""

    def __init__(self, httpserver, generated: list[str]):
        from werkzeug import Response

        self.Response = Response
        self.generated = generated
        self.version = 0
        self.files: dict[str, bytes] = {}
        self.fail: int | None = None
        self.requests = 0
        for path in sorted(OFFICIAL.glob("*.metadata.xml")):
            doc_id = path.name[: -len(".metadata.xml")]
            self.files[f"/{doc_id}.xml"] = (OFFICIAL / f"{doc_id}.xml").read_bytes()
            self.files[f"/{doc_id}/metadata.xml"] = path.read_bytes()
        self.publish(1)
        httpserver.expect_request(re.compile(r".*")).respond_with_handler(self.handle)
        self.base = httpserver.url_for("/").rstrip("/")

    @property
    def official(self) -> list[str]:
        return sorted(p.name[: -len(".metadata.xml")] for p in OFFICIAL.glob("*.metadata.xml"))

    def publish(self, version: int) -> None:
        """Every generated document gets new text; the official fixtures stay as they are."""
        self.version = version
        for i, doc_id in enumerate(self.generated):
            rng = random.Random(f"crawl-{doc_id}-{version}")
            text = document_text(rng, 4, marked=(i + version) % 3 == 0).split("\n\n")
            self.files[f"/{doc_id}.xml"] = kamerstuk_xml(doc_id, [t.strip() for t in text])
            meta = (OFFICIAL / "kst-33694-12.metadata.xml").read_text(encoding="utf-8")
            self.files[f"/{doc_id}/metadata.xml"] = meta.replace("kst-33694-12", doc_id).encode("utf-8")

    def handle(self, request):
        self.requests += 1
        if self.fail is not None:
            return self.Response("storm", status=self.fail, headers={"Retry-After": "0"})
        body = self.files.get(request.path)
        if body is None:
            return self.Response("<html><body><h1>404: Pagina niet gevonden</h1></body></html>", status=404,
                                 content_type="text/html")
        return self.Response(body, status=200, content_type="application/xml")

    def env(self, corpus_dir: Path, index_dir: Path, cache: Path) -> dict[str, str]:
        return searchdoc_env(
            corpus_dir, index_dir, SEARCHDOC_OB_URL=self.base, SEARCHDOC_SRU_URL=self.base + "/sru",
            SEARCHDOC_TK_URL=self.base + "/OData/v4/2.0",
            SEARCHDOC_REPOSITORY_URL=self.base + "/frbr/officielepublicaties", SEARCHDOC_CACHE=str(cache),
        )

    def shas(self, doc_id: str) -> set[str]:
        return {sha(self.files[f"/{doc_id}.xml"]), sha(self.files[f"/{doc_id}/metadata.xml"])}


@pytest.fixture
def publications(httpserver):
    return Publications(httpserver, [f"kst-93{i:03d}-1" for i in range(10)])


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_kill_during_crawl(tmp_path, publications):
    corpus_dir, index_dir = tmp_path / "corpus", tmp_path / "index"
    env = publications.env(corpus_dir, index_dir, tmp_path / "http-cache")
    ids = publications.official + publications.generated
    rng = random.Random(9004)
    assert cli(["crawl", *ids], env).returncode == 0
    # Counted on a refresh that finds every generated document changed, as each round will.
    publications.publish(2)
    counts = count_calls(["crawl", "--refresh", *ids], env, STORE_POINTS, tmp_path)
    kills = 0
    attempted: dict[str, set[str]] = {}
    for round_no, kill in enumerate(kill_plan(rng, counts, 2 * KILLS), start=3):
        if kills >= KILLS:
            break
        publications.publish(round_no)
        for doc_id in publications.generated:
            attempted.setdefault(doc_id, set()).update(publications.shas(doc_id))
        kills += run_and_kill(["crawl", "--refresh", *ids], env, STORE_POINTS, kill)
        check_corpus(corpus_dir, attempted)
        assert doctor_findings(corpus_dir, index_dir) <= LEFTOVERS | {"raw-mismatch"}
        assert_search_correct(corpus_dir, index_dir)
    assert kills >= KILLS
    assert sorted(Corpus(corpus_dir).ids()) == sorted(ids)
    finish(corpus_dir, index_dir, env)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_server_error_storm_during_refresh_leaves_documents_byte_identical(tmp_path, publications):
    from click.testing import CliRunner

    from searchdoc.cli import cli as searchdoc_cli

    corpus_dir, index_dir = tmp_path / "corpus", tmp_path / "index"
    env = publications.env(corpus_dir, index_dir, tmp_path / "http-cache")
    ids = publications.official + publications.generated
    assert CliRunner().invoke(searchdoc_cli, ["crawl", *ids], env=env).exit_code == 0
    before = {p.relative_to(corpus_dir): p.read_bytes() for p in corpus_dir.rglob("*") if p.is_file()}
    publications.publish(2)
    for status in (500, 503, 429):
        publications.fail = status
        publications.requests = 0
        result = CliRunner().invoke(searchdoc_cli, ["crawl", "--refresh", *ids], env=env)
        assert result.exit_code == 1 and "Traceback" not in result.stderr
        failed = [line for line in result.stdout.splitlines() if line.startswith("failed ")]
        assert len(failed) == len(ids), result.stdout
        assert all(f"HTTP {status} after {settings.REQUEST_RETRIES} attempts" in line for line in failed)
        # Each document's first request was retried, within the limit, and then the crawl moved on.
        assert publications.requests == settings.REQUEST_RETRIES * len(ids)
        after = {p.relative_to(corpus_dir): p.read_bytes() for p in corpus_dir.rglob("*") if p.is_file()}
        assert after == before


def test_next_writers_remove_what_killed_ones_left(letter_env, tmp_path):
    """Temporary files go with the next corpus writer; staging folders with the next index update."""
    from click.testing import CliRunner

    from searchdoc.cli import cli as searchdoc_cli

    corpus_dir, index_dir = letter_env
    leftovers = [corpus_dir / "documents" / ".kst-1-1.json.k1ll3d.tmp", corpus_dir / "raw" / ".kst-1-1.txt.k1ll3d.tmp"]
    for path in leftovers:
        path.write_bytes(b"half a document")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    staging = [index_dir.with_name(f".{index_dir.name}.{kind}-{int(dead.stdout)}") for kind in ("building", "old")]
    for folder in staging:
        folder.mkdir()
        (folder / "_paragraphs_1.toc").write_bytes(b"partial")
    state_tmp = index_dir / ".searchdoc-state.json.k1ll3d.tmp"
    state_tmp.write_bytes(b"{")
    source = tmp_path / "kst-33694-97.txt"
    source.write_text("Een alinea over pelikanen.\n", encoding="utf-8")
    assert CliRunner().invoke(searchdoc_cli, ["ingest", str(source)]).exit_code == 0
    assert not any(path.exists() for path in leftovers)
    assert all(folder.exists() for folder in staging)
    assert CliRunner().invoke(searchdoc_cli, ["index"]).exit_code == 0
    assert not any(folder.exists() for folder in staging) and not state_tmp.exists()
