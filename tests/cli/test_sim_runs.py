"""Emulator runs that used to succeed silently or leave state behind (tried as a new user would)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.cli import main
from host_tools.errors import UsageError
from host_tools.paths import MASKS_MODEL, MASKS_SAMPLE_FRAMES, OPENMV_APP_DIR, RV1103_SAMPLE_FRAMES
from host_tools.sim.openmv.install import install

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def frames(tmp_path) -> Path:
    out = tmp_path / "frames"
    out.mkdir()
    for p in sorted(MASKS_SAMPLE_FRAMES.glob("*.jpg"))[:3]:
        shutil.copy(p, out / p.name)
    return out


def _sim(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "host_tools", "sim", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def test_an_app_without_main_py_is_refused_before_the_camera_boots(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "lib.py").write_text("x = 1\n")
    (tmp_path / "fs").mkdir()
    with pytest.raises(UsageError, match=r"app not found: .*main\.py is missing"):
        install(tmp_path / "fs", MASKS_MODEL, None, 128 * 1024, app)


def test_a_run_that_classifies_no_frame_exits_1_and_says_why(tmp_path, frames, monkeypatch, capsys):
    import host_tools.commands.sim_openmv as cmd

    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text("print('hello from an app that never classifies')\n")
    monkeypatch.setattr(cmd, "OPENMV_APP_DIR", app)
    assert main(["sim", "openmv", "--frames", str(frames), "--json"]) == 1
    out, err = capsys.readouterr()
    assert "no frame was classified: main.py returned before the app printed a result" in err
    assert json.loads(out)["error"]["exit_code"] == 1


def test_without_config_the_apps_default_is_installed_as_flash_does(tmp_path, frames):
    fs = tmp_path / "fs"
    fs.mkdir()
    (fs / "config.json").write_text('{"threshold": 0.99}')  # left there by an earlier run
    r = _sim("openmv", "--frames", str(frames), "--fs", str(fs), "--fps", "100", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (fs / "config.json").read_bytes() == (OPENMV_APP_DIR / "config.json").read_bytes()
    assert len(r.stdout.splitlines()) == 3


def test_without_fs_each_run_gets_a_fresh_filesystem_that_is_removed(tmp_path, frames):
    r = _sim("openmv", "--frames", str(frames), "--fps", "100", "--json", "-v", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    m = re.search(r"the fresh filesystem is (\S+), removed", r.stderr)
    assert m, r.stderr
    assert not Path(m.group(1)).exists()
    assert list(tmp_path.iterdir()) == [frames]  # nothing left in the working folder


def test_a_filesystem_in_use_by_a_running_emulator_is_refused(tmp_path, frames):
    fs = tmp_path / "fs"
    argv = ["sim", "openmv", "--pty", "--frames", str(frames), "--fs", str(fs)]
    pty = subprocess.Popen([sys.executable, "-m", "host_tools", *argv], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        assert pty.stdout.readline().startswith("/dev/")
        r = _sim("openmv", "--frames", str(frames), "--fs", str(fs), cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert f"camera filesystem {fs} is in use by another running emulated camera" in r.stderr
    finally:
        pty.terminate()
        pty.wait(20)
    r = _sim("openmv", "--frames", str(frames), "--fs", str(fs), "--fps", "100", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr  # free once that emulator stopped


def test_fs_that_is_a_file_is_a_usage_error(tmp_path, frames, capsys):
    f = tmp_path / "hostname"
    f.write_text("x")
    assert main(["sim", "openmv", "--frames", str(frames), "--fs", str(f)]) == 2
    assert "--fs " + str(f) + ": not a folder" in capsys.readouterr().err


def test_sim_rv1103_count_counts_frames_read_and_nothing_classified_is_an_error(tmp_path, shared_data):
    small = shared_data / "birds" / "val" / "bird"  # 32x32: smaller than the 64x64 input
    r = _sim("rv1103", "--frames", str(small), "--count", "5", cwd=tmp_path, timeout=180)
    assert r.returncode == 1, r.stderr
    assert len(re.findall(r"skipped: frame 32x32 is smaller than the model input", r.stderr)) == 5
    assert "no frame was classified: all 5 frames read were skipped" in r.stderr


def test_the_first_rv1103_command_of_the_readme_shows_decisions(tmp_path):
    readme = (REPO / "README.md").read_text()
    assert "host_tools sim rv1103 --frames rv1103_app/sample_frames" in readme
    r = _sim("rv1103", "--frames", str(RV1103_SAMPLE_FRAMES), "--json", "--fps", "0", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(recs) == 6 and all(len(x["crops"]) == 3 for x in recs)  # 640x480: three crops each
    decisions = [x["label"] for x in recs]
    assert decisions[0] == "not_bird" and "bird" in decisions, decisions
