"""host_tools sim rv1103: config hot reload (camrt's ConfigWatcher), SIGTERM stop and the TCP output."""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from host_tools.results import Event, Result, format_event, parse_line

pytest.importorskip("camrt", reason="the camrt extension is not built (pip install -e . builds it)")
onnx = pytest.importorskip("onnx")

REPO = Path(__file__).resolve().parents[2]


def sim_rv1103(helpers, *args: str):
    return helpers.Background([sys.executable, "-m", "host_tools", "sim", "rv1103", *args], cwd=REPO)


@pytest.fixture()
def scene(tmp_path: Path, colour_model):
    from PIL import Image

    model = colour_model(tmp_path / "colour.onnx", weight_scale=1 / 255)
    frames = tmp_path / "frames"
    frames.mkdir()
    wide = np.zeros((64, 192, 3), np.uint8)
    wide[:, :64] = (255, 0, 0)
    wide[:, 128:] = (0, 0, 255)
    Image.fromarray(wide).save(frames / "wide.png")
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"labels": ["red", "blue"], "k": 1, "max_fps": 0}))
    return model, frames, cfg


def _crops(lines: list[str]) -> list[int]:
    """The crop count of each result among the program's JSON lines (config events skipped)."""
    return [len(r.crops) for ln in lines if isinstance(r := parse_line(ln), Result)]


def test_hot_reload_good_then_bad_config(scene, helpers):
    model, frames, cfg = scene
    sim = sim_rv1103(helpers, "--frames", str(frames), "--config", str(cfg), "--model", str(model), "--json",
                     "--loop", "--fps", "30")
    try:
        sim.wait_for(lambda: len(sim.out) >= 3, "first frames")
        assert _crops(sim.out[:3]) == [3, 3, 3]
        time.sleep(0.05)  # a new mtime even on coarse-timestamp file systems
        cfg.write_text(json.dumps({"labels": ["red", "blue"], "n_crops": 1, "max_fps": 0}))
        sim.wait_for(lambda: any("config reloaded" in ln for ln in sim.err), "the reload")
        # what changed is logged old -> new, and told to the output's readers as an event line
        sim.wait_for(lambda: any("config: changed: n_crops 3 -> 1" in ln for ln in sim.err), "the change log")
        sim.wait_for(lambda: any(isinstance(parse_line(ln), Event) for ln in sim.out), "the reload event")
        event = next(e for ln in sim.out if isinstance(e := parse_line(ln), Event))
        assert event.accepted and [(c.key, c.old, c.new) for c in event.changes] == [("n_crops", 3, 1)]
        assert "n_crops 3 -> 1" in format_event(event)
        mark = len(sim.out)
        sim.wait_for(lambda: len(_crops(sim.out[mark:])) >= 5, "frames after the reload")
        assert _crops(sim.out[mark:])[:5] == [1] * 5
        cfg.write_text('{"labels": ["red", "blue"], "n_crops": 99}')
        # (a poll that lands between the truncation and the write sees an empty file, rejected as well)
        sim.wait_for(lambda: any("rejected" in ln and "n_crops" in ln for ln in sim.err), "the rejection")
        sim.wait_for(lambda: any(isinstance(e := parse_line(ln), Event) and not e.accepted
                                 and "n_crops" in e.message for ln in sim.out), "the rejection event")
        mark = len(sim.out)
        sim.wait_for(lambda: len(_crops(sim.out[mark:])) >= 5, "frames after the rejection")
        # The last good config (one crop) stays in force; stdout stays pure JSON throughout.
        assert _crops(sim.out[mark:])[:5] == [1] * 5
        assert sim.stop() == 0
    finally:
        sim.kill()
    assert all(ln.startswith("{") for ln in sim.out)
    assert any("stopped by signal 15" in ln for ln in sim.err)


def test_tcp_output_carries_the_stdout_lines(scene, helpers):
    model, frames, cfg = scene
    sim = sim_rv1103(helpers, "--frames", str(frames), "--config", str(cfg), "--model", str(model), "--json",
                     "--loop", "--fps", "30", "--tcp-port", "0")
    try:
        port = sim.port()
        client = socket.create_connection(("127.0.0.1", port), timeout=10)
        buf = b""
        while buf.count(b"\n") < 5:
            buf += client.recv(65536)
        assert sim.stop() == 0
        client.close()
    finally:
        sim.kill()
    lines = buf.decode().splitlines()[:5]
    start = sim.out.index(lines[0])
    assert sim.out[start:start + 5] == lines
