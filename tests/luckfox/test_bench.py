"""host_tools bench against the emulated Luckfox Pico, its camera held to a known frame rate
(`sim rv1103 --serve --fps`) and the program's own cap off (max_fps 0): FPS from the board's clock, the
five stages adding up to the total, /proc figures, the report's schema."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from host_tools.bench.report import SCHEMA_FILE

FPS = 5.0  # slack for a loaded machine: the program must keep up for the camera to hold the rate


@pytest.fixture(scope="module")
def paced_board(env, h, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench-board")
    cfg = json.loads((h.REPO / "rv1103_app" / "deploy" / "config.json").read_text())
    cfg["max_fps"] = 0
    (tmp / "config.json").write_text(json.dumps(cfg))
    b = h.start_board(env, tmp, "--fps", str(FPS), "--config", str(tmp / "config.json"))
    h.wait_for_file_line(b.root / "var/log/classifier.log", "listening on", 120)
    yield b
    b.stop()


def test_bench_rv1103_fps_stages_and_proc(paced_board, env, h, tmp_path):
    out = tmp_path / "r.json"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "host_tools",
            "bench",
            "--device",
            f"adb:{paced_board.info['adb']}",
            "--frames",
            "25",
            "--json",
            str(out),
            "--plot",
            str(tmp_path / "r.png"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=h.REPO,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    print(r.stdout)
    report = json.loads(out.read_text())
    jsonschema.validate(report, json.loads(SCHEMA_FILE.read_text()))
    assert report["device"]["board"] == "rv1103" and report["device"]["measured_on"] == "EMULATED"
    assert report["fps"]["clock"] == "device"
    assert report["fps"]["value"] == pytest.approx(FPS, rel=0.05)
    assert set(report["stages_ms"]) == {"capture", "preprocess", "inference", "postprocess", "total"}
    assert report["stage_sum_over_total"] == pytest.approx(1.0, abs=0.05)
    mem = report["memory"]
    assert mem["mem_total_kb"] == 65536 and 0 < mem["mem_available_kb"] <= 65536
    assert report["model"]["name"].endswith(".rknn") and report["model"]["macs"] > 0
    assert report["estimate"]["label"] == "ESTIMATE" and "ESTIMATED rv1103 inference" in r.stdout
    assert (tmp_path / "r.png").stat().st_size > 10_000
