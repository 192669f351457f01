"""The default bird model's card reports the board's decision on birds/val, and the deploy config uses the
vote settings its documented sweep chose (models/birds/sweep_voter.py): the chosen setting's figures are
recomputed here through the board's own crop planner, preprocessing, softmax and camrt.Voter."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from host_tools.paths import BIRDS_DIR, REPO_ROOT
from host_tools.sim.rv1103.model_twin import DEFAULT_CARD_NAME

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in the rv1103 extra")
camrt = pytest.importorskip("camrt")

CARD = BIRDS_DIR.parent / DEFAULT_CARD_NAME
DEPLOY_CONFIG = REPO_ROOT / "rv1103_app" / "deploy" / "config.json"


@pytest.fixture(scope="module")
def pipeline() -> dict:
    card = json.loads(CARD.read_text())
    assert card["pipeline_birds_val"], "the default model's card reports pipeline figures"
    return card["pipeline_birds_val"]


@pytest.fixture(scope="module")
def sweep():
    spec = importlib.util.spec_from_file_location("sweep_voter", BIRDS_DIR / "sweep_voter.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_deploy_config_ships_a_setting_the_card_scores(pipeline) -> None:
    """The deploy config's vote settings are one the card reports figures for: the sweep's best ("chosen")
    or the setting it was compared with, and the card says which."""
    config = json.loads(DEPLOY_CONFIG.read_text())
    shipped = pipeline[pipeline["deploy_config"]]
    assert config["thresholds"] == shipped["thresholds"]
    assert (config["penalty"], config["k"]) == (shipped["penalty"], shipped["k"])
    assert config["fallback"] == pipeline["grid"]["fallback"]
    best = pipeline["chosen"]
    assert best["mean_balanced_accuracy"] >= np.mean(
        [shipped[k]["balanced_accuracy"] for k in ("square", "wide_three_crop")]) - 1e-9  # the sweep's best


@pytest.fixture(scope="module")
def crop_scores(pipeline, sweep, shared_data) -> dict:
    """Every frame's crop scores, square and wide, through the board's crop planner and preprocessing:
    computed once (a few thousand model runs) for both settings below."""
    sess = ort.InferenceSession(str(BIRDS_DIR / pipeline["model"]), providers=["CPUExecutionProvider"])
    side = int(sess.get_inputs()[0].shape[2])
    images, labels = sweep.load_images(shared_data / "birds" / "val", side)
    wide, wide_truth = sweep.wide_frames(images, labels, seed=0)
    return {"square": (sweep.crop_scores(sess, images, side, 3), labels),
            "wide_three_crop": (sweep.crop_scores(sess, wide, side, 3), wide_truth)}


@pytest.mark.parametrize("setting", ["chosen", "previous_config"])
def test_scored_settings_score_what_the_card_says(pipeline, sweep, crop_scores, setting) -> None:
    scored = pipeline[setting]
    ths = (scored["thresholds"]["bird"], scored["thresholds"]["not_bird"])
    for kind, (scores, truth) in crop_scores.items():
        assert scores.shape[1] == (3 if kind == "wide_three_crop" else 1)  # crops per frame, as on the board
        got = sweep.score(sweep.raw_decisions(scores, ths, scored["penalty"], scored["k"]), truth)
        assert got["frames"] == len(truth) == 1000
        assert got["balanced_accuracy"] == pytest.approx(scored[kind]["balanced_accuracy"], abs=1e-9), kind
        assert got["recall"] == pytest.approx(scored[kind]["recall"], abs=1e-9), kind
