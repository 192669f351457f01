"""Emulated `image`: the Image class the sensor returns (RGB565 or GRAYSCALE pixels held in numpy).

RGB565 pixels are kept as three channels of 5/6/5-bit values so that resizing works in the native depth
(see pixels.py); get_pixel() returns RGB888 (bit replication) as the firmware does. BAYER images (a VGA
RGB565 frame on the H7, whose frame buffer cannot hold it) keep the raw mosaic and are debayered when drawn.
"""

from __future__ import annotations

import types

import numpy as np

from host_tools.sim.openmv import fs, pixels

BINARY, GRAYSCALE, RGB565, BAYER, YUV422, JPEG = 1, 2, 3, 4, 5, 6
FORMAT_NAMES = {GRAYSCALE: "GRAYSCALE", RGB565: "RGB565", JPEG: "JPEG", BAYER: "BAYER"}
# draw_image hints (accepted; Normalization's resize semantics are fixed, see pixels.py)
AREA, BILINEAR, BICUBIC, CENTER, EXTRACT_RGB_CHANNEL_FIRST = 1, 2, 4, 8, 16
HMIRROR, VFLIP, TRANSPOSE, SCALE_ASPECT_KEEP, SCALE_ASPECT_EXPAND, SCALE_ASPECT_IGNORE = (
    32,
    64,
    128,
    256,
    512,
    1024,
)
BLACK_BACKGROUND, ROTATE_90, ROTATE_180, ROTATE_270 = 2048, 4096, 8192, 16384


class Image:
    """image.Image(width, height, pixformat) or image.Image(path) (a file on the camera filesystem)."""

    def __init__(
        self, *args, _pixels: np.ndarray | None = None, _format: int | None = None, **kwargs
    ) -> None:
        if _pixels is not None:
            self._px, self._fmt = _pixels, int(_format)
            return
        if len(args) == 1 and isinstance(args[0], str):
            from PIL import Image as PILImage

            state = kwargs.get("_state")
            host = fs.to_host(state, args[0]) if state is not None else args[0]
            with PILImage.open(host) as im:
                rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
            self._px, self._fmt = pixels.rgb888_to_565(rgb), RGB565
            return
        if len(args) < 3:
            raise TypeError("Image(width, height, pixformat) or Image(path)")
        w, h, fmt = int(args[0]), int(args[1]), int(args[2])
        if fmt == GRAYSCALE:
            self._px = np.zeros((h, w), np.uint8)
        elif fmt == RGB565:
            self._px = np.zeros((h, w, 3), np.uint8)
        else:
            raise ValueError("Unsupported pixel format")
        self._fmt = fmt

    # --- firmware API ---------------------------------------------------------------------------
    def width(self) -> int:
        return int(self._px.shape[1])

    def height(self) -> int:
        return int(self._px.shape[0])

    def format(self) -> int:
        return self._fmt

    def size(self) -> int:
        return self.width() * self.height() * (2 if self._fmt == RGB565 else 1)

    def bytearray(self) -> bytearray:
        return bytearray(self.to_bytes())

    def get_pixel(self, x: int, y: int):
        if not (0 <= x < self.width() and 0 <= y < self.height()):
            return None
        if self._fmt == GRAYSCALE:
            return int(self._px[y, x])
        if self._fmt == BAYER:
            return tuple(int(v) for v in pixels.debayer(self._px)[y, x])
        return tuple(int(v) for v in pixels.rgb565_to_888(self._px[y : y + 1, x : x + 1])[0, 0])

    def set_pixel(self, x: int, y: int, color) -> Image:
        if 0 <= x < self.width() and 0 <= y < self.height():
            self._px[y, x] = self._color(color)
        return self

    def draw_rectangle(self, *args, color=(255, 255, 255), thickness: int = 1, fill: bool = False, **_kw):
        x, y, w, h = args[0] if len(args) == 1 else args[:4]
        c = self._color(color)
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width(), x + w), min(self.height(), y + h)
        if x1 <= x0 or y1 <= y0:
            return self
        if fill:
            self._px[y0:y1, x0:x1] = c
            return self
        t = max(1, int(thickness))
        self._px[y0 : min(y1, y0 + t), x0:x1] = c
        self._px[max(y0, y1 - t) : y1, x0:x1] = c
        self._px[y0:y1, x0 : min(x1, x0 + t)] = c
        self._px[y0:y1, max(x0, x1 - t) : x1] = c
        return self

    def copy(self, roi=None, **_kw) -> Image:
        x, y, w, h = roi if roi else (0, 0, self.width(), self.height())
        return Image(_pixels=self._px[y : y + h, x : x + w].copy(), _format=self._fmt)

    def crop(self, roi=None, **_kw) -> Image:
        x, y, w, h = roi if roi else (0, 0, self.width(), self.height())
        self._px = self._px[y : y + h, x : x + w].copy()
        return self

    # --- host side (not firmware API) -------------------------------------------------------------
    def _color(self, color):
        if self._fmt in (GRAYSCALE, BAYER):
            return int(color if isinstance(color, int) else pixels.rgb888_to_gray(np.array(color, np.uint8)))
        rgb = np.array([color] * 3 if isinstance(color, int) else color, np.uint8)
        return pixels.rgb888_to_565(rgb)

    def to_bytes(self) -> bytes:
        """Frame buffer bytes: RGB565 little-endian 16-bit pixels, or 8-bit grayscale."""
        if self._fmt == RGB565:
            return pixels.pack_rgb565(self._px)
        return self._px.tobytes()

    def native(self) -> np.ndarray:
        """The pixels in their native depth: HxWx3 (5/6/5) for RGB565, HxW for grayscale and Bayer."""
        return self._px

    def as_drawable(self) -> Image:
        """What draw_image reads: a Bayer image is debayered to RGB565 first (imlib does it per line)."""
        if self._fmt != BAYER:
            return self
        return Image(_pixels=pixels.rgb888_to_565(pixels.debayer(self._px)), _format=RGB565)

    def rgb888(self) -> np.ndarray:
        if self._fmt == GRAYSCALE:
            return np.repeat(self._px[..., None], 3, axis=2)
        if self._fmt == BAYER:
            return pixels.debayer(self._px)
        return pixels.rgb565_to_888(self._px)


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("image")
    for name, value in list(globals().items()):
        if name.isupper() and isinstance(value, int):
            setattr(mod, name, value)

    class _FsImage(Image):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, _state=state, **kwargs)

    _FsImage.__name__ = "Image"
    mod.Image = _FsImage
    return mod
