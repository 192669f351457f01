"""`host_tools sim openmv`: run openmv_app/main.py on an emulated OpenMV H7 (camera replays frames)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path

from host_tools import console
from host_tools.commands import _args
from host_tools.errors import HostToolsError, UsageError
from host_tools.paths import MASKS_MODEL, OPENMV_APP_DIR

HELP = """\
Installs openmv_app/*.py, the model (as model.tflite) with its labels (the model's sibling .txt, as
model.txt) and the config (as config.json: --config, else openmv_app/config.json, the same default as
`host_tools flash`) into the emulated camera's flash filesystem, then boots main.py. The camera replays
--frames (a folder of images sorted by name, or a video file) at --fps, one frame per snapshot, and the model
runs in TFLite Micro under the board's memory budget. Everything but the app's source and TFLite Micro is
emulated; timings are this host's, not a board's. The filesystem is a fresh temporary folder for each run
unless --fs names one (kept between runs; one running emulator at a time may use it).
With --pty nothing is installed: the camera serves Protocol V2 on a pseudo-terminal (use `host_tools flash`).
A run that classifies no frame exits 1 and says why.
"""

MAX_REBOOTS = 20  # machine.reset() loops


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "openmv",
        help="emulated OpenMV Cam H7 running openmv_app/main.py",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--frames", type=Path, required=True, help="folder of images (sorted by name) or video file"
    )
    _args.add_board(p)
    p.add_argument("--fps", type=float, default=10.0, help="camera frame rate (default 10)")
    p.add_argument("--count", type=int, help="stop after N frames (default: at the end of the frames)")
    p.add_argument("--model", type=Path, default=MASKS_MODEL, help="int8 .tflite (default: the masks model)")
    p.add_argument("--config", type=Path,
                   help="app config JSON installed as config.json (default: openmv_app/config.json)")
    _args.add_json(p, "stdout: exactly the app's JSON lines (one per frame)")
    p.add_argument("--fs", type=Path,
                   help="camera filesystem folder, kept between runs (default: a fresh one per run)")
    _args.add_firmware(
        p, "emulated firmware: 5.0.0 (default; `ml`, `csi.CSI`, Protocol V2 with --pty), 4.8.0, 4.7.0, "
        "4.6.0 (MicroPython REPL with --pty), 4.5.5 (legacy `tf`, no `ml`); what differs: README")
    p.add_argument("--loop", action="store_true", help="replay the frames forever (default with --pty)")
    p.add_argument(
        "--pty",
        action="store_true",
        help="serve the camera on a pty, its path printed first: Protocol V2 (firmware 5, the "
        "default with --pty) or the MicroPython REPL (firmware 4.x)",
    )
    p.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> None:
    from host_tools.sim.openmv.options import check_run_options

    check_run_options(args.board, args.fps, args.count)
    if not args.frames.exists():
        raise UsageError(f"--frames {args.frames}: no such folder or video file")
    if args.fs is not None and args.fs.exists() and not args.fs.is_dir():
        raise UsageError(f"--fs {args.fs}: not a folder (the camera's filesystem is a folder)")
    if args.pty:
        return
    model = args.model
    try:
        head = model.read_bytes()[:8]
    except OSError as exc:
        raise UsageError(f"--model {model}: cannot read it ({exc.strerror or exc})") from None
    if len(head) < 8 or head[4:8] != b"TFL3":
        raise UsageError(f"--model {model}: not a TensorFlow Lite flatbuffer (.tflite)")
    if not model.with_suffix(".txt").is_file():
        raise UsageError(
            f"--model {model}: labels file {model.with_suffix('.txt').name} (one per line) is missing"
        )
    if args.config is not None and not args.config.is_file():
        raise UsageError(f"--config {args.config}: no such file")


def _fs_root(args: argparse.Namespace, stack) -> Path:
    """--fs (created if missing), else a fresh temporary folder removed at the end of the run."""
    if args.fs is None:
        return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="openmv_fs-")))
    try:
        args.fs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--fs {args.fs}: cannot create the folder ({exc.strerror or exc})") from None
    return args.fs


class LineSink:
    """Splits the camera's USB output into lines: frame JSON lines and everything else."""

    def __init__(self, camera_leds, json_mode: bool) -> None:
        self.buf = ""
        self.broken = False  # stdout's reader went away (e.g. `| head`)
        self.on_broken = lambda: None
        self.leds = camera_leds
        self.json_mode = json_mode
        self.frames = 0

    def write(self, text: str) -> None:
        self.buf += text
        while "\n" in self.buf:
            line, self.buf = self.buf.split("\n", 1)
            self._line(line)

    def flush(self) -> None:
        if self.buf:
            self._line(self.buf)
            self.buf = ""

    def _line(self, line: str) -> None:
        if self.broken:
            return
        try:
            self._emit(line)
        except BrokenPipeError:
            self.broken = True
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit either
            self.on_broken()

    def _emit(self, line: str) -> None:
        from host_tools.results import Event, SchemaError, format_event, format_result, parse_line

        try:
            item = parse_line(line)
        except SchemaError as exc:
            print(f"{line}  ({exc})", file=sys.stderr, flush=True)
            return
        if isinstance(item, Event):
            print(line if self.json_mode else format_event(item), flush=True)
            return
        if item is None:
            out = sys.stderr if self.json_mode else sys.stdout
            print(line, file=out, flush=True)
            return
        self.frames += 1
        if self.json_mode:
            print(line, flush=True)
        else:
            print(format_result(item, self.leds()), flush=True)


def run(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from host_tools.openmv_firmware import DEFAULT
    from host_tools.sim.openmv.fs_lock import FsLock

    _check_args(args)
    if args.firmware is None:
        args.firmware = DEFAULT
    with ExitStack() as stack:
        fs_root = _fs_root(args, stack)
        stack.enter_context(FsLock(fs_root))
        return _run(args, fs_root)
    return 1  # not reached (ExitStack does not swallow exceptions)


def _run(args: argparse.Namespace, fs_root: Path) -> int:
    from host_tools.sim.openmv.camera import EmulatedCamera, HardFault, MachineReset, SimOptions
    from host_tools.sim.openmv.install import install

    opts = SimOptions(
        frames=args.frames,
        board=args.board,
        fps=args.fps,
        count=args.count,
        fs_root=fs_root,
        firmware=args.firmware,
        loop=args.loop or args.pty,
    )
    banner = (
        f"EMULATED OpenMV Cam {'H7 Plus' if args.board == 'h7plus' else 'H7'} (firmware {args.firmware}, "
        f"emulated sensor replaying {args.frames} at {args.fps:g} fps; model in TFLite Micro on this host). "
        "Timings are host timings, not measured on a board."
    )
    if args.pty:
        return _serve_pty(EmulatedCamera(opts, lambda text: sys.stderr.write(text)), banner, fs_root)

    sink = LineSink(lambda: camera.leds, args.json)
    camera = EmulatedCamera(opts, sink.write)
    sink.on_broken = camera.stop
    config = args.config
    if config is None and (OPENMV_APP_DIR / "config.json").is_file():
        config = OPENMV_APP_DIR / "config.json"  # the same default as `host_tools flash`
    installed = install(fs_root, args.model, config, camera.state.budget.fs_bytes, OPENMV_APP_DIR)
    if args.json:
        console.info(banner)
    elif not console.quiet():
        print(banner, flush=True)
    where = f"camera filesystem {fs_root}" if args.fs else "a fresh camera filesystem"
    console.info(f"{where}: installed {', '.join(installed)}")
    if not args.fs:
        console.detail(f"(the fresh filesystem is {fs_root}, removed at the end of the run)")
    previous = signal.signal(signal.SIGINT, lambda *_: camera.stop())
    try:
        for _ in range(MAX_REBOOTS):
            try:
                camera.run_main()
                break
            except MachineReset:
                console.info("camera: machine.reset(), rebooting")
            except HardFault as fault:
                raise HostToolsError(
                    f"the emulated camera hard-faulted after {sink.frames} frames ({fault}); a camera would "
                    "reset and fault again at every boot: flash another model (a script stopped at boot "
                    "recovers a camera)"
                ) from None
    finally:
        signal.signal(signal.SIGINT, previous)
        sink.flush()
    if sink.broken:
        return 0
    if camera.end_reason == "stopped":
        raise KeyboardInterrupt
    if camera.end_reason == "error":
        from host_tools.sim.openmv.runtime import exception_line

        raise HostToolsError(
            f"main.py stopped on the emulated camera after {sink.frames} frames: "
            f"{exception_line(camera.last_error)}"
        )
    if camera.end_reason is None:
        raise HostToolsError(f"no main.py in the camera filesystem {fs_root}: nothing ran")
    if sink.frames == 0:
        why = ("main.py returned" if camera.end_reason == "end" else "the frames ended")
        raise HostToolsError(f"no frame was classified: {why} before the app printed a result "
                             "(its other output is above)")
    if camera.end_reason == "end":
        console.info("camera: main.py returned")
    return 0


def _serve_pty(camera, banner: str, fs_root: Path) -> int:
    try:
        from host_tools.sim.openmv.pty_server import serve_pty
    except ModuleNotFoundError as exc:
        if exc.name != "host_tools.sim.openmv.pty_server":
            raise
        raise HostToolsError(
            "--pty needs the Protocol V2 server (host_tools/sim/openmv/pty_server.py), "
            "which this build does not have yet"
        ) from None
    from host_tools.devices import registry

    console.info(banner)
    console.detail(f"camera filesystem: {fs_root}")
    # Firmware 5 speaks Protocol V2; 4.x offers the MicroPython REPL on its serial port.
    protocol = camera.state.fw.protocol
    entries = []

    def ready(path: str) -> None:
        print(path, flush=True)
        firmware = ".".join(map(str, camera.state.firmware))
        entries.append(registry.register({"device": "sim:openmv", "port": path, "board": camera.opts.board,
                                          "firmware": firmware, "protocol": protocol, "emulated": True}))

    try:
        return int(serve_pty(camera, ready, protocol=protocol) or 0)
    finally:
        for entry in entries:  # `host_tools devices` lists it while it serves
            registry.unregister(entry)
