"""The firmware's image -> model-input scaler: imlib draw_image with BILINEAR | CENTER and an aspect hint.

What `ml` (Normalization) and legacy `tf` do with an image input, re-implemented from the algorithm of
OpenMV's lib/imlib/draw.c (v4.5-v5):
- SCALE_ASPECT_EXPAND (4.x ml, legacy tf): one scale for both axes, s = max(W / roi_w, H / roi_h) in
  float32: the ROI is scaled to fill the model's W x H keeping its aspect ratio, centred, the overflow
  cropped; SCALE_ASPECT_IGNORE (firmware 5's ml): each axis its own scale, the ROI stretched to W x H;
- at exactly 1:1 on both axes the pixels are copied, not blended;
- the source is walked in 16.16 fixed point: step floor(65536 / s), start floor((start << 16) / s) - 0x8000
  (float32 arithmetic, floors as the M7's vcvtm);
- bilinear mix of the 2 x 2 neighbours (clamped to the ROI) with 5-bit weights per RGB565 channel, 8-bit
  weights for grayscale: v = ((N - w) * a + w * b + N / 2) >> bits, vertically first, then horizontally;
- model pixels not covered (float32 rounding at the border) stay black.
"""

from __future__ import annotations

import math

import numpy as np

F32 = np.float32


def _floor(x) -> int:
    return math.floor(float(x))


def _axis(dst: int, roi_start: int, roi_len: int, scale, scaled_len: int, dst_start: int, bits: int):
    """Destination range [d0, d1), lower/upper source indices and mix weights along one axis."""
    src_start = 0
    if dst_start < 0:
        src_start, dst_start = -dst_start, 0
    d1 = min(dst, dst_start + scaled_len - src_start)
    src_start += _floor(F32(roi_start) * scale)
    frac = _floor(F32(65536.0) / scale)
    reset = _floor(F32(src_start << 16) / scale) - 0x8000  # bilinear undoes a half-pixel shift
    accum = reset + np.arange(max(0, d1 - dst_start), dtype=np.int64) * frac
    index = accum >> 16
    weight = (accum >> (16 - bits)) & ((1 << bits) - 1)
    first, last = roi_start, roi_start + roi_len - 1
    lo = np.where(index < first, first, np.where(index >= last, last, index))
    hi = np.where(index < first, first, np.where(index >= last, last, index + 1))
    return dst_start, d1, lo, hi, weight


def draw_bilinear(
    src: np.ndarray, roi: tuple[int, int, int, int], out_w: int, out_h: int, aspect: str = "expand"
) -> np.ndarray:
    """src: HxWx3 (r5, g6, b5) for RGB565 or HxW grayscale -> out_h x out_w, same depth and layout.

    aspect: "expand" (SCALE_ASPECT_EXPAND) or "ignore" (SCALE_ASPECT_IGNORE)."""
    rx, ry, rw, rh = roi
    xs, ys = F32(out_w) / F32(rw), F32(out_h) / F32(rh)
    if aspect == "expand":
        xs = ys = max(xs, ys)
    elif aspect != "ignore":
        raise ValueError(f"aspect must be 'expand' or 'ignore', not {aspect!r}")
    scaled_w, scaled_h = _floor(xs * F32(rw)), _floor(ys * F32(rh))
    start_x = _floor(F32(out_w - scaled_w) / F32(2.0))
    start_y = _floor(F32(out_h - scaled_h) / F32(2.0))
    out = np.zeros((out_h, out_w) + src.shape[2:], src.dtype)
    if xs == F32(1.0) and ys == F32(1.0):  # 1:1: a copy (no half-pixel shift, no blending)
        x0, y0 = max(0, start_x), max(0, start_y)
        sx, sy = rx + x0 - start_x, ry + y0 - start_y
        w, h = min(out_w - x0, rw - (sx - rx)), min(out_h - y0, rh - (sy - ry))
        out[y0 : y0 + h, x0 : x0 + w] = src[sy : sy + h, sx : sx + w]
        return out
    bits = 5 if src.ndim == 3 else 8
    x0, x1, lo_x, hi_x, wx = _axis(out_w, rx, rw, xs, scaled_w, start_x, bits)
    y0, y1, lo_y, hi_y, wy = _axis(out_h, ry, rh, ys, scaled_h, start_y, bits)
    full, half = 1 << bits, 1 << (bits - 1)
    extra = (None,) * (src.ndim - 2)
    s = src.astype(np.int32)
    wy_ = wy[(slice(None), None) + extra]
    rows = ((full - wy_) * s[lo_y] + wy_ * s[hi_y] + half) >> bits
    wx_ = wx[(None, slice(None)) + extra]
    mixed = ((full - wx_) * rows[:, lo_x] + wx_ * rows[:, hi_x] + half) >> bits
    out[y0:y1, x0:x1] = mixed
    return out
