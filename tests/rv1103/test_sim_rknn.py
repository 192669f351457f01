"""host_tools sim rv1103 --engine rknn-sim: the RKNN toolkit's simulator (optional .venv-rknn) against ONNX.

The int8 rv1103 model is built from the float ONNX at start-up; its scores must agree with ONNX Runtime on
the same frames within int8 error. Skips where the toolkit's venv is not installed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("camrt", reason="the camrt extension is not built (pip install -e . builds it)")
onnx = pytest.importorskip("onnx")

from host_tools.cli import main  # noqa: E402
from host_tools.sim.rv1103.npu import RKNN_VENV_PYTHON  # noqa: E402

pytestmark = pytest.mark.skipif(not RKNN_VENV_PYTHON.is_file(),
                                reason=f"RKNN toolkit venv not installed ({RKNN_VENV_PYTHON})")

COLOURS = [(255, 0, 0), (0, 0, 255), (128, 128, 128), (255, 255, 0), (0, 255, 255), (40, 200, 90)]


def test_rknn_simulator_agrees_with_onnx(tmp_path, capsys, colour_model):
    from PIL import Image

    model = colour_model(tmp_path / "colour.onnx", card={"colour_order": "RGB", "mean": 0, "std": 255})
    calib = tmp_path / "calib"
    calib.mkdir()
    for i in range(12):
        img = np.zeros((48, 48, 3), np.uint8)
        img[:] = COLOURS[i % len(COLOURS)]
        img[:, : i * 3] = 255 - img[:, : i * 3]
        Image.fromarray(img).save(calib / f"c{i:02d}.png")
    frames = tmp_path / "frames"
    frames.mkdir()
    wide = np.zeros((64, 192, 3), np.uint8)
    wide[:, :64], wide[:, 64:128], wide[:, 128:] = (255, 0, 0), (128, 128, 128), (0, 0, 255)
    Image.fromarray(wide).save(frames / "wide.png")
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"labels": ["red", "blue"], "k": 1, "max_fps": 0}))
    base = ["sim", "rv1103", "--frames", str(frames), "--config", str(cfg), "--model", str(model), "--json"]

    assert main([*base, "--engine", "rknn-sim", "--calib", str(calib)]) == 0
    out, err = capsys.readouterr()
    assert "simulator" in err and "built from colour.onnx at start-up" in err
    rknn = json.loads(out.strip())  # the toolkit's own chatter never reaches stdout
    assert main(base) == 0
    ref = json.loads(capsys.readouterr()[0].strip())
    for a, b in zip(rknn["crops"], ref["crops"], strict=True):
        assert (a["x"], a["y"], a["w"]) == (b["x"], b["y"], b["w"])
        for label in ("red", "blue"):
            assert a["scores"][label] == pytest.approx(b["scores"][label], abs=0.02)
    assert [c["vote"] for c in rknn["crops"]] == ["red", "red", "blue"]
