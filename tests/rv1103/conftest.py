"""Fixtures for the camrt binding tests: plain-numpy references, real bird frames, a real ONNX model."""

from __future__ import annotations

import math
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

BIRDS_SIDE = 128  # each 32x32 CIFAR image is upscaled to this before composing a wide frame


# ---------- plain-numpy references, written from the documented rules (not from the C++ code) ----------

def ref_plan(frame_w: int, frame_h: int, n: int, model_w: int, model_h: int) -> list[tuple[int, ...]]:
    """planner.hpp's rule: square crops along the long side, 4-aligned, coinciding ones merged."""
    landscape = frame_w >= frame_h
    long_side, short_side = (frame_w, frame_h) if landscape else (frame_h, frame_w)
    side = short_side - short_side % 4
    if side < max(model_w, model_h):
        side = short_side
    cross = ((short_side - side) // 2) // 4 * 4
    span = long_side - side
    if n == 1:
        offsets = [span // 2 // 4 * 4]
    else:
        offsets = [math.floor(i * span / (n - 1) + 0.5) // 4 * 4 for i in range(n)]
        if offsets[0] == offsets[-1]:
            offsets = [span // 2 // 4 * 4]
        offsets = [o for k, o in enumerate(offsets) if k == 0 or o != offsets[k - 1]]
    return [(o, cross, side, side) if landscape else (cross, o, side, side) for o in offsets]


def _axis(src: int, dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.maximum((np.arange(dst) + 0.5) * src / dst - 0.5, 0.0)
    i0 = np.floor(s).astype(int)
    f = s - i0
    last = i0 >= src - 1
    i0[last] = src - 1
    f[last] = 0.0
    return i0, np.minimum(i0 + 1, src - 1), f


def ref_resize(img: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    """Bilinear resize with half-pixel centres in float64 (frames.hpp's sampling); returns float64."""
    img = img.astype(np.float64)
    y0, y1, fy = _axis(img.shape[0], out_h)
    x0, x1, fx = _axis(img.shape[1], out_w)
    rows = img[y0] * (1 - fy)[:, None, None] + img[y1] * fy[:, None, None]
    return rows[:, x0] * (1 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None]


def ref_preprocess(rgb: np.ndarray, rect: tuple[int, int, int, int], out_w: int, out_h: int) -> np.ndarray:
    x, y, w, h = rect
    return np.clip(np.rint(ref_resize(rgb[y:y + h, x:x + w], out_w, out_h)), 0, 255).astype(np.uint8)


def rgb_to_nv12(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range NV12 (chroma = mean of each 2x2 block) as a (h*3/2, w) array."""
    f = rgb.astype(np.float64)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + 0.256788 * r + 0.504129 * g + 0.097906 * b
    u = 128 - 0.148223 * r - 0.290993 * g + 0.439216 * b
    v = 128 + 0.439216 * r - 0.367788 * g - 0.071427 * b
    h, w = y.shape
    blocks = lambda p: p.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))  # noqa: E731
    uv = np.stack([blocks(u), blocks(v)], axis=-1).reshape(h // 2, w)
    return np.clip(np.rint(np.vstack([y, uv])), 0, 255).astype(np.uint8)


def nv12_to_rgb(nv12: np.ndarray) -> np.ndarray:
    """Decode NV12 (BT.601 limited range, each pixel with its 2x2 block's chroma) to float64 RGB."""
    h = nv12.shape[0] * 2 // 3
    y = nv12[:h].astype(np.float64)
    uv = nv12[h:].astype(np.float64).reshape(h // 2, -1, 2)
    u = np.repeat(np.repeat(uv[..., 0], 2, axis=0), 2, axis=1) - 128
    v = np.repeat(np.repeat(uv[..., 1], 2, axis=0), 2, axis=1) - 128
    yy = 1.164383 * (y - 16)
    return np.stack([yy + 1.596027 * v, yy - 0.391762 * u - 0.812968 * v, yy + 2.017232 * u], axis=-1)


def ref_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def ref_vote(p: np.ndarray, thresholds: list[float], penalty: float, k: int,
             fallback: int = -1) -> tuple[int, float]:
    """voter.hpp's rule for one frame without hysteresis: (decision, score)."""
    n, n_classes = p.shape
    votes = [int(np.argmax(row)) if row[np.argmax(row)] >= thresholds[np.argmax(row)] else -1 for row in p]
    mean = p.mean(axis=0)
    counts = [votes.count(c) for c in range(n_classes)]
    cands = [c for c in range(n_classes) if counts[c] > 0]
    if cands:
        cand = max(cands, key=lambda c: (counts[c], mean[c], -c))
        score = mean[cand] - penalty * (n - counts[cand])
        if counts[cand] >= min(k, n) and score >= thresholds[cand]:
            return cand, float(score)
    return fallback, float(mean[fallback]) if fallback >= 0 else 0.0


@pytest.fixture(scope="session")
def ref() -> SimpleNamespace:
    """The plain-numpy references above, for the test modules (conftest is not importable with importlib)."""
    return SimpleNamespace(plan=ref_plan, resize=ref_resize, preprocess=ref_preprocess,
                           rgb_to_nv12=rgb_to_nv12, nv12_to_rgb=nv12_to_rgb, softmax=ref_softmax,
                           vote=ref_vote)


# ---------- real frames and a real model ----------

@pytest.fixture(scope="session")
def bird_wide_frames(shared_data: Path) -> list[np.ndarray]:
    """Wide (and one tall) RGB frames composed from real birds/val images side by side, odd sizes included."""
    val = shared_data / "birds" / "val"
    birds = sorted((val / "bird").glob("*.jpg"))[:6]
    others = sorted((val / "not_bird").glob("*.jpg"))[:6]
    if len(birds) < 6 or len(others) < 6:
        pytest.skip(f"not enough images under {val}")

    def tile(path: Path) -> np.ndarray:
        im = Image.open(path).convert("RGB").resize((BIRDS_SIDE, BIRDS_SIDE), Image.BICUBIC)
        return np.asarray(im)

    frames = []
    for i in range(3):
        frames.append(np.hstack([tile(birds[2 * i]), tile(others[i]), tile(birds[2 * i + 1])]))
    frames.append(np.hstack([tile(others[3]), tile(others[4]), tile(birds[0]), tile(others[5])])[:127, :509])
    frames.append(np.vstack([tile(birds[3]), tile(others[0]), tile(birds[4])])[:, :126])  # portrait
    return [np.ascontiguousarray(f) for f in frames]


def make_tiny_cnn(path: Path, height: int, width: int, n_classes: int = 2, seed: int = 7) -> Path:
    """A small real CNN as ONNX (uint8 NHWC in -> logits): cast, /255, conv 3x3 s2, relu, GAP, gemm."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, 0.6, (8, 3, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, (8,)).astype(np.float32)
    w2 = rng.normal(0, 2.0, (8, n_classes)).astype(np.float32)
    b2 = np.zeros((n_classes,), np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"), (np.array(1 / 255, np.float32), "inv255"))]
    nodes = [
        helper.make_node("Cast", ["input"], ["xf"], to=TensorProto.FLOAT),
        helper.make_node("Transpose", ["xf"], ["xt"], perm=[0, 3, 1, 2]),
        helper.make_node("Mul", ["xt", "inv255"], ["xs"]),
        helper.make_node("Conv", ["xs", "w1", "b1"], ["c"], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("input", TensorProto.UINT8, [1, height, width, 3])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, n_classes])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory) -> Callable[[int, int], Callable[[np.ndarray], np.ndarray]]:
    """tiny_onnx(height, width) -> run(uint8 HxWx3) -> logits, an ONNX Runtime session on a tiny real CNN."""
    import onnxruntime as ort

    cache: dict[tuple[int, int], Callable[[np.ndarray], np.ndarray]] = {}

    def get(height: int, width: int) -> Callable[[np.ndarray], np.ndarray]:
        if (height, width) not in cache:
            path = make_tiny_cnn(tmp_path_factory.mktemp("onnx") / "tiny.onnx", height, width)
            sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

            def run(x: np.ndarray) -> np.ndarray:
                return sess.run(None, {"input": np.ascontiguousarray(x)[None]})[0][0]

            cache[(height, width)] = run
        return cache[(height, width)]

    return get


def make_colour_model(path: Path, size: int = 32, weight_scale: float = 1.0, labels: bool = True,
                      card: dict | None = None) -> Path:
    """A real ONNX graph with predictable outputs: logits = [R - B, B - R] * weight_scale of the mean colour.

    `labels` writes the sibling red/blue labels file; `card` the sibling model card (normalisation).
    """
    import json

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.array([[1, 0, -1], [-1, 0, 1]], np.float32) * np.float32(weight_scale)
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "W", "b"], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "colour", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(np.zeros(2, np.float32), "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    if card is not None:  # a manifest (host_tools/model_manifest.py): labels, and `card` as its input block
        path.with_suffix(".json").write_text(json.dumps({"labels": ["red", "blue"], "input": card}))
    elif labels:  # a model without a card: its labels file
        path.with_suffix(".txt").write_text("red\nblue\n")
    return path


@pytest.fixture(scope="session")
def colour_model() -> Callable[..., Path]:
    return make_colour_model


# ---------- helpers for the frame-making and process-driving tests ----------

def bands(w: int, h: int, colours) -> np.ndarray:
    """Frame split into equal bands along its long side."""
    img = np.zeros((h, w, 3), np.uint8)
    n = len(colours)
    for i, c in enumerate(colours):
        if w >= h:
            img[:, i * w // n:(i + 1) * w // n] = c
        else:
            img[i * h // n:(i + 1) * h // n, :] = c
    return img


class Background:
    """A program (the board app or its emulated twin) in the background; its stdout and stderr lines are
    collected as they come."""

    def __init__(self, argv: list[str], cwd: Path | None = None) -> None:
        # errors="replace": a byte that is not UTF-8 (a Latin-1 file name in a log) must not stop the pump
        self.proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     errors="replace")
        self.out: list[str] = []
        self.err: list[str] = []
        self._pumps = [threading.Thread(target=self._pump, args=pair, daemon=True)
                       for pair in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self._pumps:
            t.start()

    @staticmethod
    def _pump(stream, sink: list[str]) -> None:
        for line in stream:
            sink.append(line.rstrip("\n"))

    def wait_for(self, pred, what: str, timeout: float = 40.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            got = pred()
            if got:
                return got
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the pumps catch the last lines
                got = pred()
                if got:
                    return got
                pytest.fail(f"process exited ({self.proc.returncode}) before {what}:\n" + "\n".join(self.err))
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}; stderr:\n" + "\n".join(self.err))

    def port(self) -> int:
        """The TCP port from the 'listening on 127.0.0.1:PORT' line that both programs log."""
        def find():
            for ln in self.err:
                if "listening on 127.0.0.1:" in ln:
                    return int(ln.split("127.0.0.1:")[1].split()[0])
            return None

        return self.wait_for(find, "the listening line")

    def finish(self, timeout: float = 20.0) -> int:
        rc = self.proc.wait(timeout=timeout)
        for t in self._pumps:
            t.join(5)
        return rc

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        return self.finish()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def helpers() -> SimpleNamespace:
    """bands() and Background, for test modules (conftest is not importable under --import-mode=importlib)."""
    return SimpleNamespace(bands=bands, Background=Background)
