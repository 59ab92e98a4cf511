"""Fuzzing the files searchdoc keeps (issue 14): mutated document JSON and mutated index files.

Every mutated file must give either the right answer or "damaged" (a one-line SearchdocError,
or a rebuild that restores the right answer) — never an internal error, never a wrong answer.

CI runs a small, fixed budget (``derandomize``: the same examples every run, so a failure
reproduces); set ``SEARCHDOC_FUZZ_EXAMPLES=N`` for N random examples per test, e.g.::

    SEARCHDOC_FUZZ_EXAMPLES=500 python -m pytest -q -p no:cacheprovider tests/test_fuzz_files.py
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchdoc import settings as defaults
from searchdoc.corpus import Corpus
from searchdoc.errors import SearchdocError
from searchdoc.index import Index
from searchdoc.model import Document
from searchdoc.query import DEFINITIONS_FILE

LETTER = defaults.LETTER_ID
# Read at import: the isolated_env fixture clears SEARCHDOC_* variables for each test.
BUDGET = int(os.environ.get("SEARCHDOC_FUZZ_EXAMPLES", "0") or 0)
FUZZ = settings(
    max_examples=BUDGET or 25,
    derandomize=not BUDGET,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
#: The document tests take milliseconds an example: a larger fixed budget.
FUZZ_CHEAP = settings(FUZZ, max_examples=BUDGET or 200)
QUERIES = ["drones", '"autonome wapensystemen"', "cyber*", "wapen* NOT drones", "NCSA"]


@pytest.fixture(scope="module")
def pristine(built_letter, tmp_path_factory):
    """A copy of the letter's corpus and index, and the answers of the intact index."""
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(built_letter / "corpus", root / "corpus")
    shutil.copytree(built_letter / "index", root / "index")
    index = Index(root / "index", Corpus(root / "corpus"))
    expected = answers(index)
    index.close()
    return root, expected


def answers(index: Index) -> list:
    index.ensure_fresh()
    return [(q, [(h.fields["key"], round(h.score, 6)) for h in index.run_query(q, limit=None).hits])
            for q in QUERIES]


# --------------------------------------------------------------------------- byte mutations

@st.composite
def byte_mutations(draw, size: int):
    """A list of (kind, offset, length, byte) edits of a file of ``size`` bytes."""
    edits = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "zero", "truncate", "insert", "delete", "random"]))
        offset = draw(st.integers(0, max(0, size - 1)))
        length = draw(st.integers(1, 256))
        value = draw(st.integers(0, 255))
        edits.append((kind, offset, length, value))
    return edits


def mutate(data: bytes, edits) -> bytes:
    out = bytearray(data)
    for kind, offset, length, value in edits:
        offset = min(offset, len(out))
        end = min(len(out), offset + length)
        if kind == "flip":
            out[offset:end] = bytes(b ^ 0xFF for b in out[offset:end])
        elif kind == "zero":
            out[offset:end] = bytes(end - offset)
        elif kind == "truncate":
            del out[offset:]
        elif kind == "insert":
            out[offset:offset] = bytes([value]) * length
        elif kind == "delete":
            del out[offset:end]
        else:
            out[offset:end] = bytes((value * (i + 7)) % 256 for i in range(end - offset))
    return bytes(out)


# --------------------------------------------------------------------------- document JSON

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _paths(node, prefix=()):
    """Every (path to a value) in a JSON tree."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _replace(node, path, value):
    if not path:
        return value
    node = json.loads(json.dumps(node))
    parent = node
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return node


def _check_document_outcome(corpus: Corpus, index: Index) -> None:
    """Loading gives "damaged" or a valid document, and everything downstream of a valid one
    (indexing its paragraphs: analysis, themes, citations) works."""
    try:
        document = corpus.load(LETTER)
    except SearchdocError as exc:
        assert "damaged" in str(exc) or "cannot be read" in str(exc), exc
        return
    assert isinstance(document, Document)
    Document.from_dict(document.to_dict())
    for record in index.paragraph_records(document):
        assert isinstance(record["text"], str)


@pytest.fixture(scope="module")
def letter_json(pristine) -> bytes:
    root, _ = pristine
    return (root / "corpus" / "documents" / f"{LETTER}.json").read_bytes()


@FUZZ_CHEAP
@given(data=st.data())
def test_structurally_mutated_document_json_is_valid_or_damaged(pristine, letter_json, data):
    root, _ = pristine
    tree = json.loads(letter_json)
    # Only the first paragraphs and footnotes: the mutation then lands near what matters.
    tree["paragraphs"], tree["footnotes"] = tree["paragraphs"][:3], tree["footnotes"][:2]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(list(_paths(tree))))
        tree = _replace(tree, path, data.draw(JSON_VALUES))
    with tempfile.TemporaryDirectory() as folder:
        corpus = Corpus(Path(folder))
        corpus.documents_dir.mkdir()
        (corpus.documents_dir / f"{LETTER}.json").write_bytes(json.dumps(tree).encode())
        _check_document_outcome(corpus, Index(Path(folder) / "index", corpus))


@FUZZ_CHEAP
@given(data=st.data())
def test_byte_mutated_document_json_is_valid_or_damaged(pristine, letter_json, data):
    edits = data.draw(byte_mutations(len(letter_json)))
    with tempfile.TemporaryDirectory() as folder:
        corpus = Corpus(Path(folder))
        corpus.documents_dir.mkdir()
        (corpus.documents_dir / f"{LETTER}.json").write_bytes(mutate(letter_json, edits))
        _check_document_outcome(corpus, Index(Path(folder) / "index", corpus))


# --------------------------------------------------------------------------- index files

def _index_files(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "index").iterdir() if p.is_file() and not p.name.endswith(("LOCK", ".lock")))


@FUZZ
@given(data=st.data())
def test_mutated_index_files_give_the_right_answer_or_a_rebuild(pristine, data):
    root, expected = pristine
    names = _index_files(root)
    name = data.draw(st.sampled_from(names))
    original = (root / "index" / name).read_bytes()
    edits = data.draw(byte_mutations(len(original)))
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(root / "corpus", Path(folder) / "corpus")
        shutil.copytree(root / "index", Path(folder) / "index")
        target = Path(folder) / "index" / name
        target.write_bytes(mutate(original, edits))
        index = Index(Path(folder) / "index", Corpus(Path(folder) / "corpus"))
        try:
            assert answers(index) == expected, name
        finally:
            index.close()


@FUZZ
@given(content=JSON_VALUES, which=st.sampled_from(["searchdoc-state.json", DEFINITIONS_FILE]))
def test_any_json_in_place_of_the_state_or_acronyms_gives_the_right_answer(pristine, content, which):
    root, expected = pristine
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(root / "corpus", Path(folder) / "corpus")
        shutil.copytree(root / "index", Path(folder) / "index")
        (Path(folder) / "index" / which).write_text(json.dumps(content))
        index = Index(Path(folder) / "index", Corpus(Path(folder) / "corpus"))
        try:
            assert answers(index) == expected
        finally:
            index.close()
