"""Emulated `ml` (firmware >= 4.5.6): ml.Model runs the model in TFLite Micro under the board's memory model.

Input semantics (ml.preprocessing.Normalization with defaults, as the firmware does for image inputs): the
ROI is drawn into a model-sized image the way imlib's draw_image does with BILINEAR | CENTER and the
version's aspect hint (SCALE_ASPECT_EXPAND on 4.x, SCALE_ASPECT_IGNORE on 5; see draw_image.py), in the
image's own format (RGB565 or grayscale, converted per pixel to the model's channel count with imlib's
rules), then widened to 8 bits; int8 inputs get `pixel ^ 0x80`, uint8 inputs the pixel, float inputs
((pixel / 255) * (hi - lo) + lo - mean) / stdev (on 4.5.6-4.7.x the raw pixel: their normalisation bug).
The model's own input scale/zero point are not applied to image inputs. ndarray inputs are quantized with
them, truncated as the firmware's C cast does. Outputs come back dequantized: (q - zero_point) * scale.

Memory follows host_tools/model_budget.py (file, probe, arena, resolver in the GC heap blocks). TFLite Micro
runs in a child process (tflm_worker.py): if it dies, the camera hard-faults (HardFault) instead of the
emulator dying with it.
"""

from __future__ import annotations

import types
import weakref

import numpy as np

from host_tools.model_budget import ModelMemoryError, TflmCrashed, load_ml, model_arena
from host_tools.sim.openmv import fs, pixels
from host_tools.sim.openmv.draw_image import draw_bilinear
from host_tools.sim.openmv.modules.image import GRAYSCALE, Image
from host_tools.sim.openmv.state import HardFault
from host_tools.sim.openmv.tflm_worker import TflmError, WorkerDied, worker

DTYPE_CODES = {
    np.dtype(np.int8): "b",
    np.dtype(np.uint8): "B",
    np.dtype(np.int16): "h",
    np.dtype(np.uint16): "H",
    np.dtype(np.float32): "f",
}
ARENA_SLACK = 256  # bytes given to TFLM beyond the measured minimum (the Python wrapper's alignment slack)


def _fault(state, why: str) -> HardFault:
    state.fault = HardFault(f"hard fault: {why}")
    return state.fault


def io_counts(data: bytes) -> tuple[int, int]:
    """Number of inputs and outputs of the first subgraph, read with the TFLite schema module LiteRT ships.

    (Probing TFLM's get_input_details(i) past the end prints to the C stderr, so the schema is read.)"""
    from ai_edge_litert import schema_py_generated as schema

    try:
        model = schema.Model.GetRootAsModel(data, 0)
        if model.SubgraphsLength() < 1:
            raise ValueError
        sg = model.Subgraphs(0)
        return sg.InputsLength(), sg.OutputsLength()
    except Exception:  # noqa: BLE001 - flatbuffers raises several types on a damaged buffer
        raise ValueError("Unsupported model schema") from None


