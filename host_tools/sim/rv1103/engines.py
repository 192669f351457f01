"""Engines for the emulated RV1103: real runtimes wrapped as camrt.CallableEngine.

  onnx      ONNX Runtime in this process, on the model's ONNX twin (int8 QDQ by default).
  rknn-sim  the RKNN toolkit's x86 simulator in its own venv (.venv-rknn), reached through a subprocess
            that builds the int8 rv1103 model from the float ONNX at start-up and serves tensors over a pipe
            (tensor_server.py; the simulator cannot load a prebuilt .rknn).
"""

from __future__ import annotations

import json
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from host_tools.errors import HostToolsError, UsageError
from host_tools.paths import BIRDS_DIR, REPO_ROOT, SHARED_DATA, cache_dir
from host_tools.sim.rv1103 import tensor_server
from host_tools.sim.rv1103.model_twin import ModelTwin

RKNN_VENV_PYTHON = REPO_ROOT / ".venv-rknn" / "bin" / "python"
TENSOR_SERVER = Path(tensor_server.__file__)
# The bird model's own simulator server: builds the int8 model exactly as its recipe builds the board's .rknn.
BIRDS_SIM_SERVER = BIRDS_DIR / "rknn_sim_server.py"


@dataclass
class SimEngine:
    engine: object  # camrt.CallableEngine
    height: int
    width: int
    classes: int
    description: str  # for the banner: which runtime, which model, what was emulated
    close: object  # callable, releases the runtime


def _callable_engine(fn, h: int, w: int, classes: int, w_stride_pad: int):
    import camrt

    def run(view: np.ndarray) -> np.ndarray:
        # The view spans the engine's padded rows; the runtime takes packed NHWC, as the NPU reads it.
        return fn(np.ascontiguousarray(view))

    return camrt.CallableEngine(run, h, w, classes, 3, w + w_stride_pad)


def onnx_engine(twin: ModelTwin, w_stride_pad: int = 0) -> SimEngine:
    pre = tensor_server.Preproc(twin.mean, twin.std)
    try:
        served = tensor_server.open_onnx(twin.onnx, pre)
    except ImportError as exc:
        raise UsageError("the emulated RV1103 runs the model in ONNX Runtime, which is not installed: "
                         "pip install 'host_tools[rv1103]'") from exc
    except Exception as exc:  # onnxruntime raises its own types for unreadable models
        raise UsageError(f"cannot run {twin.onnx} with ONNX Runtime: {exc}") from exc
    eng = _callable_engine(served.infer, served.h, served.w, served.classes, w_stride_pad)
    desc = f"{served.runtime} on {twin.onnx.name} (host CPU, standing in for the RV1103 NPU)"
    return SimEngine(eng, served.h, served.w, served.classes, desc, lambda: None)


def _reap(proc: subprocess.Popen) -> None:
    """Wait for an engine server that was asked to stop; kill it if it does not within 10 s."""
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class PipeClient:
    """Client side of tensor_server.py's protocol."""

    def __init__(self, argv: list[str]) -> None:
        # stderr is inherited (fd 2): the toolkit's logs stay visible and never mix with the JSON on stdout.
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline()
        try:
            hello = json.loads(line) if line else {"ready": False, "error": "server exited before ready"}
        except ValueError:
            hello = {"ready": False, "error": f"unexpected first line {line[:200]!r}"}
        if not hello.get("ready"):
            self.close()
            raise HostToolsError(f"engine server failed: {hello.get('error')}")
        self.h, self.w, self.c = int(hello["h"]), int(hello["w"]), int(hello["c"])
        self.classes = int(hello["classes"])
        self.runtime = str(hello.get("runtime", "?"))
        self.note = str(hello.get("note", ""))

    def infer(self, x: np.ndarray) -> np.ndarray:
        self.proc.stdin.write(np.ascontiguousarray(x, np.uint8).tobytes())
        self.proc.stdin.flush()
        data = self.proc.stdout.read(4 * self.classes)
        if len(data) != 4 * self.classes:
            raise RuntimeError(f"engine server gave {len(data)} bytes, expected {4 * self.classes}")
        return np.frombuffer(data, "<f4").copy()

    def close(self) -> None:
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()  # EOF: the server exits by itself
            except BrokenPipeError:
                pass
        _reap(self.proc)


