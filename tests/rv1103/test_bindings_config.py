"""Config validation and ConfigWatcher hot reload through the bindings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import camrt
import pytest

GOOD = {"labels": ["bird", "not_bird"], "thresholds": {"bird": 0.6}, "penalty": 0.15, "k": 2, "n_crops": 3,
        "hysteresis": 0, "fallback": "not_bird", "color_order": "BGR", "output_port": 7070}


def test_good_config_fields():
    c = camrt.parse_config(json.dumps(GOOD))
    assert c.labels == ["bird", "not_bird"]
    assert c.thresholds == pytest.approx([0.6, 0.5])
    assert c.fallback == 1 and c.fallback_label == "not_bird"
    assert c.color_order == "BGR" and c.softmax is True and c.model == "model.rknn"
    assert camrt.parse_config(c.to_json()).to_json() == c.to_json()


@pytest.mark.parametrize("change,message", [
    ({"tresholds": {}}, "unknown key 'tresholds' (allowed: labels, thresholds"),
    ({"penalty": 1.5}, "'penalty' = 1.5 is out of range [0, 1]"),
    ({"k": 4}, "'k' = 4 is out of range [1, 3]"),
    ({"n_crops": 0}, "'n_crops' = 0 is out of range [1, 16]"),
    ({"hysteresis": 2.5}, "'hysteresis' = 2.5 must be an integer"),
    ({"thresholds": {"cat": 0.5}}, "unknown label 'cat' (labels: bird, not_bird)"),
    ({"color_order": "RGBA"}, "'color_order' = 'RGBA' is not allowed (allowed: RGB, BGR)"),
    ({"labels": ["bird", "bird"]}, "lists 'bird' twice"),
    ({"softmax": "yes"}, "'softmax' must be a boolean, got string"),
])
def test_specific_errors(change, message):
    with pytest.raises(camrt.ConfigError) as err:
        camrt.parse_config(json.dumps({**GOOD, **change}))
    assert message in str(err.value)


def test_label_count_against_the_model_and_json_syntax():
    c = camrt.parse_config('{"labels": ["a", "b", "c"]}')
    with pytest.raises(camrt.ConfigError, match="has 3 labels but the model has 2 outputs"):
        camrt.check_model_classes(c, 2)
    with pytest.raises(camrt.ConfigError, match=r"invalid JSON.*line 3"):
        camrt.parse_config('{\n "labels": ["a"],\n "k": 1,,\n}')
    assert isinstance(camrt.ConfigError("x"), ValueError)


def _write(path: Path, data: dict | str, bump: int) -> None:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump * 1_000_000_000))  # visible on coarse clocks


def test_hot_reload_good_then_bad_keeps_last_good(tmp_path):
    path = tmp_path / "config.json"
    _write(path, GOOD, 0)
    lines: list[str] = []
    # settle_ms=0: each change is read at the next poll (the wait is tested in tests/cpp/test_watcher.cpp)
    w = camrt.ConfigWatcher(str(path), model_classes=2, log=lines.append, settle_ms=0)
    assert w.generation == 1 and not w.poll()

    _write(path, {**GOOD, "penalty": 0.3}, 1)
    assert w.poll() and w.config.penalty == pytest.approx(0.3) and w.generation == 2
    assert "reloaded" in lines[-1]

    _write(path, {**GOOD, "penalty": 0.3, "colour": "RGB"}, 2)
    assert not w.poll()
    assert w.config.penalty == pytest.approx(0.3) and w.generation == 2
    assert "unknown key 'colour'" in w.last_error
    assert "rejected, keeping the last good one" in lines[-1] and "unknown key 'colour'" in lines[-1]

    _write(path, '{"labels": ["bird", "not_bird"', 3)
    assert not w.poll() and "invalid JSON" in w.last_error
    _write(path, {"labels": ["a", "b", "c"]}, 4)
    assert not w.poll() and "has 3 labels but the model has 2 outputs" in w.last_error
    assert w.config.labels == ["bird", "not_bird"]

    _write(path, {**GOOD, "k": 3}, 5)
    assert w.poll() and w.config.k == 3 and w.last_error == ""


def test_bad_first_file_raises(tmp_path):
    path = tmp_path / "config.json"
    _write(path, {"labels": ["a"], "k": 0}, 0)
    with pytest.raises(camrt.ConfigError, match="'k' = 0 is out of range"):
        camrt.ConfigWatcher(str(path))


def test_sighup_forces_a_reload(tmp_path):
    # In a child process: the SIGHUP handler is process-wide.
    path = tmp_path / "config.json"
    _write(path, GOOD, 0)
    script = textwrap.dedent(f"""
        import os, signal, camrt
        w = camrt.ConfigWatcher({str(path)!r}, 2, log=lambda line: None)
        camrt.install_sighup_handler()
        assert not w.poll()
        os.kill(os.getpid(), signal.SIGHUP)  # would end the process without the handler
        assert w.poll() and w.generation == 2
        assert not w.poll()
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