class LoadedModel:
    """A .tflite file from the camera filesystem, charged to the heap and allocated in TFLite Micro."""

    def __init__(self, state, path: str, load_to_fb: bool = False, legacy: bool = False) -> None:
        state.checkpoint()
        host = fs.to_host(state, path)
        if not host.is_file():
            raise OSError(2, "ENOENT")
        data = host.read_bytes()
        if len(data) < 8 or data[4:8] != b"TFL3":
            raise ValueError("Unsupported model schema")
        n_in, n_out = io_counts(data)
        try:
            self.arena = model_arena(host)
        except TflmCrashed as exc:
            raise _fault(state, str(exc)) from None
        except ValueError as exc:
            raise ValueError(f"Failed to allocate tensors ({exc})") from None
        self.file_len = len(data)
        heap = state.heap
        taken = 0
        try:
            if legacy:  # tf.load: the file in the GC heap; the arena comes from fb_alloc at each classify
                taken = 0 if load_to_fb else heap.alloc(len(data), "the model file")
            else:
                uma = state.memory.fb_bytes - 2 * _frame_bytes(state)
                taken = load_ml(heap, state.fw, 0 if load_to_fb else len(data), self.arena, uma)
        except ModelMemoryError as exc:
            raise (MemoryError if exc.kind == "MemoryError" else ValueError)(exc.message) from None
        except Exception as exc:  # HeapFull
            raise MemoryError(str(exc)) from None
        self._state, self._charge = state, taken
        weakref.finalize(self, _release, state, taken, state.heap_generation)
        self._worker = worker()
        self._handle = self._worker.new_handle()
        try:
            ins, outs = self._worker.call("load", self._handle, data, self.arena.reference + ARENA_SLACK,
                                          n_in, n_out)
        except WorkerDied as exc:
            raise _fault(state, exc.why) from None
        except TflmError as exc:
            raise ValueError(f"Failed to allocate tensors ({exc.message})") from None
        self._generation = self._worker.generation
        weakref.finalize(self, _free, self._worker, self._handle)
        self.inputs, self.outputs = ins, outs
        labels_host = host.with_suffix(".txt")
        self.labels = None
        if labels_host.is_file():
            self.labels = [ln.strip() for ln in labels_host.read_text().splitlines() if ln.strip()]

    def run(self, tensors: list[np.ndarray]) -> list[np.ndarray]:
        state = self._state
        state.checkpoint()
        if self._worker.generation != self._generation:
            raise _fault(state, "TFLite Micro was lost in an earlier crash")
        try:
            (raw,) = self._worker.call("invoke", self._handle, tensors, len(self.outputs))
        except WorkerDied as exc:
            raise _fault(state, exc.why) from None
        except TflmError as exc:
            raise ValueError("Invoke failed") from exc
        outs = []
        for q, d in zip(raw, self.outputs, strict=True):
            scale, zp = quant(d)
            q = np.asarray(q)
            if q.dtype == np.float32 or not scale:
                outs.append(q.astype(np.float32))
            else:
                outs.append((q.astype(np.float32) - np.float32(zp)) * np.float32(scale))
        return outs


def _frame_bytes(state) -> int:
    img = state.fb
    return img.size() if img is not None else 0


def _release(state, charge: int, generation: int) -> None:
    if state.heap_generation == generation and state.heap is not None:  # a soft reset freed everything
        state.heap.release(charge)


def _free(w, handle: int) -> None:
    w.free_later(handle)  # never a call from a finalizer (see free_later)


def quant(detail: dict) -> tuple[float, int]:
    qp = detail.get("quantization_parameters", {})
    scales, zps = qp.get("scales", []), qp.get("zero_points", [])
    return (float(scales[0]) if len(scales) else 0.0), (int(zps[0]) if len(zps) else 0)


def image_tensor(state, img: Image, roi, shape, dtype, scale=(0.0, 1.0), mean=(0.0, 0.0, 0.0),
                 stdev=(1.0, 1.0, 1.0), aspect: str | None = None):
    """The input tensor the firmware builds from an image (see the module docstring)."""
    if len(shape) != 4 or shape[0] != 1:
        raise ValueError("Expected input tensor with shape: (1, H, W, C)")
    _, h, w, c = (int(v) for v in shape)
    if c not in (1, 3):
        raise ValueError("Expected channels to be 1 or 3")
    img = img.as_drawable()
    x, y, rw, rh = roi if roi else (0, 0, img.width(), img.height())
    x0, y0 = max(0, int(x)), max(0, int(y))
    x1, y1 = min(img.width(), int(x) + int(rw)), min(img.height(), int(y) + int(rh))
    if x1 <= x0 or y1 <= y0:
        raise ValueError("ROI does not intersect the image")
    aspect = aspect or state.fw.ml_aspect
    small = draw_bilinear(img.native(), (x0, y0, x1 - x0, y1 - y0), w, h, aspect)
    if img.format() == GRAYSCALE:
        # A 3-channel model gets the gray value through RGB565 (the destination image's format).
        px = small[..., None] if c == 1 else pixels.rgb565_to_888(pixels.gray_to_565(small))
    else:
        rgb = pixels.rgb565_to_888(small)
        px = pixels.rgb888_to_gray(rgb)[..., None] if c == 1 else rgb
    dt = np.dtype(dtype)
    if dt == np.int8:
        return (px ^ 0x80).view(np.int8)[None]
    if dt == np.uint8:
        return px[None].copy()
    if dt == np.float32:
        if state.fw.float_input_unnormalized:
            return px[None].astype(np.float32)
        lo, hi = (np.float32(v) for v in scale)
        m = np.asarray(mean[:c], np.float32)
        s = np.asarray(stdev[:c], np.float32)
        unit = px.astype(np.float32) / np.float32(255.0)
        return (((unit * (hi - lo) + lo) - m) / s)[None].astype(np.float32)
    raise ValueError("Unsupported input tensor data type")


