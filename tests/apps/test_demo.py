"""`make run`'s script: emulated H7 on a pty, flashed with `host_tools flash`, then watched."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path


def test_demo_flashes_the_emulated_camera_and_watches_it(h, tmp_path: Path) -> None:
    fs = tmp_path / "fs"
    r = subprocess.run([sys.executable, "-m", "host_tools.demo", "--duration", "10", "--http-port", "0",
                        "--fs", str(fs)], capture_output=True, text=True, timeout=240, cwd=h.REPO)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "EMULATED OpenMV Cam H7" in r.stdout
    assert re.search(r"live page: http://127\.0\.0\.1:\d+/", r.stdout)
    assert re.search(r"^frame +\d+ +\S+ +[01]\.\d\d", r.stdout, re.M)  # terminal lines from watch
    assert (fs / "main.py").read_bytes() == (h.APP / "main.py").read_bytes()  # flashed over the protocol
    assert (fs / "model.tflite").read_bytes() == h.MODEL.read_bytes()
    assert "Traceback" not in r.stderr


def test_demo_stops_its_watch_when_started_with_ctrl_c_ignored(h, tmp_path: Path) -> None:
    # A script's `make run &` (or nohup) starts everything with SIGINT ignored, so the Ctrl-C the demo sends
    # watch at the end of --duration does nothing: the demo must still end it, not leave it holding the pipe.
    fs = tmp_path / "fs"
    r = subprocess.run([sys.executable, "-m", "host_tools.demo", "--duration", "3", "--http-port", "0",
                        "--fs", str(fs)], capture_output=True, text=True, timeout=150, cwd=h.REPO,
                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.search(r"^frame +\d+ ", r.stdout, re.M)
    assert "Traceback" not in r.stderr
