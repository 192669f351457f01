"""rv1103_app with its RKNN engine (cpp_runtime/src/engine_rknn.cpp) over the fake NPU runtime
(tests/support/fake_rknn), which forwards each input tensor to the emulated board's tensor service: ONNX
Runtime on the shipped model's int8 ONNX twin. The board's code path, from rknn_init to the dequantized
output, runs here; its scores must agree with the pipe engine's (the same twin, no RKNN in between) within
the int8 output step the fixture gives, and the version check, --dump-attrs and the fallback must behave.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")

from host_tools.model_manifest import board_manifest_json, load_manifest  # noqa: E402
from host_tools.sim.rv1103 import tensor_server  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "birds" / "birds_mnv3s_rv1103.rknn"
FIXTURE = REPO / "tests" / "support" / "fake_rknn" / "fixtures" / "birds_mnv3s_rv1103.json"
FRAMES = REPO / "rv1103_app" / "sample_frames"


@pytest.fixture(scope="module")
def apps(tmp_path_factory) -> tuple[Path, Path]:
    """(rv1103_app, rv1103_app_fakenpu), built in the native build dir of `make cpp-test` or a private one."""
    if not shutil.which("cmake"):
        pytest.skip("cmake not installed")
    build = REPO / "build" / "cpp-native"
    if not (build / "CMakeCache.txt").is_file():
        build = tmp_path_factory.mktemp("fake_npu_build")
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        subprocess.run(["cmake", "-S", str(REPO), "-B", str(build), *gen, "-DBUILD_TESTING=ON",
                        "-DBUILD_PYTHON_BINDINGS=OFF", "-DCMAKE_BUILD_TYPE=Release"], check=True,
                       capture_output=True)
    targets = ["rv1103_app", "rv1103_app_fakenpu"]
    r = subprocess.run(["cmake", "--build", str(build), "--target", *targets, "-j", "2"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    fake = build / "tests" / "support" / "fake_rknn" / "rv1103_app_fakenpu"
    return build / "rv1103_app" / "rv1103_app", fake


@pytest.fixture(scope="module")
def npu(tmp_path_factory):
    """The emulated board's tensor service (ONNX Runtime), finding the .rknn's twin by content."""
    sock = tmp_path_factory.mktemp("npu") / "npu.sock"
    service = tensor_server.TensorService("onnx", tensor_server.Catalogue(REPO / "models"))
    unix = service.listen(sock)
    yield sock
    unix.close()


def run_app(exe: Path, tmp_path: Path, extra: list[str], env: dict[str, str] | None = None,
            count: int = 6) -> subprocess.CompletedProcess:
    cfg = tmp_path / "config.json"
    cfg.write_text((REPO / "rv1103_app" / "deploy" / "config.json").read_text())
    manifest = tmp_path / "model.json"  # the model's labels, as a deploy puts them beside the model
    manifest.write_bytes(board_manifest_json(load_manifest(MODEL)))
    argv = [str(exe), "--config", str(cfg), "--model", str(MODEL), "--manifest", str(manifest), "--frames",
            str(FRAMES), "--count", str(count), "--fps", "0", "--port", "0", *extra]
    env = {**os.environ, **(env or {})}
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)


def test_the_rknn_engine_over_the_fake_runtime_agrees_with_the_pipe_engine(apps, npu, tmp_path):
    app, fake = apps
    via_rknn = run_app(fake, tmp_path, [], {"FAKE_RKNN_FIXTURE": str(FIXTURE), "FAKE_RKNN_SOCKET": str(npu)})
    assert via_rknn.returncode == 0, via_rknn.stderr
    # The start-up line names the versions and the output attribute the engine used.
    assert "engine rknn" in via_rknn.stderr and "model built by rknn-toolkit2 2.5.0" in via_rknn.stderr
    assert "2 INT8 outputs from NATIVE_NHWC_OUTPUT_ATTR" in via_rknn.stderr
    via_pipe = run_app(app, tmp_path, ["--engine-socket", str(npu)])
    assert via_pipe.returncode == 0, via_pipe.stderr
    a = [json.loads(ln) for ln in via_rknn.stdout.splitlines()]
    b = [json.loads(ln) for ln in via_pipe.stdout.splitlines()]
    assert len(a) == len(b) == 6
    worst = 0.0
    for ra, rb in zip(a, b, strict=True):
        for ca, cb in zip(ra["crops"], rb["crops"], strict=True):
            assert (ca["x"], ca["y"], ca["w"]) == (cb["x"], cb["y"], cb["w"])
            for label in ("bird", "not_bird"):
                worst = max(worst, abs(ca["scores"][label] - cb["scores"][label]))
    # Logits quantized to int8 with scale 0.05 move by at most 0.025 each; after softmax of two classes a
    # probability moves by at most 0.025 / 2 per logit, so 0.0125 + rounding of the printed 4 decimals.
    assert worst <= 0.0126, worst
    assert all(r["dropped"] == 0 for r in a)


def test_dump_attrs_prints_what_the_runtime_reports(apps, npu, tmp_path):
    _, fake = apps
    r = run_app(fake, tmp_path, ["--dump-attrs"], {"FAKE_RKNN_FIXTURE": str(FIXTURE)})
    assert r.returncode == 0, r.stderr
    attrs = json.loads(r.stdout)
    assert attrs["toolkit_version"] == "2.5.0"  # read from the .rknn itself
    assert attrs["native_input"]["dims"] == [1, 64, 64, 3] and attrs["native_input"]["fmt"] == "NHWC"
    assert attrs["native_nhwc_output"]["type"] == "INT8"
    assert set(attrs) >= {"sdk", "in_out_num", "native_input", "native_nhwc_output", "native_output", "input",
                          "output", "npu_proc_version", "source"}


def test_a_runtime_older_than_the_models_toolkit_is_refused_before_any_frame(apps, npu, tmp_path):
    _, fake = apps
    old = json.loads(FIXTURE.read_text())
    old["sdk"] = {"api_version": "1.6.0 (9a7b5d24c@2023-12-13T17:31:11)", "drv_version": "0.9.2"}
    fixture = tmp_path / "old_runtime.json"
    fixture.write_text(json.dumps(old))
    r = run_app(fake, tmp_path, [], {"FAKE_RKNN_FIXTURE": str(fixture), "FAKE_RKNN_SOCKET": str(npu)})
    assert r.returncode == 1 and r.stdout == ""
    err = r.stderr.strip().splitlines()[-1]
    assert "built by rknn-toolkit2 2.5.0, newer than this board's RKNN runtime (librknnmrt 1.6.0" in err
    assert "install librknnmrt.so 2.5.0 or newer" in err and "Traceback" not in r.stderr


def test_the_nhwc_output_query_refused_falls_back_to_the_native_layout(apps, npu, tmp_path):
    _, fake = apps
    fx = json.loads(FIXTURE.read_text())
    fx["native_nhwc_output"] = {"error": -5}
    fixture = tmp_path / "no_nhwc.json"
    fixture.write_text(json.dumps(fx))
    env = {"FAKE_RKNN_FIXTURE": str(fixture), "FAKE_RKNN_SOCKET": str(npu)}
    r = run_app(fake, tmp_path, [], env, count=2)
    assert r.returncode == 0, r.stderr
    assert "from NATIVE_OUTPUT_ATTR (NATIVE_NHWC_OUTPUT_ATTR: RKNN_ERR_PARAM_INVALID)" in r.stderr
    assert len(r.stdout.splitlines()) == 2
