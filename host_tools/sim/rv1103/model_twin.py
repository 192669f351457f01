"""The model the emulated RV1103 runs: an ONNX twin of the board's .rknn, described by its model card.

The card (<model>.json beside the ONNX files, e.g. models/birds/birds_lite0.json) is the model's manifest
(host_tools/model_manifest.py): labels, input size, colour order and the normalisation the .rknn fuses
(mean/std on the 0..255 scale).
The emulator feeds the ONNX twin the same uint8 tensor the board's NPU gets and applies that normalisation
on the CPU, as the NPU would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from host_tools.errors import UsageError
from host_tools.model_manifest import card_path, card_stem, load_manifest

# The RV1103's default model, named by its card (the card lists the board's .rknn and its ONNX twins).
DEFAULT_CARD_NAME = "birds/birds_lite0.json"


def default_card() -> Path:
    # host_tools.paths is imported here, not at the top: the tensor service also runs in the RKNN toolkit's
    # own venv, which has this module's few needs (stdlib, numpy) but not the package's dependencies.
    from host_tools.paths import MODELS_DIR

    return MODELS_DIR / DEFAULT_CARD_NAME


@dataclass
class ModelTwin:
    onnx: Path  # what ONNX Runtime runs
    float_onnx: Path | None  # what the RKNN simulator builds from (it quantises a float model itself)
    labels: list[str] | None  # from the manifest, None for a model without one
    colour_order: str  # "RGB" | "BGR": channel order of the input tensor
    mean: tuple[float, float, float]  # on the 0..255 scale, applied as (x - mean) / std
    std: tuple[float, float, float]
    card: Path | None


def read_card(card_path: Path) -> dict:
    try:
        card = json.loads(card_path.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the model card {card_path}: {exc}") from exc
    if not isinstance(card, dict):
        raise UsageError(f"model card {card_path}: expected a JSON object")
    return card


def card_twin_onnx(card: Path) -> Path:
    """The ONNX twin a card names: `<name>_int8.onnx` (what the board's int8 .rknn is closest to), else
    `<name>.onnx`."""
    int8 = card.with_name(card.stem + "_int8.onnx")
    return int8 if int8.is_file() else card.with_name(card.stem + ".onnx")


def card_board_model(card: Path) -> Path | None:
    """The .rknn the card lists for the board (its "files_bytes"), if it is there."""
    files = read_card(card).get("files_bytes") if card.is_file() else None
    for name in files or ():
        if str(name).endswith(".rknn") and (card.parent / name).is_file():
            return card.parent / name
    return None


def load_twin(model: Path | None) -> ModelTwin:
    """The ONNX model to run (default: the twin the default card names) with its card and labels."""
    onnx = Path(model) if model else card_twin_onnx(default_card())
    if not onnx.is_file():
        hint = " (the bird model is made by models/birds' recipe)" if model is None else ""
        raise UsageError(f"model not found: {onnx}{hint}")
    if onnx.suffix.lower() != ".onnx":
        raise UsageError(f"--model must be an ONNX file (a .rknn cannot run on the host), got {onnx}")
    manifest = None
    try:
        manifest = load_manifest(onnx)
    except UsageError:
        if card_path(onnx).is_file() or onnx.with_suffix(".txt").is_file():
            raise  # a broken manifest: say so (a model with neither card nor labels file runs unnamed)
    float_onnx = onnx.with_name(card_stem(onnx) + ".onnx")
    return ModelTwin(
        onnx=onnx,
        float_onnx=float_onnx if float_onnx.is_file() else None,
        labels=list(manifest.labels) if manifest else None,
        colour_order=manifest.colour_order if manifest else "RGB",
        mean=manifest.mean if manifest else (0.0, 0.0, 0.0),
        std=manifest.std if manifest else (1.0, 1.0, 1.0),
        card=manifest.source if manifest and manifest.source.suffix == ".json" else None,
    )
