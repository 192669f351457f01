"""Runs MicroPython source in CPython with the emulated firmware modules.

Nothing global is patched: each script gets its own builtins dict whose __import__ serves the emulated
modules (modules/<name>.py, each exposing make(state) -> module), the app's own modules from the camera
filesystem, and a few pure modules MicroPython also has. Any other import fails as on the board.
Errors are printed MicroPython-style through state.write.
"""

from __future__ import annotations

import builtins
import errno
import importlib
import traceback
import types

from host_tools.sim.openmv import fs
from host_tools.sim.openmv.state import BoardState, EndOfFrames, HardFault, MachineReset

# Emulated firmware modules: import name -> module (under host_tools.sim.openmv.modules unless dotted)
# providing make(state, run).
EMULATED = {
    "csi": "csi",
    "sensor": "sensor",
    "image": "image",
    "ml": "ml",
    "tf": "tf",
    "pyb": "pyb",
    "machine": "machine",
    "time": "time",
    "utime": "time",
    "omv": "omv",
    "gc": "gc",
    "micropython": "micropython",
    "os": "os",
    "uos": "os",
    "json": "json",
    "ujson": "json",
    "hashlib": "hashlib",
    "uhashlib": "hashlib",
    "binascii": "binascii",
    "ubinascii": "binascii",
    "sys": "sys",
    "usys": "sys",
    "protocol": "protocol",  # modules/protocol.py -> mp_protocol.py (the protocol helper's)
}
# Pure modules whose CPython version behaves like MicroPython's for what scripts use.
PASSTHROUGH = {
    "math": "math",
    "struct": "struct",
    "ustruct": "struct",
    "errno": "errno",
    "uerrno": "errno",
    "array": "array",
    "uarray": "array",
    "collections": "collections",
    "ucollections": "collections",
    "re": "re",
    "ure": "re",
    "io": "io",
    "uio": "io",
    "random": "random",
    "urandom": "random",
}
ERRNO_NAMES = errno.errorcode  # 2 -> "ENOENT", as MicroPython prints it


