"""Emulated `ml` (firmware >= 4.5.6): ml.Model runs the model in TFLite Micro under the board's heap budget.

Input semantics (ml.preprocessing.Normalization with defaults, as the firmware does for image inputs):
the ROI is drawn into a model-sized image the way imlib's draw_image does with BILINEAR | CENTER |
SCALE_ASPECT_EXPAND (see draw_image.py: scaled to fill, aspect kept, centred, overflow cropped), in the
image's own format (RGB565 or grayscale, converted per pixel to the model's channel count), then widened to
8 bits; int8 inputs get `pixel ^ 0x80`, uint8 inputs the pixel, float inputs
((pixel / 255) * (hi - lo) + lo - mean) / stdev. The model's own input scale/zero point are not applied to
image inputs. Outputs come back dequantized: (q - zero_point) * scale.
"""

from __future__ import annotations

import types
import weakref

import numpy as np

from host_tools.model_budget import measure_arena
from host_tools.sim.openmv import fs, pixels
from host_tools.sim.openmv.draw_image import draw_expand_bilinear
from host_tools.sim.openmv.modules.image import GRAYSCALE, Image

DTYPE_CODES = {
    np.dtype(np.int8): "b",
    np.dtype(np.uint8): "B",
    np.dtype(np.int16): "h",
    np.dtype(np.float32): "f",
}
ARENA_MARGIN = 256  # bytes given to TFLM beyond the measured minimum (the Python wrapper's alignment slack)


class LoadedModel:
    """A .tflite file from the camera filesystem, charged to the heap and allocated in TFLite Micro."""

    def __init__(self, state, path: str, load_to_fb: bool = False) -> None:
        from tflite_micro import runtime

        state.checkpoint()
        host = fs.to_host(state, path)
        if not host.is_file():
            raise OSError(2, "ENOENT")
        data = host.read_bytes()
        if len(data) < 8 or data[4:8] != b"TFL3":
            raise ValueError("Unsupported model schema")
        try:
            arena = measure_arena(host)
        except ValueError as exc:
            raise ValueError(f"Failed to allocate tensors ({exc})") from None
        free = state.heap_free()
        in_heap = 0 if load_to_fb else len(data)  # load_to_fb keeps the file in the frame buffer pool
        if in_heap > free:
            raise MemoryError(
                f"memory allocation failed, allocating {in_heap} bytes (model file; largest free heap block "
                f"{free} bytes, tensor arena needs {arena} more)"
            )
        if in_heap + arena > free:
            raise ValueError(
                f"Failed to allocate tensors (tensor arena needs {arena} bytes, {free - in_heap} bytes "
                f"free in the largest heap block after the {in_heap}-byte model file: "
                f"{in_heap + arena} bytes needed, {free} available)"
            )
        self.interp = runtime.Interpreter.from_bytes(data, arena_size=arena + ARENA_MARGIN)
        self.file_len, self.arena = len(data), arena
        charge = in_heap + arena
        state.heap_in_use += charge
        generation = state.heap_generation
        weakref.finalize(self, _release, state, charge, generation)
        n_in, n_out = io_counts(data)
        ins = [self.interp.get_input_details(i) for i in range(n_in)]
        outs = [self.interp.get_output_details(i) for i in range(n_out)]
        self.inputs, self.outputs = ins, outs
        labels_host = host.with_suffix(".txt")
        self.labels = None
        if labels_host.is_file():
            self.labels = [ln.strip() for ln in labels_host.read_text().splitlines() if ln.strip()]

    def run(self, tensors: list[np.ndarray]) -> list[np.ndarray]:
        for i, t in enumerate(tensors):
            self.interp.set_input(t, i)
        self.interp.invoke()
        outs = []
        for i, d in enumerate(self.outputs):
            q = np.asarray(self.interp.get_output(i))
            scale, zp = quant(d)
            outs.append(((q.astype(np.float32) - zp) * scale) if scale else q.astype(np.float32))
        return outs


def io_counts(data: bytes) -> tuple[int, int]:
    """Number of inputs and outputs of the first subgraph, read from the .tflite flatbuffer.

    (Probing TFLM's get_input_details(i) past the end prints to the C stderr, so we read the schema:
    Model.subgraphs is field 2, SubGraph.inputs / outputs are fields 1 / 2.)
    """

    def u32(pos: int) -> int:
        return int.from_bytes(data[pos : pos + 4], "little")

    def field(table: int, index: int) -> int | None:
        vtable = table - int.from_bytes(data[table : table + 4], "little", signed=True)
        vsize = int.from_bytes(data[vtable : vtable + 2], "little")
        if 4 + 2 * index >= vsize:
            return None
        off = int.from_bytes(data[vtable + 4 + 2 * index : vtable + 6 + 2 * index], "little")
        return table + off if off else None

    def vector(table: int, index: int) -> tuple[int, int]:
        pos = field(table, index)
        if pos is None:
            return 0, 0
        vec = pos + u32(pos)
        return vec + 4, u32(vec)

    try:
        root = u32(0)
        subgraphs, n = vector(root, 2)
        if n < 1:
            raise ValueError
        sg = subgraphs + u32(subgraphs)
        return vector(sg, 1)[1], vector(sg, 2)[1]
    except (ValueError, IndexError):
        raise ValueError("Unsupported model schema") from None


