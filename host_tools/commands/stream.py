"""`host_tools stream`: the app's results in the terminal, one readable line per frame (or its JSON lines)."""

from __future__ import annotations

import argparse

from host_tools.commands import _args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stream", help="print the camera app's results in the terminal",
        description="Print the results of the app running on the camera: one readable line per frame "
        "(frame, label, score, class scores, FPS, latency), or with --json the app's JSON lines exactly as "
        "printed. Other lines the camera prints go to stderr. Stop with Ctrl-C.")
    _args.add_serial_port(p)
    _args.add_json(p, "print only the app's JSON lines on stdout")
    p.add_argument("--count", type=int, help="stop after N results")
    p.add_argument("--restart", action="store_true", help="restart the camera first (main.py runs anew)")
    p.add_argument("--protocol", default="auto", choices=["auto", "v2", "legacy"],
                   help="link protocol (default: auto-detect)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from host_tools import console
    from host_tools.errors import HostToolsError, UsageError
    from host_tools.live import Idle, TextLine, open_live
    from host_tools.results import format_result, parse_result, report_other_line

    if args.count is not None and args.count < 1:
        raise UsageError(f"--count must be >= 1 (got {args.count})")
    src = open_live(args.port, args.protocol, restart=args.restart)
    console.info(f"streaming from {src.description}; Ctrl-C to stop")
    seen = lost = 0
    try:
        for ev in src.events:
            if isinstance(ev, Idle):
                if src.running is not None and not src.running():
                    if seen:
                        console.info("the app on the camera has stopped")
                        return 0
                    raise HostToolsError("no app is running on the camera (it ended or was stopped; "
                                         "--restart starts main.py again)")
                continue
            if not isinstance(ev, TextLine):
                continue
            r = parse_result(ev.text)
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
    return 0
