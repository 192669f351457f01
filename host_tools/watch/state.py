"""What the live page shows, updated by the reader thread and read by the HTTP handlers (thread-safe).

The image and the result drawn over it belong to the same frame: an RV1103 sends a preview JPEG inside
that frame's own result line (exact); an OpenMV camera's image is read from its frame buffer between
results, so it is paired with the last result that arrived before it (the page says so). The last few
images are kept by number, so that the page fetches the very image it was told about.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from dataclasses import asdict, dataclass

from host_tools.results import Event, Result, format_event

HISTORY = 120  # frames kept for the latency chart
IMAGES = 4  # images kept for the page to fetch by number


@dataclass(frozen=True)
class LatencyPoint:
    frame: int
    total_ms: float
    infer_ms: float


@dataclass(frozen=True)
class Image:
    seq: int
    jpeg: bytes
    width: int
    height: int
    result: dict | None  # the result of the frame it shows (result_json), or of the frame before it
    exact: bool  # True: the image is that result's own frame (RV1103 preview)
    frame_width: int  # the camera frame's size, in which crop boxes are given
    frame_height: int


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation between closest ranks; None without values."""
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


class LiveState:
    def __init__(self, source: str, history: int = HISTORY, emulated: bool = False) -> None:
        self._lock = threading.Lock()
        self.source = source  # e.g. "emulated OpenMV H7 on /dev/pts/5 (Protocol V2)"
        self.emulated = emulated
        self.result: Result | None = None
        self.events: deque[str] = deque(maxlen=20)  # config reloads, as terminal lines
        self.history: deque[LatencyPoint] = deque(maxlen=history)
        self.results = 0
        self.images: OrderedDict[int, Image] = OrderedDict()
        self.frame_seq = 0
        self.status = "waiting for the board"
        self.ended = False
        self.reconnects = 0
        self.missed = 0  # frames the board numbered but the page never got (gaps, reconnections)
        self.updated = time.time()

    def add_result(self, r: Result) -> None:
        with self._lock:
            if self.result is not None and r.frame > self.result.frame + 1:
                self.missed += r.frame - self.result.frame - 1
            self.result = r
            self.results += 1
            self.history.append(LatencyPoint(r.frame, r.ms.total, r.ms.inference))
            self.status = "live"
            if r.preview is not None:
                p = r.preview
                self._add_image(p.jpeg, p.width, p.height, result_json(r), True, p.frame_width,
                                p.frame_height)
            self.updated = time.time()

    def add_event(self, e: Event) -> None:
        with self._lock:
            self.events.append(format_event(e))
            self.updated = time.time()

    def add_frame(self, jpeg: bytes, width: int, height: int) -> None:
        """An image read apart from the results (OpenMV's frame buffer): paired with the last result."""
        with self._lock:
            paired = None if self.result is None else result_json(self.result)
            self._add_image(jpeg, width, height, paired, False, width, height)
            self.updated = time.time()

    def _add_image(self, jpeg: bytes, width: int, height: int, result: dict | None, exact: bool,
                   frame_width: int, frame_height: int) -> None:
        self.frame_seq += 1
        self.images[self.frame_seq] = Image(self.frame_seq, jpeg, width, height, result, exact, frame_width,
                                            frame_height)
        while len(self.images) > IMAGES:
            self.images.popitem(last=False)

    def set_status(self, status: str, ended: bool = False) -> None:
        with self._lock:
            self.status = status
            self.ended = self.ended or ended
            self.updated = time.time()

    def reconnected(self) -> None:
        with self._lock:
            self.reconnects += 1

    def frame(self, seq: int | None = None) -> tuple[int, bytes | None]:
        """Image `seq` (the newest when None); (seq, None) when it is no longer kept."""
        with self._lock:
            if not self.images:
                return 0, None
            if seq is None:
                seq = next(reversed(self.images))
            image = self.images.get(seq)
            return seq, None if image is None else image.jpeg

    def snapshot(self) -> dict:
        """The JSON the page polls (/api/state)."""
        with self._lock:
            r = self.result
            image = self.images[next(reversed(self.images))] if self.images else None
            totals = [p.total_ms for p in self.history]
            return {
                "source": self.source,
                "emulated": self.emulated,
                "status": self.status,
                "ended": self.ended,
                "results": self.results,
                "reconnects": self.reconnects,
                "missed": self.missed,
                "result": None if r is None else result_json(r),
                "events": list(self.events),
                "history": [asdict(p) for p in self.history],
                "latency": {"p50": percentile(totals, 50), "p95": percentile(totals, 95), "n": len(totals)},
                "frame": {"seq": 0, "width": 0, "height": 0} if image is None else {
                    "seq": image.seq, "width": image.width, "height": image.height, "result": image.result,
                    "exact": image.exact, "frame_width": image.frame_width,
                    "frame_height": image.frame_height},
                "updated": self.updated,
            }


def result_json(r: Result) -> dict:
    """A result for the page: the schema's fields (ms as {stage: ms} of the stages present), the threshold
    its score was compared with, and the explanation line the terminal shows (no image bytes)."""
    from host_tools.results import explain

    d = asdict(r)
    d.pop("line")
    d.pop("preview")
    d["ms"] = dict(r.ms.items())
    d["threshold"] = r.threshold
    d["why"] = explain(r)
    if r.preview is not None:
        d["preview_ms"] = r.preview.ms
    return d
