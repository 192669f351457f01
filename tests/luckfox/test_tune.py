"""`host_tools tune apply | rollback | record` against the emulated Luckfox over adb and ssh: the board
program switches config without a restart, keeps a history, and a bad config is refused on the host and
again on the board, the running one staying in force."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.devices.connect import open_device
from host_tools.devices.names import parse_device

APP = "userdata/classifier"


def tune(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "host_tools", "tune", *args], capture_output=True, text=True,
                          env=env, timeout=180)


def app_pid(board) -> str:
    return (board.root / "var/run/classifier.pid.app").read_text().strip()


def config_of(board) -> dict:
    return json.loads((board.root / APP / "config.json").read_text())



def test_apply_rollback_and_refusals(board, env, board_env, tmp_path: Path, h) -> None:
    original = (board.root / APP / "config.json").read_bytes()
    # the board's config names no labels: the model manifest beside its model does
    assert "labels" not in json.loads(original)
    manifest = json.loads((board.root / APP / "model" / "model.json").read_text())
    assert manifest["labels"] == ["bird", "not_bird"]
    pid = app_pid(board)
    names = ["sim:rv1103", "ssh:" + board.info["ssh"]]

    new = {**json.loads(original), "thresholds": {"bird": 0.95, "not_bird": 0.3}, "hysteresis": 0, "k": 3}
    good = tmp_path / "good.json"
    good.write_text(json.dumps(new))
    r = tune(env, "apply", "--device", names[0], str(good), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["history"] == "0002.json" and "reloaded" in out["message"]
    assert config_of(board)["thresholds"] == {"bird": 0.95, "not_bird": 0.3}
    hist = board.root / APP / "config_history"
    assert sorted(p.name for p in hist.iterdir()) == ["0001.json", "0002.json"]
    assert (hist / "0001.json").read_bytes() == original
    assert app_pid(board) == pid  # switched without a restart
    h.wait_for_file_line(board.root / "var/log/classifier.log", "(generation 2)", 30)

    # refused on the host: the field and its range; nothing sent
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**new, "penalty": 1.5}))
    r = tune(env, "apply", "--device", names[1], str(bad))
    assert r.returncode == 4, r.stderr
    assert "'penalty' = 1.5 is out of range [0, 1]" in r.stderr and "Traceback" not in r.stderr
    assert config_of(board)["thresholds"] == {"bird": 0.95, "not_bird": 0.3}

    # labels that contradict the board's model manifest: refused on the host, naming both; nothing sent
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps({**new, "labels": ["not_bird", "bird"]}))
    r = tune(env, "apply", "--device", names[1], str(swapped))
    assert r.returncode == 4, r.stderr
    assert "'labels' [not_bird, bird] contradict the model manifest's [bird, not_bird]" in r.stderr, r.stderr
    assert config_of(board)["thresholds"] == {"bird": 0.95, "not_bird": 0.3}

    # refused on the board (the host check skipped, as a stale host tool might): the board program's own
    # parser rejects it, the file is put back, the program keeps running on the applied config
    from host_tools.tune.apply import DeviceRefused, apply_bytes

    with open_device(parse_device(names[0])) as dev, pytest.raises(DeviceRefused) as exc:
        apply_bytes(dev, bad.read_bytes(), check_on_host=False)
    assert "'penalty' = 1.5 is out of range [0, 1]" in str(exc.value)
    assert "keeps running on the previous one" in str(exc.value)
    log = (board.root / "var/log/classifier.log").read_text()
    assert "config rejected, keeping the last good one" in log
    assert config_of(board)["thresholds"] == {"bird": 0.95, "not_bird": 0.3}
    assert sorted(p.name for p in hist.iterdir()) == ["0001.json", "0002.json"]
    assert app_pid(board) == pid

    # the running program decides with the applied config: k 3 of 3 crops and a 0.95 bird threshold
    r = tune(env, "record", "--device", names[0], "--label", "bird", "--frames", "8",
             "--out", str(tmp_path / "rec"), "--json")
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["frames"] == 8 and rec["board"] == "rv1103"
    lines = [json.loads(ln) for ln in (tmp_path / "rec" / "scores.jsonl").read_text().splitlines()]
    assert all(len(ln["scores"]) == 3 and len(ln["crops"]) == 3 for ln in lines)
    # the board program's snapshots: a picture per recorded frame, the crops inside it; then cleared
    assert rec["images"] >= 6, rec
    from PIL import Image

    pictured = [ln for ln in lines if ln["image"]]
    with Image.open(tmp_path / "rec" / pictured[0]["image"]) as im:
        assert im.size == (640, 480)
        assert all(x + w <= 640 and y + h <= 480 for x, y, w, h in pictured[0]["crops"])
    assert not (board.root / "tmp/classifier-snapshots").exists()
    h.wait_for_file_line(board.root / "var/log/classifier.log", "snapshots: request ended", 30)
    meta = json.loads((tmp_path / "rec" / "session.json").read_text())
    assert meta["config"]["thresholds"] == {"bird": 0.95, "not_bird": 0.3} and meta["emulated"] is True

    # rollback over ssh: the original again, the history one shorter, no restart
    r = tune(env, "rollback", "--device", names[1])
    assert r.returncode == 0, r.stderr
    assert "0001.json" in r.stdout
    assert (board.root / APP / "config.json").read_bytes() == original
    assert sorted(p.name for p in hist.iterdir()) == ["0001.json"]
    assert app_pid(board) == pid
    r = tune(env, "rollback", "--device", names[0])
    assert r.returncode == 4 and "no earlier config" in r.stderr


def test_record_refuses_an_unknown_label_and_an_existing_session(board, env, tmp_path: Path) -> None:
    r = tune(env, "record", "--device", "sim:rv1103", "--label", "cat", "--frames", "2", "--out",
             str(tmp_path / "x"))
    assert r.returncode == 2 and "'cat' is not one of the model's labels: bird, not_bird" in r.stderr
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    r = tune(env, "record", "--device", "sim:rv1103", "--label", "bird", "--frames", "2", "--out",
             str(tmp_path / "busy"))
    assert r.returncode == 2 and "never overwritten" in r.stderr
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"


def test_page_apply_and_undo_reach_the_board(board, board_env, tmp_path: Path) -> None:
    """The page's Apply and Undo (its API, as the buttons call it) push to the board and roll back."""
    import urllib.request

    from host_tools.tune import scores as sc
    from host_tools.tune.sweep import Sweeper
    from host_tools.tune.ui import start

    original = (board.root / APP / "config.json").read_bytes()
    labels = ["bird", "not_bird"]
    frames = [sc.Frame("bird", [[0.9, 0.1]] * 3), sc.Frame("not_bird", [[0.2, 0.8]] * 3)]
    session = sc.Session("rv1103", labels, frames, json.loads(original), sequence=True)
    server, state = start(Sweeper(session), "127.0.0.1", 0, parse_device("sim:rv1103"))
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def post(path: str, body: dict) -> dict:
        headers = {"X-Tune-Token": state.token, "Content-Type": "application/json"}
        req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers=headers)
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read())

    try:
        knobs = {"thr0": "0.85", "thr1": "0.4", "penalty": "0.05", "k": "2", "hysteresis": "1"}
        out = post("/api/apply", knobs)
        assert out["ok"], out
        cfg = config_of(board)
        assert cfg["thresholds"] == {"bird": 0.85, "not_bird": 0.4} and cfg["hysteresis"] == 1
        assert cfg["model"] == json.loads(original)["model"]  # the rest of the board's config is kept
        out = post("/api/undo", {})
        assert out["ok"] and out["applied"]["thresholds"] == json.loads(original)["thresholds"], out
        assert (board.root / APP / "config.json").read_bytes() == original
    finally:
        server.shutdown()
