"""mpremote, MicroPython's own host tool, against the emulated camera on firmware 4.x (the MicroPython REPL):
its default connect soft-resets through the raw REPL (ctrl-D on an empty line), and its `fs` commands rely
on REPL globals persisting from one raw-REPL execution to the next."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

APP = "import time\nn = 0\nwhile True:\n    n += 1\n    print('app frame', n)\n    time.sleep_ms(20)\n"


def _mpremote() -> str:
    exe = shutil.which("mpremote") or str(Path(sys.executable).with_name("mpremote"))
    if not Path(exe).exists():
        pytest.skip("mpremote not installed (pip install mpremote; in the dev extra)")
    return exe


@pytest.mark.parametrize("firmware", ["4.6.0", "4.8.0"])
def test_mpremote_exec_eval_and_fs_on_firmware_4(h, tmp_path: Path, firmware: str) -> None:
    fs = tmp_path / "camera_fs"
    fs.mkdir()
    (fs / "main.py").write_text(APP)  # running and printing: mpremote must interrupt it
    blob = os.urandom(20 * 1024)
    (tmp_path / "blob.bin").write_bytes(blob)
    (tmp_path / "note.txt").write_text("a note from the host\n")
    cam = h.start_camera(fs, firmware=firmware)
    try:
        cmd = [_mpremote(), "connect", cam.port,
               "exec", "import os; x = 41", "+",
               "eval", "x + 1", "+",  # x survives from the previous execution
               "fs", "cp", str(tmp_path / "blob.bin"), ":blob.bin", "+",
               "fs", "cp", ":blob.bin", str(tmp_path / "back.bin"), "+",
               "fs", "sha256sum", ":blob.bin", "+",
               "fs", "mkdir", ":d", "+",
               "fs", "cp", str(tmp_path / "note.txt"), ":d/note.txt", "+",
               "fs", "cat", ":d/note.txt", "+",
               "fs", "rm", ":blob.bin", "+",
               "fs", "ls", ":"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, (r.stdout, r.stderr)
        lines = r.stdout.splitlines()
        assert "42" in lines
        assert hashlib.sha256(blob).hexdigest() in r.stdout  # computed on the camera
        assert (tmp_path / "back.bin").read_bytes() == blob  # both ways, byte-exact
        assert "a note from the host" in lines
        assert not (fs / "blob.bin").exists()
        assert (fs / "d" / "note.txt").read_text() == "a note from the host\n"
        listing = r.stdout[r.stdout.rindex("ls :"):]
        assert "d/" in listing and "main.py" in listing and "blob.bin" not in listing
        # A second connection soft-resets: the first one's globals are gone.
        r2 = subprocess.run([_mpremote(), "connect", cam.port, "eval", "'x' in globals()"],
                            capture_output=True, text=True, timeout=60)
        assert r2.returncode == 0 and r2.stdout.strip() == "False", (r2.stdout, r2.stderr)
    finally:
        cam.stop()
