"""The sweep's figures equal a brute-force numpy computation of the documented rules on the same scores.

RV1103: the voting rule as voter.hpp documents it (crop votes, candidate, dissent penalty, k of n, fallback,
hysteresis), written here again in numpy, independently of camrt; OpenMV: the moving average of the last N
frames and the best class against one threshold (openmv_app/README.md). The figures (precision, recall, F1,
false alarms per 1000 frames, confusion matrix, delay after a change of truth) are computed here again too.
"""

from __future__ import annotations

import numpy as np
import pytest

from host_tools.tune import scores as sc
from host_tools.tune import sweep
from host_tools.tune.decide import Setting
from host_tools.tune.sweep import Sweeper

pytest.importorskip("camrt")


def voter_numpy(p: np.ndarray, thr, penalty, k, hysteresis, fallback, sequences):
    """p: (N, n, C) float32. Returns the reported decisions (N,)."""
    p = p.astype(np.float32)
    n_frames, n, n_cls = p.shape
    thr = np.asarray(thr, dtype=np.float32)
    best = p.argmax(axis=2)  # lowest index on ties
    top = np.take_along_axis(p, best[..., None], axis=2)[..., 0]
    votes = np.where(top >= thr[best], best, -1)
    mean = np.zeros((n_frames, n_cls), dtype=np.float32)
    for i in range(n):  # summed in crop order, as float32, then divided
        mean += p[:, i, :]
    mean /= np.float32(n)
    count = np.stack([(votes == c).sum(axis=1) for c in range(n_cls)], axis=1)
    raw = np.full(n_frames, fallback, dtype=np.int64)
    for f in range(n_frames):
        if count[f].max() == 0:
            continue
        # most votes, then higher mean, then lower index
        cand = sorted(range(n_cls), key=lambda c: (-count[f, c], -mean[f, c], c))[0]
        need = min(k, n)
        s = np.float32(mean[f, cand] - np.float32(penalty) * np.float32(n - count[f, cand]))
        if count[f, cand] >= need and s >= thr[cand]:
            raw[f] = cand
    if hysteresis <= 1:
        return raw
    out = raw.copy()
    for start, end in sequences:
        reported, pending, run = raw[start], None, 0
        for f in range(start + 1, end):
            if raw[f] == reported:
                run = 0
            else:
                run = run + 1 if raw[f] == pending and run > 0 else 1
                pending = raw[f]
                if run >= hysteresis:
                    reported, run = pending, 0
            out[f] = reported
    return out


def openmv_numpy(p: np.ndarray, thr, smoothing, sequences):
    out = np.empty(len(p), dtype=np.int64)
    for start, end in sequences:
        for f in range(start, end):
            m = p[max(start, f - smoothing + 1):f + 1].mean(axis=0)
            b = int(np.argmax(m))
            out[f] = b if m[b] >= thr else -1
    return out


def figures_numpy(truth, dec, n_cls, sequences, quiet):
    out = {}
    for c in range(n_cls):
        tp = np.sum((dec == c) & (truth == c))
        p = tp / max(1, np.sum(dec == c)) if np.any(dec == c) else 0.0
        r = tp / np.sum(truth == c) if np.any(truth == c) else 0.0
        out[c] = (p, r, 2 * p * r / (p + r) if p + r else 0.0)
    alarms = np.sum((dec != -1) & (dec != quiet) & (dec != truth))
    conf = np.zeros((n_cls, n_cls + 1), dtype=int)
    for t, d in zip(truth, dec, strict=True):
        conf[t, d if d >= 0 else n_cls] += 1
    delays, missed = [], 0
    for start, end in sequences:
        ch = [i for i in range(start + 1, end) if truth[i] != truth[i - 1]] + [end]
        for a, b in zip(ch[:-1], ch[1:], strict=True):
            hits = [i - a for i in range(a, b) if dec[i] == truth[a]]
            if hits:
                delays.append(hits[0])
            else:
                missed += 1
    return out, 1000.0 * alarms / len(truth), conf, (np.mean(delays) if delays else None), missed


def make_session(board, n_frames, n_crops, labels, rng, runs=True) -> sc.Session:
    n_cls = len(labels)
    # the truth in runs of 3..12 frames, as a camera sees a scene change; scores leaning to the truth
    truth = []
    while len(truth) < n_frames:
        truth += [int(rng.integers(n_cls))] * int(rng.integers(3, 13) if runs else 1)
    truth = truth[:n_frames]
    frames = []
    for t in truth:
        alpha = np.ones(n_cls)
        alpha[t] += rng.uniform(0.0, 4.0)
        rows = rng.dirichlet(alpha, size=n_crops).astype(np.float32)
        frames.append(sc.Frame(labels[t], rows.tolist(), None, [], 0))
    cfg = {"labels": labels, "fallback": labels[-1]} if board == "rv1103" else {}
    return sc.Session(board, labels, frames, cfg, sequence=True)


