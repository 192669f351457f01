"""What differs between the OpenMV firmware versions the project supports, one fact per field.

Read from the firmware source (openmv/openmv; the version each fact comes from is named). The emulator
(host_tools/sim/openmv), the model budget (model_budget.py) and `flash` all read these, so that a camera
running version X, its emulated twin and the host's checks agree.

| version | model API | camera module | model input drawn with | other |
| --- | --- | --- | --- | --- |
| 4.5.5 | legacy `tf` (arena in fb_alloc) | `sensor` | BILINEAR, CENTER, SCALE_ASPECT_EXPAND | one GC heap |
| 4.5.6-4.5.x | `ml` | `sensor` | same | float inputs lose their normalisation |
| 4.6.0-4.7.x | `ml` | `sensor`; `csi` is an alias of it (no `CSI`) | same | same; GC heap in two blocks |
| 4.8.x | `ml` | `csi.CSI` (no B64X64/B128X128), `sensor` | same | no omv.disable_fb |
| 5.0.0 | `ml` | `csi.CSI`, `sensor` | BILINEAR, CENTER, SCALE_ASPECT_IGNORE | Protocol V2; file in UMA |
"""

from __future__ import annotations

from dataclasses import dataclass

Version = tuple[int, int, int]

# The versions the emulator is tested on, oldest first; the default is a current one.
EMULATED = ("4.5.5", "4.6.0", "4.7.0", "4.8.0", "5.0.0")
DEFAULT = "5.0.0"
DEFAULT_REPL = "4.6.0"  # what a camera object without a firmware stands for on the REPL / usbdbg side

# Frame sizes of the old sensor module (sensor, and csi as its alias on 4.6-4.7), name -> (w, h): the
# OV7725's modes up to VGA and WVGA (src/omv/modules/py_csi.c).
SENSOR_FRAMESIZES: dict[str, tuple[int, int]] = {
    "QQQVGA": (80, 60),
    "QQVGA": (160, 120),
    "QVGA": (320, 240),
    "VGA": (640, 480),
    "HQQQVGA": (80, 40),
    "HQQVGA": (160, 80),
    "HQVGA": (240, 160),
    "HVGA": (480, 320),
    "B64X32": (64, 32),
    "B64X64": (64, 64),
    "B128X64": (128, 64),
    "B128X128": (128, 128),
    "B160X160": (160, 160),
    "B320X320": (320, 320),
    "QQCIF": (88, 72),
    "QCIF": (176, 144),
    "CIF": (352, 288),
    "QQSIF": (88, 60),
    "QSIF": (176, 120),
    "SIF": (352, 240),
    "LCD": (128, 160),
    "QQVGA2": (128, 160),
    "WVGA": (720, 480),
}
# The csi module of 4.8+ (modules/py_csi_ng.c) names fewer sizes: none of the FFT (B64X64...), Himax,
# HQQ*VGA, QQCIF/QQSIF or LCD ones. (Of its larger sizes the OV7725 supports none.)
CSI_NG_FRAMESIZES = ("QCIF", "CIF", "QSIF", "SIF", "QQQVGA", "QQVGA", "QVGA", "VGA", "HQVGA", "HVGA", "WVGA")

KIB = 1024


def parse_version(text: str) -> Version:
    """'4.6.0' -> (4, 6, 0); '<=4.5.5' means 4.5.5. ValueError for anything else."""
    raw = str(text).strip().lstrip("<=v")
    parts = raw.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"firmware version {text!r} is not like 5.0.0, 4.6.0 or <=4.5.5")
    nums = [int(p) for p in parts] + [0] * (3 - len(parts))
    return nums[0], nums[1], nums[2]


