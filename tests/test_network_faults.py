"""The crawl on a real network: certificates, proxies, resets, silent hosts, trickled bodies,
and the URL policy. Every fault ends in one line that says what failed and what to do, exit 1,
and an unchanged corpus; servers are real local servers on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from test_crawl import LETTER_CITED, FakeServices, closed_port, snapshot
from test_http import make_settings
from werkzeug import Response

from searchdoc import settings
from searchdoc.cli import cli
from searchdoc.errors import FetchError, ForeignHostError, OfflineError, UsageError
from searchdoc.sources.http import HttpClient, url_problem

SERVICE_VARIABLES = ("SEARCHDOC_OB_URL", "SEARCHDOC_SRU_URL", "SEARCHDOC_TK_URL", "SEARCHDOC_REPOSITORY_URL")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def point_services_at(monkeypatch, base: str) -> None:
    for name in SERVICE_VARIABLES:
        monkeypatch.setenv(name, base)


def one_line(text: str) -> str:
    assert text.count("\n") == 1, text
    assert "Traceback" not in text and "internal error" not in text, text
    return text


# ---- TLS certificates


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made by the openssl command (``.ci/run`` installs it)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=120,
    )
    return cert, key


@pytest.fixture
def https_services(certificate, monkeypatch):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    fake = FakeServices(server)
    fake.env(monkeypatch)
    fake.add_official(*LETTER_CITED)
    assert fake.base.startswith("https://127.0.0.1:")
    yield fake
    server.clear()
    server.stop()


def test_self_signed_certificate_is_one_line_naming_the_variable_then_trusting_it_works(
    letter_env, https_services, certificate, monkeypatch
):
    corpus_dir, index_dir = letter_env
    before = snapshot(corpus_dir), snapshot(index_dir)
    result = invoke("crawl", "kst-33694-12")
    assert result.exit_code == 1
    err = one_line(result.stderr)
    assert "TLS certificate of 127.0.0.1:" in err and "self-signed certificate" in err
    assert "REQUESTS_CA_BUNDLE" in err and "SSL_CERT_FILE" in err and "nothing was changed" in err
    assert (snapshot(corpus_dir), snapshot(index_dir)) == before

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    result = invoke("crawl", "kst-33694-12", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["fetched"] == ["kst-33694-12"]


def test_ssl_cert_file_is_honoured_too(letter_env, https_services, certificate, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    result = invoke("crawl", "kst-33694-12", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["fetched"] == ["kst-33694-12"]


def test_a_missing_certificate_file_is_a_usage_error(letter_env, https_services, tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "nowhere.pem"))
    result = invoke("crawl", "kst-33694-12")
    assert result.exit_code == 2
    assert "REQUESTS_CA_BUNDLE=" in one_line(result.stderr) and "no such file" in result.stderr
    assert https_services.log == []


# ---- proxies


def test_a_failing_proxy_names_the_proxy_variables_and_no_proxy_is_honoured(letter_env, services_http, monkeypatch):
    corpus_dir, index_dir = letter_env
    before = snapshot(corpus_dir), snapshot(index_dir)
    proxy = f"http://user:secret@127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    result = invoke("crawl", "kst-33694-12")
    assert result.exit_code == 1
    err = one_line(result.stderr)
    assert "the proxy 127.0.0.1:" in err and "HTTPS_PROXY" in err and "NO_PROXY" in err
    assert "(connection refused)" in err and "secret" not in err and "nothing was changed" in err
    assert (snapshot(corpus_dir), snapshot(index_dir)) == before
    assert services_http.log == []

    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    result = invoke("crawl", "kst-33694-12")
    assert result.exit_code == 0, result.output


@pytest.fixture
def services_http(httpserver, monkeypatch):
    fake = FakeServices(httpserver)
    fake.env(monkeypatch)
    fake.add_official(*LETTER_CITED)
    return fake


# ---- hosts that reset the connection or never answer


class RawServer:
    """A TCP server on 127.0.0.1 that accepts connections and then resets them, stays silent,
    or sends ``reply`` byte for byte (a header no HTTP library would write)."""

    def __init__(self, mode: str, reply: bytes = b""):
        self.mode = mode
        self.reply = reply
        self.requests: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.mode == "reset":
                conn.recv(65536)
                # Linger 0: close() sends a RST instead of a FIN.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()
            elif self.mode == "reply":
                self.requests.append(conn.recv(65536))
                conn.sendall(self.reply)
                conn.close()
            else:
                self.accepted.append(conn)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def raw_server(request):
    server = RawServer(request.param)
    yield server
    server.close()


@pytest.mark.parametrize("raw_server", ["reset"], indirect=True)
def test_a_reset_connection_is_one_line_and_changes_nothing(letter_env, raw_server, monkeypatch):
    corpus_dir, index_dir = letter_env
    point_services_at(monkeypatch, f"http://127.0.0.1:{raw_server.port}")
    monkeypatch.setenv("SEARCHDOC_TIMEOUT", "5")
    before = snapshot(corpus_dir), snapshot(index_dir)
    result = CliRunner().invoke(cli, ["crawl", "kst-33694-12"], catch_exceptions=False)
    assert result.exit_code == 1
    err = result.stderr.splitlines()
    final = err[-1]
    assert final.startswith("searchdoc: error: 127.0.0.1:") and "nothing was changed" in final
    assert ("reset the connection" in final or "closed the connection" in final) and "try again later" in final
    # Each retry said which host and which attempt.
    assert [line.split(";")[-1].strip() for line in err[:-1]] == [
        f"attempt {n} of {settings.REQUEST_RETRIES} in {2 ** (n - 2)} s" for n in range(2, settings.REQUEST_RETRIES + 1)
    ]
    assert all(line.startswith(f"127.0.0.1:{raw_server.port}: ") for line in err[:-1])
    assert (snapshot(corpus_dir), snapshot(index_dir)) == before


@pytest.mark.parametrize("raw_server", ["silent"], indirect=True)
def test_a_host_that_never_answers_is_given_up_after_two_attempts(letter_env, raw_server, monkeypatch):
    corpus_dir, index_dir = letter_env
    point_services_at(monkeypatch, f"http://127.0.0.1:{raw_server.port}")
    monkeypatch.setenv("SEARCHDOC_TIMEOUT", "0.2")
    before = snapshot(corpus_dir), snapshot(index_dir)
    result = invoke("crawl", "kst-33694-12", "--format", "json")
    assert result.exit_code == 1
    err = result.stderr.splitlines()
    assert err[0] == (f"127.0.0.1:{raw_server.port}: accepted the connection but sent no answer within 0.2 s "
                      "(SEARCHDOC_TIMEOUT); attempt 2 of 2 in 1 s")
    assert len(err) == 2 and "after 2 attempts" in err[1] and "nothing was changed" in err[1]
    data = json.loads(result.stdout)
    assert data["fetched"] == [] and "no answer within 0.2 s" in data["error"]
    assert (snapshot(corpus_dir), snapshot(index_dir)) == before


def test_each_attempt_is_announced_with_its_host(tmp_path):
    server = RawServer("silent")
    base = f"http://127.0.0.1:{server.port}"
    attempts: list[tuple[str, int, int]] = []
    notes: list[str] = []
    client = HttpClient(make_settings(tmp_path, base), use_cache=False, trust_env=False, sleep=lambda s: None,
                        timeout=(1.0, 0.1), on_attempt=lambda *a: attempts.append(a), on_retry=notes.append)
    try:
        with pytest.raises(OfflineError, match="sent no answer within 0.1 s"):
            client.get(base + "/kst-1-2.xml")
    finally:
        client.close()
        server.close()
    host = f"127.0.0.1:{server.port}"
    assert [a[:2] for a in attempts] == [(host, 1), (host, 2)]
    assert notes == [f"{host}: accepted the connection but sent no answer within 0.1 s (SEARCHDOC_TIMEOUT); "
                     "attempt 2 of 2 in 1 s"]


# ---- the per-request deadline


def test_a_trickled_body_is_cut_off_by_the_deadline(tmp_path):
    stop = threading.Event()

    def trickle(request):
        def body():
            for _ in range(33):
                if stop.wait(0.3):
                    return
                yield b"x"

        return Response(body(), content_type="application/xml")

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    server.expect_request("/slow.xml").respond_with_handler(trickle)
    base = server.url_for("/").rstrip("/")
    client = HttpClient(make_settings(tmp_path, base), use_cache=False, trust_env=False, sleep=lambda s: None,
                        retries=1, deadline=1.0, timeout=(60.0, 60.0))
    try:
        with pytest.raises(FetchError, match=r"did not complete its answer within 1 s \(SEARCHDOC_DEADLINE\)"):
            client.get(base + "/slow.xml")
    finally:
        client.close()
        stop.set()
        server.clear()
        server.stop()


def test_the_deadline_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCHDOC_DEADLINE", "7.5")
    monkeypatch.setenv("SEARCHDOC_TIMEOUT", "3")
    client = HttpClient(settings.resolve(tmp_path / "c", tmp_path / "i"), use_cache=False)
    assert client.deadline == 7.5 and client.timeout == (settings.REQUEST_CONNECT_TIMEOUT, 3.0)


# ---- numeric settings


@pytest.mark.parametrize("name", sorted(settings.NUMERIC_ENV))
@pytest.mark.parametrize("value", ["inf", "nan", "-1", "1e999", "ten", "-inf", "1000000"])
def test_bad_numeric_settings_are_exit_2_naming_variable_and_range(letter_env, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    result = invoke("crawl", "kst-33694-12")
    assert result.exit_code == 2
    err = one_line(result.stderr)
    _, low, high = settings.NUMERIC_ENV[name]
    assert f"{name}=" in err and f"from {low:g} to {high:g}" in err
    with pytest.raises(UsageError):
        settings.resolve()


def test_good_numeric_settings_are_taken(monkeypatch, tmp_path):
    monkeypatch.setenv("SEARCHDOC_DELAY", " 2.5 ")
    assert settings.resolve(tmp_path / "c", tmp_path / "i").delay == 2.5


# ---- offline JSON


def test_crawl_json_when_offline_is_valid_json_and_exit_1(letter_env, monkeypatch):
    point_services_at(monkeypatch, f"http://127.0.0.1:{closed_port()}")
    result = invoke("crawl", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["fetched"] == [] and data["failed"] == []
    assert "offline" in data["error"] and "nothing was changed" in data["error"]
    assert "offline" in one_line(result.stderr)


# ---- the URL policy


@pytest.mark.parametrize(
    "url, problem",
    [
        ("http://127.0.0.1:1\\@127.0.0.1:2/x", "backslash"),
        ("http://169.254.169.254\\@zoek.officielebekendmakingen.nl/", "backslash"),
        ("http://user@127.0.0.1:2/x", "user name"),
        ("http://user:pw@127.0.0.1/x", "user name"),
        ("http://127.0.0.1\t.evil/x", "control"),
        ("http://zoek.officiëlebekendmakingen.nl/", "non-ASCII"),
        ("http://127.0.0.1%2eevil/x", "percent"),
        ("ftp://127.0.0.1/x", "only http"),
        ("http://127.0.0.1:99999/x", "parsed"),
        ("http:///x", "two ways"),
    ],
)
def test_url_policy_refuses_what_two_parsers_could_read_differently(url, problem):
    assert problem in (url_problem(url) or "")


def test_url_policy_accepts_plain_service_urls():
    for url in ("https://zoek.officielebekendmakingen.nl/kst-33694-45.xml",
                "http://127.0.0.1:8080/sru?query=a%20b&x=1", "https://repository.overheid.nl/frbr/x/1/xml"):
        assert url_problem(url) is None, url


def test_a_backslash_redirect_never_reaches_the_other_host(tmp_path):
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    other.expect_request("/x").respond_with_data("secret")
    allowed = RawServer("reply")
    target = f"http://127.0.0.1:{other.port}\\@127.0.0.1:{allowed.port}/x"
    allowed.reply = f"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n".encode()
    base = f"http://127.0.0.1:{allowed.port}"
    client = HttpClient(make_settings(tmp_path, base), use_cache=False, trust_env=False, sleep=lambda s: None)
    try:
        with pytest.raises(ForeignHostError, match=r"refused http://127\.0\.0\.1:\d+\\\\@.*backslash"):
            client.get(base + "/start")
        assert other.log == []
        assert len(allowed.requests) == 1 and allowed.requests[0].startswith(b"GET /start ")
    finally:
        client.close()
        allowed.close()
        other.clear()
        other.stop()


@pytest.mark.parametrize("location", ["http://user@{host}/x", "http://{host}\t/x", "//{host}@evil.invalid/x"])
def test_redirects_with_userinfo_or_controls_are_refused(httpserver, tmp_path, location):
    host = f"127.0.0.1:{httpserver.port}"
    httpserver.expect_request("/start").respond_with_data("", status=302,
                                                          headers={"Location": location.format(host=host)})
    base = httpserver.url_for("/").rstrip("/")
    client = HttpClient(make_settings(tmp_path, base), use_cache=False, trust_env=False, sleep=lambda s: None)
    with pytest.raises(ForeignHostError):
        client.get(base + "/start")
    client.close()
    assert [request.path for request, _ in httpserver.log] == ["/start"]



def test_the_progress_bar_shows_host_and_attempt():
    from searchdoc.progress import Progress

    class Bar:
        def __init__(self):
            self.postfix, self.count = "", 0

        def update(self, n):
            self.count += n

        def set_postfix_str(self, text):
            self.postfix = text

    bar = Bar()
    progress = Progress(bar)
    progress.note("zoek.officielebekendmakingen.nl, attempt 2 of 4")
    progress(1)
    assert (bar.postfix, bar.count) == ("zoek.officielebekendmakingen.nl, attempt 2 of 4", 1)
    Progress()(1)
    Progress().note("silent when there is no bar")


@pytest.mark.parametrize("url", ["http://[bad", "http://user@127.0.0.1:9", "ftp://127.0.0.1/", "http://a\\@b/"])
def test_a_service_url_the_policy_refuses_is_a_usage_error(letter_env, monkeypatch, url):
    monkeypatch.setenv("SEARCHDOC_OB_URL", url)
    result = invoke("crawl", "kst-36000-1")
    assert result.exit_code == 2
    assert "SEARCHDOC_OB_URL=" in one_line(result.stderr) and "is not accepted" in result.stderr
