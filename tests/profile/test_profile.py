"""host_tools profile and check, without a device: MAC counts against figures counted elsewhere (the model
cards, made by the recipes' own counters, and the fixture models' README), fit and op checks, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.profile.h7_ops import unsupported
from host_tools.profile.report import profile
from host_tools.profile.rknn_npu import npu_findings

REPO = Path(__file__).resolve().parents[2]
MASKS = REPO / "models" / "masks" / "masks_int8.tflite"
BIRDS = REPO / "models" / "birds"
FIXTURES = REPO / "tests" / "fixtures" / "models"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "host_tools", *args], capture_output=True, text=True, timeout=300, cwd=REPO
    )


def test_masks_macs_and_params_match_the_model_card():
    card = json.loads(MASKS.with_suffix(".json").read_text())
    p = profile(MASKS, "h7")
    assert p.graph.macs == card["macs"]
    assert p.graph.params == card["parameters"]
    assert p.graph.op_counts() == card["ops"]
    assert sum(x.macs for x in p.graph.layers) == p.graph.macs and len(p.graph.layers) == sum(
        card["ops"].values()
    )


@pytest.mark.parametrize("name", ["birds_lite0", "birds_resnet9", "birds_mnv3s"])
def test_rknn_profiles_its_onnx_twin_and_matches_the_card(name):
    card = json.loads((BIRDS / f"{name}.json").read_text())
    rknn = BIRDS / f"{name}_rv1103.rknn"
    if not rknn.is_file():
        pytest.skip(f"{rknn} not present")
    p = profile(rknn, "rv1103")
    assert p.graph.macs == card["macs"]
    assert abs(p.graph.params - card["params"]) <= card["params"] * 1e-4  # the card also counts 2 scalars
    assert "ONNX twin" in p.graph_source
    assert p.rknn["file_bytes"] == rknn.stat().st_size and "uint8" in p.rknn["input"]
    # the NPU's documented ops and its 7x7 GlobalAveragePool limit: birds_lite0 (the default) and
    # birds_resnet9 keep to them; birds_mnv3s's squeeze-excite blocks pool 32x32 and 8x8 maps (its README
    # section says so)
    findings = npu_findings(p.graph)
    if name == "birds_mnv3s":
        assert findings and all("GlobalAveragePool on a" in f for f in findings), findings
    else:
        assert findings == [], findings


def test_npu_findings_name_an_oversized_global_pool_and_an_op_outside_the_npu(tmp_path):
    """The check the bird models pass above can fail: GlobalAveragePool on 8x8 and a TopK are named."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from host_tools.profile.graph_onnx import read_onnx

    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["g"]), helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("TopK", ["f", "k"], ["v", "i"], axis=1)]
    k = helper.make_tensor("k", TensorProto.INT64, [1], [1])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    v = helper.make_tensor_value_info("v", TensorProto.FLOAT, [1, 1])
    graph = helper.make_graph(nodes, "g", [x], [v], [k])
    path = tmp_path / "big_pool.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    notes = npu_findings(read_onnx(path))
    assert any("TopK" in n for n in notes) and any("8x8" in n for n in notes), notes


@pytest.mark.parametrize("fixture,macs", [("arena_hog.tflite", 11059248), ("big_file.tflite", 274552)])
def test_fixture_macs_match_their_readme(fixture, macs):
    assert profile(FIXTURES / fixture, "h7plus").graph.macs == macs


def test_h7_fit_and_estimate_in_the_json():
    r = cli("profile", str(MASKS), "--board", "h7", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    fit = out["h7_fit"]["5.0.0"]
    assert fit["fits"] and fit["file_plus_arena"] == fit["model_bytes"] + fit["arena_bytes"]
    assert fit["model_bytes"] == MASKS.stat().st_size and fit["arena_bytes"] > 100_000
    est = out["estimate"]
    assert est["label"] == "ESTIMATE" and est["inference_ms"] > 0
    assert len(est["calibration"]) >= 3 and est["mean_abs_error_pct"] is not None
    assert all(
        abs(c["model_ms"] - c["published_ms"]) / c["published_ms"] * 100
        == pytest.approx(abs(c["error_pct"]), abs=0.2)
        for c in est["calibration"]
    )
    assert sum(layer["macs"] for layer in out["layers"]) == out["totals"]["macs"]


def test_profile_text_labels_the_estimate_and_refuses_a_misfit():
    r = cli("profile", str(MASKS), "--board", "h7", "--no-layers")
    assert r.returncode == 0 and "ESTIMATED h7 inference" in r.stdout and "not a measurement" in r.stdout
    r = cli("profile", str(FIXTURES / "arena_hog.tflite"), "--board", "h7", "--no-layers")
    assert r.returncode == 4 and "DOES NOT FIT" in r.stdout and "PROBLEM" in r.stdout, r.stdout
    r = cli("profile", str(MASKS), "--board", "rv1103")
    assert r.returncode == 2 and "Traceback" not in r.stderr and ".tflite" in r.stderr


def test_op_list_flags_what_the_firmware_lacks():
    assert unsupported(
        [
            "CONV_2D",
            "SOFTMAX",
            "CUSTOM:TFLite_Detection_PostProcess",
            "RANDOM_UNIFORM",
            "CONV_2D",
            "CUSTOM:SignalRfft",
        ]
    ) == ["CUSTOM:TFLite_Detection_PostProcess", "RANDOM_UNIFORM"]


def test_check_exit_codes_and_every_problem(tmp_path):
    r = cli("check", "--board", "h7", "--model", str(MASKS))
    assert r.returncode == 0, r.stdout + r.stderr
    bad = tmp_path / "config.json"
    bad.write_text('{"threshold": 7, "framesize": "HUGE"}')
    model = tmp_path / "hog.tflite"
    model.write_bytes((FIXTURES / "arena_hog.tflite").read_bytes())
    model.with_suffix(".txt").write_text("a\nb\n")  # 2 labels for 3 outputs
    r = cli("check", "--board", "h7", "--model", str(model), "--config", str(bad), "--json")
    assert r.returncode == 4, r.stdout + r.stderr
    problems = json.loads(r.stdout)["problems"]
    text = "\n".join(problems)
    assert "labels" in text and "threshold" in text and "does not fit" in text, (
        text
    )  # all three, not the first
    r = cli(
        "check",
        "--board",
        "rv1103",
        "--model",
        str(BIRDS / "birds_resnet9_rv1103.rknn"),
        "--config",
        str(REPO / "openmv_app" / "config.json"),
    )
    assert r.returncode == 4 and "board program" in r.stdout
    # the deploy config names no labels (the model's manifest does); one that contradicts it is a problem
    resnet = str(BIRDS / "birds_resnet9_rv1103.rknn")
    r = cli("check", "--board", "rv1103", "--model", resnet)
    assert r.returncode == 0, r.stdout + r.stderr
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps({"labels": ["not_bird", "bird"]}))
    r = cli("check", "--board", "rv1103", "--model", resnet, "--config", str(swapped))
    assert r.returncode == 4, r.stdout
    assert "'labels' [not_bird, bird] contradict the model manifest's [bird, not_bird]" in r.stdout
    r = cli("check", "--board", "h7")
    assert r.returncode == 2 and "Traceback" not in r.stderr
