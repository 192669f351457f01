"""`host_tools watch` on the emulated Luckfox Pico: the page in headless Chromium shows the preview image
with its three crop boxes, each crop's vote, the decision against its threshold and the timings, all of one
frame; watch reconnects after the board program restarts, and records what it received."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from proc_io import http_get as get
from proc_io import interrupt

from host_tools.results import parse_line

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def start_watch(h, env, device: str, *extra: str) -> tuple[subprocess.Popen, str]:
    argv = [sys.executable, "-m", "host_tools", "watch", "--device", device, "--http-port", "0", *extra]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=h.REPO, env=env)
    line = h.read_line(proc, 60)
    m = re.search(r"(http://\S+)", line)
    assert m, line
    return proc, m.group(1)


def stop(proc: subprocess.Popen) -> str:
    _out, err = interrupt(proc)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert b"Traceback" not in err
    return err.decode()


def wait_state(url: str, proc: subprocess.Popen, ok, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = json.loads(get(url + "api/state"))
        if ok(state):
            return state
        assert time.monotonic() < deadline and proc.poll() is None, state
        time.sleep(0.3)


def test_page_shows_three_crop_boxes_and_the_decision_of_one_frame(board, env, h, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (Debian package `chromium`)")
    from PIL import Image

    proc, url = start_watch(h, env, f"adb:{board.info['adb']}")
    try:
        state = wait_state(url, proc, lambda s: s["frame"]["seq"] > 0 and s["result"] is not None)
        assert state["emulated"]
        f = state["frame"]
        assert f["exact"] and len(f["result"]["crops"]) == 3
        assert (f["frame_width"], f["frame_height"]) == (640, 480)
        img = Image.open(io.BytesIO(get(url + f"frame.jpg?seq={f['seq']}")))
        assert img.format == "JPEG" and img.size == (f["width"], f["height"]) == (160, 120)
        chrome = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium'}", "--virtual-time-budget=5000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120)
        assert chrome.returncode == 0, chrome.stderr[-2000:]
        dom = chrome.stdout
    finally:
        stop(proc)
    # the image that loaded, and the result drawn over it, are one frame
    seq = int(re.search(r'id="frame"[^>]*data-seq="(\d+)"', dom).group(1))
    assert seq > 0
    shown = re.search(r'id="frame-result" data-frame="(\d+)" data-label="([^"]*)"', dom)
    assert shown, dom[:3000]
    assert re.search(rf'id="frame-info" data-frame="{shown.group(1)}"', dom)
    # three crop boxes over it, each with its vote; the list of crops with their scores
    assert re.search(r'id="crops"[^>]*data-count="3"', dom)
    assert dom.count('<g class="crop"') == 3 and dom.count("<rect") == 3
    crops = re.findall(r'<li data-vote="([^"]*)">crop (\d) \(x \d+, 480×480\): [^<]*bird [0-9.]+', dom)
    assert [c[1] for c in crops] == ["1", "2", "3"], dom[:3000]
    # the decision against its threshold, threshold markers, per-stage timings, latency with p50/p95
    assert re.search(r'id="label" data-frame="\d+">(bird|not_bird|none)<', dom)
    vote = re.search(r'id="vote-bar" data-score="([0-9.]+)" data-threshold="([0-9.]+)"', dom)
    candidate = re.search(r'id="vote-name">([^<]*)<', dom)
    assert vote and candidate, dom[:3000]
    # threshold markers: the candidate's class bar carries its threshold, no other bar does
    marked = re.findall(r'class="bar[^"]*" data-label="([^"]+)" data-threshold="([0-9.]+)"', dom)
    if candidate.group(1) == "no vote":  # every crop abstained (the empty feeder): nothing to weigh
        assert float(vote.group(1)) == float(vote.group(2)) == 0 and marked == []
    else:  # the candidate's score against its own threshold
        assert candidate.group(1) in ("bird", "not_bird") and 0 < float(vote.group(2)) <= 1
        assert marked == [(candidate.group(1), vote.group(2))], marked
    for stage in ("capture", "preprocess", "inference", "postprocess", "total"):
        assert f'data-stage="{stage}"' in dom
    assert int(re.search(r'id="axes" data-yticks="(\d+)"', dom).group(1)) >= 2
    assert re.search(r"total p50 [0-9.]+ ms, p95 [0-9.]+ ms", dom)
    assert re.search(r'<span id="badge"[^>]*>EMULATED</span>', dom) and 'id="badge" hidden' not in dom


def test_watch_reconnects_after_the_board_program_restarts_and_records(board, env, board_env, h, tmp_path):
    from host_tools.devices.connect import open_device
    from host_tools.devices.names import parse_device

    record = tmp_path / "session.jsonl"
    proc, url = start_watch(h, env, f"ssh:{board.info['ssh']}", "--record", str(record))
    try:
        wait_state(url, proc, lambda s: s["results"] >= 3)
        dev = open_device(parse_device(f"ssh:{board.info['ssh']}"))
        try:
            dev.restart_app()
        finally:
            dev.close()
        state = wait_state(url, proc, lambda s: s["reconnects"] >= 1 and "live" in s["status"], 120)
        before = state["results"]
        wait_state(url, proc, lambda s: s["results"] >= before + 3)  # results flow again
    finally:
        err = stop(proc)
    assert "board link lost" in err and "reconnected" in err
    lines = record.read_text().splitlines()
    results = [parse_line(ln) for ln in lines]
    assert len(results) >= 6 and all(r is not None for r in results)
    frames = [r.frame for r in results if hasattr(r, "crops")]
    assert any(b < a for a, b in zip(frames, frames[1:], strict=False))  # the restarted program counts from 1
    assert any(r.preview is not None for r in results)
    sent = json.loads(next(ln for ln in lines if '"preview"' in ln))["preview"]["jpeg"]
    assert base64.b64decode(sent)[:2] == b"\xff\xd8"  # the board's JPEG, as it sent it
