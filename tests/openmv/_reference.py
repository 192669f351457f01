"""An independent reference of what the board feeds the model (documented in openmv_app/README.md).

Written apart from the emulator on purpose, from the documentation: the emulated sensor's resize is a
product of integer weight matrices (out = Wy @ img @ Wx^T, rounded half up) rather than the emulator's
gather, and the firmware's draw_image (SCALE_ASPECT_EXPAND, 16.16 fixed-point walk, 5-bit bilinear
weights on RGB565) is a plain per-pixel loop here.
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
    scale = np.array([31, 63, 31])
    return ((c.astype(np.int64) * 255 + scale // 2) // scale).astype(np.uint8)


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


def draw_expand(frame: np.ndarray, roi, out_w: int, out_h: int) -> np.ndarray:
    """RGB565 channels (r5, g6, b5) -> out_h x out_w, per pixel, as documented."""
    rx, ry, rw, rh = roi
    s = max(np.float32(out_w) / np.float32(rw), np.float32(out_h) / np.float32(rh))
    fx, nx, ax0, sx = _walk(out_w, rx, rw, s)
    fy, ny, ay0, sy = _walk(out_h, ry, rh, s)
    f = frame.tolist()
    out = [[[0, 0, 0] for _ in range(out_w)] for _ in range(out_h)]
    for j in range(ny):
        ay = ay0 + j * sy
        wy = (ay // 2048) % 32
        top, bot = _pair(ay // 65536, ry, ry + rh - 1)
        for i in range(nx):
            ax = ax0 + i * sx
            wx = (ax // 2048) % 32
            left, right = _pair(ax // 65536, rx, rx + rw - 1)
            px = out[fy + j][fx + i]
            for c in range(3):
                lv = ((32 - wy) * f[top][left][c] + wy * f[bot][left][c] + 16) >> 5
                rv = ((32 - wy) * f[top][right][c] + wy * f[bot][right][c] + 16) >> 5
                px[c] = ((32 - wx) * lv + wx * rv + 16) >> 5
    return np.array(out, np.uint8)


def model_input(path: Path, framesize: str, roi, model_hw: tuple[int, int]) -> np.ndarray:
    """Image file -> sensor frame (RGB565) -> ROI drawn to model H x W -> RGB888 -> int8 (pixel ^ 0x80)."""
    rgb = np.asarray(Image.open(path).convert("RGB"))
    fw, fh = FRAME_SIZES[framesize]
    frame = to565(resize(rgb, fw, fh))
    small = from565(draw_expand(frame, roi or (0, 0, fw, fh), model_hw[1], model_hw[0]))
    return (small ^ 0x80).view(np.int8)[None]


def litert_scores(model: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Dequantized outputs from LiteRT with reference kernels (bit-identical to TFLite Micro)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_path=str(model), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    scale, zp = out["quantization"]
    result = []
    for x in inputs:
        it.set_tensor(inp["index"], x)
        it.invoke()
        q = it.get_tensor(out["index"]).reshape(-1).astype(np.float64)
        result.append((q - zp) * scale)
    return result
