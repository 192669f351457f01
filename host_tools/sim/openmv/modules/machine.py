"""Emulated `machine`: LED("LED_RED"...), reset() (a MachineReset the host turns into a reboot), freq()."""

from __future__ import annotations

import types

from host_tools.sim.openmv.state import MachineReset

LED_NAMES = {"LED_RED": "red", "LED_GREEN": "green", "LED_BLUE": "blue", "LED_IR": "ir"}
LED_NUMBERS = {1: "red", 2: "green", 3: "blue", 4: "ir"}  # pyb.LED / machine.LED(1..4)


def led_class(state, numbers_only: bool):
    class LED:
        def __init__(self, which) -> None:
            state.checkpoint()
            color = LED_NUMBERS.get(which) if isinstance(which, int) else None
            if color is None and not numbers_only and isinstance(which, str):
                color = LED_NAMES.get(which)
            if color is None:
                raise ValueError(f"LED({which!r}) doesn't exist")
            self._color = color

        def on(self) -> None:
            state.checkpoint()
            state.leds[self._color] = True

        def off(self) -> None:
            state.checkpoint()
            state.leds[self._color] = False

        def toggle(self) -> None:
            state.checkpoint()
            state.leds[self._color] = not state.leds[self._color]

        def value(self, v=None):
            if v is None:
                return int(state.leds[self._color])
            state.leds[self._color] = bool(v)
            return None

    return LED


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("machine")
    mod.LED = led_class(state, numbers_only=False)

    def reset() -> None:
        raise MachineReset()

    mod.reset = reset
    mod.soft_reset = reset
    mod.freq = lambda: 480_000_000
    mod.unique_id = lambda: bytes(12)
    mod.idle = lambda: state.sleep(0.001)
    return mod
