"""Figures of one setting's decisions against the truth.

Per class c: precision = frames decided c that are c / frames decided c; recall = frames decided c that
are c / frames that are c; F1 their harmonic mean (0 where undefined). A false alarm is a frame on which
the device reports a class that is not the truth and not the quiet class (the RV1103 config's fallback,
reported when nothing is decided; OpenMV's "unknown" and the RV1103's "no decision" are never alarms);
figures per 1000 frames. Delay: on recorded sequences, for each frame where the truth changes, the frames
until the decision first equals the new truth (the change is "missed" when it never does before the
truth changes again or the recording ends).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Figures:
    precision: list[float]
    recall: list[float]
    f1: list[float]
    false_alarms_per_1000: float
    accuracy: float
    confusion: list[list[int]]  # [truth][decision], the last column: no decision
    delay_frames: float | None  # mean over the truth changes caught; None: no change in the truth
    changes: int
    missed: int
    frames: int

    @property
    def macro_f1(self) -> float:
        return float(np.mean(self.f1))

    def as_dict(self, labels: list[str]) -> dict:
        return {
            "per_class": {lab: {"precision": round(self.precision[i], 4), "recall": round(self.recall[i], 4),
                                "f1": round(self.f1[i], 4)} for i, lab in enumerate(labels)},
            "false_alarms_per_1000": round(self.false_alarms_per_1000, 3),
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "confusion": self.confusion,
            "delay_frames": None if self.delay_frames is None else round(self.delay_frames, 3),
            "truth_changes": self.changes,
            "missed_changes": self.missed,
            "frames": self.frames,
        }


def figures(truth: np.ndarray, decision: np.ndarray, n_classes: int, sequences: list[tuple[int, int]],
            quiet: int = -1) -> Figures:
    """truth, decision: class index per frame (decision -1 = none; truth -1 = a label the model lacks)."""
    n = len(truth)
    conf = np.zeros((n_classes, n_classes + 1), dtype=np.int64)
    known = truth >= 0
    col = np.where(decision >= 0, decision, n_classes)
    np.add.at(conf, (truth[known], col[known]), 1)
    prec, rec, f1 = [], [], []
    for c in range(n_classes):
        tp = int(np.sum((decision == c) & (truth == c)))
        pred = int(np.sum(decision == c))
        real = int(np.sum(truth == c))
        p = tp / pred if pred else 0.0
        r = tp / real if real else 0.0
        prec.append(p)
        rec.append(r)
        f1.append(2 * p * r / (p + r) if p + r else 0.0)
    alarms = int(np.sum((decision >= 0) & (decision != quiet) & (decision != truth)))
    delays: list[int] = []
    changes = missed = 0
    for start, end in sequences:
        change_at = [i for i in range(start + 1, end) if truth[i] != truth[i - 1]]
        for j, t in enumerate(change_at):
            stop = change_at[j + 1] if j + 1 < len(change_at) else end
            changes += 1
            hit = np.nonzero(decision[t:stop] == truth[t])[0]
            if len(hit):
                delays.append(int(hit[0]))
            else:
                missed += 1
    return Figures(prec, rec, f1, 1000.0 * alarms / n if n else 0.0,
                   float(np.mean(decision == truth)) if n else 0.0, conf.tolist(),
                   float(np.mean(delays)) if delays else None, changes, missed, n)
