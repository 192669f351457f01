"""Emulated `csi` of firmware 4.8+ (modules/py_csi_ng.c): csi.CSI() objects over the emulated sensor.

Only the frame-size names this module has on 4.8+ are constants (no B64X64, B128X128...); framesize() also
takes a (w, h) tuple. On 4.6-4.7 `import csi` gives the sensor module itself (runtime.py), and before 4.6
there is no csi at all.
"""

from __future__ import annotations

import types

from host_tools.sim.openmv.modules import sensor as _sensor
from host_tools.sim.openmv.modules.image import BAYER, GRAYSCALE, JPEG, RGB565


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("csi")
    mod.RGB565, mod.GRAYSCALE, mod.JPEG, mod.BAYER = RGB565, GRAYSCALE, JPEG, BAYER
    for name in state.fw.framesizes("csi"):
        setattr(mod, name, _sensor.FRAMESIZE_IDS[name])

    class CSI:
        def __init__(self, cid: int = -1, **_kw) -> None:
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
            if not isinstance(size, tuple):
                size = int(size)
            _sensor.set_framesize(state, size)
            return None

        def snapshot(self, time: int = -1, frames: int = -1, blocking: bool = True, image=None):
            """snapshot(time=ms) / snapshot(frames=n) wait for the sensor to settle (see skip())."""
            if time != -1 or frames != -1:
                _sensor.skip(state, None if frames == -1 else frames, None if time == -1 else time)
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
