"""Serve a classifier over pipes: uint8 NHWC tensors in on stdin, float32 scores out on stdout.

The emulated RV1103 needs a real inference runtime behind the C++ pipeline. Two runtimes live here:
  onnx       ONNX Runtime on the model's ONNX twin (float or int8 QDQ), with the model card's normalisation
             done on the CPU, as the NPU would do it with its fused mean/std.
  rknn-sim   the RKNN toolkit's x86 simulator. It can only run a model built from ONNX in the same session,
             so the .rknn is built (int8, rv1103 target) here at start-up; the toolkit lives in its own venv,
             which is why this file runs as a script and imports nothing from host_tools.

Wire protocol (used by the host-built rv1103_app's `--engine pipe` and by host_tools sim rv1103):
  1. the server writes ONE JSON line: {"ready": true, "h", "w", "c", "classes", "runtime", "note"}
     or {"ready": false, "error": "..."} and exits 1;
  2. then, per request, the client writes exactly h*w*c bytes (uint8, NHWC, no row padding) and the
     server answers `classes` little-endian float32 scores (dequantised model outputs, no softmax);
  3. EOF on stdin ends the server with exit code 0.
Everything else (toolkit chatter included) goes to stderr, so stdout stays a clean channel.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Preproc:
    """How the uint8 NHWC tensor the pipeline wrote becomes the model's float input."""

    mean: tuple[float, float, float]  # on the 0..255 scale, in the tensor's channel order
    std: tuple[float, float, float]


@dataclass
class Served:
    h: int
    w: int
    c: int
    classes: int
    runtime: str
    note: str
    infer: Callable[[np.ndarray], np.ndarray]  # uint8 HxWxC -> float32 scores


def _floats3(text: str, what: str) -> tuple[float, float, float]:
    parts = [p for p in text.split(",") if p.strip()]
    if len(parts) != 3:
        raise ValueError(f"{what} needs three comma-separated numbers, got {text!r}")
    return (float(parts[0]), float(parts[1]), float(parts[2]))


def open_onnx(model: Path, pre: Preproc, threads: int = 1) -> Served:
    """ONNX Runtime on the ONNX twin; the input may be NCHW or NHWC float (or uint8 for a fused model)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = list(inp.shape)
    if len(shape) != 4:
        raise ValueError(f"{model.name}: input {inp.name} has shape {shape}, expected 4-D NCHW or NHWC")
    nchw = shape[1] in (1, 3)
    h, w, c = (shape[2], shape[3], shape[1]) if nchw else (shape[1], shape[2], shape[3])
    if not all(isinstance(v, int) and v > 0 for v in (h, w, c)):
        raise ValueError(f"{model.name}: input shape {shape} must have fixed H, W, C")
    out = sess.get_outputs()[0]
    n_cls = int(np.prod([d for d in out.shape if isinstance(d, int)]))
    is_float = "float" in inp.type
    mean = np.asarray(pre.mean[:c], np.float32)
    inv_std = 1.0 / np.asarray(pre.std[:c], np.float32)

    def infer(x: np.ndarray) -> np.ndarray:
        if is_float:
            t = (x.astype(np.float32) - mean) * inv_std
        else:
            t = x
        t = np.transpose(t, (2, 0, 1)) if nchw else t
        y = sess.run([out.name], {inp.name: t[None]})[0]
        return np.asarray(y, np.float32).reshape(-1)

    runtime = f"onnxruntime {ort.__version__}"
    return Served(h, w, c, n_cls, runtime, f"ONNX Runtime CPU on {model.name}", infer)


def open_rknn_sim(model: Path, pre: Preproc, calib: list[Path], h: int, w: int) -> Served:
    """Build an int8 rv1103 .rknn from the ONNX model now and run it on the toolkit's x86 simulator."""
    from rknn.api import RKNN  # only inside the optional .venv-rknn

    if not 1 <= len(calib) <= 200:
        raise ValueError(f"rknn-sim needs 1..200 calibration tensors, got {len(calib)}")
    rk = RKNN(verbose=False)
    rk.config(
        mean_values=[list(pre.mean)],
        std_values=[list(pre.std)],
        target_platform="rv1103",
        quantized_algorithm="mmse",
    )
    if rk.load_onnx(model=str(model)) != 0:
        raise RuntimeError(f"rknn load_onnx failed for {model}")
    with tempfile.TemporaryDirectory(prefix="rknn-sim-") as tmp:
        # Calibration as .npy tensors already in the model's colour order: no decoder guesses the order.
        lines = []
        for i, p in enumerate(calib):
            arr = np.load(p) if p.suffix == ".npy" else None
            if arr is None or arr.shape != (h, w, 3) or arr.dtype != np.uint8:
                raise ValueError(f"calibration tensor {p} must be a uint8 {h}x{w}x3 .npy")
            dst = Path(tmp) / f"c{i:03d}.npy"
            # The toolkit wants calibration arrays in the ONNX model's own layout: 1x3xHxW, raw 0..255.
            np.save(dst, np.ascontiguousarray(arr.transpose(2, 0, 1)[None]).astype(np.float32))
            lines.append(str(dst))
        listing = Path(tmp) / "dataset.txt"
        listing.write_text("\n".join(lines) + "\n")
        if rk.build(do_quantization=True, dataset=str(listing)) != 0:
            raise RuntimeError("rknn build (int8, mmse, rv1103) failed")
    if rk.init_runtime() != 0:
        raise RuntimeError("rknn init_runtime (x86 simulator) failed")
    probe = rk.inference(inputs=[np.zeros((1, h, w, 3), np.uint8)], data_format="nhwc")
    n_cls = int(np.asarray(probe[0]).size)

    def infer(x: np.ndarray) -> np.ndarray:
        y = rk.inference(inputs=[x[None]], data_format="nhwc")[0]
        return np.asarray(y, np.float32).reshape(-1)

    from importlib.metadata import PackageNotFoundError, version

    try:
        rk_version = version("rknn-toolkit2")
    except PackageNotFoundError:
        rk_version = "?"
    note = f"RKNN toolkit {rk_version} x86 simulator, int8 rv1103 model built from {model.name} at start-up"
    return Served(h, w, 3, n_cls, f"rknn-toolkit2 {rk_version} simulator", note, infer)


