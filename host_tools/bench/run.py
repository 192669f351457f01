"""The bench command's flow: device -> samples -> report -> outputs (and --compare)."""

from __future__ import annotations

import argparse
import sys

from host_tools.bench.collect import collect
from host_tools.bench.report import build_report, format_text, write_csv, write_json

EXIT_SLOWER = 5


def _progress(args: argparse.Namespace, quiet: bool):
    from tqdm import tqdm

    total = args.frames if args.frames is not None else args.seconds
    unit = "frame" if args.frames is not None else "s"
    bar = tqdm(
        total=total,
        unit=unit,
        desc="bench",
        file=sys.stderr,
        disable=True if quiet else None,
        leave=False,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} " + unit + " {postfix}",
    )

    def update(frames: int, elapsed: float) -> None:
        done = frames if args.frames is not None else min(elapsed, args.seconds)
        bar.n = done
        bar.set_postfix_str(f"{frames} frames", refresh=False)
        bar.refresh()

    return bar, update


def bench_device(args: argparse.Namespace, console) -> int:
    from host_tools.bench.model import find_model, model_facts
    from host_tools.devices.connect import open_device
    from host_tools.devices.names import device_from_args
    from host_tools.errors import HostToolsError, UsageError

    old = None
    if args.compare is not None:
        from host_tools.bench.compare import load_report

        old = load_report(args.compare)  # a bad file is refused before the device is touched
    if args.model is not None and not args.model.is_file():
        raise UsageError(f"--model {args.model}: no such file")
    name = device_from_args(args)
    device = open_device(name, args.protocol)
    try:
        model_path, found = (args.model, "given with --model") if args.model else find_model(device)
        restart = args.restart or (device.board == "openmv" and args.model is None)  # hashing stopped the app
        bar, update = _progress(args, console.quiet())
        try:
            samples, facts = collect(device, args.frames, args.seconds, args.warmup, update, restart=restart)
        finally:
            bar.close()
    finally:
        device.close()
    if len(samples) < 2:
        raise HostToolsError(f"only {len(samples)} result(s) arrived: too few to measure (more --seconds?)")
    model, est = model_facts(model_path, device.board) if model_path else (None, None)
    if model is not None:
        model["found"] = found
    report = build_report(samples, facts, str(name), args.warmup, model, est)
    print(format_text(report), flush=True)
    if model_path is None:
        console.info(f"model: {found}")
    if args.json_file:
        write_json(report, args.json_file)
    if args.csv:
        write_csv(report, args.csv)
    if args.plot:
        from host_tools.bench.plot import write_png

        write_png(report, args.plot)
    if old is not None:
        from host_tools.bench.compare import compare, format_changes, regressions

        changes = compare(old, report)
        print(format_changes(changes, args.compare, old, report), flush=True)
        if args.fail_if_slower is not None:
            bad = regressions(changes, args.fail_if_slower)
            if bad:
                worst = max(bad, key=lambda c: c.relative)
                print(
                    f"bench: slower than allowed: {worst.figure} {worst.relative * 100:+.1f} % "
                    f"(> {args.fail_if_slower:g} %, p = {worst.p:.2g})",
                    file=sys.stderr,
                    flush=True,
                )
                return EXIT_SLOWER
    return 0
