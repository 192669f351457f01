"""Emulated `sensor`: the camera replays the frame source at --fps, resized to the configured frame size.

Replay is lossless: each snapshot() returns the next frame (a slow script slows the replay down instead of
dropping frames), so frame N of a run is file N of the folder. skip_frames() only waits the sensor's
settling time without consuming frames. After the last frame (or --count snapshots) snapshot() ends the
script quietly (EndOfFrames).
"""

from __future__ import annotations

import time as _host
import types

from host_tools.openmv_firmware import SENSOR_FRAMESIZES
from host_tools.sim.openmv import pixels
from host_tools.sim.openmv.modules.image import BAYER, GRAYSCALE, JPEG, RGB565, Image
from host_tools.sim.openmv.state import BoardState, EndOfFrames

# Every frame size the firmware names, with a stable id; each module exposes its version's subset.
FRAMESIZES = SENSOR_FRAMESIZES
FRAMESIZE_IDS = {name: i + 1 for i, name in enumerate(FRAMESIZES)}
FB_BYTES_H7 = 400 * 1024  # OPENMV4's main frame buffer (OMV_FB_SIZE)
SETTLE_S = 0.2  # emulated settling wait (the real sensor needs ~2 s after a mode change; we cap the delay)


def set_pixformat(state: BoardState, fmt: int) -> None:
    state.checkpoint()
    if fmt not in (RGB565, GRAYSCALE):
        raise ValueError("Pixel format is not supported!")  # JPEG needs a sensor with a JPEG encoder
    state.sensor["pixformat"] = fmt


def set_framesize(state: BoardState, size) -> None:
    """A frame-size id, or (firmware 4.8+ csi only: the caller checks) a (w, h) tuple."""
    state.checkpoint()
    if isinstance(size, tuple):
        w, h = (int(v) for v in size)
        if not (0 < w <= 640 and 0 < h <= 480):
            raise RuntimeError("Frame size is not supported or is not set.")
        state.sensor["framesize"] = (w, h)
        return
    if size not in FRAMESIZE_IDS.values():
        raise ValueError("Invalid frame size")
    state.sensor["framesize"] = size


def frame_wh(state: BoardState) -> tuple[int, int]:
    size = state.sensor["framesize"]
    if size is None:
        raise RuntimeError("Sensor Timeout!!")  # snapshot before set_framesize, as on the board
    if isinstance(size, tuple):
        return size
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
    elif state.budget.name == "h7" and w * h * 2 > FB_BYTES_H7:
        # The frame does not fit the H7's frame buffer in RGB565: the firmware captures Bayer instead.
        raw = pixels.bayer_mosaic(pixels.rgb565_to_888(pixels.sensor_rgb565(rgb)))
        img = Image(_pixels=raw, _format=BAYER)
    else:
        img = Image(_pixels=pixels.sensor_rgb565(rgb), _format=RGB565)
    state.frame_counter += 1
    state.fb = img
    return img


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("sensor")
    mod.RGB565, mod.GRAYSCALE, mod.JPEG, mod.BAYER = RGB565, GRAYSCALE, JPEG, BAYER
    for name in state.fw.framesizes("sensor"):
        setattr(mod, name, FRAMESIZE_IDS[name])

    def reset() -> None:
        state.checkpoint()
        state.sensor.update(pixformat=None, framesize=None)

    mod.reset = reset
    mod.set_pixformat = lambda fmt: set_pixformat(state, fmt)
    mod.set_framesize = lambda size: set_framesize(state, int(size))
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
