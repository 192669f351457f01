"""The bird model's ONNX twins match its card: interface, file sizes, and birds/val accuracy recomputed here
with ONNX Runtime (the RKNN simulator figure needs the toolkit's own venv and is not rechecked here).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from host_tools.paths import BIRDS_DIR

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in the rv1103 extra")

CARD = BIRDS_DIR / "birds_mnv3s.json"
FLOAT = BIRDS_DIR / "birds_mnv3s.onnx"
INT8 = BIRDS_DIR / "birds_mnv3s_int8.onnx"
RKNN = BIRDS_DIR / "birds_mnv3s_rv1103.rknn"


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads(CARD.read_text())


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_card_names_the_files_and_labels_that_exist(card) -> None:
    assert card["labels"] == (BIRDS_DIR / card["labels_file"]).read_text().split() == ["bird", "not_bird"]
    for path in (FLOAT, INT8, RKNN):
        assert card["files_bytes"][path.name] == path.stat().st_size, path.name
    acc = card["accuracy_birds_val"]
    for name, met in card["target"]["met_by"].items():
        assert met == (acc[name]["accuracy"] >= card["target"]["accuracy"]), name


@pytest.mark.parametrize("path", [FLOAT, INT8], ids=["float", "int8"])
def test_onnx_twins_take_raw_rgb_64_and_give_two_logits(path) -> None:
    sess = _session(path)
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    assert inp.shape == [1, 3, 64, 64] and inp.type == "tensor(float)"
    assert out.shape == [1, 2]


def test_int8_twin_is_quantized_qdq() -> None:
    onnx = pytest.importorskip("onnx")
    ops = {n.op_type for n in onnx.load(str(INT8)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert INT8.stat().st_size < FLOAT.stat().st_size / 2  # int8 weights, not float ones


def _val_accuracy(path, root) -> tuple[float, dict[str, float]]:
    from PIL import Image

    sess = _session(path)
    hits: dict[str, list[bool]] = {}
    for idx, label in enumerate(("bird", "not_bird")):
        for jpg in sorted((root / label).glob("*.jpg")):
            with Image.open(jpg) as im:
                x = np.asarray(im.convert("RGB").resize((64, 64), Image.BILINEAR), np.float32)
            logits = sess.run(None, {sess.get_inputs()[0].name: x.transpose(2, 0, 1)[None]})[0]
            hits.setdefault(label, []).append(int(np.argmax(logits)) == idx)
    every = [h for v in hits.values() for h in v]
    return sum(every) / len(every), {k: sum(v) / len(v) for k, v in hits.items()}


@pytest.mark.parametrize("path,key", [(FLOAT, "float_onnx"), (INT8, "int8_qdq_onnx")], ids=["float", "int8"])
def test_val_accuracy_on_the_card_is_what_the_model_scores(path, key, card, shared_data) -> None:
    val = shared_data / "birds" / "val"
    acc, recall = _val_accuracy(path, val)
    stated = card["accuracy_birds_val"][key]
    assert stated["images"] == 1000
    assert acc == pytest.approx(stated["accuracy"], abs=1e-9)
    assert recall == pytest.approx(stated["recall"], abs=1e-9)
