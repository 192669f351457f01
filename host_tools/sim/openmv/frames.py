"""The emulated sensor's scene: images from a folder or the frames of a video file.

Which files are frames, their order and what happens to a bad one follow the rule both emulated boards and
the board program share (host_tools/sim/frame_files.py): a file that does not decode is skipped with a
message naming it and the replay goes on; a folder in which no file decodes ends the replay (with --loop
too, which would otherwise spin forever).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from host_tools.sim.frame_files import IMAGE_EXTS, list_images, read_image

__all__ = ["FrameSource", "read_image"]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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
            self.files = list_images(self.path)
            if not self.files:
                raise ValueError(f"no images ({', '.join(IMAGE_EXTS)}) in folder {self.path}")
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
