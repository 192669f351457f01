"""Talking to a host_tools process a test started: its next stdout line, a Ctrl-C that ends it, an HTTP GET.

Shared by the test areas' conftests and modules (pytest puts tests/support on sys.path; conftests are not
importable under --import-mode=importlib).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
import urllib.request


def read_line(proc: subprocess.Popen, timeout: float) -> str:
    """The next stdout line of `proc` within `timeout` s (a failing test, not a hang, if none comes)."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < deadline:
        if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        ch = os.read(proc.stdout.fileno(), 1)  # one byte at a time: nothing of the next line is consumed
        if not ch:
            break
        if ch == b"\n":
            return buf.decode()
        buf += ch
    raise AssertionError(f"no line from {proc.args[:6]} within {timeout} s (got {buf!r})")


def interrupt(proc: subprocess.Popen, timeout: float = 30) -> tuple[bytes, bytes]:
    """Ctrl-C as a user gives it; the process's remaining (stdout, stderr). Killed, and the timeout raised,
    when it does not end within `timeout` s."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read()
