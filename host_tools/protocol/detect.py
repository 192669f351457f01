"""Which protocol a camera speaks: Protocol V2 (a SYNC is answered) or the raw REPL of firmware 4.x.

Commands add `--protocol auto|v2|legacy` with add_protocol_argument() and open the camera with connect().
"""

from __future__ import annotations

import argparse
import time

from host_tools.errors import DeviceError, UsageError
from host_tools.protocol.constants import Flag, Op
from host_tools.protocol.legacy import RAW_BANNER, RawRepl
from host_tools.protocol.packet import Packet, Parser, encode
from host_tools.protocol.v2_host import V2Client
from host_tools.transport.serial_port import REPL_BAUDRATE, V2_BAUDRATE, SerialPort

PROTOCOLS = ("auto", "v2", "legacy")


def add_protocol_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="auto",
        help="how to talk to the camera: v2 (firmware 5), legacy (firmware 4.x raw REPL) or auto (detect)",
    )


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


def connect(port: str, protocol: str = "auto", timeout: float = 2.0) -> V2Client | RawRepl:
    if protocol not in PROTOCOLS:
        raise UsageError(f"--protocol must be one of {', '.join(PROTOCOLS)} (got {protocol!r})")
    if protocol == "auto":
        protocol = detect_protocol(port)
    return V2Client.open(port, timeout) if protocol == "v2" else RawRepl.open(port, timeout)
