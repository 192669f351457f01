"""Put the app, a model, its labels and a config into an emulated camera's filesystem (before it boots).

This is what `host_tools sim openmv` (without --pty) does instead of `host_tools flash`: a plain copy, with
the board's filesystem size enforced as the camera would.
"""

from __future__ import annotations

from pathlib import Path

from host_tools.errors import RefusedError, UsageError
from host_tools.paths import OPENMV_APP_DIR

MAIN = "main.py"


def install(fs_root: Path, model: Path, config: Path | None, fs_bytes: int,
            app_dir: Path = OPENMV_APP_DIR) -> list[str]:
    """Copies app_dir/*.py + model (as model.tflite) + labels (model.txt) + config (config.json, if given).

    Refuses (RefusedError) if the files do not fit the filesystem, and (UsageError) if the app has no main.py:
    a camera without one would boot into nothing.
    """
    if not (app_dir / MAIN).is_file():
        raise UsageError(f"app not found: {app_dir / MAIN} is missing (the camera would have nothing to run)")
    files = {p.name: p.read_bytes() for p in sorted(app_dir.glob("*.py"))}
    files["model.tflite"] = model.read_bytes()
    files["model.txt"] = model.with_suffix(".txt").read_bytes()
    if config is not None:
        files["config.json"] = config.read_bytes()
    kept = sum(
        p.stat().st_size
        for p in fs_root.rglob("*")
        if p.is_file() and p.relative_to(fs_root).as_posix() not in files
    )
    needed = kept + sum(len(b) for b in files.values())
    if needed > fs_bytes:
        raise RefusedError(
            f"the files do not fit the camera's {fs_bytes}-byte flash filesystem: model.tflite is "
            f"{len(files['model.tflite'])} bytes, {needed} bytes needed in all ({kept} already there)"
        )
    for name, data in files.items():
        (fs_root / name).write_bytes(data)
    return list(files)
