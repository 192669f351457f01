"""Each emulated firmware offers only its own API, and the app runs the same on every one of them:
legacy `tf` (4.5.5), `ml` + `sensor` with `csi` as a mere alias (4.6/4.7), `ml` + `csi.CSI` without the
B64X64/B128X128 sizes and without omv.disable_fb (4.8), and firmware 5 (which stretches instead of
cropping: the app's aspect-matched ROI makes the model's input the same)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from host_tools.openmv_firmware import EMULATED
from host_tools.sim.openmv.camera import EmulatedCamera, SimOptions


def _scores(run):
    return [(r["label"], r["scores"]) for r in run.results]


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, masks_model, mask_frames, run_app):
    cfg = {"threshold": 0.5, "smoothing": 2, "roi": [10, 10, 280, 220]}
    return run_app(tmp_path_factory.mktemp("fw5"), mask_frames, masks_model, cfg, firmware="5.0.0")


@pytest.mark.parametrize("firmware", [v for v in EMULATED if v != "5.0.0"])
def test_the_app_gives_the_same_results_on_every_firmware(tmp_path, masks_model, mask_frames, run_app,
                                                          reference_run, firmware):
    cfg = {"threshold": 0.5, "smoothing": 2, "roi": [10, 10, 280, 220]}
    run = run_app(tmp_path / "fs", mask_frames, masks_model, cfg, firmware=firmware)
    assert len(run.results) == len(list(mask_frames.iterdir())), run.output
    assert "Traceback" not in run.output
    assert _scores(run) == _scores(reference_run)


def _probe(tmp_path, frames, firmware: str, source: str, board: str = "h7") -> str:
    out: list[str] = []
    cam = EmulatedCamera(
        SimOptions(frames=frames, fs_root=tmp_path / firmware, firmware=firmware, board=board), out.append
    )
    cam.exec_script(source)
    return "".join(out)


API = """\
import sensor
for name in ('ml', 'csi', 'tf'):
    try:
        m = __import__(name)
        print(name, 'classify' in dir(m), 'CSI' in dir(m), m is sensor, hasattr(m, 'B64X64'))
    except ImportError:
        print(name, 'missing')
