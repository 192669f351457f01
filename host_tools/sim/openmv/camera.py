"""EmulatedCamera: an OpenMV H7 / H7 Plus whose scripts run in CPython.

What is emulated: the sensor (frames replayed from a folder or video), LEDs, clocks, flash filesystem and
heap budget. What is real: the MicroPython script source and the TFLite Micro interpreter. Timings are the
host's, not a board's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from host_tools.errors import UsageError
from host_tools.model_budget import BOARDS
from host_tools.sim.openmv.frames import FrameSource
from host_tools.sim.openmv.options import SimOptions, check_run_options, firmware_version
from host_tools.sim.openmv.runtime import ScriptRun
from host_tools.sim.openmv.state import BoardState, EndOfFrames, HardFault, MachineReset

__all__ = ["EmulatedCamera", "HardFault", "MachineReset", "SimOptions"]


class EmulatedCamera:
    def __init__(self, opts: SimOptions, write: Callable[[str], None]) -> None:
        check_run_options(opts.board, opts.fps, opts.count)
        try:
            fw = firmware_version(opts.firmware)
            frames = FrameSource(Path(opts.frames), loop=opts.loop)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        opts.fs_root = Path(opts.fs_root)
        opts.fs_root.mkdir(parents=True, exist_ok=True)
        self.opts = opts
        self.state = BoardState(opts=opts, budget=BOARDS[opts.board], firmware=fw, write=write, frames=frames)
        self._lock = threading.Lock()
        self.end_reason: str | None = None  # "end" | "frames" | "stopped" | "error" | "hardfault"
        self.last_error: BaseException | None = None
        self._repl: tuple[ScriptRun, dict] | None = None  # the REPL's module table and globals

    @property
    def frame_counter(self) -> int:
        return self.state.frame_counter

    @property
    def leds(self) -> dict[str, bool]:
        return dict(self.state.leds)

    def _soft_reset(self) -> None:
        st = self.state
        st.soft_reset_heap()
        st.fault = None
        st.cwd = "/flash"
        st.streaming = True
        st.leds.update(red=False, green=False, blue=False, ir=False)
        self._repl = None

    def soft_reset(self) -> None:
        """MicroPython's soft reset (ctrl-D in the REPL): REPL globals, modules and heap start afresh."""
        with self._lock:
            self._soft_reset()

    def exec_script(self, source: str, filename: str = "<stdin>") -> None:
        """Run MicroPython source after a soft reset (fresh modules, heap freed, LEDs off).

        Errors are printed MicroPython-style through `write`; machine.reset() raises MachineReset, a hard
        fault (the TFLite Micro process died) raises HardFault: the caller resets the board.
        """
        with self._lock:
            # A stop() that came before the script got here (ctrl-C during boot) still counts: the event is
            # cleared when a script ends and by the runner once its thread is gone, never at the start.
            self._soft_reset()
            self._execute(ScriptRun(self.state), source, filename, None)

    def repl_exec(self, source: str) -> None:
        """One raw-REPL execution: globals and imported modules persist until the next soft reset."""
        with self._lock:
            if self._repl is None:
                run = ScriptRun(self.state)
                self._repl = (run, run.new_globals("<stdin>"))
            run, glb = self._repl
            self._execute(run, source, "<stdin>", glb)

    def _execute(self, run: ScriptRun, source: str, filename: str, glb: dict | None) -> None:
        st = self.state
        self.last_error = None
        try:
            exc = run.run(source, filename, glb)
            if exc is None:
                self.end_reason = "end"
            elif isinstance(exc, KeyboardInterrupt) and st.stop_event.is_set():
                self.end_reason = "stopped"
            else:
                self.end_reason, self.last_error = "error", exc
        except EndOfFrames:
            self.end_reason = "frames"
        except HardFault as fault:
            self.end_reason, self.last_error, self._repl = "hardfault", fault, None
            raise
        finally:
            if glb is None:  # a script ran to its end: the app's LEDs go out (the REPL keeps its own)
                st.leds.update(red=False, green=False, blue=False, ir=False)
            st.stop_event.clear()  # this script has ended: a stop aimed at it is spent

    def run_main(self) -> None:
        main = Path(self.opts.fs_root) / "main.py"
        if main.is_file():
            self.exec_script(main.read_text(encoding="utf-8"), "main.py")

    def stop(self) -> None:
        self.state.stop_event.set()

    def clear_stop(self) -> None:
        """Forget a stop() that no script took (call only when no script thread is alive)."""
        self.state.stop_event.clear()

    def latest_frame(self) -> tuple[int, int, str, bytes] | None:
        """(w, h, "RGB565"|"GRAYSCALE", bytes) of the last snapshot; None before one or with streaming off.

        RGB565 bytes are little-endian 16-bit pixels, row-major.
        """
        img = self.state.fb
        if img is None or not self.state.streaming:
            return None
        img = img.as_drawable()  # a Bayer frame reaches the host debayered
        from host_tools.sim.openmv.modules.image import FORMAT_NAMES

        return img.width(), img.height(), FORMAT_NAMES[img.format()], img.to_bytes()
