"""`host_tools bench`: latency and FPS of the app running on a board."""

from __future__ import annotations

import argparse
from pathlib import Path

from host_tools.devices.names import add_device_arguments

DESCRIPTION = """\
Measure the app running on a board (real or emulated): FPS from the device's own clock, per stage (OpenMV:
capture, inference, total; RV1103: capture, preprocess, inference, postprocess, total) the p50, p90, p99, max,
mean and standard deviation in ms, dropped frames (gaps in the frame index), the memory and CPU the device
reports (OpenMV: the app's heap free; RV1103: /proc), the model's size and MACs, the board and firmware,
and whether the figures come from a REAL or an EMULATED board. Against an emulated board the timings are
this host's; the board's ESTIMATED inference time (host_tools profile's cost model) is shown beside them.
Without --model the model is found by its SHA-256 on the device among models/ (on an OpenMV camera this
stops the app to read the file, and the bench restarts it).

--json writes the report (schema: host_tools/bench/bench_result.schema.json, versioned by its "schema"
field), --csv one row per frame, --plot a PNG (latency histogram, per-stage bars, FPS over time).
--compare OLD.json prints the change of each figure and whether it is beyond run-to-run noise:
Mann-Whitney U test (two-sided) on the per-frame values, p < 0.01 AND a median change over 5 %.
--fail-if-slower PCT exits 5 when the total latency or the frame period got worse by more than PCT % and
the change is beyond noise (for CI).

exit codes: 0 ok, 2 bad arguments, 3 device or link error, 5 slower than --fail-if-slower allows
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="latency and FPS of the app on a board (real or emulated)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_device_arguments(p)
    span = p.add_mutually_exclusive_group()
    span.add_argument("--seconds", type=float, metavar="S", help="measure for S seconds (default: 10)")
    span.add_argument("--frames", type=int, metavar="N", help="measure N frames")
    p.add_argument("--warmup", type=int, default=3, metavar="K", help="frames to skip first (default 3)")
    p.add_argument(
        "--model",
        type=Path,
        help="the model the board runs, for its size, MACs and estimate (default: found by its "
        "hash on the device among models/)",
    )
    p.add_argument("--restart", action="store_true", help="restart the app first")
    p.add_argument("--json", dest="json_file", type=Path, metavar="FILE", help="write the report as JSON")
    p.add_argument("--csv", type=Path, metavar="FILE", help="write one row per frame")
    p.add_argument("--plot", type=Path, metavar="FILE.png", help="write a PNG report")
    p.add_argument("--compare", type=Path, metavar="OLD.json", help="compare with an earlier --json report")
    p.add_argument(
        "--fail-if-slower",
        type=float,
        metavar="PCT",
        help="with --compare: exit 5 when total latency or frame period is worse by > PCT %%",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from host_tools import console
    from host_tools.bench.run import bench_device
    from host_tools.errors import UsageError

    if args.frames is not None and args.frames < 2:
        raise UsageError(f"--frames must be >= 2 (got {args.frames})")
    if args.seconds is not None and not args.seconds > 0:
        raise UsageError(f"--seconds must be > 0 (got {args.seconds:g})")
    if args.warmup < 0:
        raise UsageError(f"--warmup must be >= 0 (got {args.warmup})")
    if args.fail_if_slower is not None and (args.compare is None or args.fail_if_slower < 0):
        raise UsageError("--fail-if-slower PCT needs --compare OLD.json and PCT >= 0")
    if args.frames is None and args.seconds is None:
        args.seconds = 10.0
    return bench_device(args, console)
