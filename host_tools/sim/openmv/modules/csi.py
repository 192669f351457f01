"""Emulated `csi` (firmware 5): csi.CSI() objects over the same emulated sensor as `sensor`."""

from __future__ import annotations

import types

from host_tools.sim.openmv.modules import sensor as _sensor
from host_tools.sim.openmv.modules.image import GRAYSCALE, JPEG, RGB565


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("csi")
    mod.RGB565, mod.GRAYSCALE, mod.JPEG = RGB565, GRAYSCALE, JPEG
    for name, ident in _sensor.FRAMESIZE_IDS.items():
        setattr(mod, name, ident)

    class CSI:
        def __init__(self, cid: int = 0) -> None:
            state.checkpoint()

        def reset(self, hard: bool = True) -> None:
            state.checkpoint()
            state.sensor.update(pixformat=None, framesize=None)

        def pixformat(self, fmt=None):
            if fmt is None:
                return state.sensor["pixformat"]
            _sensor.set_pixformat(state, fmt)
            return None

        def framesize(self, size=None):
            if size is None:
                return state.sensor["framesize"]
            _sensor.set_framesize(state, size)
            return None

        def snapshot(self, time=None, frames=None, **_kw):
            """snapshot(time=ms) / snapshot(frames=n) wait for the sensor to settle (see skip())."""
            if time is not None or frames is not None:
                _sensor.skip(state, frames, time)
                return None
            return _sensor.snapshot(state)

        def width(self) -> int:
            return _sensor.frame_wh(state)[0]

        def height(self) -> int:
            return _sensor.frame_wh(state)[1]

        def auto_gain(self, *a, **k) -> None:
            state.checkpoint()

        auto_whitebal = auto_exposure = hmirror = vflip = auto_gain

    mod.CSI = CSI
    return mod
