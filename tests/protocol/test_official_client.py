"""The official Python client (PyPI `openmv` 1.0.7, Python >= 3.12) against the emulated camera.

It runs in the venv that `make` creates when a Python >= 3.12 exists (.venv-omvclient); without one the
test is skipped and says why.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from host_tools.paths import REPO_ROOT

CLIENT_PY = REPO_ROOT / ".venv-omvclient" / "bin" / "python"

SCRIPT = r"""
import json, sys, time
from openmv.camera import Camera
with Camera(sys.argv[1], timeout=2.0) as cam:
    cam.exec("print('official client says hi', 6 * 7)\n")
    out = ""
    for _ in range(50):
        out += cam.read_stdout() or ""
        if "42" in out:
            break
        time.sleep(0.05)
    cam.streaming(True)
    frame = None
    for _ in range(100):
        frame = cam.read_frame()
        if frame:
            break
        time.sleep(0.05)
    info = frame and [frame["width"], frame["height"], frame["format"], len(frame["data"])]
    print(json.dumps({"channels": sorted(cam.channels_by_name), "stdout": out, "frame": info}))
"""


def _client_python() -> str:
    if not CLIENT_PY.exists():
        pytest.skip(f"no Python >= 3.12 venv with the official `openmv` client at {CLIENT_PY.parent.parent} "
                    "(make creates it when python3.12 is installed)")
    cmd = [str(CLIENT_PY), "-c", "import openmv.camera, PIL"]
    check = subprocess.run(cmd, capture_output=True, timeout=60)
    if check.returncode:
        pytest.skip(f"{CLIENT_PY} lacks `openmv`/`pillow`: {check.stderr.decode()[-200:]}")
    return str(CLIENT_PY)


def test_official_client_exec_stdout_and_frame(start_server) -> None:
    python = _client_python()
    server = start_server()
    run = subprocess.run([python, "-c", SCRIPT, server.path], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert {"stdin", "stdout", "stream"} <= set(result["channels"])
    assert "official client says hi 42" in result["stdout"]
    w, h, fmt, n = result["frame"]
    assert (w, h, fmt) == (320, 240, 0x06060000) and n == 320 * 240 * 3  # JPEG decoded to RGB888
