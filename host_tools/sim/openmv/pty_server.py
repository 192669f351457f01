"""The emulated OpenMV camera on a pseudo-terminal, speaking the device side of Protocol V2.

serve_pty(camera, announce) opens a pty, announces the slave path (the "port"), boots main.py if the camera
filesystem has one, and answers the host until SIGINT/SIGTERM. Hosts may come and go: a SYNC from a new
host drops whatever the previous one left unread. Capabilities follow the H7: a 512-byte protocol buffer,
so at most 498 payload bytes per packet.
"""

from __future__ import annotations

import os
import select
import signal
import struct
import sys
import termios
import threading
import time
import tty
from collections.abc import Callable

from host_tools.openmv_firmware import DEFAULT, parse_version
from host_tools.protocol.constants import H7_MAX_PAYLOAD, SysEvent
from host_tools.protocol.v2_device import LinkDown, V2Device
from host_tools.sim.openmv.mp_protocol import registry_for
from host_tools.sim.openmv.repl_device import ReplDevice
from host_tools.sim.openmv.usbdbg_device import UsbdbgDevice
from host_tools.sim.openmv.v2_channels import (
    STDOUT_BUFFER_SIZE,
    StdinChannel,
    StdoutChannel,
    StreamChannel,
    TransportChannel,
)

WRITE_TIMEOUT_S = 2.0  # a host that stops reading for this long is treated as gone
STOP_WAIT_S = 5.0
HARD_FAULT_RESET_S = 1.0  # a hard-faulted camera resets and re-enumerates on USB after about this long


class ScriptRunner:
    """Runs one script at a time on a worker thread (the board's main loop)."""

    def __init__(self, camera, on_machine_reset: Callable[[], None]) -> None:
        self.camera = camera
        self._thread: threading.Thread | None = None
        self._on_reset = on_machine_reset
        self._stopping = False  # a host asked the current script to stop

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> bool:
        if self.running():
            self._stopping = True
            self.camera.stop()
            self._thread.join(STOP_WAIT_S)  # type: ignore[union-attr]
        if self.running():
            print("pty_server: warning: the script did not stop (no emulated API call)", file=sys.stderr)
            return False
        self.camera.clear_stop()  # the thread is gone: a stop it did not see must not hit the next script
        return True

    def start(self, job: Callable[[], None], name: str) -> None:
        self.stop()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, args=(job,), name=name, daemon=True)
        self._thread.start()

    def _run(self, job: Callable[[], None]) -> None:
        from host_tools.sim.openmv.state import HardFault

        try:
            job()
        except SystemExit:  # machine.reset() in a script: the server reboots the camera
            self._on_reset()
        except HardFault as fault:
            # The board resets after a hard fault (and faults again if main.py does the same thing). A host
            # that stops the script meanwhile (ctrl-C, STOP: what flash does) keeps it stopped.
            print(f"pty_server: {fault}; the camera resets", file=sys.stderr, flush=True)
            state = getattr(self.camera, "state", None)
            stopped = self._stopping or (state is not None and state.stop_event.wait(HARD_FAULT_RESET_S))
            if stopped or self._stopping:
                # The host's stop is taken to have come first (main.py stopped before the fault): the REPL
                # runs on, so the fault must not surface again in the host's next script.
                if state is not None:
                    state.fault = None
            else:
                self._on_reset()
        except BaseException as exc:  # the camera prints script errors itself; this is a bug in the emulator
            print(f"pty_server: script runner failed: {exc!r}", file=sys.stderr)


