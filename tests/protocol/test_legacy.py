"""Firmware 4.x raw REPL (host side) against the emulated camera's REPL, and protocol detection."""

from __future__ import annotations

import time

import pytest

from host_tools.devices.detect import detect_protocol, resolve_protocol
from host_tools.devices.micropython import Board
from host_tools.devices.openmv import open_board
from host_tools.devices.openmv_repl import LegacyLink
from host_tools.devices.openmv_v2 import V2ScriptLink
from host_tools.errors import DeviceError, UsageError
from host_tools.protocol.legacy import RawRepl, ScriptError


def test_raw_repl_exec_errors_and_files(start_server) -> None:
    server = start_server(protocol="repl")  # main.py is running and printing: enter() must interrupt it
    root = server.camera.opts.fs_root
    with RawRepl.open(server.path) as repl:
        assert repl.exec("print('hi')\nprint(2 + 3)") == "hi\n5\n"
        with pytest.raises(ScriptError, match="OSError") as err:
            repl.exec("import os\nos.stat('missing.bin')")
        assert err.value.traceback.startswith("Traceback (most recent call last):")
        # Files go through the one set of file operations (devices/micropython.py) on the REPL link.
        board = Board(LegacyLink(repl, server.path))
        assert board.eval("{'a': [1, 2.5, None]}") == {"a": [1, 2.5, None]}
        data = bytes(range(256)) * 9 + b"tail"
        board.write_file("blob.bin", data)
        assert (root / "blob.bin").read_bytes() == data
        (root / "other.txt").write_bytes(b"from the camera side\n")
        assert board.read_file("other.txt") == b"from the camera side\n"


def test_detection_and_override(start_server) -> None:
    v2 = start_server(main=None)
    repl = start_server(main=None, protocol="repl")
    assert detect_protocol(v2.path) == "v2"
    assert detect_protocol(repl.path) == "legacy"
    assert resolve_protocol(repl.path, "auto") == "legacy" and resolve_protocol(repl.path, "v2") == "v2"
    board = open_board(repl.path)
    assert isinstance(board.link, LegacyLink)
    board.close()
    board = open_board(v2.path, "auto")
    assert isinstance(board.link, V2ScriptLink)
    board.close()
    t0 = time.monotonic()
    with pytest.raises(DeviceError, match="no Protocol V2 answer"):
        open_board(repl.path, "v2", timeout=1.0)  # forcing the wrong protocol fails clearly, quickly
    assert time.monotonic() - t0 < 5
    with pytest.raises(UsageError):
        open_board(v2.path, "usbdbg")


def test_detection_of_a_silent_port(tmp_path) -> None:
    import os

    master, slave = os.openpty()
    try:
        with pytest.raises(DeviceError, match="neither Protocol V2"):
            detect_protocol(os.ttyname(slave), timeout=0.5)
    finally:
        os.close(master)
        os.close(slave)


def test_usbdbg_at_921600_baud_beside_the_repl(start_server) -> None:
    from host_tools.protocol.usbdbg import UsbdbgClient

    server = start_server(protocol="repl")  # firmware 4.x: main.py runs and prints
    with UsbdbgClient.open(server.path) as u:
        assert u.fw_version() == (4, 6, 0)
        assert u.arch().startswith("H7")
        assert u.script_running()
        out = bytearray()
        wait = time.monotonic() + 5
        while b"main frame" not in out and time.monotonic() < wait:
            out += u.read_output()
            time.sleep(0.05)
        assert b"main frame" in out
        u.enable_frames(True)
        frame = None
        while frame is None and time.monotonic() < wait + 5:
            frame = u.read_frame()
        assert frame is not None and frame[:2] == (320, 240) and frame[2][:2] == b"\xff\xd8"  # JPEG
        u.exec_script("print('via usbdbg', 6 * 7)\n")
        out = bytearray()
        while b"via usbdbg 42" not in out and time.monotonic() < wait + 10:
            out += u.read_output()
            time.sleep(0.05)
        assert b"via usbdbg 42" in out
    with RawRepl.open(server.path) as repl:  # back at 115200 the same port is the REPL again
        assert repl.exec("print(6 * 7)") == "42\n"


