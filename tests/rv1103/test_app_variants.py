"""The same rv1103_app built for ARMv7 (run under qemu-arm-static) and with ASan/UBSan gives the native
build's lines. Uses the builds `make cpp-test` leaves in build/cpp-armv7 and build/cpp-asan; skips where
a build is absent. Frames come from a .y4m video and a single image (no directory listing: qemu-user's
32-bit readdir fails on 64-bit directory offsets of some host file systems)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

REPO = Path(__file__).resolve().parents[2]
SERVER = REPO / "host_tools" / "sim" / "rv1103" / "tensor_server.py"
VARIANTS = {
    "native": (["build/cpp-native", "build/native"], []),
    "asan": (["build/cpp-asan"], []),
    "armv7": (["build/cpp-armv7"], ["qemu-arm-static", "-cpu", "cortex-a7"]),
}


def find_exe(variant: str) -> list[str] | None:
    dirs, prefix = VARIANTS[variant]
    if prefix and not shutil.which(prefix[0]):
        return None
    for d in dirs:
        exe = REPO / d / "rv1103_app" / "rv1103_app"
        if exe.is_file():
            return [*prefix, str(exe)]
    return None


@pytest.fixture(scope="module")
def scene(tmp_path_factory, colour_model):
    cv2 = pytest.importorskip("cv2")
    tmp = tmp_path_factory.mktemp("variants")
    model = colour_model(tmp / "colour.onnx", weight_scale=1 / 255, labels=False)
    rng = np.random.default_rng(7)
    frames = []
    for _ in range(3):  # smooth random colour fields, so bilinear/YUV rounding differences would show
        small = rng.integers(0, 256, (4, 12, 3), np.uint8)
        frames.append(cv2.resize(small, (192, 64), interpolation=cv2.INTER_LINEAR))
    y4m = tmp / "clip.y4m"
    with open(y4m, "wb") as f:
        f.write(b"YUV4MPEG2 W192 H64 F10:1 Ip A1:1 C420jpeg\n")
        for fr in frames:
            f.write(b"FRAME\n" + cv2.cvtColor(fr, cv2.COLOR_RGB2YUV_I420).tobytes())
    tall = np.ascontiguousarray(np.transpose(frames[0], (1, 0, 2)))
    ppm = tmp / "tall.ppm"
    ppm.write_bytes(b"P6\n64 192\n255\n" + tall.tobytes())
    cfg = tmp / "config.json"
    cfg.write_text(json.dumps({"labels": ["red", "blue"], "k": 1, "output_port": 0}))
    cmd = shlex.join([sys.executable, str(SERVER), "--runtime", "onnx", "--model", str(model)])
    return {"config": cfg, "sources": [y4m, ppm], "engine_cmd": cmd}


def run(exe: list[str], scene) -> list[dict]:
    recs = []
    for src in scene["sources"]:
        r = subprocess.run([*exe, "--config", str(scene["config"]), "--frames", str(src), "--engine-cmd",
                            scene["engine_cmd"], "--pipe-w-stride-pad", "4"],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-4000:]
        recs += [{k: v for k, v in json.loads(ln).items() if k not in ("ms", "fps", "run")}
                 for ln in r.stdout.splitlines()]
    return recs


@pytest.mark.parametrize("variant", ["asan", "armv7"])
def test_variant_matches_native(variant, scene):
    native = find_exe("native")
    other = find_exe(variant)
    if native is None or other is None:
        pytest.skip(f"no {variant if other is None else 'native'} build of rv1103_app (from make cpp-test)")
    expected = run(native, scene)
    assert len(expected) == 4 and [len(r["crops"]) for r in expected] == [3, 3, 3, 3]
    assert run(other, scene) == expected
