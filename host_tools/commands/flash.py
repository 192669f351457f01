"""`host_tools flash`: put the app, a model, its labels and a config on a camera (or its USB drive)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from host_tools.commands import _args
from host_tools.devices.names import add_device_arguments
from host_tools.paths import MASKS_MODEL, OPENMV_APP_DIR

HELP = """\
Uploads openmv_app/*.py, the model (as model.tflite), its labels (from the model card beside it, or a labels
file <model>.txt; as model.txt) and the config (as config.json). Checked on the host before anything is sent:
the config (the app's own rules), the model's input (one int8/uint8 image input matching the config's pixel
format), one inference in TensorFlow Lite Micro (a model that crashes it is refused), the model against the
board's memory on the camera's firmware (file in the FAT filesystem, file + tensor arena in the heap blocks),
the labels. Each file is written under a temporary name, verified by a SHA-256 computed on the camera, then
renamed into place with main.py last, so an interruption leaves the previous app runnable; on Ctrl-C the
camera is restarted on the app it holds and flash says which (exit 130). The camera then restarts and runs
main.py.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("flash", help="upload the app, model, labels and config to a camera",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = p.add_mutually_exclusive_group(required=True)
    add_device_arguments(p, target=target)
    target.add_argument("--drive", type=Path, help="the camera's mounted USB drive instead of a serial port")
    p.add_argument("--model", type=Path, default=MASKS_MODEL, help="int8 .tflite (default: the masks model)")
    p.add_argument("--config", type=Path, help="app config JSON (default: openmv_app/config.json if present)")
    p.add_argument("--app", type=Path, default=OPENMV_APP_DIR, help="app folder (default: openmv_app/)")
    _args.add_board(p)
    p.add_argument("--allow-downtime", action="store_true",
                   help="if the new files do not fit beside the old ones, delete the old copies first "
                        "(the app is not runnable until the flash completes)")
    p.add_argument("--no-restart", action="store_true", help="do not restart the camera afterwards")
    _args.add_firmware(p, "the camera's firmware version for the memory check (default: asked from the "
                       "camera; with --drive, 5.0.0)")
    _args.add_json(p, "print a JSON summary on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from host_tools import console
    from host_tools.devices.connect import open_device
    from host_tools.devices.names import device_from_args
    from host_tools.errors import UsageError
    from host_tools.flash import BoardTarget, DriveTarget, flash, plan_flash
    from host_tools.progress import ProgressBar

    name = None if args.drive is not None else device_from_args(args)
    if name is not None and name.board != "openmv":
        raise UsageError(f"flash writes the OpenMV app; {name} is an RV1103 board, whose deploy is not part "
                         "of this command yet: copy the deploy folder as rv1103_app/README.md shows")
    # refuses before touching the camera
    plan = plan_flash(args.model, args.config, args.board, args.app, args.firmware)
    if name is None:
        target = DriveTarget(args.drive, args.firmware)
        closer = None
    else:
        device = open_device(name, args.protocol)
        target, closer = BoardTarget(device.files()), device
    bar = ProgressBar(plan.total_bytes, enabled=not console.quiet())
    try:
        report = flash(target, plan, bar=bar, restart=not args.no_restart, allow_downtime=args.allow_downtime)
    finally:
        bar.close()
        if closer is not None:
            closer.close()
    for note in report.notes:
        print(f"host_tools: note: {note}", file=sys.stderr)
    if args.json:
        print(report.to_json())
    else:
        for f in report.files:
            print(f"{f.status:9s} {f.name:16s} {f.bytes:7d} B  sha256 {f.sha256[:16]}")
        if report.removed_first:
            print(f"deleted first to make room: {', '.join(report.removed_first)}")
        where = "restarted, main.py is running" if report.restarted else "not restarted"
        if not report.restarted and args.drive is None:
            where = (f"not restarted: main.py is not running; start it with `host_tools stream --device "
                     f"{name} --restart` or the camera's reset button")
        print(f"flashed {report.target} ({report.board}, firmware {report.firmware}): {report.bytes_sent} B "
              f"sent and verified in {report.seconds:.1f} s; model {report.model_bytes} B + arena "
              f"{report.arena_bytes} B; {where}")
        if name is not None and device.emulated:
            _print_estimate(plan.model, args.board)
    return 0


def _print_estimate(model, board: str) -> None:
    """An emulated board's timings are this host's: say what the board itself would take (an estimate)."""
    from host_tools.errors import HostToolsError
    from host_tools.profile.cost_model import estimate
    from host_tools.profile.graph_tflite import read_tflite

    try:
        est = estimate(read_tflite(model), board)
    except HostToolsError:
        return
    print(f"ESTIMATED {board} inference for this model: {est.ms:.1f} ms (cost model, `host_tools profile`; "
          "the emulated board's own timings are this host's)")
