"""Performance benchmark: searchdoc's index against plain Whoosh and SQLite FTS5 on one corpus.

Run ``python -m searchdoc.bench --paragraphs 200000 --out bench-results/``. It generates a
deterministic synthetic Dutch corpus (the bundled letter's word sequences and vocabulary,
generated closed compounds, sections, citation strings and footnotes), stores it with
:meth:`Corpus.save`, then measures, each heavy step in a child process so that its time and
peak memory are its own: ``searchdoc index --rebuild`` and a plain Whoosh build of the same
paragraphs; an incremental update (one document changed, one added); warm query latency in a
long-lived process; ``/api/search`` of a ``searchdoc serve`` process with one and with 16
concurrent clients; a cold ``searchdoc search`` against a minimal Whoosh script; ``searchdoc
--help``; index size; and SQLite FTS5 on the same paragraphs. ``report.json`` and
``report.md`` hold the figures, the machine and, per target, whether it was met.

Figures are ratios measured in the same run where possible, so that the machine's noise cancels.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from searchdoc import settings

#: The targets of issue 8, as (name, limit) pairs; ``check_targets`` explains each verdict.
BUILD_SPEEDUP_TARGET = 3.0
INCREMENTAL_SHARE_TARGET = 0.02
QUERY_P50_TARGET_MS = 10.0
QUERY_P95_TARGET_MS = 50.0
COLD_SEARCH_RATIO_TARGET = 1.5
HELP_TARGET_S = 0.2
MEMORY_TARGET_MB = 1024.0
WEB_CLIENTS = 16
WEB_P95_RATIO_TARGET = 3.0

PARAGRAPHS_PER_DOCUMENT = 30
SEED = 3369445

#: The fixed query mix: (type, query, theme filter, context).
QUERY_MIX: tuple[tuple[str, str, str | None, int], ...] = (
    ("word", "drones", None, 0),
    ("word", "wapensystemen", None, 0),
    ("word", "ontwapening", None, 0),
    ("word", "technologieën", None, 0),
    ("word", "cyberdreigingen", None, 0),
    ("word", "kabinet", None, 0),
    ("phrase", '"autonome wapensystemen"', None, 0),
    ("phrase", '"kunstmatige intelligentie"', None, 0),
    ("phrase", '"betekenisvolle menselijke controle"', None, 0),
    ("phrase", '"nieuwe technologieën"', None, 0),
    ("prefix", "cyber*", None, 0),
    ("prefix", "wapen*", None, 0),
    ("prefix", "ontwikkel*", None, 0),
    ("theme", "controle", "laws", 0),
    ("theme", "veiligheid", "cyber", 0),
    ("theme", "internationale afspraken", "wapenbeheersing", 0),
    ("context", "drones", None, 2),
    ("context", '"kunstmatige intelligentie"', None, 2),
    ("context", "verdrag", None, 2),
)

#: Queries for the cold start comparison (CLI process against a minimal Whoosh script).
COLD_QUERIES = ("drones", "autonome wapensystemen")

# --------------------------------------------------------------------------- synthetic corpus

_WORDS = re.compile(r"\w+(?:[-’']\w+)*")
_LETTER_WORD = re.compile(r"[^\W\d_][\w’'-]*|\d+|[.,;:()«»]")
_SENTENCE_END = {".", ";", ":"}
# Dutch linking morphemes, weighted roughly by how often they join compound parts.
_LINKS = ("", "", "", "s", "s", "en", "e")
# Endings of adjectives, verbs and adverbs, which rarely head or end a compound.
_NOT_NOUN_ENDINGS = ("en", "de", "te", "ig", "ige", "lijk", "lijke", "isch", "ische", "ele", "aal", "ar", "ns")
# Common Dutch compound parts of the letter's domain, so compounds look like policy prose.
_PARTS = (
    "veiligheid", "beleid", "systeem", "wapen", "drone", "cyber", "data", "netwerk", "dienst", "overleg",
    "verdrag", "controle", "strategie", "agenda", "technologie", "onderzoek", "conferentie", "capaciteit",
    "dreiging", "aanval", "inzet", "kader", "regel", "norm", "recht", "markt", "export", "vergunning",
    "toezicht", "defensie", "kennis", "industrie", "ruimte", "lucht", "water", "grens", "staat", "burger",
    "ketting", "keten", "sensor", "robot", "software", "informatie", "oorlog", "vrede", "mensen", "ethiek",
)
_SECTION_WORDS = (
    "Inleiding", "Achtergrond", "Internationale ontwikkelingen", "Nationale inzet", "Wapenbeheersing",
    "Autonome wapensystemen", "Cyberveiligheid", "Drones", "Kunstmatige intelligentie", "Tot slot",
)
_CITATION_TARGETS = (
    ("kst-33694-12", "kamerstuk", "Kamerstuk 33 694, nr. 12"),
    ("kst-33694-23", "kamerstuk", "Kamerstuk 33 694, nr. 23"),
    ("kst-31125-92", "kamerstuk", "Kamerstuk 31 125, nr. 92"),
    ("kst-26643-536", "kamerstuk", "Kamerstuk 26 643, nr. 536"),
    ("kst-22112-2758", "kamerstuk", "Kamerstuk 22 112, nr. 2758"),
    ("kst-34300-X-88", "kamerstuk", "Kamerstukken 34 300 X en 34 300 V, nr. 88"),
    ("ah-tk-20182019-264", "aanhangsel", "Aanhangsel Handelingen II 2018/19, nr. 264"),
    ("ah-tk-20182019-1678", "aanhangsel", "Aanhangsel Handelingen II 2018/19, nr. 1678"),
)


@dataclass
class CorpusStats:
    """What the generated corpus holds, for the report."""

    documents: int = 0
    paragraphs: int = 0
    words: int = 0
    distinct_words: int = 0
    footnotes: int = 0
    citations: int = 0
    bytes_on_disk: int = 0
    seconds: float = 0.0
    document_ids: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "document_ids"}
        data["words_per_paragraph"] = round(self.words / self.paragraphs, 1) if self.paragraphs else 0
        return data


class CorpusGenerator:
    """Deterministic Dutch-like text: runs of the letter's own word sequence (so phrases and
    collocations occur as in real text), its vocabulary by frequency, and generated closed
    compounds of its content words, whose long tail keeps adding new words as the corpus grows,
    as real Dutch does.
    """

    def __init__(self, seed: int = SEED):
        self.rng = random.Random(seed)
        letter = (settings.bundled_data_dir() / f"{settings.LETTER_ID}.txt").read_text(encoding="utf-8")
        # Undo line-end hyphenation so the sequence holds real words.
        letter = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", letter)
        self.sequence = [w for w in _LETTER_WORD.findall(letter) if not w.isdigit()]
        counts = Counter(w for w in self.sequence if w[0].isalpha())
        self.vocabulary = sorted(counts)
        self._vocab_cum = list(_accumulate(counts[w] for w in self.vocabulary))
        nouns = {w for w in counts if 4 <= len(w) <= 12 and w.isalpha() and w.islower()
                 and not w.endswith(_NOT_NOUN_ENDINGS)}
        self.heads = sorted(nouns | set(_PARTS))
        self.tails = sorted({w for w in nouns if len(w) >= 5} | set(_PARTS))
        # Zipf ranks over a large space of compounds: head, link, tail chosen from the rank.
        self.compound_space = 2_000_000
        self._zipf_cum = list(_accumulate(1.0 / (r + 1) ** 0.9 for r in range(self.compound_space)))

    def compound(self, rank: int) -> str:
        """The generated compound of a rank (deterministic, independent of the rng state)."""
        mix = (rank * 2654435761 + 97) % (1 << 32)
        head = self.heads[mix % len(self.heads)]
        tail = self.tails[(mix // len(self.heads)) % len(self.tails)]
        link = _LINKS[(mix >> 20) % len(_LINKS)]
        if head.endswith(link) or not head[-1].isalpha():
            link = ""
        return f"{head}{link}{tail}"

    def _word(self) -> str:
        rng = self.rng
        if rng.random() < 0.18:
            total = self._zipf_cum[-1]
            return self.compound(bisect.bisect(self._zipf_cum, rng.random() * total))
        total = self._vocab_cum[-1]
        return self.vocabulary[bisect.bisect(self._vocab_cum, rng.random() * total)]

    def sentence(self) -> str:
        rng = self.rng
        words: list[str] = []
        target = rng.randint(7, 24)
        while len(words) < target:
            if rng.random() < 0.55:
                start = rng.randrange(len(self.sequence) - 8)
                run = []
                for token in self.sequence[start : start + rng.randint(2, 7)]:
                    if token in _SENTENCE_END:
                        break
                    run.append(token)
                words.extend(t for t in run if t not in "«»()")
            else:
                words.append(self._word())
        words = words[:target]
        text = " ".join(words).replace(" ,", ",").strip(" ,")
        text = text[:1].upper() + text[1:]
        return text + "."

    def paragraph_text(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.choice((1, 2, 3, 3, 4, 4))))


def _accumulate(values) -> list[float]:
    return list(itertools.accumulate(values))


def generate_document(gen: CorpusGenerator, doc_id: str, number: int, paragraphs: int):
    """One synthetic Kamerstuk with sections, citation strings in the text and footnotes."""
    from searchdoc.model import Citation, Document, Footnote, Paragraph

    rng = gen.rng
    body: list = []
    footnotes: list = []
    section = None
    page = 1
    for n in range(1, paragraphs + 1):
        if n == 1 or rng.random() < 0.12:
            section = f"{rng.randint(1, 9)}. {rng.choice(_SECTION_WORDS)}"
        text = gen.paragraph_text()
        citations = []
        notes = []
        if rng.random() < 0.15:
            number_ = len(footnotes) + 1
            # The marker is glued to a word, as PDF extraction leaves it ("drones5").
            cut = text.rfind(" ", 0, max(1, len(text) - 2))
            text = f"{text[:cut]}{number_}{text[cut:]}" if cut > 0 else text
            target_id, kind, raw = rng.choice(_CITATION_TARGETS)
            note_text = f"{raw}. {gen.sentence()}"
            footnotes.append(Footnote(number_, note_text, paragraph=n))
            citations.append(Citation(target_id, kind, raw, paragraph=n, footnote=number_, start=0, end=len(raw)))
            notes.append(number_)
        if rng.random() < 0.12:
            target_id, kind, raw = rng.choice(_CITATION_TARGETS)
            text = f"{text[:-1]} ({raw})."
            start = text.rindex(raw)
            citations.insert(0, Citation(target_id, kind, raw, paragraph=n, start=start, end=start + len(raw)))
        page_end = page + (1 if rng.random() < 0.2 else 0)
        body.append(Paragraph(n, text, section, page, page_end, notes, [], citations))
        page = page_end
    dossier = str(33000 + number % 900)
    return Document(
        id=doc_id,
        kind="kamerstuk",
        title=f"Brief regering; {gen.sentence()[:-1].lower()}",
        date=f"20{18 + number % 5}-{1 + number % 12:02d}-{1 + number % 28:02d}",
        dossier=[dossier],
        number=str(number),
        chamber="tk",
        vergaderjaar=f"20{18 + number % 5}-20{19 + number % 5}",
        doc_type="brief",
        source_format="text",
        provenance={"source": "searchdoc.bench synthetic corpus"},
        paragraphs=body,
        footnotes=footnotes,
    )


def generate_corpus(root: Path, paragraphs: int, seed: int = SEED) -> CorpusStats:
    """Write a corpus of ``paragraphs`` paragraphs (documents of 30) under ``root``."""
    from searchdoc.corpus import Corpus

    started = time.perf_counter()
    gen = CorpusGenerator(seed)
    corpus = Corpus(root)
    corpus.documents_dir.mkdir(parents=True, exist_ok=True)
    stats = CorpusStats()
    distinct: set[str] = set()
    number = 0
    remaining = paragraphs
    # Corpus.save fsyncs every file; saving from a few threads overlaps those waits.
    with ThreadPoolExecutor(max_workers=4) as pool:
        pending = []
        while remaining > 0:
            number += 1
            size = min(PARAGRAPHS_PER_DOCUMENT, remaining)
            doc_id = f"kst-{90000 + number // 1000}-{number % 1000 + 1}"
            document = generate_document(gen, doc_id, number, size)
            pending.append(pool.submit(corpus.save, document))
            stats.document_ids.append(doc_id)
            stats.documents += 1
            stats.paragraphs += size
            stats.footnotes += len(document.footnotes)
            for paragraph in document.paragraphs:
                stats.citations += len(paragraph.citations)
                words = _WORDS.findall(paragraph.text)
                stats.words += len(words)
                distinct.update(words)
            remaining -= size
            if len(pending) > 64:
                for future in pending:
                    future.result()
                pending = []
        for future in pending:
            future.result()
    stats.distinct_words = len(distinct)
    stats.bytes_on_disk = directory_size(root)
    stats.seconds = round(time.perf_counter() - started, 2)
    return stats


def directory_size(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(folder, name))
            except OSError:
                pass
    return total


# --------------------------------------------------------------------------- measuring


def machine_info() -> dict:
    """CPU model, cores, memory, Python and library versions: where the figures come from."""
    import sqlite3

    info = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "ram_gb": None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "load_average_at_start": _load_average(),
    }
    try:
        info["cores_available"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        info["cores_available"] = info["cores"]
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["ram_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    try:
        from importlib.metadata import version

        info["whoosh"] = version("whoosh-reloaded")
    except Exception:
        info["whoosh"] = None
    return info


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses; the fields after its ")" do not.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB; PSS shares pages between the processes that map them."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, pss


class TreeSampler(threading.Thread):
    """Samples the memory of a process and all its descendants (build workers) twice a second;
    the process tree is re-read every few samples, since walking /proc costs more than reading
    a few processes' memory."""

    def __init__(self, pid: int, interval: float = 0.5, rescan_every: int = 4):
        super().__init__(daemon=True)
        self.pid, self.interval, self.rescan_every = pid, interval, rescan_every
        self.peak_rss_kb = self.peak_pss_kb = self.peak_single_rss_kb = 0
        self.peak_processes = 0
        self._done = threading.Event()

    def _tree(self) -> list[int]:
        tree = _children_of()
        pids, queue = [], [self.pid]
        while queue:
            pid = queue.pop()
            pids.append(pid)
            queue.extend(tree.get(pid, ()))
        return pids

    def run(self) -> None:
        if not Path("/proc/self/smaps_rollup").exists():
            return
        ticks = 0
        pids: list[int] = []
        while not self._done.is_set():
            if ticks % self.rescan_every == 0:
                pids = self._tree()
            ticks += 1
            sizes = [_memory_kb(pid) for pid in pids]
            self.peak_rss_kb = max(self.peak_rss_kb, sum(r for r, _ in sizes))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(p for _, p in sizes))
            self.peak_single_rss_kb = max([self.peak_single_rss_kb, *(r for r, _ in sizes)])
            self.peak_processes = max(self.peak_processes, sum(1 for r, _ in sizes if r))
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_child(command: list[str], env: dict | None = None, sample: bool = False) -> dict:
    """Run one measured step in its own process: wall and CPU seconds, memory, output.

    ``os.wait4`` gives the child's own resource usage (with the workers it waited for), so
    each step's CPU time and peak RSS are its own, not the benchmark's.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output: dict[str, str] = {}
    readers = [threading.Thread(target=lambda name=name, stream=stream: output.__setitem__(name, stream.read()))
               for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))]
    for reader in readers:
        reader.start()
    sampler = TreeSampler(process.pid) if sample else None
    if sampler:
        sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    if sampler:
        sampler.stop()
    result = {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "max_process_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "returncode": process.returncode,
        "stdout": output.get("stdout", ""),
        "stderr": output.get("stderr", "")[-2000:],
    }
    if sampler:
        result["peak_tree_rss_mb"] = round(sampler.peak_rss_kb / 1024, 1)
        result["peak_tree_pss_mb"] = round(sampler.peak_pss_kb / 1024, 1)
        result["processes"] = sampler.peak_processes
        # Sampled: wait4's figure can include the benchmark's own pages, inherited at the fork.
        result["max_process_rss_mb"] = round(sampler.peak_single_rss_kb / 1024, 1)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])} failed ({process.returncode}): {result['stderr'][-1000:]}")
    return result


def percentiles(samples: list[float]) -> dict:
    """p50, p95, p99 and max of latencies in milliseconds."""
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"n": len(ordered), "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": at(1.0)}


# --------------------------------------------------------------------------- child steps

#: The minimal script a cold ``searchdoc search`` is compared with: open the same index, parse the
#: query with the index's own schema (so the same Dutch analysis), search, print the hits.
MINIMAL_SEARCH = """
import sys
from whoosh import index, qparser
ix = index.open_dir(sys.argv[1], indexname="paragraphs")
with ix.searcher() as searcher:
    query = qparser.QueryParser("text", ix.schema).parse(sys.argv[2])
    for hit in searcher.search(query, limit=10):
        print(hit["key"])
