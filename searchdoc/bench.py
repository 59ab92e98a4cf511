"""Performance benchmark: searchdoc's index against plain Whoosh and SQLite FTS5 on one corpus.

Run ``python -m searchdoc.bench --paragraphs 200000 --out bench-results/``. It generates a
deterministic synthetic Dutch corpus (the bundled letter's word sequences and vocabulary,
generated closed compounds, sections, citation strings and footnotes), stores it with
:meth:`Corpus.save`, then measures, each heavy step in a child process so that its time and
peak memory are its own: ``searchdoc index --rebuild`` and a plain Whoosh build of the same
paragraphs; an incremental update (one document changed, one added); warm query latency in a
long-lived process; a cold ``searchdoc search`` against a minimal Whoosh script; ``searchdoc
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
        if rng.random() < 0.12:
            target_id, kind, raw = rng.choice(_CITATION_TARGETS)
            text = f"{text[:-1]} ({raw})."
            start = text.index(raw)
            citations.append(Citation(target_id, kind, raw, paragraph=n, start=start, end=start + len(raw)))
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
