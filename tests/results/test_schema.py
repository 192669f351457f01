"""Result schema 1: the documented examples, lines made by the board program's own code, and hostile lines
all go through the one parser (host_tools/results)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import camrt
import numpy as np
import pytest

from host_tools.results import (
    Event,
    Result,
    SchemaError,
    explain,
    format_event,
    format_result,
    parse_line,
    parse_result,
)

SCHEMA_MD = Path(__file__).resolve().parents[2] / "host_tools" / "results" / "SCHEMA.md"


def doc_examples() -> list[str]:
    blocks = re.findall(r"```json\n(.*?)```", SCHEMA_MD.read_text(), re.S)
    return [" ".join(b.split("\n")) for b in blocks]


def openmv_line(**over) -> str:
    rec = {"schema": 1, "board": "openmv", "frame": 3, "label": None, "score": 0.41,
           "scores": {"good": 0.41, "bad": 0.3, "no_mask": 0.29}, "raw": {"label": "good", "score": 0.7},
           "ms": {"capture": 2.5, "inference": 40.0, "total": 44.0}, "fps": 10.0,
           "smoothing": {"frames": 3, "threshold": 0.6}}
    return json.dumps({**rec, **over})


def test_the_documented_examples_parse() -> None:
    result, event = (parse_line(x) for x in doc_examples())
    assert isinstance(result, Result) and isinstance(event, Event)
    assert result.board == "rv1103" and result.vote is not None and len(result.crops) == 1
    assert result.ms.preprocess is not None and [k for k, _ in result.ms.items()][0] == "capture"
    assert [(c.key, c.old, c.new) for c in event.changes][0] == ("hysteresis", 0, 3)
    assert result.run is not None and result.run == event.run  # one run of the board program


def _pipeline(hysteresis: int) -> tuple[camrt.Pipeline, list[str]]:
    cfg = camrt.parse_config(json.dumps({"labels": ["red", "blue"], "thresholds": {"red": 0.6, "blue": 0.6},
                                         "penalty": 0.3, "k": 2, "hysteresis": hysteresis,
                                         "fallback": "blue"}))

    def model(x: np.ndarray) -> np.ndarray:  # logits from the mean red and blue of the crop
        return np.array([x[..., 0].mean() / 64.0, x[..., 2].mean() / 64.0], dtype=np.float32)

    return camrt.Pipeline(camrt.CallableEngine(model, 16, 16, 2), cfg), cfg.labels


def _frame(colours: list[tuple[int, int, int]]) -> np.ndarray:
    """A 48x16 frame of three 16x16 bands, one per crop."""
    return np.concatenate([np.full((16, 16, 3), c, np.uint8) for c in colours], axis=1)


def test_board_program_lines_parse_to_what_the_voter_decided() -> None:
    pipe, labels = _pipeline(hysteresis=3)
    red, blue = (255, 0, 0), (0, 0, 255)
    results = []
    for i, colours in enumerate([[red] * 3, [blue] * 3, [blue] * 3], 1):
        fr = pipe.process(_frame(colours), "RGB888", i)
        r = parse_result(pipe.json_line(fr))
        assert r is not None
        results.append((fr, r))
    for fr, r in results:
        assert r.board == "rv1103" and r.frame == fr.frame and r.label == labels[fr.decision]
        assert r.raw.label == labels[fr.raw_decision]
        assert r.vote is not None and r.vote.votes == fr.vote.votes and r.vote.need == 2
        assert [c.vote for c in r.crops] == [labels[c.vote] for c in fr.crops]
        assert r.scores == pytest.approx(dict(zip(labels, fr.mean, strict=True)), abs=1e-4)
    # Frames 2 and 3 are all blue, but hysteresis 3 keeps red: the line says why.
    fr, r = results[2]
    assert (r.label, r.raw.label) == ("red", "blue")
    assert r.vote.hysteresis.pending == "blue" and r.vote.hysteresis.count == 2
    assert "hysteresis holds red: blue seen 2/3" in explain(r)
    assert "hysteresis" in format_result(r)


def test_the_penalty_explains_a_fallback() -> None:
    pipe, labels = _pipeline(hysteresis=0)
    red, grey = (255, 0, 0), (0, 0, 0)
    r = parse_result(pipe.json_line(pipe.process(_frame([red, red, grey]), "RGB888", 1)))
    assert r is not None and r.vote is not None
    # two crops vote red, the grey one abstains: the penalty pulls red's vote score under its threshold
    assert (r.vote.candidate, r.vote.votes) == ("red", 2)
    assert r.vote.score < r.vote.threshold == pytest.approx(0.6)
    assert r.label == r.raw.label == "blue"  # the config's fallback
    why = explain(r)
    assert "vote red 2/3 crops, need 2" in why and "< 0.60" in why and "raw blue" in why


def test_openmv_smoothing_explains_a_missing_label() -> None:
    r = parse_result(openmv_line())
    assert r is not None and r.label is None and r.threshold == 0.6
    assert r.ms.preprocess is None and [k for k, _ in r.ms.items()] == ["capture", "inference", "total"]
    why = explain(r)
    assert "smoothed 0.41 < 0.60 over 3 frames" in why and "this frame alone: good 0.70" in why
    line = format_result(r, leds={"red": False, "green": False, "blue": False})
    assert line.split()[:3] == ["frame", "3", "-"] and line.endswith("LED off")


@pytest.mark.parametrize("line, message", [
    (openmv_line(schema=2), "schema 2; this host_tools reads schema 1: update host_tools"),
    (openmv_line(schema="1"), "bad schema version"),
    (openmv_line(board="esp32"), "board: expected one of openmv, rv1103"),
    (openmv_line(frame=0), "frames count from 1"),
    (openmv_line(label=3), "label: expected a label or null"),
    (openmv_line(score=float("nan")), "score: expected a number"),
    (openmv_line(ms={"capture": 1.0, "total": 2.0}), "missing field 'inference'"),
    (openmv_line(ms={"snapshot": 1.0, "infer": 1.0, "total": 2.0}), "missing field 'capture'"),  # old names
    (openmv_line(raw=None), "result line breaks schema 1"),
    (openmv_line(run=7), "run: expected a non-empty string"),
    (openmv_line(run=""), "run: expected a non-empty string"),
    (json.dumps({"schema": 1, "board": "rv1103", "event": "config", "frame": 2, "changes": {"k": 3}}),
     "event line breaks schema 1: changes.k: expected [old, new]"),
])
def test_broken_lines_are_refused_by_name(line: str, message: str) -> None:
    with pytest.raises(SchemaError, match=re.escape(message)):
        parse_line(line)


def test_keys_a_newer_board_adds_are_ignored() -> None:
    r = parse_result(openmv_line(ms={"capture": 1, "inference": 2, "total": 3, "upload": 1}, extra={"x": 1}))
    assert r is not None and [k for k, _ in r.ms.items()] == ["capture", "inference", "total"]


def test_other_lines_are_not_results() -> None:
    for line in ("", "config: config.json loaded", "{not json", '{"frame": 1, "label": "x"}', "[1, 2]",
                 '"schema"'):
        assert parse_line(line) is None


def test_events_read_as_old_to_new() -> None:
    e = parse_line(json.dumps({"schema": 1, "board": "rv1103", "event": "config", "frame": 57,
                               "accepted": True, "changes": {"k": [2, 3], "fallback": [None, "not_bird"]}}))
    assert isinstance(e, Event)
    assert format_event(e) == "config reloaded after frame 57: k 2 -> 3, fallback null -> not_bird"
    bad = parse_line(json.dumps({"schema": 1, "board": "openmv", "event": "config", "frame": 4,
                                 "accepted": False, "message": "smoothing: must be from 1 to 30 frames"}))
    assert isinstance(bad, Event) and "rejected" in format_event(bad) and "from 1 to 30" in format_event(bad)


def test_the_live_page_gets_the_explanation_and_the_reloads() -> None:
    from host_tools.watch.state import LiveState

    state = LiveState("test")
    r = parse_result(openmv_line())
    assert r is not None
    state.add_result(r)
    state.add_event(parse_line(json.dumps({"schema": 1, "board": "openmv", "event": "config", "frame": 3,
                                           "changes": {"threshold": [0.5, 0.6]}})))
    snap = json.loads(json.dumps(state.snapshot()))  # what /api/state serves
    res = snap["result"]
    assert res["threshold"] == 0.6 and res["label"] is None and res["raw"]["label"] == "good"
    assert res["why"] == explain(r) and list(res["ms"]) == ["capture", "inference", "total"]
    assert snap["events"] == ["config reloaded after frame 3: threshold 0.5 -> 0.6"]
    assert state.history[-1].infer_ms == 40.0
