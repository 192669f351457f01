"""An RV1103 config as the board program reads it: camrt's parser (the board program's own C++ code) with the
model's manifest as the board keeps it beside the model (model/model.json, written by the deploy).

The manifest owns the labels and the colour order; a config may omit them, and one that states other values
is refused by camrt, naming both. Every host tool that checks an RV1103 config (flash, check, sim, tune)
goes through here, so the board's rule is decided in one place.
"""

from __future__ import annotations

from pathlib import Path

from host_tools.model_manifest import Manifest, board_manifest_json, card_path, load_manifest


def manifest_of(model: Path) -> Manifest | None:
    """The model's manifest (its card, else its labels file); None for a model brought without either.
    UsageError for one that is there but broken."""
    if card_path(model).is_file() or model.with_suffix(".txt").is_file():
        return load_manifest(model)
    return None


def board_manifest(manifest: Manifest | None):
    """The manifest as the board program parses it (camrt.ModelManifest), from the file the deploy writes."""
    if manifest is None:
        return None
    import camrt

    return camrt.parse_manifest(board_manifest_json(manifest).decode("utf-8"), str(manifest.source))


def parse(text: str, manifest: Manifest | None):
    """The camrt.Config the board program would run on; camrt.ConfigError with its message otherwise."""
    import camrt

    return camrt.parse_config(text, board_manifest(manifest))


def contradiction(config: Path, manifest: Manifest | None) -> str | None:
    """What the board program would say of a config that contradicts the model's manifest (None when it
    agrees, or cannot be read: the program reports a broken config itself, in its log)."""
    import camrt

    if manifest is None:
        return None
    try:
        parse(config.read_text(encoding="utf-8"), manifest)
    except (OSError, UnicodeError):
        return None
    except camrt.ConfigError as exc:
        return str(exc) if "model manifest" in str(exc) else None
    return None
