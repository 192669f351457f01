"""The emulated RV1103's NPU: the tensor service (tensor_server.py), started for one board or one run.

  onnx      in this process (a thread per client), ONNX Runtime on the model's ONNX twin;
  rknn-sim  the RKNN toolkit's x86 simulator in its own venv (.venv-rknn, made by the bird recipe), a child
            process serving the same protocol on the same kind of socket.
Either way the board program reaches it over a unix socket (rv1103_app --engine-socket PATH).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from host_tools.errors import HostToolsError, UsageError
from host_tools.paths import MODELS_DIR, REPO_ROOT, cache_dir
from host_tools.sim.rv1103 import tensor_server
from host_tools.sim.rv1103.model_twin import ModelTwin

ENGINES = ("onnx", "rknn-sim")
RKNN_VENV_PYTHON = REPO_ROOT / ".venv-rknn" / "bin" / "python"


@dataclass
class Npu:
    socket: Path
    description: str  # what runs the model, for banners
    close: Callable[[], None]


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


def _in_process(socket_path: Path, twin: ModelTwin, model: bytes | None, models_dir: Path) -> Npu:
    catalogue = tensor_server.Catalogue(models_dir, [twin])
    service = tensor_server.TensorService("onnx", catalogue, default=twin)
    try:
        _served, about, _key = service.open(model or b"")
    except ImportError as exc:
        raise UsageError("the emulated RV1103 runs the model in ONNX Runtime, which is not installed: "
                         "pip install 'host_tools[rv1103]'") from exc
    except LookupError as exc:
        raise UsageError(str(exc)) from exc
    except Exception as exc:  # onnxruntime raises its own types for unreadable models
        raise UsageError(f"cannot run {twin.onnx} with ONNX Runtime: {exc}") from exc
    unix = service.listen(socket_path)
    desc = f"{about['runtime']}: {about['note']} (host CPU, standing in for the RV1103 NPU)"
    return Npu(socket_path, desc, unix.close)


def _rknn_venv(socket_path: Path, twin: ModelTwin, models_dir: Path, calib_images: list[Path]) -> Npu:
    if not RKNN_VENV_PYTHON.is_file():
        venv = RKNN_VENV_PYTHON.parent.parent
        raise UsageError(f"--engine rknn-sim needs the RKNN toolkit's venv at {venv} (made by the bird "
                         "model's recipe, see models/birds); use --engine onnx without it")
    if twin.float_onnx is None:
        raise UsageError(f"--engine rknn-sim builds from the float ONNX model beside {twin.onnx}; none found")
    recipe = twin.float_onnx.parent / tensor_server.RECIPE_SIMULATOR
    with tempfile.TemporaryDirectory(prefix="sim-rv1103-npu-") as tmp:
        argv = [str(RKNN_VENV_PYTHON), tensor_server.__file__, "--runtime", "rknn-sim", "--model",
                str(twin.onnx), "--models-dir", str(models_dir), "--listen", str(socket_path), "--preload",
                "--work", str(cache_dir())]
        if calib_images or not recipe.is_file():
            if not calib_images:
                raise UsageError("--engine rknn-sim needs calibration images (--calib DIR with 20-50 images)")
            probe = tensor_server.open_onnx(twin.float_onnx, tensor_server.Preproc(twin.mean, twin.std))
            npys = calibration_tensors(calib_images, probe.h, probe.w, twin.colour_order, Path(tmp))
            argv += ["--calib", *map(str, npys)]
        # host_tools on the path of the toolkit's venv, and nothing else of this venv (its numpy differs)
        link = Path(tmp) / "host_tools"
        link.symlink_to(Path(tensor_server.__file__).resolve().parents[2], target_is_directory=True)
        env = {**os.environ, "PYTHONPATH": tmp}
        # stderr is inherited: the toolkit's logs stay visible, never mixed with the ready line on stdout
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        line = proc.stdout.readline()  # once the model is built: the calibration tensors may go
    try:
        ready = json.loads(line) if line else {"ready": False, "error": "it exited before it was ready"}
    except ValueError:
        ready = {"ready": False, "error": f"unexpected first line {line[:200]!r}"}
    if not ready.get("ready"):
        _stop(proc)
        raise HostToolsError(f"the RKNN simulator service failed: {ready.get('error')} (its log is above)")

    desc = (f"{ready.get('runtime')}: {ready.get('note')}; in a subprocess "
            f"({RKNN_VENV_PYTHON.parent.parent.name}) serving tensors over a unix socket")
    return Npu(socket_path, desc, lambda: _stop(proc))


def _stop(proc: subprocess.Popen) -> None:
    try:
        proc.stdin.close()  # the service serves until its stdin closes
    except (BrokenPipeError, OSError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_npu(socket_path: Path, engine: str, twin: ModelTwin, model: bytes | None = None,
              models_dir: Path = MODELS_DIR, calib_images: list[Path] = ()) -> Npu:
    """The tensor service on `socket_path`, with `twin` as its default model; `model` (the bytes the board
    program will send) is opened at once, so that the program does not wait for a build."""
    if engine == "onnx":
        return _in_process(Path(socket_path), twin, model, models_dir)
    if engine == "rknn-sim":
        return _rknn_venv(Path(socket_path), twin, models_dir, list(calib_images))
    raise UsageError(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
