"""A setting as the config file the device reads, validated by the device's own parser on the host too.

RV1103: camrt.parse_config (cpp_runtime/src/config.cpp, the board program's parser) with the model's
manifest, which owns the labels (a config may omit them). OpenMV: the app's openmv_app/config.py parse().
A refused config raises ConfigRefused with the parser's own messages, which name the field and its allowed
range.
"""

from __future__ import annotations

import json

from host_tools.errors import RefusedError
from host_tools.paths import OPENMV_APP_DIR, RV1103_CONFIG
from host_tools.tune.decide import Setting, openmv_module


class ConfigRefused(RefusedError):
    """The config breaks the device's rules; nothing was changed."""


def default_config(board: str) -> dict:
    path = RV1103_CONFIG if board == "rv1103" else OPENMV_APP_DIR / "config.json"
    return json.loads(path.read_text(encoding="utf-8"))


def with_setting(board: str, base: dict, labels: list[str], setting: Setting) -> dict:
    cfg = dict(base)
    if board == "openmv":
        cfg["threshold"] = round(float(setting.thresholds[0]), 4)
        cfg["smoothing"] = int(setting.smoothing)
    else:  # the labels stay where they are: the model's manifest (or a config that names them)
        pairs = zip(labels, setting.thresholds, strict=True)
        cfg["thresholds"] = {lab: round(float(t), 4) for lab, t in pairs}
        cfg["penalty"] = round(float(setting.penalty), 4)
        cfg["k"] = int(setting.k)
        cfg["hysteresis"] = int(setting.hysteresis)
    return cfg


def render(cfg: dict) -> bytes:
    return (json.dumps(cfg, indent=2) + "\n").encode("utf-8")


def _stand_in(labels: list[str], text: str):
    """A manifest with the device's labels, where its own is not at hand (a recorded session knows the labels
    only): the colour order is left as the config states it."""
    import camrt

    try:
        order = json.loads(text).get("color_order")
    except (ValueError, AttributeError):
        order = None
    inp = {"colour_order": order} if order in ("RGB", "BGR") else {}
    return camrt.parse_manifest(json.dumps({"labels": list(labels), "input": inp}), "the device's labels")


def validate(board: str, data: bytes, labels: list[str] | None, manifest=None) -> dict:
    """The parsed config when the device's parser accepts `data` (and its labels are the model's), else
    ConfigRefused with the parser's messages. RV1103: `manifest` is the model manifest the board reads
    (camrt.ModelManifest); without one, `labels` stand in for it."""
    if board == "rv1103":
        import camrt

        try:
            text = data.decode("utf-8")
        except UnicodeError:
            raise ConfigRefused("config refused: not UTF-8 text (save the file as UTF-8)") from None
        try:
            if manifest is None and labels is not None:
                manifest = _stand_in(labels, text)
            cfg = camrt.parse_config(text, manifest)
        except camrt.ConfigError as exc:
            raise ConfigRefused(f"config refused: {exc}") from None
        if labels is not None and list(cfg.labels) != list(labels):
            raise ConfigRefused(f"config refused: 'labels' is {list(cfg.labels)}, the device's model has "
                                f"{list(labels)} (in that order)")
        return json.loads(cfg.to_json())
    parsed, errors = openmv_module("config").parse(data, labels or [])
    if errors:
        raise ConfigRefused("config refused: " + "; ".join(errors))
    return parsed


def setting_of(board: str, cfg: dict, labels: list[str]) -> Setting:
    """The tuned knobs of a config (defaults filled in by the device's parser)."""
    parsed = validate(board, render(cfg), labels)
    if board == "openmv":
        return Setting((float(parsed["threshold"]),), smoothing=int(parsed["smoothing"]))
    thr = parsed["thresholds"]
    return Setting(tuple(float(thr[lab]) for lab in labels), float(parsed["penalty"]), int(parsed["k"]),
                   int(parsed["hysteresis"]))


def fallback_index(board: str, cfg: dict, labels: list[str]) -> int:
    fb = cfg.get("fallback") if board == "rv1103" else None
    return labels.index(fb) if isinstance(fb, str) and fb in labels else -1
