"""`host_tools flash` against the emulated H7 on a pty: what lands on its filesystem, and what is refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from host_tools.model_manifest import load_manifest


def expected_files(h, model: Path | None = None, config: Path | None = None) -> dict[str, bytes]:
    model = model or h.MODEL
    files = {p.name: p.read_bytes() for p in h.APP.glob("*.py")}
    files["model.tflite"] = model.read_bytes()
    files["model.txt"] = load_manifest(model).labels_text()  # written from the model's manifest
    cfg = config or (h.APP / "config.json")
    if cfg.is_file():
        files["config.json"] = cfg.read_bytes()
    return files


def model_copy(src: Path, dst: Path, extra: bytes = b"", labels: bytes | None = None) -> Path:
    """A copy of a real model (+ trailing bytes the flatbuffer ignores) with a labels file beside it (the
    source's manifest labels by default)."""
    dst.write_bytes(src.read_bytes() + extra)
    dst.with_suffix(".txt").write_bytes(labels or load_manifest(src).labels_text())
    return dst


def test_flash_installs_verifies_and_restarts(camera, h) -> None:
    r = h.host_tools("flash", "--port", camera.port, "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    want = expected_files(h)
    assert h.fs_snapshot(camera.fs) == want  # every file, byte for byte, and no temporaries left
    assert {f["name"]: f["status"] for f in summary["files"]} == {n: "written" for n in want}
    assert {f["name"]: f["sha256"] for f in summary["files"]} == {
        n: hashlib.sha256(b).hexdigest() for n, b in want.items()}
    assert summary["bytes_sent"] == sum(len(b) for b in want.values())
    assert summary["restarted"] is True and "emulated" in summary["target"]
    assert summary["files"][-1]["name"] == "main.py"  # committed last
    assert "100.0%" in r.stderr  # the progress bar
    # After the restart main.py runs the new app: one JSON line per frame.
    results = h.stream_json(camera.port, 3)
    labels = h.labels()
    frames = [res["frame"] for res in results]
    assert frames == sorted(frames) and len(set(frames)) == 3
    for res in results:
        assert res["label"] in labels + [None]
        assert set(res["scores"]) == set(labels)
        assert res["ms"]["total"] >= res["ms"]["inference"] > 0


def test_second_flash_sends_only_what_changed(camera, h, tmp_path: Path) -> None:
    assert h.host_tools("flash", "--port", camera.port, "--no-restart").returncode == 0
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"threshold": 0.5, "smoothing": 1}))
    r = h.host_tools("flash", "--port", camera.port, "--config", str(cfg), "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    status = {f["name"]: f["status"] for f in summary["files"]}
    assert status.pop("config.json") == "written"
    assert set(status.values()) == {"unchanged"}
    assert summary["bytes_sent"] == cfg.stat().st_size
    assert (camera.fs / "config.json").read_bytes() == cfg.read_bytes()
    lines = h.stream_json(camera.port, 2)
    assert all(res["label"] in h.labels() + [None] for res in lines)


@pytest.mark.parametrize("kind", ["file over the 128 KB filesystem", "arena over the heap block"])
def test_model_over_budget_is_refused_before_anything_is_sent(camera, h, tmp_path: Path, kind: str) -> None:
    if kind.startswith("file"):
        model = model_copy(h.MODEL, tmp_path / "big.tflite", b"\0" * (140 * 1024 - h.MODEL.stat().st_size))
        figures = [str(model.stat().st_size), "113664"]  # the FAT filesystem's usable bytes
    else:
        hog = h.FIXTURE_MODELS / "arena_hog.tflite"
        model = model_copy(hog, tmp_path / "hog.tflite", labels=load_manifest(h.MODEL).labels_text())  # 3 too
        figures = ["Failed to allocate tensors", "largest free heap block"]
    assert h.host_tools("flash", "--port", camera.port, "--no-restart").returncode == 0
    before = h.fs_snapshot(camera.fs)
    r = h.host_tools("flash", "--port", camera.port, "--model", str(model))
    assert r.returncode == 4, r.stderr
    assert "does not fit the h7" in r.stderr and "Traceback" not in r.stderr
    for fig in figures:
        assert fig in r.stderr
    assert h.fs_snapshot(camera.fs) == before
    # Refused before the port is even opened: the same answer for a port that does not exist.
    r2 = h.host_tools("flash", "--port", str(tmp_path / "no-such-port"), "--model", str(model))
    assert r2.returncode == 4 and "does not fit" in r2.stderr
    # --board h7plus: the emulator's budget for that board decides (a model that fits goes on to the port).
    from host_tools.model_budget import check_model_fits

    plus = h.host_tools("flash", "--port", str(tmp_path / "no-such-port"), "--model", str(model),
                        "--board", "h7plus")
    fits = check_model_fits(model, "h7plus").fits
    assert plus.returncode == (3 if fits else 4), plus.stderr
    assert ("cannot open port" if fits else "does not fit the h7plus") in plus.stderr


@pytest.mark.parametrize(("text", "needle"), [
    ('{"threshold": 0.6,', "not valid JSON"),
    ('[1, 2]', "must hold a JSON object"),
    ('{"threshold": 2}', "threshold: must be between 0 and 1"),
    ('{"leds": {"cat": "red"}}', "leds: unknown label 'cat'"),
    ('{"colour": 1}', "unknown key 'colour'"),
])
def test_bad_config_is_refused(camera, h, tmp_path: Path, text: str, needle: str) -> None:
    cfg = tmp_path / "bad.json"
    cfg.write_text(text)
    r = h.host_tools("flash", "--port", camera.port, "--config", str(cfg))
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert h.fs_snapshot(camera.fs) == {}


def test_new_model_without_room_beside_the_old_one(camera, h, tmp_path: Path) -> None:
    """On the H7's 128 KB filesystem two ~86 KB models cannot coexist: refused unless --allow-downtime."""
    assert h.host_tools("flash", "--port", camera.port, "--no-restart").returncode == 0
    before = h.fs_snapshot(camera.fs)
    other = model_copy(h.MODEL, tmp_path / "other.tflite", b"\0" * 16)  # same network, different file
    r = h.host_tools("flash", "--port", camera.port, "--model", str(other))
    assert r.returncode == 4, r.stderr
    assert "not enough free space" in r.stderr and "--allow-downtime" in r.stderr
    assert h.fs_snapshot(camera.fs) == before
    assert len(h.stream_json(camera.port, 1)) == 1  # refused, and the camera was restarted: the old app runs
    r = h.host_tools("flash", "--port", camera.port, "--model", str(other), "--allow-downtime", "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["removed_first"] == ["model.tflite"]
    assert h.fs_snapshot(camera.fs) == expected_files(h, model=other)
    assert len(h.stream_json(camera.port, 2)) == 2


def test_flash_to_a_mounted_drive(h, tmp_path: Path) -> None:
    drive = tmp_path / "OPENMV"
    drive.mkdir()
    (drive / "README.txt").write_text("the user's own file")
    r = h.host_tools("flash", "--drive", str(drive), "--json")
    assert r.returncode == 0, r.stderr
    want = expected_files(h)
    assert h.fs_snapshot(drive) == {**want, "README.txt": b"the user's own file"}
    assert json.loads(r.stdout)["restarted"] is False
    again = json.loads(h.host_tools("flash", "--drive", str(drive), "--json").stdout)
    assert again["bytes_sent"] == 0 and {f["status"] for f in again["files"]} == {"unchanged"}
    big = model_copy(h.MODEL, tmp_path / "big.tflite", b"\0" * 50000)
    r = h.host_tools("flash", "--drive", str(drive), "--model", str(big))
    assert r.returncode == 4 and "does not fit" in r.stderr
    assert h.fs_snapshot(drive) == {**want, "README.txt": b"the user's own file"}


@pytest.mark.parametrize("firmware", ["4.5.5", "4.7.0", "4.8.0"])  # 5.0.0: the tests above
def test_flash_and_stream_over_the_raw_repl_of_firmware_4(h, tmp_path: Path, firmware: str) -> None:
    """Firmware 4.x has no Protocol V2: detected, and the same file operations run through the raw REPL;
    the app runs on each 4.x API (legacy tf on 4.5.5, csi as an alias on 4.7, csi.CSI on 4.8)."""
    if not h.SAMPLE_FRAMES.is_dir():
        pytest.skip(f"bundled sample frames missing: {h.SAMPLE_FRAMES}")
    cam = h.start_camera(tmp_path / "fs4", firmware=firmware)
    try:
        r = h.host_tools("flash", "--port", cam.port, "--json")
        assert r.returncode == 0, r.stderr
        summary = json.loads(r.stdout)
        assert "raw REPL" in summary["target"] and summary["restarted"] and summary["firmware"] == firmware
        assert h.fs_snapshot(cam.fs) == expected_files(h)
        s = h.host_tools("stream", "--port", cam.port, "--json", "--count", "2", timeout=90)
        assert s.returncode == 0, s.stderr
        labels = [json.loads(ln)["label"] for ln in s.stdout.splitlines()]
        assert len(labels) == 2 and set(labels) <= set(h.labels() + [None])
        bad = tmp_path / "bad.json"
        bad.write_text('{"smoothing": 0}')
        r = h.host_tools("flash", "--port", cam.port, "--config", str(bad), "--protocol", "legacy")
        assert r.returncode == 2 and "smoothing: must be from 1 to" in r.stderr
    finally:
        cam.stop()


def test_labels_that_do_not_match_the_model_are_refused(h, tmp_path: Path) -> None:
    model = model_copy(h.MODEL, tmp_path / "m.tflite")
    model.with_suffix(".txt").write_text("good\nbad\n")  # the model gives 3 scores
    r = h.host_tools("flash", "--port", str(tmp_path / "no-such-port"), "--model", str(model))
    assert r.returncode == 2 and "has 2 labels but m.tflite gives 3 scores" in r.stderr, r.stderr
    model.with_suffix(".txt").unlink()
    r = h.host_tools("flash", "--port", str(tmp_path / "no-such-port"), "--model", str(model))
    assert r.returncode == 2 and "no manifest beside it" in r.stderr and "m.txt" in r.stderr, r.stderr
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a flatbuffer" * 10)
    r = h.host_tools("flash", "--port", str(tmp_path / "no-such-port"), "--model", str(junk))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr


@pytest.mark.parametrize(("content", "needle"), [
    (b'{"threshold": 0.5, "pad": "' + b"x" * 200_000 + b'"}', "bytes; the app accepts at most 4096"),
    (b"[" * 3000, "nested deeper than"),
    ('{"leds": {"good": "grün"}}'.encode("latin-1"), "not UTF-8 text"),
])
def test_hostile_configs_are_refused_on_the_host(h, tmp_path: Path, content: bytes, needle: str) -> None:
    cfg = tmp_path / "hostile.json"
    cfg.write_bytes(content)
    r = h.host_tools("flash", "--port", str(tmp_path / "no-such-port"), "--config", str(cfg))
    assert r.returncode == 2 and needle in r.stderr, r.stderr
    assert len(r.stderr) < 600 and "Traceback" not in r.stderr  # a short line, never the file


def test_file_names_with_shell_metacharacters(h, tmp_path: Path) -> None:
    """Paths are passed as arguments, never through a shell: odd names work as they are."""
    odd = tmp_path / "we $(touch pwned); 'ird' `x` & name"
    odd.mkdir()
    model = model_copy(h.MODEL, odd / "m;$HOME.tflite")
    cfg = odd / "c $(id).json"
    cfg.write_text('{"threshold": 0.4}')
    drive = odd / "drive"
    drive.mkdir()
    r = h.host_tools("flash", "--drive", str(drive), "--model", str(model), "--config", str(cfg), "--json")
    assert r.returncode == 0, r.stderr
    assert (drive / "model.tflite").read_bytes() == model.read_bytes()
    assert not (h.REPO / "pwned").exists() and not (tmp_path / "pwned").exists()


def test_a_frame_size_the_cameras_firmware_lacks_is_refused_before_sending(camera, h, tmp_path: Path) -> None:
    cfg = tmp_path / "b64.json"
    cfg.write_text('{"framesize": "B64X64"}')  # valid for 4.x's sensor module, absent from 5.0's csi
    r = h.host_tools("flash", "--port", camera.port, "--config", str(cfg))
    assert r.returncode == 2, r.stderr
    assert "framesize B64X64 is not available on firmware 5.0.0" in r.stderr
    assert h.fs_snapshot(camera.fs) == {}
