"""`host_tools check`: would flash accept this model + config for this board? Every problem, no device."""

from __future__ import annotations

import argparse
from pathlib import Path

from host_tools.commands import _args

DESCRIPTION = """\
Check a model and a config for a board the way `host_tools flash` does, without a device, and list every
problem instead of stopping at the first: the config against the app's own rules, the labels file against
the model's outputs, the model's input against the config's pixel format, one inference in TensorFlow Lite
Micro, and the model's fit in the board's flash filesystem and heap on each supported firmware. For the
RV1103 the config is checked by the board program's own parser (camrt) and the model's ONNX twin against
the NPU's documented limits.

exit codes: 0 flash would accept it, 2 bad arguments, 4 flash would refuse it (every reason is listed)
"""


def register(sub: argparse._SubParsersAction) -> None:
    from host_tools.profile.report import BOARDS

    p = sub.add_parser(
        "check",
        help="list every reason flash would refuse a model + config for a board",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--board", dest="target_board", required=True, choices=BOARDS, help="the board")
    p.add_argument(
        "--model", type=Path, required=True, help="the model (.tflite for OpenMV, .rknn for RV1103)"
    )
    p.add_argument("--config", type=Path, help="the app config (default: the app's own config.json)")
    _args.add_json(p, "the problems as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from host_tools.check import check_pair

    problems, warnings = check_pair(args.target_board, args.model, args.config)
    if args.json:
        print(
            json.dumps(
                {
                    "board": args.target_board,
                    "model": str(args.model),
                    "config": str(args.config) if args.config else None,
                    "ok": not problems,
                    "problems": problems,
                    "warnings": warnings,
                }
            )
        )
        return 4 if problems else 0
    if problems:
        print(
            f"flash would refuse {args.model} for the {args.target_board} ({len(problems)} problem"
            f"{'s' if len(problems) > 1 else ''}):"
        )
        for prob in problems:
            print(f"  - {prob}")
    else:
        print(
            f"ok: flash would accept {args.model}"
            + (f" with {args.config}" if args.config else "")
            + f" for the {args.target_board}"
        )
    for w in warnings:
        print(f"  warning: {w}")
    return 4 if problems else 0
