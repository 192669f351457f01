"""Line faults between host and emulated camera: the host recovers or raises DeviceError, never hangs."""

from __future__ import annotations

import os
import struct
import time

import pytest

from host_tools.errors import DeviceError
from host_tools.protocol.constants import HEADER_SIZE, Op
from host_tools.protocol.packet import Packet, encode
from host_tools.protocol.v2_device import LinkDown
from host_tools.protocol.v2_host import V2Client
from host_tools.protocol.v2_link import LinkTimeout

from .test_v2_session import collect_stdout, wait_for


def _opcode(raw: bytes) -> int:
    return raw[5] if len(raw) >= HEADER_SIZE else -1


def fault_device_writes(server, opcode: int, fault, times: int = 1) -> list[int]:
    """Apply fault(raw) -> bytes|None to the next `times` packets the camera sends with this opcode."""
    original = server.device.write
    hits: list[int] = []

    def write(raw: bytes) -> None:
        if _opcode(raw) == opcode and len(hits) < times:
            hits.append(1)
            raw = fault(raw)
            if raw is None:
                return
        original(raw)

    server.device.write = write
    return hits


def test_dropped_answer_is_retransmitted(start_server) -> None:
    server = start_server(main=None)
    with V2Client.open(server.path) as c:
        hits = fault_device_writes(server, Op.CHANNEL_LIST, lambda raw: None)
        assert "stdout" in [ch.name for ch in c.channels()]
        assert hits and c.link.retransmits >= 1 and c.resyncs == 0


@pytest.mark.parametrize("fault", ["truncate", "bitflip"])
def test_truncated_or_corrupted_fragment_recovers(start_server, fault) -> None:
    server = start_server()
    with V2Client.open(server.path) as c:
        c.enable_stream(True, raw=True)
        wait_for(lambda: server.stream.size() > 0, 5)

        def damage(raw: bytes) -> bytes:
            if fault == "truncate":
                return raw[: len(raw) // 2]
            b = bytearray(raw)
            b[len(b) // 2] ^= 0x10
            return bytes(b)

        fault_device_writes(server, Op.READ, damage, times=1)
        frame = wait_for(c.read_frame, 10)
        assert frame is not None and len(frame.data) == 320 * 240 * 2
        assert c.link.retransmits + c.resyncs >= 1


def test_dropped_request_is_retransmitted(start_server) -> None:
    server = start_server(main=None)
    with V2Client.open(server.path) as c:
        original, dropped = c.link.send, []

        def send(pkt) -> None:
            if pkt.opcode == Op.SIZE and not dropped:
                dropped.append(pkt)
                return
            original(pkt)

        c.link.send = send
        assert c.read_stdout() == b""
        assert dropped and c.link.retransmits == 1


def test_truncated_request_does_not_swallow_what_follows(start_server) -> None:
    server = start_server(main=None)
    with V2Client.open(server.path) as c:
        # The start of a 498-byte packet whose rest never comes, then ordinary small requests.
        c.port.write(encode(Packet(c.link.seq, 1, 0, Op.WRITE, bytes(498)))[:14])
        t0 = time.monotonic()
        assert c.read_stdout() == b""
        assert time.monotonic() - t0 < 2 and c.resyncs == 0


def test_garbage_on_the_line_both_ways(start_server) -> None:
    server = start_server(main=None)
    with V2Client.open(server.path) as c:
        noise = bytes(range(256)) + b"\xaa\xd5\xaa" + os.urandom(300) + b"\xaa"
        c.port.write(noise)  # host -> camera
        os.write(server.master, noise)  # camera -> host
        c.exec_script("print('after noise')\n")
        assert b"after noise" in collect_stdout(c, b"after noise")
        assert "stream" in [ch.name for ch in c.channels()]


def test_camera_reset_in_the_middle_of_a_frame(start_server) -> None:
    server = start_server()
    with V2Client.open(server.path) as c:
        c.enable_stream(True, raw=True)
        assert wait_for(c.read_frame, 5) is not None
        sent = []
        original = server.device.write

        def write(raw: bytes) -> None:
            if _opcode(raw) == Op.READ:
                sent.append(1)
                if len(sent) == 40:  # 40 fragments into a frame the board resets
                    server._reboot.set()
                    raise LinkDown("board reset")
            original(raw)

        server.device.write = write
        frame = wait_for(c.read_frame, 15)
        assert frame is not None and len(frame.data) == 320 * 240 * 2
        assert c.resyncs >= 1
        assert b"main frame 1\n" in collect_stdout(c, b"main frame 1\n")  # main.py rebooted


def test_port_that_disappears_raises_device_error(start_server) -> None:
    server = start_server(main=None)
    c = V2Client.open(server.path)
    try:
        server.close()
        t0 = time.monotonic()
        with pytest.raises(DeviceError):
            for _ in range(3):
                c.channels()
        assert time.monotonic() - t0 < 20
    finally:
        c.close()


def test_silent_port_times_out_with_clear_message(tmp_path) -> None:
    master, slave = os.openpty()
    try:
        t0 = time.monotonic()
        with pytest.raises(LinkTimeout, match="no Protocol V2 answer"):
            V2Client.open(os.ttyname(slave), timeout=1.0)
        assert time.monotonic() - t0 < 5
    finally:
        os.close(master)
        os.close(slave)
    with pytest.raises(DeviceError, match="cannot open port"):
        V2Client.open(str(tmp_path / "no-such-port"))


def test_host_disconnects_mid_transfer_and_a_new_host_connects(start_server) -> None:
    server = start_server()
    c1 = V2Client.open(server.path)
    c1.enable_stream(True, raw=True)
    wait_for(lambda: server.stream.size() > 0, 5)
    # Ask for a whole raw frame and go away without reading the answer.
    c1.link.send(Packet(c1.link.seq, 3, 0, Op.READ, struct.pack("<II", 0, 320 * 240 * 2 + 20)))
    c1.close()
    with V2Client.open(server.path, timeout=5.0) as c2:
        c2.exec_script("print('second host')\n")
        assert b"second host" in collect_stdout(c2, b"second host")
