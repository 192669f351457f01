"""Fixtures for the OpenMV app + emulator tests: the mask model, a few real frames, a camera runner."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from host_tools.model_budget import BOARDS
from host_tools.paths import MASKS_MODEL, MASKS_SAMPLE_FRAMES
from host_tools.sim.openmv.camera import EmulatedCamera, SimOptions
from host_tools.sim.openmv.install import install

FIXTURE_MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "models"


@pytest.fixture(scope="session")
def masks_model() -> Path:
    return MASKS_MODEL  # committed with its card (models/masks)


@pytest.fixture(scope="session")
def mask_frames(tmp_path_factory, request) -> Path:
    """Six real frames of mixed classes (the bundled sample, else two per class from the shared data)."""
    out = tmp_path_factory.mktemp("frames")
    picked: list[Path] = []
    if MASKS_SAMPLE_FRAMES.is_dir() and any(MASKS_SAMPLE_FRAMES.glob("*.jpg")):
        every = sorted(MASKS_SAMPLE_FRAMES.glob("*.jpg"))
        picked = every[:: max(1, len(every) // 6)][:6]
    else:
        data = request.getfixturevalue("shared_data") / "masks"
        per_class = [sorted((data / c).glob("C-*.jpg"))[::7][:2] for c in ("good", "bad", "no_mask")]
        picked = [per_class[c][i] for i in range(2) for c in range(3)]
    for i, p in enumerate(picked):
        shutil.copy(p, out / f"{i:03d}_{p.name}")
    return out


@dataclass
class Run:
    output: str
    results: list[dict]
    other_lines: list[str]
    camera: EmulatedCamera
    fs: Path
    events: list = field(default_factory=list)  # the app's event lines (config reloads), as dicts


def _run_app(
    fs: Path,
    frames: Path,
    model: Path,
    config: dict | str | bytes | None = None,
    *,
    firmware: str = "4.6.0",
    board: str = "h7",
    count: int | None = None,
    on_line=None,
) -> Run:
    """Install the real app + model (+ config) into `fs` and run main.py on an emulated camera."""
    fs.mkdir(parents=True, exist_ok=True)
    cfg_path = None
    if config is not None:
        cfg_path = fs.parent / f"{fs.name}-config.json"
        if isinstance(config, bytes):
            cfg_path.write_bytes(config)  # e.g. a file in another encoding
        else:
            cfg_path.write_text(config if isinstance(config, str) else json.dumps(config))
    install(fs, model, cfg_path, BOARDS[board].fs_bytes)
    chunks: list[str] = []
    pending = [""]
    holder: dict[str, EmulatedCamera] = {}

    def write(text: str) -> None:
        chunks.append(text)
        pending[0] += text
        while "\n" in pending[0]:
            line, pending[0] = pending[0].split("\n", 1)
            if on_line is not None:
                on_line(line, holder["cam"])

    cam = EmulatedCamera(
        SimOptions(frames=frames, board=board, fps=1000.0, count=count, fs_root=fs, firmware=firmware), write
    )
    holder["cam"] = cam
    cam.run_main()
    output = "".join(chunks)
    results, other, events = [], [], []
    for line in output.splitlines():
        obj = json.loads(line) if line.startswith("{") else None
        if isinstance(obj, dict) and "event" in obj:
            events.append(obj)
        elif isinstance(obj, dict) and "frame" in obj:
            results.append(obj)
        else:
            other.append(line)
    return Run(output, results, other, cam, fs, events)


@pytest.fixture(scope="session")
def run_app():
    """run_app(fs, frames, model, config=None, *, firmware, board, count, on_line) -> Run.

    on_line(line, camera) is called for each line the app prints, while the app runs."""
    return _run_app


@pytest.fixture(scope="session")
def ref():
    """The independent numpy + LiteRT reference (tests/openmv/_reference.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "openmv_reference", Path(__file__).with_name("_reference.py")
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
