"""`host_tools sim rv1103`: the emulated RV1103 (Luckfox Pico) running the board program itself."""

from __future__ import annotations

import argparse
from pathlib import Path

from host_tools.commands import _args
from host_tools.paths import RV1103_CONFIG

DESCRIPTION = """\
Run the RV1103 board program (rv1103_app, its host build) on this host with an emulated camera and NPU:
the camera is a folder of images or a video, the NPU a real runtime: ONNX Runtime on the model's ONNX twin
(default: the bird model's int8 twin), or the RKNN toolkit's x86 simulator when .venv-rknn exists (it builds
the int8 rv1103 model from the float ONNX at start-up, in a subprocess). Everything between the camera and
the JSON line (crop planner, fused crop/resize/colour conversion, voting, config hot reload) is the board
program's own code.

One-shot (--frames): JSON lines (or readable lines) on stdout, one per frame; edit the config file or send
SIGHUP to reload it. --count counts frames read (a frame too small for the model is read, reported and
skipped); a run that classifies no frame exits 1 and says why. Try it on rv1103_app/sample_frames (640x480
bird-feeder scenes).

--serve: an emulated Luckfox Pico that the real `adb` client and SSH clients reach. It prints one JSON line
(its adb and ssh addresses, the SSH client key, the device root), then serves until SIGTERM or Ctrl-C:
  adb connect ADDRESS; adb shell; adb push/pull; adb forward tcp:N tcp:7070
  ssh -i KEY -p PORT root@127.0.0.1; sftp; ssh -L N:127.0.0.1:7070 ...
The board boots BusyBox init, whose init script starts the board program; commands run in the board's
BusyBox shell confined to the device root (its own namespaces; as root, or in a user namespace).
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "rv1103",
        help="emulated RV1103 (Luckfox Pico): the board program with an emulated camera and NPU",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--frames", type=Path,
                   help="image folder (sorted by name), image or video; required without --serve (with "
                        "--serve default: rv1103_app/sample_frames)")
    p.add_argument("--config", type=Path, default=RV1103_CONFIG,
                   help="config.json (default: the deploy one, rv1103_app/deploy/config.json)")
    p.add_argument("--count", type=int, help="stop after N frames read")
    _args.add_json(p, "stdout carries exactly the board's JSON lines")
    p.add_argument("--model", type=Path,
                   help="one-shot: the ONNX twin to run (default: the bird model's int8 QDQ ONNX); --serve: "
                        "the .rknn to install on the board (default: the bird model's; a model card names "
                        "its twin)")
    p.add_argument("--engine", choices=["onnx", "rknn-sim"], default="onnx", help="runtime (default onnx)")
    p.add_argument("--calib", type=Path,
                   help="rknn-sim: folder of 20-50 calibration images (the bird model, without it, is built "
                   "by its recipe's own server from 40 training images)")
    p.add_argument("--fps", type=float,
                   help="one-shot: frame rate cap (default: the config's max_fps; 0 = no cap); --serve: the "
                        "emulated camera's frame rate (default: as fast as the program reads)")
    _args.add_tcp_port(p, "also serve the JSON lines on this TCP port, as the board does on 7070 "
                       "(0: any free port; default: off)")
    _args.add_bind(p, "the JSON lines (--tcp-port) or, with --serve, adb and ssh")
    p.add_argument("--loop", action="store_true", help="replay the frames until stopped")
    p.add_argument("--w-stride-pad", type=int, default=0, metavar="N",
                   help="pad each model-input row by N pixels, as the NPU's w_stride does (default 0)")
    board = p.add_argument_group("emulated Luckfox Pico (--serve)")
    board.add_argument("--serve", action="store_true", help="serve an emulated board over adb and ssh")
    board.add_argument("--root", type=Path,
                       help="the board's filesystem (kept; its SSH client key goes to ROOT.host/); default: "
                            "a temporary one, removed at the end")
    board.add_argument("--arch", choices=["host", "armv7"], default="host",
                       help="board program build: host (default) or armv7 (run under qemu-arm-static)")
    board.add_argument("--models-dir", type=Path,
                       help="where the model cards that name each .rknn's ONNX twin live (default: models/)")
    board.add_argument("--adb-port", type=int, default=0, help="adb daemon port (default: any free one)")
    board.add_argument("--ssh-port", type=int, default=0, help="SSH server port (default: any free one)")
    board.add_argument("--confine", choices=["auto", "root", "userns"], default="auto",
                       help="how commands are confined to the board: root (namespaces + chroot, as root), "
                            "userns (the same in a user namespace), auto (root when run as root)")
    board.add_argument("--bare", action="store_true",
                       help="a board without the classifier installed (to flash it)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from host_tools.errors import UsageError

    if not 0 <= args.w_stride_pad <= 64:
        raise UsageError(f"--w-stride-pad must be in 0..64, got {args.w_stride_pad}")
    if args.calib is not None and args.engine != "rknn-sim":
        raise UsageError("--calib is only used with --engine rknn-sim")
    if args.serve:
        return _serve(args)
    for flag in ("root", "models_dir"):
        if getattr(args, flag) is not None:
            raise UsageError(f"--{flag.replace('_', '-')} is for --serve")
    if args.frames is None:
        raise UsageError("--frames is required (or --serve for an emulated board)")
    from host_tools.sim.rv1103.oneshot import SimOptions, run_sim

    opts = SimOptions(
        frames=args.frames, config=args.config, model=args.model, engine=args.engine, count=args.count,
        json=args.json, fps=args.fps, port=args.tcp_port, bind=args.bind, calib=args.calib, loop=args.loop,
        w_stride_pad=args.w_stride_pad,
    )
    return run_sim(opts)


def _serve(args: argparse.Namespace) -> int:
    from host_tools.errors import UsageError
    from host_tools.paths import MODELS_DIR
    from host_tools.sim.rv1103.serve import ServeOptions, serve

    if args.fps is not None and not 0 < args.fps <= 1000:
        raise UsageError(f"--fps must be in (0, 1000] for the emulated camera, got {args.fps:g}")
    for flag in ("count", "json", "tcp_port", "loop"):
        if getattr(args, flag) not in (None, False):
            raise UsageError(f"--{flag.replace('_', '-')} is for the one-shot form, not --serve (the board's "
                             "config sets its pace and TCP port)")
    for option in ("--adb-port", "--ssh-port"):
        _args.check_tcp_port(option, getattr(args, option[2:].replace("-", "_")))
    if args.w_stride_pad:
        raise UsageError("--w-stride-pad is for the one-shot form, not --serve")
    if args.model is not None and args.model.suffix.lower() != ".rknn":
        raise UsageError(f"--model {args.model}: the board takes a .rknn (its ONNX twin is found through the "
                         "model card)")
    return serve(ServeOptions(
        root=args.root, frames=args.frames, model=args.model, models_dir=args.models_dir or MODELS_DIR,
        config=args.config, engine=args.engine, calib=args.calib, arch=args.arch, bind=args.bind,
        adb_port=args.adb_port, ssh_port=args.ssh_port, confine=args.confine, bare=args.bare, fps=args.fps))
