"""The boards' own decision code, replayed over stored scores: no copy of either rule lives here.

  RV1103: camrt's Voter (cpp_runtime/src/voter.cpp through the camrt bindings): per-class thresholds,
          penalty per dissenting crop, k of n crops, hysteresis; the config's fallback class when nothing
          is decided.
  OpenMV: the app's own modules, openmv_app/smoothing.py (moving average of N frames) and
          openmv_app/decide.py (best class, "unknown" below the threshold), loaded from the app's files.

A decision is a class index, or -1 for none (the RV1103 without a fallback; OpenMV's "unknown").
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from types import ModuleType

import numpy as np

from host_tools.paths import OPENMV_APP_DIR


@dataclass(frozen=True)
class Setting:
    """The knobs a technician turns. OpenMV has one threshold (thresholds holds it once) and smoothing;
    the RV1103 per-class thresholds, penalty, k and hysteresis."""

    thresholds: tuple[float, ...]
    penalty: float = 0.0
    k: int = 1
    hysteresis: int = 0
    smoothing: int = 1

    def describe(self, board: str, labels: list[str]) -> str:
        if board == "openmv":
            return f"threshold {self.thresholds[0]:g}, smoothing {self.smoothing}"
        thr = ", ".join(f"{lab} {t:g}" for lab, t in zip(labels, self.thresholds, strict=True))
        return f"thresholds {thr}; penalty {self.penalty:g}, k {self.k}, hysteresis {self.hysteresis}"

    def as_dict(self, board: str, labels: list[str]) -> dict:
        if board == "openmv":
            return {"threshold": self.thresholds[0], "smoothing": self.smoothing}
        return {"thresholds": dict(zip(labels, self.thresholds, strict=True)), "penalty": self.penalty,
                "k": self.k, "hysteresis": self.hysteresis}


@cache
def openmv_module(name: str) -> ModuleType:
    """openmv_app/<name>.py, imported from the app's own file (plain Python that CPython runs too)."""
    path = OPENMV_APP_DIR / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"camclass_openmv_app_{name}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Replay:
    """Stored scores, ready to be replayed through one board's decision code many times."""

    def __init__(self, board: str, scores: np.ndarray, sequences: list[tuple[int, int]], fallback: int = -1):
        self.board = board
        self.n = len(scores)
        self.sequences = sequences
        self.fallback = fallback
        # Python lists once: the decision code takes lists (camrt converts through numpy per call anyway)
        self.rows = [np.asarray(s, dtype=np.float32).tolist() for s in scores]

    def decisions(self, s: Setting) -> np.ndarray:
        return self._rv1103(s) if self.board == "rv1103" else self._openmv(s)

    def _rv1103(self, s: Setting) -> np.ndarray:
        import camrt

        out = np.empty(self.n, dtype=np.int64)
        voter = camrt.Voter(list(s.thresholds), s.penalty, s.k, s.hysteresis, self.fallback)
        rows = self.rows
        for start, end in self.sequences:
            voter.reset()
            for i in range(start, end):
                out[i] = voter.vote(rows[i]).decision
        return out

    def _openmv(self, s: Setting) -> np.ndarray:
        smoothing, decide = openmv_module("smoothing"), openmv_module("decide")
        out = np.empty(self.n, dtype=np.int64)
        thr = s.thresholds[0]
        for start, end in self.sequences:
            smoother = smoothing.Smoother(s.smoothing)
            for i in range(start, end):
                out[i] = decide.decide(smoother.push(self.rows[i][0]), thr)[0]
        return out
