"""`host_tools stream` and `watch` against the emulated H7 (flashed first); the page in headless Chromium."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from proc_io import http_get as get
from proc_io import interrupt

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def flashed(camera, h):
    r = h.host_tools("flash", "--port", camera.port)
    assert r.returncode == 0, r.stderr
    return camera


def start_watch(h, port: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "host_tools", "watch", "--port", port, "--http-port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=h.REPO)
    line = h.read_line(proc, 60)
    m = re.search(r"(http://\S+)", line)
    assert m, line
    return proc, m.group(1)


class PageDom(HTMLParser):
    """id -> (attributes, text) of the elements the test looks at."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, tuple[dict, str]] = {}
        self._open: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.found[a["id"]] = (a, "")
            self._open = a["id"]

    def handle_data(self, data) -> None:
        if self._open:
            attrs, text = self.found[self._open]
            self.found[self._open] = (attrs, text + data)

    def handle_endtag(self, tag) -> None:
        self._open = None


def test_stream_prints_a_readable_line_per_result(flashed, h) -> None:
    r = h.host_tools("stream", "--port", flashed.port, "--count", "3", timeout=90)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 3
    for ln in lines:
        m = re.match(r"frame +(\d+) +(\S+) +([01]\.\d\d) +(smoothed .*?) +\[(.*)\] +([\d.]+) fps +"
                     r"ms: .*inference", ln)
        assert m, ln
        assert m.group(2) in h.labels() + ["-"]  # "-": no class reached the threshold
        assert all(lab in m.group(5) for lab in h.labels())
        # the smoothed score is compared with the config's threshold (openmv_app/config.json: 0.6)
        assert re.search(r"smoothed [01]\.\d\d (>=|<) 0\.60", m.group(4)), ln


def test_stream_json_lines_parse(flashed, h) -> None:
    results = h.stream_json(flashed.port, 4)
    assert [r["frame"] for r in results] == list(range(results[0]["frame"], results[0]["frame"] + 4))
    for res in results:
        assert set(res) >= {"schema", "board", "frame", "label", "score", "scores", "raw", "ms", "fps",
                            "smoothing"}
        assert res["board"] == "openmv" and res["schema"] == 1


def test_watch_page_shows_frame_and_label_in_chromium(flashed, h, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (Debian package `chromium`); the page test needs it")
    from PIL import Image

    proc, url = start_watch(h, flashed.port)
    try:
        assert url.startswith("http://127.0.0.1:")  # loopback by default
        deadline = time.monotonic() + 90
        while True:  # the page server has a result and a frame
            state = json.loads(get(url + "api/state"))
            if state["result"] and state["frame"]["seq"] > 0:
                break
            assert time.monotonic() < deadline and proc.poll() is None, state
            time.sleep(0.3)
        jpeg = get(url + "frame.jpg")
        img = Image.open(io.BytesIO(jpeg))
        assert img.format == "JPEG" and img.size[0] > 0
        chrome = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium'}", "--virtual-time-budget=5000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120)
        assert chrome.returncode == 0, chrome.stderr[-2000:]
        dom = PageDom()
        dom.feed(chrome.stdout)
        label_attrs, label = dom.found["label"]
        assert label.strip() in h.labels() + ["none"], chrome.stdout[:3000]
        assert int(label_attrs["data-frame"]) > 0
        frame_attrs, _ = dom.found["frame"]
        assert int(frame_attrs["data-seq"]) > 0  # the <img> finished loading a frame from /frame.jpg
        assert (int(frame_attrs["data-width"]), int(frame_attrs["data-height"])) == img.size
        assert dom.found["bars"][0]["data-names"].split(",") == h.labels()  # one bar per class
        assert int(dom.found["latency"][0]["data-points"]) >= 1
        assert float(dom.found["fps"][1]) > 0
        page = chrome.stdout
        # the image carries the number of the result it is shown with (read after that result: OpenMV)
        assert int(dom.found["frame-info"][0]["data-frame"]) > 0
        assert "read from the camera after the result of frame" in dom.found["frame-info"][1]
        # the smoothing threshold marked on every class bar; latency axis ticks and p50/p95; EMULATED
        assert page.count('data-threshold="') >= len(h.labels())
        assert int(dom.found["axes"][0]["data-yticks"]) >= 2
        assert re.search(r"total p50 [0-9.]+ ms, p95 [0-9.]+ ms", page)
        assert "hidden" not in dom.found["badge"][0] and dom.found["badge"][1] == "EMULATED"
    finally:
        out, err = interrupt(proc, 20)
    assert proc.returncode == 0, err.decode()[-2000:]  # Ctrl-C is a clean exit
    assert b"Traceback" not in err
    assert re.search(rb"frame +\d+ ", out)  # terminal lines too


def test_watch_keeps_the_page_and_reconnects_when_the_port_disappears(flashed, h) -> None:
    """The camera goes away: watch does not exit; the page says the link was lost and when the next attempt
    is, the attempts back off; Ctrl-C still ends it cleanly."""
    proc, url = start_watch(h, flashed.port)
    try:
        time.sleep(1.0)
        flashed.proc.kill()
        deadline = time.monotonic() + 60
        while "reconnecting" not in (status := json.loads(get(url + "api/state"))["status"]):
            assert time.monotonic() < deadline and proc.poll() is None, status
            time.sleep(0.2)
        assert "board link lost" in status
        deadline = time.monotonic() + 60  # attempts 0.5, 1, 2 s apart (plus each try): still serving the page
        while not re.search(r"attempt [2-9]", later := json.loads(get(url + "api/state"))["status"]):
            assert time.monotonic() < deadline and proc.poll() is None, later
            time.sleep(0.2)
    finally:
        _out, err = interrupt(proc)
    assert proc.returncode == 0, err.decode()[-2000:]
    text = err.decode()
    assert "reconnecting in 0.5 s (attempt 1)" in text and "reconnecting in 1 s (attempt 2)" in text
    assert "Traceback" not in text


def test_stream_says_so_when_no_app_runs(camera, h) -> None:
    r = h.host_tools("flash", "--port", camera.port, "--no-restart")  # files in place, nothing started
    assert r.returncode == 0, r.stderr
    s = h.host_tools("stream", "--port", camera.port, timeout=60)
    assert s.returncode == 1 and "no app is running on the camera" in s.stderr and s.stdout == ""
    s = h.host_tools("stream", "--port", camera.port, "--restart", "--count", "1", timeout=90)
    assert s.returncode == 0 and re.match(r"frame +\d+ ", s.stdout), s.stderr
