"""`host_tools sim rv1103 --frames ...`: the board program itself, run once on this host.

Starts the emulated board's NPU (the tensor service) and camera (frames through a FIFO), then runs rv1103_app
(host build) with them: `--frames FIFO --engine-socket SOCKET --model TWIN.onnx`. Its JSON lines are
printed as they come (with --json exactly as the program writes them), its log goes to stderr. Everything
between the camera and the JSON line is the board program's own code; only the camera (frame files instead
of V4L2) and the NPU (a host runtime) are emulated.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from host_tools import console, rv1103_config
from host_tools.errors import HostToolsError, UsageError
from host_tools.model_manifest import board_manifest_json
from host_tools.results import Event, Result, SchemaError, format_event, format_result, parse_line
from host_tools.sim.rv1103.app_binary import find_app
from host_tools.sim.rv1103.camera import Camera
from host_tools.sim.rv1103.frames import list_images, open_frames
from host_tools.sim.rv1103.model_twin import load_twin
from host_tools.sim.rv1103.npu import start_npu

BANNER = ("EMULATED RV1103 (Luckfox Pico): the board program rv1103_app (host build) on this host; the model "
          "runs on {engine}. Timings are host CPU figures, not from a board.")
_CAMERA_NAME = re.compile(r"\bcamera#(\d+)")
_SKIPPED = re.compile(r"skipped: (.*)$")
_STOPPED = re.compile(r"stopped( by signal \d+)? after (\d+) frames")


@dataclass
class SimOptions:
    frames: Path
    config: Path
    model: Path | None = None
    engine: str = "onnx"  # "onnx" | "rknn-sim"
    count: int | None = None
    json: bool = False
    fps: float | None = None  # None: the config's max_fps; 0: as fast as possible
    port: int | None = None  # TCP output port (0: any free port), None: off
    bind: str = "127.0.0.1"
    calib: Path | None = None
    loop: bool = False
    w_stride_pad: int = 0  # extra pixels per input row, as RKNN pads them on the board


def _readable(line: str, item: Result | Event | None, camera: Camera) -> str:
    """The terminal line for one of the program's output lines (the camera names frames from 0, results
    count them from 1)."""
    if isinstance(item, Result):
        return format_result(item, name=camera.name_of(item.frame - 1))
    if isinstance(item, Event):
        return format_event(item)
    return line


def _ipv4(bind: str) -> str:
    """The board program listens on IPv4 addresses: a host name is resolved here."""
    try:
        return socket.getaddrinfo(bind, None, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    except (OSError, IndexError, UnicodeError):
        raise UsageError(f"--bind {bind}: the board program serves on IPv4 addresses only") from None


def _check(opts: SimOptions):
    if opts.count is not None and opts.count < 1:
        raise UsageError(f"--count must be at least 1, got {opts.count}")
    if opts.fps is not None and not 0 <= opts.fps <= 1000:
        raise UsageError(f"--fps must be in 0..1000, got {opts.fps}")
    if not opts.config.is_file():
        raise UsageError(f"--config {opts.config}: no such file")
    frames = open_frames(opts.frames, opts.loop)
    twin = load_twin(opts.model)
    manifest = rv1103_config.manifest_of(twin.onnx)
    # refused before the board starts, in the board program's words (it would refuse the config itself)
    why = rv1103_config.contradiction(opts.config, manifest)
    if why:
        raise UsageError(f"--config {opts.config}: {why}")
    return frames, twin, manifest


def _argv(app: Path, opts: SimOptions, fifo: Path, sock: Path, model: Path,
          manifest: Path | None) -> list[str]:
    port = "0" if opts.port is None else "auto" if opts.port == 0 else str(opts.port)
    bind = _ipv4(opts.bind) if opts.port is not None else "127.0.0.1"
    argv = [str(app), "--config", str(opts.config), "--frames", str(fifo), "--engine-socket", str(sock),
            "--model", str(model), "--port", port, "--bind", bind]
    if manifest is not None:
        argv += ["--manifest", str(manifest)]
    if opts.fps is not None:
        argv += ["--fps", f"{opts.fps:g}"]
    if opts.w_stride_pad:
        argv += ["--pipe-w-stride-pad", str(opts.w_stride_pad)]
    return argv


def run_sim(opts: SimOptions, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout  # looked up now, so a replaced sys.stdout (tests, redirection) is honoured
    err = err or sys.stderr
    frames, twin, manifest = _check(opts)
    app = find_app("host")
    calib = list_images(opts.calib)[:50] if opts.calib else []
    with tempfile.TemporaryDirectory(prefix="sim-rv1103-") as tmp:
        sock, fifo = Path(tmp) / "npu.sock", Path(tmp) / "camera"
        board_manifest = None
        if manifest is not None:  # as a deploy puts it beside the board's model
            board_manifest = Path(tmp) / "model.json"
            board_manifest.write_bytes(board_manifest_json(manifest))
        argv = _argv(app, opts, fifo, sock, twin.onnx, board_manifest)
        npu = start_npu(sock, opts.engine, twin, twin.onnx.read_bytes(), calib_images=calib)
        camera = None
        try:
            if not console.quiet():
                print(BANNER.format(engine=npu.description), file=err if opts.json else out, flush=True)
            # --count counts frames read: the camera ends its stream after that many, as a finite source does
            camera = Camera(frames, fifo, limit=opts.count).start()
            return _run_app(argv, camera, opts, out, err)
        finally:
            if camera is not None:
                camera.stop()
            npu.close()


def _pump_log(stream, camera: Camera, err: TextIO, last: list[str]) -> None:
    """The program's log to stderr (its status lines hidden by -q, its errors never), with the camera's
    frame numbers shown as the frames' file names."""
    for line in stream:
        line = _CAMERA_NAME.sub(lambda m: camera.name_of(int(m.group(1))), line.rstrip("\n"))
        last.append(line)
        del last[:-200]
        if not console.quiet() or "error: " in line:
            print(line, file=err, flush=True)


