"""Train the good / bad / no_mask classifier for the OpenMV H7 and write masks_int8.{tflite,json}.

Run through models/masks/rebuild.sh (it makes the recipe env .venv-train). Steps:
1. frames from the masks data set, split BY RECORDING (train on two recordings, hold out the third);
2. a small depthwise-separable CNN trained on pixel/255 in [0, 1], with the board's resize plus
   augmentation (crops/shifts, flips, brightness/contrast/colour, RGB565 rounding, two resize filters);
3. full-int8 conversion whose input is scale 1/255, zero point -128 (what OpenMV's ml module feeds:
   pixel ^ 0x80 and the model's own input scale ignored), asserted;
4. the card: held-out float and int8 accuracy (int8 measured by running the .tflite with reference
   kernels), per-class recall, MACs and parameters counted from the graph, TFLite Micro arena, and the
   H7 fit per firmware as host_tools.model_budget (the check `host_tools flash` runs) computes it.

A run without --folds does not retrain the other two hold-outs: it keeps their figures from the card it
replaces (each marked with where it came from) when that card was made by the same training recipe, and
drops them with a message otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))  # host_tools.model_budget: one owner of the H7's memory budget

import masks_data as md  # noqa: E402
import tflite_facts as tf_facts  # noqa: E402

DEFAULT_DATA = HERE.parent.parent.parent / "shared" / "data" / "masks"
SIZE = 96  # model input H = W (fixed: the app and the emulator's tests know the model by it)
SEED = 1234
FILE_BYTES_MAX = 100 * 1024  # the model's own size target (issue: "fits 100 KB")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path(os.environ.get("MASKS_DATA", DEFAULT_DATA)))
    p.add_argument("--out", type=Path, default=HERE, help="folder for masks_int8.{tflite,json}")
    p.add_argument("--holdout", default="C", choices=md.RECORDINGS, help="recording kept out of training")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--folds", action="store_true", help="also train and report the other two hold-outs")
    return p.parse_args(argv)


def seed_everything(tf) -> None:
    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()


def build_model(tf):
    """Depthwise-separable CNN: conv stride 2, then (depthwise 3x3 + pointwise 1x1) blocks, global pool."""
    layers = tf.keras.layers
    reg = tf.keras.regularizers.l2(1e-4)

    def conv_bn(x, filters, kernel, stride):
        x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False, kernel_regularizer=reg)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        return layers.ReLU(6.0)(x)

    def separable(x, filters, stride):
        x = layers.DepthwiseConv2D(3, stride, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU(6.0)(x)
        return conv_bn(x, filters, 1, 1)

    inputs = tf.keras.Input((SIZE, SIZE, 3), name="image")
    x = conv_bn(inputs, 16, 3, 2)  # 48x48
    x = separable(x, 32, 1)
    x = separable(x, 64, 2)  # 24x24
    x = separable(x, 64, 1)
    x = separable(x, 128, 2)  # 12x12
    x = separable(x, 128, 1)
    x = separable(x, 128, 2)  # 6x6
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(len(md.LABELS), activation="softmax", name="scores")(x)
    return tf.keras.Model(inputs, outputs, name="masks_dscnn")


def load_split(frames: list[md.Frame], recordings: set[str]) -> tuple[np.ndarray, np.ndarray, list[md.Frame]]:
    chosen = [f for f in frames if f.recording in recordings]
    images = np.stack([md.load_rgb(f.path) for f in chosen])
    labels = np.array([f.label for f in chosen], dtype=np.int64)
    return images, labels, chosen


def augment_fn(tf, size: int):
    """A tf.data map: uint8 256x256 frames -> augmented float [0, 1] size x size inputs."""

    def rgb565(x):
        u = tf.cast(tf.round(x * 255.0), tf.int32)
        r = (u[..., 0] // 8) * 255 // 31
        g = (u[..., 1] // 4) * 255 // 63
        b = (u[..., 2] // 8) * 255 // 31
        return tf.cast(tf.stack([r, g, b], -1), tf.float32) / 255.0

    def fn(images, labels):
        n = tf.shape(images)[0]
        x = tf.cast(images, tf.float32) / 255.0
        # Crop box: mostly the whole frame with small shifts / zooms and a little aspect change.
        sy = tf.random.uniform([n], 0.8, 1.0)
        sx = tf.random.uniform([n], 0.8, 1.0)
        full = tf.random.uniform([n]) < 0.25
        sy = tf.where(full, 1.0, sy)
        sx = tf.where(full, 1.0, sx)
        y0 = tf.random.uniform([n]) * (1.0 - sy)
        x0 = tf.random.uniform([n]) * (1.0 - sx)
        boxes = tf.stack([y0, x0, y0 + sy, x0 + sx], axis=1)
        # Two resize filters so the model does not depend on one: straight bilinear from the frame
        # (the firmware's), or bilinear from a pre-smoothed half-size frame (anti-aliased).
        half = tf.image.resize(x, (128, 128), method="area")
        sharp = tf.image.crop_and_resize(x, boxes, tf.range(n), (size, size), method="bilinear")
        smooth = tf.image.crop_and_resize(half, boxes, tf.range(n), (size, size), method="bilinear")
        pick = tf.random.uniform([n, 1, 1, 1]) < 0.5
        x = tf.where(pick, sharp, smooth)
        x = tf.where(tf.random.uniform([n, 1, 1, 1]) < 0.5, x[:, :, ::-1, :], x)
        x = tf.where(tf.random.uniform([n, 1, 1, 1]) < 0.5, x[:, ::-1, :, :], x)
        # Photometric: contrast around the image mean, brightness, per-channel gain (white balance).
        mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
        x = (x - mean) * tf.random.uniform([n, 1, 1, 1], 0.75, 1.3) + mean
        x = x + tf.random.uniform([n, 1, 1, 1], -0.12, 0.12)
        x = x * tf.random.uniform([n, 1, 1, 3], 0.92, 1.08)
        x = tf.clip_by_value(x, 0.0, 1.0)
        x = tf.where(tf.random.uniform([n, 1, 1, 1]) < 0.5, rgb565(x), x)
        return x, labels

    return fn


def class_weights(labels: np.ndarray) -> dict[int, float]:
    """Balanced weights: the rare 'bad' class counts as much as the others in the loss."""
    counts = np.bincount(labels, minlength=len(md.LABELS)).astype(np.float64)
    return {i: float(len(labels) / (len(md.LABELS) * c)) for i, c in enumerate(counts)}


def train(tf, images: np.ndarray, labels: np.ndarray, epochs: int):
    seed_everything(tf)
    model = build_model(tf)
    steps = int(np.ceil(len(images) / 32)) * epochs
    schedule = tf.keras.optimizers.schedules.CosineDecay(3e-3, steps, alpha=0.02)
    model.compile(optimizer=tf.keras.optimizers.Adam(schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ds = (tf.data.Dataset.from_tensor_slices((images, labels))
          .shuffle(len(images), seed=SEED, reshuffle_each_iteration=True)
          .batch(32)
          .map(augment_fn(tf, SIZE), num_parallel_calls=1)
          .prefetch(2))
    model.fit(ds, epochs=epochs, class_weight=class_weights(labels), verbose=2)
    return model


def board_inputs(images: np.ndarray) -> np.ndarray:
    """uint8 N x SIZE x SIZE x 3: what the board feeds for each 256x256 frame (RGB565, bilinear)."""
    return np.stack([md.board_input(im, SIZE, SIZE) for im in images])


def convert_int8(tf, model, calib_pixels: np.ndarray) -> bytes:
    """Full-int8 TFLite. The calibration set spans exactly [0, 1] at the input so the converter picks
    input scale 1/255 and zero point -128: then the board's pixel ^ 0x80 is the right int8 value."""
    calib = calib_pixels.astype(np.float32) / 255.0
    calib[0, 0, 0, :] = 0.0  # pin the observed input range to exactly 0..1 (one pixel each; the
    calib[0, 0, 1, :] = 1.0  # activations' ranges are unaffected in practice)

    def representative():
        for x in calib:
            yield [x[None]]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    from tensorflow.lite.tools import flatbuffer_utils as fb

    # Tensor names and signatures are about a fifth of the file and the board never reads them.
    flat = fb.read_model_from_bytearray(bytearray(conv.convert()))
    fb.strip_strings(flat)
    return bytes(fb.convert_object_to_bytearray(flat))


