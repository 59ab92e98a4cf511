"""HttpClient against a real local HTTP server: retries, waits, redirects, limits, cache."""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response as WResponse

from searchdoc import __version__
from searchdoc import settings as defaults
from searchdoc.errorpages import is_soft_404
from searchdoc.errors import FetchError, ForeignHostError, NotFoundError, OfflineError
from searchdoc.settings import Settings
from searchdoc.sources.http import HttpClient, parse_retry_after, with_params

WALL_START = 1_700_000_000.0

SOFT_404_PAGE = """<!DOCTYPE html><html lang="nl">
<head><title>Officiële bekendmakingen</title></head><body><main><h1>404: Pagina niet gevonden</h1>
<p>De pagina die u zocht kon niet worden
gevonden.</p></main></body></html>""".encode()


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds

    def clock(self) -> float:
        return self.t

    def now(self) -> float:
        return WALL_START + self.t


def make_settings(tmp_path, base: str, delay: float = 0.0) -> Settings:
    return Settings(
        corpus_dir=tmp_path / "corpus",
        index_dir=tmp_path / "index",
        ob_url=base,
        sru_url=base + "/sru",
        tk_url=base + "/OData/v4/2.0",
        repository_url=base + "/frbr/officielepublicaties",
        delay=delay,
    )


@pytest.fixture
def fake_time():
    return FakeTime()


