"""Exports: snippets, every format read back by a standard reader, references, streaming memory."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tracemalloc

import fastjsonschema
import pytest
import rispy
from hypothesis import given, settings
from hypothesis import strategies as st

from searchdoc import export
from searchdoc.errors import InvalidIdentifierError, QueryError, UnknownDocumentError, UsageError
from searchdoc.model import Document, Hit, Paragraph
from searchdoc.search import hit_to_dict, search, stream_hits
from searchdoc.themes import load_taxonomy

LETTER = "kst-33694-45"
LETTER_CITATION = "Kamerstukken II 2018/19, 33 694, nr. 45"

# The part of the CSL data schema (citation-style-language/schema, csl-data.json, draft-07)
# that our items use: required id and type, the type list, the date-variable shape, and no
# properties outside the schema.
CSL_TYPES = [
    "article", "article-journal", "article-magazine", "article-newspaper", "bill", "book", "broadcast",
    "chapter", "classic", "collection", "dataset", "document", "entry", "entry-dictionary",
    "entry-encyclopedia", "figure", "graphic", "hearing", "interview", "legal_case", "legislation",
    "manuscript", "map", "motion_picture", "musical_score", "pamphlet", "paper-conference", "patent",
    "performance", "periodical", "personal_communication", "post", "post-weblog", "regulation", "report",
    "review", "review-book", "software", "song", "speech", "standard", "thesis", "treaty", "webpage",
]
_STRING = {"type": "string"}
_STRING_OR_NUMBER = {"type": ["string", "number"]}
CSL_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": CSL_TYPES},
            "id": _STRING_OR_NUMBER,
            "title": _STRING,
            "issued": {"$ref": "#/definitions/date-variable"},
            "genre": _STRING,
            "number": _STRING_OR_NUMBER,
            "collection-title": _STRING,
            "collection-number": _STRING_OR_NUMBER,
            "container-title": _STRING,
            "publisher": _STRING,
            "publisher-place": _STRING,
            "URL": _STRING,
            "language": _STRING,
            "keyword": _STRING,
            "note": _STRING,
        },
        "required": ["type", "id"],
        "additionalProperties": False,
    },
    "definitions": {
        "date-variable": {
            "anyOf": [
                {"type": "string", "pattern": "[0-9,-,%,~,X,?,..,/]"},
                {
                    "type": "object",
                    "properties": {
                        "date-parts": {
                            "type": "array",
                            "items": {"type": "array", "items": _STRING_OR_NUMBER, "minItems": 1, "maxItems": 3},
                            "minItems": 1,
                            "maxItems": 2,
                        },
                        "literal": _STRING,
                        "raw": _STRING,
                    },
                    "additionalProperties": False,
                },
            ]
        }
    },
}
validate_csl = fastjsonschema.compile(CSL_SCHEMA)


def md_plain(markdown: str) -> str:
    """What a Markdown reader shows for our escaped inline text: escapes undone, bold dropped."""
    return re.sub(r"\\([!-/:-@\[-`{-~])|\*\*", lambda m: m.group(1) or "", markdown)


def run_export(hits, fmt, max_chars=None, corpus=None, query="drones", **info) -> str:
    out = io.StringIO(newline="")
    exporter = export.make_exporter(fmt, out, export.ExportInfo(query=query, **info), max_chars=max_chars,
                                    corpus=corpus)
    count = export.export_hits(hits, exporter)
    assert count == len(hits)
    return out.getvalue()


@pytest.fixture(scope="module")
def drones(built_letter):
    """The hits for 'drones' over the letter (the result of ``search``, the reference)."""
    from searchdoc.corpus import Corpus
    from searchdoc.index import Index

    corpus = Corpus(built_letter / "corpus")
    index = Index(built_letter / "index", corpus)
    hits = search(index, corpus, "drones", limit=None, context=1).hits
    index.close()
    assert len(hits) >= 5
    return hits, corpus


# --------------------------------------------------------------------------- snippets


def test_untrimmed_snippet_is_the_paragraph():
    text = "De inzet van bewapende drones vraagt om afspraken."
    snippet = export.make_snippet(text, [(23, 29)], None)
    assert (snippet.text, snippet.trimmed, snippet.start, snippet.end) == (text, False, 0, len(text))
    assert snippet.highlight == "De inzet van bewapende **drones** vraagt om afspraken."


def test_trimmed_snippet_keeps_the_first_match_and_cuts_between_words():
    words = [f"woord{i}" for i in range(60)]
    words[30] = "drones"
    text = " ".join(words)
    start = text.index("drones")
    snippet = export.make_snippet(text, [(start, start + 6)], 60)
    assert snippet.trimmed and snippet.cut_start and snippet.cut_end
    assert snippet.kept == text[snippet.start:snippet.end] and len(snippet.kept) <= 60
    assert "drones" in snippet.kept
    assert text[snippet.start - 1] == " " and text[snippet.end] == " "
    assert snippet.text == f"[…] {snippet.kept} […]"
    assert snippet.highlight.count("**drones**") == 1


def test_match_at_the_start_is_cut_only_at_the_end():
    text = "Drones " + "en nog veel meer tekst " * 10
    snippet = export.make_snippet(text.strip(), [(0, 6)], 40)
    assert not snippet.cut_start and snippet.cut_end
    assert snippet.text.startswith("Drones") and snippet.text.endswith(" […]")


def test_match_longer_than_the_limit_is_kept_whole():
    text = "a " * 30 + "x" * 50 + " b" * 30
    start = text.index("x")
    snippet = export.make_snippet(text, [(start, start + 50)], 20)
    assert snippet.kept == "x" * 50 and snippet.trimmed


def test_a_long_unbroken_token_is_cut_inside_rather_than_lost():
    url = "https://example.org/" + "a" * 200
    snippet = export.make_snippet(url, [], 40)
    assert snippet.kept == url[:40] and snippet.text == url[:40] + " […]"


def test_max_chars_below_the_minimum_is_refused():
    with pytest.raises(UsageError, match="--max-chars"):
        export.make_snippet("tekst", [], 5)


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(st.text(alphabet="abcdeé’-.,()0123456789", min_size=1, max_size=15), min_size=1, max_size=80),
    seps=st.lists(st.sampled_from([" ", "  ", "\n"]), min_size=80, max_size=80),
    pick=st.integers(min_value=0),
    max_chars=st.integers(min_value=export.MIN_MAX_CHARS, max_value=300),
)
def test_snippet_invariants(words, seps, pick, max_chars):
    text = "".join(w + s for w, s in zip(words, seps[: len(words)], strict=True))[:-1]
    offsets = [m.span() for m in re.finditer(r"\S+", text)]
    match = offsets[pick % len(offsets)]
    snippet = export.make_snippet(text, [match], max_chars)
    assert snippet.kept == text[snippet.start:snippet.end]
    assert snippet.start <= match[0] and match[1] <= snippet.end
    assert len(snippet.kept) <= max(max_chars, match[1] - match[0])
    assert snippet.trimmed == (snippet.start > 0 or snippet.end < len(text))
    assert snippet.trimmed == (len(text) > max_chars and match != (0, len(text)))
    assert snippet.text.startswith("[…] ") == snippet.cut_start
    assert snippet.text.endswith(" […]") == snippet.cut_end
    if max_chars >= 4 * 15:  # words are at most 15 characters: cutting between them loses < half the room
        if snippet.cut_start and snippet.start != match[0]:
            assert text[snippet.start - 1].isspace()
        if snippet.cut_end and snippet.end != match[1]:
            assert text[snippet.end].isspace()
    assert len(snippet.kept) >= min(max_chars // 2 - 4, len(text)) or snippet.kept == text[match[0]:match[1]]


def test_context_keeps_the_side_next_to_the_hit():
    entry = {"n": 4, "text": "begin " + "midden " * 20 + "einde"}
    before = export.trim_context(entry, 30, "tail")
    after = export.trim_context(entry, 30, "head")
    assert before["text"].startswith("[…] ") and before["text"].endswith("einde") and before["trimmed"]
    assert after["text"].startswith("begin") and after["text"].endswith(" […]") and after["trimmed"]
    assert export.trim_context(entry, None, "tail") == {**entry, "trimmed": False}


# --------------------------------------------------------------------------- formats over the letter


def test_markdown_contains_every_hit_with_its_pinpoint_citation(drones):
    hits, _ = drones
    text = run_export(hits, "md")
    assert text.startswith("# Search results for drones\n")
    assert "- Query: `drones`" in text and re.search(r"^- Exported: \d{4}-\d{2}-\d{2}$", text, re.M)
    sections = text.split("\n## ")[1:]
    assert len(sections) == len(hits)
    for rank, (section, hit) in enumerate(zip(sections, hits, strict=True), 1):
        assert section.startswith(f"{rank}. Kamerstuk 33 694, nr. 45, par. {hit.paragraph}\n")
        assert f"\n- Citation: {hit.citation}\n" in section + "\n"
        assert hit.citation.startswith(LETTER_CITATION + ", p. ")
        assert f"- URL: <https://zoek.officielebekendmakingen.nl/{LETTER}.html>" in section
        quote = [line[2:] for line in section.splitlines() if line.startswith("> ")]
        assert len(quote) == 1 and md_plain(quote[0]) == hit.text
        bold = [md_plain(run) for run in re.findall(r"\*\*(.+?)\*\*", quote[0])]
        assert hit.spans and all(any(hit.text[s:e] in run for run in bold) for s, e in hit.spans)
        context = [line for line in section.splitlines() if line.startswith("*par. ")]
        assert len(context) == len(hit.before) + len(hit.after)


def test_markdown_escapes_markup_so_the_text_reads_exactly():
    text = "# 1. Kop *ster* _laag_ [link](x) <b> &amp; `code` ~~weg~~ | 2. einde\n- lijst\n3) drie"
    word = text.index("ster")
    hit = Hit(doc_id=LETTER, paragraph=1, section=None, page=1, score=1.0, text=text, highlight="", label="L",
              citation="C", url=None, spans=[(word, word + 4)])
    md = run_export([hit], "md")
    quote = "\n".join(line[2:] if line.startswith("> ") else "" for line in md.splitlines() if line.startswith(">"))
    assert md_plain(quote) == text
    assert "**ster**" in quote
    assert "\n> \\- lijst" in md and "\n> 3\\) drie" in md and "> \\# 1. Kop" in md


def test_markdown_and_jsonl_name_the_speaker_of_a_debate():
    hit = Hit(doc_id="h-tk-20172018-61-10", paragraph=66, section=None, page=None, score=1.0,
              text="Ik laat het oordeel over deze motie aan de Kamer.", highlight="", label="L", citation="C",
              url=None, speaker="Staatssecretaris Keijzer")
    assert "\n- Speaker: Staatssecretaris Keijzer\n" in run_export([hit], "md")
    assert json.loads(run_export([hit], "jsonl").splitlines()[0])["speaker"] == "Staatssecretaris Keijzer"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("*_`[]<>#-+1.\\&;\n"),
               min_size=1, max_size=60), st.data())
def test_markdown_highlight_round_trips(text, data):
    start = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    end = data.draw(st.integers(min_value=start + 1, max_value=len(text)))
    rendered = export._md_highlight(text, [(start, end)])
    assert md_plain(rendered) == text


def test_csv_reads_back_with_the_exact_text(drones):
    hits, _ = drones
    text = run_export(hits, "csv")
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0].keys()) == list(export.CSV_COLUMNS)
    assert len(rows) == len(hits)
    for rank, (row, hit) in enumerate(zip(rows, hits, strict=True), 1):
        assert row["rank"] == str(rank)
        assert (row["doc_id"], row["label"], row["citation"]) == (LETTER, hit.label, hit.citation)
        assert row["text"] == hit.text and row["trimmed"] == "false"
        assert row["paragraph"] == str(hit.paragraph) and row["page"] == str(hit.page)
        assert row["section"] == (hit.section or "") and row["themes"] == "; ".join(hit.themes)
        assert row["url"] == f"https://zoek.officielebekendmakingen.nl/{LETTER}.html"
        assert row["context_before"] == "\n\n".join(c["text"] for c in hit.before)


def test_jsonl_has_the_fields_of_search_json(drones):
    hits, _ = drones
    lines = run_export(hits, "jsonl").splitlines()
    assert len(lines) == len(hits)
    for rank, (line, hit) in enumerate(zip(lines, hits, strict=True), 1):
        record = json.loads(line)
        reference = hit_to_dict(hit)
        assert record.pop("rank") == rank
        assert record.pop("trimmed") is False
        assert record.pop("text_span") == [0, len(hit.text)]
        for key in ("before", "after"):
            assert [{k: v for k, v in c.items() if k != "trimmed"} for c in record.pop(key)] == reference.pop(key)
        assert record == reference


def test_jsonl_trimmed_snippets_are_marked_and_exact(drones):
    hits, _ = drones
    records = [json.loads(line) for line in run_export(hits, "jsonl", max_chars=80).splitlines()]
    assert any(r["trimmed"] for r in records)
    for record, hit in zip(records, hits, strict=True):
        start, end = record["text_span"]
        body = record["text"].removeprefix("[…] ").removesuffix(" […]")
        assert body == hit.text[start:end]
        assert record["trimmed"] == (start > 0 or end < len(hit.text))
        assert record["text"].startswith("[…]") == (start > 0)
        assert len(body) <= 80 or record["highlight"].count("**") == 2


def test_ris_reads_back_with_rispy(drones):
    hits, corpus = drones
    text = run_export(hits, "ris", corpus=corpus)
    assert text.startswith("TY  - GOVDOC\r\n") and text.rstrip().endswith("ER  -")
    records = rispy.loads(text)
    assert len(records) == 1
    record = records[0]
    assert record["type_of_reference"] == "GOVDOC"
    assert record["id"] == LETTER
    assert record["title"].startswith("Brief van de Minister van Buitenlandse Zaken")
    assert record["secondary_title"] == "Internationale Veiligheidsstrategie"
    assert record["type_of_work"] == "Brief regering"
    assert record["issn"] == LETTER_CITATION
    assert (record["date"], record["year"]) == ("2019/05/13/", "2019")
    assert record["publisher"] == "Tweede Kamer der Staten-Generaal"
    assert record["urls"] == [f"https://zoek.officielebekendmakingen.nl/{LETTER}.html"]
    labels = {t.id: t.label_nl for t in load_taxonomy()}
    assert set(record["keywords"]) == {labels[t] for h in hits for t in h.themes}
    assert "Drones en onbemande systemen" in record["keywords"]
    assert record["notes"] == [f"{h.citation} (par. {h.paragraph}): {h.text}" for h in hits]


def test_csl_json_validates_against_the_csl_schema(drones):
    hits, corpus = drones
    items = json.loads(run_export(hits, "csl-json", corpus=corpus))
    validate_csl(items)
    assert len(items) == 1
    item = items[0]
    assert (item["id"], item["type"]) == (LETTER, "report")
    assert item["issued"] == {"date-parts": [[2019, 5, 13]]}
    assert item["number"] == LETTER_CITATION and item["genre"] == "Brief regering"
    assert item["collection-title"] == "Internationale Veiligheidsstrategie" and item["collection-number"] == "33 694"
    assert item["publisher"] == "Tweede Kamer der Staten-Generaal"
    assert item["note"].split("\n") == [f"{h.citation} (par. {h.paragraph}): {h.text}" for h in hits]


def test_empty_exports_are_valid(drones):
    _, corpus = drones
    assert run_export([], "csv") == ",".join(export.CSV_COLUMNS) + "\r\n"
    assert run_export([], "jsonl") == ""
    assert rispy.loads(run_export([], "ris")) == []
    assert json.loads(run_export([], "csl-json")) == []
    assert run_export([], "md").rstrip().endswith("No paragraphs match.")


def test_unknown_format_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown export format 'xml'"):
        export.make_exporter("xml", io.StringIO(), export.ExportInfo(query="q"))
    assert export.format_for_path("hits.RIS") == "ris"
    with pytest.raises(UsageError, match="--format"):
        export.format_for_path("-")


# --------------------------------------------------------------------------- several documents


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """The letter plus an Aanhangsel and a Staatsblad that also mention drones."""
    from searchdoc.corpus import Corpus
    from searchdoc.index import Index
    from searchdoc.pipeline import seed_corpus

    root = tmp_path_factory.mktemp("mixed")
    corpus = Corpus(root / "corpus")
    corpus.documents_dir.mkdir(parents=True)
    seed_corpus(corpus)
    corpus.save(Document(
        id="ah-tk-20182019-264", kind="aanhangsel", title="Antwoord op vragen van het lid Belhaj over killerrobots",
        date="2018-11-20", vergaderjaar="2018-2019",
        paragraphs=[Paragraph(1, "Drones drones drones: het kabinet volgt de ontwikkeling van drones.", page=1),
                    Paragraph(2, "Geen verband met het onderwerp.", page=1)]))
    corpus.save(Document(
        id="stb-2019-288", kind="staatsblad", title="Regeling onbemande luchtvaartuigen", date="2019-07-01",
        paragraphs=[Paragraph(1, "Een besluit over drones in het luchtruim.", page=1)]))
    index = Index(root / "index", corpus)
    index.update()
    yield index, corpus
    index.close()


def test_ris_and_csl_give_one_record_per_document_in_order_of_best_hit(mixed):
    index, corpus = mixed
    hits = list(stream_hits(index, corpus, "drones"))
    first_seen = list(dict.fromkeys(h.doc_id for h in hits))
    assert set(first_seen) == {LETTER, "ah-tk-20182019-264", "stb-2019-288"}
    records = rispy.loads(run_export(hits, "ris", corpus=corpus))
    assert [r["id"] for r in records] == first_seen
    by_id = {r["id"]: r for r in records}
    for doc_id, record in by_id.items():
        assert len(record["notes"]) == sum(h.doc_id == doc_id for h in hits)
    aanhangsel = by_id["ah-tk-20182019-264"]
    assert aanhangsel["type_of_reference"] == "GOVDOC"
    assert aanhangsel["issn"] == "Aanhangsel Handelingen II 2018/19, nr. 264"
    assert aanhangsel["type_of_work"] == "Aanhangsel Handelingen"
    assert aanhangsel["publisher"] == "Tweede Kamer der Staten-Generaal"
    assert aanhangsel["notes"][0].startswith("Aanhangsel Handelingen II 2018/19, nr. 264, p. 1 (par. 1): Drones")
    staatsblad = by_id["stb-2019-288"]
    assert staatsblad["type_of_reference"] == "STAT" and staatsblad["secondary_title"] == "Staatsblad"
    assert "publisher" not in staatsblad
    items = json.loads(run_export(hits, "csl-json", corpus=corpus))
    validate_csl(items)
    assert [i["id"] for i in items] == first_seen
    types = {i["id"]: i["type"] for i in items}
    assert types == {LETTER: "report", "ah-tk-20182019-264": "report", "stb-2019-288": "legislation"}
    assert {i["id"]: i.get("container-title") for i in items}["stb-2019-288"] == "Staatsblad"


def test_stream_hits_ranks_and_filters_like_search(mixed):
    index, corpus = mixed
    cases = [("drones", {}), ("drones", {"doc_ids": [LETTER]}), ("drones", {"themes": ["drones"]}),
             ("drones OR killerrobots", {"doc_ids": [LETTER, "ah-tk-20182019-264"]}), ("wapen*", {"limit": 3})]
    for query, options in cases:
        limit = options.pop("limit", None)
        expected = search(index, corpus, query, limit=limit, **options).hits
        stream = stream_hits(index, corpus, query, limit=limit, **options)
        got = list(stream)
        assert stream.total == len(got) == len(expected), query
        assert [(h.doc_id, h.paragraph, h.score, h.highlight) for h in got] == \
            [(h.doc_id, h.paragraph, h.score, h.highlight) for h in expected], (query, options)


def test_stream_hits_refuses_what_search_refuses(mixed):
    index, corpus = mixed
    with pytest.raises(QueryError):
        stream_hits(index, corpus, "")
    with pytest.raises(UnknownDocumentError):
        stream_hits(index, corpus, "drones", doc_ids=["kst-11111-1"])
    with pytest.raises(UsageError):
        stream_hits(index, corpus, "drones", limit=0)


# --------------------------------------------------------------------------- single references


def test_reference_record_for_the_letter(built_letter):
    from searchdoc.corpus import Corpus

    document = Corpus(built_letter / "corpus").load(LETTER)
    (record,) = rispy.loads(export.reference_record(LETTER, document=document, fmt="ris"))
    assert (record["type_of_reference"], record["id"], record["issn"]) == ("GOVDOC", LETTER, LETTER_CITATION)
    assert record["date"] == "2019/05/13/" and record["place_published"] == "Den Haag"
    assert "notes" not in record
    items = json.loads(export.reference_record(LETTER, document=document, fmt="csl-json"))
    validate_csl(items)
    assert items[0]["title"] == document.title and "note" not in items[0]


@pytest.mark.parametrize("doc_id, ris_type, csl_type, number, publisher", [
    ("kst-33694-12", "GOVDOC", "report", "Kamerstukken II 33 694, nr. 12", "Tweede Kamer der Staten-Generaal"),
    ("ah-tk-20182019-1678", "GOVDOC", "report", "Aanhangsel Handelingen II 2018/19, nr. 1678",
     "Tweede Kamer der Staten-Generaal"),
    ("kst-34775-A", "GOVDOC", "report", "Kamerstukken I 34 775, A", "Eerste Kamer der Staten-Generaal"),
    ("stb-2019-288", "STAT", "legislation", "Stb. 2019, 288", None),
    ("2019Z01633", "GEN", "document", "Zaak 2019Z01633", "Tweede Kamer der Staten-Generaal"),
])
def test_reference_record_from_the_id_alone(doc_id, ris_type, csl_type, number, publisher):
    (record,) = rispy.loads(export.reference_record(doc_id, fmt="ris"))
    assert record["type_of_reference"] == ris_type and record["id"] == doc_id
    assert record.get("publisher") == publisher
    assert "date" not in record and record["urls"]
    (item,) = json.loads(export.reference_record(doc_id, fmt="csl-json"))
    validate_csl([item])
    assert (item["type"], item["number"], item.get("publisher")) == (csl_type, number, publisher)
    assert "issued" not in item


def test_reference_record_refuses_bad_input():
    with pytest.raises(InvalidIdentifierError):
        export.reference_record("../etc/passwd", fmt="ris")
    with pytest.raises(UsageError, match="csl-json"):
        export.reference_record(LETTER, fmt="bibtex")


# --------------------------------------------------------------------------- atomic output


def test_atomic_output_appears_only_when_complete(tmp_path):
    target = tmp_path / "hits.csv"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), export.atomic_output(target) as stream:
        stream.write("half")
        raise RuntimeError("export failed")
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["hits.csv"]
    with export.atomic_output(target, bom=True) as stream:
        stream.write("a,b\r\n")
    assert target.read_bytes() == b"\xef\xbb\xbfa,b\r\n"
    assert os.listdir(tmp_path) == ["hits.csv"]
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_output_refuses_unwritable_places(tmp_path):
    with pytest.raises(UsageError, match="cannot write --output"), export.atomic_output(tmp_path / "no" / "x.md"):
        pass
    with pytest.raises(UsageError, match="is a folder"), export.atomic_output(tmp_path):
        pass


def test_stream_output_is_utf8_whatever_the_locale_and_leaves_the_stream_open():
    binary = io.BytesIO()
    stdout = io.TextIOWrapper(binary, encoding="ascii", newline="\r\n")
    stdout.write("before\n")
    with export.stream_output(stdout, bom=True) as stream:
        stream.write("één […]\r\n")
    assert not binary.closed and not stdout.closed
    assert binary.getvalue() == "before\r\n\ufefféén […]\r\n".encode()
    plain = io.StringIO()
    with export.stream_output(plain) as stream:
        stream.write("één\n")
    assert plain.getvalue() == "één\n"


# --------------------------------------------------------------------------- streaming memory


@pytest.fixture(scope="session")
def big_index(tmp_path_factory):
    """10,000 paragraphs in 100 documents, all matching 'drones'; 1,000 also match 'zeldzaam'."""
    from searchdoc.corpus import Corpus
    from searchdoc.index import Index

    root = tmp_path_factory.mktemp("big")
    corpus = Corpus(root / "corpus")
    corpus.documents_dir.mkdir(parents=True)
    for d in range(100):
        paragraphs = [Paragraph(n, f"Bewapende drones{' zeldzaam' if n % 10 == 0 else ''}, nummer {n}.")
                      for n in range(1, 101)]
        corpus.save(Document(id=f"kst-{40000 + d}-1", kind="kamerstuk", paragraphs=paragraphs))
    index = Index(root / "index", corpus)
    index.update()
    yield index, corpus
    index.close()


def _peak_export(index, corpus, query, folder, limit=None) -> tuple[int, int]:
    """Export ``query`` as JSON Lines and RIS at once (one per-hit format, one grouped format);
    return the hit count and the peak of traced memory."""
    folder.mkdir()
    tracemalloc.start()
    try:
        hits = stream_hits(index, corpus, query, limit=limit)
        info = export.ExportInfo(query=query)
        with export.atomic_output(folder / "hits.jsonl") as jsonl, export.atomic_output(folder / "hits.ris") as ris:
            exporters = [export.make_exporter("jsonl", jsonl, info),
                         export.make_exporter("ris", ris, info, corpus=corpus)]
            for exporter in exporters:
                exporter.start()
            for hit in hits:
                for exporter in exporters:
                    exporter.add(hit)
            for exporter in exporters:
                exporter.finish()
                exporter.close()
        return exporters[0].count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_export_memory_does_not_grow_with_the_hits(big_index, tmp_path):
    index, corpus = big_index
    _peak_export(index, corpus, "drones", tmp_path / "warm-up", limit=5)
    few, few_peak = _peak_export(index, corpus, "zeldzaam", tmp_path / "few")
    many, many_peak = _peak_export(index, corpus, "drones", tmp_path / "many")
    assert (few, many) == (1_000, 10_000)
    # Ten times the hits; holding them (or Whoosh's list and set of every match) would show.
    assert many_peak < 1.5 * few_peak, (few_peak, many_peak)
    assert len((tmp_path / "many" / "hits.jsonl").read_text(encoding="utf-8").splitlines()) == 10_000
    records = rispy.load(tmp_path / "many" / "hits.ris", encoding="utf-8")
    assert len(records) == 100 and all(len(r["notes"]) == 100 for r in records)


def test_csl_json_layout_never_touches_text():
    data = [{"id": "x", "type": "report", "issued": {"date-parts": [[2019, 5, 13]]},
             "note": "a [\n  1,\n  2\n] b [[3]]"}]
    text = export.csl_json(data)
    assert '"date-parts": [[2019, 5, 13]]' in text
    assert json.loads(text) == data