def check_io_quant(facts: tf_facts.GraphFacts, input_shape: list[int], n_out: int) -> None:
    """The board's contract: int8 in with scale 1/255 and zero point -128, int8 scores out."""
    i, o = facts.input, facts.output
    assert i.dtype == "int8" and o.dtype == "int8", (i, o)
    assert i.shape == input_shape, i.shape
    assert i.zero_point == -128 and abs(i.scale - 1 / 255) < 1e-9, f"input quantization {i}: not 1/255, -128"
    assert o.shape == [1, n_out], o.shape


def recall_report(pred: np.ndarray, labels: np.ndarray) -> dict:
    out = {"accuracy": float(np.mean(pred == labels)), "n": int(len(labels)), "recall": {}, "confusion": []}
    for c, name in enumerate(md.LABELS):
        mask = labels == c
        out["recall"][name] = float(np.mean(pred[mask] == c)) if mask.any() else None
    out["confusion"] = [[int(np.sum((labels == t) & (pred == p))) for p in range(len(md.LABELS))]
                        for t in range(len(md.LABELS))]
    return out


def evaluate(tf, model, tflite_path: Path, images: np.ndarray, labels: np.ndarray) -> dict:
    pixels = board_inputs(images)
    float_pred = np.argmax(model.predict(pixels.astype(np.float32) / 255.0, verbose=0), axis=1)
    interp = tf_facts.reference_interpreter(tflite_path)
    int8_pred = np.argmax(tf_facts.run_int8(interp, md.to_int8(pixels)), axis=1)
    return {"float": recall_report(float_pred, labels), "int8": recall_report(int8_pred, labels),
            "float_int8_agreement": float(np.mean(float_pred == int8_pred))}


