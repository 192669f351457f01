"""Which protocol a camera speaks: Protocol V2 (a SYNC is answered) or the raw REPL of firmware 4.x.

Commands take `--protocol auto|v2|legacy` (names.add_device_arguments); resolve_protocol() turns "auto"
into the one the camera answers.
"""

from __future__ import annotations

import time

from host_tools.errors import DeviceError, UsageError
from host_tools.protocol.constants import Flag, Op
from host_tools.protocol.legacy import RAW_BANNER
from host_tools.protocol.packet import Packet, Parser, encode
from host_tools.transport.serial_port import REPL_BAUDRATE, V2_BAUDRATE, SerialPort

PROTOCOLS = ("auto", "v2", "legacy")


def detect_protocol(port: str, timeout: float = 1.0) -> str:
    """'v2' or 'legacy'; DeviceError if neither answers."""
    with SerialPort.open(port, V2_BAUDRATE) as sp:
        sp.reset_input()
        parser = Parser()
        for _ in range(2):
            sp.write(encode(Packet(0, 0, 0, Op.SYNC)))
            deadline = time.monotonic() + timeout / 2
            while time.monotonic() < deadline:
                for pkt in parser.feed(sp.read(timeout=0.05)):
                    if pkt.opcode == Op.SYNC and pkt.has(Flag.ACK):
                        return "v2"
    with SerialPort.open(port, REPL_BAUDRATE) as sp:
        sp.write(b"\r\x03\x03")
        sp.read_until_quiet(0.1, 0.5)
        sp.write(b"\r\x01")
        reply = bytearray()
        deadline = time.monotonic() + timeout
        while RAW_BANNER not in reply and time.monotonic() < deadline:
            reply += sp.read(timeout=0.05)
        if RAW_BANNER in reply:
            sp.write(b"\x02")  # leave the raw REPL as we found it
            return "legacy"
    raise DeviceError(
        f"no OpenMV camera answered on {port}: neither Protocol V2 (firmware 5) nor the MicroPython REPL "
        "(firmware 4.x); check the port, or pass --protocol"
    )


def resolve_protocol(port: str, protocol: str) -> str:
    """'v2' or 'legacy' for `port` (detected when `protocol` is 'auto')."""
    if protocol not in PROTOCOLS:
        raise UsageError(f"unknown protocol {protocol!r} (choose {', '.join(PROTOCOLS)})")
    if protocol != "auto":
        return protocol
    return detect_protocol(port, timeout=3.0)  # generous: a busy (or emulated) camera answers late
