"""`host_tools stream`: the app's results in the terminal, one readable line per frame (or its JSON lines)."""

from __future__ import annotations

import argparse

from host_tools.commands import _args
from host_tools.devices.names import add_device_arguments


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stream", help="print the board app's results in the terminal",
        description="Print the results of the app running on the board: one readable line per frame "
        "(OpenMV: frame, label, score, class scores, FPS, latency; RV1103: frame, decision, score, the "
        "crops' votes, per-stage ms), or with --json the app's JSON lines exactly as printed. Other lines "
        "the board prints go to stderr. Stop with Ctrl-C.")
    add_device_arguments(p)
    _args.add_json(p, "print only the app's JSON lines on stdout")
    p.add_argument("--count", type=int, help="stop after N results")
    p.add_argument("--restart", action="store_true",
                   help="restart the app first (a camera reboots; an RV1103's init script restarts its "
                        "program)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from host_tools import console
    from host_tools.devices.connect import open_device
    from host_tools.devices.live import Idle, TextLine
    from host_tools.devices.names import device_from_args
    from host_tools.errors import HostToolsError, UsageError
    from host_tools.results import (
        Event,
        SchemaError,
        format_event,
        format_result,
        parse_line,
        report_other_line,
    )

    if args.count is not None and args.count < 1:
        raise UsageError(f"--count must be >= 1 (got {args.count})")
    device = open_device(device_from_args(args), args.protocol)
    try:
        src = device.open_stream(restart=args.restart)
    except BaseException:
        device.close()
        raise
    console.info(f"streaming from {src.description}; Ctrl-C to stop")
    seen = lost = 0
    try:
        for ev in src.events:
            if isinstance(ev, Idle):
                if src.running is not None and not src.running():
                    msg = ("no app is running on the camera: it ended, or it was stopped (by an interrupted "
                           f"flash, for one); start it again with `host_tools stream --port {args.port} "
                           "--restart` (or the camera's reset button)")
                    if seen:
                        console.info(msg)
                        return 0
                    raise HostToolsError(msg)
                continue
            if not isinstance(ev, TextLine):
                continue
            try:
                r = parse_line(ev.text)
            except SchemaError as exc:
                raise HostToolsError(str(exc)) from None
            if isinstance(r, Event):
                print(r.line if args.json else format_event(r), flush=True)
                continue
            if r is None:
                lost = report_other_line(ev.text, lost)
                continue
            print(r.line if args.json else format_result(r), flush=True)
            seen += 1
            if args.count is not None and seen >= args.count:
                return 0
    except KeyboardInterrupt:
        console.info("stopped")
    finally:
        src.close()
        device.close()
    return 0
