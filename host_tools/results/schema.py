"""The one parser of the boards' JSON lines (result schema 1, described in SCHEMA.md beside this file).

Both boards print one JSON object per line: a result per classified frame, and an event line when something
changed (a config reload). Any other line (boot messages, warnings, tracebacks) is not part of the schema.
parse_line() turns a line into a Result, an Event or None; sim, stream, watch, bench and tune read the
boards' output through it, never through the raw dicts.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1  # the version this host understands; a board that prints a newer one is refused
BOARDS = ("openmv", "rv1103")
STAGES = ("capture", "preprocess", "inference", "postprocess", "total")  # ms keys, in this order


class SchemaError(ValueError):
    """A line that claims the result schema but breaks it (or a version this host does not know)."""


@dataclass(frozen=True)
class Decision:
    """A reported class and its score; label None means no class was decided."""

    label: str | None
    score: float


@dataclass(frozen=True)
class Timings:
    """Milliseconds per stage of one frame. capture, inference and total on both boards; preprocess and
    postprocess where the board measures them apart (RV1103; on OpenMV the firmware's predict() does its
    own preprocessing, counted in inference)."""

    capture: float
    inference: float
    total: float
    preprocess: float | None = None
    postprocess: float | None = None

    def items(self) -> list[tuple[str, float]]:
        """(stage, ms) for the stages present, in pipeline order."""
        return [(k, v) for k in STAGES if (v := getattr(self, k)) is not None]


@dataclass(frozen=True)
class Smoothing:
    """OpenMV: the scores are a moving average of the last `frames` frames; the best one must reach
    `threshold` to be reported."""

    frames: int
    threshold: float
    raw_scores: dict[str, float] | None = None  # this frame's scores before smoothing (None: not printed)


@dataclass(frozen=True)
class Hysteresis:
    """RV1103: a new raw decision is reported once seen on `frames` consecutive frames (0 or 1: off);
    `pending` is the raw decision waiting (None: none), seen on `count` frames so far."""

    frames: int
    pending: str | None
    count: int


@dataclass(frozen=True)
class Vote:
    """RV1103: the crops' vote. `candidate` got `votes` crop votes (it needs `need`); its vote score
    (mean score minus `penalty` per dissenting crop) is `score`, compared with its `threshold`."""

    candidate: str | None
    votes: int
    need: int
    score: float
    threshold: float
    penalty: float
    hysteresis: Hysteresis


@dataclass(frozen=True)
class Crop:
    """RV1103: one square crop of the frame (frame pixels), its vote (None: abstained) and its scores."""

    x: int
    y: int
    w: int
    h: int
    vote: str | None
    scores: dict[str, float]


@dataclass(frozen=True)
class Preview:
    """RV1103: a small JPEG of THIS frame (the board program adds one at a low rate when started with
    --preview), for the live page; frame_width/frame_height are the camera frame's, in which the crops are
    given. `ms`: what scaling and encoding it took on the board's CPU."""

    jpeg: bytes = field(repr=False)
    width: int
    height: int
    frame_width: int
    frame_height: int
    ms: float


MAX_PREVIEW_BASE64 = 1 << 20  # a 160-pixel preview is ~5 KB; anything near this is not one


@dataclass(frozen=True)
class Result:
    """One classified frame, from either board."""

    board: str  # "openmv" | "rv1103"
    frame: int  # from 1; a gap means frames were skipped (or, over a network, missed)
    label: str | None  # the reported decision; None: no class decided
    score: float
    scores: dict[str, float]  # per class, label order (OpenMV: smoothed; RV1103: mean over the crops)
    raw: Decision  # this frame alone: before smoothing (OpenMV) or hysteresis (RV1103); score models on it
    ms: Timings
    fps: float
    schema: int = SCHEMA_VERSION
    smoothing: Smoothing | None = None  # OpenMV
    vote: Vote | None = None  # RV1103
    crops: tuple[Crop, ...] = ()  # RV1103
    preview: Preview | None = field(default=None, repr=False)  # RV1103, at a low rate
    run: str | None = None  # RV1103: the board program's run id, new at each start (None: not printed)
    line: str = field(default="", compare=False)  # the JSON line exactly as the board printed it

    @property
    def threshold(self) -> float | None:
        """The threshold the deciding score was compared with (None when the board did not say)."""
        if self.smoothing is not None:
            return self.smoothing.threshold
        if self.vote is not None:
            return self.vote.threshold
        return None


