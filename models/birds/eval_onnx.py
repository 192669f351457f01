"""Accuracy and per-class recall of an ONNX model (float or int8 QDQ) on birds/val with ONNX Runtime."""
from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np
import onnxruntime as ort
from data import DEFAULT_DATA, LABELS, load_split

# x86 features that choose ONNX Runtime's int8 kernels (MLAS): AVX2 without VNNI multiplies u8 x s8 pairs
# with vpmaddubsw, whose int16 pair sums saturate; VNNI and AMX accumulate in int32.
INT8_FEATURES = ("avx2", "avx_vnni", "avx512f", "avx512_vnni", "amx_int8", "asimddp", "i8mm")


def runtime_facts() -> dict:
    """The runtime and the CPU features a figure was measured with (a card states them)."""
    flags: set[str] = set()
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("flags", "Features") and not flags:
                flags = set(value.split())
            elif key.strip() == "model name":
                model = value.strip()
    return {"onnxruntime": ort.__version__, "cpu": model,
            "cpu_int8_features": [f for f in INT8_FEATURES if f in flags]}


def evaluate(onnx_path: Path, val: Path) -> dict:
    opts = ort.SessionOptions()
    # errors only: ORT folds each ReLU6 Clip of a QDQ graph into its quantization and then warns, once per
    # folded Clip, that the Clip's bounds are unused
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    shape = sess.get_inputs()[0].shape  # [1, 3, H, W]
    x, y = load_split(val, int(shape[2]))
    preds = np.array([
        int(np.argmax(sess.run(None, {"input": img.transpose(2, 0, 1)[None].astype(np.float32)})[0]))
        for img in x
    ])
    recall = {label: float((preds[y == c] == c).mean()) for c, label in enumerate(LABELS)}
    return {"images": int(len(y)), "accuracy": float((preds == y).mean()), "recall": recall,
            "measured_with": runtime_facts()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("onnx", type=Path)
    ap.add_argument("--val", type=Path, default=DEFAULT_DATA / "val")
    ap.add_argument("--out", type=Path, help="write the result as JSON here")
    args = ap.parse_args()
    result = evaluate(args.onnx, args.val)
    print(json.dumps(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
