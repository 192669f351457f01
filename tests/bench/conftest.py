"""An emulated OpenMV H7 held to 10 FPS, flashed with the default app and model, for the bench tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FRAMES = REPO / "models" / "masks" / "sample_frames"
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
FPS = 5.0  # slack for a loaded machine: the emulated app must keep up for the camera to hold it


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "host_tools", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
        cwd=REPO,
    )


def _first_line(proc: subprocess.Popen, timeout: float) -> str:
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    end, buf = time.monotonic() + timeout, b""
    while time.monotonic() < end and sel.select(timeout=max(0.0, end - time.monotonic())):
        ch = os.read(proc.stdout.fileno(), 1)
        if not ch or ch == b"\n":
            break
        buf += ch
    return buf.decode()


@pytest.fixture(scope="module")
def camera_port(tmp_path_factory):
    fs = tmp_path_factory.mktemp("camera_fs")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "host_tools",
            "sim",
            "openmv",
            "--pty",
            "--frames",
            str(FRAMES),
            "--fs",
            str(fs),
            "--fps",
            str(FPS),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=ENV,
        cwd=REPO,
    )
    try:
        port = _first_line(proc, 60)
        assert port.startswith("/dev/"), port
        r = cli("flash", "--port", port)
        assert r.returncode == 0, r.stderr
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
