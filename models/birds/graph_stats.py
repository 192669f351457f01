"""Parameter and MAC counts read from an ONNX graph (after BatchNorm folding), for the model card."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference


def _dims(value_info: onnx.ValueInfoProto) -> list[int]:
    return [d.dim_value for d in value_info.type.tensor_type.shape.dim]


def count(path: Path) -> dict[str, int]:
    """params: elements of float initializers; macs: multiply-accumulates of Conv and Gemm/MatMul nodes
    (Conv: output elements * in_channels/group * kh * kw), plus elementwise Mul of the SE gates."""
    model = shape_inference.infer_shapes(onnx.load(str(path)))
    graph = model.graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    shapes = {vi.name: _dims(vi) for vi in list(graph.value_info) + list(graph.output) + list(graph.input)}
    params = int(sum(a.size for a in inits.values() if a.dtype.kind == "f"))
    conv_macs = gemm_macs = mul_ops = 0
    for node in graph.node:
        if node.op_type == "Conv":
            w = inits[node.input[1]]
            out = shapes[node.output[0]]
            conv_macs += int(np.prod(out)) * int(np.prod(w.shape[1:]))
        elif node.op_type in ("Gemm", "MatMul"):
            w = inits[node.input[1]]
            gemm_macs += int(w.size) * int(shapes[node.output[0]][0])
        elif node.op_type == "Mul":
            mul_ops += int(np.prod(shapes.get(node.output[0], [0])))
    return {"params": params, "conv_macs": conv_macs, "gemm_macs": gemm_macs, "macs": conv_macs + gemm_macs,
            "elementwise_mul_ops": mul_ops,
            "ops": dict(sorted({n.op_type: sum(1 for m in graph.node if m.op_type == n.op_type)
                                for n in graph.node}.items()))}
