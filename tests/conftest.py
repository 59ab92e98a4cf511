"""Shared fixtures: an isolated environment, and the bundled letter as a corpus and an index."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from searchdoc import settings

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SEED = settings.bundled_data_dir() / f"{settings.LETTER_ID}.txt"


@pytest.fixture(scope="session")
def shared_word_store(tmp_path_factory):
    """One word store folder for the session: the CLI writes the store after a build, which
    takes seconds, and its content depends only on the analysis code and the word lists."""
    return tmp_path_factory.mktemp("word-store")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch, shared_word_store):
    """No test sees the user's corpus, proxies or configuration, or waits on politeness delays."""
    monkeypatch.setattr(settings, "word_store_dir", lambda: shared_word_store)
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("SEARCHDOC_") or name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("SEARCHDOC_DELAY", "0")
    monkeypatch.setenv("NO_COLOR", "1")
    yield


@pytest.fixture(scope="session")
def built_letter(tmp_path_factory):
    """A corpus holding the bundled letter and its index, built once per test session."""
    from searchdoc.corpus import Corpus
    from searchdoc.index import Index
    from searchdoc.pipeline import seed_corpus

    root = tmp_path_factory.mktemp("letter")
    corpus = Corpus(root / "corpus")
    corpus.documents_dir.mkdir(parents=True)
    seed_corpus(corpus)
    index = Index(root / "index", corpus)
    index.update()
    index.close()
    return root


@pytest.fixture
def letter_dirs(built_letter, tmp_path):
    """A private copy of the letter's corpus and index, safe to modify."""
    corpus_dir = tmp_path / "corpus"
    index_dir = tmp_path / "index"
    shutil.copytree(built_letter / "corpus", corpus_dir)
    shutil.copytree(built_letter / "index", index_dir)
    return corpus_dir, index_dir


@pytest.fixture
def letter_env(letter_dirs, monkeypatch):
    """Point SEARCHDOC_CORPUS / SEARCHDOC_INDEX at a private copy of the letter's corpus."""
    corpus_dir, index_dir = letter_dirs
    monkeypatch.setenv("SEARCHDOC_CORPUS", str(corpus_dir))
    monkeypatch.setenv("SEARCHDOC_INDEX", str(index_dir))
    return corpus_dir, index_dir


@pytest.fixture
def letter_index(built_letter):
    """The shared, read-only index of the letter (do not write to it)."""
    from searchdoc.corpus import Corpus
    from searchdoc.index import Index

    corpus = Corpus(built_letter / "corpus")
    index = Index(built_letter / "index", corpus)
    yield index, corpus
    index.close()


#: Official documents beside the letter in the web tests: two it cites and one that cites it.
WEB_FIXTURES = ("kst-33694-12", "ah-tk-20182019-264", "kst-33694-48")


def build_web_corpus(root: Path) -> tuple[Path, Path]:
    """The letter plus a few official XML fixtures, parsed as the crawler stores them, and its index."""
    from searchdoc import pipeline
    from searchdoc.corpus import Corpus
    from searchdoc.index import Index
    from searchdoc.parse.officialxml import parse_metadata_xml

    corpus = Corpus(root / "corpus")
    corpus.documents_dir.mkdir(parents=True)
    pipeline.seed_corpus(corpus)
    for doc_id in WEB_FIXTURES:
        raw = (DATA / "official" / f"{doc_id}.xml").read_bytes()
        metadata_xml = (DATA / "official" / f"{doc_id}.metadata.xml").read_bytes()
        metadata = {k: v for k, v in parse_metadata_xml(metadata_xml).items() if k != "raw"}
        document = pipeline.enrich(pipeline.parse_source(raw, "xml", doc_id, metadata))
        corpus.save(document, raw=raw, raw_ext="xml", metadata_xml=metadata_xml)
    index = Index(root / "index", corpus)
    index.update()
    index.close()
    return corpus.root, root / "index"


@pytest.fixture(scope="session")
def web_corpus(tmp_path_factory):
    """(corpus, index) folders of the letter and the web fixtures, built once; do not modify."""
    return build_web_corpus(tmp_path_factory.mktemp("web"))
