"""camrt's bindings against absurd and hostile input: every call either works or raises a clean Python
exception (ValueError, TypeError, camrt.ConfigError...), never a crash, a hang or a silent wrong read.

Crops near INT_MAX once crashed the process (`x + w` wrapped around in C++); int64 shapes and strides were
cast to int unchecked; /dev/zero as a config was read until memory ran out. Part of this is a property test
(hypothesis, fixed seed, bounded examples) over frames, rectangles, strides and output buffers.
"""

from __future__ import annotations

import math

import camrt
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import as_strided

INT_MAX = 2**31 - 1
RGB = np.zeros((48, 64, 3), np.uint8)
NV12 = np.zeros((48 * 3 // 2, 64), np.uint8)
YUYV = np.zeros((48, 128), np.uint8)
OUT = np.zeros((16, 16, 3), np.uint8)
GOOD = camrt.parse_config('{"labels": ["a", "b"]}')


def engine(classes: int = 2, fn=None) -> camrt.CallableEngine:
    return camrt.CallableEngine(fn or (lambda x: [0.0] * classes), 8, 8, classes)


def set_x(value: int) -> None:
    r = camrt.Rect(0, 0, 1, 1)
    r.x = value


def lying_frame(shape: tuple[int, ...], strides: tuple[int, ...]) -> np.ndarray:
    """A view whose shape/strides describe memory that is not there: must be refused before any read."""
    return as_strided(np.zeros(16, np.uint8), shape=shape, strides=strides)


CASES = [
    # crops near INT_MAX, every format (crashed: x + w wrapped around)
    (
        "rgb x near INT_MAX",
        lambda: camrt.crop_resize(RGB, "RGB888", camrt.Rect(2147483000, 0, 1000, 10), OUT),
        ValueError,
        "does not fit the frame 64x48",
    ),
    (
        "bgr y near INT_MAX",
        lambda: camrt.crop_resize(RGB, "BGR888", camrt.Rect(0, 2147483000, 10, 1000), OUT),
        ValueError,
        "does not fit",
    ),
    (
        "nv12 x near INT_MAX",
        lambda: camrt.crop_resize(NV12, "NV12", camrt.Rect(2147483000, 0, 1000, 10), OUT),
        ValueError,
        "does not fit",
    ),
    (
        "yuyv x near INT_MAX",
        lambda: camrt.crop_resize(YUYV, "YUYV", camrt.Rect(2147483000, 0, 1000, 10), OUT),
        ValueError,
        "does not fit",
    ),
    (
        "tuple crop near INT_MAX",
        lambda: camrt.preprocess(RGB, "RGB888", (2147483000, 0, 1000, 10), 8, 8),
        ValueError,
        "does not fit",
    ),
    (
        "w near INT_MAX",
        lambda: camrt.preprocess(RGB, "RGB888", (10, 0, INT_MAX, 10), 8, 8),
        ValueError,
        "does not fit",
    ),
    (
        "negative x",
        lambda: camrt.preprocess(RGB, "RGB888", (-1, 0, 10, 10), 8, 8),
        ValueError,
        "does not fit",
    ),
    ("negative w", lambda: camrt.preprocess(RGB, "RGB888", (0, 0, -5, 10), 8, 8), ValueError, "does not fit"),
    ("empty crop", lambda: camrt.preprocess(RGB, "RGB888", (0, 0, 0, 0), 8, 8), ValueError, "does not fit"),
    (
        "crop value above int",
        lambda: camrt.preprocess(RGB, "RGB888", (2**31, 0, 10, 10), 8, 8),
        ValueError,
        "x = 2147483648 is out of range",
    ),
    (
        "crop value above int64",
        lambda: camrt.preprocess(RGB, "RGB888", (2**63, 0, 10, 10), 8, 8),
        TypeError,
        "",
    ),
    (
        "crop of 3 values",
        lambda: camrt.preprocess(RGB, "RGB888", (0, 0, 10), 8, 8),
        ValueError,
        "got 3 values",
    ),
    ("crop of floats", lambda: camrt.preprocess(RGB, "RGB888", (1.5, 0, 10, 10), 8, 8), TypeError, ""),
    ("crop a string", lambda: camrt.preprocess(RGB, "RGB888", "abcd", 8, 8), TypeError, ""),
    ("Rect above int", lambda: camrt.Rect(2**40, 0, 1, 1), ValueError, "x = 1099511627776 is out of range"),
    ("Rect.x above int", lambda: set_x(-(2**40)), ValueError, "out of range"),
    # output buffers
    (
        "out 2-D",
        lambda: camrt.crop_resize(RGB, "RGB888", (0, 0, 48, 48), np.zeros((16, 16), np.uint8)),
        ValueError,
        "out must be",
    ),
    (
        "out float",
        lambda: camrt.crop_resize(RGB, "RGB888", (0, 0, 48, 48), np.zeros((16, 16, 3), np.float32)),
        TypeError,
        "",
    ),
    (
        "out read-only",
        lambda: camrt.crop_resize(RGB, "RGB888", (0, 0, 48, 48), np.broadcast_to(OUT, OUT.shape)),
        TypeError,
        "",
    ),
    (
        "out reversed rows",
        lambda: camrt.crop_resize(RGB, "RGB888", (0, 0, 48, 48), OUT[::-1]),
        ValueError,
        "out must be",
    ),
    (
        "out w_stride beyond any tensor",
        lambda: camrt.crop_resize(
            RGB, "RGB888", (0, 0, 48, 48), as_strided(OUT, (4, 4, 3), (3 * 2**31, 3, 1))
        ),
        ValueError,
        "w_stride",
    ),
    # frames: empty, lying shapes and strides (int64 values that do not fit an int)
    (
        "frame height 0",
        lambda: camrt.frame_address(np.zeros((0, 64, 3), np.uint8), "RGB888"),
        ValueError,
        "empty",
    ),
    (
        "frame width 0",
        lambda: camrt.frame_address(np.zeros((48, 0, 3), np.uint8), "RGB888"),
        ValueError,
        "empty",
    ),
    (
        "frame width above int",
        lambda: camrt.frame_address(lying_frame((1, 2**31 + 7, 3), (3 * (2**31 + 7), 3, 1)), "RGB888"),
        ValueError,
        "width 2147483655 is not in 1..16384",
    ),
    (
        "frame height above int",
        lambda: camrt.frame_address(lying_frame((2**32, 1, 3), (3, 3, 1)), "RGB888"),
        ValueError,
        "height 4294967296 is not in 1..16384",
    ),
    (
        "frame height above the limit",
        lambda: camrt.frame_address(lying_frame((20000, 1, 3), (3, 3, 1)), "BGR888"),
        ValueError,
        "height 20000",
    ),
    (
        "frame row stride above int",
        lambda: camrt.frame_address(lying_frame((2, 4, 3), (2**40, 3, 1)), "RGB888"),
        ValueError,
        "row stride 1099511627776",
    ),
    (
        "nv12 rows above int",
        lambda: camrt.frame_address(lying_frame((3 * 2**31, 2), (2, 1)), "NV12"),
        ValueError,
        "height",
    ),
    (
        "yuyv width above int",
        lambda: camrt.frame_address(lying_frame((2, 2**33), (2**33, 1)), "YUYV"),
        ValueError,
        "width",
    ),
    ("frame rows reversed", lambda: camrt.frame_address(RGB[::-1], "RGB888"), ValueError, "positive stride"),
    (
        "frame rows repeated (stride 0)",
        lambda: camrt.frame_address(np.broadcast_to(RGB[:1], RGB.shape), "RGB888"),
        ValueError,
        "positive stride",
    ),
    ("frame float", lambda: camrt.frame_address(RGB.astype(np.float32), "RGB888"), TypeError, ""),
    (
        "frame 4 channels",
        lambda: camrt.frame_address(np.zeros((4, 4, 4), np.uint8), "RGB888"),
        ValueError,
        "expected (height, width, 3)",
    ),
    ("nv12 odd width", lambda: camrt.frame_address(np.zeros((6, 5), np.uint8), "NV12"), ValueError, "even"),
    (
        "nv12 rows not 3/2",
        lambda: camrt.frame_address(np.zeros((10, 8), np.uint8), "NV12"),
        ValueError,
        "height * 3 / 2",
    ),
    (
        "yuyv odd row",
        lambda: camrt.frame_address(np.zeros((4, 63), np.uint8), "YUYV"),
        ValueError,
        "2 * width",
    ),
    ("unknown format", lambda: camrt.frame_address(RGB, "RGBA"), ValueError, "unknown pixel format 'RGBA'"),
    ("empty format", lambda: camrt.frame_address(RGB, ""), ValueError, "unknown pixel format"),
    (
        "unknown order",
        lambda: camrt.preprocess(RGB, "RGB888", (0, 0, 48, 48), 8, 8, order="XYZ"),
        ValueError,
        "unknown colour order",
    ),
    # output sizes
    (
        "preprocess width 0",
        lambda: camrt.preprocess(RGB, "RGB888", (0, 0, 48, 48), 0, 8),
        ValueError,
        "width = 0 is out of range",
    ),
    (
        "preprocess width 1e6",
        lambda: camrt.preprocess(RGB, "RGB888", (0, 0, 48, 48), 10**6, 8),
        ValueError,
        "out of range [1, 16384]",
    ),
    (
        "preprocess height negative",
        lambda: camrt.preprocess(RGB, "RGB888", (0, 0, 48, 48), 8, -3),
        ValueError,
        "height = -3",
    ),
    (
        "preprocess width above int64",
        lambda: camrt.preprocess(RGB, "RGB888", (0, 0, 48, 48), 2**70, 8),
        TypeError,
        "",
    ),
    # planner
    ("plan frame above int", lambda: camrt.plan_crops(2**40, 10, 3, 8, 8), ValueError, "frame_w"),
    ("plan 0 crops", lambda: camrt.plan_crops(640, 480, 0, 8, 8), ValueError, "n_crops"),
    ("plan model 0", lambda: camrt.plan_crops(640, 480, 3, 0, 8), ValueError, "must be positive"),
    ("plan frame below model", lambda: camrt.plan_crops(10, 10, 3, 64, 64), camrt.FrameTooSmall, "smaller"),
    ("plan negative frame", lambda: camrt.plan_crops(-640, 480, 3, 8, 8), ValueError, "smaller"),
    # engines and pipelines
    (
        "engine height above int",
        lambda: camrt.CallableEngine(lambda x: [0, 0], 2**31, 8, 2),
        ValueError,
        "height",
    ),
    (
        "engine 100000 x 100000",
        lambda: camrt.CallableEngine(lambda x: [0, 0], 100000, 100000, 2),
        ValueError,
        "out of range [1, 16384]",
    ),
    ("engine 0 classes", lambda: camrt.CallableEngine(lambda x: [], 8, 8, 0), ValueError, "num_classes"),
    (
        "engine w_stride below width",
        lambda: camrt.CallableEngine(lambda x: [0, 0], 8, 8, 2, w_stride=4),
        ValueError,
        "w_stride 4 is below the width 8",
    ),
    (
        "engine 0 channels",
        lambda: camrt.CallableEngine(lambda x: [0, 0], 8, 8, 2, channels=0),
        ValueError,
        "channels",
    ),
    ("pipeline without an engine", lambda: camrt.Pipeline("engine", GOOD), TypeError, ""),
    (
        "pipeline labels vs outputs",
        lambda: camrt.Pipeline(engine(3), GOOD),
        camrt.ConfigError,
        "has 2 labels but the model has 3 outputs",
    ),
    (
        "process a float frame",
        lambda: camrt.Pipeline(engine(), GOOD).process(RGB.astype(float), "RGB888"),
        TypeError,
        "",
    ),
    (
        "process a tiny frame",
        lambda: camrt.Pipeline(engine(), GOOD).process(np.zeros((4, 4, 3), np.uint8), "RGB888"),
        camrt.FrameTooSmall,
        "smaller than the model input 8x8",
    ),
    (
        "engine returns 3 scores",
        lambda: camrt.Pipeline(engine(2, lambda x: [0, 0, 0]), GOOD).process(RGB, "RGB888"),
        RuntimeError,
        "returned 3 scores, expected 2",
    ),
    (
        "engine raises",
        lambda: camrt.Pipeline(engine(2, lambda x: 1 / 0), GOOD).process(RGB, "RGB888"),
        RuntimeError,
        "python engine callable failed: ZeroDivisionError",
    ),
    # voter
    ("voter no classes", lambda: camrt.Voter([]), ValueError, "0 classes"),
    ("voter fallback out of range", lambda: camrt.Voter([0.5], fallback=5), ValueError, "fallback = 5"),
    ("voter fallback -5", lambda: camrt.Voter([0.5], fallback=-5), ValueError, "fallback = -5"),
    ("voter k 0", lambda: camrt.Voter([0.5, 0.5], k=0), ValueError, "k = 0"),
    ("voter penalty nan", lambda: camrt.Voter([0.5], penalty=float("nan")), ValueError, "penalty"),
    (
        "vote wrong class count",
        lambda: camrt.Voter([0.5, 0.5]).vote([[0.1]]),
        ValueError,
        "has 1 scores, expected 2",
    ),
    ("vote no crops", lambda: camrt.Voter([0.5, 0.5]).vote(np.zeros((0, 2))), ValueError, "no crops"),
    ("vote ragged", lambda: camrt.Voter([0.5, 0.5]).vote([[1, 2], [3]]), ValueError, ""),
    # quantization
    ("dequantize int16", lambda: camrt.dequantize(np.zeros(3, np.int16), 0, 1.0), TypeError, ""),
    (
        "dequantize huge zero point",
        lambda: camrt.dequantize(np.zeros(3, np.int8), 2**40, 1.0),
        ValueError,
        "zero_point",
    ),
    ("dequantize 2-D", lambda: camrt.dequantize(np.zeros((2, 2), np.int8), 0, 1.0), TypeError, ""),
    ("softmax 2-D", lambda: camrt.softmax(np.zeros((2, 2), np.float32)), TypeError, ""),
    # configs
    (
        "config above the size cap",
        lambda: camrt.parse_config(" " * (camrt.MAX_CONFIG_BYTES + 1)),
        camrt.ConfigError,
        "a config is at most 65536",
    ),
    (
        "config nested 60000 deep",
        lambda: camrt.parse_config("[" * 60000),
        camrt.ConfigError,
        "nesting deeper than 16",
    ),
    (
        "config with a NUL",
        lambda: camrt.parse_config('{"labels": ["a"]}\x00'),
        camrt.ConfigError,
        "invalid JSON",
    ),
    ("config lone surrogate", lambda: camrt.parse_config('{"labels": ["\udce9"]}'), TypeError, ""),
    (
        "load a missing file",
        lambda: camrt.load_config("/nonexistent/config.json"),
        camrt.ConfigError,
        "cannot open",
    ),
    ("load a folder", lambda: camrt.load_config("/"), camrt.ConfigError, "is a folder"),
    ("load /dev/zero", lambda: camrt.load_config("/dev/zero"), camrt.ConfigError, "not a regular file"),
    (
        "watcher negative classes",
        lambda: camrt.ConfigWatcher("/nonexistent", model_classes=-1),
        ValueError,
        "model_classes",
    ),
    ("label check above int", lambda: camrt.check_model_classes(GOOD, 2**40), ValueError, "model_classes"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_absurd_input_gives_a_clean_error(call, exc, match):
    with pytest.raises(exc) as err:
        call()
    assert match in str(err.value)


def test_there_are_many_probes():
    assert len(CASES) >= 50


def test_empty_softmax_and_dequantize_give_empty_arrays():
    assert camrt.softmax(np.zeros(0, np.float32)).shape == (0,)
    assert camrt.dequantize(np.zeros(0, np.uint8), 3, 0.5).shape == (0,)


# ---------- property test: random frames, layouts, rectangles and output buffers ----------

FORMATS = ["RGB888", "BGR888", "NV12", "YUYV"]
coordinate = st.one_of(
    st.integers(-3, 60),
    st.integers(-(2**33), 2**33),
    st.sampled_from([INT_MAX, -(2**31), INT_MAX - 5, 2**31]),
)


def frame_of(fmt: str, w: int, h: int, pad: int, data: np.ndarray) -> np.ndarray:
    """A frame of w x h pixels as a strided view (rows `pad` bytes apart beyond the pixels) of real memory."""
    if fmt in ("RGB888", "BGR888"):
        big = np.zeros((h, w + pad, 3), np.uint8)
        big[:, :w] = data[: h * w * 3].reshape(h, w, 3)
        return big[:, :w]
    if fmt == "NV12":
        rows, cols = h * 3 // 2, w
    else:
        rows, cols = h, 2 * w
    big = np.zeros((rows, cols + pad), np.uint8)
    big[:, :cols] = data[: rows * cols].reshape(rows, cols)
    return big[:, :cols]


def crop_is_valid(fmt: str, w: int, h: int, crop: tuple[int, int, int, int]) -> bool:
    x, y, cw, ch = crop
    if not all(-(2**31) <= v <= INT_MAX for v in crop):
        return False
    if cw <= 0 or ch <= 0 or x < 0 or y < 0 or x + cw > w or y + ch > h:
        return False
    if fmt in ("NV12", "YUYV") and x % 2:
        return False
    return not (fmt == "NV12" and y % 2)


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fmt=st.sampled_from(FORMATS),
    w=st.integers(1, 40),
    h=st.integers(1, 30),
    pad=st.integers(0, 7),
    crop=st.tuples(coordinate, coordinate, coordinate, coordinate),
    out_w=st.integers(1, 20),
    out_h=st.integers(1, 20),
    out_pad=st.integers(0, 5),
    order=st.sampled_from(["RGB", "BGR"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_crops_and_layouts_work_or_raise_cleanly(
    ref, fmt, w, h, pad, crop, out_w, out_h, out_pad, order, seed
):
    if fmt in ("NV12", "YUYV"):
        w += w % 2
    if fmt == "NV12":
        h += h % 2
    data = np.random.default_rng(seed).integers(0, 256, w * h * 3, dtype=np.uint8)
    frame = frame_of(fmt, w, h, pad, data)
    buf = np.full((out_h, out_w + out_pad, 3), 0xAB, np.uint8)
    valid = crop_is_valid(fmt, w, h, crop)
    try:
        camrt.crop_resize(frame, fmt, crop, buf[:, :out_w], order)
    except (ValueError, TypeError) as exc:
        assert not valid, f"a valid crop was refused: {exc}"
        assert (buf == 0xAB).all(), "a refused call wrote into the output"
        return
    assert valid, "an invalid crop was accepted"
    assert (buf[:, out_w:] == 0xAB).all(), "the w_stride padding was written"
    if fmt in ("RGB888", "BGR888"):
        rgb = frame if fmt == "RGB888" else frame[..., ::-1]
        want = ref.preprocess(rgb, crop, out_w, out_h)
        if order == "BGR":
            want = want[..., ::-1]
        assert np.abs(buf[:, :out_w].astype(int) - want).max() <= 1


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    fmt=st.sampled_from(FORMATS),
    shape=st.lists(st.integers(1, 2**40), min_size=2, max_size=3),
    strides=st.lists(st.integers(-(2**40), 2**40), min_size=3, max_size=3),
)
def test_views_describing_memory_that_is_not_there_are_refused(fmt, shape, strides):
    """Shapes beyond MAX_SIDE or strides beyond an int (or not positive): refused before any byte is read."""
    if fmt in ("RGB888", "BGR888"):
        shape = [*shape[:2], 3]
        strides = [strides[0], 3, 1]
    elif fmt == "NV12":
        shape = [shape[0] * 3, shape[1]]
        strides = [strides[0], 1]
    else:
        shape = [shape[0], 2 * shape[1]]
        strides = [strides[0], 1]
    height = shape[0] if fmt != "NV12" else shape[0] // 3 * 2
    width = shape[1] if fmt != "YUYV" else shape[1] // 2
    fits = height <= camrt.MAX_SIDE and width <= camrt.MAX_SIDE and 0 < strides[0] <= INT_MAX
    if fits:
        strides[0] = 2**40  # make it a lie that must be refused: the row stride alone is beyond an int
    assume(math.prod(shape) < 2**60)  # numpy's own limit on a view's size
    view = as_strided(np.zeros(16, np.uint8), shape=shape, strides=strides)
    with pytest.raises(ValueError):
        camrt.frame_address(view, fmt)
