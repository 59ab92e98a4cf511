"""Every default of searchdoc in one place: paths, service URLs, politeness and limits.

Environment variables override the defaults; command-line options override both. Nothing here
touches the disk or the network at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from searchdoc import __version__

#: The bundled letter.
LETTER_ID = "kst-33694-45"

#: Official services (the real ones; tests point the environment variables at a local server).
OB_URL = "https://zoek.officielebekendmakingen.nl"
SRU_URL = "https://repository.overheid.nl/sru"
TK_URL = "https://gegevensmagazijn.tweedekamer.nl/OData/v4/2.0"
REPOSITORY_URL = "https://repository.overheid.nl/frbr/officielepublicaties"

PROJECT_URL = "https://github.com/searchdoc/searchdoc"
USER_AGENT = f"searchdoc/{__version__} (+{PROJECT_URL}; Dutch parliamentary document search)"

#: Seconds between two requests to the same host (politeness; the services publish no limit).
REQUEST_DELAY = 1.0
#: Seconds to wait for a connection to be accepted.
REQUEST_CONNECT_TIMEOUT = 10.0
#: Seconds to wait for the next data of an answer (SEARCHDOC_TIMEOUT).
REQUEST_READ_TIMEOUT = 30.0
#: Seconds one request may take in all, however slowly the server sends (SEARCHDOC_DEADLINE).
REQUEST_DEADLINE = 120.0
#: Attempts per request on connection errors, truncated bodies, 429 and 5xx.
REQUEST_RETRIES = 4
#: Base of the exponential backoff, in seconds; Retry-After wins when the server sends it.
BACKOFF_BASE = 1.0
#: Longest Retry-After we are willing to honour, in seconds.
MAX_RETRY_AFTER = 120.0
#: Largest response body we accept, in bytes.
MAX_RESPONSE_BYTES = 50 * 1024 * 1024
#: Largest local file `ingest` accepts, in bytes.
MAX_INGEST_BYTES = 20 * 1024 * 1024
#: Longest paragraph stored, in characters: a longer one (a PDF without line structure, a
#: runaway table) is split at sentence boundaries into paragraphs of at most this length.
MAX_PARAGRAPH_CHARS = 20_000
#: SRU page size.
SRU_PAGE_SIZE = 100
#: Deepest citation chain a crawl may follow.
CRAWL_MAX_DEPTH = 5
#: Most cited-by candidates taken from SRU per document.
CITED_BY_LIMIT = 200
#: Paragraphs of context shown around a hit by default.
DEFAULT_CONTEXT = 0
#: Hits shown by default.
DEFAULT_LIMIT = 10
#: Seconds a writer waits for the lock before giving up.
LOCK_TIMEOUT = 60.0

#: ``searchdoc serve``: the address it binds unless --host/--port say otherwise (loopback only).
WEB_HOST = "127.0.0.1"
WEB_PORT = 8000
#: Longest query or citation the web interface accepts, in characters.
WEB_MAX_QUERY_CHARS = 500
#: Hits per results page, and the most the API returns at once (its ``limit``).
WEB_PAGE_SIZE = 10
WEB_MAX_LIMIT = 100
#: Deepest hit a results page reaches (page × page size), and the most paragraphs of context.
WEB_MAX_DEPTH = 1000
WEB_MAX_CONTEXT = 10
#: Most hits one web export holds.
WEB_MAX_EXPORT = 10_000
#: Best hits whose documents and years make the document and year facets.
WEB_FACET_SCAN = 1000
#: Deepest citation graph the web interface draws, and its most documents per level.
WEB_MAX_GRAPH_DEPTH = 3
WEB_GRAPH_LEVEL_NODES = 40
#: Seconds between two checks that the index is still fresh while serving.
WEB_FRESHNESS_INTERVAL = 5.0

ENV_CORPUS = "SEARCHDOC_CORPUS"
ENV_INDEX = "SEARCHDOC_INDEX"
ENV_OB_URL = "SEARCHDOC_OB_URL"
ENV_SRU_URL = "SEARCHDOC_SRU_URL"
ENV_TK_URL = "SEARCHDOC_TK_URL"
ENV_REPOSITORY_URL = "SEARCHDOC_REPOSITORY_URL"
ENV_DELAY = "SEARCHDOC_DELAY"
ENV_TIMEOUT = "SEARCHDOC_TIMEOUT"
ENV_DEADLINE = "SEARCHDOC_DEADLINE"
ENV_CACHE = "SEARCHDOC_CACHE"
ENV_TAXONOMY = "SEARCHDOC_TAXONOMY"
ENV_SYNONYMS = "SEARCHDOC_SYNONYMS"


#: Every numeric environment variable: (default, lowest, highest accepted value), in seconds.
NUMERIC_ENV = {
    ENV_DELAY: (REQUEST_DELAY, 0.0, 600.0),
    ENV_TIMEOUT: (REQUEST_READ_TIMEOUT, 0.1, 3600.0),
    ENV_DEADLINE: (REQUEST_DEADLINE, 0.1, 86400.0),
}


def env_number(name: str) -> float:
    """The value of the numeric environment variable ``name``, or its default when unset.

    Anything that is not a finite number within the accepted range (``inf``, ``nan``, ``-1``,
    ``1e999``, ``ten``) is a usage error naming the variable and the range.
    """
    import math

    default, low, high = NUMERIC_ENV[name]
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        from searchdoc.errors import UsageError

        raise UsageError(
            f"{name}={raw.strip()[:40]!r} is not accepted: give a number of seconds from {low:g} to {high:g}")
    return value


def env_url(name: str, default: str) -> str:
    """The service URL in the environment variable ``name``, or ``default`` when unset.

    A URL the crawler's URL policy would refuse (user info, a backslash, not http or https) is a
    usage error naming the variable, rather than a failure of every request later.
    """
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    from searchdoc.sources.http import url_problem

    problem = url_problem(raw.strip())
    if problem is not None:
        from searchdoc.errors import UsageError

        raise UsageError(
            f"{name}={raw.strip()[:80]!r} is not accepted: {problem}; give an http(s) URL such as {default}")
    return raw.strip()


def find_checkout(start: Path | None = None) -> Path | None:
    """The searchdoc checkout containing ``start`` (default: the working directory), if any.

    A checkout is recognised by a pyproject.toml naming the project plus a ``corpus/`` folder,
    so that running from the repository uses the repository's corpus and index.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if (folder / "corpus").is_dir() and pyproject.is_file():
            try:
                head = pyproject.read_text(encoding="utf-8", errors="replace")[:4000]
            except OSError:
                continue
            if 'name = "searchdoc"' in head:
                return folder
    return None


