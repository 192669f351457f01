"""The emulated sensor's scene: images from a folder (sorted by name) or the frames of a video file.

A file that is not a readable image (corrupt, truncated, not an image at all) or that would decode to more
than MAX_FRAME_PIXELS (a decompression bomb: a small file that expands to gigabytes) is skipped with a
message naming it, and the replay goes on with the next file; a folder in which no file is readable ends
the replay (with --loop too, which would otherwise spin forever).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".gif", ".tif", ".tiff", ".webp"}
# A camera frame is at most a few megapixels; 40 MP is far beyond any sensor the emulator stands for.
MAX_FRAME_PIXELS = 40_000_000


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_image(path: Path) -> np.ndarray:
    """RGB888 pixels of an image file; ValueError naming the problem if it is unreadable or a bomb."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_FRAME_PIXELS:
                    raise ValueError(f"{w}x{h} pixels is more than the {MAX_FRAME_PIXELS} a frame may have "
                                     "(a decompression bomb?)")
                return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except ValueError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(f"decompression bomb ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for bad files (OSError, SyntaxError...)
        raise ValueError(f"not a readable image ({type(exc).__name__}: {str(exc)[:120]})") from None


class FrameSource:
    """Sequential RGB888 frames (HxWx3 uint8); next() returns None at the end (or wraps when loop)."""

    def __init__(self, path: Path, loop: bool = False, on_skip: Callable[[str], None] = _stderr) -> None:
        self.path = Path(path)
        self.loop = loop
        self.on_skip = on_skip
        self.index = 0
        self.skipped = 0
        self._video = None
        if self.path.is_dir():
            self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self.files:
                raise ValueError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder {self.path}")
        elif self.path.is_file():
            self.files = []
            self._open_video()
        else:
            raise ValueError(f"frames path {self.path} does not exist")

    def _open_video(self) -> None:
        try:
            import cv2  # only video files need OpenCV (in the dev extra; runtime stays light)
        except ImportError:
            raise ValueError(
                f"{self.path} is not a folder; reading video files needs OpenCV "
                "(pip install opencv-python-headless), or give a folder of images"
            ) from None

        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise ValueError(f"cannot open {self.path} as a video file (nor is it a folder of images)")
        self._video = cap

    def next(self) -> np.ndarray | None:
        if self._video is not None:
            ok, bgr = self._video.read()
            if not ok:
                if not self.loop or self.index == 0:
                    return None
                self._video.release()
                self._open_video()
                ok, bgr = self._video.read()
                if not ok:
                    return None
            self.index += 1
            return np.ascontiguousarray(bgr[..., ::-1])
        failed_in_a_row = 0
        while failed_in_a_row < len(self.files):
            if self.index >= len(self.files):
                if not self.loop:
                    return None
                self.index = 0
            path = self.files[self.index]
            self.index += 1
            try:
                return read_image(path)
            except ValueError as exc:
                failed_in_a_row += 1
                self.skipped += 1
                self.on_skip(f"frames: skipped {path}: {exc}")
        return None  # not one readable image in the folder
