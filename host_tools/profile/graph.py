"""One layer of a model graph, as both graph readers give it."""

from __future__ import annotations

from dataclasses import dataclass

# Op classes of the cost model (cost_model.py): each layer is one of these.
CONV, DEPTHWISE, DENSE, OTHER = "conv", "depthwise", "dense", "other"


@dataclass(frozen=True)
class Layer:
    index: int
    op: str  # the format's own op name (CONV_2D, Conv, ...)
    kind: str  # CONV | DEPTHWISE | DENSE | OTHER
    macs: int
    params: int  # constant weights and biases this layer reads
    output_shape: tuple[int, ...]
    activation_bytes: int  # bytes of the layer's output tensor(s)
    working_bytes: int  # inputs that are not constants + outputs: live at once while the layer runs
    input_shape: tuple[int, ...] = ()  # the first input that is not a constant

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "op": self.op,
            "kind": self.kind,
            "macs": self.macs,
            "params": self.params,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "activation_bytes": self.activation_bytes,
            "working_bytes": self.working_bytes,
        }


@dataclass(frozen=True)
class Graph:
    format: str  # "tflite" | "onnx"
    layers: list[Layer]
    inputs: list[dict]  # name, shape, dtype, scale, zero_point where known
    outputs: list[dict]

    @property
    def macs(self) -> int:
        return sum(x.macs for x in self.layers)

    @property
    def params(self) -> int:
        return sum(x.params for x in self.layers)

    @property
    def peak_working_bytes(self) -> int:
        return max((x.working_bytes for x in self.layers), default=0)

    def op_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for x in self.layers:
            out[x.op] = out.get(x.op, 0) + 1
        return out
