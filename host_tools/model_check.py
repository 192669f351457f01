"""What a model must be for the OpenMV app, checked on the host before a byte is sent to a camera.

- one input of shape (1, H, W, C), C = 3 for an RGB565 camera or 1 for a GRAYSCALE one, of type int8 or
  uint8 (the firmware feeds image pixels; a float model needs a normalisation the app does not configure);
- one run in TensorFlow Lite Micro on this host, in a child process: a model that crashes the interpreter
  (a division by zero in a kernel, say) would hard-fault the camera at its first frame, over and over.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from host_tools.errors import RefusedError, UsageError

APP_INPUT_TYPES = {"INT8": "int8", "UINT8": "uint8"}
TRIAL_TIMEOUT_S = 120.0

# Runs in a child: one inference on a mid-gray input, with the arena TFLM asks for (plus slack).
_TRIAL = r"""
import sys
import numpy as np
from tflite_micro import runtime
it = runtime.Interpreter.from_file(sys.argv[1], arena_size=int(sys.argv[2]))
d = it.get_input_details(0)
it.set_input(np.zeros(d["shape"], d["dtype"]), 0)
it.invoke()
print("ok", np.asarray(it.get_output(0)).size)
"""


@dataclass(frozen=True)
class ModelInput:
    shape: tuple[int, ...]
    dtype: str  # TFLite tensor type name: INT8, UINT8, FLOAT32...
    inputs: int


def model_input(model: Path) -> ModelInput:
    """Shape and type of the model's first input, read with the TFLite schema LiteRT ships."""
    from ai_edge_litert import schema_py_generated as schema

    data = Path(model).read_bytes()
    names = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    try:
        m = schema.Model.GetRootAsModel(data, 0)
        sg = m.Subgraphs(0)
        t = sg.Tensors(sg.Inputs(0))
        shape = tuple(int(v) for v in t.ShapeAsNumpy())
        return ModelInput(shape, names.get(t.Type(), f"type {t.Type()}"), sg.InputsLength())
    except Exception:  # noqa: BLE001 - flatbuffers raises many types on a damaged file
        raise UsageError(f"model {model}: not a TensorFlow Lite model the schema can read") from None


def check_input(model: Path, pixformat: str) -> ModelInput:
    """RefusedError unless the app can feed this model from a `pixformat` camera."""
    info = model_input(model)
    channels = 3 if pixformat == "RGB565" else 1
    if info.inputs != 1:
        raise RefusedError(f"model {model.name} has {info.inputs} inputs; the app feeds one image; "
                           "nothing was sent")
    if info.dtype not in APP_INPUT_TYPES:
        raise RefusedError(
            f"model {model.name}: its input tensor is {info.dtype.lower()}, the app feeds int8 or uint8 "
            "image inputs (quantize it to int8 with input scale 1/255 and zero point -128); nothing was sent")
    if len(info.shape) != 4 or info.shape[0] != 1 or info.shape[3] not in (1, 3):
        raise RefusedError(f"model {model.name}: input shape {list(info.shape)}, the app needs "
                           "[1, H, W, 1 or 3]; nothing was sent")
    if info.shape[3] != channels:
        raise RefusedError(
            f"model {model.name} takes {info.shape[3]}-channel input but the camera is set to {pixformat} "
            f"({channels} channel{'s' if channels > 1 else ''}): set \"pixformat\" in the config to "
            f"{'RGB565' if info.shape[3] == 3 else 'GRAYSCALE'}, or use a matching model; nothing was sent")
    return info


def trial_run(model: Path, arena: int) -> None:
    """Run the model once in TFLite Micro in a child process; RefusedError if it crashes or fails."""
    try:
        proc = subprocess.run([sys.executable, "-c", _TRIAL, str(model), str(arena + 1024)],
                              capture_output=True, text=True, timeout=TRIAL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RefusedError(f"model {model.name} did not finish one inference in TensorFlow Lite Micro within "
                           f"{TRIAL_TIMEOUT_S:.0f} s on this host; nothing was sent") from None
    if proc.returncode < 0:
        try:
            sig = signal.Signals(-proc.returncode).name
        except ValueError:
            sig = f"signal {-proc.returncode}"
        raise RefusedError(
            f"model {model.name} crashed TensorFlow Lite Micro ({sig}) when run once on this host: on the "
            "camera it would hard-fault at the first frame, at every boot; nothing was sent")
    if proc.returncode != 0 or not proc.stdout.startswith("ok"):
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1][:200]
        raise RefusedError(f"model {model.name} failed one inference in TensorFlow Lite Micro on this host "
                           f"({tail}); nothing was sent")
