"""`host_tools watch`: a live page of what the board classifies, plus the terminal lines of `stream`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from host_tools.commands import _args
from host_tools.devices.names import add_device_arguments

BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)  # seconds before each new attempt once the board went away; then 8 s


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "watch", help="serve a live page (frame, label, class scores, FPS, latency chart)",
        description="Serve a live page of the app running on the board: the camera image with the result of "
        "the same frame (RV1103: its three crop boxes, each crop's vote and scores, from the preview the "
        "board program sends; OpenMV: the frame buffer, paired with the result before it), the decision "
        "and its score against the threshold, the score of each class, per-stage timings, FPS and a "
        "latency chart with p50/p95. The page is served on loopback (127.0.0.1) unless --bind says "
        "otherwise, and answers only requests addressed to a loopback name or the bound address. Also "
        "prints one line per result (not with -q). When the board goes away (restarted, cable pulled) "
        "watch keeps the page up and reconnects, waiting 0.5, 1, 2, 4, then 8 s between attempts. Ctrl-C "
        "stops.")
    add_device_arguments(p)
    _args.add_bind(p, "the page")
    p.add_argument("--http-port", type=int, default=8765, metavar="N",
                   help="TCP port of the page (default: 8765; 0: any free one)")
    p.add_argument("--frame-interval", type=float, default=0.2,
                   help="seconds between frame reads from the stream channel (default: 0.2)")
    p.add_argument("--title", help="what to call the board on the page (default: its link)")
    p.add_argument("--restart", action="store_true", help="restart the app first")
    p.add_argument("--record", type=Path, metavar="FILE.jsonl",
                   help="also append every result and event line, as the board sent it, to this file")
    p.set_defaults(func=run)


def _open_record(path: Path | None):
    from host_tools.errors import UsageError

    if path is None:
        return None
    try:
        return open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the whole session
    except OSError as exc:
        raise UsageError(f"--record {path}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    from host_tools import console
    from host_tools.devices.connect import open_device
    from host_tools.devices.names import device_from_args
    from host_tools.errors import DeviceError, UsageError
    from host_tools.watch.server import page_url, start_server
    from host_tools.watch.state import LiveState

    if not args.frame_interval > 0:
        raise UsageError(f"--frame-interval must be > 0 (got {args.frame_interval})")
    name = device_from_args(args)
    record = _open_record(args.record)
    device = open_device(name, args.protocol)  # the first connection must work: a wrong name fails at once
    try:
        src = device.open_stream(frames=True, frame_interval=args.frame_interval, restart=args.restart)
    except BaseException:
        device.close()
        raise
    badge = "EMULATED " if device.emulated and "EMULATED" not in (args.title or "") else ""
    state = LiveState(args.title or src.description, emulated=device.emulated)
    try:
        server = start_server(state, args.bind, args.http_port)
    except BaseException:
        src.close()
        device.close()
        raise
    console.info(f"watching {badge}{src.description}")
    print(f"live page: {page_url(server)}   (Ctrl-C to stop)", flush=True)
    attempt = 0
    try:
        while True:
            try:
                _follow(src, state, record)
                why = "the board's output ended"
            except DeviceError as exc:
                why = str(exc)
            finally:
                src.close()
                device.close()
            while True:  # reconnect, backing off
                wait = BACKOFF[min(attempt, len(BACKOFF) - 1)]
                attempt += 1
                note = f"board link lost ({why}); reconnecting in {wait:g} s (attempt {attempt})"
                state.set_status(note)
                console.info(f"watch: {note}")
                time.sleep(wait)
                try:
                    device = open_device(name, args.protocol)
                    try:
                        src = device.open_stream(frames=True, frame_interval=args.frame_interval)
                    except BaseException:
                        device.close()
                        raise
                except DeviceError as exc:
                    why = str(exc)
                    continue
                break
            attempt = 0
            state.reconnected()
            state.set_status("live (reconnected)")
            console.info(f"watch: reconnected to {src.description}")
    except KeyboardInterrupt:
        console.info("stopped")
        return 0
    finally:
        server.shutdown()
        server.server_close()
        if record is not None:
            record.close()


def _follow(src, state, record) -> None:
    """Feed the page (and the terminal, and the record) from one connection until it fails."""
    from host_tools import console
    from host_tools.devices.live import Frame, Idle, TextLine
    from host_tools.errors import HostToolsError
    from host_tools.results import (
        Event,
        SchemaError,
        format_event,
        format_result,
        parse_line,
        report_other_line,
    )

    lost = 0
    for ev in src.events:
        if isinstance(ev, Frame):
            state.add_frame(ev.jpeg, ev.width, ev.height)
        elif isinstance(ev, TextLine):
            try:
                r = parse_line(ev.text)
            except SchemaError as exc:
                raise HostToolsError(str(exc)) from None
            if r is not None and record is not None:
                record.write(r.line + "\n")
                record.flush()
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
