"""The boards' results and events as readable terminal lines (the one formatter: sim, stream, watch)."""

from __future__ import annotations

import json
import sys

from host_tools.results.schema import Event, Result, SchemaError, parse_line


def _label(label: str | None) -> str:
    return "-" if label is None else label


def explain(r: Result) -> str:
    """Why the board reported what it did: the deciding score against its threshold, and what smoothing
    (OpenMV) or the vote and hysteresis (RV1103) changed."""
    if r.smoothing is not None:
        s = r.smoothing
        best = max(r.scores.values(), default=0.0)
        text = f"smoothed {best:.2f} {'>=' if best >= s.threshold else '<'} {s.threshold:.2f}"
        if s.frames > 1:
            text += f" over {s.frames} frames"
        if r.raw.label != r.label:
            text += f"; this frame alone: {_label(r.raw.label)} {r.raw.score:.2f}"
        return text
    if r.vote is not None:
        v = r.vote
        n = len(r.crops)
        if v.candidate is None:
            text = "no crop voted"
        else:
            passed = v.votes >= v.need and v.score >= v.threshold
            text = (f"vote {v.candidate} {v.votes}/{n} crops, need {v.need}; score {v.score:.2f} "
                    f"{'>=' if v.score >= v.threshold else '<'} {v.threshold:.2f}")
            if v.penalty and v.votes < n:
                text += f" after penalty {v.penalty:.2f} x {n - v.votes}"
            if not passed:
                text += " -> not decided"
        if r.raw.label != v.candidate or v.candidate is None:
            text += f"; raw {_label(r.raw.label)}"
        h = v.hysteresis
        if r.raw.label != r.label:
            if h.pending is not None:
                text += f"; hysteresis holds {_label(r.label)}: {h.pending} seen {h.count}/{h.frames}"
            else:
                text += f"; hysteresis holds {_label(r.label)}"
        return text
    return ""


def format_result(r: Result, leds: dict[str, bool] | None = None, name: str | None = None) -> str:
    """One readable line: frame (and its source `name`: an emulated camera's file), decision, score, why,
    per-class scores, fps, per-stage ms (and the `leds`, for an emulated camera)."""
    classes = " ".join(f"{k} {v:.2f}" for k, v in r.scores.items())
    timing = " ".join(f"{k} {v:.1f}" for k, v in r.ms.items())
    head = f"frame {r.frame:5d}  " + (f"{name[:28]:28s} " if name is not None else "")
    head += f"{_label(r.label):<10s} {r.score:.2f}"
    if r.crops:
        head += f"  crops {'/'.join(_label(c.vote) for c in r.crops)}"
        classes = "mean " + classes
    why = explain(r)
    line = f"{head}  {why}" if why else head
    line += f"  [{classes}]  {r.fps:5.1f} fps  ms: {timing}"
    if leds is not None:
        line += "  LED " + ("+".join(c for c, on in leds.items() if on) or "off")
    return line


def _value(v: object) -> str:
    return json.dumps(v, separators=(",", ":")) if not isinstance(v, str) else v


def format_event(e: Event) -> str:
    """A config reload as one line: what changed (old -> new per key), or why the file was rejected."""
    if e.event != "config":
        return f"{e.board}: {e.event} {e.message}".rstrip()
    if not e.accepted:
        why = e.message or "see the board log"
        return f"config rejected after frame {e.frame}: {why}; the last good one stays"
    if not e.changes:
        return f"config reloaded after frame {e.frame}: nothing changed"
    changes = ", ".join(f"{c.key} {_value(c.old)} -> {_value(c.new)}" for c in e.changes)
    return f"config reloaded after frame {e.frame}: {changes}"


FRAGMENT_KEYS = ('"schema"', '"frame"', '"scores"', '"ms"', '"fps"')


def is_fragment(line: str) -> bool:
    """A result line cut by a stdout buffer overrun (the camera overwrites text the host did not read)."""
    text = line.strip()
    try:
        parsed = parse_line(text)
    except SchemaError:
        return False
    return parsed is None and any(k in text for k in FRAGMENT_KEYS)


def report_other_line(text: str, lost: int) -> int:
    """Show a board line that is not a result on stderr; returns the running count of cut-short results."""
    if is_fragment(text):
        lost += 1
        print(f"(a result line was cut short: the camera's stdout buffer overran; {lost} so far)",
              file=sys.stderr, flush=True)
    elif text.strip():
        print(text, file=sys.stderr, flush=True)
    return lost