class ScriptRun:
    """One script execution: its module table, builtins and the files it compiled (for tracebacks)."""

    def __init__(self, state: BoardState) -> None:
        self.state = state
        self.modules: dict[str, types.ModuleType] = {}
        self._emulated: dict[str, types.ModuleType] = {}  # by factory: `time` and `utime` are one module
        self.script_files: set[str] = set()
        self.builtins = dict(vars(builtins))
        self.builtins.update(__import__=self._import, open=self._open, print=self._print, input=self._input)
        for name in ("exit", "quit", "copyright", "credits", "license", "help", "breakpoint"):
            self.builtins.pop(name, None)

    # --- builtins -------------------------------------------------------------------------------
    def _print(self, *args, sep: str = " ", end: str = "\n", file=None) -> None:
        text = sep.join(str(a) for a in args) + end
        if file is not None and hasattr(file, "write") and not getattr(file, "_usb", False):
            file.write(text)
        else:
            self.state.write(text)

    def _open(self, path, mode="r", *args, **kwargs):
        return fs.fs_open(self.state, path, mode, *args, **kwargs)

    def _input(self, prompt: str = "") -> str:
        raise OSError(errno.EIO, "EIO")  # no interactive stdin for a running script

    # --- imports --------------------------------------------------------------------------------
    def module(self, name: str) -> types.ModuleType:
        """The module a script gets for `import name` (dotted names allowed)."""
        if name in self.modules:
            return self.modules[name]
        top, _, rest = name.partition(".")
        if top not in self.modules:
            self.modules[top] = self._load_top(top)
        mod = self.modules[top]
        for part in rest.split(".") if rest else []:
            sub = getattr(mod, part, None)
            if not isinstance(sub, types.ModuleType):
                raise ImportError(f"no module named '{name}'")
            mod = sub
        self.modules[name] = mod
        return mod

    def _load_top(self, name: str) -> types.ModuleType:
        self.state.checkpoint()
        if name in EMULATED:
            fw = self.state.fw
            if name == "ml" and fw.legacy_tf:
                raise ImportError("no module named 'ml'")
            if name == "csi" and fw.csi == "none":
                raise ImportError("no module named 'csi'")
            if name == "csi" and fw.csi == "alias":
                return self.module("sensor")  # 4.6-4.7 register the sensor module under both names
            target = EMULATED[name]
            target = target if "." in target else f"host_tools.sim.openmv.modules.{target}"
            if target not in self._emulated:
                try:
                    factory = importlib.import_module(target)
                except ModuleNotFoundError as exc:  # e.g. `protocol` before its helper module exists
                    raise ImportError(f"no module named '{name}'") from exc
                self._emulated[target] = factory.make(self.state, self)
            return self._emulated[target]
        if name in PASSTHROUGH:
            return importlib.import_module(PASSTHROUGH[name])
        for folder in (self.state.cwd, "/flash/lib"):
            try:
                host = fs.to_host(self.state, f"{folder}/{name}.py")
            except OSError:
                continue
            if host.is_file():
                return self._load_script_module(name, host.read_text(encoding="utf-8"), f"{name}.py")
        raise ImportError(f"no module named '{name}'")

    def _load_script_module(self, name: str, source: str, filename: str) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__dict__.update(__builtins__=self.builtins, __file__=filename)
        self.modules[name] = mod  # visible during its own execution (circular imports)
        try:
            exec(self.compile(source, filename), mod.__dict__)
        except BaseException:
            self.modules.pop(name, None)
            raise
        return mod

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level:
            raise ImportError("relative import not supported")  # flat filesystem on the camera
        mod = self.module(name)
        return mod if fromlist else self.module(name.partition(".")[0])

    def compile(self, source: str, filename: str):
        self.script_files.add(filename)
        return compile(source, filename, "exec", dont_inherit=True)

    # --- running ----------------------------------------------------------------------------------
    def new_globals(self, filename: str) -> dict:
        return {"__name__": "__main__", "__builtins__": self.builtins, "__file__": filename}

    def run(self, source: str, filename: str, glb: dict | None = None) -> BaseException | None:
        """Execute source as __main__ (in `glb`: the REPL keeps its globals between executions).

        Returns the exception that ended it (None if it ran to its end)."""
        glb = self.new_globals(filename) if glb is None else glb
        try:
            exec(self.compile(source, filename), glb)
        except (EndOfFrames, MachineReset, HardFault):
            raise
        except SystemExit:
            return None
        except KeyboardInterrupt as exc:
            if not self.state.stop_event.is_set():
                self.state.write(format_exception(exc, self.script_files))
            return exc
        except BaseException as exc:  # noqa: BLE001 - the board prints every error and keeps running
            if self.state.fault is not None:
                raise self.state.fault from None  # the script caught the fault: the MCU still resets
            self.state.write(format_exception(exc, self.script_files))
            return exc
        if self.state.fault is not None:
            raise self.state.fault
        return None


def exception_line(exc: BaseException) -> str:
    """'OSError: [Errno 2] ENOENT' / 'ValueError: msg' as MicroPython prints the last traceback line."""
    name = "UnicodeError" if isinstance(exc, UnicodeError) else type(exc).__name__  # MicroPython's one type
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"OSError: [Errno {exc.errno}] {ERRNO_NAMES.get(exc.errno, exc.errno)}"
    msg = str(exc)
    if isinstance(exc, KeyError) and exc.args:
        msg = repr(exc.args[0])
    return f"{name}: {msg}" if msg else f"{name}: "


def format_exception(exc: BaseException, script_files: set[str]) -> str:
    lines = ["Traceback (most recent call last):"]
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename in script_files:
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
    lines.append(exception_line(exc))
    return "\n".join(lines) + "\n"


def print_exception(exc: BaseException, run: ScriptRun, file=None) -> None:
    text = format_exception(exc, run.script_files)
    if file is not None and hasattr(file, "write") and not getattr(file, "_usb", False):
        file.write(text)
    else:
        run.state.write(text)
