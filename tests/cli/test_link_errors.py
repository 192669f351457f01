"""Link failures become DeviceError (exit 3) with a message, never a Python error: a script that times out
before any output, a port that vanishes under a termios call, a port another program holds."""

from __future__ import annotations

import os
import termios

import pytest

from host_tools.devices.openmv_v2 import V2ScriptLink
from host_tools.errors import DeviceError
from host_tools.transport.serial_port import SerialPort


class SilentClient:
    """A V2 client whose camera never prints anything."""

    def stop_script(self) -> None:
        pass

    def read_stdout(self) -> bytes:
        return b""

    def exec_script(self, source: str) -> None:
        pass


def test_a_script_timing_out_before_any_output_is_a_device_error():
    link = V2ScriptLink(SilentClient(), "/dev/ttyACM0")
    with pytest.raises(DeviceError, match=r"did not finish a script within 0.05 s \(no output at all\)"):
        link.exec("print(1)", timeout=0.05)


class VanishingSerial:
    """pyserial's Serial on a port whose USB device went away: termios calls fail with EIO."""

    is_open = True
    fd = None

    def reset_input_buffer(self) -> None:
        raise termios.error(5, "Input/output error")

    def write(self, data: bytes) -> int:
        raise termios.error(5, "Input/output error")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        raise termios.error(5, "Input/output error")


@pytest.mark.parametrize("call", [lambda p: p.reset_input(), lambda p: p.write(b"x")])
def test_termios_error_from_a_vanishing_port_is_a_device_error(call):
    port = SerialPort("/dev/ttyACM0", VanishingSerial())
    with pytest.raises(DeviceError, match=r"port /dev/ttyACM0 .*Input/output error") as exc:
        call(port)
    assert exc.value.exit_code == 3
    port.close()  # closing a vanished port is quiet


def test_a_second_opener_of_a_port_is_refused_at_once_as_busy():
    master, slave = os.openpty()
    try:
        path = os.ttyname(slave)
        first = SerialPort.open(path)
        try:
            with pytest.raises(DeviceError, match=rf"port busy: {path} is used by another program"):
                SerialPort.open(path, 115200)  # another protocol's baud rate: the same refusal
        finally:
            first.close()
        SerialPort.open(path).close()  # free again once the first one closed
    finally:
        os.close(master)
        os.close(slave)


def test_debug_traces_the_protocol_exchange(capsys):
    """--debug shows each Protocol V2 packet both ways (here against an emulated camera in this process)."""
    import tempfile

    from host_tools import console
    from host_tools.paths import MASKS_SAMPLE_FRAMES
    from host_tools.protocol.v2_host import V2Client
    from host_tools.sim.openmv.camera import EmulatedCamera, SimOptions
    from host_tools.sim.openmv.pty_server import PtyServer

    with tempfile.TemporaryDirectory() as fs:
        cam = EmulatedCamera(SimOptions(frames=MASKS_SAMPLE_FRAMES, fs_root=fs, loop=True), lambda t: None)
        server = PtyServer(cam, protocol="v2")
        server.start_thread()
        console.configure(console.NORMAL, debug=True)
        try:
            client = V2Client.open(server.path, timeout=10)
            client.close()
        finally:
            console.configure(console.NORMAL, debug=False)
            server.close()
    err = capsys.readouterr().err
    assert "trace: V2 > seq 0 SYNC" in err and "trace: V2 < seq 0 SYNC flags ACK" in err, err[-2000:]