def user_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("searchdoc", appauthor=False)


def user_cache_dir() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("searchdoc", appauthor=False)


def word_store_dir() -> Path:
    """Where the word store of the analysis is kept (see :mod:`searchdoc.wordstore`)."""
    return user_cache_dir()


def bundled_data_dir() -> Path:
    """Package data: the bundled letter, its metadata, the taxonomy and the synonym lists."""
    return Path(__file__).resolve().parent / "data"


@dataclass
class Settings:
    """Resolved locations and service endpoints for one run."""

    corpus_dir: Path
    index_dir: Path
    ob_url: str = OB_URL
    sru_url: str = SRU_URL
    tk_url: str = TK_URL
    repository_url: str = REPOSITORY_URL
    delay: float = REQUEST_DELAY
    timeout: float = REQUEST_READ_TIMEOUT
    deadline: float = REQUEST_DEADLINE
    http_cache_dir: Path | None = None
    taxonomy_file: Path | None = None
    synonyms_file: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def service_hosts(self) -> set[str]:
        """The only hosts searchdoc may contact, as ``host[:port]`` read by the HTTP client's parser."""
        from searchdoc.sources.http import host_of

        return {host_of(u) for u in (self.ob_url, self.sru_url, self.tk_url, self.repository_url)}


def resolve(corpus: str | os.PathLike | None = None, index: str | os.PathLike | None = None) -> Settings:
    """Resolve settings: explicit arguments, then environment variables, then defaults.

    Defaults: the checkout's ``corpus/`` and ``index/`` when run from inside it; otherwise a
    per-user corpus (seeded with the bundled letter) and a per-user index cache.
    """
    checkout = find_checkout()
    corpus_dir = corpus or os.environ.get(ENV_CORPUS) or None
    index_dir = index or os.environ.get(ENV_INDEX) or None
    if corpus_dir is None:
        corpus_dir = checkout / "corpus" if checkout else user_data_dir() / "corpus"
    if index_dir is None:
        if checkout and not (corpus or os.environ.get(ENV_CORPUS)):
            index_dir = checkout / "index"
        else:
            index_dir = _index_for_corpus(Path(corpus_dir))
    cache = os.environ.get(ENV_CACHE)
    taxonomy = os.environ.get(ENV_TAXONOMY)
    synonyms = os.environ.get(ENV_SYNONYMS)
    return Settings(
        corpus_dir=Path(corpus_dir).expanduser(),
        index_dir=Path(index_dir).expanduser(),
        ob_url=env_url(ENV_OB_URL, OB_URL),
        sru_url=env_url(ENV_SRU_URL, SRU_URL),
        tk_url=env_url(ENV_TK_URL, TK_URL),
        repository_url=env_url(ENV_REPOSITORY_URL, REPOSITORY_URL),
        delay=env_number(ENV_DELAY),
        timeout=env_number(ENV_TIMEOUT),
        deadline=env_number(ENV_DEADLINE),
        http_cache_dir=Path(cache).expanduser() if cache else None,
        taxonomy_file=Path(taxonomy).expanduser() if taxonomy else None,
        synonyms_file=Path(synonyms).expanduser() if synonyms else None,
    )


def _index_for_corpus(corpus_dir: Path) -> Path:
    """A per-user index location keyed by the corpus path, so two corpora never share an index."""
    import hashlib

    key = hashlib.sha256(str(corpus_dir.expanduser().resolve()).encode()).hexdigest()[:16]
    return user_cache_dir() / "index" / key
