"""The one HTTP client searchdoc uses: polite, bounded, cached and confined to the service hosts.

Every request goes through :class:`HttpClient`. It names itself in the User-Agent, waits between
requests to the same host, retries transient failures with exponential backoff (honouring
Retry-After), revalidates cached bodies with conditional requests so a second crawl downloads
nothing unchanged, refuses bodies above a size limit and answers that take longer than a deadline,
follows redirects itself under one URL policy (:func:`url_problem`) so that no other host is ever
contacted, and turns failures into :mod:`searchdoc.errors` with a message that says what failed and
what to do: a rejected certificate names REQUESTS_CA_BUNDLE / SSL_CERT_FILE, a failing proxy
HTTPS_PROXY / NO_PROXY.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from searchdoc import settings as defaults
from searchdoc.errorpages import is_error_url, is_soft_404
from searchdoc.errors import FetchError, ForeignHostError, NotFoundError, OfflineError, UsageError

logger = logging.getLogger(__name__)

#: Redirect hops followed before giving up.
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Name of the SQLite file of the HTTP cache inside the cache folder.
CACHE_FILE = "http-cache.sqlite"
#: Attempts given to a host that has not answered once in this run when it times out: a host
#: that never answers is given up after two waits, not after every retry.
UNANSWERED_ATTEMPTS = 2
#: Environment variables naming the certificates to trust, in the order they are honoured.
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
_CA_ADVICE = (
    "if a proxy or firewall of your network inspects HTTPS, set REQUESTS_CA_BUNDLE (or SSL_CERT_FILE) "
    "to a file with its CA certificate"
)
_PROXY_ADVICE = "check HTTPS_PROXY / HTTP_PROXY, or list the host in NO_PROXY to connect directly"


class DeadlineExceeded(Exception):
    """An answer that did not complete within the per-request deadline (retried like a timeout)."""


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


_UNSAFE_URL_CHARS = re.compile(r"[\\\x00-\x20\x7f]")


def url_problem(url: str) -> str | None:
    """Why the URL policy refuses ``url``, or None when it is safe to request.

    The host is read by urllib3's parser, the one that opens the connection, and must read the
    same to the standard library's: a backslash, user info (``user@host``), a control or
    non-ASCII character, a percent sign or a port the two could read differently is refused,
    so that a Location header cannot make the allow-list check one host while another is
    contacted.
    """
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    if not isinstance(url, str) or not url.isascii() or _UNSAFE_URL_CHARS.search(url):
        return "it contains a backslash, a space, a control or a non-ASCII character"
    try:
        parsed = parse_url(url)
        split = urlsplit(url)
        split_port = split.port
    except (LocationParseError, ValueError):
        return "it cannot be parsed as a URL"
    if (parsed.scheme or "").lower() not in ("http", "https") or split.scheme.lower() not in ("http", "https"):
        return "only http and https URLs are fetched"
    if parsed.auth is not None or "@" in split.netloc:
        return "it carries a user name or password (user@host)"
    if "%" in split.netloc:
        return "its host is percent-encoded"
    host = (parsed.host or "").strip("[]").lower()
    if not host or host != (split.hostname or "").lower() or parsed.port != split_port:
        return "its host could be read in two ways"
    return None


def host_of(url: str) -> str:
    """``host[:port]`` as urllib3 reads it (the default port left out); "" when it reads none."""
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    try:
        parsed = parse_url(url)
    except LocationParseError:
        return ""
    scheme = (parsed.scheme or "").lower()
    host = (parsed.host or "").lower()
    port = parsed.port
    if port is None or {"http": 80, "https": 443}.get(scheme) == port:
        return host
    return f"{host}:{port}"


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


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it wraps (requests and urllib3 nest them several deep)."""
    seen: set[int] = set()
    found: list[BaseException] = []
    stack: list[object] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        # ``reason`` is an exception in urllib3 but a string in ssl errors: only follow exceptions.
        stack.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
        stack.extend(getattr(current, "args", ()))
    return found


@dataclass
class _Failure:
    """A failed attempt, described for the user. ``final`` failures are not retried;
    ``unreachable`` ones mean no connection to the host was made at all."""

    problem: str
    final: bool = False
    unreachable: bool = False
    timeout: bool = False


def _shown_proxy(proxy: str | None) -> str:
    """A proxy URL without its user name and password, for a message."""
    if not proxy:
        return "the proxy"
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return f"the proxy {parts.hostname or proxy}" + (f":{parts.port}" if parts.port else "")


