"""`tune ui` in headless Chromium, driven through chromedriver's WebDriver protocol (plain HTTP): moving a
threshold slider with the keyboard moves the operating point on the curves, changes the confusion matrix
and lists the frames whose decision changed, with their images and crops."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from host_tools.tune import scores as sc

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
ARROW_RIGHT = "\ue014"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriver:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.sid = ""

    def call(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())["value"]

    def start(self, profile: Path) -> None:
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": CHROMIUM, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                         "--disable-dev-shm-usage", f"--user-data-dir={profile}"]}}}}
        self.sid = self.call("POST", "/session", caps)["sessionId"]

    def s(self, method: str, path: str, body: dict | None = None):
        return self.call(method, f"/session/{self.sid}{path}", body)

    def find(self, css: str) -> str:
        return self.s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def find_all(self, css: str) -> list[str]:
        return [e[ELEMENT] for e in self.s("POST", "/elements", {"using": "css selector", "value": css})]

    def attr(self, css: str, name: str) -> str:
        return self.s("GET", f"/element/{self.find(css)}/attribute/{name}")

    def text(self, css: str) -> str:
        return self.s("GET", f"/element/{self.find(css)}/text")

    def wait(self, cond, timeout: float = 30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                v = cond()
                if v:
                    return v
            except urllib.error.HTTPError:
                pass  # no such element yet
            time.sleep(0.2)
        raise AssertionError("the page did not get there in time")


def make_session(folder: Path) -> None:
    """A recording of 120 frames with images (3 crops each), scores leaning to the truth."""
    rng = np.random.default_rng(5)
    labels = ["bird", "not_bird"]
    (folder / "frames").mkdir(parents=True)
    frames = []
    truth = ([0] * 10 + [1] * 10) * 6
    for i, t in enumerate(truth):
        img = folder / "frames" / f"{i:06d}.jpg"
        Image.new("RGB", (96, 64), (40 * t + 60, 120, 200 - 3 * (i % 40))).save(img)
        rows = rng.dirichlet([1 + 2.5 * (t == 0), 1 + 2.5 * (t == 1)], size=3).tolist()
        frames.append(sc.Frame(labels[t], rows, img, [(0, 0, 64, 64), (16, 0, 64, 64), (32, 0, 64, 64)], 0))
    cfg = {"labels": labels, "thresholds": {"bird": 0.6, "not_bird": 0.5}, "penalty": 0.1, "k": 2,
           "hysteresis": 2, "fallback": "not_bird"}
    sc.save(sc.Session("rv1103", labels, frames, cfg, "test", "sim:rv1103", True, True, "test recording"),
            folder)


@pytest.fixture
def page(tmp_path: Path):
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        pytest.skip("chromium and chromedriver are needed (Debian packages chromium, chromium-driver; "
                    "`make setup` installs them as root)")
    make_session(tmp_path / "session")
    ui = subprocess.Popen([sys.executable, "-m", "host_tools", "tune", "ui", str(tmp_path / "session"),
                           "--http-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    port = free_port()
    driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        line = ui.stdout.readline()
        assert line.startswith("tune page: http://127.0.0.1:"), line + ui.stderr.read()
        url = line.split()[2]
        wd = WebDriver(port)
        end = time.monotonic() + 30
        while True:
            try:
                wd.call("GET", "/status")
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)
        wd.start(tmp_path / "profile")
        try:
            wd.s("POST", "/url", {"url": url})
            yield wd
        finally:
            wd.s("DELETE", "")
    finally:
        for p in (driver, ui):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def test_moving_a_slider_moves_the_operating_point_and_the_confusion_matrix(page: WebDriver) -> None:
    page.wait(lambda: page.attr("body", "data-ready") == "1")
    cells = lambda: [[int(page.text(f"#cm-{i}-{j}")) for j in range(3)] for i in range(2)]  # noqa: E731
    before_cm = cells()
    before_roc = (page.attr("#op-roc-bird", "cx"), page.attr("#op-roc-bird", "cy"))
    before_pr = (page.attr("#op-pr-bird", "cx"), page.attr("#op-pr-bird", "cy"))
    assert page.attr("#knob-thr0", "value") == "0.6"
    assert sum(map(sum, before_cm)) == 120
    # 30 steps right: the bird threshold from 0.6 to 0.9
    page.s("POST", f"/element/{page.find('#knob-thr0')}/value", {"text": ARROW_RIGHT * 30})
    page.wait(lambda: page.text("#val-thr0") == "0.9")
    page.wait(lambda: cells() != before_cm)
    after_cm = cells()
    assert sum(map(sum, after_cm)) == 120  # the same frames, decided differently
    assert after_cm[0][0] < before_cm[0][0]  # a stricter bird threshold: fewer birds found
    assert (page.attr("#op-roc-bird", "cx"), page.attr("#op-roc-bird", "cy")) != before_roc
    assert (page.attr("#op-pr-bird", "cx"), page.attr("#op-pr-bird", "cy")) != before_pr
    assert int(page.text("#changed-count")) > 0
    shown = page.find_all("#changed .frame")
    assert shown and len(page.find_all("#changed .crops img")) == 3 * len(shown)
    loaded = ("return [...document.querySelectorAll('#changed img')]"
              ".every(i => i.complete && i.naturalWidth > 0)")  # pictures, not alt text
    page.wait(lambda: page.s("POST", "/execute/sync", {"script": loaded, "args": []}))
    assert "bird" in page.text("#describe") and "0.9" in page.text("#describe")
    # no device: Apply and Undo are off
    assert page.s("GET", f"/element/{page.find('#apply')}/enabled") is False
