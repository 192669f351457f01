"""Emulated `sys`: the USB stdout, print_exception, exit, implementation, and the script's module table."""

from __future__ import annotations

import types

from host_tools.sim.openmv import runtime


class _UsbStream:
    _usb = True  # print(file=sys.stdout) goes to the same USB stdout

    def __init__(self, state) -> None:
        self._state = state

    def write(self, text) -> int:
        text = bytes(text).decode(errors="replace") if isinstance(text, (bytes, bytearray)) else str(text)
        self._state.write(text)
        return len(text)

    def flush(self) -> None:
        pass


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("sys")
    stream = _UsbStream(state)
    mod.stdout = mod.stderr = stream
    mod.stdin = None
    mod.print_exception = lambda exc, file=None: runtime.print_exception(exc, run, file)

    def exit(code=0):  # noqa: A001 - the firmware's name
        raise SystemExit(code)

    mod.exit = exit
    mod.argv = []
    mod.path = ["", "/flash", "/flash/lib"]
    mod.modules = run.modules
    mod.byteorder = "little"
    mod.maxsize = 2**31 - 1
    mod.platform = "OpenMV4P-H7" if state.budget.name == "h7plus" else "OpenMV4-H7"  # MICROPY_PY_SYS_PLATFORM
    mod.implementation = types.SimpleNamespace(name="micropython", version=(1, 23, 0, ""), _mpy=6 | (2 << 8))
    mod.version = "3.4.0; MicroPython (emulated OpenMV)"
    mod.version_info = (3, 4, 0)
    return mod
