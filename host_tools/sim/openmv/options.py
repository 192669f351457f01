"""SimOptions: what an emulated OpenMV camera replays and which board/firmware it pretends to be."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from host_tools.errors import UsageError
from host_tools.model_budget import BOARDS
from host_tools.paths import state_dir

DEFAULT_FS_ROOT = state_dir("openmv_fs")  # `host_tools sim openmv` passes its own (fresh or --fs)
LEGACY_TF_LAST = (4, 5, 5)  # firmware <= 4.5.5 has `tf` (load/classify) and no `ml`
CSI_FIRST = (5, 0, 0)  # firmware 5 adds the `csi` module (`sensor` stays as the older API)


@dataclass
class SimOptions:
    frames: Path  # folder of images (sorted by name) or a video file
    board: str = "h7"  # "h7" | "h7plus"
    fps: float = 10.0
    count: int | None = None  # stop main.py after N snapshots (None = run to the end of the frames)
    fs_root: Path = field(default_factory=lambda: DEFAULT_FS_ROOT)  # camera filesystem (persists)
    firmware: str = "4.6.0"  # "<=4.5.5" gives the legacy `tf` module and no `ml`
    loop: bool = False  # replay the frames forever (for --pty sessions)


def check_run_options(board: str, fps: float, count: int | None) -> None:
    """UsageError for a board, FPS or frame count the emulator cannot run."""
    if board not in BOARDS:
        raise UsageError(f"unknown board {board!r}; choose one of: {', '.join(BOARDS)}")
    if not fps > 0:
        raise UsageError(f"--fps must be > 0 (got {fps:g})")
    if count is not None and count < 1:
        raise UsageError(f"--count must be >= 1 (got {count})")


def firmware_version(text: str) -> tuple[int, int, int]:
    """'4.6.0' -> (4, 6, 0); '<=4.5.5' means 4.5.5 (the last firmware with the legacy `tf` API)."""
    raw = text.strip().lstrip("<=v")
    parts = raw.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"firmware version {text!r} is not like 4.6.0 or <=4.5.5")
    nums = [int(p) for p in parts] + [0] * (3 - len(parts))
    return nums[0], nums[1], nums[2]
