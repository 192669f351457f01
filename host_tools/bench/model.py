"""Which model the board runs (given, or found by its SHA-256 on the device among the models/ folder), and
its size, MACs and ESTIMATED board latency (host_tools.profile)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from host_tools.devices.base import Device
from host_tools.errors import DeviceError, HostToolsError

OPENMV_MODEL = "model.tflite"


def _local_models(suffix: str) -> dict[str, Path]:
    from host_tools.paths import MODELS_DIR

    return {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in sorted(MODELS_DIR.rglob(f"*{suffix}"))}


def device_model_hash(device: Device) -> str | None:
    """SHA-256 of the model file on the device (OpenMV: stops the app; the caller restarts it)."""
    try:
        if device.board == "openmv":
            return device.files().sha256(OPENMV_MODEL)  # type: ignore[attr-defined]
        from host_tools.devices.linux import APP_DIR

        cfg = json.loads(device.read_config())
        path = str(cfg.get("model", "model/model.rknn"))
        path = path if path.startswith("/") else f"{APP_DIR}/{path}"
        r = device.run(["sha256sum", path])
        return r.output.split()[0] if r.status == 0 and r.output.strip() else None
    except (DeviceError, ValueError, AttributeError, IndexError, OSError):
        return None


def find_model(device: Device) -> tuple[Path | None, str]:
    digest = device_model_hash(device)
    if digest is None:
        return None, "the device's model could not be read"
    local = _local_models(".tflite" if device.board == "openmv" else ".rknn").get(digest)
    if local is None:
        return None, "the device's model matches no file under models/ (give --model PATH)"
    return local, "found by its SHA-256 on the device"


def model_facts(path: Path, board: str) -> tuple[dict | None, dict | None]:
    """(model figures, estimate) for the report; (None, None) when the file cannot be profiled."""
    from host_tools.profile.cost_model import estimate
    from host_tools.profile.report import graph_of

    target = "h7" if board == "openmv" else "rv1103"
    try:
        graph, source, _card = graph_of(Path(path), target)
    except HostToolsError:
        return None, None
    model = {
        "name": Path(path).name,
        "path": str(path),
        "file_bytes": Path(path).stat().st_size,
        "macs": graph.macs,
        "params": graph.params,
        "graph_source": source,
        "found": "",
    }
    return model, estimate(graph, target).as_dict()
