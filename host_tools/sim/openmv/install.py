"""Put the app, a model, its labels and a config into an emulated camera's filesystem (before it boots).

This is what `host_tools sim openmv` (without --pty) does instead of `host_tools flash`: a plain copy, with
the board's filesystem size enforced as the camera would.
"""

from __future__ import annotations

from pathlib import Path

from host_tools.errors import RefusedError, UsageError
from host_tools.model_manifest import load_manifest
from host_tools.paths import OPENMV_APP_DIR

MAIN = "main.py"


def install(fs_root: Path, model: Path, config: Path | None, fs_bytes: int,
            app_dir: Path = OPENMV_APP_DIR) -> list[str]:
    """Copies app_dir/*.py + model (as model.tflite) + its manifest's labels (model.txt) + config
    (config.json, if given).

    Refuses (RefusedError) if the files do not fit the filesystem, and (UsageError) if the app has no main.py:
    a camera without one would boot into nothing.
    """
    if not (app_dir / MAIN).is_file():
        raise UsageError(f"app not found: {app_dir / MAIN} is missing (the camera would have nothing to run)")
    files = {p.name: p.read_bytes() for p in sorted(app_dir.glob("*.py"))}
    files["model.tflite"] = model.read_bytes()
    files["model.txt"] = load_manifest(model).labels_text()  # the labels, from the model's manifest
    if config is not None:
        files["config.json"] = config.read_bytes()
    from host_tools.model_budget import fat_geometry

    geo = fat_geometry(fs_bytes)  # FAT: every file takes whole clusters
    kept = sum(
        geo.clusters_for(p.stat().st_size)
        for p in fs_root.rglob("*")
        if p.is_file() and p.relative_to(fs_root).as_posix() not in files
    )
    needed = kept + sum(geo.clusters_for(len(b)) for b in files.values())
    if needed > geo.clusters:
        raise RefusedError(
            f"the files do not fit the camera's flash filesystem ({geo.usable_bytes} usable bytes: "
            f"{geo.clusters} clusters of {geo.cluster_bytes}): model.tflite is {len(files['model.tflite'])} "
            f"bytes, {needed * geo.cluster_bytes} bytes needed in all ({kept * geo.cluster_bytes} already "
            "there)"
        )
    for name, data in files.items():
        (fs_root / name).write_bytes(data)
    return list(files)
