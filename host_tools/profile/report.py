"""One profile of a model for a board: the graph's layers and totals, the board's fit and op checks, and the
ESTIMATED latency. Shown by `host_tools profile`, and (the estimate) by bench and flash."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from host_tools.errors import UsageError
from host_tools.profile.cost_model import Estimate, estimate
from host_tools.profile.graph import Graph

BOARDS = ("h7", "h7plus", "rv1103")


@dataclass
class Profile:
    model: Path
    board: str
    graph: Graph
    file_bytes: int
    estimate: Estimate
    graph_source: str  # what was read: the file itself, or the .rknn's ONNX twin
    problems: list[str] = field(default_factory=list)  # what would stop it on the board
    notes: list[str] = field(default_factory=list)
    h7_fit: dict | None = None  # firmware -> fit figures
    rknn: dict | None = None

    def as_dict(self) -> dict:
        g = self.graph
        return {
            "schema": "camclass.profile/1",
            "model": str(self.model),
            "board": self.board,
            "graph_source": self.graph_source,
            "file_bytes": self.file_bytes,
            "totals": {
                "macs": g.macs,
                "params": g.params,
                "layers": len(g.layers),
                "peak_activation_bytes": g.peak_working_bytes,
                "ops": g.op_counts(),
            },
            "inputs": g.inputs,
            "outputs": g.outputs,
            "layers": [x.as_dict() for x in g.layers],
            "h7_fit": self.h7_fit,
            "rknn": self.rknn,
            "estimate": self.estimate.as_dict(),
            "problems": self.problems,
            "notes": self.notes,
        }


def _card_twin(rknn: Path) -> tuple[Path, dict]:
    from host_tools.profile.rknn_npu import card_for_rknn

    card = card_for_rknn(rknn)
    if card is None:
        raise UsageError(
            f"{rknn}: a .rknn cannot be read on the host, and no model card beside it lists it "
            "(the card names the ONNX twin that is profiled instead)"
        )
    data = json.loads(card.read_text())
    for name in (card.stem + ".onnx", card.stem + "_int8.onnx"):
        if (card.parent / name).is_file():
            return card.parent / name, data
    raise UsageError(
        f"{rknn}: its model card {card.name} names no ONNX twin that is present ({card.stem}.onnx)"
    )


def graph_of(model: Path, board: str) -> tuple[Graph, str, dict | None]:
    """The graph to profile for `board`, what it was read from, and the .rknn's card (if any)."""
    suffix = model.suffix.lower()
    if board in ("h7", "h7plus"):
        if suffix != ".tflite":
            raise UsageError(
                f"{model}: the OpenMV {board} runs an int8 .tflite model (got a {suffix or 'file'})"
            )
        from host_tools.profile.graph_tflite import read_tflite

        return read_tflite(model), f"{model.name} (the file itself)", None
    if suffix == ".tflite":
        raise UsageError(
            f"{model}: the RV1103 runs a .rknn (or the ONNX it is converted from), not a .tflite"
        )
    from host_tools.profile.graph_onnx import read_onnx

    if suffix == ".rknn":
        twin, card = _card_twin(model)
        return (
            read_onnx(twin),
            f"{twin.name}, the ONNX twin its model card names (a .rknn is a closed format)",
            card,
        )
    if suffix == ".onnx":
        return read_onnx(model), f"{model.name} (the ONNX model; the board runs its .rknn conversion)", None
    raise UsageError(f"{model}: expected a .rknn or .onnx model for the RV1103")


def h7_fit(model: Path, board: str) -> tuple[dict, list[str]]:
    """Per emulated firmware, the flash-filesystem and heap fit: the same check flash makes."""
    from host_tools.model_budget import fits_firmwares

    try:
        fits = fits_firmwares(model, board)
    except ValueError as exc:  # TFLite Micro cannot load it at all
        return {}, [f"TensorFlow Lite Micro cannot load it: {exc}"]
    out, problems = {}, []
    for fw, f in fits.items():
        out[fw] = {
            "fits": f.fits,
            "model_bytes": f.model_bytes,
            "arena_bytes": f.arena_bytes,
            "file_plus_arena": f.model_bytes + f.arena_bytes,
            "fs_bytes": f.fs_bytes,
            "largest_heap_block": f.heap_block_bytes,
            "reason": f.reason,
        }
    if not any(f.fits for f in fits.values()):
        problems.append(
            "does not fit the " + board + " on any supported firmware: " + next(iter(fits.values())).reason
        )
    return out, problems


