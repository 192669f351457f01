"""The emulated OpenMV camera by name: `host_tools devices` lists it, `--device sim:openmv` flashes and
streams it, `--device serial:PORT` is the same camera."""

from __future__ import annotations

import json


def test_devices_lists_the_emulated_camera_and_commands_reach_it_by_name(camera, h):
    r = h.host_tools("devices", "--json", "--no-adb")
    assert r.returncode == 0, r.stderr
    mine = [d for d in json.loads(r.stdout)["devices"] if d["name"] == "sim:openmv"]
    assert len(mine) == 1 and mine[0]["emulated"] and camera.port in mine[0]["link"]
    r = h.host_tools("flash", "--device", "sim:openmv", "--json", timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["restarted"] is True
    assert (camera.fs / "main.py").is_file()
    r = h.host_tools("stream", "--device", "sim:openmv", "--json", "--count", "2", timeout=120)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(recs) == 2 and all({"frame", "label", "score"} <= set(rec) for rec in recs)
    same = h.host_tools("stream", "--device", f"serial:{camera.port}", "--json", "--count", "1", timeout=120)
    assert same.returncode == 0 and len(same.stdout.splitlines()) == 1, same.stderr
