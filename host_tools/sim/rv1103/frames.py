"""Frames for the emulated RV1103: an image folder or a video file, as RGB888 arrays.

Which files are frames, their order and what happens to a bad one: the rule of host_tools/sim/frame_files.py,
the board program's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from host_tools.errors import UsageError
from host_tools.sim import frame_files
from host_tools.sim.frame_files import IMAGE_EXTS

VIDEO_EXTS = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".mjpeg", ".y4m"}


@dataclass
class Frame:
    rgb: np.ndarray  # (H, W, 3) uint8, packed
    name: str


def list_images(folder: Path) -> list[Path]:
    files = frame_files.list_images(folder)
    if not files:
        raise UsageError(f"--frames {folder}: no images ({', '.join(IMAGE_EXTS)}) in the folder")
    return files


def _images(files: list[Path], loop: bool) -> Iterator[Frame]:
    import sys

    while True:
        decoded = 0
        for p in files:
            try:
                rgb = frame_files.read_image(p)
            except ValueError as exc:  # one bad file is reported and skipped, as on the board
                print(f"sim rv1103: skipping frame: {p}: {exc}", file=sys.stderr)
                continue
            decoded += 1
            yield Frame(rgb, p.name)
        if not loop or decoded == 0:  # a folder with no decodable file ends, looping or not
            return


def _video(path: Path, loop: bool) -> Iterator[Frame]:
    try:
        import cv2
    except ImportError as exc:
        raise UsageError(f"--frames {path}: reading video needs opencv-python-headless") from exc
    while True:
        cap = cv2.VideoCapture(str(path))
        if not cap.isOpened():
            raise UsageError(f"--frames {path}: OpenCV cannot open this video")
        i = 0
        try:
            while True:
                ok, bgr = cap.read()
                if not ok:
                    break
                yield Frame(np.ascontiguousarray(bgr[:, :, ::-1]), f"{path.name}#{i}")
                i += 1
        finally:
            cap.release()
        if not loop or i == 0:
            return


def open_frames(path: Path, loop: bool = False) -> Iterator[Frame]:
    """Checks the path now (UsageError) and returns a lazy iterator over its frames."""
    path = Path(path)
    if path.is_dir():
        return _images(list_images(path), loop)
    if not path.exists():
        raise UsageError(f"--frames {path}: no such file or folder")
    ext = path.suffix.lower()
    if frame_files.is_image_name(path):
        return _images([path], loop)
    if ext in VIDEO_EXTS:
        return _video(path, loop)
    raise UsageError(f"--frames {path}: not an image folder, image ({', '.join(IMAGE_EXTS)}) "
                     f"or video ({', '.join(sorted(VIDEO_EXTS))})")
