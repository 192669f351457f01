"""What the live page shows, updated by the reader thread and read by the HTTP handlers (thread-safe)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass

from host_tools.results import AppResult

HISTORY = 120  # frames kept for the latency chart


@dataclass(frozen=True)
class LatencyPoint:
    frame: int
    total_ms: float
    infer_ms: float


class LiveState:
    def __init__(self, source: str, history: int = HISTORY) -> None:
        self._lock = threading.Lock()
        self.source = source  # e.g. "emulated OpenMV H7 on /dev/pts/5 (Protocol V2)"
        self.result: AppResult | None = None
        self.history: deque[LatencyPoint] = deque(maxlen=history)
        self.results = 0
        self.jpeg: bytes | None = None
        self.frame_seq = 0
        self.frame_size = (0, 0)
        self.status = "waiting for the camera"
        self.ended = False
        self.updated = time.time()

    def add_result(self, r: AppResult) -> None:
        with self._lock:
            self.result = r
            self.results += 1
            infer = r.ms.get("infer", r.ms.get("inference", 0.0))  # OpenMV app / RV1103 program
            self.history.append(LatencyPoint(r.frame, r.ms.get("total", 0.0), infer))
            self.status = "live"
            self.updated = time.time()

    def add_frame(self, jpeg: bytes, width: int, height: int) -> None:
        with self._lock:
            self.jpeg = jpeg
            self.frame_seq += 1
            self.frame_size = (width, height)
            self.updated = time.time()

    def set_status(self, status: str, ended: bool = False) -> None:
        with self._lock:
            self.status = status
            self.ended = self.ended or ended
            self.updated = time.time()

    def frame(self) -> tuple[int, bytes | None]:
        with self._lock:
            return self.frame_seq, self.jpeg

    def snapshot(self) -> dict:
        """The JSON the page polls (/api/state)."""
        with self._lock:
            r = self.result
            return {
                "source": self.source,
                "status": self.status,
                "ended": self.ended,
                "results": self.results,
                "result": None if r is None else {
                    "frame": r.frame, "label": r.label, "score": r.score, "scores": r.scores, "ms": r.ms,
                    "fps": r.fps,
                },
                "history": [asdict(p) for p in self.history],
                "frame": {"seq": self.frame_seq, "width": self.frame_size[0], "height": self.frame_size[1]},
                "updated": self.updated,
            }
