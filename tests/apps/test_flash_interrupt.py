"""An interrupted flash leaves the previous app runnable (emulated H7 Plus on a pty, real files checked).

Two ways to interrupt: a failure injected before every step of the flash (each chunk, each verification,
the commit), and the camera itself vanishing mid-transfer (the emulator process killed: port gone, power cut).
(The H7 Plus: the changed app must fit beside the old one, which the H7's 222 FAT clusters do not allow
once the model is there.)
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from host_tools.devices.openmv import open_board
from host_tools.flash import BoardTarget, flash, plan_flash
from host_tools.model_manifest import load_manifest

MARK = "app version B"


class Injected(Exception):
    pass


@pytest.fixture
def camera(h, tmp_path: Path):
    cam = h.start_camera(tmp_path / "camera_fs", board="h7plus")
    yield cam
    cam.stop()


def app_files(snapshot: dict[str, bytes]) -> dict[str, bytes]:
    """What the app reads: everything but flash's own temporaries."""
    return {n: b for n, b in snapshot.items() if not n.endswith(".new")}


def runs(h, port: str) -> tuple[list[dict], str]:
    """Restart the camera and read 2 results: (JSON results, the other lines it printed)."""
    r = h.host_tools("stream", "--port", port, "--json", "--count", "2", "--restart", timeout=120)
    assert r.returncode == 0, r.stderr
    results = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(results) == 2 and all(res["label"] in h.labels() + [None] for res in results)
    return results, r.stderr


def test_failure_before_any_step_leaves_the_old_app(camera, h, tmp_path: Path) -> None:
    assert h.host_tools("flash", "--port", camera.port, "--no-restart", "--board", "h7plus").returncode == 0
    old = h.fs_snapshot(camera.fs)
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"threshold": 0.5}))
    plan = plan_flash(h.MODEL, cfg, "h7plus", h.copy_app(tmp_path / "app_b", MARK))
    main_chunks = -(-len((tmp_path / "app_b" / "main.py").read_bytes()) // 1024)
    assert main_chunks >= 3
    steps: list[str] = []
    k = 0
    while True:
        calls: list[str] = []

        def fail_at_k(step: str, calls: list[str] = calls, k: int = k) -> None:
            calls.append(step)
            if len(calls) == k + 1:
                raise Injected(step)

        board = open_board(camera.port, "v2")
        try:
            flash(BoardTarget(board), plan, on_step=fail_at_k, restart=False)
            done = True
        except Injected as exc:
            done, step = False, str(exc)
        finally:
            board.close()
        if done:
            break
        assert app_files(h.fs_snapshot(camera.fs)) == old, f"old files changed by a flash stopped at {step!r}"
        steps.append(step)
        if step in ("probe", f"stage main.py 2/{main_chunks}", "commit"):  # restart there: the old app runs
            _results, printed = runs(h, camera.port)
            assert MARK not in printed
        k += 1
    kinds = {s.split()[0] for s in steps}
    assert {"probe", "clean", "space", "stage", "verify", "commit"} <= kinds, steps
    assert len([s for s in steps if s.startswith("stage main.py")]) == main_chunks  # before every chunk
    # The flash that completed replaced everything, removed the temporaries and runs the new app.
    snap = h.fs_snapshot(camera.fs)
    assert not [n for n in snap if n.endswith(".new")]
    assert snap["main.py"] == (tmp_path / "app_b" / "main.py").read_bytes()
    assert snap["config.json"] == cfg.read_bytes()
    _results, printed = runs(h, camera.port)
    assert MARK in printed


def test_camera_gone_mid_transfer(camera, h, tmp_path: Path) -> None:
    import subprocess
    import sys

    assert h.host_tools("flash", "--port", camera.port, "--no-restart", "--board", "h7plus").returncode == 0
    old = h.fs_snapshot(camera.fs)
    app_b = h.copy_app(tmp_path / "app_b", MARK, bulk=14000)
    proc = subprocess.Popen([sys.executable, "-m", "host_tools", "flash", "--port", camera.port, "--app",
                             str(app_b), "--board", "h7plus"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".new") and p.stat().st_size > 0 for p in camera.fs.iterdir()):
        assert time.monotonic() < deadline and proc.poll() is None, "the flash never started writing"
        time.sleep(0.005)
    camera.proc.kill()  # power cut: the port disappears mid-transfer
    camera.proc.wait(10)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, (out, err)
    assert "host_tools: error:" in err and "Traceback" not in err
    assert app_files(h.fs_snapshot(camera.fs)) == old
    # Power back on: the old app boots and runs.
    cam2 = h.start_camera(camera.fs, board="h7plus")
    try:
        _results, printed = runs(h, cam2.port)
        assert MARK not in printed
        # The next flash cleans up the temporaries and completes.
        r = h.host_tools("flash", "--port", cam2.port, "--app", str(app_b), "--board", "h7plus")
        assert r.returncode == 0, r.stderr
        snap = h.fs_snapshot(camera.fs)
        assert not [n for n in snap if n.endswith(".new")]
        assert snap["bulk.py"] == (app_b / "bulk.py").read_bytes()
        _results, printed = runs(h, cam2.port)
        assert MARK in printed
    finally:
        cam2.stop()


def _flash_in_background(h, port: str, app: Path):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "host_tools", "flash", "--port", port, "--app", str(app),
                             "--board", "h7plus"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=h.REPO)