class BirdsSimClient:
    """Client of models/birds/rknn_sim_server.py (length-prefixed: <u32 len><payload> each way)."""

    ERROR = 0xFFFFFFFF

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            hello = json.loads(self._read(self._u32()))
            _, self.h, self.w, self.c = (int(v) for v in hello["input"])
            self.labels = [str(x) for x in hello["labels"]]
        except (EOFError, ValueError, KeyError) as exc:
            self.close()
            raise HostToolsError(f"the RKNN simulator server did not start ({exc}); log above") from exc
        self.classes = len(self.labels)

    def _read(self, n: int) -> bytes:
        data = self.proc.stdout.read(n)
        if len(data) != n:
            raise EOFError(f"server output ended ({len(data)} of {n} bytes)")
        return data

    def _u32(self) -> int:
        return struct.unpack("<I", self._read(4))[0]

    def infer(self, x: np.ndarray) -> np.ndarray:
        payload = np.ascontiguousarray(x, np.uint8).tobytes()
        self.proc.stdin.write(struct.pack("<I", len(payload)) + payload)
        self.proc.stdin.flush()
        n = self._u32()
        if n == self.ERROR:
            raise RuntimeError(self._read(self._u32()).decode(errors="replace"))
        return np.frombuffer(self._read(4 * n), "<f4").copy()

    def close(self) -> None:
        try:
            self.proc.stdin.write(struct.pack("<I", 0))  # the protocol's stop request
            self.proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass
        _reap(self.proc)


def birds_rknn_sim_engine(twin: ModelTwin, w_stride_pad: int = 0) -> SimEngine:
    """The bird model through its recipe's own simulator server (same calibration and settings)."""
    train = SHARED_DATA / "birds" / "train"
    if not train.is_dir():
        raise UsageError(f"--engine rknn-sim builds the bird model from its calibration images in {train}, "
                         "which is absent; give --calib DIR to calibrate on other images")
    argv = [str(RKNN_VENV_PYTHON), str(BIRDS_SIM_SERVER), "--onnx", str(twin.float_onnx),
            "--train", str(train), "--work", str(cache_dir("birds-rknn-sim"))]
    client = BirdsSimClient(argv)
    eng = _callable_engine(client.infer, client.h, client.w, client.classes, w_stride_pad)
    desc = (f"the RKNN toolkit's x86 simulator: int8 rv1103 model built at start-up from "
            f"{twin.float_onnx.name} by models/birds/rknn_sim_server.py (the recipe's build: 40 training "
            f"images, mmse, RGB), in a subprocess ({RKNN_VENV_PYTHON.parent.parent.name}) serving tensors "
            "over a pipe")
    return SimEngine(eng, client.h, client.w, client.classes, desc, client.close)


def calibration_tensors(images: list[Path], h: int, w: int, order: str, out_dir: Path) -> list[Path]:
    """Whole images resized to the model input, in the model's colour order, as uint8 .npy tensors."""
    from PIL import Image

    paths = []
    for i, p in enumerate(images):
        with Image.open(p) as im:
            arr = np.asarray(im.convert("RGB").resize((w, h), Image.BILINEAR), np.uint8)
        if order == "BGR":
            arr = arr[:, :, ::-1]
        dst = out_dir / f"calib_{i:03d}.npy"
        np.save(dst, np.ascontiguousarray(arr))
        paths.append(dst)
    return paths


def rknn_sim_engine(twin: ModelTwin, calib_images: list[Path], w_stride_pad: int = 0) -> SimEngine:
    if not RKNN_VENV_PYTHON.is_file():
        raise UsageError(
            f"--engine rknn-sim needs the RKNN toolkit's venv at {RKNN_VENV_PYTHON.parent.parent} "
            "(made by the bird model's recipe, see models/birds); use --engine onnx without it"
        )
    if twin.float_onnx is None:
        raise UsageError(f"--engine rknn-sim builds from the float ONNX model beside {twin.onnx}; none found")
    if not calib_images and twin.onnx.parent == BIRDS_DIR and BIRDS_SIM_SERVER.is_file():
        return birds_rknn_sim_engine(twin, w_stride_pad)
    if not calib_images:
        raise UsageError("--engine rknn-sim needs calibration images (--calib DIR with 20-50 images)")
    # The ONNX twin tells the input size the calibration tensors need.
    probe = tensor_server.open_onnx(twin.float_onnx, tensor_server.Preproc(twin.mean, twin.std))
    tmp = tempfile.TemporaryDirectory(prefix="sim-rv1103-calib-")
    npys = calibration_tensors(calib_images, probe.h, probe.w, twin.colour_order, Path(tmp.name))
    argv = [
        str(RKNN_VENV_PYTHON), str(TENSOR_SERVER), "--runtime", "rknn-sim", "--model", str(twin.float_onnx),
        "--mean", ",".join(map(str, twin.mean)), "--std", ",".join(map(str, twin.std)),
        "--calib", *map(str, npys),
    ]
    client = PipeClient(argv)
    tmp.cleanup()
    eng = _callable_engine(client.infer, client.h, client.w, client.classes, w_stride_pad)
    desc = (f"{client.runtime}: {client.note}; {len(npys)} calibration images; runs in a subprocess "
            f"({RKNN_VENV_PYTHON.parent.parent.name}) serving tensors over a pipe")
    return SimEngine(eng, client.h, client.w, client.classes, desc, client.close)