def profile(model: Path, board: str) -> Profile:
    if board not in BOARDS:
        raise UsageError(f"unknown board {board!r}; choose one of: {', '.join(BOARDS)}")
    model = Path(model)
    if not model.is_file():
        raise UsageError(f"model not found: {model}")
    graph, source, card = graph_of(model, board)
    p = Profile(model, board, graph, model.stat().st_size, estimate(graph, board), source)
    if board in ("h7", "h7plus"):
        from host_tools.profile.h7_ops import SOURCE, unsupported

        missing = unsupported([x.op for x in graph.layers])
        if missing:
            p.problems.append(
                f"ops the OpenMV firmware's TFLite Micro does not register ({SOURCE}): " + ", ".join(missing)
            )
        p.h7_fit, fit_problems = h7_fit(model, board)
        p.problems += fit_problems
    else:
        from host_tools.profile.rknn_npu import npu_findings, rknn_facts

        p.notes += npu_findings(graph)
        if card is not None:
            p.rknn = rknn_facts(model, card)
    return p


def _fmt_bytes(n: int) -> str:
    return f"{n:,} B" if n < 10240 else f"{n / 1024:,.1f} KiB"


def format_text(p: Profile, layers: bool = True) -> str:
    g = p.graph
    lines = [
        f"model {p.model} ({_fmt_bytes(p.file_bytes)}) for the {p.board}; graph read from {p.graph_source}"
    ]
    if layers:
        lines.append(f"{'#':>3} {'op':<20} {'output':<18} {'MACs':>12} {'params':>9} {'act. bytes':>11}")
        for x in g.layers:
            shape = "x".join(str(d) for d in x.output_shape)
            lines.append(
                f"{x.index:>3} {x.op:<20} {shape:<18} {x.macs:>12,} {x.params:>9,} {x.activation_bytes:>11,}"
            )
    lines.append(
        f"total: {g.macs:,} MACs, {g.params:,} parameters, {len(g.layers)} layers, peak activation "
        f"memory {_fmt_bytes(g.peak_working_bytes)} (largest layer input + output)"
    )
    for t in g.inputs:
        lines.append(
            f"input  {t['name'] or '-'}: {t['dtype']} {t['shape']}"
            + (f" scale {t['scale']:.6g} zero point {t['zero_point']}" if t["scale"] is not None else "")
        )
    for t in g.outputs:
        lines.append(
            f"output {t['name'] or '-'}: {t['dtype']} {t['shape']}"
            + (f" scale {t['scale']:.6g} zero point {t['zero_point']}" if t["scale"] is not None else "")
        )
    if p.h7_fit:
        for fw, f in p.h7_fit.items():
            verdict = "fits" if f["fits"] else "DOES NOT FIT: " + f["reason"]
            lines.append(
                f"firmware {fw}: file {f['model_bytes']:,} + TFLite Micro arena {f['arena_bytes']:,} = "
                f"{f['file_plus_arena']:,} B (filesystem {f['fs_bytes']:,} B, largest heap block "
                f"{f['largest_heap_block']:,} B): {verdict}"
            )
    if p.rknn:
        r = p.rknn
        lines.append(
            f"rknn {Path(r['file']).name}: {r['file_bytes']:,} B; input {r['input']}; output "
            f"{r['output']}; quantization {r['quantization']}"
        )
    if p.board == "rv1103":
        lines.append(
            "NPU limits (Rockchip docs): int8 conv/depthwise; GlobalAveragePool <= 7x7 on the NPU; short "
            "CPU-fallback list; 0.5 TOPS"
        )
    e = p.estimate
    lines.append(
        f"ESTIMATED {p.board} inference: {e.ms:.1f} ms (an estimate from a per-operator cost model, "
        "not a measurement)"
    )
    lines.append(f"  cost model: {e.model}")
    for c in e.calibration:
        lines.append(
            f"  calibration: {c['name']}: published {c['published_ms']} ms, model {c['model_ms']} ms "
            f"({c['error_pct']:+.1f} %)"
        )
    if e.mean_abs_error_pct is not None:
        lines.append(
            f"  mean error on the points it was fitted to: {e.mean_abs_error_pct} % (in-sample; "
            "expect more on other architectures)"
        )
    else:
        lines.append("  fitted to a single published figure: no measured error; an order of magnitude")
    for n in p.notes:
        lines.append(f"note: {n}")
    for prob in p.problems:
        lines.append(f"PROBLEM: {prob}")
    return "\n".join(lines)
