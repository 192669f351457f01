"""camrt.crop_resize / preprocess through the bindings: numpy references, colour formats, zero copy."""

from __future__ import annotations

import camrt
import numpy as np
import pytest


def test_rgb_and_bgr_match_the_numpy_reference(ref):
    rng = np.random.default_rng(1)
    big = rng.integers(0, 256, (500, 700, 3), dtype=np.uint8)
    frame = big[7:486, 3:644]  # a strided view: rows 2100 bytes apart, 641x479
    for rect, (w, h) in [((80, 0, 476, 476), (96, 96)), ((164, 0, 476, 476), (224, 224)),
                         ((13, 9, 61, 61), (97, 61))]:
        want = ref.preprocess(frame, rect, w, h)
        got = camrt.preprocess(frame, "RGB888", rect, w, h)
        assert np.abs(got.astype(int) - want).max() <= 1
        bgr = np.ascontiguousarray(frame[..., ::-1])
        assert np.array_equal(camrt.preprocess(bgr, "BGR888", rect, w, h), got)
        assert np.array_equal(camrt.preprocess(frame, "RGB888", rect, w, h, order="BGR"), got[..., ::-1])


def test_out_honours_w_stride_and_keeps_padding():
    rng = np.random.default_rng(2)
    frame = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    buf = np.full((96, 112, 3), 0xAB, np.uint8)  # w_stride 112 pixels
    camrt.crop_resize(frame, "RGB888", camrt.Rect(80, 0, 480, 480), buf[:, :96])
    assert np.array_equal(buf[:, :96], camrt.preprocess(frame, "RGB888", (80, 0, 480, 480), 96, 96))
    assert (buf[:, 96:] == 0xAB).all()


def test_nv12_and_yuyv_on_a_real_frame(ref, bird_wide_frames):
    frame = bird_wide_frames[0]  # 384x128 RGB
    nv12 = ref.rgb_to_nv12(frame)
    rgb = ref.nv12_to_rgb(nv12)  # what a full-frame conversion gives, float
    rect = (128, 0, 128, 128)
    x, y, w, h = rect
    want = np.clip(np.rint(ref.resize(rgb[y:y + h, x:x + w], 96, 96)), 0, 255)
    got = camrt.preprocess(nv12, "NV12", rect, 96, 96)
    # Interpolating Y, U, V then converting equals converting then interpolating except where a colour
    # clips at 0 or 255.
    assert np.mean(np.abs(got - want) <= 1) > 0.99
    assert np.abs(got.astype(int) - want).max() <= 8
    # YUYV with the same samples (chroma of rows 2j and 2j+1 from block row j) decodes identically.
    hh, ww = frame.shape[:2]
    yp, uv = nv12[:hh], nv12[hh:].reshape(hh // 2, ww // 2, 2)
    yuyv = np.empty((hh, ww // 2, 4), np.uint8)
    yuyv[..., 0], yuyv[..., 2] = yp[:, 0::2], yp[:, 1::2]
    yuyv[..., 1] = np.repeat(uv[..., 0], 2, axis=0)
    yuyv[..., 3] = np.repeat(uv[..., 1], 2, axis=0)
    assert np.array_equal(camrt.preprocess(yuyv.reshape(hh, ww * 2), "YUYV", rect, 96, 96), got)


@pytest.mark.parametrize("yuv,rgb", [((235, 128, 128), (255, 255, 255)), ((16, 128, 128), (0, 0, 0)),
                                     ((81, 90, 240), (255, 0, 0)), ((145, 54, 34), (0, 255, 0)),
                                     ((41, 240, 110), (0, 0, 255))])
def test_known_colours(yuv, rgb):
    y, u, v = yuv
    nv12 = np.vstack([np.full((16, 32), y, np.uint8), np.tile(np.array([u, v], np.uint8), (8, 16))])
    out = camrt.preprocess(nv12, "NV12", (0, 0, 16, 16), 8, 8)
    assert np.abs(out.astype(int) - np.array(rgb)).max() <= 2


def test_frames_are_read_in_place():
    big = np.zeros((600, 900, 3), np.uint8)
    view = big[10:490, 30:670]  # not contiguous: rows 2700 bytes apart
    assert camrt.frame_address(view, "RGB888") == view.__array_interface__["data"][0]
    assert camrt.frame_address(big, "BGR888") == big.ctypes.data
    nv12 = np.zeros((720, 640), np.uint8)
    assert camrt.frame_address(nv12, "NV12") == nv12.ctypes.data
    # Writing through the array changes what the C++ side reads: no snapshot was taken.
    frame = np.zeros((64, 64, 3), np.uint8)
    before = camrt.preprocess(frame, "RGB888", (0, 0, 64, 64), 8, 8)
    frame[:] = 200
    assert before.max() == 0 and camrt.preprocess(frame, "RGB888", (0, 0, 64, 64), 8, 8).min() == 200


def test_layouts_that_would_need_a_copy_are_refused():
    frame = np.zeros((100, 200, 3), np.uint8)
    with pytest.raises(ValueError, match="packed"):
        camrt.frame_address(frame[:, ::2], "RGB888")
    with pytest.raises(ValueError, match="packed"):
        camrt.frame_address(np.zeros((3, 100, 200), np.uint8).transpose(1, 2, 0), "RGB888")
    with pytest.raises(TypeError):  # float frames are not converted behind the caller's back
        camrt.frame_address(frame.astype(np.float32), "RGB888")
    with pytest.raises(ValueError, match="positive stride"):
        camrt.frame_address(frame[::-1], "RGB888")
    with pytest.raises(ValueError, match=r"height \* 3 / 2"):
        camrt.frame_address(np.zeros((100, 64), np.uint8), "NV12")
    with pytest.raises(ValueError, match="unknown pixel format 'RGBA'"):
        camrt.frame_address(frame, "RGBA")
    with pytest.raises(ValueError, match="does not fit the frame 200x100"):
        camrt.preprocess(frame, "RGB888", (150, 0, 100, 100), 32, 32)


def test_engine_input_is_a_view_of_the_engine_buffer():
    seen = []

    def model(x: np.ndarray) -> list[float]:
        seen.append((x.__array_interface__["data"][0], x.shape, x.strides, int(x[0, 0, 0])))
        return [0.0, 1.0]

    eng = camrt.CallableEngine(model, 32, 32, 2, w_stride=40)
    view = eng.input_view()
    assert view.__array_interface__["data"][0] == eng.input_address
    view[0, 0, 0] = 77  # written from Python, read by the "model" through its own view
    eng.run()
    assert seen == [(eng.input_address, (32, 32, 3), (120, 3, 1), 77)]
    assert eng.scores == [0.0, 1.0]