"""


def _paragraph_texts(corpus_dir: Path):
    """(key, text) of every paragraph, read straight from the corpus JSON."""
    documents = corpus_dir / "documents"
    for path in sorted(documents.glob("*.json")):
        data = json.loads(path.read_bytes())
        for paragraph in data["paragraphs"]:
            yield f"{data['id']}#{paragraph['n']}", paragraph["text"]


def child_whoosh_baseline(corpus_dir: Path, index_dir: Path) -> dict:
    """Plain Whoosh: the same paragraphs, LanguageAnalyzer("nl"), one writer, default settings."""
    from whoosh import fields, index
    from whoosh.analysis import LanguageAnalyzer

    index_dir.mkdir(parents=True, exist_ok=True)
    schema = fields.Schema(key=fields.ID(stored=True), text=fields.TEXT(analyzer=LanguageAnalyzer("nl")))
    ix = index.create_in(str(index_dir), schema)
    writer = ix.writer()
    count = 0
    for key, text in _paragraph_texts(corpus_dir):
        writer.add_document(key=key, text=text)
        count += 1
    writer.commit()
    return {"paragraphs": count}


def _fts_query(query: str) -> str:
    """The query mix in FTS5 syntax: words and phrases as they are, prefixes with a star."""
    return " ".join(part for part in query.split() if part.upper() not in ("AND", "OR", "NOT"))


def child_sqlite(corpus_dir: Path, db_path: Path) -> dict:
    """SQLite FTS5 (unicode61, diacritics removed, no stemming): build and query times."""
    import sqlite3

    started = time.perf_counter()
    db = sqlite3.connect(str(db_path))
    db.execute("CREATE VIRTUAL TABLE p USING fts5(key UNINDEXED, text, tokenize='unicode61 remove_diacritics 2')")
    with db:
        db.executemany("INSERT INTO p (key, text) VALUES (?, ?)", _paragraph_texts(corpus_dir))
    build = time.perf_counter() - started
    samples: list[float] = []
    statement = "SELECT key, bm25(p) FROM p WHERE p MATCH ? ORDER BY bm25(p) LIMIT 10"
    for _, query, _, _ in QUERY_MIX:
        db.execute(statement, (_fts_query(query),)).fetchall()
    for _ in range(5):
        for _, query, _, _ in QUERY_MIX:
            begin = time.perf_counter()
            db.execute(statement, (_fts_query(query),)).fetchall()
            samples.append(time.perf_counter() - begin)
    db.close()
    return {"build_seconds": round(build, 3), "queries": percentiles(samples)}


def child_update(corpus_dir: Path, index_dir: Path) -> dict:
    """One ``Index.update()`` as ``searchdoc index`` runs it; what it re-indexed."""
    from searchdoc.corpus import Corpus
    from searchdoc.index import Index

    started = time.perf_counter()
    index = Index(index_dir, Corpus(corpus_dir))
    report = index.update()
    index.close()
    return {"in_process_seconds": round(time.perf_counter() - started, 3), "added": report.added,
            "updated": report.updated, "removed": report.removed, "paragraphs": report.paragraphs,
            "rebuilt": report.rebuilt}


_CHILDREN = {"whoosh-baseline": child_whoosh_baseline, "sqlite": child_sqlite, "update": child_update}


def _child_command(name: str, *args: Path) -> list[str]:
    return [sys.executable, "-m", "searchdoc.bench", "--child", name, *map(str, args)]


def _child_json(result: dict) -> dict:
    return json.loads(result["stdout"].strip().splitlines()[-1])


# --------------------------------------------------------------------------- the benchmark


def _environment(corpus_dir: Path, index_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEARCHDOC_")}
    env[settings.ENV_CORPUS] = str(corpus_dir)
    env[settings.ENV_INDEX] = str(index_dir)
    env["NO_COLOR"] = "1"
    return env


def _prepare_corpus(work: Path, paragraphs: int) -> CorpusStats:
    """Generate the corpus, or reuse one this benchmark generated before in ``work``."""
    marker = work / "corpus.json"
    corpus_dir = work / "corpus"
    if marker.exists() and corpus_dir.is_dir():
        saved = json.loads(marker.read_text())
        if saved.get("paragraphs") == paragraphs and saved.get("seed") == SEED:
            stats = CorpusStats(**{k: v for k, v in saved["stats"].items() if k in CorpusStats.__dataclass_fields__})
            stats.document_ids = saved["document_ids"]
            return stats
    shutil.rmtree(corpus_dir, ignore_errors=True)
    stats = generate_corpus(corpus_dir, paragraphs)
    marker.write_text(json.dumps({"paragraphs": paragraphs, "seed": SEED, "stats": stats.summary(),
                                  "document_ids": stats.document_ids}))
    return stats


def measure_queries(corpus_dir: Path, index_dir: Path, repeats: int, budget_s: float = 60.0) -> dict:
    """Warm latency of the fixed query mix through ``searchdoc.search`` on one long-lived Index:
    one query of each type to warm up, then up to ``repeats`` timed passes, fewer when they would take
    longer than ``budget_s`` seconds in all (slow queries then still get one timed pass)."""
    from searchdoc import search as searching
    from searchdoc.corpus import Corpus
    from searchdoc.index import Index

    corpus = Corpus(corpus_dir)
    index = Index(index_dir, corpus)
    by_type: dict[str, list[float]] = {}
    totals: dict[str, int] = {}
    try:
        warmed: set[str] = set()
        for kind, query, theme, context in QUERY_MIX:
            if kind not in warmed:
                warmed.add(kind)
                searching.search(index, corpus, query, limit=10, context=context, themes=[theme] if theme else ())
        timing_started = time.perf_counter()
        for done in range(repeats):
            if done and time.perf_counter() - timing_started > budget_s * done / repeats:
                break
            for kind, query, theme, context in QUERY_MIX:
                begin = time.perf_counter()
                result = searching.search(index, corpus, query, limit=10, context=context,
                                          themes=[theme] if theme else ())
                by_type.setdefault(kind, []).append(time.perf_counter() - begin)
                totals[query if not theme else f"{query} --theme {theme}"] = result.total
    finally:
        index.close()
    everything = [s for samples in by_type.values() for s in samples]
    return {"overall": percentiles(everything), "by_type": {k: percentiles(v) for k, v in by_type.items()},
            "hits": totals}


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, deadline_s: float = 600.0) -> None:
    import socket

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"searchdoc serve exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"searchdoc serve did not listen within {deadline_s:.0f} s")


def _search_path(query: str, theme: str | None, context: int) -> str:
    from urllib.parse import urlencode

    params = [("q", query), ("limit", "10"), ("context", str(context))] + ([("theme", theme)] if theme else [])
    return "/api/search?" + urlencode(params)


def measure_web(corpus_dir: Path, index_dir: Path, rounds: int = 2, clients: int = WEB_CLIENTS,
                budget_s: float = 120.0, workers: int = 1) -> dict:
    """``/api/search`` of ``searchdoc serve --workers N`` (default: one process, as the command) on
    127.0.0.1: the query mix once to warm up,
    then one client alone, then ``clients`` concurrent clients (one keep-alive connection each)
    asking the mix ``rounds`` times each, every client starting at a different query; errors are
    non-200 answers and failed connections. Request loops stop at ``budget_s`` seconds."""
    import http.client

    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "searchdoc", "serve", "--port", str(port), "--workers",
                                str(workers)],
                               env=_environment(corpus_dir, index_dir), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    paths = [_search_path(query, theme, context) for _, query, theme, context in QUERY_MIX]
    try:
        _wait_for_port(port, process)
        deadline = time.monotonic() + budget_s

        def client(offset: int, passes: int) -> tuple[list[float], int]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            samples, errors = [], 0
            try:
                for i in range(passes * len(paths)):
                    if time.monotonic() > deadline:
                        break
                    begin = time.perf_counter()
                    try:
                        connection.request("GET", paths[(offset + i) % len(paths)])
                        response = connection.getresponse()
                        response.read()
                        ok = response.status == 200
                    except (OSError, http.client.HTTPException):
                        ok = False
                        connection.close()
                        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                    samples.append(time.perf_counter() - begin)
                    errors += not ok
            finally:
                connection.close()
            return samples, errors

        for offset in range(workers):
            client(offset, 1)
        single, single_errors = client(0, rounds)
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(lambda k: client(k * len(paths) // clients, rounds), range(clients)))
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    concurrent = [s for samples, _ in results for s in samples]
    return {"clients": clients, "workers": workers, "single_client": percentiles(single),
            "single_client_errors": single_errors, "concurrent": percentiles(concurrent),
            "errors": sum(e for _, e in results), "requests_per_second": round(len(concurrent) / elapsed, 1)}


def measure_cold(corpus_dir: Path, index_dir: Path, repeats: int = 2) -> dict:
    """A new ``searchdoc search`` process against a new minimal Whoosh script, interleaved."""
    env = _environment(corpus_dir, index_dir)
    searchdoc_times: list[float] = []
    minimal_times: list[float] = []
    for _ in range(repeats):
        for query in COLD_QUERIES:
            searchdoc_times.append(run_child([sys.executable, "-m", "searchdoc", "search", query, "--limit", "10"],
                                             env)["seconds"])
            minimal_times.append(run_child([sys.executable, "-c", MINIMAL_SEARCH, str(index_dir), query],
                                           env)["seconds"])
    searchdoc_median = statistics.median(searchdoc_times)
    minimal_median = statistics.median(minimal_times)
    return {"searchdoc_median_s": round(searchdoc_median, 3), "minimal_median_s": round(minimal_median, 3),
            "ratio": round(searchdoc_median / minimal_median, 2), "searchdoc_s": searchdoc_times,
            "minimal_s": minimal_times}


def measure_help(repeats: int = 2) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEARCHDOC_")}
    times = [run_child([sys.executable, "-m", "searchdoc", "--help"], env)["seconds"] for _ in range(repeats)]
    bare = [run_child([sys.executable, "-c", "pass"], env)["seconds"] for _ in range(repeats)]
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "python_startup_median_s": round(statistics.median(bare), 3), "samples_s": times}


def measure_incremental(corpus_dir: Path, index_dir: Path, stats: CorpusStats) -> dict:
    """Change one document, then add one, each followed by an update in a new process."""
    from searchdoc.corpus import Corpus

    corpus = Corpus(corpus_dir)
    env = _environment(corpus_dir, index_dir)
    changed_id = stats.document_ids[len(stats.document_ids) // 2]
    document = corpus.load(changed_id)
    document.paragraphs[0].text += " Dit is een gewijzigde zin over zwermdrones."
    corpus.save(document)
    changed = run_child(_child_command("update", corpus_dir, index_dir), env)
    changed.update(_child_json(changed))
    gen = CorpusGenerator(SEED + 1)
    new_id = "kst-99999-1"
    corpus.save(generate_document(gen, new_id, 99999, PARAGRAPHS_PER_DOCUMENT))
    added = run_child(_child_command("update", corpus_dir, index_dir), env)
    added.update(_child_json(added))
    # Leave the corpus as generated, so that a later run with --workdir adds the document again.
    corpus.remove(new_id)
    for step in (changed, added):
        for key in ("stdout", "stderr", "returncode"):
            step.pop(key, None)
    return {"changed_document": changed_id, "change": changed, "added_document": new_id, "add": added,
            "document_paragraphs": PARAGRAPHS_PER_DOCUMENT}


def _step(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("stdout", "stderr", "returncode")}


def run_benchmark(paragraphs: int, out_dir: Path, memory_only: bool = False, work: Path | None = None,
                  query_repeats: int = 10, process_repeats: int = 2) -> dict:
    """Run every measurement at ``paragraphs`` paragraphs and write report.json and report.md."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    temporary = work is None
    work = Path(tempfile.mkdtemp(prefix="searchdoc-bench-")) if work is None else work
    work.mkdir(parents=True, exist_ok=True)
    report: dict = {"paragraphs": paragraphs, "mode": "memory-only" if memory_only else "full",
                    "machine": machine_info(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        stats = _prepare_corpus(work, paragraphs)
        report["corpus"] = stats.summary()
        corpus_dir, index_dir = work / "corpus", work / "index"
        shutil.rmtree(index_dir, ignore_errors=True)
        env = _environment(corpus_dir, index_dir)
        build = run_child([sys.executable, "-m", "searchdoc", "index", "--rebuild"], env, sample=True)
        report["searchdoc_build"] = {**_step(build), "paragraphs_per_second": round(paragraphs / build["seconds"], 1),
                                     "index_mb": round(directory_size(index_dir) / 1e6, 1)}
        if not memory_only:
            baseline_dir = work / "whoosh-baseline"
            shutil.rmtree(baseline_dir, ignore_errors=True)
            baseline = run_child(_child_command("whoosh-baseline", corpus_dir, baseline_dir), env, sample=True)
            report["whoosh_baseline_build"] = {
                **_step(baseline), "paragraphs_per_second": round(paragraphs / baseline["seconds"], 1),
                "index_mb": round(directory_size(baseline_dir) / 1e6, 1)}
            shutil.rmtree(baseline_dir, ignore_errors=True)
            report["queries"] = measure_queries(corpus_dir, index_dir, query_repeats)
            report["web"] = measure_web(corpus_dir, index_dir)
            report["cold_search"] = measure_cold(corpus_dir, index_dir, process_repeats)
            report["help"] = measure_help(process_repeats)
            report["incremental"] = measure_incremental(corpus_dir, index_dir, stats)
            fts_path = work / "fts.db"
            fts_path.unlink(missing_ok=True)
            fts = run_child(_child_command("sqlite", corpus_dir, fts_path), env, sample=True)
            report["sqlite_fts5"] = {**_step(fts), **_child_json(fts), "db_mb": round(fts_path.stat().st_size / 1e6, 1)}
            fts_path.unlink(missing_ok=True)
    finally:
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
    report["machine"]["load_average_at_end"] = _load_average()
    report["benchmark_seconds"] = round(time.perf_counter() - started, 1)
    report["targets"] = check_targets(report)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")
    return report


# --------------------------------------------------------------------------- verdicts and report


@dataclass
class Verdict:
    target: str
    value: str
    met: bool | None
    reason: str


def check_targets(report: dict) -> list[dict]:
    """Each target of issue 8 with the measured value, met or not (None: not measured here)."""
    verdicts: list[Verdict] = []
    build = report.get("searchdoc_build", {})
    baseline = report.get("whoosh_baseline_build")
    if baseline and build:
        speedup = baseline["seconds"] / build["seconds"]
        cpu_ratio = baseline["cpu_seconds"] / build["cpu_seconds"]
        verdicts.append(Verdict(
            f"build throughput >= {BUILD_SPEEDUP_TARGET:g}x plain Whoosh", f"{speedup:.2f}x",
            speedup >= BUILD_SPEEDUP_TARGET,
            f"searchdoc {build['seconds']:.1f} s ({build['paragraphs_per_second']:.0f} par/s, "
            f"{build['cpu_seconds']:.0f} CPU-s over {build.get('processes', 1)} processes) vs Whoosh "
            f"{baseline['seconds']:.1f} s ({baseline['cpu_seconds']:.0f} CPU-s, one process); CPU ratio "
            f"{cpu_ratio:.2f}. searchdoc indexes text, compound parts, notes, title and section with "
            "positions and tags themes, Whoosh one stopped, stemmed text field"))
    # The incremental and query targets are set at 200,000 paragraphs; smaller runs only report.
    at_target_size = report["paragraphs"] >= 200_000
    incremental = report.get("incremental")
    if incremental and build:
        worst = max(incremental["change"]["seconds"], incremental["add"]["seconds"])
        share = worst / build["seconds"]
        exact = (incremental["change"]["paragraphs"] == incremental["document_paragraphs"]
                 and incremental["change"]["updated"] == [incremental["changed_document"]]
                 and incremental["add"]["added"] == [incremental["added_document"]]
                 and not incremental["change"]["rebuilt"] and not incremental["add"]["rebuilt"])
        verdicts.append(Verdict(
            f"incremental update < {INCREMENTAL_SHARE_TARGET:.0%} of a rebuild at 200,000 paragraphs, nothing else "
            "re-indexed",
            f"{share:.1%}", (share < INCREMENTAL_SHARE_TARGET if at_target_size else None) if exact else False,
            f"change {incremental['change']['seconds']:.2f} s, add {incremental['add']['seconds']:.2f} s (new "
            f"process each; in-process {incremental['change']['in_process_seconds']:.2f} s / "
            f"{incremental['add']['in_process_seconds']:.2f} s) vs rebuild {build['seconds']:.1f} s; re-indexed "
            f"{incremental['change']['paragraphs']} + {incremental['add']['paragraphs']} paragraphs"
            + ("" if exact else "; MORE THAN THE CHANGED DOCUMENTS WERE RE-INDEXED")))
    queries = report.get("queries")
    if queries:
        overall = queries["overall"]
        verdicts.append(Verdict(
            f"warm query p50 <= {QUERY_P50_TARGET_MS:g} ms and p95 <= {QUERY_P95_TARGET_MS:g} ms at 200,000 paragraphs",
            f"p50 {overall['p50_ms']} ms, p95 {overall['p95_ms']} ms",
            (overall["p50_ms"] <= QUERY_P50_TARGET_MS and overall["p95_ms"] <= QUERY_P95_TARGET_MS)
            if at_target_size else None,
            "slowest type: " + max(((k, v["p95_ms"]) for k, v in queries["by_type"].items()),
                                   key=lambda kv: kv[1])[0]))
    web = report.get("web")
    if web and queries:
        warm_p95 = queries["overall"]["p95_ms"]
        ratio = web["concurrent"]["p95_ms"] / warm_p95 if warm_p95 else float("inf")
        verdicts.append(Verdict(
            f"/api/search p95 with {web['clients']} concurrent clients <= {WEB_P95_RATIO_TARGET:g}x the warm "
            "single-query p95, no errors, at 200,000 paragraphs",
            f"{ratio:.2f}x, {web['errors']} errors",
            False if web["errors"] else ((ratio <= WEB_P95_RATIO_TARGET) if at_target_size else None),
            f"concurrent p50 {web['concurrent']['p50_ms']} ms, p95 {web['concurrent']['p95_ms']} ms over "
            f"{web['concurrent']['n']} requests ({web['requests_per_second']} requests/s); warm in-process p95 "
            f"{warm_p95} ms; one HTTP client alone p50 {web['single_client']['p50_ms']} ms, p95 "
            f"{web['single_client']['p95_ms']} ms; {web['workers']} server worker process(es) on "
            f"{report['machine']['cores_available']} cores"))
    cold = report.get("cold_search")
    if cold:
        verdicts.append(Verdict(
            f"cold searchdoc search <= {COLD_SEARCH_RATIO_TARGET:g}x a minimal Whoosh script",
            f"{cold['ratio']:.2f}x", cold["ratio"] <= COLD_SEARCH_RATIO_TARGET,
            f"median {cold['searchdoc_median_s']:.2f} s vs {cold['minimal_median_s']:.2f} s"))
    help_ = report.get("help")
    if help_:
        verdicts.append(Verdict(
            f"searchdoc --help < {HELP_TARGET_S:g} s", f"{help_['median_s']:.3f} s", help_["median_s"] < HELP_TARGET_S,
            f"bare Python start-up {help_['python_startup_median_s']:.3f} s on the same machine"))
    if build.get("peak_tree_pss_mb") is not None:
        at_scale = report["paragraphs"] >= 1_000_000
        peak = build["peak_tree_pss_mb"]
        verdicts.append(Verdict(
            f"peak memory indexing 1,000,000 paragraphs < {MEMORY_TARGET_MB:g} MB",
            f"{peak:.0f} MB at {report['paragraphs']:,} paragraphs",
            (peak < MEMORY_TARGET_MB) if at_scale else None,
            f"sum of PSS over the build's processes (RSS sum {build['peak_tree_rss_mb']:.0f} MB counts shared pages "
            f"twice; largest single process {build['max_process_rss_mb']:.0f} MB)"
            + ("" if at_scale else "; run --paragraphs 1000000 --memory-only for the target")))
    return [v.__dict__ for v in verdicts]


def render_markdown(report: dict) -> str:
    """The report as a short Markdown page: machine, corpus, figures, targets."""
    machine, corpus = report["machine"], report.get("corpus", {})
    lines = [
        f"# searchdoc benchmark: {report['paragraphs']:,} paragraphs ({report['mode']})",
        "",
        f"Machine: {machine['cpu']}, {machine['cores_available']} of {machine['cores']} cores, "
        f"{machine['ram_gb']} GB RAM, Python {machine['python']}, Whoosh {machine.get('whoosh')}, "
        f"SQLite {machine['sqlite']}; load average {machine['load_average_at_start']} at the start, "
        f"{machine.get('load_average_at_end')} at the end. Run {report['started']}, took "
        f"{report['benchmark_seconds']} s.",
        "",
        f"Corpus: {corpus.get('documents', 0):,} documents, {corpus.get('paragraphs', 0):,} paragraphs, "
        f"{corpus.get('words', 0):,} words ({corpus.get('words_per_paragraph')} per paragraph), "
        f"{corpus.get('distinct_words', 0):,} distinct words, {corpus.get('footnotes', 0):,} footnotes, "
        f"{corpus.get('citations', 0):,} citations; {corpus.get('bytes_on_disk', 0) / 1e6:.1f} MB of JSON, "
        f"generated in {corpus.get('seconds')} s.",
        "",
        "## Targets",
        "",
        "| target | measured | met | why |",
        "| --- | --- | --- | --- |",
    ]
    for verdict in report.get("targets", []):
        met = {True: "yes", False: "**no**", None: "n/a"}[verdict["met"]]
        lines.append(f"| {verdict['target']} | {verdict['value']} | {met} | {verdict['reason']} |")
    lines += ["", "## Figures", "", "| step | wall s | CPU s | peak memory (PSS, MB) | notes |",
              "| --- | --- | --- | --- | --- |"]
    build = report.get("searchdoc_build")
    if build:
        lines.append(f"| searchdoc index --rebuild | {build['seconds']} | {build['cpu_seconds']} | "
                     f"{build.get('peak_tree_pss_mb')} | {build['paragraphs_per_second']} par/s, index "
                     f"{build['index_mb']} MB |")
    baseline = report.get("whoosh_baseline_build")
    if baseline:
        lines.append(f"| plain Whoosh build | {baseline['seconds']} | {baseline['cpu_seconds']} | "
                     f"{baseline.get('peak_tree_pss_mb')} | {baseline['paragraphs_per_second']} par/s, index "
                     f"{baseline['index_mb']} MB |")
    fts = report.get("sqlite_fts5")
    if fts:
        lines.append(f"| SQLite FTS5 build | {fts['build_seconds']} | {fts['cpu_seconds']} | "
                     f"{fts.get('peak_tree_pss_mb')} | database {fts['db_mb']} MB; queries p50 "
                     f"{fts['queries']['p50_ms']} ms, p95 {fts['queries']['p95_ms']} ms (no stemming) |")
    incremental = report.get("incremental")
    if incremental:
        for name in ("change", "add"):
            step = incremental[name]
            lines.append(f"| searchdoc index after one document {'changed' if name == 'change' else 'added'} | "
                         f"{step['seconds']} | {step['cpu_seconds']} | | {step['paragraphs']} paragraphs re-indexed, "
                         f"{step['in_process_seconds']} s in process |")
    queries = report.get("queries")
    if queries:
        lines += ["", "## Warm queries (ms, one long-lived Index, limit 10)", "",
                  "| type | n | p50 | p95 | p99 | max |", "| --- | --- | --- | --- | --- | --- |"]
        for kind, figures in [*queries["by_type"].items(), ("all", queries["overall"])]:
            lines.append(f"| {kind} | {figures['n']} | {figures['p50_ms']} | {figures['p95_ms']} | "
                         f"{figures['p99_ms']} | {figures['max_ms']} |")
    web = report.get("web")
    if web:
        lines += ["", f"## /api/search over HTTP (ms, `searchdoc serve --workers {web['workers']}`, limit 10)", "",
                  "| clients | n | p50 | p95 | p99 | max | errors |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for clients, figures, errors in ((1, web["single_client"], web["single_client_errors"]),
                                         (web["clients"], web["concurrent"], web["errors"])):
            lines.append(f"| {clients} | {figures['n']} | {figures['p50_ms']} | {figures['p95_ms']} | "
                         f"{figures['p99_ms']} | {figures['max_ms']} | {errors} |")
    cold, help_ = report.get("cold_search"), report.get("help")
    if cold:
        lines += ["", f"Cold search (new process, median): searchdoc {cold['searchdoc_median_s']} s, minimal Whoosh "
                  f"script {cold['minimal_median_s']} s ({cold['ratio']}x)."]
    if help_:
        lines += ["", f"`searchdoc --help`: median {help_['median_s']} s (bare `python -c pass`: "
                  f"{help_['python_startup_median_s']} s)."]
    lines += ["", "Reproduce: `python -m searchdoc.bench --paragraphs N --out bench-results/` "
              "(`--memory-only` for the 1,000,000-paragraph memory run).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m searchdoc.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--paragraphs", type=int, default=20_000, help="corpus size (default 20000)")
    parser.add_argument("--out", type=Path, default=Path("bench-results"), help="folder for report.json and report.md")
    parser.add_argument("--memory-only", action="store_true", help="only build the index and measure its memory")
    parser.add_argument("--workdir", type=Path, help="keep the corpus and indexes here (reused by a later run)")
    parser.add_argument("--query-repeats", type=int, default=10, help="times each query of the mix is timed")
    parser.add_argument("--process-repeats", type=int, default=2,
                        help="times each cold search and --help process is timed")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        name, *paths = args.child
        print(json.dumps(_CHILDREN[name](*map(Path, paths))))
        return 0
    if args.paragraphs < 1:
        parser.error("--paragraphs must be at least 1")
    report = run_benchmark(args.paragraphs, args.out, args.memory_only, args.workdir, args.query_repeats,
                           args.process_repeats)
    print((args.out / "report.md").read_text(encoding="utf-8"))
    return 0 if all(t["met"] is not False for t in report["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
