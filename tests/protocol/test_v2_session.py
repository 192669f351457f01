"""Host V2Client against the emulated H7 on a pty: channels, scripts, frames, fragmentation, reset."""

from __future__ import annotations

import time

import numpy as np
import pytest

from host_tools.errors import DeviceError
from host_tools.protocol.constants import H7_MAX_PAYLOAD, PIXFORMAT_RGB565, ChannelFlag
from host_tools.protocol.v2_host import V2Client


def wait_for(fn, timeout: float = 5.0, interval: float = 0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    return fn()


def collect_stdout(client: V2Client, needle: bytes, timeout: float = 5.0) -> bytes:
    out = bytearray()

    def step() -> bool:
        out.extend(client.read_stdout())
        return needle in out

    wait_for(step, timeout)
    return bytes(out)


def test_handshake_agrees_on_h7_buffer_and_lists_channels(start_server) -> None:
    server = start_server(main=None)
    with V2Client.open(server.path) as c:
        assert c.caps.max_payload == H7_MAX_PAYLOAD == 498
        names = {ch.name: ch for ch in c.channels()}
        assert {"stdin", "stdout", "stream"} <= set(names)
        assert names["stream"].flags & ChannelFlag.LOCK and names["stdin"].flags & ChannelFlag.WRITE
        info = c.sys_info()
        assert (info.usb_vid, info.usb_pid) == (0x1209, 0xABD1) and info.protocol == (1, 0, 0)


def test_small_max_payload_request_is_honoured(start_server) -> None:
    server = start_server(main=None)
    with V2Client.open(server.path, max_payload=60) as c:
        assert c.caps.max_payload == 60
        c.exec_script("print('x' * 400)\n" + "#" * 300)  # the script goes in 52-byte chunks
        time.sleep(0.5)
        out = c.read_stdout()  # one 401-byte answer, fragmented by the camera
        assert out == b"x" * 400 + b"\n"
        # The device thread records a packet just after writing it: the host may have read the last one
        # a moment before it is recorded.
        deadline = time.monotonic() + 2
        while len(server.device._sent) < 7 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(server.device._sent) == 7 and max(len(p.payload) for p in server.device._sent) == 60


def test_exec_and_stdout_with_large_script(start_server) -> None:
    server = start_server(main=None)
    # ~6 KB of source: many host->device fragments (WRITE at increasing offsets).
    body = "".join(f"v{i} = {i} * 3  # padding line to make the script long\n" for i in range(120))
    script = body + "print('sum', sum([v0, v1, v119]))\n"
    assert len(script.encode()) > 10 * H7_MAX_PAYLOAD
    with V2Client.open(server.path) as c:
        c.exec_script(script)
        out = collect_stdout(c, b"sum")
        assert b"sum 360" in out


def test_script_error_is_printed_traceback(start_server) -> None:
    server = start_server(main=None)
    with V2Client.open(server.path) as c:
        c.exec_script("import os\nos.stat('/flash/nope')\n")
        out = collect_stdout(c, b"OSError")
        assert b"Traceback" in out and b"OSError" in out


def test_stop_script_and_poll(start_server) -> None:
    server = start_server(main=None)
    with V2Client.open(server.path) as c:
        c.exec_script("import time\nwhile True:\n    time.sleep_ms(20)\n")
        assert wait_for(c.script_running, 3)
        c.stop_script()
        assert wait_for(lambda: not c.script_running(), 5)


def test_main_py_boots_and_frames_stream_as_jpeg(start_server) -> None:
    server = start_server()
    with V2Client.open(server.path) as c:
        assert b"main frame" in collect_stdout(c, b"main frame")
        frame = wait_for(c.read_frame, 5)
        assert frame is not None and frame.is_jpeg and (frame.width, frame.height) == (320, 240)
        rgb = frame.to_rgb()
        assert rgb.shape == (240, 320, 3)
        # The gradient survives JPEG: green rises left to right, blue top to bottom.
        assert rgb[120, 300, 1] > rgb[120, 20, 1] + 150 and rgb[220, 160, 2] > rgb[20, 160, 2] + 150
        # A frame is served once: the next read is a newer snapshot (or None until one exists).
        again = wait_for(c.read_frame, 5)
        assert again is not None


def test_raw_rgb565_frame_matches_camera_pixels(start_server) -> None:
    server = start_server()
    with V2Client.open(server.path) as c:
        c.enable_stream(True, raw=True)
        frame = wait_for(c.read_frame, 5)
        assert frame is not None and frame.pixformat == PIXFORMAT_RGB565
        assert len(frame.data) == 320 * 240 * 2 > 100 * H7_MAX_PAYLOAD  # hundreds of fragments
        camera_frames = set()
        for _ in range(3):
            latest = server.camera.latest_frame()
            camera_frames.add(latest[3])
        # The served bytes are one of the camera's real snapshots (the frames differ by their red level).
        w, h, fmt, data = server.camera.latest_frame()
        px = np.frombuffer(frame.data, "<u2").reshape(240, 320)
        assert fmt == "RGB565" and (w, h) == (320, 240)
        assert len(np.unique(px[:, 0] >> 11)) == 1  # one red level per frame
        c.enable_stream(True, raw=True, resolution=(160, 120))
        small = wait_for(c.read_frame, 5)
        assert small is not None and (small.width, small.height) == (160, 120)
        assert len(small.data) == 160 * 120 * 2


def test_script_registered_channel(start_server) -> None:
    server = start_server(main=None)
    script = """
import protocol, time
class Results:
    def __init__(self):
        self.buf = bytearray(b'hello-channel')
    def size(self):
        return len(self.buf)
    def read(self, offset, size):
        return self.buf[offset:offset + size]
    def write(self, offset, data):
        self.buf[offset:offset + len(data)] = data
        print('wrote', len(data))
        return len(data)
    def poll(self):
        return True
ch = protocol.register(name='results', backend=Results())
print('registered', ch)
while True:
    time.sleep_ms(20)
"""
    with V2Client.open(server.path) as c:
        c.exec_script(script)
        collect_stdout(c, b"registered")
        assert "results" in [ch.name for ch in c.channels()]
        assert c.channel_size("results") == 13
        assert c.channel_read("results") == b"hello-channel"
        c.channel_write("results", b"HELLO")
        assert c.channel_read("results") == b"HELLO-channel"
        assert c.poll()["results"] is True
        with pytest.raises(DeviceError, match="no channel named 'nope'"):
            c.channel_read("nope")


def test_reset_reboots_into_main(start_server) -> None:
    server = start_server()
    with V2Client.open(server.path) as c:
        collect_stdout(c, b"main frame 3")
        c.exec_script("print('replaced main')\n")
        assert b"replaced main" in collect_stdout(c, b"replaced main")
        c.reset()
        out = collect_stdout(c, b"main frame 1\n")
        assert b"main frame 1\n" in out and b"replaced main" not in out


def test_ack_mode_and_events(start_server) -> None:
    server = start_server(main=None)
    with V2Client.open(server.path, ack=True, events=True) as c:
        c.exec_script("import protocol\nprotocol.register(name='ev', backend=object())\nprint('done')\n")
        assert b"done" in collect_stdout(c, b"done")
        assert any(p.opcode == 0x13 for p in c.events)  # SYS_EVENT CHANNEL_REGISTERED
        assert "ev" in [ch.name for ch in c.channels()]


def test_stdout_ring_is_512_bytes_like_the_firmware(start_server) -> None:
    server = start_server(main=None)
    with V2Client.open(server.path) as c:
        c.exec_script("for i in range(40):\n    print('line %03d ' % i + 'x' * 20)\n")  # 40 * 30 bytes
        time.sleep(1.0)
        out = c.read_stdout()
        assert 0 < len(out) <= 512 and b"line 039" in out and b"line 000" not in out
        assert server.stdout.lost > 0
