"""What the live page shows, updated by the reader thread and read by the HTTP handlers (thread-safe)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass

from host_tools.results import Event, Result, format_event

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
        self.result: Result | None = None
        self.events: deque[str] = deque(maxlen=20)  # config reloads, as terminal lines
        self.history: deque[LatencyPoint] = deque(maxlen=history)
        self.results = 0
        self.jpeg: bytes | None = None
        self.frame_seq = 0
        self.frame_size = (0, 0)
        self.status = "waiting for the camera"
        self.ended = False
        self.updated = time.time()

    def add_result(self, r: Result) -> None:
        with self._lock:
            self.result = r
            self.results += 1
            self.history.append(LatencyPoint(r.frame, r.ms.total, r.ms.inference))
            self.status = "live"
            self.updated = time.time()

    def add_event(self, e: Event) -> None:
        with self._lock:
            self.events.append(format_event(e))
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
                "result": None if r is None else result_json(r),
                "events": list(self.events),
                "history": [asdict(p) for p in self.history],
                "frame": {"seq": self.frame_seq, "width": self.frame_size[0], "height": self.frame_size[1]},
                "updated": self.updated,
            }


def result_json(r: Result) -> dict:
    """A result for the page: the schema's fields (ms as {stage: ms} of the stages present), the threshold
    its score was compared with, and the explanation line the terminal shows."""
    from host_tools.results import explain

    d = asdict(r)
    d.pop("line")
    d["ms"] = dict(r.ms.items())
    d["threshold"] = r.threshold
    d["why"] = explain(r)
    return d
