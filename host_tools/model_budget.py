"""Does a .tflite model fit an OpenMV board on a given firmware? One memory model for flash and the emulator.

Filesystem: the flash filesystem is FAT (FatFs f_mkfs with MicroPython's FM_FAT | FM_SFD defaults: one FAT,
512 root entries, automatic cluster size), so files occupy whole clusters and the usable space is less than
the raw size (the H7's 128 KiB give 222 clusters of 512 bytes: 113,664 bytes). `fat_geometry` derives it.

Heap (firmware 4.5.6+, `ml`; lib/tflm/tflm_backend.cc and modules/py_ml.c): the model file is read into a
GC allocation of round32(size) + 31 bytes; TFLite Micro is then probed with the largest free block as its
arena; the arena kept is round16(used) + 512, plus the op resolver (MicroMutableOpResolver<113>, about
4.5 KB) and the interpreter, all in the GC heap, which is split in blocks (an allocation fits in one block).
Firmware 5 puts a model file that fits no block in UMA instead. The legacy `tf` module (<= 4.5.5) reads the
file into the GC heap and takes its arena from fb_alloc, the frame buffer pool left beside the frame.

The arena is measured with TFLite Micro's reference kernels (the smallest arena it accepts, probed in a
subprocess because a too-small arena can crash it; cached per file hash in memory and in the
user cache dir). The firmware links the CMSIS-NN
kernels, whose scratch buffers the reference kernels do not request: their sizes are derived from the
model's layers (CMSIS-NN's *_get_buffer_size for a Cortex-M7 with DSP extension) and added. What cannot be
derived gets a stated margin: ARENA_MARGIN for TFLM/CMSIS-NN differences, APP_HEAP_RESERVE for MicroPython
and the app's own bytecode and objects, FB_ALLOC_MARGIN for other fb_alloc users.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from host_tools.openmv_firmware import DEFAULT, KIB, Firmware, board_memory
from host_tools.paths import cache_dir

CACHE_DIR = cache_dir("arena")

# Stated margins (what the firmware source does not let us derive exactly).
APP_HEAP_RESERVE = 24 * KIB  # MicroPython's own objects + the app's bytecode, config, score lists
ARENA_MARGIN = 1 * KIB  # TFLM version / CMSIS-NN kernel differences beyond the derived scratch buffers
FB_ALLOC_MARGIN = 8 * KIB  # the legacy tf's print buffer and imlib's temporary fb_alloc use
# Derived from the firmware source.
TF_ARENA_EXTRA, TF_ARENA_ALIGN = 512, 16  # lib/tflm/tflm_backend.cc
MODEL_ALIGN = 32  # modules/py_ml.c: IMLIB_ML_MODEL_ALIGN (the M7's cache line)
OP_RESOLVER_BYTES = 113 * 40  # MicroMutableOpResolver<113>: registration, op code and parser per slot
INTERPRETER_BYTES = 1024  # MicroInterpreter object + backend state (estimate)
GC_BLOCK = 16  # MicroPython GC allocation granularity (MICROPY_BYTES_PER_GC_BLOCK)
SECTOR = 512


@dataclass(frozen=True)
class BoardBudget:
    """The hardware: raw flash filesystem size (memory depends on the firmware: model_budget.memory)."""

    name: str
    fs_bytes: int  # raw size of the flash filesystem volume


BOARDS: dict[str, BoardBudget] = {
    # OPENMV4: 128 KB internal-flash filesystem.
    "h7": BoardBudget("h7", fs_bytes=128 * KIB),
    # OPENMV4P: filesystem on the external QSPI flash (MICROPY_HW_SPIFLASH_SIZE_BITS 192 Mbit = 24 MiB).
    "h7plus": BoardBudget("h7plus", fs_bytes=24 * KIB * KIB),
}


# --- filesystem ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FatGeometry:
    cluster_bytes: int
    clusters: int  # data clusters (statvfs f_blocks)
    root_entries: int

    @property
    def usable_bytes(self) -> int:
        return self.cluster_bytes * self.clusters

    def clusters_for(self, nbytes: int) -> int:
        return -(-nbytes // self.cluster_bytes)


def fat_geometry(volume_bytes: int) -> FatGeometry:
    """FatFs f_mkfs(FM_FAT | FM_SFD, au=0): 1 reserved sector, 1 FAT, 512 root entries, no partition table."""
    sz_vol = volume_bytes // SECTOR
    n = sz_vol // 0x1000  # volume size in 4K-sector units picks the cluster size (FatFs cst table)
    pau = 1
    for step in (1, 4, 16, 64, 256, 512):
        if step > n:
            break
        pau <<= 1
    n_clst = sz_vol // pau
    fat_bytes = n_clst * 2 + 4 if n_clst > 0xFF5 else (n_clst * 3 + 1) // 2 + 3  # FAT16 : FAT12
    sz_fat = -(-fat_bytes // SECTOR)
    root_entries = 512
    sz_dir = root_entries * 32 // SECTOR
    clusters = (sz_vol - 1 - sz_fat - sz_dir) // pau
    return FatGeometry(pau * SECTOR, clusters, root_entries)


def dir_entries(name: str) -> int:
    """Directory entries a file name takes: one for an 8.3 name, plus 13 characters per long-name entry."""
    base, _, ext = name.rpartition(".") if "." in name else (name, "", "")
    ok83 = (0 < len(base) <= 8 and len(ext) <= 3 and name.count(".") <= 1
            and all(c.isalnum() or c in "_-~!#$%&'()@^`{}" for c in base + ext)
            and (base.islower() or base.isupper() or not any(c.isalpha() for c in base))
            and (ext.islower() or ext.isupper() or not any(c.isalpha() for c in ext)))
    return 1 if ok83 else 1 + -(-len(name) // 13)


def fat_usage(files: dict[str, int], geometry: FatGeometry) -> int:
    """Clusters taken by `files` (top-level name -> size), as on the camera."""
    return sum(geometry.clusters_for(size) for size in files.values())


# --- heap ----------------------------------------------------------------------------------------------
class HeapFull(Exception):
    """An allocation that fits no block: (bytes asked, largest free block)."""

    def __init__(self, nbytes: int, largest: int, what: str) -> None:
        self.nbytes, self.largest, self.what = nbytes, largest, what
        super().__init__(f"memory allocation failed, allocating {nbytes} bytes ({what}; largest free heap "
                         f"block {largest} bytes)")


class Heap:
    """The GC heap as blocks with free bytes; first fit in block order (no fragmentation modelled)."""

    def __init__(self, blocks: tuple[int, ...]) -> None:
        self.blocks = tuple(blocks)
        self.free = list(blocks)

    def largest(self) -> int:
        return max(self.free)

    def alloc(self, nbytes: int, what: str) -> int:
        need = -(-nbytes // GC_BLOCK) * GC_BLOCK
        for i, free in enumerate(self.free):
            if need <= free:
                self.free[i] -= need
                return need
        raise HeapFull(nbytes, self.largest(), what)

    def release(self, nbytes: int) -> None:
        """Give bytes back (to the block with the least free space: the one they most likely came from)."""
        i = min(range(len(self.free)), key=lambda k: self.free[k])
        self.free[i] = min(self.blocks[i], self.free[i] + nbytes)


def boot_heap(board: str, fw: Firmware) -> Heap:
    heap = Heap(board_memory(board, fw).heap_blocks)
    heap.alloc(APP_HEAP_RESERVE, "MicroPython and the app")
    return heap


# --- arena ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Arena:
    reference: int  # smallest arena TFLite Micro (reference kernels) accepts
    cmsis_scratch: int  # CMSIS-NN scratch buffers the firmware's kernels request (largest layer)

    @property
    def used(self) -> int:
        """The firmware's arena_used_bytes() estimate."""
        return self.reference + self.cmsis_scratch + ARENA_MARGIN

    @property
    def allocated(self) -> int:
        """What the firmware keeps: round16(used) + 512."""
        return -(-self.used // TF_ARENA_ALIGN) * TF_ARENA_ALIGN + TF_ARENA_EXTRA

    def describe(self) -> str:
        return (f"TFLite Micro reference arena {self.reference} + CMSIS-NN scratch {self.cmsis_scratch} + "
                f"margin {ARENA_MARGIN}, rounded + {TF_ARENA_EXTRA}")


def model_file_alloc(size: int) -> int:
    return -(-size // MODEL_ALIGN) * MODEL_ALIGN + MODEL_ALIGN - 1


def _same_pad(size: int, k: int, stride: int, dil: int, out: int) -> int:
    return max((out - 1) * stride + (k - 1) * dil + 1 - size, 0) // 2


def cmsis_scratch_bytes(data: bytes) -> int:
    """The largest CMSIS-NN scratch buffer any layer asks for (DSP, non-MVE build, as the Cortex-M7's)."""
    from ai_edge_litert import schema_py_generated as s

    model = s.Model.GetRootAsModel(data, 0)
    best = 0
    for g in range(model.SubgraphsLength()):
        sg = model.Subgraphs(g)

        def shape(i: int, sg=sg) -> list[int]:
            return [int(v) for v in sg.Tensors(i).ShapeAsNumpy()] if i >= 0 else []

        for k in range(sg.OperatorsLength()):
            op = sg.Operators(k)
            oc = model.OperatorCodes(op.OpcodeIndex())
            code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
            if code not in (s.BuiltinOperator.CONV_2D, s.BuiltinOperator.DEPTHWISE_CONV_2D,
                            s.BuiltinOperator.AVERAGE_POOL_2D) or op.InputsLength() < 1:
                continue
            inp, out = shape(op.Inputs(0)), shape(op.Outputs(0))
            if len(inp) != 4 or len(out) != 4:
                continue
            if code == s.BuiltinOperator.AVERAGE_POOL_2D:
                best = max(best, inp[3] * 4)  # arm_avgpool_s8_get_buffer_size
                continue
            filt = shape(op.Inputs(1))
            if len(filt) != 4:
                continue
            table = op.BuiltinOptions()
            opts = s.Conv2DOptions() if code == s.BuiltinOperator.CONV_2D else s.DepthwiseConv2DOptions()
            opts.Init(table.Bytes, table.Pos)
            sh, sw = opts.StrideH(), opts.StrideW()
            dh, dw = opts.DilationHFactor(), opts.DilationWFactor()
            kh, kw = filt[1], filt[2]
            same = opts.Padding() == s.Padding.SAME
            ph = _same_pad(inp[1], kh, sh, dh, out[1]) if same else 0
            pw = _same_pad(inp[2], kw, sw, dw, out[2]) if same else 0
            if code == s.BuiltinOperator.CONV_2D:
                if (kh, kw, sh, sw, dh, dw, ph, pw) == (1, 1, 1, 1, 1, 1, 0, 0):
                    continue  # arm_convolve_1x1_s8_fast: no buffer
                cols = kw * kh * inp[3]
                best = max(best, 2 * (cols + (-cols) % 4) * 2)  # arm_convolve_s8_get_buffer_size
            elif inp[3] == out[3] and (dh, dw) == (1, 1):
                if not ((kh, kw) == (3, 3) and ph <= 1 and pw <= 1):  # 3x3 kernel needs none
                    best = max(best, inp[3] * kw * kh * 2)  # arm_depthwise_conv_s8_opt_get_buffer_size
    return best


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


class TflmCrashed(ValueError):
    """TFLite Micro died on a signal while allocating the model's tensors (on a camera: a hard fault)."""


def _tflm_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tflite-micro")
    except PackageNotFoundError:
        return "unknown"


def measure_arena(model_path: Path) -> int:
    """Tensor arena bytes the model needs in TFLite Micro (smallest arena that allocates, 16-byte steps)."""
    model_path = Path(model_path)
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
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
            if proc.returncode < 0:
                raise TflmCrashed(f"TFLite Micro crashed (signal {-proc.returncode}) allocating the tensors "
                                  f"of {model_path.name}") from None
            raise ValueError(f"TFLite Micro cannot load {model_path.name}: {tail[:200]}") from None
        arena = int(proc.stdout.strip())
        try:
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps({"arena_bytes": arena, "file": model_path.name}))
        except OSError:
            pass  # a read-only checkout still works, only slower
    _memo[digest] = arena
    return arena


def model_arena(model_path: Path) -> Arena:
    data = Path(model_path).read_bytes()
    try:
        scratch = cmsis_scratch_bytes(data)
    except Exception:  # noqa: BLE001 - a flatbuffer the schema reader rejects: TFLM itself will say why
        scratch = 0
    return Arena(measure_arena(Path(model_path)), scratch)


# --- the verdict ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelFit:
    model_bytes: int
    arena_bytes: int  # what the firmware allocates for the arena (Arena.allocated)
    fs_bytes: int  # usable bytes of the flash filesystem
    heap_block_bytes: int  # largest GC heap block of the board on that firmware
    fits: bool
    reason: str  # "" when it fits, else a sentence naming the bytes needed and available
    firmware: str = DEFAULT


class ModelMemoryError(Exception):
    """Loading fails as the firmware would: kind 'MemoryError' or 'ValueError', and the firmware's message."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind, self.message = kind, message
        super().__init__(message)


def load_ml(heap: Heap, fw: Firmware, file_bytes: int, arena: Arena, uma_free: int) -> int:
    """Allocate what ml.Model(path) allocates; returns the heap bytes taken. Raises ModelMemoryError."""
    taken = 0
    try:
        taken += heap.alloc(model_file_alloc(file_bytes), "the model file")
    except HeapFull as exc:
        if not (fw.model_file_uma_fallback and file_bytes <= uma_free):
            raise ModelMemoryError("MemoryError", str(exc)) from None
    if heap.largest() < arena.used:  # the probe interpreter gets the largest free block
        raise ModelMemoryError("ValueError", f"Failed to allocate tensors (tensor arena needs {arena.used} "
                               f"bytes [{arena.describe()}]; the largest free heap block is {heap.largest()} "
                               "bytes)")
    try:
        for nbytes, what in ((arena.allocated, "the tensor arena"), (OP_RESOLVER_BYTES, "the op resolver"),
                             (INTERPRETER_BYTES, "the interpreter")):
            taken += heap.alloc(nbytes, what)
    except HeapFull as exc:
        raise ModelMemoryError("MemoryError", str(exc)) from None
    return taken


def legacy_arena_check(arena: Arena, fb_bytes: int, frame_bytes: int) -> None:
    """tf.classify: the arena is fb_alloc_all() of what the frame leaves in the pool (MemoryError: short)."""
    free = fb_bytes - frame_bytes - FB_ALLOC_MARGIN
    if arena.used > free:
        raise ModelMemoryError("MemoryError", f"Out of fast frame buffer stack memory (tensor arena needs "
                               f"{arena.used} bytes; {free} bytes are left in the frame buffer pool beside "
                               f"a {frame_bytes}-byte frame)")


def frame_bytes(board: str, framesize: str, pixformat: str) -> int:
    """Bytes of one frame in the frame buffer (VGA RGB565 does not fit the H7's and is kept as Bayer)."""
    from host_tools.openmv_firmware import SENSOR_FRAMESIZES

    w, h = SENSOR_FRAMESIZES.get(framesize, (320, 240))
    bpp = 2 if pixformat == "RGB565" else 1
    if board == "h7" and w * h * bpp > 400 * KIB:
        bpp = 1
    return w * h * bpp


def fit_figures(model_bytes: int, arena: Arena, board: str, firmware: str = DEFAULT,
                framesize: str = "QVGA", pixformat: str = "RGB565") -> ModelFit:
    """The fit verdict from known sizes (the emulator enforces the same steps while the app runs)."""
    fw = Firmware.of(firmware)
    mem = board_memory(board, fw)
    geo = fat_geometry(BOARDS[board].fs_bytes)
    reason = ""
    if geo.clusters_for(model_bytes) > geo.clusters:
        reason = (f"model file is {model_bytes} bytes but the {board} flash filesystem holds "
                  f"{geo.usable_bytes} bytes ({geo.clusters} clusters of {geo.cluster_bytes} bytes)")
    else:
        heap = boot_heap(board, fw)
        fb = frame_bytes(board, framesize, pixformat)
        try:
            if fw.legacy_tf:
                heap.alloc(model_file_alloc(model_bytes) - MODEL_ALIGN + 1, "the model file")
                legacy_arena_check(arena, mem.fb_bytes, fb)
            else:
                load_ml(heap, fw, model_bytes, arena, mem.fb_bytes - 2 * fb - FB_ALLOC_MARGIN)
        except HeapFull as exc:
            reason = f"firmware {fw.name}: {exc}"
        except ModelMemoryError as exc:
            reason = f"firmware {fw.name}: {exc.kind}: {exc.message}"
    return ModelFit(model_bytes, arena.allocated, geo.usable_bytes, max(mem.heap_blocks), not reason, reason,
                    fw.name)


def check_model_fits(model_path: Path, board: str, firmware: str = DEFAULT, framesize: str = "QVGA",
                     pixformat: str = "RGB565") -> ModelFit:
    if board not in BOARDS:
        raise ValueError(f"unknown board {board!r} (known: {', '.join(BOARDS)})")
    model_path = Path(model_path)
    return fit_figures(model_path.stat().st_size, model_arena(model_path), board, firmware, framesize,
                       pixformat)


def fits_firmwares(model_path: Path, board: str, framesize: str = "QVGA", pixformat: str = "RGB565",
                   versions: tuple[str, ...] | None = None) -> dict[str, ModelFit]:
    from host_tools.openmv_firmware import EMULATED

    return {v: check_model_fits(model_path, board, v, framesize, pixformat) for v in versions or EMULATED}


__all__ = ["BOARDS", "Arena", "FatGeometry", "Heap", "HeapFull", "ModelFit", "ModelMemoryError", "boot_heap",
           "check_model_fits", "fat_geometry", "fit_figures", "load_ml", "measure_arena",
           "model_arena"]
