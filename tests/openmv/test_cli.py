"""`host_tools sim openmv`: --json stdout is exactly one JSON line per frame; bad arguments fail clearly."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from host_tools.cli import main as cli_main
from host_tools.model_manifest import load_manifest


def _sim(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "host_tools", "sim", "openmv", *args],
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def test_json_stdout_is_one_line_per_frame(tmp_path, masks_model, mask_frames):
    cfg = tmp_path / "cfg.json"
    cfg.write_text('{"threshold": 0.5, "smoothing": 2, "treshold": 1}')  # a bad key: messages go to stderr
    proc = _sim(
        "--frames",
        str(mask_frames),
        "--count",
        "4",
        "--fps",
        "100",
        "--json",
        "--config",
        str(cfg),
        "--fs",
        str(tmp_path / "fs"),
        "--model",
        str(masks_model),
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 4 and proc.stdout.endswith("\n")
    labels = list(load_manifest(masks_model).labels)
    for n, line in enumerate(lines, 1):
        r = json.loads(line)
        assert list(r) == ["schema", "board", "frame", "label", "score", "scores", "raw", "ms", "fps",
                           "smoothing", "mem"]  # result schema 1 (host_tools/results/SCHEMA.md)
        assert (r["schema"], r["board"]) == (1, "openmv")
        assert r["frame"] == n and r["label"] in labels + [None]
        assert isinstance(r["score"], float) and list(r["scores"]) == labels
        assert set(r["raw"]) == {"label", "score"} and r["raw"]["label"] in labels + [None]
        assert set(r["ms"]) == {"capture", "inference", "total"} and all(
            isinstance(v, float) for v in r["ms"].values()
        )
        assert r["ms"]["total"] >= r["ms"]["inference"] and isinstance(r["fps"], float)
        assert r["smoothing"]["frames"] >= 1 and 0 <= r["smoothing"]["threshold"] <= 1
        assert isinstance(r["mem"]["heap_free"], int) and r["mem"]["heap_free"] > 0
        # with one frame smoothed, the reported decision is the raw one
        if n == 1:
            assert r["raw"]["score"] == r["score"]
    assert "EMULATED OpenMV Cam H7" in proc.stderr and "not measured on a board" in proc.stderr
    assert "unknown key 'treshold'" in proc.stderr


def test_live_output_and_exit_at_end_of_frames(tmp_path, masks_model, mask_frames):
    proc = _sim(
        "--frames",
        str(mask_frames),
        "--fps",
        "100",
        "--fs",
        str(tmp_path / "fs"),
        "--model",
        str(masks_model),
    )
    assert proc.returncode == 0, proc.stderr
    assert "EMULATED OpenMV Cam H7" in proc.stdout and "host timings" in proc.stdout
    frames = [ln for ln in proc.stdout.splitlines() if ln.startswith("frame ")]
    assert len(frames) == len(list(mask_frames.iterdir()))
    assert " fps  ms: capture " in frames[0] and " LED " in frames[0]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--frames", "/nonexistent/frames"], "no such folder or video file"),
        (["--frames", "{empty}"], "no images"),
        (["--frames", "{frames}", "--board", "h8"], "unknown board 'h8'"),
        (["--frames", "{frames}", "--fps", "0"], "--fps must be > 0"),
        (["--frames", "{frames}", "--fps", "-2"], "--fps must be > 0"),
        (["--frames", "{frames}", "--count", "0"], "--count must be >= 1"),
        (["--frames", "{frames}", "--model", "/nonexistent/m.tflite"], "cannot read it"),
        (["--frames", "{frames}", "--model", "{textfile}"], "not a TensorFlow Lite flatbuffer"),
        (["--frames", "{frames}", "--config", "/nonexistent/c.json"], "no such file"),
        (["--frames", "{notvideo}"], "cannot open"),
        (["--frames", "{frames}", "--firmware", "five"], "firmware version 'five'"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(tmp_path, mask_frames, masks_model, capsys, args, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "m.tflite").write_text("not a model")
    (tmp_path / "clip.mp4").write_text("not a video")
    subs = {
        "{empty}": str(tmp_path / "empty"),
        "{frames}": str(mask_frames),
        "{textfile}": str(tmp_path / "m.tflite"),
        "{notvideo}": str(tmp_path / "clip.mp4"),
    }
    argv = ["sim", "openmv", *[subs.get(a, a) for a in args], "--fs", str(tmp_path / "fs")]
    if "--model" not in args:
        argv += ["--model", str(masks_model)]
    code = cli_main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("host_tools: error: ") and message in err, err


def test_missing_frames_argument_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["sim", "openmv"])
    assert exc.value.code == 2 and "--frames" in capsys.readouterr().err


def test_pty_prints_the_port_first_and_stops_on_sigint(tmp_path):
    import signal

    from host_tools.paths import MASKS_SAMPLE_FRAMES

    pytest.importorskip("host_tools.sim.openmv.pty_server")
    if not MASKS_SAMPLE_FRAMES.is_dir():
        pytest.skip("no bundled sample frames")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "host_tools",
            "sim",
            "openmv",
            "--pty",
            "--frames",
            str(MASKS_SAMPLE_FRAMES),
            "--fs",
            str(tmp_path / "fs"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("/dev/"), first
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _png_claiming(path, w: int, h: int) -> None:
    """A tiny PNG whose header claims w x h pixels (a decompression bomb's signature)."""
    import io
    import struct
    import zlib

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    struct.pack_into(">II", data, 16, w, h)  # IHDR width, height
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))  # IHDR CRC
    path.write_bytes(bytes(data))


def test_corrupt_images_and_bombs_are_skipped_naming_the_file(tmp_path, masks_model, mask_frames):
    frames = tmp_path / "frames"
    frames.mkdir()
    good = sorted(mask_frames.iterdir())[:2]
    (frames / "000.jpg").write_bytes(good[0].read_bytes())
    (frames / "001_corrupt.jpg").write_bytes(good[1].read_bytes()[:300])  # truncated JPEG
    (frames / "002_text.png").write_text("not an image at all")
    _png_claiming(frames / "003_bomb.png", 100_000, 100_000)
    (frames / "004.jpg").write_bytes(good[1].read_bytes())
    proc = _sim("--frames", str(frames), "--fps", "100", "--json", "--fs", str(tmp_path / "fs"),
                "--model", str(masks_model))
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 2  # the two readable frames
    for name in ("001_corrupt.jpg", "002_text.png", "003_bomb.png"):
        assert f"skipped {frames / name}" in proc.stderr, proc.stderr
    assert "decompression bomb" in proc.stderr and "Traceback" not in proc.stderr
    # A folder with no readable image at all ends the replay, even with --loop (never spins), and the run
    # fails: nothing was classified.
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.jpg").write_text("nope")
    proc = _sim("--frames", str(bad), "--loop", "--fs", str(tmp_path / "fs2"), "--model", str(masks_model))
    assert proc.returncode == 1 and "skipped" in proc.stderr, proc.stderr
    assert "no frame was classified" in proc.stderr
