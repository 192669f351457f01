"""Does a .tflite model fit an OpenMV board? File vs flash filesystem; file + tensor arena vs heap block.

The tensor arena is measured with TFLite Micro itself (the interpreter the firmware runs): the smallest
arena_size for which TFLM allocates the model's tensors. Probing runs in a subprocess because TFLM can
crash the process on too small an arena; results are cached per file hash (memory + the user cache dir).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from host_tools.paths import cache_dir

CACHE_DIR = cache_dir("arena")
KIB = 1024


@dataclass(frozen=True)
class BoardBudget:
    name: str
    fs_bytes: int  # flash filesystem holding main.py, model.tflite, model.txt, config.json
    heap_block_bytes: int  # largest heap block: model file (loaded from fs) + tensor arena must fit in it


BOARDS: dict[str, BoardBudget] = {
    # OPENMV4 board_config.h: 128 KB internal-flash fs; GC heap 64 KB (SRAM4) + 264 KB (SRAM1). The
    # largest free block once MicroPython and the app run: 256 KiB (the figure, ~8 KB slack).
    "h7": BoardBudget("h7", fs_bytes=128 * KIB, heap_block_bytes=256 * KIB),
    # OPENMV4P: the filesystem is on the external QSPI flash (micropython mpconfigboard.h:
    # MICROPY_HW_ENABLE_INTERNAL_FLASH_STORAGE 0, MICROPY_HW_SPIFLASH_SIZE_BITS 192 Mbit = 24 MiB; the
    # last 8 MB of the chip is ROMFS). The big GC block is OMV_GC_BLOCK1_SIZE = 4M of SDRAM
    # (board_config.h); we keep 256 KiB of it back for MicroPython and the app: a 3.75 MiB block.
    "h7plus": BoardBudget("h7plus", fs_bytes=24 * KIB * KIB, heap_block_bytes=4 * KIB * KIB - 256 * KIB),
}


@dataclass(frozen=True)
class ModelFit:
    model_bytes: int
    arena_bytes: int
    fs_bytes: int
    heap_block_bytes: int
    fits: bool
    reason: str  # "" when it fits, else a sentence naming the bytes needed and available


# Runs in a fresh interpreter: bisects the smallest arena TFLM accepts, starting from the arena use TFLM
# records with a generous arena (print_allocations writes it to the C-level stderr).
_PROBE = r"""
import os, sys, re, tempfile
from tflite_micro import runtime
path = sys.argv[1]
big = 64 * 1024 * 1024
err = tempfile.TemporaryFile()
saved = os.dup(2); os.dup2(err.fileno(), 2)
try:
    it = runtime.Interpreter.from_file(path, arena_size=big)
    it.print_allocations()
finally:
    os.dup2(saved, 2)
err.seek(0)
m = re.search(rb"Arena allocation total (\d+) bytes", err.read())
lo = int(m.group(1)) if m else 1024
del it
def ok(n):
    try:
        runtime.Interpreter.from_file(path, arena_size=n)
        return True
    except RuntimeError:
        return False
hi = lo
while not ok(hi):
    lo, hi = hi, hi * 2
# invariant: ok(hi) and (lo == hi or not ok(lo))
while hi - lo > 16:
    mid = (lo + hi) // 2 // 16 * 16
    if mid <= lo:
        break
    if ok(mid):
        hi = mid
    else:
        lo = mid
print(hi)
"""

_memo: dict[str, int] = {}


def _tflm_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tflite-micro")
    except PackageNotFoundError:
        return "unknown"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def measure_arena(model_path: Path) -> int:
    """Tensor arena bytes the model needs in TFLite Micro (smallest arena that allocates, 16-byte steps)."""
    model_path = Path(model_path)
    digest = _sha256(model_path)
    if digest in _memo:
        return _memo[digest]
    cache = CACHE_DIR / f"{digest}-{_tflm_version()}.json"  # a new TFLM may need another arena
    try:
        arena = int(json.loads(cache.read_text())["arena_bytes"])
    except (OSError, ValueError, KeyError):
        proc = subprocess.run(
            [sys.executable, "-c", _PROBE, str(model_path)], capture_output=True, text=True, timeout=300
        )
        if proc.returncode != 0 or not proc.stdout.strip().isdigit():
            tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise ValueError(f"TFLite Micro cannot load {model_path.name}: {tail}") from None
        arena = int(proc.stdout.strip())
        try:
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps({"arena_bytes": arena, "file": model_path.name}))
        except OSError:
            pass  # a read-only checkout still works, only slower
    _memo[digest] = arena
    return arena


def fit_figures(model_bytes: int, arena_bytes: int, board: str) -> ModelFit:
    """The fit verdict from known sizes (shared by check_model_fits and the emulated `ml` module)."""
    b = BOARDS[board]
    if model_bytes > b.fs_bytes:
        reason = (
            f"model file is {model_bytes} bytes but the {board} flash filesystem holds {b.fs_bytes} bytes"
        )
    elif model_bytes + arena_bytes > b.heap_block_bytes:
        reason = (
            f"model file {model_bytes} + tensor arena {arena_bytes} = {model_bytes + arena_bytes} bytes "
            f"needed, largest {board} heap block is {b.heap_block_bytes} bytes"
        )
    else:
        reason = ""
    return ModelFit(model_bytes, arena_bytes, b.fs_bytes, b.heap_block_bytes, not reason, reason)


def check_model_fits(model_path: Path, board: str) -> ModelFit:
    if board not in BOARDS:
        raise ValueError(f"unknown board {board!r} (known: {', '.join(BOARDS)})")
    model_path = Path(model_path)
    return fit_figures(model_path.stat().st_size, measure_arena(model_path), board)
