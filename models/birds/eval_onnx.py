"""Accuracy and per-class recall of an ONNX model (float or int8 QDQ) on birds/val with ONNX Runtime."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
from data import DEFAULT_DATA, LABELS, load_split


def evaluate(onnx_path: Path, val: Path) -> dict:
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    shape = sess.get_inputs()[0].shape  # [1, 3, H, W]
    x, y = load_split(val, int(shape[2]))
    preds = np.array([
        int(np.argmax(sess.run(None, {"input": img.transpose(2, 0, 1)[None].astype(np.float32)})[0]))
        for img in x
    ])
    recall = {label: float((preds[y == c] == c).mean()) for c, label in enumerate(LABELS)}
    return {"images": int(len(y)), "accuracy": float((preds == y).mean()), "recall": recall}


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