def test_garbage_on_the_repl_line_then_a_clean_session(start_server) -> None:
    """Noise (every byte value, control characters included) on a 4.x REPL port: a raw-REPL session after
    it works, and the emulator is still up."""
    import os

    server = start_server(protocol="repl")
    os.write(server.master, b"")  # the port is up
    from host_tools.transport.serial_port import SerialPort

    with SerialPort.open(server.path, 115200) as sp:
        sp.write(bytes(range(256)) + os.urandom(2000) + b"\x05A\x01" + os.urandom(500))
        time.sleep(0.5)
        sp.read_until_quiet(0.2, 2.0)
    with RawRepl.open(server.path, timeout=5.0) as repl:
        assert repl.exec("print(6 * 7)") == "42\n"


def test_raw_repl_resends_a_script_when_the_camera_reset_in_between(start_server) -> None:
    # A camera that resets (a hard fault at boot, a watchdog) comes back in the friendly REPL running main.py:
    # the next script gets no "OK". The host enters the raw REPL again and resends it (it never started).
    server = start_server(protocol="repl")
    with RawRepl.open(server.path) as repl:
        assert repl.exec("print(1)") == "1\n"
        server._reboot.set()
        deadline = time.monotonic() + 10
        while not (server.runner.running() and not server._reboot.is_set()):
            assert time.monotonic() < deadline, "the emulated camera did not reboot into main.py"
            time.sleep(0.02)
        time.sleep(0.3)  # main.py is printing results
        assert repl.exec("print(2)") == "2\n"


def test_ctrl_c_during_a_hard_fault_reset_keeps_main_py_stopped(tmp_path) -> None:
    # A camera whose main.py faults at every boot is recovered by stopping main.py (what flash does). A
    # ctrl-C that arrives in the instant between the fault's reset and main.py's next start must still stop
    # it, as it would on the board (it hits main.py's first line), or the host's ctrl-A goes unanswered.
    # Driven step by step (no serving thread) so that the ctrl-C lands exactly in that instant.
    from host_tools.sim.openmv.camera import EmulatedCamera, SimOptions
    from host_tools.sim.openmv.pty_server import PtyServer
    from host_tools.sim.openmv.state import HardFault

    from .conftest import MAIN_PY, make_frames

    root = tmp_path / "fs"
    root.mkdir()
    (root / "main.py").write_text(MAIN_PY.format(fmt="RGB565"))
    frames = make_frames(tmp_path / "frames")
    opts = SimOptions(frames=frames, fs_root=root, fps=30.0, loop=True, firmware="4.6.0")
    cam = EmulatedCamera(opts, lambda text: None)
    server = PtyServer(cam, protocol="repl")
    try:
        def fault() -> None:
            raise HardFault("hard fault: test")

        server.runner.start(fault, "faulting-main")
        deadline = time.monotonic() + 10
        while not server._reboot.is_set():  # the fault's reset is due (no host stopped it within its wait)
            assert time.monotonic() < deadline, "the emulated camera did not reset after the fault"
            time.sleep(0.02)
        while server.runner.running():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        server.repl.feed(b"\r\x03\x03")  # the host stops main.py just before the board boots again
        server.reboot()
        assert not server.runner.running(), "main.py ran although the host had sent ctrl-C"
        server.repl.feed(b"\r\x01")
        assert server.repl.raw
    finally:
        server.close()


def test_a_fault_that_races_the_hosts_ctrl_c_does_not_resurface_in_its_next_script(start_server) -> None:
    # main.py faults while the host is stopping it (TFLite Micro crashing as ctrl-C arrives). The stop wins:
    # the host then runs scripts in the raw REPL, and none of them may meet the old fault and reset the board.
    from host_tools.sim.openmv.state import HardFault

    server = start_server(protocol="repl", main=None)
    state = server.camera.state

    def faults_as_it_is_stopped() -> None:
        state.stop_event.wait(10)
        state.fault = HardFault("hard fault: test")
        raise state.fault

    server.runner.start(faults_as_it_is_stopped, "faulting-main")
    with RawRepl.open(server.path) as repl:  # ctrl-C, ctrl-A
        assert repl.exec("import os\nprint(sorted(os.listdir()))") == "[]\n"
        assert not server._reboot.is_set()