def compare(sw: Sweeper, s: Setting, dec_np: np.ndarray) -> None:
    truth = sw.truth
    got = sw.evaluate(s).figures
    per, fa, conf, delay, missed = figures_numpy(truth, dec_np, len(sw.labels), sw.sequences, sw.quiet)
    assert np.array_equal(sw.decisions(s), dec_np), s
    for c in range(len(sw.labels)):
        assert got.precision[c] == pytest.approx(per[c][0])
        assert got.recall[c] == pytest.approx(per[c][1])
        assert got.f1[c] == pytest.approx(per[c][2])
    assert got.false_alarms_per_1000 == pytest.approx(fa)
    assert got.confusion == conf.tolist()
    assert (got.delay_frames is None) == (delay is None)
    if delay is not None:
        assert got.delay_frames == pytest.approx(delay)
    assert got.missed == missed


@pytest.mark.parametrize("labels", [["bird", "not_bird"], ["cat", "dog", "none"]])
def test_rv1103_sweep_equals_numpy_voting_rule(labels) -> None:
    rng = np.random.default_rng(14)
    session = make_session("rv1103", 400, 3, labels, rng)
    sw = Sweeper(session)
    p = session.scores_array()
    grid = sweep.Grid([0.3, 0.5, 0.7], [0.0, 0.1, 0.3], [1, 2, 3], [0, 2, 4], [1])
    settings = sweep.settings(session, grid)
    assert len(settings) == 3 ** len(labels) * 27
    checked = 0
    for s in settings[:: max(1, len(settings) // 60)]:
        dec = voter_numpy(p, s.thresholds, s.penalty, s.k, s.hysteresis, len(labels) - 1, sw.sequences)
        compare(sw, s, dec)
        checked += 1
    assert checked >= 40
    # the figures vary with the setting (a sweep that ignored it would pass the comparisons above)
    f1s = {round(sw.evaluate(s).figures.macro_f1, 6) for s in settings[:40]}
    assert len(f1s) > 5


def test_rv1103_without_fallback_and_with_stills() -> None:
    rng = np.random.default_rng(3)
    session = make_session("rv1103", 150, 3, ["a", "b", "c"], rng, runs=False)
    session.config = {"labels": ["a", "b", "c"]}  # no fallback: nothing decided is -1, never an alarm
    session.sequence = False
    sw = Sweeper(session)
    assert sw.quiet == -1 and len(sw.sequences) == 150
    for s in [Setting((0.4, 0.5, 0.6), 0.1, 2, 3), Setting((0.2, 0.2, 0.2), 0.0, 1, 0)]:
        compare(sw, s, voter_numpy(session.scores_array(), s.thresholds, s.penalty, s.k, s.hysteresis, -1,
                                   sw.sequences))


def test_openmv_sweep_equals_numpy_moving_average() -> None:
    rng = np.random.default_rng(7)
    labels = ["good", "bad", "no_mask"]
    session = make_session("openmv", 300, 1, labels, rng)
    sw = Sweeper(session)
    assert sw.quiet == -1
    p = session.scores_array()[:, 0, :].astype(np.float64)
    grid = sweep.Grid([0.3, 0.45, 0.6, 0.75], [0.0], [1], [0], [1, 2, 3, 5, 8])
    for s in sweep.settings(session, grid):
        compare(sw, s, openmv_numpy(p, s.thresholds[0], s.smoothing, sw.sequences))


def test_proposal_is_the_brute_force_optimum() -> None:
    rng = np.random.default_rng(11)
    labels = ["bird", "not_bird"]
    session = make_session("rv1103", 300, 3, labels, rng)
    sw = Sweeper(session)
    grid = sweep.Grid([0.3, 0.4, 0.5, 0.6, 0.7, 0.8], [0.0, 0.1], [1, 2, 3], [0, 3], [1])
    settings = sweep.settings(session, grid)
    results = [sw.evaluate(s) for s in settings]
    goal = sweep.Goal({"bird": 0.8}, None)
    best = sweep.propose(results, goal, labels)
    truth = sw.truth
    brute = []
    for s in settings:
        dec = voter_numpy(session.scores_array(), s.thresholds, s.penalty, s.k, s.hysteresis, 1, sw.sequences)
        per, fa, *_ = figures_numpy(truth, dec, 2, sw.sequences, 1)
        if per[0][1] >= 0.8:
            brute.append(fa)
    assert brute, "the goal should be reachable on these scores"
    assert best is not None and best.figures.recall[0] >= 0.8
    assert best.figures.false_alarms_per_1000 == pytest.approx(min(brute))
    # an unreachable goal proposes nothing
    assert sweep.propose(results, sweep.Goal({"bird": 1.0}, 0.0), labels) is None
