"""The one HTTP client searchdoc uses: polite, bounded, cached and confined to the service hosts.

Every request goes through :class:`HttpClient`. It names itself in the User-Agent, waits between
requests to the same host, retries transient failures with exponential backoff (honouring
Retry-After), revalidates cached bodies with conditional requests so a second crawl downloads
nothing unchanged, refuses bodies above a size limit, follows redirects itself so that no other
host is ever contacted, and turns failures into :mod:`searchdoc.errors`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from searchdoc import settings as defaults
from searchdoc.errorpages import is_error_url, is_soft_404
from searchdoc.errors import FetchError, ForeignHostError, NotFoundError, OfflineError

logger = logging.getLogger(__name__)

#: Redirect hops followed before giving up.
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Name of the SQLite file of the HTTP cache inside the cache folder.
CACHE_FILE = "http-cache.sqlite"

# Unknown OB ids answer 200 with a Dutch error page, or redirect to one of these pages.


@dataclass
class Response:
    """A successful answer, after redirects, with its provenance."""

    url: str
    status: int
    content: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    from_cache: bool = False
    revalidated: bool = False
    fetched_at: str = ""

    @property
    def encoding(self) -> str:
        match = re.search(r"charset=[\"']?([\w.:-]+)", self.content_type, re.IGNORECASE)
        return match.group(1) if match else "utf-8"

    @property
    def text(self) -> str:
        try:
            return self.content.decode(self.encoding, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is a fetch error, not a crash."""
        import json

        try:
            return json.loads(self.content)
        except ValueError as exc:
            raise FetchError(f"{self.url} did not answer with JSON ({exc})") from None


def default_cache_dir(settings: defaults.Settings) -> Path:
    """Where the HTTP cache lives: SEARCHDOC_CACHE, else next to the index folder."""
    if settings.http_cache_dir is not None:
        return Path(settings.http_cache_dir)
    return Path(settings.index_dir).parent / "http-cache"


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def _norm_host(netloc: str, scheme: str = "") -> str:
    host = netloc.rpartition("@")[2].lower()
    default_port = {"http": ":80", "https": ":443"}.get(scheme)
    if default_port and host.endswith(default_port):
        host = host[: -len(default_port)]
    elif not scheme and host.endswith((":80", ":443")):
        host = host.rsplit(":", 1)[0]
    return host


def _host_of(url: str) -> str:
    parts = urlsplit(url)
    return _norm_host(parts.netloc, parts.scheme)


def with_params(url: str, params: Mapping[str, Any] | None) -> str:
    """``url`` with ``params`` appended, spaces as %20 (OData and CQL read these literally)."""
    if not params:
        return url
    query = urlencode(
        [(k, str(v)) for k, v in params.items() if v is not None],
        quote_via=quote,
        safe="$'(),:/",
    )
    return f"{url}{'&' if urlsplit(url).query else '?'}{query}"


