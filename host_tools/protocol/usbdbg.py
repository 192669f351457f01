"""Firmware 4.x's IDE debug protocol ("usbdbg"), active when the host sets the port to 921600 or 12M baud.

Each command is a 6-byte header (0x30, opcode, uint32 length, little-endian). Opcodes with the top bit set
read `length` bytes from the camera; the others may send `length` bytes to it (SCRIPT_EXEC, FB_ENABLE).
"""

from __future__ import annotations

import struct
import time

from host_tools.errors import DeviceError
from host_tools.transport.serial_port import SerialPort

USBDBG_BAUDRATE = 921600
FW_VERSION, FRAME_SIZE, FRAME_DUMP, ARCH_STR = 0x80, 0x81, 0x82, 0x83
SCRIPT_EXEC, SCRIPT_STOP, SCRIPT_RUNNING = 0x05, 0x06, 0x87
SYS_RESET, FB_ENABLE, TX_BUF_LEN, TX_BUF = 0x0C, 0x0D, 0x8E, 0x8F


def header(opcode: int, length: int) -> bytes:
    return struct.pack("<BBI", 0x30, opcode, length)


class UsbdbgClient:
    def __init__(self, port: SerialPort, timeout: float = 2.0) -> None:
        self.port, self.timeout = port, timeout

    @classmethod
    def open(cls, port: str, timeout: float = 2.0) -> UsbdbgClient:
        sp = SerialPort.open(port, USBDBG_BAUDRATE)
        client = cls(sp, timeout)
        try:
            sp.read_until_quiet(0.05, 0.5)  # whatever the camera sent before we switched the line speed
            try:
                client.fw_version()
            except DeviceError:
                sp.read_until_quiet(0.05, 0.5)  # a camera that was still switching modes: ask once more
                client.fw_version()
        except BaseException:
            sp.close()
            raise
        return client

    def _in(self, opcode: int, length: int) -> bytes:
        self.port.write(header(opcode, length))
        data = bytearray()
        deadline = time.monotonic() + self.timeout
        while len(data) < length:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeviceError(
                    f"no usbdbg answer from {self.port.path} (opcode 0x{opcode:02x}: {len(data)} of {length} "
                    "bytes); not an OpenMV camera with firmware 4.x, or the port is busy"
                )
            data += self.port.read(length - len(data), timeout=min(left, 0.1))
        return bytes(data)

    def fw_version(self) -> tuple[int, int, int]:
        return struct.unpack("<3I", self._in(FW_VERSION, 12))  # type: ignore[return-value]

    def arch(self) -> str:
        return self._in(ARCH_STR, 64).split(b"\0", 1)[0].decode("ascii", "replace")

    def script_running(self) -> bool:
        return bool(struct.unpack("<I", self._in(SCRIPT_RUNNING, 4))[0])

    def exec_script(self, source: str) -> None:
        """Stop the running script (the camera ignores EXEC while one runs) and start `source`."""
        if self.script_running():
            self.stop_script()
            deadline = time.monotonic() + self.timeout
            while self.script_running():
                if time.monotonic() > deadline:
                    raise DeviceError(f"the script on {self.port.path} did not stop")
                time.sleep(0.02)
        data = source.encode("utf-8")
        self.port.write(header(SCRIPT_EXEC, len(data)) + data)

    def stop_script(self) -> None:
        self.port.write(header(SCRIPT_STOP, 0))

    def read_output(self) -> bytes:
        """Text the scripts printed since the last call."""
        (n,) = struct.unpack("<I", self._in(TX_BUF_LEN, 4))
        return self._in(TX_BUF, n) if n else b""

    def enable_frames(self, on: bool = True) -> None:
        self.port.write(header(FB_ENABLE, 4) + struct.pack("<I", int(on)))

    def read_frame(self) -> tuple[int, int, bytes] | None:
        """(width, height, JPEG bytes) of a new frame, or None if none is ready."""
        w, h, size = struct.unpack("<3I", self._in(FRAME_SIZE, 12))
        return (w, h, self._in(FRAME_DUMP, size)) if size else None

    def reset(self) -> None:
        self.port.write(header(SYS_RESET, 0))

    def close(self) -> None:
        self.port.close()

    def __enter__(self) -> UsbdbgClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
