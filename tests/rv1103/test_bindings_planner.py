"""camrt.plan_crops through the bindings: odd frame sizes against the documented rule, refusals."""

from __future__ import annotations

import camrt
import pytest


@pytest.mark.parametrize("model", [(96, 96), (224, 224), (97, 97)])
def test_plan_matches_the_rule_on_odd_sizes(ref, model):
    mw, mh = model
    for w in range(mw, 900, 53):
        for h in range(mh, 700, 47):
            for n in (1, 2, 3, 5):
                got = [r.astuple() for r in camrt.plan_crops(w, h, n, mw, mh)]
                assert got == ref.plan(w, h, n, mw, mh), (w, h, n)
                for x, y, cw, ch in got:
                    assert cw == ch and x + cw <= w and y + ch <= h and x >= 0 and y >= 0
                    assert x % 4 == 0 and y % 4 == 0
                    if mw % 4 == 0:
                        assert cw % 4 == 0


def test_landscape_portrait_square():
    assert [r.astuple() for r in camrt.plan_crops(641, 479, 3, 96, 96)] == [
        (0, 0, 476, 476), (80, 0, 476, 476), (164, 0, 476, 476)]
    assert [r.astuple() for r in camrt.plan_crops(479, 641, 3, 96, 96)] == [
        (0, 0, 476, 476), (0, 80, 476, 476), (0, 164, 476, 476)]
    assert [r.astuple() for r in camrt.plan_crops(333, 333, 3, 96, 96)] == [(0, 0, 332, 332)]
    assert camrt.plan_crops(640, 480, 1, 96, 96)[0] == camrt.Rect(80, 0, 480, 480)


def test_small_frame_is_refused_naming_both_sizes():
    with pytest.raises(camrt.FrameTooSmall, match=r"frame 95x300 is smaller than the model input 96x96"):
        camrt.plan_crops(95, 300, 3, 96, 96)
    with pytest.raises(ValueError):  # FrameTooSmall is a ValueError for callers that do not know it
        camrt.plan_crops(200, 100, 3, 224, 224)
    with pytest.raises(ValueError, match=r"n_crops = 0"):
        camrt.plan_crops(640, 480, 0, 96, 96)


def test_the_default_16_9_capture_is_covered_by_three_square_crops():
    # rv1103_app's default camera size (768x432, 16:9 like the 2304x1296 sensor): three 432x432 crops,
    # left, centre, right, together covering every column of the frame.
    crops = [r.astuple() for r in camrt.plan_crops(768, 432, 3, 64, 64)]
    assert [(w, h) for _, _, w, h in crops] == [(432, 432)] * 3
    assert crops[0][0] == 0 and crops[-1][0] + 432 == 768 and crops[1][0] == (768 - 432) // 2
    covered = set()
    for x, _, w, _ in crops:
        covered.update(range(x, x + w))
    assert covered == set(range(768))
