"""`host_tools sim rv1103`: the emulated RV1103 (Luckfox Pico) running the board's C++ pipeline."""

from __future__ import annotations

import argparse
from pathlib import Path

from host_tools.commands import _args
from host_tools.paths import RV1103_CONFIG

DESCRIPTION = """\
Run the RV1103 board program's pipeline (camrt: crop planner, fused crop/resize/colour conversion, voter,
config hot reload, JSON lines) on the host, with the model run by a real runtime: ONNX Runtime on the
model's ONNX twin (default: the bird model's int8 twin, birds_mnv3s_int8.onnx), or the RKNN toolkit's x86
simulator when .venv-rknn exists (it builds the int8 rv1103 model from the float ONNX at start-up, in a
subprocess). Non-square frames go through the three-crop path. Edit the config file or send SIGHUP to reload
it. --count counts frames read (a frame too small for the model is read, reported and skipped); a run that
classifies no frame exits 1 and says why. Try it on rv1103_app/sample_frames (640x480 bird-feeder scenes).
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "rv1103",
        help="emulated RV1103: the board's C++ pipeline with a host runtime",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--frames", type=Path, required=True, help="image folder (sorted by name), image or video")
    p.add_argument("--config", type=Path, default=RV1103_CONFIG,
                   help="config.json (default: the deploy one, rv1103_app/deploy/config.json)")
    p.add_argument("--count", type=int, help="stop after N frames read")
    _args.add_json(p, "stdout carries exactly the board's JSON lines")
    p.add_argument("--model", type=Path, help="ONNX twin to run (default: the bird model's int8 QDQ ONNX)")
    p.add_argument("--engine", choices=["onnx", "rknn-sim"], default="onnx", help="runtime (default onnx)")
    p.add_argument("--calib", type=Path,
                   help="rknn-sim: folder of 20-50 calibration images (the bird model, without it, is built "
                   "by its recipe's own server from 40 training images)")
    p.add_argument("--fps", type=float, help="frame rate cap (default: the config's max_fps; 0 = no cap)")
    _args.add_tcp_port(p, "also serve the JSON lines on this TCP port, as the board does on 7070 "
                       "(0: any free port; default: off)")
    _args.add_bind(p, "--tcp-port")
    p.add_argument("--loop", action="store_true", help="replay the frames until stopped")
    p.add_argument("--w-stride-pad", type=int, default=0, metavar="N",
                   help="pad each model-input row by N pixels, as the NPU's w_stride does (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from host_tools.errors import UsageError
    from host_tools.sim.rv1103.runner import SimOptions, run_sim

    if not 0 <= args.w_stride_pad <= 64:
        raise UsageError(f"--w-stride-pad must be in 0..64, got {args.w_stride_pad}")
    if args.calib is not None and args.engine != "rknn-sim":
        raise UsageError("--calib is only used with --engine rknn-sim")
    opts = SimOptions(
        frames=args.frames, config=args.config, model=args.model, engine=args.engine, count=args.count,
        json=args.json, fps=args.fps, port=args.tcp_port, bind=args.bind, calib=args.calib, loop=args.loop,
        w_stride_pad=args.w_stride_pad,
    )
    return run_sim(opts)
