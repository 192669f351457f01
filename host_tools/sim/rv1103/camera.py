"""The emulated RV1103's camera: a frame folder, an image or a video, delivered to rv1103_app through a FIFO.

Frames are decoded here (PIL for images, OpenCV for videos: frames.py) and written to the FIFO as a stream of
binary PPM images (RGB888), which rv1103_app reads as its frame source (`--frames FIFO`). The program sees a
device that hands it decoded frames, as the board's V4L2 camera does, whatever the files' format.

The camera runs at the reader's pace (a FIFO write waits for the reader) and outlives its reader: when the
program restarts, the next frame goes to the new one. At the end of a finite source the FIFO is closed, which
the program takes as the end of frames.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from host_tools.sim.rv1103.frames import Frame

KEEP_NAMES = 10000  # frame names remembered for the reader's lines


class Camera:
    def __init__(self, frames: Iterator[Frame], fifo: Path, limit: int | None = None,
                 fps: float | None = None) -> None:
        self.frames = frames
        self.fps = fps  # a camera held to this frame rate: a frame is not handed over before its time
        self._due = 0.0
        self.limit = limit  # frames to deliver before the end of frames (None: until the source ends)
        self.fifo = Path(fifo)
        if not self.fifo.exists():
            os.mkfifo(self.fifo, 0o666)
        self.sent = 0  # frames handed to readers so far
        self.names: dict[int, str] = {}  # frame number (as the reader counts it) -> source name
        self.finished = threading.Event()  # the source ran out (or the camera was stopped)
        self.error: Exception | None = None  # why the source failed, if it did
        self._stop = threading.Event()
        self._reader_frames = 0  # frames the current reader got: its own frame numbers start at 0
        self._thread = threading.Thread(target=self._run, name="emulated-camera", daemon=True)

    def start(self) -> Camera:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def name_of(self, frame: int) -> str:
        return self.names.get(frame, f"frame {frame}")

    def _open_writer(self) -> int | None:
        """Waits for a reader to open the FIFO; None when stopped first."""
        while not self._stop.is_set():
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                    raise
                time.sleep(0.05)
                continue
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
            return fd
        return None

    def _run(self) -> None:
        fd = None
        pending: Frame | None = None  # a frame whose write the last reader cut short: the next reader gets it
        try:
            while not self._stop.is_set():
                if fd is None:
                    fd = self._open_writer()
                    if fd is None:
                        return
                    self._reader_frames = 0
                frame = pending or (None if self.limit is not None and self.sent >= self.limit
                                    else next(self.frames, None))
                pending = None
                if frame is None:
                    return  # end of frames: closing the FIFO ends the reader's source
                if self.fps:  # the sensor's frame clock; a late reader gets the next frame at once
                    now = time.monotonic()
                    if self._due > now and self._stop.wait(self._due - now):
                        return
                    self._due = max(now, self._due) + 1.0 / self.fps
                h, w = frame.rgb.shape[:2]
                data = b"P6\n%d %d\n255\n" % (w, h) + frame.rgb.tobytes()
                self.names[self._reader_frames] = frame.name
                self.names.pop(self._reader_frames - KEEP_NAMES, None)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                except BrokenPipeError:  # the reader went away (restart): wait for the next one
                    os.close(fd)
                    fd, pending = None, frame
                    continue
                self._reader_frames += 1
                self.sent += 1
        except Exception as exc:  # e.g. a video that cannot be decoded: the reader sees the end of frames
            self.error = exc
            print(f"emulated camera: {exc}", file=sys.stderr, flush=True)
        finally:
            if fd is not None:
                os.close(fd)
            self.finished.set()
