"""Models that would break a camera: refused by flash on the host (exit 4), and a camera that runs one anyway
survives it as a board would (a hard fault resets it; stopping the script at boot recovers it, so flash can
put a good model back).

The crashing model is the mask model with its input shape patched to [1, 96, 96, 1]: every host check that
only reads the model passes, TFLite Micro allocates it, and the first inference divides by zero (SIGFPE).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from host_tools.model_budget import BOARDS
from host_tools.model_manifest import load_manifest
from host_tools.sim.openmv.install import install


def patched_model(h, dst: Path, *, channels: int | None = None, float_input: bool = False) -> Path:
    """A copy of the mask model with its input tensor's channel count or type changed (and its labels)."""
    from ai_edge_litert import schema_py_generated as schema

    data = bytearray(h.MODEL.read_bytes())
    sg = schema.Model.GetRootAsModel(bytes(data), 0).Subgraphs(0)
    tensor = sg.Tensors(sg.Inputs(0))
    tab = tensor._tab
    if channels is not None:
        shape_at = tab.Vector(tab.Offset(4))  # Tensor.shape: field 0
        data[shape_at + 12 : shape_at + 16] = channels.to_bytes(4, "little")
    if float_input:
        data[tab.Pos + tab.Offset(6)] = schema.TensorType.FLOAT32  # Tensor.type: field 1
    dst.write_bytes(bytes(data))
    dst.with_suffix(".txt").write_bytes(load_manifest(h.MODEL).labels_text())
    check = schema.Model.GetRootAsModel(dst.read_bytes(), 0).Subgraphs(0)
    t = check.Tensors(check.Inputs(0))
    assert (channels is None or int(t.ShapeAsNumpy()[3]) == channels) and (not float_input or t.Type() == 0)
    return dst


def gray_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "gray.json"
    cfg.write_text(json.dumps({"pixformat": "GRAYSCALE", "leds": {}}))
    return cfg


def test_flash_refuses_a_model_that_crashes_tflite_micro(h, tmp_path: Path) -> None:
    crash = patched_model(h, tmp_path / "crash.tflite", channels=1)
    r = h.host_tools("flash", "--port", str(tmp_path / "no-such-port"), "--model", str(crash),
                     "--config", str(gray_config(tmp_path)))
    assert r.returncode == 4, r.stderr
    assert "crashed TensorFlow Lite Micro (SIGFPE)" in r.stderr and "nothing was sent" in r.stderr
    assert "Traceback" not in r.stderr


def test_flash_refuses_input_channels_that_do_not_match_the_pixel_format(h, tmp_path: Path) -> None:
    gray_model = patched_model(h, tmp_path / "gray.tflite", channels=1)
    r = h.host_tools("flash", "--port", str(tmp_path / "no-such-port"), "--model", str(gray_model))
    assert r.returncode == 4, r.stderr
    assert "takes 1-channel input but the camera is set to RGB565" in r.stderr


def test_flash_refuses_a_float_model_naming_its_tensor_type(h, tmp_path: Path) -> None:
    f32 = patched_model(h, tmp_path / "float.tflite", float_input=True)
    r = h.host_tools("flash", "--port", str(tmp_path / "no-such-port"), "--model", str(f32))
    assert r.returncode == 4, r.stderr
    assert "input tensor is float32" in r.stderr and "int8 or uint8" in r.stderr
    assert "nothing was sent" in r.stderr


def test_sim_openmv_reports_a_hard_fault_instead_of_dying(h, tmp_path: Path) -> None:
    crash = patched_model(h, tmp_path / "crash.tflite", channels=1)
    r = h.host_tools("sim", "openmv", "--frames", str(h.SAMPLE_FRAMES), "--model", str(crash), "--config",
                     str(gray_config(tmp_path)), "--fs", str(tmp_path / "fs"), "--count", "3", "--fps", "100")
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert "hard-faulted" in r.stderr and "SIGFPE" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("firmware", ["5.0.0", "4.6.0"])
def test_flash_recovers_a_camera_that_faults_at_every_boot(h, tmp_path: Path, firmware: str) -> None:
    fs = tmp_path / "camera_fs"
    fs.mkdir()
    crash = patched_model(h, tmp_path / "crash.tflite", channels=1)
    install(fs, crash, gray_config(tmp_path), BOARDS["h7"].fs_bytes)  # as if it had been copied by hand
    cam = h.start_camera(fs, firmware=firmware)
    try:
        # the good model and the default config (on the H7 the new model cannot sit beside the old one)
        r = h.host_tools("flash", "--port", cam.port, "--allow-downtime", timeout=180)
        assert r.returncode == 0, r.stderr[-3000:]
        assert (fs / "model.tflite").read_bytes() == h.MODEL.read_bytes()
        s = h.host_tools("stream", "--port", cam.port, "--json", "--count", "2", timeout=120)
        assert s.returncode == 0, s.stderr[-2000:]
        assert len(s.stdout.splitlines()) == 2
    finally:
        cam.stop()
    assert cam.proc.returncode in (0, -15)  # the emulator itself never died


