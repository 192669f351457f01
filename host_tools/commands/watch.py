"""`host_tools watch`: a live page of what the camera classifies, plus the terminal lines of `stream`."""

from __future__ import annotations

import argparse

from host_tools.commands import _args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "watch", help="serve a live page (frame, label, class scores, FPS, latency chart)",
        description="Serve a live page of the app running on the camera: the camera frame, the current "
        "label and the score of each class, FPS and a latency chart, updated as results arrive. The page is "
        "served on loopback (127.0.0.1) unless --bind says otherwise, and answers only requests addressed to "
        "a loopback name or the bound address. Also prints one line per result (not with -q). Ctrl-C stops.")
    _args.add_serial_port(p)
    _args.add_bind(p, "the page")
    p.add_argument("--http-port", type=int, default=8765, metavar="N",
                   help="TCP port of the page (default: 8765; 0: any free one)")
    p.add_argument("--frame-interval", type=float, default=0.2,
                   help="seconds between frame reads from the stream channel (default: 0.2)")
    p.add_argument("--title", help="what to call the camera on the page (default: its port and firmware)")
    p.add_argument("--restart", action="store_true", help="restart the camera first (main.py runs anew)")
    p.add_argument("--protocol", default="auto", choices=["auto", "v2", "legacy"],
                   help="link protocol (default: auto-detect)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from host_tools import console
    from host_tools.errors import DeviceError, UsageError
    from host_tools.live import Frame, Idle, TextLine, open_live
    from host_tools.results import format_result, parse_result, report_other_line
    from host_tools.watch.server import page_url, start_server
    from host_tools.watch.state import LiveState

    if not args.frame_interval > 0:
        raise UsageError(f"--frame-interval must be > 0 (got {args.frame_interval})")
    src = open_live(args.port, args.protocol, frames=True, frame_interval=args.frame_interval,
                    restart=args.restart)
    state = LiveState(args.title or src.description)
    try:
        server = start_server(state, args.bind, args.http_port)
    except BaseException:
        src.close()
        raise
    console.info(f"watching {src.description}")
    print(f"live page: {page_url(server)}   (Ctrl-C to stop)", flush=True)
    lost = 0
    try:
        for ev in src.events:
            if isinstance(ev, Frame):
                state.add_frame(ev.jpeg, ev.width, ev.height)
            elif isinstance(ev, TextLine):
                r = parse_result(ev.text)
                if r is not None:
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
        state.set_status(f"camera link lost: {exc}", ended=True)
        raise DeviceError(f"lost the camera: {exc}") from None
    finally:
        server.shutdown()
        server.server_close()
        src.close()
    return 0
