"""`make run`: the everyday loop on the emulated OpenMV H7, end to end over the serial protocol.

1. start the emulated H7 on a pty (`host_tools sim openmv --pty`, its own process group so that Ctrl-C
   reaches only us and watch; its filesystem and log are kept in the user state folder, host_tools/demo);
2. `host_tools flash` the app, model, labels and config into it (as onto a board);
3. `host_tools watch` it: terminal lines plus the live page's address, until Ctrl-C (or --duration);
4. stop the emulator.

Run as `python -m host_tools.demo [--duration S] [--bind ADDRESS] [--http-port N]` (`make run HTTP_PORT=N
BIND=ADDRESS BOARD=h7plus` passes them on).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from host_tools.model_budget import BOARDS
from host_tools.paths import MASKS_SAMPLE_FRAMES, state_dir

SIM_DIR = state_dir("demo")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "host_tools", *args]


def _read_port(proc: subprocess.Popen, timeout: float) -> str:
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    line = b""
    deadline = time.monotonic() + timeout
    while not line.endswith(b"\n"):
        if proc.poll() is not None or not sel.select(max(0.0, deadline - time.monotonic())):
            raise SystemExit(f"demo: the emulated camera did not start (see {SIM_DIR / 'openmv_pty.log'})")
        ch = os.read(proc.stdout.fileno(), 1)
        if not ch:
            raise SystemExit(f"demo: the emulated camera exited (see {SIM_DIR / 'openmv_pty.log'})")
        line += ch
    return line.decode().strip()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m host_tools.demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=Path, default=MASKS_SAMPLE_FRAMES)
    p.add_argument("--fs", type=Path, default=SIM_DIR / "openmv_fs", help="the emulated camera's filesystem")
    p.add_argument("--board", default="h7", choices=sorted(BOARDS))
    p.add_argument("--bind", default="127.0.0.1", help="address to serve the live page on")
    p.add_argument("--http-port", default="8765", help="TCP port of the live page (0: any free one)")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: at Ctrl-C)")
    args = p.parse_args(argv)
    SIM_DIR.mkdir(parents=True, exist_ok=True)
    log = open(SIM_DIR / "openmv_pty.log", "w")  # noqa: SIM115 - lives as long as the emulator
    sim_args = ["--pty", "--frames", str(args.frames), "--fs", str(args.fs), "--board", args.board]
    sim = subprocess.Popen(_cli("sim", "openmv", *sim_args), stdout=subprocess.PIPE, stderr=log,
                           start_new_session=True)
    try:
        port = _read_port(sim, 120)
        print(f"demo: EMULATED OpenMV Cam {args.board.upper()} serving Protocol V2 on {port} "
              f"(camera log: {SIM_DIR / 'openmv_pty.log'})", flush=True)
        # The emulated camera is the demo's own: if a changed model cannot sit beside the old one in the
        # 128 KB filesystem, replacing it with a short downtime is fine here.
        rc = subprocess.call(_cli("flash", "--port", port, "--board", args.board, "--allow-downtime"))
        if rc != 0:
            return rc
        title = f"EMULATED OpenMV Cam {args.board.upper()} on {port} (timings are this host's, not a board's)"
        watch = subprocess.Popen(_cli("watch", "--port", port, "--bind", args.bind, "--http-port",
                                      args.http_port, "--title", title))
        try:
            return watch.wait(args.duration)
        except subprocess.TimeoutExpired:
            watch.send_signal(signal.SIGINT)  # as a user's Ctrl-C
            return watch.wait(30)
        except KeyboardInterrupt:  # Ctrl-C reached watch too: let it finish cleanly
            return watch.wait(30)
    finally:
        _stop(sim)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
