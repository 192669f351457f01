"""Build the int8 RKNN model for the RV1103 from the float ONNX and score it in the toolkit's simulator.

Runs in .venv-rknn (rknn-toolkit2 2.5.0). Input convention, identical to the ONNX twins and the board:
the NPU input is uint8 NHWC [1, S, S, 3] (S = --size, default the ONNX input's side) in RGB order (no
channel swap: quant_img_RGB2BGR=False), raw 0..255 with mean 0 / std 1 because the normalisation is inside
the graph. Calibration: 40 training images (20 per class, evenly spaced through the sorted lists), stored as
RGB float32 NCHW .npy files (0..255; the toolkit wants the ONNX's layout for .npy) so that no image decoder of
the toolkit can swap colours, listed one per line in <work>/rknn_dataset_<S>.txt.
Quantization: w8a8, mmse (--algorithm normal for the comparison on the card). --clip-sigma K first clips
each convolution's weights, per output channel, to its mean +- K standard deviations (written to a copy of
the ONNX in the work folder): a few outlier weights otherwise set a channel's int8 scale and leave the other
weights few levels (the toolkit warns "found outlier value"). The simulator only runs a model built from ONNX
in the same session, hence one script that builds, exports and then evaluates.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from data import DEFAULT_DATA, LABELS, list_split, load_rgb

HERE = Path(__file__).resolve().parent
CALIB_PER_CLASS = 20


@contextlib.contextmanager
def stdout_to_stderr():
    """The toolkit logs on stdout (fd 1); keep fd 1 clean for callers that speak a protocol on it."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def write_calibration(train: Path, work: Path, size: int) -> Path:
    by_class: dict[int, list[Path]] = {}
    for path, label in list_split(train):
        by_class.setdefault(label, []).append(path)
    calib_dir = work / f"rknn_calib_{size}"
    calib_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for label, paths in sorted(by_class.items()):
        step = len(paths) / CALIB_PER_CLASS
        for i in range(CALIB_PER_CLASS):
            src = paths[int(i * step)]
            dst = calib_dir / f"{LABELS[label]}_{src.stem}.npy"
            # [1, 3, H, W]: the toolkit wants .npy calibration data in the ONNX's NCHW layout
            np.save(dst, load_rgb(src, size).transpose(2, 0, 1)[None].astype(np.float32))
            lines.append(str(dst))
    dataset = work / f"rknn_dataset_{size}.txt"
    dataset.write_text("\n".join(lines) + "\n")
    return dataset


def clip_outliers(onnx_path: Path, out: Path, sigma: float) -> dict:
    """Copy of the float ONNX with every Conv weight clipped per output channel to mean +- sigma * std.
    Returns what was clipped (weights, share, largest relative cut) for the card."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    weights = {n.input[1] for n in model.graph.node if n.op_type == "Conv"}
    clipped = total = 0
    for init in model.graph.initializer:
        if init.name not in weights:
            continue
        w = numpy_helper.to_array(init)
        flat = w.reshape(w.shape[0], -1)
        mean, std = flat.mean(1, keepdims=True), flat.std(1, keepdims=True)
        new = np.clip(flat, mean - sigma * std, mean + sigma * std)
        clipped += int((new != flat).sum())
        total += flat.size
        init.CopyFrom(numpy_helper.from_array(new.reshape(w.shape).astype(w.dtype), init.name))
    onnx.save(model, str(out))
    return {"sigma": sigma, "weights_clipped": clipped, "conv_weights": total}


def onnx_side(path: Path) -> int:
    """Input side of the model, from the float ONNX's [1, 3, S, S] input."""
    import onnx

    dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
    return int(dims[2].dim_value)


def build(onnx_path: Path, dataset: Path, rknn_out: Path | None, size: int,
          algorithm: str = "mmse"):
    """Config, load, quantize, optionally export, and start the simulator; returns the RKNN object."""
    from rknn.api import RKNN

    rknn = RKNN(verbose=False)
    steps = [
        ("config", lambda: rknn.config(mean_values=[[0, 0, 0]], std_values=[[1, 1, 1]],
                                       target_platform="rv1103", quantized_algorithm=algorithm,
                                       quantized_dtype="w8a8", quant_img_RGB2BGR=False)),
        ("load_onnx", lambda: rknn.load_onnx(str(onnx_path), inputs=["input"],
                                             input_size_list=[[1, 3, size, size]])),
        ("build", lambda: rknn.build(do_quantization=True, dataset=str(dataset))),
    ]
    if rknn_out is not None:
        steps.append(("export_rknn", lambda: rknn.export_rknn(str(rknn_out))))
    steps.append(("init_runtime", lambda: rknn.init_runtime()))
    for name, step in steps:
        ret = step()
        if ret not in (0, None):
            raise SystemExit(f"rknn {name} failed ({ret})")
    return rknn


def scores(rknn, img_nhwc_u8: np.ndarray) -> np.ndarray:
    out = rknn.inference(inputs=[img_nhwc_u8[None]], data_format=["nhwc"])
    return np.asarray(out[0], dtype=np.float32).reshape(-1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--train", type=Path, default=DEFAULT_DATA / "train")
    ap.add_argument("--val", type=Path, default=DEFAULT_DATA / "val")
    ap.add_argument("--onnx", type=Path, default=HERE / "birds_lite0.onnx")
    ap.add_argument("--out", type=Path, default=HERE / "birds_lite0_rv1103.rknn")
    ap.add_argument("--size", type=int, help="input side of the model (default: the ONNX input's)")
    ap.add_argument("--eval-out", type=Path, help="where to write the simulator's figures "
                                                  "(default <work>/rknn_eval.json)")
    ap.add_argument("--limit", type=int, default=0, help="evaluate on at most this many val images (0: all)")
    ap.add_argument("--algorithm", choices=("mmse", "normal"), default="mmse", help="toolkit quantizer")
    ap.add_argument("--clip-sigma", type=float, default=0.0,
                    help="clip conv weights per output channel to mean +- K std first (0: no clipping)")
    ap.add_argument("--no-export", action="store_true", help="score in the simulator only (comparisons)")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    args.size = args.size or onnx_side(args.onnx)
    dataset = write_calibration(args.train, args.work, args.size)
    onnx_path, clipping = args.onnx, None
    if args.clip_sigma:
        onnx_path = args.work / f"{args.onnx.stem}_clip{args.clip_sigma:g}.onnx"
        clipping = clip_outliers(args.onnx, onnx_path, args.clip_sigma)
    with stdout_to_stderr():
        rknn = build(onnx_path, dataset, None if args.no_export else args.out, args.size, args.algorithm)
    items = list_split(args.val)
    if args.limit:
        # evenly spaced so both classes stay represented
        items = [items[int(i * len(items) / args.limit)] for i in range(args.limit)]
    t0 = time.time()
    preds, labels = [], []
    with stdout_to_stderr():
        for path, label in items:
            preds.append(int(np.argmax(scores(rknn, load_rgb(path, args.size)))))
            labels.append(label)
    rknn.release()
    p, y = np.array(preds), np.array(labels)
    result = {"images": int(len(y)), "accuracy": float((p == y).mean()),
              "recall": {lab: float((p[y == c] == c).mean()) for c, lab in enumerate(LABELS)},
              "simulator_seconds": time.time() - t0, "calibration_images": 2 * CALIB_PER_CLASS,
              "dataset_file": f"{dataset.name} (RGB float32 0..255 NCHW .npy, one path per line)",
              "quantized_algorithm": args.algorithm, "weight_clipping": clipping}
    (args.eval_out or args.work / "rknn_eval.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
