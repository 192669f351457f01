"""`host_tools stream` against the emulated Luckfox over the real adb: the decisions, a config reload told as
old -> new, and a reconnect after the board program restarts, with the frames missed counted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from host_tools.results import Result, parse_line

APP_DIR = "userdata/classifier"


@pytest.fixture(scope="module")
def serial(board, adb) -> str:
    r = adb("connect", board.info["adb"])
    assert f"connected to {board.info['adb']}" in r.stdout, r.stdout + r.stderr
    return board.info["adb"]


class Stream:
    """`host_tools stream` running in the background, its lines collected as they come."""

    def __init__(self, env: dict, h, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "host_tools", "stream", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     cwd=h.REPO)
        self.out: list[str] = []
        self.err: list[str] = []
        for pipe, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda p=pipe, i=into: i.extend(ln.rstrip("\n") for ln in p),
                             daemon=True).start()

    def wait_for(self, cond, what: str, timeout: float = 90) -> None:
        end = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < end and self.proc.poll() is None, \
                f"{what}: rc {self.proc.poll()}\n" + "\n".join(self.err[-20:])
            time.sleep(0.1)

    def finish(self, timeout: float = 120) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.mark.parametrize("link", ["adb", "ssh"])
def test_stream_reconnects_after_the_program_restarts_and_says_what_it_missed(board, serial, env, h, adb,
                                                                             link):
    name = f"adb:{serial}" if link == "adb" else f"ssh:{board.info['ssh']}"
    s = Stream(env, h, "--device", name, "--json")  # no --count: read on until the restart has been seen

    def results() -> list[Result]:
        return [x for x in map(parse_line, list(s.out)) if isinstance(x, Result)]

    def restarted_at() -> int | None:  # index of the first result of the new run
        r = results()
        return next((i for i in range(1, len(r)) if r[i].run != r[i - 1].run), None)

    # Restart early: after a few seconds of back-off the new run's frame numbers are past the old run's
    # last one, so only the run id can tell a restart from missed frames.
    s.wait_for(lambda: len(results()) >= 3, "3 results")
    r = adb("-s", serial, "shell", "/etc/init.d/S99classifier restart")
    assert r.returncode == 0, r.stderr
    s.wait_for(lambda: (i := restarted_at()) is not None and len(results()) >= i + 2, "results after restart")
    s.proc.send_signal(signal.SIGINT)  # as a user's Ctrl-C
    assert s.finish() in (0, 130), "\n".join(s.err[-20:])
    got = results()
    assert all(x.board == "rv1103" and x.vote is not None and x.run for x in got)
    restart = restarted_at()
    assert restart is not None and len({x.run for x in got}) == 2
    text = "\n".join(s.err)
    assert "link lost" in text and "reconnected after" in text
    assert f"back at frame {got[restart].frame}: the board program restarted" in text, text


def test_stream_explains_decisions_and_shows_a_config_reload(board, serial, env, h):
    s = Stream(env, h, "--device", f"adb:{serial}", "--count", "8")
    s.wait_for(lambda: len(s.out) >= 2, "first results")
    cfg = board.root / APP_DIR / "config.json"
    old = json.loads(cfg.read_text())
    new = dict(old, hysteresis=old["hysteresis"] + 2)
    tmp = cfg.with_suffix(".tmp")
    tmp.write_text(json.dumps(new))
    os.replace(tmp, cfg)  # as flash and the device layer write it: renamed into place
    try:
        assert s.finish() == 0, "\n".join(s.err[-20:])
    finally:
        tmp.write_text(json.dumps(old))
        os.replace(tmp, cfg)
    lines = [ln for ln in s.out if ln.startswith("frame ")]
    assert lines and all(" crops " in ln and (" vote " in ln or "no crop voted" in ln) for ln in lines), lines
    told = "config reloaded after frame"
    change = f"hysteresis {old['hysteresis']} -> {new['hysteresis']}"
    assert any(ln.startswith(told) and change in ln for ln in s.out), s.out
    log = (board.root / "var/log/classifier.log").read_text()
    assert f"config: changed: {change}" in log  # and the board's own log says it too
