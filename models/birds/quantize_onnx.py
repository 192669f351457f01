"""Static int8 QDQ quantization of the float ONNX with ONNX Runtime. Runs in .venv-birds.

Calibration: a fixed, class-balanced sample of training images (never validation images), resized exactly as
for evaluation and fed raw 0..255 NCHW like the deployed input. Weights int8 per-channel (depthwise convs lose
too much with one scale per tensor), activations uint8, Percentile ranges (99.999th: MinMax let a few
outliers stretch the hardswish ranges and lost 1.5 points on birds/val, Percentile lost none). 1000
calibration images: with 200 the width-2.0 MobileNet's int8 twin scored 89.8% on birds/val, with 500 and
1000 90.5% and 90.1% (val watched; the float graph: 90.3%).

Weights use 7 bits (reduce_range: -64..64) so that the int8 twin gives the same result on every x86 CPU.
ONNX Runtime runs uint8 x int8 convolutions with VNNI or AMX where the CPU has them (int32 sums, exact) and
with AVX2's vpmaddubsw where it does not, which adds two products into an int16 with saturation: with 8-bit
weights 255 * (127 + 127) overflows it, and an AVX2-only CPU disagreed with a VNNI one on 16 of 1000 val
images; with 7-bit weights 255 * (64 + 64) = 32640 fits. Measured on birds/val (1000 images, onnxruntime
1.32.0), birds_mnv3s / birds_resnet9: 8-bit U8S8 (the old twins) 90.1% / 91.8% but 3 of 200 images flipped
on an emulated Haswell (qemu -cpu Haswell); 7-bit U8S8 90.1% / 91.5%; U8U8 89.8% (below the 90% target)
and S8S8 90.1% for birds_mnv3s (see models/README.md for the emulated-CPU comparison).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from data import DEFAULT_DATA, INPUT_SIZE, list_split, load_rgb
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)


def calibration_sample(train: Path, count: int) -> list[Path]:
    """count paths, half per class, evenly spaced through each sorted class list (deterministic)."""
    by_class: dict[int, list[Path]] = {}
    for path, label in list_split(train):
        by_class.setdefault(label, []).append(path)
    per_class = count // len(by_class)
    picked: list[Path] = []
    for paths in by_class.values():
        step = len(paths) / per_class
        picked += [paths[int(i * step)] for i in range(per_class)]
    return picked


CALIB_IMAGES = 1000  # default calibration sample (the model cards quote it)


class Reader(CalibrationDataReader):
    def __init__(self, paths: list[Path], size: int) -> None:
        self._items = iter([{"input": load_rgb(p, size).transpose(2, 0, 1)[None].astype(np.float32)}
                            for p in paths])

    def get_next(self) -> dict | None:
        return next(self._items, None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--train", type=Path, default=DEFAULT_DATA / "train")
    ap.add_argument("--float", dest="float_path", type=Path,
                    default=Path(__file__).with_name("birds_mnv3s.onnx"))
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("birds_mnv3s_int8.onnx"))
    ap.add_argument("--calib", type=int, default=CALIB_IMAGES, help="training images for calibration")
    ap.add_argument("--size", type=int, default=INPUT_SIZE)
    ap.add_argument("--method", choices=("MinMax", "Percentile", "Entropy"), default="Percentile",
                    help="activation range calibration")
    args = ap.parse_args()
    paths = calibration_sample(args.train, args.calib)
    quantize_static(str(args.float_path), str(args.out), Reader(paths, args.size),
                    quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod[args.method])
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) from {len(paths)} calibration images")


if __name__ == "__main__":
    main()
