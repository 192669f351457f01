"""The model the emulated RV1103 runs: an ONNX twin of the board's .rknn, described by its model card.

The card (<model>.json beside the ONNX files, e.g. models/birds/birds_mnv3s.json) says how the board feeds
the NPU: input size, colour order and the normalisation the .rknn fuses (mean/std on the 0..255 scale).
The emulator feeds the ONNX twin the same uint8 tensor the board's NPU gets and applies that normalisation
on the CPU, as the NPU would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from host_tools.errors import UsageError

# The RV1103's default model, named by its card (the card lists the board's .rknn and its ONNX twins).
DEFAULT_CARD_NAME = "birds/birds_mnv3s.json"


def default_card() -> Path:
    # host_tools.paths is imported here, not at the top: the tensor service also runs in the RKNN toolkit's
    # own venv, which has this module's few needs (stdlib, numpy) but not the package's dependencies.
    from host_tools.paths import MODELS_DIR

    return MODELS_DIR / DEFAULT_CARD_NAME


@dataclass
class ModelTwin:
    onnx: Path  # what ONNX Runtime runs
    float_onnx: Path | None  # what the RKNN simulator builds from (it quantises a float model itself)
    labels: list[str] | None  # from the labels file, None when there is none
    colour_order: str  # "RGB" | "BGR": channel order of the input tensor
    mean: tuple[float, float, float]  # on the 0..255 scale, applied as (x - mean) / std
    std: tuple[float, float, float]
    card: Path | None


def _triple(value, key: str, card: Path) -> tuple[float, float, float]:
    if isinstance(value, (int, float)):
        return (float(value),) * 3
    if isinstance(value, list) and len(value) == 3 and all(isinstance(v, (int, float)) for v in value):
        return (float(value[0]), float(value[1]), float(value[2]))
    raise UsageError(f"model card {card}: '{key}' must be a number or a list of three numbers, got {value!r}")


def _find(card: dict, *keys: str):
    """First present key, also inside a "preprocessing"/"input" sub-object."""
    inp = card.get("input")
    for scope in (card, card.get("preprocessing") or {}, inp if isinstance(inp, dict) else {}):
        for k in keys:
            if k in scope:
                return scope[k]
    return None


def _stem(onnx: Path) -> str:
    name = onnx.stem
    return name[: -len("_int8")] if name.endswith("_int8") else name


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
    stem = _stem(onnx)
    card_path = onnx.with_name(stem + ".json")
    card = read_card(card_path) if card_path.is_file() else {}
    order = str(_find(card, "colour_order", "color_order", "channel_order") or "RGB").upper()
    if order not in ("RGB", "BGR"):
        raise UsageError(f"model card {card_path}: colour order must be RGB or BGR, got {order!r}")
    mean = _triple(_find(card, "mean", "mean_values") or 0.0, "mean", card_path)
    std = _triple(_find(card, "std", "std_values") or 1.0, "std", card_path)
    if min(std) <= 0:
        raise UsageError(f"model card {card_path}: std must be positive, got {std}")
    labels_path = onnx.with_name(stem + ".txt")
    labels = None
    if labels_path.is_file():
        labels = [ln.strip() for ln in labels_path.read_text().splitlines() if ln.strip()]
    float_onnx = onnx.with_name(stem + ".onnx")
    return ModelTwin(
        onnx=onnx,
        float_onnx=float_onnx if float_onnx.is_file() else None,
        labels=labels,
        colour_order=order,
        mean=mean,
        std=std,
        card=card_path if card else None,
    )
