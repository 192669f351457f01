"""An independent reference of what the board feeds the model (documented in openmv_app/README.md).

Written apart from the emulator on purpose, from the firmware's rules: the emulated sensor's resize is a
product of integer weight matrices (out = Wy @ img @ Wx^T, rounded half up) rather than the emulator's
gather; the firmware's draw_image (SCALE_ASPECT_EXPAND on 4.x, SCALE_ASPECT_IGNORE on 5, a plain copy at
exactly 1:1, otherwise a 16.16 fixed-point walk with 5-bit bilinear weights on RGB565) is a plain per-pixel
loop; RGB565 is widened by imlib's bit replication (c << 3 | c >> 2, g << 2 | g >> 4); and the app's ROI
(the largest centred rectangle with the model's aspect ratio) is found by search, not by its formula.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

FRAME_SIZES = {"QQVGA": (160, 120), "QVGA": (320, 240), "B128X128": (128, 128)}


def weights(dst: int, src: int) -> np.ndarray:
    """dst x src integer matrix (rows sum to 2*dst); x samples the source at ((2x+1)*src - dst) / (2*dst)."""
    m = np.zeros((dst, src), np.int64)
    for x in range(dst):
        num = min(max((2 * x + 1) * src - dst, 0), (src - 1) * 2 * dst)
        left, rem = divmod(num, 2 * dst)
        right = min(left + 1, src - 1)
        m[x, left] += 2 * dst - rem
        m[x, right] += rem
    return m


def resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    sh, sw = img.shape[:2]
    if (sw, sh) == (w, h):
        return img.copy()
    wy, wx = weights(h, sh), weights(w, sw)
    den = (2 * h) * (2 * w)
    chans = img[..., None] if img.ndim == 2 else img
    out = np.stack(
        [(wy @ chans[..., c].astype(np.int64) @ wx.T + den // 2) // den for c in range(chans.shape[2])],
        axis=-1,
    )
    return (out[..., 0] if img.ndim == 2 else out).astype(np.uint8)


def to565(rgb: np.ndarray) -> np.ndarray:
    scale = np.array([31, 63, 31])
    return ((rgb.astype(np.int64) * scale + 127) // 255).astype(np.uint8)


def from565(c: np.ndarray) -> np.ndarray:
    """imlib.h's COLOR_R5_TO_R8 / G6_TO_G8 / B5_TO_B8: the top bits repeated into the low bits."""
    out = np.zeros(c.shape, np.int64)
    for ch, bits in ((0, 5), (1, 6), (2, 5)):
        v = c[..., ch].astype(np.int64)
        out[..., ch] = (v << (8 - bits)) | (v >> (2 * bits - 8))
    return out.astype(np.uint8)


def _walk(n_out: int, roi_start: int, roi_len: int, s: np.float32):
    """One axis of draw_image: first destination index, count, 16.16 start and step (float32 maths)."""
    scaled = math.floor(s * np.float32(roi_len))
    centred = math.floor(np.float32(n_out - scaled) / np.float32(2))
    skip, first = max(0, -centred), max(0, centred)
    count = min(n_out - first, scaled - skip)
    src0 = skip + math.floor(np.float32(roi_start) * s)
    step = math.floor(np.float32(65536) / s)
    start = math.floor(np.float32(src0 * 65536) / s) - 32768
    return first, count, start, step


def _pair(index: int, lo: int, hi: int) -> tuple[int, int]:
    if index < lo:
        return lo, lo
    if index >= hi:
        return hi, hi
    return index, index + 1


def draw(frame: np.ndarray, roi, out_w: int, out_h: int, aspect: str) -> np.ndarray:
    """RGB565 channels (r5, g6, b5) -> out_h x out_w, per pixel; aspect "expand" or "ignore"."""
    rx, ry, rw, rh = roi
    sx, sy = np.float32(out_w) / np.float32(rw), np.float32(out_h) / np.float32(rh)
    if aspect == "expand":
        sx = sy = max(sx, sy)
    f = frame.tolist()
    out = [[[0, 0, 0] for _ in range(out_w)] for _ in range(out_h)]
    if sx == 1 and sy == 1:  # 1:1: pixels copied
        for j in range(out_h):
            for i in range(out_w):
                out[j][i] = list(f[ry + j][rx + i])
        return np.array(out, np.uint8)
    fx, nx, ax0, stx = _walk(out_w, rx, rw, sx)
    fy, ny, ay0, sty = _walk(out_h, ry, rh, sy)
    for j in range(ny):
        ay = ay0 + j * sty
        wy = (ay // 2048) % 32
        top, bot = _pair(ay // 65536, ry, ry + rh - 1)
        for i in range(nx):
            ax = ax0 + i * stx
            wx = (ax // 2048) % 32
            left, right = _pair(ax // 65536, rx, rx + rw - 1)
            px = out[fy + j][fx + i]
            for c in range(3):
                lv = ((32 - wy) * f[top][left][c] + wy * f[bot][left][c] + 16) >> 5
                rv = ((32 - wy) * f[top][right][c] + wy * f[bot][right][c] + 16) >> 5
                px[c] = ((32 - wx) * lv + wx * rv + 16) >> 5
    return np.array(out, np.uint8)


def app_roi(roi, model_w: int, model_h: int):
    """The largest rectangle inside roi whose sides are in the model's exact ratio, centred (by search)."""
    x, y, w, h = roi
    best = None
    for cw in range(w, 0, -1):
        if (cw * model_h) % model_w == 0 and cw * model_h // model_w <= h:
            best = (cw, cw * model_h // model_w)
            break
    cw, ch = best if best else (w, h)
    return (x + (w - cw) // 2, y + (h - ch) // 2, cw, ch)


def model_input(path: Path, framesize: str, roi, model_hw: tuple[int, int], aspect: str = "expand",
                app: bool = True) -> np.ndarray:
    """Image file -> sensor frame (RGB565) -> the app's ROI drawn to model H x W -> RGB888 -> int8."""
    rgb = np.asarray(Image.open(path).convert("RGB"))
    fw, fh = FRAME_SIZES[framesize]
    frame = to565(resize(rgb, fw, fh))
    region = roi or (0, 0, fw, fh)
    if app:
        region = app_roi(region, model_hw[1], model_hw[0])
    small = from565(draw(frame, region, model_hw[1], model_hw[0], aspect))
    return (small ^ 0x80).view(np.int8)[None]


def tflm_scores(model: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Dequantized outputs from TensorFlow Lite Micro (the interpreter the firmware embeds), run here.

    (LiteRT's reference kernels were used before; they differ from TFLM by up to 2 LSB in the int8
    softmax on some frames, so the reference now checks the input exactly and runs the same interpreter.)"""
    from tflite_micro import runtime

    it = runtime.Interpreter.from_file(str(model), arena_size=4 * 1024 * 1024)
    detail = it.get_output_details(0)
    scale = float(detail["quantization_parameters"]["scales"][0])
    zp = int(detail["quantization_parameters"]["zero_points"][0])
    result = []
    for x in inputs:
        it.set_input(x, 0)
        it.invoke()
        q = np.asarray(it.get_output(0)).reshape(-1).astype(np.float64)
        result.append((q - zp) * scale)
    return result
