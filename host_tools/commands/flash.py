"""`host_tools flash`: put the app, a model, its labels and a config on a camera (or its USB drive)."""

from __future__ import annotations

import argparse
from pathlib import Path

from host_tools.commands import _args
from host_tools.paths import MASKS_MODEL, OPENMV_APP_DIR

HELP = """\
Uploads openmv_app/*.py, the model (as model.tflite), its labels (the model's sibling .txt, as model.txt) and
the config (as config.json). Checked on the host before anything is sent: the model fits the board (file in
the flash filesystem, file + tensor arena in the heap), labels, config JSON. Each file is written under a
temporary name, verified by a SHA-256 computed on the camera, then renamed into place with main.py last, so an
interruption leaves the previous app runnable. The camera then restarts and runs main.py.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("flash", help="upload the app, model, labels and config to a camera",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = p.add_mutually_exclusive_group(required=True)
    _args.add_serial_port(target, required=False)
    target.add_argument("--drive", type=Path, help="the camera's mounted USB drive instead of a serial port")
    p.add_argument("--model", type=Path, default=MASKS_MODEL, help="int8 .tflite (default: the masks model)")
    p.add_argument("--config", type=Path, help="app config JSON (default: openmv_app/config.json if present)")
    p.add_argument("--app", type=Path, default=OPENMV_APP_DIR, help="app folder (default: openmv_app/)")
    _args.add_board(p)
    p.add_argument("--protocol", default="auto", choices=["auto", "v2", "legacy"],
                   help="link protocol (default: auto-detect)")
    p.add_argument("--allow-downtime", action="store_true",
                   help="if the new files do not fit beside the old ones, delete the old copies first "
                        "(the app is not runnable until the flash completes)")
    p.add_argument("--no-restart", action="store_true", help="do not restart the camera afterwards")
    _args.add_json(p, "print a JSON summary on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from host_tools import console
    from host_tools.board_connect import open_board
    from host_tools.flash import BoardTarget, DriveTarget, flash, plan_flash
    from host_tools.progress import ProgressBar

    plan = plan_flash(args.model, args.config, args.board, args.app)  # refuses before touching the camera
    if args.drive is not None:
        target = DriveTarget(args.drive)
        closer = None
    else:
        board = open_board(args.port, args.protocol)
        target, closer = BoardTarget(board), board
    bar = ProgressBar(plan.total_bytes, enabled=not console.quiet())
    try:
        report = flash(target, plan, bar=bar, restart=not args.no_restart, allow_downtime=args.allow_downtime)
    finally:
        bar.close()
        if closer is not None:
            closer.close()
    if args.json:
        print(report.to_json())
    else:
        for f in report.files:
            print(f"{f.status:9s} {f.name:16s} {f.bytes:7d} B  sha256 {f.sha256[:16]}")
        if report.removed_first:
            print(f"deleted first to make room: {', '.join(report.removed_first)}")
        where = "restarted, main.py is running" if report.restarted else "not restarted"
        print(f"flashed {report.target} ({report.board}): {report.bytes_sent} B sent and verified in "
              f"{report.seconds:.1f} s; model {report.model_bytes} B + arena {report.arena_bytes} B; {where}")
    return 0
