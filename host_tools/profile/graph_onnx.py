"""Per-layer MACs, parameters and activation bytes of an ONNX graph (the RV1103 profile reads a .rknn's
ONNX twin: a .rknn is a closed format).

Shapes come from ONNX shape inference. MACs: Conv = output elements x (input channels / group) x kernel
area (a depthwise Conv, group = channels, is classed as depthwise); Gemm / MatMul = output elements x the
reduced dimension. Parameters: elements of the initializers a layer reads (QDQ twins: the int8 weights
behind a DequantizeLinear count once, at the Conv that uses them). Needs the `onnx` package (dev extra).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from host_tools.errors import UsageError
from host_tools.profile.graph import CONV, DENSE, DEPTHWISE, OTHER, Graph, Layer

_SKIP = {"Constant", "DequantizeLinear", "QuantizeLinear", "Identity"}  # no work on the board's NPU


def read_onnx(path: Path) -> Graph:
    try:
        import onnx
        from onnx import numpy_helper, shape_inference
    except ImportError:
        raise UsageError("profiling an ONNX graph needs the onnx package: pip install onnx") from None
    try:
        model = shape_inference.infer_shapes(onnx.load(str(path)))
    except Exception as exc:  # noqa: BLE001 - onnx raises DecodeError and friends
        raise UsageError(f"{path}: not an ONNX model onnx can read ({type(exc).__name__})") from None
    g = model.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    elem_size = {1: 4, 2: 1, 3: 1, 5: 2, 6: 4, 7: 8, 10: 2, 11: 8, 9: 1}
    info = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        tt = vi.type.tensor_type
        info[vi.name] = (tuple(int(d.dim_value) for d in tt.shape.dim), elem_size.get(tt.elem_type, 4))
    # DequantizeLinear(int8 weight) -> a Conv's weight input: follow it to the initializer.
    dq_src = {n.output[0]: n.input[0] for n in g.node if n.op_type == "DequantizeLinear"}

    def weight(name: str):
        return inits.get(name) if name in inits else inits.get(dq_src.get(name, ""))

    def nbytes(name: str) -> int:
        shape, size = info.get(name, ((), 0))
        return int(np.prod(shape)) * size if shape else 0

    layers = []
    for k, node in enumerate(n for n in g.node if n.op_type not in _SKIP):
        out = node.output[0] if node.output else ""
        out_shape = info.get(out, ((), 4))[0]
        out_elems = int(np.prod(out_shape)) if out_shape else 0
        kind, macs = OTHER, 0
        w = weight(node.input[1]) if len(node.input) > 1 else None
        if node.op_type == "Conv" and w is not None:
            group = next((a.i for a in node.attribute if a.name == "group"), 1)
            kind = DEPTHWISE if group > 1 and w.shape[1] == 1 else CONV
            macs = out_elems * int(np.prod(w.shape[1:]))
        elif node.op_type in ("Gemm", "MatMul") and w is not None:
            kind = DENSE
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            reduced = w.shape[1] if (node.op_type == "Gemm" and trans_b) else w.shape[0]
            macs = out_elems * int(reduced)
        params = (
            sum(int(weight(i).size) for i in node.input if i and weight(i) is not None)
            if kind != OTHER
            else 0
        )
        act = sum(nbytes(o) for o in node.output)
        working = act + sum(nbytes(i) for i in node.input if i and weight(i) is None)
        first = next((i for i in node.input if i and weight(i) is None), "")
        layers.append(
            Layer(
                k,
                node.op_type,
                kind,
                int(macs),
                int(params),
                out_shape,
                act,
                working,
                info.get(first, ((), 0))[0],
            )
        )

    def io(vi) -> dict:
        shape, _ = info.get(vi.name, ((), 0))
        return {
            "name": vi.name,
            "shape": list(shape),
            "dtype": onnx.helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type).name,
            "scale": None,
            "zero_point": None,
        }

    init_names = set(inits)
    return Graph(
        "onnx", layers, [io(v) for v in g.input if v.name not in init_names], [io(v) for v in g.output]
    )
