"""Facts about a .tflite file read from the file itself: I/O quantization, MACs and parameters counted from
the graph, the TFLite Micro arena it needs, and int8 inference with reference kernels.

Needs ai-edge-litert and tflite-micro (both in the recipe env and in the dev env).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

# Ops whose multiply-accumulates are counted; the rest (add, mean, softmax, reshape) are a rounding error.
_MAC_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


@dataclass
class TensorQuant:
    shape: list[int]
    dtype: str
    scale: float
    zero_point: int


@dataclass
class GraphFacts:
    input: TensorQuant
    output: TensorQuant
    macs: int
    params: int
    ops: dict[str, int]


def reference_interpreter(path: Path) -> Interpreter:
    """LiteRT with the reference kernels (bit-identical to TFLite Micro, unlike the default XNNPACK ones)."""
    interp = Interpreter(
        model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF, num_threads=1
    )
    interp.allocate_tensors()
    return interp


def _quant(detail: dict) -> TensorQuant:
    scale, zero_point = detail["quantization"]
    return TensorQuant([int(d) for d in detail["shape"]], np.dtype(detail["dtype"]).name, float(scale),
                       int(zero_point))


def graph_facts(path: Path) -> GraphFacts:
    interp = reference_interpreter(path)
    tensors = {t["index"]: t for t in interp.get_tensor_details()}
    ops = interp._get_ops_details()  # the public API has no op list; this one is stable across versions
    macs = 0
    counts: dict[str, int] = {}
    for op in ops:
        name = op["op_name"]
        counts[name] = counts.get(name, 0) + 1
        if name not in _MAC_OPS:
            continue
        out_shape = tensors[op["outputs"][0]]["shape"]
        w_shape = tensors[op["inputs"][1]]["shape"]
        out_elems = int(np.prod(out_shape))
        if name == "CONV_2D":  # weights O,kh,kw,I
            macs += out_elems * int(np.prod(w_shape[1:]))
        elif name == "DEPTHWISE_CONV_2D":  # weights 1,kh,kw,C*mult
            macs += out_elems * int(w_shape[1] * w_shape[2])
        else:  # FULLY_CONNECTED weights O,I
            macs += out_elems * int(w_shape[1])
    # Parameters = weights + biases of the ops that carry them (shape/axis constants are not parameters).
    params = sum(
        int(np.prod(tensors[i]["shape"]))
        for op in ops
        if op["op_name"] in _MAC_OPS
        for i in op["inputs"][1:3]
        if i >= 0
    )
    return GraphFacts(_quant(interp.get_input_details()[0]), _quant(interp.get_output_details()[0]),
                      macs, params, counts)


def run_int8(interp: Interpreter, batch_int8: np.ndarray) -> np.ndarray:
    """Raw int8 outputs for each HxWxC int8 input."""
    inp = interp.get_input_details()[0]["index"]
    out = interp.get_output_details()[0]["index"]
    results = []
    for x in batch_int8:
        interp.set_tensor(inp, x[None])
        interp.invoke()
        results.append(interp.get_tensor(out)[0].copy())
    return np.stack(results)


_PROBE = """
import sys
from tflite_micro import runtime
it = runtime.Interpreter.from_file(sys.argv[1], arena_size=int(sys.argv[2]))
it.print_allocations()
"""
_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")


def tflm_arena_bytes(path: Path, probe_arena: int = 4 * 1024 * 1024) -> int:
    """Arena bytes TFLite Micro uses for the model, as print_allocations reports them on C-level stderr.

    Run in a child process: a too-small arena can crash the interpreter instead of raising.
    """
    proc = subprocess.run([sys.executable, "-c", _PROBE, str(path), str(probe_arena)],
                          capture_output=True, text=True, timeout=120)
    text = proc.stdout + proc.stderr
    match = _TOTAL.search(text)
    if proc.returncode != 0 or not match:
        raise RuntimeError(f"TFLM could not allocate {path} (exit {proc.returncode}): {text[-800:]}")
    return int(match.group(1))
