"""Per-layer MACs, parameters and activation bytes of a .tflite, read with the TFLite schema LiteRT ships.

MACs are counted here, from the operators' tensor shapes (independently of the model card's recipe):
  CONV_2D            output elements x kernel h x kernel w x input channels   (weights O,kh,kw,I)
  DEPTHWISE_CONV_2D  output elements x kernel h x kernel w                    (weights 1,kh,kw,C)
  FULLY_CONNECTED    output elements x input features                          (weights O,I)
  TRANSPOSE_CONV     input elements x kernel h x kernel w x output channels
Other ops (add, pooling, softmax, reshape) count no MACs; their cost is elementwise (cost_model.py).
Parameters: the elements of the constant tensors that conv / dense layers read (weights and biases).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from host_tools.errors import UsageError
from host_tools.profile.graph import CONV, DENSE, DEPTHWISE, OTHER, Graph, Layer

_KIND = {
    "CONV_2D": CONV,
    "DEPTHWISE_CONV_2D": DEPTHWISE,
    "FULLY_CONNECTED": DENSE,
    "TRANSPOSE_CONV": CONV,
    "BATCH_MATMUL": DENSE,
}
_ITEM = {
    "FLOAT32": 4,
    "FLOAT16": 2,
    "INT32": 4,
    "UINT8": 1,
    "INT64": 8,
    "INT16": 2,
    "INT8": 1,
    "BOOL": 1,
    "UINT16": 2,
    "UINT32": 4,
    "INT4": 1,
    "FLOAT64": 8,
}


def _names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


def read_tflite(path: Path) -> Graph:
    from ai_edge_litert import schema_py_generated as s

    data = Path(path).read_bytes()
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise UsageError(f"{path}: not a TensorFlow Lite flatbuffer (.tflite)")
    op_names, type_names = _names(s.BuiltinOperator), _names(s.TensorType)
    try:
        model = s.Model.GetRootAsModel(data, 0)
        sg = model.Subgraphs(0)

        def shape(i: int) -> tuple[int, ...]:
            return tuple(int(v) for v in sg.Tensors(i).ShapeAsNumpy()) if i >= 0 else ()

        def dtype(i: int) -> str:
            return type_names.get(sg.Tensors(i).Type(), "?")

        def const(i: int) -> bool:
            b = sg.Tensors(i).Buffer()
            buf = model.Buffers(b) if b < model.BuffersLength() else None
            return buf is not None and (buf.DataLength() > 0 or buf.Size() > 0)

        def nbytes(i: int) -> int:
            return int(np.prod(shape(i))) * _ITEM.get(dtype(i), 1) if i >= 0 else 0

        def io(i: int) -> dict:
            t = sg.Tensors(i)
            q = t.Quantization()
            scale = float(q.ScaleAsNumpy()[0]) if q is not None and q.ScaleLength() else None
            zp = int(q.ZeroPointAsNumpy()[0]) if q is not None and q.ZeroPointLength() else None
            name = t.Name().decode("utf-8", "replace") if t.Name() else ""
            return {
                "name": name,
                "shape": list(shape(i)),
                "dtype": dtype(i).lower(),
                "scale": scale,
                "zero_point": zp,
            }

        layers = []
        for k in range(sg.OperatorsLength()):
            op = sg.Operators(k)
            oc = model.OperatorCodes(op.OpcodeIndex())
            code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
            name = op_names.get(code, f"op {code}")
            if name == "CUSTOM":
                name = "CUSTOM:" + (oc.CustomCode() or b"?").decode("utf-8", "replace")
            ins = [int(v) for v in op.InputsAsNumpy()] if op.InputsLength() else []
            outs = [int(v) for v in op.OutputsAsNumpy()] if op.OutputsLength() else []
            kind = _KIND.get(name, OTHER)
            out_shape = shape(outs[0]) if outs else ()
            out_elems = int(np.prod(out_shape)) if outs else 0
            w = shape(ins[1]) if len(ins) > 1 else ()
            macs = 0
            if name == "CONV_2D" and len(w) == 4:
                macs = out_elems * w[1] * w[2] * w[3]
            elif name == "DEPTHWISE_CONV_2D" and len(w) == 4:
                macs = out_elems * w[1] * w[2]
            elif name == "FULLY_CONNECTED" and len(w) == 2:
                macs = out_elems * w[1]
            elif name == "TRANSPOSE_CONV" and len(ins) > 2:
                wt = shape(ins[1])
                macs = int(np.prod(shape(ins[2]))) * wt[0] * wt[1] * wt[2] if len(wt) == 4 else 0
            elif name == "BATCH_MATMUL" and len(ins) > 1:
                a = shape(ins[0])
                macs = out_elems * (a[-1] if a else 0)
            params = sum(int(np.prod(shape(i))) for i in ins if i >= 0 and const(i)) if kind != OTHER else 0
            act = sum(nbytes(i) for i in outs)
            working = act + sum(nbytes(i) for i in ins if i >= 0 and not const(i))
            first = next((i for i in ins if i >= 0 and not const(i)), -1)
            layers.append(Layer(k, name, kind, int(macs), int(params), out_shape, act, working, shape(first)))
        inputs = [io(int(i)) for i in sg.InputsAsNumpy()]
        outputs = [io(int(i)) for i in sg.OutputsAsNumpy()]
    except UsageError:
        raise
    except Exception:  # noqa: BLE001 - flatbuffers raises many types on a damaged file
        raise UsageError(f"{path}: a TensorFlow Lite file the schema cannot read (damaged?)") from None
    return Graph("tflite", layers, inputs, outputs)