def _bounded_adapter(max_bytes: int, deadline: float):
    """An adapter that reads every body itself, so nothing larger than ``max_bytes`` is kept and
    no answer takes longer than ``deadline`` seconds.

    requests-cache stores ``response.content`` as soon as the adapter returns; reading here,
    in chunks, is the only place a size limit can stop an oversized or endless body. The read
    timeout only bounds the wait for each byte, so a body trickled one byte at a time would never
    end: a timer shuts the socket down when the deadline passes, which ends a blocked read.
    """
    from requests.adapters import HTTPAdapter

    class BoundedAdapter(HTTPAdapter):
        def send(self, request, stream=False, **kwargs):  # type: ignore[override]
            started = time.monotonic()
            response = super().send(request, stream=True, **kwargs)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                response.close()
                raise FetchError(
                    f"{request.url}: response of {declared} bytes is larger than the "
                    f"{max_bytes}-byte limit; refused"
                )
            expired = threading.Event()

            def expire() -> None:
                expired.set()
                shutdown = getattr(response.raw, "shutdown", None)
                try:
                    if shutdown is not None:
                        shutdown()
                except (OSError, ValueError, RuntimeError):
                    pass

            timer = threading.Timer(max(0.0, deadline - (time.monotonic() - started)), expire)
            timer.daemon = True
            timer.start()
            body = bytearray()
            try:
                for chunk in response.iter_content(64 * 1024):
                    body += chunk
                    if expired.is_set():
                        break
                    if len(body) > max_bytes:
                        raise FetchError(
                            f"{request.url}: response is larger than the {max_bytes}-byte "
                            "limit; refused"
                        )
            except Exception:
                if expired.is_set():
                    raise DeadlineExceeded(deadline) from None
                raise
            finally:
                timer.cancel()
                response.close()
            if expired.is_set():
                raise DeadlineExceeded(deadline)
            response._content = bytes(body)
            response._content_consumed = True
            return response

    return BoundedAdapter()


