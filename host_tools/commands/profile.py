"""`host_tools profile`: what a model costs on a board, without a board."""

from __future__ import annotations

import argparse
from pathlib import Path

from host_tools.commands import _args

DESCRIPTION = """\
Profile a model for a board from the model file alone: per layer and in total the MACs, parameters and
activation memory; for the OpenMV H7 / H7 Plus the flash-filesystem and heap fit per firmware (file +
TensorFlow Lite Micro arena, measured in TFLite Micro as `host_tools flash` does) and whether every op is
one the OpenMV firmware registers; for the RV1103 the .rknn's tensors and quantization (from its model card)
and the NPU's documented limits. A .rknn is a closed format: its ONNX twin, named by the model card, is
profiled, and the output says so.

The board latency shown is an ESTIMATE from a per-operator cost model fitted to published figures (listed,
with the model's error on them); it is not a measurement. `host_tools bench` measures.

exit codes: 0 ok (problems are listed but not an error), 2 bad arguments or unreadable model,
4 the model would be refused on this board (an op the firmware lacks, or it does not fit)
"""


def register(sub: argparse._SubParsersAction) -> None:
    from host_tools.profile.report import BOARDS

    p = sub.add_parser(
        "profile",
        help="MACs, memory, op support and ESTIMATED latency of a model for a board",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", type=Path, help="a .tflite (OpenMV) or a .rknn / .onnx (RV1103)")
    p.add_argument("--board", dest="target_board", required=True, choices=BOARDS, help="the board")
    p.add_argument("--no-layers", action="store_true", help="totals only, no per-layer table")
    _args.add_json(p, "the profile as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from host_tools.profile.report import format_text, profile

    prof = profile(args.model, args.target_board)
    if args.json:
        print(json.dumps(prof.as_dict()))
    else:
        print(format_text(prof, layers=not args.no_layers))
    return 4 if prof.problems else 0
