"""rv1103_app/deploy/S99classifier on this host: the program is started again when it dies (1 s, 2 s, 4 s...
apart), `reload` reaches it as SIGHUP, `stop` ends it with SIGTERM and nothing restarts it afterwards.

A stand-in program (a shell script in a temporary APP_DIR) records each start and signal. The script runs
with /bin/sh and start-stop-daemon: Debian's, and BusyBox's (the board's) where busybox is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
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
    # No NPU or camera node here: the boot waits are off unless a test turns them on.
    env = dict(os.environ, APP_DIR=str(app_dir), PIDFILE=str(tmp_path / "classifier.pid"),
               LOG=str(tmp_path / "classifier.log"), ARGS="--config c.json --no-stdout", BOOT_WAIT="0",
               RKIPC_WAIT="0", AAA_SERVER="no-such-3a-server")
    if request.param == "busybox":  # BusyBox's applets first on PATH, as on the board
        applets = tmp_path / "applets"
        applets.mkdir()
        for name in ("start-stop-daemon", "date", "pidof", "sleep", "cat", "rm", "tr", "tail", "wc", "df",
                     "awk", "dirname"):
            (applets / name).symlink_to(shutil.which("busybox"))
        env["PATH"] = f"{applets}:{env['PATH']}"

    def run(action: str) -> subprocess.CompletedProcess:
        return subprocess.run(["/bin/sh", str(SCRIPT), action], env=board_env, capture_output=True, text=True,
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

    board_env.clear()
    board_env.update(env)
    yield app_dir, run, runs, supervisor_alive, tmp_path / "classifier.log"
    if supervisor_alive():
        run("stop")


board_env: dict[str, str] = {}  # the environment the current `board` runs the script with (tests adjust it)


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


def _named_sleeper(folder: Path, name: str) -> Path:
    """A copy of sleep called `name`, so that pidof finds it by that name."""
    exe = folder / name
    shutil.copy(shutil.which("sleep"), exe)
    return exe


def test_boot_waits_for_the_device_nodes_then_starts(board, tmp_path):
    app_dir, run, runs, supervisor_alive, log = board
    npu = tmp_path / "rknpu"
    board_env.update(BOOT_WAIT="20", NPU_DEV=str(npu), CLASSIFIER_FRAMES=str(tmp_path / "video11"))
    board_env.pop("ARGS")
    assert run("start").returncode == 0
    time.sleep(1.5)
    assert not runs(), "started before /dev/rknpu existed"
    npu.touch()
    (tmp_path / "video11").touch()
    assert wait_until(lambda: any(r.startswith("start") for r in runs())), runs()
    assert f"--frames {tmp_path / 'video11'}" in runs()[0]
    assert "waited" in log.read_text()
    assert run("stop").returncode == 0


def test_a_node_that_never_comes_is_waited_for_a_bounded_time(board, tmp_path):
    app_dir, run, runs, supervisor_alive, log = board
    board_env.update(BOOT_WAIT="1", NPU_DEV=str(tmp_path / "never"))
    assert run("start").returncode == 0
    assert wait_until(lambda: any(r.startswith("start") for r in runs())), runs()
    assert "did not appear within 1 s" in log.read_text()
    assert run("stop").returncode == 0


def _pids_of(exe: Path) -> list[int]:
    """Processes running `exe` (only ours: matched by the executable's path, never by name alone)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if os.readlink(d / "exe") == str(exe):
                    pids.append(int(d.name))
            except OSError:
                continue
    return pids


def _kill_all(exe: Path) -> None:
    for pid in _pids_of(exe):
        try:
            os.kill(pid, 9)
        except OSError:
            pass


def test_rkipc_is_awaited_and_stopped_and_the_dhcp_client_comes_back(board, tmp_path):
    if subprocess.run(["pidof", "udhcpc"], capture_output=True).returncode == 0:
        pytest.skip("this machine runs a DHCP client of its own (udhcpc)")
    app_dir, run, runs, supervisor_alive, log = board
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    rkipc = _named_sleeper(bindir, "rkipc")
    udhcpc = _named_sleeper(bindir, "udhcpc")
    (bindir / "rkipc").chmod(0o755)  # the image has rkipc: the script waits for it
    stopper = bindir / "RkLunch-stop.sh"  # as the board's: ends rkipc and the DHCP client (ours, by pid)
    stopper.write_text(f"#!/bin/sh\nkill $(cat {tmp_path / 'pids'}) 2>/dev/null\nexit 0\n")
    stopper.chmod(0o755)
    board_env.update(RKIPC_WAIT="15", PATH=f"{bindir}:{board_env['PATH']}")
    dhcp = subprocess.Popen([str(udhcpc), "1000"])
    # Reaped at once when killed, as the board's init does (BusyBox's pidof also lists zombies).
    threading.Thread(target=dhcp.wait, daemon=True).start()
    try:
        assert run("start").returncode == 0
        time.sleep(1.0)
        late = subprocess.Popen([str(rkipc), "1000"])  # rkipc shows up late, as after RkLunch.sh
        threading.Thread(target=late.wait, daemon=True).start()
        (tmp_path / "pids").write_text(f"{dhcp.pid} {late.pid}")
        assert wait_until(lambda: any(r.startswith("start") for r in runs()), 25), log.read_text()
        text = log.read_text()
        assert "stopped rkipc" in text
        assert f"restarted the DHCP client: {udhcpc} 1000" in text
        assert wait_until(lambda: _pids_of(udhcpc)), "no DHCP client after the script stopped rkipc"
        assert run("stop").returncode == 0
    finally:
        _kill_all(rkipc)
        _kill_all(udhcpc)


def test_the_3a_server_is_started(board, tmp_path):
    app_dir, run, runs, supervisor_alive, log = board
    bindir = tmp_path / "fakebin3a"
    bindir.mkdir()
    sleeper = _named_sleeper(bindir, "sleep3a")
    server = bindir / "fake_3a"
    server.write_text(f"#!/bin/sh\necho started >> {tmp_path / '3a'}\nexec {sleeper} 1000\n")
    server.chmod(0o755)
    board_env.update(AAA_SERVER="fake_3a", PATH=f"{bindir}:{board_env['PATH']}")
    try:
        assert run("start").returncode == 0
        assert wait_until(lambda: (tmp_path / "3a").exists() and any(r.startswith("start") for r in runs()))
        assert "auto exposure / white balance" in log.read_text()
        assert run("stop").returncode == 0
    finally:
        _kill_all(sleeper)


def test_the_log_in_ram_is_capped(board, tmp_path):
    app_dir, run, runs, supervisor_alive, log = board
    board_env.update(LOG_MAX="4096", LOG_CHECK_S="1")
    log.write_text("old line\n" * 2000)  # 18 000 bytes from an earlier run
    assert run("start").returncode == 0
    capped = wait_until(lambda: log.stat().st_size < 4096 and "log cut" in log.read_text(), 20)
    assert capped, log.stat().st_size
    assert run("stop").returncode == 0
