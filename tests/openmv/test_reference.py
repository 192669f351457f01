"""The emulated app's labels and scores equal a direct LiteRT (reference kernels) run on the same frames."""

from __future__ import annotations

import numpy as np
import pytest


def _model_hw(model) -> tuple[int, int]:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(model))
    shape = it.get_input_details()[0]["shape"]
    return int(shape[1]), int(shape[2])


@pytest.mark.parametrize(
    "framesize,roi",
    [("QVGA", None), ("QQVGA", [20, 10, 100, 96])],
    ids=["qvga-whole-frame", "qqvga-roi"],
)
def test_emulated_app_matches_litert(tmp_path, masks_model, mask_frames, run_app, ref, framesize, roi):
    config = {"threshold": 0.0, "smoothing": 1, "framesize": framesize, "roi": roi}
    run = run_app(tmp_path / "fs", mask_frames, masks_model, config)
    frames = sorted(mask_frames.iterdir())
    assert [r["frame"] for r in run.results] == list(range(1, len(frames) + 1)), run.output

    labels = masks_model.with_suffix(".txt").read_text().split()
    hw = _model_hw(masks_model)
    expected = ref.litert_scores(masks_model, [ref.model_input(f, framesize, roi, hw) for f in frames])
    lsb = 1 / 256  # the model's int8 output scale (checked below)
    from ai_edge_litert.interpreter import Interpreter

    assert Interpreter(model_path=str(masks_model)).get_output_details()[0]["quantization"][0] == lsb
    for r, exp in zip(run.results, expected, strict=True):
        got = np.array([r["scores"][k] for k in labels])
        assert np.abs(got - exp).max() <= lsb + 1e-4, (r, exp)
        if np.sort(exp)[-1] - np.sort(exp)[-2] > 2 * lsb:  # a clear winner: same label
            assert r["label"] == labels[int(np.argmax(exp))]
        assert r["score"] == max(r["scores"].values())
    # The frames are of three different classes: the scores must not be all alike (a real check of input).
    assert len({r["label"] for r in run.results}) >= 2