def _release(state, charge: int, generation: int) -> None:
    if state.heap_generation == generation:  # a soft reset already freed everything
        state.heap_in_use = max(0, state.heap_in_use - charge)


def quant(detail: dict) -> tuple[float, int]:
    qp = detail.get("quantization_parameters", {})
    scales, zps = qp.get("scales", []), qp.get("zero_points", [])
    return (float(scales[0]) if len(scales) else 0.0), (int(zps[0]) if len(zps) else 0)


def image_tensor(
    img: Image, roi, shape, dtype, scale=(0.0, 1.0), mean=(0.0, 0.0, 0.0), stdev=(1.0, 1.0, 1.0)
):
    """The input tensor the firmware builds from an image (see the module docstring)."""
    if len(shape) != 4 or shape[0] != 1:
        raise ValueError("Expected input tensor with shape: (1, H, W, C)")
    _, h, w, c = (int(v) for v in shape)
    if c not in (1, 3):
        raise ValueError("Expected channels to be 1 or 3")
    x, y, rw, rh = roi if roi else (0, 0, img.width(), img.height())
    x0, y0 = max(0, int(x)), max(0, int(y))
    x1, y1 = min(img.width(), int(x) + int(rw)), min(img.height(), int(y) + int(rh))
    if x1 <= x0 or y1 <= y0:
        raise ValueError("ROI does not intersect the image")
    small = draw_expand_bilinear(img.native(), (x0, y0, x1 - x0, y1 - y0), w, h)
    if img.format() == GRAYSCALE:
        # A 3-channel model gets the gray value through RGB565 (the destination image's format).
        px = (
            small[..., None]
            if c == 1
            else pixels.rgb565_to_888(pixels.rgb888_to_565(np.repeat(small[..., None], 3, 2)))
        )
    else:
        rgb = pixels.rgb565_to_888(small)
        px = pixels.rgb888_to_gray(rgb)[..., None] if c == 1 else rgb
    dt = np.dtype(dtype)
    if dt == np.int8:
        return (px ^ 0x80).view(np.int8)[None]
    if dt == np.uint8:
        return px[None].copy()
    if dt == np.float32:
        lo, hi = scale
        m = np.asarray(mean[:c], np.float32)
        s = np.asarray(stdev[:c], np.float32)
        return ((((px.astype(np.float32) / 255.0) * (hi - lo) + lo) - m) / s)[None].astype(np.float32)
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

    def tensor(self, detail: dict) -> np.ndarray:
        return image_tensor(
            self._image, self.roi, detail["shape"], detail["dtype"], self.scale, self.mean, self.stdev
        )


def array_tensor(value, detail: dict) -> np.ndarray:
    """A float array input, quantized with the model's own input parameters."""
    arr = np.asarray(value, np.float32).reshape(tuple(int(v) for v in detail["shape"]))
    dt = np.dtype(detail["dtype"])
    scale, zp = quant(detail)
    if dt == np.float32 or not scale:
        return arr.astype(dt)
    info = np.iinfo(dt)
    return np.clip(np.round(arr / scale + zp), info.min, info.max).astype(dt)


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("ml")

    class Model:
        def __init__(self, path: str, load_to_fb: bool = False) -> None:
            m = LoadedModel(state, path, load_to_fb)
            self._m = m
            self.len, self.ram, self.labels = m.file_len, m.arena, m.labels
            self.input_shape = [tuple(int(v) for v in d["shape"]) for d in m.inputs]
            self.input_dtype = [DTYPE_CODES.get(np.dtype(d["dtype"]), "?") for d in m.inputs]
            self.input_scale = [quant(d)[0] for d in m.inputs]
            self.input_zero_point = [quant(d)[1] for d in m.inputs]
            self.output_shape = [tuple(int(v) for v in d["shape"]) for d in m.outputs]
            self.output_dtype = [DTYPE_CODES.get(np.dtype(d["dtype"]), "?") for d in m.outputs]
            self.output_scale = [quant(d)[0] for d in m.outputs]
            self.output_zero_point = [quant(d)[1] for d in m.outputs]

        def predict(self, args, callback=None, **_kw):
            state.checkpoint()
            if len(args) != len(self._m.inputs):
                raise ValueError(f"Expected {len(self._m.inputs)} inputs but got {len(args)}")
            tensors = []
            for arg, detail in zip(args, self._m.inputs, strict=True):
                if isinstance(arg, Image):
                    arg = Normalization()(arg)
                tensors.append(
                    arg.tensor(detail) if isinstance(arg, Normalization) else array_tensor(arg, detail)
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
