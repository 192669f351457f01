"""The bench's statistics: percentiles and the Mann-Whitney U test behind --compare."""

from __future__ import annotations

import numpy as np

from host_tools.bench.stats import compare_samples, mann_whitney, summarize


def test_summary_matches_its_definition():
    v = [5.0, 1.0, 3.0, 2.0, 4.0]
    s = summarize(v)
    assert (s.n, s.p50, s.max, s.min, s.mean) == (5, 3.0, 5.0, 1.0, 3.0)
    assert s.std == np.sqrt(2.5)  # sample std of 1..5
    assert s.p90 == 4.6  # linear interpolation between 4 and 5


def test_mann_whitney_small_example():
    # a entirely below b: U = 0, the most extreme ranking of 4+4 values
    t = mann_whitney([1, 2, 3, 4], [5, 6, 7, 8])
    assert t.u == 0 and t.p < 0.05
    assert mann_whitney([1, 2, 3, 4], [1, 2, 3, 4]).p > 0.9
    assert mann_whitney([2, 2, 2], [2, 2, 2]).p == 1.0


def test_compare_flags_a_20pct_slowdown_not_noise():
    rng = np.random.default_rng(1)
    old = rng.normal(100, 5, 200)
    same = rng.normal(100, 5, 200)
    slow = rng.normal(120, 5, 200)
    assert not compare_samples("total", old, same).beyond_noise
    c = compare_samples("total", old, slow)
    assert c.beyond_noise and c.worse and 0.15 < c.relative < 0.25
