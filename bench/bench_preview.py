"""What the live page's JPEG preview costs the RV1103 board program: scaling + encoding time per preview.

Runs the board program (the host build, the same code as the board's) over the sample frames with a preview
on every frame (--preview 1e-6) and the model in the tensor service, and prints the preview's own time
(the "ms" the program measures around scaling the 640x480 frame to the preview width and JPEG-encoding it)
and its size. These are figures of THIS host's CPU, not of the RV1103's Cortex-A7: they bound the cost
from below, and show how it scales with the width. The board sends a preview at most every --preview
seconds (off by default; the emulated board: one per second). Nothing here ran on a board.

  .venv/bin/python bench/bench_preview.py [--frames 60] [--width 160]
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import statistics
import subprocess
import sys

from host_tools.paths import BIRDS_DIR, REPO_ROOT, RV1103_CONFIG, RV1103_SAMPLE_FRAMES
from host_tools.sim.rv1103.app_binary import find_app


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--width", type=int, default=160)
    args = ap.parse_args()
    server = REPO_ROOT / "host_tools" / "sim" / "rv1103" / "tensor_server.py"
    engine = shlex.join([sys.executable, str(server), "--runtime", "onnx", "--model",
                         str(BIRDS_DIR / "birds_mnv3s_int8.onnx")])
    argv = [str(find_app("host")), "--config", str(RV1103_CONFIG), "--frames", str(RV1103_SAMPLE_FRAMES),
            "--loop", "--count", str(args.frames), "--fps", "0", "--port", "0", "--engine-cmd", engine,
            "--preview", "0.000001", "--preview-width", str(args.width)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=True).stdout
    previews = [json.loads(ln)["preview"] for ln in out.splitlines() if '"preview"' in ln]
    ms = sorted(p["ms"] for p in previews)
    size = [len(p["jpeg"]) * 3 // 4 for p in previews]
    p = previews[0]
    print(f"host: {platform.processor() or platform.machine()}, {len(previews)} previews of "
          f"{p['frame_w']}x{p['frame_h']} frames -> {p['w']}x{p['h']} JPEG (quality 70)")
    print(f"preview time (scale + encode) on this host: median {statistics.median(ms):.3f} ms, "
          f"p95 {ms[int(0.95 * (len(ms) - 1))]:.3f} ms; JPEG {statistics.median(size) / 1024:.1f} KB median")
    print("a host figure, not measured on an RV1103 (one Cortex-A7 core, slower than this host); at one "
          "preview per second the program spends that time once per second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
