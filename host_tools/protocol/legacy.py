"""Firmware 4.x: the MicroPython raw REPL on the USB serial port (ordinary baud rates), as mpremote uses it.

Enter with ctrl-C (stop the running script) then ctrl-A; the camera answers "raw REPL; CTRL-B to exit\\r\\n>".
A script is sent followed by ctrl-D; the camera answers "OK", runs it, and sends its output, \\x04, the
error text (empty on success), \\x04 and the ">" prompt.
"""

from __future__ import annotations

import time

from host_tools import console
from host_tools.errors import DeviceError
from host_tools.transport.serial_port import REPL_BAUDRATE, SerialPort

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
CHUNK = 256  # bytes per write while sending a script (the board's USB buffer is small)
ACCEPT_ATTEMPTS = 3  # sends of one script when the camera does not answer OK (it reset meanwhile)


class ScriptError(DeviceError):
    """A script sent through the raw REPL raised an exception on the camera (message = its traceback)."""

    def __init__(self, traceback_text: str) -> None:
        self.traceback = traceback_text
        last = traceback_text.strip().splitlines()[-1] if traceback_text.strip() else "error"
        super().__init__(f"camera script failed: {last}")


class RawRepl:
    def __init__(self, port: SerialPort) -> None:
        self.port = port
        self._rx = bytearray()  # received bytes beyond the last marker

    @classmethod
    def open(cls, port: str, timeout: float = 2.0, baudrate: int = REPL_BAUDRATE) -> RawRepl:
        sp = SerialPort.open(port, baudrate)
        repl = cls(sp)
        try:
            repl.enter(timeout)
        except BaseException:
            sp.close()
            raise
        return repl

    def enter(self, timeout: float = 2.0) -> None:
        self.port.write(b"\r\x03\x03")  # interrupt whatever runs (main.py)
        self.port.read_until_quiet(0.1, 1.0)
        self.port.reset_input()
        self._rx.clear()
        self.port.write(b"\r\x01")
        data = self._read_until(RAW_BANNER, timeout)
        if not data.endswith(RAW_BANNER):
            raise DeviceError(f"no MicroPython raw REPL on {self.port.path} (got {data[-60:]!r})")

    def exec_raw(self, source: str, timeout: float = 30.0) -> tuple[str, str]:
        """Run source; return (output, error text). Raises DeviceError if the camera stops answering."""
        data = source.encode("utf-8")
        if console.debugging():
            first = source.strip().splitlines()[0][:80] if source.strip() else ""
            console.trace(f"REPL > exec {len(data)} B: {first!r}")
        for attempt in range(ACCEPT_ATTEMPTS):
            for i in range(0, len(data), CHUNK):
                self.port.write(data[i : i + CHUNK])
            self.port.write(b"\x04")
            ok = self._read_until(b"OK", 2.0)
            if ok.endswith(b"OK"):
                break
            # No "OK": the script never started. A camera that reset meanwhile (a hard fault, a watchdog)
            # boots into the friendly REPL and runs main.py: stop it, enter the raw REPL again, resend.
            if attempt + 1 == ACCEPT_ATTEMPTS:
                raise DeviceError(f"camera on {self.port.path} did not accept the script (got {ok[-60:]!r})")
            console.trace(f"REPL: no OK (got {ok[-60:]!r}); entering the raw REPL again")
            self.enter(2.0)
        out = self._read_until(b"\x04", timeout)
        err = self._read_until(b"\x04", timeout)
        prompt = self._read_until(b">", timeout)
        if not (out.endswith(b"\x04") and err.endswith(b"\x04") and prompt.endswith(b">")):
            raise DeviceError(f"camera on {self.port.path} did not finish the script within {timeout:.0f} s")
        if console.debugging():
            console.trace(f"REPL < {len(out) - 1} B out, {len(err) - 1} B error: {_text(out[:-1])[:80]!r}")
        return _text(out[:-1]), _text(err[:-1])

    def exec(self, source: str, timeout: float = 30.0) -> str:
        out, err = self.exec_raw(source, timeout)
        if err:
            raise ScriptError(err)
        return out

    def stop_script(self) -> None:
        self.port.write(b"\x03")

    def close(self) -> None:
        if self.port.is_open:
            try:
                self.port.write(b"\x02")  # back to the friendly REPL
            except DeviceError:
                pass
        self.port.close()

    def __enter__(self) -> RawRepl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_until(self, marker: bytes, timeout: float) -> bytes:
        """Bytes up to and including marker (everything received, without it, on timeout)."""
        deadline = time.monotonic() + timeout
        while (i := self._rx.find(marker)) < 0:
            left = deadline - time.monotonic()
            if left <= 0:
                out = bytes(self._rx)
                self._rx.clear()
                return out
            self._rx += self.port.read(timeout=min(left, 0.1))
        out = bytes(self._rx[: i + len(marker)])
        del self._rx[: i + len(marker)]
        return out


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace").replace("\r\n", "\n")
