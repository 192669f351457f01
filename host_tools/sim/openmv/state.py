"""The emulated board's state, shared by every emulated firmware module of one EmulatedCamera."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from host_tools.model_budget import BoardBudget, Heap, boot_heap
from host_tools.openmv_firmware import Firmware, board_memory
from host_tools.sim.openmv.frames import FrameSource
from host_tools.sim.openmv.options import SimOptions


class EndOfFrames(BaseException):
    """Raised by snapshot() after the last frame or after --count snapshots: the script ends quietly."""


class MachineReset(SystemExit):
    """machine.reset() / pyb.hard_reset(): the caller (CLI or pty server) reboots the camera."""


class HardFault(BaseException):
    """The MCU faulted (here: the TFLite Micro interpreter process died on a signal): the board resets.

    A script cannot catch it for good: every emulated API raises it again until the board resets."""


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
    heap: Heap | None = None  # the GC heap of this boot (model_budget's model, reset by each soft reset)
    heap_generation: int = 0  # bumped by each soft reset: models loaded before no longer count
    next_frame_due: float = 0.0
    cwd: str = "/flash"
    sensor: dict = field(default_factory=lambda: {"pixformat": None, "framesize": None})
    fault: HardFault | None = None  # set by a hard fault until the board resets

    def __post_init__(self) -> None:
        self.fw = Firmware.of(self.firmware)
        self.memory = board_memory(self.budget.name, self.fw)
        self.soft_reset_heap()

    def soft_reset_heap(self) -> None:
        self.heap = boot_heap(self.budget.name, self.fw)
        self.heap_generation += 1

    def checkpoint(self) -> None:
        """Called by every emulated API: a pending stop() surfaces here as KeyboardInterrupt."""
        if self.fault is not None:
            raise self.fault
        if self.stop_event.is_set():
            raise KeyboardInterrupt

    def sleep(self, seconds: float) -> None:
        """Sleep that a stop() interrupts at once."""
        self.checkpoint()
        if seconds > 0 and self.stop_event.wait(seconds):
            raise KeyboardInterrupt

    def heap_free(self) -> int:
        assert self.heap is not None
        return sum(self.heap.free)
