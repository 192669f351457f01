"""The emulated app's labels and scores equal a direct TensorFlow Lite Micro run on the same frames, with
the model input re-derived from the firmware's rules (tests/openmv/_reference.py) for each aspect rule
(4.x expands, 5 stretches) and the 1:1 copy; and the emulator's scaler equals the reference pixel by pixel.
"""

from __future__ import annotations

import numpy as np
import pytest

from host_tools.model_manifest import load_manifest


def _model_hw(model) -> tuple[int, int]:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(model))
    shape = it.get_input_details()[0]["shape"]
    return int(shape[1]), int(shape[2])


@pytest.mark.parametrize(
    "firmware,framesize,roi",
    [("4.6.0", "QVGA", None), ("5.0.0", "QQVGA", [20, 10, 100, 96]), ("5.0.0", "QVGA", [100, 50, 96, 96])],
    ids=["4.6-qvga-whole-frame", "5.0-qqvga-roi", "5.0-one-to-one-roi"],
)
def test_emulated_app_matches_tflm(tmp_path, masks_model, mask_frames, run_app, ref, firmware, framesize,
                                   roi):
    config = {"threshold": 0.0, "smoothing": 1, "framesize": framesize, "roi": roi}
    run = run_app(tmp_path / "fs", mask_frames, masks_model, config, firmware=firmware)
    frames = sorted(mask_frames.iterdir())
    assert [r["frame"] for r in run.results] == list(range(1, len(frames) + 1)), run.output

    labels = list(load_manifest(masks_model).labels)
    hw = _model_hw(masks_model)
    aspect = "ignore" if firmware.startswith("5") else "expand"
    expected = ref.tflm_scores(masks_model, [ref.model_input(f, framesize, roi, hw, aspect) for f in frames])
    for r, exp in zip(run.results, expected, strict=True):
        got = np.array([r["scores"][k] for k in labels])
        assert np.abs(got - exp).max() <= 1e-5, (r, exp)  # the app prints 5 decimals
        if np.sort(exp)[-1] > np.sort(exp)[-2]:
            assert r["label"] == labels[int(np.argmax(exp))]
        assert r["score"] == max(r["scores"].values())
    # The frames are of three different classes: the scores must not be all alike (a real check of input).
    assert len({r["label"] for r in run.results}) >= 2


@pytest.mark.parametrize("aspect", ["expand", "ignore"])
@pytest.mark.parametrize("roi,out", [((0, 0, 320, 240), (96, 96)), ((13, 7, 150, 97), (64, 48)),
                                     ((5, 5, 40, 30), (96, 96)), ((30, 20, 96, 96), (96, 96))])
def test_emulator_scaler_equals_the_reference(ref, aspect, roi, out):
    from host_tools.sim.openmv.draw_image import draw_bilinear

    rng = np.random.default_rng(sum(roi) + out[0])
    frame = np.stack([rng.integers(0, 32, (240, 320)), rng.integers(0, 64, (240, 320)),
                      rng.integers(0, 32, (240, 320))], axis=-1).astype(np.uint8)
    got = draw_bilinear(frame, roi, out[0], out[1], aspect)
    assert np.array_equal(got, ref.draw(frame, roi, out[0], out[1], aspect))


def test_five_stretches_where_four_crops(ref):
    """A 4:3 region into a square input: 4.x crops the sides, firmware 5 squeezes the whole width in."""
    from host_tools.sim.openmv.draw_image import draw_bilinear

    frame = np.zeros((240, 320, 3), np.uint8)
    frame[:, :30] = (31, 0, 0)  # a red band at the left edge, outside a centred square crop (x 40..280)
    expand = draw_bilinear(frame, (0, 0, 320, 240), 96, 96, "expand")
    ignore = draw_bilinear(frame, (0, 0, 320, 240), 96, 96, "ignore")
    assert expand[..., 0].max() == 0  # cropped away
    assert ignore[:, :10, 0].min() > 0  # squeezed in: the left columns are red


def test_rgb565_widening_is_bit_replication():
    from host_tools import rgb565

    c = np.array([[[31, 63, 31], [16, 32, 1], [0, 0, 0]]], np.uint8)
    assert rgb565.to_rgb888(c).tolist() == [[[255, 255, 255], [132, 130, 8], [0, 0, 0]]]
    gray = np.array([[255, 130, 7]], np.uint8)
    from host_tools.sim.openmv import pixels

    assert pixels.gray_to_565(gray).tolist() == [[[31, 63, 31], [16, 32, 16], [0, 1, 0]]]  # truncated
