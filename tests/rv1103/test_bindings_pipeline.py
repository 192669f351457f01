"""The whole C++ pipeline through the bindings, on real bird frames, with ONNX Runtime as the engine,
against a plain-numpy reference of every stage."""

from __future__ import annotations

import json
import threading

import camrt
import numpy as np
import pytest

CFG = {"labels": ["bird", "not_bird"], "thresholds": {"bird": 0.55, "not_bird": 0.5}, "penalty": 0.1,
       "k": 2, "n_crops": 3, "color_order": "RGB"}


@pytest.mark.parametrize("fmt", ["RGB888", "BGR888"])
@pytest.mark.parametrize("side,w_stride", [(96, 96), (64, 80)])
def test_pipeline_matches_numpy_reference_on_real_frames(ref, bird_wide_frames, tiny_onnx, fmt, side,
                                                         w_stride):
    run = tiny_onnx(side, side)
    fed: list[np.ndarray] = []

    def model(x: np.ndarray) -> np.ndarray:
        fed.append(x.copy())
        return run(x)

    cfg = camrt.parse_config(json.dumps(CFG))
    pipe = camrt.Pipeline(camrt.CallableEngine(model, side, side, 2, w_stride=w_stride), cfg)
    decisions = 0
    for i, rgb in enumerate(bird_wide_frames):
        frame = rgb if fmt == "RGB888" else np.ascontiguousarray(rgb[..., ::-1])
        fed.clear()
        res = pipe.process(frame, fmt, i, 0.25)
        h, w = rgb.shape[:2]
        rects = ref.plan(w, h, 3, side, side)
        assert [c.rect.astuple() for c in res.crops] == rects
        probs = []
        for rect, got_in, crop in zip(rects, fed, res.crops, strict=True):
            want_in = ref.preprocess(rgb, rect, side, side)
            assert np.abs(got_in.astype(int) - want_in).max() <= 1
            p = ref.softmax(run(want_in).astype(np.float64))
            assert crop.scores == pytest.approx(p, abs=0.01)
            probs.append(crop.scores)
        # The decision is the documented rule applied to the crop scores.
        want, score = ref.vote(np.array(probs), [0.55, 0.5], 0.1, 2)
        assert res.decision == want and res.raw_decision == want
        assert res.score == pytest.approx(score, abs=1e-5)
        decisions += want >= 0
        assert res.ms.capture == 0.25 and res.ms.total >= res.ms.preprocess + res.ms.inference
        assert res.frame == i
    assert decisions > 0


def test_json_line_format(bird_wide_frames, tiny_onnx):
    cfg = camrt.parse_config(json.dumps({**CFG, "fallback": "not_bird"}))
    pipe = camrt.Pipeline(camrt.CallableEngine(tiny_onnx(96, 96), 96, 96, 2), cfg)
    res = pipe.process(bird_wide_frames[0], "RGB888", 12, 1.0)
    line = pipe.json_line(res)
    assert "\n" not in line and line == camrt.to_json_line(res, cfg.labels)
    obj = json.loads(line)
    assert list(obj) == ["schema", "board", "frame", "label", "score", "scores", "raw", "ms", "fps",
                         "dropped", "vote", "crops"]  # result schema 1 (host_tools/results/SCHEMA.md)
    assert (obj["schema"], obj["board"]) == (1, "rv1103")
    assert obj["frame"] == 12 and obj["label"] in ("bird", "not_bird")
    assert obj["score"] == pytest.approx(res.score, abs=1e-4)
    # the mean over the crops, and the vote's reasons as the voter gave them
    mean = np.mean([c.scores for c in res.crops], axis=0)
    assert list(obj["scores"].values()) == pytest.approx(mean, abs=1e-4)
    assert obj["raw"] == {"label": obj["label"], "score": obj["score"]}  # no hysteresis
    vote = obj["vote"]
    assert vote["votes"] == sum(c["vote"] == vote["candidate"] for c in obj["crops"])
    assert vote["need"] == 2 and vote["threshold"] in (0.55, 0.5) and vote["penalty"] == 0.1
    assert vote["hysteresis"] == {"frames": 0, "pending": None, "count": 0}
    assert [list(c) for c in obj["crops"]] == [["x", "y", "w", "h", "vote", "scores"]] * 3
    assert [(c["x"], c["y"], c["w"], c["h"]) for c in obj["crops"]] == [c.rect.astuple() for c in res.crops]
    assert list(obj["crops"][0]["scores"]) == ["bird", "not_bird"]
    assert list(obj["ms"]) == ["capture", "preprocess", "inference", "postprocess", "total"]
    assert obj["ms"]["capture"] == 1.0
    assert obj["dropped"] == 0  # nothing skipped: the caller sets it (the board program: the camera's count)
    res.dropped = 5
    assert json.loads(pipe.json_line(res))["dropped"] == 5
    assert '"score":' + f"{res.score:.4f}" in line  # 4 decimals


def test_engine_errors_and_mismatches(bird_wide_frames):
    cfg = camrt.parse_config(json.dumps(CFG))
    with pytest.raises(camrt.ConfigError, match="has 2 labels but the model has 3 outputs"):
        camrt.Pipeline(camrt.CallableEngine(lambda x: [0, 0, 1], 96, 96, 3), cfg)

    def broken(x):
        raise KeyError("no such tensor")

    with pytest.raises(RuntimeError, match="python engine callable failed: .*no such tensor"):
        camrt.Pipeline(camrt.CallableEngine(broken, 96, 96, 2), cfg).process(bird_wide_frames[0], "RGB888")
    with pytest.raises(RuntimeError, match="returned 3 scores, expected 2"):
        camrt.Pipeline(camrt.CallableEngine(lambda x: [1, 2, 3], 96, 96, 2), cfg).process(
            bird_wide_frames[0], "RGB888")
    with pytest.raises(camrt.FrameTooSmall, match="frame 126x80 is smaller than the model input 96x96"):
        camrt.Pipeline(camrt.CallableEngine(lambda x: [1, 2], 96, 96, 2), cfg).process(
            np.zeros((80, 126, 3), np.uint8), "RGB888")


def test_set_config_and_threads(bird_wide_frames, tiny_onnx):
    """Two pipelines in two threads (the GIL is released outside the model call) give the same results
    as one thread; set_config switches the crop count."""
    cfg = camrt.parse_config(json.dumps(CFG))
    pipes = [camrt.Pipeline(camrt.CallableEngine(tiny_onnx(96, 96), 96, 96, 2), cfg) for _ in range(2)]
    single = [pipes[0].json_line(pipes[0].process(f, "RGB888", i)) for i, f in enumerate(bird_wide_frames)]
    out: list[list[str]] = [[], []]

    def work(k: int) -> None:
        for i, f in enumerate(bird_wide_frames * 3):
            out[k].append(pipes[k].json_line(pipes[k].process(f, "RGB888", i % len(bird_wide_frames))))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    strip = lambda s: json.loads(s) | {"ms": None}  # noqa: E731
    for k in range(2):
        assert [strip(s) for s in out[k][: len(single)]] == [strip(s) for s in single]
    pipes[0].set_config(camrt.parse_config(json.dumps({**CFG, "n_crops": 1, "k": 1})))
    assert len(pipes[0].process(bird_wide_frames[0], "RGB888").crops) == 1
    assert pipes[0].config.n_crops == 1
