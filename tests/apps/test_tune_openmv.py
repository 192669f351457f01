"""`host_tools tune apply | rollback | record` against the emulated OpenMV H7 (Protocol V2 on a pty): the
config is checked by the app's config.py on the host and again on the camera, the camera keeps a history,
and a refused config leaves config.json and the running app as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from host_tools.devices.connect import open_device
from host_tools.devices.names import parse_device


@pytest.fixture
def flashed(camera, h):
    r = h.host_tools("flash", "--port", camera.port, "-q")
    assert r.returncode == 0, r.stderr
    return camera


def test_apply_rollback_and_refusals(flashed, h, tmp_path: Path) -> None:
    fs = flashed.fs
    original = (fs / "config.json").read_bytes()
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"threshold": 0.9, "smoothing": 1}))
    r = h.host_tools("tune", "apply", "--port", flashed.port, str(good), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["history"] == "0002.json"
    assert json.loads((fs / "config.json").read_text()) == {"threshold": 0.9, "smoothing": 1}
    assert (fs / "config_history" / "0001.json").read_bytes() == original
    # the app runs on it: with threshold 0.9 and no smoothing, a label only where the raw score reaches 0.9
    lines = h.stream_json(flashed.port, 6)
    for ln in lines:
        raw = ln["smoothing"]["raw_scores"]
        best = max(raw, key=raw.get)
        assert ln["smoothing"] == {"frames": 1, "threshold": 0.9, "raw_scores": raw}
        assert ln["scores"] == {k: round(v, 5) for k, v in raw.items()}
        assert ln["label"] == (best if raw[best] >= 0.9 else None)

    # refused on the host, naming the field and its range; nothing sent
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"threshold": 1.5, "smoothing": 1}))
    r = h.host_tools("tune", "apply", "--port", flashed.port, str(bad))
    assert r.returncode == 4 and "threshold: must be between 0 and 1, got 1.5" in r.stderr, r.stderr
    assert json.loads((fs / "config.json").read_text()) == {"threshold": 0.9, "smoothing": 1}

    # refused on the camera by the app's own config.py (host check skipped): config.json untouched
    from host_tools.tune.apply import DeviceRefused, apply_bytes

    with open_device(parse_device(f"serial:{flashed.port}")) as dev, pytest.raises(DeviceRefused) as exc:
        apply_bytes(dev, b'{"threshold": 0.5, "smoothing": 99}', check_on_host=False)
    assert "smoothing: must be from 1 to 30 frames, got 99" in str(exc.value)
    assert json.loads((fs / "config.json").read_text()) == {"threshold": 0.9, "smoothing": 1}
    assert not (fs / "config.json.new").exists()
    assert sorted(p.name for p in (fs / "config_history").iterdir()) == ["0001.json", "0002.json"]
    assert len(h.stream_json(flashed.port, 2)) == 2  # the app runs again, on the applied config

    # record: raw scores before smoothing, a frame image per line where the link gave one
    r = h.host_tools("tune", "record", "--port", flashed.port, "--label", "no_mask", "--frames", "4",
                     "--out", str(tmp_path / "rec"), "--json")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in (tmp_path / "rec" / "scores.jsonl").read_text().splitlines()]
    assert len(recs) == 4 and all(len(x["scores"]) == 1 and len(x["scores"][0]) == 3 for x in recs)
    images = [x["image"] for x in recs if x["image"]]
    assert images and (tmp_path / "rec" / images[0]).read_bytes()[:2] == b"\xff\xd8"

    r = h.host_tools("tune", "rollback", "--port", flashed.port)
    assert r.returncode == 0, r.stderr
    assert (fs / "config.json").read_bytes() == original
    assert sorted(p.name for p in (fs / "config_history").iterdir()) == ["0001.json"]
