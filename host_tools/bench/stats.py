"""Summary statistics of per-frame timings, and the test that says whether two runs differ beyond noise.

The comparison uses the Mann-Whitney U test (two-sided, normal approximation with the tie correction) on the
per-frame values of one figure in two runs: it makes no assumption about the shape of the latency
distribution (which is skewed and often bimodal on a board), and with the tens to thousands of frames a bench
collects the normal approximation is accurate. A change is reported as beyond run-to-run noise only when the
test rejects "same distribution" at ALPHA AND the median moved by more than MIN_EFFECT: on a few thousand
frames the test alone flags shifts of a fraction of a percent that no user would call a regression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ALPHA = 0.01  # significance level of the two-sided test
MIN_EFFECT = 0.05  # smallest relative change of the median called a change (5 %)


@dataclass(frozen=True)
class Summary:
    n: int
    p50: float
    p90: float
    p99: float
    max: float
    mean: float
    std: float
    min: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "n": self.n,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "max": self.max,
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
        }


def summarize(values: list[float] | np.ndarray) -> Summary:
    """Percentiles by linear interpolation (numpy's default); std is the sample standard deviation."""
    a = np.asarray(values, dtype=float)
    if a.size == 0:
        raise ValueError("no values to summarize")
    p50, p90, p99 = (float(v) for v in np.percentile(a, [50, 90, 99]))
    std = float(a.std(ddof=1)) if a.size > 1 else 0.0
    return Summary(int(a.size), p50, p90, p99, float(a.max()), float(a.mean()), std, float(a.min()))


@dataclass(frozen=True)
class MannWhitney:
    u: float
    z: float
    p: float


def mann_whitney(a: list[float] | np.ndarray, b: list[float] | np.ndarray) -> MannWhitney:
    """Two-sided Mann-Whitney U test, normal approximation with tie correction and continuity correction."""
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    n1, n2 = x.size, y.size
    if n1 < 2 or n2 < 2:
        raise ValueError("the test needs at least two values in each run")
    allv = np.concatenate([x, y])
    order = np.argsort(allv, kind="mergesort")
    ranks = np.empty(allv.size, dtype=float)
    sorted_v = allv[order]
    # average ranks over ties
    i = 0
    tie_term = 0.0
    while i < sorted_v.size:
        j = i
        while j + 1 < sorted_v.size and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        t = j - i + 1
        tie_term += t**3 - t
        i = j + 1
    r1 = float(ranks[:n1].sum())
    u1 = r1 - n1 * (n1 + 1) / 2.0
    mu = n1 * n2 / 2.0
    n = n1 + n2
    var = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1)))
    if var <= 0:  # every value equal: no evidence of a difference
        return MannWhitney(u1, 0.0, 1.0)
    diff = u1 - mu
    z = (abs(diff) - 0.5) / math.sqrt(var) if abs(diff) > 0.5 else 0.0
    p = math.erfc(z / math.sqrt(2.0))
    return MannWhitney(u1, math.copysign(z, diff), min(1.0, p))


@dataclass(frozen=True)
class Change:
    figure: str
    old: float
    new: float
    relative: float  # (new - old) / old
    p: float | None  # the test's p-value (None where per-frame values are missing)
    beyond_noise: bool
    worse: bool  # the change goes the bad way (slower, fewer FPS)

    def as_dict(self) -> dict:
        return {
            "figure": self.figure,
            "old": self.old,
            "new": self.new,
            "relative": self.relative,
            "p_value": self.p,
            "beyond_noise": self.beyond_noise,
            "worse": self.worse,
        }


def compare_samples(figure: str, old: list[float], new: list[float], higher_is_worse: bool = True) -> Change:
    """Median change of one per-frame figure between two runs, and whether it is beyond noise."""
    mo, mn = float(np.median(old)), float(np.median(new))
    rel = (mn - mo) / mo if mo else (0.0 if mn == mo else math.inf)
    test = mann_whitney(old, new)
    beyond = test.p < ALPHA and abs(rel) > MIN_EFFECT
    worse = rel > 0 if higher_is_worse else rel < 0
    return Change(figure, mo, mn, rel, test.p, beyond, worse)
