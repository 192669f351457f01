"""The boards' per-frame JSON lines: parse them and print them as readable terminal lines.

The OpenMV app prints exactly one JSON object per frame:
  {"frame": int, "label": str, "score": float, "scores": {label: float},
   "ms": {"snapshot": float, "infer": float, "total": float}, "fps": float}
The RV1103 board program (camrt's result line, cpp_runtime/include/camrt/result.hpp):
  {"frame": int, "decision": str|null, "score": float, "raw": str|null,
   "crops": [{"x", "y", "w", "h", "vote": str|null, "scores": {label: float}}, ...],
   "ms": {"capture", "preprocess", "inference", "postprocess", "total"}}
Any other line (boot messages, config warnings, tracebacks) is not a result.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AppResult:
    frame: int
    label: str
    score: float
    scores: dict[str, float] = field(default_factory=dict)
    ms: dict[str, float] = field(default_factory=dict)
    fps: float = 0.0
    line: str = ""  # the JSON line exactly as the camera printed it
    votes: tuple[str, ...] = ()  # RV1103: each crop's vote ("-" for none), in plan order


def parse_result(line: str) -> AppResult | None:
    """The result in `line`, or None when the line is not one of the app's JSON result lines."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if isinstance(obj, dict) and "decision" in obj and isinstance(obj.get("crops"), list):
        return _rv1103_result(obj, text)
    if not isinstance(obj, dict) or not isinstance(obj.get("label"), str):
        return None
    try:
        scores = {str(k): float(v) for k, v in (obj.get("scores") or {}).items()}
        ms = {str(k): float(v) for k, v in (obj.get("ms") or {}).items()}
        return AppResult(int(obj["frame"]), obj["label"], float(obj["score"]), scores, ms,
                         float(obj.get("fps") or 0.0), text)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _rv1103_result(obj: dict, text: str) -> AppResult | None:
    """The decision, and per class the mean of the crops' scores."""
    try:
        crops = obj["crops"]
        sums: dict[str, float] = {}
        for c in crops:
            for k, v in (c.get("scores") or {}).items():
                sums[str(k)] = sums.get(str(k), 0.0) + float(v)
        scores = {k: v / len(crops) for k, v in sums.items()} if crops else {}
        ms = {str(k): float(v) for k, v in (obj.get("ms") or {}).items()}
        votes = tuple(str(c.get("vote") or "-") for c in crops)
        return AppResult(int(obj["frame"]), str(obj.get("decision") or "-"), float(obj["score"]), scores, ms,
                         0.0, text, votes)
    except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError):
        return None


def format_result(r: AppResult) -> str:
    """One readable line: frame, label, score, per-class scores, fps, latency (RV1103: the crops' votes)."""
    classes = " ".join(f"{k} {v:.2f}" for k, v in r.scores.items())
    timing = " ".join(f"{k} {v:.1f}" for k, v in r.ms.items())
    if r.votes:
        return (f"frame {r.frame:5d}  {r.label:<10s} {r.score:.2f}  votes {'/'.join(r.votes)}  "
                f"[mean {classes}]  ms: {timing}")
    return (f"frame {r.frame:5d}  {r.label:<10s} {r.score:.2f}  [{classes}]  {r.fps:5.1f} fps  "
            f"ms: {timing}")


def is_fragment(line: str) -> bool:
    """A result line cut by a stdout buffer overrun (the camera overwrites text the host did not read)."""
    text = line.strip()
    return parse_result(text) is None and any(k in text for k in ('"frame"', '"scores"', '"ms"', '"fps"'))


def report_other_line(text: str, lost: int) -> int:
    """Show a camera line that is not a result on stderr; returns the running count of cut-short results."""
    if is_fragment(text):
        lost += 1
        print(f"(a result line was cut short: the camera's stdout buffer overran; {lost} so far)",
              file=sys.stderr, flush=True)
    elif text.strip():
        print(text, file=sys.stderr, flush=True)
    return lost
