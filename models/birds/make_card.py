"""Write the model card birds_mnv3s.json from the figures the recipe steps measured (nothing typed in)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from data import INPUT_SIZE, LABELS

HERE = Path(__file__).resolve().parent


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--runs", default="stage1,stage2,birds_mnv3s", help="training run tags, in order")
    args = ap.parse_args()
    logs = [json.loads((args.work / f"{tag}_log.json").read_text()) for tag in args.runs.split(",")]
    log = logs[-1]
    stats = json.loads((args.work / "graph_stats.json").read_text())
    files = {name: HERE / name for name in
             ("birds_mnv3s.onnx", "birds_mnv3s_int8.onnx", "birds_mnv3s_rv1103.rknn")}
    rknn = _load(args.work / "rknn_eval.json")
    card = {
        "name": "birds_mnv3s",
        "task": "bird / not_bird image classification (bird-feeder camera stand-in)",
        "architecture": "MobileNetV3-Small, width 1.0, first bottleneck stride 1 instead of 2 "
                        "(total stride 16) "
                        f"so a {INPUT_SIZE}x{INPUT_SIZE} input ends in a "
                        f"{INPUT_SIZE // 16}x{INPUT_SIZE // 16} map "
                        "(RV1103 GlobalAveragePool limit 7x7); "
                        "classifier head as 1x1 convolutions",
        "labels": list(LABELS),
        "labels_file": "birds_mnv3s.txt",
        "input": {"onnx": f"float32 NCHW [1, 3, {INPUT_SIZE}, {INPUT_SIZE}]",
                  "rknn": f"uint8 NHWC [1, {INPUT_SIZE}, {INPUT_SIZE}, 3]",
                  "colour_order": "RGB", "range": "raw 0..255",
                  "normalisation": "inside the graph: (x - 127.5) / 127.5; RKNN mean 0 / std 1",
                  "resize": f"bilinear to {INPUT_SIZE}x{INPUT_SIZE} "
                            "(evaluation: PIL bilinear from the 32x32 JPEGs)"},
        "output": {"name": "logits", "kind": "logits (no softmax), float32 [1, 2] in label order"},
        "accuracy_birds_val": {
            "float_onnx": _load(args.work / "eval_float.json"),
            "int8_qdq_onnx": _load(args.work / "eval_int8.json"),
            "rknn_simulator": rknn,
        },
        "target": {"accuracy": 0.90, "met_by": {
            name: bool(r and r["accuracy"] >= 0.90) for name, r in (
                ("float_onnx", _load(args.work / "eval_float.json")),
                ("int8_qdq_onnx", _load(args.work / "eval_int8.json")), ("rknn_simulator", rknn))}},
        "files_bytes": {name: (p.stat().st_size if p.exists() else None) for name, p in files.items()},
        "params": stats["params"],
        "macs": stats["macs"],
        "macs_detail": {k: stats[k] for k in ("conv_macs", "gemm_macs", "elementwise_mul_ops")},
        "onnx_ops": stats["ops"],
        "training": {
            "data": "shared/data/birds/train (5000 bird + 5000 not_bird CIFAR-10 32x32)",
            "recipe": "from scratch; AdamW (weight decay on weights only, runs[].args.wd), one-cycle LR "
                      "(runs[].args.lr), label smoothing 0.1, batch 128; "
                      "augmentation: reflect-pad 4 + random 32x32 crop, horizontal flip, brightness/contrast "
                      "+-20%; progressive resizing (size:epochs stages in runs[].args), last stage at the "
                      "deploy size; "
                      "each later run restarts the one-cycle schedule from the previous run's weights; runs "
                      "with runs[].args.ema > 0 save an exponential moving average of the weights (decided "
                      "before the run, not selected on val)",
            "runs": [{"args": lg["args"], "epochs": len(lg["epochs"]),
                      "train_seconds": round(lg["train_seconds"]),
                      "float_val_accuracy_at_end": lg["val_acc"]} for lg in logs],
            "epochs": sum(len(lg["epochs"]) for lg in logs),
            "train_seconds": round(sum(lg["train_seconds"] for lg in logs)),
            # thread counts as each run recorded them (runs[].args.threads)
            "machine": "CPU only, shared 2-core machine, torch threads per run: "
                       + ",".join(lg["args"].get("threads", "?") for lg in logs),
            "float_val_accuracy_torch": log["val_acc"],
        },
        "quantization": {
            "onnx_int8": "onnxruntime quantize_static, QDQ, int8 per-channel weights, uint8 activations, "
                         "MinMax, "
                         "200 training images",
            "rknn": "rknn-toolkit2 2.5.0, target rv1103, w8a8, mmse, 40 training images (20 per class) as "
                    "RGB "
                    "float32 0..255 NCHW .npy (listed in rknn_dataset.txt), quant_img_RGB2BGR=False",
        },
        "rebuild": "models/birds/rebuild.sh   (env: BIRDS_DATA=<birds folder>, BIRDS_WORK=<scratch folder>)",
    }
    out = HERE / "birds_mnv3s.json"
    out.write_text(json.dumps(card, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
