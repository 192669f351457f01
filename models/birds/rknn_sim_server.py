"""RKNN-toolkit simulator as a subprocess engine (the rv1103 emulator's `rknn-sim` engine).

Run inside .venv-rknn:  .venv-rknn/bin/python models/birds/rknn_sim_server.py [--onnx ...] [--train ...]
At start it builds the int8 RV1103 model from the float ONNX exactly as build_rknn.py does (same 40
calibration images, mmse, mean 0 / std 1, RGB) -- the simulator cannot run a loaded .rknn -- then serves
requests. All toolkit logging goes to stderr; stdout carries only the protocol.

Protocol (all integers little-endian uint32):
  server -> client, once when ready:  <len> <len bytes of UTF-8 JSON>
      {"input": [1, H, W, 3], "dtype": "uint8", "layout": "NHWC", "colour": "RGB", "labels": [...],
       "output": "logits"}
  client -> server, per inference:    <len = H*W*3> <len bytes: one uint8 NHWC RGB image>
  server -> client, per inference:    <n> <n float32 little-endian: the model's logits, label order>
  client -> server, to stop:          <len = 0>   (EOF on stdin also stops the server)
A request whose length is not H*W*3 gets <n = 0xFFFFFFFF> <len> <UTF-8 error text> and the server goes on.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import sys
from pathlib import Path

import numpy as np
from build_rknn import HERE, build, scores, stdout_to_stderr, write_calibration
from data import DEFAULT_DATA, INPUT_SIZE, LABELS

ERROR = 0xFFFFFFFF


def read_exact(stream, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def onnx_side(path: Path) -> int:
    """Input side of the model, from the float ONNX's [1, 3, S, S] input."""
    import onnx

    dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
    return int(dims[2].dim_value)


def serve(rknn, inp, out, side: int = INPUT_SIZE) -> None:
    size = side * side * 3
    while True:
        head = read_exact(inp, 4)
        if head is None:
            return
        (n,) = struct.unpack("<I", head)
        if n == 0:
            return
        payload = read_exact(inp, n)
        if payload is None:
            return
        if n != size:
            msg = f"expected {size} bytes (uint8 NHWC {side}x{side}x3), got {n}".encode()
            out.write(struct.pack("<II", ERROR, len(msg)) + msg)
        else:
            img = np.frombuffer(payload, dtype=np.uint8).reshape(side, side, 3)
            with stdout_to_stderr():
                logits = scores(rknn, img)
            out.write(struct.pack("<I", logits.size) + logits.astype("<f4").tobytes())
        out.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", type=Path, default=HERE / "birds_mnv3s.onnx")
    ap.add_argument("--train", type=Path, default=DEFAULT_DATA / "train",
                    help="calibration images come from here")
    ap.add_argument("--work", type=Path, default=HERE.parents[1] / ".cache" / "birds-rknn-sim")
    args = ap.parse_args()
    side = onnx_side(args.onnx)
    out = os.fdopen(os.dup(1), "wb")  # the protocol channel; fd 1 itself is pointed at stderr while building
    with stdout_to_stderr():
        dataset = write_calibration(args.train, args.work, side)
        rknn = build(args.onnx, dataset, None, side)
    hello = json.dumps({"input": [1, side, side, 3], "dtype": "uint8", "layout": "NHWC",
                        "colour": "RGB", "labels": list(LABELS), "output": "logits"}).encode()
    out.write(struct.pack("<I", len(hello)) + hello)
    out.flush()
    try:
        serve(rknn, sys.stdin.buffer, out, side)
    finally:
        rknn.release()


if __name__ == "__main__":
    main()
