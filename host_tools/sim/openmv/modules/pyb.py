"""Emulated `pyb`: LED(1..4), delay/millis, hard_reset()."""

from __future__ import annotations

import time as _host
import types

from host_tools.sim.openmv.modules.machine import led_class
from host_tools.sim.openmv.state import MachineReset


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("pyb")
    mod.LED = led_class(state, numbers_only=True)
    mod.delay = lambda ms: state.sleep(ms / 1000.0)
    mod.udelay = lambda us: state.sleep(us / 1_000_000.0)
    mod.millis = lambda: (state.checkpoint(), int((_host.monotonic() - state.boot_time) * 1000))[1]

    def hard_reset() -> None:
        raise MachineReset()

    mod.hard_reset = hard_reset
    mod.freq = lambda: (480_000_000, 240_000_000, 120_000_000, 120_000_000)
    return mod
