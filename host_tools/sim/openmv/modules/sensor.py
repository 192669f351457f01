"""Emulated `sensor`: the camera replays the frame source at --fps, resized to the configured frame size.

Replay is lossless: each snapshot() returns the next frame (a slow script slows the replay down instead of
dropping frames), so frame N of a run is file N of the folder. skip_frames() only waits the sensor's
settling time without consuming frames. After the last frame (or --count snapshots) snapshot() ends the
script quietly (EndOfFrames).
"""

from __future__ import annotations

import time as _host
import types

from host_tools.sim.openmv import pixels
from host_tools.sim.openmv.modules.image import GRAYSCALE, JPEG, RGB565, Image
from host_tools.sim.openmv.state import BoardState, EndOfFrames

# OV7725 frame sizes (the H7's sensor tops out at VGA).
FRAMESIZES = {
    "QQQVGA": (80, 60),
    "QQVGA": (160, 120),
    "QVGA": (320, 240),
    "VGA": (640, 480),
    "HQQQVGA": (60, 40),
    "HQQVGA": (120, 80),
    "HQVGA": (240, 160),
    "B64X32": (64, 32),
    "B64X64": (64, 64),
    "B128X64": (128, 64),
    "B128X128": (128, 128),
    "B160X160": (160, 160),
    "B320X320": (320, 320),
    "QQCIF": (88, 72),
    "QCIF": (176, 144),
    "CIF": (352, 288),
    "QQSIF": (88, 60),
    "QSIF": (176, 120),
    "SIF": (352, 240),
    "LCD": (128, 160),
    "QQVGA2": (128, 160),
    "WVGA": (720, 480),
}
FRAMESIZE_IDS = {name: i + 1 for i, name in enumerate(FRAMESIZES)}
SETTLE_S = 0.2  # emulated settling wait (the real sensor needs ~2 s after a mode change; we cap the delay)


def set_pixformat(state: BoardState, fmt: int) -> None:
    state.checkpoint()
    if fmt not in (RGB565, GRAYSCALE):
        raise ValueError("Pixel format is not supported!")  # JPEG needs a sensor with a JPEG encoder
    state.sensor["pixformat"] = fmt


def set_framesize(state: BoardState, size: int) -> None:
    state.checkpoint()
    if size not in FRAMESIZE_IDS.values():
        raise ValueError("Invalid frame size")
    state.sensor["framesize"] = size


def frame_wh(state: BoardState) -> tuple[int, int]:
    size = state.sensor["framesize"]
    if size is None:
        raise RuntimeError("Sensor Timeout!!")  # snapshot before set_framesize, as on the board
    name = next(n for n, i in FRAMESIZE_IDS.items() if i == size)
    return FRAMESIZES[name]


def skip(state: BoardState, n: int | None = None, time: int | None = None) -> None:
    """skip_frames(): wait for the sensor to settle, capped; replay frames are not consumed."""
    ms = time if time is not None else (n or 10) * 1000 / max(state.opts.fps, 1e-6)
    state.sleep(min(ms / 1000.0, SETTLE_S))


def snapshot(state: BoardState) -> Image:
    state.checkpoint()
    if state.sensor["pixformat"] is None:
        raise RuntimeError("Sensor Timeout!!")
    w, h = frame_wh(state)
    if state.opts.count is not None and state.frame_counter >= state.opts.count:
        raise EndOfFrames
    now = _host.monotonic()
    if state.next_frame_due > now:
        state.sleep(state.next_frame_due - now)
    rgb = state.frames.next()
    if rgb is None:
        raise EndOfFrames
    state.next_frame_due = max(now, state.next_frame_due) + 1.0 / state.opts.fps
    rgb = pixels.resize_bilinear(rgb, w, h)
    if state.sensor["pixformat"] == GRAYSCALE:
        img = Image(_pixels=pixels.rgb888_to_gray(rgb), _format=GRAYSCALE)
    else:
        img = Image(_pixels=pixels.rgb888_to_565(rgb), _format=RGB565)
    state.frame_counter += 1
    state.fb = img
    return img


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("sensor")
    mod.RGB565, mod.GRAYSCALE, mod.JPEG = RGB565, GRAYSCALE, JPEG
    for name, ident in FRAMESIZE_IDS.items():
        setattr(mod, name, ident)

    def reset() -> None:
        state.checkpoint()
        state.sensor.update(pixformat=None, framesize=None)

    mod.reset = reset
    mod.set_pixformat = lambda fmt: set_pixformat(state, fmt)
    mod.set_framesize = lambda size: set_framesize(state, size)
    mod.get_pixformat = lambda: state.sensor["pixformat"]
    mod.get_framesize = lambda: state.sensor["framesize"]
    mod.skip_frames = lambda n=None, time=None: skip(state, n, time)
    mod.snapshot = lambda: snapshot(state)
    mod.width = lambda: frame_wh(state)[0]
    mod.height = lambda: frame_wh(state)[1]
    mod.get_fb = lambda: state.fb
    # Replayed frames have fixed exposure/colour: these settings are accepted and have no effect.
    for name in (
        "set_auto_gain",
        "set_auto_whitebal",
        "set_auto_exposure",
        "set_hmirror",
        "set_vflip",
        "set_contrast",
        "set_brightness",
        "set_saturation",
    ):
        setattr(mod, name, lambda *a, **k: state.checkpoint())
    return mod
