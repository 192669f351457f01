"""The stored scores a sweep replays: one folder per session (a recording, or a scored image folder).

  SESSION/session.json   {"format": "camclass-tune-session", "version": 1, "board", "labels", "model",
                          "config" (the config in force), "device", "emulated", "sequence", "source"}
  SESSION/scores.jsonl   one JSON line per frame, in order:
                          {"frame": 0, "image": "frames/000000.jpg", "truth": "bird", "seq": 0,
                           "scores": [[p_c, ...], ...] (per crop on the RV1103, one row on OpenMV),
                           "crops": [[x, y, w, h], ...], "t": seconds since the start}
  SESSION/frames/        the frames (JPEG), where they were captured

`sequence` is true for a recording (frames follow each other as the camera saw them: smoothing and
hysteresis carry over from frame to frame within a `seq`) and false for an image folder (each image is its
own sequence of one frame). Scores are the model's output before any smoothing or voting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from host_tools.errors import UsageError

FORMAT = "camclass-tune-session"
VERSION = 1
BOARDS = ("openmv", "rv1103")
MAX_LINE = 1 << 20  # a frame's line is a few hundred bytes


@dataclass
class Frame:
    truth: str
    scores: list[list[float]]  # (crops, classes)
    image: Path | None = None
    crops: list[tuple[int, int, int, int]] = field(default_factory=list)
    seq: int = 0
    t: float | None = None


@dataclass
class Session:
    board: str
    labels: list[str]
    frames: list[Frame]
    config: dict  # the config in force while scored (the base of a proposed config)
    model: str = ""
    device: str = ""
    emulated: bool = True
    sequence: bool = True
    source: str = ""  # where it came from, for the user
    path: Path | None = None

    def scores_array(self) -> np.ndarray:
        """(frames, crops, classes) float32; every frame of a session has the same crop count."""
        return np.asarray([f.scores for f in self.frames], dtype=np.float32)

    def truth_index(self) -> np.ndarray:
        """Per frame: the index of its true label, -1 for a label the model does not know."""
        idx = {lab: i for i, lab in enumerate(self.labels)}
        return np.asarray([idx.get(f.truth, -1) for f in self.frames], dtype=np.int64)

    def sequences(self) -> list[tuple[int, int]]:
        """(start, end) frame ranges replayed as one stream each."""
        if not self.sequence:
            return [(i, i + 1) for i in range(len(self.frames))]
        out: list[tuple[int, int]] = []
        start = 0
        for i in range(1, len(self.frames) + 1):
            if i == len(self.frames) or self.frames[i].seq != self.frames[start].seq:
                out.append((start, i))
                start = i
        return out


def _bad(path: Path, why: str) -> UsageError:
    return UsageError(f"{path}: not a tune session ({why}); make one with `host_tools tune record`")


def save(session: Session, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "version": VERSION, "board": session.board, "labels": session.labels,
            "model": session.model, "config": session.config, "device": session.device,
            "emulated": session.emulated, "sequence": session.sequence, "source": session.source}
    tmp = folder / "scores.jsonl.part"
    with open(tmp, "w", encoding="utf-8") as f:
        for i, fr in enumerate(session.frames):
            rec = {"frame": i, "image": _rel(fr.image, folder), "truth": fr.truth, "seq": fr.seq,
                   "scores": [[float(v) for v in row] for row in fr.scores],
                   "crops": [list(c) for c in fr.crops], "t": fr.t}
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
    tmp.replace(folder / "scores.jsonl")
    # session.json last: a folder without it is an interrupted session, never read as a complete one
    (folder / "session.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    session.path = folder


def _rel(image: Path | None, folder: Path) -> str | None:
    if image is None:
        return None
    try:
        return str(Path(image).resolve().relative_to(folder.resolve()))
    except ValueError:
        return str(Path(image).resolve())


def is_session(folder: Path) -> bool:
    return (folder / "session.json").is_file()


def load(folder: Path) -> Session:
    meta_path = folder / "session.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _bad(folder, "no session.json") from None
    except (OSError, UnicodeError, ValueError) as exc:
        raise _bad(folder, f"session.json unreadable: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _bad(folder, "session.json is not one")
    if meta.get("version") != VERSION:
        raise UsageError(f"{folder}: session format version {meta.get('version')!r}; this tool reads "
                         f"version {VERSION}")
    board, labels = meta.get("board"), meta.get("labels")
    if board not in BOARDS:
        raise _bad(folder, f"board {board!r} is not one of {', '.join(BOARDS)}")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
        raise _bad(folder, "labels must be a list of names")
    frames: list[Frame] = []
    n_crops = None
    try:
        with open(folder / "scores.jsonl", encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if len(line) > MAX_LINE:
                    raise _bad(folder, f"scores.jsonl line {lineno} is {len(line)} bytes")
                if not line.strip():
                    continue
                frames.append(_frame(json.loads(line), folder, len(labels)))
                if n_crops is None:
                    n_crops = len(frames[-1].scores)
                elif len(frames[-1].scores) != n_crops:
                    raise _bad(folder, f"scores.jsonl line {lineno} has {len(frames[-1].scores)} crops, "
                                       f"the first frame {n_crops}")
    except FileNotFoundError:
        raise _bad(folder, "no scores.jsonl") from None
    except (UnicodeError, ValueError, TypeError, KeyError) as exc:
        raise _bad(folder, f"scores.jsonl: {str(exc)[:200]}") from None
    if not frames:
        raise UsageError(f"{folder}: the session holds no frames")
    return Session(board, labels, frames, meta.get("config") or {}, str(meta.get("model", "")),
                   str(meta.get("device", "")), bool(meta.get("emulated", True)),
                   bool(meta.get("sequence", True)), str(meta.get("source", "")), folder)


def _frame(rec: dict, folder: Path, n_classes: int) -> Frame:
    scores = rec["scores"]
    if not isinstance(scores, list) or not scores:
        raise ValueError(f"frame {rec.get('frame')}: no scores")
    rows = [[float(v) for v in row] for row in scores]
    if any(len(r) != n_classes for r in rows):
        raise ValueError(f"frame {rec.get('frame')}: a score row does not have {n_classes} classes")
    if any(not np.isfinite(v) for r in rows for v in r):
        raise ValueError(f"frame {rec.get('frame')}: a score is not a finite number")
    image = rec.get("image")
    return Frame(str(rec["truth"]), rows, (folder / image) if image else None,
                 [tuple(int(v) for v in c) for c in rec.get("crops") or []], int(rec.get("seq", 0)),
                 rec.get("t"))


def merge(sessions: list[Session]) -> Session:
    """Several sessions of one board and model as one. Recordings given one after another are replayed as
    one stream, in the order given (smoothing and hysteresis carry over, as when the camera watches the
    scene change from one to the next); each image of an image folder stays a sequence of its own."""
    first = sessions[0]
    for s in sessions[1:]:
        if s.board != first.board:
            raise UsageError(f"{s.path}: a {s.board} session cannot be swept with {first.board} ones")
        if s.labels != first.labels:
            raise UsageError(f"{s.path}: labels {s.labels} differ from {first.labels} ({first.path})")
        if len(s.frames[0].scores) != len(first.frames[0].scores):
            raise UsageError(f"{s.path}: {len(s.frames[0].scores)} crops per frame, "
                             f"{first.path} has {len(first.frames[0].scores)}")
    frames: list[Frame] = []
    seq = 0
    chained = False  # the previous session was a recording: the next recording continues its stream
    for s in sessions:
        if s.sequence and chained:
            seq -= 1
        for start, end in s.sequences():
            for fr in s.frames[start:end]:
                frames.append(Frame(fr.truth, fr.scores, fr.image, fr.crops, seq, fr.t))
            seq += 1
        chained = s.sequence
    return Session(first.board, first.labels, frames, first.config, first.model, first.device,
                   first.emulated, True, " + ".join(str(s.path) for s in sessions), first.path)
