"""The emulated sensor's scene: images from a folder (sorted by name) or the frames of a video file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".gif", ".tif", ".tiff", ".webp"}


class FrameSource:
    """Sequential RGB888 frames (HxWx3 uint8); next() returns None at the end (or wraps when loop)."""

    def __init__(self, path: Path, loop: bool = False) -> None:
        self.path = Path(path)
        self.loop = loop
        self.index = 0
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
        if self.index >= len(self.files):
            if not self.loop:
                return None
            self.index = 0
        path = self.files[self.index]
        self.index += 1
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
