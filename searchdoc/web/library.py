"""The corpus and index one web server reads, shared by its requests.

The index, its searcher and the analysis caches are built for one caller at a time, so requests
take turns with them under one lock; searching is CPU-bound Python, so the turns cost no
throughput. The index is checked for freshness (a crawl or ingest in another process) at most
every few seconds, and updated from the corpus as ``searchdoc search`` would.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from searchdoc import settings as defaults


class Library:
    """One corpus and its index, opened lazily, read by many requests."""

    def __init__(self, config, freshness_interval: float = defaults.WEB_FRESHNESS_INTERVAL):
        self.config = config
        self.freshness_interval = freshness_interval
        self._lock = threading.RLock()
        self._corpus = self._index = None
        self._checked = float("-inf")
        self._catalogue: tuple[dict, list[dict]] | None = None

    def open(self) -> None:
        """Open the corpus, bring the index up to date and load the word lists now, before the
        server listens, so that the first reader does not wait for them."""
        from searchdoc import analysis

        with self.reading():
            analysis.analyze("wapensystemen")

    @contextlib.contextmanager
    def reading(self) -> Iterator[tuple[object, object]]:
        """(corpus, index), held by this request alone until the block ends."""
        with self._lock:
            if self._corpus is None:
                from searchdoc.pipeline import open_corpus

                self._corpus = open_corpus(self.config).require()
            if self._index is None:
                from searchdoc.index import Index

                self._index = Index(self.config.index_dir, self._corpus, self.config)
            now = time.monotonic()
            if now - self._checked >= self.freshness_interval:
                self._index.ensure_fresh()
                self._checked = now
            yield self._corpus, self._index

    def catalogue(self) -> list[dict]:
        """Metadata of every document (for the filters and facets), re-read when the corpus changes."""
        from searchdoc import documents

        with self.reading() as (corpus, _):
            fingerprints = corpus.fingerprints()
            if self._catalogue is None or self._catalogue[0] != fingerprints:
                self._catalogue = (fingerprints, documents.catalogue(corpus))
            return self._catalogue[1]

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None
