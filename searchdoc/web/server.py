"""``searchdoc serve``: bind the address, then run the app under uvicorn until Ctrl-C.

With ``workers`` above 1, uvicorn's supervisor starts that many processes on the one socket; each
builds its app from the environment (:func:`app_from_environment`), where the corpus, index and
allowed host names were put for it.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import webbrowser
from collections.abc import Callable

from searchdoc import settings as defaults
from searchdoc.errors import UsageError

#: Host names a worker process answers to (comma-separated; unset: any).
ENV_ALLOWED_HOSTS = "SEARCHDOC_WEB_ALLOWED_HOSTS"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or a one-line error (port in use, unknown host)."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def app_from_environment():
    """The app of one worker process, over the corpus and index named in the environment."""
    from searchdoc.web.app import create_app
    from searchdoc.web.library import Library

    config = defaults.resolve()
    library = Library(config)
    library.open()
    hosts = os.environ.get(ENV_ALLOWED_HOSTS)
    return create_app(config, library, allowed_hosts=hosts.split(",") if hosts else None)


def serve(config, host: str, port: int, open_browser: bool = False, status: Callable[[str], None] = print,
          workers: int = 1) -> None:
    """Serve the corpus of ``config`` on ``host``:``port`` until interrupted."""
    import uvicorn

    from searchdoc.web.app import LOOPBACK_HOSTS, create_app
    from searchdoc.web.library import Library

    library = Library(config)
    library.open()  # the index is brought up to date once, before any worker starts
    loopback = is_loopback(host)
    allowed = LOOPBACK_HOSTS if loopback else None
    sock = bind(host, port)
    url = url_of(sock, host)
    if not loopback:
        status(f"warning: --host {host} makes searchdoc reachable from the network: anyone who can reach this "
               "machine can read the corpus")
    status(f"searchdoc: serving {config.corpus_dir} at {url} (read-only"
           + (f", {workers} worker processes" if workers > 1 else "") + "; Ctrl-C to stop)")
    options = {"log_level": "warning", "access_log": False, "lifespan": "off", "server_header": False}
    try:
        if workers > 1:
            from uvicorn.supervisors import Multiprocess

            library.close()
            os.environ[defaults.ENV_CORPUS] = str(config.corpus_dir)
            os.environ[defaults.ENV_INDEX] = str(config.index_dir)
            if allowed is not None:
                os.environ[ENV_ALLOWED_HOSTS] = ",".join(allowed)
            multi = uvicorn.Config("searchdoc.web.server:app_from_environment", factory=True, workers=workers,
                                   **options)
            if open_browser:
                threading.Thread(target=_open_when_listening, args=(sock, url), daemon=True).start()
            Multiprocess(multi, sockets=[sock]).run()
        else:
            server = uvicorn.Server(uvicorn.Config(create_app(config, library, allowed_hosts=allowed), **options))
            if open_browser:
                threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
            server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn has shut down gracefully and passes Ctrl-C on: the way to stop, not a failure
    finally:
        sock.close()
        library.close()
    status("searchdoc: stopped")


def _open_when_listening(sock: socket.socket, url: str) -> None:
    """Open ``url`` once a worker answers on ``sock``'s address."""
    import time

    host, port = sock.getsockname()[:2]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host if host not in ("0.0.0.0", "::") else "127.0.0.1", port), timeout=1):
                webbrowser.open(url)
                return
        except OSError:
            time.sleep(0.1)


def _open_when_started(server, url: str) -> None:
    import time

    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if server.started:
        webbrowser.open(url)
