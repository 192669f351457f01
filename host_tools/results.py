"""The OpenMV app's per-frame JSON line: parse it and print it as a readable terminal line.

The app prints exactly one JSON object per frame:
  {"frame": int, "label": str, "score": float, "scores": {label: float},
   "ms": {"snapshot": float, "infer": float, "total": float}, "fps": float}
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


def parse_result(line: str) -> AppResult | None:
    """The result in `line`, or None when the line is not one of the app's JSON result lines."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("label"), str):
        return None
    try:
        scores = {str(k): float(v) for k, v in (obj.get("scores") or {}).items()}
        ms = {str(k): float(v) for k, v in (obj.get("ms") or {}).items()}
        return AppResult(int(obj["frame"]), obj["label"], float(obj["score"]), scores, ms,
                         float(obj.get("fps") or 0.0), text)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def format_result(r: AppResult) -> str:
    """One readable line: frame, label, score, per-class scores, fps, latency."""
    classes = " ".join(f"{k} {v:.2f}" for k, v in r.scores.items())
    timing = " ".join(f"{k} {v:.1f}" for k, v in r.ms.items())
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
