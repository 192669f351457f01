"""Emulated `time`/`utime`: MicroPython ticks (30-bit wrap), sleeps, and OpenMV's time.clock()."""

from __future__ import annotations

import time as _host
import types

TICKS_PERIOD = 1 << 30  # MICROPY_PY_TIME_TICKS_PERIOD
TICKS_MAX = TICKS_PERIOD - 1
TICKS_HALF = TICKS_PERIOD // 2


def ticks_diff(end: int, start: int) -> int:
    return ((end - start + TICKS_HALF) & TICKS_MAX) - TICKS_HALF


def ticks_add(ticks: int, delta: int) -> int:
    return (ticks + delta) & TICKS_MAX


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("time")

    def elapsed() -> float:
        state.checkpoint()
        return _host.monotonic() - state.boot_time

    def ticks_ms() -> int:
        return int(elapsed() * 1000) & TICKS_MAX

    def ticks_us() -> int:
        return int(elapsed() * 1_000_000) & TICKS_MAX

    class clock:  # noqa: N801 - the firmware's name
        """time.clock() as the firmware's py_clock.c: tick() marks a frame start at ms resolution; each fps()
        or avg() call adds the ms since that tick and returns the average over all frames so far."""

        def __init__(self) -> None:
            self.reset()

        def tick(self) -> None:
            self._start = ticks_ms()

        def avg(self) -> float:
            if self._start is None:
                return 0.0
            self._frames += 1
            self._ticks += ticks_diff(ticks_ms(), self._start)
            return self._ticks / self._frames

        def fps(self) -> float:
            ms = self.avg()
            return 1000.0 / ms if ms > 0 else 0.0

        def reset(self) -> None:
            self._start: int | None = None
            self._frames = 0
            self._ticks = 0

    mod.ticks_ms = ticks_ms
    mod.ticks_us = ticks_us
    mod.ticks_cpu = ticks_us
    mod.ticks_diff = ticks_diff
    mod.ticks_add = ticks_add
    mod.sleep = lambda s: state.sleep(float(s))
    mod.sleep_ms = lambda ms: state.sleep(ms / 1000.0)
    mod.sleep_us = lambda us: state.sleep(us / 1_000_000.0)
    mod.time = lambda: (state.checkpoint(), int(_host.time()))[1]
    mod.time_ns = lambda: (state.checkpoint(), _host.time_ns())[1]
    mod.localtime = lambda secs=None: _host.localtime(secs)[:8]
    mod.gmtime = lambda secs=None: _host.gmtime(secs)[:8]
    mod.mktime = lambda t: int(_host.mktime(tuple(t)[:8] + (-1,)))
    mod.clock = clock
    return mod
