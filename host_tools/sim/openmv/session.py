"""One run of the emulated OpenMV camera: its filesystem, the app installed, boots and reboots, and its USB
output split into lines for the terminal (what `host_tools sim openmv` does once its arguments are checked).
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from host_tools import console
from host_tools.errors import HostToolsError, UsageError
from host_tools.sim.openmv.camera import EmulatedCamera, HardFault, MachineReset, SimOptions
from host_tools.sim.openmv.install import install

MAX_REBOOTS = 20  # machine.reset() loops


def fs_root(fs: Path | None, stack: ExitStack) -> Path:
    """`fs` (created if missing), else a fresh temporary folder removed when `stack` closes."""
    if fs is None:
        return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="openmv_fs-")))
    try:
        fs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--fs {fs}: cannot create the folder ({exc.strerror or exc})") from None
    return fs


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


def run_camera(opts: SimOptions, model: Path, config: Path | None, app_dir: Path, json_mode: bool,
               kept_fs: bool, pty: bool) -> int:
    """Boot the emulated camera on opts.fs_root: with `pty`, serve it on a pseudo-terminal (nothing
    installed); else install the app, `model` and `config` and run main.py, its lines on stdout (exactly the
    app's JSON lines with `json_mode`; readable lines otherwise). Returns the exit code; HostToolsError says
    why a run classified nothing or stopped."""
    fs_root = opts.fs_root
    banner = (
        f"EMULATED OpenMV Cam {'H7 Plus' if opts.board == 'h7plus' else 'H7'} (firmware {opts.firmware}, "
        f"emulated sensor replaying {opts.frames} at {opts.fps:g} fps; model in TFLite Micro on this host). "
        "Timings are host timings, not measured on a board."
    )
    if pty:
        return serve_on_pty(EmulatedCamera(opts, lambda text: sys.stderr.write(text)), banner, fs_root)

    sink = LineSink(lambda: camera.leds, json_mode)
    camera = EmulatedCamera(opts, sink.write)
    sink.on_broken = camera.stop
    if config is None and (app_dir / "config.json").is_file():
        config = app_dir / "config.json"  # the same default as `host_tools flash`
    installed = install(fs_root, model, config, camera.state.budget.fs_bytes, app_dir)
    if json_mode:
        console.info(banner)
    elif not console.quiet():
        print(banner, flush=True)
    where = f"camera filesystem {fs_root}" if kept_fs else "a fresh camera filesystem"
    console.info(f"{where}: installed {', '.join(installed)}")
    if not kept_fs:
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


def serve_on_pty(camera: EmulatedCamera, banner: str, fs_root: Path) -> int:
    """Serve the camera on a pseudo-terminal (its path printed on stdout) until stopped; `host_tools devices`
    lists it meanwhile."""
    from host_tools.devices import registry
    from host_tools.sim.openmv.pty_server import serve_pty

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