def fit_and_convert(tf, frames, holdout: str, epochs: int, out_path: Path) -> tuple[object, dict, dict]:
    train_recs = sorted(set(md.RECORDINGS) - {holdout})
    x_train, y_train, _ = load_split(frames, set(train_recs))
    x_test, y_test, _ = load_split(frames, {holdout})
    print(f"[masks] hold-out {holdout}: train {train_recs} {np.bincount(y_train).tolist()}, "
          f"test {np.bincount(y_test).tolist()}", flush=True)
    model = train(tf, x_train, y_train, epochs)
    out_path.write_bytes(convert_int8(tf, model, board_inputs(x_train)))
    check_io_quant(tf_facts.graph_facts(out_path), [1, SIZE, SIZE, 3], len(md.LABELS))
    split = {"train_recordings": train_recs, "holdout_recording": holdout,
             "train_counts": dict(zip(md.LABELS, np.bincount(y_train, minlength=3).tolist(), strict=True)),
             "holdout_counts": dict(zip(md.LABELS, np.bincount(y_test, minlength=3).tolist(), strict=True))}
    return model, split, evaluate(tf, model, out_path, x_test, y_test)


def fold_summary(split: dict, result: dict) -> dict:
    return {"train_recordings": split["train_recordings"], "float_accuracy": result["float"]["accuracy"],
            "int8_accuracy": result["int8"]["accuracy"], "int8_recall": result["int8"]["recall"]}


def h7_budget(tflite_path: Path) -> dict:
    """Does the model fit the H7, per emulated firmware, as host_tools.model_budget decides it."""
    from host_tools.model_budget import check_model_fits
    from host_tools.openmv_firmware import EMULATED

    per_firmware = {}
    for firmware in EMULATED:
        fit = check_model_fits(tflite_path, "h7", firmware)
        per_firmware[firmware] = {"largest_heap_block_bytes": fit.heap_block_bytes,
                                  "arena_allocated_bytes": fit.arena_bytes, "fits": fit.fits}
    size = tflite_path.stat().st_size
    return {"file_bytes_max": FILE_BYTES_MAX, "measured_with": "host_tools.model_budget.check_model_fits",
            "per_firmware": per_firmware,
            "fits": size <= FILE_BYTES_MAX and all(f["fits"] for f in per_firmware.values())}


KEPT = "kept from the previous card (same training recipe), not recomputed by this run (--folds does); "


def kept_folds(previous: dict | None, folds: dict, training: dict) -> dict:
    """folds plus the hold-outs this run did not retrain, taken from the previous card when it was made by
    the same training recipe (their figures would otherwise vanish from the card at every plain rebuild)."""
    if not previous:
        return folds
    missing = {k: v for k, v in previous.get("folds", {}).items() if k not in folds}
    if not missing:
        return folds
    if previous.get("training") != training:
        print(f"[masks] dropped hold-outs {sorted(missing)} of the previous card: another training recipe "
              "measured them (rebuild with --folds to recompute)", flush=True)
        return folds
    kept = {}
    for name, fold in missing.items():
        fold = {k: v for k, v in fold.items() if k != "deployed"}
        earlier = str(fold.get("provenance", "measured by an earlier run")).removeprefix(KEPT)
        kept[name] = {**fold, "provenance": KEPT + earlier}
    return {**folds, **kept}


