"""A grid of settings replayed over stored scores, the figures of each, and the setting proposed for a goal.

The grid: per-class thresholds (RV1103; one threshold on OpenMV), penalty, k of n crops, hysteresis
(RV1103) and smoothing (OpenMV). Hysteresis and smoothing act across frames: on image folders (stills, each
its own sequence) they change nothing, so the grid keeps them at their off values there.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from host_tools.errors import UsageError
from host_tools.tune import configs
from host_tools.tune.decide import Replay, Setting
from host_tools.tune.metrics import Figures, figures
from host_tools.tune.scores import Session

MAX_SETTINGS = 50_000  # about 2.5 us per frame and setting: keeps a sweep of 1000 frames near 2 minutes


@dataclass
class Grid:
    thresholds: list[float]
    penalties: list[float]
    ks: list[int]
    hystereses: list[int]
    smoothings: list[int]


@dataclass
class Evaluated:
    setting: Setting
    figures: Figures


def frange(spec: str, what: str) -> list[float]:
    """'0.3:0.9:0.1' (start:stop:step, stop included) or '0.5,0.6,0.8'."""
    try:
        if ":" in spec:
            a, b, step = (float(x) for x in spec.split(":"))
            if step <= 0 or b < a:
                raise ValueError
            n = int(round((b - a) / step)) + 1
            values = [round(a + i * step, 6) for i in range(n) if a + i * step <= b + 1e-9]
        else:
            values = [float(x) for x in spec.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"{what} {spec!r}: give START:STOP:STEP (e.g. 0.3:0.9:0.1) or values a,b,c"
                         ) from None
    if not values:
        raise UsageError(f"{what} {spec!r}: no values")
    return values


def default_grid(session: Session, current: Setting) -> Grid:
    """On stills, hysteresis and smoothing stay as the current config has them (they cannot be measured
    there, and a proposal must not drop what the device runs with)."""
    n_crops = len(session.frames[0].scores)
    still = not any(b - a > 1 for a, b in session.sequences())
    if session.board == "openmv":
        return Grid([round(0.3 + 0.05 * i, 2) for i in range(14)], [0.0], [1], [0],
                    [current.smoothing] if still else [1, 2, 3, 5, 8])
    n_classes = len(session.labels)
    thr = [round(0.3 + 0.1 * i, 2) for i in range(7)] if n_classes <= 3 else [0.4, 0.5, 0.6, 0.7, 0.8]
    return Grid(thr, [0.0, 0.05, 0.1, 0.2], list(range(1, n_crops + 1)),
                [current.hysteresis] if still else [0, 2, 3, 5], [1])


def settings(session: Session, grid: Grid) -> list[Setting]:
    n = 1 if session.board == "openmv" else len(session.labels)
    n_crops = len(session.frames[0].scores)
    for v in grid.thresholds + grid.penalties:
        if not 0.0 <= v <= 1.0:
            raise UsageError(f"thresholds and penalties must be between 0 and 1, got {v:g}")
    for k in grid.ks:
        if not 1 <= k <= n_crops:
            raise UsageError(f"k must be from 1 to {n_crops} (the crops per frame), got {k}")
    for hy in grid.hystereses:
        if not 0 <= hy <= 1000:
            raise UsageError(f"hysteresis must be from 0 to 1000 frames, got {hy}")
    for sm in grid.smoothings:
        if not 1 <= sm <= 30:
            raise UsageError(f"smoothing must be from 1 to 30 frames, got {sm}")
    count = len(grid.thresholds) ** n * len(grid.penalties) * len(grid.ks) * len(grid.hystereses) * len(
        grid.smoothings)
    if count > MAX_SETTINGS:
        raise UsageError(f"the grid holds {count} settings (at most {MAX_SETTINGS}): use fewer threshold "
                         "values (--thresholds) or fewer penalties, k or hysteresis values")
    out = []
    for thr in itertools.product(grid.thresholds, repeat=n):
        for p, k, hy, sm in itertools.product(grid.penalties, grid.ks, grid.hystereses, grid.smoothings):
            out.append(Setting(tuple(thr), p, k, hy, sm))
    return out


class Sweeper:
    """One session's scores and truth, evaluated under any setting."""

    def __init__(self, session: Session, base_config: dict | None = None) -> None:
        self.session = session
        self.labels = session.labels
        self.board = session.board
        self.base = base_config if base_config is not None else (session.config or
                                                                  configs.default_config(session.board))
        self.quiet = configs.fallback_index(self.board, self.base, self.labels)
        self.truth = session.truth_index()
        self.sequences = session.sequences()
        self.replay = Replay(self.board, session.scores_array(), self.sequences, self.quiet)

    def decisions(self, s: Setting) -> np.ndarray:
        return self.replay.decisions(s)

    def evaluate(self, s: Setting) -> Evaluated:
        return Evaluated(s, figures(self.truth, self.decisions(s), len(self.labels), self.sequences,
                                    self.quiet))

    def current(self) -> Setting:
        return configs.setting_of(self.board, self.base, self.labels)

    def config_for(self, s: Setting) -> dict:
        return configs.with_setting(self.board, self.base, self.labels, s)

    def curve(self, cls: int, at: Setting, values: list[float] | None = None) -> list[dict]:
        """ROC and PR points for class `cls` as its threshold moves (the global one on OpenMV), everything
        else as in `at`: fpr, tpr (= recall), precision per threshold."""
        values = values if values is not None else [round(0.02 * i, 2) for i in range(51)]
        negatives = int(np.sum(self.truth != cls))
        points = []
        for v in values:
            thr = list(at.thresholds)
            thr[0 if self.board == "openmv" else cls] = v
            d = self.decisions(Setting(tuple(thr), at.penalty, at.k, at.hysteresis, at.smoothing))
            fp = int(np.sum((d == cls) & (self.truth != cls)))
            f = figures(self.truth, d, len(self.labels), [], self.quiet)
            points.append({"threshold": v, "fpr": fp / negatives if negatives else 0.0,
                           "tpr": f.recall[cls], "precision": f.precision[cls]})
        return points