import omv
print('disable_fb', hasattr(omv, 'disable_fb'), 'sensor.B64X64', hasattr(sensor, 'B64X64'))
"""


def test_each_firmware_has_only_its_api(tmp_path, mask_frames):
    old = _probe(tmp_path, mask_frames, "4.5.5", API)
    assert "ml missing" in old and "csi missing" in old and "tf True" in old and "disable_fb True" in old
    v46 = _probe(tmp_path, mask_frames, "4.6.0", API)
    assert "csi False False True True" in v46  # csi is the sensor module itself: no CSI class
    assert "ml False" in v46 and "tf False" in v46 and "disable_fb True" in v46
    v48 = _probe(tmp_path, mask_frames, "4.8.0", API)
    assert "csi False True False False" in v48  # csi.CSI, but no B64X64
    assert "disable_fb False" in v48 and "sensor.B64X64 True" in v48
    v5 = _probe(tmp_path, mask_frames, "5.0.0", API)
    assert "csi False True False False" in v5 and "disable_fb False" in v5


@pytest.mark.parametrize("firmware,accepted", [("4.6.0", True), ("4.8.0", False), ("5.0.0", False)])
def test_a_frame_size_the_firmware_lacks_is_a_config_error(tmp_path, masks_model, mask_frames, run_app,
                                                          firmware, accepted):
    """B128X128 exists in 4.6's sensor module but not in 4.8+'s csi: rejected as a config error there (at
    boot and on a reload), never a crash."""
    fs = tmp_path / "fs"

    def on_line(line: str, camera) -> None:
        if line.startswith("{") and "event" not in json.loads(line) and json.loads(line)["frame"] == 2:
            (fs / "config.json").write_text('{"framesize": "B64X64", "smoothing": 1}')

    run = run_app(fs, mask_frames, masks_model, {"framesize": "B128X128"}, firmware=firmware, on_line=on_line)
    assert run.camera.end_reason == "frames" and len(run.results) == len(list(mask_frames.iterdir()))
    lacking = "framesize: B128X128 is not available on this camera's firmware"
    if accepted:
        assert lacking not in run.output and "config: config.json loaded" in run.other_lines
        assert run.camera.state.sensor["framesize"] is not None
    else:
        assert any(lacking in ln for ln in run.other_lines), run.output
        assert "config: config.json rejected, running on the defaults" in run.other_lines
        assert "config: config.json rejected, running on the last good config" in run.other_lines


@pytest.mark.parametrize("firmware", ["4.6.0", "4.8.0", "5.0.0"])
def test_stream_false_works_without_disable_fb(tmp_path, masks_model, mask_frames, run_app, firmware):
    run = run_app(tmp_path / "fs", mask_frames, masks_model, {"stream": False}, firmware=firmware, count=2)
    assert len(run.results) == 2 and "Traceback" not in run.output
    assert (run.camera.latest_frame() is None) == (firmware == "4.6.0")  # only 4.x < 4.8 can turn it off


def test_vga_rgb565_on_the_h7_is_captured_as_bayer(tmp_path, masks_model, mask_frames, run_app):
    from host_tools.sim.openmv.modules.image import BAYER

    run = run_app(tmp_path / "fs", mask_frames, masks_model, {"framesize": "VGA"}, count=2)
    assert len(run.results) == 2, run.output
    assert run.camera.state.fb.format() == BAYER  # 640 x 480 x 2 bytes > the H7's 400 KB frame buffer
    w, h, fmt, data = run.camera.latest_frame()
    assert (w, h, fmt, len(data)) == (640, 480, "RGB565", 640 * 480 * 2)  # the host gets it debayered
    plus = run_app(tmp_path / "fs2", mask_frames, masks_model, {"framesize": "VGA"}, count=1, board="h7plus")
    assert plus.camera.state.fb.format() != BAYER


def test_ndarray_inputs_are_truncated_not_rounded():
    from host_tools.sim.openmv.modules.ml import array_tensor

    quant = {"scales": np.array([0.5], np.float32), "zero_points": np.array([0])}
    detail = {"shape": np.array([1, 4]), "dtype": np.int8, "quantization_parameters": quant}
    got = array_tensor([[1.35, -1.35, 0.2, 70.0]], detail)  # * 2: 2.7, -2.7, 0.4, 140
    assert got.tolist() == [[2, -2, 0, -116]]  # toward zero; 140 wraps as the C cast to int8 does


def test_float_models_lose_normalization_on_4_6_and_4_7(tmp_path, mask_frames):
    from host_tools.sim.openmv.modules.image import RGB565, Image
    from host_tools.sim.openmv.modules.ml import image_tensor

    img = Image(_pixels=np.full((8, 8, 3), (31, 63, 31), np.uint8), _format=RGB565)
    for fw, expected in (("4.6.0", 255.0), ("4.8.0", 1.0)):
        cam = EmulatedCamera(SimOptions(frames=mask_frames, fs_root=tmp_path / fw, firmware=fw), print)
        t = image_tensor(cam.state, img, None, (1, 4, 4, 3), np.float32)
        assert float(t.max()) == pytest.approx(expected)


def test_clock_fps_is_a_cumulative_average_in_whole_milliseconds(tmp_path, mask_frames):
    out = _probe(tmp_path, mask_frames, "5.0.0",
                 "import time\nc = time.clock()\nc.tick()\ntime.sleep_ms(12)\na = c.avg()\n"
                 "c.tick()\ntime.sleep_ms(31)\nb = c.avg()\nprint(a, b)\n")
    a, b = (float(v) for v in out.split())
    assert a == int(a) and a >= 12
    second = 2 * b - a  # b is the mean of both frames' whole-millisecond times
    assert second == int(second) and second >= 31


def test_emulated_modules_do_not_touch_cpython(tmp_path, mask_frames):
    before = dict(sys.modules)
    out = _probe(
        tmp_path, mask_frames, "4.6.0", "import time, os, json\nprint(time.ticks_ms() >= 0, os.getcwd())\n"
    )
    assert out == "True /flash\n"
    import time

    assert not hasattr(time, "ticks_ms")
    assert sys.modules.get("time") is before.get("time")
