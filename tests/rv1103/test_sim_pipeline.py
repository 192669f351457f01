"""host_tools sim rv1103: JSON lines, the crop paths and argument errors, through the real camrt pipeline.

The model is a small real ONNX graph built here (mean colour -> 2 logits), run by ONNX Runtime, so the
expected scores follow from arithmetic on the frame colours, not from the code under test.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("camrt", reason="the camrt extension is not built (pip install -e . builds it)")
onnx = pytest.importorskip("onnx")

from host_tools.cli import main  # noqa: E402

RED, GREY, BLUE = (255, 0, 0), (128, 128, 128), (0, 0, 255)


def save(folder: Path, name: str, img: np.ndarray) -> None:
    from PIL import Image

    folder.mkdir(exist_ok=True)
    Image.fromarray(img).save(folder / name)


def softmax2(a: float, b: float) -> float:
    return 1.0 / (1.0 + math.exp(b - a))


@pytest.fixture()
def setup(tmp_path: Path, colour_model, helpers):
    bands = helpers.bands
    card = {"colour_order": "RGB", "mean": [0, 0, 0], "std": 255.0}
    model = colour_model(tmp_path / "colour.onnx", card=card)
    frames = tmp_path / "frames"
    save(frames, "a_wide.png", bands(192, 64, [RED, GREY, BLUE]))
    save(frames, "b_tall.png", bands(64, 192, [BLUE, GREY, RED]))
    save(frames, "c_square.png", bands(64, 64, [RED]))
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"labels": ["red", "blue"], "k": 1, "penalty": 0.0, "max_fps": 0}))
    return model, frames, cfg


def base(frames: Path, cfg: Path, model: Path) -> list[str]:
    return ["--frames", str(frames), "--config", str(cfg), "--model", str(model)]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["sim", "rv1103", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_json_lines_follow_the_contract(setup, capsys):
    model, frames, cfg = setup
    rc, out, err = run_cli(capsys, *base(frames, cfg, model), "--json")
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 3
    recs = [json.loads(ln) for ln in lines]  # stdout holds nothing but JSON lines
    assert "EMULATED RV1103" in err
    sizes = [(192, 64), (64, 192), (64, 64)]
    for i, (rec, (fw, fh)) in enumerate(zip(recs, sizes, strict=True)):
        assert list(rec) == ["schema", "board", "frame", "label", "score", "scores", "raw", "ms", "fps",
                             "dropped", "vote", "crops", "run"]
        assert rec["frame"] == i + 1  # frames count from 1 on both boards
        assert rec["fps"] > 0
        assert list(rec["ms"]) == ["capture", "preprocess", "inference", "postprocess", "total"]
        assert rec["ms"]["total"] >= rec["ms"]["inference"] > 0
        for c in rec["crops"]:
            assert c["w"] == c["h"] == min(fw, fh)  # square crops of the short side
            assert 0 <= c["x"] and c["x"] + c["w"] <= fw and 0 <= c["y"] and c["y"] + c["h"] <= fh
            assert c["x"] % 4 == 0 and c["y"] % 4 == 0
            assert list(c["scores"]) == ["red", "blue"]
            assert sum(c["scores"].values()) == pytest.approx(1.0, abs=2e-4)
    # Wide and tall frames take the three-crop path, the square one a single crop.
    assert [len(r["crops"]) for r in recs] == [3, 3, 1]
    assert [c["x"] for c in recs[0]["crops"]] == [0, 64, 128]
    assert [c["y"] for c in recs[1]["crops"]] == [0, 64, 128]


def test_scores_follow_the_card_normalisation(setup, capsys):
    model, frames, cfg = setup
    rc, out, _ = run_cli(capsys, *base(frames, cfg, model), "--json")
    assert rc == 0
    wide, tall, square = (json.loads(ln) for ln in out.splitlines())
    # Card: x / 255, so a pure red crop gives logits (1, -1), grey (0, 0), blue (-1, 1).
    p_red = softmax2(1.0, -1.0)
    left, mid, right = (c["scores"]["red"] for c in wide["crops"])
    assert left == pytest.approx(p_red, abs=2e-3)
    assert mid == pytest.approx(0.5, abs=2e-3)
    assert right == pytest.approx(1 - p_red, abs=2e-3)
    assert [c["vote"] for c in wide["crops"]] == ["red", "red", "blue"]  # grey ties go to the lower index
    assert [c["vote"] for c in tall["crops"]] == ["blue", "red", "red"]
    assert square["label"] == "red" and square["score"] == pytest.approx(p_red, abs=2e-3)


def test_readable_output_has_a_banner_and_a_line_per_frame(setup, capsys):
    model, frames, cfg = setup
    rc, out, _ = run_cli(capsys, "--frames", str(frames), "--config", str(cfg), "--model", str(model),
                         "--count", "2")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].startswith("EMULATED RV1103") and "not from a board" in lines[0]
    assert len(lines) == 3
    assert "a_wide.png" in lines[1] and "crops red/red/blue" in lines[1]  # the three crops' votes
    assert "b_tall.png" in lines[2]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--count", "0"], "--count must be at least 1"),
        (["--tcp-port", "70000"], "--tcp-port must be in 0..65535"),
        (["--tcp-port", "0", "--bind", "not-an-ip"], "--bind not-an-ip: not an IP address"),
        (["--calib", "x"], "--calib is only used with --engine rknn-sim"),
    ],
)
def test_bad_arguments_are_usage_errors(setup, capsys, extra, message):
    model, frames, cfg = setup
    rc, _, err = run_cli(capsys, "--frames", str(frames), "--config", str(cfg), "--model", str(model), *extra)
    assert rc == 2
    assert message in err


def test_bad_inputs_are_usage_errors(setup, tmp_path, capsys):
    model, frames, cfg = setup
    rc, _, err = run_cli(capsys, *base(tmp_path / "nope", cfg, model))
    assert rc == 2 and "no such file or folder" in err
    rknn = tmp_path / "m.rknn"
    rknn.write_bytes(b"x")
    rc, _, err = run_cli(capsys, "--frames", str(frames), "--config", str(cfg), "--model", str(rknn))
    assert rc == 2 and "must be an ONNX file" in err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"labels": ["red", "blue", "green"]}))
    rc, _, err = run_cli(capsys, "--frames", str(frames), "--config", str(bad), "--model", str(model))
    assert rc == 2 and "[red, blue, green] contradict the model manifest's [red, blue]" in err
    # a model without a manifest: the board program counts the config's labels against the outputs
    bare = tmp_path / "bare" / "colour.onnx"
    bare.parent.mkdir()
    shutil.copy(model, bare)
    rc, _, err = run_cli(capsys, "--frames", str(frames), "--config", str(bad), "--model", str(bare))
    assert rc == 2 and "3 labels" in err and "2 outputs" in err
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps({"labels": ["blue", "red"]}))
    rc, _, err = run_cli(capsys, "--frames", str(frames), "--config", str(swapped), "--model", str(model))
    # a config that contradicts the model's manifest is refused, naming both values
    assert rc == 2 and "'labels' [blue, red] contradict the model manifest's [red, blue]" in err
    bgr = tmp_path / "bgr.json"
    bgr.write_text(json.dumps({"labels": ["red", "blue"], "color_order": "BGR"}))
    rc, _, err = run_cli(capsys, "--frames", str(frames), "--config", str(bgr), "--model", str(model))
    assert rc == 2 and "'color_order' BGR contradicts the model manifest's colour order RGB" in err


def test_a_config_without_labels_runs_on_the_manifest(setup, tmp_path, capsys):
    model, frames, _ = setup
    cfg = tmp_path / "tuned.json"  # what a technician tunes, nothing of the model's
    cfg.write_text(json.dumps({"k": 1, "penalty": 0.0, "max_fps": 0, "thresholds": {"blue": 0.4}}))
    rc, out, err = run_cli(capsys, *base(frames, cfg, model), "--json")
    assert rc == 0, err
    lines = [json.loads(x) for x in out.splitlines()]
    recs = [ln for ln in lines if "crops" in ln]
    assert len(recs) == 3 and all(list(r["scores"]) == ["red", "blue"] for r in recs)


def test_small_frames_are_skipped_with_a_reason(setup, tmp_path, capsys, helpers):
    model, _, cfg = setup
    bands = helpers.bands
    frames = tmp_path / "small"
    save(frames, "a.png", bands(20, 16, [RED]))
    save(frames, "b.png", bands(64, 64, [BLUE]))
    rc, out, err = run_cli(capsys, *base(frames, cfg, model), "--json")
    assert rc == 0
    recs = [json.loads(ln) for ln in out.splitlines()]
    assert [r["frame"] for r in recs] == [2]  # frame 1 was too small and is skipped, numbers keep counting
    assert "frame 1 (a.png) skipped" in err and "smaller than the model input" in err
