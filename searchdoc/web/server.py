"""``searchdoc serve``: bind the address, then run the app under uvicorn until Ctrl-C."""

from __future__ import annotations

import ipaddress
import socket
import threading
import webbrowser
from collections.abc import Callable

from searchdoc.errors import UsageError


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


def serve(config, host: str, port: int, open_browser: bool = False, status: Callable[[str], None] = print) -> None:
    """Serve the corpus of ``config`` on ``host``:``port`` until interrupted."""
    import uvicorn

    from searchdoc.web.app import LOOPBACK_HOSTS, create_app
    from searchdoc.web.library import Library

    library = Library(config)
    library.open()
    loopback = is_loopback(host)
    app = create_app(config, library, allowed_hosts=LOOPBACK_HOSTS if loopback else None)
    sock = bind(host, port)
    url = url_of(sock, host)
    if not loopback:
        status(f"warning: --host {host} makes searchdoc reachable from the network: anyone who can reach this "
               "machine can read the corpus")
    status(f"searchdoc: serving {config.corpus_dir} at {url} (read-only; Ctrl-C to stop)")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                           server_header=False))
    if open_browser:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn has shut down gracefully and passes Ctrl-C on: the way to stop, not a failure
    finally:
        sock.close()
        library.close()
    status("searchdoc: stopped")


def _open_when_started(server, url: str) -> None:
    import time

    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if server.started:
        webbrowser.open(url)
