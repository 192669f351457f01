"""The RV1103 NPU's documented limits, checked against a model's ONNX twin, and a .rknn's own facts.

Limits (rknn-toolkit2 v2.3.2 docs 03/05, as summarised in the project's reference notes): the NPU runs
int8 (or int16 with w16a16i) convolutions and depthwise convolutions; HardSwish, HardSigmoid and Mul with a
[b,c,1,1] broadcast run on it; GlobalAveragePool runs on it only up to a 7x7 input; the CPU fallback covers
only a short list of ops, so an op outside the NPU's support may make the conversion fail rather than run
slowly. The NPU is 0.5 TOPS (int8) beside one Cortex-A7 at 1.2 GHz with 64 MB DDR2.
"""

from __future__ import annotations

import json
from pathlib import Path

from host_tools.profile.graph import Graph

NPU_TOPS = 0.5
# ONNX ops the RV1103's NPU runs (conv family, activations and elementwise ops the docs list as supported).
NPU_OPS = frozenset(
    "Conv ConvTranspose Gemm MatMul Relu Clip LeakyRelu PRelu Sigmoid HardSigmoid HardSwish "
    "Add Sub Mul Div MaxPool AveragePool GlobalAveragePool GlobalMaxPool Concat Reshape Flatten "
    "Transpose Resize Softmax BatchNormalization Pad Split Slice".split()
)
GAP_MAX = 7  # GlobalAveragePool: largest input height/width on the NPU


def npu_findings(graph: Graph) -> list[str]:
    """What the documented limits say about this graph (empty: nothing found outside them)."""
    notes = []
    others = sorted({x.op for x in graph.layers if x.op not in NPU_OPS})
    if others:
        notes.append(
            f"ops outside the NPU's documented set (CPU fallback, or conversion may fail): "
            f"{', '.join(others)}"
        )
    for x in graph.layers:
        shape = x.input_shape
        if x.op == "GlobalAveragePool" and len(shape) == 4 and max(shape[2], shape[3]) > GAP_MAX:
            notes.append(
                f"layer {x.index} GlobalAveragePool on a {shape[2]}x{shape[3]} input: the NPU takes at "
                f"most {GAP_MAX}x{GAP_MAX}"
            )
    return notes


def card_for_rknn(rknn: Path) -> Path | None:
    """The model card in the .rknn's folder that lists it (its "files_bytes")."""
    for card in sorted(Path(rknn).parent.glob("*.json")):
        try:
            files = json.loads(card.read_text()).get("files_bytes") or {}
        except (OSError, ValueError, AttributeError):
            continue
        if Path(rknn).name in files:
            return card
    return None


def rknn_facts(rknn: Path, card: dict) -> dict:
    """A .rknn's tensors and quantization as its model card records them (the file itself is closed)."""
    inp = card.get("input") if isinstance(card.get("input"), dict) else {}
    out = card.get("output") if isinstance(card.get("output"), dict) else {}
    return {
        "file": str(rknn),
        "file_bytes": Path(rknn).stat().st_size,
        "input": inp.get("rknn") or "unknown (not in the model card)",
        "normalisation": inp.get("normalisation", ""),
        "output": out.get("kind") or out.get("rknn") or "unknown (not in the model card)",
        "quantization": "int8 (w8a8; the card's rknn accuracy was measured with the RKNN simulator)"
        if "rknn_simulator" in json.dumps(card.get("accuracy_birds_val", card.get("accuracy", {})))
        else "int8 (w8a8) as built for the RV1103",
    }
