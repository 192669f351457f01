"""The emulated Luckfox Pico (`host_tools sim rv1103 --serve`) for the adb, ssh and device-layer tests.

Other developers run tests on the same machine at the same time, so nothing here is shared: the test session
starts its OWN adb server (Debian's `adb`) on a free port and kills only that one; the emulated boards
register in a private folder; every port is a free one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from proc_io import read_line

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 600  # the first start builds the static board program (about a minute on 2 cores)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Board:
    info: dict
    proc: subprocess.Popen
    log: Path

    @property
    def root(self) -> Path:
        return Path(self.info["root"])

    @property
    def ssh_port(self) -> int:
        return int(self.info["ssh"].rsplit(":", 1)[1])

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


@pytest.fixture(scope="session")
def env(tmp_path_factory):
    """Environment for every program the tests start: a private adb server port and boards folder. The adb
    server on that port (started by a test, or by host_tools itself as adb does) is killed at the end."""
    home = tmp_path_factory.mktemp("adb-home")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ANDROID_ADB_SERVER_PORT": str(free_port()),
           "ANDROID_SDK_HOME": str(home), "TMPDIR": str(home),
           "CAMCLASS_BOARDS_DIR": str(tmp_path_factory.mktemp("boards"))}
    yield env
    if shutil.which("adb"):
        subprocess.run(["adb", "kill-server"], capture_output=True, timeout=30, env=env)  # ours only


@pytest.fixture
def board_env(env, monkeypatch) -> dict[str, str]:
    """The same environment for code the test runs in this process (the device layer)."""
    for key in ("ANDROID_ADB_SERVER_PORT", "ANDROID_SDK_HOME", "CAMCLASS_BOARDS_DIR"):
        monkeypatch.setenv(key, env[key])
    return env


@pytest.fixture(scope="session")
def adb(env):
    """run(*args) -> CompletedProcess of Debian's adb against this session's own server."""
    exe = shutil.which("adb")
    if exe is None:
        pytest.skip("Debian's adb is not installed (apt-get install adb; `make setup` does as root)")

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([exe, *args], capture_output=True, text=True, timeout=timeout, env=env)

    r = run("start-server")
    assert r.returncode == 0, r.stderr
    return run  # the env fixture kills this session's server (its own port) at the end


def start_board(env: dict, tmp: Path, *extra: str) -> Board:
    from host_tools.sim.rv1103.machine import namespaces_unavailable, pick_mode

    mode = "userns" if "userns" in extra else pick_mode("auto")
    why = namespaces_unavailable(mode)
    if why:
        pytest.skip(f"the emulated board cannot run on this machine: {why}")
    log = tmp / "board.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "host_tools", "sim", "rv1103", "--serve", *extra],
                                stdout=subprocess.PIPE, stderr=err, env=env, cwd=REPO)
    try:
        line = read_line(proc, START_TIMEOUT)
    except AssertionError as exc:
        proc.kill()
        proc.wait()
        raise AssertionError(f"{exc}\n{log.read_text()[-3000:]}") from None
    return Board(json.loads(line), proc, log)


@pytest.fixture(scope="module")
def board(env, tmp_path_factory):
    """An emulated Luckfox with the board program and the default bird model, shared by a test module."""
    b = start_board(env, tmp_path_factory.mktemp("board"))
    wait_for_file_line(b.root / "var/log/classifier.log", "listening on", 120)  # the program has started
    yield b
    assert b.stop() == 0, b.log.read_text()[-3000:]


def wait_for_file_line(path: Path, text: str, timeout: float = 30) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.is_file():
            for line in path.read_text(errors="replace").splitlines():
                if text in line:
                    return line
        time.sleep(0.1)
    raise AssertionError(f"{text!r} did not appear in {path} within {timeout} s")


def json_lines(sock: socket.socket, n: int, timeout: float = 30) -> list[dict]:
    """The first n complete JSON lines read from a connected socket."""
    sock.settimeout(timeout)
    buf = b""
    while buf.count(b"\n") < n + 1:  # the first line may have started before we connected
        data = sock.recv(65536)
        assert data, "the board closed the connection"
        buf += data
    lines = buf.decode().split("\n")[1:n + 1]
    return [json.loads(ln) for ln in lines]


@pytest.fixture(scope="session")
def h() -> SimpleNamespace:
    """Helpers for test modules (conftest is not importable under --import-mode=importlib)."""
    return SimpleNamespace(REPO=REPO, start_board=start_board, free_port=free_port, json_lines=json_lines,
                           wait_for_file_line=wait_for_file_line, read_line=read_line)
