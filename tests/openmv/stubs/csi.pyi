"""`csi` with its CSI class (modules/py_csi_ng.c).  # firmware >= 4.8.0

Before 4.6 there is no csi; on 4.6-4.7 `import csi` gives the sensor module itself (no CSI class). The
frame-size constants are only those this module names on 4.8+ (no B64X64, B128X128...).
"""

from image import Image

RGB565: int
GRAYSCALE: int
JPEG: int
BAYER: int
QCIF: int
CIF: int
QSIF: int
SIF: int
QQQVGA: int
QQVGA: int
QVGA: int
VGA: int
HQVGA: int
HVGA: int
WVGA: int

class CSI:
    def __init__(self, cid: int = ...) -> None: ...
    def reset(self, hard: bool = ...) -> None: ...
    def pixformat(self, fmt: int | None = ...) -> int | None: ...
    def framesize(self, size: int | tuple[int, int] | None = ...) -> int | tuple[int, int] | None: ...
    def snapshot(self, time: int = ..., frames: int = ..., blocking: bool = ...,
                 image: Image | None = ...) -> Image:
        """With time= or frames= it only waits for the sensor (and returns None)."""
    def width(self) -> int: ...
    def height(self) -> int: ...
