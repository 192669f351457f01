"""EmulatedCamera contract used by the protocol helpers: stop(), latest_frame(), frame_counter, reset."""

from __future__ import annotations

import threading
import time

import pytest

from host_tools.sim.openmv.camera import EmulatedCamera, MachineReset, SimOptions


def _wait(pred, timeout=20.0):
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.01)


def test_stop_interrupts_a_running_main_and_frames_stream(tmp_path, masks_model, mask_frames, run_app):
    run_app(tmp_path / "fs", mask_frames, masks_model, {"smoothing": 1}, count=1)  # installs the app
    out: list[str] = []
    cam = EmulatedCamera(
        SimOptions(frames=mask_frames, fs_root=tmp_path / "fs", fps=20, loop=True), out.append
    )
    t = threading.Thread(target=cam.run_main)
    t.start()
    _wait(lambda: cam.frame_counter >= 3)
    w, h, fmt, data = cam.latest_frame()
    assert (w, h, fmt, len(data)) == (320, 240, "RGB565", 320 * 240 * 2)
    cam.stop()
    t.join(5)
    assert not t.is_alive() and cam.end_reason == "stopped"
    assert "Traceback" not in "".join(out)


def test_a_stop_before_the_script_starts_still_stops_it(tmp_path, mask_frames):
    # ctrl-C can reach the board while main.py is still being loaded (CI saw this race): it must not be lost
    cam = EmulatedCamera(SimOptions(frames=mask_frames, fs_root=tmp_path / "fs", loop=True), lambda _: None)
    cam.stop()
    loop = "import sensor\nwhile True:\n    sensor.snapshot()\n"
    t = threading.Thread(target=cam.exec_script, args=(loop,))
    t.start()
    t.join(5)
    try:
        assert not t.is_alive() and cam.end_reason == "stopped"
    finally:
        cam.stop()
    # the stop was consumed: the next script runs
    cam.exec_script("print('second')")
    assert cam.end_reason == "end"


def test_streaming_off_gives_no_frames(tmp_path, masks_model, mask_frames, run_app):
    run = run_app(tmp_path / "fs", mask_frames, masks_model, {"stream": False}, count=2)
    assert len(run.results) == 2 and run.camera.latest_frame() is None
    run = run_app(
        tmp_path / "fs2", mask_frames, masks_model, {"stream": True, "pixformat": "GRAYSCALE"}, count=2
    )
    w, h, fmt, data = run.camera.latest_frame()
    assert (fmt, len(data)) == ("GRAYSCALE", w * h)


def test_exec_script_prints_errors_micropython_style_and_reset_is_raised(tmp_path, mask_frames):
    out: list[str] = []
    cam = EmulatedCamera(SimOptions(frames=mask_frames, fs_root=tmp_path / "fs"), out.append)
    cam.exec_script("import os\nos.stat('nope.txt')\n")
    expected = 'Traceback (most recent call last):\n  File "<stdin>", line 2, in <module>\n'
    assert "".join(out) == expected + "OSError: [Errno 2] ENOENT\n"
    out.clear()
    cam.exec_script(
        "import hashlib, binascii, sys\nh = hashlib.sha256(); h.update(b'abc')\n"
        "print(binascii.hexlify(h.digest()).decode())\n"
        "try:\n    1/0\nexcept Exception as e:\n    sys.print_exception(e)\n"
    )
    text = "".join(out)
    assert text.startswith("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n")
    assert text.endswith("ZeroDivisionError: division by zero\n")
    with pytest.raises(MachineReset):
        cam.exec_script("import machine\nmachine.reset()\n")


def test_video_file_replays_every_frame(tmp_path, masks_model, mask_frames, run_app):
    cv2 = pytest.importorskip("cv2")
    import numpy as np
    from PIL import Image

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (256, 256))
    files = sorted(mask_frames.iterdir())[:3]
    for f in files:
        rgb = np.asarray(Image.open(f).convert("RGB").resize((256, 256)))
        writer.write(np.ascontiguousarray(rgb[..., ::-1]))
    writer.release()
    cfg = {"smoothing": 1, "threshold": 0.0}
    from_video = run_app(tmp_path / "fs", video, masks_model, cfg)
    assert [r["frame"] for r in from_video.results] == [1, 2, 3], from_video.output
    from_files = run_app(tmp_path / "fs2", mask_frames, masks_model, cfg, count=3)
    # MJPEG re-encoding changes pixels slightly: close scores, frame by frame, in the same order.
    for v, f in zip(from_video.results, from_files.results, strict=True):
        assert max(abs(v["scores"][k] - f["scores"][k]) for k in f["scores"]) < 0.15, (v, f)