def _why(log: list[str], default: str) -> str:
    return next((ln.split("error: ", 1)[1] for ln in reversed(log) if "error: " in ln), default)


def _run_app(argv: list[str], camera: Camera, opts: SimOptions, out: TextIO, err: TextIO) -> int:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log: list[str] = []
    pump = threading.Thread(target=_pump_log, args=(proc.stderr, camera, err, log), daemon=True)
    pump.start()
    # The program stops cleanly on SIGTERM (and reloads its config on SIGHUP): pass both on.
    forward = {s: signal.signal(s, lambda sig, _f: proc.send_signal(sig))
               for s in (signal.SIGTERM, signal.SIGHUP)}
    emitted = 0
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            try:
                item = parse_line(line)
            except SchemaError as exc:
                item = None
                print(f"{line[:80]}...: {exc}", file=err, flush=True)
            if isinstance(item, Result):
                emitted += 1
            if opts.json:
                out.write(line + "\n")
            else:
                out.write(_readable(line, item, camera) + "\n")
            out.flush()
        rc = proc.wait()
    except KeyboardInterrupt:  # the terminal's Ctrl-C reached the program too: let it finish
        rc = proc.wait()
        raise
    finally:
        for s, h in forward.items():
            signal.signal(s, h)
        if proc.poll() is None:  # e.g. stdout closed under us (`| head`)
            proc.terminate()
            proc.wait()
        pump.join(5)
    why = _why(log, f"exit code {rc}")
    if rc == 2 or (rc == 1 and why.startswith(("cannot listen on", "not an IPv4 address"))):
        listen = re.match(r"cannot listen on \S+: (.*)", why)
        raise UsageError(f"cannot serve on {opts.bind}:{opts.port}: {listen.group(1)}" if listen else why)
    if rc != 0:
        raise HostToolsError(f"the board program stopped: {why}")
    stopped = next((m for ln in reversed(log) if (m := _STOPPED.search(ln))), None)
    if emitted == 0 and not (stopped and stopped.group(1)):  # a run stopped by a signal need not classify
        skipped = [m.group(1) for ln in log if (m := _SKIPPED.search(ln))]
        read = int(stopped.group(2)) if stopped else camera.sent
        why = f"all {read} frames read were skipped ({skipped[0]})" if skipped else "no frame was read"
        raise HostToolsError(f"no frame was classified: {why}")
    return 0