@pytest.fixture
def make_client(tmp_path, httpserver, fake_time):
    clients = []

    def make(delay: float = 0.0, **kwargs) -> HttpClient:
        base = httpserver.url_for("/").rstrip("/")
        kwargs.setdefault("cache_dir", tmp_path / "http-cache")
        client = HttpClient(
            make_settings(tmp_path, base, delay),
            trust_env=False,
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            now=fake_time.now,
            **kwargs,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_success_returns_body_and_provenance(httpserver, make_client):
    httpserver.expect_request("/kst-1-2.xml").respond_with_data(
        b"<officiele-publicatie/>", content_type="application/xml; charset=utf-8"
    )
    response = make_client().get(httpserver.url_for("/kst-1-2.xml"))
    assert response.status == 200
    assert response.content == b"<officiele-publicatie/>"
    assert response.content_type.startswith("application/xml")
    assert response.url == httpserver.url_for("/kst-1-2.xml")
    assert not response.from_cache and not response.revalidated
    assert response.fetched_at.startswith("2023-11-14T")


def test_user_agent_names_searchdoc_version_and_contact(httpserver, make_client):
    httpserver.expect_request("/ua").respond_with_data("ok")
    make_client().get(httpserver.url_for("/ua"))
    ((request, _),) = httpserver.log
    agent = request.headers["User-Agent"]
    assert agent == defaults.USER_AGENT
    assert f"searchdoc/{__version__}" in agent and defaults.PROJECT_URL in agent


def test_503_then_200_retries_with_backoff(httpserver, make_client, fake_time):
    httpserver.expect_oneshot_request("/flaky").respond_with_data("busy", status=503)
    httpserver.expect_request("/flaky").respond_with_data("fine")
    response = make_client().get(httpserver.url_for("/flaky"))
    assert response.content == b"fine"
    assert len(httpserver.log) == 2
    assert fake_time.slept == [defaults.BACKOFF_BASE]


def test_gives_up_after_configured_attempts(httpserver, make_client, fake_time):
    httpserver.expect_request("/down").respond_with_data("oops", status=500)
    with pytest.raises(FetchError, match="HTTP 500 after 3 attempts"):
        make_client(retries=3, backoff_base=0.5).get(httpserver.url_for("/down"))
    assert len(httpserver.log) == 3
    assert fake_time.slept == [0.5, 1.0]


def test_429_honours_retry_after_seconds(httpserver, make_client, fake_time):
    httpserver.expect_oneshot_request("/limited").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_request("/limited").respond_with_data("ok")
    assert make_client().get(httpserver.url_for("/limited")).content == b"ok"
    assert fake_time.slept == [7.0]


def test_retry_after_http_date_and_cap(httpserver, make_client, fake_time):
    when = datetime.fromtimestamp(WALL_START + 30, timezone.utc)
    httpserver.expect_oneshot_request("/dated").respond_with_data(
        "", status=503, headers={"Retry-After": format_datetime(when, usegmt=True)}
    )
    httpserver.expect_oneshot_request("/dated").respond_with_data(
        "", status=503, headers={"Retry-After": "86400"}
    )
    httpserver.expect_request("/dated").respond_with_data("ok")
    make_client(max_retry_after=60).get(httpserver.url_for("/dated"))
    assert fake_time.slept == [30.0, 60.0]


def test_parse_retry_after_forms():
    assert parse_retry_after("120", now=0) == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0
    assert parse_retry_after("soon", now=0) is None
    assert parse_retry_after(None, now=0) is None


def test_per_host_delay_between_requests(httpserver, make_client, fake_time):
    httpserver.expect_request("/a").respond_with_data("a")
    client = make_client(delay=1.5, use_cache=False)
    client.get(httpserver.url_for("/a"))
    client.get(httpserver.url_for("/a"))
    fake_time.t += 0.5
    client.get(httpserver.url_for("/a"))
    assert fake_time.slept == [1.5, 1.0]


def truncated(request):
    response = WResponse(b"<officiele-publicatie>half", content_type="application/xml")
    response.headers["Content-Length"] = "5000"
    return response


def test_truncated_body_is_retried(httpserver, make_client, fake_time):
    httpserver.expect_oneshot_request("/doc.xml").respond_with_handler(truncated)
    httpserver.expect_request("/doc.xml").respond_with_data(b"<officiele-publicatie/>")
    response = make_client().get(httpserver.url_for("/doc.xml"))
    assert response.content == b"<officiele-publicatie/>"
    assert len(httpserver.log) == 2
    assert fake_time.slept == [defaults.BACKOFF_BASE]


def test_truncated_body_every_time_is_a_fetch_error(httpserver, make_client):
    httpserver.expect_request("/doc.xml").respond_with_handler(truncated)
    with pytest.raises(FetchError, match="cut off"):
        make_client(retries=2).get(httpserver.url_for("/doc.xml"))
    assert len(httpserver.log) == 2


def test_404_and_410_are_not_found(httpserver, make_client):
    httpserver.expect_request("/gone").respond_with_data("", status=410)
    httpserver.expect_request("/missing").respond_with_data("", status=404)
    client = make_client()
    for path in ("/gone", "/missing"):
        with pytest.raises(NotFoundError):
            client.get(httpserver.url_for(path))
    assert len(httpserver.log) == 2


def test_other_client_errors_are_not_retried(httpserver, make_client):
    httpserver.expect_request("/bad").respond_with_data("", status=400)
    with pytest.raises(FetchError, match="HTTP 400") as info:
        make_client().get(httpserver.url_for("/bad"))
    assert not isinstance(info.value, NotFoundError)
    assert len(httpserver.log) == 1


def test_soft_404_page_with_status_200(httpserver, make_client):
    httpserver.expect_request("/kst-99999-1.html").respond_with_data(
        SOFT_404_PAGE, content_type="text/html; charset=utf-8"
    )
    with pytest.raises(NotFoundError, match="not found"):
        make_client().get(httpserver.url_for("/kst-99999-1.html"))


def test_soft_404_detector():
    assert is_soft_404(SOFT_404_PAGE, "text/html", "https://x/y.html")
    assert is_soft_404(b"", "", "https://x/Errors/404.htm")
    assert is_soft_404(b"", "", "https://x/fout404.html?x=1")
    ordinary = b"<html><body><p>Nr. 404 van het dossier</p></body></html>"
    assert not is_soft_404(ordinary, "text/html", "https://x/kst-1-404.html")
    # An XML publication that quotes the phrase is still a publication.
    xml = b"<officiele-publicatie><al>404: Pagina niet gevonden</al></officiele-publicatie>"
    assert not is_soft_404(xml, "application/xml", "https://x/kst-1-2.xml")
    assert not is_soft_404(xml, None, None)


def test_redirect_to_error_page_is_not_found(httpserver, make_client):
    httpserver.expect_request("/kst-1-999.html").respond_with_data(
        "", status=302, headers={"Location": "/Errors/404.htm"}
    )
    with pytest.raises(NotFoundError):
        make_client().get(httpserver.url_for("/kst-1-999.html"))
    assert [r.path for r, _ in httpserver.log] == ["/kst-1-999.html"]


def test_redirect_within_host_is_followed(httpserver, make_client):
    httpserver.expect_request("/kst-1-2").respond_with_data(
        "", status=301, headers={"Location": "kst-1-2.html"}
    )
    httpserver.expect_request("/kst-1-2.html").respond_with_data("<html>stuk</html>")
    response = make_client().get(httpserver.url_for("/kst-1-2"))
    assert response.url == httpserver.url_for("/kst-1-2.html")
    assert response.content == b"<html>stuk</html>"


def test_redirect_to_other_host_is_refused(httpserver, make_client):
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    try:
        other.expect_request("/evil").respond_with_data("should never be fetched")
        httpserver.expect_request("/hop").respond_with_data(
            "", status=302, headers={"Location": other.url_for("/evil")}
        )
        with pytest.raises(ForeignHostError):
            make_client().get(httpserver.url_for("/hop"))
        assert other.log == []
    finally:
        other.clear()
        other.stop()


def test_request_to_unconfigured_host_is_refused(httpserver, make_client):
    with pytest.raises(ForeignHostError):
        make_client().get("http://127.0.0.1:9/anything")
    with pytest.raises(ForeignHostError):
        make_client().get("file:///etc/passwd")


def test_redirect_loop_is_detected(httpserver, make_client):
    httpserver.expect_request("/x").respond_with_data("", status=302, headers={"Location": "/y"})
    httpserver.expect_request("/y").respond_with_data("", status=302, headers={"Location": "/x"})
    with pytest.raises(FetchError, match="loop"):
        make_client().get(httpserver.url_for("/x"))
    assert len(httpserver.log) == 2


def test_too_many_redirects(httpserver, make_client):
    for i in range(8):
        httpserver.expect_request(f"/r{i}").respond_with_data(
            "", status=307, headers={"Location": f"/r{i + 1}"}
        )
    with pytest.raises(FetchError, match="more than 5 redirects"):
        make_client().get(httpserver.url_for("/r0"))
    assert len(httpserver.log) == 6


def test_oversized_body_with_content_length_is_refused(httpserver, make_client):
    httpserver.expect_request("/big.pdf").respond_with_data(b"%PDF-" + b"x" * 5000)
    with pytest.raises(FetchError, match="response of 5005 bytes is larger than the 1000-byte"):
        make_client(max_bytes=1000).get(httpserver.url_for("/big.pdf"))
    assert len(httpserver.log) == 1


def test_oversized_streamed_body_is_refused(httpserver, make_client):
    def endless(request):
        return WResponse((b"y" * 1024 for _ in range(50)), content_type="text/plain")

    httpserver.expect_request("/stream").respond_with_handler(endless)
    with pytest.raises(FetchError, match="larger than"):
        make_client(max_bytes=4096).get(httpserver.url_for("/stream"))


def test_second_fetch_is_a_conditional_request_answered_from_cache(httpserver, make_client):
    body = b"<officiele-publicatie>inhoud</officiele-publicatie>"
    httpserver.expect_oneshot_request("/kst-1-2.xml").respond_with_data(
        body,
        content_type="application/xml",
        headers={"ETag": '"v1"', "Last-Modified": "Wed, 15 May 2019 08:00:00 GMT"},
    )

    def conditional(request):
        if request.headers.get("If-None-Match") != '"v1"':
            return WResponse("no validator sent", status=500)
        assert request.headers.get("If-Modified-Since") == "Wed, 15 May 2019 08:00:00 GMT"
        return WResponse(status=304, headers={"ETag": '"v1"'})

    httpserver.expect_request("/kst-1-2.xml").respond_with_handler(conditional)
    first = make_client().get(httpserver.url_for("/kst-1-2.xml"))
    # A fresh client over the same cache folder: the next crawl.
    second = make_client(retries=1).get(httpserver.url_for("/kst-1-2.xml"))
    assert not first.from_cache
    assert second.from_cache and second.revalidated
    assert second.content == body
    assert second.content_type == "application/xml"
    assert len(httpserver.log) == 2
    assert httpserver.log[1][1].status_code == 304


def test_changed_document_is_downloaded_again(httpserver, make_client):
    httpserver.expect_oneshot_request("/doc").respond_with_data(
        "version 1", headers={"ETag": '"v1"'}
    )
    httpserver.expect_request("/doc").respond_with_data("version 2", headers={"ETag": '"v2"'})
    client = make_client()
    assert client.get(httpserver.url_for("/doc")).content == b"version 1"
    second = client.get(httpserver.url_for("/doc"))
    assert second.content == b"version 2" and not second.from_cache
    assert httpserver.log[1][0].headers.get("If-None-Match") == '"v1"'


def test_response_without_validator_is_never_served_stale(httpserver, make_client):
    httpserver.expect_oneshot_request("/plain").respond_with_data("old")
    httpserver.expect_request("/plain").respond_with_data("new")
    client = make_client()
    client.get(httpserver.url_for("/plain"))
    second = client.get(httpserver.url_for("/plain"))
    assert second.content == b"new" and not second.from_cache
    assert "If-None-Match" not in httpserver.log[1][0].headers


def test_soft_404_is_detected_on_a_revalidated_cached_page(httpserver, make_client):
    httpserver.expect_oneshot_request("/p.html").respond_with_data(
        SOFT_404_PAGE, content_type="text/html", headers={"ETag": '"e"'}
    )
    httpserver.expect_request("/p.html").respond_with_data("", status=304)
    client = make_client()
    for _ in range(2):
        with pytest.raises(NotFoundError):
            client.get(httpserver.url_for("/p.html"))


def test_offline_when_connection_is_refused(tmp_path, fake_time):
    base = f"http://127.0.0.1:{closed_port()}"
    client = HttpClient(
        make_settings(tmp_path, base), trust_env=False, use_cache=False, sleep=fake_time.sleep
    )
    with pytest.raises(OfflineError, match="cannot reach 127.0.0.1:.*you seem to be offline"):
        client.get(base + "/kst-1-2.xml")
    assert fake_time.slept == []


def test_lost_connection_after_contact_is_retried_then_fetch_error(tmp_path, fake_time):
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    server.expect_request("/a").respond_with_data("a")
    base = server.url_for("/").rstrip("/")
    client = HttpClient(
        make_settings(tmp_path, base),
        trust_env=False,
        use_cache=False,
        sleep=fake_time.sleep,
        retries=3,
    )
    try:
        client.get(base + "/a")
    finally:
        server.clear()
        server.stop()
    with pytest.raises(FetchError, match="connection failed after 3 attempts") as info:
        client.get(base + "/a")
    assert not isinstance(info.value, OfflineError)
    assert len(fake_time.slept) == 2


def test_with_params_encodes_spaces_as_percent_20():
    url = with_params("https://h/Zaak", {"$filter": "Nummer eq '2019Z01633'", "n": 2})
    assert url == "https://h/Zaak?$filter=Nummer%20eq%20'2019Z01633'&n=2"
    assert (
        with_params("https://h/sru?a=1", {"q": "x==y & z"})
        == "https://h/sru?a=1&q=x%3D%3Dy%20%26%20z"
    )
