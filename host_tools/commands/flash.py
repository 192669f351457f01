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

RV1103 / Luckfox Pico (--device adb[:SERIAL], ssh:[USER@]HOST[:PORT], sim:rv1103): deploys the board program
(--arch host|armv7: the static build an emulated board runs; --build DIR: a deploy folder made by
rv1103_app/build_board.sh, with lib/librknnmrt.so, for a real board), the model (--model M.rknn, default
the bird model) with its manifest (model/model.json: labels and colour order, written from the model card or
labels file beside it) and the config (--config C.json; without it the board's running config is kept when it
suits the model, else rv1103_app/deploy/config.json is sent, saying why) as a new release
in /userdata/classifier/releases/<id>. Refused before anything is sent (exit 4): a model that is not an
RKNN model for the RV1103/RV1106 (read from its header), a config the board program's own parser (camrt)
rejects (labels or colour order that contradict the model's manifest included; a model without one needs
labels in its config), labels that do not match the model's outputs, a program built for another CPU, or
too little free space (df) for the new release beside the running one. Every file's SHA-256 is computed on
the board, the `current` link is switched atomically, the service restarted through its init script, and the
result lines must flow (--health-lines N within --health-timeout S on the board's TCP port, through the
link). If they do not, flash switches back to the previous release, restarts it and exits 1 with the board
log's last lines. A flash killed at any point leaves the previous release running, or restored at the next
boot. The newest --keep releases stay on the board; `host_tools rollback --device D` goes back one.

exit codes: 0 flashed (and healthy), 1 the new release was not healthy (the previous one is back),
            2 bad arguments or input, 3 device or link error, 4 refused before anything was sent,
            130 interrupted (the message says which release runs)
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("flash", help="upload the app, model, labels and config to a camera",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = p.add_mutually_exclusive_group(required=True)
    add_device_arguments(p, target=target)
    target.add_argument("--drive", type=Path, help="the camera's mounted USB drive instead of a serial port")
    p.add_argument("--model", type=Path, help="OpenMV: int8 .tflite (default: the masks model); RV1103: "
                   ".rknn (default: the bird model)")
    p.add_argument("--config", type=Path, help="app config JSON (default: openmv_app/config.json if present; "
                   "RV1103: the board's own when it suits the model, else rv1103_app/deploy/config.json)")
    rv = p.add_argument_group("RV1103 (adb, ssh, sim:rv1103)")
    rv.add_argument("--arch", choices=("host", "armv7"),
                    help="which static build of the board program to send (default: what the emulated board "
                    "runs); a real Luckfox takes --build")
    rv.add_argument("--build", type=Path, metavar="DIR",
                    help="deploy folder of a board build (bin/rv1103_app, lib/*.so; build_board.sh makes "
                    "build/rv1103/deploy, the default for a real board)")
    rv.add_argument("--keep", type=int, default=3, metavar="K", help="releases kept on the board (default 3)")
    rv.add_argument("--health-lines", type=int, default=3, metavar="N",
                    help="result lines the new release must send (default 3)")
    rv.add_argument("--health-timeout", type=float, default=30.0, metavar="S",
                    help="seconds to wait for them (default 30)")
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
    from host_tools.flash import BoardTarget, DriveTarget, flash, plan_flash
    from host_tools.progress import ProgressBar

    name = None if args.drive is not None else device_from_args(args)
    if name is not None and name.board == "rv1103":
        from host_tools.commands.rv1103_flash import flash_linux

        return flash_linux(args, name)
    # refuses before touching the camera
    plan = plan_flash(args.model or MASKS_MODEL, args.config, args.board, args.app, args.firmware)
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