@dataclass
class Goal:
    min_recall: dict[str, float]
    max_false_alarms: float | None  # per 1000 frames


def parse_min_recall(items: list[str], labels: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        label, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--min-recall {item!r}: give LABEL=VALUE, e.g. {labels[0]}=0.95")
        if label not in labels:
            raise UsageError(f"--min-recall {item!r}: {label!r} is not a label (labels: {', '.join(labels)})")
        try:
            v = float(value)
        except ValueError:
            v = -1.0
        if not 0.0 <= v <= 1.0:
            raise UsageError(f"--min-recall {item!r}: the recall must be a number from 0 to 1")
        out[label] = v
    return out


def meets(e: Evaluated, goal: Goal, labels: list[str]) -> bool:
    f = e.figures
    if any(f.recall[labels.index(lab)] < v for lab, v in goal.min_recall.items()):
        return False
    return goal.max_false_alarms is None or f.false_alarms_per_1000 <= goal.max_false_alarms + 1e-9


def propose(results: list[Evaluated], goal: Goal, labels: list[str]) -> Evaluated | None:
    """The setting that meets the goal with the fewest false alarms (a --min-recall goal) or the best
    macro F1 (otherwise); ties: better macro F1, then shorter delay, then the first in the grid."""
    ok = [e for e in results if meets(e, goal, labels)]
    if not ok:
        return None

    def delay(e: Evaluated) -> float:
        return e.figures.delay_frames if e.figures.delay_frames is not None else 0.0

    if goal.min_recall:
        return min(ok, key=lambda e: (e.figures.false_alarms_per_1000, -e.figures.macro_f1, delay(e)))
    return min(ok, key=lambda e: (-e.figures.macro_f1, e.figures.false_alarms_per_1000, delay(e)))


def closest(results: list[Evaluated], goal: Goal, labels: list[str]) -> Evaluated:
    """When nothing meets the goal: the setting that misses it by the least (for the message)."""

    def shortfall(e: Evaluated) -> float:
        f = e.figures
        s = sum(max(0.0, v - f.recall[labels.index(lab)]) for lab, v in goal.min_recall.items())
        if goal.max_false_alarms is not None:
            s += max(0.0, f.false_alarms_per_1000 - goal.max_false_alarms) / 1000.0
        return s

    return min(results, key=shortfall)
