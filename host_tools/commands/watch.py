"""`host_tools watch`: a live page of what the board classifies, plus the terminal lines of `stream`."""

from __future__ import annotations

import argparse

from host_tools.commands import _args
from host_tools.devices.names import add_device_arguments


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "watch", help="serve a live page (frame, label, class scores, FPS, latency chart)",
        description="Serve a live page of the app running on the board: the camera frame (OpenMV), the "
        "current label and the score of each class, FPS and a latency chart, updated as results arrive. The "
        "page is served on loopback (127.0.0.1) unless --bind says otherwise, and answers only requests "
        "addressed to a loopback name or the bound address. Also prints one line per result (not with -q). "
        "Ctrl-C stops.")
    add_device_arguments(p)
    _args.add_bind(p, "the page")
    p.add_argument("--http-port", type=int, default=8765, metavar="N",
                   help="TCP port of the page (default: 8765; 0: any free one)")
    p.add_argument("--frame-interval", type=float, default=0.2,
                   help="seconds between frame reads from the stream channel (default: 0.2)")
    p.add_argument("--title", help="what to call the board on the page (default: its link)")
    p.add_argument("--restart", action="store_true", help="restart the app first")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from host_tools import console
    from host_tools.devices.connect import open_device
    from host_tools.devices.live import Frame, Idle, TextLine
    from host_tools.devices.names import device_from_args
    from host_tools.errors import DeviceError, HostToolsError, UsageError
    from host_tools.results import (
        Event,
        SchemaError,
        format_event,
        format_result,
        parse_line,
        report_other_line,
    )
    from host_tools.watch.server import page_url, start_server
    from host_tools.watch.state import LiveState

    if not args.frame_interval > 0:
        raise UsageError(f"--frame-interval must be > 0 (got {args.frame_interval})")
    device = open_device(device_from_args(args), args.protocol)
    try:
        src = device.open_stream(frames=True, frame_interval=args.frame_interval, restart=args.restart)
    except BaseException:
        device.close()
        raise
    state = LiveState(args.title or src.description)
    try:
        server = start_server(state, args.bind, args.http_port)
    except BaseException:
        src.close()
        device.close()
        raise
    console.info(f"watching {src.description}")
    print(f"live page: {page_url(server)}   (Ctrl-C to stop)", flush=True)
    lost = 0
    try:
        for ev in src.events:
            if isinstance(ev, Frame):
                state.add_frame(ev.jpeg, ev.width, ev.height)
            elif isinstance(ev, TextLine):
                try:
                    r = parse_line(ev.text)
                except SchemaError as exc:
                    raise HostToolsError(str(exc)) from None
                if isinstance(r, Event):
                    state.add_event(r)
                    if not console.quiet():
                        print(format_event(r), flush=True)
                elif r is not None:
                    state.add_result(r)
                    if not console.quiet():
                        print(format_result(r), flush=True)
                else:
                    lost = report_other_line(ev.text, lost)
            elif isinstance(ev, Idle) and src.running is not None:
                state.set_status("live" if src.running() else "no app running on the camera")
    except KeyboardInterrupt:
        console.info("stopped")
        return 0
    except DeviceError as exc:
        state.set_status(f"board link lost: {exc}", ended=True)
        raise DeviceError(f"lost the board: {exc}") from None
    finally:
        server.shutdown()
        server.server_close()
        src.close()
        device.close()
    return 0
