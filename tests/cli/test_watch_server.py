"""The live page's server against hostile pages and clients: DNS rebinding (Host allow-list), MIME sniffing
and framing, the Python version in the Server header, and many slow or idle clients."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest

from host_tools.watch.server import start_server
from host_tools.watch.state import LiveState


@pytest.fixture
def server():
    srv = start_server(LiveState("test camera"), "127.0.0.1", 0, idle_timeout=1.0)
    yield srv
    srv.shutdown()
    srv.server_close()


def _get(port: int, path: str = "/api/state", host: str | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", path, skip_host=host is not None)
    if host is not None:
        conn.putheader("Host", host)
    conn.endheaders()
    resp = conn.getresponse()
    resp.body = resp.read()
    conn.close()
    return resp


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "LOCALHOST", "[::1]:8765", "127.0.0.1"])
def test_loopback_names_and_the_bound_address_are_answered(server, host):
    r = _get(server.server_address[1], host=host)
    assert r.status == 200 and b'"source": "test camera"' in r.body


@pytest.mark.parametrize("host", ["attacker.example:8765", "attacker.example", "192.168.1.20", ""])
def test_other_host_headers_are_refused(server, host):
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: it must not read results or frames."""
    for path in ("/api/state", "/frame.jpg", "/"):
        r = _get(server.server_address[1], path, host=host)
        assert r.status == 421, (host, path, r.status)
        assert b"test camera" not in r.body


def test_security_headers_and_no_python_version(server):
    r = _get(server.server_address[1], "/")
    assert r.status == 200
    assert r.getheader("X-Content-Type-Options") == "nosniff"
    assert "frame-ancestors 'none'" in r.getheader("Content-Security-Policy")
    assert r.getheader("Server") == "host_tools-watch"  # no "Python/3.x"


def _threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("Thread-"))


def test_idle_and_slow_clients_time_out_and_the_page_stays_served(server):
    """250 clients that connect and send half a request (or nothing) neither block the page nor keep their
    threads: each is closed after the idle timeout (1 s here, 10 s by default)."""
    port = server.server_address[1]
    base = _threads()
    socks = []
    for i in range(250):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if i % 2:
            s.sendall(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends its headers
        socks.append(s)
    try:
        t0 = time.monotonic()
        r = _get(port)
        assert r.status == 200 and time.monotonic() - t0 < 5
        deadline = time.monotonic() + 15
        closed = 0
        for s in socks:  # the server closes each idle connection: recv returns b"" (EOF)
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                closed += s.recv(1024) == b""
            except ConnectionResetError:
                closed += 1
            except TimeoutError:
                pass
        assert closed == 250
        while _threads() > base and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _threads() <= base, f"{_threads() - base} handler threads left"
    finally:
        for s in socks:
            s.close()
