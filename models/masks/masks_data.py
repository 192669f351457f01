"""The masks data set (good / bad / no_mask frames, split by recording) and the board's preprocessing.

Only numpy + Pillow: the recipe, the fixture script and the sample-frame picker share it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

LABELS = ("good", "bad", "no_mask")  # order = the model's output index
RECORDINGS = ("A", "B", "C")
_NAME = re.compile(r"^([A-Z])-(\d+)\.jpg$")


@dataclass(frozen=True)
class Frame:
    path: Path
    label: int  # index into LABELS
    recording: str
    number: int  # frame number inside its recording (playback order)


def list_frames(root: Path) -> list[Frame]:
    """Every frame under root/<label>/<recording>-<number>.jpg, in (recording, number) order."""
    frames = []
    for label_index, label in enumerate(LABELS):
        folder = root / label
        if not folder.is_dir():
            raise FileNotFoundError(f"masks data: missing class folder {folder}")
        for path in folder.iterdir():
            match = _NAME.match(path.name)
            if match:
                frames.append(Frame(path, label_index, match.group(1), int(match.group(2))))
    if not frames:
        raise FileNotFoundError(f"masks data: no <recording>-<frame>.jpg files under {root}")
    return sorted(frames, key=lambda f: (f.recording, f.number, f.label))


def load_rgb(path: Path) -> np.ndarray:
    """HxWx3 uint8 RGB."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def rgb565_roundtrip(rgb: np.ndarray) -> np.ndarray:
    """What an RGB565 frame buffer keeps of an RGB888 image (the camera's pixformat), back in 8 bits."""
    r = (rgb[..., 0].astype(np.uint16) >> 3) * 255 // 31
    g = (rgb[..., 1].astype(np.uint16) >> 2) * 255 // 63
    b = (rgb[..., 2].astype(np.uint16) >> 3) * 255 // 31
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def resize_bilinear(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize without anti-aliasing, as the firmware's draw_image does for square frames."""
    src_h, src_w = rgb.shape[:2]

    def taps(n_dst: int, n_src: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = (np.arange(n_dst) + 0.5) * (n_src / n_dst) - 0.5
        pos = np.clip(pos, 0, n_src - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, n_src - 1)
        return lo, hi, (pos - lo).astype(np.float32)

    y0, y1, fy = taps(height, src_h)
    x0, x1, fx = taps(width, src_w)
    img = rgb.astype(np.float32)
    top = img[y0][:, x0] * (1 - fx)[None, :, None] + img[y0][:, x1] * fx[None, :, None]
    bot = img[y1][:, x0] * (1 - fx)[None, :, None] + img[y1][:, x1] * fx[None, :, None]
    out = top * (1 - fy)[:, None, None] + bot * fy[:, None, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def board_input(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """The uint8 HxWx3 pixels the OpenMV ml module hands the model for this frame (before the ^0x80)."""
    return resize_bilinear(rgb565_roundtrip(rgb), height, width)


def to_int8(pixels: np.ndarray) -> np.ndarray:
    """pixel ^ 0x80 == pixel - 128: the int8 tensor the board feeds (scale 1/255, zero point -128)."""
    return (pixels.astype(np.int16) - 128).astype(np.int8)
