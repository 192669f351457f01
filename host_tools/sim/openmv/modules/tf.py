"""Emulated `tf`. Firmware <= 4.5.5: tf.load() / tf.classify() (same TFLM and input drawing as `ml` on 4.x:
SCALE_ASPECT_EXPAND; the model file in the GC heap, the tensor arena taken from fb_alloc at each classify,
so what is left beside the frame decides: MemoryError there). Firmware >= 4.5.6: `tf` is only an alias
exposing Model (the old functions are gone).
"""

from __future__ import annotations

import types

from host_tools.model_budget import ModelMemoryError, legacy_arena_check
from host_tools.sim.openmv.modules import ml as _ml
from host_tools.sim.openmv.modules.image import Image


class tf_model:  # noqa: N801 - the firmware's type name
    def __init__(self, loaded: _ml.LoadedModel) -> None:
        self._m = loaded
        shape = [int(v) for v in loaded.inputs[0]["shape"]]
        self._h, self._w, self._c = shape[1], shape[2], shape[3]

    def len(self) -> int:
        return self._m.file_len

    def ram(self) -> int:
        return self._m.arena.used

    def input_height(self) -> int:
        return self._h

    def input_width(self) -> int:
        return self._w

    def input_channels(self) -> int:
        return self._c


class tf_classification:  # noqa: N801
    def __init__(self, rect: tuple[int, int, int, int], output: list[float]) -> None:
        self._rect, self._output = rect, output

    def rect(self):
        return self._rect

    def x(self) -> int:
        return self._rect[0]

    def y(self) -> int:
        return self._rect[1]

    def w(self) -> int:
        return self._rect[2]

    def h(self) -> int:
        return self._rect[3]

    def output(self) -> list[float]:
        return list(self._output)


def windows(roi, min_scale: float, scale_mul: float, x_overlap: float, y_overlap: float):
    """The detection windows tf.classify() slides over the ROI: full size, then smaller by scale_mul."""
    x, y, w, h = roi
    scale = 1.0
    while scale >= min_scale:
        ww, wh = max(1, int(w * scale)), max(1, int(h * scale))
        sx = max(1, int(ww * (1 - x_overlap))) if x_overlap >= 0 else ww
        sy = max(1, int(wh * (1 - y_overlap))) if y_overlap >= 0 else wh
        for yy in range(y, y + h - wh + 1, sy):
            for xx in range(x, x + w - ww + 1, sx):
                yield (xx, yy, ww, wh)
        if scale_mul <= 0 or scale_mul >= 1:
            break
        scale *= scale_mul


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("tf")
    if not state.fw.legacy_tf:
        mod.Model = run.module("ml").Model
        return mod

    def load(path: str, load_to_fb: bool = False) -> tf_model:
        return tf_model(_ml.LoadedModel(state, path, load_to_fb, legacy=True))

    def classify(model, img, roi=None, min_scale=1.0, scale_mul=0.5, x_overlap=0, y_overlap=0):
        state.checkpoint()
        if not isinstance(model, tf_model):
            raise TypeError("expected a tf_model")
        if not isinstance(img, Image):
            raise TypeError("expected an image")
        roi = tuple(roi) if roi else (0, 0, img.width(), img.height())
        detail = model._m.inputs[0]
        try:
            legacy_arena_check(model._m.arena, state.memory.fb_bytes, img.size())
        except ModelMemoryError as exc:
            raise MemoryError(exc.message) from None
        results = []
        for win in windows(roi, min_scale, scale_mul, x_overlap, y_overlap):
            tensor = _ml.image_tensor(state, img, win, detail["shape"], detail["dtype"], aspect="expand")
            out = model._m.run([tensor])[0].reshape(-1)
            results.append(tf_classification(win, [float(v) for v in out]))
        return results

    mod.load = load
    mod.classify = classify
    mod.tf_model, mod.tf_classification = tf_model, tf_classification
    return mod
