"""RGB565 pixels: the one place that packs, unpacks and widens them (host stream decoding and the emulator).

Widening to 8 bits follows OpenMV's imlib (imlib.h, COLOR_R5_TO_R8 and friends): bit replication,
`(c << 3) | (c >> 2)` for the 5-bit channels and `(c << 2) | (c >> 4)` for the 6-bit one. Narrowing from
8 bits is imlib's COLOR_R8_G8_B8_TO_RGB565: truncation (the low bits are dropped).
"""

from __future__ import annotations

import numpy as np


def unpack(data: bytes, w: int, h: int) -> np.ndarray:
    """Little-endian 16-bit pixels -> HxWx3 uint8 channel values (r5, g6, b5)."""
    v = np.frombuffer(data, "<u2", w * h).reshape(h, w)
    return np.stack([(v >> 11) & 0x1F, (v >> 5) & 0x3F, v & 0x1F], axis=-1).astype(np.uint8)


def pack(c565: np.ndarray) -> bytes:
    """(r5, g6, b5) channel values -> little-endian 16-bit pixels, row-major."""
    v = c565.astype(np.uint16)
    return ((v[..., 0] << 11) | (v[..., 1] << 5) | v[..., 2]).astype("<u2").tobytes()


def to_rgb888(c565: np.ndarray) -> np.ndarray:
    """(r5, g6, b5) -> RGB888 by bit replication, as the firmware widens them."""
    v = c565.astype(np.uint16)
    r = (v[..., 0] << 3) | (v[..., 0] >> 2)
    g = (v[..., 1] << 2) | (v[..., 1] >> 4)
    b = (v[..., 2] << 3) | (v[..., 2] >> 2)
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def from_rgb888(rgb: np.ndarray) -> np.ndarray:
    """RGB888 -> (r5, g6, b5) by truncation, as imlib narrows a colour (grayscale included)."""
    v = rgb.astype(np.uint8)
    return np.stack([v[..., 0] >> 3, v[..., 1] >> 2, v[..., 2] >> 3], axis=-1).astype(np.uint8)


def decode(data: bytes, w: int, h: int) -> np.ndarray:
    """Little-endian RGB565 frame bytes -> HxWx3 RGB888."""
    return to_rgb888(unpack(data, w, h))
