"""The registry of emulated boards running on this machine."""

from __future__ import annotations

import json
import os

from host_tools.devices import registry


def test_register_list_unregister(tmp_path, monkeypatch):
    monkeypatch.setenv("CAMCLASS_BOARDS_DIR", str(tmp_path))
    entry = registry.register({"device": "sim:rv1103", "adb": "127.0.0.1:1"})
    assert [b["adb"] for b in registry.running("sim:rv1103")] == ["127.0.0.1:1"]
    assert registry.running("sim:openmv") == []
    registry.unregister(entry)
    assert registry.running() == []


def test_a_dead_emulators_entry_is_dropped(tmp_path, monkeypatch):
    monkeypatch.setenv("CAMCLASS_BOARDS_DIR", str(tmp_path))
    entry = registry.register({"device": "sim:rv1103"})
    info = json.loads(entry.read_text())
    # the same pid with another start time: a reused pid, not our emulator (as after a SIGKILL and a reboot)
    entry.write_text(json.dumps({**info, "started": "1"}))
    assert registry.running() == [] and not entry.exists()
    gone = {"device": "sim:rv1103", "pid": 999999999, "started": "5"}
    (tmp_path / "999999999.json").write_text(json.dumps(gone))
    (tmp_path / "junk.json").write_text("{not json")
    assert registry.running() == []
    assert os.path.exists(tmp_path / "junk.json")  # not ours to judge: left alone
