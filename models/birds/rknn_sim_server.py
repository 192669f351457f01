"""The bird models on the RKNN toolkit's x86 simulator, built as build_rknn.py builds the board's .rknn.

The simulator cannot load a .rknn, so the int8 rv1103 model is built from the float ONNX at start-up with the
recipe's own settings and calibration (40 training images, mmse, mean 0 / std 1, RGB). The emulated RV1103's
tensor service (host_tools/sim/rv1103/tensor_server.py --runtime rknn-sim) imports rknn_simulator() from here
for this folder's models. Run as a script, it serves that same tensor protocol (tensor_protocol.py in
host_tools/sim/rv1103) itself, on stdin/stdout or a unix socket:

  .venv-rknn/bin/python models/birds/rknn_sim_server.py [--onnx birds_lite0.onnx] [--listen SOCKET]

All toolkit logging goes to stderr; stdout carries only the protocol (or the ready line with --listen).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from build_rknn import HERE, build, onnx_side, scores, stdout_to_stderr, write_calibration
from data import DEFAULT_DATA


def rknn_simulator(onnx: Path, work: Path, train: Path = DEFAULT_DATA / "train"
                   ) -> tuple[int, Callable[[np.ndarray], np.ndarray], str]:
    """(input side, infer(uint8 SxSx3 RGB) -> float32 logits, description) of the simulator model."""
    if not train.is_dir():
        raise FileNotFoundError(f"the recipe calibrates on the training images in {train}, which are absent")
    side = onnx_side(onnx)
    with stdout_to_stderr():
        dataset = write_calibration(train, work, side)
        rknn = build(onnx, dataset, None, side)

    def infer(img: np.ndarray) -> np.ndarray:
        with stdout_to_stderr():
            return scores(rknn, np.ascontiguousarray(img, np.uint8))

    note = (f"RKNN toolkit x86 simulator, int8 rv1103 model built at start-up from {onnx.name} by "
            "models/birds/rknn_sim_server.py (the recipe's build: 40 training images, mmse, RGB)")
    return side, infer, note


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", type=Path, default=HERE / "birds_lite0.onnx", help="the float ONNX model")
    ap.add_argument("--listen", type=Path, help="unix socket to serve on (default: stdin/stdout)")
    ap.add_argument("--work", type=Path, help="a folder for the calibration files (default: a temporary one)")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE.parents[1]))  # the checkout, for host_tools' tensor service
    from host_tools.sim.rv1103 import tensor_server

    argv = ["--runtime", "rknn-sim", "--model", str(args.onnx), "--preload"]
    argv += ["--listen", str(args.listen)] if args.listen else []
    argv += ["--work", str(args.work)] if args.work else []
    return tensor_server.main(argv)


if __name__ == "__main__":
    sys.exit(main())