def make_card(tflite_path: Path, split: dict, result: dict, folds: dict, training: dict,
              rebuild: dict) -> dict:
    facts = tf_facts.graph_facts(tflite_path)
    size = tflite_path.stat().st_size
    arena = tf_facts.tflm_arena_bytes(tflite_path)
    return {
        "name": "masks_int8",
        "task": "surgical mask inspection on a production tray: good / bad (defect) / no_mask",
        "labels": list(md.LABELS),
        "architecture": "depthwise-separable CNN: conv3x3/2 (16) + 6 x (dw3x3 + pw1x1) up to 128 ch, "
                        "global average pool, dense 3, softmax",
        # The manifest part (host_tools/model_manifest.py): labels above, input size, colour order, mean/std
        # (int8 = pixel - 128 with scale 1/255: the float input is pixel / 255).
        "input": {"width": facts.input.shape[2], "height": facts.input.shape[1], "colour_order": "RGB",
                  "mean": [0, 0, 0], "std": [255, 255, 255],
                  "shape": facts.input.shape, "dtype": facts.input.dtype, "scale": facts.input.scale,
                  "zero_point": facts.input.zero_point,
                  "preprocessing": "OpenMV ml Normalization: the frame (or ROI) resized bilinear, centred, "
                                   "aspect kept with the overflow cropped (SCALE_ASPECT_EXPAND; a plain "
                                   "resize for square frames), to HxW; each int8 value = pixel ^ 0x80 = "
                                   "pixel - 128"},
        "output": {"shape": facts.output.shape, "dtype": facts.output.dtype, "scale": facts.output.scale,
                   "zero_point": facts.output.zero_point, "meaning": "softmax scores in label order"},
        "file_bytes": size,
        "parameters": facts.params,
        "macs": facts.macs,
        "macs_counted": "CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED from the .tflite graph",
        "ops": facts.ops,
        "tflm_arena_bytes": arena,
        "tflm_arena_measured_with": "tflite-micro Python interpreter, print_allocations() total",
        "h7_budget": h7_budget(tflite_path),
        "data": {"source": "shared/data/masks (ARM-software/EndpointAI OpenMvMaskDefaults; MIT, "
                           "Lightly AG 2020)",
                 "split": "by recording (frames of one recording are near-duplicates)", **split},
        "holdout_eval": {
            "preprocessing": "each 256x256 frame rounded to RGB565 then resized bilinear to the input size, "
                             "as the board does",
            "int8_measured_with": "the .tflite in LiteRT with reference kernels (BUILTIN_REF, as TFLM)",
            **result},
        "folds": folds,
        "training": training,
        "rebuild": rebuild,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    start = time.monotonic()
    import tensorflow as tf  # heavy: imported after argument errors can be reported

    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    frames = md.list_frames(args.data)
    args.out.mkdir(parents=True, exist_ok=True)
    tflite_path = args.out / "masks_int8.tflite"
    _, split, result = fit_and_convert(tf, frames, args.holdout, args.epochs, tflite_path)
    deployed_seconds = time.monotonic() - start

    card_path = args.out / "masks_int8.json"
    previous = json.loads(card_path.read_text()) if card_path.exists() else None
    folds = {args.holdout: {**fold_summary(split, result), "deployed": True}}
    if args.folds:
        scratch = args.out / ".fold.tflite"
        for other in md.RECORDINGS:
            if other != args.holdout:
                _, fold_split, fold_result = fit_and_convert(tf, frames, other, args.epochs, scratch)
                folds[other] = {**fold_summary(fold_split, fold_result), "provenance": "measured by this run"}
        scratch.unlink(missing_ok=True)
    training = {"epochs": args.epochs, "seed": SEED, "batch": 32, "optimizer": "Adam, cosine decay from 3e-3",
                "class_weights": "balanced (n / (3 * n_class))",
                "augmentation": "random crop 80-100% per axis / shift, h+v flips, contrast, brightness, "
                                "per-channel gain, RGB565 rounding, sharp or anti-aliased resize"}
    folds = kept_folds(previous, folds, training)
    plain = [a for a in argv if a != "--folds"]
    rebuild = {"command": " ".join(["models/masks/rebuild.sh", *plain]),
               "folds_command": " ".join(["models/masks/rebuild.sh", *plain, "--folds"]),
               "seconds": None,  # filled in by rebuild.sh, which times the whole run
               "deployed_model_seconds": round(deployed_seconds, 1),
               "folds_seconds": round(time.monotonic() - start - deployed_seconds, 1) if args.folds else None}
    if not args.folds and previous and len(folds) > 1:  # the kept hold-outs' training time, kept with them
        rebuild["folds_seconds"] = previous.get("rebuild", {}).get("folds_seconds")
    card = make_card(tflite_path, split, result, folds, training, rebuild)
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    r = result["int8"]
    print(f"[masks] wrote {tflite_path} ({card['file_bytes']} B, arena {card['tflm_arena_bytes']} B, "
          f"{card['macs']} MACs, {card['parameters']} params); hold-out {args.holdout}: "
          f"float {result['float']['accuracy']:.4f}, int8 {r['accuracy']:.4f}, recall {r['recall']}",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
