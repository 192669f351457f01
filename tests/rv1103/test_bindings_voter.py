"""camrt.Voter through the bindings: the voting rule on hand-made scores."""

from __future__ import annotations

import camrt
import numpy as np
import pytest

SCORES = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]]


def test_two_of_three_with_penalty():
    v = camrt.Voter([0.5, 0.5], penalty=0.1, k=2).vote(SCORES)
    assert v.crop_votes == [0, 0, 1]
    assert v.decision == 0 and v.raw_decision == 0
    assert v.score == pytest.approx(2.0 / 3 - 0.1, abs=1e-6)
    assert v.mean == pytest.approx([2.0 / 3, 1.0 / 3], abs=1e-6)


def test_penalty_and_k_can_refuse_the_majority():
    assert camrt.Voter([0.5, 0.5], penalty=0.2, k=2).vote(SCORES).decision == -1  # 0.667 - 0.2 < 0.5
    fb = camrt.Voter([0.5, 0.5], penalty=0.2, k=2, fallback=1).vote(SCORES)
    assert fb.decision == 1 and fb.score == pytest.approx(1.0 / 3, abs=1e-6)
    assert camrt.Voter([0.5, 0.5], penalty=0.0, k=3).vote(SCORES).decision == -1
    assert camrt.Voter([0.5, 0.5], penalty=0.0, k=3).vote([[0.2, 0.8]]).decision == 1  # k capped at n


def test_matches_the_reference_rule_on_random_scores(ref):
    rng = np.random.default_rng(3)
    for _ in range(300):
        n, c = int(rng.integers(1, 6)), int(rng.integers(2, 5))
        p = rng.dirichlet(np.ones(c), size=n).astype(np.float32)
        thr = [float(t) for t in rng.uniform(0.2, 0.7, c).astype(np.float32)]
        penalty, k = float(np.float32(rng.uniform(0, 0.3))), int(rng.integers(1, 4))
        fallback = int(rng.integers(-1, c))
        v = camrt.Voter(thr, penalty=penalty, k=k, fallback=fallback).vote(p)
        want, score = ref.vote(p.astype(np.float64), thr, penalty, k, fallback)
        if abs(score - thr[want if want >= 0 else 0]) < 1e-5:
            continue  # float32 vs float64 right at the threshold
        assert v.decision == want, (p, thr, penalty, k)
        assert v.score == pytest.approx(score, abs=1e-5)


def test_hysteresis_from_config():
    cfg = camrt.parse_config('{"labels": ["bird", "not_bird"], "k": 1, "n_crops": 1, "hysteresis": 3,'
                             ' "penalty": 0}')
    voter = camrt.Voter.from_config(cfg)
    bird, other = [[0.9, 0.1]], [[0.2, 0.8]]
    seq = [bird, other, other, bird, other, other, other, bird]
    assert [voter.vote(s).decision for s in seq] == [0, 0, 0, 0, 0, 0, 1, 1]


def test_bad_scores_are_refused():
    with pytest.raises(ValueError, match="expected 2"):
        camrt.Voter([0.5, 0.5]).vote([[0.2, 0.3, 0.5]])
    with pytest.raises(ValueError, match="no crops"):
        camrt.Voter([0.5, 0.5]).vote(np.zeros((0, 2)))
