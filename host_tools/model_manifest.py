"""A model's manifest: what a tool must know to feed a model and name its scores, kept in one place beside it.

The manifest is the model card, `<name>.json` beside the model files (`masks_int8.json` for
`masks_int8.tflite`; `birds_mnv3s.json` for `birds_mnv3s.onnx`, `birds_mnv3s_int8.onnx` and
`birds_mnv3s_rv1103.rknn`). It owns these facts; flash, sim, bench and tune read them here, and nothing
else repeats them:

  "labels": ["good", "bad", "no_mask"]          class names in output order
  "input": {"width": 96, "height": 96,          the model's input size in pixels
            "colour_order": "RGB",              channel order of the input tensor (RGB | BGR)
            "mean": [0, 0, 0], "std": [255, 255, 255]}
                                                input = (pixel - mean) / std, pixel on the 0..255 scale,
                                                before any quantisation (an RKNN model fuses it)

A model without a card (one a user brings) may have a labels file instead: `<model>.txt`, one label per
line, and nothing else is known about it. A board's config.json keeps only what a technician tunes. The
RV1103 board reads the model's facts from a manifest beside its model (model/model.json beside
model/model.rknn, in the card's format, written by the deploy with board_manifest_json); its config.json
may omit `labels` and `color_order`, and the board program's parser (camrt) refuses a config that states
other values, naming both. Standard library only: the RKNN toolkit's venv reads manifests too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from host_tools.errors import UsageError

COLOUR_ORDERS = ("RGB", "BGR")
# Suffixes a model file adds to its card's name: birds_mnv3s_int8.onnx, birds_mnv3s_rv1103.rknn.
VARIANT_SUFFIXES = ("_int8", "_rv1103", "_rv1106")
MAX_LABELS = 1000


@dataclass(frozen=True)
class Manifest:
    labels: tuple[str, ...]
    source: Path  # the card (or, for a model without one, its labels file)
    width: int | None = None
    height: int | None = None
    colour_order: str = "RGB"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def labels_text(self) -> bytes:
        """The labels as a board's labels file wants them (model.txt on the OpenMV camera)."""
        return ("\n".join(self.labels) + "\n").encode("utf-8")


def card_stem(model: Path) -> str:
    name = model.stem
    for suffix in VARIANT_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def card_path(model: Path) -> Path:
    """Where the model's card is: `<model>.json` beside it, else `<name>.json` with a variant suffix
    dropped (birds_mnv3s.json for birds_mnv3s_int8.onnx); the latter when neither exists."""
    own = model.with_suffix(".json")
    if own != model and own.is_file():
        return own
    return model.with_name(card_stem(model) + ".json")


def _fail(where: Path, msg: str) -> UsageError:
    return UsageError(f"model manifest {where}: {msg}")


def _labels(value, where: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(x, str) and x.strip() for x in value):
        raise _fail(where, "'labels' must be a non-empty list of names (the model's classes in output order)")
    if len(value) > MAX_LABELS:
        raise _fail(where, f"{len(value)} labels, at most {MAX_LABELS}")
    if len(set(value)) != len(value):
        dup = next(x for x in value if value.count(x) > 1)
        raise _fail(where, f"label {dup!r} appears twice")
    return tuple(value)


def _triple(value, key: str, where: Path) -> tuple[float, float, float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (float(value),) * 3
    if isinstance(value, list) and len(value) == 3 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return (float(value[0]), float(value[1]), float(value[2]))
    raise _fail(where, f"input.{key} must be a number or a list of three numbers, got {value!r}")


def _size(value, key: str, where: Path) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 16384:
        raise _fail(where, f"input.{key} must be a whole number of pixels, got {value!r}")
    return value


def read_labels_file(path: Path) -> tuple[str, ...]:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise UsageError(f"labels {path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise UsageError(f"labels {path}: not UTF-8 text") from None
    labels = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not labels:
        raise UsageError(f"labels {path}: no labels (one per line expected)")
    return _labels(labels, path)


def read_card(path: Path) -> Manifest:
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _fail(path, f"cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise _fail(path, f"not valid JSON ({exc})") from None
    if not isinstance(card, dict):
        raise _fail(path, "expected a JSON object")
    inp = card.get("input") if isinstance(card.get("input"), dict) else {}
    order = inp.get("colour_order", "RGB")
    if order not in COLOUR_ORDERS:
        raise _fail(path, f"input.colour_order must be RGB or BGR, got {order!r}")
    std = _triple(inp.get("std", 1.0), "std", path)
    if min(std) <= 0:
        raise _fail(path, f"input.std must be positive, got {list(std)}")
    return Manifest(labels=_labels(card.get("labels"), path), source=path,
                    width=_size(inp.get("width"), "width", path),
                    height=_size(inp.get("height"), "height", path),
                    colour_order=order, mean=_triple(inp.get("mean", 0.0), "mean", path), std=std)


def load_manifest(model: Path) -> Manifest:
    """The manifest of `model`: its card, else (labels only) its labels file. UsageError when it has
    neither, naming both places looked at."""
    card = card_path(model)
    if card.is_file():
        return read_card(card)
    labels = model.with_suffix(".txt")
    if labels.is_file():
        return Manifest(labels=read_labels_file(labels), source=labels)
    raise UsageError(f"model {model}: no manifest beside it (neither a model card {card.name} nor a labels "
                     f"file {labels.name}, one label per line): its scores cannot be named")


def board_manifest_json(manifest: Manifest) -> bytes:
    """The manifest a board keeps beside its model (model/model.json on the RV1103): the card's keys for the
    facts a board needs (labels; input size, colour order and normalisation), nothing else. read_card reads
    it back as the same Manifest."""
    inp: dict = {}
    if manifest.width is not None:
        inp["width"] = manifest.width
    if manifest.height is not None:
        inp["height"] = manifest.height
    inp.update(colour_order=manifest.colour_order, mean=list(manifest.mean), std=list(manifest.std))
    return (json.dumps({"labels": list(manifest.labels), "input": inp}, indent=2) + "\n").encode("utf-8")


if __name__ == "__main__":  # rv1103_app/build_board.sh: the manifest a deploy folder keeps beside its model
    import sys

    try:
        sys.stdout.buffer.write(board_manifest_json(load_manifest(Path(sys.argv[1]))))
    except (UsageError, IndexError) as exc:
        sys.exit(f"model_manifest: {exc or 'usage: python -m host_tools.model_manifest MODEL'}")
