"""Pixel arithmetic of the emulated sensor: exact integer bilinear resize and the RGB565 codecs.

The sensor maps the replayed picture to the configured frame size with this resize: destination pixel
(x, y) samples the source at ((2x+1)*w - W) / (2W) (half-pixel centres, aspect ignored), clamped to the
edges; the two-by-two weighted sum is computed exactly in integers and rounded half up. (What the firmware
does when it feeds a frame to a model is another algorithm: see draw_image.py.)
"""

from __future__ import annotations

import numpy as np


def _axis(dst: int, src: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Per destination index: lower source index, upper index, upper weight numerator; and the denominator."""
    den = 2 * dst
    pos = (2 * np.arange(dst, dtype=np.int64) + 1) * src - dst
    pos = np.clip(pos, 0, (src - 1) * den)
    lo = pos // den
    frac = pos - lo * den
    hi = np.minimum(lo + 1, src - 1)
    return lo, hi, frac, den


def resize_bilinear(img: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    """img: HxW or HxWxC unsigned ints -> out_h x out_w (same dtype), exact integer bilinear."""
    h, w = img.shape[:2]
    if (w, h) == (out_w, out_h):
        return img.copy()
    x0, x1, fx, dx = _axis(out_w, w)
    y0, y1, fy, dy = _axis(out_h, h)
    # Exact in integers, done as two passes (sums, no rounding in between): the largest sum is
    # max_pixel * dx * dy, which picks the integer width.
    dtype = np.int32 if int(img.max(initial=0)) * dx * dy < 2**31 else np.int64
    src = img.astype(dtype)
    extra = (None,) * (img.ndim - 2)
    wx1 = fx.astype(dtype)[(slice(None),) + extra]
    wx0 = dx - wx1
    rows = src[:, x0] * wx0 + src[:, x1] * wx1
    wy1 = fy.astype(dtype)[(slice(None), None) + extra]
    wy0 = dy - wy1
    den = dx * dy
    out = (rows[y0] * wy0 + rows[y1] * wy1 + den // 2) // den
    return out.astype(img.dtype)


def rgb888_to_565(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 -> HxWx3 uint8 channel values (r5, g6, b5), rounded to nearest."""
    v = rgb.astype(np.int32)
    r = (v[..., 0] * 31 + 127) // 255
    g = (v[..., 1] * 63 + 127) // 255
    b = (v[..., 2] * 31 + 127) // 255
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def rgb565_to_888(c565: np.ndarray) -> np.ndarray:
    """(r5, g6, b5) channel values -> RGB888, rounded to nearest (the firmware's 5/6-to-8 bit tables)."""
    v = c565.astype(np.int32)
    r = (v[..., 0] * 255 + 15) // 31
    g = (v[..., 1] * 255 + 31) // 63
    b = (v[..., 2] * 255 + 15) // 31
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def rgb888_to_gray(rgb: np.ndarray) -> np.ndarray:
    """Luma the way imlib computes it from RGB888: (38 R + 75 G + 15 B) >> 7."""
    v = rgb.astype(np.int32)
    return ((v[..., 0] * 38 + v[..., 1] * 75 + v[..., 2] * 15) >> 7).astype(np.uint8)


def pack_rgb565(c565: np.ndarray) -> bytes:
    """(r5, g6, b5) channels -> little-endian 16-bit RGB565 pixels, row-major."""
    v = c565.astype(np.uint16)
    return ((v[..., 0] << 11) | (v[..., 1] << 5) | v[..., 2]).astype("<u2").tobytes()
