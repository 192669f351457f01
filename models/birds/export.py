"""Export the trained checkpoint to ONNX float (opset 13). Runs in .venv-birds.

Input 'input': float32 NCHW [1, 3, S, S] (S = --size, default data.INPUT_SIZE), raw RGB 0..255
(normalisation is inside the graph).
Output 'logits': float32 [1, 2] in the order of the card's labels (bird, not_bird); softmax is left to
the host.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from data import INPUT_SIZE
from effnet_lite import VARIANTS
from graph_stats import count
from train import build


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--weights", default="birds_mnv3s", help="training run tag: exports <work>/<tag>.pt")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("birds_mnv3s.onnx"))
    ap.add_argument("--arch", choices=("mnv3s", "teacher", *VARIANTS), default="mnv3s")
    ap.add_argument("--width", type=float, default=1.0, help="width multiplier the run trained with")
    ap.add_argument("--size", type=int, default=INPUT_SIZE, help="input side of the exported graph")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = build(args.arch, args.width)
    model.load_state_dict(torch.load(args.work / f"{args.weights}.pt", map_location="cpu"))
    model.eval()
    dummy = torch.rand(1, 3, args.size, args.size) * 255
    torch.onnx.export(model, (dummy,), str(args.out), input_names=["input"], output_names=["logits"],
                      opset_version=13, do_constant_folding=True, dynamo=False)
    # the exported graph must compute what the checkpoint computes
    sess = ort.InferenceSession(str(args.out), providers=["CPUExecutionProvider"])
    probe = (torch.rand(4, 1, 3, args.size, args.size) * 255).round()
    for x in probe:
        ref = model(x).detach().numpy()
        got = sess.run(None, {"input": x.numpy()})[0]
        if not np.allclose(ref, got, atol=1e-3, rtol=1e-3):
            raise SystemExit(f"ONNX differs from torch: {ref} vs {got}")
    stats = count(args.out)
    if "BatchNormalization" in stats["ops"]:
        raise SystemExit("BatchNorm was not folded into the convolutions")
    (args.work / f"{args.out.stem}_graph_stats.json").write_text(json.dumps(stats, indent=1))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {stats}")


if __name__ == "__main__":
    main()
