"""`make run`: the everyday loop on an emulated board: the OpenMV H7 over the serial protocol, or
(BOARD=rv1103) the Luckfox Pico over adb.

1. start the emulated H7 on a pty (`host_tools sim openmv --pty`, its own process group so that Ctrl-C
   reaches only us and watch; its filesystem and log are kept in the user state folder, host_tools/demo);
2. `host_tools flash` the app, model, labels and config into it (as onto a board);
3. `host_tools watch` it: terminal lines plus the live page's address, until Ctrl-C (or --duration);
4. stop the emulator.

Run as `python -m host_tools.demo [--duration S] [--bind ADDRESS] [--http-port N]` (`make run HTTP_PORT=N
BIND=ADDRESS BOARD=h7plus` passes them on).

With `--board rv1103` (`make run BOARD=rv1103`) the same loop runs on the emulated Luckfox Pico:
`host_tools sim rv1103 --serve --bare` (a board with nothing installed; its device root is kept in the user
state folder, host_tools/demo/rv1103_root, like a board keeps its flash), `host_tools flash --device
adb:HOST:PORT` (the board program, the bird model and the config as a release, verified and health-checked),
then `host_tools watch --device adb:HOST:PORT`.
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


STOP_WAIT_S = 10.0  # how long watch gets to finish after Ctrl-C


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
    p.add_argument("--board", default="h7", choices=[*sorted(BOARDS), "rv1103"])
    p.add_argument("--bind", default="127.0.0.1", help="address to serve the live page on")
    p.add_argument("--http-port", default="8765", help="TCP port of the live page (0: any free one)")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: at Ctrl-C)")
    args = p.parse_args(argv)
    SIM_DIR.mkdir(parents=True, exist_ok=True)
    if args.board == "rv1103":
        return _rv1103(args)
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
        return _watch(args, ["--port", port], title)
    finally:
        _stop(sim)
        log.close()


def _watch(args: argparse.Namespace, target: list[str], title: str) -> int:
    watch = subprocess.Popen(_cli("watch", *target, "--bind", args.bind, "--http-port", args.http_port,
                                  "--title", title))
    try:
        try:
            return watch.wait(args.duration)
        except subprocess.TimeoutExpired:
            watch.send_signal(signal.SIGINT)  # as a user's Ctrl-C
        except KeyboardInterrupt:  # Ctrl-C reached watch too: let it finish cleanly
            pass
        try:
            return watch.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            # Ctrl-C did not stop it: started with SIGINT ignored (`make run &` from a script, nohup), it
            # inherits that. The demo's own time is up, so ending it (below) is no failure.
            return 0
    finally:
        _stop(watch)  # never leave it running (it would hold the demo's terminal and port)


def _rv1103(args: argparse.Namespace) -> int:
    import json

    from host_tools.paths import RV1103_SAMPLE_FRAMES

    frames = RV1103_SAMPLE_FRAMES if args.frames == MASKS_SAMPLE_FRAMES else args.frames
    log_path = SIM_DIR / "rv1103_board.log"
    log = open(log_path, "w")  # noqa: SIM115 - lives as long as the emulator
    sim = subprocess.Popen(_cli("sim", "rv1103", "--serve", "--bare", "--frames", str(frames), "--root",
                                str(SIM_DIR / "rv1103_root")), stdout=subprocess.PIPE, stderr=log,
                           start_new_session=True)
    try:
        try:
            info = json.loads(_read_port(sim, 600))  # the first start builds the board program
        except (SystemExit, ValueError):
            raise SystemExit(f"demo: the emulated Luckfox did not start (see {log_path})") from None
        device = f"adb:{info['adb']}"
        print(f"demo: EMULATED Luckfox Pico (RV1103) up: adb {info['adb']}, ssh {info['ssh']} (board log: "
              f"{log_path}; device root {info['root']})", flush=True)
        rc = subprocess.call(_cli("flash", "--device", device))
        if rc != 0:
            return rc
        title = (f"EMULATED Luckfox Pico (RV1103) via adb {info['adb']} (NPU: ONNX Runtime on this host; "
                 "timings are this host's, not a board's)")
        return _watch(args, ["--device", device], title)
    finally:
        _stop(sim)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
