"""The bird models' ONNX twins match their cards: interface, file sizes, and birds/val accuracy recomputed
here with ONNX Runtime (the RKNN simulator figure needs the toolkit's own venv and is not rechecked here).
Two models: birds_mnv3s (MobileNetV3-Small, 64x64, the app's default) and birds_resnet9 (32x32).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from host_tools.model_manifest import load_manifest
from host_tools.paths import BIRDS_DIR

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in the rv1103 extra")

SIZES = {"birds_mnv3s": 64, "birds_resnet9": 32}  # input side of each model, as its docs state


@pytest.fixture(scope="module", params=sorted(SIZES))
def name(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def card(name) -> dict:
    return json.loads((BIRDS_DIR / f"{name}.json").read_text())


def _files(name: str):
    return (BIRDS_DIR / f"{name}.onnx", BIRDS_DIR / f"{name}_int8.onnx", BIRDS_DIR / f"{name}_rv1103.rknn")


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_card_names_the_files_and_labels_that_exist(name, card) -> None:
    assert card["name"] == name
    assert card["labels"] == ["bird", "not_bird"]  # the manifest owns the labels: no second copy beside it
    assert not list(BIRDS_DIR.glob(f"{name}*.txt"))
    for path in _files(name):
        assert card["files_bytes"][path.name] == path.stat().st_size, path.name
    acc = card["accuracy_birds_val"]
    for name, met in card["target"]["met_by"].items():
        assert met == (acc[name]["accuracy"] >= card["target"]["accuracy"]), name


@pytest.mark.parametrize("twin", [0, 1], ids=["float", "int8"])
def test_onnx_twins_take_raw_rgb_and_give_two_logits(name, card, twin) -> None:
    side = SIZES[name]
    sess = _session(_files(name)[twin])
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    assert inp.shape == [1, 3, side, side] and inp.type == "tensor(float)"
    assert card["input"]["onnx"] == f"float32 NCHW [1, 3, {side}, {side}]"
    manifest = load_manifest(_files(name)[twin])  # what every tool reads: the card's manifest part
    assert (manifest.width, manifest.height, manifest.colour_order) == (side, side, "RGB")
    assert manifest.labels == ("bird", "not_bird") and out.shape[-1] == len(manifest.labels)
    assert out.shape == [1, 2]


def test_int8_twin_is_quantized_qdq(name) -> None:
    onnx = pytest.importorskip("onnx")
    float_path, int8_path, _ = _files(name)
    ops = {n.op_type for n in onnx.load(str(int8_path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert int8_path.stat().st_size < float_path.stat().st_size / 2  # int8 weights, not float ones


def _val_accuracy(path, root, side: int) -> tuple[float, dict[str, float]]:
    from PIL import Image

    sess = _session(path)
    hits: dict[str, list[bool]] = {}
    for idx, label in enumerate(("bird", "not_bird")):
        for jpg in sorted((root / label).glob("*.jpg")):
            with Image.open(jpg) as im:
                x = np.asarray(im.convert("RGB").resize((side, side), Image.BILINEAR), np.float32)
            logits = sess.run(None, {sess.get_inputs()[0].name: x.transpose(2, 0, 1)[None]})[0]
            hits.setdefault(label, []).append(int(np.argmax(logits)) == idx)
    every = [h for v in hits.values() for h in v]
    return sum(every) / len(every), {k: sum(v) / len(v) for k, v in hits.items()}


@pytest.mark.parametrize("twin,key", [(0, "float_onnx"), (1, "int8_qdq_onnx")], ids=["float", "int8"])
def test_val_accuracy_on_the_card_is_what_the_model_scores(name, twin, key, card, shared_data) -> None:
    val = shared_data / "birds" / "val"
    acc, recall = _val_accuracy(_files(name)[twin], val, SIZES[name])
    stated = card["accuracy_birds_val"][key]
    assert stated["images"] == 1000
    assert acc == pytest.approx(stated["accuracy"], abs=1e-9)
    assert recall == pytest.approx(stated["recall"], abs=1e-9)
