"""The live page's HTTP server (standard library only): static page, /api/state JSON, /frame.jpg.

The page polls /api/state (a few times a second) and reloads /frame.jpg when the frame number changes:
plain polling keeps the server trivial and works in any browser, headless ones included.

What a page on another site could do to it, and why it cannot: a DNS-rebinding page reaches us under its own
host name, so only requests whose Host is a loopback name or the bound address (or, bound to every interface,
an IP literal or this machine's name) are answered, others get 421. Responses forbid MIME sniffing and
framing (Content-Security-Policy frame-ancestors 'none'); the Server header names no Python version; a
connection idle for IDLE_TIMEOUT seconds is closed, so idle clients cannot pile up threads.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from host_tools.errors import UsageError
from host_tools.watch.state import LiveState

STATIC = Path(__file__).resolve().parent / "static"
HTML = ("index.html", "text/html; charset=utf-8")
FILES = {"/": HTML, "/index.html": HTML, "/app.js": ("app.js", "text/javascript; charset=utf-8"),
         "/style.css": ("style.css", "text/css; charset=utf-8")}


IDLE_TIMEOUT = 10.0  # seconds a connection may stay silent (between or inside requests)
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _host_name(header: str) -> str:
    """The host part of a Host header ("[::1]:8765" -> "::1", "Example.org." -> "example.org")."""
    h = header.strip().lower()
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h
    if h.count(":") == 1:
        h = h.split(":", 1)[0]
    return h.rstrip(".")


def allowed_hosts(bind: str) -> tuple[set[str], bool]:
    """(Host names accepted, whether any IP literal is accepted) for a server bound to `bind`."""
    names = set(LOOPBACK_NAMES) | {bind.lower()}
    try:  # a name given to --bind: the addresses it stands for, too
        names |= {str(ai[4][0]).lower() for ai in socket.getaddrinfo(bind, None, type=socket.SOCK_STREAM)}
    except (OSError, UnicodeError):
        pass
    wildcard = bind in ("0.0.0.0", "::", "")
    if wildcard:  # reachable under this machine's names too
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return names, wildcard


def host_allowed(header: str | None, names: set[str], any_ip: bool) -> bool:
    if not header:
        return False
    host = _host_name(header)
    if host in names or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # a DNS name we do not know: what a rebinding page sends
    return ip.is_loopback or any_ip


class LocalPageHandler(BaseHTTPRequestHandler):
    """What the local pages (watch, tune ui) share: no Python version in the Server header, no request log,
    and every answer with the security headers and no caching."""

    sys_version = ""  # no Python version in the Server header

    def __init__(self, *args, state, hosts: tuple[set[str], bool], **kwargs) -> None:
        self.state = state
        self.hosts = hosts
        super().__init__(*args, **kwargs)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # the terminal shows results, not requests

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class Handler(LocalPageHandler):
    server_version = "host_tools-watch"
    timeout = IDLE_TIMEOUT  # StreamRequestHandler: socket timeout, so an idle connection ends its thread
    state: LiveState

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        try:
            if not host_allowed(self.headers.get("Host"), *self.hosts):
                self._send(HTTPStatus.MISDIRECTED_REQUEST, b"unknown host: this page answers only on "
                           b"localhost or the address it is served on", "text/plain")
            elif path in FILES:
                name, ctype = FILES[path]
                self._send(HTTPStatus.OK, (STATIC / name).read_bytes(), ctype)
            elif path == "/api/state":
                self._send(HTTPStatus.OK, json.dumps(self.state.snapshot()).encode(), "application/json")
            elif path == "/frame.jpg":
                _seq, jpeg = self.state.frame(_seq_param(self.path))
                if jpeg is None:
                    self._send(HTTPStatus.NOT_FOUND, b"no frame yet", "text/plain")
                else:
                    self._send(HTTPStatus.OK, jpeg, "image/jpeg")
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the browser went away (or stalled) mid-answer

    do_HEAD = do_GET


def _seq_param(path: str) -> int | None:
    """The image number asked for (/frame.jpg?seq=N), None for the newest."""
    from urllib.parse import parse_qs, urlsplit

    value = parse_qs(urlsplit(path).query).get("seq", [""])[0]
    return int(value) if value.isdigit() and len(value) < 12 else None


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # listen backlog: a burst of browsers/tabs connecting is not refused
    daemon_threads = True


class _V6Server(_Server):
    address_family = socket.AF_INET6


def start_server(state: LiveState, host: str = "127.0.0.1", port: int = 0,
                 idle_timeout: float = IDLE_TIMEOUT) -> ThreadingHTTPServer:
    """Serve in a daemon thread; `server.server_address` has the actual port (0 picks a free one)."""
    server_class = _V6Server if ":" in host else _Server
    handler = type("WatchHandler", (Handler,), {"timeout": idle_timeout})
    try:
        server = server_class((host, port), partial(handler, state=state, hosts=allowed_hosts(host)))
    except OSError as exc:
        raise UsageError(f"cannot serve the page on {host}:{port}: {exc.strerror or exc}") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="watch-http", daemon=True).start()
    return server


def page_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else host
    return f"http://{shown}:{port}/"
