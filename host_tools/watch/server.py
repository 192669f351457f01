"""The live page's HTTP server (standard library only): static page, /api/state JSON, /frame.jpg.

The page polls /api/state (a few times a second) and reloads /frame.jpg when the frame number changes:
plain polling keeps the server trivial and works in any browser, headless ones included.
"""

from __future__ import annotations

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


class Handler(BaseHTTPRequestHandler):
    server_version = "host_tools-watch"

    def __init__(self, *args, state: LiveState, **kwargs) -> None:
        self.state = state
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # the terminal shows results, not requests

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        try:
            if path in FILES:
                name, ctype = FILES[path]
                self._send(HTTPStatus.OK, (STATIC / name).read_bytes(), ctype)
            elif path == "/api/state":
                self._send(HTTPStatus.OK, json.dumps(self.state.snapshot()).encode(), "application/json")
            elif path == "/frame.jpg":
                _seq, jpeg = self.state.frame()
                if jpeg is None:
                    self._send(HTTPStatus.NOT_FOUND, b"no frame yet", "text/plain")
                else:
                    self._send(HTTPStatus.OK, jpeg, "image/jpeg")
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away mid-answer

    do_HEAD = do_GET


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def start_server(state: LiveState, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Serve in a daemon thread; `server.server_address` has the actual port (0 picks a free one)."""
    server_class = _V6Server if ":" in host else ThreadingHTTPServer
    try:
        server = server_class((host, port), partial(Handler, state=state))
    except OSError as exc:
        raise UsageError(f"cannot serve the page on {host}:{port}: {exc.strerror or exc}") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="watch-http", daemon=True).start()
    return server


def page_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else host
    return f"http://{shown}:{port}/"
