"""Frames read from the stream channel: the 20-byte header and the image after it."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np

from host_tools import rgb565
from host_tools.errors import DeviceError
from host_tools.protocol.constants import (
    PIXFORMAT_GRAYSCALE,
    PIXFORMAT_JPEG,
    PIXFORMAT_NAMES,
    PIXFORMAT_RGB565,
    STREAM_HEADER_FMT,
    STREAM_HEADER_SIZE,
)


@dataclass(frozen=True)
class StreamFrame:
    width: int
    height: int
    pixformat: int  # PIXFORMAT_* code as sent by the camera
    depth: int  # bytes per pixel for raw frames, the JPEG size for JPEG frames
    data: bytes  # JPEG bytes, or raw RGB565 (little-endian) / grayscale pixels

    @property
    def format_name(self) -> str:
        return PIXFORMAT_NAMES.get(self.pixformat, f"0x{self.pixformat:08X}")

    @property
    def is_jpeg(self) -> bool:
        return self.pixformat == PIXFORMAT_JPEG

    def to_rgb(self) -> np.ndarray:
        """HxWx3 uint8 RGB, decoding JPEG or expanding RGB565/grayscale."""
        w, h = self.width, self.height
        if self.pixformat == PIXFORMAT_JPEG:
            from PIL import Image

            try:
                img = Image.open(io.BytesIO(self.data))
                return np.asarray(img.convert("RGB"))
            except Exception as exc:  # Pillow raises several types for broken data
                raise DeviceError(f"camera sent an undecodable JPEG frame: {exc}") from None
        if self.pixformat == PIXFORMAT_GRAYSCALE and len(self.data) == w * h:
            g = np.frombuffer(self.data, np.uint8).reshape(h, w)
            return np.repeat(g[:, :, None], 3, axis=2)
        if self.pixformat == PIXFORMAT_RGB565 and len(self.data) == w * h * 2:
            return rgb565.decode(self.data, w, h)
        raise DeviceError(f"camera sent a {self.format_name} frame of {len(self.data)} bytes for {w}x{h}")

    def to_jpeg(self, quality: int = 90) -> bytes:
        if self.is_jpeg:
            return self.data
        from PIL import Image

        out = io.BytesIO()
        Image.fromarray(self.to_rgb()).save(out, "JPEG", quality=quality)
        return out.getvalue()


def pack_frame(width: int, height: int, pixformat: int, data: bytes) -> bytes:
    """Header + data as the stream channel serves it (used by the emulated camera)."""
    depth = len(data) if pixformat == PIXFORMAT_JPEG else (1 if pixformat == PIXFORMAT_GRAYSCALE else 2)
    return struct.pack(STREAM_HEADER_FMT, width, height, pixformat, depth, STREAM_HEADER_SIZE) + data


def parse_frame(blob: bytes) -> StreamFrame:
    if len(blob) < STREAM_HEADER_SIZE:
        raise DeviceError(f"stream frame of {len(blob)} bytes is shorter than its 20-byte header")
    w, h, fmt, depth, offset = struct.unpack_from(STREAM_HEADER_FMT, blob)
    if not STREAM_HEADER_SIZE <= offset <= len(blob):
        raise DeviceError(f"stream frame header gives data offset {offset} in a {len(blob)}-byte frame")
    return StreamFrame(w, h, fmt, depth, bytes(blob[offset:]))
