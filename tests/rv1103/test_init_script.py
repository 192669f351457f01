"""rv1103_app/deploy/S99classifier on this host: the program is started again when it dies (1 s, 2 s, 4 s...
apart), `reload` reaches it as SIGHUP, `stop` ends it with SIGTERM and nothing restarts it afterwards.

A stand-in program (a shell script in a temporary APP_DIR) records each start and signal. The script runs
with /bin/sh and start-stop-daemon: Debian's, and BusyBox's (the board's) where busybox is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "rv1103_app" / "deploy" / "S99classifier"

FAKE_APP = """#!/bin/sh
# records: "start <seconds since boot> <args>", then "hup" / "term"
read -r up _ < /proc/uptime
echo "start $up $*" >> "$APP_DIR/runs"
[ -f "$APP_DIR/crash" ] && exit 3
trap 'echo hup >> "$APP_DIR/runs"' HUP
trap 'echo term >> "$APP_DIR/runs"; exit 0' TERM
while :; do sleep 0.05; done
"""


def tools() -> list[str]:
    found = []
    if shutil.which("start-stop-daemon"):
        found.append("debian")
    if shutil.which("busybox"):
        found.append("busybox")
    return found


@pytest.fixture(params=["debian", "busybox"])
def board(request, tmp_path):
    if request.param not in tools():
        pytest.skip(f"no {request.param} start-stop-daemon on this machine")
    app_dir = tmp_path / "classifier"
    (app_dir / "bin").mkdir(parents=True)
    app = app_dir / "bin" / "rv1103_app"
    app.write_text(FAKE_APP)
    app.chmod(0o755)
    env = dict(os.environ, APP_DIR=str(app_dir), PIDFILE=str(tmp_path / "classifier.pid"),
               LOG=str(tmp_path / "classifier.log"), ARGS="--config c.json --no-stdout")
    if request.param == "busybox":  # BusyBox's applets first on PATH, as on the board
        applets = tmp_path / "applets"
        applets.mkdir()
        for name in ("start-stop-daemon", "date", "pidof", "sleep", "cat", "rm"):
            (applets / name).symlink_to(shutil.which("busybox"))
        env["PATH"] = f"{applets}:{env['PATH']}"

    def run(action: str) -> subprocess.CompletedProcess:
        return subprocess.run(["/bin/sh", str(SCRIPT), action], env=env, capture_output=True, text=True,
                              timeout=30)

    def runs() -> list[str]:
        f = app_dir / "runs"
        return f.read_text().splitlines() if f.exists() else []

    def supervisor_alive() -> bool:
        pid_file = tmp_path / "classifier.pid"
        if not pid_file.exists():
            return False
        try:
            os.kill(int(pid_file.read_text()), 0)
        except (OSError, ValueError):
            return False
        return True

    yield app_dir, run, runs, supervisor_alive, tmp_path / "classifier.log"
    if supervisor_alive():
        run("stop")


def wait_until(pred, timeout: float = 15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_a_dying_program_is_restarted_with_a_growing_pause(board):
    app_dir, run, runs, supervisor_alive, log = board
    (app_dir / "crash").touch()
    assert run("start").returncode == 0
    assert wait_until(lambda: len([r for r in runs() if r.startswith("start")]) >= 3), runs()
    starts = [float(r.split()[1]) for r in runs() if r.startswith("start")]
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps[0] >= 0.8 and gaps[1] >= 1.8, gaps  # 1 s, then 2 s (a loaded machine only makes them longer)
    assert runs()[0].endswith("--config c.json --no-stdout")
    text = log.read_text()
    assert "rv1103_app exited with status 3" in text and "starting it again in 2 s" in text
    assert run("stop").returncode == 0
    assert not supervisor_alive(), "the supervisor outlived stop"


def test_reload_sends_sighup_and_stop_sends_sigterm(board):
    app_dir, run, runs, supervisor_alive, log = board
    assert run("start").returncode == 0
    assert wait_until(lambda: any(r.startswith("start") for r in runs()))
    time.sleep(0.3)  # the stand-in has set its traps
    assert run("reload").returncode == 0
    assert wait_until(lambda: "hup" in runs()), runs()
    assert supervisor_alive()
    t0 = time.monotonic()
    assert run("stop").returncode == 0
    assert time.monotonic() - t0 < 8
    assert "term" in runs() and not supervisor_alive()
    assert len([r for r in runs() if r.startswith("start")]) == 1  # never restarted
    assert "supervisor stopped" in log.read_text()