class PtyServer:
    def __init__(
        self,
        camera,
        *,
        protocol: str = "v2",
        stdout_size: int = STDOUT_BUFFER_SIZE,
        max_payload: int = H7_MAX_PAYLOAD,
    ) -> None:
        if protocol not in ("v2", "repl"):
            raise ValueError(f"protocol must be 'v2' or 'repl', not {protocol!r}")
        self.camera, self.protocol = camera, protocol
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # binary-clean from the start (pyserial sets raw mode too)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self.stop_event = threading.Event()
        self._reboot = threading.Event()
        self.stdout = StdoutChannel(stdout_size)
        self.runner = ScriptRunner(camera, self._reboot.set)
        self.stream = StreamChannel(camera.latest_frame, lambda: camera.frame_counter)
        self.stdin = StdinChannel(self._exec, self.runner.stop, self.runner.running)
        state = getattr(camera, "state", None) or camera
        self.registry = registry_for(state)
        self.builtin = {0: TransportChannel(), 1: self.stdin, 2: self.stdout, 3: self.stream}
        self.device = V2Device(
            write=self._write,
            read=self._read,
            channels=dict(self.builtin),
            sys_info=self._sys_info,
            version=self._version,
            on_reset=self._reboot.set,
            on_sync=self._drop_stale,
            max_payload=max_payload,
        )
        # Firmware 4.x: the MicroPython REPL, or the IDE's usbdbg protocol when the host sets 921600 baud.
        self.repl = ReplDevice(camera, self._write, self._write_nowait, self.runner)
        self.usbdbg = UsbdbgDevice(camera, self._write, self.runner, self.stream, self._reboot.set)
        if protocol == "v2":
            self.registry.send_event = self.device.send_event
            self.registry.on_change = self._channels_changed
        _tee_output(camera, self.stdout.put if protocol == "v2" else self._legacy_output)
        if hasattr(state, "debug_mode"):
            state.debug_mode = True  # omv.debug_mode(): a host link is attached

    # --- lifecycle -----------------------------------------------------------------------------
    def boot(self) -> None:
        """Power-on: run main.py from the camera filesystem if there is one."""
        main = self._main_path()
        if main is not None and main.is_file():
            self.runner.start(self.camera.run_main, "main.py")

    def reboot(self) -> None:
        if self.protocol == "repl":
            interrupted = self.repl.interrupt_pending  # a ctrl-C that arrived while the board was resetting
            self.repl.reboot()
            self.usbdbg.reset_state()
            self.stream.reset()
            self._reboot.clear()
            if interrupted:  # main.py stopped at its first line, as the pending ctrl-C would stop it
                self.repl.interrupt_pending = False
                return None
            return self.boot()
        self.device.send_event(0, SysEvent.SOFT_REBOOT)
        self.runner.stop()
        self.stdout.clear()
        self.stream.reset()
        self.registry.clear()
        self.device.reboot()
        self._reboot.clear()
        self.boot()

    def serve(self) -> None:
        while not self.stop_event.is_set():
            if self._reboot.is_set():
                self.reboot()
            if self.protocol == "v2":
                self.device.step(0.05)
            else:
                data = self._read(0.05)  # the line speed decides who gets these bytes, checked now
                if data:
                    (self.usbdbg if self._usbdbg_line() else self.repl).feed(data)

    def start_thread(self) -> threading.Thread:
        """Serve in a background thread (tests, benches); stop with close()."""
        self.boot()
        t = threading.Thread(target=self.serve, name="pty-server", daemon=True)
        t.start()
        self._thread = t
        return t

    def close(self) -> None:
        self.stop_event.set()
        t = getattr(self, "_thread", None)
        if t is not None:
            t.join(5)
        self.runner.stop()
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    # --- glue ----------------------------------------------------------------------------------
    def _usbdbg_line(self) -> bool:
        """The host's line speed (the slave's termios, which we share): 921600 or custom 12M = usbdbg."""
        try:
            speed = termios.tcgetattr(self._slave)[5]
        except termios.error:
            return False
        return speed in (termios.B921600, getattr(termios, "BOTHER", -1))

    def _legacy_output(self, text: str) -> None:
        if self._usbdbg_line():
            self.usbdbg.text.put(text)
        else:
            self.repl.output(text)

    def _exec(self, source: str) -> None:
        self.registry.clear()  # a new script starts from a soft-reset state: its channels are gone
        self.runner.start(lambda: self.camera.exec_script(source, "<stdin>"), "stdin-script")

    def _channels_changed(self, registered: bool) -> None:
        self.device.channels = {**self.builtin, **self.registry.snapshot()}
        event = SysEvent.CHANNEL_REGISTERED if registered else SysEvent.CHANNEL_UNREGISTERED
        self.device.send_event(0, event)

    def _main_path(self):
        opts = getattr(self.camera, "opts", None)
        root = getattr(opts, "fs_root", None)
        return None if root is None else root / "main.py"

    def _read(self, timeout: float) -> bytes:
        if self.stop_event.is_set():
            return b""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self.master, 65536)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:  # EIO: no host has the port open right now
            time.sleep(timeout)
            return b""

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + WRITE_TIMEOUT_S
        while view:
            try:
                n = os.write(self.master, view)
                view = view[n:]
                continue
            except BlockingIOError:
                pass
            except OSError as exc:
                raise LinkDown(str(exc)) from None
            left = deadline - time.monotonic()
            if left <= 0 or self.stop_event.is_set():
                raise LinkDown("host stopped reading")
            select.select([], [self.master], [], min(left, 0.1))

    def _write_nowait(self, data: bytes) -> None:
        try:
            os.write(self.master, data)
        except OSError:
            pass  # nobody reads the port: the output is lost

    def _drop_stale(self) -> None:
        try:
            termios.tcflush(self._slave, termios.TCIFLUSH)  # answers nobody read before this SYNC
        except termios.error:
            pass

    def _sys_info(self) -> bytes:
        """SYS_INFO, 76 bytes in the layout of openmv-python 1.0.7 (versions moved to PROTO_VERSION)."""
        return struct.pack(
            "<I3II3I2I2I4I3I",
            0x411FC271,  # Cortex-M7 r1p1 CPUID
            0, 0, 0x00E4E5E4,  # emulated device id (omv.board_id())
            0x1209ABD1,  # OpenMV Cam USB VID:PID
            0x7721, 0, 0,  # OV7725
            0, 0,
            1 << 4, 0,  # hw caps: JPEG encoder
            0, 0, 480, 0,  # flash, ram, framebuffer KB, stream KB
            0, 0, 0,
        )

    def _version(self) -> bytes:
        """PROTO_VERSION: protocol, bootloader, firmware (3 bytes each), 7 reserved."""
        state = getattr(self.camera, "state", None)
        fw = tuple(getattr(state, "firmware", parse_version(DEFAULT)))[:3]
        return struct.pack("<3B3B3B7x", 1, 0, 0, 0, 0, 0, *fw)


def _tee_output(camera, sink: Callable[[str], None]) -> None:
    """Script output goes to the stdout channel as well as wherever the camera already sent it."""
    owner = camera.state if hasattr(getattr(camera, "state", None), "write") else camera
    original = owner.write

    def write(text: str) -> None:
        sink(text)
        original(text)

    owner.write = write


def serve_pty(
    camera, announce: Callable[[str], None], *, protocol: str = "v2", stdout_size: int = STDOUT_BUFFER_SIZE
) -> int:
    """Serve `camera` on a new pty until SIGINT/SIGTERM; returns the exit code (0).

    protocol "v2" is firmware 5 (Protocol V2); "repl" is firmware 4.x's MicroPython (raw) REPL.
    """
    server = PtyServer(camera, protocol=protocol, stdout_size=stdout_size)
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: server.stop_event.set())
    try:
        announce(server.path)
        server.boot()
        server.serve()
    finally:
        server.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
