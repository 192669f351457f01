"""The emulated camera's Protocol V2 behaves like the firmware's omv_protocol.c, packet by packet: boot caps
(ACK and events on), SET_CAPS answered by a bare ACK, answers on the request's channel, NAKs for a bad
payload CRC, an oversize payload and a wrong sequence number, a 50-byte minimum payload, and a stdout that
keeps a whole new line when it overflows."""

from __future__ import annotations

import struct
import time

from host_tools.protocol.constants import MIN_PAYLOAD, CapFlag, Flag, Op, Status
from host_tools.protocol.packet import Packet, Parser, encode
from host_tools.sim.openmv.v2_channels import StdoutChannel
from host_tools.transport.serial_port import SerialPort


class Raw:
    """A bare host: sends packets, collects the camera's, ACKs nothing unless asked."""

    def __init__(self, path: str) -> None:
        self.port = SerialPort.open(path)
        self.parser = Parser()

    def send(self, pkt: Packet, raw: bytes | None = None) -> None:
        self.port.write(raw if raw is not None else encode(pkt))

    def recv(self, timeout: float = 2.0, opcode: int | None = None) -> Packet:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for pkt in self.parser.feed(self.port.read(timeout=0.05)):
                if not pkt.has(Flag.EVENT) and (opcode is None or pkt.opcode == opcode):
                    return pkt
        raise AssertionError("no answer")

    def ack(self, pkt: Packet) -> None:
        self.send(Packet(pkt.seq, pkt.channel, Flag.ACK, pkt.opcode))


def test_boot_caps_set_caps_channels_and_naks(start_server) -> None:
    server = start_server(main=None)
    h = Raw(server.path)
    try:
        h.send(Packet(0, 0, 0, Op.SYNC))
        sync = h.recv(opcode=Op.SYNC)
        assert sync.has(Flag.ACK) and sync.has(Flag.ACK_REQ)  # ACKs are on at boot: even this asks for one
        h.ack(sync)
        h.send(Packet(0, 0, 0, Op.GET_CAPS))
        caps = h.recv(opcode=Op.GET_CAPS)
        h.ack(caps)
        flags, payload = struct.unpack_from("<IH", caps.payload)
        assert flags == CapFlag.CRC | CapFlag.SEQ | CapFlag.ACK | CapFlag.EVENTS and payload == 498
        # SET_CAPS below the minimum payload is INVALID; a right one gets a bare ACK (no echo).
        small = struct.pack("<IH10x", CapFlag.CRC | CapFlag.SEQ, MIN_PAYLOAD - 1)
        h.send(Packet(1, 0, 0, Op.SET_CAPS, small))
        bad = h.recv(opcode=Op.SET_CAPS)
        h.ack(bad)
        assert bad.has(Flag.NAK) and struct.unpack("<H", bad.payload)[0] == Status.INVALID
        h.send(Packet(2, 0, 0, Op.SET_CAPS, struct.pack("<IH10x", CapFlag.CRC | CapFlag.SEQ, MIN_PAYLOAD)))
        ok = h.recv(opcode=Op.SET_CAPS)
        h.ack(ok)
        assert ok.has(Flag.ACK) and ok.payload == b""
        # ACKs are off now; a channel request is answered on its channel.
        h.send(Packet(3, 2, 0, Op.SIZE))
        size = h.recv(opcode=Op.SIZE)
        assert size.channel == 2 and not size.has(Flag.ACK_REQ) and len(size.payload) == 4
        # A damaged payload (valid header): CHECKSUM; too long for the agreed payload: OVERFLOW; wrong seq.
        wire = bytearray(encode(Packet(4, 1, 0, Op.WRITE, struct.pack("<II", 0, 4) + b"abcd")))
        wire[-6] ^= 0xFF
        h.send(Packet(0, 0, 0, 0), bytes(wire))
        assert struct.unpack("<H", h.recv(opcode=Op.WRITE).payload)[0] == Status.CHECKSUM
        h.send(Packet(5, 1, 0, Op.WRITE, struct.pack("<II", 0, 60) + bytes(60)))
        assert struct.unpack("<H", h.recv(opcode=Op.WRITE).payload)[0] == Status.OVERFLOW
        h.send(Packet(99, 0, 0, Op.STATS))
        assert struct.unpack("<H", h.recv(opcode=Op.STATS).payload)[0] == Status.SEQUENCE
        # Protocol requests must come on channel 0. (The camera's events move its sequence number on its
        # own thread: a request sent with the number just read can be a step behind; then it is resent.)
        for _ in range(3):
            h.send(Packet(server.device.seq, 3, 0, Op.GET_CAPS))
            status = struct.unpack("<H", h.recv(opcode=Op.GET_CAPS).payload)[0]
            if status != Status.SEQUENCE:
                break
        assert status == Status.INVALID
    finally:
        h.port.close()


def test_stdout_keeps_the_whole_new_line_on_overflow() -> None:
    out = StdoutChannel(64)
    out.put("a" * 40 + "\n")
    out.put("b" * 30 + "\n")  # does not fit beside the first: the first goes, this one stays whole
    assert out.read(0, 100) == b"b" * 30 + b"\n" and out.lost == 41
