"""Host side of the Protocol V2 link layer: one request, one (possibly fragmented) response.

Sequence numbers: the host sends request seq N; the device answers with seq N, N+1, ... (one per fragment)
and both sides continue from the next number. A request that gets no answer is retransmitted with the RTX
flag and the same seq (3 times, 500 ms doubling). Packets the device marks ACK_REQ are acknowledged.
Anything stale (an old seq) is dropped; events are handed to a callback.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable

from host_tools import console
from host_tools.errors import DeviceError
from host_tools.protocol.constants import MIN_PAYLOAD, RTX_RETRIES, RTX_TIMEOUT_S, Flag, Op, Status
from host_tools.protocol.packet import Packet, Parser, encode
from host_tools.transport.serial_port import SerialPort


class NakError(DeviceError):
    """The device refused a request (NAK) with a status code."""

    def __init__(self, opcode: int, status: int) -> None:
        self.opcode, self.status = opcode, status
        try:
            name = Status(status).name
        except ValueError:
            name = f"status {status}"
        try:
            op = Op(opcode).name
        except ValueError:
            op = f"opcode 0x{opcode:02x}"
        super().__init__(f"camera refused {op}: {name}")


class LinkTimeout(DeviceError):
    """No valid answer after every retransmission."""


class V2Link:
    def __init__(
        self,
        port: SerialPort,
        *,
        rtx_timeout: float = RTX_TIMEOUT_S,
        retries: int = RTX_RETRIES,
        on_event: Callable[[Packet], None] | None = None,
    ) -> None:
        self.port = port
        self.seq = 0
        self.max_payload = MIN_PAYLOAD  # host -> device payload limit until SET_CAPS agrees on more
        self.rtx_timeout = rtx_timeout
        self.retries = retries
        self.on_event = on_event
        self.parser = Parser()
        self.retransmits = 0

    def send(self, pkt: Packet) -> None:
        if console.debugging():
            console.trace(f"V2 > {_describe(pkt)}")
        self.port.write(encode(pkt))

    def sync(self, timeout: float = 2.0) -> None:
        """PROTO_SYNC: both sides restart their sequence numbers at 0."""
        self.port.reset_input()
        self.parser.reset()
        deadline = time.monotonic() + timeout
        wait = min(self.rtx_timeout, timeout)
        while True:
            self.send(Packet(0, 0, 0, Op.SYNC))
            try:
                self._await(Op.SYNC, wait, any_seq=True)
                self.seq = 0
                return
            except _Timeout:
                if time.monotonic() >= deadline:
                    raise LinkTimeout(
                        f"no Protocol V2 answer from {self.port.path} within {timeout:.1f} s "
                        "(not an OpenMV camera with firmware 5, or another program holds the port)"
                    ) from None
                wait = min(wait * 2, max(0.05, deadline - time.monotonic()))

    def request(self, opcode: int, channel: int = 0, payload: bytes = b"") -> bytes:
        """Send one request; return the answer payload (b"" for a bare ACK). Raises NakError, LinkTimeout."""
        if len(payload) > self.max_payload:
            raise ValueError(f"request payload {len(payload)} > agreed maximum {self.max_payload}")
        base = self.seq
        wait = self.rtx_timeout
        for attempt in range(self.retries + 1):
            flags = Flag.RTX if attempt else 0
            if attempt:
                self.retransmits += 1
            self.seq = base
            self.send(Packet(base, channel, flags, opcode, payload))
            try:
                return self._await(opcode, wait)
            except _Timeout:
                wait *= 2
            except NakError as exc:
                if exc.status != Status.CHECKSUM or attempt == self.retries:
                    raise
                # The request arrived corrupted: send it again at once.
        name = Op(opcode).name if opcode in Op._value2member_map_ else f"0x{opcode:02x}"
        raise LinkTimeout(f"camera on {self.port.path} did not answer {name} after {self.retries} retries")

    def send_only(self, opcode: int, channel: int = 0) -> None:
        """A request that has no answer (RESET, BOOT)."""
        self.send(Packet(self.seq, channel, 0, opcode))

    def _await(self, opcode: int, wait: float, any_seq: bool = False) -> bytes:
        frags = bytearray()
        self._gap = False  # a fragment of this answer went missing (8-bit seqs wrap: 256 later looks right)
        deadline = time.monotonic() + wait
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout
            data = self.port.read(timeout=min(remaining, 0.05))
            packets = self.parser.feed(data) if data else []
            if not data and self.parser.pending and time.monotonic() >= deadline - wait / 2:
                packets = self.parser.drain()  # a truncated packet must not hide what follows it
            for pkt in packets:
                if console.debugging():
                    console.trace(f"V2 < {_describe(pkt)}")
                result = self._accept(pkt, opcode, frags, any_seq)
                if result is _MORE:
                    deadline = time.monotonic() + wait  # every fragment restarts the clock
                elif result is not None:
                    return result

    def _accept(self, pkt: Packet, opcode: int, frags: bytearray, any_seq: bool) -> object:
        if pkt.has(Flag.EVENT):
            if self.on_event:
                self.on_event(pkt)
            return None
        if pkt.has(Flag.NAK) and pkt.opcode == opcode and _status(pkt) == Status.SEQUENCE:
            raise NakError(pkt.opcode, Status.SEQUENCE)  # the device lost our numbering (e.g. it rebooted)
        if pkt.seq != self.seq and not any_seq:
            if pkt.has(Flag.ACK_REQ) and pkt.has(Flag.RTX):
                self.send(Packet(pkt.seq, pkt.channel, Flag.ACK, pkt.opcode))  # our ACK was lost
            elif pkt.opcode == opcode and not pkt.has(Flag.RTX):
                self._gap = True
            return None  # stale or duplicate
        if pkt.opcode != opcode:
            return None  # the answer to an abandoned request
        if pkt.has(Flag.ACK_REQ):
            self.send(Packet(pkt.seq, pkt.channel, Flag.ACK, pkt.opcode))
        self.seq = (pkt.seq + 1) & 0xFF
        if pkt.has(Flag.NAK):
            raise NakError(pkt.opcode, _status(pkt))
        if pkt.has(Flag.FRAGMENT):
            frags += pkt.payload
            return _MORE
        if self._gap:
            raise _Timeout  # incomplete answer: ask again
        return bytes(frags) + pkt.payload


class _Timeout(Exception):
    pass


_MORE = object()


def _status(pkt: Packet) -> int:
    return struct.unpack_from("<H", pkt.payload)[0] if len(pkt.payload) >= 2 else Status.UNKNOWN


def _describe(pkt: Packet) -> str:
    """One packet for the --debug trace: seq, opcode name, flags, channel, payload size and first bytes."""
    try:
        op = Op(pkt.opcode).name
    except ValueError:
        op = f"0x{pkt.opcode:02x}"
    flags = "|".join(f.name for f in Flag if pkt.flags & f) or "-"
    head = pkt.payload[:16].hex(" ")
    return (f"seq {pkt.seq} {op} flags {flags} chan {pkt.channel} {len(pkt.payload)} B"
            + (f": {head}{' ...' if len(pkt.payload) > 16 else ''}" if pkt.payload else ""))
