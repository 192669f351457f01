"""Three-crop preprocessing per frame: camrt's fused crop + resize + colour conversion against OpenCV.

640x480 in, the planner's 3 square crops out at the model input size (64x64: the bird model; 96x96 and
224x224 for comparison), RGB out, for
a BGR888 frame (Luckfox capture) and an NV12 frame (camera ISP). OpenCV does the same work with its
generic calls, timed with its default thread count and with one thread: cv2.resize of each crop (a
view, INTER_LINEAR) + cv2.cvtColor to RGB (NV12: one full-frame cvtColor, then crop + resize). Both
write into preallocated buffers. Prints per-frame times (median and
best of several repeats, the two sides interleaved) and the ratio camrt / OpenCV (median over run
pairs); the target is <= 1.0.

This is a HOST measurement (the machine printed below), not a measurement on an RV1103 board.
Run: .venv/bin/python bench/bench_three_crop.py [--frames N] [--repeats R]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import camrt
import cv2
import numpy as np


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def test_frame() -> np.ndarray:
    """A 640x480 BGR frame with real structure (gradients + noise), deterministic."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:480, 0:640]
    base = np.stack([xx * 255 / 639, yy * 255 / 479, (xx + yy) * 255 / 1118], axis=-1)
    return np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)


def bgr_to_nv12(bgr: np.ndarray) -> np.ndarray:
    i420 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)  # (h*3/2, w): Y, then U plane, then V plane
    h, w = bgr.shape[:2]
    u = i420[h:h + h // 4].reshape(h // 2, w // 2)
    v = i420[h + h // 4:].reshape(h // 2, w // 2)
    return np.vstack([i420[:h], np.stack([u, v], axis=-1).reshape(h // 2, w)])


def time_pair(ours, theirs, frames: int, repeats: int) -> tuple[list[float], list[float]]:
    """Per-frame milliseconds of `repeats` runs of `frames` frames each, the two sides interleaved run by
    run so that load from other processes hits both alike."""
    ours()  # warm-up: tables, caches, lazy init
    theirs()
    a, b = [], []
    for _ in range(repeats):
        for fn, acc in ((ours, a), (theirs, b)):
            t0 = time.perf_counter_ns()
            for _ in range(frames):
                fn()
            acc.append((time.perf_counter_ns() - t0) / 1e6 / frames)
    return a, b


def make_jobs(bgr: np.ndarray, nv12: np.ndarray, side: int) -> tuple[tuple[Callable[[], None], ...], list]:
    """The four timed jobs for one model size (camrt/cv2 x BGR888/NV12) and their output buffers."""
    h, w = bgr.shape[:2]
    rects = [r.astuple() for r in camrt.plan_crops(w, h, 3, side, side)]
    outs = [np.empty((side, side, 3), np.uint8) for _ in rects]
    tmp = [np.empty((side, side, 3), np.uint8) for _ in rects]
    rgb_full = np.empty((h, w, 3), np.uint8)

    def camrt_bgr() -> None:
        for (x, y, s, _), out in zip(rects, outs, strict=True):
            camrt.crop_resize(bgr, "BGR888", (x, y, s, s), out, "RGB")

    def cv2_bgr() -> None:
        for (x, y, s, _), t, out in zip(rects, tmp, outs, strict=True):
            cv2.resize(bgr[y:y + s, x:x + s], (side, side), dst=t, interpolation=cv2.INTER_LINEAR)
            cv2.cvtColor(t, cv2.COLOR_BGR2RGB, dst=out)

    def camrt_nv12() -> None:
        for (x, y, s, _), out in zip(rects, outs, strict=True):
            camrt.crop_resize(nv12, "NV12", (x, y, s, s), out, "RGB")

    def cv2_nv12() -> None:
        cv2.cvtColor(nv12, cv2.COLOR_YUV2RGB_NV12, dst=rgb_full)
        for (x, y, s, _), out in zip(rects, outs, strict=True):
            cv2.resize(rgb_full[y:y + s, x:x + s], (side, side), dst=out, interpolation=cv2.INTER_LINEAR)

    return (camrt_bgr, cv2_bgr, camrt_nv12, cv2_nv12), outs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=50, help="frames per timed run")
    ap.add_argument("--repeats", type=int, default=21,
                    help="timed runs per side (median and best are printed)")
    args = ap.parse_args()

    print("three-crop preprocessing bench: HOST measurement, not on an RV1103 board")
    print(f"machine: {cpu_name()}, {os.cpu_count()} logical CPUs, {platform.machine()}, "
          f"Python {platform.python_version()}, OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads), "
          f"numpy {np.__version__}")
    default_threads = cv2.getNumThreads()
    bgr = test_frame()
    nv12 = bgr_to_nv12(bgr)
    ok = True
    print(f"camrt runs on one thread ({camrt.preprocess_kernels()} kernels); OpenCV is timed with its "
          "default thread count and with 1 thread")
    print("(the RV1103 has one Cortex-A7 core). Ratio: median over interleaved run pairs.")
    print(f"{'input':8} {'model':8} {'cv2 thr':>7} {'camrt ms':>18} {'OpenCV ms':>18} {'ratio':>7}")
    print(f"{'':26} {'median / best per frame':>37}")
    for side in (64, 96, 224):
        jobs, outs = make_jobs(bgr, nv12, side)
        camrt_bgr, cv2_bgr, camrt_nv12, cv2_nv12 = jobs
        # Same work: the outputs agree (to within rounding) before anything is timed.
        camrt_bgr()
        mine = [o.copy() for o in outs]
        cv2_bgr()
        assert max(int(np.abs(a.astype(int) - b).max()) for a, b in zip(mine, outs, strict=True)) <= 1
        camrt_nv12()
        mine = [o.copy() for o in outs]
        cv2_nv12()
        # NV12: interpolating YUV then converting differs from converting then interpolating only where a
        # colour clips (the noisy test frame has many such pixels), so compare on average.
        assert max(float(np.abs(a.astype(int) - b).mean()) for a, b in zip(mine, outs, strict=True)) < 1.0

        for name, ours, theirs in (("BGR888", camrt_bgr, cv2_bgr), ("NV12", camrt_nv12, cv2_nv12)):
            for threads in (default_threads, 1):
                cv2.setNumThreads(threads)
                a, b = time_pair(ours, theirs, args.frames, args.repeats)
                ratio = statistics.median(x / y for x, y in zip(a, b, strict=True))
                ok = ok and ratio <= 1.0
                print(f"{name:8} {side}x{side:<4} {threads:>3}  {statistics.median(a):8.3f} / {min(a):7.3f} "
                      f"{statistics.median(b):8.3f} / {min(b):7.3f} {ratio:7.2f}  "
                      f"{'ok' if ratio <= 1.0 else 'ABOVE TARGET'}")
            cv2.setNumThreads(default_threads)
    print(f"target ratio <= 1.0 (camrt / OpenCV): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
