"""A serial port or pseudo-terminal as a byte pipe with timeouts (pyserial underneath).

Every failure of the port itself (missing, unplugged, closed by the other side, busy) becomes a DeviceError
that names the port, so callers never see a pyserial traceback. termios.error is not an OSError: a port that
vanishes under a termios call (tcflush, tcsetattr; a real H7 drops its USB link on every reset) raises it.

A port is opened exclusively (pyserial's flock): a second program, or a second host_tools whatever protocol
it speaks, is refused at once with "port busy" instead of both reading each other's answers.
"""

from __future__ import annotations

import errno
import os
import select
import termios
import time

import serial

from host_tools.errors import DeviceError

V2_BAUDRATE = 921600  # what the official client uses; USB CDC ignores it
REPL_BAUDRATE = 115200  # firmware 4.x: ordinary rates give the MicroPython REPL


class SerialPort:
    def __init__(self, path: str, ser: serial.Serial) -> None:
        self.path = path
        self._ser = ser

    @classmethod
    def open(cls, path: str, baudrate: int = V2_BAUDRATE) -> SerialPort:
        try:
            ser = serial.Serial(path, baudrate, timeout=0, write_timeout=5.0, exclusive=True)
        except serial.SerialException as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK) and "lock" in str(exc):
                raise DeviceError(f"port busy: {path} is used by another program (another host_tools, "
                                  "an IDE or a terminal); close it and try again") from None
            raise DeviceError(f"cannot open port {path}: {_reason(exc)}") from None
        except (OSError, ValueError, termios.error) as exc:
            raise DeviceError(f"cannot open port {path}: {_reason(exc)}") from None
        return cls(path, ser)

    @property
    def is_open(self) -> bool:
        return self._ser is not None and self._ser.is_open

    def write(self, data: bytes) -> None:
        try:
            self._port().write(data)
            self._port().flush()
        except (serial.SerialException, OSError, termios.error) as exc:
            raise DeviceError(f"port {self.path} failed while writing: {_reason(exc)}") from None

    def read(self, max_bytes: int = 65536, timeout: float = 0.1) -> bytes:
        """Up to max_bytes, as soon as any arrive; b"" if none arrive within timeout seconds."""
        ser = self._port()
        fd = getattr(ser, "fd", None)
        try:
            if fd is None:  # not POSIX: let pyserial wait
                if ser.timeout != timeout:
                    ser.timeout = max(0.0, timeout)
                first = ser.read(1)
                return first + ser.read(min(ser.in_waiting, max_bytes - 1)) if first else b""
            # POSIX: wait and read on the descriptor directly (setting pyserial's timeout costs two
            # termios calls per read, which halves streaming throughput).
            ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
            if not ready:
                return b""
            data = os.read(fd, max_bytes)
            if not data:
                raise OSError("the device reports data but returns none (unplugged?)")
            return data
        except (serial.SerialException, OSError, TypeError, ValueError, termios.error) as exc:
            # TypeError/ValueError: a read after the descriptor was closed underneath us.
            raise DeviceError(f"port {self.path} disappeared or failed: {_reason(exc)}") from None

    def read_until_quiet(self, quiet: float = 0.05, limit: float = 1.0) -> bytes:
        """Everything that arrives until the line has been quiet for `quiet` seconds (at most `limit`)."""
        out = bytearray()
        end = time.monotonic() + limit
        while time.monotonic() < end:
            chunk = self.read(timeout=quiet)
            if not chunk:
                break
            out += chunk
        return bytes(out)

    def reset_input(self) -> None:
        try:
            self._port().reset_input_buffer()
        except (serial.SerialException, OSError, termios.error) as exc:
            raise DeviceError(f"port {self.path} failed: {_reason(exc)}") from None

    def close(self) -> None:
        if self._ser is not None:
            try:
                self._ser.close()
            except (serial.SerialException, OSError, termios.error):
                pass  # closing a port that already vanished
            self._ser = None

    def _port(self) -> serial.Serial:
        if self._ser is None or not self._ser.is_open:
            raise DeviceError(f"port {self.path} is closed")
        return self._ser

    def __enter__(self) -> SerialPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, termios.error) and len(exc.args) == 2:  # (errno, message)
        return f"{exc.args[1]} (termios)"
    text = str(exc) or type(exc).__name__
    return text.replace("\n", " ")
