"""Make the tiny fixture models in tests/fixtures/models/ (run through `models/masks/rebuild.sh fixtures`).

Both keep the mask model's contract (RGB int8 input, scale 1/255, zero point -128; int8 output with 3 scores)
so the OpenMV app would load them; their weights are seeded random, they are about memory, not accuracy:
- arena_hog.tflite: a few KB of file but a TFLite Micro arena over 300 KB (a 160x160 input and a
  full-resolution conv), so it cannot fit the H7's 256 KB heap block;
- big_file.tflite: a valid model whose file is over 128 KB (a wide dense layer), too big for the H7's
  128 KB flash filesystem, with a small arena, so it fits the H7 Plus.
The README.md beside them is written here too, with the measured figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tflite_facts as tf_facts  # noqa: E402
from train import check_io_quant  # noqa: E402

DEFAULT_OUT = HERE.parent.parent / "tests" / "fixtures" / "models"
SEED = 7


def arena_hog(tf):
    layers = tf.keras.layers
    inputs = tf.keras.Input((160, 160, 3))
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)  # 160x160x16 int8 = 400 KB
    x = layers.GlobalAveragePooling2D()(x)
    return tf.keras.Model(inputs, layers.Dense(3, activation="softmax")(x))


def big_file(tf):
    layers = tf.keras.layers
    inputs = tf.keras.Input((32, 32, 3))
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inputs)  # 16x16x16
    x = layers.Flatten()(x)
    x = layers.Dense(40, activation="relu")(x)  # 4096 x 40 int8 weights = 160 KB
    return tf.keras.Model(inputs, layers.Dense(3, activation="softmax")(x))


def to_int8_tflite(tf, model) -> bytes:
    shape = model.input_shape[1:]
    rng = np.random.default_rng(SEED)

    def representative():
        for i in range(8):
            x = rng.random((1, *shape), dtype=np.float32)
            if i == 0:  # the input range is exactly [0, 1]: scale 1/255, zero point -128
                x[0, 0, 0, :], x[0, 0, 1, :] = 0.0, 1.0
            yield [x]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


README = """# Fixture models (made by `models/masks/rebuild.sh fixtures`: models/masks/make_fixtures.py)

Tiny int8 TFLite models for tests of the model budget (the emulated OpenMV H7 must refuse them as the
firmware would). Same contract as the mask model: RGB int8 input with scale 1/255 and zero point -128,
int8 output of 3 softmax scores, so the app can load them. Weights are seeded random: no meaning, only size.
Figures measured when they were made (arena: TFLite Micro `print_allocations()` total).

| file | input | file bytes | TFLM arena bytes | MACs | what it is for |
| --- | --- | ---: | ---: | ---: | --- |
{rows}

- `arena_hog.tflite`: a small file whose arena alone is larger than the H7's 256 KB heap block: the H7 must
  refuse it, naming the bytes needed (file + arena) and available; the H7 Plus (SDRAM heap) loads it.
- `big_file.tflite`: a file larger than the H7's 128 KB flash filesystem (refused on the H7) with a small
  arena, so it fits the H7 Plus.
"""

PURPOSE = {"arena_hog": "arena > 256 KB heap block (H7), tiny file",
           "big_file": "file > 128 KB flash filesystem (H7), fits H7 Plus"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="make the fixture models for tests")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    import tensorflow as tf

    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, build in (("arena_hog", arena_hog), ("big_file", big_file)):
        tf.keras.utils.set_random_seed(SEED)
        path = args.out / f"{name}.tflite"
        path.write_bytes(to_int8_tflite(tf, build(tf)))
        facts = tf_facts.graph_facts(path)
        check_io_quant(facts, facts.input.shape, 3)
        size, arena = path.stat().st_size, tf_facts.tflm_arena_bytes(path)
        shape = "x".join(str(d) for d in facts.input.shape[1:])
        rows.append(f"| `{name}.tflite` | {shape} int8 | {size} | {arena} | {facts.macs} | {PURPOSE[name]} |")
        print(f"[fixtures] {path}: {size} B file, {arena} B arena, {facts.macs} MACs", flush=True)
    (args.out / "README.md").write_text(README.format(rows="\n".join(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
