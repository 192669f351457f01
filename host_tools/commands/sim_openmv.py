"""`host_tools sim openmv`: run openmv_app/main.py on an emulated OpenMV H7 (camera replays frames)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from host_tools.errors import HostToolsError, RefusedError, UsageError
from host_tools.paths import MASKS_MODEL, OPENMV_APP_DIR

HELP = """\
Installs openmv_app/*.py, the model (as model.tflite) with its labels (the model's sibling .txt, as
model.txt) and the config (as config.json, if given) into the emulated camera's flash filesystem, then boots
main.py. The camera replays --frames (a folder of images sorted by name, or a video file) at --fps, one frame
per snapshot, and the model runs in TFLite Micro under the board's memory budget. Everything but the app's
source and TFLite Micro is emulated; timings are this host's, not a board's.
With --pty nothing is installed: the camera serves Protocol V2 on a pseudo-terminal (use `host_tools flash`).
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
    p.add_argument("--board", default="h7", help="h7 (default) or h7plus")
    p.add_argument("--fps", type=float, default=10.0, help="camera frame rate (default 10)")
    p.add_argument("--count", type=int, help="stop after N frames (default: at the end of the frames)")
    p.add_argument("--model", type=Path, default=MASKS_MODEL, help="int8 .tflite (default: the masks model)")
    p.add_argument("--config", type=Path, help="app config JSON installed as config.json")
    p.add_argument("--json", action="store_true", help="stdout: exactly the app's JSON lines (one per frame)")
    p.add_argument("--fs", type=Path, help="camera filesystem directory (default: .sim/openmv_fs; persists)")
    p.add_argument(
        "--firmware",
        help="emulated firmware: 5.0.0 (default; `ml`, `csi.CSI`, Protocol V2 with --pty), 4.8.0, 4.7.0, "
        "4.6.0 (MicroPython REPL with --pty), 4.5.5 (legacy `tf`, no `ml`); what differs: README",
    )
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


def install(fs_root: Path, model: Path, config: Path | None, fs_bytes: int) -> list[str]:
    """Copies app + model + labels (+ config) into the camera filesystem; refuses if they do not fit."""
    files = {p.name: p.read_bytes() for p in sorted(OPENMV_APP_DIR.glob("*.py"))}
    files["model.tflite"] = model.read_bytes()
    files["model.txt"] = model.with_suffix(".txt").read_bytes()
    if config is not None:
        files["config.json"] = config.read_bytes()
    from host_tools.model_budget import fat_geometry

    geo = fat_geometry(fs_bytes)  # FAT: every file takes whole clusters
    kept = sum(
        geo.clusters_for(p.stat().st_size)
        for p in fs_root.rglob("*")
        if p.is_file() and p.relative_to(fs_root).as_posix() not in files
    )
    needed = kept + sum(geo.clusters_for(len(b)) for b in files.values())
    if needed > geo.clusters:
        raise RefusedError(
            f"the files do not fit the camera's flash filesystem ({geo.usable_bytes} usable bytes: "
            f"{geo.clusters} clusters of {geo.cluster_bytes}): model.tflite is {len(files['model.tflite'])} "
            f"bytes, {needed * geo.cluster_bytes} bytes needed in all ({kept * geo.cluster_bytes} already "
            "there)"
        )
    for name, data in files.items():
        (fs_root / name).write_bytes(data)
    return list(files)


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
        result = _frame_result(line)
        if result is None:
            out = sys.stderr if self.json_mode else sys.stdout
            print(line, file=out, flush=True)
            return
        self.frames += 1
        if self.json_mode:
            print(line, flush=True)
        else:
            print(live_line(result, self.leds()), flush=True)


def _frame_result(line: str) -> dict | None:
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) and "frame" in obj and "label" in obj else None


def live_line(r: dict, leds: dict[str, bool]) -> str:
    scores = "  ".join(f"{k} {v:.2f}" for k, v in r.get("scores", {}).items())
    ms = r.get("ms", {})
    lit = "+".join(c for c, on in leds.items() if on) or "off"
    return (
        f"frame {r['frame']:5d}  {r['label']:<8} {r['score']:.2f}   [{scores}]   "
        f"snapshot {ms.get('snapshot', 0):5.1f} ms  infer {ms.get('infer', 0):6.1f} ms  "
        f"total {ms.get('total', 0):6.1f} ms  {r.get('fps', 0):5.1f} fps  LED {lit}"
    )


def run(args: argparse.Namespace) -> int:
    from host_tools.openmv_firmware import DEFAULT
    from host_tools.sim.openmv.camera import EmulatedCamera, HardFault, MachineReset, SimOptions
    from host_tools.sim.openmv.options import DEFAULT_FS_ROOT

    _check_args(args)
    if args.firmware is None:
        args.firmware = DEFAULT
    opts = SimOptions(
        frames=args.frames,
        board=args.board,
        fps=args.fps,
        count=args.count,
        fs_root=args.fs or DEFAULT_FS_ROOT,
        firmware=args.firmware,
        loop=args.loop or args.pty,
    )
    banner = (
        f"EMULATED OpenMV Cam {'H7 Plus' if args.board == 'h7plus' else 'H7'} (firmware {args.firmware}, "
        f"emulated sensor replaying {args.frames} at {args.fps:g} fps; model in TFLite Micro on this host). "
        "Timings are host timings, not measured on a board."
    )
    if args.pty:
        return _serve_pty(EmulatedCamera(opts, lambda text: sys.stderr.write(text)), banner)

    sink = LineSink(lambda: camera.leds, args.json)
    camera = EmulatedCamera(opts, sink.write)
    sink.on_broken = camera.stop
    installed = install(opts.fs_root, args.model, args.config, camera.state.budget.fs_bytes)
    print(banner, file=sys.stderr if args.json else sys.stdout, flush=True)
    print(
        f"camera filesystem {opts.fs_root}: installed {', '.join(installed)}"
        + ("" if args.config else " (config.json: kept from earlier runs if present)"),
        file=sys.stderr,
        flush=True,
    )
    previous = signal.signal(signal.SIGINT, lambda *_: camera.stop())
    try:
        for _ in range(MAX_REBOOTS):
            try:
                camera.run_main()
                break
            except MachineReset:
                print("camera: machine.reset(), rebooting", file=sys.stderr, flush=True)
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
    if camera.end_reason == "end":
        print("camera: main.py returned", file=sys.stderr)
    return 0


def _serve_pty(camera, banner: str) -> int:
    try:
        from host_tools.sim.openmv.pty_server import serve_pty
    except ModuleNotFoundError as exc:
        if exc.name != "host_tools.sim.openmv.pty_server":
            raise
        raise HostToolsError(
            "--pty needs the Protocol V2 server (host_tools/sim/openmv/pty_server.py), "
            "which this build does not have yet"
        ) from None
    print(banner, file=sys.stderr, flush=True)
    # Firmware 5 speaks Protocol V2; 4.x offers the MicroPython REPL on its serial port.
    protocol = camera.state.fw.protocol
    return int(serve_pty(camera, lambda path: print(path, flush=True), protocol=protocol) or 0)
