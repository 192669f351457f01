"""The mask model meets the H7 contract and its card tells the truth about it.

Figures are recomputed here from the .tflite itself (LiteRT's graph, TFLite Micro's arena), not read back
from the recipe's code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from host_tools.model_budget import check_model_fits, model_arena
from host_tools.model_manifest import load_manifest
from host_tools.openmv_firmware import EMULATED
from host_tools.paths import MASKS_MODEL

CARD = MASKS_MODEL.with_suffix(".json")


@pytest.fixture(scope="module")
def interp():
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(str(MASKS_MODEL))
    it.allocate_tensors()
    return it


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads(CARD.read_text())


def _macs(it) -> int:
    """Multiply-accumulates of the conv, depthwise and dense layers, from tensor shapes."""
    shapes = {t["index"]: t["shape"] for t in it.get_tensor_details()}
    total = 0
    for op in it._get_ops_details():
        out = shapes[op["outputs"][0]]
        w = shapes[op["inputs"][1]] if len(op["inputs"]) > 1 else None
        if op["op_name"] == "CONV_2D":  # weights O x KH x KW x I
            total += int(np.prod(out)) * int(w[1] * w[2] * w[3])
        elif op["op_name"] == "DEPTHWISE_CONV_2D":  # weights 1 x KH x KW x O
            total += int(np.prod(out)) * int(w[1] * w[2])
        elif op["op_name"] == "FULLY_CONNECTED":  # weights O x I
            total += int(np.prod(out)) * int(w[1])
    return total


def test_input_is_what_the_openmv_ml_module_feeds(interp):
    inp = interp.get_input_details()[0]
    assert inp["dtype"] == np.int8
    scale, zero_point = inp["quantization"]
    assert scale == pytest.approx(1 / 255, rel=1e-6)
    assert zero_point == -128
    assert interp.get_output_details()[0]["dtype"] == np.int8


def test_labels_match_outputs_and_card(interp, card):
    manifest = load_manifest(MASKS_MODEL)  # the card beside the model owns the labels: no .txt repeats them
    assert manifest.source == MASKS_MODEL.with_suffix(".json")
    assert not MASKS_MODEL.with_suffix(".txt").exists()
    labels = list(manifest.labels)
    assert labels == ["good", "bad", "no_mask"] == card["labels"]
    assert int(interp.get_output_details()[0]["shape"][-1]) == len(labels)
    # input size and normalisation as the model's quantisation says: int8 = pixel - 128 at scale 1/255
    inp = interp.get_input_details()[0]
    assert (manifest.height, manifest.width) == tuple(inp["shape"][1:3])
    scale, zero_point = inp["quantization"]
    assert manifest.std == pytest.approx((1 / scale,) * 3) and manifest.mean == (0.0, 0.0, 0.0)


def test_fits_the_h7_and_the_card_says_so(card):
    size = MASKS_MODEL.stat().st_size
    assert size <= 100 * 1024
    assert card["file_bytes"] == size
    for firmware in EMULATED:  # every supported firmware's heap blocks, as the firmware allocates
        fit = check_model_fits(MASKS_MODEL, "h7", firmware)
        assert fit.fits, fit.reason
    # The card's arena figure is TFLM's (reference kernels); allow some drift across tflite-micro versions.
    assert abs(card["tflm_arena_bytes"] - model_arena(MASKS_MODEL).reference) <= 4096


def test_macs_under_target_and_match_card(interp, card):
    macs = _macs(interp)
    assert macs <= 17_000_000
    assert macs == card["macs"]


def test_card_accuracy_meets_target(card):
    holdout = card["holdout_eval"]
    assert holdout["int8"]["accuracy"] >= 0.95
    assert set(holdout["int8"]["recall"]) == set(card["labels"])
    assert Path(card["rebuild"]["command"].split()[0]).name == "rebuild.sh"


def test_int8_accuracy_on_held_out_recording(interp, card, shared_data):
    """Recompute the card's held-out figure: every frame of the recording the model never saw."""
    from PIL import Image

    holdout = card["data"]["holdout_recording"]
    labels = card["labels"]
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    h, w = int(inp["shape"][1]), int(inp["shape"][2])
    correct = total = 0
    for idx, label in enumerate(labels):
        for path in sorted((shared_data / "masks" / label).glob(f"{holdout}-*.jpg")):
            rgb = np.asarray(Image.open(path).convert("RGB").resize((w, h), Image.BILINEAR))
            interp.set_tensor(inp["index"], (rgb.astype(np.int16) - 128).astype(np.int8)[None])
            interp.invoke()
            correct += int(np.argmax(interp.get_tensor(out["index"])[0]) == idx)
            total += 1
    assert total == card["holdout_eval"]["int8"]["n"]
    assert correct / total >= 0.95


def test_card_h7_budget_is_what_the_flash_check_computes(card):
    """One owner of the H7 memory budget: the card's per-firmware figures are host_tools.model_budget's."""
    budget = card["h7_budget"]
    assert set(budget["per_firmware"]) == set(EMULATED)
    for firmware in EMULATED:
        fit = check_model_fits(MASKS_MODEL, "h7", firmware)
        stated = budget["per_firmware"][firmware]
        assert stated["largest_heap_block_bytes"] == fit.heap_block_bytes, firmware
        assert stated["fits"] == fit.fits, firmware
        assert abs(stated["arena_allocated_bytes"] - fit.arena_bytes) <= 4096, firmware  # tflite-micro drift
    assert budget["fits"] == (card["file_bytes"] <= budget["file_bytes_max"] and all(
        f["fits"] for f in budget["per_firmware"].values()))


@pytest.fixture()
def recipe():
    """models/masks/train.py, importable without TensorFlow (it imports it only when training)."""
    import importlib.util

    path = MASKS_MODEL.parent / "train.py"
    spec = importlib.util.spec_from_file_location("masks_train_recipe", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_plain_rebuild_keeps_the_hold_outs_it_did_not_retrain(card, recipe):
    """rebuild.sh without --folds retrains only the deployed hold-out; the other two stay on the card, marked
    as kept, as long as the same training recipe measured them; another recipe's figures are dropped."""
    deployed = card["data"]["holdout_recording"]
    others = sorted(set(card["folds"]) - {deployed})
    assert others, "the card reports the other hold-outs"
    this_run = {deployed: {**card["folds"][deployed], "int8_accuracy": 0.5}}
    folds = recipe.kept_folds(card, this_run, card["training"])
    assert sorted(folds) == sorted(card["folds"])
    assert folds[deployed]["int8_accuracy"] == 0.5  # this run's own figure wins
    for name in others:
        assert folds[name]["int8_accuracy"] == card["folds"][name]["int8_accuracy"]
        assert folds[name]["provenance"].startswith("kept from the previous card")
        assert "deployed" not in folds[name]
    other_recipe = {**card["training"], "epochs": card["training"]["epochs"] + 1}
    assert sorted(recipe.kept_folds(card, this_run, other_recipe)) == [deployed]