@dataclass(frozen=True)
class Firmware:
    version: Version

    @classmethod
    def of(cls, text: str | Version) -> Firmware:
        return cls(tuple(text)[:3] if isinstance(text, tuple) else parse_version(text))  # type: ignore[arg-type]

    @property
    def name(self) -> str:
        return ".".join(str(v) for v in self.version)

    # --- modules ---------------------------------------------------------------------------------
    @property
    def legacy_tf(self) -> bool:
        """tf.load/tf.classify and no `ml` (removed in 4.5.6)."""
        return self.version <= (4, 5, 5)

    @property
    def csi(self) -> str:
        """'none' (no csi module), 'alias' (csi is the sensor module, 4.6-4.7) or 'ng' (csi.CSI, 4.8+)."""
        if self.version < (4, 6, 0):
            return "none"
        return "alias" if self.version < (4, 8, 0) else "ng"

    def framesizes(self, module: str) -> dict[str, tuple[int, int]]:
        """Frame-size constants of `sensor` or `csi` on this version."""
        if module == "csi" and self.csi == "ng":
            return {n: SENSOR_FRAMESIZES[n] for n in CSI_NG_FRAMESIZES}
        return dict(SENSOR_FRAMESIZES)

    @property
    def has_disable_fb(self) -> bool:
        return self.version < (4, 8, 0)

    # --- model input -----------------------------------------------------------------------------
    @property
    def ml_aspect(self) -> str:
        """How ml's Normalization fits an image to the model: 'expand' (crop, 4.x), 'ignore' (stretch, 5)."""
        return "ignore" if self.version >= (5, 0, 0) else "expand"

    @property
    def float_input_unnormalized(self) -> bool:
        """4.5.6-4.7.x: a float model gets the raw 0..255 pixel values (fixed in 4.8.0)."""
        return (4, 5, 6) <= self.version < (4, 8, 0)

    # --- host link -------------------------------------------------------------------------------
    @property
    def protocol(self) -> str:
        """'v2' (Protocol V2, firmware 5) or 'repl' (MicroPython REPL / IDE debug protocol, 4.x)."""
        return "v2" if self.version >= (5, 0, 0) else "repl"

    @property
    def model_file_uma_fallback(self) -> bool:
        """Firmware 5 puts a model file that fits no GC heap block in UMA (the frame buffer pool)."""
        return self.version >= (5, 0, 0)


@dataclass(frozen=True)
class BoardMemory:
    """The memory a board offers a script on one firmware version."""

    heap_blocks: tuple[int, ...]  # GC heap areas in allocation order (an allocation fits in one)
    fb_bytes: int  # frame buffer + fb_alloc pool (legacy tf arena, firmware 5's UMA)
    source: str


def board_memory(board: str, fw: Firmware) -> BoardMemory:
    """GC heap blocks and frame buffer pool of `board` ("h7" | "h7plus") on `fw`."""
    v = fw.version
    if board == "h7":
        if v <= (4, 5, 5):
            return BoardMemory((236 * KIB,), 500 * KIB,
                               "OPENMV4 omv_boardconfig.h: OMV_HEAP_SIZE 236K; FB 400K + FB_ALLOC 100K")
        if v < (5, 0, 0):
            return BoardMemory((26 * KIB, 267 * KIB), 500 * KIB, "v4.6.0 OPENMV4: GC heap 26 K + 267 K")
        return BoardMemory((64 * KIB, 264 * KIB), 480 * KIB,
                           "v5.0.0 OPENMV4: GC heap 64 KB (SRAM4) + 264 KB (SRAM1); 480 KB fb pool")
    if board == "h7plus":
        if v <= (4, 5, 5):
            return BoardMemory((240 * KIB,), 31 * KIB * KIB,
                               "OPENMV4P before 4.5.6: no SDRAM GC block (240 KB heap)")
        return BoardMemory((232 * KIB, 4 * KIB * KIB), 20 * KIB * KIB,
                           "OPENMV4P: 232 KB SRAM1 + 4 MB SDRAM GC blocks; SDRAM frame buffers")
    raise ValueError(f"unknown board {board!r}")
