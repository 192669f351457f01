"""The CMake wiring of the optional RKNN engine: given a runtime folder, cpp_runtime makes its own target
camrt_rknn (engine_rknn.cpp) and rv1103_app links it and installs the runtime library; a folder without
the runtime is refused with a message that says what to point at. Configure only: the vendor header is
not here (a stand-in folder with empty files takes its place), so nothing is compiled."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def configure(build: Path, *defs: str) -> subprocess.CompletedProcess:
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    return subprocess.run(["cmake", "-S", str(REPO), "-B", str(build), *gen, "-DBUILD_TESTING=OFF", *defs],
                          capture_output=True, text=True, timeout=300)


def build_targets(build: Path) -> str:
    argv = ["cmake", "--build", str(build), "--target", "help"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout


@pytest.fixture(scope="module")
def cmake_ok():
    if not shutil.which("cmake"):
        pytest.skip("cmake not installed")


def test_rknn_runtime_gives_the_engine_target_and_the_app_links_it(cmake_ok, tmp_path):
    runtime = tmp_path / "librknn_api"
    (runtime / "include").mkdir(parents=True)
    (runtime / "include" / "rknn_api.h").write_text("/* stand-in: configure only */\n")
    (runtime / "armhf-uclibc").mkdir()
    (runtime / "armhf-uclibc" / "librknnmrt.so").write_bytes(b"")
    build = tmp_path / "build"
    r = configure(build, f"-DRKNN_RUNTIME_DIR={runtime}")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert f"RKNN runtime: {runtime}/armhf-uclibc/librknnmrt.so" in r.stdout
    targets = build_targets(build)
    assert "camrt_rknn" in targets
    ninja = (build / "build.ninja").read_text() if (build / "build.ninja").exists() else ""
    if ninja:  # the engine's source is cpp_runtime's own, and the app links the library
        assert "cpp_runtime/src/engine_rknn.cpp" in ninja
        app_link = next(block for block in ninja.split("\n\n") if "rv1103_app/rv1103_app:" in block
                        and "CXX_EXECUTABLE_LINKER" in block)
        assert "libcamrt_rknn.a" in app_link and "rknnmrt" in app_link
    install = (build / "rv1103_app" / "cmake_install.cmake").read_text()
    assert "librknnmrt.so" in install  # copied to deploy/lib by the install step


def test_a_folder_without_the_runtime_is_refused_with_directions(cmake_ok, tmp_path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    r = configure(tmp_path / "build", f"-DRKNN_RUNTIME_DIR={empty}")
    assert r.returncode != 0
    assert "need rknn_api.h" in r.stderr and "rknn-toolkit2/rknpu2/runtime/Linux/librknn_api" in r.stderr


def test_without_a_runtime_there_is_no_engine_target(cmake_ok, tmp_path):
    build = tmp_path / "build"
    r = configure(build)
    assert r.returncode == 0, r.stderr[-3000:]
    targets = build_targets(build)
    assert "camrt_rknn" not in targets and "rv1103_app" in targets
