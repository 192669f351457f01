"""`pip install .` (not editable) into a fresh venv outside the checkout gives a working `host_tools`.

The wheel is built once per session (the CMake build folder is kept under build/, so a rebuild is
incremental) and installed with the lock (constraints.txt) into a temporary venv; pip's cache is reused.
Every command then runs with a temporary folder as its working directory and its own user cache and state
folders, so nothing can come from the checkout, and nothing may be written into the install.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(argv: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> dict:
    """A venv with the wheel (and the rv1103 extra) installed; its bin folder and a clean environment."""
    wheels = tmp_path_factory.mktemp("wheel")
    build_dir = REPO / "build" / f"wheel-test-{sysconfig.get_platform()}"
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
              "-w", str(wheels), "-C", f"build-dir={build_dir}", str(REPO)], timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    (wheel,) = wheels.glob("host_tools-*.whl")
    venv = tmp_path_factory.mktemp("venv")
    r = _run([sys.executable, "-m", "venv", str(venv)], timeout=120)
    assert r.returncode == 0, r.stderr
    r = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-c", str(REPO / "constraints.txt"),
              f"{wheel}[rv1103]"], timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    home = tmp_path_factory.mktemp("user")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(XDG_CACHE_HOME=str(home / "cache"), XDG_STATE_HOME=str(home / "state"), PYTHONUNBUFFERED="1")
    site = Path(_run([str(venv / "bin" / "python"), "-c", "import host_tools; print(host_tools.__file__)"],
                     timeout=60, env=env, cwd=home).stdout.strip()).parent
    return {"bin": venv / "bin", "env": env, "home": home, "package": site, "wheel": wheel}


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_the_package_comes_from_the_wheel_with_its_data(installed):
    pkg = installed["package"]
    assert REPO not in pkg.parents, pkg  # not the checkout
    bundled = pkg / "_bundled"
    for rel in ["openmv_app/main.py", "openmv_app/config.json", "models/masks/masks_int8.tflite",
                "models/masks/masks_int8.json", "models/birds/birds_lite0_int8.onnx",
                "models/birds/birds_lite0.json", "rv1103_app/deploy/config.json"]:
        assert (bundled / rel).read_bytes() == (REPO / rel).read_bytes(), rel
    assert sorted(p.name for p in (bundled / "rv1103_app" / "sample_frames").glob("*.jpg")) == \
        sorted(p.name for p in (REPO / "rv1103_app" / "sample_frames").glob("*.jpg"))
    assert (pkg / "watch" / "static" / "index.html").is_file()


def test_sim_openmv_flash_and_sim_rv1103_run_from_the_wheel(installed, tmp_path):
    bin_, env, cwd = installed["bin"], installed["env"], tmp_path
    before = _files(installed["package"])
    frames = tmp_path / "frames"
    frames.mkdir()
    for p in sorted((REPO / "models" / "masks" / "sample_frames").glob("*.jpg"))[:4]:
        (frames / p.name).write_bytes(p.read_bytes())

    # sim openmv: the bundled app, mask model and config, in a fresh camera filesystem.
    r = _run([str(bin_ / "host_tools"), "sim", "openmv", "--frames", str(frames), "--count", "3", "--json",
              "--fps", "100"], timeout=300, env=env, cwd=cwd)
    assert r.returncode == 0, r.stderr
    results = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert [x["frame"] for x in results] == [1, 2, 3]
    assert {x["label"] for x in results} <= {"good", "bad", "no_mask", None}

    # flash: the bundled app + model into an emulated camera on a pty (started from the wheel too).
    fs = tmp_path / "camera_fs"
    cam = subprocess.Popen([str(bin_ / "host_tools"), "sim", "openmv", "--pty", "--frames", str(frames),
                            "--fs", str(fs)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env, cwd=cwd)
    try:
        port = cam.stdout.readline().strip()
        assert port.startswith("/dev/"), cam.stderr.read() if cam.poll() is not None else port
        r = _run([str(bin_ / "host_tools"), "flash", "--port", port, "--json"], timeout=300, env=env, cwd=cwd)
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        assert {f["name"] for f in report["files"]} >= {"main.py", "model.tflite", "model.txt", "config.json"}
        assert (fs / "main.py").read_bytes() == (REPO / "openmv_app" / "main.py").read_bytes()
        assert (fs / "model.tflite").read_bytes() == (REPO / "models/masks/masks_int8.tflite").read_bytes()
    finally:
        cam.send_signal(signal.SIGTERM)
        try:
            cam.wait(20)
        except subprocess.TimeoutExpired:
            cam.kill()
            cam.wait(5)

    # sim rv1103: the bundled bird model twin, deploy config and sample frames.
    code = "from host_tools.paths import RV1103_SAMPLE_FRAMES as p; print(p)"
    where = _run([str(bin_ / "python"), "-c", code], timeout=60, env=env, cwd=cwd).stdout.strip()
    r = _run([str(bin_ / "host_tools"), "sim", "rv1103", "--frames", where, "--json", "--fps", "0"],
             timeout=300, env=env, cwd=cwd)
    assert r.returncode == 0, r.stderr
    decisions = [json.loads(ln)["label"] for ln in r.stdout.splitlines()]
    assert len(decisions) == 6 and set(decisions) <= {"bird", "not_bird"}

    # Nothing written into the install or the working folder; the arena measured by flash went to the
    # user cache folder.
    assert _files(installed["package"]) == before
    assert sorted(p.name for p in cwd.iterdir()) == ["camera_fs", "frames"]
    cache = Path(env["XDG_CACHE_HOME"]) / "host_tools" / "arena"
    assert any(cache.glob("*.json")), list(Path(env["XDG_CACHE_HOME"]).rglob("*"))


def test_rknn_sim_from_the_wheel_says_what_it_needs(installed, tmp_path):
    """Without the checkout's RKNN toolkit venv the simulator engine is refused with a clear reason."""
    frame = REPO / "rv1103_app" / "sample_frames" / "03_bird.jpg"
    r = _run([str(installed["bin"] / "host_tools"), "sim", "rv1103", "--frames", str(frame),
              "--engine", "rknn-sim"], timeout=120, env=installed["env"], cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert re.search(r"host_tools: error: .+", r.stderr) and "Traceback" not in r.stderr


def test_the_wheel_holds_no_training_code_nor_board_models(installed):
    import zipfile

    names = zipfile.ZipFile(installed["wheel"]).namelist()
    assert not [n for n in names if n.endswith((".rknn", "train.py", "rebuild.sh"))], names
    assert "host_tools/_bundled/models/birds/birds_lite0.onnx" not in names  # the float twin (13 MB)
