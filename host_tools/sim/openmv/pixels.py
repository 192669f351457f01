"""Pixel arithmetic of the emulated sensor: exact integer bilinear resize and the RGB565 codecs.

The sensor maps the replayed picture to the configured frame size with this resize: destination pixel
(x, y) samples the source at ((2x+1)*w - W) / (2W) (half-pixel centres, aspect ignored), clamped to the
edges; the two-by-two weighted sum is computed exactly in integers and rounded half up. (What the firmware
does when it feeds a frame to a model is another algorithm: see draw_image.py.) The firmware's own pixel
conversions are imlib's: RGB565 widened by bit replication, narrowed by truncation (host_tools/rgb565.py).
"""

from __future__ import annotations

import numpy as np

from host_tools import rgb565


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


def sensor_rgb565(rgb: np.ndarray) -> np.ndarray:
    """The emulated sensor's own quantisation of a scene to RGB565: HxWx3 (r5, g6, b5), rounded to nearest.

    (A camera's choice: the OV7725 outputs RGB565 itself. The firmware's conversions are imlib's, below.)"""
    v = rgb.astype(np.int32)
    r = (v[..., 0] * 31 + 127) // 255
    g = (v[..., 1] * 63 + 127) // 255
    b = (v[..., 2] * 31 + 127) // 255
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


# imlib's conversions (host_tools/rgb565.py holds the one copy of the RGB565 codecs).
rgb565_to_888 = rgb565.to_rgb888
rgb888_to_565 = rgb565.from_rgb888
pack_rgb565 = rgb565.pack


def rgb888_to_gray(rgb: np.ndarray) -> np.ndarray:
    """Luma the way imlib computes it from RGB888: (38 R + 75 G + 15 B) >> 7."""
    v = rgb.astype(np.int32)
    return ((v[..., 0] * 38 + v[..., 1] * 75 + v[..., 2] * 15) >> 7).astype(np.uint8)


def gray_to_565(gray: np.ndarray) -> np.ndarray:
    """imlib's COLOR_GRAYSCALE_TO_RGB565: the gray value in each channel, truncated to 5/6/5 bits."""
    return rgb565.from_rgb888(np.repeat(gray[..., None], 3, axis=2))


def bayer_mosaic(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 -> HxW Bayer (BGGR as the OV7725's raw output): one colour sample per pixel."""
    h, w = rgb.shape[:2]
    out = np.empty((h, w), np.uint8)
    out[0::2, 0::2] = rgb[0::2, 0::2, 2]
    out[0::2, 1::2] = rgb[0::2, 1::2, 1]
    out[1::2, 0::2] = rgb[1::2, 0::2, 1]
    out[1::2, 1::2] = rgb[1::2, 1::2, 0]
    return out


def debayer(raw: np.ndarray) -> np.ndarray:
    """BGGR Bayer -> HxWx3 RGB888 by bilinear interpolation of each colour's samples (edges replicated)."""
    h, w = raw.shape
    p = np.pad(raw.astype(np.int32), 1, mode="reflect")
    masks = np.zeros((3, h + 2, w + 2), np.int32)
    yy, xx = np.mgrid[-1 : h + 1, -1 : w + 1]
    masks[2] = ((yy % 2 == 0) & (xx % 2 == 0))
    masks[1] = ((yy + xx) % 2 == 1)
    masks[0] = ((yy % 2 == 1) & (xx % 2 == 1))
    out = np.empty((h, w, 3), np.uint8)
    for c in range(3):
        num = np.zeros((h, w), np.int32)
        den = np.zeros((h, w), np.int32)
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                m = masks[c, dy : dy + h, dx : dx + w]
                num += p[dy : dy + h, dx : dx + w] * m
                den += m
        out[..., c] = num // np.maximum(den, 1)
    return out
