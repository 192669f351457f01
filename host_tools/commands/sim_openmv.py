"""`host_tools sim openmv`: run openmv_app/main.py on an emulated OpenMV H7 (camera replays frames)."""

from __future__ import annotations

import argparse
from pathlib import Path

from host_tools.commands import _args
from host_tools.errors import UsageError
from host_tools.paths import MASKS_MODEL, OPENMV_APP_DIR

HELP = """\
Installs openmv_app/*.py, the model (as model.tflite) with its labels (from the model card beside it, or a
labels file <model>.txt; as model.txt) and the config (as config.json: --config, else openmv_app/config.json,
the same default as `host_tools flash`) into the emulated camera's flash filesystem, then boots main.py. The
camera replays --frames (a folder of images sorted by name, or a video file) at --fps, one frame per snapshot,
and the model runs in TFLite Micro under the board's memory budget. Everything but the app's source and TFLite
Micro is emulated; timings are this host's, not a board's. The filesystem is a fresh temporary folder for each
run unless --fs names one (kept between runs; one running emulator at a time may use it). With --pty nothing
is installed: the camera serves Protocol V2 on a pseudo-terminal (use `host_tools flash`). A run that
classifies no frame exits 1 and says why.
"""

def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "openmv",
        help="emulated OpenMV Cam H7 running openmv_app/main.py",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--frames", type=Path, required=True, help="folder of images (sorted by name) or video file"
    )
    _args.add_board(p)
    p.add_argument("--fps", type=float, default=10.0, help="camera frame rate (default 10)")
    p.add_argument("--count", type=int, help="stop after N frames (default: at the end of the frames)")
    p.add_argument("--model", type=Path, default=MASKS_MODEL, help="int8 .tflite (default: the masks model)")
    p.add_argument("--config", type=Path,
                   help="app config JSON installed as config.json (default: openmv_app/config.json)")
    _args.add_json(p, "stdout: exactly the app's JSON lines (one per frame)")
    p.add_argument("--fs", type=Path,
                   help="camera filesystem folder, kept between runs (default: a fresh one per run)")
    _args.add_firmware(
        p, "emulated firmware: 5.0.0 (default; `ml`, `csi.CSI`, Protocol V2 with --pty), 4.8.0, 4.7.0, "
        "4.6.0 (MicroPython REPL with --pty), 4.5.5 (legacy `tf`, no `ml`); what differs: README")
    p.add_argument("--loop", action="store_true", help="replay the frames forever (default with --pty)")
    p.add_argument(
        "--pty",
        action="store_true",
        help="serve the camera on a pty, its path printed first: Protocol V2 (firmware 5, the "
        "default with --pty) or the MicroPython REPL (firmware 4.x)",
    )
    p.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> None:
    from host_tools.sim.openmv.options import check_run_options

    check_run_options(args.board, args.fps, args.count)
    if not args.frames.exists():
        raise UsageError(f"--frames {args.frames}: no such folder or video file")
    if args.fs is not None and args.fs.exists() and not args.fs.is_dir():
        raise UsageError(f"--fs {args.fs}: not a folder (the camera's filesystem is a folder)")
    if args.pty:
        return
    model = args.model
    try:
        head = model.read_bytes()[:8]
    except OSError as exc:
        raise UsageError(f"--model {model}: cannot read it ({exc.strerror or exc})") from None
    if len(head) < 8 or head[4:8] != b"TFL3":
        raise UsageError(f"--model {model}: not a TensorFlow Lite flatbuffer (.tflite)")
    from host_tools.model_manifest import load_manifest

    load_manifest(model)  # its labels: the card beside it, or a labels file (UsageError naming both)
    if args.config is not None and not args.config.is_file():
        raise UsageError(f"--config {args.config}: no such file")


def run(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from host_tools.openmv_firmware import DEFAULT
    from host_tools.sim.openmv.camera import SimOptions
    from host_tools.sim.openmv.fs_lock import FsLock
    from host_tools.sim.openmv.session import fs_root, run_camera

    _check_args(args)
    if args.firmware is None:
        args.firmware = DEFAULT
    with ExitStack() as stack:
        root = fs_root(args.fs, stack)
        stack.enter_context(FsLock(root))
        opts = SimOptions(frames=args.frames, board=args.board, fps=args.fps, count=args.count, fs_root=root,
                          firmware=args.firmware, loop=args.loop or args.pty)
        return run_camera(opts, args.model, args.config, OPENMV_APP_DIR, args.json, args.fs is not None,
                          args.pty)
    return 1  # not reached (ExitStack does not swallow exceptions)
