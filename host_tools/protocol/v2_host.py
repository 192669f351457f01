"""V2Client: a connected OpenMV camera speaking Protocol V2 (firmware 5), seen from the host.

Errors are DeviceError subclasses with messages for users. A request that fails at the link level (no
answer after retransmissions, or the camera lost our sequence numbers because it rebooted) triggers one
resynchronisation (SYNC, GET_CAPS, SET_CAPS) and one retry before the error is raised.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass

from host_tools.errors import DeviceError
from host_tools.protocol.constants import (
    CH_STDIN,
    CH_STDOUT,
    CH_STREAM,
    H7_MAX_PAYLOAD,
    MIN_PAYLOAD,
    STDIN_EXEC,
    STDIN_RESET,
    STDIN_STOP,
    STREAM_CTRL,
    STREAM_RAW_CFG,
    STREAM_RAW_CTRL,
    CapFlag,
    Op,
    Status,
)
from host_tools.protocol.packet import Packet
from host_tools.protocol.stream_frame import StreamFrame, parse_frame
from host_tools.protocol.v2_link import LinkTimeout, NakError, V2Link
from host_tools.transport.serial_port import V2_BAUDRATE, SerialPort


@dataclass(frozen=True)
class ChannelInfo:
    id: int
    flags: int
    name: str


@dataclass(frozen=True)
class Caps:
    flags: int
    max_payload: int


@dataclass(frozen=True)
class SysInfo:
    cpu_id: int
    usb_vid: int
    usb_pid: int
    hw_caps: int
    framebuffer_kb: int
    stream_buffer_kb: int
    firmware: tuple[int, int, int]
    protocol: tuple[int, int, int]


class V2Client:
    def __init__(self, link: V2Link, *, max_payload: int, ack: bool, events: bool) -> None:
        self.link = link
        self.port = link.port
        self._want_payload = max_payload
        self._want_flags = CapFlag.CRC | CapFlag.SEQ
        self._want_flags |= (CapFlag.ACK if ack else 0) | (CapFlag.EVENTS if events else 0)
        self.caps = Caps(0, MIN_PAYLOAD)
        self.events: list[Packet] = []
        self._channels: dict[str, ChannelInfo] = {}
        self._streaming: tuple[bool, bool, tuple[int, int] | None] | None = None
        self.resyncs = 0

    # --- connection ----------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        port: str,
        timeout: float = 2.0,
        *,
        max_payload: int = 4082,
        ack: bool = False,
        events: bool = False,
        baudrate: int = V2_BAUDRATE,
    ) -> V2Client:
        """Open the port and handshake (SYNC, GET_CAPS, SET_CAPS); DeviceError if no V2 camera answers."""
        sp = SerialPort.open(port, baudrate)
        client = cls(V2Link(sp), max_payload=max_payload, ack=ack, events=events)
        client.link.on_event = client.events.append
        try:
            client._handshake(timeout)
        except BaseException:
            sp.close()
            raise
        return client

    def _handshake(self, timeout: float = 2.0) -> None:
        self.link.max_payload = MIN_PAYLOAD
        self.link.sync(timeout)
        flags, dev_max = struct.unpack_from("<IH", self._pad(self.link.request(Op.GET_CAPS), 6))
        agreed = max(MIN_PAYLOAD, min(dev_max, self._want_payload))
        self.link.request(Op.SET_CAPS, 0, struct.pack("<IH10x", int(self._want_flags), agreed))
        self.link.max_payload = agreed
        self.caps = Caps(int(self._want_flags), agreed)
        self._channels = {}
        if self._streaming is not None:  # a rebooted camera forgot that we were streaming
            on, raw, res = self._streaming
            self._streaming = None
            self.enable_stream(on, raw=raw, resolution=res)

    def resync(self) -> None:
        self.resyncs += 1
        self._handshake()

    def close(self) -> None:
        self.port.close()

    def __enter__(self) -> V2Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- requests ------------------------------------------------------------------------------
    def _call(self, opcode: int, channel: int = 0, payload: bytes = b"") -> bytes:
        try:
            return self.link.request(opcode, channel, payload)
        except LinkTimeout:
            pass
        except NakError as exc:
            if exc.status != Status.SEQUENCE:
                raise
        # The link lost step (dropped packets, or the camera rebooted): resynchronise and try once more.
        try:
            self.resync()
            return self.link.request(opcode, channel, payload)
        except (LinkTimeout, NakError) as exc:
            raise DeviceError(f"camera on {self.port.path} stopped answering ({exc})") from None

    @staticmethod
    def _pad(data: bytes, n: int) -> bytes:
        if len(data) < n:
            raise DeviceError(f"camera sent a {len(data)}-byte answer where {n} bytes were expected")
        return data

    # --- system --------------------------------------------------------------------------------
    def sys_info(self) -> SysInfo:
        """SYS_INFO (76-byte layout of openmv-python 1.0.7) and PROTO_VERSION."""
        w = struct.unpack_from("<19I", self._pad(self._call(Op.SYS_INFO), 76))
        v = self._pad(self._call(Op.VERSION), 16)
        proto, fw = (v[0], v[1], v[2]), (v[6], v[7], v[8])
        return SysInfo(w[0], w[4] >> 16, w[4] & 0xFFFF, w[10], w[14], w[15], fw, proto)

    def stats(self) -> dict[str, int]:
        names = ("sent", "received", "checksum", "sequence", "retransmit", "transport", "events", "reserved")
        return dict(zip(names, struct.unpack_from("<8I", self._pad(self._call(Op.STATS), 32)), strict=True))

    def reset(self, timeout: float = 10.0) -> None:
        """Restart the camera (main.py runs again) and reconnect.

        A SYNC first: after an interrupted request the two sides' sequence numbers may differ, and the
        camera would refuse a RESET with the wrong one (SEQUENCE) instead of restarting."""
        try:
            self.link.sync(1.0)
        except DeviceError:
            pass  # no answer: send the RESET all the same
        self.link.send_only(Op.RESET)
        time.sleep(0.3)
        deadline = time.monotonic() + timeout
        path = self.port.path
        while True:
            try:
                if not self.port.is_open:  # a real board re-enumerates: reopen the same path
                    self.port = self.link.port = SerialPort.open(path)
                self._handshake(timeout=1.0)
                return
            except DeviceError:
                self.port.close()
                if time.monotonic() >= deadline:
                    msg = f"camera on {path} did not come back within {timeout:.0f} s of a reset"
                    raise DeviceError(msg) from None
                time.sleep(0.3)

    # --- channels ------------------------------------------------------------------------------
    def channels(self) -> list[ChannelInfo]:
        data = self._call(Op.CHANNEL_LIST)
        out = []
        for i in range(0, len(data) - len(data) % 16, 16):
            cid, flags, raw = struct.unpack_from("<BB14s", data, i)
            out.append(ChannelInfo(cid, flags, raw.split(b"\0", 1)[0].decode("utf-8", "replace")))
        self._channels = {c.name: c for c in out}
        return out

    def channel_id(self, name: str) -> int:
        if name not in self._channels:
            self.channels()
        if name not in self._channels:
            have = ", ".join(sorted(self._channels)) or "none"
            raise DeviceError(f"camera has no channel named {name!r} (channels: {have})")
        return self._channels[name].id

    def poll(self) -> dict[str, bool]:
        (bits,) = struct.unpack_from("<I", self._pad(self._call(Op.POLL), 4))
        if not self._channels:
            self.channels()
        return {name: bool(bits >> c.id & 1) for name, c in self._channels.items()}

    def channel_size(self, name: str) -> int:
        return self._size(self.channel_id(name))

    def channel_read(self, name: str, size: int | None = None, offset: int = 0) -> bytes:
        cid = self.channel_id(name)
        size = self._size(cid) if size is None else size
        return self._read(cid, offset, size) if size else b""

    def channel_write(self, name: str, data: bytes, offset: int = 0) -> None:
        self._write(self.channel_id(name), data, offset)

    def channel_ioctl(self, name: str, cmd: int, arg: bytes = b"") -> None:
        self._call(Op.IOCTL, self.channel_id(name), struct.pack("<I", cmd) + arg)

    def _size(self, cid: int) -> int:
        return struct.unpack_from("<I", self._pad(self._call(Op.SIZE, cid), 4))[0]

    def _read(self, cid: int, offset: int, size: int) -> bytes:
        return self._call(Op.READ, cid, struct.pack("<II", offset, size))

    def _write(self, cid: int, data: bytes, offset: int = 0) -> None:
        step = self.link.max_payload - 8
        view = memoryview(bytes(data))
        for start in range(0, len(view), step):
            chunk = view[start : start + step]
            self._call(Op.WRITE, cid, struct.pack("<II", offset + start, len(chunk)) + chunk)

    # --- scripts -------------------------------------------------------------------------------
    def exec_script(self, source: str) -> None:
        """Stop the running script and run `source` (stdin channel: RESET, WRITE..., EXEC)."""
        data = source.encode("utf-8")
        if not data:
            raise ValueError("empty script")
        self._call(Op.IOCTL, CH_STDIN, struct.pack("<I", STDIN_RESET))
        self._write(CH_STDIN, data)
        self._call(Op.IOCTL, CH_STDIN, struct.pack("<I", STDIN_EXEC))

    def stop_script(self) -> None:
        self._call(Op.IOCTL, CH_STDIN, struct.pack("<I", STDIN_STOP))

    def script_running(self) -> bool:
        (bits,) = struct.unpack_from("<I", self._pad(self._call(Op.POLL), 4))
        return bool(bits >> CH_STDIN & 1)

    def read_stdout(self) -> bytes:
        """What scripts printed since the last call (b"" if nothing)."""
        size = self._size(CH_STDOUT)
        return self._read(CH_STDOUT, 0, size) if size else b""

    # --- stream --------------------------------------------------------------------------------
    def enable_stream(
        self, on: bool = True, *, raw: bool = False, resolution: tuple[int, int] | None = None
    ) -> None:
        if raw and resolution:
            self._call(Op.IOCTL, CH_STREAM, struct.pack("<III", STREAM_RAW_CFG, *resolution))
        self._call(Op.IOCTL, CH_STREAM, struct.pack("<II", STREAM_RAW_CTRL, int(raw)))
        self._call(Op.IOCTL, CH_STREAM, struct.pack("<II", STREAM_CTRL, int(on)))
        self._streaming = (on, raw, resolution) if on else None

    def read_frame(self) -> StreamFrame | None:
        """The newest frame not yet read, or None if none is ready (enables streaming on first use)."""
        if self._streaming is None:
            self.enable_stream(True)
        try:
            self._call(Op.LOCK, CH_STREAM)
        except NakError as exc:
            if exc.status == Status.BUSY:
                return None
            raise
        try:
            size = self._size(CH_STREAM)
            if size <= 20:
                return None
            blob = self._read(CH_STREAM, 0, size)
            if len(blob) != size:  # a damaged transfer that looked complete: read it once more
                self.resync()
                return None
            return parse_frame(blob)
        finally:
            try:
                self._call(Op.UNLOCK, CH_STREAM)
            except NakError:
                pass  # the camera released the lock itself (it rebooted or streaming stopped)


__all__ = ["V2Client", "ChannelInfo", "Caps", "SysInfo", "StreamFrame", "H7_MAX_PAYLOAD"]
