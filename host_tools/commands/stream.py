"""`host_tools stream`: the app's results in the terminal, one readable line per frame (or its JSON lines)."""

from __future__ import annotations

import argparse

from host_tools.commands import _args
from host_tools.devices.names import add_device_arguments

RECONNECT_S = 300.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stream", help="print the board app's results in the terminal",
        description="Print the results of the app running on the board: one readable line per frame "
        "(frame, decision, score and why: the smoothed score against the threshold on OpenMV; the crops' "
        "votes, the vote score against its threshold and the hysteresis count on the RV1103; class scores, "
        "FPS, per-stage ms), or with --json the app's JSON lines exactly as printed (result schema 1, "
        "host_tools/results/SCHEMA.md). A config reload is shown as what changed, old -> new. Other lines "
        "the board prints go to stderr. When the link drops (the board program restarted, a cable pulled), "
        "stream reconnects and says how many frames it missed. Stop with Ctrl-C.")
    add_device_arguments(p)
    _args.add_json(p, "print only the app's JSON lines on stdout")
    p.add_argument("--count", type=int, help="stop after N results")
    p.add_argument("--restart", action="store_true",
                   help="restart the app first (a camera reboots; an RV1103's init script restarts its "
                        "program)")
    p.add_argument("--reconnect", type=float, default=RECONNECT_S, metavar="SECONDS",
                   help=f"how long to keep trying when the link drops (default {RECONNECT_S:g}; 0: exit 3 "
                        "at once)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from host_tools import console
    from host_tools.devices.connect import open_device
    from host_tools.devices.live import Idle, TextLine
    from host_tools.devices.names import device_from_args
    from host_tools.devices.reconnect import FrameTracker, LinkLost, Reconnected, reconnecting
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
    if not args.reconnect >= 0:
        raise UsageError(f"--reconnect must be >= 0 seconds (got {args.reconnect})")
    name = device_from_args(args)
    held: dict = {}
    current: dict = {}

    def open_source(first: bool):
        """The stream, on a fresh link after a drop (the old link may be as dead as the stream)."""
        old = held.pop("device", None)
        if old is not None:
            old.close()
        held["device"] = open_device(name, args.protocol)
        src = held["device"].open_stream(restart=args.restart and first)
        current["src"] = src
        if first:
            console.info(f"streaming from {src.description}; Ctrl-C to stop")
        return src

    seen = lost = 0
    frames = FrameTracker()
    events = reconnecting(open_source, args.reconnect)
    try:
        for ev in events:
            if isinstance(ev, LinkLost):
                console.info(f"link lost ({ev.reason}); reconnecting for up to {args.reconnect:g} s")
                continue
            if isinstance(ev, Reconnected):
                frames.link_back()
                console.info(f"reconnected after {ev.down_s:.1f} s ({ev.attempts} attempt"
                             f"{'s' if ev.attempts != 1 else ''})")
                continue
            if isinstance(ev, Idle):
                running = current["src"].running
                if running is not None and not running():
                    again = f"--port {name.target}" if name.kind == "serial" else f"--device {name}"
                    msg = ("no app is running on the camera: it ended, or it was stopped (by an "
                           f"interrupted flash, for one); start it again with `host_tools stream {again} "
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
            note = frames.seen(r.frame, r.run)
            if note:
                console.info(note)
            print(r.line if args.json else format_result(r), flush=True)
            seen += 1
            if args.count is not None and seen >= args.count:
                return 0
    except KeyboardInterrupt:
        console.info("stopped" + (f"; {frames.missed} frames missed while the link was down"
                                  if frames.missed else ""))
    finally:
        events.close()
        if "device" in held:
            held["device"].close()
    return 0