class HttpClient:
    """A shared, sequential HTTP client for the configured service hosts.

    ``sleep``, ``clock`` (monotonic) and ``now`` (wall clock, for Retry-After dates) are
    injectable so that tests of waiting and backoff run in milliseconds. ``on_attempt(host,
    attempt, attempts)`` is called before every request and ``on_retry(message)`` before every
    wait for a retry, so that a caller can show which host it is waiting on.
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
        timeout: tuple[float, float] | None = None,
        deadline: float | None = None,
        user_agent: str = defaults.USER_AGENT,
        on_attempt: Callable[[str, int, int], None] | None = None,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.delay = float(settings.delay)
        self.allowed_hosts = set(settings.service_hosts)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir(settings)
        self.use_cache = use_cache
        self.trust_env = trust_env
        self.retries = max(1, int(retries))
        self.backoff_base = backoff_base
        self.max_retry_after = max_retry_after
        self.max_bytes = max_bytes
        self.timeout = timeout or (defaults.REQUEST_CONNECT_TIMEOUT, float(settings.timeout))
        self.deadline = float(deadline if deadline is not None else settings.deadline)
        self.user_agent = user_agent
        self._on_attempt = on_attempt
        self._on_retry = on_retry
        self._ca_bundle = _ca_bundle() if trust_env else None
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
        if self._ca_bundle is not None:
            # requests reads REQUESTS_CA_BUNDLE itself but not SSL_CERT_FILE (it trusts certifi).
            session.verify = self._ca_bundle[1]
        session.headers["User-Agent"] = self.user_agent
        adapter = _bounded_adapter(self.max_bytes, self.deadline)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def check_host(self, url: str) -> None:
        """Refuse any URL the URL policy refuses or whose host is not a configured service."""
        shown = url[:200].encode("unicode_escape").decode("ascii") if isinstance(url, str) else repr(url)
        problem = url_problem(url)
        if problem is not None:
            raise ForeignHostError(f"refused {shown}: {problem}")
        host = host_of(url)
        if host not in self.allowed_hosts:
            raise ForeignHostError(
                f"refused {shown}: {host} is not one of the configured services "
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
            if _UNSAFE_URL_CHARS.search(location) or not location.isascii():
                # Checked before joining: urljoin silently drops tabs and newlines.
                self.check_host(location)
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
        from urllib3.util import Timeout

        transient = (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
            DeadlineExceeded,
        )
        # The read timeout bounds each wait for data, ``total`` the wait for the headers; the
        # adapter's timer bounds the body.
        timeout = Timeout(connect=self.timeout[0], read=self.timeout[1], total=self.deadline)
        host = host_of(url)
        attempt = 0
        while True:
            attempt += 1
            self._wait_turn(host)
            attempts = self.retries
            if self._on_attempt is not None:
                self._on_attempt(host, attempt, attempts)
            retry_after: float | None = None
            began = time.monotonic()
            try:
                raw = self.session.get(url, headers=dict(headers), timeout=timeout, allow_redirects=False)
            except transient as exc:
                self._last_request[host] = self._clock()
                failure = self._diagnose(exc, url, host, time.monotonic() - began)
                answered = host in self._reached
                if failure.unreachable and not answered:
                    raise OfflineError(failure.problem) from None
                if failure.final:
                    raise (FetchError if answered else OfflineError)(failure.problem) from None
                if failure.timeout and not answered:
                    attempts = min(attempts, UNANSWERED_ATTEMPTS)
                problem = failure.problem
            else:
                self._last_request[host] = self._clock()
                self._reached.add(host)
                if raw.status_code != 429 and raw.status_code < 500:
                    return raw
                problem = f"HTTP {raw.status_code}"
                retry_after = parse_retry_after(raw.headers.get("Retry-After"), self._now())
            if attempt >= attempts:
                if host not in self._reached:
                    raise OfflineError(
                        f"{problem}, after {attempt} attempts; the service may be down, or your network "
                        "may need a proxy (HTTPS_PROXY): try again later"
                    )
                raise FetchError(f"{url}: {problem} after {attempt} attempts; try again later")
            if retry_after is not None:
                wait = min(retry_after, self.max_retry_after)
            else:
                wait = self.backoff_base * 2 ** (attempt - 1)
            logger.info("%s: %s; retrying in %.1f s (attempt %d)", url, problem, wait, attempt)
            if self._on_retry is not None:
                self._on_retry(f"{host}: {_short(problem, host)}; attempt {attempt + 1} of {attempts} in {wait:.0f} s")
            self._sleep(wait)

    def _diagnose(self, exc: BaseException, url: str, host: str, waited: float) -> _Failure:
        """What went wrong with one attempt (that took ``waited`` seconds), in words that say
        what to do about it."""
        import ssl

        import requests
        from urllib3.exceptions import NameResolutionError, NewConnectionError

        chain = _chain(exc)
        if isinstance(exc, requests.exceptions.ProxyError):
            proxy = _proxy_for(url) if self.trust_env else None
            return _Failure(
                f"{_shown_proxy(proxy)} failed to connect to {host} ({_root_reason(chain)}); {_PROXY_ADVICE}",
                final=True)
        if isinstance(exc, requests.exceptions.SSLError):
            verify = next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None)
            trusted = f" (trusting {self._ca_bundle[0]}={self._ca_bundle[1]})" if self._ca_bundle else ""
            if verify is not None:
                why = verify.verify_message or verify.reason or "certificate verify failed"
                return _Failure(
                    f"the TLS certificate of {host} was not accepted: {why}{trusted}; {_CA_ADVICE}", final=True
                )
            return _Failure(f"the TLS connection to {host} failed ({_root_reason(chain)}){trusted}; {_CA_ADVICE}",
                            final=True)
        if isinstance(exc, DeadlineExceeded) or (isinstance(exc, requests.Timeout) and waited >= self.deadline):
            return _Failure(f"{host} did not complete its answer within {self.deadline:g} s (SEARCHDOC_DEADLINE)",
                            timeout=True)
        if isinstance(exc, requests.ConnectTimeout):
            return _Failure(f"{host} did not accept a connection within {self.timeout[0]:g} s", timeout=True)
        if isinstance(exc, requests.Timeout):
            return _Failure(
                f"{host} accepted the connection but sent no answer within {self.timeout[1]:g} s "
                "(SEARCHDOC_TIMEOUT)", timeout=True)
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return _Failure("the body was cut off")
        if isinstance(exc, requests.exceptions.ContentDecodingError):
            return _Failure("the body could not be decoded")
        if host in self._reached:
            return _Failure("connection failed")
        if any(isinstance(e, NameResolutionError) for e in chain):
            return _Failure(f"cannot reach {host} (its name does not resolve): you seem to be offline; "
                            "check your connection, or set HTTPS_PROXY if your network needs a proxy", unreachable=True)
        if any(isinstance(e, (NewConnectionError, ConnectionRefusedError)) for e in chain):
            return _Failure(f"cannot reach {host} (connection refused): you seem to be offline or the service "
                            "is down; check your connection and try again later", unreachable=True)
        if any(isinstance(e, ConnectionResetError) for e in chain):
            return _Failure(f"{host} reset the connection")
        return _Failure(f"{host} closed the connection without an answer")

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


def _short(problem: str, host: str) -> str:
    """``problem`` without a leading host name (the retry note names the host already)."""
    return problem[len(host) + 1:] if problem.startswith(host + " ") else problem


def _root_reason(chain: list[BaseException]) -> str:
    """The operating system's or TLS library's reason inside a wrapped network error, on one line."""
    import ssl

    for error in chain:
        if isinstance(error, ssl.SSLError) and (getattr(error, "verify_message", None) or error.reason):
            return str(getattr(error, "verify_message", None) or error.reason).lower().replace("_", " ")
        if type(error).__module__ == "builtins" and isinstance(error, OSError) and error.strerror:
            return error.strerror.lower()
    return " ".join(str(chain[-1]).split())[:200] if chain else "failed"


def _proxy_for(url: str) -> str | None:
    """The proxy requests takes from the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) for ``url``."""
    from requests.utils import get_environ_proxies, select_proxy

    return select_proxy(url, get_environ_proxies(url))


def _ca_bundle() -> tuple[str, str] | None:
    """(variable, path) of the certificates the environment says to trust, checked to exist.

    requests honours REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE; SSL_CERT_FILE, which OpenSSL and
    most other tools read, is honoured here too.
    """
    for name in CA_BUNDLE_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            if not Path(value).expanduser().exists():
                raise UsageError(f"{name}={value}: no such file; point it at a PEM file with the CA "
                                 "certificates to trust, or unset it")
            return name, str(Path(value).expanduser())
    return None