class Normalization:
    """ml.preprocessing.Normalization: Normalization(roi=(x, y, w, h))(img) is a model input."""

    def __init__(self, scale=(0.0, 1.0), mean=(0.0, 0.0, 0.0), stdev=(1.0, 1.0, 1.0), roi=None) -> None:
        self.scale, self.mean, self.stdev, self.roi = tuple(scale), tuple(mean), tuple(stdev), roi
        self._image = None

    def __call__(self, img):
        if not isinstance(img, Image):
            raise ValueError("Expected an image input")
        n = Normalization(self.scale, self.mean, self.stdev, self.roi)
        n._image = img
        return n

    def tensor(self, state, detail: dict) -> np.ndarray:
        return image_tensor(state, self._image, self.roi, detail["shape"], detail["dtype"], self.scale,
                            self.mean, self.stdev)


_INT_TYPES = {np.dtype(t): t for t in (np.int8, np.uint8, np.int16, np.uint16)}


def array_tensor(value, detail: dict) -> np.ndarray:
    """An array input: float copied as is; integer types get (int)(v * (1 / scale) + zero_point), C-truncated
    (toward zero, through int32 as the M7's VCVT then the narrowing cast)."""
    arr = np.asarray(value, np.float32)
    shape = tuple(int(v) for v in detail["shape"])
    if arr.shape != shape:
        raise ValueError("Input shape does not match the model input shape")
    dt = np.dtype(detail["dtype"])
    if dt == np.float32:
        return arr.copy()
    scale, zp = quant(detail)
    inv = np.float32(1.0) / np.float32(scale or 1.0)
    q = np.trunc(arr * inv + np.float32(zp))
    q = np.clip(q, -(2**31), 2**31 - 1).astype(np.int64)
    return q.astype(np.int32).astype(dt)  # the narrowing cast keeps the low bits, as C does on the M7


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("ml")

    class Model:
        def __init__(self, path: str, load_to_fb: bool = False) -> None:
            m = LoadedModel(state, path, load_to_fb)
            self._m = m
            self.len, self.ram, self.labels = m.file_len, m.arena.allocated, m.labels
            self.input_shape = [tuple(int(v) for v in d["shape"]) for d in m.inputs]
            self.input_dtype = [DTYPE_CODES.get(np.dtype(d["dtype"]), "?") for d in m.inputs]
            self.input_scale = [quant(d)[0] or 1.0 for d in m.inputs]
            self.input_zero_point = [quant(d)[1] for d in m.inputs]
            self.output_shape = [tuple(int(v) for v in d["shape"]) for d in m.outputs]
            self.output_dtype = [DTYPE_CODES.get(np.dtype(d["dtype"]), "?") for d in m.outputs]
            self.output_scale = [quant(d)[0] or 1.0 for d in m.outputs]
            self.output_zero_point = [quant(d)[1] for d in m.outputs]

        def predict(self, args, callback=None, **_kw):
            state.checkpoint()
            if not isinstance(args, list):
                raise ValueError("Unsupported input type. Expected a list")
            if len(args) != len(self._m.inputs):
                raise ValueError(f"Expected {len(self._m.inputs)} inputs but got {len(args)}")
            tensors = []
            for arg, detail in zip(args, self._m.inputs, strict=True):
                if isinstance(arg, Image):
                    arg = Normalization()(arg)
                tensors.append(
                    arg.tensor(state, detail) if isinstance(arg, Normalization) else array_tensor(arg, detail)
                )
            outs = self._m.run(tensors)
            return callback(self, tensors, outs) if callback else outs

        def __str__(self) -> str:
            return (
                f"{{len: {self.len}, ram: {self.ram}, inputs: {self.input_shape} {self.input_dtype}, "
                f"outputs: {self.output_shape} {self.output_dtype}}}"
            )

    mod.Model = Model
    pre = types.ModuleType("ml.preprocessing")
    pre.Normalization = Normalization
    mod.preprocessing = pre
    return mod
