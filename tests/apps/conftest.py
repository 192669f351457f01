"""The real emulated OpenMV H7 on a pty (`host_tools sim openmv --pty`), started as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from proc_io import read_line

from host_tools.model_manifest import load_manifest

REPO = Path(__file__).resolve().parents[2]
SAMPLE_FRAMES = REPO / "models" / "masks" / "sample_frames"
MODEL = REPO / "models" / "masks" / "masks_int8.tflite"
APP = REPO / "openmv_app"
FIXTURE_MODELS = REPO / "tests" / "fixtures" / "models"
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def host_tools(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    """Run the CLI as a user would (a fresh process), capturing its output."""
    return subprocess.run([sys.executable, "-m", "host_tools", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV, cwd=REPO, **kw)


@dataclass
class Camera:
    port: str
    fs: Path
    proc: subprocess.Popen

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_camera(fs: Path, frames: Path = SAMPLE_FRAMES, fps: float = 10.0, board: str = "h7",
                 firmware: str = "5.0.0") -> Camera:
    """Firmware 5 serves Protocol V2; 4.x the MicroPython (raw) REPL."""
    fs.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "host_tools", "sim", "openmv", "--pty", "--frames", str(frames),
         "--fs", str(fs), "--fps", str(fps), "--board", board, "--firmware", firmware],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV, cwd=REPO)
    try:
        port = read_line(proc, 60)
    except AssertionError:
        proc.kill()
        raise
    assert port.startswith("/dev/"), port
    return Camera(port, fs, proc)


@pytest.fixture
def camera(tmp_path: Path) -> Iterator[Camera]:
    """A fresh emulated H7 with an empty filesystem."""
    if not SAMPLE_FRAMES.is_dir():
        pytest.skip(f"bundled sample frames missing: {SAMPLE_FRAMES}")
    cam = start_camera(tmp_path / "camera_fs")
    yield cam
    cam.stop()


def fs_snapshot(fs: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(fs.iterdir()) if p.is_file()}


def labels() -> list[str]:
    return list(load_manifest(MODEL).labels)


def stream_json(port: str, count: int, timeout: float = 90) -> list[dict]:
    """`host_tools stream --json --count N`: the app's JSON lines, each parsed."""
    r = host_tools("stream", "--port", port, "--json", "--count", str(count), timeout=timeout)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == count, r.stdout
    return [json.loads(ln) for ln in lines]


def copy_app(dst: Path, marker: str, bulk: int = 0) -> Path:
    """openmv_app/ copied, with main.py printing `marker` when it starts and cam.py changed, so their
    hashes change; `bulk` bytes of an extra module make the upload take longer."""
    shutil.copytree(APP, dst)
    main = (dst / "main.py").read_text()
    # The marker, then a pause: the camera's 512-byte stdout buffer keeps it until the host reads it.
    (dst / "main.py").write_text(f"print({marker!r})\nimport time\ntime.sleep(2)\n" + main)
    with open(dst / "cam.py", "a") as f:
        f.write(f"# {marker}\n")
    if bulk:
        filler = "# filler line of a module that only takes room\n" * (bulk // 48 + 1)
        (dst / "bulk.py").write_text(filler[:bulk])
    return dst


@pytest.fixture(scope="session")
def h():
    """The helpers above, for test modules (conftest is not importable under --import-mode=importlib)."""
    import types

    return types.SimpleNamespace(
        REPO=REPO, MODEL=MODEL, APP=APP, SAMPLE_FRAMES=SAMPLE_FRAMES, FIXTURE_MODELS=FIXTURE_MODELS,
        host_tools=host_tools, read_line=read_line, start_camera=start_camera, fs_snapshot=fs_snapshot,
        labels=labels, stream_json=stream_json, copy_app=copy_app,
    )