def _is_unreachable(exc: BaseException) -> bool:
    """True when no TCP connection could be opened at all: DNS failure, refused, no route."""
    from urllib3.exceptions import NewConnectionError

    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (NewConnectionError, ConnectionRefusedError)):
            return True
        stack.extend(
            [getattr(current, "reason", None), current.__cause__, current.__context__]
            + [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
        )
    return False


def _bounded_adapter(max_bytes: int):
    """An adapter that reads every body itself, so nothing larger than ``max_bytes`` is kept.

    requests-cache stores ``response.content`` as soon as the adapter returns; reading here,
    in chunks, is the only place a size limit can stop an oversized or endless body.
    """
    from requests.adapters import HTTPAdapter

    class BoundedAdapter(HTTPAdapter):
        def send(self, request, stream=False, **kwargs):  # type: ignore[override]
            response = super().send(request, stream=True, **kwargs)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                response.close()
                raise FetchError(
                    f"{request.url}: response of {declared} bytes is larger than the "
                    f"{max_bytes}-byte limit; refused"
                )
            body = bytearray()
            try:
                for chunk in response.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > max_bytes:
                        raise FetchError(
                            f"{request.url}: response is larger than the {max_bytes}-byte "
                            "limit; refused"
                        )
            finally:
                response.close()
            response._content = bytes(body)
            response._content_consumed = True
            return response

    return BoundedAdapter()


class HttpClient:
    """A shared, sequential HTTP client for the configured service hosts.

    ``sleep``, ``clock`` (monotonic) and ``now`` (wall clock, for Retry-After dates) are
    injectable so that tests of waiting and backoff run in milliseconds.
    """

    def __init__(
        self,
        settings: defaults.Settings,
        cache_dir: str | Path | None = None,
        *,
        use_cache: bool = True,
        trust_env: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        retries: int = defaults.REQUEST_RETRIES,
        backoff_base: float = defaults.BACKOFF_BASE,
        max_retry_after: float = defaults.MAX_RETRY_AFTER,
        max_bytes: int = defaults.MAX_RESPONSE_BYTES,
        timeout: tuple[float, float] = defaults.REQUEST_TIMEOUT,
        user_agent: str = defaults.USER_AGENT,
    ) -> None:
        self.settings = settings
        self.delay = float(settings.delay)
        self.allowed_hosts = {_norm_host(h) for h in settings.service_hosts}
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir(settings)
        self.use_cache = use_cache
        self.trust_env = trust_env
        self.retries = max(1, int(retries))
        self.backoff_base = backoff_base
        self.max_retry_after = max_retry_after
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.user_agent = user_agent
        self._sleep = sleep
        self._clock = clock
        self._now = now
        self._session: Any = None
        self._last_request: dict[str, float] = {}
        self._reached: set[str] = set()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    @property
    def session(self):
        """The underlying requests session, created on first use."""
        if self._session is None:
            self._session = self._make_session()
        return self._session

    def _make_session(self):
        import requests

        if self.use_cache:
            from requests_cache import EXPIRE_IMMEDIATELY, CachedSession, SQLiteCache

            self.cache_dir.mkdir(parents=True, exist_ok=True)
            # Entries expire at once: every later request is a conditional one, so the cache
            # never serves a stale body, and bodies without a validator are not stored at all.
            session = CachedSession(
                backend=SQLiteCache(self.cache_dir / CACHE_FILE),
                expire_after=EXPIRE_IMMEDIATELY,
                cache_control=False,
                allowable_codes=(200,),
                allowable_methods=("GET",),
                stale_if_error=False,
            )
        else:
            session = requests.Session()
        session.trust_env = self.trust_env
        session.headers["User-Agent"] = self.user_agent
        adapter = _bounded_adapter(self.max_bytes)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def check_host(self, url: str) -> None:
        """Refuse any URL outside the configured service hosts."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or _host_of(url) not in self.allowed_hosts:
            raise ForeignHostError(
                f"refused {url}: {parts.netloc or url} is not one of the configured services "
                f"({', '.join(sorted(self.allowed_hosts))})"
            )

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        accept: str | None = None,
        allow_status: Collection[int] = (),
    ) -> Response:
        """GET ``url`` (plus ``params``), following redirects within the service hosts.

        Statuses in ``allow_status`` are returned instead of raised (e.g. an SRU 400 that
        carries diagnostics). Raises NotFoundError, ForeignHostError, OfflineError, FetchError.
        """
        url = with_params(url, params)
        headers = {"Accept": accept} if accept else {}
        self.check_host(url)
        visited = [url]
        for _hop in range(MAX_REDIRECTS + 1):
            raw = self._send_with_retries(url, headers)
            if raw.status_code not in REDIRECT_STATUSES:
                return self._finish(url, raw, allow_status)
            location = raw.headers.get("Location")
            if not location:
                raise FetchError(f"{url}: redirect ({raw.status_code}) without a Location")
            target = urljoin(url, location)
            if is_error_url(target):
                raise NotFoundError(f"not found: {visited[0]} (redirected to an error page)")
            self.check_host(target)
            if target in visited:
                raise FetchError(f"{visited[0]}: redirect loop via {target}")
            visited.append(target)
            url = target
        raise FetchError(f"{visited[0]}: more than {MAX_REDIRECTS} redirects")

    def _wait_turn(self, host: str) -> None:
        last = self._last_request.get(host)
        if last is None or self.delay <= 0:
            return
        remaining = self.delay - (self._clock() - last)
        if remaining > 0:
            self._sleep(remaining)

    def _send_with_retries(self, url: str, headers: Mapping[str, str]):
        import requests

        transient = (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        )
        host = _host_of(url)
        attempt = 0
        while True:
            attempt += 1
            self._wait_turn(host)
            retry_after: float | None = None
            try:
                raw = self.session.get(
                    url, headers=dict(headers), timeout=self.timeout, allow_redirects=False
                )
            except transient as exc:
                self._last_request[host] = self._clock()
                if host not in self._reached and _is_unreachable(exc):
                    raise OfflineError(f"cannot reach {host}: you seem to be offline") from None
                problem = _describe(exc)
            else:
                self._last_request[host] = self._clock()
                self._reached.add(host)
                if raw.status_code != 429 and raw.status_code < 500:
                    return raw
                problem = f"HTTP {raw.status_code}"
                retry_after = parse_retry_after(raw.headers.get("Retry-After"), self._now())
            if attempt >= self.retries:
                raise FetchError(f"{url}: {problem} after {attempt} attempts; try again later")
            if retry_after is not None:
                wait = min(retry_after, self.max_retry_after)
            else:
                wait = self.backoff_base * 2 ** (attempt - 1)
            logger.info("%s: %s; retrying in %.1f s (attempt %d)", url, problem, wait, attempt)
            self._sleep(wait)

    def _finish(self, url: str, raw, allow_status: Collection[int]) -> Response:
        status = raw.status_code
        content_type = raw.headers.get("Content-Type", "")
        if status in allow_status:
            pass
        elif status in (404, 410):
            raise NotFoundError(f"not found: {url} (HTTP {status})")
        elif status == 204:
            raise NotFoundError(f"not found: {url} (empty answer)")
        elif not 200 <= status < 300:
            raise FetchError(f"{url}: HTTP {status}")
        elif is_soft_404(raw.content, content_type, url):
            raise NotFoundError(f"not found: {url} (the service shows its 'page not found' page)")
        return Response(
            url=url,
            status=status,
            content=raw.content,
            content_type=content_type,
            headers=dict(raw.headers),
            from_cache=bool(getattr(raw, "from_cache", False)),
            revalidated=bool(getattr(raw, "revalidated", False)),
            fetched_at=datetime.fromtimestamp(self._now(), timezone.utc).isoformat(
                timespec="seconds"
            ),
        )


def _describe(exc: BaseException) -> str:
    import requests

    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the body was cut off"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "the body could not be decoded"
    return "connection failed"
