"""A running app's output as events: the text lines it prints and the camera frames (for stream and watch).

Over Protocol V2 the stdout channel gives the text and the stream channel the frames. Over the plain
MicroPython REPL of firmware 4.x (no debug protocol) only text is available.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from host_tools.errors import DeviceError, UsageError

IDLE_AFTER = 1.0  # seconds without output before an Idle event


@dataclass(frozen=True)
class TextLine:
    text: str


@dataclass(frozen=True)
class Frame:
    width: int
    height: int
    jpeg: bytes


@dataclass(frozen=True)
class Idle:
    """Nothing arrived for a while (lets a consumer check on the camera)."""


Event = TextLine | Frame | Idle


class LineSplitter:
    """Bytes in, complete text lines out (a partial last line waits for its end)."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> list[str]:
        self._buf += data
        *lines, self._buf = self._buf.split(b"\n")
        if len(self._buf) > 1 << 20:  # a line that never ends: flush it rather than grow without bound
            lines.append(self._buf)
            self._buf = b""
        return [ln.decode("utf-8", "replace").rstrip("\r") for ln in lines]


def v2_events(
    client, frames: bool = False, frame_interval: float = 0.2, idle: float = 0.01
) -> Iterator[Event]:
    """Poll a V2Client: stdout lines as they come, and a frame every `frame_interval` s when `frames`.

    The camera's stdout buffer is small (512 bytes on the H7) and overwritten when the host is late, while a
    frame read takes a while; so a frame is read just after a line ended (the buffer was just emptied and
    the app is busy with its next frame), or when the app has been quiet for a moment.
    """
    splitter = LineSplitter()
    next_frame = 0.0
    last_data = time.monotonic()
    while True:
        data = client.read_stdout()
        for line in splitter.feed(data):
            yield TextLine(line)
        now = time.monotonic()
        if frames and now >= next_frame and (data.endswith(b"\n") or now - last_data > 0.3):
            next_frame = now + frame_interval
            f = client.read_frame()
            if f is not None:
                yield Frame(f.width, f.height, f.to_jpeg())
        if data:
            last_data = now
        else:
            if now - last_data >= IDLE_AFTER:
                last_data = now
                yield Idle()
            time.sleep(idle)


PROMPT = b">>> "


def serial_events(port, idle: float = 0.05, state: dict | None = None) -> Iterator[Event]:
    """Lines printed on a plain REPL port (a SerialPort), e.g. firmware 4.x at an ordinary baud rate.

    When the port has been quiet for a while it asks the REPL for its prompt (return, and ctrl-B to leave a
    raw REPL an interrupted host left behind): a running script does not read its input, so a prompt
    means no app is running (state["prompt"] becomes True)."""
    state = state if state is not None else {}
    splitter = LineSplitter()
    last_data = time.monotonic()
    probed = False
    seen = b""
    while True:
        data = port.read(timeout=idle)
        if probed and data:
            seen = (seen + data)[-64:]
            if PROMPT in seen:
                state["prompt"] = True
        for line in splitter.feed(data):
            if not line.startswith(">>>") and "raw REPL" not in line:
                yield TextLine(line)
        now = time.monotonic()
        if data:
            last_data = now
        elif now - last_data >= IDLE_AFTER:
            last_data = now
            if not probed:
                probed = True
                port.write(b"\r\x02")
                continue
            yield Idle()


def byte_events(read: Callable[[], bytes]) -> Iterator[Event]:
    """Lines from a byte source (`read()` returns what arrived within a short wait, b"" when nothing did;
    it raises DeviceError when the source is gone), with an Idle event after a quiet second: a Linux
    board's result port."""
    splitter = LineSplitter()
    last_data = time.monotonic()
    while True:
        data = read()
        for line in splitter.feed(data):
            yield TextLine(line)
        now = time.monotonic()
        if data:
            last_data = now
        elif now - last_data >= IDLE_AFTER:
            last_data = now
            yield Idle()


@dataclass
class LiveSource:
    description: str
    events: Iterator[Event]
    running: Callable[[], bool] | None  # is a script running on the camera? (None: cannot tell)
    close: Callable[[], None]


def _try_v2(port: str, protocol: str):
    """A V2Client, or None for the REPL. Not detect_protocol: its REPL probe (ctrl-C) would stop the app."""
    from host_tools.devices.detect import PROTOCOLS
    from host_tools.protocol.v2_host import V2Client

    if protocol not in PROTOCOLS:
        raise UsageError(f"unknown protocol {protocol!r} (choose {', '.join(PROTOCOLS)})")
    if protocol == "legacy":
        return None
    try:
        return V2Client.open(port, timeout=3.0)  # a SYNC packet holds no REPL control character
    except DeviceError:
        if protocol == "v2":
            raise
        return None


def open_live(port: str, protocol: str = "auto", frames: bool = False, frame_interval: float = 0.2,
              restart: bool = False) -> LiveSource:
    """Attach to a camera without disturbing the running app (unless `restart`, which reboots it first)."""
    client = _try_v2(port, protocol)
    if client is not None:
        client.read_stdout()  # drop what was printed before we attached (it may start mid-line)
        if restart:
            client.reset()
        fw = ""
        try:
            fw = " firmware " + ".".join(str(v) for v in client.sys_info().firmware)
        except DeviceError:
            pass  # SYS_INFO is informative only
        return LiveSource(f"camera on {port} (Protocol V2{fw})", v2_events(client, frames, frame_interval),
                          client.script_running, client.close)
    from host_tools.transport.serial_port import REPL_BAUDRATE, SerialPort

    if restart:
        from host_tools.devices.openmv_repl import open_legacy_link

        link = open_legacy_link(port)  # raw REPL: machine.reset(), then main.py runs again
        link.reset()
        link.close()
    sp = SerialPort.open(port, REPL_BAUDRATE)
    state: dict[str, bool] = {}
    return LiveSource(f"camera on {port} (MicroPython REPL of firmware 4.x: text only, no frames)",
                      serial_events(sp, state=state), lambda: not state.get("prompt"), sp.close)