def _read_exact(stream, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            if buf:
                raise EOFError(f"request cut short: {len(buf)} of {n} bytes")
            return None
        buf += chunk
    return bytes(buf)


def serve(served: Served, rx, tx) -> int:
    hello = {
        "ready": True,
        "h": served.h,
        "w": served.w,
        "c": served.c,
        "classes": served.classes,
        "runtime": served.runtime,
        "note": served.note,
    }
    tx.write((json.dumps(hello) + "\n").encode())
    tx.flush()
    n = served.h * served.w * served.c
    while True:
        data = _read_exact(rx, n)
        if data is None:
            return 0
        x = np.frombuffer(data, np.uint8).reshape(served.h, served.w, served.c)
        scores = np.asarray(served.infer(x), "<f4")
        if scores.size != served.classes:
            raise RuntimeError(f"model gave {scores.size} scores, announced {served.classes}")
        tx.write(scores.tobytes())
        tx.flush()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runtime", choices=["onnx", "rknn-sim"], required=True)
    ap.add_argument("--model", type=Path, required=True, help="ONNX model (float for rknn-sim)")
    ap.add_argument("--mean", default="0,0,0", help="per-channel mean on the 0..255 scale")
    ap.add_argument("--std", default="1,1,1", help="per-channel std on the 0..255 scale")
    ap.add_argument("--calib", type=Path, nargs="*", default=[], help="rknn-sim: uint8 HxWx3 .npy tensors")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    tx = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        pre = Preproc(_floats3(args.mean, "--mean"), _floats3(args.std, "--std"))
        if args.runtime == "onnx":
            served = open_onnx(args.model, pre, args.threads)
        else:
            probe = open_onnx(args.model, pre)  # the ONNX twin tells the input size
            served = open_rknn_sim(args.model, pre, args.calib, probe.h, probe.w)
    except Exception as exc:  # any start-up failure is reported on the protocol channel
        tx.write((json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}) + "\n").encode())
        tx.flush()
        return 1
    try:
        return serve(served, sys.stdin.buffer, tx)
    except (BrokenPipeError, EOFError) as exc:
        print(f"tensor_server: client gone: {exc}", file=sys.stderr)
        return 0


if __name__ == "__main__":
    sys.exit(main())