def _wait_for_transfer(camera, proc) -> None:
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".new") and p.stat().st_size > 2048 for p in camera.fs.iterdir()):
        assert time.monotonic() < deadline and proc.poll() is None, "the flash never started writing"
        time.sleep(0.005)


@pytest.mark.parametrize("firmware", ["5.0.0", "4.6.0"])
def test_ctrl_c_restarts_the_camera_on_its_previous_app(h, tmp_path: Path, firmware: str) -> None:
    import signal

    cam = h.start_camera(tmp_path / "fs", board="h7plus", firmware=firmware)
    try:
        assert h.host_tools("flash", "--port", cam.port, "--board", "h7plus").returncode == 0
        old = app_files(h.fs_snapshot(cam.fs))
        proc = _flash_in_background(h, cam.port, h.copy_app(tmp_path / "app_b", MARK, bulk=14000))
        _wait_for_transfer(cam, proc)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "interrupted: the camera was restarted and runs its previous app" in err, err
        assert "Traceback" not in err
        assert app_files(h.fs_snapshot(cam.fs)) == old
        s = h.host_tools("stream", "--port", cam.port, "--json", "--count", "2", timeout=90)  # no --restart
        assert s.returncode == 0 and len(s.stdout.splitlines()) == 2, s.stderr
        assert MARK not in s.stderr
    finally:
        cam.stop()


@pytest.mark.parametrize("firmware", ["5.0.0", "4.6.0"])
def test_after_a_killed_flash_stream_and_flash_say_so(h, tmp_path: Path, firmware: str) -> None:
    import signal

    cam = h.start_camera(tmp_path / "fs", board="h7plus", firmware=firmware)
    try:
        assert h.host_tools("flash", "--port", cam.port, "--board", "h7plus").returncode == 0
        app_b = h.copy_app(tmp_path / "app_b", MARK, bulk=14000)
        proc = _flash_in_background(h, cam.port, app_b)
        _wait_for_transfer(cam, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        s = h.host_tools("stream", "--port", cam.port, timeout=60)
        assert s.returncode == 1 and "no app is running on the camera" in s.stderr, s.stderr
        assert f"host_tools stream --port {cam.port} --restart" in s.stderr
        r = h.host_tools("flash", "--port", cam.port, "--app", str(app_b), "--board", "h7plus", timeout=120)
        assert r.returncode == 0, r.stderr
        assert "an earlier flash was interrupted" in r.stderr
        assert not [n for n in h.fs_snapshot(cam.fs) if n.endswith(".new")]
    finally:
        cam.stop()


def test_flash_killed_at_several_moments_leaves_the_old_app(h, tmp_path: Path) -> None:
    import signal

    cam = h.start_camera(tmp_path / "fs", board="h7plus")
    try:
        assert h.host_tools("flash", "--port", cam.port, "--board", "h7plus", "--no-restart").returncode == 0
        old = app_files(h.fs_snapshot(cam.fs))
        model = tmp_path / "m2.tflite"
        model.write_bytes(h.MODEL.read_bytes() + b"\0" * 64)  # a changed model: a long transfer
        model.with_suffix(".txt").write_bytes(load_manifest(h.MODEL).labels_text())
        moments = {
            "first temporary": lambda fs: any(p.name.endswith(".new") for p in fs.iterdir()),
            "model half sent": lambda fs: (fs / "model.tflite.new").is_file()
            and (fs / "model.tflite.new").stat().st_size > 40_000,
            "model fully sent": lambda fs: (fs / "model.tflite.new").is_file()
            and (fs / "model.tflite.new").stat().st_size >= h.MODEL.stat().st_size,
        }
        import subprocess
        import sys

        for name, reached in moments.items():
            argv = ["flash", "--port", cam.port, "--model", str(model), "--board", "h7plus"]
            proc = subprocess.Popen([sys.executable, "-m", "host_tools", *argv], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, cwd=h.REPO)
            deadline = time.monotonic() + 60
            while not reached(cam.fs):
                assert time.monotonic() < deadline and proc.poll() is None, f"never reached: {name}"
                time.sleep(0.002)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            assert app_files(h.fs_snapshot(cam.fs)) == old, f"old files changed by a flash killed at {name}"
        results, _printed = runs(h, cam.port)  # the old app still runs
        assert results
    finally:
        cam.stop()