@dataclass(frozen=True)
class ConfigChange:
    """One config key that a reload changed (values as JSON gives them: numbers, strings, lists...)."""

    key: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Event:
    """Something the board reports between results. Schema 1 knows "config": a config file was reloaded
    (`changes` lists what changed; `accepted` False when it was rejected and the last good one stays, with
    `message` saying why)."""

    board: str
    event: str
    frame: int  # the last frame classified before it (0: none yet)
    changes: tuple[ConfigChange, ...] = ()
    accepted: bool = True
    message: str = ""
    schema: int = SCHEMA_VERSION
    run: str | None = None  # as Result.run
    line: str = field(default="", compare=False)


def parse_line(line: str) -> Result | Event | None:
    """The result or event in `line`; None when the line is not one (text, or JSON of another kind).

    Raises SchemaError when the line names a schema version this host does not know, or breaks schema 1
    (a missing or mistyped field): such a line is the board's, and silently dropping it would hide that."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict) or "schema" not in obj:
        return None
    version = obj["schema"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SchemaError(f"result line with a bad schema version {version!r}")
    if version > SCHEMA_VERSION:
        raise SchemaError(f"the board prints result schema {version}; this host_tools reads schema "
                          f"{SCHEMA_VERSION}: update host_tools")
    kind = "event" if "event" in obj else "result"
    try:
        return _event(obj, text) if kind == "event" else _result(obj, text)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SchemaError(f"{kind} line breaks schema {version}: {_why(exc)}") from None


def parse_result(line: str) -> Result | None:
    """The result in `line`, or None for anything else (events and text)."""
    r = parse_line(line)
    return r if isinstance(r, Result) else None


def _why(exc: Exception) -> str:
    return f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)


def _int(v: Any, name: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"{name}: expected an integer, got {v!r}")
    return v


def _num(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise TypeError(f"{name}: expected a number, got {v!r}")
    return float(v)


def _label(v: Any, name: str) -> str | None:
    if v is not None and not isinstance(v, str):
        raise TypeError(f"{name}: expected a label or null, got {v!r}")
    return v


def _scores(v: Any, name: str) -> dict[str, float]:
    if not isinstance(v, dict):
        raise TypeError(f"{name}: expected {{label: score}}, got {v!r}")
    return {str(k): _num(s, f"{name}.{k}") for k, s in v.items()}


def _board(obj: dict) -> str:
    board = obj["board"]
    if board not in BOARDS:
        raise ValueError(f"board: expected one of {', '.join(BOARDS)}, got {board!r}")
    return board


def _timings(v: Any) -> Timings:
    if not isinstance(v, dict):
        raise TypeError(f"ms: expected an object, got {v!r}")
    # a stage this host does not know is left out (a new key is a compatible change: SCHEMA.md)
    opt = {k: _num(v[k], f"ms.{k}") for k in ("preprocess", "postprocess") if k in v}
    return Timings(_num(v["capture"], "ms.capture"), _num(v["inference"], "ms.inference"),
                   _num(v["total"], "ms.total"), **opt)


def _result(obj: dict, text: str) -> Result:
    raw = obj["raw"]
    r = Result(
        board=_board(obj),
        frame=_int(obj["frame"], "frame"),
        label=_label(obj["label"], "label"),
        score=_num(obj["score"], "score"),
        scores=_scores(obj["scores"], "scores"),
        raw=Decision(_label(raw["label"], "raw.label"), _num(raw["score"], "raw.score")),
        ms=_timings(obj["ms"]),
        fps=_num(obj["fps"], "fps"),
        schema=obj["schema"],
        run=_run(obj),
        line=text,
    )
    if r.frame < 1:
        raise ValueError(f"frame: frames count from 1, got {r.frame}")
    if "smoothing" in obj:
        s = obj["smoothing"]
        raw_scores = _scores(s["raw_scores"], "smoothing.raw_scores") if "raw_scores" in s else None
        r = _replace(r, smoothing=Smoothing(_int(s["frames"], "smoothing.frames"),
                                            _num(s["threshold"], "smoothing.threshold"), raw_scores))
    if "vote" in obj:
        v, h = obj["vote"], obj["vote"]["hysteresis"]
        vote = Vote(_label(v["candidate"], "vote.candidate"), _int(v["votes"], "vote.votes"),
                    _int(v["need"], "vote.need"), _num(v["score"], "vote.score"),
                    _num(v["threshold"], "vote.threshold"), _num(v["penalty"], "vote.penalty"),
                    Hysteresis(_int(h["frames"], "vote.hysteresis.frames"),
                               _label(h["pending"], "vote.hysteresis.pending"),
                               _int(h["count"], "vote.hysteresis.count")))
        r = _replace(r, vote=vote)
    if "crops" in obj:
        if not isinstance(obj["crops"], list):
            raise TypeError(f"crops: expected a list, got {obj['crops']!r}")
        crops = tuple(Crop(_int(c["x"], "crops.x"), _int(c["y"], "crops.y"), _int(c["w"], "crops.w"),
                           _int(c["h"], "crops.h"), _label(c["vote"], "crops.vote"),
                           _scores(c["scores"], "crops.scores")) for c in obj["crops"])
        r = _replace(r, crops=crops)
    if "preview" in obj:
        r = _replace(r, preview=_preview(obj["preview"]))
    return r


def _run(obj: dict) -> str | None:
    run = obj.get("run")
    if run is not None and (not isinstance(run, str) or not run):
        raise TypeError(f"run: expected a non-empty string, got {run!r}")
    return run


def _preview(p: Any) -> Preview:
    import base64
    import binascii

    if not isinstance(p, dict):
        raise TypeError(f"preview: expected an object, got {type(p).__name__}")
    data = p["jpeg"]
    if not isinstance(data, str) or len(data) > MAX_PREVIEW_BASE64:
        raise TypeError("preview.jpeg: expected base64 text of a small JPEG")
    try:
        jpeg = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("preview.jpeg: not valid base64") from None
    if not jpeg.startswith(b"\xff\xd8"):
        raise ValueError("preview.jpeg: not a JPEG image")
    return Preview(jpeg, _int(p["w"], "preview.w"), _int(p["h"], "preview.h"),
                   _int(p["frame_w"], "preview.frame_w"), _int(p["frame_h"], "preview.frame_h"),
                   _num(p["ms"], "preview.ms"))


def _replace(r: Result, **kw: Any) -> Result:
    from dataclasses import replace

    return replace(r, **kw)


def _event(obj: dict, text: str) -> Event:
    changes = obj.get("changes") or {}
    if not isinstance(changes, dict):
        raise TypeError(f"changes: expected {{key: [old, new]}}, got {changes!r}")
    parsed = []
    for key, pair in changes.items():
        if not isinstance(pair, list) or len(pair) != 2:
            raise TypeError(f"changes.{key}: expected [old, new], got {pair!r}")
        parsed.append(ConfigChange(str(key), pair[0], pair[1]))
    accepted = obj.get("accepted", True)
    if not isinstance(accepted, bool):
        raise TypeError(f"accepted: expected true or false, got {accepted!r}")
    message = obj.get("message", "")
    if not isinstance(message, str):
        raise TypeError(f"message: expected a string, got {message!r}")
    return Event(_board(obj), str(obj["event"]), _int(obj["frame"], "frame"), tuple(parsed), accepted,
                 message, obj["schema"], _run(obj), text)
