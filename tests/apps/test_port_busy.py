"""Two programs on one camera port: the second is refused at once, "port busy", exit 3."""

from __future__ import annotations

import subprocess
import sys
import time

from host_tools.protocol.v2_host import V2Client


def test_flash_and_stream_while_another_program_holds_the_port(camera, h):
    holder = V2Client.open(camera.port, timeout=10)  # another program talking Protocol V2 to the camera
    try:
        for argv in (["stream", "--port", camera.port, "--count", "1"],
                     ["flash", "--port", camera.port, "--protocol", "legacy"],  # a REPL opener
                     ["flash", "--port", camera.port]):
            t0 = time.monotonic()
            r = h.host_tools(*argv, timeout=60)
            assert r.returncode == 3, (argv, r.stderr)
            assert f"port busy: {camera.port} is used by another program" in r.stderr, r.stderr
            assert time.monotonic() - t0 < 15 and "Traceback" not in r.stderr
        assert holder.sys_info().firmware[0] == 5  # the first program's session is undisturbed
    finally:
        holder.close()


def test_two_streams_at_once(camera, h):
    r = h.host_tools("flash", "--port", camera.port)
    assert r.returncode == 0, r.stderr
    first = subprocess.Popen([sys.executable, "-m", "host_tools", "stream", "--port", camera.port],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=h.REPO)
    try:
        h.read_line(first, 60)  # streaming
        second = h.host_tools("stream", "--port", camera.port, "--count", "1", timeout=60)
        assert second.returncode == 3 and "port busy" in second.stderr, second.stderr
        assert first.poll() is None  # the first stream goes on
    finally:
        first.terminate()
        first.wait(20)
