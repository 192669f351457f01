"""The emulated RV1103 on the real bird models (ONNX int8 twins: the 64x64 MobileNet and the 32x32
ResNet-9) and real bird / not-bird images.

Wide and tall frames are composed from three validation images of one class (the data README suggests
it), so each frame takes the three-crop path; the voted decision must be right on most frames. Skips
until the bird model exists (models/birds, made by its recipe) or where ../shared/data is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("camrt", reason="the camrt extension is not built (pip install -e . builds it)")

from host_tools.cli import main  # noqa: E402
from host_tools.model_manifest import load_manifest
from host_tools.paths import BIRDS_DIR  # noqa: E402

MODELS = ["birds_lite0", "birds_mnv3s", "birds_resnet9"]
PER_CLASS = 8


def model_side(model: Path) -> int:
    import onnxruntime as ort

    shape = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).get_inputs()[0].shape
    return int(shape[2] if shape[1] in (1, 3) else shape[1])


def compose(paths: list[Path], side: int, tall: bool) -> np.ndarray:
    from PIL import Image

    tiles = [np.asarray(Image.open(p).convert("RGB").resize((side, side), Image.BILINEAR)) for p in paths]
    return np.concatenate(tiles, axis=0 if tall else 1)


@pytest.mark.parametrize("name", MODELS)
def test_bird_frames_are_classified_by_three_crop_voting(name, shared_data, tmp_path, capsys):
    from PIL import Image

    model = BIRDS_DIR / f"{name}_int8.onnx"
    labels = list(load_manifest(BIRDS_DIR / f"{name}.json").labels)
    side = model_side(model)
    frames = tmp_path / "frames"
    frames.mkdir()
    truth = {}
    for label in ("bird", "not_bird"):
        files = sorted((shared_data / "birds" / "val" / label).glob("*.jpg"))[: 3 * PER_CLASS]
        for i in range(PER_CLASS):
            frame = f"{label}_{i:02d}.png"
            Image.fromarray(compose(files[3 * i:3 * i + 3], side, tall=i % 2 == 1)).save(frames / frame)
            truth[frame] = label
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"labels": labels, "k": 2, "penalty": 0.1, "max_fps": 0}))
    argv = ["sim", "rv1103", "--frames", str(frames), "--config", str(cfg), "--json"]
    if name != "birds_lite0":  # the default model needs no --model
        argv += ["--model", str(model)]
    assert main(argv) == 0
    recs = [json.loads(ln) for ln in capsys.readouterr()[0].splitlines()]
    assert len(recs) == 2 * PER_CLASS
    names = sorted(truth)
    assert all(len(r["crops"]) == 3 for r in recs)
    assert {c["w"] for r in recs for c in r["crops"]} == {side}  # frames are three model-sized tiles
    right = sum(r["label"] == truth[n] for r, n in zip(recs, names, strict=True))
    # Each frame holds three images of its class: the vote should be right far more often than chance.
    assert right >= 0.75 * len(recs), [(n, r["label"]) for r, n in zip(recs, names, strict=True)]
