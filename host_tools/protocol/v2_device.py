"""Device side of Protocol V2, as the OpenMV firmware behaves (used by the emulated camera).

Channels are plain objects with any of: size(), read(offset, size), readp(offset, size), write(offset, data),
ioctl(cmd, arg_bytes) -> int (0 = ok), lock() -> bool, unlock(), poll() -> bool, shape() -> tuple, and the
attributes `name` and `flags`. A request is answered on the request's channel with its opcode: a bare ACK
for success, a NAK carrying a 2-byte status, or data (fragmented at the agreed max payload).

As the firmware's omv_protocol.c: it boots (and returns on SYNC) with CRC, sequence numbers, ACKs and
events on and its full payload size; SET_CAPS is answered with a bare ACK before the new caps apply; a
packet whose header is valid but whose payload CRC is wrong is NAKed CHECKSUM, one longer than the max
payload OVERFLOW, one out of sequence SEQUENCE; protocol and system requests must come on channel 0.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from host_tools.protocol.constants import (
    H7_MAX_PAYLOAD,
    MIN_PAYLOAD,
    RTX_RETRIES,
    RTX_TIMEOUT_S,
    CapFlag,
    Flag,
    Op,
    Status,
)
from host_tools.protocol.packet import Packet, Parser, encode


class LinkDown(Exception):
    """The host stopped reading (write timed out) or never acknowledged: abandon the current answer."""


@dataclass
class DeviceStats:
    sent: int = 0
    received: int = 0
    checksum: int = 0
    sequence: int = 0
    retransmit: int = 0
    transport: int = 0
    events: int = 0


@dataclass
class V2Device:
    write: Callable[[bytes], None]  # raises LinkDown when the host does not take the bytes
    read: Callable[[float], bytes]  # bytes from the host, b"" after timeout seconds
    channels: dict[int, object]
    sys_info: Callable[[], bytes]
    version: Callable[[], bytes]
    on_reset: Callable[[], None]
    on_sync: Callable[[], None] | None = None  # e.g. drop stale answers a previous host left unread
    max_payload: int = H7_MAX_PAYLOAD  # the buffer limit of the board being emulated
    seq: int = 0
    caps_flags: int = CapFlag.CRC | CapFlag.SEQ | CapFlag.ACK | CapFlag.EVENTS
    caps_payload: int = H7_MAX_PAYLOAD
    stats: DeviceStats = field(default_factory=DeviceStats)
    _parser: Parser = field(default_factory=Parser)
    _backlog: list[Packet] = field(default_factory=list)
    _last: tuple[int, int, list[Packet]] | None = None  # (request seq, opcode, answer) for RTX duplicates
    _wlock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._parser.max_payload = self.max_payload
        self._parser.keep_rejects = True
        self._sent: list[Packet] = []
        self._channel_of_request = 0
        self.caps_payload = self.max_payload

    def reboot(self) -> None:
        """Protocol state after a reset: sequence 0, default caps, nothing pending."""
        self.seq, self._last = 0, None
        self._default_caps()
        self._parser.reset()
        self._backlog.clear()

    def _default_caps(self) -> None:
        self.caps_flags = CapFlag.CRC | CapFlag.SEQ | CapFlag.ACK | CapFlag.EVENTS
        self.caps_payload = self.max_payload
        self._parser.max_payload = self.max_payload

    def step(self, timeout: float = 0.1) -> None:
        """Read what the host sent (waiting up to timeout) and answer every complete request."""
        data = self.read(timeout)
        if data:
            self._backlog += self._parser.feed(data)
        elif self._parser.pending:
            # The line went quiet in the middle of a packet (the firmware's DATA-state timeout): give up
            # on it so that it cannot swallow the host's retransmissions.
            self._backlog += self._parser.drain()
        while True:
            try:
                self._answer_rejects()
                while self._backlog:
                    self._handle(self._backlog.pop(0))
                return
            except LinkDown:
                self.stats.transport += 1
                # Abandon the answer; a SYNC that arrived meanwhile is still handled (the firmware does).
                self._backlog = [p for p in self._backlog if _is_sync(p)][-1:]
                if not self._backlog:
                    return

    def _answer_rejects(self) -> None:
        """NAK what the parser dropped with a valid header: a bad payload CRC, a payload over the max."""
        while self._parser.rejects:
            kind, pkt = self._parser.rejects.pop(0)
            if pkt.flags & (Flag.ACK | Flag.NAK | Flag.EVENT):
                continue
            if kind == "checksum":
                self.stats.checksum += 1
            self._channel_of_request = pkt.channel
            self._status(pkt.opcode, Status.CHECKSUM if kind == "checksum" else Status.OVERFLOW)

    def send_event(self, channel: int, event: int) -> bool:
        """Asynchronous event (only when the host enabled events); never blocks the caller for long."""
        if not self.caps_flags & CapFlag.EVENTS:
            return False
        op = Op.SYS_EVENT if channel == 0 else Op.CHANNEL_EVENT
        flags = Flag.EVENT | (Flag.ACK_REQ if self.caps_flags & CapFlag.ACK else 0)
        try:
            self._send(Packet(self.seq, channel, flags, op, struct.pack("<H", event & 0xFFFF)))
        except LinkDown:
            return False
        self.stats.events += 1
        return True

    # --- request dispatch ----------------------------------------------------------------------
    def _handle(self, pkt: Packet) -> None:
        if pkt.flags & (Flag.ACK | Flag.NAK | Flag.EVENT):
            return  # a late ACK or an event echo: nothing to answer
        self.stats.received += 1
        self._channel_of_request = pkt.channel
        if self.caps_flags & CapFlag.SEQ and pkt.seq != self.seq and pkt.opcode not in (
                Op.SYNC, Op.SYS_EVENT, Op.CHANNEL_EVENT):
            last = self._last
            if pkt.has(Flag.RTX) and last and last[0] == pkt.seq and last[1] == pkt.opcode:
                # Our answer was lost: send it again (same numbers, RTX set) instead of redoing the request.
                self.stats.retransmit += 1
                for p in last[2]:
                    self._send(Packet(p.seq, p.channel, p.flags | Flag.RTX, p.opcode, p.payload))
                return
            self.stats.sequence += 1
            self._status(pkt.opcode, Status.SEQUENCE)
            return
        start_seq = self.seq
        self._sent = []
        handler = _HANDLERS.get(pkt.opcode)
        if pkt.channel != 0 and pkt.opcode <= Op.SYS_EVENT:  # protocol/system requests come on channel 0
            self._status(pkt.opcode, Status.INVALID)
        elif handler is None:
            self._status(pkt.opcode, Status.INVALID)
        else:
            handler(self, pkt)
        if pkt.opcode not in (Op.SYNC, Op.RESET, Op.BOOT):
            self._last = (start_seq, pkt.opcode, self._sent)

    def _channel(self, pkt: Packet) -> object | None:
        return self.channels.get(pkt.channel) if pkt.channel else None

    # --- sending -------------------------------------------------------------------------------
    def _send(self, pkt: Packet) -> None:
        with self._wlock:
            self.write(encode(pkt))

    def _emit(self, opcode: int, flags: int, payload: bytes = b"") -> None:
        """One packet of an answer, with ACK_REQ and retransmission when the host asked for ACKs."""
        want_ack = bool(self.caps_flags & CapFlag.ACK)  # the firmware asks even for its ACK/NAK packets
        flags |= Flag.ACK_REQ if want_ack else 0
        pkt = Packet(self.seq, self._channel_of_request, flags, opcode, payload)
        self._send(pkt)
        if want_ack:
            self._wait_ack(pkt)
        self._sent.append(pkt)
        self.seq = (self.seq + 1) & 0xFF
        self.stats.sent += 1

    def _wait_ack(self, pkt: Packet) -> None:
        wait = RTX_TIMEOUT_S
        for attempt in range(RTX_RETRIES + 1):
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                data = self.read(min(0.05, max(0.0, deadline - time.monotonic())))
                acked = False
                for got in self._parser.feed(data) if data else []:
                    if got.has(Flag.ACK) and got.seq == pkt.seq:
                        acked = True
                    elif _is_sync(got):  # a host starting over: drop this answer and resynchronise
                        self._backlog.append(got)
                        raise LinkDown("SYNC while waiting for an ACK")
                    elif not got.flags & (Flag.ACK | Flag.NAK):
                        self._backlog.append(got)  # the host's next request, read with the ACK
                if acked:
                    return
            if attempt < RTX_RETRIES:
                self.stats.retransmit += 1
                self._send(Packet(pkt.seq, pkt.channel, pkt.flags | Flag.RTX, pkt.opcode, pkt.payload))
                wait *= 2
        raise LinkDown("no ACK from the host")

    def _status(self, opcode: int, status: int) -> None:
        if status == Status.SUCCESS:
            self._emit(opcode, Flag.ACK)
        else:
            self._emit(opcode, Flag.NAK, struct.pack("<H", status))

    def _data(self, opcode: int, payload: bytes) -> None:
        step = self.caps_payload
        view = memoryview(payload)
        for start in range(0, max(1, len(view)), step):
            last = start + step >= len(view)
            self._emit(opcode, 0 if last else Flag.FRAGMENT, bytes(view[start : start + step]))

    # --- opcodes -------------------------------------------------------------------------------
    def _op_sync(self, pkt: Packet) -> None:
        if self.on_sync:
            self.on_sync()
        self.seq, self._last = 0, None
        self._default_caps()  # omv_protocol_reset(): the boot caps again (ACK on) before the answer
        self._status(pkt.opcode, Status.SUCCESS)
        self.seq = 0
        for ch in self.channels.values():  # the firmware drops held locks on resync
            if getattr(ch, "locked", False) and hasattr(ch, "unlock"):
                ch.unlock()

    def _op_get_caps(self, pkt: Packet) -> None:
        self._data(pkt.opcode, struct.pack("<IH10x", self.caps_flags, self.max_payload))

    def _op_set_caps(self, pkt: Packet) -> None:
        if len(pkt.payload) != 16:
            return self._status(pkt.opcode, Status.INVALID)
        flags, payload = struct.unpack_from("<IH", pkt.payload)
        if not MIN_PAYLOAD <= payload <= self.max_payload:
            return self._status(pkt.opcode, Status.INVALID)
        self._status(pkt.opcode, Status.SUCCESS)  # a bare ACK under the old caps, then switch
        self.caps_flags, self.caps_payload = flags & 0xF, payload
        self._parser.max_payload = payload  # longer requests are NAKed OVERFLOW from now on

    def _op_stats(self, pkt: Packet) -> None:
        s = self.stats
        fields = (s.sent, s.received, s.checksum, s.sequence, s.retransmit, s.transport, s.events, 0)
        self._data(pkt.opcode, struct.pack("<8I", *fields))

    def _op_reset(self, pkt: Packet) -> None:
        self.on_reset()  # no answer: the board restarts

    def _op_sys_info(self, pkt: Packet) -> None:
        self._data(pkt.opcode, self.sys_info())

    def _op_version(self, pkt: Packet) -> None:
        self._data(pkt.opcode, self.version())

    def _op_list(self, pkt: Packet) -> None:
        out = b"".join(
            struct.pack("<BB14s", cid, int(getattr(ch, "flags", 0)) & 0xFF, str(ch.name).encode()[:13])
            for cid, ch in sorted(self.channels.items())
        )
        self._data(pkt.opcode, out)

    def _op_poll(self, pkt: Packet) -> None:
        bits = 0
        for cid, ch in self.channels.items():
            if hasattr(ch, "poll") and _safe(ch.poll, False):
                bits |= 1 << cid
        self._data(pkt.opcode, struct.pack("<I", bits))

    def _op_lock(self, pkt: Packet) -> None:
        ch = self._channel(pkt)
        ok = ch is not None and hasattr(ch, "lock") and _safe(ch.lock, False)
        self._status(pkt.opcode, Status.SUCCESS if ok else Status.BUSY)

    def _op_unlock(self, pkt: Packet) -> None:
        ch = self._channel(pkt)
        ok = ch is not None and hasattr(ch, "unlock") and _safe(ch.unlock, True) is not False
        self._status(pkt.opcode, Status.SUCCESS if ok else Status.BUSY)

    def _op_size(self, pkt: Packet) -> None:
        ch = self._channel(pkt)
        if ch is None or not hasattr(ch, "size"):
            return self._status(pkt.opcode, Status.INVALID)
        self._data(pkt.opcode, struct.pack("<I", int(_safe(ch.size, 0)) & 0xFFFFFFFF))

    def _op_shape(self, pkt: Packet) -> None:
        ch = self._channel(pkt)
        shape = _safe(ch.shape, None) if ch is not None and hasattr(ch, "shape") else None
        if not shape:
            return self._status(pkt.opcode, Status.INVALID)
        self._data(pkt.opcode, struct.pack(f"<{len(shape[:4])}I", *shape[:4]))

    def _op_read(self, pkt: Packet) -> None:
        ch = self._channel(pkt)
        if len(pkt.payload) < 8 or ch is None:
            return self._status(pkt.opcode, Status.INVALID)
        offset, length = struct.unpack_from("<II", pkt.payload)
        fn = getattr(ch, "readp", None) or getattr(ch, "read", None)
        if not length or fn is None:
            return self._status(pkt.opcode, Status.INVALID)
        data = _safe(lambda: fn(offset, length), None)
        if not data:
            return self._status(pkt.opcode, Status.FAILED)
        self._data(pkt.opcode, bytes(data[:length]))

    def _op_write(self, pkt: Packet) -> None:
        ch = self._channel(pkt)
        if len(pkt.payload) < 8 or ch is None or not hasattr(ch, "write"):
            return self._status(pkt.opcode, Status.INVALID)
        offset, length = struct.unpack_from("<II", pkt.payload)
        data = pkt.payload[8 : 8 + length]
        if not length or len(data) != length:
            return self._status(pkt.opcode, Status.INVALID)
        result = _safe(lambda: ch.write(offset, data), -1)
        ok = result is None or (isinstance(result, int) and result >= 0) or result is True
        self._status(pkt.opcode, Status.SUCCESS if ok else Status.FAILED)

    def _op_ioctl(self, pkt: Packet) -> None:
        ch = self._channel(pkt)
        if len(pkt.payload) < 4 or ch is None or not hasattr(ch, "ioctl"):
            return self._status(pkt.opcode, Status.INVALID)
        (cmd,) = struct.unpack_from("<I", pkt.payload)
        result = _safe(lambda: ch.ioctl(cmd, pkt.payload[4:]), -1)
        self._status(pkt.opcode, Status.SUCCESS if not result else Status.FAILED)


def _is_sync(pkt: Packet) -> bool:
    return pkt.opcode == Op.SYNC and pkt.channel == 0 and not pkt.flags & (Flag.ACK | Flag.NAK | Flag.EVENT)


def _safe(fn: Callable[[], object], default: object) -> object:
    """Channel code (including script-defined channels) must never take the protocol down."""
    try:
        return fn()
    except LinkDown:
        raise
    except Exception:
        return default


_HANDLERS: dict[int, Callable[[V2Device, Packet], None]] = {
    Op.SYNC: V2Device._op_sync,
    Op.GET_CAPS: V2Device._op_get_caps,
    Op.SET_CAPS: V2Device._op_set_caps,
    Op.STATS: V2Device._op_stats,
    Op.RESET: V2Device._op_reset,
    Op.SYS_INFO: V2Device._op_sys_info,
    Op.VERSION: V2Device._op_version,
    Op.CHANNEL_LIST: V2Device._op_list,
    Op.POLL: V2Device._op_poll,
    Op.LOCK: V2Device._op_lock,
    Op.UNLOCK: V2Device._op_unlock,
    Op.SHAPE: V2Device._op_shape,
    Op.SIZE: V2Device._op_size,
    Op.READ: V2Device._op_read,
    Op.WRITE: V2Device._op_write,
    Op.IOCTL: V2Device._op_ioctl,
}
