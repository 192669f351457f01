"""Board link over the raw REPL of firmware 4.x (host_tools.protocol.legacy.RawRepl does the framing)."""

from __future__ import annotations

import time

from host_tools.devices.micropython import DeviceExecError
from host_tools.errors import DeviceError


class LegacyLink:
    """A Link (see micropython.py) on an entered RawRepl: output and error text come back separately."""

    def __init__(self, repl, port: str) -> None:
        self.repl = repl
        self.description = f"raw REPL (firmware 4.x) on {port}"

    def exec(self, source: str, timeout: float) -> str:
        out, err = self.repl.exec_raw(source, timeout)
        if err.strip():
            raise DeviceExecError(err, out)
        return out

    def reset(self) -> None:
        """machine.reset(): the camera reboots at once (no answer comes) and runs main.py.

        Stop whatever runs and re-enter the raw REPL first (ctrl-C, ctrl-A): an interrupted host may have
        left half a script in its buffer, which the reset script would otherwise be appended to."""
        try:
            self.repl.port.write(b"\r\x03\x03\x01")
            time.sleep(0.1)
            self.repl.port.write(b"import machine\r\nmachine.reset()\r\n\x04")
        except DeviceError:
            pass  # the port can vanish as the board resets

    def close(self) -> None:
        self.repl.close()


def open_legacy_link(port: str, timeout: float = 2.0) -> LegacyLink:
    from host_tools.protocol.legacy import RawRepl

    return LegacyLink(RawRepl.open(port, timeout), port)
