"""The emulated board's state, shared by every emulated firmware module of one EmulatedCamera."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from host_tools.model_budget import BoardBudget
from host_tools.sim.openmv.frames import FrameSource
from host_tools.sim.openmv.options import SimOptions


class EndOfFrames(BaseException):
    """Raised by snapshot() after the last frame or after --count snapshots: the script ends quietly."""


class MachineReset(SystemExit):
    """machine.reset() / pyb.hard_reset(): the caller (CLI or pty server) reboots the camera."""


@dataclass
class BoardState:
    opts: SimOptions
    budget: BoardBudget
    firmware: tuple[int, int, int]
    write: Callable[[str], None]
    frames: FrameSource
    stop_event: threading.Event = field(default_factory=threading.Event)
    boot_time: float = field(default_factory=time.monotonic)
    leds: dict[str, bool] = field(
        default_factory=lambda: {"red": False, "green": False, "blue": False, "ir": False}
    )
    streaming: bool = True  # omv.disable_fb(True) turns frame streaming off
    debug_mode: bool = False  # omv.debug_mode(): True while a host (IDE / pty server) is attached
    fb: object | None = None  # the last snapshot (an emulated image.Image)
    frame_counter: int = 0
    heap_in_use: int = 0  # bytes held by loaded models (file + arena) in the big heap block
    heap_generation: int = 0  # bumped by each soft reset (a new script): older models no longer count
    next_frame_due: float = 0.0
    cwd: str = "/flash"
    sensor: dict = field(default_factory=lambda: {"pixformat": None, "framesize": None})

    def checkpoint(self) -> None:
        """Called by every emulated API: a pending stop() surfaces here as KeyboardInterrupt."""
        if self.stop_event.is_set():
            raise KeyboardInterrupt

    def sleep(self, seconds: float) -> None:
        """Sleep that a stop() interrupts at once."""
        self.checkpoint()
        if seconds > 0 and self.stop_event.wait(seconds):
            raise KeyboardInterrupt

    def heap_free(self) -> int:
        return self.budget.heap_block_bytes - self.heap_in_use
